"""catalog.trig and catalog.ttl written from serialized blocks the store keeps per record file.

pyoxigraph's sorted output is one block per (graph, subject) in TriG and per subject in
Turtle (`store.blocks`). A store-backed build (`write_recording`) cuts pyoxigraph's output
into these blocks as it writes it and keeps the blocks of each record's subjects, with a
summary of each record file (its ids, url keys, content warnings, subjects and quad count).
After a few edits `quick_build` serializes only the edited files' records with pyoxigraph and
copies every other block as bytes, merged in the same sorted order: the files are
byte-identical to a full write.

Anything it cannot vouch for goes to the full path: another build context, record files or
ids that appeared or vanished, more than `QUICK_LIMIT` edited files, a subject that two record
files or a record and the shared graphs both write. The blocks and summaries change in one
SQLite transaction, and the outputs are written atomically afterwards.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson
import pyoxigraph as ox

from resource_kg.catalog import MANIFEST
from resource_kg.errors import Diagnostic
from resource_kg.files import atomic_outputs
from resource_kg.graph import PREFIXES, url_key
from resource_kg.records import Record
from resource_kg.store.blocks import NotSplittable, pieces, serialize_trig, serialize_ttl
from resource_kg.store.entries import Entry, build_entry
from resource_kg.store.fingerprint import HashMemo
from resource_kg.store.incremental import StoredCatalog, duplicate_urls, setup
from resource_kg.store.reading import Scan, edited_files, kept_records
from resource_kg.store.scanning import read_records_of
from resource_kg.store.state import connect, gc_paused, get_meta, locked, set_meta, transaction
from resource_kg.tagging import Tagger

#: Bumped when the blocks or summaries change shape.
DUMPS_FORMAT = "dumps 1"
#: Above this many edited record files the full write is as quick.
QUICK_LIMIT = 2000


# ---------------------------------------------------------------- what the store keeps


@dataclass
class FileSummary:
    """What a build needs of one record file without decoding its entries."""

    ids: list[str]
    urls: list[str | None]  # url_key of each record's url
    diagnostics: list[Diagnostic]
    pairs: list[tuple[str, str]]  # (graph, subject) of its TriG blocks
    subjects: list[str]  # subjects of its Turtle blocks
    quads: int  # distinct quads of its records


def summarize(entries: list[Entry]) -> FileSummary:
    keys = [k for e in entries for k in (*e.keys, *e.derived)]
    quads = set(keys)
    return FileSummary(
        [e.record.id for e in entries],
        [_url_of(e.record) for e in entries],
        [d for e in entries for d in e.diagnostics],
        sorted({(k[0], k[1]) for k in quads}),
        sorted({k[1] for k in quads}),
        len(quads),
    )


def _url_of(record: Record) -> str | None:
    url = record.get_text("url")
    return None if url is None else url_key(url)


def _encode(summary: FileSummary) -> tuple[str, str, str, str, int]:
    diags = [[d.record_id, d.line, d.field, d.message] for d in summary.diagnostics]
    return (
        orjson.dumps([summary.ids, summary.urls]).decode(),
        orjson.dumps(diags).decode(),
        orjson.dumps(summary.pairs).decode(),
        orjson.dumps(summary.subjects).decode(),
        summary.quads,
    )


def _decode_all(texts: Iterable[str]) -> list[Any]:
    """Many JSON texts decoded in one call (100k calls cost more than the decoding)."""
    return list(orjson.loads("[" + ",".join(texts) + "]"))


# ---------------------------------------------------------------- the full write


class _Rows:
    """Blocks of record subjects going into the database in batches (one open transaction)."""

    def __init__(self, db: sqlite3.Connection, sql: str, owned: set[Any], flat: bool) -> None:
        self.db, self.sql, self.owned, self.flat = db, sql, owned, flat
        self.rows: list[tuple[Any, ...]] = []

    def keep(self, name: Any, body: bytes) -> None:
        if name in self.owned:
            self.rows.append((*name, body) if self.flat else (name, body))
            if len(self.rows) >= 10000:
                self.done()

    def done(self) -> None:
        self.db.executemany(self.sql, self.rows)
        self.rows = []


def write_recording(catalog: StoredCatalog, out: Path | str) -> list[Path]:
    """`catalog.write(out)`, keeping each record file's blocks in the store for `quick_build`.

    The bytes written are pyoxigraph's, as `Catalog.write` streams them; they are cut into
    blocks on the way, and go into the store in the transaction that ends once both files are
    in place. When a subject belongs to no single record file no block is kept (the next build
    writes in full again)."""
    out = Path(out)
    written = [out / "catalog.trig", out / "catalog.ttl"]
    table = catalog.quad_table
    per_file: dict[str, list[Entry]] = {}
    for record in catalog.records:
        per_file.setdefault(record.file, []).append(catalog.entries[record.id])
    summaries: dict[str, tuple[str, FileSummary]] = {}
    owner: dict[str, str] = {}
    ok = True
    for path, entries in per_file.items():
        summary = summarize(entries)
        summaries[path] = (catalog.file_hashes[path], summary)
        for s in summary.subjects:
            ok = ok and owner.setdefault(s, path) == path
    keys = table.keys
    if ok and sum(n.quads for _, n in summaries.values()) != sum(1 for k in keys if k[1] in owner):
        ok = False  # a shared quad has a record's subject: its blocks are not the record's alone
    pairs = {p for _, n in summaries.values() for p in n.pairs} if ok else set()
    db = connect(catalog.state_folder)
    try:
        with transaction(db):
            set_meta(db, "dumps_context", "")
            for name in ("trig_blocks", "ttl_blocks", "dump_files"):
                db.execute(f"DELETE FROM {name}")  # noqa: S608 - fixed table names
            trig = _Rows(db, _INSERT_TRIG, pairs, True)
            ttl = _Rows(db, _INSERT_TTL, set(owner) if ok else set(), False)
            with atomic_outputs(written, out / MANIFEST) as (trig_out, ttl_out):
                serialize_trig(keys, table.table, trig_out, trig.keep)
                serialize_ttl(table.triple_keys(), table.table, ttl_out, ttl.keep)
            if ok:
                trig.done()
                ttl.done()
                _save_summaries(db, summaries)
                set_meta(db, "dumps_context", f"{DUMPS_FORMAT} {catalog.build_context}")
    finally:
        db.close()
    return written


_INSERT_TRIG = "INSERT INTO trig_blocks (graph, subject, body) VALUES (?, ?, ?)"
_INSERT_TTL = "INSERT INTO ttl_blocks (subject, body) VALUES (?, ?)"


def _save_summaries(db: sqlite3.Connection, summaries: dict[str, tuple[str, FileSummary]]) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO dump_files (path, sha, ids, diagnostics, pairs, subjects, quads)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(path, sha, *_encode(s)) for path, (sha, s) in sorted(summaries.items())],
    )


# ---------------------------------------------------------------- the quick write


@dataclass
class Built:
    """What `rkg build` reports of a quick build."""

    written: list[Path]
    records: int
    triples: int
    diagnostics: list[Diagnostic]


def quick_build(root: Path | str, out: Path | str, today: dt.date | None = None) -> Built | None:
    """Write the dumps from the kept blocks and the edited files alone, or None when the full
    path is needed (nothing is written then)."""
    root = Path(root)
    with gc_paused(), locked(root) as folder:
        db = connect(folder)  # before the scan's child connects: one of them creates the file
        try:
            with Scan(root, folder) as scan:
                return _quick(root, folder, Path(out), today, db, scan)
        except NotSplittable:
            return None
        finally:
            db.close()


def _quick(
    root: Path,
    folder: Path,
    out: Path,
    today: dt.date | None,
    db: sqlite3.Connection,
    scan: Scan,
) -> Built | None:
    up = setup(root, today)
    if get_meta(db, "dumps_context") != f"{DUMPS_FORMAT} {up.context}":
        return None
    memo = HashMemo(db)
    rows = {
        path: (sha, ids, diags)
        for path, sha, ids, diags in db.execute(
            "SELECT path, sha, ids, diagnostics FROM dump_files"
        )
    }
    # decoded while the scan runs in a child (an edited file's old ids for nothing)
    stored = dict(zip(rows, _decode_all(r[1] for r in rows.values()), strict=True))
    hashes, read = scan.result(memo)
    changed = edited_files(
        root, {p: r[0] for p, r in rows.items()}, hashes, read, memo, QUICK_LIMIT
    )
    if changed is None:
        return None  # record files appeared or vanished, or too many changed
    paths = list(hashes)
    ids_urls = {p: stored[p] for p in paths}
    new_records = {p: read_records_of(root, p, read[p]) for p in changed}
    old_ids = sorted(rid for p in changed for rid in ids_urls[p][0])
    if old_ids != sorted(r.id for rs in new_records.values() for r in rs):
        return None  # ids appeared or vanished: replaced_by and duplicates need every record
    known = {rid for p in hashes for rid in ids_urls[p][0]}
    tagger = Tagger(up.lexicon)
    fresh: dict[str, tuple[str, FileSummary]] = {}
    new_trig: list[tuple[tuple[str, str], bytes]] = []
    new_ttl: list[tuple[str, bytes]] = []
    built: dict[str, list[Entry]] = {}
    for p in changed:
        entries = [build_entry(up.builder, tagger, r, known) for r in new_records[p]]
        built[p] = entries
        summary = summarize(entries)
        fresh[p] = (hashes[p], summary)
        ids_urls[p] = [summary.ids, summary.urls]
        made = pieces((k for e in entries for k in (*e.keys, *e.derived)), up.builder.table)
        new_trig += made.trig
        new_ttl += made.ttl
    diagnostics = [d for p in changed for d in fresh[p][1].diagnostics]
    kept = [p for p in paths if p not in fresh]
    for p, found in zip(kept, _decode_all(rows[p][2] for p in kept), strict=True):
        diagnostics += [Diagnostic(p, line, rid, field, msg) for rid, line, field, msg in found]
    diagnostics += _repeated_urls(root, up, db, memo, hashes, ids_urls, built, known)
    shared_keys = [*up.ontology, *up.shared]
    up.builder.activity_keys(shared_keys)
    shared = pieces(shared_keys, up.builder.table)
    db.execute("BEGIN IMMEDIATE")
    try:
        for p in changed:
            old = db.execute("SELECT pairs, subjects FROM dump_files WHERE path = ?", (p,))
            pairs, subjects = old.fetchone()
            db.executemany(
                "DELETE FROM trig_blocks WHERE graph = ? AND subject = ?",
                [tuple(x) for x in orjson.loads(pairs)],
            )
            db.executemany(
                "DELETE FROM ttl_blocks WHERE subject = ?", [(s,) for s in orjson.loads(subjects)]
            )
        db.executemany(_INSERT_TRIG, [(g, sub, body) for (g, sub), body in new_trig])
        db.executemany(_INSERT_TTL, new_ttl)
        _save_summaries(db, fresh)
    except sqlite3.IntegrityError:
        db.execute("ROLLBACK")
        return None  # two record files write one subject
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    memo.save()
    written = [out / "catalog.trig", out / "catalog.ttl"]
    with atomic_outputs(written, out / MANIFEST) as (trig_out, ttl_out):
        # NotSplittable: a record's subject in the shared graphs; the full path merges
        _write_both(folder, db, shared, up.builder.table, trig_out, ttl_out)
    triples = len(set(shared_keys)) + sum(
        fresh[p][1].quads if p in fresh else n
        for p, n in db.execute("SELECT path, quads FROM dump_files")
    )
    records = sum(len(v[0]) for v in ids_urls.values())
    return Built(written, records, triples, sorted(diagnostics))


def _repeated_urls(
    root: Path,
    up: Any,
    db: sqlite3.Connection,
    memo: HashMemo,
    hashes: dict[str, str],
    ids_urls: dict[str, list[Any]],
    built: dict[str, list[Entry]],
    known: set[str],
) -> list[Diagnostic]:
    """The builder's same-url warnings, from the records whose url key repeats another's."""
    count: dict[str, int] = {}
    for p in hashes:
        for key in ids_urls[p][1]:
            if key is not None:
                count[key] = count.get(key, 0) + 1
    files = [p for p in hashes if any(k is not None and count[k] > 1 for k in ids_urls[p][1])]
    involved: list[Record] = []
    for p in files:
        involved += _records_of(root, db, memo, p, hashes[p], built)
    return duplicate_urls(up.builder, involved, known)


def _records_of(
    root: Path,
    db: sqlite3.Connection,
    memo: HashMemo,
    path: str,
    sha: str,
    built: dict[str, list[Entry]],
) -> list[Record]:
    """The records of one file: built this run, kept in the store, or read again."""
    if path in built:
        return [e.record for e in built[path]]
    found = kept_records(root, db, memo, path, sha)
    if found is None:
        raise NotSplittable(f"{path} changed during the build")
    return found


def _header(fmt: ox.RdfFormat) -> bytes:
    """The prefix lines pyoxigraph starts a serialization with."""
    any_iri = ox.NamedNode("urn:x")
    text = (
        ox.serialize(
            [ox.Quad(any_iri, any_iri, any_iri, any_iri)],
            format=ox.RdfFormat.TRIG,
            prefixes=PREFIXES,
        )
        if fmt == ox.RdfFormat.TRIG
        else ox.serialize([ox.Triple(any_iri, any_iri, any_iri)], format=fmt, prefixes=PREFIXES)
    )
    assert text is not None
    return b"".join(line for line in text.splitlines(keepends=True) if line.startswith(b"@"))


def _graph_lines(graph: str, table: Any) -> tuple[bytes, bytes]:
    """How pyoxigraph opens and closes a graph in TriG."""
    any_iri = ox.NamedNode("urn:x")
    text = ox.serialize(
        [ox.Quad(any_iri, any_iri, any_iri, table.terms[graph])],
        format=ox.RdfFormat.TRIG,
        prefixes=PREFIXES,
    )
    assert text is not None
    lines = [line for line in text.splitlines(keepends=True) if not line.startswith(b"@")]
    if len(lines) != 3:
        raise NotSplittable("unexpected TriG layout")
    return lines[0], lines[2]


def _copy(rows: sqlite3.Cursor, shared: list[tuple[str, bytes]], out: IO[bytes]) -> None:
    """Stored (subject, block) rows, in subject order, with the shared blocks merged in; the
    same subject in both cannot be copied (NotSplittable)."""
    j, n = 0, len(shared)
    while True:
        chunk = rows.fetchmany(4096)
        if not chunk:
            break
        if j < n and shared[j][0] <= chunk[-1][0]:  # shared blocks go among these rows
            parts: list[bytes] = []
            for subject, body in chunk:
                while j < n and shared[j][0] <= subject:
                    if shared[j][0] == subject:
                        raise NotSplittable(
                            f"{subject} is written by a record and the shared graphs"
                        )
                    parts.append(shared[j][1])
                    j += 1
                parts.append(body)
            out.write(b"".join(parts))
        else:
            out.write(b"".join([body for _subject, body in chunk]))
    out.write(b"".join(body for _subject, body in shared[j:]))


def _write_both(
    folder: Path,
    db: sqlite3.Connection,
    shared: Any,
    table: Any,
    trig_out: IO[bytes],
    ttl_out: IO[bytes],
) -> None:
    """Both dumps at once, the Turtle in a second thread on its own connection: reading rows,
    hashing and writing release the GIL, so on two cores the 510 MB of a 100k build take about
    the time of the larger file instead of both (measured in bench/README.md)."""

    def turtle() -> None:
        other = connect(folder)
        try:
            _write_ttl(other, shared.ttl, ttl_out)
        finally:
            other.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        second = pool.submit(turtle)
        try:
            _write_trig(db, shared.trig, table, trig_out)
        finally:
            second.result()  # waits either way; re-raises the Turtle's error after the TriG's


def _write_trig(
    db: sqlite3.Connection,
    shared: list[tuple[tuple[str, str], bytes]],
    table: Any,
    out: IO[bytes],
) -> None:
    out.write(_header(ox.RdfFormat.TRIG))
    stored = [g for (g,) in db.execute("SELECT DISTINCT graph FROM trig_blocks")]
    for graph in sorted({*stored, *(g for (g, _s), _b in shared)}):
        opening, close = _graph_lines(graph, table)
        out.write(opening)
        rows = db.execute(
            "SELECT subject, body FROM trig_blocks WHERE graph = ? ORDER BY subject", (graph,)
        )
        _copy(rows, [(s, body) for (g, s), body in shared if g == graph], out)
        out.write(close)


def _write_ttl(db: sqlite3.Connection, shared: list[tuple[str, bytes]], out: IO[bytes]) -> None:
    out.write(_header(ox.RdfFormat.TURTLE))
    _copy(db.execute("SELECT subject, body FROM ttl_blocks ORDER BY subject"), shared, out)
