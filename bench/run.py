"""The scale benchmark of issue 7: each pipeline step at several catalog sizes, with its target
and its ratio to the naive rdflib + pySHACL path on the same data.

    python bench/run.py [--sizes 1000,10000,100000] [--shacl-cap 900] [--query-cap 30] [--seed 1]

Per size it writes a synthetic catalog (bench/generate.py) into bench/scratch/ (gitignored), runs
every step as its own process (wall time, and peak RSS from the kernel's rusage of that
process), and writes bench/results/latest.md and latest.json. Naive steps past their cap are
stopped and reported as "> cap", their ratio as "≥": each naive rdflib query after
--query-cap seconds, pySHACL once it has run 12 times as long as our own validation (at least
60 s, at most --shacl-cap). A step whose command does not exist
yet is reported as "n/a (command missing)".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / "scratch"
RESULTS = BENCH / "results"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402

DAY = "2026-11-29"  # validation and publish "today", fixed so runs compare
# The console script (`python -m resource_kg.cli` would not see the stage commands, which
# register on the imported module rather than on __main__).
RKG = (
    [str(Path(sys.executable).parent / "rkg")]
    if (Path(sys.executable).parent / "rkg").exists()
    else [sys.executable, "-c", "from resource_kg.cli import main; main()"]
)
GIB = 1024**3
RATIO_SHOWN = 12.0  # pySHACL runs until it has taken this many times our validation


@dataclass
class Step:
    """One measured step at one size."""

    size: int
    step: str
    wall_s: float | None = None
    rss_mib: float | None = None
    status: str = "ok"  # ok | capped | failed | missing
    target: str = ""
    met: bool | None = None
    naive: str | None = None  # the step of the naive path it is compared with
    ratio: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    load: float = 0.0


@dataclass
class Proc:
    wall_s: float
    rss_mib: float
    code: int | None
    stdout: str
    stderr: str
    capped: bool


def run_proc(cmd: list[str], cap: float | None = None, cwd: Path = REPO) -> Proc:
    """Run one process; wall time, and peak RSS from wait4's rusage of exactly that process."""
    out_path = WORK / ".stdout"
    err_path = WORK / ".stderr"
    env = dict(os.environ, COLUMNS="200")
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd, env=env)
        capped = threading.Event()

        def stop() -> None:
            capped.set()
            proc.kill()

        timer = threading.Timer(cap, stop) if cap else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Proc(
        wall,
        usage.ru_maxrss / 1024,
        proc.returncode,
        out_path.read_text(encoding="utf-8", errors="replace"),
        err_path.read_text(encoding="utf-8", errors="replace"),
        capped.is_set(),
    )


def command_exists(*words: str) -> bool:
    return run_proc([*RKG, *words, "--help"]).code == 0


def measure(
    size: int,
    name: str,
    cmd: list[str],
    *,
    ok: tuple[int, ...] = (0,),
    cap: float | None = None,
    needs: tuple[str, ...] | None = None,
) -> tuple[Step, Proc | None]:
    step = Step(size, name, load=round(os.getloadavg()[0], 2))
    if needs is not None and not command_exists(*needs):
        step.status = "missing"
        return step, None
    print(f"[{size}] {name} ...", file=sys.stderr, flush=True)
    proc = run_proc(cmd, cap)
    step.wall_s, step.rss_mib = round(proc.wall_s, 3), round(proc.rss_mib, 1)
    if proc.capped:
        step.status = "capped"
    elif proc.code not in ok:
        step.status = "failed"
        step.detail["stderr"] = proc.stderr[-2000:]
    print(f"[{size}] {name}: {step.status} {step.wall_s} s {step.rss_mib} MiB", file=sys.stderr)
    return step, proc


# ---------------------------------------------------------------- helpers run in child processes

WARM_QUERIES = """
import datetime as dt, json, statistics, sys, time
from pathlib import Path
from resource_kg.catalog import Catalog
from resource_kg.query import EmbeddedEngine, load_queries, run_stored
root = Path(sys.argv[1]); params = json.loads(sys.argv[2])
t = time.perf_counter(); catalog = Catalog.load(root); store = catalog.store
out = {"_load_s": time.perf_counter() - t}
today = dt.date.fromisoformat(sys.argv[3])
for name, q in sorted(load_queries(catalog.paths.queries).items()):
    engine = EmbeddedEngine(store, catalog.graphs, str(q.path))
    times = []
    for i in range(6):
        t = time.perf_counter()
        result = run_stored(engine, q, params[name], catalog.lexicon, today)
        times.append(time.perf_counter() - t)
    out[name] = {"p50_s": statistics.median(times[1:]), "rows": len(result.rows),
                 "tags": list(q.tags)}
print(json.dumps(out))
"""

