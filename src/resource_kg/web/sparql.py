"""The SPARQL 1.1 Query Protocol, read-only: what a request asks, and running it on a store.

`parse_request` turns method, media type, URL query and body into a `Job` (or raises a
`ProtocolError` with the status the protocol asks for); `run_job` evaluates a job on a
pyoxigraph store and serializes the answer in the negotiated format. `run_job` is what the
query workers call, so it needs nothing but the store and the job.

A query is never rewritten: user text is handed to the SPARQL parser as it is. The query's
form, dataset clause and `SERVICE` targets come from `resource_kg.query.shape`, the one
detection `rkg query` uses too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import pyoxigraph as ox

from resource_kg.errors import QueryError
from resource_kg.query.shape import UPDATE_WORDS, Shape, refused_service, shape
from resource_kg.web.negotiation import GRAPH_TYPES, HTML, RESULT_TYPES, choose

QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
FORM_TYPE = "application/x-www-form-urlencoded"
SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

#: Offers for SELECT/ASK and for CONSTRUCT/DESCRIBE, the server's preference first.
SOLUTION_OFFERS: tuple[str, ...] = (*RESULT_TYPES, HTML)
GRAPH_OFFERS: tuple[str, ...] = (*GRAPH_TYPES, HTML)


class ProtocolError(QueryError):
    """A request the protocol refuses; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def check_services(found: Shape, allowed: tuple[str, ...]) -> None:
    """Refuse a SERVICE whose endpoint host is not allowed (no outbound request is made)."""
    shown = refused_service(found, allowed)
    if shown is not None:
        raise ProtocolError(
            f"SERVICE {shown} refused: this endpoint makes no outbound requests "
            "(the server's --allow-service names the hosts it may call)"
        )


# ---------------------------------------------------------------- requests


@dataclass(frozen=True)
class Job:
    """One query as the workers run it: text, dataset, the client's Accept, the row cap."""

    query: str
    accept: str | None
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    max_rows: int = 100_000
    #: The default graph as the union of every graph of the store (stored questions: the
    #: server's store holds exactly the catalog's graphs, and this is 2-3x faster).
    union: bool = False


def _form(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise ProtocolError("the request parameters are not UTF-8 once percent-decoded") from None


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"the request body is not UTF-8 (byte {exc.start})") from None


def media_type(header: str | None) -> tuple[str, str | None]:
    """`application/sparql-query; charset=UTF-8` → ('application/sparql-query', 'utf-8')."""
    if not header:
        return "", None
    parts = [p.strip() for p in header.split(";")]
    charset = None
    for p in parts[1:]:
        key, _, value = p.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return parts[0].lower(), charset


def parse_request(
    method: str, content_type: str | None, url_query: str, body: bytes
) -> tuple[str | None, list[tuple[str, str]]]:
    """The query text (None when the request carries none) and all protocol parameters.

    Follows the protocol's three forms: GET with URL parameters, POST of a form, POST of the
    query itself; anything that would update is refused, as are two queries at once."""
    params = _form(url_query)
    if method == "POST":
        kind, charset = media_type(content_type)
        if charset not in (None, "utf-8", "utf8"):
            raise ProtocolError(f"charset {charset} is not supported: send UTF-8", 415)
        if kind == FORM_TYPE:
            params += _form(_utf8(body))
        elif kind == QUERY_TYPE:
            if any(k == "query" for k, _ in params):
                raise ProtocolError("a direct POST carries its query in the body, not in the URL")
            params.append(("query", _utf8(body)))
        elif kind == UPDATE_TYPE:
            raise ProtocolError("this endpoint is read-only: SPARQL Update is not accepted", 403)
        elif not kind:
            raise ProtocolError(f"a POST needs a Content-Type: {QUERY_TYPE} or {FORM_TYPE}", 415)
        else:
            raise ProtocolError(
                f"media type {kind} is not accepted: send {QUERY_TYPE} or {FORM_TYPE}", 415
            )
    if any(k in ("update", "using-graph-uri", "using-named-graph-uri") for k, _ in params):
        raise ProtocolError("this endpoint is read-only: SPARQL Update is not accepted", 403)
    queries = [v for k, v in params if k == "query"]
    if len(queries) > 1:
        raise ProtocolError(f"{len(queries)} 'query' parameters: send exactly one")
    return (queries[0] if queries else None), params


