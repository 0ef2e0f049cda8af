"""Work on a list split between this process and forked children, each child's part streamed back.

A fresh load of a large catalog spends most of its time in Python reading and building each
record file, one core busy and the other idle (`rkg build` at 100k: 80 s wall, 80 s CPU).
Threads would wait for the GIL; a forked child has its own. `ForkedParts` splits the items
into contiguous parts: the caller does the first itself, a child does each other, sending
every finished item back as its own frame (length, then bytes) through a pipe that the
caller drains between its own items. Whatever a child did not finish (it stopped at an item
it could not do, was killed, or wrote a broken frame) the caller does itself, in order, with
the plain code: the answer is the same either way, and an error is raised by the caller at
the item where the plain path raises it. Children touch nothing the caller holds and leave
with `os._exit`. Nothing is forked where that is not safe (no `os.fork`, another thread).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")

#: Bytes a child gathers before writing them to its pipe.
_FLUSH = 1 << 20
_LENGTH = 8


def default_workers() -> int:
    """Worker processes for parallel work: RKG_WORKERS, else up to 2 (one per core)."""
    env = os.environ.get("RKG_WORKERS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(2, os.cpu_count() or 1))


def can_fork() -> bool:
    """Whether forking is safe here: the call exists and no other Python thread runs."""
    return hasattr(os, "fork") and threading.active_count() == 1


class _Child:
    def __init__(self, pid: int, fd: int) -> None:
        self.pid: int | None = pid
        self.fd: int | None = fd
        self.data = bytearray()


class ForkedParts(Generic[T]):
    """`items` in `parts` contiguous parts; a forked child does `work` on each part but the
    first (`first` times as long as each other part: the caller's, who has the children's
    results to take in as well). `work` returns an item's result as bytes, or None to stop
    its child there (the caller then does that item and the rest of the part itself). Use
    as a context manager: leaving kills and reaps children whose results were not taken."""

    def __init__(
        self,
        items: Sequence[T],
        work: Callable[[T], bytes | None],
        parts: int,
        first: float = 1.0,
    ) -> None:
        n = len(items)
        parts = max(1, min(parts, n)) if can_fork() else 1
        # the first part is `first` times as long as each other (the caller has more to do)
        whole = first + parts - 1
        bounds = [0, *(round(n * (first + i) / whole) for i in range(parts - 1)), n]
        self.parts: list[Sequence[T]] = [items[bounds[i] : bounds[i + 1]] for i in range(parts)]
        self._children: list[_Child | None] = [None]
        for part in self.parts[1:]:
            self._children.append(self._fork(part, work))

    @property
    def mine(self) -> Sequence[T]:
        """The first part: the caller's own."""
        return self.parts[0] if self.parts else []

    @staticmethod
    def _fork(part: Sequence[T], work: Callable[[T], bytes | None]) -> _Child | None:
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return None  # the caller does this part
        if pid == 0:  # the child
            try:
                os.close(read_end)
                buf = bytearray()
                for item in part:
                    try:
                        done = work(item)
                    except Exception:  # the caller does it again, and meets the error itself
                        done = None
                    if done is None:
                        break
                    buf += len(done).to_bytes(_LENGTH, "little")
                    buf += done
                    if len(buf) >= _FLUSH:
                        _write_all(write_end, buf)
                        buf.clear()
                _write_all(write_end, buf)
            finally:
                os._exit(0)
        os.close(write_end)
        os.set_blocking(read_end, False)
        return _Child(pid, read_end)

    def drain(self) -> None:
        """Read what the children have written so far (so none waits on a full pipe)."""
        for child in self._children:
            if child is not None and child.fd is not None:
                _read_available(child)

    def results(self, index: int) -> list[bytes]:
        """The results of part `index`'s first items, as its child finished them (all of the
        part, some, or none: the caller does the rest)."""
        child = self._children[index]
        if child is None or child.fd is None:
            return []
        os.set_blocking(child.fd, True)
        while _read_available(child):
            pass
        self._reap(child)
        data, out, at = child.data, [], 0
        while at + _LENGTH <= len(data):
            size = int.from_bytes(data[at : at + _LENGTH], "little")
            if at + _LENGTH + size > len(data):
                break  # cut short: the child was killed while writing
            out.append(bytes(data[at + _LENGTH : at + _LENGTH + size]))
            at += _LENGTH + size
        child.data = bytearray()
        return out

    @staticmethod
    def _reap(child: _Child) -> None:
        if child.fd is not None:
            os.close(child.fd)
            child.fd = None
        if child.pid is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(child.pid, 0)
            child.pid = None

    def close(self) -> None:
        """Kill and reap the children still running."""
        for child in self._children:
            if child is None:
                continue
            if child.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGKILL)
            self._reap(child)

    def __enter__(self) -> ForkedParts[T]:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _write_all(fd: int, data: bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_available(child: _Child) -> bool:
    """Append what can be read now to `child.data`; False at the end of the pipe."""
    assert child.fd is not None
    while True:
        try:
            chunk = os.read(child.fd, 1 << 20)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        child.data += chunk
