"""The faceted index page and the data its script filters."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from resource_kg.graph import DCT, SCHEMA
from resource_kg.site.model import (
    ACTIVE,
    FACET_PREDICATES,
    FACETS,
    RETIRED,
    RKG,
    Page,
    SiteInfo,
    SiteModel,
    e,
    script_json,
)

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
            if key == "status" and not found:
                found = {m.label(ACTIVE)}
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
        if any(v.value == RETIRED for v in m.values(iri, RKG + "status")):
            row["r"] = 1  # retired: marked in the list
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
