"""The on-disk query store: a pyoxigraph store of the catalog's four graphs that follows edits.

`rkg query` opens it read-only in a fraction of a second instead of loading the catalog into
memory. It is kept in step with the records per record: the database lists which record (and
which hash of its quads) the store holds; an edit removes the old quads of exactly the records
whose hash changed (every quad of a record has the record or one of its tag nodes as subject)
and adds their new ones. A change of the build context (code, vocabularies, ontology,
organizations, settings, year) rebuilds it whole.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

from resource_kg.graph import PROV, resource_iri
from resource_kg.store.incremental import StoredCatalog, _SortedOnUse
from resource_kg.store.state import connect, get_meta, locked, set_meta

STORE_FOLDER = "oxigraph"
_DERIVED_FROM = ox.NamedNode(PROV + "wasDerivedFrom")


def _record_subjects(store: ox.Store, base: str, rid: str) -> list[ox.NamedNode]:
    """A record's IRI and its tag nodes: the subjects of every quad the record adds."""
    iri = ox.NamedNode(resource_iri(base, rid))
    tags = {
        q.subject
        for q in store.quads_for_pattern(None, _DERIVED_FROM, iri, None)
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(iri.value + "/tag/")
    }
    return [iri, *sorted(tags, key=lambda n: n.value)]


def sync(catalog: StoredCatalog) -> tuple[Path, str]:
    """Bring the on-disk store in step with `catalog`; returns its folder and what was done.

    The caller holds the catalog's lock. The database's `store_clean` mark names the context
    the store was last completely written for; it is removed before the store is touched and
    written back after the store is flushed, in the same transaction as the record list."""
    folder = catalog.state_folder
    target = folder / STORE_FOLDER
    db = connect(folder)
    try:
        current = {rid: e.quads_digest for rid, e in catalog.entries.items()}
        clean = get_meta(db, "store_clean") == catalog.build_context and target.is_dir()
        if not clean:
            _rebuild(db, catalog, target, current)
            return target, "built"
        held = dict(db.execute("SELECT id, digest FROM store_records").fetchall())
        stale = sorted(rid for rid, d in held.items() if current.get(rid) != d)
        fresh = sorted(rid for rid, d in current.items() if held.get(rid) != d)
        if not stale and not fresh:
            return target, "unchanged"
        set_meta(db, "store_clean", "")  # autocommit: from here on a kill means "rebuild"
        store = ox.Store(str(target))
        base = catalog.settings.base
        for rid in stale:
            for subject in _record_subjects(store, base, rid):
                for quad in list(store.quads_for_pattern(subject, None, None, None)):
                    store.remove(quad)
        table = catalog.quad_table.table
        store.extend(
            table.quad(key)
            for rid in fresh
            for key in (*catalog.entries[rid].keys, *catalog.entries[rid].derived)
        )
        store.flush()
        del store
        db.execute("BEGIN IMMEDIATE")
        db.executemany("DELETE FROM store_records WHERE id = ?", [(r,) for r in stale])
        db.executemany(
            "INSERT OR REPLACE INTO store_records (id, digest) VALUES (?, ?)",
            [(r, current[r]) for r in fresh],
        )
        set_meta(db, "store_clean", catalog.build_context)
        db.execute("COMMIT")
        return target, f"updated {len(set(stale) | set(fresh))} record(s)"
    finally:
        db.close()


def _rebuild(
    db: sqlite3.Connection, catalog: StoredCatalog, target: Path, current: dict[str, str]
) -> None:
    set_meta(db, "store_clean", "")
    shutil.rmtree(target, ignore_errors=True)
    tmp = target.with_name(STORE_FOLDER + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    store = ox.Store(str(tmp))
    store.bulk_extend(_all_quads(catalog))
    store.flush()
    del store
    tmp.rename(target)
    db.execute("BEGIN IMMEDIATE")
    db.execute("DELETE FROM store_records")
    db.executemany("INSERT INTO store_records (id, digest) VALUES (?, ?)", sorted(current.items()))
    set_meta(db, "store_clean", catalog.build_context)
    db.execute("COMMIT")


def _all_quads(catalog: StoredCatalog) -> Iterator[ox.Quad]:
    table = catalog.quad_table
    keys = table.any_order() if isinstance(table, _SortedOnUse) else table.keys
    return table.iter_quads(keys)


@contextlib.contextmanager
def open_store(root: Path | str, catalog: StoredCatalog | None = None) -> Iterator[ox.Store]:
    """The catalog's query store, read-only and current, held under the catalog's lock."""
    from resource_kg.store.incremental import load

    with locked(root):
        catalog = catalog if catalog is not None else load(root)
        target, _done = sync(catalog)
        store = ox.Store.read_only(str(target))
        try:
            yield store
        finally:
            del store
