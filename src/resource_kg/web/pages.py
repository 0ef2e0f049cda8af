"""What the server shows for an IRI: the static site's page, or the entity's description.

Pages come from the site's own renderers (`resource_kg.site`), so the site and the server
cannot drift apart; only absolute links into `{base}` are mapped onto the server's root.
A description is the entity's triples (its population tags included, as in the site's .ttl)
plus the labels of every IRI it links to, so a client can show it without a second request.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyoxigraph as ox

from resource_kg import jsonld, site
from resource_kg.catalog import Catalog
from resource_kg.graph import DCT, FOAF, RDFS, SKOS, QuadKey, TripleKey
from resource_kg.query import StoredQuery, load_queries
from resource_kg.web.negotiation import GRAPH_TYPES

VERSION = "live"
LABELS = frozenset(
    f"<{p}>" for p in (SKOS + "prefLabel", RDFS + "label", FOAF + "name", DCT + "title")
)
#: The files of /downloads/: what a release carries that the server can make from the store.
DOWNLOADS: tuple[tuple[str, str], ...] = (
    ("catalog.ttl", "text/turtle"),
    ("catalog.nt.gz", "application/gzip"),
    ("catalog.trig", "application/trig"),
    ("catalog.jsonld", "application/ld+json"),
    ("context.jsonld", "application/ld+json"),
    ("ontology.ttl", "text/turtle"),
    ("vocabularies.ttl", "text/turtle"),
    ("void.ttl", "text/turtle"),
)
SITE_ASSETS = ("site.css", "facets.js")
WEB_ASSETS = ("query.js", "live.js", "web.css")
ONTOLOGY_PATH = "ontology"
PageWriter = Callable[[site.SiteModel, site.Entity, site.SiteInfo], str]
WRITERS: dict[str, PageWriter] = {
    "resource": site.resource_page,
    "organization": site.organization_page,
    "concept": site.concept_page,
    "scheme": site.scheme_page,
}


def asset(name: str) -> bytes | None:
    """A bundled stylesheet or script by exact name; anything else is None (no path walk)."""
    if name in SITE_ASSETS:
        return resources.files("resource_kg").joinpath("site_assets").joinpath(name).read_bytes()
    if name in WEB_ASSETS:
        return resources.files("resource_kg.web").joinpath("assets").joinpath(name).read_bytes()
    return None


@dataclass(frozen=True)
class Target:
    """A dereferenceable thing: an entity of the site model, or the ontology."""

    entity: site.Entity | None  # None: the ontology
    iri: str
    page: int = 1  # a concept's page 2, 3, … (`site.concept_page_path`)


class Pages:
    """The site model of a catalog, built once, and every page and description made from it."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        date: dt.date | None = None,
        queries: dict[str, StoredQuery] | None = None,
        model: site.SiteModel | None = None,
        previous: Pages | None = None,
    ) -> None:
        """`model` and `previous` (see `updated`) spare building what an edit did not change."""
        self.catalog = catalog
        self.base = catalog.settings.base
        self.date = date or dt.date.today()
        self.model = model if model is not None else site.SiteModel.build(catalog)
        self.prefixes = jsonld.catalog_prefixes(self.base)
        self.compactor = jsonld.Compactor(self.prefixes)
        self.writer = jsonld.KeyWriter(self.compactor, catalog.quad_table.table.terms)
        if previous is None:
            self.targets: dict[str, Target] = {}
            for ent in self.model.entities.values():
                self._target(ent)
            ontology = str(catalog.graphs.ontology)
            self.ontology_keys: list[TripleKey] = sorted(
                {k[1:] for k in catalog.quad_table.graph_keys(ontology)}
            )
        else:
            self.targets = dict(previous.targets)
            for ent in self.model.entities.values():
                if previous.model.entities.get(ent.iri) is not ent:
                    self._target(ent, replace=True)
            self.ontology_keys = previous.ontology_keys
        self.ontology_iri = self.base + ONTOLOGY_PATH
        self.targets[ONTOLOGY_PATH] = Target(None, self.ontology_iri)
        self.queries: dict[str, StoredQuery] = (
            queries if queries is not None else load_queries(catalog.paths.queries)
        )
        self.choice_cache: dict[str, Any] = {}  # web.questions.choices, per parameter kind
        self.label_index: dict[str, str] | None = None
        self._index: dict[str, tuple[str, str]] = {}
        # Separate locks: making the dumps (seconds at 100k) must not hold up the index.
        self._index_lock = threading.Lock()
        self._downloads_lock = threading.Lock()
        self._downloads: tempfile.TemporaryDirectory[str] | None = None

    def _target(self, ent: site.Entity, *, replace: bool = False) -> None:
        self.targets[ent.path] = Target(ent, ent.iri)
        if ent.iri.startswith(self.base):  # the IRI's own path, when safe_name changed it
            own = unquote(ent.iri[len(self.base) :])
            if replace and own != ent.path:
                self.targets[own] = Target(ent, ent.iri)
            else:
                self.targets.setdefault(own, Target(ent, ent.iri))

    @classmethod
    def updated(
        cls,
        previous: Pages,
        catalog: Catalog,
        queries: dict[str, StoredQuery],
        records: dict[str, list[QuadKey]],
    ) -> Pages:
        """The pages of `catalog`, whose records `records` (id → their quads) were edited since
        `previous`: the model is updated (`site.delta`) when no page appeared or went, else
        built whole. The context (ontology, vocabularies, settings) must be unchanged."""
        from resource_kg.graph import resource_iri
        from resource_kg.site.delta import updated_model

        base = catalog.settings.base
        iris = [resource_iri(base, rid) for rid in records]
        keys = [k for ks in records.values() for k in ks]
        model = updated_model(previous.model, catalog, iris, keys)
        if model is None:
            return cls(catalog, queries=queries)
        return cls(catalog, queries=queries, model=model, previous=previous)

    # ------------------------------------------------------------ pages

    def info(self, root_url: str) -> site.SiteInfo:
        s = self.catalog.settings
        return site.SiteInfo(
            s.title, s.description, s.publisher, s.license, VERSION, self.date, root_url
        )

    def map_links(self, page: str, root_url: str) -> str:
        """Absolute links into {base} point at the server instead (IRIs shown as text stay)."""
        return page.replace(f'href="{site.e(self.base)}', f'href="{site.e(root_url)}')

    def page(self, target: Target, root_url: str) -> str:
        info = self.info(root_url)
        if target.entity is None:
            html = site.ontology_page(self.model, info)
        else:
            html = (
                site.concept_page(self.model, target.entity, info, target.page)
                if target.page > 1
                else WRITERS[target.entity.kind](self.model, target.entity, info)
            )
        return self.map_links(html, root_url)

    def index(self, root_url: str) -> tuple[str, str]:
        """The faceted index and its data script (made once per root URL: costly at 100k)."""
        with self._index_lock:
            made = self._index.get(root_url)
            if made is None:
                page, script = site.index_page(self.model, self.info(root_url))
                made = self._index[root_url] = (self.map_links(page, root_url), script)
            return made

    def chrome(
        self, path: str, root_url: str, title: str, body: str, scripts: tuple[str, ...] = ()
    ) -> str:
        """A page of the server's own (query page, downloads) in the site's frame."""
        pg = site.Page(self.model, path, self.info(root_url))
        html = pg.render(title, body, scripts=scripts)
        own = f'<link rel="stylesheet" href="{pg.root}assets/web.css">\n</head>'
        return html.replace("</head>", own, 1)

    # ------------------------------------------------------------ descriptions

    def find(self, path: str) -> Target | None:
        found = self.targets.get(path)
        if found is None and "/page-" in path:  # a long concept page's page 2, 3, …
            head, _, number = path.rpartition("/page-")
            owner = self.targets.get(head)
            if (
                owner is not None
                and owner.entity is not None
                and owner.entity.kind == "concept"
                and number.isascii()
                and number.isdigit()
                and not number.startswith("0")
                and 2 <= int(number) <= site.concept_page_count(self.model, owner.entity)
            ):
                found = Target(owner.entity, owner.iri, int(number))
        return found

    def description_keys(self, target: Target) -> list[TripleKey]:
        """The entity's triples and the labels of the IRIs they name (sorted, distinct)."""
        if target.entity is None:
            return self.ontology_keys
        own = {k[1:] for k in self.model.keys_of.get(target.iri, [])}
        linked = {o[1:-1] for _, p, o in own if o[0] == "<"} | {p[1:-1] for _, p, _ in own}
        linked.discard(target.iri)
        labels = {
            k[1:] for iri in linked for k in self.model.keys_of.get(iri, []) if k[2] in LABELS
        }
        return sorted(own | labels)

    def describe(self, target: Target, media: str) -> bytes:
        keys = self.description_keys(target)
        table = self.catalog.quad_table
        if media == "application/ld+json":
            return self.writer.document(keys, self.compactor.prefixes).encode()
        triples = table.iter_triples(keys)
        return ox.serialize(triples, format=GRAPH_TYPES[media], prefixes=self.prefixes) or b""

    # ------------------------------------------------------------ downloads

    def downloads(self, root_url: str) -> Path:
        """The dump folder, written on first use with the release's own writers."""
        from resource_kg.publish import void_description, write_dumps

        with self._downloads_lock:
            if self._downloads is None:
                folder = tempfile.TemporaryDirectory(prefix="rkg-serve-")
                path = Path(folder.name)
                stats = write_dumps(self.catalog, path)
                void = void_description(
                    self.catalog,
                    stats,
                    path,
                    version=VERSION,
                    date=self.date,
                    base_url=root_url,
                    notes=["Served live by rkg serve from the catalog folder."],
                )
                (path / "void.ttl").write_bytes(void)
                self._downloads = folder
            return Path(self._downloads.name)

    def close(self) -> None:
        if self._downloads is not None:
            self._downloads.cleanup()
            self._downloads = None


def examples_json(queries: dict[str, StoredQuery]) -> str:
    """The stored questions for the query page's example list (escaped for <script>)."""
    return site.script_json(
        [{"name": q.name, "title": q.title, "text": q.text} for q in queries.values()]
    )


def results_table(doc: dict[str, Any], link: Callable[[str], str]) -> str:
    """SPARQL JSON results as an HTML table; every value escaped, IRIs as links."""
    if "boolean" in doc:
        return f'<p id="answer">{"yes (true)" if doc["boolean"] else "no (false)"}</p>'
    names: list[str] = doc["head"]["vars"]
    rows = doc["results"]["bindings"]
    head = "".join(f"<th>{site.e(n)}</th>" for n in names)
    body = []
    for row in rows:
        cells = []
        for n in names:
            term = row.get(n)
            if term is None:
                cells.append("<td></td>")
            elif term["type"] == "uri":
                cells.append(
                    f'<td><a href="{site.e(link(term["value"]))}">{site.e(term["value"])}</a></td>'
                )
            else:
                cells.append(
                    f"<td>{site.e(term['value'] if term['type'] != 'triple' else json.dumps(term['value']))}</td>"
                )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<p id="answer">{len(rows)} row(s)</p>'
        f'<table id="results"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )
