"""pySHACL: the run facts (the validation date as data), one pySHACL run and its report read into raw results, and the reference engine (pySHACL once on the whole graph)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.term import Node

from resource_kg.catalog import Catalog
from resource_kg.errors import ValidationError
from resource_kg.graph import XSD
from resource_kg.validate.shapes import Shapes
from resource_kg.validate.terms import SH, SHAPES_NS, RawResult, nt, to_ox, to_rdflib

# ---------------------------------------------------------------- engines


def run_facts(base: str, on: dt.date) -> list[ox.Triple]:
    """The validation date as data: `<{base}validation/report> rkgsh:validationDate on`.

    One fact, on the node of the Turtle validation report, which carries the same triple: a
    release's validation-report.ttl is the settings node any SHACL engine needs beside
    catalog.ttl. The shapes derive the latest year and the review cutoff from it."""
    report = ox.NamedNode(f"{base}validation/report")
    return [ox.Triple(report, ox.NamedNode(SHAPES_NS + "validationDate"), _date(on))]


def _date(day: dt.date) -> ox.Literal:
    return ox.Literal(day.isoformat(), datatype=ox.NamedNode(XSD + "date"))


def read_report(results: rdflib.Graph) -> list[RawResult]:
    """Read pySHACL's report graph into engine-neutral results."""
    sh = rdflib.Namespace(SH)
    out = []
    # Only top-level results: nested ones (sh:detail of an sh:node result) are not findings.
    for r in results.objects(None, sh.result):
        focus = results.value(r, sh.focusNode)
        path = results.value(r, sh.resultPath)
        value = results.value(r, sh.value)
        severity = results.value(r, sh.resultSeverity)
        shape = results.value(r, sh.sourceShape)
        messages = sorted(str(m) for m in results.objects(r, sh.resultMessage))
        out.append(
            RawResult(
                focus=nt(to_ox(focus)) if focus is not None else "",
                path=str(path) if isinstance(path, rdflib.URIRef) else "",
                value=nt(to_ox(value)) if value is not None else "",
                severity=str(severity),
                shape=str(shape),
                message=" ".join(messages),
            )
        )
    return out


def run_pyshacl(
    data: rdflib.Graph, shapes: rdflib.Graph, use_shapes: Sequence[str] | None
) -> list[RawResult]:
    import pyshacl
    from pyshacl.errors import ConstraintLoadError, ReportableRuntimeError, ShapeLoadError

    try:
        _, results, _ = pyshacl.validate(
            data,
            shacl_graph=shapes,
            inference="none",
            advanced=False,
            meta_shacl=False,
            inplace=True,
            use_shapes=list(use_shapes) if use_shapes else None,
        )
    except (ShapeLoadError, ConstraintLoadError) as exc:
        raise ValidationError(f"a shape is not valid SHACL (pyshacl): {exc}") from exc
    except ReportableRuntimeError as exc:
        raise ValidationError(f"pyshacl could not validate: {exc}") from exc
    assert isinstance(results, rdflib.Graph)
    return read_report(results)


def rdflib_graph(triples: Iterable[tuple[Node, Node, Node]]) -> rdflib.Graph:
    g = rdflib.Graph()
    for t in triples:
        g.add(t)
    return g


class Converter:
    """pyoxigraph → rdflib triples, converting each distinct term once."""

    def __init__(self) -> None:
        self.cache: dict[Any, Node] = {}

    def term(self, t: Any) -> Node:
        hit = self.cache.get(t)
        if hit is None:
            hit = self.cache[t] = to_rdflib(t)
        return hit

    def triple(self, q: ox.Quad | ox.Triple) -> tuple[Node, Node, Node]:
        return (self.term(q.subject), self.term(q.predicate), self.term(q.object))


def reference_results(catalog: Catalog, shapes: Shapes, on: dt.date) -> list[RawResult]:
    """pySHACL on the whole graph (all named graphs + the run facts): the reference engine."""
    conv = Converter()
    seen: set[tuple[Node, Node, Node]] = set()
    triples = [conv.triple(q) for q in catalog.quads] + [
        conv.triple(t) for t in run_facts(catalog.settings.base, on)
    ]
    for t in triples:
        seen.add(t)
    return run_pyshacl(rdflib_graph(seen), shapes.graph, None)
