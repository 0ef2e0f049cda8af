"""A retired resource on the static site: marked in the list, and the Status facet hides it.

The site fixture (five invented resources, none with a status) is copied and one record, s2,
retired in favour of s1, as a curator would; its release is served on 127.0.0.1 and opened in
headless Chromium (the setup of test_site_browser.py). The index data is checked without a
browser too.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from resource_kg.catalog import Catalog
from resource_kg.publish import publish

REQUIRED = os.environ.get("RKG_REQUIRE_BROWSER") == "1"
if REQUIRED:
    import playwright.sync_api as playwright_sync  # noqa: F401
else:
    playwright_sync = pytest.importorskip("playwright.sync_api")

from test_site_browser import launched_chromium  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "publish" / "site"
DATE = dt.date(2024, 5, 1)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


def shown_ids(page: Any) -> list[str]:
    return sorted(
        page.eval_on_selector_all("#results tbody tr", "rows => rows.map(r => r.dataset.id)")
    )


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    shutil.copytree(FIXTURE / "data", root / "data")
    record = root / "data/resources/s2.yaml"
    record.write_text(
        record.read_text(encoding="utf-8") + "status: retired\nreplaced_by: s1\n",
        encoding="utf-8",
    )
    out = tmp_path_factory.mktemp("release")
    return publish(Catalog.load(root, today=DATE), out, version="1.0.0", date=DATE).path


def _index_data(release: Path) -> dict[str, Any]:
    script = (release / "site/catalog-index.js").read_text(encoding="utf-8")
    start = script.index("window.rkgCatalog = ") + len("window.rkgCatalog = ")
    return dict(json.loads(script[start:].rstrip().removesuffix(";")))


def test_index_data_flags_the_retired_row_and_has_a_status_facet(release: Path) -> None:
    data = _index_data(release)
    retired = [r["i"] for r in data["rows"] if r.get("r") == 1]
    assert retired == ["s2"]
    keys = [f["key"] for f in data["facets"]]
    status = data["facets"][keys.index("status")]
    assert status["values"] == ["active", "retired"]
    # records that state no status count as active
    by_id = {r["i"]: r["f"][keys.index("status")] for r in data["rows"]}
    assert by_id == {"s1": [0], "s2": [1], "s3": [0], "s4": [0], "s5": [0]}


@pytest.fixture(scope="module")
def server(release: Path) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(release))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_chromium()


def test_retired_is_marked_and_the_status_facet_hides_it(server: str, browser: Any) -> None:
    page = browser.new_page()
    page.goto(f"{server}/site/index.html")
    assert shown_ids(page) == ["s1", "s2", "s3", "s4", "s5"]
    row = page.locator('#results tr[data-id="s2"]')
    assert row.get_attribute("class") == "retired"
    assert row.locator(".badge").inner_text() == "retired"
    assert page.locator('#results tr[data-id="s1"] .badge').count() == 0
    counts = page.locator('#facet-status button[data-value="active"] .count').inner_text()
    assert counts == "4"
    page.click('#facet-status button[data-value="active"]')
    assert shown_ids(page) == ["s1", "s3", "s4", "s5"]
    assert page.locator("#summary").inner_text() == "4 of 5 resources"
    page.close()
