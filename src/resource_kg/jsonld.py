"""Compact JSON-LD written directly from sorted triples, shared by the dumps and the site pages.

pyld's compaction is far too slow for millions of triples, and pyoxigraph writes expanded
JSON-LD only. A context made of prefixes alone lets us write the compact form ourselves:
keys and types as CURIEs, every value as a list of value objects, so that expansion gives
back exactly the triples written (no type coercion that could change a value).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import groupby
from typing import Any

import pyoxigraph as ox

from resource_kg.config import CONCEPT_BASE
from resource_kg.graph import PREFIXES

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


class Compactor:
    """Turns IRIs into CURIEs of a fixed prefix map (longest namespace first)."""

    def __init__(self, prefixes: dict[str, str]) -> None:
        self.prefixes = dict(sorted(prefixes.items()))
        self._ordered = sorted(prefixes.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        self._cache: dict[str, str] = {}

    def context(self) -> dict[str, Any]:
        return {"@context": self.prefixes}

    def iri(self, iri: str) -> str:
        short = self._cache.get(iri)
        if short is None:
            short = self._cache[iri] = self._compact(iri)
        return short

    def _compact(self, iri: str) -> str:
        for prefix, ns in self._ordered:
            if iri.startswith(ns):
                local = iri[len(ns) :]
                # A suffix starting with '//' would be read as an absolute IRI; keep it full.
                if local and not local.startswith("//"):
                    return f"{prefix}:{local}"
        return iri

    def term(self, term: ox.NamedNode | ox.BlankNode | ox.Literal | Any) -> Any:
        if isinstance(term, ox.NamedNode):
            return {"@id": self.iri(term.value)}
        if isinstance(term, ox.BlankNode):
            return {"@id": f"_:{term.value}"}
        if isinstance(term, ox.Literal):
            if term.language:
                return {"@value": term.value, "@language": term.language}
            if term.datatype.value == XSD_STRING:
                return term.value
            return {"@value": term.value, "@type": self.iri(term.datatype.value)}
        raise TypeError(f"cannot write {term!r} as JSON-LD")

    def node(
        self, subject: ox.NamedNode | ox.BlankNode, triples: Iterable[ox.Triple]
    ) -> dict[str, Any]:
        """One node object: '@id', '@type', then properties in the order of the triples."""
        sid = self.term(subject)["@id"]
        node: dict[str, Any] = {"@id": sid}
        types: list[str] = []
        props: dict[str, list[Any]] = {}
        for t in triples:
            if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode):
                types.append(self.iri(t.object.value))
            else:
                props.setdefault(self.iri(t.predicate.value), []).append(self.term(t.object))
        if types:
            node["@type"] = types
        node.update(props)
        return node

    def nodes(self, triples: Iterable[ox.Triple]) -> Iterator[dict[str, Any]]:
        """Node objects of triples sorted by subject (as `Catalog.triples()` returns them)."""
        for subject, group in groupby(triples, key=lambda t: t.subject):
            assert isinstance(subject, ox.NamedNode | ox.BlankNode)
            yield self.node(subject, group)


def dumps(value: Any) -> str:
    """Deterministic JSON text: insertion order kept, UTF-8 characters as they are."""
    return json.dumps(value, ensure_ascii=False, indent=None, separators=(",", ":"))


def document(compactor: Compactor, triples: Iterable[ox.Triple], context: Any) -> str:
    """A JSON-LD document, one node object per line so that a diff stays readable."""
    lines = [dumps(node) for node in compactor.nodes(triples)]
    head = '{"@context":' + dumps(context) + ',\n"@graph":[\n'
    return head + ",\n".join(lines) + "\n]}\n"


def catalog_prefixes(base: str) -> dict[str, str]:
    """The context of the dumps and entity files: usual prefixes plus the catalog's IRI spaces."""
    return {
        **PREFIXES,
        "resource": f"{base}resource/",
        "org": f"{base}org/",
        "concept": CONCEPT_BASE,
    }
