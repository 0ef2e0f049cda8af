"""`rkg serve --endpoint URL`: the web face over a remote SPARQL store, as real processes.

An Oxigraph server (`oxigraph serve-read-only`) holds the bundled catalog's release
(`catalog.trig` of `rkg publish`, loaded with Oxigraph's own loader); `rkg serve --endpoint`
runs against it and an embedded `rkg serve --no-watch` runs on the same catalog folder. Every
answer of the remote one is compared with the embedded one's: pages (HTML, with the server's
own address taken out), descriptions (Turtle, N-Triples, JSON-LD), every stored question's
JSON, /sparql SELECT/ASK/CONSTRUCT. A private Oxigraph per test shows the failure cases (a
query past the deadline, the store stopped); Virtuoso, when installed, answers every stored
question as the embedded server does (RKG_REQUIRE_VIRTUOSO=1 makes a missing one fail).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox
import pytest
from conftest import VirtuosoServer, _oxigraph_binary, _wait_ready, free_port
from test_release_portable import release_of
from test_serve import CARTESIAN, Server, start_server, stop_server
from test_virtuoso import virtuoso_push

from resource_kg import Catalog
from resource_kg.query import load_queries
from resource_kg.site import INDEX_SCRIPT, SiteModel

REPO = Path(__file__).resolve().parent.parent
MILLIS = re.compile(r"\(\d+ ms\)")
ALL_TRIPLES = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}


class Oxigraph:
    """`oxigraph serve-read-only` (or `serve`, for a new store) on a free loopback port."""

    def __init__(self, location: Path, log: Path, command: str = "serve-read-only") -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [_oxigraph_binary(), command, "--location", str(location),
                 "--bind", f"127.0.0.1:{port}"],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            _wait_ready(self.url, self.process, log)
        except RuntimeError:
            self.stop()
            raise

    @property
    def query(self) -> str:
        return self.url + "/query"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def catalog_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundled catalog folder (data and settings), published once."""
    tmp = tmp_path_factory.mktemp("endpoint")
    release = release_of(REPO, tmp)
    location = tmp / "store"
    subprocess.run(
        [_oxigraph_binary(), "load", "--location", str(location), "--file",
         str(release / "catalog.trig")],
        check=True, capture_output=True,
    )  # fmt: skip
    return tmp / "catalog"


@pytest.fixture(scope="module")
def store_location(catalog_root: Path) -> Path:
    return catalog_root.parent / "store"


