"""The release's static website: faceted index, one page per entity, ontology and schemes.

Pages are plain HTML written from the graph (not from the records), so they show exactly what
the dumps say. Each entity page sits at the path of its IRI below the base (resource/3182.html
for {base}resource/3182) with a .ttl and a .jsonld beside it, so a static host serves linked
data by file extension. All text is HTML-escaped; JSON inside <script> has '<', '>' and '&'
escaped, so no value can close the element.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import queue
import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rich.progress import Progress

from resource_kg import jsonld
from resource_kg.catalog import Catalog
from resource_kg.config import CONCEPT_BASE
from resource_kg.graph import DCT, FIELD_SPECS, FOAF, PREFIXES, RDF, RDFS, SCHEMA, SKOS, QuadKey
from resource_kg.vocab import concept_scheme_key

OWL = "http://www.w3.org/2002/07/owl#"
RKG = "https://w3id.org/resource-kg/ontology#"
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
TAG = re.compile("<[^>]+>")

#: The facets of the index page: key, heading, and where the values come from.
FACETS: tuple[tuple[str, str], ...] = (
    ("audience", "Audience (primary or secondary)"),
    ("population", "Special population (curated or found in text)"),
    ("topic", "Topic"),
    ("subtopic", "Subtopic"),
    ("type", "Type"),
    ("year", "Year"),
    ("language", "Language"),
    ("developer", "Developer"),
)
FACET_PREDICATES: dict[str, tuple[str, ...]] = {
    "audience": (RKG + "primaryAudience", RKG + "secondaryAudience"),
    "population": (RKG + "servesPopulation",),
    "topic": (RKG + "topic",),
    "subtopic": (RKG + "subtopic",),
    "type": (DCT + "type",),
    "year": (DCT + "created",),
    "language": (DCT + "language",),
    "developer": (DCT + "creator",),
}
FIELD_OF = {spec.predicate: name for name, spec in FIELD_SPECS.items()}


def safe_name(text: str) -> str:
    """A file name for an IRI's last segment: kept when already safe, else slug + short hash."""
    if SAFE_NAME.match(text) and text not in (".", ".."):
        return text
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:40] or "x"
    return f"{slug}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def e(text: object) -> str:
    """HTML-escape any value for text and attribute positions."""
    return html.escape(str(text), quote=True)


