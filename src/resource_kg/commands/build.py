"""CLI commands of the build stage: `rkg build` and `rkg info`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from resource_kg.commands.common import ROOT_ARG, cli, err, load, out
from resource_kg.config import check_output
from resource_kg.printable import printable


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
    from resource_kg.store.dumps import quick_build, write_recording
    from resource_kg.store.incremental import StoredCatalog

    day = parse_date(date_text)
    target = out_dir if out_dir is not None else root / "dist"
    check_output(root, target)
    quick = None if run_validate else quick_build(root, target, day)
    if quick is not None:  # a few record files edited: their blocks anew, the others copied
        for diag in quick.diagnostics:
            err.print(f"warning: {printable(str(diag))}", markup=False)
        records, triples, warnings, written = (
            quick.records,
            quick.triples,
            len(quick.diagnostics),
            quick.written,
        )
    else:
        catalog = load(root, today=day, quiet=run_validate)
        if isinstance(catalog, StoredCatalog):
            written = write_recording(catalog, target)
        else:
            written = catalog.write(target)
        records = len(catalog.records)
        triples = sum(catalog.triples_per_graph().values())
        warnings = len(catalog.diagnostics)
    err.print(
        f"built {records} resources, {triples} triples, "
        f"{warnings} warning(s) → " + ", ".join(str(p) for p in written),
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
