"""The serve benchmark (issues 13 and 14): `rkg serve` beside Oxigraph server and Virtuoso.

For one catalog size: the release dumps are written (`write_dumps`, as `rkg publish` does) and
the same quads loaded into Oxigraph (`oxigraph load`, then `serve-read-only
--union-default-graph`) and into a private Virtuoso (`virtuoso-t` on loopback ports, bulk
loader through `isql-vt`), so that all three answer the stored questions' text unchanged over
the union of the catalog's graphs. Each server then runs alone: CLIENTS threads, each with one
keep-alive HTTP connection (`http.client`), POST the same mix of requests in turn for the
load's duration; latency is the client's, from sending the request to the last byte of the
answer. Memory is the server's process tree (the server and, for `rkg serve`, its forked query
workers), sampled from /proc every half second from start to stop: the sum of RSS (what `ps`
shows; forked workers share the store copy-on-write, so this counts shared pages more than
once) and the sum of PSS (shared pages divided among the processes sharing them: the memory the
tree holds).

After its load run `rkg serve` also answers each stored question through the form's API
(`/queries/{name}.json`), read from the `Server-Timing: answer;dur=` header it sends, and an
edited record's title is timed until its page shows it (`--watch`, the default).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from serve_measure import (
    JSON_RESULTS,
    TURTLE,
    Client,
    Request,
    TreeMemory,
    answer_size,
    edit_visible,
    form_times,
    free_port,
    load_run,
    problem,
    stop,
    tree_cpu,
    wait_answering,
)

CLIENTS = 8
SERVERS = ("rkg serve", "Oxigraph", "Virtuoso")
#: How many resources get an ASK and a DESCRIBE each in the request mix.
SMALL_REQUESTS = 5

#: A private Virtuoso 7 database: loopback ports only, the dump folder readable by the bulk
#: loader, buffers sized for a catalog of up to ≈ 4M quads (8 KiB pages: 1.3 GiB).
VIRTUOSO_INI = """\
[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{isql_port}
DisableUnixSocket = 1
MaxClientConnections = 20
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {db}, {dumps}
NumberOfBuffers = 170000
MaxDirtyBuffers = 130000
MaxQueryMem = 1G
ThreadsPerQuery = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {db}
MaxClientConnections = 20
ServerThreads = 16
Charset = UTF-8
KeepAliveTimeout = 60

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryCostEstimationTime = 400
MaxQueryExecutionTime = {timeout}
"""


# ---------------------------------------------------------------- the servers


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    path: str  # the SPARQL endpoint's path
    memory: TreeMemory
    log: Path
    timings: dict[str, float] = field(default_factory=dict)
    cleanup: Callable[[], None] | None = None

    def close(self) -> dict[str, Any]:
        stop(self.proc)
        mem = self.memory.stop()
        if self.cleanup:
            self.cleanup()
        return mem


def start_rkg(
    rkg: list[str], root: Path, folder: Path, env: dict[str, str], timeout: float
) -> Server:
    """`rkg serve ROOT` as a curator starts it (live preview on: the default), store present."""
    port = free_port()
    log = folder / "rkg-serve.log"
    cmd = [*rkg, "serve", str(root), "--port", str(port), "--timeout", f"{timeout:g}"]
    with log.open("wb") as out:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    memory = TreeMemory(proc.pid)
    server = Server("rkg serve", proc, port, "/sparql", memory, log)
    try:
        wait_answering(port, "/sparql", proc, log, 600)
    except RuntimeError:
        server.close()
        raise
    server.timings["startup_s"] = time.perf_counter() - t
    return server


def start_oxigraph(oxigraph: str, dump: Path, folder: Path, timeout: float) -> Server:
    store = folder / "oxigraph-store"
    shutil.rmtree(store, ignore_errors=True)
    log = folder / "oxigraph.log"
    t = time.perf_counter()
    loaded = subprocess.run(
        [oxigraph, "load", "--location", str(store), "--file", str(dump)],
        capture_output=True,
        text=True,
    )
    if loaded.returncode != 0:
        raise RuntimeError(f"oxigraph load failed: {loaded.stderr[-2000:]}")
    load_s = time.perf_counter() - t
    port = free_port()
    cmd = [oxigraph, "serve-read-only", "--location", str(store), "--bind", f"127.0.0.1:{port}"]
    cmd += ["--union-default-graph", "--timeout-s", f"{max(1, round(timeout))}"]
    with log.open("wb") as out:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    server = Server("Oxigraph", proc, port, "/query", TreeMemory(proc.pid), log)
    server.cleanup = lambda: shutil.rmtree(store, ignore_errors=True)
    try:
        wait_answering(port, "/query", proc, log, 300)
    except RuntimeError:
        server.close()
        raise
    server.timings = {"load_s": load_s, "startup_s": time.perf_counter() - t}
    return server


def start_virtuoso(dump: Path, folder: Path, timeout: float) -> Server:
    binary, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt") or shutil.which("isql")
    if binary is None or isql is None:
        raise FileNotFoundError("virtuoso-t / isql-vt not installed (virtuoso-opensource)")
    db = folder / "virtuoso"
    shutil.rmtree(db, ignore_errors=True)
    db.mkdir(parents=True)
    http_port, isql_port = free_port(), free_port()
    ini = db / "virtuoso.ini"
    ini.write_text(
        VIRTUOSO_INI.format(
            db=db,
            dumps=dump.parent,
            isql_port=isql_port,
            http_port=http_port,
            timeout=max(1, round(timeout)),
        )
    )
    log = db / "server.out"
    with log.open("wb") as out:
        t = time.perf_counter()
        proc = subprocess.Popen(
            [binary, "+foreground", "+configfile", str(ini)],
            cwd=db,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server("Virtuoso", proc, http_port, "/sparql", TreeMemory(proc.pid), log)
    server.cleanup = lambda: shutil.rmtree(db, ignore_errors=True)
    try:
        server.timings["startup_s"] = wait_answering(http_port, "/sparql", proc, log, 300)
        t = time.perf_counter()
        sql = (
            f"ld_dir('{dump.parent}', '{dump.name}', 'urn:x-bench:default'); "
            "rdf_loader_run(); checkpoint; "
            "SELECT ll_file, ll_error FROM DB.DBA.load_list WHERE ll_error IS NOT NULL;"
        )
        out_isql = subprocess.run(
            [isql, f"127.0.0.1:{isql_port}", "dba", "dba", f"exec={sql}"],
            capture_output=True,
            text=True,
            timeout=3600,
        )
        if out_isql.returncode != 0 or "Error" in out_isql.stdout + out_isql.stderr:
            raise RuntimeError(f"virtuoso bulk load failed: {out_isql.stdout[-1500:]}"
                               f"{out_isql.stderr[-1500:]}")  # fmt: skip
        if dump.name in out_isql.stdout.split("ll_error", 1)[-1]:
            raise RuntimeError(f"virtuoso bulk load reported an error: {out_isql.stdout[-1500:]}")
        server.timings["load_s"] = time.perf_counter() - t
    except BaseException:
        server.close()
        raise
    return server


# ---------------------------------------------------------------- the request mix


def nquads(trig: Path, out: Path) -> dict[str, int]:
    """The TriG dump as N-Quads (what both bulk loaders read most plainly); quads per graph."""
    import pyoxigraph as ox

    counts: dict[str, int] = {}

    def counted() -> Iterator[Any]:
        for q in ox.parse(path=trig, format=ox.RdfFormat.TRIG):
            g = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
            counts[g] = counts.get(g, 0) + 1
            yield q

    ox.serialize(counted(), output=out, format=ox.RdfFormat.N_QUADS)
    return counts


def graph_counts(port: int, path: str, graphs: list[str]) -> dict[str, int]:
    """Quads per catalog graph as the server reports them (checks the load was complete)."""
    values = " ".join(f"<{g}>" for g in graphs)
    text = (
        f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} "
        "GROUP BY ?g"
    )
    client = Client(port)
    try:
        status, _, data = client.sparql(path, Request("count", "stored", text, JSON_RESULTS))
    finally:
        client.close()
    if status != 200:
        raise RuntimeError(f"counting quads: HTTP {status}: {data[:500]!r}")
    rows = json.loads(data)["results"]["bindings"]
    return {r["g"]["value"]: int(r["n"]["value"]) for r in rows}


def request_mix(
    root: Path, port: int, params: dict[str, dict[str, str]], day: str
) -> list[Request]:
    """Each stored question bound with its example (resources looked up on `rkg serve`), and an
    ASK and a DESCRIBE for each of a few resources spread over the catalog."""
    import datetime as dt

    from resource_kg.query import load_context, load_queries
    from resource_kg.query.params import bind, resolve_params
    from resource_kg.query.run import resource_finder
    from resource_kg.remote import Endpoint

    ctx = load_context(root)
    engine = Endpoint(f"http://127.0.0.1:{port}/sparql", 60, [], None, "generic", None, "store")
    finder = resource_finder(engine)
    today = dt.date.fromisoformat(day)
    mix = []
    for name, q in sorted(load_queries(ctx.paths.queries).items()):
        values = resolve_params(q, params[name], ctx.lexicon, finder, today)
        limits = [p.name for p in q.params if p.kind == "limit"]
        mix.append(Request(name, "stored", bind(q.text, values, limits), JSON_RESULTS))
    iris = engine.select(
        "SELECT ?r WHERE { ?r a <https://w3id.org/resource-kg/ontology#Resource> } ORDER BY ?r"
    ).rows
    picked = [iris[i * len(iris) // SMALL_REQUESTS]["r"] for i in range(SMALL_REQUESTS)]
    for k, iri in enumerate(picked):
        mix.append(
            Request(
                f"ask-{k + 1}",
                "ask",
                f"ASK {{ {iri} a <https://w3id.org/resource-kg/ontology#Resource> }}",
                JSON_RESULTS,
            )
        )
        mix.append(Request(f"describe-{k + 1}", "describe", f"DESCRIBE {iri}", TURTLE))
    return mix


def sizes_of(port: int, path: str, mix: list[Request]) -> dict[str, Any]:
    """One pass over the mix (also the warm-up): each answer's size, or why it failed."""
    client = Client(port)
    out: dict[str, Any] = {}
    try:
        for req in mix:
            try:
                status, headers, data = client.sparql(path, req)
                why = problem(status, headers)
                out[req.name] = why if why else answer_size(req, data)
            except Exception as exc:
                out[req.name] = type(exc).__name__
    finally:
        client.close()
    return out


# ---------------------------------------------------------------- one size


@dataclass
class ServeLoad:
    """The results of the serve step at one size (one entry of serve-load.json)."""

    size: int
    seconds: float
    clients: int
    timeout_s: float
    load_avg: list[float] = field(default_factory=list)
    quads: int = 0
    mix: list[dict[str, str]] = field(default_factory=list)
    servers: dict[str, dict[str, Any]] = field(default_factory=dict)
    forms: dict[str, Any] = field(default_factory=dict)
    preview: dict[str, Any] = field(default_factory=dict)


def run(
    n: int,
    root: Path,
    folder: Path,
    *,
    rkg: list[str],
    env: dict[str, str],
    params: dict[str, dict[str, str]],
    day: str,
    edit_ids: list[str],
    seconds: float,
    clients: int = CLIENTS,
    timeout: float = 10.0,
    form_rounds: int = 5,
    only: tuple[str, ...] = SERVERS,
) -> ServeLoad:
    """Start each server in turn on the same catalog, put it under load, stop it."""
    folder.mkdir(parents=True, exist_ok=True)
    trig = folder / "dump" / "catalog.trig"
    dump = folder / "dump" / "catalog.nq"
    counts = nquads(trig, dump)
    graphs = sorted(g for g in counts if g)
    result = ServeLoad(n, seconds, clients, timeout, quads=sum(counts.values()))
    oxigraph = str(Path(sys.executable).parent / "oxigraph")
    if not Path(oxigraph).is_file():
        oxigraph = shutil.which("oxigraph") or oxigraph
    mix: list[Request] = []
    reference: dict[str, Any] = {}
    for name in ("rkg serve", "Oxigraph", "Virtuoso"):
        info: dict[str, Any] = {}
        result.servers[name] = info
        if name not in only:
            info["status"] = "not run"
            continue
        info["load_avg_at_start"] = round(os.getloadavg()[0], 2)
        print(f"[{n}] serve-load: starting {name} ...", file=sys.stderr, flush=True)
        try:
            if name == "rkg serve":
                server = start_rkg(rkg, root, folder, env, timeout)
            elif name == "Oxigraph":
                server = start_oxigraph(oxigraph, dump, folder, timeout)
            else:
                server = start_virtuoso(dump, folder, timeout)
        except FileNotFoundError as exc:
            info["status"] = f"n/a ({exc})"
            continue
        try:
            info.update({k: round(v, 3) for k, v in server.timings.items()})
            info["quads"] = graph_counts(server.port, server.path, graphs)
            info["complete"] = info["quads"] == {g: counts[g] for g in graphs}
            if not mix:
                mix = request_mix(root, server.port, params, day)
                result.mix = [{"name": r.name, "kind": r.kind, "query": r.query} for r in mix]
            info["answers"] = sizes_of(server.port, server.path, mix)
            if not reference:
                reference = info["answers"]
            info["answers_differ"] = {
                k: [reference.get(k), v]
                for k, v in info["answers"].items()
                if v != reference.get(k)
            }
            print(f"[{n}] serve-load: {name}: {clients} clients for {seconds:g} s ...",
                  file=sys.stderr, flush=True)  # fmt: skip
            info["load_avg_before_load"] = round(os.getloadavg()[0], 2)
            cpu = tree_cpu(server.proc.pid)
            tally = load_run(server.port, server.path, mix, clients, seconds)
            cpu = tree_cpu(server.proc.pid) - cpu
            info["load_avg_after_load"] = round(os.getloadavg()[0], 2)
            info.update(tally.summary())
            info["cpu_s"] = round(cpu, 2)
            info["cpu_per_request_s"] = round(cpu / tally.requests, 5) if tally.requests else None
            if name == "rkg serve":
                result.forms = form_times(server.port, params, form_rounds)
                result.preview = edit_visible(root, server.port, edit_ids)
        finally:
            info["memory"] = server.close()
        info["status"] = "ok"
        print(f"[{n}] serve-load: {name}: {json.dumps({k: info.get(k) for k in ('requests', 'errors', 'throughput', 'p50_s', 'p99_s')})}",
              file=sys.stderr, flush=True)  # fmt: skip
    result.load_avg = [round(x, 2) for x in os.getloadavg()]
    return result


def as_dict(result: ServeLoad) -> dict[str, Any]:
    return asdict(result)
