"""What the serve benchmark measures, server by server: the load (client threads, one keep-alive
connection each), the process tree's memory from /proc, and on `rkg serve` alone the form
answers' server time and how long an edited record takes to show (bench/serve_load.py runs
them)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Seconds a request may take at the client before it counts as an error.
CLIENT_TIMEOUT_S = 120.0
JSON_RESULTS = "application/sparql-results+json"
TURTLE = "text/turtle"


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
    error_samples: dict[str, str] = field(default_factory=dict)  # the first answer of each kind

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "error_kinds": self.error_kinds,
            "error_samples": self.error_samples,
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


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + sys) the process tree has used: its live processes, plus the
    children the root has waited for (a query worker killed and forked again)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if p == pid:
            total += int(fields[13]) + int(fields[14])  # cutime, cstime
    return total / tick


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
        samples: dict[str, str] = {}
        while time.perf_counter() < end:
            req = mix[i % len(mix)]
            i += 1
            t = time.perf_counter()
            try:
                status, headers, data = client.sparql(path, req)
                why = problem(status, headers)
                if why is not None:
                    samples.setdefault(f"{req.name}: {why}", data[:300].decode("utf-8", "replace"))
            except Exception as exc:
                why = type(exc).__name__
                samples.setdefault(f"{req.name}: {why}", str(exc)[:300])
            mine.append((req.name, time.perf_counter() - t, why))
        client.close()
        with lock:
            finished.append(time.perf_counter())
            tally.reconnects += client.reconnects
            for kind, text in samples.items():
                tally.error_samples.setdefault(kind, text)
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


def wait_answering(
    port: int, path: str, proc: subprocess.Popen[bytes], log: Path, cap: float
) -> float:
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
