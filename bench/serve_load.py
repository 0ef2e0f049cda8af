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

import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CLIENTS = 8
SERVERS = ("rkg serve", "Oxigraph", "Virtuoso")
MIB = 1024**2
#: Seconds a request may take at the client before it counts as an error.
CLIENT_TIMEOUT_S = 120.0
JSON_RESULTS = "application/sparql-results+json"
TURTLE = "text/turtle"
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


@dataclass
class Request:
    """One request of the mix: the same text and Accept header for every server."""

    name: str
    kind: str  # stored | ask | describe
    query: str
    accept: str


@dataclass
class Tally:
    """What one server did under load."""

    requests: int = 0
    errors: int = 0
    reconnects: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    by_name: dict[str, list[float]] = field(default_factory=dict)
    error_kinds: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "error_kinds": self.error_kinds,
            "reconnects": self.reconnects,
            "seconds": round(self.seconds, 3),
            "throughput": round(self.requests / self.seconds, 2) if self.seconds else 0.0,
            "p50_s": percentile(lat, 50),
            "p99_s": percentile(lat, 99),
            "by_name": {
                k: {"n": len(v), "p50_s": percentile(sorted(v), 50)}
                for k, v in sorted(self.by_name.items())
            },
        }


def percentile(ordered: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of sorted values (None when there are none)."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * pct // 100))
    return round(ordered[int(rank) - 1], 5)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------- process-tree memory


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _tree(pid: int) -> list[int]:
    kids, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def _kib(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory:
    """Peak summed RSS and PSS of a process and its descendants, sampled on a thread."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.pid, self.every = pid, every
        self.rss_kib = self.pss_kib = self.processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def sample(self) -> None:
        pids = _tree(self.pid)
        rss = sum(_kib(f"/proc/{p}/status", "VmRSS:") for p in pids)
        pss = sum(_kib(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
        if rss > self.rss_kib:
            self.rss_kib, self.processes = rss, len(pids)
        self.pss_kib = max(self.pss_kib, pss)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def stop(self) -> dict[str, Any]:
        self.sample()
        self._stop.set()
        self._thread.join()
        return {
            "rss_mib": round(self.rss_kib / 1024, 1),
            "pss_mib": round(self.pss_kib / 1024, 1),
            "processes": self.processes,
        }


# ---------------------------------------------------------------- HTTP


class Client:
    """One keep-alive connection; a connection the server closed is opened again (counted)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None
        self.reconnects = 0

    def send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        for attempt in (0, 1):
            fresh = self.conn is None
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, CLIENT_TIMEOUT_S)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if fresh or attempt:
                    raise
                self.reconnects += 1  # an idle keep-alive connection closed by the server
                continue
            except Exception:
                self.close()
                raise
            got = {k.lower(): v for k, v in resp.getheaders()}
            if resp.will_close:
                self.close()
            return resp.status, got, data
        raise AssertionError("unreachable")

    def sparql(self, path: str, req: Request) -> tuple[int, dict[str, str], bytes]:
        body = urllib.parse.urlencode({"query": req.query}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": req.accept}
        return self.send("POST", path, body, headers)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def problem(status: int, headers: dict[str, str]) -> str | None:
    """Why an answer is not a full answer (None when it is)."""
    if status != 200:
        return f"HTTP {status}"
    if "x-sql-state" in headers:  # Virtuoso's partial ("anytime") answer at its time limit
        return f"partial answer ({headers['x-sql-state']})"
    return None


def answer_size(req: Request, data: bytes) -> int | bool | None:
    """Rows of a SELECT, the boolean of an ASK, triples of a DESCRIBE (None if unreadable)."""
    try:
        if req.kind == "describe":
            import pyoxigraph as ox

            return sum(1 for _ in ox.parse(data, format=ox.RdfFormat.TURTLE))
        doc = json.loads(data)
        return bool(doc["boolean"]) if req.kind == "ask" else len(doc["results"]["bindings"])
    except Exception:
        return None


def load_run(port: int, path: str, mix: list[Request], clients: int, seconds: float) -> Tally:
    """`clients` threads send the mix in turn (each from its own offset) for `seconds`."""
    tally = Tally()
    lock = threading.Lock()
    start = time.perf_counter()
    end = start + seconds
    finished: list[float] = []

    def one(k: int) -> None:
        client = Client(port)
        i = k * len(mix) // clients
        mine: list[tuple[str, float | None, str | None]] = []
        while time.perf_counter() < end:
            req = mix[i % len(mix)]
            i += 1
            t = time.perf_counter()
            try:
                status, headers, _ = client.sparql(path, req)
                why = problem(status, headers)
            except Exception as exc:
                why = type(exc).__name__
            mine.append((req.name, time.perf_counter() - t, why))
        client.close()
        with lock:
            finished.append(time.perf_counter())
            tally.reconnects += client.reconnects
            for name, lat, why in mine:
                tally.requests += 1
                if why is not None:
                    tally.errors += 1
                    tally.error_kinds[f"{name}: {why}"] = (
                        tally.error_kinds.get(f"{name}: {why}", 0) + 1
                    )
                    continue
                assert lat is not None
                tally.latencies.append(lat)
                tally.by_name.setdefault(name, []).append(lat)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tally.seconds = max(finished) - start
    return tally


def wait_answering(port: int, path: str, proc: subprocess.Popen[bytes], log: Path, cap: float) -> float:
    """Seconds until `ASK {}` is answered with 200 (from now); the log's tail if it never is."""
    t = time.perf_counter()
    ask = Request("probe", "ask", "ASK {}", JSON_RESULTS)
    while time.perf_counter() - t < cap:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early: {tail(log)}")
        client = Client(port)
        try:
            if client.sparql(path, ask)[0] == 200:
                return time.perf_counter() - t
        except OSError:
            pass
        finally:
            client.close()
        time.sleep(0.05)
    raise RuntimeError(f"server did not answer within {cap:g} s: {tail(log)}")


def tail(path: Path) -> str:
    return path.read_text(errors="replace")[-2000:] if path.is_file() else ""


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


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


def start_rkg(rkg: list[str], root: Path, folder: Path, env: dict[str, str], timeout: float) -> Server:
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


def request_mix(root: Path, port: int, params: dict[str, dict[str, str]], day: str) -> list[Request]:
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


# ---------------------------------------------------------------- issue 14: forms and preview


def _dur(headers: dict[str, str]) -> float | None:
    """Seconds of the `Server-Timing: answer;dur=MS` header (None without one)."""
    for part in headers.get("server-timing", "").split(";"):
        if part.strip().startswith("dur="):
            return float(part.split("=", 1)[1]) / 1000
    return None


def form_times(port: int, params: dict[str, dict[str, str]], rounds: int) -> dict[str, Any]:
    """Each stored question's API answer (`/queries/NAME.json`, its example): the first ask
    (nothing cached: the server keeps answers per catalog version and bound text), then
    `rounds` repeats (answered from that cache). Server time from the `Server-Timing:
    answer;dur=` header the app sends (client latency when it sends none)."""
    client = Client(port)
    first: dict[str, float] = {}
    repeat: dict[str, list[float]] = {}
    source = "Server-Timing header (answer;dur=)"
    errors: dict[str, str] = {}
    try:
        for name, given in sorted(params.items()):
            path = f"/queries/{name}.json?" + urllib.parse.urlencode(given)
            for i in range(rounds + 1):
                t = time.perf_counter()
                status, headers, _ = client.send("GET", path, None, {"Accept": "application/json"})
                took = time.perf_counter() - t
                if status != 200:
                    errors[name] = f"HTTP {status}"
                    break
                dur = _dur(headers)
                if dur is None:
                    source, dur = "client latency (no Server-Timing header)", took
                if i == 0:
                    first[name] = dur
                else:
                    repeat.setdefault(name, []).append(dur)
    finally:
        client.close()
    worst = max(first.items(), key=lambda kv: kv[1]) if first else None
    return {
        "source": source,
        "first_p50_s": percentile(sorted(first.values()), 50),
        "first_s": {k: round(v, 5) for k, v in sorted(first.items())},
        "worst_first": [worst[0], round(worst[1], 5)] if worst else None,
        "repeat_p50_s": percentile(sorted(x for v in repeat.values() for x in v), 50),
        "errors": errors,
        "rounds": rounds,
    }


def edit_visible(root: Path, port: int, record_ids: list[str], cap: float = 60) -> dict[str, Any]:
    """Edit each record's title on disk and poll its page until the new title shows."""
    client = Client(port)
    times: list[float | None] = []
    try:
        for k, rid in enumerate(record_ids):
            path = root / "data" / "resources" / f"{rid}.yaml"
            text = path.read_text(encoding="utf-8")
            marker = f"Edited by the serve benchmark {k + 1} {int(time.time())}"
            lines = text.splitlines(keepends=True)
            at = next(i for i, line in enumerate(lines) if line.startswith("title: "))
            lines[at] = f'title: "{marker}"\n'
            t = time.perf_counter()
            path.write_text("".join(lines), encoding="utf-8")
            seen = None
            while time.perf_counter() - t < cap:
                status, _, body = client.send(
                    "GET", f"/resource/{rid}", None, {"Accept": "text/html"}
                )
                if status == 200 and marker.encode() in body:
                    seen = time.perf_counter() - t
                    break
                time.sleep(0.05)
            times.append(seen)
            time.sleep(0.5)
    finally:
        client.close()
    shown = [t for t in times if t is not None]
    return {
        "records": record_ids,
        "seconds": [None if t is None else round(t, 3) for t in times],
        "median_s": round(statistics.median(shown), 3) if shown else None,
        "max_s": round(max(shown), 3) if len(shown) == len(times) and shown else None,
        "cap_s": cap,
    }


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
                k: [reference.get(k), v] for k, v in info["answers"].items() if v != reference.get(k)
            }
            print(f"[{n}] serve-load: {name}: {clients} clients for {seconds:g} s ...",
                  file=sys.stderr, flush=True)  # fmt: skip
            info["load_avg_before_load"] = round(os.getloadavg()[0], 2)
            tally = load_run(server.port, server.path, mix, clients, seconds)
            info["load_avg_after_load"] = round(os.getloadavg()[0], 2)
            info.update(tally.summary())
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
