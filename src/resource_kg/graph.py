"""Turn records into RDF: deterministic IRIs, four named graphs, no blank nodes.

Content problems (missing title, bad year, unknown label, duplicate url) never stop the
build: the record is built with what it has, a Diagnostic names file, line and field, and
validation reports the same problem from the graph.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from resource_kg import advice
from resource_kg.advice import MIN_YEAR
from resource_kg.config import ONTOLOGY_NS
from resource_kg.errors import Diagnostic
from resource_kg.records import Record
from resource_kg.tagging import Tag
from resource_kg.vocab import ORG_SCHEME, Lexicon, Organization, Resolution, slugify

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
DCT = "http://purl.org/dc/terms/"
SCHEMA = "https://schema.org/"
FOAF = "http://xmlns.com/foaf/0.1/"
PROV = "http://www.w3.org/ns/prov#"
SKOS = "http://www.w3.org/2004/02/skos/core#"

PREFIXES: dict[str, str] = {
    "rkg": ONTOLOGY_NS,
    "dct": DCT,
    "schema": SCHEMA,
    "skos": SKOS,
    "foaf": FOAF,
    "prov": PROV,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "owl": "http://www.w3.org/2002/07/owl#",
}


def N(iri: str) -> ox.NamedNode:  # noqa: N802 - reads like a constructor
    return ox.NamedNode(iri)


A = N(RDF + "type")


def rkg(local: str) -> ox.NamedNode:
    return N(ONTOLOGY_NS + local)


@dataclass(frozen=True)
class FieldSpec:
    """How one record field becomes triples: its property and, for labels, its scheme."""

    predicate: str
    scheme: str | None = None


#: Record field → RDF property (and the scheme its labels resolve in).
FIELD_SPECS: dict[str, FieldSpec] = {
    "id": FieldSpec(DCT + "identifier"),
    "url": FieldSpec(SCHEMA + "url"),
    "title": FieldSpec(DCT + "title"),
    "subtitle": FieldSpec(SCHEMA + "alternativeHeadline"),
    "year": FieldSpec(DCT + "created"),
    "types": FieldSpec(DCT + "type", "type"),
    "primary_audience": FieldSpec(ONTOLOGY_NS + "primaryAudience", "audience"),
    "secondary_audience": FieldSpec(ONTOLOGY_NS + "secondaryAudience", "audience"),
    "languages": FieldSpec(DCT + "language", "language"),
    "developed_by": FieldSpec(DCT + "creator", ORG_SCHEME),
    "in_collaboration_with": FieldSpec(DCT + "contributor", ORG_SCHEME),
    "summary": FieldSpec(DCT + "abstract"),
    "topics": FieldSpec(ONTOLOGY_NS + "topic", "topic"),
    "subtopics": FieldSpec(ONTOLOGY_NS + "subtopic", "subtopic"),
    "keywords": FieldSpec(ONTOLOGY_NS + "keyword", "keyword"),
    "populations": FieldSpec(ONTOLOGY_NS + "servesPopulation", "population"),
    "date_added": FieldSpec(ONTOLOGY_NS + "dateAdded"),
    "last_reviewed": FieldSpec(ONTOLOGY_NS + "lastReviewed"),
    "status": FieldSpec(ONTOLOGY_NS + "status", "status"),
    "replaced_by": FieldSpec(DCT + "isReplacedBy"),
}
UNRESOLVED = ONTOLOGY_NS + "unresolvedLabel"


@dataclass(frozen=True)
class Graphs:
    """IRIs of the four named graphs."""

    ontology: ox.NamedNode
    vocabularies: ox.NamedNode
    catalog: ox.NamedNode
    derived: ox.NamedNode

    @classmethod
    def for_base(cls, base: str) -> Graphs:
        return cls(
            *(
                N(f"{base}graph/{name}")
                for name in ("ontology", "vocabularies", "catalog", "derived")
            )
        )

    def all(self) -> tuple[ox.NamedNode, ...]:
        return (self.ontology, self.vocabularies, self.catalog, self.derived)


def resource_iri(base: str, rid: str) -> str:
    return f"{base}resource/{rid}"


def _lit(value: str, datatype: str | None = None) -> ox.Literal:
    return ox.Literal(value, datatype=N(datatype)) if datatype else ox.Literal(value)


def _is_http_iri(value: str) -> bool:
    """Whether `value` can be an http(s) IRI node: a bad one (`%zz`, `a#b#c`, `http://[::1`)
    is a warning where it is used, never an exception."""
    if re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", value) is None:
        return False
    try:
        ox.NamedNode(value)
    except ValueError:
        return False
    return True


#: A quad as the N-Triples forms of its graph name, subject, predicate and object, in that
#: order: tuples of shared strings cost a fraction of pyoxigraph objects and sort by plain
#: string comparison, which is the order every serialization is written in.
QuadKey = tuple[str, str, str, str]
TripleKey = tuple[str, str, str]


class TermTable:
    """One pyoxigraph term per N-Triples string, so a million quads share a few terms."""

    def __init__(self) -> None:
        self.terms: dict[str, Any] = {}
        self._iri_keys: dict[str, str] = {}
        self._cached: dict[tuple[str, str | None, str | None], str] = {}

    def iri(self, iri: str) -> str:
        """The key of a named node (made, and its IRI checked, on first use).

        The key returned is always the same string object, so a concept used by 100k
        records costs one string, not 100k."""
        key = self._iri_keys.get(iri)
        if key is None:
            node = N(iri)
            key = str(node)
            self.terms.setdefault(key, node)
            self._iri_keys[iri] = key
        return key

    def add(self, term: Any) -> str:
        """The key of any term object (literals, blank nodes, parsed terms)."""
        key = str(term)
        self.terms.setdefault(key, term)
        return key

    def lit(self, value: str, datatype: str | None = None, language: str | None = None) -> str:
        """The key of a literal that recurs (dates, years, labels): made once, then looked up."""
        ck = (value, datatype, language)
        key = self._cached.get(ck)
        if key is None:
            if language is not None:
                key = self.add(ox.Literal(value, language=language))
            else:
                key = self.add(_lit(value, datatype))
            self._cached[ck] = key
        return key

    def quad(self, key: QuadKey) -> ox.Quad:
        t = self.terms
        return ox.Quad(t[key[1]], t[key[2]], t[key[3]], t[key[0]])

    def triple(self, key: TripleKey) -> ox.Triple:
        t = self.terms
        return ox.Triple(t[key[0]], t[key[1]], t[key[2]])


class QuadTable:
    """Quads as keys plus their terms; pyoxigraph objects are made only while streaming out."""

    def __init__(self, keys: list[QuadKey], table: TermTable) -> None:
        self.keys = keys
        self.table = table

    @classmethod
    def from_quads(cls, quads: Iterable[ox.Quad]) -> QuadTable:
        """The same quads, in the same order."""
        table = TermTable()
        add = table.add
        keys = [(add(q.graph_name), add(q.subject), add(q.predicate), add(q.object)) for q in quads]
        return cls(keys, table)

    def sorted(self) -> QuadTable:
        """Distinct quads in one fixed order (graph, subject, predicate, object as strings)."""
        return QuadTable(_distinct_sorted(self.keys), self.table)

    def __len__(self) -> int:
        return len(self.keys)

    def iter_quads(self, keys: Iterable[QuadKey] | None = None) -> Iterator[ox.Quad]:
        t, quad = self.table.terms, ox.Quad
        return (
            quad(t[s], t[p], t[o], t[g]) for g, s, p, o in (self.keys if keys is None else keys)
        )

    def graph_keys(self, graph: str) -> list[QuadKey]:
        return [k for k in self.keys if k[0] == graph]

    def triple_keys(self) -> list[TripleKey]:
        """The union of all graphs, distinct and sorted by subject, predicate, object."""
        return _distinct_sorted([k[1:] for k in self.keys])

    def iter_triples(self, keys: Iterable[TripleKey] | None = None) -> Iterator[ox.Triple]:
        t, triple = self.table.terms, ox.Triple
        return (
            triple(t[s], t[p], t[o]) for s, p, o in (self.triple_keys() if keys is None else keys)
        )


def _distinct_sorted(keys: list[Any]) -> list[Any]:
    """Sort in place (Timsort is near-linear on the mostly sorted runs the builder emits)."""
    keys.sort()
    out = [keys[0]] if keys else []
    last = out[0] if out else None
    append = out.append
    for k in keys:
        if k != last:
            append(k)
            last = k
    return out


class GraphBuilder:
    """Builds the catalog and derived graphs; collects content diagnostics on the way.

    The `*_keys` methods append quad keys (see `QuadKey`) to a list and are what
    `Catalog.load` uses; `organizations`, `record` and `derived` return the same quads as
    pyoxigraph objects. Terms are made once per distinct value (see `TermTable`).
    """

    def __init__(self, base: str, graphs: Graphs, lexicon: Lexicon, today: dt.date) -> None:
        self.base = base
        self.graphs = graphs
        self.lexicon = lexicon
        self.today = today
        self.diagnostics: list[Diagnostic] = []
        self.table = TermTable()
        t = self.table
        self._g_catalog = t.add(graphs.catalog)
        self._g_derived = t.add(graphs.derived)
        self._a = t.add(A)
        self._pred = {name: t.iri(spec.predicate) for name, spec in FIELD_SPECS.items()}
        self._resolved: dict[tuple[str, str], Resolution] = {}
        self._tag_slugs: dict[str, str] = {}

    def _warn(self, record: Record, name: str, message: str) -> None:
        self.diagnostics.append(
            Diagnostic(record.file, record.line_of(name), record.id, name, message)
        )

    def _quads(self, keys: list[QuadKey]) -> list[ox.Quad]:
        return [self.table.quad(k) for k in keys]

    def organizations(self, orgs: Iterable[Organization]) -> list[ox.Quad]:
        keys: list[QuadKey] = []
        self.organization_keys(orgs, keys)
        return self._quads(keys)

    def organization_keys(self, orgs: Iterable[Organization], out: list[QuadKey]) -> None:
        t = self.table
        g, a = self._g_catalog, self._a
        foaf_org, schema_org = t.iri(FOAF + "Organization"), t.iri(SCHEMA + "Organization")
        name_p, label_p = t.iri(FOAF + "name"), t.iri(RDFS + "label")
        alt_p, home_p = t.iri(SCHEMA + "alternateName"), t.iri(FOAF + "homepage")
        for org in orgs:
            s = t.iri(f"{self.base}org/{org.id}")
            name = t.lit(org.name)
            out += [(g, s, a, foaf_org), (g, s, a, schema_org), (g, s, name_p, name)]
            out.append((g, s, label_p, name))
            if org.acronym:
                out.append((g, s, alt_p, t.lit(org.acronym)))
            if org.homepage and _is_http_iri(org.homepage):
                out.append((g, s, home_p, t.iri(org.homepage)))

    def record(self, record: Record, known_ids: set[str], urls: dict[str, Record]) -> list[ox.Quad]:
        keys: list[QuadKey] = []
        self.record_keys(record, known_ids, urls, keys)
        return self._quads(keys)

    def record_keys(
        self, record: Record, known_ids: set[str], urls: dict[str, Record], out: list[QuadKey]
    ) -> None:
        t = self.table
        g = self._g_catalog
        s = t.iri(resource_iri(self.base, record.id))
        out.append((g, s, self._a, t.iri(ONTOLOGY_NS + "Resource")))
        out.append((g, s, self._pred["id"], t.add(ox.Literal(record.id))))
        pred = self._pred
        for name, value in record.values.items():
            if name == "id":
                continue
            spec = FIELD_SPECS[name]
            if isinstance(value, list):
                self._label_keys(record, name, spec, s, pred[name], value, out)
            else:
                out.append((g, s, pred[name], self._scalar_key(record, name, value, known_ids)))
        if "title" not in record.values:
            self._warn(record, "title", advice.title_missing())
        url = record.get_text("url")
        if url is not None:
            key = url_key(url)
            first = urls.setdefault(key, record)
            if first is not record:
                self._warn(
                    record,
                    "url",
                    f"{advice.same_url(first.id)} ({first.file}:{first.line_of('url')})",
                )

    def _resolve(self, scheme: str, label: str) -> Resolution:
        """Lexicon.resolve, remembered: a catalog repeats the same few hundred labels."""
        ck = (scheme, label)
        res = self._resolved.get(ck)
        if res is None:
            res = self._resolved[ck] = self.lexicon.resolve(scheme, label)
        return res

    def _label_keys(
        self,
        record: Record,
        name: str,
        spec: FieldSpec,
        s: str,
        p: str,
        labels: list[str],
        out: list[QuadKey],
    ) -> None:
        assert spec.scheme is not None
        t = self.table
        g = self._g_catalog
        for label in labels:
            res = self._resolve(spec.scheme, label)
            if res.iri is not None:
                out.append((g, s, p, t.iri(res.iri)))
                continue
            self._warn(record, name, advice.unknown_label(label, spec.scheme, res))
            out.append((g, s, t.iri(UNRESOLVED), t.lit(label)))

    def _scalar(
        self, record: Record, name: str, value: str | int, known_ids: set[str]
    ) -> ox.Literal | ox.NamedNode:
        term: ox.Literal | ox.NamedNode = self.table.terms[
            self._scalar_key(record, name, value, known_ids)
        ]
        return term

    def _scalar_key(self, record: Record, name: str, value: str | int, known_ids: set[str]) -> str:
        t = self.table
        text = str(value)
        if name == "year":
            if isinstance(value, int) and 0 < value < 10000:
                if not MIN_YEAR <= value <= self.today.year + 1:
                    self._warn(record, name, advice.year_range(value, self.today.year + 1))
                return t.lit(f"{value:04d}", XSD + "gYear")
            self._warn(record, name, advice.year(value))
            return t.add(ox.Literal(text))
        if name == "url":
            if _is_http_iri(text):
                return t.iri(text)
            self._warn(record, name, advice.url(text))
            return t.add(ox.Literal(text))
        if name in ("date_added", "last_reviewed"):
            try:
                return t.lit(dt.date.fromisoformat(text).isoformat(), XSD + "date")
            except ValueError:
                self._warn(record, name, advice.date(name, text))
                return t.add(ox.Literal(text))
        if name == "status":
            res = self._resolve("status", text)
            if res.iri:
                return t.iri(res.iri)
            self._warn(record, name, advice.status(text))
            return t.add(ox.Literal(text))
        if name == "replaced_by":
            if text in known_ids:
                return t.iri(resource_iri(self.base, text))
            self._warn(record, name, advice.replaced_by(text))
            return t.add(ox.Literal(text))
        return t.add(ox.Literal(text))

    def derived(self, tags: Iterable[Tag]) -> list[ox.Quad]:
        """Tagged population links, each reified with its field and matched label."""
        keys: list[QuadKey] = []
        self.activity_keys(keys)
        self.derived_keys(tags, keys)
        return self._quads(keys)

    def activity_keys(self, out: list[QuadKey]) -> None:
        """The tagging activity every derived fact points to."""
        t = self.table
        g = self._g_derived
        activity = t.iri(f"{self.base}activity/population-tagging")
        out.append((g, activity, self._a, t.iri(PROV + "Activity")))
        out.append(
            (g, activity, t.iri(RDFS + "label"), t.lit("Special-population tagging", None, "en"))
        )
        comment = "Links resources to populations whose labels occur in their title, subtitle, summary, topics, subtopics or keywords."
        out.append((g, activity, t.iri(RDFS + "comment"), t.lit(comment, None, "en")))

    def derived_keys(self, tags: Iterable[Tag], out: list[QuadKey]) -> None:
        """The derived-graph quads of tags (without the activity, see `activity_keys`)."""
        t = self.table
        g, a = self._g_derived, self._a
        activity = t.iri(f"{self.base}activity/population-tagging")
        serves = t.iri(ONTOLOGY_NS + "servesPopulation")
        tag_class = t.iri(ONTOLOGY_NS + "PopulationTag")
        r_subject, r_predicate = t.iri(RDF + "subject"), t.iri(RDF + "predicate")
        r_object = t.iri(RDF + "object")
        source_field, matched = (
            t.iri(ONTOLOGY_NS + "sourceField"),
            t.iri(ONTOLOGY_NS + "matchedLabel"),
        )
        derived_from, generated_by = t.iri(PROV + "wasDerivedFrom"), t.iri(PROV + "wasGeneratedBy")
        slugs = self._tag_slugs
        for tag in tags:
            r_iri = resource_iri(self.base, tag.record_id)
            s = t.iri(r_iri)
            pop = t.iri(tag.population)
            slug = slugs.get(tag.population)
            if slug is None:
                slug = slugs[tag.population] = slugify(tag.population.rsplit("/", 1)[-1])
            node = t.iri(f"{r_iri}/tag/{slug}-{tag.field}")
            out += [
                (g, s, serves, pop),
                (g, node, a, tag_class),
                (g, node, r_subject, s),
                (g, node, r_predicate, serves),
                (g, node, r_object, pop),
                (g, node, source_field, t.lit(tag.field)),
                (g, node, matched, t.lit(tag.matched)),
                (g, node, derived_from, s),
                (g, node, generated_by, activity),
            ]


def url_key(url: str) -> str:
    """URLs that differ only by scheme, `www.` or a trailing slash are the same page."""
    key = re.sub(r"^https?://(www\.)?", "", url.strip().lower())
    return key.rstrip("/")
