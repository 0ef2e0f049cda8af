"""The static site in real headless Chromium (Debian's chromium, driven by Playwright).

The release of the site fixture (five invented resources) is served by a local HTTP server;
the browser clicks facets, filters, downloads the CSV and opens a resource page. Requests to
anything but the local server are recorded and must not happen: the site needs no network.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import rdflib

from resource_kg.catalog import Catalog
from resource_kg.publish import publish

# Outside CI a machine without the browser skips this test; CI sets RKG_REQUIRE_BROWSER=1 so
# that a missing browser fails instead of passing unnoticed.
REQUIRED = os.environ.get("RKG_REQUIRE_BROWSER") == "1"
if REQUIRED:
    import playwright.sync_api as playwright_sync
else:
    playwright_sync = pytest.importorskip("playwright.sync_api")

FIXTURE = Path(__file__).parent / "fixtures" / "publish" / "site"
DATE = dt.date(2024, 5, 1)
S4_TITLE = "Clinical quality </script><b>webinar</b> & more"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_executable() -> str:
    """Debian's Chromium (the browser tests of the site, of rkg serve and of the web face)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    return found


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Publish the fixture catalog and serve the release folder on 127.0.0.1 (free port)."""
    out = tmp_path_factory.mktemp("release")
    release = publish(Catalog.load(FIXTURE, today=DATE), out, version="1.0.0", date=DATE)
    handler = functools.partial(_QuietHandler, directory=str(release.path))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def launched_chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, under Playwright: the body of every browser fixture."""
    executable = chromium_executable()
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_chromium()


def _shown_ids(page: Any) -> list[str]:
    return sorted(
        page.eval_on_selector_all("#results tbody tr", "rows => rows.map(r => r.dataset.id)")
    )


def _count(page: Any, facet: str, value: str) -> str:
    return str(page.locator(f'#facet-{facet} button[data-value="{value}"] .count').inner_text())


def test_facets_filter_download_and_resource_page(
    server: str, browser: Any, tmp_path: Path
) -> None:
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    outside: list[str] = []
    dialogs: list[str] = []

    def on_dialog(d: Any) -> None:
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)

    def guard(route: Any) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.goto(f"{server}/site/index.html")
    assert _shown_ids(page) == ["s1", "s2", "s3", "s4", "s5"]
    assert page.locator("#summary").inner_text() == "5 of 5 resources"
    # Audience counts a resource once whether PCAs is its primary or secondary audience.
    assert _count(page, "audience", "PCAs") == "3"

    page.click('#facet-audience button[data-value="PCAs"]')
    assert _shown_ids(page) == ["s1", "s2", "s5"]
    assert (
        page.locator('#facet-audience button[data-value="PCAs"]').get_attribute("aria-pressed")
        == "true"
    )
    # Counts of the other facets follow the selection: 2 of the PCAs resources are clinical.
    assert _count(page, "topic", "Clinical Issues") == "2"
    assert _count(page, "topic", "Governance") == "1"

    page.click('#facet-topic button[data-value="Clinical Issues"]')
    assert _shown_ids(page) == ["s1", "s5"]
    assert page.locator("#summary").inner_text() == "2 of 5 resources"

    with page.expect_download() as info:
        page.click("#csv")
    download = info.value
    target = tmp_path / "resources.csv"
    download.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert sorted(r["id"] for r in rows) == ["s1", "s5"]
    s5 = next(r for r in rows if r["id"] == "s5")
    assert s5["audience"] == "Administrative Staff; PCAs"
    assert s5["language"] == "Spanish"
    assert s5["page"] == f"{server}/site/resource/s5.html"

    # Within a facet, values are alternatives: adding Spanish as language keeps only s5.
    page.click('#facet-language button[data-value="Spanish"]')
    assert _shown_ids(page) == ["s5"]

    page.click("#clear")
    page.fill("#q", "shelters")
    assert _shown_ids(page) == ["s3"]
    # s3's population was found in its summary (derived), and it is a facet value.
    assert _count(page, "population", "People experiencing homelessness") == "1"
    page.fill("#q", "")
    link = page.locator('#results tr[data-id="s4"] a')
    assert link.inner_text() == S4_TITLE  # markup in data is shown as text

    page.click('#facet-audience button[data-value="PCAs"]')
    page.click('#results tr[data-id="s1"] a')
    page.wait_for_url("**/site/resource/s1.html")
    data = json.loads(page.locator('script[type="application/ld+json"]').inner_text())
    assert data["@type"] == "LearningResource"
    assert data["@id"] == "https://w3id.org/resource-kg/resource/s1"
    assert data["name"] == "Heat safety guide for clinic teams"
    assert data["datePublished"] == "2021"
    assert data["inLanguage"] == ["en"]
    assert data["url"] == "https://example.org/resources/s1"
    assert {a["audienceType"] for a in data["audience"]} == {"Clinicians", "PCAs"}
    about = {a["name"] for a in data["about"]}
    assert {"Clinical Issues", "Health Equity", "Emergency Management"} <= about
    assert [c["name"] for c in data["creator"]] == ["Alpha Health Network"]

    # The page links to its data; the Turtle file beside it describes the same resource.
    alternates = page.eval_on_selector_all(
        'link[rel="alternate"]', "ls => ls.map(l => [l.type, l.href])"
    )
    assert sorted(t for t, _ in alternates) == ["application/ld+json", "text/turtle"]
    ttl_url = next(h for t, h in alternates if t == "text/turtle")
    body = page.request.get(ttl_url).text()
    graph = rdflib.Graph().parse(data=body, format="turtle")
    title = graph.value(
        rdflib.URIRef("https://w3id.org/resource-kg/resource/s1"),
        rdflib.URIRef("http://purl.org/dc/terms/title"),
    )
    assert str(title) == "Heat safety guide for clinic teams"

    # From the resource to its developer, whose page lists its resources.
    page.click('a:text("Alpha Health Network")')
    page.wait_for_url("**/site/org/alpha-network.html")
    listed = page.eval_on_selector_all("main li a", "as => as.map(a => a.textContent)")
    assert {"Heat safety guide for clinic teams", "Outreach in shelters"} <= set(listed)

    page.goto(f"{server}/site/resource/s4.html")
    assert page.locator("h1").inner_text() == S4_TITLE
    assert dialogs == []
    assert outside == []
    context.close()
