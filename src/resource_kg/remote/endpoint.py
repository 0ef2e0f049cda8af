"""Store kinds (where a store takes queries, graphs and updates) and SPARQL queries sent to one."""

from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import pyoxigraph as ox

from resource_kg.errors import EndpointError, QueryError
from resource_kg.query import Cell, Result
from resource_kg.remote.http import (
    DEFAULT_TIMEOUT,
    Answer,
    HttpAuth,
    http_request,
    reason,
    snippet,
    status_message,
)

StoreKind = Literal["oxigraph", "virtuoso", "generic"]
STORE_KINDS: tuple[StoreKind, ...] = ("oxigraph", "virtuoso", "generic")

#: How a query names the catalog's graphs: protocol parameters, FROM clauses in the text, or
#: not at all (the store's own default dataset). Measured on Virtuoso 7.2 (2,000 resources,
#: `related` for one resource): default-graph-uri or FROM make it plan a > 60 s query, its own
#: default dataset (the union of every graph it holds) answers in 0.09 s; so a Virtuoso store
#: is asked without naming graphs and should hold the catalog's graphs only. Oxigraph server's
#: default graph is its own (empty) default graph, so it is given the graphs as parameters.
DatasetMode = Literal["protocol", "from", "store"]
DATASET_OF_KIND: dict[StoreKind, DatasetMode] = {
    "oxigraph": "protocol",
    "virtuoso": "store",
    "generic": "protocol",
}


# ---------------------------------------------------------------- store kinds


def detect_kind(url: str, timeout: float = 10, auth: HttpAuth | None = None) -> StoreKind:
    """The kind of store answering at the query URL, from its Server header."""
    probe = url + ("&" if "?" in url else "?") + "query=" + urllib.parse.quote("ASK {}")
    answer = http_request(
        "GET",
        probe,
        f"SPARQL endpoint {url}",
        headers={"Accept": "application/sparql-results+json"},
        auth=auth,
        timeout=timeout,
        ok=range(200, 500),
    )
    server = (answer.headers.get("Server") or "").lower()
    if "virtuoso" in server:
        return "virtuoso"
    if "oxigraph" in server:
        return "oxigraph"
    return "generic"


@dataclass
class StoreLayout:
    """Where a store answers queries, takes whole graphs (GSP) and takes updates."""

    kind: StoreKind
    query: str
    store: str
    update: str | None


def _strip(url: str, *suffixes: str) -> str | None:
    bare = url.split("?", 1)[0].rstrip("/")
    for suffix in suffixes:
        if bare.endswith(suffix):
            return bare[: -len(suffix)]
    return None


def layout_for(
    kind: StoreKind,
    endpoint: str,
    store: str | None = None,
    update: str | None = None,
    authenticated: bool = False,
) -> StoreLayout:
    """The addresses of a store of this kind, from its query endpoint (given ones win)."""
    if kind == "virtuoso":
        base = _strip(endpoint, "/sparql-auth", "/sparql")
        if base is None and (store is None or update is None):
            raise QueryError(
                f"a Virtuoso endpoint ends in /sparql, not {endpoint}; give --store and --update"
            )
        crud = "/sparql-graph-crud-auth" if authenticated else "/sparql-graph-crud"
        return StoreLayout(
            kind,
            endpoint,
            store or f"{base}{crud}",
            update or f"{base}{'/sparql-auth' if authenticated else '/sparql'}",
        )
    if kind == "oxigraph":
        base = _strip(endpoint, "/query")
        if base is None and (store is None or update is None):
            raise QueryError(
                f"an Oxigraph endpoint ends in /query, not {endpoint}; give --store and --update"
            )
        return StoreLayout(kind, endpoint, store or f"{base}/store", update or f"{base}/update")
    return StoreLayout(kind, endpoint, store or store_url_for(endpoint), update)


