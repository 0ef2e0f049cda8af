"""The catalog's quad keys split the way the fast engine uses them: per record, shared, reference."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field

from resource_kg.catalog import Catalog
from resource_kg.graph import QuadKey, resource_iri


@dataclass
class Parts:
    """The catalog's quad keys (see `graph.QuadKey`) as the fast engine uses them.

    `Catalog` holds keys, not pyoxigraph objects; working on keys keeps the fast engine from
    making 3.9M objects at 100k resources. `store.incremental.load` hands these over ready-made.
    """

    per_record: dict[str, list[QuadKey]]  # record id → keys whose subject is the record
    shared: list[QuadKey]  # vocabularies + organizations: what record shapes look up
    reference: list[QuadKey]  # ontology + shared: what shapes of concepts and terms see
    every: Sequence[QuadKey]  # all keys, in any order (duplicates allowed)
    digests: dict[str, str] = dc_field(default_factory=dict)  # record id → record_digest

    def digest(self, rid: str) -> str:
        found = self.digests.get(rid)
        if found is None:
            found = self.digests[rid] = record_digest(self.per_record[rid])
        return found


def parts_of(catalog: Catalog) -> Parts:
    """Split the catalog's keys per record (or take the split `store.incremental` made while loading)."""
    ready = getattr(catalog, "validation_parts", None)
    if isinstance(ready, Parts):
        return ready
    base = catalog.settings.base
    iri_to_id = {f"<{resource_iri(base, r.id)}>": r.id for r in catalog.records}
    per_record: dict[str, list[QuadKey]] = {r.id: [] for r in catalog.records}
    shared: list[QuadKey] = []
    reference: list[QuadKey] = []
    g = catalog.graphs
    shared_graphs = {str(g.vocabularies), str(g.catalog)}
    ontology = str(g.ontology)
    keys = catalog.quad_table.keys
    for key in keys:
        rid = iri_to_id.get(key[1])
        if rid is not None:
            per_record[rid].append(key)
        elif key[0] in shared_graphs:
            shared.append(key)
            reference.append(key)
        elif key[0] == ontology:
            reference.append(key)
    return Parts(per_record, shared, reference, keys)


def record_digest(keys: Iterable[QuadKey]) -> str:
    """Content hash of a record's triples (graph names left out), the incremental cache key."""
    lines = sorted({f"{s} {p} {o}" for _g, s, p, o in keys})
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
