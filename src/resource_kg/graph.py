"""Turn records into RDF: deterministic IRIs, four named graphs, no blank nodes.

Content problems (missing title, bad year, unknown label, duplicate url) never stop the
build: the record is built with what it has, a Diagnostic names file, line and field, and
validation reports the same problem from the graph.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from resource_kg.config import ONTOLOGY_NS
from resource_kg.errors import Diagnostic
from resource_kg.records import Record
from resource_kg.tagging import Tag
from resource_kg.vocab import ORG_SCHEME, Lexicon, Organization, slugify

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
MIN_YEAR = 1960


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
    return re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", value) is not None


class GraphBuilder:
    """Builds the catalog and derived graphs; collects content diagnostics on the way."""

    def __init__(self, base: str, graphs: Graphs, lexicon: Lexicon, today: dt.date) -> None:
        self.base = base
        self.graphs = graphs
        self.lexicon = lexicon
        self.today = today
        self.diagnostics: list[Diagnostic] = []

    def _warn(self, record: Record, name: str, message: str) -> None:
        self.diagnostics.append(
            Diagnostic(record.file, record.line_of(name), record.id, name, message)
        )

    def organizations(self, orgs: Iterable[Organization]) -> list[ox.Quad]:
        g = self.graphs.catalog
        quads: list[ox.Quad] = []
        for org in orgs:
            s = N(f"{self.base}org/{org.id}")
            quads += [
                ox.Quad(s, A, N(FOAF + "Organization"), g),
                ox.Quad(s, A, N(SCHEMA + "Organization"), g),
                ox.Quad(s, N(FOAF + "name"), ox.Literal(org.name), g),
                ox.Quad(s, N(RDFS + "label"), ox.Literal(org.name), g),
            ]
            if org.acronym:
                quads.append(ox.Quad(s, N(SCHEMA + "alternateName"), ox.Literal(org.acronym), g))
            if org.homepage and _is_http_iri(org.homepage):
                quads.append(ox.Quad(s, N(FOAF + "homepage"), N(org.homepage), g))
        return quads

    def record(self, record: Record, known_ids: set[str], urls: dict[str, Record]) -> list[ox.Quad]:
        g = self.graphs.catalog
        s = N(resource_iri(self.base, record.id))
        quads = [
            ox.Quad(s, A, rkg("Resource"), g),
            ox.Quad(s, N(DCT + "identifier"), ox.Literal(record.id), g),
        ]
        for name, value in record.values.items():
            if name == "id":
                continue
            spec = FIELD_SPECS[name]
            p = N(spec.predicate)
            if isinstance(value, list):
                quads += self._labels(record, name, spec, s, p, value)
            else:
                obj = self._scalar(record, name, value, known_ids)
                quads.append(ox.Quad(s, p, obj, g))
        if "title" not in record.values:
            self._warn(record, "title", "title is missing")
        url = record.get_text("url")
        if url is not None:
            key = _url_key(url)
            first = urls.setdefault(key, record)
            if first is not record:
                self._warn(
                    record,
                    "url",
                    f"same url as record {first.id} ({first.file}:{first.line_of('url')})",
                )
        return quads

    def _labels(
        self,
        record: Record,
        name: str,
        spec: FieldSpec,
        s: ox.NamedNode,
        p: ox.NamedNode,
        labels: list[str],
    ) -> list[ox.Quad]:
        assert spec.scheme is not None
        quads = []
        for label in labels:
            res = self.lexicon.resolve(spec.scheme, label)
            if res.iri is not None:
                quads.append(ox.Quad(s, p, N(res.iri), self.graphs.catalog))
                continue
            if res.candidates:
                hint = f"matches several entries: {', '.join(res.candidates)}"
            elif res.suggestions:
                hint = "closest known: " + ", ".join(repr(x) for x in res.suggestions)
            else:
                hint = "no similar label known"
            where = (
                "data/organizations.yaml"
                if spec.scheme == ORG_SCHEME
                else f"the {spec.scheme} vocabulary"
            )
            self._warn(record, name, f"unknown label {label!r} (not in {where}); {hint}")
            quads.append(ox.Quad(s, N(UNRESOLVED), ox.Literal(label), self.graphs.catalog))
        return quads

    def _scalar(
        self, record: Record, name: str, value: str | int, known_ids: set[str]
    ) -> ox.Literal | ox.NamedNode:
        text = str(value)
        if name == "year":
            if isinstance(value, int) and 0 < value < 10000:
                if not MIN_YEAR <= value <= self.today.year + 1:
                    self._warn(
                        record, name, f"year {value} is outside {MIN_YEAR}–{self.today.year + 1}"
                    )
                return _lit(f"{value:04d}", XSD + "gYear")
            self._warn(record, name, f"year {text!r} is not a year (write four digits, e.g. 2022)")
            return ox.Literal(text)
        if name == "url":
            if _is_http_iri(text):
                return N(text)
            self._warn(record, name, f"url {text!r} is not an http(s) address")
            return ox.Literal(text)
        if name in ("date_added", "last_reviewed"):
            try:
                return _lit(dt.date.fromisoformat(text).isoformat(), XSD + "date")
            except ValueError:
                self._warn(record, name, f"{text!r} is not a date (write YYYY-MM-DD)")
                return ox.Literal(text)
        if name == "status":
            res = self.lexicon.resolve("status", text)
            if res.iri:
                return N(res.iri)
            self._warn(record, name, f"unknown status {text!r}; use active or retired")
            return ox.Literal(text)
        if name == "replaced_by":
            if text in known_ids:
                return N(resource_iri(self.base, text))
            self._warn(
                record, name, f"replaced_by names {text!r}, which is no record of this catalog"
            )
            return ox.Literal(text)
        return ox.Literal(text)

    def derived(self, tags: Iterable[Tag]) -> list[ox.Quad]:
        """Tagged population links, each reified with its field and matched label."""
        g = self.graphs.derived
        activity = N(f"{self.base}activity/population-tagging")
        quads = [
            ox.Quad(activity, A, N(PROV + "Activity"), g),
            ox.Quad(
                activity,
                N(RDFS + "label"),
                ox.Literal("Special-population tagging", language="en"),
                g,
            ),
            ox.Quad(
                activity,
                N(RDFS + "comment"),
                ox.Literal(
                    "Links resources to populations whose labels occur in their title, subtitle, summary, topics, subtopics or keywords.",
                    language="en",
                ),
                g,
            ),
        ]
        serves = rkg("servesPopulation")
        for tag in tags:
            s = N(resource_iri(self.base, tag.record_id))
            pop = N(tag.population)
            node = N(
                f"{resource_iri(self.base, tag.record_id)}/tag/{slugify(tag.population.rsplit('/', 1)[-1])}-{tag.field}"
            )
            quads += [
                ox.Quad(s, serves, pop, g),
                ox.Quad(node, A, rkg("PopulationTag"), g),
                ox.Quad(node, N(RDF + "subject"), s, g),
                ox.Quad(node, N(RDF + "predicate"), serves, g),
                ox.Quad(node, N(RDF + "object"), pop, g),
                ox.Quad(node, rkg("sourceField"), ox.Literal(tag.field), g),
                ox.Quad(node, rkg("matchedLabel"), ox.Literal(tag.matched), g),
                ox.Quad(node, N(PROV + "wasDerivedFrom"), s, g),
                ox.Quad(node, N(PROV + "wasGeneratedBy"), activity, g),
            ]
        return quads


def _url_key(url: str) -> str:
    """URLs that differ only by scheme, `www.` or a trailing slash are the same page."""
    key = re.sub(r"^https?://(www\.)?", "", url.strip().lower())
    return key.rstrip("/")


def sort_quads(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Distinct quads in one fixed order, so every serialization is byte-identical."""
    unique = {
        (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object)): q for q in quads
    }
    return [unique[k] for k in sorted(unique)]
