"""Atomic file output: an interrupted run leaves the previous file intact."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A file beside `path` that replaces it only when the block finishes without error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write `data` to `path` atomically (temp file + rename)."""
    with atomic_output(path) as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)


class NotUtf8(ValueError):
    """Bytes that are not UTF-8: where the first bad byte is, for a message naming the line."""

    def __init__(self, data: bytes, exc: UnicodeDecodeError) -> None:
        super().__init__(str(exc))
        self.byte = data[exc.start]
        self.offset = exc.start
        self.line = data[: exc.start].count(b"\n") + 1


def decode_utf8(data: bytes) -> str:
    """UTF-8 text without a leading byte-order mark; NotUtf8 says where it is not UTF-8."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise NotUtf8(data, exc) from exc
