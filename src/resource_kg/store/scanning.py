"""Finding, hashing and reading a catalog's record files, for a load and the quick paths.

`list_files` lists the record files in the catalog's order; `scan` hashes each (reading only
what `HashMemo` cannot vouch for); `scan_changed` trusts the file system's change events of
the live preview. A fresh load reads and builds every file: `forked_scan` shares that work
with forked children (`forked.ForkedParts`), the results the same as `scan` and the builder
give here, which a test compares.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import orjson

from resource_kg.errors import StructureError
from resource_kg.graph import GraphBuilder
from resource_kg.records import RECORD_SUFFIXES, Record, read_file
from resource_kg.records.folder import is_record_file
from resource_kg.store.entries import Entry, build_entry, decode_entries, encode_entries
from resource_kg.store.fingerprint import HashMemo
from resource_kg.store.forked import ForkedParts, default_workers
from resource_kg.tagging import Tagger
from resource_kg.vocab import Lexicon

_NAME = operator.attrgetter("name")


def list_files(folder: Path, root: Path) -> list[tuple[str, str]]:
    """`records.record_files(folder)` from one directory scan: (path relative to root, path).

    Same files, same order (pathlib orders paths by their parts, which is each directory's
    entries in name order, depth first), but names are joined and sorted as plain strings:
    0.3 s instead of 3.5 s for 100k."""
    found: list[tuple[str, str]] = []
    if not folder.is_dir():
        return []

    def scan(directory: str, shown: str) -> None:
        with os.scandir(directory) as listing:
            entries = sorted(listing, key=_NAME)
        for entry in entries:
            name = entry.name
            if entry.is_dir(follow_symlinks=False):  # a folder, not a link to one
                scan(entry.path, f"{shown}/{name}")
                continue
            # pathlib's suffix (what `record_files` reads), without a Path per name: from the
            # last dot, unless that dot opens the name
            dot = name.rfind(".")
            if (
                dot > 0
                and name[dot:].lower() in RECORD_SUFFIXES
                and (
                    is_record_file(Path(entry.path), f"{shown}/{name}")
                    if entry.is_symlink()  # a loop names itself; plain files cost no stat
                    else entry.is_file()
                )
            ):
                found.append((f"{shown}/{name}", entry.path))

    scan(str(folder), folder.relative_to(root).as_posix())
    return found


def scan(root: Path, paths: Any, memo: HashMemo) -> Iterator[tuple[str, str, bytes | None]]:
    """(path as shown, content hash, bytes) of every record file, in the catalog's order.

    The bytes are None when the memo vouches for the recorded hash (the file was not read)."""
    for shown, path in list_files(paths.resources, root):
        sha = memo.recorded(path, shown)
        if sha is not None:
            yield shown, sha, None
            continue
        yield shown, *read_file_bytes(memo, path, shown)


def scan_changed(
    root: Path, paths: Any, memo: HashMemo, prior: dict[str, str], changed: set[str]
) -> list[tuple[str, str, bytes | None]] | None:
    """`scan` told which record files changed since the load that hashed `prior` (the file
    system's change events: `web.live`): those are read and hashed, the rest keep their
    hash without a stat. None when a change is not a plain record file (a folder, a link):
    the caller scans the folder instead."""
    folder = paths.resources.resolve()
    order = list(prior)
    added = False
    for shown in changed:
        full = root / shown
        try:
            inside = full.resolve().is_relative_to(folder)
        except OSError:
            return None
        if not inside or full.is_symlink() or full.is_dir():
            return None
        if shown not in prior and full.is_file() and full.suffix.lower() in RECORD_SUFFIXES:
            order.append(shown)
            added = True
    if added:  # the order `list_files` gives: each folder's names sorted, depth first
        order.sort(key=lambda shown: shown.split("/"))
    out: list[tuple[str, str, bytes | None]] = []
    for shown in order:
        if shown not in changed:
            memo.present.add(shown)  # still there: its recorded identity stays
            out.append((shown, prior[shown], None))
            continue
        name = os.path.join(root, shown)
        if os.path.isfile(name):  # else it was deleted
            out.append((shown, *read_file_bytes(memo, name, shown)))
    return out


def read_file_bytes(memo: HashMemo, path: str, shown: str) -> tuple[str, bytes]:
    try:
        return memo.read(path, shown)
    except OSError as exc:
        raise StructureError(f"cannot read file: {exc.strerror}", file=shown) from exc


def read_records_of(root: Path, shown: str, data: bytes) -> list[Record]:
    """The records of one changed file, their paths as the catalog shows them."""
    try:
        file_records = read_file(root / shown, data=data)
    except StructureError as exc:
        exc.file = shown
        raise
    for record in file_records:
        record.file = shown
    return file_records


#: A file's records and, for each, its entry when it was built without the other records.
Prebuilt = tuple[list[Record], list[Entry | None]]
#: A fresh load of fewer record files than this is not shared with children (forking and
#: sending entries back cost more than they save on a small catalog).
FORK_FILES = 2000
#: The caller's part, against a child's: a child also encodes what it built (measured at
#: 100k: with equal parts the caller waited 8 s for the child; with 1.25, 0.5 s).
FIRST = 1.25


def _child_work(
    root: Path, memo: HashMemo, builder: GraphBuilder, lexicon: Lexicon
) -> Callable[[tuple[str, str]], bytes | None]:
    """What a forked child does with one record file of a fresh load: read, hash, parse and
    build it as the loop of `_load` does, and encode the result (`_taken` decodes it)."""
    taggers: list[Tagger] = []

    def work(item: tuple[str, str]) -> bytes | None:
        shown, path = item
        sha, data = memo.read(path, shown)
        file_records = read_records_of(root, shown, data)
        if not taggers:
            taggers.append(Tagger(lexicon))
        built: list[Entry] = []
        recs: list[Any] = []
        for record in file_records:
            if record.get_text("replaced_by") is None:  # needs no other record
                built.append(build_entry(builder, taggers[0], record, set()))
                recs.append(None)
            else:
                recs.append([record.id, record.values, record.line, record.field_lines])
        key, _sha, at = memo.fresh[shown]
        return orjson.dumps([shown, sha, list(key), at, recs, encode_entries(built)])

    return work


def _taken(
    body: bytes, expected: str, memo: HashMemo, pool: dict[str, str]
) -> tuple[str, Prebuilt, str | None] | None:
    """A child's result for the file `expected`: (hash, records and entries, the encoded
    entries when every record was built there); what it hashed goes into `memo` as if hashed
    here. None when the result is for another file."""
    shown, sha, key, at, recs, text = orjson.loads(body)
    if shown != expected:
        return None
    decoded = iter(decode_entries(text, shown, pool))
    records: list[Record] = []
    built: list[Entry | None] = []
    for rec in recs:
        if rec is None:
            entry = next(decoded)
            records.append(entry.record)
            built.append(entry)
        else:
            rid, values, line, field_lines = rec
            records.append(Record(rid, values, shown, line, field_lines))
            built.append(None)
    memo.fresh[shown] = (tuple(key), sha, at)
    memo.present.add(shown)
    whole = all(rec is None for rec in recs)
    return sha, (records, built), text if whole else None


def forked_scan(
    root: Path,
    paths: Any,
    memo: HashMemo,
    builder: GraphBuilder,
    lexicon: Lexicon,
    pool: dict[str, str],
    texts: dict[str, str],
) -> Generator[tuple[str, str, bytes | None, Prebuilt | None]]:
    """`scan` of a fresh load, every file read: the files after the first part are read and
    built by forked children (`forked.ForkedParts`) while the caller builds the first part.
    A child's file comes with its records and entries; what a child did not finish comes as
    `scan` gives it. A file all of whose records a child built has its encoded entries put
    in `texts` (`_save` writes them as they are)."""
    listed = list_files(paths.resources, root)
    parts = default_workers() if len(listed) >= FORK_FILES else 1
    work = _child_work(root, memo, builder, lexicon)
    with ForkedParts(listed, work, parts, FIRST) as forked:
        for shown, path in forked.mine:
            yield shown, *read_file_bytes(memo, path, shown), None
            forked.drain()
        for index, part in enumerate(forked.parts[1:], start=1):
            done = 0
            for body in forked.results(index):
                shown = part[done][0]
                got = _taken(body, shown, memo, pool)
                if got is None:
                    break  # not the file expected next: the rest is read here
                sha, pre, text = got
                if text is not None:
                    texts[shown] = text
                done += 1
                yield shown, sha, None, pre
            for shown, path in part[done:]:
                yield shown, *read_file_bytes(memo, path, shown), None
