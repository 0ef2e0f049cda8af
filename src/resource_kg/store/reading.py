"""Record files read for the quick paths (query store, build, validate): their hashes in the
catalog's order, and an unchanged file's records from the store without rebuilding them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from resource_kg.records import Record
from resource_kg.store.fingerprint import HashMemo
from resource_kg.store.incremental import (
    decode_entries,
    list_files,
    read_file_bytes,
    read_records_of,
)


def scan_hashes(root: Path, paths: Any, memo: HashMemo) -> tuple[dict[str, str], dict[str, bytes]]:
    """What `incremental.scan` yields, gathered: every record file's hash (in the catalog's
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