@pytest.fixture(scope="module")
def oxigraph(store_location: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oxigraph]:
    server = Oxigraph(store_location, tmp_path_factory.mktemp("ox") / "server.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def embedded(catalog_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("embedded") / "serve.log"
    srv = start_server(catalog_root, log, "--no-watch", "--workers", "2", "--timeout", "10")
    try:
        yield srv
    finally:
        stop_server(srv)


@pytest.fixture(scope="module")
def remote(
    catalog_root: Path, oxigraph: Oxigraph, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("remote") / "serve.log"
    srv = start_server(
        catalog_root, log, "--endpoint", oxigraph.query, "--workers", "2", "--timeout", "10"
    )
    try:
        yield srv
    finally:
        stop_server(srv)


@pytest.fixture(scope="module")
def model(catalog_root: Path) -> SiteModel:
    return SiteModel.build(Catalog.load(catalog_root))


def entity_paths(model: SiteModel) -> list[str]:
    """One resource, organization, concept and concept scheme of the catalog."""
    out = []
    for kind in ("resource", "organization", "concept", "scheme"):
        found = sorted(e.path for e in model.of_kind(kind))
        assert found, kind
        out.append(found[0])
    return out


def page(server: Server, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(f"{server.url}/{path}", timeout=30, **kwargs)


def same_page(server: Server, path: str) -> str:
    """The page's HTML with the server's own address replaced, so two servers compare."""
    r = page(server, path, headers={"Accept": "text/html"})
    assert r.status_code == 200, (path, r.text)
    return r.text.replace(server.url, "SERVER")


def test_started_over_the_store_with_no_preview(remote: Server, oxigraph: Oxigraph) -> None:
    started = remote.log.read_text()
    assert "serving 3 resources" in started
    assert f"queries go to {oxigraph.query} (oxigraph)" in started
    assert "live preview" not in started and "curator" not in started
    assert page(remote, "errors").status_code == 404  # no curator view
    assert page(remote, "_live").status_code == 404


def test_pages_are_those_of_the_embedded_server(
    remote: Server, embedded: Server, model: SiteModel
) -> None:
    paths = [*entity_paths(model), "", "ontology", "queries", "queries/language", "api"]
    for path in paths:
        assert same_page(remote, path) == same_page(embedded, path), path
    first = entity_paths(model)[0]
    assert f'<p class="iri">https://w3id.org/resource-kg/{first}</p>' in page(remote, first).text
    # The faceted index's data script, made from the snapshot.
    ours, theirs = (page(s, INDEX_SCRIPT) for s in (remote, embedded))
    assert ours.status_code == 200 and ours.content == theirs.content


def test_descriptions_are_those_of_the_embedded_server(
    remote: Server, embedded: Server, model: SiteModel
) -> None:
    for path in entity_paths(model):
        for media, fmt in FORMATS.items():
            ours, theirs = (page(s, path, headers={"Accept": media}) for s in (remote, embedded))
            assert ours.status_code == 200, (path, media, ours.text)
            assert ours.headers["content-type"].startswith(media)
            triples = set(ox.parse(ours.content, format=fmt))
            assert triples == set(ox.parse(theirs.content, format=fmt)), (path, media)
            iri = "https://w3id.org/resource-kg/" + path
            assert any(q.subject == ox.NamedNode(iri) for q in triples), (path, media)
        assert page(remote, path + ".ttl").content == page(embedded, path + ".ttl").content
    assert page(remote, "resource/no-such-id").status_code == 404


def question_urls(catalog_root: Path) -> list[str]:
    """Every stored question with its example, and with limit=all where it has a limit."""
    urls = []
    for name, q in load_queries(Catalog.load(catalog_root).paths.queries).items():
        urls.append(f"queries/{name}.json?{urlencode(dict(q.example))}")
        if any(p.kind == "limit" for p in q.params):
            urls.append(f"queries/{name}.json?{urlencode({**q.example, 'limit': 'all'})}")
    urls.append("queries/related.json?resource=4184")  # a resource looked up on the store
    urls.append("queries/language.json?language=Klingon")  # an unknown label: the same 400
    return urls


def same_answers(ours: Server, theirs: Server, catalog_root: Path) -> int:
    """Assert every stored question answers the same on both; how many had rows."""
    non_empty = 0
    for url in question_urls(catalog_root):
        a, b = page(ours, url), page(theirs, url)
        assert (a.status_code, a.json()) == (b.status_code, b.json()), url
        if a.status_code == 200 and a.json():
            non_empty += 1
    return non_empty


def test_every_stored_question_answers_as_the_embedded_server(
    remote: Server, embedded: Server, catalog_root: Path
) -> None:
    assert same_answers(remote, embedded, catalog_root) >= 8
    for form in ("queries/language?language=English", "queries/related?resource=4184"):
        ours, theirs = (MILLIS.sub("", same_page(s, form)) for s in (remote, embedded))
        assert ours == theirs, form
        assert 'id="results"' in ours


def sparql(server: Server, query: str, accept: str, **params: str) -> httpx.Response:
    return httpx.get(
        server.url + "/sparql", params={"query": query, **params}, headers={"Accept": accept},
        timeout=30,
    )  # fmt: skip


def test_sparql_answers_as_the_embedded_server(remote: Server, embedded: Server) -> None:
    for accept in (
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
    ):
        ours, theirs = (sparql(s, ALL_TRIPLES, accept) for s in (remote, embedded))
        assert ours.status_code == 200, ours.text
        assert ours.headers["content-type"] == theirs.headers["content-type"]
        assert ours.content == theirs.content, accept
    rows = sparql(remote, ALL_TRIPLES, "application/sparql-results+json").json()
    assert len(rows["results"]["bindings"]) > 500
    for content, kind in (
        (ALL_TRIPLES.encode(), "application/sparql-query"),
        (urlencode({"query": ALL_TRIPLES}).encode(), "application/x-www-form-urlencoded"),
    ):
        posted = httpx.post(
            remote.url + "/sparql",
            content=content,
            headers={"Content-Type": kind, "Accept": "application/sparql-results+json"},
            timeout=30,
        )
        assert posted.status_code == 200 and posted.json() == rows, kind
    ask = "ASK { ?r a <https://w3id.org/resource-kg/ontology#Resource> }"
    assert sparql(remote, ask, "application/sparql-results+json").json() == {
        "head": {},
        "boolean": True,
    }
    construct = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    for media, fmt in FORMATS.items():
        ours, theirs = (sparql(s, construct, media) for s in (remote, embedded))
        assert ours.status_code == 200, ours.text
        assert set(ox.parse(ours.content, format=fmt)) == set(ox.parse(theirs.content, format=fmt))
    # The request's own dataset replaces the union, as on the embedded server.
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    graph = "https://w3id.org/resource-kg/graph/vocabularies"
    ours, theirs = (
        sparql(s, count, "application/sparql-results+json", **{"default-graph-uri": graph})
        for s in (remote, embedded)
    )
    assert ours.json() == theirs.json()
    everything = sparql(remote, count, "application/sparql-results+json").json()
    assert ours.json() != everything
    page_html = sparql(remote, ALL_TRIPLES + " LIMIT 3", "text/html")
    assert page_html.status_code == 200 and 'id="results"' in page_html.text


def test_protocol_rules_hold_before_the_store_is_asked(remote: Server, embedded: Server) -> None:
    json_type = "application/sparql-results+json"
    cases = [
        ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", json_type),
        ("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", json_type),
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "image/png"),
    ]
    for query, accept in cases:
        ours, theirs = (sparql(s, query, accept) for s in (remote, embedded))
        assert ours.status_code == theirs.status_code, (query, ours.text)
        assert ours.status_code in (400, 403, 406)
        assert ours.headers["content-type"].startswith("text/plain")
    bad = sparql(remote, "SELECT * WHERE { ?s ?p ", json_type)
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/plain")
    assert "Traceback" not in bad.text
    capped = sparql(remote, ALL_TRIPLES, json_type)
    assert capped.status_code == 200  # within --max-rows (100,000)
    update = httpx.post(
        remote.url + "/sparql",
        content=b"DELETE WHERE { ?s ?p ?o }",
        headers={"Content-Type": "application/sparql-update"},
    )
    assert update.status_code == 403
    assert len(sparql(remote, ALL_TRIPLES, json_type).json()["results"]["bindings"]) > 500


def test_store_and_downloads_come_from_the_snapshot(remote: Server, embedded: Server) -> None:
    graph = "https://w3id.org/resource-kg/graph/catalog"
    ours, theirs = (
        httpx.get(s.url + "/store", params={"graph": graph}, headers={"Accept": "text/turtle"})
        for s in (remote, embedded)
    )
    assert ours.status_code == 200
    turtle = ox.RdfFormat.TURTLE
    assert set(ox.parse(ours.content, format=turtle)) == set(
        ox.parse(theirs.content, format=turtle)
    )
    dump = page(remote, "catalog.ttl")
    assert dump.status_code == 200 and len(set(ox.parse(dump.content, format=turtle))) > 500


# ---------------------------------------------------------------- failures


@pytest.fixture
def private_store(store_location: Path, tmp_path: Path) -> Iterator[Oxigraph]:
    """An Oxigraph of its own (a copy of the store folder), for a test that stops it."""
    location = tmp_path / "store"
    shutil.copytree(store_location, location)
    server = Oxigraph(location, tmp_path / "oxigraph.log")
    try:
        yield server
    finally:
        server.stop()


def test_deadline_then_store_down(
    private_store: Oxigraph, catalog_root: Path, tmp_path: Path, model: SiteModel
) -> None:
    srv = start_server(
        catalog_root, tmp_path / "serve.log", "--endpoint", private_store.query,
        "--timeout", "2", "--workers", "2", "--max-rows", "10",
    )  # fmt: skip
    try:
        json_type = "application/sparql-results+json"
        # The row cap, as on the embedded server; an answer past the byte budget that follows
        # from it (64 KiB + 2 KiB a row here) is refused before it is read whole.
        assert sparql(srv, ALL_TRIPLES + " LIMIT 10", json_type).status_code == 200
        rows = sparql(srv, ALL_TRIPLES + " LIMIT 11", json_type)
        assert rows.status_code == 400 and "more than 10 rows" in rows.text
        big = sparql(srv, ALL_TRIPLES, json_type)
        assert big.status_code == 400, big.text
        assert "larger than 86016 bytes" in big.text and "LIMIT" in big.text
        started = time.monotonic()
        late = sparql(srv, CARTESIAN, json_type)
        spent = time.monotonic() - started
        assert late.status_code == 503, late.text
        assert "time limit of 2 s" in late.text and "Traceback" not in late.text
        assert spent < 5, spent
        # The overrunning request holds one of the two slots; the other still answers.
        assert sparql(srv, "ASK {}", json_type).status_code == 200

        private_store.stop()
        down = sparql(srv, "ASK {}", json_type)
        assert down.status_code == 502, down.text
        assert down.headers["content-type"].startswith("text/plain")
        assert "refused the connection" in down.text and "Traceback" not in down.text
        question = page(srv, "queries/language.json?language=English")
        assert question.status_code == 502 and "refused the connection" in question.text
        form = page(srv, "queries/related?resource=4184")
        assert form.status_code == 502 and "Traceback" not in form.text
        # Pages are the start-up snapshot: still served.
        assert page(srv, entity_paths(model)[0]).status_code == 200
    finally:
        assert stop_server(srv) == 0
    log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in log


def run_rkg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "resource_kg.cli", "serve", *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_store_that_is_down_at_start_is_one_line(catalog_root: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/query"
    done = run_rkg(str(catalog_root), "--endpoint", url, "--port", str(free_port()))
    assert done.returncode == 2, done.stderr
    assert "refused the connection" in done.stderr and url in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_an_empty_store_is_refused(tmp_path: Path, catalog_root: Path) -> None:
    empty = Oxigraph(tmp_path / "empty", tmp_path / "oxigraph.log", "serve")
    try:
        done = run_rkg(str(catalog_root), "--endpoint", empty.query, "--port", str(free_port()))
    finally:
        empty.stop()
    assert done.returncode == 2
    assert "holds none of the catalog's graphs" in done.stderr and "Traceback" not in done.stderr


def test_watch_needs_a_folder(catalog_root: Path) -> None:
    done = run_rkg(str(catalog_root), "--endpoint", "http://127.0.0.1:9/query", "--watch")
    assert done.returncode == 2 and "--watch" in done.stderr and "Traceback" not in done.stderr


# ---------------------------------------------------------------- Virtuoso


def test_virtuoso_serves_what_the_embedded_server_serves(
    virtuoso_server: VirtuosoServer,
    catalog_root: Path,
    embedded: Server,
    tmp_path: Path,
    model: SiteModel,
) -> None:
    counts = virtuoso_push(virtuoso_server, Catalog.load(catalog_root))
    assert all(c.ok for c in counts), counts
    srv = start_server(
        catalog_root, tmp_path / "serve.log", "--endpoint", virtuoso_server.sparql,
        "--workers", "2", "--timeout", "30",
    )  # fmt: skip
    try:
        assert "(virtuoso)" in srv.log.read_text()
        assert same_answers(srv, embedded, catalog_root) >= 8
        for path in entity_paths(model):
            assert same_page(srv, path) == same_page(embedded, path), path
            ours, theirs = (page(s, path + ".ttl").content for s in (srv, embedded))
            turtle = ox.RdfFormat.TURTLE
            assert set(ox.parse(ours, format=turtle)) == set(ox.parse(theirs, format=turtle))
    finally:
        stop_server(srv)
