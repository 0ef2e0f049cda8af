"""Where `rkg serve` sends its queries: the embedded store's workers, or a remote SPARQL store.

The app talks to one small interface, `QueryStore`: a `Job` (query text, dataset, Accept, row
cap) in, an `Outcome` (status, media type, body) out, plus a plain `Engine` for the look-ups
that resolve a stored question's parameters. `web.pool.WorkerPool` is the embedded
implementation (pyoxigraph in forked workers); `RemoteStore` sends the same jobs to a SPARQL
1.1 endpoint through the project's one HTTP client (`resource_kg.remote.http.http_request`,
with its Basic/Digest/bearer credentials from the environment) and renders the store's answer
with the embedded path's own writers (`sparql.render_solutions`, `sparql.render_graph`), so
/sparql and the stored questions say the same thing, in the same formats, either way.

Pages over a remote store (`rkg serve --endpoint URL`): the site model is built once, at
start-up, from a CONSTRUCT of each of the catalog's four named graphs on the store
(`remote_catalog`). This was chosen over rendering each page from per-request queries because
the pages need whole-graph views (a concept page lists every resource using it, the faceted
index counts every value, every link carries its target's label): querying those per request
would re-implement the site model in SPARQL, and the snapshot renders with the very code of
the embedded server and the static site, so the pages cannot drift. The cost: pages, entity
descriptions, /store and the downloads show the graphs as they were at start-up (restart the
server after a push), while /sparql and the stored questions always ask the store itself; the
snapshot takes the memory the embedded server's site model takes. The catalog folder (ROOT)
still gives the settings, the stored questions and the vocabularies that resolve parameter
labels, as for `rkg query --endpoint`; its records are not read.

Bounds: at most `size` requests are open on the store at once; an answer is read up to a
size that follows the row cap (`ANSWER_FLOOR + BYTES_PER_ROW * max_rows`), then refused;
`timeout` is a total deadline per request (waiting for a free slot included), after which the
client gets a 503 even if the store is still sending; a store that cannot be reached or fails
gives a 502 with a plain message. No request goes anywhere but the configured endpoint.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

import pyoxigraph as ox

from resource_kg.catalog import Catalog
from resource_kg.config import load_settings
from resource_kg.errors import EndpointError
from resource_kg.graph import RDF, Graphs, QuadTable
from resource_kg.query import Engine, Result, load_context
from resource_kg.query.shape import shape
from resource_kg.query.stored import RKG_RESOURCE
from resource_kg.remote import Endpoint, http_request, with_dataset
from resource_kg.remote.http import AnswerTooLarge, HttpAuth, StaticAuth, snippet
from resource_kg.web import questions
from resource_kg.web.pool import QueryTimeout
from resource_kg.web.sparql import (
    FORM_TYPE,
    Job,
    Outcome,
    ProtocolError,
    render_graph,
    render_solutions,
)

RESULTS_ACCEPT = "application/sparql-results+json"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9"
EITHER_ACCEPT = f"{RESULTS_ACCEPT}, {GRAPH_ACCEPT.replace('0.9', '0.8')}"
#: The most bytes read of one answer: a floor plus this much per row the server may return
#: (`--max-rows`), so a store's huge answer is refused before it fills the server's memory.
ANSWER_FLOOR = 64 << 10
BYTES_PER_ROW = 2 << 10
#: Start-up CONSTRUCTs may take longer than one page's query: at least this many seconds each.
SNAPSHOT_TIMEOUT = 120.0


class QueryStore(Protocol):
    """What the app asks of a store (see the module docstring)."""

    timeout: float

    def start(self) -> None: ...

    def close(self) -> None: ...

    async def run(self, job: Job) -> Outcome: ...

    def engine(self, graphs: Graphs, source: str) -> Engine: ...


class RemoteStore:
    """Jobs answered by a remote SPARQL endpoint, `size` at a time, each within `timeout`."""

    def __init__(self, endpoint: Endpoint, graphs: Graphs, size: int, timeout: float) -> None:
        self.endpoint = endpoint
        self.graphs = tuple(g.value for g in graphs.all())
        self.size = size
        self.timeout = timeout
        self.url = endpoint.url
        self._threads = ThreadPoolExecutor(max_workers=size, thread_name_prefix="rkg-remote")
        self._slots: asyncio.Semaphore | None = None

    def start(self) -> None:
        self._slots = asyncio.Semaphore(self.size)

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def run(self, job: Job) -> Outcome:
        """The store's answer to `job`; a 503 once the deadline passes, a 502 when it fails."""
        if self._slots is None:
            self.start()
        assert self._slots is not None
        slots = self._slots
        started = time.monotonic()
        try:
            await asyncio.wait_for(slots.acquire(), self.timeout)
        except TimeoutError:
            raise QueryTimeout(
                f"the server is busy: {self.size} queries are already open on its SPARQL store "
                f"and none ended within {self.timeout:g} s; try again shortly",
                503,
            ) from None
        left = max(self.timeout - (time.monotonic() - started), 0.01)
        future = asyncio.get_running_loop().run_in_executor(self._threads, self.answer, job, left)
        # The slot is freed when the request really ends, not when the client stops waiting:
        # a store that overruns never has more than `size` requests open from here.
        future.add_done_callback(lambda _f: slots.release())
        try:
            return await asyncio.wait_for(asyncio.shield(future), left)
        except TimeoutError:
            raise self._late() from None

    def _late(self) -> QueryTimeout:
        return QueryTimeout(
            f"the SPARQL store did not answer within the server's time limit of "
            f"{self.timeout:g} s; narrow the query down (a LIMIT, fewer unbound patterns)",
            503,
        )

    def engine(self, graphs: Graphs, source: str) -> Engine:
        return _RemoteEngine(self)

    # ------------------------------------------------------------ one request

    def request(
        self,
        query: str,
        accept: str,
        params: list[tuple[str, str]],
        timeout: float,
        max_bytes: int | None = None,
    ) -> tuple[str, bytes]:
        """POST one query (form-encoded, as the protocol allows) and return (media type, body).

        Failures raise `ProtocolError`s: 502 when the store cannot be reached or fails, 503
        when it does not answer in time, 400 (with the store's words) when it refuses the query."""
        body = urlencode([("query", query), *params]).encode()
        try:
            answer = http_request(
                "POST",
                self.url,
                f"the SPARQL store {self.url}",
                body=body,
                headers={"Content-Type": FORM_TYPE, "Accept": accept},
                auth=self._auth(),
                timeout=timeout,
                ok=range(200, 600),
                max_bytes=max_bytes,
            )
        except AnswerTooLarge:
            raise ProtocolError(
                f"the answer is larger than {max_bytes} bytes, the most this server reads from "
                "its store: add a LIMIT (and ORDER BY with OFFSET to page through it)",
                400,
            ) from None
        except EndpointError as exc:
            if "did not answer within" in exc.message:
                raise self._late() from None
            raise ProtocolError(
                f"{exc.message}; this server cannot answer without it", 502
            ) from None
        if answer.status in (401, 403):
            raise ProtocolError(
                f"the SPARQL store {self.url} refused this server's login (HTTP {answer.status}): "
                "check RKG_ENDPOINT_USER, RKG_ENDPOINT_PASSWORD or RKG_ENDPOINT_TOKEN",
                502,
            )
        if 400 <= answer.status < 500:
            raise ProtocolError(
                f"the SPARQL store refused the query (HTTP {answer.status}): {snippet(answer.body, 500)}",
                400,
            )
        if answer.status != 200:
            raise ProtocolError(
                f"the SPARQL store {self.url} failed (HTTP {answer.status}): {snippet(answer.body)}",
                502,
            )
        state = answer.headers.get("X-SQL-State")
        if state:  # Virtuoso's "anytime" answers: cut short, flagged only in this header
            raise ProtocolError(
                f"the SPARQL store cut its answer short (X-SQL-State {state}: "
                f"{snippet(answer.headers.get('X-SQL-Message', ''))})",
                503,
            )
        return answer.headers.get("Content-Type", "") or "", answer.body

    def _auth(self) -> HttpAuth | None:
        if self.endpoint.authorization:
            return StaticAuth(self.endpoint.authorization)
        return self.endpoint.auth

    def dataset(self, job: Job) -> tuple[str, list[tuple[str, str]]]:
        """The text to send and its dataset parameters, by the protocol's rules (see `make_job`)
        and the store's kind: the catalog's own dataset is named as `Endpoint.select` names it
        (stored questions then get what `rkg query --endpoint` gets); a request's own
        `default-graph-uri`/`named-graph-uri` are passed on; FROM in the text: nothing added."""
        own = job.union or (job.default_graphs == self.graphs and job.named_graphs == self.graphs)
        if own:
            mode = self.endpoint.dataset_mode
            if mode == "store":
                return job.query, []
            if mode == "from" and job.union:
                return with_dataset(job.query, self.graphs), []
            return job.query, [
                *(("default-graph-uri", g) for g in self.graphs),
                *(("named-graph-uri", g) for g in self.graphs),
            ]
        return job.query, [
            *(("default-graph-uri", g) for g in job.default_graphs or ()),
            *(("named-graph-uri", g) for g in job.named_graphs or ()),
        ]

    def answer(self, job: Job, timeout: float) -> Outcome:
        """Run `job` on the store (blocking) and render its answer as the embedded path does."""
        form = shape(job.query).form
        accept = (
            RESULTS_ACCEPT
            if form in ("SELECT", "ASK")
            else GRAPH_ACCEPT
            if form in ("CONSTRUCT", "DESCRIBE")
            else EITHER_ACCEPT
        )
        text, params = self.dataset(job)
        try:
            limit = ANSWER_FLOOR + BYTES_PER_ROW * job.max_rows
            media, body = self.request(text, accept, params, timeout, limit)
        except ProtocolError as exc:
            return Outcome(exc.status, "text/plain", (exc.message.rstrip("\n") + "\n").encode())
        try:
            results = ox.QueryResultsFormat.from_media_type(media) if media else None
            if results is not None:
                solutions = ox.parse_query_results(body, format=results)
                assert not isinstance(solutions, ox.QueryTriples)
                return render_solutions(solutions, job)
            graph = _rdf_format(media)
            if graph is not None:
                return render_graph((q.triple for q in ox.parse(body, format=graph)), job)
        except (SyntaxError, ValueError, OSError) as exc:
            message = f"the SPARQL store {self.url} sent an answer that does not parse: {exc}\n"
            return Outcome(502, "text/plain", message.encode())
        message = (
            f"the SPARQL store {self.url} answered with {media or 'no media type'}, "
            f"which is no SPARQL result: {snippet(body)}\n"
        )
        return Outcome(502, "text/plain", message.encode())


