"""CLI commands of the query stage: `rkg queries`, `rkg query`, `rkg push`."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path

import click
import pyoxigraph as ox
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from resource_kg.commands.common import ROOT_ARG, cli, err, load, out
from resource_kg.errors import QueryError
from resource_kg.printable import printable
from resource_kg.query import (
    LIST_SEPARATOR,
    EmbeddedEngine,
    Engine,
    RdflibEngine,
    Result,
    StoredQuery,
    Value,
    check_params,
    find_query,
    load_context,
    load_queries,
    parse_stored_query,
    run_stored,
)
from resource_kg.remote import (
    CHUNK_TRIPLES,
    DEFAULT_TIMEOUT,
    ENV_AUTH,
    ENV_PASSWORD,
    ENV_TOKEN,
    ENV_USER,
    STORE_KINDS,
    Endpoint,
    StoreKind,
    layout_for,
    push,
)
from resource_kg.spreadsheet import neutralize_row
from resource_kg.store.answers import KeptAnswers, store_state
from resource_kg.store.querystore import open_store
from resource_kg.store.state import store_dir

FORMATS = ("table", "csv", "tsv", "json", "markdown")


# ---------------------------------------------------------------- output


def display_columns(columns: list[str]) -> list[tuple[str, str]]:
    """(column, header) pairs for tables: an IRI column hides behind its `...Label(s)` column."""
    hidden = {c for c in columns if f"{c}Label" in columns or f"{c}Labels" in columns}
    shown = []
    for c in columns:
        if c in hidden:
            continue
        header = c
        for suffix in ("Labels", "Label"):
            stem = c.removesuffix(suffix)
            if stem != c and stem and (stem in hidden or stem not in columns):
                header = stem
                break
        shown.append((c, header))
    return shown


def _text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return LIST_SEPARATOR.join(value)
    return str(value)


def render(result: Result, fmt: str) -> str:
    """One result in one format; csv, tsv and json carry the IRIs beside the labels."""
    rows = result.values()
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    if fmt in ("csv", "tsv"):
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(result.columns)
        for row in rows:
            writer.writerow(
                neutralize_row(_text(row[c]).replace("\t", " ") for c in result.columns)
            )
        return buf.getvalue()
    shown = display_columns(result.columns)
    if fmt == "markdown":
        lines = [
            "| " + " | ".join(h for _, h in shown) + " |",
            "|" + "|".join("---" for _ in shown) + "|",
        ]
        for row in rows:
            cells = [
                printable(_text(row[c]).replace("|", "\\|").replace("\n", " ")) for c, _ in shown
            ]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"
    raise QueryError(f"unknown format {fmt!r}")


def print_table(result: Result, title: str | None) -> None:
    shown = display_columns(result.columns)
    table = Table(
        title=escape(printable(title)) if title else None, show_header=True, show_lines=False
    )
    for _, header in shown:
        table.add_column(escape(printable(header)), overflow="fold")
    for row in result.values():
        table.add_row(*(escape(printable(_text(row[c]))) for c, _ in shown))
    out.print(table)
    err.print(f"{len(result.rows)} row(s)", markup=False)


# ---------------------------------------------------------------- help


def describe(query: StoredQuery) -> str:
    """The help of one stored query: description, parameters, example."""
    lines = [f"{query.name}: {query.title}", "", query.description, ""]
    if query.params:
        lines.append("Parameters (--param NAME=VALUE):")
        for p in query.params:
            extra = []
            if p.optional:
                extra.append("optional")
            if p.default is not None:
                extra.append(f"default {p.default}")
            if p.example is not None:
                extra.append(f"e.g. {p.example}")
            tail = f" [{'; '.join(extra)}]" if extra else ""
            lines.append(f"  {p.name} ({p.kind}): {p.description}{tail}")
    else:
        lines.append("Parameters: none.")
    if query.tags:
        lines += ["", "Tags: " + ", ".join(query.tags)]
    lines += ["", "Example:", f"  {query.example_command()}", f"  (file: {query.path.name})"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- commands


@cli.command("queries")
@ROOT_ARG
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def queries_command(root: Path, fmt: str) -> None:
    """List the stored queries with their title and parameters."""
    ctx = load_context(root)
    stored = load_queries(ctx.paths.queries)
    if fmt == "json":
        data = [
            {
                "name": q.name,
                "title": q.title,
                "description": q.description,
                "tags": list(q.tags),
                "params": [
                    {
                        "name": p.name,
                        "kind": p.kind,
                        "description": p.description,
                        "example": p.example,
                        "optional": p.optional,
                        "default": p.default,
                    }
                    for p in q.params
                ],
                "example": q.example_command(),
            }
            for q in stored.values()
        ]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    table = Table(title="Stored queries (rkg query NAME --help describes one)")
    table.add_column("name")
    table.add_column("title")
    table.add_column("parameters")
    for q in stored.values():
        params = ", ".join(
            f"[{p.name}: {p.kind}]" if p.optional else f"{p.name}: {p.kind}" for p in q.params
        )
        table.add_row(q.name, q.title, escape(params or "-"))
    out.print(table)


def _parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise QueryError(f"--param takes KEY=VALUE, got {pair!r}")
        if key in params:
            raise QueryError(f"parameter {key!r} is given twice")
        params[key] = value
    return params


QUERY_HELP = """Run a stored query NAME (see `rkg queries`), or an ad-hoc query with --file.

