"""Compact JSON-LD written directly from sorted triples, shared by the dumps and the site pages.

pyld's compaction is far too slow for millions of triples, and pyoxigraph writes expanded
JSON-LD only. A context made of prefixes alone lets us write the compact form ourselves:
keys and types as CURIEs, every value as a list of value objects, so that expansion gives
back exactly the triples written (no type coercion that could change a value).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from itertools import groupby
from operator import itemgetter
from typing import IO, Any

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
    return _head(context) + ",\n".join(lines) + "\n]}\n"


class KeyWriter:
    """Writes the node lines of `document` from sorted triple keys (N-Triples term strings).

    Same bytes as `document`, but without a pyoxigraph object per triple or a dict per node:
    the JSON text of each distinct term is made once and the nodes are assembled as text,
    exactly as `json.dumps` with `dumps`' separators would write them.
    """

    def __init__(self, compactor: Compactor, terms: Mapping[str, Any]) -> None:
        self.compactor = compactor
        self.terms = terms
        self._type_key = f"<{RDF_TYPE}>"
        self._values: dict[str, str] = {}
        self._keys: dict[str, str] = {}
        self._types: dict[str, str] = {}

    def _value(self, key: str) -> str:
        text = self._values.get(key)
        if text is None:
            text = self._values[key] = dumps(self.compactor.term(self.terms[key]))
        return text

    def _key(self, key: str) -> str:
        text = self._keys.get(key)
        if text is None:
            text = self._keys[key] = dumps(self.compactor.iri(self.terms[key].value))
        return text

    def _type(self, key: str) -> str:
        text = self._types.get(key)
        if text is None:
            text = self._types[key] = dumps(self.compactor.iri(self.terms[key].value))
        return text

    def lines(self, keys: Iterable[tuple[str, str, str]]) -> Iterator[str]:
        """One compact node object per subject, in the order of the (sorted) keys."""
        type_key = self._type_key
        value, pkey, tkey = self._value, self._key, self._type
        for subject, group in groupby(keys, key=itemgetter(0)):
            types: list[str] = []
            props: dict[str, list[str]] = {}
            for _, p, o in group:
                if p == type_key and o[0] == "<":
                    types.append(tkey(o))
                else:
                    vals = props.get(p)
                    if vals is None:
                        vals = props[p] = []
                    vals.append(value(o))
            sid = self.compactor.term(self.terms[subject])["@id"]
            items = ['"@id":' + dumps(sid)]
            if types:
                items.append('"@type":[' + ",".join(types) + "]")
            items += [pkey(p) + ":[" + ",".join(vals) + "]" for p, vals in props.items()]
            yield "{" + ",".join(items) + "}"

    def document(self, keys: Iterable[tuple[str, str, str]], context: Any) -> str:
        """`document` of the triples these keys stand for."""
        return _head(context) + ",\n".join(self.lines(keys)) + "\n]}\n"

    def write(self, out: IO[str], keys: Iterable[tuple[str, str, str]], context: Any) -> None:
        """`document` streamed to a text file, a batch of nodes at a time."""
        out.write(_head(context))
        batch: list[str] = []
        first = True
        for line in self.lines(keys):
            batch.append(line)
            if len(batch) >= 5000:
                out.write(("" if first else ",\n") + ",\n".join(batch))
                batch, first = [], False
        if batch:
            out.write(("" if first else ",\n") + ",\n".join(batch))
        out.write("\n]}\n")


def _head(context: Any) -> str:
    return '{"@context":' + dumps(context) + ',\n"@graph":[\n'


def catalog_prefixes(base: str) -> dict[str, str]:
    """The context of the dumps and entity files: usual prefixes plus the catalog's IRI spaces."""
    return {
        **PREFIXES,
        "resource": f"{base}resource/",
        "org": f"{base}org/",
        "concept": CONCEPT_BASE,
    }