def store_url_for(endpoint: str) -> str:
    """Oxigraph's layout: queries at /query, the Graph Store at /store."""
    if endpoint.rstrip("/").endswith("/query"):
        return endpoint.rstrip("/")[: -len("query")] + "store"
    raise QueryError(
        f"cannot guess the Graph Store address from {endpoint}; give it with --store URL"
    )


# ---------------------------------------------------------------- dataset in the text

#: Comments, strings, IRIs and the tokens that matter when finding a query's WHERE.
_TOKENS = re.compile(
    r"""\#[^\n]*|"{3}.*?"{3}|'{3}.*?'{3}|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'"""
    r"""|<[^<>"{}|^`\\\s]*>|(?P<word>\b(?:WHERE|SELECT|ASK|CONSTRUCT|DESCRIBE)\b)|(?P<brace>\{)"""
    r"|(?P<open>\()|(?P<close>\))",
    re.IGNORECASE | re.DOTALL,
)


def with_dataset(query: str, graphs: Iterable[str]) -> str:
    """The query with `FROM <g> FROM NAMED <g>` for each graph before its top-level WHERE.

    Only the IRIs of `graphs` are written, each checked as an IRI; nothing else changes."""
    clauses = []
    for g in graphs:
        iri = str(ox.NamedNode(g))  # raises ValueError on anything that is no IRI
        clauses.append(f"FROM {iri} FROM NAMED {iri}")
    if not clauses:
        return query
    depth, seen_form = 0, False
    for m in _TOKENS.finditer(query):
        if m.group("open"):
            depth += 1
        elif m.group("close"):
            depth -= 1
        elif m.group("word"):
            word = m.group("word").upper()
            if word != "WHERE":
                seen_form = True
            elif seen_form and depth == 0:
                return f"{query[: m.start()]}{' '.join(clauses)}\n{query[m.start() :]}"
        elif m.group("brace") and seen_form and depth == 0:
            return f"{query[: m.start()]}{' '.join(clauses)}\n{query[m.start() :]}"
    raise QueryError("cannot find the WHERE clause of the query to name its graphs")


# ---------------------------------------------------------------- queries


