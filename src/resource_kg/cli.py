"""The `rkg` command: a thin layer over the library; errors are rendered here, once."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from resource_kg.catalog import Catalog
from resource_kg.errors import RkgError

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

ROOT_ARG = click.argument(
    "root", required=False, default=".", type=click.Path(file_okay=False, path_type=Path)
)


#: Large objects commands made, kept until the process ends (see `keep`).
_KEPT: list[object] = []
#: Set by `main` when it ends the process itself with os._exit.
_PROCESS: dict[str, bool] = {"exits": False}


def keep(obj: object) -> None:
    """Let a process that is about to exit skip freeing a catalog object by object when the
    command returns (≈ 0.7 s at 100k resources); in-process callers free it as usual."""
    if _PROCESS["exits"]:
        _KEPT.append(obj)


def load(
    root: Path, *, quiet: bool = False, today: dt.date | None = None, fresh: bool = False
) -> Catalog:
    """The catalog through its store (or built from scratch with `fresh`); its content
    warnings (never fatal) go to stderr."""
    from resource_kg.store import incremental

    catalog = Catalog.load(root, today=today) if fresh else incremental.load(root, today=today)
    if not quiet:
        for diag in catalog.diagnostics:
            err.print(f"warning: {diag}", markup=False)
    return catalog


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(package_name="resource-kg")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """resource-kg: turn a catalog of health-center resources into a knowledge graph.

    ROOT is a catalog folder holding data/ (default: the current folder). Its own ontology/,
    shapes/ and queries/ are used when present, the packaged ones otherwise.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@cli.command()
@ROOT_ARG
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: ROOT/dist).",
)
@click.option(
    "--validate",
    "run_validate",
    is_flag=True,
    help="Also validate (as `rkg validate`); print the report and exit 1 on a Violation.",
)
@click.option(
    "--date",
    "date_text",
    metavar="YYYY-MM-DD",
    default=None,
    help="Build and validate as of this day (default: today).",
)
@click.pass_context
def build(
    ctx: click.Context,
    root: Path,
    out_dir: Path | None,
    run_validate: bool,
    date_text: str | None,
) -> None:
    """Build dist/catalog.trig (named graphs) and dist/catalog.ttl (their union).

    Unknown labels, missing titles and similar content problems are printed as warnings
    with file:line and field; the build goes on and keeps every label. With --validate the
    same validation as `rkg validate` runs on the built graph (exit 1 on a Violation).
    """
    from resource_kg.commands.validate import parse_date, run_validation

    day = parse_date(date_text)
    catalog = load(root, today=day, quiet=run_validate)
    target = out_dir if out_dir is not None else root / "dist"
    written = catalog.write(target)
    counts = catalog.triples_per_graph()
    err.print(
        f"built {len(catalog.records)} resources, {sum(counts.values())} triples, "
        f"{len(catalog.diagnostics)} warning(s) → " + ", ".join(str(p) for p in written),
        markup=False,
    )
    if run_validate:
        report = run_validation(catalog, day)
        click.echo(report.render("text"), nl=False)
        ctx.exit(0 if report.conforms("violation") else 1)


@cli.command()
@ROOT_ARG
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def info(root: Path, fmt: str) -> None:
    """Resources, organizations, concepts per scheme and triples per graph."""
    catalog = load(root, quiet=True)
    data = catalog.info()
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    table = Table(title=f"{catalog.settings.title}", show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("resources", str(data["resources"]))
    table.add_row("organizations", str(data["organizations"]))
    for scheme, n in data["concepts"].items():
        table.add_row(f"concepts: {scheme}", str(n))
    for graph, n in data["triples"].items():
        table.add_row(f"triples: {graph} graph", str(n))
    table.add_row("build warnings", str(data["warnings"]))
    out.print(table)


def main(argv: list[str] | None = None) -> Any:
    """Entry point: user errors become one message and exit status 2 (tracebacks with --debug)."""
    args = sys.argv[1:] if argv is None else argv
    _PROCESS["exits"] = argv is None
    try:
        rc = cli.main(args=args, prog_name="rkg", standalone_mode=False)
    except RkgError as exc:
        if "--debug" in args:
            raise
        err.print(f"error: {exc}", markup=False)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    code = rc if isinstance(rc, int) else 0
    if argv is None:
        # A process that ran a command: its output is written and flushed, so skip freeing a
        # large catalog object by object at interpreter exit (≈ 0.5 s at 100k resources).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if code != 0:
        sys.exit(code)
    return rc


# Commands of the later stages register themselves on `cli` when imported.
from resource_kg.commands import importing, publish, query, serve, store, validate  # noqa: E402, F401

if __name__ == "__main__":
    # Run through the imported module so that `python -m resource_kg.cli` sees every command
    # the stage modules registered on `resource_kg.cli.cli`.
    from resource_kg.cli import main as _main

    _main()