NAIVE_QUERIES = """
import datetime as dt, json, os, sys, time
from pathlib import Path
import rdflib
from resource_kg.query import RdflibEngine, load_context, naive_queries, run_stored
root = Path(sys.argv[1]); params = json.loads(sys.argv[2]); cap = float(sys.argv[4])
today = dt.date.fromisoformat(sys.argv[3])
ctx = load_context(root)
t = time.perf_counter(); ds = rdflib.Dataset(); ds.parse(root / "dist" / "catalog.trig", format="trig")
print(json.dumps({"_parse_trig_s": time.perf_counter() - t}), flush=True)
engine = RdflibEngine(ds)
# Each query runs in a forked child that shares the parsed graph, so a query past the cap is
# killed without parsing the catalog again for the next one.
for name, q in sorted(naive_queries(ctx.paths.queries).items()):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        t = time.perf_counter()
        result = run_stored(engine, q, params[name], ctx.lexicon, today)
        os.write(w, json.dumps([time.perf_counter() - t, len(result.rows)]).encode())
        os._exit(0)
    os.close(w)
    t = time.perf_counter()
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.perf_counter() - t > cap:
            os.kill(pid, 9); os.waitpid(pid, 0)
            break
        time.sleep(0.02)
    data = os.read(r, 4096); os.close(r)
    secs, rows = json.loads(data) if data else (None, None)
    print(json.dumps({"name": name, "s": secs, "rows": rows}), flush=True)
"""

DUMPS = """
import sys, tempfile, time
from pathlib import Path
from resource_kg.catalog import Catalog
from resource_kg.publish import write_dumps
catalog = Catalog.load(Path(sys.argv[1]))
out = Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
write_dumps(catalog, out)
"""


def query_params(root: Path) -> dict[str, dict[str, str]]:
    """Each stored query's own example, with a resource of this synthetic catalog where needed."""
    from resource_kg.query import load_context, load_queries

    ctx = load_context(root)
    out: dict[str, dict[str, str]] = {}
    for name, q in sorted(load_queries(ctx.paths.queries).items()):
        params = dict(q.example)
        for p in q.params:
            if getattr(p, "kind", "") == "resource" and (p.name in params or not params):
                params[p.name] = generate.record_id(1)
        out[name] = params
    return out


# ---------------------------------------------------------------- rendered pages for import


def render_page(rec: dict[str, Any]) -> str:
    """A resource page as the clearinghouse shows it (text), from a synthetic record."""

    def joined(name: str) -> str:
        return ", ".join(rec.get(name, []))

    lines = [
        "# invented page rendered by bench/run.py from a synthetic record",
        "Resource Details",
        "",
        rec.get("title", "Untitled synthetic resource"),
        "",
        f"Year Developed: {rec.get('year', '')}",
        "",
        f"Resource Type: {joined('types')}",
        "",
        f"Primary Audience: {joined('primary_audience')}",
        "",
    ]
    if rec.get("secondary_audience"):
        lines += [f"Secondary Audience: {joined('secondary_audience')}", ""]
    lines += [f"Language(s): {joined('languages')}", ""]
    lines += [f"Developed by: {joined('developed_by')}"]
    if rec.get("in_collaboration_with"):
        lines += [f"In collaboration with: {joined('in_collaboration_with')}"]
    lines += [
        "",
        f"Resource Summary: {rec.get('summary', '')}",
        "",
        f"Resource Topic: {joined('topics')}",
        "",
        f"Resource Subtopic: {joined('subtopics')}",
        "",
        f"Keywords: {joined('keywords')}",
        "",
    ]
    return "\n".join(lines)


def write_pages(folder: Path, n: int, seed: int, count: int) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    _, records, _ = generate.generate(n, seed)
    for rec in records[:count]:
        # A numeric file name gives the page its id when the text carries no URL.
        number = int(rec["id"].removeprefix("syn")) + 900000
        (folder / f"{number}.txt").write_text(render_page(rec), encoding="utf-8")


