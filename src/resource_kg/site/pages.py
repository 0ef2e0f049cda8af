"""One HTML page per entity: resource (with its JSON-LD), organization, concept, scheme, ontology. The same renderers serve the static site and `rkg serve`."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyoxigraph as ox

from resource_kg import jsonld
from resource_kg.graph import DCT, FIELD_SPECS, FOAF, PREFIXES, RDF, RDFS, SCHEMA, SKOS
from resource_kg.site.model import FIELD_OF, OWL, RKG, Entity, Page, SiteInfo, SiteModel, e

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


#: Resources a concept page lists per section; longer lists continue on further pages.
CONCEPT_PAGE_SIZE = 100


def _ordered(m: SiteModel, iris: list[str]) -> list[str]:
    return sorted(set(iris), key=lambda i: (m.label(i).casefold(), i))


def _resource_list(pg: Page, m: SiteModel, iris: list[str]) -> str:
    ordered = _ordered(m, iris)
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


def concept_sections(m: SiteModel, iri: str) -> list[tuple[str, list[str]]]:
    """The resource lists of a concept's page: (heading, resource IRIs in label order)."""
    kept = m.sections_cache.get(iri)
    if kept is not None:
        return kept
    by_pred: dict[str, list[str]] = defaultdict(list)
    for pred, res in m.inverse.get(iri, []):
        by_pred[pred].append(res)
    sections: list[tuple[str, list[str]]] = []
    for pred in sorted(by_pred, key=lambda p: list(FIELD_OF).index(p) if p in FIELD_OF else 99):
        name = FIELD_OF.get(pred, m.label(pred)).replace("_", " ")
        heading = (
            f"Resources with this {name}"
            if pred != RKG + "servesPopulation"
            else "Resources serving it (curated)"
        )
        sections.append((heading, _ordered(m, by_pred[pred])))
    found = m.inverse_derived.get(iri, [])
    if found:
        sections.append(("Resources whose text names it (derived)", _ordered(m, found)))
    m.sections_cache[iri] = sections
    return sections


def concept_page_count(m: SiteModel, ent: Entity) -> int:
    """How many pages the concept's page takes: its longest list, `CONCEPT_PAGE_SIZE` a page."""
    longest = max((len(items) for _h, items in concept_sections(m, ent.iri)), default=0)
    return max(1, -(-longest // CONCEPT_PAGE_SIZE))


def concept_page_path(ent: Entity, page: int) -> str:
    """Page 1 is the concept's own page; page k > 1 lives below it: `<path>/page-<k>`."""
    return ent.path if page == 1 else f"{ent.path}/page-{page}"


def _pager(pg: Page, ent: Entity, page: int, pages: int) -> str:
    links = []
    if page > 1:
        links.append(
            f'<a rel="prev" href="{e(pg.href(concept_page_path(ent, page - 1)))}">Previous</a>'
        )
    links.append(f'<span class="page-of">Page {page} of {pages}</span>')
    if page < pages:
        links.append(
            f'<a rel="next" href="{e(pg.href(concept_page_path(ent, page + 1)))}">Next</a>'
        )
    return f'<nav class="pager" aria-label="Pages of this concept\'s resources">{" ".join(links)}</nav>'


def concept_page(m: SiteModel, ent: Entity, info: SiteInfo, page: int = 1) -> str:
    """The concept's page; a list longer than `CONCEPT_PAGE_SIZE` continues on page 2, 3, …"""
    pages = concept_page_count(m, ent)
    if not 1 <= page <= pages:
        raise ValueError(f"{ent.path} has {pages} page(s), not {page}")
    pg = Page(m, concept_page_path(ent, page), info)
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
    sections = concept_sections(m, iri)
    first = (page - 1) * CONCEPT_PAGE_SIZE
    if pages > 1:
        parts.append(_pager(pg, ent, page, pages))
    for heading, items in sections:
        chunk = items[first : first + CONCEPT_PAGE_SIZE]
        if len(items) > CONCEPT_PAGE_SIZE:
            shown = (
                f"{first + 1:,}–{first + len(chunk):,} of {len(items):,}"
                if chunk
                else f"{len(items):,}, all on earlier pages"
            )
            heading = f"{heading} ({shown})"
        body = "<ul>" + "".join(f"<li>{pg.link(i)}</li>" for i in chunk) + "</ul>" if chunk else ""
        parts.append(f"<h2>{e(heading)}</h2>" + body)
    if not sections:
        parts.append('<p class="muted">No resource of this release uses this concept.</p>')
    if pages > 1:
        parts.append(_pager(pg, ent, page, pages))
    if page == 1:
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
    title = ent.label if page == 1 else f"{ent.label} (page {page} of {pages})"
    return pg.render(title, "\n".join(parts), data=data, alternates=page == 1)


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
