"""`rkg serve`: the catalog over HTTP (registered on resource_kg.commands.common.cli).

The command only loads the catalog and runs `create_app` under uvicorn; everything the
server does lives in `resource_kg.web`. uvicorn handles SIGINT and SIGTERM: it stops
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

from resource_kg.commands.common import ROOT_ARG, cli, err, load

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
) -> None:
    """Serve the catalog: /sparql (SPARQL 1.1 Protocol, read-only), /store, its IRIs and pages,
    the stored questions (/queries, /openapi.json).

    With --watch (the default) saved edits are served within seconds, and the curator view
    (off with --public) shows each record's validation findings and /errors.

    Binds 127.0.0.1 unless --host says otherwise. One access-log line per request goes to
    stderr; Ctrl-C or SIGTERM stops the server cleanly.
    """
    from resource_kg.web import create_app

    started = time.perf_counter()
    catalog = load(root)
    app = create_app(
        catalog,
        timeout=timeout,
        max_rows=max_rows,
        max_body=max_body,
        allow_service=allow_service,
        workers=workers,
        watch=root if watch else None,
        curator=not public and watch,
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
    err.print(
        f"serving {len(catalog.records)} resources on http://{host}:{port}/ "
        f"(SPARQL at /sparql, questions at /queries; loaded in "
        f"{time.perf_counter() - started:.2f} s"
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
