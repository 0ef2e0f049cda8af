"""Which records changed between two versions the live preview loaded: what the site model
follows record by record (the query store itself decides by content: `querystore.sync`)."""

from __future__ import annotations

from resource_kg.catalog import Catalog


def changed_records(old: Catalog, new: Catalog) -> tuple[list[str], list[str]] | None:
    """(records to remove, records to add) between two loads; None: more than records changed
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
