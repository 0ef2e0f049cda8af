"""Record files read for the quick paths (query store, build, validate): their hashes in the
catalog's order, and an unchanged file's records from the store without rebuilding them."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from resource_kg.config import resolve_paths
from resource_kg.records import Record
from resource_kg.store.entries import decode_entries
from resource_kg.store.fingerprint import HashMemo
from resource_kg.store.scanning import list_files, read_file_bytes, read_records_of
from resource_kg.store.state import connect


def scan_hashes(root: Path, paths: Any, memo: HashMemo) -> tuple[dict[str, str], dict[str, bytes]]:
    """What `scanning.scan` yields, gathered: every record file's hash (in the catalog's
    order), and the bytes of those it read (the quick paths build from these without reading
    them twice)."""
    listed = list_files(paths.resources, root)
    hashes: dict[str, str] = {}
    read: dict[str, bytes] = {}
    for (shown, path), sha in zip(listed, memo.vouched(listed), strict=True):
        if sha is None:
            sha, read[shown] = read_file_bytes(memo, path, shown)
        hashes[shown] = sha
    return hashes, read


class Scan:
    """`scan_hashes` of a catalog, run by a forked child while the caller reads the store.

    At 100k record files the scan takes about 0.7 s of one core (listing, a stat per file and
    Python's work around each), and the quick build and validation have as much to decode
    from the store before they need its answer (validate after 10 edits: 3.2-3.7 s with the
    child, 3.9-4.5 s without); a thread would wait for the GIL after every stat. The child
    opens its own connection, records what it hashed (`HashMemo.save`) and sends the hashes
    and the bytes it read back through a pipe as JSON; it touches nothing the parent holds and
    leaves with `os._exit`. Where a fork is not safe (no `os.fork`, another Python thread
    running: the server) or the child fails, `result` scans here: the same answer either
    way, which a test compares. Use it as a context manager: leaving reaps the child.

    The query store's refresh has little to do meanwhile and scans in-process: there the
    fork's copy-on-write faults cost more than the overlap saves (`rkg query` after 10 edits
    at 100k: 1.9 s without, 2.45 s with)."""

    def __init__(self, root: Path, folder: Path) -> None:
        self.root = root
        self.paths = resolve_paths(root)
        self.pid: int | None = None
        self.pipe: int | None = None
        #: Whether `result` had the child's answer (False: scanned here).
        self.by_child = False
        if hasattr(os, "fork") and threading.active_count() == 1:
            self._start(folder)

    def _start(self, folder: Path) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            status = 1
            try:
                os.close(read_end)
                db = connect(folder)
                memo = HashMemo(db)
                hashes, read = scan_hashes(self.root, self.paths, memo)
                memo.save()
                bytes_as_text = {k: v.decode("latin-1") for k, v in read.items()}
                with os.fdopen(write_end, "wb") as out:
                    out.write(orjson.dumps([list(hashes.items()), bytes_as_text]))
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        self.pid, self.pipe = pid, read_end

    def result(self, memo: HashMemo) -> tuple[dict[str, str], dict[str, bytes]]:
        """The scan's (hashes, bytes read): the child's, or scanned here with `memo`."""
        got = self._collect()
        self.by_child = got is not None
        if got is None:
            return scan_hashes(self.root, self.paths, memo)
        pairs, text = got
        memo.present.update(shown for shown, _sha in pairs)
        return dict(pairs), {k: v.encode("latin-1") for k, v in text.items()}

    def _collect(self) -> Any:
        if self.pid is None or self.pipe is None:
            return None
        with os.fdopen(self.pipe, "rb") as inp:
            self.pipe = None
            data = inp.read()
        _pid, status = os.waitpid(self.pid, 0)
        self.pid = None
        if status != 0:
            return None
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return None

    def __enter__(self) -> Scan:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.pipe is not None:
            os.close(self.pipe)
            self.pipe = None
        if self.pid is not None:  # its result was not asked for: it is of no use
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = None


def edited_files(
    root: Path,
    kept: Mapping[str, str],
    hashes: dict[str, str],
    read: dict[str, bytes],
    memo: HashMemo,
    limit: int,
) -> list[str] | None:
    """The record files whose content hash differs from the one `kept` for them, in the
    catalog's order, their bytes now in `read`; None when files appeared or vanished or more
    than `limit` changed (a quick path is then no quicker, or not possible)."""
    if kept.keys() != hashes.keys():
        return None
    changed = [p for p, sha in hashes.items() if kept[p] != sha]
    if len(changed) > limit:
        return None
    for p in changed:
        if p not in read:  # its recorded hash is vouched for, but differs from the kept one
            hashes[p], read[p] = read_file_bytes(memo, os.path.join(root, p), p)
    return changed


def kept_records(root: Path, db: Any, memo: HashMemo, path: str, sha: str) -> list[Record] | None:
    """The records of an unchanged file (content hash `sha`): decoded from its entries when
    the store has them for these bytes, else read again; None when the file now differs."""
    row = db.execute("SELECT sha, entries FROM files WHERE path = ?", (path,)).fetchone()
    if row is not None and row[0] == sha:
        return [e.record for e in decode_entries(row[1], path, {})]
    now, data = read_file_bytes(memo, os.path.join(root, path), path)
    return read_records_of(root, path, data) if now == sha else None
