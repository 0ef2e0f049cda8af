"""Remote SPARQL endpoints that misbehave: each fault is one clear error, and answers stream.

Every server here is a real socket server on 127.0.0.1 written byte by byte (so it can send
what no HTTP library would: a garbage status line, a body cut short, one byte a second).
The answers are invented; the fixture catalog is tests/fixtures/query (invented too).
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pyoxigraph as ox
import pytest
from test_query import FIXTURE, RKG

from resource_kg.errors import EndpointError
from resource_kg.remote import Endpoint

Behaviour = Callable[[socket.socket, bytes], None]

JSON_TYPE = b"application/sparql-results+json"
ROW = b'{"x":{"type":"literal","value":"row"}}'


def _read_request(sock: socket.socket) -> bytes:
    """The request line, headers and body (by Content-Length) as the client sent them."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: Any = self.server
        request = _read_request(self.request)
        server.requests.append(request)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            server.behaviour(self.request, request)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture()
def raw_server() -> Iterator[Any]:
    """A socket server whose `behaviour(sock, request)` writes the answer (set by the test)."""
    server: Any = _Server(("127.0.0.1", 0), _Handler)
    server.requests = []
    server.behaviour = lambda sock, request: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/sparql"
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _head(status: bytes = b"200 OK", length: int | None = None, extra: bytes = b"") -> bytes:
    lines = b"HTTP/1.1 " + status + b"\r\nContent-Type: " + JSON_TYPE + b"\r\n" + extra
    if length is not None:
        lines += b"Content-Length: " + str(length).encode() + b"\r\n"
    return lines + b"Connection: close\r\n\r\n"


def _doc(rows: int) -> bytes:
    return b'{"head":{"vars":["x"]},"results":{"bindings":[' + b",".join([ROW] * rows) + b"]}}"


def _select(url: str, timeout: float = 10) -> list[dict[str, Any]]:
    return Endpoint(url, timeout).select("SELECT ?x WHERE { ?x ?p ?o }").values()


def test_a_good_answer_still_reads(raw_server: Any) -> None:
    doc = _doc(3)
    raw_server.behaviour = lambda sock, _r: sock.sendall(_head(length=len(doc)) + doc)
    assert _select(raw_server.url) == [{"x": "row"}] * 3
    request = raw_server.requests[0]
    assert request.startswith(b"POST /sparql HTTP/1.1\r\n")
    assert b"Accept: application/sparql-results+json" in request
    assert request.endswith(b"query=SELECT+%3Fx+WHERE+%7B+%3Fx+%3Fp+%3Fo+%7D")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        # Content-Length promises more than comes.
        (_head(length=5000) + _doc(10), r"sent a truncated answer \(\d+ bytes missing\)"),
        (_head(length=5000) + _doc(10)[:-7], r"sent a truncated answer \(\d+ bytes missing\)"),
        (_head() + _doc(1) + b" trailing", r"answered with invalid JSON \(Parser error"),
        # No length: the connection closes in the middle of the JSON.
        (_head() + _doc(10)[:-7], r"sent a truncated answer \(Parser error .*end of file"),
        # A chunked body whose last chunk never comes whole.
        (
            _head(extra=b"Transfer-Encoding: chunked\r\n") + b"400\r\n" + _doc(2),
            r"sent a truncated answer \(the connection closed inside a chunk\)",
        ),
        (b"SPARQL? NO THANKS\r\n\r\n", r"did not answer in HTTP \(a garbage status line: "),
        (b"\x00\xff\xfe garbage\r\n\r\n", r"did not answer in HTTP \(a garbage status line: "),
        (b"", r"did not answer in HTTP \(RemoteDisconnected: "),
        (_head() + b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":', "truncated answer"),
        (_head() + b'{"boolean": true}', r"answered with no SELECT result \(a boolean\)"),
        (_head() + b"<html>portal</html>", r"answered with invalid JSON \(Parser error"),
        (_head(b"502 Bad Gateway", 9) + b"upstream!", "answered HTTP 502: upstream!"),
    ],
    ids=[
        "short-content-length",
        "short-content-length-cut-json",
        "trailing-data",
        "cut-json",
        "cut-chunk",
        "garbage-status",
        "binary-status",
        "empty",
        "cut-binding",
        "boolean",
        "html-as-json",
        "bad-gateway",
    ],
)
def test_each_fault_is_one_clear_error(raw_server: Any, answer: bytes, message: str) -> None:
    raw_server.behaviour = lambda sock, _r: sock.sendall(answer)
    with pytest.raises(EndpointError, match=message) as caught:
        _select(raw_server.url)
    assert str(caught.value).startswith(f"SPARQL endpoint {raw_server.url} ")
    assert "\n" not in str(caught.value) and "Traceback" not in str(caught.value)


