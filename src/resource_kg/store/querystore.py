"""The on-disk query store: a pyoxigraph store of the catalog's four graphs that follows edits.

`rkg query` opens it read-only in a fraction of a second instead of loading the catalog into
memory. It is kept in step with the records per record: the database lists which record (and
which hash of its quads) the store holds, and which record files (by content hash) it was
made from. An edit removes the old quads of exactly the records whose hash changed (every quad
of a record has the record or one of its tag nodes as subject) and adds their new ones. A
change of the build context (code, vocabularies, ontology, organizations, settings, year)
rebuilds it whole.

A store written by `sync(catalog)` remembers it by a token (a random value in the database,
replaced by every write of the store, and kept on the catalog object): `sync(new, previous)`
with the catalog the store was last synced to then replaces the records that differ between
the two catalogs (`changed_records`: entries lent by the previous load are the same objects)
instead of comparing every record with the database; a store anyone wrote since has another
token, and is compared record by record.

`refresh(root)` is the cheap way in: it hashes the record files and, when few changed and no
record id appeared or vanished, rebuilds just those files' records, without decoding the rest
of the catalog; anything else goes through the full incremental load (`sync`).
"""

from __future__ import annotations

import contextlib
import os
import queue
import secrets
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pyoxigraph as ox

from resource_kg.catalog import Catalog
from resource_kg.graph import PROV, QuadKey, TermTable, resource_iri
from resource_kg.store.entries import Entry, build_entry, decode_entries, encode_entries
from resource_kg.store.fingerprint import HashMemo, files_digest
from resource_kg.store.incremental import (
    Setup,
    SortedOnUse,
    StoredCatalog,
    load,
    setup,
)
from resource_kg.store.reading import scan_hashes
from resource_kg.store.scanning import read_file_bytes, read_records_of
from resource_kg.store.state import connect, gc_paused, get_meta, locked, set_meta
from resource_kg.tagging import Tagger

STORE_FOLDER = "oxigraph"
#: Quads a bulk-load chunk holds (see `load_keys`).
LOAD_CHUNK = 100_000
#: Above this many changed record files the full incremental load is as quick.
QUICK_LIMIT = 2000
_DERIVED_FROM = ox.NamedNode(PROV + "wasDerivedFrom")


def record_subjects(store: ox.Store, base: str, rid: str) -> list[ox.NamedNode]:
    """A record's IRI and its tag nodes: the subjects of every quad the record adds."""
    iri = ox.NamedNode(resource_iri(base, rid))
    tags = {
        q.subject
        for q in store.quads_for_pattern(None, _DERIVED_FROM, iri, None)
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(iri.value + "/tag/")
    }
    return [iri, *sorted(tags, key=lambda n: n.value)]


def _apply(
    db: sqlite3.Connection,
    target: Path,
    base: str,
    stale: Iterable[str],
    fresh: dict[str, Entry],
    table: TermTable,
) -> None:
    """Replace the quads of `stale` records by those of `fresh` entries in the on-disk store.

    The caller then records the new state in one transaction; until then the store is marked
    unclean, so a run killed in between rebuilds it instead of trusting it."""
    set_meta(db, "store_clean", "")  # autocommit: from here on a kill means "rebuild"
    store = ox.Store(str(target))
    for rid in stale:
        for subject in record_subjects(store, base, rid):
            for quad in list(store.quads_for_pattern(subject, None, None, None)):
                store.remove(quad)
    store.extend(table.quad(k) for e in fresh.values() for k in (*e.keys, *e.derived))
    store.flush()
    del store


def _record_state(
    db: sqlite3.Connection,
    stale: Iterable[str],
    fresh: dict[str, Entry],
    context: str,
    files: str,
) -> str:
    """Record what the store now holds; the store's new token."""
    db.executemany("DELETE FROM store_records WHERE id = ?", [(r,) for r in stale])
    db.executemany(
        "INSERT OR REPLACE INTO store_records (id, digest) VALUES (?, ?)",
        [(rid, e.quads_digest) for rid, e in sorted(fresh.items())],
    )
    set_meta(db, "store_files", files)
    set_meta(db, "store_clean", context)
    token = secrets.token_hex(16)
    set_meta(db, "store_token", token)
    return token


