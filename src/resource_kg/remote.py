"""A remote SPARQL 1.1 endpoint: query it (SPARQLWrapper) and load it (Graph Store Protocol).

Credentials come from the environment, never from the command line:
`RKG_ENDPOINT_TOKEN` (sent as `Authorization: Bearer ...`), or `RKG_ENDPOINT_USER` with
`RKG_ENDPOINT_PASSWORD` (HTTP basic auth). Every failure to talk to the endpoint (refused,
timed out, an HTTP error, a body that is no SPARQL result) becomes one `EndpointError`.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from resource_kg.errors import EndpointError, QueryError
from resource_kg.query import Cell, Result

ENV_TOKEN = "RKG_ENDPOINT_TOKEN"
ENV_USER = "RKG_ENDPOINT_USER"
ENV_PASSWORD = "RKG_ENDPOINT_PASSWORD"
DEFAULT_TIMEOUT = 60.0


def auth_header(environ: Mapping[str, str] | None = None) -> str | None:
    """The Authorization header the environment asks for, if any."""
    env = os.environ if environ is None else environ
    token = env.get(ENV_TOKEN)
    if token:
        return f"Bearer {token}"
    user = env.get(ENV_USER)
    if user:
        pair = f"{user}:{env.get(ENV_PASSWORD, '')}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")
    return None


@dataclass
class Endpoint:
    """A SPARQL query endpoint; `graphs` become default-graph-uri and named-graph-uri."""

    url: str
    timeout: float = DEFAULT_TIMEOUT
    graphs: list[str] = field(default_factory=list)
    authorization: str | None = None

    @classmethod
    def from_env(
        cls, url: str, timeout: float = DEFAULT_TIMEOUT, graphs: Iterable[str] = ()
    ) -> Endpoint:
        return cls(url, timeout, list(graphs), auth_header())

    def select(self, query: str) -> Result:
        """Run a SELECT; the dataset is the catalog's four graphs, as the embedded engine sees it."""
        doc = self._request(query, self.graphs)
        return _parse_select(doc, self.url)

    def count_triples(self, graphs: Iterable[ox.NamedNode]) -> dict[str, int]:
        """Triples per named graph on the store (0 for a graph it does not hold)."""
        wanted = list(graphs)
        values = " ".join(str(g) for g in wanted)
        text = (
            f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} "
            "GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        )
        result = _parse_select(self._request(text, []), self.url)
        counts = {g.value: 0 for g in wanted}
        for row in result.rows:
            g, n = row.get("g"), row.get("n")
            if isinstance(g, ox.NamedNode) and isinstance(n, ox.Literal):
                counts[g.value] = int(n.value)
        return counts

    def _request(self, query: str, graphs: list[str]) -> Any:
        from SPARQLWrapper import JSON, POST, SELECT, SPARQLWrapper
        from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

        client = SPARQLWrapper(self.url)
        client.setMethod(POST)
        client.setOnlyConneg(True)
        client.setReturnFormat(JSON)
        client.setTimeout(int(max(1, self.timeout)))
        for g in graphs:
            client.addDefaultGraph(g)
            client.addNamedGraph(g)
        if self.authorization:
            client.addCustomHttpHeader("Authorization", self.authorization)
        client.setQuery(query)
        # SPARQLWrapper guesses the query form from keywords and takes a query mentioning
        # "created" or "added" for an update; every query sent from here is a SELECT.
        client.queryType = SELECT
        try:
            response = client.query().response
            content_type = response.headers.get("Content-Type", "") or ""
            body = response.read()
        except SPARQLWrapperException as exc:
            raise self._error(_http_message(exc)) from exc
        except urllib.error.HTTPError as exc:
            raise self._error(f"answered HTTP {exc.code}: {_snippet(exc.read())}") from exc
        except TimeoutError as exc:
            raise self._error(f"did not answer within {self.timeout:g} s") from exc
        except urllib.error.URLError as exc:
            raise self._error(_reason(exc.reason)) from exc
        except (ConnectionError, OSError) as exc:
            raise self._error(_reason(exc)) from exc
        if "json" not in content_type.lower():
            raise self._error(
                f"answered with non-SPARQL content ({content_type or 'no content type'}): "
                f"{_snippet(body)}"
            )
        try:
            return json.loads(body)
        except ValueError as exc:
            raise self._error(f"answered with invalid JSON: {_snippet(body)}") from exc

    def _error(self, detail: str) -> EndpointError:
        return EndpointError(f"SPARQL endpoint {self.url} {detail}")


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError | socket.timeout):
        return "did not answer in time"
    if isinstance(reason, ConnectionRefusedError):
        return "refused the connection (is the server running?)"
    if isinstance(reason, socket.gaierror):
        return f"cannot be resolved: {reason}"
    return f"cannot be reached: {reason}"