def edit_records(root: Path, count: int = 10) -> list[str]:
    """Change the summary of `count` records spread over the catalog (a curator's day)."""
    files = sorted((root / "data" / "resources").glob("*.yaml"))
    step = max(1, len(files) // count)
    edited = []
    for path in files[::step][:count]:
        text = path.read_text(encoding="utf-8")
        text = text.replace('summary: "', 'summary: "Revised. ', 1)
        path.write_text(text, encoding="utf-8")
        edited.append(path.name)
    return edited


# ---------------------------------------------------------------- one size


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def ratio(naive: float | None, ours: float | None, capped: bool) -> str:
    if naive is None or not ours:
        return ""
    r = naive / ours
    return f"≥ {r:.0f}×" if capped else f"{r:.0f}×" if r >= 10 else f"{r:.1f}×"


def run_size(n: int, seed: int, shacl_cap_max: float, query_cap: float) -> list[Step]:
    root = WORK / f"n{n}"
    print(f"[{n}] generating ...", file=sys.stderr)
    generate.write_catalog(root, n, seed, "yaml")  # afresh: undoes a previous run's edits
    for stale in ("dist", ".rkg-cache", "releases"):
        shutil.rmtree(root / stale, ignore_errors=True)
    big = n >= 100_000
    steps: list[Step] = []

    s, _ = measure(n, "rkg build", [*RKG, "build", str(root)])
    if big:
        s.target = "≤ 60 s, ≤ 2 GiB"
        s.met = s.status == "ok" and (s.wall_s or 0) <= 60 and (s.rss_mib or 0) * 2**20 <= 2 * GIB
    steps.append(s)

    val = [*RKG, "validate", str(root), "--date", DAY, "--format", "json"]
    val_out = ["--out", str(WORK / f"validate-{n}.json")]
    s, _ = measure(n, "rkg validate (first run)", val + val_out, ok=(0, 1), needs=("validate",))
    if big:
        s.target = "≤ 90 s, ≥ 10× pyshacl"
    steps.append(s)
    edited = edit_records(root)
    s, _ = measure(
        n, "rkg validate (10 records edited)", val + val_out, ok=(0, 1), needs=("validate",)
    )
    s.detail["edited"] = edited
    if big:
        s.target = "≤ 10 s"
        s.met = s.status == "ok" and (s.wall_s or 0) <= 10
    steps.append(s)

    params = query_params(root)
    warm: dict[str, Any] = {}
    s, proc = measure(
        n,
        "stored queries, warm (library, one process)",
        [sys.executable, "-c", WARM_QUERIES, str(root), json.dumps(params), DAY],
        needs=("query",),
    )
    if proc is not None and s.status == "ok":
        warm = json.loads(proc.stdout.strip().splitlines()[-1])
        s.detail["load_s"] = warm.pop("_load_s")
    steps.append(s)
    for name, info in sorted(warm.items()):
        selective = "selective" in info["tags"]
        qs = Step(n, f"query {name} (warm p50 of 5)", wall_s=round(info["p50_s"], 4), load=s.load)
        qs.detail = {"rows": info["rows"], "tags": info["tags"]}
        limit = 0.150 if selective else 1.0
        qs.target = ("≤ 150 ms" if selective else "≤ 1 s") + ", ≥ 20× rdflib"
        if big:
            qs.met = info["p50_s"] <= limit
        steps.append(qs)

    if command_exists("query"):
        first = next(iter(params))
        args = [*RKG, "query", first, str(root), "--format", "json"]
        for k, v in params[first].items():
            args += ["-p", f"{k}={v}"]
        s, _ = measure(n, f"rkg query {first} (first: builds the cached store)", args)
        steps.append(s)
        for name in params:
            args = [*RKG, "query", name, str(root), "--format", "json"]
            for k, v in params[name].items():
                args += ["-p", f"{k}={v}"]
            s, _ = measure(n, f"rkg query {name} (cold process, store cached)", args)
            if big:
                s.target = "≤ 2 s"
                s.met = s.status == "ok" and (s.wall_s or 0) <= 2
            steps.append(s)
    else:
        steps.append(Step(n, "rkg query (cold)", status="missing"))

    s, _ = measure(
        n,
        "publish: dumps only (library write_dumps)",
        [sys.executable, "-c", DUMPS, str(root), str(WORK / f"dumps-{n}")],
        needs=("publish",),
    )
    if big:
        s.target = "≤ 60 s"
        s.met = s.status == "ok" and (s.wall_s or 0) <= 60
    steps.append(s)
    shutil.rmtree(WORK / f"dumps-{n}", ignore_errors=True)
    s, _ = measure(
        n,
        "rkg publish (dumps + site)",
        [*RKG, "publish", str(root), "--out", str(root / "releases"), "--version", "1.0.0"]
        + ["--date", DAY, "--force"],
        needs=("publish",),
    )
    if big:
        s.target = "≤ 5 min"
        s.met = s.status == "ok" and (s.wall_s or 0) <= 300
    steps.append(s)
    shutil.rmtree(root / "releases", ignore_errors=True)

    if n <= 1000:
        # The README's first command after installing: build, validate, one query, publish,
        # from a catalog without caches, as a curator would run it.
        for stale in ("dist", ".rkg-cache", "releases"):
            shutil.rmtree(root / stale, ignore_errors=True)
        rkg = " ".join(RKG)
        chain = (
            f"{rkg} build {root} && {rkg} validate {root} --date {DAY} >/dev/null; "
            f"{rkg} query audience-topic {root} -p audience=PCAs -p topic=housing >/dev/null && "
            f"{rkg} publish {root} --date {DAY} --force >/dev/null"
        )
        s, _ = measure(
            n, "README main command (build, validate, query, publish)", ["sh", "-c", chain]
        )
        s.target = "≤ 15 s at 1k"
        s.met = s.status == "ok" and (s.wall_s or 0) <= 15
        steps.append(s)
        shutil.rmtree(root / "releases", ignore_errors=True)

    pages = WORK / f"pages-{n}"
    write_pages(pages, n, seed, n // 10)
    imported = WORK / f"imported-{n}"
    shutil.rmtree(imported, ignore_errors=True)
    s, _ = measure(
        n,
        f"rkg import pages ({n // 10} pages)",
        [*RKG, "import", "pages", str(pages), "--root", str(root), "--out", str(imported)],
        ok=(0, 1),
        needs=("import", "pages"),
    )
    if big:
        s.target = "≤ 60 s"
        s.met = s.status == "ok" and (s.wall_s or 0) <= 60
    steps.append(s)
    shutil.rmtree(imported, ignore_errors=True)
    shutil.rmtree(pages, ignore_errors=True)

    # ------------------------------------------------------------ the naive path
    # pySHACL on the whole graph does not finish at any size (its duplicate checks run one
    # SPARQL query per resource over all resources), so it is stopped once it has taken
    # RATIO_SHOWN times our own first run (at least a minute, at most --shacl-cap): the ratio
    # then reads "≥ 12×" because pySHACL was still running, never because it was estimated.
    first_val = steps[1]
    shacl_cap = min(shacl_cap_max, max(60.0, RATIO_SHOWN * (first_val.wall_s or 0)))
    s, _ = measure(
        n,
        "naive: pyshacl, whole graph (rkg validate --engine pyshacl)",
        val + ["--engine", "pyshacl", "--no-cache", "--out", str(WORK / f"naive-{n}.json")],
        ok=(0, 1),
        cap=shacl_cap,
        needs=("validate",),
    )
    s.detail["cap_s"] = round(shacl_cap, 1)
    steps.append(s)
    if first_val.status == "ok":
        first_val.naive = s.step
        first_val.ratio = ratio(s.wall_s, first_val.wall_s, s.status == "capped")
        if big:
            r = (s.wall_s or 0) / (first_val.wall_s or 1)
            first_val.met = (first_val.wall_s or 0) <= 90 and r >= 10

    steps += naive_queries(n, root, params, query_cap, steps)
    return steps


def naive_queries(
    n: int, root: Path, params: dict[str, dict[str, str]], cap: float, steps: list[Step]
) -> list[Step]:
    """rdflib's engine on the same questions (the live form of precomputed queries), in one
    process that parses the TriG once and runs each query in a forked child capped at `cap`."""
    if not command_exists("query"):
        return [Step(n, "naive: rdflib SPARQL", status="missing")]
    cmd = [sys.executable, "-c", NAIVE_QUERIES, str(root), json.dumps(params), DAY, str(cap)]
    print(f"[{n}] naive: rdflib queries ...", file=sys.stderr, flush=True)
    load = round(os.getloadavg()[0], 2)
    proc = run_proc(cmd)
    out: list[Step] = []
    for line in proc.stdout.splitlines():
        data = json.loads(line)
        if "_parse_trig_s" in data:
            parsed = Step(
                n,
                "naive: rdflib parse catalog.trig",
                wall_s=round(data["_parse_trig_s"], 3),
                load=load,
            )
            out.append(parsed)
            # `rkg build` writes the same graphs as catalog.trig; rdflib parsing them back is
            # the naive path's equivalent of loading the catalog.
            build = steps[0]
            build.naive = parsed.step
            build.ratio = ratio(parsed.wall_s, build.wall_s, False)
            continue
        step = Step(n, f"naive: rdflib query {data['name']}", load=load)
        if data["s"] is None:
            step.status, step.wall_s = "capped", cap
        else:
            step.wall_s = round(data["s"], 3)
            step.detail = {"rows": data["rows"]}
        out.append(step)
    out.append(
        Step(
            n,
            "naive: rdflib process (parse TriG + queries)",
            wall_s=round(proc.wall_s, 3),
            rss_mib=round(proc.rss_mib, 1),
            status="ok" if proc.code == 0 else "failed",
            load=load,
        )
    )
    naive = {
        s.step.removeprefix("naive: rdflib query "): s
        for s in out
        if s.step.startswith("naive: rdflib query ")
    }
    for s in steps:
        if s.step.startswith("query ") and s.step.endswith("(warm p50 of 5)"):
            nv = naive.get(s.step.split()[1])
            if nv is not None:
                s.naive = nv.step
                s.ratio = ratio(nv.wall_s, s.wall_s, nv.status == "capped")
                if s.met is not None:
                    s.met = s.met and (nv.wall_s or 0) / (s.wall_s or 1) >= 20
    return out


# ---------------------------------------------------------------- report


def markdown(steps: list[Step], meta: dict[str, Any]) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"`{meta['command']}` — {meta['date']}, {meta['machine']}, Python {meta['python']}.",
        "Wall time and peak RSS of each step as its own process; load = 1-minute load average "
        "when the step started (2 cores, shared with other work). Targets apply at 100k resources.",
        "",
        "| size | step | wall | peak RSS | target | met | naive (same run) | ratio | load |",
        "|---:|---|---:|---:|---|:-:|---|---:|---:|",
    ]
    by_name = {s.step: s for s in steps}
    for s in steps:
        if s.status == "missing":
            wall, rss = "n/a (command missing)", ""
        elif s.status == "capped":
            wall, rss = f"> {fmt_s(s.wall_s or 0)} (cap)", ""
        elif s.status == "failed":
            wall, rss = f"failed ({fmt_s(s.wall_s)})", ""
        else:
            wall = fmt_s(s.wall_s)
            rss = f"{s.rss_mib:.0f} MiB" if s.rss_mib else ""
        met = "" if s.met is None else ("yes" if s.met else "**no**")
        naive = ""
        if s.naive:
            nv = by_name.get(s.naive) if s.size == steps[0].size else None
            nv = next((x for x in steps if x.size == s.size and x.step == s.naive), nv)
            shown = (
                f"> {fmt_s(nv.wall_s or 0)}"
                if nv and nv.status == "capped"
                else fmt_s(nv.wall_s if nv else None)
            )
            naive = f"{s.naive.removeprefix('naive: ')}: {shown}"
        lines.append(
            f"| {s.size:,} | {s.step} | {wall} | {rss} | {s.target} | {met} | {naive} | {s.ratio} | {s.load} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument(
        "--shacl-cap",
        type=float,
        default=900.0,
        help="at most this many seconds for naive pySHACL (it stops earlier, at 12 times our "
        "own first validation, once that shows the ratio)",
    )
    parser.add_argument(
        "--query-cap",
        type=float,
        default=30.0,
        help="seconds for each naive rdflib query (ten of them per size)",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    steps: list[Step] = []
    for n in sizes:
        steps += run_size(n, args.seed, args.shacl_cap, args.query_cap)
    meta = {
        "command": "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}",
        "python": platform.python_version(),
        "shacl_cap": args.shacl_cap,
        "query_cap": args.query_cap,
        "sizes": sizes,
        "seed": args.seed,
        "total_s": round(time.perf_counter() - started, 1),
    }
    (RESULTS / "latest.json").write_text(
        json.dumps({"meta": meta, "steps": [asdict(s) for s in steps]}, indent=2) + "\n",
        encoding="utf-8",
    )
    (RESULTS / "latest.md").write_text(markdown(steps, meta), encoding="utf-8")
    print(f"wrote {RESULTS / 'latest.md'} ({meta['total_s']} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
