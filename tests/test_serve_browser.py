"""`rkg serve` in real headless Chromium: the faceted index, a resource page, its Turtle.

The same browser setup as test_site_browser.py (Debian's chromium driven by Playwright);
the server is a real `rkg serve` process. Requests to anything but the server are recorded
and must not happen, and the pages' Content-Security-Policy must not block anything.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import rdflib
from test_serve import REPO, Server, start_server, stop_server

REQUIRED = os.environ.get("RKG_REQUIRE_BROWSER") == "1"
if REQUIRED:
    import playwright.sync_api as playwright_sync
else:
    playwright_sync = pytest.importorskip("playwright.sync_api")

from test_site_browser import launched_chromium  # noqa: E402

HOUSING = "Community, Health, and Housing Partnerships"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("catalog")
    shutil.copytree(REPO / "data", root / "data")
    srv = start_server(root, tmp_path_factory.mktemp("log") / "serve.log")
    try:
        yield srv
    finally:
        stop_server(srv)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_chromium()


def _shown_ids(page: Any) -> list[str]:
    return sorted(
        page.eval_on_selector_all("#results tbody tr", "rows => rows.map(r => r.dataset.id)")
    )


def test_index_facet_resource_page_and_turtle_alternate(server: Server, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    outside: list[str] = []
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    def guard(route: Any) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.goto(server.url + "/")
    assert _shown_ids(page) == ["3182", "3736", "4184"]
    page.click(f'#facet-subtopic button[data-value="{HOUSING}"]')
    assert _shown_ids(page) == ["3736", "4184"]

    page.click('#results tr[data-id="4184"] a')
    page.wait_for_url("**/resource/4184.html")
    assert page.locator("h1").inner_text().startswith("Advancing MLP")
    alternates = page.eval_on_selector_all(
        'link[rel="alternate"]', "ls => ls.map(l => [l.type, l.href])"
    )
    ttl_url = next(h for t, h in alternates if t == "text/turtle")
    assert ttl_url == server.url + "/resource/4184.ttl"
    page.goto(ttl_url)  # followed as a browser would
    body = page.request.get(ttl_url).text()
    graph = rdflib.Graph().parse(data=body, format="turtle")
    iri = rdflib.URIRef("https://w3id.org/resource-kg/resource/4184")
    title = graph.value(iri, rdflib.URIRef("http://purl.org/dc/terms/title"))
    assert str(title).startswith("Advancing MLP")

    # The query page: a stored question as example, run, answered as a table.
    page.goto(server.url + "/sparql")
    page.select_option("#example", index=1)
    assert "SELECT" in page.locator("#query").input_value().upper()
    page.fill(
        "#query", "SELECT ?id WHERE { ?r <http://purl.org/dc/terms/identifier> ?id } ORDER BY ?id"
    )
    page.click('button[type="submit"]')
    page.wait_for_selector("#results")
    cells = page.eval_on_selector_all("#results tbody td", "ts => ts.map(t => t.textContent)")
    assert cells == ["3182", "3736", "4184"]
    assert outside == []
    assert problems == []
    context.close()
