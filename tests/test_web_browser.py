"""`rkg serve` for people, in real headless Chromium (Debian's, driven by Playwright):

- a stored question's form filled in (PCAs, housing) gives the two rows, and its CSV downloads;
- the live preview: a title edited on disk is on the open page within 2 s (the page reloads
  itself), a broken record is named with file and line on /errors while other pages answer;
- a phone (390 px wide): no sideways scroll, the facets behind a button, results first and paged;
- axe-core (npm, injected by the test) on /, a resource page, a concept page, a question form
  and its answer: no serious or critical violation.

With RKG_REQUIRE_BROWSER=1 (CI) a missing browser or a missing axe-core fails, never skips.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_serve import REPO, Server, start_server, stop_server, wait_until_validated
from test_site_browser import launched_chromium

REQUIRED = os.environ.get("RKG_REQUIRE_BROWSER") == "1"
if REQUIRED:
    import playwright.sync_api as playwright_sync
else:
    playwright_sync = pytest.importorskip("playwright.sync_api")

AXE = Path(os.environ.get("RKG_AXE", REPO / "node_modules" / "axe-core" / "axe.min.js"))
PHONE = {"width": 390, "height": 844}
LIVE_LIMIT_MS = 2000


@pytest.fixture(scope="module")
def catalog_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    shutil.copytree(REPO / "data", root / "data")
    return root


@pytest.fixture(scope="module")
def server(catalog_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(catalog_root, tmp_path_factory.mktemp("log") / "serve.log")
    try:
        wait_until_validated(srv)
        yield srv
    finally:
        stop_server(srv)


@pytest.fixture(scope="module")
def big_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A catalog of 123 records (the bundled three and 120 copies): enough for pages."""
    root = tmp_path_factory.mktemp("big")
    shutil.copytree(REPO / "data", root / "data")
    model = (REPO / "data" / "resources" / "3182.yaml").read_text(encoding="utf-8")
    for i in range(120):
        rid = str(5000 + i)
        text = model.replace("3182", rid).replace("title: ", f"title: Copy {i:03d} of ", 1)
        (root / "data" / "resources" / f"{rid}.yaml").write_text(text, encoding="utf-8")
    srv = start_server(root, tmp_path_factory.mktemp("log") / "big.log", "--no-watch")
    try:
        yield srv
    finally:
        stop_server(srv)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_chromium()


class Watched:
    """A page whose requests outside the server, console errors and CSP reports are kept."""

    def __init__(self, browser: Any, server: Server, **options: Any) -> None:
        self.context = browser.new_context(**options)
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.problems: list[str] = []
        self.page.on(
            "console", lambda m: self.problems.append(m.text) if m.type == "error" else None
        )
        self.page.on("pageerror", lambda exc: self.problems.append(str(exc)))

        def guard(route: Any) -> None:
            if route.request.url.startswith(server.url):
                route.continue_()
            else:
                self.outside.append(route.request.url)
                route.abort()

        self.page.route("**/*", guard)

    def close(self) -> None:
        self.context.close()
        assert self.outside == []


def ids(page: Any) -> list[str]:
    return list(
        page.eval_on_selector_all(
            "#results tbody tr", "rows => rows.map(r => r.cells[0].textContent)"
        )
    )


def fill_audience_topic(page: Any, server: Server) -> None:
    page.goto(server.url + "/queries")
    page.click("#q-audience-topic h2 a")
    page.wait_for_url("**/queries/audience-topic")
    page.select_option("#p-audience", "PCAs")
    page.fill("#p-topic", "housing")
    page.click('form.question button[type="submit"]')
    page.wait_for_selector("#results")


def test_question_form_answer_and_csv_download(server: Server, browser: Any) -> None:
    w = Watched(browser, server, accept_downloads=True)
    page = w.page
    fill_audience_topic(page, server)
    assert ids(page) == ["3736", "4184"]
    assert page.locator("#answer").inner_text().startswith("2 row(s)")
    page.click('#results tbody tr:first-child a[href$="/resource/3736"]')
    page.wait_for_url("**/resource/3736")
    assert page.locator("h1").inner_text() == "A Profile of Migrant Health"
    page.go_back()
    with page.expect_download() as info:
        page.click("#download-csv")
    download = info.value
    body = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["id"] for r in rows] == ["3736", "4184"]
    assert download.suggested_filename == "audience-topic.csv"
    # the SPARQL behind it opens in the query page, and answers the same two rows there
    page.click("#open-in-sparql")
    page.wait_for_selector("#results")
    assert "VALUES ?_audience" in page.locator("#query").input_value()
    assert len(page.locator("#results tbody tr").all()) == 2
    assert w.problems == []
    w.close()


def test_unknown_label_page_offers_the_closest(server: Server, browser: Any) -> None:
    w = Watched(browser, server)
    page = w.page
    page.goto(server.url + "/queries/audience-topic?audience=PCX&topic=housing")
    assert "PCX" in page.locator("#problem").inner_text()
    page.click('.closest a:text-is("PCAs")')
    page.wait_for_selector("#results")
    assert ids(page) == ["3736", "4184"]
    w.close()


