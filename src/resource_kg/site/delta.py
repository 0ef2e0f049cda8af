"""The site model of an edited catalog, made from the previous model and the edited records.

Building the model reads every quad (≈ 17 s at 100k resources); the live preview of `rkg
serve` must show a saved edit within 2 s. When the edit changed records but no record appeared
or vanished (the common case: a curator fixes a title, adds a keyword), only the edited
records' subjects change, and what links to them: `updated_model` copies the previous model's
maps (sharing every unchanged value), regroups the edited records' quads with the same
`model.collect` the full build uses, and splices them into the lists that name them (the
concepts, organizations and resources they link to) at the place a full build puts them. Any
other change returns None: the caller builds the model whole. Tests compare every page and
description of an updated model with a fresh build's.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import TypeVar

import pyoxigraph as ox

from resource_kg.catalog import Catalog
from resource_kg.graph import QuadKey
from resource_kg.site.model import SiteModel, collect, entity_of

V = TypeVar("V")


def _put(mapping: dict[str, V], key: str, value: V | None) -> None:
    """Set or, for None, drop one subject's value (a full build has no key for it then)."""
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value


def _targets(facts: dict[str, list[ox.NamedNode | ox.Literal]] | None) -> set[str]:
    return {
        v.value for values in (facts or {}).values() for v in values if isinstance(v, ox.NamedNode)
    }


def updated_model(
    old: SiteModel, catalog: Catalog, iris: Iterable[str], keys: Iterable[QuadKey]
) -> SiteModel | None:
    """The model of `catalog`, whose resources `iris` now have the quads `keys` (their own and
    their tags'); None when the change is not one this can follow (a page appeared or went)."""
    changed = set(iris)
    table = catalog.quad_table
    found = collect(sorted(set(keys)), table.table.terms, str(catalog.graphs.derived))
    if not changed.issuperset(found.keys_of) or not changed.issuperset(found.facts):
        return None  # quads about another subject: not a plain record edit
    new = SiteModel(catalog, sort_keys=old.sort_keys)
    new.facts, new.labels, new.derived = dict(old.facts), dict(old.labels), dict(old.derived)
    new.tags, new.keys_of, new.entities = dict(old.tags), dict(old.keys_of), dict(old.entities)
    for iri in changed:
        was = old.entities.get(iri)
        if was is None or was.kind != "resource" or iri not in found.facts:
            return None
        _put(new.facts, iri, found.facts.get(iri))
        _put(new.labels, iri, found.labels.get(iri))
        _put(new.derived, iri, found.derived.get(iri))
        _put(new.tags, iri, found.tags.get(iri))
        _put(new.keys_of, iri, found.keys_of.get(iri))
        ent = entity_of(new, iri, found.types.get(iri, set()))
        if ent is None or ent.kind != "resource" or ent.path != was.path:
            return None
        new.entities[iri] = ent
    ordered = sorted(changed)
    touched = _splice_inverse(old, new, ordered)
    touched |= _splice_derived(old, new, ordered)
    new.sections_cache = {k: v for k, v in old.sections_cache.items() if k not in touched}
    return new


def _splice_inverse(old: SiteModel, new: SiteModel, changed: list[str]) -> set[str]:
    """`inverse` of the new model: each linked entity's (predicate, resource) list, in the
    full build's order (resources by IRI, then their predicates in their facts' order)."""
    touched: set[str] = set()
    for iri in changed:
        touched |= _targets(old.facts.get(iri)) | _targets(new.facts.get(iri))
    touched &= new.entities.keys()
    new.inverse = dict(old.inverse)
    for target in touched:
        kept = list(old.inverse.get(target, []))
        for iri in changed:  # each resource's pairs are one run of the list (sorted by IRI)
            lo = bisect.bisect_left(kept, iri, key=lambda pair: pair[1])
            hi = bisect.bisect_right(kept, iri, lo=lo, key=lambda pair: pair[1])
            del kept[lo:hi]
        for iri in changed:
            mine = [
                (p, iri)
                for p, values in new.facts.get(iri, {}).items()
                for v in values
                if isinstance(v, ox.NamedNode) and v.value == target
            ]
            if mine:
                at = bisect.bisect_left(kept, iri, key=lambda pair: pair[1])
                kept[at:at] = mine
        if kept:
            new.inverse[target] = kept
        else:
            new.inverse.pop(target, None)
    return touched


def _splice_derived(old: SiteModel, new: SiteModel, changed: list[str]) -> set[str]:
    """`inverse_derived`: each population's resources, in the derived graph's subject order
    (N-Triples keys, `<iri>`), as the full build lists them."""
    gone = set(changed)
    touched = {p for iri in changed for p in (*old.derived.get(iri, []), *new.derived.get(iri, []))}
    new.inverse_derived = dict(old.inverse_derived)
    for pop in touched:
        kept = [iri for iri in old.inverse_derived.get(pop, []) if iri not in gone]
        for iri in sorted(changed, key=lambda x: f"<{x}>"):
            if pop in new.derived.get(iri, []):
                at = bisect.bisect_left(kept, f"<{iri}>", key=lambda x: f"<{x}>")
                kept.insert(at, iri)
        if kept:
            new.inverse_derived[pop] = kept
        else:
            new.inverse_derived.pop(pop, None)
    return touched