\b
  rkg query NAME [ROOT] [--param KEY=VALUE ...] [--format FORMAT]
  rkg query --file Q.rq [ROOT]
  rkg query NAME --help        describes one stored query

Parameter values are labels, alternative labels, notations such as 330(h), or IRIs; they are
resolved through the vocabularies and bound as RDF terms. A SERVICE clause is refused on the
local engines unless --allow-service names its host; --timeout bounds the whole query, and
Ctrl-C stops it at once. The embedded engine reads the
catalog store (see `rkg store --help`), which follows edits record by record. With --endpoint the query goes to a
SPARQL 1.1 endpoint instead (credentials from RKG_ENDPOINT_TOKEN, or RKG_ENDPOINT_USER and
RKG_ENDPOINT_PASSWORD).
"""


@cli.command("query", help=QUERY_HELP, context_settings={"help_option_names": []})
@click.argument("args", nargs=-1, metavar="[NAME] [ROOT]")
@click.option("-p", "--param", "pairs", multiple=True, metavar="KEY=VALUE", help="A parameter.")
@click.option(
    "--file",
    "query_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Run this .rq file instead of a stored query.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--engine",
    type=click.Choice(["embedded", "rdflib"]),
    default="embedded",
    show_default=True,
    help="Local engine: pyoxigraph (cached on disk) or rdflib (for checking).",
)
@click.option("--endpoint", metavar="URL", help="Query this SPARQL endpoint instead.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help=f"Seconds the whole query may take (endpoint default: {DEFAULT_TIMEOUT:g}; "
    "local default: none).",
)
@click.option(
    "--allow-service",
    "allow_service",
    multiple=True,
    metavar="HOST",
    help="Host a SERVICE clause may call on a local engine (repeatable; none by default).",
)
@click.option("-h", "--help", "show_help", is_flag=True, help="Show this help, or NAME's.")
@click.pass_context
def query_command(
    click_ctx: click.Context,
    args: tuple[str, ...],
    pairs: tuple[str, ...],
    query_file: Path | None,
    fmt: str,
    engine: str,
    endpoint: str | None,
    timeout: float | None,
    allow_service: tuple[str, ...],
    show_help: bool,
) -> None:
    if query_file is not None:
        name, rest = None, list(args)
    else:
        name, rest = (args[0], list(args[1:])) if args else (None, [])
    if len(rest) > 1:
        raise click.UsageError(f"unexpected arguments: {' '.join(rest[1:])}")
    root = Path(rest[0]) if rest else Path(".")
    if show_help or (name is None and query_file is None):
        if name is None:
            click.echo(click_ctx.get_help())
            return
        stored = load_queries(load_context(root).paths.queries)
        click.echo(describe(find_query(stored, name)), nl=False)
        return
    ctx = load_context(root)
    if query_file is not None:
        text = query_file.read_text(encoding="utf-8")
        query = (
            parse_stored_query(query_file, text)
            if text.lstrip().startswith("#+")
            else StoredQuery(query_file.stem, query_file, "", "", (), (), {}, text)
        )
    else:
        assert name is not None
        query = find_query(load_queries(ctx.paths.queries), name)
    params = _parse_params(pairs)
    check_params(query, params, ctx.lexicon)  # before a store or a build is touched
    runner: Engine
    if endpoint:
        wait = DEFAULT_TIMEOUT if timeout is None else timeout
        graphs = [g.value for g in ctx.graphs.all()]
        runner = Endpoint.from_env(endpoint, wait, graphs, whole=True)
    elif engine == "rdflib":
        catalog = load(root, quiet=True)
        runner = RdflibEngine(catalog.dataset, str(query.path), allow_service, timeout)
    else:
        with contextlib.ExitStack() as stack:
            with err.status("bringing the catalog store up to date…"):
                store = stack.enter_context(open_store(root))
            runner = EmbeddedEngine(store, ctx.graphs, str(query.path), allow_service, timeout)
            state = store_state(store_dir(root))
            if state is not None and not allow_service:
                # the same text on the same store state: its kept answer (never with SERVICE
                # allowed: such an answer depends on another store)
                runner = KeptAnswers(runner, store_dir(root), state)
            result = run_stored(runner, query, params, ctx.lexicon)
        _show(result, query, fmt)
        return
    result = run_stored(runner, query, params, ctx.lexicon)
    _show(result, query, fmt)


def _show(result: Result, query: StoredQuery, fmt: str) -> None:
    if fmt == "table":
        print_table(result, query.title or None)
    else:
        click.echo(render(result, fmt), nl=False)


PUSH_HELP = f"""Load the named graphs into a triple store and compare triple counts.

