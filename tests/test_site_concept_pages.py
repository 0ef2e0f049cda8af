"""Long concept pages are paged: 100 resources a list, then page 2, 3, … (site and server)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_serve import Server, start_server, stop_server

from resource_kg import Catalog
from resource_kg.site import SiteModel, build_site, concept_page_count
from resource_kg.site.pages import CONCEPT_PAGE_SIZE, concept_sections

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r'<li><a href="([^"]+)\.html">')


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An invented catalog (bench/generate.py) of 260 records: some concepts have 100+."""
    root = tmp_path_factory.mktemp("paged") / "catalog"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "generate.py"),
            "260",
            "--seed",
            "3",
            "--out",
            str(root),
        ],
        check=True,
        capture_output=True,
    )
    return root


def _long_concept(catalog: Catalog) -> tuple[SiteModel, str, str, int]:
    model = SiteModel.build(catalog)
    best = max((e for e in model.of_kind("concept")), key=lambda e: concept_page_count(model, e))
    pages = concept_page_count(model, best)
    assert pages >= 2  # the fixture has a concept used by more than 100 resources
    return model, best.iri, best.path, pages


def _linked(html: str) -> list[str]:
    return [href.rsplit("/", 1)[-1] for href in LINK.findall(html)]


def test_the_static_site_pages_a_long_concept(generated: Path, tmp_path: Path) -> None:
    catalog = Catalog.load(generated)
    model, iri, path, pages = _long_concept(catalog)
    site = tmp_path / "site"
    written = build_site(
        catalog, site, version="1.0.0", date=dt.date(2026, 1, 1), base_url="https://x.invalid/"
    )
    files = [site / f"{path}.html"] + [site / path / f"page-{k}.html" for k in range(2, pages + 1)]
    assert all(f.is_file() for f in files)
    assert not (site / path / f"page-{pages + 1}.html").exists()
    assert f"{path}/page-2" in written  # and in the sitemap
    assert f"{path}/page-2.html" in (site / "sitemap.xml").read_text(encoding="utf-8")
    htmls = [f.read_text(encoding="utf-8") for f in files]
    # every page lists at most 100 a section, and the pages together list every resource once
    sections = concept_sections(model, iri)
    longest = max((items for _h, items in sections), key=len)
    shown: list[str] = []
    for html in htmls:
        assert len(_linked(html)) <= CONCEPT_PAGE_SIZE * len(sections)
        shown += _linked(html)
    ids = sorted(i.rsplit("/", 1)[-1] for _h, items in sections for i in items)
    assert sorted(shown) == ids
    assert len(longest) > CONCEPT_PAGE_SIZE
    assert f"1–100 of {len(longest):,}" in htmls[0]
    # next and previous links lead to files that exist
    assert 'rel="next" href="' in htmls[0] and 'rel="prev"' not in htmls[0]
    nxt = re.search(r'rel="next" href="([^"]+)"', htmls[0])
    assert nxt is not None and (files[0].parent / nxt.group(1)).resolve() == files[1].resolve()
    prev = re.search(r'rel="prev" href="([^"]+)"', htmls[1])
    assert prev is not None and (files[1].parent / prev.group(1)).resolve() == files[0].resolve()
    assert 'rel="next"' not in htmls[-1]


@pytest.fixture(scope="module")
def server(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("paged-log") / "serve.log"
    running = start_server(generated, log, "--no-watch")
    yield running
    stop_server(running)


def test_the_server_serves_the_same_pages(generated: Path, server: Server) -> None:
    catalog = Catalog.load(generated)
    model, iri, path, pages = _long_concept(catalog)
    shown: list[str] = []
    for k in range(1, pages + 1):
        url = f"{server.url}/{path}" + ("" if k == 1 else f"/page-{k}")
        answer = httpx.get(url, headers={"Accept": "text/html"}, timeout=30)
        assert answer.status_code == 200, url
        assert f"Page {k} of {pages}" in answer.text
        shown += _linked(answer.text)
    ids = sorted(i.rsplit("/", 1)[-1] for _h, items in concept_sections(model, iri) for i in items)
    assert sorted(shown) == ids
    missing = httpx.get(f"{server.url}/{path}/page-{pages + 1}", timeout=30)
    assert missing.status_code == 404
