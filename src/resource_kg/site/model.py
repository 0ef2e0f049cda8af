"""What the pages are made of: the site model read once from the catalog's quads (entities, labels, facets), the page frame, HTML escaping."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from resource_kg.catalog import Catalog
from resource_kg.config import CONCEPT_BASE
from resource_kg.graph import DCT, FIELD_SPECS, FOAF, RDF, RDFS, SKOS, QuadKey
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
    ("status", "Status (pick active to hide retired resources)"),
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
    "status": (RKG + "status",),
}


#: The status concepts: a record that states no status is active (it is retired only when it
#: says so), so the Status facet's "active" hides exactly the retired ones.
ACTIVE = CONCEPT_BASE + "status/active"
RETIRED = CONCEPT_BASE + "status/retired"


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
    #: A concept page's resource lists (`pages.concept_sections`), sorted once for all its pages.
    sections_cache: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)
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
        found = collect(table.keys, table.table.terms, str(catalog.graphs.derived))
        m.facts, m.labels, m.derived = found.facts, found.labels, found.derived
        m.tags, m.keys_of = found.tags, found.keys_of
        for iri, classes in sorted(found.types.items()):
            ent = entity_of(m, iri, classes)
            if ent is not None:
                m.entities[iri] = ent
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


@dataclass
class Collected:
    """What one pass over quad keys finds, per subject (see `collect`)."""

    facts: dict[str, dict[str, list[ox.NamedNode | ox.Literal]]]
    labels: dict[str, str]
    derived: dict[str, list[str]]
    tags: dict[str, list[tuple[str, str, str]]]
    keys_of: dict[str, list[QuadKey]]
    types: dict[str, set[str]]


_RANK = {SKOS + "prefLabel": 0, FOAF + "name": 1, DCT + "title": 2, RDFS + "label": 3}
_TAG_PREDICATES = {RDF + "subject", RDF + "object", RKG + "sourceField", RKG + "matchedLabel"}


def collect(keys: Iterable[QuadKey], terms: Mapping[str, Any], derived_graph: str) -> Collected:
    """Group sorted, distinct quad keys by subject: the whole catalog's (`SiteModel.build`) or
    a few records' (`site.delta`), with the same result for a subject either way."""
    facts: dict[str, dict[str, list[ox.NamedNode | ox.Literal]]] = defaultdict(
        lambda: defaultdict(list)
    )
    keys_of: dict[str, list[QuadKey]] = defaultdict(list)
    tag_parts: dict[str, dict[str, str]] = defaultdict(dict)
    derived: dict[str, list[str]] = defaultdict(list)
    types: dict[str, set[str]] = defaultdict(set)
    rank, tag_preds = _RANK, _TAG_PREDICATES
    best: dict[str, tuple[int, str]] = {}
    serves, rdf_type = RKG + "servesPopulation", RDF + "type"
    for quad in keys:
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
    return Collected(
        {k: dict(v) for k, v in facts.items()},
        {k: v[1] for k, v in best.items()},
        {k: sorted(set(v)) for k, v in derived.items()},
        dict(tags),
        dict(keys_of),
        dict(types),
    )


def entity_of(m: SiteModel, iri: str, classes: set[str]) -> Entity | None:
    """The page an IRI gets from its classes (None: it has no page of its own)."""
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
        return None
    return Entity(iri, kind, path, m.labels.get(iri, last))


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