def test_a_count_that_is_no_number(raw_server: Any) -> None:
    """`rkg push` compares counts: a store answering `"many"^^xsd:integer` is named, no crash."""
    n = {"type": "literal", "value": "many", "datatype": "http://www.w3.org/2001/XMLSchema#integer"}
    doc = json.dumps({"head": {"vars": ["n"]}, "results": {"bindings": [{"n": n}]}}).encode()
    raw_server.behaviour = lambda sock, _r: sock.sendall(_head(length=len(doc)) + doc)
    graph = ox.NamedNode("https://w3id.org/resource-kg/graph/catalog")
    with pytest.raises(EndpointError) as caught:
        Endpoint(raw_server.url, 10).count_triples([graph])
    assert str(caught.value) == (
        f"SPARQL endpoint {raw_server.url} answered a triple count that is no whole number: 'many'"
    )


def _drip(data: bytes, stop: threading.Event) -> Behaviour:
    def behaviour(sock: socket.socket, _request: bytes) -> None:
        for i in range(40):  # one byte a second for 40 s, unless the test is over
            if stop.wait(1):
                return
            sock.sendall(data[i : i + 1] or b" ")

    return behaviour


@pytest.mark.parametrize("where", ["status-line", "body"])
def test_the_timeout_is_a_total_deadline(raw_server: Any, where: str) -> None:
    """`--timeout 3` against a server sending one byte a second: over in ~3 s, one line."""
    stop = threading.Event()
    data = b"HTTP/1.1 200 OK\r\n" if where == "status-line" else b'{"head":{"vars":["x"]} '
    if where == "body":

        def behaviour(sock: socket.socket, request: bytes) -> None:
            sock.sendall(_head())
            _drip(data, stop)(sock, request)

        raw_server.behaviour = behaviour
    else:
        raw_server.behaviour = _drip(data, stop)
    args = ["query", "language", str(FIXTURE), "-p", "language=es", "--format", "csv"]
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [*RKG, *args, "--endpoint", raw_server.url, "--timeout", "3"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        stop.set()
    took = time.monotonic() - started
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: SPARQL endpoint {raw_server.url} ")
    assert "did not answer within 3 s" in lines[0]
    assert took < 8  # the 3 s plus start-up, not 40 s of drip
    assert len(raw_server.requests) >= 1


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "http:///sparql", "gopher://x"]
)
def test_only_http_endpoints(url: str) -> None:
    args = ["query", "language", str(FIXTURE), "-p", "language=es", "--endpoint", url]
    proc = subprocess.run([*RKG, *args], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: SPARQL endpoint: {url!r} is not an http(s) URL"
    assert "root:" not in proc.stderr + proc.stdout
    with pytest.raises(EndpointError, match="is not an http"):
        _select(url)


def test_rows_are_read_as_they_arrive(raw_server: Any) -> None:
    """The first rows reach the caller while the server still holds back the rest."""
    released = threading.Event()
    waited: list[bool] = []

    def behaviour(sock: socket.socket, _request: bytes) -> None:
        sock.sendall(_head() + b'{"head":{"vars":["x"]},"results":{"bindings":[' + ROW)
        sock.sendall(b"".join(b"," + ROW for _ in range(999)))
        waited.append(released.wait(20))
        sock.sendall(b"".join(b"," + ROW for _ in range(1000)) + b"]}}")

    raw_server.behaviour = behaviour
    endpoint = Endpoint(raw_server.url, 30)
    started = time.monotonic()
    with endpoint.stream("SELECT ?x WHERE { ?x ?p ?o }") as (columns, rows):
        first = next(rows)
        first_after = time.monotonic() - started
        released.set()
        rest = list(rows)
    assert columns == ["x"] and first == {"x": ox.Literal("row")}
    assert first_after < 5 and waited == [True]
    assert len(rest) == 1999


#: A child process streams a large answer and keeps no rows: its peak RSS must not follow the
#: size of the body (the old reader held the body, then its JSON tree: ~4x the body).
RSS_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    from resource_kg.remote import Endpoint
    endpoint = Endpoint(sys.argv[1], 120)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    n = 0
    with endpoint.stream("SELECT ?x WHERE { ?x ?p ?o }") as (columns, rows):
        for row in rows:
            n += 1
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(n, (after - before) * 1024)
    """
)


def test_a_large_answer_is_read_in_bounded_memory(raw_server: Any) -> None:
    rows, batch = 1_500_000, 10_000
    row = b'{"x":{"type":"literal","value":"an invented row of a large answer"}}'
    body_size = 0

    def behaviour(sock: socket.socket, _request: bytes) -> None:
        nonlocal body_size
        sock.sendall(_head() + b'{"head":{"vars":["x"]},"results":{"bindings":[' + row)
        chunk = b"".join(b"," + row for _ in range(batch))
        for _ in range(rows // batch):
            sock.sendall(chunk)
            body_size += len(chunk)
        sock.sendall(b"]}}")

    raw_server.behaviour = behaviour
    proc = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, raw_server.url],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    count, growth = (int(x) for x in proc.stdout.split())
    assert count == rows + 1
    assert body_size > 90_000_000
    assert growth < 30_000_000, (growth, body_size)