def script_json(value: Any) -> str:
    """JSON safe inside <script>: no '<', '>' or '&' left to end the element early."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


@dataclass
class Entity:
    """A thing with its own page: resource, organization, concept or concept scheme."""

    iri: str
    kind: str
    path: str  # below site/, without extension, e.g. "resource/3182"
    label: str


@dataclass
class SiteModel:
    """The graph grouped for page writing: one pass over the quad keys, then lookups.

    Built from `Catalog.quad_table` (N-Triples string keys and one shared pyoxigraph term per
    distinct value), so no pyoxigraph object is made per quad; `keys_of` holds each entity's
    quad keys (its tags' included) for the .ttl and .jsonld written beside its page.
    """

    catalog: Catalog
    facts: dict[str, dict[str, list[ox.NamedNode | ox.Literal]]] = field(default_factory=dict)
    derived: dict[str, list[str]] = field(default_factory=dict)
    tags: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    keys_of: dict[str, list[QuadKey]] = field(default_factory=dict)
    inverse: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    inverse_derived: dict[str, list[str]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    entities: dict[str, Entity] = field(default_factory=dict)
    link_cache: dict[str, dict[str, str]] = field(default_factory=dict)
    sort_keys: dict[str, str] = field(default_factory=dict)

    def text_key(self, fragment: str) -> str:
        """Sort key of an HTML fragment: its text without tags, case-folded (remembered)."""
        key = self.sort_keys.get(fragment)
        if key is None:
            key = self.sort_keys[fragment] = TAG.sub("", fragment).casefold()
        return key

    @classmethod
    def build(cls, catalog: Catalog) -> SiteModel:
        m = cls(catalog)
        table = catalog.quad_table
        terms = table.table.terms
        derived_graph = str(catalog.graphs.derived)
        facts: dict[str, dict[str, list[ox.NamedNode | ox.Literal]]] = defaultdict(
            lambda: defaultdict(list)
        )
        keys_of: dict[str, list[QuadKey]] = defaultdict(list)
        tag_parts: dict[str, dict[str, str]] = defaultdict(dict)
        derived: dict[str, list[str]] = defaultdict(list)
        types: dict[str, set[str]] = defaultdict(set)
        rank = {SKOS + "prefLabel": 0, FOAF + "name": 1, DCT + "title": 2, RDFS + "label": 3}
        best: dict[str, tuple[int, str]] = {}
        tag_preds = {RDF + "subject", RDF + "object", RKG + "sourceField", RKG + "matchedLabel"}
        serves, rdf_type = RKG + "servesPopulation", RDF + "type"
        for quad in table.keys:
            g, sk, pk, ok = quad
            if sk[0] != "<" or ok[0] == "_" or ok.startswith("<<"):
                continue  # blank-node subjects and objects, quoted triples: not shown
            s, p, o = terms[sk].value, terms[pk].value, terms[ok]
            if g == derived_graph:
                if p == serves and ok[0] == "<":
                    derived[s].append(o.value)
                elif p in tag_preds:
                    tag_parts[s][p] = o.value
                keys_of[s].append(quad)
                continue
            keys_of[s].append(quad)
            facts[s][p].append(o)
            if p == rdf_type and ok[0] == "<":
                types[s].add(o.value)
            r = rank.get(p)
            if r is not None and ok[0] == '"':
                cand = (r, o.value)
                if s not in best or cand < best[s]:
                    best[s] = cand
        m.facts = {k: dict(v) for k, v in facts.items()}
        m.labels = {k: v[1] for k, v in best.items()}
        m.derived = {k: sorted(set(v)) for k, v in derived.items()}
        tags: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for node, parts in sorted(tag_parts.items()):
            subject = parts.get(RDF + "subject")
            if subject is None:
                continue
            tags[subject].append(
                (
                    parts.get(RDF + "object", ""),
                    parts.get(RKG + "sourceField", ""),
                    parts.get(RKG + "matchedLabel", ""),
                )
            )
            # A resource's .ttl carries its tags, so the provenance travels with it.
            keys_of[subject].extend(keys_of.pop(node, []))
        m.tags = dict(tags)
        m.keys_of = dict(keys_of)
        for iri, classes in sorted(types.items()):
            last = iri.rstrip("/#").rsplit("/", 1)[-1]
            if RKG + "Resource" in classes:
                kind, path = "resource", f"resource/{safe_name(last)}"
            elif FOAF + "Organization" in classes:
                kind, path = "organization", f"org/{safe_name(last)}"
            elif SKOS + "Concept" in classes:
                schemes = [x.value for x in m.facts[iri].get(SKOS + "inScheme", [])]
                key = concept_scheme_key(min(schemes)) if schemes else "other"
                kind, path = "concept", f"concept/{safe_name(key)}/{safe_name(last)}"
            elif SKOS + "ConceptScheme" in classes:
                key = concept_scheme_key(iri) if iri.startswith(CONCEPT_BASE) else last
                kind, path = "scheme", f"concept/{safe_name(key)}"
            else:
                continue
            m.entities[iri] = Entity(iri, kind, path, m.labels.get(iri, last))
        inverse: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for iri in m.resources():
            for p, values in m.facts[iri].items():
                for v in values:
                    if isinstance(v, ox.NamedNode) and v.value in m.entities:
                        inverse[v.value].append((p, iri))
        inverse_derived: dict[str, list[str]] = defaultdict(list)
        for iri, pops in m.derived.items():
            for pop in pops:
                inverse_derived[pop].append(iri)
        m.inverse = dict(inverse)
        m.inverse_derived = dict(inverse_derived)
        return m

    def resources(self) -> list[str]:
        return [iri for iri, ent in self.entities.items() if ent.kind == "resource"]

    def of_kind(self, kind: str) -> list[Entity]:
        return [ent for ent in self.entities.values() if ent.kind == kind]

    def values(self, iri: str, predicate: str) -> list[ox.NamedNode | ox.Literal]:
        return self.facts.get(iri, {}).get(predicate, [])

    def text(self, iri: str, predicate: str) -> str | None:
        vals = self.values(iri, predicate)
        return min(v.value for v in vals) if vals else None

    def label(self, iri: str) -> str:
        return self.labels.get(iri, iri.rstrip("/#").rsplit("/", 1)[-1])


# ---------------------------------------------------------------- page parts


class Page:
    """Renders one page at `path` (below site/); links are made relative to it."""

    def __init__(self, model: SiteModel, path: str, info: SiteInfo) -> None:
        self.m = model
        self.path = path
        self.info = info
        self.root = "../" * path.count("/")
        # Links depend only on the target and the page's depth: made once per depth.
        self._links = model.link_cache.setdefault(self.root, {})

    def href(self, target_path: str, ext: str = ".html") -> str:
        return f"{self.root}{target_path}{ext}"

    def link(self, iri: str) -> str:
        html_ = self._links.get(iri)
        if html_ is None:
            html_ = self._links[iri] = self._link(iri)
        return html_

    def _link(self, iri: str) -> str:
        ent = self.m.entities.get(iri)
        if ent is None:
            if iri.startswith(("http://", "https://")):
                return f'<a href="{e(iri)}">{e(self.m.labels.get(iri, iri))}</a>'
            return e(iri)
        return f'<a href="{e(self.href(ent.path))}">{e(ent.label)}</a>'

    def value(self, v: ox.NamedNode | ox.Literal) -> str:
        return self.link(v.value) if isinstance(v, ox.NamedNode) else e(v.value)

    def render(
        self,
        title: str,
        body: str,
        *,
        data: Any = None,
        alternates: bool = False,
        scripts: tuple[str, ...] = (),
    ) -> str:
        name = self.path.rsplit("/", 1)[-1]
        head = [
            "<!doctype html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{e(title)} · {e(self.info.title)}</title>",
            f'<link rel="stylesheet" href="{self.root}assets/site.css">',
            f'<link rel="canonical" href="{e(self.info.site_url + self.path)}.html">',
        ]
        if alternates:
            head += [
                f'<link rel="alternate" type="text/turtle" href="{e(name)}.ttl">',
                f'<link rel="alternate" type="application/ld+json" href="{e(name)}.jsonld">',
            ]
        if data is not None:
            head.append(f'<script type="application/ld+json">\n{script_json(data)}\n</script>')
        head.append("</head>")
        nav = (
            f'<header><a class="home" href="{self.root}index.html">{e(self.info.title)}</a>'
            f'<nav><a href="{self.root}index.html">Resources</a>'
            f'<a href="{self.root}ontology.html">Ontology and vocabularies</a>'
            f'<a href="{self.root}index.html#downloads">Downloads</a></nav></header>'
        )
        foot = (
            f"<footer>Release {e(self.info.version)} of {e(self.info.date.isoformat())} · "
            f'published by {e(self.info.publisher)} · <a href="{e(self.info.license)}">license</a>'
            "</footer>"
        )
        tail = "".join(f'<script src="{self.root}{s}"></script>' for s in scripts)
        return "\n".join(
            [*head, "<body>", nav, "<main>", body, "</main>", foot, tail, "</body>", "</html>", ""]
        )


@dataclass(frozen=True)
class SiteInfo:
    title: str
    description: str
    publisher: str
    license: str
    version: str
    date: dt.date
    site_url: str


# ---------------------------------------------------------------- entity pages


def resource_page(m: SiteModel, ent: Entity, info: SiteInfo) -> str:
    pg = Page(m, ent.path, info)
    iri = ent.iri
    title = m.text(iri, DCT + "title") or ent.label
    parts = [f"<h1>{e(title)}</h1>"]
    subtitle = m.text(iri, SCHEMA + "alternativeHeadline")
    if subtitle:
        parts.append(f'<p class="subtitle">{e(subtitle)}</p>')
    parts.append(f'<p class="iri">{e(iri)}</p>')
    summary = m.text(iri, DCT + "abstract")
    if summary:
        parts.append(f"<p>{e(summary)}</p>")
    rows = []
    for name, spec in FIELD_SPECS.items():
        if name in ("title", "subtitle", "summary"):
            continue
        vals = m.values(iri, spec.predicate)
        if not vals:
            continue
        shown = sorted((pg.value(v) for v in vals), key=m.text_key)
        rows.append(
            f"<dt>{e(name.replace('_', ' ').capitalize())}</dt>"
            f'<dd><ul class="inline">{"".join(f"<li>{x}</li>" for x in shown)}</ul></dd>'
        )
    unresolved = m.values(iri, RKG + "unresolvedLabel")
    if unresolved:
        rows.append(
            "<dt>Unresolved labels</dt><dd>" + ", ".join(e(v.value) for v in unresolved) + "</dd>"
        )
    parts.append(f'<dl class="facts">{"".join(rows)}</dl>')
    tags = m.tags.get(iri, [])
    if tags:
        items = "".join(
            f"<li>{pg.link(pop)} — found in {e(fld)}: “{e(matched)}”</li>"
            for pop, fld, matched in sorted(tags)
        )
        parts.append(f"<h2>Populations found in the text</h2><ul>{items}</ul>")
    parts.append(_alternates_note(ent))
    return pg.render(title, "\n".join(parts), data=resource_jsonld(m, iri), alternates=True)


def _alternates_note(ent: Entity) -> str:
    name = ent.path.rsplit("/", 1)[-1]
    return (
        f'<p class="muted">This page as data: <a href="{e(name)}.ttl">Turtle</a> · '
        f'<a href="{e(name)}.jsonld">JSON-LD</a></p>'
    )


def _ref(m: SiteModel, iri: str, typ: str, name_key: str = "name") -> dict[str, Any]:
    return {"@type": typ, "@id": iri, name_key: m.label(iri)}


def resource_jsonld(m: SiteModel, iri: str) -> dict[str, Any]:
    """schema.org LearningResource for search engines; the full data is in the .jsonld file."""

    def iris(*predicates: str) -> list[str]:
        return sorted(
            {v.value for p in predicates for v in m.values(iri, p) if isinstance(v, ox.NamedNode)}
        )

    doc: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "LearningResource",
        "@id": iri,
        "identifier": m.text(iri, DCT + "identifier"),
        "name": m.text(iri, DCT + "title"),
    }
    optional = {
        "alternativeHeadline": m.text(iri, SCHEMA + "alternativeHeadline"),
        "abstract": m.text(iri, DCT + "abstract"),
        "datePublished": m.text(iri, DCT + "created"),
    }
    url = m.values(iri, SCHEMA + "url")
    if url:
        optional["url"] = url[0].value
    doc.update({k: v for k, v in optional.items() if v})
    audiences = iris(RKG + "primaryAudience", RKG + "secondaryAudience")
    if audiences:
        doc["audience"] = [_ref(m, a, "Audience", "audienceType") for a in audiences]
    about = iris(RKG + "topic", RKG + "subtopic", RKG + "servesPopulation")
    about = sorted(set(about) | set(m.derived.get(iri, [])))
    if about:
        doc["about"] = [_ref(m, a, "DefinedTerm") for a in about]
    langs = iris(DCT + "language")
    if langs:
        doc["inLanguage"] = [m.text(a, SKOS + "notation") or m.label(a) for a in langs]
    types = iris(DCT + "type")
    if types:
        doc["learningResourceType"] = [m.label(t) for t in types]
    keywords = iris(RKG + "keyword")
    if keywords:
        doc["keywords"] = [m.label(k) for k in keywords]
    for key, pred in (("creator", DCT + "creator"), ("contributor", DCT + "contributor")):
        orgs = iris(pred)
        if orgs:
            doc[key] = [_ref(m, o, "Organization") for o in orgs]
    if "creator" in doc:
        doc["publisher"] = doc["creator"]
    return {k: v for k, v in doc.items() if v is not None}


def _resource_list(pg: Page, m: SiteModel, iris: list[str]) -> str:
    ordered = sorted(set(iris), key=lambda i: (m.label(i).casefold(), i))
    if not ordered:
        return '<p class="muted">None.</p>'
    return "<ul>" + "".join(f"<li>{pg.link(i)}</li>" for i in ordered) + "</ul>"


def organization_page(m: SiteModel, ent: Entity, info: SiteInfo) -> str:
    pg = Page(m, ent.path, info)
    iri = ent.iri
    parts = [f"<h1>{e(ent.label)}</h1>", f'<p class="iri">{e(iri)}</p>']
    acronym = m.text(iri, SCHEMA + "alternateName")
    homepage = m.values(iri, FOAF + "homepage")
    facts = []
    if acronym:
        facts.append(f"<dt>Acronym</dt><dd>{e(acronym)}</dd>")
    if homepage:
        facts.append(
            f'<dt>Homepage</dt><dd><a href="{e(homepage[0].value)}">{e(homepage[0].value)}</a></dd>'
        )
    parts.append(f'<dl class="facts">{"".join(facts)}</dl>')
    inverse = m.inverse.get(iri, [])
    for pred, heading in (
        (DCT + "creator", "Resources it developed"),
        (DCT + "contributor", "Resources it collaborated on"),
    ):
        parts.append(
            f"<h2>{heading}</h2>" + _resource_list(pg, m, [r for p, r in inverse if p == pred])
        )
    parts.append(_alternates_note(ent))
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "@id": iri,
        "name": ent.label,
    }
    if acronym:
        data["alternateName"] = acronym
    if homepage:
        data["url"] = homepage[0].value
    return pg.render(ent.label, "\n".join(parts), data=data, alternates=True)


def concept_page(m: SiteModel, ent: Entity, info: SiteInfo) -> str:
    pg = Page(m, ent.path, info)
    iri = ent.iri
    parts = [f"<h1>{e(ent.label)}</h1>", f'<p class="iri">{e(iri)}</p>']
    definition = m.text(iri, SKOS + "definition")
    if definition:
        parts.append(f"<p>{e(definition)}</p>")
    facts = []
    schemes = [v.value for v in m.values(iri, SKOS + "inScheme")]
    if schemes:
        facts.append(
            "<dt>Scheme</dt><dd>" + ", ".join(pg.link(s) for s in sorted(schemes)) + "</dd>"
        )
    notation = m.text(iri, SKOS + "notation")
    if notation:
        facts.append(f"<dt>Notation</dt><dd>{e(notation)}</dd>")
    alts = sorted((v.value for v in m.values(iri, SKOS + "altLabel")), key=str.casefold)
    if alts:
        facts.append("<dt>Also called</dt><dd>" + ", ".join(e(a) for a in alts) + "</dd>")
    for pred in (
        "exactMatch",
        "closeMatch",
        "broadMatch",
        "narrowMatch",
        "relatedMatch",
        "broader",
        "narrower",
    ):
        vals = m.values(iri, SKOS + pred)
        if vals:
            facts.append(f"<dt>{e(pred)}</dt><dd>" + ", ".join(pg.value(v) for v in vals) + "</dd>")
    parts.append(f'<dl class="facts">{"".join(facts)}</dl>')
    by_pred: dict[str, list[str]] = defaultdict(list)
    for pred, res in m.inverse.get(iri, []):
        by_pred[pred].append(res)
    for pred in sorted(by_pred, key=lambda p: list(FIELD_OF).index(p) if p in FIELD_OF else 99):
        name = FIELD_OF.get(pred, m.label(pred)).replace("_", " ")
        heading = (
            f"Resources with this {name}"
            if pred != RKG + "servesPopulation"
            else "Resources serving it (curated)"
        )
        parts.append(f"<h2>{e(heading)}</h2>" + _resource_list(pg, m, by_pred[pred]))
    found = m.inverse_derived.get(iri, [])
    if found:
        parts.append(
            "<h2>Resources whose text names it (derived)</h2>" + _resource_list(pg, m, found)
        )
    if not by_pred and not found:
        parts.append('<p class="muted">No resource of this release uses this concept.</p>')
    parts.append(_alternates_note(ent))
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "DefinedTerm",
        "@id": iri,
        "name": ent.label,
    }
    if definition:
        data["description"] = definition
    if notation:
        data["termCode"] = notation
    if alts:
        data["alternateName"] = alts
    if schemes:
        data["inDefinedTermSet"] = {
            "@type": "DefinedTermSet",
            "@id": schemes[0],
            "name": m.label(schemes[0]),
        }
    return pg.render(ent.label, "\n".join(parts), data=data, alternates=True)


def scheme_page(m: SiteModel, ent: Entity, info: SiteInfo) -> str:
    pg = Page(m, ent.path, info)
    iri = ent.iri
    concepts = sorted(
        (
            c
            for c in m.of_kind("concept")
            if any(v.value == iri for v in m.values(c.iri, SKOS + "inScheme"))
        ),
        key=lambda c: c.label.casefold(),
    )
    parts = [f"<h1>{e(ent.label)}</h1>", f'<p class="iri">{e(iri)}</p>']
    comment = m.text(iri, RDFS + "comment")
    if comment:
        parts.append(f"<p>{e(comment)}</p>")
    rows = []
    for c in concepts:
        used = len({r for _, r in m.inverse.get(c.iri, [])} | set(m.inverse_derived.get(c.iri, [])))
        notation = m.text(c.iri, SKOS + "notation") or ""
        rows.append(f"<tr><td>{pg.link(c.iri)}</td><td>{e(notation)}</td><td>{used}</td></tr>")
    parts.append(
        "<table><thead><tr><th>Concept</th><th>Notation</th><th>Resources</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
    parts.append(_alternates_note(ent))
    data = {
        "@context": "https://schema.org",
        "@type": "DefinedTermSet",
        "@id": iri,
        "name": ent.label,
        "hasDefinedTerm": [
            {"@type": "DefinedTerm", "@id": c.iri, "name": c.label} for c in concepts
        ],
    }
    return pg.render(ent.label, "\n".join(parts), data=data, alternates=True)


def ontology_page(m: SiteModel, info: SiteInfo) -> str:
    """Each class and property of the ontology: label, comment, the standard term it refines."""
    pg = Page(m, "ontology", info)
    onto = [
        q
        for q in m.catalog.graph_quads(m.catalog.graphs.ontology)
        if isinstance(q.subject, ox.NamedNode)
    ]
    props: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for q in onto:
        if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.NamedNode | ox.Literal):
            props[q.subject.value][q.predicate.value].append(q.object.value)
    compact = jsonld.Compactor(PREFIXES)

    def terms(kind: str) -> list[str]:
        return sorted(
            (
                s
                for s, p in props.items()
                if any(t.startswith(OWL) and t.endswith(kind) for t in p.get(RDF + "type", []))
            ),
            key=lambda s: compact.iri(s),
        )

    parts = ["<h1>Ontology</h1>"]
    for s, p in sorted(props.items()):
        if OWL + "Ontology" in p.get(RDF + "type", []):
            parts.append(f'<p class="iri">{e(s)}</p>')
            for d in p.get(DCT + "description", []):
                parts.append(f"<p>{e(d)}</p>")
    sections = (
        ("Classes", terms("Class"), RDFS + "subClassOf"),
        ("Properties", terms("Property"), RDFS + "subPropertyOf"),
    )
    for heading, names, align in sections:
        rows = []
        for s in names:
            p = props[s]
            aligned = ", ".join(
                f'<a href="{e(a)}">{e(compact.iri(a))}</a>' for a in sorted(p.get(align, []))
            )
            extra = []
            for key, pred in (("domain", RDFS + "domain"), ("range", RDFS + "range")):
                if p.get(pred):
                    extra.append(f"{key} {', '.join(e(compact.iri(x)) for x in sorted(p[pred]))}")
            anchor = e(s.rsplit("#", 1)[-1])
            rows.append(
                f'<tr id="{anchor}"><td><code>{e(compact.iri(s))}</code><br>{e(", ".join(p.get(RDFS + "label", [])))}</td>'
                f"<td>{e(' '.join(p.get(RDFS + 'comment', [])))}"
                + (f'<br><span class="muted">{"; ".join(extra)}</span>' if extra else "")
                + f"</td><td>{aligned}</td></tr>"
            )
        parts.append(
            f"<h2>{heading}</h2><table><thead><tr><th>Term</th><th>Meaning</th><th>Aligned standard term</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
    schemes = sorted(m.of_kind("scheme"), key=lambda x: x.label.casefold())
    parts.append(
        "<h2>Concept schemes</h2><ul>"
        + "".join(f"<li>{pg.link(s.iri)}</li>" for s in schemes)
        + "</ul><p>Standard terms reused as they are: Dublin Core Terms, schema.org, SKOS, FOAF, PROV; see "
        + f'<a href="{pg.root}../ontology.ttl">ontology.ttl</a>.</p>'
    )
    return pg.render("Ontology", "\n".join(parts))


# ---------------------------------------------------------------- index


def index_data(m: SiteModel) -> dict[str, Any]:
    """Facet value lists and one compact row per resource for facets.js."""
    values: dict[str, dict[str, int]] = {key: {} for key, _ in FACETS}
    raw_rows = []
    for iri in m.resources():
        row_values: dict[str, list[str]] = {}
        for key, _ in FACETS:
            found: set[str] = set()
            for pred in FACET_PREDICATES[key]:
                for v in m.values(iri, pred):
                    found.add(m.label(v.value) if isinstance(v, ox.NamedNode) else v.value)
            if key == "population":
                found |= {m.label(p) for p in m.derived.get(iri, [])}
            row_values[key] = sorted(found)
            for label in found:
                values[key][label] = 0
        raw_rows.append((iri, row_values))
    ordered: dict[str, list[str]] = {}
    for key, _ in FACETS:
        labels = sorted(values[key], key=lambda s: (s.casefold(), s))
        if key == "year":
            labels.reverse()
        ordered[key] = labels
        values[key] = {label: i for i, label in enumerate(labels)}
    rows = []
    for iri, row_values in raw_rows:
        ent = m.entities[iri]
        extra = [m.text(iri, SCHEMA + "alternativeHeadline") or ""]
        extra += [m.label(v.value) for v in m.values(iri, RKG + "keyword")]
        url = m.values(iri, SCHEMA + "url")
        row: dict[str, Any] = {
            "i": m.text(iri, DCT + "identifier") or ent.path.rsplit("/", 1)[-1],
            "t": m.text(iri, DCT + "title") or "",
            "p": ent.path + ".html",
            "u": url[0].value if url else "",
            "y": m.text(iri, DCT + "created") or "",
            "x": " ".join(x for x in extra if x),
            "f": [sorted(values[key][v] for v in row_values[key]) for key, _ in FACETS],
        }
        rows.append(row)
    rows.sort(key=lambda r: (r["t"].casefold(), r["i"]))
    return {
        "facets": [{"key": k, "label": lbl, "values": ordered[k]} for k, lbl in FACETS],
        "rows": rows,
    }


INDEX_SCRIPT = "catalog-index.js"
DOWNLOADS: tuple[tuple[str, str], ...] = (
    ("catalog.ttl", "all graphs merged, Turtle"),
    ("catalog.nt.gz", "all graphs merged, sorted N-Triples, gzip"),
    ("catalog.trig", "the four named graphs, TriG"),
    ("catalog.jsonld", "all graphs merged, JSON-LD (context: context.jsonld)"),
    ("ontology.ttl", "the ontology"),
    ("vocabularies.ttl", "the SKOS concept schemes"),
    ("void.ttl", "dataset description: VoID statistics and DCAT-AP"),
    ("CHANGES.md", "what changed since the previous release"),
    ("changes.ttl", "the same changes as RDF changesets"),
    ("validation-report.csv", "validation results"),
    ("SHA256SUMS", "checksums of every file (sha256sum -c SHA256SUMS)"),
)


def index_page(m: SiteModel, info: SiteInfo) -> tuple[str, str]:
    """index.html and the script holding its data (INDEX_SCRIPT).

    The data is a separate static script rather than inline JSON: at 100k resources it is
    tens of MB, which a browser caches and parses once as a script, and a plain <script src>
    works from any static host and from a local folder (file://), where fetch() does not.
    """
    pg = Page(m, "index", info)
    data = index_data(m)
    downloads = "".join(
        f'<li><a href="../{e(name)}">{e(name)}</a> — {e(what)}</li>' for name, what in DOWNLOADS
    )
    head = ", ".join(e(label) for label in ("Title", "Year", "Type", "Audience", "Developer"))
    cols = "".join(f"<th>{c.strip()}</th>" for c in head.split(","))
    body = f"""<h1>{e(info.title)}</h1>
<p>{e(info.description)}</p>
<div class="browse">
<aside id="facets" aria-label="Facets"></aside>
<section>
<div class="tools">
<input id="q" type="search" placeholder="Filter by words in title, subtitle, keywords" aria-label="Text filter">
<button id="clear" type="button">Clear all</button>
<a id="csv" href="#" download="resources.csv">Download the rows shown as CSV</a>
</div>
<p id="summary" aria-live="polite"></p>
<table id="results"><thead><tr>{cols}</tr></thead><tbody></tbody></table>
<noscript><p>Without JavaScript, browse the <a href="ontology.html">vocabularies</a> or download the data below.</p></noscript>
</section>
</div>
<h2 id="downloads">Downloads</h2>
<ul>{downloads}</ul>
<p>Each resource, organization and concept page has a Turtle and a JSON-LD file beside it.
See also the <a href="ontology.html">ontology and concept schemes</a>.</p>"""
    ld = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "name": info.title,
        "description": info.description,
        "version": info.version,
        "datePublished": info.date.isoformat(),
        "license": info.license,
        "publisher": {"@type": "Organization", "name": info.publisher},
        "distribution": [
            {"@type": "DataDownload", "contentUrl": info.site_url.removesuffix("site/") + name}
            for name, _ in DOWNLOADS[:6]
        ],
    }
    script = (
        "// The catalog's facets and one row per resource, read by assets/facets.js.\n"
        f"window.rkgCatalog = {script_json(data)};\n"
    )
    return pg.render(info.title, body, data=ld, scripts=(INDEX_SCRIPT, "assets/facets.js")), script


# ---------------------------------------------------------------- writing


def build_site(
    catalog: Catalog,
    folder: Path,
    *,
    version: str,
    date: dt.date,
    base_url: str,
    progress: Progress | None = None,
    digests: dict[Path, str] | None = None,
) -> list[str]:
    """Write site/ into `folder`; returns the page paths (below site/) in sitemap order.

    When `digests` is given, the SHA-256 of every file written is put in it (path → hex)."""
    s = catalog.settings
    info = SiteInfo(
        s.title, s.description, s.publisher, s.license, version, date, f"{base_url}site/"
    )
    model = SiteModel.build(catalog)
    prefixes = jsonld.catalog_prefixes(catalog.settings.base)
    compactor = jsonld.Compactor(prefixes)
    table = catalog.quad_table
    writer = jsonld.KeyWriter(compactor, table.table.terms)
    writers = {
        "resource": resource_page,
        "organization": organization_page,
        "concept": concept_page,
        "scheme": scheme_page,
    }
    entities = sorted(model.entities.values(), key=lambda x: x.path)
    task = (
        progress.add_task("writing the site", total=len(entities) + 2)
        if progress is not None
        else None
    )
    pages = ["index", "ontology"]
    with FileWriter(digests=digests) as files:
        page, script = index_page(model, info)
        files.put(folder / "index.html", page)
        files.put(folder / INDEX_SCRIPT, script)
        files.put(folder / "ontology.html", ontology_page(model, info))
        for asset in ("site.css", "facets.js"):
            files.put(
                folder / "assets" / asset,
                resources.files("resource_kg").joinpath("site_assets").joinpath(asset).read_bytes(),
            )
        if progress is not None and task is not None:
            progress.advance(task, 2)
        for ent in entities:
            files.put(folder / f"{ent.path}.html", writers[ent.kind](model, ent, info))
            keys = sorted({k[1:] for k in model.keys_of.get(ent.iri, [])})
            ttl = ox.serialize(
                table.iter_triples(keys), format=ox.RdfFormat.TURTLE, prefixes=prefixes
            )
            files.put(folder / f"{ent.path}.ttl", ttl or b"")
            files.put(folder / f"{ent.path}.jsonld", writer.document(keys, compactor.prefixes))
            pages.append(ent.path)
            if progress is not None and task is not None:
                progress.advance(task)
        files.put(folder / "sitemap.xml", sitemap(info, pages))
    return pages


class FileWriter:
    """Writes files on two background threads while the caller renders the next page.

    At 100k resources the site is ≈ 330k small files, and creating a file is kernel work
    that releases the GIL: done here, it overlaps with page rendering on the other core.
    Folders are made in the caller's thread, before their files are queued; the queue is
    bounded so rendered pages never pile up in memory. The first error is raised again
    by `put` or on leaving the `with` block.
    """

    def __init__(
        self, workers: int = 2, backlog: int = 512, digests: dict[Path, str] | None = None
    ) -> None:
        self.digests = digests
        self._queue: queue.Queue[tuple[Path, bytes] | None] = queue.Queue(maxsize=backlog)
        self._dirs: set[Path] = set()
        self._error: BaseException | None = None
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(workers)]
        for t in self._threads:
            t.start()

    def __enter__(self) -> FileWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join()
        if self._error is not None and exc[0] is None:
            raise self._error

    def put(self, path: Path, data: bytes | str) -> None:
        if self._error is not None:
            raise self._error
        parent = path.parent
        if parent not in self._dirs:
            parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(parent)
        self._queue.put((path, data.encode("utf-8") if isinstance(data, str) else data))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None:
                continue
            try:
                item[0].write_bytes(item[1])
                if self.digests is not None:  # SHA256SUMS need not read the file back
                    self.digests[item[0]] = hashlib.sha256(item[1]).hexdigest()
            except BaseException as exc:  # handed to the caller's thread
                self._error = exc


def sitemap(info: SiteInfo, pages: list[str]) -> str:
    urls = "".join(
        f"<url><loc>{e(info.site_url + p)}.html</loc><lastmod>{info.date.isoformat()}</lastmod></url>\n"
        for p in sorted(pages)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + urls + "</urlset>\n"
    )