The four graphs of the catalog, as dist/ and a release carry them. Each graph is sent in chunks
of --chunk triples into a temporary graph (SPARQL 1.1 Graph Store Protocol), then swapped in
with SPARQL Update MOVE: on the store each graph is either wholly old or wholly new, and a push
that stops says which graphs are done (run it again to finish). A generic store without --update
gets each graph in one HTTP PUT. Then the store is asked how many triples each graph holds;
exit status 1 when a count differs.

--store-kind (detected from the endpoint's Server header when not given) sets the addresses:
oxigraph: /query, /store, /update; virtuoso: /sparql, /sparql-graph-crud-auth, /sparql-auth
(without credentials /sparql-graph-crud and /sparql); generic: --store (default ENDPOINT's
/query replaced by /store) and --update. Credentials come from {ENV_TOKEN} (Bearer), or
{ENV_USER} and {ENV_PASSWORD} (Basic, or Digest when the store asks for it; {ENV_AUTH}=basic or
digest forces one).
"""


@cli.command("push", help=PUSH_HELP)
@ROOT_ARG
@click.option("--endpoint", required=True, metavar="URL", help="The SPARQL query endpoint.")
@click.option(
    "--store-kind",
    "kind",
    type=click.Choice(STORE_KINDS),
    help="The kind of store (default: detected from the endpoint).",
)
@click.option("--store", "store_url", metavar="URL", help="The Graph Store Protocol endpoint.")
@click.option("--update", "update_url", metavar="URL", help="The SPARQL Update endpoint.")
@click.option(
    "--chunk",
    type=click.IntRange(min=1),
    default=CHUNK_TRIPLES,
    show_default=True,
    help="Triples per request.",
)
@click.option("--timeout", type=float, default=DEFAULT_TIMEOUT, show_default=True)
@click.pass_context
def push_command(
    click_ctx: click.Context,
    root: Path,
    endpoint: str,
    kind: StoreKind | None,
    store_url: str | None,
    update_url: str | None,
    chunk: int,
    timeout: float,
) -> None:
    """Load the named graphs into a triple store; compare triple counts (help: PUSH_HELP)."""
    catalog = load(root)
    remote = Endpoint.from_env(endpoint, timeout, kind=kind)
    auth = remote.auth
    layout = layout_for(
        remote.kind, endpoint, store_url, update_url, auth is not None and auth.has_credentials
    )
    table = catalog.quad_table
    sizes = catalog.triples_per_graph()

    def triples_of(graph: ox.NamedNode) -> Iterable[ox.Triple]:
        keys = ((s, p, o) for g, s, p, o in table.keys if g == str(graph))
        return table.iter_triples(keys)

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("triples"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        tasks = {
            g: bar.add_task(g.rsplit("/", 1)[-1], total=n or 1, start=False)
            for g, n in sizes.items()
        }

        def sent(graph: ox.NamedNode, n: int) -> None:
            bar.start_task(tasks[graph.value])
            bar.update(tasks[graph.value], completed=n)

        def done(graph: ox.NamedNode) -> None:
            bar.start_task(tasks[graph.value])
            bar.update(tasks[graph.value], completed=sizes[graph.value] or 1)

        counts = push(
            triples_of,
            catalog.graphs.all(),
            remote,
            layout.store,
            progress=done,
            update_url=layout.update,
            chunk_triples=chunk,
            on_chunk=sent,
        )
    how = "swapped in with MOVE" if layout.update else "one PUT per graph"
    shown = Table(title=f"Pushed to {layout.store} ({remote.kind}, {how})")
    for header in ("graph", "local triples", "store triples", "match"):
        shown.add_column(header, justify="right" if "triples" in header else "left")
    for c in counts:
        shown.add_row(
            c.graph.rsplit("/", 1)[-1], str(c.local), str(c.remote), "yes" if c.ok else "NO"
        )
    out.print(shown)
    if not all(c.ok for c in counts):
        err.print("error: triple counts differ on the store", markup=False)
        click_ctx.exit(1)
