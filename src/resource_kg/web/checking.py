"""Validating a served version on the side: in a child forked from the server (it shares the
loaded catalog), at the lowest priority, stopped when the next reload begins (`web.live`).

`FORK_LOCK` is held while the server works on a store and while it forks the child: a child
must never be forked in the middle of a RocksDB operation (the live preview runs on a thread).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from resource_kg.catalog import Catalog
from resource_kg.errors import RkgError
from resource_kg.validate import Finding

_FORK = multiprocessing.get_context("fork")
FORK_LOCK = threading.Lock()
Validator = Callable[[Catalog], list[Finding]]


@dataclass
class Problem:
    """A file the last load could not read: shown on /errors until it is fixed."""

    message: str
    file: str | None
    line: int | None
    kind: str
    since: float = field(default_factory=time.time)

    def location(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line is not None else self.file


def validate_forked(
    validator: Validator,
    catalog: Catalog,
    superseded: Callable[[], bool],
    children: list[BaseProcess] | None = None,
) -> list[Finding] | Problem | None:
    """`validator(catalog)` in a child forked from this process (it shares the loaded catalog);
    None when `superseded()` turned true first (the child is killed) or the child died."""
    ours, theirs = _FORK.Pipe(duplex=False)
    with FORK_LOCK, warnings.catch_warnings():
        if superseded():  # checked under the lock a reload takes to stop validations
            ours.close()
            theirs.close()
            return None
        warnings.simplefilter("ignore", DeprecationWarning)  # forked with threads running
        child = _FORK.Process(
            target=_validate_child, args=(validator, catalog, theirs), daemon=True
        )
        child.start()
        if children is not None:
            children.append(child)
    theirs.close()
    try:
        while not ours.poll(0.1):
            if superseded() or not child.is_alive() and not ours.poll(0):
                return None
        got: Any = ours.recv()
    except (EOFError, OSError):
        return None
    finally:
        ours.close()
        if child.is_alive():
            child.kill()
        child.join(timeout=5)
        if children is not None and child in children:
            children.remove(child)
    return got if isinstance(got, (list, Problem)) else None


def _validate_child(validator: Validator, catalog: Catalog, conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # The lowest priority: the next edit's reload (and every request) goes first; the child
    # runs on what CPU they leave. Not stopped outright: it may hold the catalog's lock.
    with contextlib.suppress(OSError):
        os.nice(19)
    try:
        result: list[Finding] | Problem = validator(catalog)
    except RkgError as exc:
        result = Problem(exc.message, exc.file, exc.line, type(exc).__name__)
    with contextlib.suppress(OSError):
        conn.send(result)
    conn.close()
