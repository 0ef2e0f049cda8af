"""Push: each named graph into a temporary graph in bounded chunks, then `MOVE`d onto its name."""

from __future__ import annotations

import hashlib
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO

import pyoxigraph as ox

from resource_kg.errors import EndpointError
from resource_kg.remote.endpoint import Endpoint
from resource_kg.remote.http import (
    DEFAULT_TIMEOUT,
    HttpAuth,
    StaticAuth,
    http_request,
    status_message,
)

#: Triples per request of a push (≈ 5–10 MB of N-Triples).
CHUNK_TRIPLES = 50_000


# ---------------------------------------------------------------- Graph Store Protocol


@dataclass
class GraphCount:
    graph: str
    local: int
    remote: int

    @property
    def ok(self) -> bool:
        return self.local == self.remote


class PushInterrupted(EndpointError):
    """A push that stopped: which graphs are done, which is unchanged, which were not started."""

    def __init__(self, cause: str, done: list[str], failed: str, left: list[str], swap: bool):
        state = (
            "still holds what it held before (its upload went to a temporary graph)"
            if swap
            else "holds what it held before, unless the store took the whole upload"
        )
        lines = [
            cause,
            f"push stopped at graph <{failed}>: it {state}",
            "done (wholly new): " + (", ".join(f"<{g}>" for g in done) or "none"),
            "not started (wholly old): " + (", ".join(f"<{g}>" for g in left) or "none"),
            "run the same push again to finish",
        ]
        super().__init__("\n".join(lines))
        self.done, self.failed, self.left = done, failed, left


def temporary_graph(graph: ox.NamedNode) -> ox.NamedNode:
    """The graph a push fills before it is moved onto `graph`."""
    digest = hashlib.sha1(graph.value.encode(), usedforsecurity=False).hexdigest()[:16]
    return ox.NamedNode(f"urn:x-rkg:push-temporary:{digest}")


def _graph_url(store_url: str, graph: ox.NamedNode) -> str:
    sep = "&" if "?" in store_url else "?"
    return f"{store_url}{sep}graph={urllib.parse.quote(graph.value, safe='')}"


def _chunks(triples: Iterable[ox.Triple], size: int) -> Iterator[list[ox.Triple]]:
    """Bounded lists of triples; a graph with blank nodes is sent whole (labels are per body)."""
    chunk: list[ox.Triple] = []
    whole = False
    for t in triples:
        chunk.append(t)
        if not whole and (
            isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)
        ):
            whole = True
        if len(chunk) >= size and not whole:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _ntriples(triples: list[ox.Triple]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""


def put_graph(
    store_url: str,
    graph: ox.NamedNode,
    triples: Iterable[ox.Triple],
    timeout: float = DEFAULT_TIMEOUT,
    authorization: str | None = None,
    auth: HttpAuth | None = None,
) -> int:
    """Replace one named graph on the store in one HTTP PUT (?graph=IRI, N-Triples body).

    For stores without an update service; the body is written to a temporary file first."""
    count = 0

    def counted() -> Iterator[ox.Triple]:
        nonlocal count
        for t in triples:
            count += 1
            yield t

    where = f"Graph Store {store_url}"
    with tempfile.TemporaryFile() as body:
        ox.serialize(counted(), body, format=ox.RdfFormat.N_TRIPLES)
        if authorization and auth is None:
            auth = StaticAuth(authorization)
        _put_file(_graph_url(store_url, graph), where, body, timeout, auth)
    return count


def _put_file(
    url: str,
    where: str,
    body: IO[bytes],
    timeout: float,
    auth: HttpAuth | None,
) -> None:
    if auth is not None and auth.user and not auth.token:
        # Meet a Digest challenge, or a refused login, with a small request before the body.
        probe = http_request("HEAD", url, where, auth=auth, timeout=timeout, ok=range(200, 600))
        if probe.status in (401, 403):
            raise EndpointError(status_message(where, probe, auth))
    headers = {"Content-Type": "application/n-triples"}
    http_request("PUT", url, where, body=body, headers=headers, auth=auth, timeout=timeout)


def _update(url: str, text: str, auth: HttpAuth | None, timeout: float) -> None:
    body = urllib.parse.urlencode({"update": text}).encode()
    http_request(
        "POST",
        url,
        f"SPARQL Update service {url}",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "*/*"},
        auth=auth,
        timeout=timeout,
    )


def swap_graph(
    store_url: str,
    update_url: str,
    graph: ox.NamedNode,
    triples: Iterable[ox.Triple],
    auth: HttpAuth | None,
    timeout: float = DEFAULT_TIMEOUT,
    chunk_triples: int = CHUNK_TRIPLES,
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """Fill a temporary graph chunk by chunk (GSP POST), then `MOVE` it onto `graph`."""
    temp = temporary_graph(graph)
    url = _graph_url(store_url, temp)
    where = f"Graph Store {store_url}"
    headers = {"Content-Type": "application/n-triples"}
    # Leftovers of an interrupted push go first; this small request also meets any challenge.
    http_request("DELETE", url, where, auth=auth, timeout=timeout, ok=(200, 201, 204, 404))
    count = 0
    for chunk in _chunks(triples, chunk_triples):
        body = _ntriples(chunk)
        http_request("POST", url, where, body=body, headers=headers, auth=auth, timeout=timeout)
        count += len(chunk)
        if on_chunk is not None:
            on_chunk(count)
    if count:
        _update(update_url, f"MOVE {temp} TO {graph}", auth, timeout)
    else:
        _update(update_url, f"DROP SILENT GRAPH {graph}", auth, timeout)
    return count


GraphSource = Callable[[ox.NamedNode], Iterable[ox.Triple]]


def push(
    triples_of: GraphSource,
    graphs: Iterable[ox.NamedNode],
    endpoint: Endpoint,
    store_url: str,
    progress: Callable[[ox.NamedNode], None] | None = None,
    *,
    update_url: str | None = None,
    chunk_triples: int = CHUNK_TRIPLES,
    on_chunk: Callable[[ox.NamedNode, int], None] | None = None,
) -> list[GraphCount]:
    """Load each named graph whole, then compare triple counts per graph.

    With an `update_url` each graph goes to a temporary graph in chunks of `chunk_triples`
    and is swapped in with `MOVE`; without one it is replaced by one PUT. `triples_of(graph)`
    streams one graph's triples, so no graph is held in memory whole. `progress(graph)` is
    called when a graph is done, `on_chunk(graph, triples sent)` after each chunk."""
    wanted = list(graphs)
    auth = endpoint.auth
    if auth is None and endpoint.authorization:
        auth = StaticAuth(endpoint.authorization)
    local: dict[str, int] = {}
    for i, g in enumerate(wanted):
        try:
            if update_url is not None:
                local[g.value] = swap_graph(
                    store_url,
                    update_url,
                    g,
                    triples_of(g),
                    auth,
                    endpoint.timeout,
                    chunk_triples,
                    None if on_chunk is None else (lambda n, g=g: on_chunk(g, n)),  # type: ignore[misc]
                )
            else:
                local[g.value] = put_graph(
                    store_url, g, triples_of(g), endpoint.timeout, None, auth
                )
        except (EndpointError, KeyboardInterrupt) as exc:
            cause = str(exc) if isinstance(exc, EndpointError) else "interrupted (Ctrl-C)"
            raise PushInterrupted(
                cause,
                [x.value for x in wanted[:i]],
                g.value,
                [x.value for x in wanted[i + 1 :]],
                update_url is not None,
            ) from exc
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
