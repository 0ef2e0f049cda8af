"""Writing the static site: every page with its .ttl and .jsonld beside it, the assets and the sitemap."""

from __future__ import annotations

import datetime as dt
import hashlib
import queue
import threading
from importlib import resources
from pathlib import Path

import pyoxigraph as ox
from rich.progress import Progress

from resource_kg import jsonld
from resource_kg.catalog import Catalog
from resource_kg.site.index import INDEX_SCRIPT, index_page
from resource_kg.site.model import SiteInfo, SiteModel, e
from resource_kg.site.pages import (
    concept_page,
    concept_page_count,
    concept_page_path,
    ontology_page,
    organization_page,
    resource_page,
    scheme_page,
)

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
            if ent.kind == "concept":  # a long list continues on <path>/page-2.html, …
                for k in range(2, concept_page_count(model, ent) + 1):
                    path = concept_page_path(ent, k)
                    files.put(folder / f"{path}.html", concept_page(model, ent, info, k))
                    pages.append(path)
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
