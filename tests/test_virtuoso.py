"""Virtuoso 7 (Debian's virtuoso-opensource) as a home for the catalog: push and stored questions.

The store is a private `virtuoso-t` started by the `virtuoso_server` fixture (conftest.py) with
its own database in a temporary folder. Its Graph Store (`/sparql-graph-crud-auth`) and update
service (`/sparql-auth`) want HTTP Digest; a fresh database's administrator is dba/dba.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from conftest import VirtuosoServer, free_port
from test_query import CASES, FIXTURE, RKG, ROOT

from resource_kg import Catalog
from resource_kg.errors import EndpointError
from resource_kg.query import load_queries, run_stored
from resource_kg.remote import (
    ENV_PASSWORD,
    ENV_TOKEN,
    ENV_USER,
    Endpoint,
    GraphCount,
    HttpAuth,
    PushInterrupted,
    detect_kind,
    layout_for,
    push,
    quads_source,
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(FIXTURE)


def virtuoso_push(
    server: VirtuosoServer, catalog: Catalog, auth: HttpAuth | None = None, **kw: Any
) -> list[GraphCount]:
    auth = auth or HttpAuth(user=server.user, password=server.password)
    layout = layout_for("virtuoso", server.sparql, authenticated=True)
    endpoint = endpoint_of(server, catalog, auth)
    graphs = catalog.graphs.all()
    return push(quads_source(catalog.quads), graphs, endpoint, layout.store,
                update_url=layout.update, **kw)  # fmt: skip


def endpoint_of(server: VirtuosoServer, catalog: Catalog, auth: HttpAuth | None = None) -> Endpoint:
    return Endpoint(
        server.sparql, 60, [g.value for g in catalog.graphs.all()], None, "virtuoso", auth
    )


@pytest.fixture(scope="module")
def pushed(virtuoso_server: VirtuosoServer, catalog: Catalog) -> VirtuosoServer:
    counts = virtuoso_push(virtuoso_server, catalog, chunk_triples=200)
    assert [(c.local, c.remote) for c in counts] == [
        (n, n) for n in catalog.triples_per_graph().values()
    ]
    return virtuoso_server


def test_the_store_kind_is_detected(virtuoso_server: VirtuosoServer, oxigraph_server: str) -> None:
    assert detect_kind(virtuoso_server.sparql) == "virtuoso"
    assert detect_kind(oxigraph_server + "/query") == "oxigraph"
    assert Endpoint.from_env(virtuoso_server.sparql).kind == "virtuoso"


@pytest.mark.parametrize(("name", "params", "expected"), CASES, ids=lambda x: str(x)[:40])
def test_virtuoso_rows_equal_embedded_rows(
    pushed: VirtuosoServer, catalog: Catalog, name: str, params: dict[str, str], expected: Any
) -> None:
    query = load_queries(catalog.paths.queries)[name]
    rows = run_stored(endpoint_of(pushed, catalog), query, params, catalog.lexicon).values()
    assert rows == catalog.query(name, **params) == expected


def test_a_second_push_leaves_no_temporary_graph(pushed: VirtuosoServer, catalog: Catalog) -> None:
    counts = virtuoso_push(pushed, catalog)
    assert all(c.ok for c in counts)
    found = endpoint_of(pushed, catalog).select(
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), 'urn:x-rkg:')) }"
    )
    assert found.rows == []


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (HttpAuth(user="dba", password="wrong"), r"refused the Digest login of user 'dba' \(HTTP 401\)"),
        (HttpAuth(user="dba", password="dba", scheme="basic"), r"refused the Basic login of user 'dba' \(HTTP 401\)"),
        (HttpAuth(), r"asks for a login \(HTTP 401\): set RKG_ENDPOINT_USER and RKG_ENDPOINT_PASSWORD"),
    ],
    ids=["wrong-password", "basic-only", "no-login"],
)  # fmt: skip
def test_a_refused_login_says_so(
    virtuoso_server: VirtuosoServer, catalog: Catalog, auth: HttpAuth, message: str
) -> None:
    with pytest.raises(PushInterrupted, match=message) as caught:
        virtuoso_push(virtuoso_server, catalog, auth)
    assert "Broken pipe" not in str(caught.value) and caught.value.done == []


def test_a_large_body_with_a_wrong_login_is_a_401_not_a_broken_pipe(
    virtuoso_server: VirtuosoServer,
) -> None:
    """One PUT of 8 MB (the path for a store without an update service) with a wrong password."""
    graph = ox.NamedNode("https://example.org/big")
    triples = [
        ox.Triple(ox.NamedNode(f"https://example.org/s{i}"), ox.NamedNode("https://example.org/p"),
                  ox.Literal("x" * 64))
        for i in range(80_000)
    ]  # fmt: skip
    layout = layout_for("virtuoso", virtuoso_server.sparql, authenticated=True)
    for auth in (
        HttpAuth(user="dba", password="wrong"),
        HttpAuth(user="dba", password="x", scheme="basic"),
    ):
        endpoint = Endpoint(virtuoso_server.sparql, 60, [], None, "virtuoso", auth)
        with pytest.raises(PushInterrupted, match=r"HTTP 401") as caught:
            push(lambda g: triples, [graph], endpoint, layout.store)
        assert "Broken pipe" not in str(caught.value)


def test_store_down() -> None:
    url = f"http://127.0.0.1:{free_port()}/sparql"
    layout = layout_for("virtuoso", url, authenticated=True)
    endpoint = Endpoint(url, 5, [], None, "virtuoso", HttpAuth(user="dba", password="dba"))
    graph = ox.NamedNode("https://example.org/g")
    with pytest.raises(PushInterrupted, match="refused the connection") as caught:
        push(lambda g: [], [graph], endpoint, layout.store, update_url=layout.update)
    assert caught.value.done == [] and caught.value.left == []
    with pytest.raises(EndpointError, match="refused the connection"):
        endpoint.select("SELECT * WHERE { ?s ?p ?o } LIMIT 1")


@pytest.fixture()
def private_virtuoso(tmp_path: Path) -> Iterator[VirtuosoServer]:
    server = VirtuosoServer(tmp_path / "virtuoso")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_virtuoso_killed_mid_push_then_rerun(
    private_virtuoso: VirtuosoServer, catalog: Catalog
) -> None:
    server = private_virtuoso
    old = Catalog.load(ROOT)  # the bundled catalog: other counts than the fixture's
    assert all(c.ok for c in virtuoso_push(server, old))
    server.stop()  # a checkpoint: the old graphs are on disk
    server.start()
    graphs = [g.value for g in catalog.graphs.all()]

    def kill_in_the_third_graph(graph: ox.NamedNode, n: int) -> None:
        if graph.value == graphs[2]:
            server.kill()

    with pytest.raises(PushInterrupted) as caught:
        virtuoso_push(server, catalog, chunk_triples=25, on_chunk=kill_in_the_third_graph)
    assert (caught.value.done, caught.value.failed, caught.value.left) == (
        graphs[:2],
        graphs[2],
        graphs[3:],
    )
    assert "it still holds what it held before" in str(caught.value)

    server.start()  # recovers from its transaction log
    now = endpoint_of(server, catalog).count_triples(catalog.graphs.all())
    new, before = catalog.triples_per_graph(), old.triples_per_graph()
    assert now == {g: (new if i < 2 else before)[g] for i, g in enumerate(graphs)}

    counts = virtuoso_push(server, catalog, chunk_triples=25)
    assert {c.graph: (c.local, c.remote) for c in counts} == {g: (n, n) for g, n in new.items()}
    query = load_queries(catalog.paths.queries)["language"]
    rows = run_stored(endpoint_of(server, catalog), query, {"language": "es"}, catalog.lexicon)
    assert rows.values() == catalog.query("language", language="es")


def test_cli_query_on_virtuoso(pushed: VirtuosoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (ENV_USER, ENV_PASSWORD, ENV_TOKEN):
        monkeypatch.delenv(name, raising=False)
    args = ["query", "language", str(FIXTURE), "-p", "language=Spanish", "--format", "csv"]
    proc = subprocess.run(
        [*RKG, *args, "--endpoint", pushed.sparql], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert [line.split(",")[1] for line in proc.stdout.splitlines()] == ["id", "r2", "r3"]


def test_cli_push_to_virtuoso(
    virtuoso_server: VirtuosoServer, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rkg push` detects Virtuoso, logs in with Digest from the environment, says a 401 plainly."""
    monkeypatch.delenv(ENV_TOKEN, raising=False)
    monkeypatch.setenv(ENV_USER, virtuoso_server.user)
    monkeypatch.setenv(ENV_PASSWORD, virtuoso_server.password)
    args = [*RKG, "push", str(FIXTURE), "--endpoint", virtuoso_server.sparql, "--chunk", "100"]
    proc = subprocess.run(args, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "(virtuoso, swapped in with MOVE)" in proc.stdout
    for graph, count in catalog.triples_per_graph().items():
        name = graph.rsplit("/", 1)[-1]
        assert any(
            name in line and line.count(f" {count} ") == 2 for line in proc.stdout.splitlines()
        )
    monkeypatch.setenv(ENV_PASSWORD, "wrong")
    proc = subprocess.run([*args, "--store-kind", "virtuoso"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "refused the Digest login of user 'dba' (HTTP 401)" in proc.stderr
    assert "Broken pipe" not in proc.stderr and "done (wholly new): none" in proc.stderr


def test_queries_through_the_digest_endpoint(pushed: VirtuosoServer, catalog: Catalog) -> None:
    """/sparql-auth asks for Digest: the first query meets the challenge, later ones reuse it."""
    url = pushed.url + "/sparql-auth"
    graphs = [g.value for g in catalog.graphs.all()]
    auth = HttpAuth(user=pushed.user, password=pushed.password)
    endpoint = Endpoint(url, 30, graphs, None, "virtuoso", auth)
    query = load_queries(catalog.paths.queries)["language"]
    for _ in range(2):
        rows = run_stored(endpoint, query, {"language": "es"}, catalog.lexicon).values()
        assert rows == catalog.query("language", language="es")
    wrong = Endpoint(url, 30, graphs, None, "virtuoso", HttpAuth(user="dba", password="bad"))
    with pytest.raises(EndpointError, match=r"refused the Digest login of user 'dba' \(HTTP 401\)"):
        wrong.select("SELECT * WHERE { ?s ?p ?o } LIMIT 1")
    with pytest.raises(EndpointError, match=r"asks for a login \(HTTP 401\)"):
        Endpoint(url, 30, graphs, None, "virtuoso").select("SELECT * WHERE { ?s ?p ?o } LIMIT 1")