def make_job(
    query: str,
    params: list[tuple[str, str]],
    accept: str | None,
    *,
    dataset: tuple[str, ...],
    allowed_services: tuple[str, ...],
    max_rows: int,
) -> Job:
    """Check the query's form and SERVICE targets and fix its dataset (protocol rules).

    Without `default-graph-uri`/`named-graph-uri` and without FROM in the query, the default
    graph is the union of the catalog's graphs and only those are named; with them, the
    request's graphs replace both (a named graph not listed is not visible)."""
    found = shape(query)
    if found.form in UPDATE_WORDS:
        raise ProtocolError("this endpoint is read-only: SPARQL Update is not accepted", 403)
    check_services(found, allowed_services)
    defaults = tuple(_iri(v, k) for k, v in params if k == "default-graph-uri")
    named = tuple(_iri(v, k) for k, v in params if k == "named-graph-uri")
    if defaults or named:
        return Job(query, accept, defaults, named, max_rows)
    if found.has_dataset:
        return Job(query, accept, None, None, max_rows)
    return Job(query, accept, dataset, dataset, max_rows)


def _iri(value: str, name: str) -> str:
    try:
        return ox.NamedNode(value).value
    except ValueError:
        raise ProtocolError(f"{name} {value!r} is not an absolute IRI") from None


# ---------------------------------------------------------------- running


@dataclass(frozen=True)
class Outcome:
    """A worker's answer: HTTP status, media type and body, and what the body holds."""

    status: int
    media_type: str
    body: bytes
    kind: str = "error"  # "solutions", "boolean", "graph" or "error"
    rows: int = 0


def _term(term: Any) -> dict[str, Any]:
    """One RDF term in SPARQL 1.1 Query Results JSON."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    assert isinstance(term, ox.Triple)
    return {
        "type": "triple",
        "value": {
            "subject": _term(term.subject),
            "predicate": _term(term.predicate),
            "object": _term(term.object),
        },
    }


def _too_many(max_rows: int, what: str) -> Outcome:
    message = (
        f"the answer has more than {max_rows} {what}, the most this server returns: "
        "add a LIMIT (and ORDER BY with OFFSET to page through it)\n"
    )
    return Outcome(400, "text/plain", message.encode())


def run_job(store: ox.Store, job: Job) -> Outcome:
    """Evaluate `job` on `store`; syntax errors and unacceptable formats become outcomes."""
    kwargs: dict[str, Any] = {}
    if job.union:
        kwargs["use_default_graph_as_union"] = True
    elif job.default_graphs is not None:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs]
    if job.named_graphs is not None:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    try:
        result = store.query(job.query, **kwargs)
    except SyntaxError as exc:
        return Outcome(400, "text/plain", syntax_message(str(exc)).encode())
    except (OSError, ValueError, RuntimeError) as exc:
        return Outcome(400, "text/plain", f"the query could not run: {exc}\n".encode())
    try:
        if isinstance(result, ox.QueryTriples):
            return render_graph(result, job)
        return render_solutions(result, job)
    except (OSError, ValueError, RuntimeError) as exc:
        return Outcome(400, "text/plain", f"the query failed while running: {exc}\n".encode())


def syntax_message(text: str) -> str:
    """pyoxigraph's `error at 2:9: expected …` as a message naming line and column."""
    m = re.match(r"error at (\d+):(\d+)(?:-\d+:\d+)?: (.*)", text, re.DOTALL)
    if m is None:
        return f"SPARQL syntax error: {text}\n"
    return f"SPARQL syntax error at line {m[1]}, column {m[2]}: {m[3]}\n"


def _not_acceptable(offers: tuple[str, ...]) -> Outcome:
    listed = ", ".join(offers)
    return Outcome(
        406, "text/plain", f"no acceptable format: this answer comes as {listed}\n".encode()
    )


