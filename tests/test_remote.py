"""Stored queries on a real Oxigraph server loaded by `rkg push`, and endpoint failures.

The server is the `oxigraph` PyPI package's binary, started by the `oxigraph_server` fixture
(conftest.py) on 127.0.0.1. The failing endpoints are small real HTTP servers on 127.0.0.1.
"""

from __future__ import annotations

import base64
import http.client
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import _oxigraph_binary, _wait_ready, free_port
from test_query import CASES, FIXTURE, RKG, ROOT, check_injection, injection_cases

from resource_kg import Catalog
from resource_kg.errors import EndpointError, QueryError
from resource_kg.query import load_queries, run_stored
from resource_kg.remote import (
    ENV_PASSWORD,
    ENV_TOKEN,
    ENV_USER,
    Endpoint,
    HttpAuth,
    PushInterrupted,
    push,
    quads_source,
    with_dataset,
)


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
        elif mode == "partial":  # Virtuoso's anytime answer, cut by its time limit
            self.extra = [
                ("X-SQL-State", "S1TAT"),
                ("X-SQL-Message", "RC...: Returning incomplete results"),
            ]
            self._send(
                200,
                "application/sparql-results+json",
                b'{"head": {"vars": []}, "results": {"bindings": []}}',
            )
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
            for name, value in getattr(self, "extra", []):
                self.send_header(name, value)
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
        ("partial", r"incomplete results \(X-SQL-State S1TAT: RC\.\.\.: Returning incomplete"),
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
    assert "error: Graph Store" in proc.stderr
    assert "refused the connection" in proc.stderr
    assert "done (wholly new): none" in proc.stderr


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


# ---------------------------------------------------------------- logins and interrupted pushes

USER, PASSWORD, TOKEN = "curator", "pa:ss wörd", "s3cret-token"


class _AuthProxy(BaseHTTPRequestHandler):
    """Forwards every request to the Oxigraph server once it carries Basic or Bearer credentials."""

    protocol_version = "HTTP/1.1"

    def _forward(self) -> None:
        server: Any = self.server
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else None
        basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") not in (basic, f"Bearer {TOKEN}"):
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="rkg"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in ("host", "authorization")
        }
        conn = http.client.HTTPConnection("127.0.0.1", server.target_port, timeout=60)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
        finally:
            conn.close()
        self.send_response(answer.status)
        for k, v in answer.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture()
def guarded_oxigraph(oxigraph_server: str) -> Iterator[str]:
    """The Oxigraph server behind a proxy that wants Basic (curator) or Bearer credentials."""
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _AuthProxy)
    server.target_port = int(oxigraph_server.rsplit(":", 1)[1])
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _swap_push(catalog: Catalog, base: str, auth: HttpAuth | None, **kw: Any) -> list[Any]:
    endpoint = Endpoint(base + "/query", 30, [g.value for g in catalog.graphs.all()], None,
                        "oxigraph", auth)  # fmt: skip
    return push(quads_source(catalog.quads), catalog.graphs.all(), endpoint, base + "/store",
                update_url=base + "/update", **kw)  # fmt: skip


@pytest.mark.parametrize(
    "auth",
    [HttpAuth(user=USER, password=PASSWORD), HttpAuth(token=TOKEN)],
    ids=["basic", "bearer"],
)
def test_push_with_basic_or_bearer_login(
    guarded_oxigraph: str, catalog: Catalog, auth: HttpAuth
) -> None:
    counts = _swap_push(catalog, guarded_oxigraph, auth, chunk_triples=100)
    assert all(c.ok for c in counts) and {c.graph: c.local for c in counts} == (
        catalog.triples_per_graph()
    )
    rows = run_stored(Endpoint(guarded_oxigraph + "/query", 30, [g.value for g in catalog.graphs.all()],
                               None, "oxigraph", auth),
                      load_queries(catalog.paths.queries)["language"], {"language": "es"},
                      catalog.lexicon).values()  # fmt: skip
    assert rows == catalog.query("language", language="es")


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (None, "asks for a login \\(HTTP 401\\): set RKG_ENDPOINT_USER"),
        (HttpAuth(user=USER, password="wrong"), "refused the Basic login of user 'curator' \\(HTTP 401\\)"),
        (HttpAuth(token="stale"), "refused the bearer token \\(HTTP 401\\)"),
    ],
    ids=["none", "wrong-password", "wrong-token"],
)  # fmt: skip
def test_a_refused_login_says_so(
    guarded_oxigraph: str, catalog: Catalog, auth: HttpAuth | None, message: str
) -> None:
    with pytest.raises(PushInterrupted, match=message) as caught:
        _swap_push(catalog, guarded_oxigraph, auth)
    assert "Broken pipe" not in str(caught.value)
    assert caught.value.done == [] and caught.value.failed.endswith("/ontology")


