"""Stored queries on a real Oxigraph server loaded by `rkg push`, and endpoint failures.

The server is the `oxigraph` PyPI package's binary, started by the `oxigraph_server` fixture
(conftest.py) on 127.0.0.1. The failing endpoints are small real HTTP servers on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from conftest import free_port
from test_query import CASES, FIXTURE, RKG, check_injection, injection_cases

from resource_kg import Catalog
from resource_kg.errors import EndpointError, QueryError
from resource_kg.query import load_queries, run_stored
from resource_kg.remote import ENV_PASSWORD, ENV_TOKEN, ENV_USER, Endpoint, push, quads_source


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(FIXTURE)


@pytest.fixture(scope="module")
def pushed(oxigraph_server: str, catalog: Catalog) -> str:
    """The server's query URL after `rkg push` loaded the fixture catalog into it."""
    proc = subprocess.run(
        [*RKG, "push", str(FIXTURE), "--endpoint", oxigraph_server + "/query"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    counts = catalog.triples_per_graph()
    for graph, count in counts.items():
        name = graph.rsplit("/", 1)[-1]
        assert any(name in line and line.count(f" {count} ") == 2 for line in proc.stdout.splitlines()), (
            name, count, proc.stdout,
        )  # fmt: skip
    return oxigraph_server + "/query"


def remote(url: str, catalog: Catalog, timeout: float = 30) -> Endpoint:
    return Endpoint(url, timeout, [g.value for g in catalog.graphs.all()])


def test_push_reports_matching_counts(oxigraph_server: str, catalog: Catalog) -> None:
    endpoint = remote(oxigraph_server + "/query", catalog)
    source = quads_source(catalog.quads)
    graphs = catalog.graphs.all()
    counts = push(source, graphs, endpoint, oxigraph_server + "/store")
    expected = catalog.triples_per_graph()
    assert {c.graph: (c.local, c.remote) for c in counts} == {
        g: (n, n) for g, n in expected.items()
    }
    assert all(n > 0 for n in expected.values())
    # A second push replaces each graph whole: the counts stay the same.
    again = push(source, graphs, endpoint, oxigraph_server + "/store")
    assert [(c.local, c.remote) for c in again] == [(c.local, c.remote) for c in counts]


@pytest.mark.parametrize(("name", "params", "expected"), CASES, ids=lambda x: str(x)[:40])
def test_remote_rows_equal_embedded_rows(
    pushed: str, catalog: Catalog, name: str, params: dict[str, str], expected: list[Any]
) -> None:
    query = load_queries(catalog.paths.queries)[name]
    rows = run_stored(remote(pushed, catalog), query, params, catalog.lexicon).values()
    assert rows == catalog.query(name, **params) == expected


def test_remote_coverage_matrix(pushed: str, catalog: Catalog) -> None:
    query = load_queries(catalog.paths.queries)["coverage"]
    rows = run_stored(remote(pushed, catalog), query, {}, catalog.lexicon).values()
    assert len(rows) == 80 and rows == catalog.query("coverage")


def test_cli_query_on_the_endpoint(pushed: str) -> None:
    args = ["query", "language", str(FIXTURE), "-p", "language=Spanish", "--format", "csv"]
    proc = subprocess.run([*RKG, *args, "--endpoint", pushed], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert [line.split(",")[1] for line in proc.stdout.splitlines()] == ["id", "r2", "r3"]


@pytest.mark.parametrize(("name", "param", "value"), injection_cases())
def test_injection_on_the_server(
    pushed: str, catalog: Catalog, name: str, param: str, value: str
) -> None:
    endpoint = remote(pushed, catalog)
    queries = load_queries(catalog.paths.queries)

    def run(n: str, p: dict[str, str]) -> list[dict[str, Any]]:
        return run_stored(endpoint, queries[n], p, catalog.lexicon).values()

    spec = queries[name].param(param)
    assert spec is not None
    check_injection(run, name, param, value, spec.optional)
    # No server error, and the data is unchanged.
    assert run("language", {"language": "es"}) == catalog.query("language", language="es")


# ---------------------------------------------------------------- failing endpoints


class _Handler(BaseHTTPRequestHandler):
    """Answers as the server's `mode` says; remembers the Authorization header it got."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        server: Any = self.server
        server.seen.append(self.headers.get("Authorization"))
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        mode = server.mode
        if mode == "slow":
            time.sleep(3)
        if mode == "error":
            self._send(500, "text/plain", b"internal failure")
        elif mode == "html":
            self._send(200, "text/html", b"<html><body>Welcome to the portal</body></html>")
        elif mode == "badjson":
            self._send(200, "application/sparql-results+json", b"{not json")
        else:
            doc = {"head": {"vars": ["x"]}, "results": {"bindings": [
                {"x": {"type": "literal", "value": "ok"}}]}}  # fmt: skip
            self._send(200, "application/sparql-results+json", json.dumps(doc).encode())

    do_PUT = do_POST  # noqa: N815

    def _send(self, code: int, ctype: str, body: bytes) -> None:
        try:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture()
def fake_endpoint() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.mode = "ok"
    server.seen = []
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/query"
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("error", "answered HTTP 500"),
        ("html", r"non-SPARQL content \(text/html\)"),
        ("badjson", "invalid JSON"),
        ("slow", "did not answer"),
    ],
)
def test_endpoint_failures_are_one_clear_error(fake_endpoint: Any, mode: str, message: str) -> None:
    fake_endpoint.mode = mode
    with pytest.raises(EndpointError, match=message):
        Endpoint(fake_endpoint.url, timeout=1).select("SELECT * WHERE { ?s ?p ?o }")


def test_refused_connection() -> None:
    url = f"http://127.0.0.1:{free_port()}/query"
    with pytest.raises(EndpointError, match="refused the connection"):
        Endpoint(url, timeout=5).select("SELECT * WHERE { ?s ?p ?o }")
    proc = subprocess.run(
        [*RKG, "push", str(FIXTURE), "--endpoint", url], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1].startswith("error: Graph Store")
    assert "refused the connection" in proc.stderr


def test_credentials_come_from_the_environment(
    fake_endpoint: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_USER, raising=False)
    monkeypatch.setenv(ENV_TOKEN, "s3cret-token")
    result = Endpoint.from_env(fake_endpoint.url).select("SELECT ?x WHERE {}")
    assert [row["x"].value for row in result.rows] == ["ok"]  # type: ignore[union-attr]
    monkeypatch.delenv(ENV_TOKEN)
    monkeypatch.setenv(ENV_USER, "curator")
    monkeypatch.setenv(ENV_PASSWORD, "pa:ss")
    Endpoint.from_env(fake_endpoint.url).select("SELECT ?x WHERE {}")
    monkeypatch.delenv(ENV_USER)
    Endpoint.from_env(fake_endpoint.url).select("SELECT ?x WHERE {}")
    basic = "Basic " + base64.b64encode(b"curator:pa:ss").decode()
    assert fake_endpoint.seen == ["Bearer s3cret-token", basic, None]


def test_push_to_a_failing_store(fake_endpoint: Any, catalog: Catalog) -> None:
    fake_endpoint.mode = "error"
    endpoint = remote(fake_endpoint.url, catalog, timeout=5)
    with pytest.raises(EndpointError, match="HTTP 500"):
        push(quads_source(catalog.quads), catalog.graphs.all(), endpoint, fake_endpoint.url)


def test_remote_bad_query_is_an_endpoint_error(pushed: str, catalog: Catalog) -> None:
    with pytest.raises(EndpointError, match="HTTP 400"):
        remote(pushed, catalog).select("SELECT ?s WHERE { ?s ?p }")


def test_unresolvable_value_is_a_clear_error(pushed: str, catalog: Catalog) -> None:
    query = load_queries(catalog.paths.queries)["language"]
    with pytest.raises(QueryError, match="no language matches 'Spanich'; closest: 'Spanish'"):
        run_stored(remote(pushed, catalog), query, {"language": "Spanich"}, catalog.lexicon)
