"""The release's static website: faceted index, one page per entity, ontology and schemes.

Pages are plain HTML written from the graph (not from the records), so they show exactly what
the dumps say. Each entity page sits at the path of its IRI below the base (resource/3182.html
for {base}resource/3182) with a .ttl and a .jsonld beside it, so a static host serves linked
data by file extension. All text is HTML-escaped; JSON inside <script> has '<', '>' and '&'
escaped, so no value can close the element.

    model   the site model read once from the quads, the page frame, escaping
    delta   the site model of an edit, made from the previous one and the edited records
    pages   one page per entity (resource + JSON-LD, organization, concept, scheme, ontology)
    index   the faceted index page
    build   the static site written to disk (pages, .ttl/.jsonld beside them, assets, sitemap)
"""

from __future__ import annotations

from resource_kg.site.build import FileWriter, build_site, sitemap
from resource_kg.site.index import INDEX_SCRIPT, index_data, index_page
from resource_kg.site.model import (
    FIELD_OF,
    OWL,
    RKG,
    SAFE_NAME,
    TAG,
    Entity,
    Page,
    SiteInfo,
    SiteModel,
    e,
    safe_name,
    script_json,
)
from resource_kg.site.pages import (
    concept_page,
    concept_page_count,
    concept_page_path,
    ontology_page,
    organization_page,
    resource_jsonld,
    resource_page,
    scheme_page,
)

__all__ = [
    "Entity",
    "FIELD_OF",
    "FileWriter",
    "INDEX_SCRIPT",
    "OWL",
    "Page",
    "RKG",
    "SAFE_NAME",
    "SiteInfo",
    "SiteModel",
    "TAG",
    "build_site",
    "concept_page",
    "concept_page_count",
    "concept_page_path",
    "e",
    "index_data",
    "index_page",
    "ontology_page",
    "organization_page",
    "resource_jsonld",
    "resource_page",
    "safe_name",
    "scheme_page",
    "script_json",
    "sitemap",
]