def _rdf_format(media: str) -> ox.RdfFormat | None:
    if media.split(";")[0].strip().lower() == "text/plain":  # Virtuoso's name for N-Triples
        return ox.RdfFormat.N_TRIPLES
    return ox.RdfFormat.from_media_type(media) if media else None


class StoreFailed(EndpointError):
    """The store failed a look-up made while resolving parameters; `status` as for /sparql.

    Not a `QueryError`: it must reach the edge as the store's failure (502/503), not be
    reported as a bad parameter value."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _RemoteEngine:
    """A blocking SELECT on the remote store (resource look-ups of stored questions)."""

    def __init__(self, store: RemoteStore) -> None:
        self.store = store

    def select(self, query: str) -> Result:
        job = Job(query, RESULTS_ACCEPT, union=True)
        outcome = self.store.answer(job, self.store.timeout)
        if outcome.status != 200:
            raise StoreFailed(outcome.body.decode("utf-8", "replace").rstrip("\n"), outcome.status)
        return questions.result_from_json(json.loads(outcome.body))


# ---------------------------------------------------------------- the start-up snapshot


def remote_catalog(root: Path | str, endpoint: Endpoint) -> Catalog:
    """The catalog as the store holds it: ROOT's settings, vocabularies and organizations
    (labels for parameters), and the quads of the four named graphs fetched from the store.

    Each graph is fetched with one CONSTRUCT and its triples counted on the store; a store
    that caps its answers (Virtuoso's ResultSetMaxRows) is then read in ordered pages of that
    size, and a graph that still comes back short is an error, not a silently partial site."""
    context = load_context(Path(root))
    settings = load_settings(Path(root))
    graphs = list(context.graphs.all())
    fetcher = RemoteStore(endpoint, context.graphs, 1, max(endpoint.timeout, SNAPSHOT_TIMEOUT))
    counts = endpoint.count_triples(graphs)
    if not any(counts.values()):
        names = ", ".join(g.value for g in graphs)
        raise EndpointError(
            f"the SPARQL store {endpoint.url} holds none of the catalog's graphs ({names}): "
            "load them first (rkg push), or check the catalog's base IRI"
        )
    quads: list[ox.Quad] = []
    for graph in graphs:
        triples = _graph_triples(fetcher, graph, counts[graph.value])
        quads.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)
    table = QuadTable.from_quads(quads).sorted()
    return Catalog(context.paths, settings, context.graphs, context.lexicon, [], [], table, [], {})


def _graph_triples(fetcher: RemoteStore, graph: ox.NamedNode, expected: int) -> list[ox.Triple]:
    where = f"WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}"
    whole = _construct(fetcher, f"CONSTRUCT {{ ?s ?p ?o }} {where}")
    if len(whole) >= expected or not whole:
        found = whole
    else:
        page, found = len(whole), set()
        for offset in range(0, expected, page):
            text = (
                f"CONSTRUCT {{ ?s ?p ?o }} {where} ORDER BY ?s ?p ?o OFFSET {offset} LIMIT {page}"
            )
            found.update(_construct(fetcher, text))
    if len(found) < expected:
        raise EndpointError(
            f"the SPARQL store {fetcher.url} gave {len(found)} of the {expected} triples of "
            f"graph {graph.value}: raise its result limit (Virtuoso: ResultSetMaxRows)"
        )
    return sorted(found, key=str)


def _construct(fetcher: RemoteStore, text: str) -> set[ox.Triple]:
    try:
        media, body = fetcher.request(text, GRAPH_ACCEPT, [], fetcher.timeout)
    except ProtocolError as exc:
        raise EndpointError(exc.message) from None
    fmt = _rdf_format(media)
    if fmt is None:
        raise EndpointError(
            f"the SPARQL store {fetcher.url} answered a CONSTRUCT with {media or 'no media type'}: "
            f"{snippet(body)}"
        )
    try:
        return {q.triple for q in ox.parse(body, format=fmt)}
    except SyntaxError as exc:
        raise EndpointError(
            f"the SPARQL store {fetcher.url} sent triples that do not parse: {exc}"
        ) from None


def resource_count(catalog: Catalog) -> int:
    """How many resources a snapshot holds (it has no records to count)."""
    rdf_type = f"<{RDF}type>"
    resource = f"<{RKG_RESOURCE}>"
    return len({s for _, s, p, o in catalog.quad_table.keys if p == rdf_type and o == resource})