def render_solutions(result: ox.QuerySolutions | ox.QueryBoolean, job: Job) -> Outcome:
    """A SELECT's or ASK's answer in the format the job's Accept asks for (rows capped).

    Also what a remote store's answer goes through (`web.store`), so both say the same."""
    media = choose(job.accept, SOLUTION_OFFERS)
    if media is None:
        return _not_acceptable(SOLUTION_OFFERS)
    if isinstance(result, ox.QueryBoolean):
        if media == HTML:
            body = json.dumps({"head": {}, "boolean": bool(result)}).encode()
            return Outcome(200, HTML, body, "boolean")
        out = result.serialize(format=RESULT_TYPES[media])
        assert out is not None
        return Outcome(200, media, out, "boolean", 1)
    names = [v.value for v in result.variables]
    bindings: list[dict[str, Any]] = []
    for solution in result:
        if len(bindings) >= job.max_rows:
            return _too_many(job.max_rows, "rows")
        row = {}
        for name in names:
            value = solution[name]
            if value is not None:
                row[name] = _term(value)
        bindings.append(row)
    doc = json.dumps(
        {"head": {"vars": names}, "results": {"bindings": bindings}},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    fmt = RESULT_TYPES.get(media)
    if media == HTML or fmt == ox.QueryResultsFormat.JSON:
        return Outcome(200, media, doc, "solutions", len(bindings))
    # XML, CSV and TSV: pyoxigraph's own writers, fed back the capped rows.
    parsed = ox.parse_query_results(doc, format=ox.QueryResultsFormat.JSON)
    assert isinstance(parsed, ox.QuerySolutions)
    out = parsed.serialize(format=fmt)
    assert out is not None
    return Outcome(200, media, out, "solutions", len(bindings))


def render_graph(result: Iterable[ox.Triple], job: Job) -> Outcome:
    """A CONSTRUCT's or DESCRIBE's triples in the negotiated format (triples capped)."""
    media = choose(job.accept, GRAPH_OFFERS)
    if media is None:
        return _not_acceptable(GRAPH_OFFERS)
    triples: list[ox.Triple] = []
    for triple in result:
        if len(triples) >= job.max_rows:
            return _too_many(job.max_rows, "triples")
        triples.append(triple)
    fmt = GRAPH_TYPES.get(media, ox.RdfFormat.TURTLE)
    out = ox.serialize(triples, format=fmt)
    return Outcome(200, media, out or b"", "graph", len(triples))


# ---------------------------------------------------------------- service description


def service_description(endpoint: str, graphs: tuple[str, ...]) -> list[ox.Triple]:
    """An `sd:Service` for `endpoint`: language, result formats, the default dataset."""
    n = ox.NamedNode
    svc = n(endpoint)
    ds = ox.BlankNode("dataset")
    dg = ox.BlankNode("defaultGraph")
    out = [
        ox.Triple(svc, n(RDF_TYPE), n(SD + "Service")),
        ox.Triple(svc, n(SD + "endpoint"), svc),
        ox.Triple(svc, n(SD + "supportedLanguage"), n(SD + "SPARQL11Query")),
        ox.Triple(svc, n(SD + "feature"), n(SD + "UnionDefaultGraph")),
        ox.Triple(svc, n(SD + "defaultDataset"), ds),
        ox.Triple(ds, n(RDF_TYPE), n(SD + "Dataset")),
        ox.Triple(ds, n(SD + "defaultGraph"), dg),
        ox.Triple(dg, n(RDF_TYPE), n(SD + "Graph")),
    ]
    for fmt in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV"):
        out.append(ox.Triple(svc, n(SD + "resultFormat"), n(FORMATS + fmt)))
    for fmt in ("SPARQL_Results_TSV", "Turtle", "N-Triples", "JSON-LD", "RDF_XML"):
        out.append(ox.Triple(svc, n(SD + "resultFormat"), n(FORMATS + fmt)))
    for i, graph in enumerate(graphs):
        node = ox.BlankNode(f"named{i}")
        out.append(ox.Triple(ds, n(SD + "namedGraph"), node))
        out.append(ox.Triple(node, n(RDF_TYPE), n(SD + "NamedGraph")))
        out.append(ox.Triple(node, n(SD + "name"), n(graph)))
    return out
