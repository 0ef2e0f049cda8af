"""How the served store follows the records: which records changed between two versions, and
the quads that turn the one store into the other (sent to the query workers as well)."""

from __future__ import annotations

import pyoxigraph as ox

from resource_kg.catalog import Catalog
from resource_kg.store.querystore import record_subjects
from resource_kg.web.pool import FORK_LOCK, StoreChange


def changed_records(old: Catalog, new: Catalog) -> tuple[list[str], list[str]] | None:
    """(records to remove, records to add) between two loads; None: rebuild the whole store
    (the build context changed, or a catalog was not loaded through the store)."""
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


def update_store(
    store: ox.Store, catalog: Catalog, stale: list[str], fresh: list[str]
) -> StoreChange:
    """Replace the quads of the changed records in `store` (as the query store's sync does);
    the change made, for the query workers to make to their copies."""
    entries = getattr(catalog, "entries", {})
    base = catalog.settings.base
    table = catalog.quad_table.table
    with FORK_LOCK:
        removed = [
            quad
            for rid in stale
            for subject in record_subjects(store, base, rid)
            for quad in store.quads_for_pattern(subject, None, None, None)
        ]
        added = [
            table.quad(key) for rid in fresh for key in (*entries[rid].keys, *entries[rid].derived)
        ]
        change = StoreChange(tuple(removed), tuple(added))
        change.apply(store)
    return change