def changed_records(old: Catalog, new: Catalog) -> tuple[list[str], list[str]] | None:
    """(records to remove, records to add) between two loads; None when more than records
    changed (the build context, or a catalog not loaded through the store)."""
    old_entries = getattr(old, "entries", None)
    new_entries = getattr(new, "entries", None)
    if old_entries is None or new_entries is None:
        return None
    if getattr(old, "build_context", None) != getattr(new, "build_context", None):
        return None
    stale: list[str] = []
    fresh: list[str] = []
    for rid, entry in new_entries.items():
        was = old_entries.get(rid)
        if was is entry:
            continue  # lent by the version before: the same quads (most of them)
        if was is None:
            fresh.append(rid)
        elif was.quads_digest != entry.quads_digest:
            stale.append(rid)
            fresh.append(rid)
    stale += [rid for rid in old_entries if rid not in new_entries]
    return sorted(stale), sorted(fresh)


def sync(
    catalog: StoredCatalog, previous: StoredCatalog | None = None, rebuild: Rebuild | None = None
) -> tuple[Path, str]:
    """Bring the on-disk store in step with `catalog`; returns its folder and what was done.

    `previous`: the catalog this process last synced the store to, if any (see the module
    docstring); only trusted while the store's token is still the one that sync left.
    The caller holds the catalog's lock."""
    folder = catalog.state_folder
    target = folder / STORE_FOLDER
    files = files_digest(list(catalog.file_hashes.items()))
    db = connect(folder)
    try:
        clean = get_meta(db, "store_clean") == catalog.build_context and target.is_dir()
        if not clean:
            if rebuild is not None:  # fed while the catalog loaded
                catalog.store_token = rebuild.finish(db, catalog, files)
            else:
                catalog.store_token = _rebuild(db, catalog, target, files)
            return target, "built"
        token = get_meta(db, "store_token")
        delta = None
        if previous is not None and token and previous.store_token == token:
            delta = changed_records(previous, catalog)
        if delta is not None:
            stale = delta[0]
            fresh = {rid: catalog.entries[rid] for rid in delta[1]}
        else:
            current = {rid: e.quads_digest for rid, e in catalog.entries.items()}
            held = dict(db.execute("SELECT id, digest FROM store_records").fetchall())
            stale = sorted(rid for rid, d in held.items() if current.get(rid) != d)
            fresh = {rid: catalog.entries[rid] for rid, d in current.items() if held.get(rid) != d}
        if not stale and not fresh:
            if get_meta(db, "store_files") != files:
                set_meta(db, "store_files", files)
            catalog.store_token = token
            return target, "unchanged"
        _apply(db, target, catalog.settings.base, stale, fresh, catalog.quad_table.table)
        db.execute("BEGIN IMMEDIATE")
        catalog.store_token = _record_state(db, stale, fresh, catalog.build_context, files)
        db.execute("COMMIT")
        return target, f"updated {len(set(stale) | set(fresh))} record(s)"
    finally:
        db.close()


def _rebuild(db: sqlite3.Connection, catalog: StoredCatalog, target: Path, files: str) -> str:
    with Rebuild(target) as rebuild:
        return rebuild.finish(db, catalog, files)


