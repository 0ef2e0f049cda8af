"""`create_app(folder)`: /sparql answers from the store's snapshot while the catalog loads;
every other path waits for the load, then answers as the app over a loaded catalog does."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from resource_kg import Catalog
from resource_kg.store import querystore
from resource_kg.web import create_app, live

REPO = Path(__file__).resolve().parent.parent
QUERY = """PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?r ?title WHERE { ?r dcterms:title ?title } ORDER BY ?r ?title"""
CSV = {"accept": "text/csv"}


@contextlib.contextmanager
def serving(app: Starlette) -> Iterator[httpx.Client]:
    """`app` under uvicorn on a free loopback port (a thread of this process), and a client."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive()
            time.sleep(0.02)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(30)


def test_sparql_answers_while_the_catalog_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "queries", root / "queries")
    held = threading.Event()
    real = live.default_loader

    def slow_loader(*args: object) -> Catalog:
        assert held.wait(60)  # the load waits until the test lets it go
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(live, "default_loader", slow_loader)
    app = create_app(root, validate=False)
    with serving(app) as client:
        early = client.get("/sparql", params={"query": QUERY}, headers=CSV)
        assert early.status_code == 200 and early.text.count("\n") > 3
        with ThreadPoolExecutor(1) as side:
            page = side.submit(client.get, "/resource/4184", headers={"accept": "text/turtle"})
            time.sleep(0.5)
            assert not page.done()  # waits for the catalog
            held.set()
            answer = page.result(timeout=60)
        assert answer.status_code == 200 and "resource:4184" in answer.text
        late = client.get("/sparql", params={"query": QUERY}, headers=CSV)
        # Nobody wrote the store meanwhile: the workers kept their snapshot and its answers.
        assert app.state.pool.generation == 0 and app.state.pool.answers
    with serving(create_app(Catalog.load(root), validate=False)) as plain:
        loaded = plain.get("/sparql", params={"query": QUERY}, headers=CSV)
        plain_page = plain.get("/resource/4184", headers={"accept": "text/turtle"})
    assert early.content == late.content == loaded.content
    assert answer.content == plain_page.content


def test_a_catalog_that_cannot_be_loaded_is_a_503_naming_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(REPO / "data", root / "data")
    from resource_kg.errors import StructureError

    def failing(*_args: object) -> Catalog:
        raise StructureError("invented failure for this test", file="data/resources/x.yaml")

    monkeypatch.setattr(live, "default_loader", failing)
    with serving(create_app(root, validate=False)) as client:
        assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200
        page = client.get("/")
        assert page.status_code == 503 and "invented failure" in page.text


def test_a_store_written_while_the_catalog_loads_is_served_as_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another `rkg` process updates the store between the first snapshot and the end of the
    load (here: an edit, then `rkg query`'s refresh): the workers move to the loaded
    version's snapshot, and /sparql answers with the edit."""
    root = tmp_path / "catalog"
    shutil.copytree(REPO / "data", root / "data")
    real = live.default_loader
    record = root / "data" / "resources" / "4184.yaml"

    def edited_meanwhile(*args: object) -> Catalog:
        text = record.read_text(encoding="utf-8")
        record.write_text(text.replace('title: "Advancing', 'title: "Meanwhile', 1))
        querystore.refresh(root)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(live, "default_loader", edited_meanwhile)
    app = create_app(root, validate=False)
    with serving(app) as client:
        assert client.get("/").status_code == 200  # waits for the load
        answer = client.get("/sparql", params={"query": QUERY}, headers=CSV)
        assert app.state.pool.generation == 1
    assert "Meanwhile" in answer.text