def test_the_login_of_the_environment_reaches_the_store(
    guarded_oxigraph: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_USER, USER)
    monkeypatch.setenv(ENV_PASSWORD, PASSWORD)
    monkeypatch.delenv(ENV_TOKEN, raising=False)
    args = ["query", "language", str(FIXTURE), "-p", "language=es", "--format", "csv"]
    proc = subprocess.run([*RKG, *args, "--endpoint", guarded_oxigraph + "/query"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    monkeypatch.setenv(ENV_PASSWORD, "wrong")
    proc = subprocess.run([*RKG, *args, "--endpoint", guarded_oxigraph + "/query"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 2 and "HTTP 401" in proc.stderr and "Broken pipe" not in proc.stderr


class _Oxigraph:
    """A private `oxigraph serve` on one location that a test may kill and start again."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.folder / "server.log"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [_oxigraph_binary(), "serve", "--location", str(self.folder / "store"),
                 "--bind", f"127.0.0.1:{self.port}"],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        _wait_ready(self.url, self.process, log)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def test_store_killed_mid_push_then_rerun(tmp_path: Path, catalog: Catalog) -> None:
    """Each graph ends wholly old or wholly new; the error names them; a rerun finishes."""
    old = Catalog.load(ROOT)  # the bundled catalog: other counts than the fixture's
    server = _Oxigraph(tmp_path)
    server.start()
    try:
        assert all(c.ok for c in _swap_push(old, server.url, None))
        graphs = [g.value for g in catalog.graphs.all()]
        sent: list[tuple[str, int]] = []

        def kill_in_the_third_graph(graph: Any, n: int) -> None:
            sent.append((graph.value, n))
            if graph.value == graphs[2]:
                server.kill()

        with pytest.raises(PushInterrupted) as caught:
            _swap_push(
                catalog, server.url, None, chunk_triples=25, on_chunk=kill_in_the_third_graph
            )
        message = str(caught.value)
        assert caught.value.done == graphs[:2] and caught.value.failed == graphs[2]
        assert caught.value.left == graphs[3:]
        assert f"push stopped at graph <{graphs[2]}>: it still holds what it held before" in message
        assert "done (wholly new): " + ", ".join(f"<{g}>" for g in graphs[:2]) in message
        assert "refused the connection" in message or "closed the connection" in message
        assert any(g == graphs[2] and n == 25 for g, n in sent)  # it was killed mid-graph

        server.start()
        endpoint = Endpoint(server.url + "/query", 30, graphs, None, "oxigraph")
        now = endpoint.count_triples(catalog.graphs.all())
        new, before = catalog.triples_per_graph(), old.triples_per_graph()
        assert before[graphs[2]] != new[graphs[2]] and before[graphs[3]] != new[graphs[3]]
        assert now == {g: (new if i < 2 else before)[g] for i, g in enumerate(graphs)}

        counts = _swap_push(catalog, server.url, None, chunk_triples=25)
        assert all(c.ok for c in counts) and {c.graph: c.remote for c in counts} == new
        leftovers = endpoint.select("SELECT ?g WHERE { GRAPH ?g { } }").values()
        assert sorted(r["g"] for r in leftovers) == sorted(graphs)  # type: ignore[type-var]
        rows = run_stored(endpoint, load_queries(catalog.paths.queries)["language"],
                          {"language": "es"}, catalog.lexicon).values()  # fmt: skip
        assert rows == catalog.query("language", language="es")
    finally:
        server.kill()


def test_with_dataset_names_the_graphs_before_the_top_level_where() -> None:
    text = (
        "PREFIX ex: <http://ex.org/where>\n# WHERE in a comment\n"
        'SELECT ?s (COUNT(?o) AS ?n) WHERE { ?s ex:p "WHERE {" . { SELECT ?o WHERE { ?o ?p ?q } } }'
    )
    out = with_dataset(text, ["https://g/1", "https://g/2"])
    head, _, rest = out.partition("FROM <https://g/1> FROM NAMED <https://g/1> ")
    assert head.endswith("(COUNT(?o) AS ?n) ") and rest.startswith(
        "FROM <https://g/2> FROM NAMED <https://g/2>\nWHERE { ?s ex:p"
    )
    assert with_dataset("SELECT * { ?s ?p ?o }", ["https://g"]).startswith(
        "SELECT * FROM <https://g> FROM NAMED <https://g>\n{"
    )
    with pytest.raises(ValueError):
        with_dataset("SELECT * { ?s ?p ?o }", ["https://g> } DROP ALL #"])


@pytest.mark.parametrize("mode", ["protocol", "from"])
def test_both_ways_of_naming_the_graphs_give_the_same_rows(
    pushed: str, catalog: Catalog, mode: str
) -> None:
    graphs = [g.value for g in catalog.graphs.all()]
    endpoint = Endpoint(pushed, 30, graphs, None, "oxigraph", None, mode)  # type: ignore[arg-type]
    queries = load_queries(catalog.paths.queries)
    for name, params, expected in CASES:
        assert run_stored(endpoint, queries[name], params, catalog.lexicon).values() == expected


def test_cli_push_to_a_generic_store_puts_each_graph_whole(
    oxigraph_server: str, catalog: Catalog
) -> None:
    args = [*RKG, "push", str(FIXTURE), "--endpoint", oxigraph_server + "/query"]
    proc = subprocess.run([*args, "--store-kind", "generic"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "(generic, one PUT per graph)" in proc.stdout
    proc = subprocess.run(
        [
            *args,
            "--store-kind",
            "generic",
            "--update",
            oxigraph_server + "/update",
            "--chunk",
            "50",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "(generic, swapped in with MOVE)" in proc.stdout
    endpoint = remote(oxigraph_server + "/query", catalog)
    assert endpoint.count_triples(catalog.graphs.all()) == catalog.triples_per_graph()