class Rebuild:
    """A new query store written beside the old one, then swapped in.

    The full refresh of a catalog with no usable store starts it before the catalog loads and
    lets it `follow` the catalog's list of quads as records are built
    (`incremental.load(sink=...)`): pyoxigraph's bulk loader works with the GIL released, so
    at 100k resources its 40 s overlap the building of the records instead of following it.
    `finish` loads what is left, so the store holds the catalog's quads however much was fed
    before. The store is marked unclean first and the new one is written to a temporary
    folder: a run killed at any point leaves no store or one marked for rebuilding."""

    def __init__(self, target: Path) -> None:
        db = connect(target.parent)
        try:
            set_meta(db, "store_clean", "")
        finally:
            db.close()
        shutil.rmtree(target, ignore_errors=True)
        self.target = target
        self.tmp = target.with_name(STORE_FOLDER + ".tmp")
        self.followed: Sequence[QuadKey] | None = None
        self.fed = 0
        self._start()

    def _start(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.store: ox.Store | None = ox.Store(str(self.tmp))
        self.loader: BulkLoader | None = BulkLoader(self.store)

    def follow(self, keys: Sequence[QuadKey]) -> None:
        """Load the keys of a list that only grows, a full chunk at a time as it grows."""
        assert self.loader is not None
        if self.followed is not keys:
            if self.followed is not None:
                raise ValueError("a rebuild follows one list of keys")
            self.followed = keys
        while len(keys) - self.fed >= LOAD_CHUNK:
            self.loader.add(keys[self.fed : self.fed + LOAD_CHUNK])
            self.fed += LOAD_CHUNK

    def finish(self, db: sqlite3.Connection, catalog: StoredCatalog, files: str) -> str:
        """Load the rest, swap the new store in and record that it holds `catalog`; the
        store's token. The list followed must be the catalog's quads (in any order): when
        its length is not theirs, the store is made again from the catalog's own list."""
        keys = _all_keys(catalog)
        if self.followed is not None and len(self.followed) != len(keys):
            self._abandon()
            self._start()
            self.followed, self.fed = keys, 0
        self.followed = self.followed or keys
        assert self.loader is not None and self.store is not None
        for start in range(self.fed, len(self.followed), LOAD_CHUNK):
            self.loader.add(self.followed[start : start + LOAD_CHUNK])
        loader, self.loader = self.loader, None
        loader.close()
        self.store.flush()
        # The bulk loader leaves many overlapping files, each read by every lookup; compacted
        # once (8 s at 100k resources), the stored questions run about twice as fast.
        self.store.optimize()
        self.store = None
        self.tmp.rename(self.target)
        db.execute("BEGIN IMMEDIATE")
        db.execute("DELETE FROM store_records")
        token = _record_state(db, [], catalog.entries, catalog.build_context, files)
        db.execute("COMMIT")
        return token

    def _abandon(self) -> None:
        if self.loader is not None:
            with contextlib.suppress(Exception):
                self.loader.close()
        self.loader = self.store = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> Rebuild:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.loader is not None:  # not finished: stop the loader, drop the half store
            self._abandon()


def _all_keys(catalog: StoredCatalog) -> Sequence[QuadKey]:
    table = catalog.quad_table
    return table.any_order() if isinstance(table, SortedOnUse) else table.keys


class BulkLoader:
    """Quads given as keys (N-Triples terms) bulk-loaded into a store by a thread, a piece at
    a time.

    One `bulk_extend` of every quad held about 1.3 GB of loader buffers at 100k resources
    (3.9M quads) on top of the loaded catalog, and made a pyoxigraph object per term. Here
    each piece of keys is joined into N-Quads text (they already are N-Triples terms) and
    loaded by a thread while the caller goes on: pyoxigraph parses and writes with the GIL
    released, so the two overlap; the loader holds one piece's buffers. The text is parsed
    strictly, as the terms were. A failure in the thread is raised in the caller, by the
    next `add` or by `close`."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store
        self.chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=1)
        self.failed: list[BaseException] = []
        self.thread = threading.Thread(target=self._work, name="rkg-store-load", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        try:
            while (data := self.chunks.get()) is not None:
                self.store.bulk_load(data, ox.RdfFormat.N_QUADS)
        except BaseException as exc:  # re-raised in the caller's thread
            self.failed.append(exc)
            while self.chunks.get() is not None:  # let the producer finish its puts
                pass

    def add(self, keys: Sequence[QuadKey]) -> None:
        if self.failed:
            self.close()
        self.chunks.put("".join(f"{s} {p} {o} {g} .\n" for g, s, p, o in keys).encode())

    def close(self) -> None:
        """Wait for every piece to be loaded; raise what the thread failed with."""
        if self.thread.is_alive():
            self.chunks.put(None)
            self.thread.join()
        if self.failed:
            raise self.failed[0]


def load_keys(store: ox.Store, keys: Sequence[QuadKey], chunk: int = LOAD_CHUNK) -> None:
    """Bulk-load quads given as keys into `store`, `chunk` at a time (see `BulkLoader`)."""
    loader = BulkLoader(store)
    try:
        for start in range(0, len(keys), chunk):
            loader.add(keys[start : start + chunk])
    finally:
        loader.close()


def refresh(root: Path | str) -> tuple[Path, str]:
    """The store folder, current: the quick path for a few edited files, else the full load
    (which feeds a new store as it goes when there is no usable one)."""
    root = Path(root)
    # The collector stays paused from the load through the store's update: resumed in
    # between, it walked the millions of objects just loaded (4 s at 100k resources).
    with locked(root) as folder, gc_paused():
        up = setup(root, None)
        if not _is_clean(folder, up.context):
            with Rebuild(folder / STORE_FOLDER) as rebuild:
                return sync(load(root, sink=rebuild.follow), rebuild=rebuild)
        done = _quick(root, folder, up)
        if done is not None:
            return folder / STORE_FOLDER, done
        return sync(load(root))


def _is_clean(folder: Path, context: str) -> bool:
    """Whether the store holds a state of the catalog made under this build context."""
    db = connect(folder)
    try:
        return get_meta(db, "store_clean") == context and (folder / STORE_FOLDER).is_dir()
    finally:
        db.close()


def _quick(root: Path, folder: Path, up: Setup) -> str | None:
    """Update the store from the changed record files alone, or None when that is not safe."""
    target = folder / STORE_FOLDER
    db = connect(folder)
    try:
        if get_meta(db, "build_context") != up.context:
            return None  # before any file is read: the full load reads them all anyway
        memo = HashMemo(db)
        hashes, read = scan_hashes(root, up.paths, memo)
        digest = files_digest(list(hashes.items()))
        if get_meta(db, "store_files") == digest:
            memo.save()
            return "unchanged"
        old = dict(db.execute("SELECT path, sha FROM files").fetchall())
        if get_meta(db, "store_files") != files_digest(list(old.items())):
            return None  # the store was made from another state of the files table
        changed = sorted(p for p, sha in hashes.items() if old.get(p) != sha)
        removed = sorted(p for p in old if p not in hashes)
        if len(changed) + len(removed) > QUICK_LIMIT:
            return None
        pool: dict[str, str] = {}
        old_ids: list[str] = []
        for path in [*changed, *removed]:
            if path in old:
                (text,) = db.execute("SELECT entries FROM files WHERE path = ?", (path,)).fetchone()
                old_ids += [e.record.id for e in decode_entries(text, path, pool)]
        for p in changed:
            if p not in read:  # its recorded hash is vouched for, but differs from the entry's
                hashes[p], read[p] = read_file_bytes(memo, os.path.join(root, p), p)
        digest = files_digest(list(hashes.items()))
        records = [r for p in changed for r in read_records_of(root, p, read[p])]
        if sorted(old_ids) != sorted(r.id for r in records):
            return None  # ids appeared or vanished: replaced_by and duplicates need every record
        known = {rid for (rid,) in db.execute("SELECT id FROM store_records")}
        tagger = Tagger(up.lexicon)
        fresh = {r.id: build_entry(up.builder, tagger, r, known) for r in records}
        per_file: dict[str, list[Entry]] = {p: [] for p in changed}
        for record in records:
            per_file[record.file].append(fresh[record.id])
        _apply(db, target, up.settings.base, old_ids, fresh, up.builder.table)
        db.execute("BEGIN IMMEDIATE")
        db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in removed])
        db.executemany(
            "INSERT OR REPLACE INTO files (path, sha, entries) VALUES (?, ?, ?)",
            [(p, hashes[p], encode_entries(per_file[p])) for p in changed],
        )
        _record_state(db, old_ids, fresh, up.context, digest)
        db.execute("COMMIT")
        memo.save()
        return f"updated {len(fresh)} record(s) from {len(changed) + len(removed)} file(s)"
    finally:
        db.close()


@contextlib.contextmanager
def open_store(root: Path | str) -> Iterator[ox.Store]:
    """The catalog's query store, read-only and current, held under the catalog's lock."""
    with locked(root):
        target, _done = refresh(root)
        store = ox.Store.read_only(str(target))
        try:
            yield store
        finally:
            del store
