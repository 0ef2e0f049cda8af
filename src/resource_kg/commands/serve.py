"""`rkg serve`: the catalog over HTTP (registered on resource_kg.commands.common.cli).

The command only loads the catalog (or, with --endpoint, takes its snapshot from the SPARQL
store: `resource_kg.web.store`) and runs `create_app` under uvicorn; everything the server
does lives in `resource_kg.web`. uvicorn handles SIGINT and SIGTERM: it stops
accepting, finishes open requests, and the app's lifespan stops the query workers.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click
import uvicorn

from resource_kg.catalog import Catalog
from resource_kg.commands.common import ROOT_ARG, cli, err, report_warnings
from resource_kg.query import load_context
from resource_kg.remote import STORE_KINDS, Endpoint, StoreKind

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@cli.command()
@ROOT_ARG
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind (0.0.0.0 for every interface).",
)
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="TCP port."
)
@click.option(
    "--timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds a query may run before it is stopped (503).",
)
@click.option(
    "--max-rows",
    default=100_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Most rows (or triples) a query answer may have.",
)
@click.option(
    "--max-body",
    default=1_048_576,
    show_default=True,
    type=click.IntRange(min=1024),
    help="Largest request body, in bytes (413 above).",
)
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(min=1),
    help="Query worker processes (default: one per core, at least 2).",
)
@click.option(
    "--watch/--no-watch",
    default=True,
    show_default=True,
    help="Live preview: serve saved edits to records, organizations, vocabularies, shapes "
    "and queries within seconds (the catalog folder is polled; only changed files are rebuilt).",
)
@click.option(
    "--public",
    is_flag=True,
    help="No curator view: pages show no validation findings, no /errors, no reload script.",
)
@click.option(
    "--endpoint",
    metavar="URL",
    help="Serve the catalog held by this SPARQL store (its query URL) instead of the embedded "
    "one: ROOT gives the settings, stored questions and vocabularies, the store the graphs. "
    "No live preview, no curator view.",
)
@click.option(
    "--store-kind",
    type=click.Choice(STORE_KINDS),
    default=None,
    help="The kind of store behind --endpoint (default: detected from its Server header).",
)
@click.option(
    "--allow-service",
    "allow_service",
    multiple=True,
    metavar="HOST",
    help="Host a SPARQL SERVICE clause may call (repeatable; none by default).",
)
def serve(
    root: Path,
    host: str,
    port: int,
    timeout: float,
    max_rows: int,
    max_body: int,
    workers: int | None,
    watch: bool,
    public: bool,
    allow_service: tuple[str, ...],
    endpoint: str | None,
    store_kind: StoreKind | None,
) -> None:
    """Serve the catalog: /sparql (SPARQL 1.1 Protocol, read-only), /store, its IRIs and pages,
    the stored questions (/queries, /openapi.json).

    With --watch (the default) saved edits are served within seconds, and the curator view
    (off with --public) shows each record's validation findings and /errors.

    With --endpoint URL every query goes to that SPARQL store (credentials from
    RKG_ENDPOINT_TOKEN, or RKG_ENDPOINT_USER and RKG_ENDPOINT_PASSWORD); the pages are made
    from the graphs it holds at start-up.

    Binds 127.0.0.1 unless --host says otherwise. One access-log line per request goes to
    stderr; Ctrl-C or SIGTERM stops the server cleanly.
    """
    from resource_kg.web import create_app
    from resource_kg.web.store import SNAPSHOT_TIMEOUT, remote_catalog, resource_count

    started = time.perf_counter()
    remote: Endpoint | None = None
    if endpoint:
        source = click.get_current_context().get_parameter_source("watch")
        if watch and source == click.core.ParameterSource.COMMANDLINE:
            raise click.UsageError("--watch needs the records in a folder: not with --endpoint")
        watch = False
        graphs = [g.value for g in load_context(root).graphs.all()]
        # The start-up snapshot's requests get more time than a page's query (--timeout).
        remote = Endpoint.from_env(endpoint, max(timeout, SNAPSHOT_TIMEOUT), graphs, store_kind)
        with err.status(f"reading the catalog's graphs from {endpoint}…"):
            catalog: Catalog | Path = remote_catalog(root, remote)
    else:
        catalog = root  # loaded by the app on a thread: /sparql answers meanwhile

    def loaded(done: Catalog) -> None:
        report_warnings(done)
        err.print(
            f"loaded {len(done.records)} resources in {time.perf_counter() - started:.2f} s: "
            "pages and stored questions answer now",
            markup=False,
        )

    app = create_app(
        catalog,
        timeout=timeout,
        max_rows=max_rows,
        max_body=max_body,
        allow_service=allow_service,
        workers=workers,
        watch=root if watch else None,
        curator=not public and watch,
        endpoint=remote,
        on_load=loaded if remote is None else None,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access = logging.getLogger("resource_kg.web.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    preview = logging.getLogger("resource_kg.web.live")
    preview.addHandler(handler)
    preview.setLevel(logging.INFO)
    preview.propagate = False
    what = f"{resource_count(catalog)} resources" if isinstance(catalog, Catalog) else str(root)
    err.print(
        f"serving {what} on http://{host}:{port}/ "
        f"(SPARQL at /sparql, questions at /queries; "
        + (
            f"loaded in {time.perf_counter() - started:.2f} s; queries go to {endpoint} ({remote.kind})"
            if remote is not None
            else f"its store ready in {time.perf_counter() - started:.2f} s, the catalog loading"
        )
        + ("; live preview on" if watch else "")
        + ("; curator view on" if watch and not public else "")
        + "; Ctrl-C stops)",
        markup=False,
    )
    config = uvicorn.Config(
        app, host=host, port=port, access_log=False, log_level="warning", lifespan="on"
    )
    _Server(config).run()


class _Server(uvicorn.Server):
    """uvicorn's server, minus re-raising the signal that stopped it once shutdown is done:
    a stop asked for by SIGINT or SIGTERM is a clean stop (exit status 0, no traceback)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        original = {sig: signal.signal(sig, self.handle_exit) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)
