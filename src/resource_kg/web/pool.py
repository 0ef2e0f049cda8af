"""Query workers: processes that each open the served snapshot, killed when a query overruns.

pyoxigraph cannot interrupt a running query from Python, so a query that would run for
minutes (a cartesian product) can only be stopped by ending the process it runs in. Each
worker opens the version's snapshot of the on-disk query store read-only
(`store.snapshots`: a folder no process writes), reads jobs from a pipe and answers each with
an `Outcome`. When a job passes its time limit the worker is killed and a fresh one started
in its place; the other workers keep answering meanwhile. A new version (the live preview)
reaches the workers as a `Reopen` of its snapshot, read after the job a worker may be
running and before any other: no job sees two versions, and no worker is started again.

Workers are started by multiprocessing's fork server, a small process started once with this
module imported: they share nothing with the server's memory (the loaded catalog and site
model) and none of its threads or open stores (RocksDB is not safe to use across a fork), and
start in milliseconds. A worker that finds its pipe closed (the server is gone) exits on its
own.

The pool keeps the answers (200s only, bounded in count and bytes) of the version it serves:
a repeated question gets the same bytes without a worker. A reload drops them all, so a kept
answer never outlives the data it was computed on.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import forkserver
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerProcess
from pathlib import Path

import pyoxigraph as ox

from resource_kg.graph import Graphs
from resource_kg.query import EmbeddedEngine, Engine
from resource_kg.web.sparql import Job, Outcome, ProtocolError, run_job

_SERVER = multiprocessing.get_context("forkserver")
_SERVER.set_forkserver_preload(["resource_kg.web.pool"])
#: How many answers, and how many bytes of them, a pool keeps for repeated questions.
KEEP_ANSWERS = 1024
KEEP_BYTES = 64 * 1024 * 1024


class QueryTimeout(ProtocolError):
    """The query ran past the server's time limit and was stopped."""


@dataclass(frozen=True)
class Reopen:
    """Serve the snapshot at `path` from the next job on (a new version)."""

    path: str


def _serve(path: str, conn: Connection, run: Callable[[ox.Store, Job], Outcome]) -> None:
    """A worker's loop: one job in, one outcome out, until the pipe closes. A `Reopen` is
    obeyed before the jobs sent after it, and answered with nothing."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    store = ox.Store.read_only(path)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if isinstance(job, Reopen):
            del store
            store = ox.Store.read_only(job.path)
            continue
        try:
            outcome = run(store, job)
        except Exception as exc:  # an engine bug must not kill the worker silently
            outcome = Outcome(500, "text/plain", f"internal error: {exc}\n".encode())
        try:
            conn.send(outcome)
        except (BrokenPipeError, OSError):
            return


class Worker:
    """One worker process (started by the fork server) and the server's end of its pipe."""

    def __init__(
        self,
        path: Path,
        run: Callable[[ox.Store, Job], Outcome] = run_job,
    ) -> None:
        ours, theirs = _SERVER.Pipe(duplex=True)
        self.process: ForkServerProcess = _SERVER.Process(
            target=_serve, args=(str(path), theirs, run), daemon=True
        )
        self.process.start()
        theirs.close()
        self.conn = ours

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)


