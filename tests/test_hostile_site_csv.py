"""The site's "Download the rows shown as CSV" quotes cells a spreadsheet would run (issue 18).

A copy of the site fixture (invented records) with one title rewritten as a formula is
published and served on 127.0.0.1; headless Chromium clicks the download link, and the
downloaded file is read as CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from test_site_browser import FIXTURE, launched_chromium

from resource_kg.catalog import Catalog
from resource_kg.publish import publish


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


FORMULA = '=HYPERLINK("http://example.invalid/x","click")'


def test_site_csv_download_quotes_formula_cells(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(FIXTURE, root)
    record = root / "data" / "resources" / "s1.yaml"
    text = record.read_text(encoding="utf-8")
    record.write_text(
        text.replace("title: Heat safety guide for clinic teams", f"title: '{FORMULA}'"),
        encoding="utf-8",
    )
    day = dt.date(2024, 5, 1)
    release = publish(Catalog.load(root, today=day), tmp_path / "out", version="1.0.0", date=day)
    handler = functools.partial(Quiet, directory=str(release.path))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        for browser in launched_chromium():
            context = browser.new_context(accept_downloads=True)
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/site/index.html")
            with page.expect_download() as info:
                page.click("#csv")
            download: Any = info.value
            target = tmp_path / "resources.csv"
            download.save_as(target)
            context.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    s1 = next(r for r in rows if r["id"] == "s1")
    assert s1["title"] == "'" + FORMULA
    for row in rows:
        assert all(not cell or cell[0] not in "=+-@\t\r" for cell in row.values()), row
