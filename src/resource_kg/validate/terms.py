"""RDF terms as the validation engines and the mapping share them: pyoxigraph ↔ rdflib, N-Triples keys, CURIEs, and the engine-neutral raw SHACL result."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from rdflib.term import Node

from resource_kg.errors import ValidationError
from resource_kg.graph import PREFIXES
from resource_kg.terms import OxTerm, ox_to_rdflib, rdflib_to_ox

SH = "http://www.w3.org/ns/shacl#"


SHAPES_NS = "https://w3id.org/resource-kg/shapes#"


RESOURCE_CLASS = "https://w3id.org/resource-kg/ontology#Resource"


@dataclass(frozen=True)
class RawResult:
    """A SHACL result before mapping, identical whichever engine produced it."""

    focus: str
    path: str
    value: str  # N-Triples form of the value node, '' when the result has none
    severity: str
    shape: str
    message: str

    def to_json(self) -> list[str]:
        return [self.focus, self.path, self.value, self.severity, self.shape, self.message]


# ---------------------------------------------------------------- terms


def to_rdflib(term: Any) -> Node:
    """A pyoxigraph term as the rdflib term pySHACL expects (no text parsing on the way)."""
    found = ox_to_rdflib(term)
    if found is None:
        raise ValidationError(f"cannot validate RDF term {term!r}")
    return found


def to_ox(term: Node) -> OxTerm:
    found = rdflib_to_ox(term)
    if found is None:
        raise ValidationError(f"cannot read RDF term {term!r}")
    return found


def nt(term: Any) -> str:
    return "" if term is None else str(term)


def term_text(term: Any) -> str:
    """The text a term shows a person: a literal's lexical form, an IRI as a CURIE."""
    if isinstance(term, ox.Literal):
        return term.value
    if isinstance(term, ox.NamedNode):
        return curie(term.value)
    return nt(term)


_BY_LENGTH = sorted(PREFIXES.items(), key=lambda kv: -len(kv[1]))


@functools.lru_cache(maxsize=4096)
def curie(iri: str) -> str:
    for prefix, ns in _BY_LENGTH:
        if iri.startswith(ns) and iri != ns:
            return f"{prefix}:{iri[len(ns) :]}"
    if iri.startswith(SHAPES_NS):
        return f"rkgsh:{iri[len(SHAPES_NS) :]}"
    return iri


@functools.lru_cache(maxsize=65536)
def parse_term(nt: str) -> ox.NamedNode | ox.BlankNode | ox.Literal | None:
    if not nt:
        return None
    if nt[0] == "<" and nt[-1] == ">":
        return ox.NamedNode(nt[1:-1])
    triple = next(iter(ox.parse(f"<urn:s> <urn:p> {nt} .", format=ox.RdfFormat.N_TRIPLES)))
    obj = triple.object
    assert isinstance(obj, ox.NamedNode | ox.BlankNode | ox.Literal)
    return obj
