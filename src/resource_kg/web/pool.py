"""Query workers: forked processes that share the loaded store, killed when a query overruns.

pyoxigraph cannot interrupt a running query from Python, so a query that would run for
minutes (a cartesian product) can only be stopped by ending the process it runs in. Each
worker is forked from the server after the store is built, so it shares the store's memory
copy-on-write and starts in milliseconds; it reads jobs from a pipe and answers each with an
`Outcome`. When a job passes its time limit the worker is killed and a fresh one forked in
its place; the other workers keep answering meanwhile. An edit served by the live preview
reaches the workers as a `StoreChange` they apply to their own copy: forking them again
would make the server copy every page of its memory it touches next (hundreds of thousands
of page faults per edit at 100k resources). A worker that finds its pipe closed
(the server is gone) exits on its own.

The pool keeps the answers (200s only, bounded in count and bytes) of the store it serves: a
repeated question gets the same bytes without a worker. A reload (the live preview changed
the data) drops them all, so a kept answer never outlives the data it was computed on.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkProcess

import pyoxigraph as ox

from resource_kg.graph import Graphs
from resource_kg.query import EmbeddedEngine, Engine
from resource_kg.web.sparql import Job, Outcome, ProtocolError, run_job

_FORK = multiprocessing.get_context("fork")
#: How many answers, and how many bytes of them, a pool keeps for repeated questions.
KEEP_ANSWERS = 1024
KEEP_BYTES = 64 * 1024 * 1024


class QueryTimeout(ProtocolError):
    """The query ran past the server's time limit and was stopped."""


@dataclass(frozen=True)
class StoreChange:
    """Quads to remove from and add to a store: an edit, sent to each worker to apply to its
    own copy of the store (re-forking the workers instead copies the server's memory)."""

    removed: tuple[ox.Quad, ...]
    added: tuple[ox.Quad, ...]

    def apply(self, store: ox.Store) -> None:
        """Remove, then add: the server's store and each worker's get the same operations."""
        for quad in self.removed:
            store.remove(quad)
        store.extend(self.added)


def _serve(store: ox.Store, conn: Connection, run: Callable[[ox.Store, Job], Outcome]) -> None:
    """A worker's loop: one job in, one outcome out, until the pipe closes. A `StoreChange`
    is applied before the jobs sent after it, and answered with nothing."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if isinstance(job, StoreChange):
            job.apply(store)
            continue
        try:
            outcome = run(store, job)
        except Exception as exc:  # an engine bug must not kill the worker silently
            outcome = Outcome(500, "text/plain", f"internal error: {exc}\n".encode())
        try:
            conn.send(outcome)
        except (BrokenPipeError, OSError):
            return


#: Held while a store the workers are forked from is changed, and while forking: a child must
#: never be forked in the middle of an update (live preview updates the store on a thread).
FORK_LOCK = threading.Lock()


class Worker:
    """One forked process and the server's end of its pipe."""

    def __init__(
        self,
        store: ox.Store,
        run: Callable[[ox.Store, Job], Outcome] = run_job,
        generation: int = 0,
    ) -> None:
        self.generation = generation
        ours, theirs = _FORK.Pipe(duplex=True)
        with FORK_LOCK, warnings.catch_warnings():
            # The server may have threads by now; the child only touches the store and pipe.
            warnings.simplefilter("ignore", DeprecationWarning)
            self.process: ForkProcess = _FORK.Process(
                target=_serve, args=(store, theirs, run), daemon=True
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
    """A fixed number of workers; `run` waits for a free one, then for its answer."""

    def __init__(
        self,
        store: ox.Store,
        size: int,
        timeout: float,
        run: Callable[[ox.Store, Job], Outcome] = run_job,
    ) -> None:
        self.store = store
        self.size = size
        self.timeout = timeout
        self._run = run
        self._idle: asyncio.Queue[Worker] = asyncio.Queue()
        self._all: set[Worker] = set()
        self.killed = 0
        self.generation = 0
        #: Answers of this generation's store by job: the same query on the same data gives
        #: the same bytes, so a repeated question is not run again (cleared on every reload).
        self.answers: OrderedDict[Job, Outcome] = OrderedDict()
        self.answer_bytes = 0
        self.keep_answers = True

    def start(self) -> None:
        """Fork the workers (call once the store is loaded, inside the serving event loop)."""
        for _ in range(self.size):
            self._add()

    def _add(self) -> None:
        worker = Worker(self.store, self._run, self.generation)
        self._all.add(worker)
        self._idle.put_nowait(worker)

    def reload(self, store: ox.Store, change: StoreChange | None = None) -> None:
        """Serve `store` (changed in place or new) from now on.

        With `change` (what was applied to this same store in place) each worker applies it
        too, after the job it may be running and before any other: no job sees a half-updated
        store, and no worker is forked again. Otherwise idle workers are re-forked at once,
        busy ones once their job is answered."""
        in_place = change is not None and store is self.store
        self.store = store
        self.generation += 1
        self.answers.clear()
        self.answer_bytes = 0
        if in_place and change is not None:
            # A worker forked after the server's store changed (a replacement) gets the change
            # too: removing and adding the same quads again changes nothing.
            for worker in list(self._all):
                try:
                    worker.conn.send(change)
                except OSError:
                    continue  # gone: its next job replaces it
                worker.generation = self.generation
            return
        stale: list[Worker] = []
        while not self._idle.empty():
            stale.append(self._idle.get_nowait())
        for worker in stale:
            self._retire(worker)
            self._add()

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
        if worker.generation != self.generation:
            self._retire(worker)  # forked from data that has changed since
            self._add()
        else:
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
        """SELECTs on the served store itself, in this process (quick look-ups only)."""
        return EmbeddedEngine(self.store, graphs, source)

    def pids(self) -> list[int]:
        return [w.process.pid for w in self._all if w.process.pid is not None]


def _receive(conn: Connection) -> Outcome | None:
    """Block for the worker's answer; None when the worker died or was killed meanwhile."""
    try:
        value = conn.recv()
    except (EOFError, OSError):
        return None
    return value if isinstance(value, Outcome) else None


def default_size() -> int:
    """One worker per core, at least two, so one overrunning query never blocks the rest."""
    return max(2, min(os.cpu_count() or 2, 8))
