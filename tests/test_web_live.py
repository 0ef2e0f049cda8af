"""Live preview of `rkg serve` (a real process, --watch is the default): saved edits reach
every answer and page within 2 s; a broken record is on /errors while the rest keeps serving.

Each test edits a copy of the bundled catalog and restores what it changed.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_serve import REPO, Server, start_server, stop_server

from resource_kg.errors import StructureError
from resource_kg.records import read_file

LIMIT = 2.0  # seconds from a save to the change being served
R4184 = "https://w3id.org/resource-kg/resource/4184"


@pytest.fixture(scope="module")
def catalog_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "queries", root / "queries")
    return root


@pytest.fixture(scope="module")
def server(catalog_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("log") / "serve.log"
    srv = start_server(catalog_root, log, "--workers", "2")
    try:
        yield srv
    finally:
        stop_server(srv)


def get(server: Server, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(server.url + path, timeout=30, **kwargs)


def until(check: Callable[[], bool], limit: float = LIMIT) -> float:
    """Seconds until `check()` holds; fails past `limit`."""
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > limit:
            pytest.fail(f"not served within {limit} s")
        time.sleep(0.02)


def version(server: Server) -> str:
    return str(get(server, "/_live").json()["version"])


@pytest.fixture
def record(catalog_root: Path) -> Iterator[Path]:
    path = catalog_root / "data" / "resources" / "4184.yaml"
    before = path.read_bytes()
    yield path
    path.write_bytes(before)
    time.sleep(0.6)  # let the server take the restored file in


def sparql_title(server: Server) -> str:
    q = f"SELECT ?t WHERE {{ <{R4184}> <http://purl.org/dc/terms/title> ?t }}"
    r = get(server, "/sparql", params={"query": q}, headers={"Accept": "application/json"})
    return str(r.json()["results"]["bindings"][0]["t"]["value"])


def test_edited_title_is_in_every_answer_and_page(server: Server, record: Path) -> None:
    text = record.read_text(encoding="utf-8")
    assert 'title: "Advancing MLP' in text
    record.write_text(
        text.replace('title: "Advancing MLP', 'title: "Live MLP', 1), encoding="utf-8"
    )
    latency = until(lambda: "Live MLP" in get(server, "/resource/4184").text)
    print(f"edit to visible: {latency * 1000:.0f} ms")
    # everything else is already the new version: the store, the workers, the site model
    assert sparql_title(server).startswith("Live MLP")
    answer = get(
        server, "/queries/audience-topic.json", params={"audience": "PCAs", "topic": "housing"}
    )
    assert [r["resourceLabel"][:8] for r in answer.json()] == ["A Profil", "Live MLP"]
    assert "Live MLP" in get(server, "/resource/4184.ttl").text
    graph = "https://w3id.org/resource-kg/graph/catalog"  # the keys, put together on first use
    dump = get(server, "/store", params={"graph": graph}, headers={"Accept": "text/turtle"})
    assert dump.status_code == 200 and "Live MLP" in dump.text and "Heat-Related" in dump.text
    assert "Live MLP" in get(server, "/catalog-index.js").text
    form = get(server, "/queries/audience-topic", params={"audience": "PCAs", "topic": "housing"})
    assert ">Live MLP" in form.text


def test_a_touch_without_change_is_no_new_version(server: Server, record: Path) -> None:
    # The version names whether this version's validation is done: wait for it to settle.
    until(lambda: version(server).split("-")[1] == "1", limit=60)
    before = version(server)
    record.write_bytes(record.read_bytes())  # new mtime, same bytes
    time.sleep(1.0)
    assert version(server) == before


def test_broken_record_is_on_errors_and_the_rest_keeps_serving(
    server: Server, record: Path
) -> None:
    good_title = sparql_title(server)
    record.write_text(
        record.read_text(encoding="utf-8") + "keywords: [unclosed\n", encoding="utf-8"
    )
    with pytest.raises(StructureError) as raised:
        read_file(record)
    where = f"data/resources/4184.yaml:{raised.value.line}"
    until(lambda: where in get(server, "/errors").text)
    page = get(server, "/errors").text
    assert raised.value.message.split(":")[0] in page
    # every other page and answer: the last good version, with a note pointing to /errors
    resource = get(server, "/resource/4184")
    assert resource.status_code == 200 and "Advancing MLP" in resource.text
    assert 'class="curator-alert' in resource.text and where in resource.text
    assert get(server, "/resource/3182").status_code == 200
    assert sparql_title(server) == good_title
    answer = get(
        server, "/queries/audience-topic.json", params={"audience": "PCAs", "topic": "housing"}
    )
    assert len(answer.json()) == 2
    assert get(server, "/").status_code == 200
    # fixed: /errors is empty again
    record.write_text(
        record.read_text(encoding="utf-8").replace("keywords: [unclosed\n", ""), encoding="utf-8"
    )
    until(lambda: 'id="no-errors"' in get(server, "/errors").text)


def test_a_broken_file_stays_on_errors_when_another_file_is_saved(
    server: Server, record: Path, catalog_root: Path
) -> None:
    """Change events name only the file just saved: the broken one from before must still be
    read again (a load told only of the second file would take the first as unchanged)."""
    other = catalog_root / "data" / "resources" / "3182.yaml"
    other_before = other.read_bytes()
    record.write_text(
        record.read_text(encoding="utf-8") + "keywords: [unclosed\n", encoding="utf-8"
    )
    until(lambda: "data/resources/4184.yaml" in get(server, "/errors").text)
    try:
        other.write_text(
            other.read_text(encoding="utf-8").replace("title: Heat", "title: Saved Heat", 1),
            encoding="utf-8",
        )
        time.sleep(1.0)
        assert "data/resources/4184.yaml" in get(server, "/errors").text
        assert "Saved Heat" not in get(server, "/resource/3182").text  # the last good version
        record.write_text(
            record.read_text(encoding="utf-8").replace("keywords: [unclosed\n", ""),
            encoding="utf-8",
        )
        until(lambda: "Saved Heat" in get(server, "/resource/3182").text)
        assert 'id="no-errors"' in get(server, "/errors").text
    finally:
        other.write_bytes(other_before)
        time.sleep(0.6)


def test_resource_page_shows_its_findings_with_file_and_line(
    server: Server, catalog_root: Path
) -> None:
    path = catalog_root / "data" / "resources" / "3182.yaml"
    before = path.read_bytes()
    until(lambda: "finding(s) for this record" in get(server, "/resource/3182").text, 15)
    html = get(server, "/resource/3182").text
    found = re.search(r'<section class="curator serve-only" id="findings".*?</section>', html, re.S)
    assert found is not None
    assert "data/resources/3182.yaml:3" in found.group(0)
    assert "last_reviewed" in found.group(0)
    try:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.rstrip("\n") + "\nlast_reviewed: 2026-11-01\n", encoding="utf-8")
        until(lambda: "last_reviewed: Last reviewed" not in get(server, "/resource/3182").text, 15)
    finally:
        path.write_bytes(before)
    until(lambda: "last_reviewed: Last reviewed" in get(server, "/resource/3182").text, 15)


def test_organizations_and_queries_are_watched(server: Server, catalog_root: Path) -> None:
    orgs = catalog_root / "data" / "organizations.yaml"
    before = orgs.read_bytes()
    text = before.decode()
    old_home = "https://medical-legalpartnership.org/"
    assert old_home in text
    new_query = catalog_root / "queries" / "titles.rq"
    ask = "ASK { ?o <http://xmlns.com/foaf/0.1/homepage> <https://example.org/ncmlp-moved/> }"
    try:
        orgs.write_text(
            text.replace(old_home, "https://example.org/ncmlp-moved/"), encoding="utf-8"
        )
        until(lambda: "ncmlp-moved" in get(server, "/org/ncmlp").text)
        r = get(server, "/sparql", params={"query": ask}, headers={"Accept": "application/json"})
        assert r.json()["boolean"] is True
        new_query.write_text(
            "#+ title: Every title\n#+ description: The title of each resource.\n"
            "PREFIX dct: <http://purl.org/dc/terms/>\n"
            "SELECT ?id ?title WHERE { ?r dct:identifier ?id ; dct:title ?title } ORDER BY ?id\n",
            encoding="utf-8",
        )
        until(lambda: get(server, "/queries/titles.json").status_code == 200)
        assert [r["id"] for r in get(server, "/queries/titles.json").json()] == [
            "3182",
            "3736",
            "4184",
        ]
        assert "/queries/titles.csv" in get(server, "/openapi.json").json()["paths"]
    finally:
        orgs.write_bytes(before)
        new_query.unlink(missing_ok=True)
    until(lambda: get(server, "/queries/titles.json").status_code == 404)


def test_public_has_no_curator_view(catalog_root: Path, tmp_path: Path) -> None:
    srv = start_server(catalog_root, tmp_path / "public.log", "--public", "--workers", "1")
    try:
        html = get(srv, "/resource/3182").text
        assert 'id="findings"' not in html and "live.js" not in html
        assert get(srv, "/errors").status_code == 404
        assert get(srv, "/_live").status_code == 404
    finally:
        stop_server(srv)