class WorkerPool:
    """A fixed number of workers on one snapshot; `run` waits for a free one, then its answer."""

    def __init__(
        self,
        path: Path,
        size: int,
        timeout: float,
        run: Callable[[ox.Store, Job], Outcome] = run_job,
    ) -> None:
        self.path = path
        self.size = size
        self.timeout = timeout
        self._run = run
        self._idle: asyncio.Queue[Worker] = asyncio.Queue()
        self._all: set[Worker] = set()
        self._own: ox.Store | None = None
        self.killed = 0
        self.generation = 0
        #: Answers of this generation's snapshot by job: the same query on the same data gives
        #: the same bytes, so a repeated question is not run again (cleared on every reload).
        self.answers: OrderedDict[Job, Outcome] = OrderedDict()
        self.answer_bytes = 0
        self.keep_answers = True

    def start(self) -> None:
        """Start the workers (inside the serving event loop)."""
        for _ in range(self.size):
            self._add()

    def _add(self) -> None:
        worker = Worker(self.path, self._run)
        self._all.add(worker)
        self._idle.put_nowait(worker)

    def reload(self, path: Path) -> None:
        """Serve the snapshot at `path` from now on: each worker opens it after the job it may
        be running and before any other, so no job sees a version change under it."""
        self.path = path
        self._own = None
        self.generation += 1
        self.answers.clear()
        self.answer_bytes = 0
        for worker in list(self._all):
            try:
                worker.conn.send(Reopen(str(path)))
            except OSError:
                continue  # gone: its next job replaces it

    def _retire(self, worker: Worker) -> None:
        self._all.discard(worker)
        worker.kill()

    async def run(self, job: Job) -> Outcome:
        """The job's outcome; a QueryTimeout when no worker is free in time or it overruns."""
        kept = self.answers.get(job)
        if kept is not None:
            self.answers.move_to_end(job)
            return kept
        generation = self.generation
        outcome = await self._run_on_worker(job)
        if self.keep_answers and outcome.status == 200 and generation == self.generation:
            self._keep(job, outcome)
        return outcome

    def _keep(self, job: Job, outcome: Outcome) -> None:
        if len(outcome.body) > KEEP_BYTES // 8:
            return
        self.answers[job] = outcome
        self.answer_bytes += len(outcome.body)
        while len(self.answers) > KEEP_ANSWERS or self.answer_bytes > KEEP_BYTES:
            _old, dropped = self.answers.popitem(last=False)
            self.answer_bytes -= len(dropped.body)

    async def _run_on_worker(self, job: Job) -> Outcome:
        started = time.monotonic()
        try:
            worker = await asyncio.wait_for(self._idle.get(), self.timeout)
        except TimeoutError:
            raise QueryTimeout(
                f"the server is busy: no query worker became free within {self.timeout:g} s; "
                "try again shortly",
                503,
            ) from None
        left = max(self.timeout - (time.monotonic() - started), 0.01)
        try:
            worker.conn.send(job)
            outcome: Outcome | None = await asyncio.wait_for(
                asyncio.to_thread(_receive, worker.conn), left
            )
        except (TimeoutError, OSError):
            outcome = None
        if outcome is None:
            self._replace(worker)
            raise QueryTimeout(
                f"the query was stopped after the server's time limit of {self.timeout:g} s; "
                "narrow it down (fewer unbound patterns, a LIMIT) and try again",
                503,
            )
        self._idle.put_nowait(worker)
        return outcome

    def _replace(self, worker: Worker) -> None:
        self._retire(worker)
        self.killed += 1
        self._add()

    def close(self) -> None:
        """Stop every worker (they would also exit once the server's pipe ends close)."""
        for worker in list(self._all):
            worker.kill()
        self._all.clear()

    def engine(self, graphs: Graphs, source: str) -> Engine:
        """SELECTs on the served snapshot itself, in this process (quick look-ups only)."""
        if self._own is None:
            self._own = ox.Store.read_only(str(self.path))
        return EmbeddedEngine(self._own, graphs, source)

    def pids(self) -> list[int]:
        return [w.process.pid for w in self._all if w.process.pid is not None]


def _receive(conn: Connection) -> Outcome | None:
    """Block for the worker's answer; None when the worker died or was killed meanwhile."""
    try:
        value = conn.recv()
    except (EOFError, OSError):
        return None
    return value if isinstance(value, Outcome) else None


def prepare_workers() -> None:
    """Start the fork server now (it imports this module, pyoxigraph included, in a process of
    its own: about a second), so the first workers start in milliseconds later on."""
    forkserver.ensure_running()


def default_size() -> int:
    """One worker per core, at least two, so one overrunning query never blocks the rest."""
    return max(2, min(os.cpu_count() or 2, 8))