@dataclass
class Endpoint:
    """A SPARQL query endpoint over the catalog's `graphs` (named as its `dataset` mode says)."""

    url: str
    timeout: float = DEFAULT_TIMEOUT
    graphs: list[str] = field(default_factory=list)
    authorization: str | None = None
    kind: StoreKind = "generic"
    auth: HttpAuth | None = None
    dataset: DatasetMode | None = None

    @classmethod
    def from_env(
        cls,
        url: str,
        timeout: float = DEFAULT_TIMEOUT,
        graphs: Iterable[str] = (),
        kind: StoreKind | None = None,
    ) -> Endpoint:
        auth = HttpAuth.from_env()
        if kind is None:
            try:
                kind = detect_kind(url, min(timeout, 10), auth)
            except EndpointError:
                kind = "generic"  # the first real request says what is wrong
        return cls(url, timeout, list(graphs), None, kind, auth)

    @property
    def dataset_mode(self) -> DatasetMode:
        return self.dataset or DATASET_OF_KIND[self.kind]

    def select(self, query: str) -> Result:
        """Run a SELECT; the dataset is the catalog's four graphs, as the embedded engine sees it."""
        mode = self.dataset_mode
        if mode == "from":
            doc = self._request(with_dataset(query, self.graphs), [])
        elif mode == "store":
            doc = self._request(query, [])
        else:
            doc = self._request(query, self.graphs)
        return _parse_select(doc, self.url)

    def count_triples(self, graphs: Iterable[ox.NamedNode]) -> dict[str, int]:
        """Triples per named graph on the store (0 for a graph it does not hold)."""
        wanted = list(graphs)
        counts = {g.value: 0 for g in wanted}
        for g in wanted:
            text = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {g} {{ ?s ?p ?o }} }}"
            result = _parse_select(self._request(text, []), self.url)
            for row in result.rows:
                n = row.get("n")
                if isinstance(n, ox.Literal):
                    counts[g.value] = int(n.value)
        return counts

    def _authorization(self) -> str | None:
        if self.authorization:
            return self.authorization
        return self.auth.header("POST", self.url) if self.auth is not None else None

    def _request(self, query: str, graphs: list[str]) -> Any:
        try:
            return self._request_once(query, graphs)
        except _Unauthorized as exc:
            # A Digest store: fetch its challenge with a small request, then ask again.
            if self.auth is None or not self.auth.user:
                raise self._error(status_message("", exc.answer, self.auth).strip()) from None
            probe = self.url + ("&" if "?" in self.url else "?") + "query=ASK%7B%7D"
            http_request("GET", probe, f"SPARQL endpoint {self.url}", auth=self.auth, timeout=10)
            try:
                return self._request_once(query, graphs)
            except _Unauthorized as again:
                raise self._error(status_message("", again.answer, self.auth).strip()) from None

    def _request_once(self, query: str, graphs: list[str]) -> Any:
        from SPARQLWrapper import JSON, POST, SELECT, SPARQLWrapper
        from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException, Unauthorized

        client = SPARQLWrapper(self.url)
        client.setMethod(POST)
        client.setOnlyConneg(True)
        client.setReturnFormat(JSON)
        client.setTimeout(int(max(1, self.timeout)))
        for g in graphs:
            client.addDefaultGraph(g)
            client.addNamedGraph(g)
        authorization = self._authorization()
        if authorization:
            client.addCustomHttpHeader("Authorization", authorization)
        client.setQuery(query)
        # SPARQLWrapper guesses the query form from keywords and takes a query mentioning
        # "created" or "added" for an update; every query sent from here is a SELECT.
        client.queryType = SELECT
        try:
            response = client.query().response
            content_type = response.headers.get("Content-Type", "") or ""
            # Virtuoso's "anytime" answers: cut at MaxQueryExecutionTime, flagged only here.
            sql_state = response.headers.get("X-SQL-State")
            sql_message = response.headers.get("X-SQL-Message", "")
            body = response.read()
        except Unauthorized as exc:
            raise _Unauthorized(Answer(401, http.client.HTTPMessage(), b"")) from exc
        except SPARQLWrapperException as exc:
            raise self._error(_http_message(exc)) from exc
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                answer = Answer(exc.code, exc.headers, exc.read())  # type: ignore[arg-type]
                if exc.code == 401:
                    raise _Unauthorized(answer) from exc
                raise self._error(status_message("", answer, self.auth).strip()) from exc
            raise self._error(f"answered HTTP {exc.code}: {snippet(exc.read())}") from exc
        except TimeoutError as exc:
            raise self._error(f"did not answer within {self.timeout:g} s") from exc
        except urllib.error.URLError as exc:
            raise self._error(reason(exc.reason)) from exc
        except (ConnectionError, OSError) as exc:
            raise self._error(reason(exc)) from exc
        if sql_state:
            raise self._error(
                f"answered with incomplete results (X-SQL-State {sql_state}: "
                f"{snippet(sql_message)}); raise its MaxQueryExecutionTime"
            )
        if "json" not in content_type.lower():
            raise self._error(
                f"answered with non-SPARQL content ({content_type or 'no content type'}): "
                f"{snippet(body)}"
            )
        try:
            return json.loads(body)
        except ValueError as exc:
            raise self._error(f"answered with invalid JSON: {snippet(body)}") from exc

    def _error(self, detail: str) -> EndpointError:
        return EndpointError(f"SPARQL endpoint {self.url} {detail}")


class _Unauthorized(Exception):
    def __init__(self, answer: Answer) -> None:
        super().__init__("HTTP 401")
        self.answer = answer


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
    return f"answered {label}: {snippet(text)}"


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
