"""CLI commands of the validate stage (registered on resource_kg.commands.common.cli)."""

from __future__ import annotations

import datetime as dt
import gc
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from resource_kg.catalog import Catalog
from resource_kg.commands.common import ROOT_ARG, cli, err, keep, load
from resource_kg.config import check_output
from resource_kg.errors import ValidationError
from resource_kg.files import write_atomic
from resource_kg.store import incremental
from resource_kg.validate import FAIL_ON, FORMATS, Report, cache_file, validate


def parse_date(value: str | None) -> dt.date | None:
    """`--date YYYY-MM-DD`, or None for today."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"--date must be YYYY-MM-DD, not {value!r}") from None


def run_validation(
    catalog: Catalog,
    on: dt.date | None,
    *,
    engine: str = "fast",
    incremental_run: bool = True,
) -> Report:
    """Validate with a progress bar on stderr; shared by `rkg validate` and `rkg build --validate`."""
    with Progress(
        TextColumn("validating records"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("validate", total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if isinstance(catalog, incremental.StoredCatalog) and incremental_run and engine == "fast":
            from resource_kg.validate.quick import validate_and_keep

            return validate_and_keep(catalog, on, progress=tick)
        return validate(
            catalog,
            on,
            engine=engine,
            cache=cache_file(catalog.paths.root) if incremental_run and engine == "fast" else None,
            progress=tick,
        )


@cli.command("validate")
@ROOT_ARG
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text (Violations first, grouped by record), csv (one row per result), json, "
    "markdown, or ttl (a SHACL validation report).",
)
@click.option(
    "--severity",
    type=click.Choice(tuple(FAIL_ON)),
    default="info",
    show_default=True,
    help="Show only results at this severity or above (violation: Violations only). The "
    "summary and the exit status still count every result.",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Add results per field and focus nodes checked per shape after the summary line.",
)
@click.option(
    "--fail-on",
    type=click.Choice(tuple(FAIL_ON)),
    default="violation",
    show_default=True,
    help="Lowest severity that makes the run fail (exit status 1).",
)
@click.option(
    "--date",
    "date_text",
    metavar="YYYY-MM-DD",
    default=None,
    help="Validate as of this day (default: today): sets the latest allowed year and when "
    "a review is overdue, so results are reproducible.",
)
@click.option(
    "--engine",
    type=click.Choice(["fast", "pyshacl"]),
    default="fast",
    show_default=True,
    help="fast: batched pySHACL + whole-graph SPARQL on pyoxigraph; pyshacl: pySHACL on the "
    "whole graph (the reference; same findings, slower).",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Rebuild and revalidate every record instead of reusing the catalog store (the "
    "build and the results of unchanged record files; see `rkg store --help`).",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the report to this file (atomically) instead of standard output.",
)
@click.pass_context
def validate_command(
    ctx: click.Context,
    root: Path,
    fmt: str,
    fail_on: str,
    severity: str,
    verbose: bool,
    date_text: str | None,
    engine: str,
    no_cache: bool,
    out_file: Path | None,
) -> None:
    """Check the catalog against shapes/*.ttl and say which record, field and line to fix.

    Each result names the record id and title, the source file and line of the field, the
    field as records spell it, the value as written, its severity (Violation, Warning, Info),
    a message saying what to do and the shape. Text lists Violations first, then Warnings,
    then Info, each by file and line, and ends with one summary line (records checked,
    results per severity, whether the run conforms); --verbose adds results per field and
    focus nodes checked per shape.

    \b
    JSON: {"results": [ {id, title, file, line, field, value, severity,
           message, shape}, ... ], "summary": {...}}
           (each result has exactly these nine keys).
    CSV:  a header row with the same nine columns, one row per result.

    \b
    Exit status: 0 conforms at the --fail-on level, 1 does not conform,
                 2 could not validate (bad shapes, records that fail to build).
    """
    day = parse_date(date_text)
    if out_file is not None:
        check_output(root, out_file)
    cached = engine == "fast" and not no_cache
    report = None
    if cached:  # a few record files edited: kept findings, the edited files checked anew
        from resource_kg.validate.quick import quick_validate

        report = quick_validate(root, day)
    if report is None:
        catalog = incremental.load(root) if cached else load(root, quiet=True, fresh=True)
        keep(catalog)
        gc.freeze()  # the catalog lives to the end: keep the collector (and forked workers) off it
        report = run_validation(catalog, day, engine=engine, incremental_run=not no_cache)
    keep(report)
    text = report.render(fmt, severity=severity, verbose=verbose, fail_on=fail_on)
    if out_file is not None:
        write_atomic(out_file, text)
    else:
        click.echo(text, nl=False)
    ctx.exit(0 if report.conforms(fail_on) else 1)
