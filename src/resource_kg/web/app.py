"""The ASGI app of `rkg serve`: its routes and the versions it serves (what every request
passes through, the headers, access log, start-up gate and error shape, is `web.edge`).

Everything is read from one loaded `Catalog`. Queries go to one `store.QueryStore`: worker
processes on a snapshot of the on-disk query store (`pool`, `resource_kg.store.snapshots`),
or a remote SPARQL store (`rkg serve
--endpoint`, `store.RemoteStore`, with the catalog snapshot `store.remote_catalog` made at
start-up); pages and descriptions come from the site model (`pages`). User errors are
`RkgError`s, turned into one plain-text answer here, at the edge, with their status.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from resource_kg import site
from resource_kg.catalog import Catalog
from resource_kg.config import load_settings, resolve_paths
from resource_kg.errors import ConfigError, RkgError
from resource_kg.graph import DCT, Graphs
from resource_kg.query import (
    load_queries,
)
from resource_kg.remote import Endpoint
from resource_kg.store import snapshots
from resource_kg.store.snapshots import Snapshot
from resource_kg.web import live, sparql
from resource_kg.web.edge import (
    Edge,
    Gate,
    ServeSettings,
    give_back_memory,
    problem,
    root_url,
)
from resource_kg.web.live import Served
from resource_kg.web.negotiation import DATASET_TYPES, GRAPH_TYPES, HTML, choose, split_suffix
from resource_kg.web.pages import DOWNLOADS, Pages, Target, asset, examples_json, results_table
from resource_kg.web.pool import WorkerPool, default_size, prepare_workers
from resource_kg.web.store import QueryStore, RemoteStore
from resource_kg.web.views import AnswerCache, Views

log = logging.getLogger("resource_kg.web.access")
ENTITY_ROOTS = ("resource", "org", "concept")
DESCRIPTION_OFFERS = (
    HTML,
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/rdf+xml",
)


def _first_pages(catalog: Catalog, queries: dict[str, Any]) -> Pages:
    """The first version's pages; then the catalog and model are frozen out of the cyclic
    garbage collector's sight (`gc.freeze`): they live as long as the version, and a full
    collection over them takes seconds and dirties the memory a forked validation shares."""
    pages = Pages(catalog, queries=queries)
    gc.freeze()
    give_back_memory()
    return pages


def create_app(
    catalog: Catalog | Path | str,
    *,
    timeout: float = 10.0,
    max_rows: int = 100_000,
    max_body: int = 1_048_576,
    allow_service: tuple[str, ...] | list[str] = (),
    workers: int | None = None,
    watch: Path | str | None = None,
    curator: bool | None = None,
    validate: bool = True,
    endpoint: Endpoint | None = None,
    on_load: Callable[[Catalog], None] | None = None,
) -> Starlette:
    """The Starlette app over `catalog`: /sparql, /store, the IRIs' pages, stored questions.

    `catalog` is a loaded `Catalog`, or a catalog folder. The query workers answer from a
    snapshot of the on-disk query store (`store.snapshots`): for a folder it is taken at once,
    from the store's own freshness check, and the catalog is loaded on a thread (through the
    store) while /sparql already answers; a loaded catalog brings the store in step first (one
    not loaded through the store gets a temporary one). The workers start with the app's
    lifespan and stop when it ends. The site model (20 s at 100k resources) is built on the
    same thread after the load. Until the catalog is loaded every path but /sparql waits for
    it, pages until their model is ready too; `on_load` is called with the catalog then (on
    that thread; `rkg serve` prints its warnings).

    `watch` (a catalog folder) turns on the live preview: edits to its files are served
    within a second or two (see `web.live`). `curator` (default: on when watching) adds the
    curator view: each resource page shows its record's validation findings with file and
    line, `/errors` lists files that cannot be read, and pages reload themselves on a change.

    `endpoint` sends every query (/sparql, the stored questions) to that SPARQL store instead
    of the embedded one; `catalog` is then the store's snapshot (`store.remote_catalog`), and
    there is no live preview and no curator view (the records are in the store, not a folder).
    """
    settings = ServeSettings(timeout, max_rows, max_body, tuple(allow_service))
    if endpoint is not None and (watch is not None or curator):
        raise ConfigError(
            "a catalog served from a SPARQL store has no live preview and no curator view: "
            "its records are in the store, not in a folder"
        )
    if endpoint is not None and not isinstance(catalog, Catalog):
        raise ConfigError("over a SPARQL store, serve its snapshot: store.remote_catalog(...)")
    curator_view = (watch is not None) if curator is None else curator
    builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rkg-pages")
    if endpoint is None:
        # The workers' fork server imports its modules in a process of its own meanwhile.
        builder.submit(prepare_workers)
    if isinstance(catalog, Catalog):
        paths, base = catalog.paths, catalog.settings.base
        first_snapshot = snapshots.take(catalog) if endpoint is None else None
    else:
        paths, base = resolve_paths(Path(catalog)), load_settings(Path(catalog)).base
        first_snapshot = snapshots.of_folder(catalog)
    early_graphs = tuple(g.value for g in Graphs.for_base(base).all())
    first_queries = load_queries(paths.queries)

    def first_version(loaded: Catalog | None) -> Served:
        """The first `Served` (on the builder thread): the catalog, loaded if need be, with
        its own snapshot (the folder may have changed since the first one), pages to come."""
        if loaded is None:
            loaded = live.default_loader(paths.root)
            gc.freeze()  # lives as long as its version: out of the collector's sight
            give_back_memory()
            taken = snapshots.take(loaded)
            same = first_snapshot is not None and taken.token == first_snapshot.token
            if taken.token and same:  # nobody wrote the store since: the same quads,
                taken.discard()  # and the answers kept so far stay good
            snapshot = first_snapshot if taken.token and same else taken
        else:
            snapshot = first_snapshot
        if on_load is not None:
            on_load(loaded)
        pages: Future[Any] = builder.submit(_first_pages, loaded, first_queries)
        return Served(loaded, snapshot, pages, first_queries, shapes_key=live.shapes_key(loaded))

    #: The first version: loaded once the server is up (`lifespan`), so that the load takes
    #: no time from starting the workers and the server.
    served_ready: Future[Served] = Future()

    def load_first() -> None:
        try:
            served_ready.set_result(
                first_version(catalog if isinstance(catalog, Catalog) else None)
            )
        except BaseException as exc:  # the gate answers with it; begin() logs it
            served_ready.set_exception(exc)

    state: dict[str, Any] = {}
    workers_pool: WorkerPool | None = None
    pool: QueryStore
    #: Snapshots of versions no longer served, removed once no job can still read them.
    retired: list[Snapshot] = []
    if endpoint is None:
        assert first_snapshot is not None
        pool = workers_pool = WorkerPool(first_snapshot.path, workers or default_size(), timeout)
    else:
        assert isinstance(catalog, Catalog)
        pool = RemoteStore(endpoint, catalog.graphs, workers or default_size(), timeout)

    def current() -> Served:
        """The version served (only called once it exists: see `Gate`)."""
        now: Served = state["served"]
        return now

    def graphs() -> tuple[str, ...]:
        now: Served | None = state.get("served")
        return early_graphs if now is None else now.graphs

    def switch(old: Snapshot | None, new: Snapshot | None) -> None:
        """The workers open `new` (when it differs); `old` goes once a job begun on it would
        have been stopped (the time limit)."""
        if old is None or new is None or old == new:
            return
        if workers_pool is not None:
            workers_pool.reload(new.path)
        retired.append(old)
        asyncio.get_running_loop().call_later(timeout + 30, _discard, old)

    def apply(new: Served) -> None:
        """Runs on the event loop: serve `new` from now on; the workers open its snapshot, and
        the old one goes once a job begun on it would have been stopped (the time limit)."""
        old = current()
        state["served"] = new
        switch(old.snapshot, new.snapshot)
        if old.pages is not new.pages and old.pages.done() and old.pages.exception() is None:
            # Requests in flight may still read the old version's downloads: closed later.
            asyncio.get_running_loop().call_later(120, old.pages.result().close)

    def _discard(snapshot: Snapshot) -> None:
        if snapshot in retired:
            retired.remove(snapshot)
        snapshot.discard()

    def next_pages(
        cat: Catalog,
        queries: dict[str, Any],
        old: Served | None,
        edited: dict[str, list[Any]] | None,
    ) -> Pages:
        """A new version's pages: the old model updated when only records were edited."""
        prev = old.pages if old is not None else None
        if edited is None or prev is None or not prev.done() or prev.exception() is not None:
            return Pages(cat, queries=queries)
        return Pages.updated(prev.result(), cat, queries, edited)

    watcher: live.Watcher | None = None

    async def begin() -> None:
        """Once the first version exists: serve it, and start the live preview on it."""
        nonlocal watcher
        try:
            served = await asyncio.wrap_future(served_ready)
        except Exception:
            log.exception("the catalog could not be loaded")
            return
        state["served"] = served
        switch(first_snapshot, served.snapshot)
        if watch is not None:
            watcher = live.Watcher(
                Path(watch),
                served,
                apply,
                next_pages,
                validator=live.default_validator if validate else None,
            )
            watcher.start(asyncio.get_running_loop())

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        pool.start()
        builder.submit(load_first)
        starting = asyncio.get_running_loop().create_task(begin())
        try:
            yield
        finally:
            if not starting.done():
                starting.cancel()
            if watcher is not None:
                await asyncio.to_thread(watcher.stop)
            pool.close()
            now: Served | None = state.get("served")
            versions = [] if now is None else [now]
            if served_ready.done() and served_ready.exception() is None:
                versions.append(served_ready.result())
            for snapshot in [*retired, first_snapshot, *(v.snapshot for v in versions)]:
                if snapshot is not None:
                    snapshot.discard()
            for version in {id(v.pages): v.pages for v in versions}.values():
                if version.done() and version.exception() is None:
                    version.result().close()
            builder.shutdown(wait=False, cancel_futures=True)

    async def site_pages() -> Pages:
        while "served" not in state:  # /sparql's query page, asked for before the first load
            if served_ready.done() and served_ready.exception() is not None:
                raise served_ready.exception()  # type: ignore[misc]
            await asyncio.sleep(0.05)
        pages: Pages = await asyncio.wrap_future(current().pages)
        return pages

    views = Views(
        current,
        site_pages,
        lambda: watcher.problems if watcher is not None else [],
        pool,
        max_rows,
        curator_view,
        # A remote store changes under the server (a push): its answers are never kept.
        AnswerCache() if endpoint is None else AnswerCache(max_bytes=0, max_one=0),
    )

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > settings.max_body:
            raise sparql.ProtocolError(
                f"the request body is larger than this server's limit of {settings.max_body} bytes",
                413,
            )
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > settings.max_body:
                raise sparql.ProtocolError(
                    f"the request body is larger than this server's limit of {settings.max_body} bytes",
                    413,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def sparql_endpoint(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204)
        body = await read_body(request) if request.method == "POST" else b""
        query, params = sparql.parse_request(
            request.method, request.headers.get("content-type"), request.url.query, body
        )
        accept = request.headers.get("accept")
        if query is None:
            return await describe_service(request, accept)
        if len(query) > settings.max_body:
            raise sparql.ProtocolError(
                f"the query is longer than this server's limit of {settings.max_body} bytes", 413
            )
        job = sparql.make_job(
            query,
            params,
            accept,
            dataset=graphs(),
            allowed_services=settings.allow_service,
            max_rows=settings.max_rows,
        )
        outcome = await pool.run(job)
        if outcome.status == 200 and outcome.media_type == HTML:
            return await query_page(request, query, outcome)
        headers = {"vary": "Accept"}
        media = outcome.media_type
        if media.startswith(("text/", "application/sparql-results+xml")) or media.endswith("xml"):
            media += "; charset=utf-8"
        return Response(outcome.body, status_code=outcome.status, media_type=media, headers=headers)

    async def describe_service(request: Request, accept: str | None) -> Response:
        offers = (*GRAPH_TYPES, HTML)
        media = choose(accept, offers)
        if media is None:
            raise sparql.ProtocolError(
                "no query: send one in the 'query' parameter (GET or form POST) or as an "
                "application/sparql-query body; GET /sparql with Accept: text/turtle describes the service"
            )
        if media == HTML:
            return await query_page(request, "", None)
        triples = sparql.service_description(root_url(request) + "sparql", graphs())
        body = ox.serialize(triples, format=GRAPH_TYPES[media], prefixes={"sd": sparql.SD})
        return Response(body or b"", media_type=media, headers={"vary": "Accept"})

    def local_link(iri: str, base_url: str) -> str:
        return base_url + iri[len(base) :] if iri.startswith(base) else iri

    async def query_page(request: Request, query: str, outcome: sparql.Outcome | None) -> Response:
        pages = await site_pages()
        base_url = root_url(request)
        result = ""
        if outcome is not None:
            if outcome.kind == "graph":
                result = f'<pre id="graph">{site.e(outcome.body.decode())}</pre>'
            else:
                doc = json.loads(outcome.body)
                result = results_table(doc, lambda iri: local_link(iri, base_url))
        body = f"""<h1>SPARQL query</h1>
<p>The default graph is the union of the catalog's graphs ({len(graphs())} named graphs).
Queries are read-only and stop after {settings.timeout:g} s; at most {settings.max_rows} rows are returned.
Clients send the same request to <code>{site.e(base_url)}sparql</code> with an Accept header.</p>
<form method="get" action="sparql">
<label for="example">Stored questions as examples:</label>
<select id="example"><option value="">(choose one)</option></select><br>
<textarea id="query" name="query" rows="14" cols="100" spellcheck="false">{site.e(query)}</textarea><br>
<button type="submit">Run query</button>
</form>
<script type="application/json" id="rkg-examples">{examples_json(pages.queries)}</script>
{result}"""
        html = pages.chrome("sparql", base_url, "SPARQL query", body, scripts=("assets/query.js",))
        html = views.decorate(html, request)
        return Response(html, media_type="text/html; charset=utf-8", headers={"vary": "Accept"})

    async def graph_store(request: Request) -> Response:
        params = request.query_params
        names = params.getlist("graph")
        if ("default" in params) == bool(names) or len(names) > 1:
            raise sparql.ProtocolError("name one graph: ?graph=IRI or ?default")
        media = choose(request.headers.get("accept"), tuple(DATASET_TYPES))
        if media is None:
            raise sparql.ProtocolError(
                "no acceptable format: graphs come as " + ", ".join(DATASET_TYPES), 406
            )
        now = current()
        graphs = now.graphs
        table = now.catalog.quad_table
        fmt = DATASET_TYPES[media]
        if names:
            if names[0] not in graphs:
                raise sparql.ProtocolError(f"no graph named {names[0]} in this store", 404)
            keys = table.graph_keys(f"<{names[0]}>")
            data: Any = (
                table.iter_quads(keys)
                if fmt.supports_datasets
                else table.iter_triples(k[1:] for k in keys)
            )
        else:
            data = table.iter_triples()
        body = await asyncio.to_thread(ox.serialize, data, format=fmt)
        return Response(body or b"", media_type=media, headers={"vary": "Accept"})

    async def deref(request: Request) -> Response:
        pages = await site_pages()
        name, suffix = split_suffix(request.url.path.lstrip("/"))
        target = pages.find(name)
        if target is None:
            return PlainTextResponse(f"nothing is known here: {request.url.path}\n", 404)
        media = suffix or choose(request.headers.get("accept"), DESCRIPTION_OFFERS)
        if media is None:
            raise sparql.ProtocolError(
                "no acceptable format: this IRI is described as " + ", ".join(DESCRIPTION_OFFERS),
                406,
            )
        headers = {"vary": "Accept", "link": link_header(target, name)}
        if media == HTML:
            # A concept used by thousands of resources is a long page: rendered off the loop.
            html = await asyncio.to_thread(pages.page, target, root_url(request))
            record = None
            if target.entity is not None and target.entity.kind == "resource":
                record = pages.model.text(target.iri, DCT + "identifier") or name.rsplit("/")[-1]
            html = views.decorate(html, request, record)
            return Response(html, media_type="text/html; charset=utf-8", headers=headers)
        data = await asyncio.to_thread(pages.describe, target, media)
        return Response(data, media_type=media, headers=headers)

    def link_header(target: Target, name: str) -> str:
        last = name.rsplit("/", 1)[-1]
        return ", ".join(
            [
                f'<{last}.ttl>; rel="alternate"; type="text/turtle"',
                f'<{last}.jsonld>; rel="alternate"; type="application/ld+json"',
                f'<{last}.nt>; rel="alternate"; type="application/n-triples"',
            ]
        )

    async def index(request: Request) -> Response:
        pages = await site_pages()
        html, _ = await asyncio.to_thread(pages.index, root_url(request))
        return Response(views.decorate(html, request), media_type="text/html; charset=utf-8")

    async def index_script(request: Request) -> Response:
        pages = await site_pages()
        _, script = await asyncio.to_thread(pages.index, root_url(request))
        return Response(script, media_type="text/javascript; charset=utf-8")

    def assets(request: Request) -> Response:
        name = request.path_params["name"]
        data = asset(name)
        if data is None:
            return PlainTextResponse("no such asset\n", 404)
        media = "text/css" if name.endswith(".css") else "text/javascript"
        return Response(data, media_type=media + "; charset=utf-8")

    async def download(request: Request) -> Response:
        name = request.path_params.get("name") or request.url.path.lstrip("/")
        known = dict(DOWNLOADS)
        if name not in known:
            return PlainTextResponse(f"no download named {name!r}\n", 404)
        pages = await site_pages()
        folder = await asyncio.to_thread(pages.downloads, root_url(request))
        return FileResponse(folder / name, media_type=known[name])

    async def downloads_list(request: Request) -> Response:
        pages = await site_pages()
        items = "".join(
            f'<li><a href="{site.e(n)}">{site.e(n)}</a> ({site.e(t)})</li>' for n, t in DOWNLOADS
        )
        body = f"<h1>Downloads</h1><p>The catalog's dumps, made from the store on first request.</p><ul>{items}</ul>"
        html = pages.chrome("downloads/index", root_url(request), "Downloads", body)
        return Response(views.decorate(html, request), media_type="text/html; charset=utf-8")

    async def void(request: Request) -> Response:
        pages = await site_pages()
        folder = await asyncio.to_thread(pages.downloads, root_url(request))
        media = choose(request.headers.get("accept"), tuple(GRAPH_TYPES))
        if media is None:
            raise sparql.ProtocolError(
                "no acceptable format: the description comes as " + ", ".join(GRAPH_TYPES), 406
            )
        data = (folder / "void.ttl").read_bytes()
        if GRAPH_TYPES[media] != ox.RdfFormat.TURTLE:
            triples = ox.parse(data, format=ox.RdfFormat.TURTLE)
            data = ox.serialize((q.triple for q in triples), format=GRAPH_TYPES[media]) or b""
        return Response(data, media_type=media, headers={"vary": "Accept"})

    def to_root(request: Request) -> Response:
        return RedirectResponse(root_url(request) + request.path_params["name"], 308)

    async def on_error(_request: Request, exc: Exception) -> Response:
        return problem(exc)

    routes = [
        Route("/", index),
        Route("/index.html", index),
        Route("/" + site.INDEX_SCRIPT, index_script),
        Route("/assets/{name}", assets),
        Route("/sparql", sparql_endpoint, methods=["GET", "POST", "OPTIONS"]),
        Route("/store", graph_store),
        Route("/downloads/", downloads_list),
        Route("/downloads/{name}", download),
        Route("/.well-known/void", void),
        Route("/ontology", deref),
        *(Route(f"/ontology{s}", deref) for s in (".html", ".ttl", ".jsonld", ".nt", ".rdf")),
        *(Route(f"/{r}/{{rest:path}}", deref) for r in ENTITY_ROOTS),
        *(Route(f"/{n}", download) for n, _ in DOWNLOADS),
        Route("/site/{name:path}", to_root),
        *views.routes(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={RkgError: on_error})
    app.state.pool = pool
    app.state.current = current
    app.add_middleware(Gate, ready=lambda: "served" in state, loaded=served_ready)
    app.add_middleware(Edge)
    return app