def _http_message(exc: Exception) -> str:
    kind = type(exc).__name__
    codes = {
        "QueryBadFormed": 400,
        "Unauthorized": 401,
        "EndPointNotFound": 404,
        "URITooLong": 414,
        "EndPointInternalError": 500,
    }
    code = codes.get(kind)
    text = str(getattr(exc, "response", b"") or exc)
    label = f"HTTP {code}" if code else kind
    return f"answered {label}: {_snippet(text)}"


def _snippet(data: bytes | str, limit: int = 200) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


def _parse_select(doc: Any, url: str) -> Result:
    """SPARQL 1.1 JSON results → Result of pyoxigraph terms."""
    try:
        columns = [str(v) for v in doc["head"]["vars"]]
        bindings = doc["results"]["bindings"]
        rows = [{c: _json_cell(b.get(c)) for c in columns} for b in bindings]
    except (KeyError, TypeError, ValueError) as exc:
        raise EndpointError(f"SPARQL endpoint {url} answered with no SELECT result") from exc
    return Result(columns, rows)


def _json_cell(term: Any) -> Cell:
    if term is None:
        return None
    kind, value = term["type"], term["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(value)
    if kind in ("literal", "typed-literal"):
        if "xml:lang" in term:
            return ox.Literal(value, language=term["xml:lang"])
        if "datatype" in term:
            return ox.Literal(value, datatype=ox.NamedNode(term["datatype"]))
        return ox.Literal(value)
    raise ValueError(f"unknown term type {kind!r}")


# ---------------------------------------------------------------- Graph Store Protocol


def store_url_for(endpoint: str) -> str:
    """Oxigraph's layout: queries at /query, the Graph Store at /store."""
    if endpoint.rstrip("/").endswith("/query"):
        return endpoint.rstrip("/")[: -len("query")] + "store"
    raise QueryError(
        f"cannot guess the Graph Store address from {endpoint}; give it with --store URL"
    )


@dataclass
class GraphCount:
    graph: str
    local: int
    remote: int

    @property
    def ok(self) -> bool:
        return self.local == self.remote


def put_graph(
    store_url: str,
    graph: ox.NamedNode,
    triples: Iterable[ox.Triple],
    timeout: float = DEFAULT_TIMEOUT,
    authorization: str | None = None,
) -> int:
    """Replace one named graph on the store (HTTP PUT ?graph=IRI, N-Triples body).

    The body is streamed into a temporary file first (the catalog graph of 100k resources is
    ≈ 700 MB of N-Triples), then sent from it; returns the number of triples sent."""
    count = 0

    def counted() -> Iterator[ox.Triple]:
        nonlocal count
        for t in triples:
            count += 1
            yield t

    sep = "&" if "?" in store_url else "?"
    url = f"{store_url}{sep}graph={urllib.parse.quote(graph.value, safe='')}"
    where = f"Graph Store {store_url}"
    with tempfile.TemporaryFile() as body:
        ox.serialize(counted(), body, format=ox.RdfFormat.N_TRIPLES)
        size = body.tell()
        body.seek(0)
        request = urllib.request.Request(url, data=body, method="PUT")
        request.add_header("Content-Type", "application/n-triples")
        request.add_header("Content-Length", str(size))
        if authorization:
            request.add_header("Authorization", authorization)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise EndpointError(
                f"{where} answered HTTP {exc.code} for graph <{graph.value}>: "
                f"{_snippet(exc.read())}"
            ) from exc
        except TimeoutError as exc:
            raise EndpointError(f"{where} did not answer within {timeout:g} s") from exc
        except urllib.error.URLError as exc:
            raise EndpointError(f"{where} {_reason(exc.reason)}") from exc
        except OSError as exc:
            raise EndpointError(f"{where} {_reason(exc)}") from exc
    return count


GraphSource = Callable[[ox.NamedNode], Iterable[ox.Triple]]


def push(
    triples_of: GraphSource,
    graphs: Iterable[ox.NamedNode],
    endpoint: Endpoint,
    store_url: str,
    progress: Callable[[ox.NamedNode], None] | None = None,
) -> list[GraphCount]:
    """Load each named graph whole (PUT replaces it), then compare triple counts per graph.

    `triples_of(graph)` streams one graph's triples, so no graph is held in memory."""
    wanted = list(graphs)
    local: dict[str, int] = {}
    for g in wanted:
        local[g.value] = put_graph(
            store_url, g, triples_of(g), endpoint.timeout, endpoint.authorization
        )
        if progress is not None:
            progress(g)
    remote = endpoint.count_triples(wanted)
    return [GraphCount(g.value, local[g.value], remote[g.value]) for g in wanted]


def quads_source(quads: Iterable[ox.Quad]) -> GraphSource:
    """A GraphSource over a list of quads (small catalogs, tests)."""
    by_graph: dict[str, list[ox.Triple]] = {}
    for q in quads:
        if isinstance(q.graph_name, ox.NamedNode):
            by_graph.setdefault(q.graph_name.value, []).append(q.triple)
    return lambda g: by_graph.get(g.value, [])