def test_live_edit_and_broken_record(server: Server, catalog_root: Path, browser: Any) -> None:
    record = catalog_root / "data" / "resources" / "4184.yaml"
    before = record.read_bytes()
    w = Watched(browser, server)
    page = w.page
    try:
        page.goto(server.url + "/resource/4184")
        assert page.locator("h1").inner_text().startswith("Advancing MLP")
        time.sleep(0.5)  # the page's live script has polled once
        text = before.decode()
        started = time.monotonic()
        record.write_text(text.replace('title: "Advancing', 'title: "Browser-edited', 1))
        page.wait_for_function(
            "() => document.querySelector('h1').textContent.startsWith('Browser-edited')",
            timeout=LIVE_LIMIT_MS,
        )
        print(f"edit to visible in the browser: {(time.monotonic() - started) * 1000:.0f} ms")
        # broken: /errors names the file and line; the other pages still answer
        record.write_text(text + "keywords: [unclosed\n")
        page.goto(server.url + "/errors")
        page.wait_for_selector("#errors", timeout=LIVE_LIMIT_MS)
        where = page.locator("#errors .where").first.inner_text()
        assert where.startswith("data/resources/4184.yaml:")
        assert int(where.rsplit(":", 1)[1]) > 1
        page.goto(server.url + "/resource/3182")
        assert page.locator("h1").inner_text().startswith("Heat-Related Illness")
        assert "4184.yaml" in page.locator(".curator-alert").inner_text()
        page.goto(server.url + "/resource/4184")
        assert page.locator("h1").inner_text().startswith("Browser-edited")  # the last good one
        fill_audience_topic(page, server)
        assert ids(page) == ["3736", "4184"]
        page.goto(server.url + "/")
        page.wait_for_selector("#results tbody tr")
    finally:
        record.write_bytes(before)
    page.goto(server.url + "/errors")
    page.wait_for_selector("#no-errors", timeout=LIVE_LIMIT_MS + 2000)
    w.close()
    wait_until_validated(server)  # the restored version's reload comes before the next test


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


def test_phone_index_and_pages(server: Server, browser: Any) -> None:
    w = Watched(browser, server, viewport=PHONE, is_mobile=True, has_touch=True)
    page = w.page
    page.goto(server.url + "/")
    page.wait_for_selector("#results tbody tr")
    no_sideways_scroll(page)
    assert page.locator("#facets-toggle").is_visible()
    assert not page.locator("#facets").is_visible()
    first_row = page.locator("#results tbody tr").first.bounding_box()
    assert first_row is not None and first_row["y"] < PHONE["height"]  # results come first
    page.click("#facets-toggle")
    assert page.locator("#facets").is_visible()
    assert page.locator("#facets-toggle").get_attribute("aria-expanded") == "true"
    page.click('#facet-subtopic button[data-value="Community, Health, and Housing Partnerships"]')
    assert sorted(
        page.eval_on_selector_all("#results tbody tr", "rs => rs.map(r => r.dataset.id)")
    ) == ["3736", "4184"]
    no_sideways_scroll(page)
    for path in (
        "/resource/4184",
        "/concept/audience/pcas",
        "/concept/audience",
        "/queries",
        "/queries/audience-topic?audience=PCAs&topic=housing",
        "/sparql",
        "/api",
    ):
        page.goto(server.url + path)
        no_sideways_scroll(page)
    w.close()


def test_phone_results_are_paged(big_server: Server, browser: Any) -> None:
    w = Watched(browser, big_server, viewport=PHONE, is_mobile=True)
    page = w.page
    page.goto(big_server.url + "/")
    page.wait_for_selector("#results tbody tr")
    no_sideways_scroll(page)
    rows = page.locator("#results tbody tr")
    assert rows.count() == 50
    assert "123 of 123 resources; rows 1–50 shown" in page.locator("#summary").inner_text()
    assert page.locator("#page-prev").is_disabled()
    page.click("#page-next")
    assert "rows 51–100" in page.locator("#summary").inner_text()
    page.click("#page-next")
    assert rows.count() == 23
    assert page.locator("#page-next").is_disabled()
    assert page.locator("#pager .page-of").inner_text() == "Page 3 of 3"
    page.click("#page-prev")
    assert rows.count() == 50
    w.close()


def axe_source() -> str:
    if not AXE.is_file():
        message = f"axe-core is not installed ({AXE}): run npm ci in the repository"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


AXE_PAGES = (
    "/",
    "/resource/4184",
    "/concept/audience/pcas",
    "/queries/audience-topic",
    "/queries/audience-topic?audience=PCAs&topic=housing",
)


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_axe_no_serious_or_critical_violation(
    server: Server, browser: Any, viewport: dict[str, int] | None
) -> None:
    source = axe_source()
    # The test injects axe as a script of its own: the pages' CSP would refuse it.
    options: dict[str, Any] = {"bypass_csp": True}
    if viewport is not None:
        options["viewport"] = viewport
    w = Watched(browser, server, **options)
    page = w.page
    found: dict[str, list[str]] = {}
    for path in AXE_PAGES:
        page.goto(server.url + path)
        if path == "/":
            page.wait_for_selector("#results tbody tr")
        page.add_script_tag(content=source)
        result = page.evaluate("async () => await axe.run(document)")
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + "; ".join(str(n["target"]) for n in v["nodes"][:3])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if bad:
            found[path] = bad
        assert result["passes"], "axe ran no check"
    assert found == {}
    w.close()


def test_axe_fails_on_a_violation(server: Server, browser: Any) -> None:
    """The check above would see one: a page made inaccessible on purpose."""
    source = axe_source()
    w = Watched(browser, server, bypass_csp=True)
    page = w.page
    page.goto(server.url + "/queries/audience-topic")
    page.evaluate("document.querySelector('label[for=p-audience]').remove()")
    page.add_script_tag(content=source)
    result = page.evaluate("async () => await axe.run(document)")
    assert any(
        v["impact"] in ("serious", "critical") and v["id"] in ("select-name", "label")
        for v in result["violations"]
    )
    w.close()
