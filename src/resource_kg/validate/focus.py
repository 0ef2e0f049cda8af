"""Focus nodes of the shapes, computed from the quad keys as pySHACL finds them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from resource_kg.catalog import Catalog
from resource_kg.graph import RDF, QuadKey
from resource_kg.validate.parts import parts_of
from resource_kg.validate.shapes import Shapes, SparqlCheck


def owners(shapes: Shapes, check: SparqlCheck) -> list[str]:
    return [check.shape] if check.node_shape else shapes.parents.get(check.shape, [])


def focus_from_keys(shapes: Shapes, keys: Iterable[QuadKey]) -> dict[str, set[str]]:
    """Focus nodes (N-Triples) of every node shape with targets, as pySHACL finds them:
    sh:targetClass includes instances of subclasses (rdfs:subClassOf*, over all graphs)."""
    rdf_type, sub_class = f"<{RDF}type>", "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"
    by_predicate = {
        f"<{iri}>"
        for targets in shapes.targets.values()
        for kind, iri in targets
        if kind in ("targetSubjectsOf", "targetObjectsOf")
    }
    instances: dict[str, set[str]] = defaultdict(set)
    parents: dict[str, set[str]] = defaultdict(set)
    subjects: dict[str, set[str]] = defaultdict(set)
    objects: dict[str, set[str]] = defaultdict(set)
    wanted = by_predicate | {rdf_type, sub_class}
    for _g, s, p, o in keys:
        if p not in wanted:  # most triples: one set lookup each (3.9M at 100k resources)
            continue
        if p == rdf_type:
            instances[o].add(s)
        elif p == sub_class:
            parents[o].add(s)  # o is a superclass of s
        if p in by_predicate:
            subjects[p].add(s)
            objects[p].add(o)
    out: dict[str, set[str]] = {}
    for shape, targets in shapes.targets.items():
        nodes: set[str] = set()
        for kind, iri in targets:
            key = f"<{iri}>"
            if kind == "targetNode":
                nodes.add(key)
            elif kind == "targetClass":
                seen, todo = {key}, [key]
                while todo:
                    for sub in parents.get(todo.pop(), ()):
                        if sub not in seen:
                            seen.add(sub)
                            todo.append(sub)
                for cls in seen:
                    nodes |= instances.get(cls, set())
            elif kind == "targetSubjectsOf":
                nodes |= subjects.get(key, set())
            elif kind == "targetObjectsOf":
                nodes |= objects.get(key, set())
        out[shape] = nodes
    return out


def focus_nodes(
    catalog: Catalog, shapes: Shapes, store: ox.Store | None = None
) -> dict[str, set[str]]:
    """Focus nodes (N-Triples) of every node shape with targets."""
    return focus_from_keys(shapes, parts_of(catalog).every)
