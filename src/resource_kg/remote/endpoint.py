"""Store kinds (where a store takes queries, graphs and updates) and SPARQL queries sent to one."""

from __future__ import annotations

import contextlib
import http.client
import re
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import pyoxigraph as ox

from resource_kg.errors import EndpointError, QueryError
from resource_kg.query import Cell, Result
from resource_kg.remote.http import (
    DEFAULT_TIMEOUT,
    Answer,
    HttpAuth,
    Stream,
    check_http_url,
    http_request,
    http_stream,
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
    #: A time.monotonic() by which every request must be done (`timeout` then bounds the whole
    #: run, as `rkg query --timeout` asks), or None: `timeout` bounds each request alone.
    deadline: float | None = None

    @classmethod
    def from_env(
        cls,
        url: str,
        timeout: float = DEFAULT_TIMEOUT,
        graphs: Iterable[str] = (),
        kind: StoreKind | None = None,
        whole: bool = False,
    ) -> Endpoint:
        """The endpoint with the environment's credentials; `whole`: `timeout` is for the run."""
        check_http_url(url, "SPARQL endpoint")
        deadline = time.monotonic() + timeout if whole else None
        auth = HttpAuth.from_env()
        if kind is None:
            try:
                kind = detect_kind(url, min(timeout, 10), auth)
            except EndpointError:
                kind = "generic"  # the first real request says what is wrong
        return cls(url, timeout, list(graphs), None, kind, auth, None, deadline)

    def _budget(self) -> float:
        """Seconds the next request may take."""
        if self.deadline is None:
            return self.timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self._timed_out()
        return min(self.timeout, left)

    @property
    def dataset_mode(self) -> DatasetMode:
        return self.dataset or DATASET_OF_KIND[self.kind]

    def select(self, query: str) -> Result:
        """Run a SELECT; the dataset is the catalog's four graphs, as the embedded engine sees it."""
        with self.stream(query) as (columns, rows):
            return Result(columns, list(rows))

    @contextlib.contextmanager
    def stream(self, query: str) -> Iterator[tuple[list[str], Iterator[dict[str, Cell]]]]:
        """The columns and the rows of a SELECT, each row parsed as it arrives from the socket.

        The body is never held whole: pyoxigraph's results parser reads it from the
        connection, so memory follows what the caller keeps. `timeout` bounds it all."""
        mode = self.dataset_mode
        if mode == "from":
            text, graphs = with_dataset(query, self.graphs), []
        else:
            text, graphs = query, ([] if mode == "store" else self.graphs)
        with self._open(text, graphs) as answer:
            yield self._solutions(answer)

    def count_triples(self, graphs: Iterable[ox.NamedNode]) -> dict[str, int]:
        """Triples per named graph on the store (0 for a graph it does not hold)."""
        wanted = list(graphs)
        counts = {g.value: 0 for g in wanted}
        for g in wanted:
            text = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {g} {{ ?s ?p ?o }} }}"
            with self._open(text, []) as answer:
                rows = list(self._solutions(answer)[1])
            for row in rows:
                n = row.get("n")
                if isinstance(n, ox.Literal):
                    try:
                        counts[g.value] = int(n.value)
                    except ValueError:
                        raise self._error(
                            f"answered a triple count that is no whole number: {snippet(n.value)!r}"
                        ) from None
        return counts

    def _authorization(self) -> str | None:
        if self.authorization:
            return self.authorization
        return self.auth.header("POST", self.url) if self.auth is not None else None

    @contextlib.contextmanager
    def _open(self, query: str, graphs: list[str]) -> Iterator[Stream]:
        with contextlib.ExitStack() as stack:
            try:
                answer = stack.enter_context(self._open_once(query, graphs))
            except _Unauthorized as exc:
                # A Digest store: fetch its challenge with a small request, then ask again.
                if self.auth is None or not self.auth.user:
                    raise self._error(status_message("", exc.answer, self.auth).strip()) from None
                probe = self.url + ("&" if "?" in self.url else "?") + "query=ASK%7B%7D"
                what = f"SPARQL endpoint {self.url}"
                http_request("GET", probe, what, auth=self.auth, timeout=min(self._budget(), 10))
                try:
                    answer = stack.enter_context(self._open_once(query, graphs))
                except _Unauthorized as again:
                    message = status_message("", again.answer, self.auth).strip()
                    raise self._error(message) from None
            yield answer

    @contextlib.contextmanager
    def _open_once(self, query: str, graphs: list[str]) -> Iterator[Stream]:
        """POST the query (SPARQL 1.1 Protocol); a status or media type that is no answer fails."""
        fields = [("query", query)]
        fields += [("default-graph-uri", g) for g in graphs]
        fields += [("named-graph-uri", g) for g in graphs]
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/sparql-results+json",
        }
        authorization = self._authorization()
        if authorization:
            headers["Authorization"] = authorization
        body = urllib.parse.urlencode(fields).encode("utf-8")
        what = f"SPARQL endpoint {self.url}"
        with http_stream(
            "POST",
            self.url,
            what,
            body=body,
            headers=headers,
            timeout=self._budget(),
            limit=self.timeout,
        ) as answer:
            if answer.status in (401, 403):
                got = Answer(answer.status, answer.headers, answer.head())
                if answer.status == 401:
                    raise _Unauthorized(got)
                raise self._error(status_message("", got, self.auth).strip())
            if not 200 <= answer.status < 300:
                raise self._error(f"answered HTTP {answer.status}: {snippet(answer.head())}")
            # Virtuoso's "anytime" answers: cut at MaxQueryExecutionTime, flagged only here.
            sql_state = answer.headers.get("X-SQL-State")
            if sql_state:
                raise self._error(
                    f"answered with incomplete results (X-SQL-State {sql_state}: "
                    f"{snippet(answer.headers.get('X-SQL-Message', ''))}); "
                    "raise its MaxQueryExecutionTime"
                )
            content_type = answer.headers.get("Content-Type", "") or ""
            if "json" not in content_type.lower():
                raise self._error(
                    f"answered with non-SPARQL content ({content_type or 'no content type'}): "
                    f"{snippet(answer.head())}"
                )
            yield answer

    def _solutions(self, answer: Stream) -> tuple[list[str], Iterator[dict[str, Cell]]]:
        """SPARQL 1.1 JSON results read from the stream: the columns, then row by row."""
        with self._reading(answer):
            parsed = ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.JSON)
        if not isinstance(parsed, ox.QuerySolutions):
            del parsed
            raise self._error("answered with no SELECT result (a boolean)")
        columns = [v.value for v in parsed.variables]
        # pyoxigraph's results may only be dropped on the thread that made them: the
        # generator lets go of them when it ends, never leaving them to a traceback.
        held = [parsed]
        del parsed

        def rows() -> Iterator[dict[str, Cell]]:
            solution = None
            try:
                with self._reading(answer):
                    for solution in held[0]:
                        yield dict(zip(columns, solution, strict=True))
                    # The rest of the body, to the length the server announced: a body cut
                    # short after a complete JSON document is still cut short.
                    while answer.body.read(65536):
                        pass
            finally:
                solution = None  # noqa: F841 - released here, on this thread
                held.clear()
            if answer.deadline.expired:
                raise self._timed_out()
            if answer.body.length:  # http.client's read(n) returns b"" at an early close
                raise self._error(f"sent a truncated answer ({answer.body.length} bytes missing)")

        return columns, rows()

    @contextlib.contextmanager
    def _reading(self, answer: Stream) -> Iterator[None]:
        """Faults while the body is read, as one clear error each."""
        try:
            yield
        except SyntaxError as exc:
            if answer.deadline.expired:
                raise self._timed_out() from None
            if answer.body.length:
                raise self._error(
                    f"sent a truncated answer ({answer.body.length} bytes missing)"
                ) from None
            if "end of file" in str(exc).lower():
                raise self._error(f"sent a truncated answer ({exc})") from None
            raise self._error(f"answered with invalid JSON ({exc})") from None
        except http.client.IncompleteRead as exc:
            if answer.deadline.expired:
                raise self._timed_out() from None
            missing = (
                f"{exc.expected} bytes missing"
                if isinstance(exc.expected, int)
                else "the connection closed inside a chunk"
            )
            raise self._error(f"sent a truncated answer ({missing})") from None
        except (OSError, http.client.HTTPException) as exc:
            if answer.deadline.expired:
                raise self._timed_out() from None
            raise self._error(f"broke off its answer: {reason(exc)}") from None

    def _timed_out(self) -> EndpointError:
        return self._error(f"did not answer within {self.timeout:g} s (--timeout)")

    def _error(self, detail: str) -> EndpointError:
        return EndpointError(f"SPARQL endpoint {self.url} {detail}")


class _Unauthorized(Exception):
    def __init__(self, answer: Answer) -> None:
        super().__init__("HTTP 401")
        self.answer = answer
