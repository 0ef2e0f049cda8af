"""CLI commands of the importing stage: `rkg import pages`, `rkg import csv`, `rkg export csv`.

`import` is a Python keyword, so the group's function has another name and the group is
named explicitly.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from resource_kg.commands.common import ROOT_ARG, cli, err
from resource_kg.config import check_output, load_settings, resolve_paths
from resource_kg.errors import RkgError
from resource_kg.files import write_atomic
from resource_kg.importing import (
    Importer,
    Organizations,
    Outcome,
    PageReader,
    Summary,
    UnknownLabel,
    import_page,
    load_lexicon,
    page_files,
    unknown_labels,
)
from resource_kg.importing.scalars import ScalarChecker
from resource_kg.recordfile import export_csv, parse_map, read_csv_rows, show_value
from resource_kg.records import read_records

CATALOG_OPTION = click.option(
    "--root",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Catalog folder whose vocabularies and organizations resolve the labels.",
)
OUT_OPTION = click.option(
    "--out",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of record files to write into (default: ROOT/data/resources).",
)


def _report(console: Console, outcome: Outcome, unknown: list[UnknownLabel]) -> None:
    """One line per page or row, its changed fields, then its unknown labels."""
    prefix = "error" if outcome.error else outcome.kind
    console.print(f"{prefix}: {outcome.source}: {outcome.message}", markup=False)
    for name, old, new in outcome.changes:
        console.print(f"    {name}: {show_value(old)} → {show_value(new)}", markup=False)
    for label in unknown:
        console.print(f"warning: {label}", markup=False)


@cli.group(name="import")
def import_group() -> None:
    """Bring records in: clearinghouse resource pages or a curator's CSV."""


@import_group.command("pages")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@CATALOG_OPTION
@OUT_OPTION
@click.option("--url", default=None, help="Address of the page, for one page saved without it.")
@click.option("--update", is_flag=True, help="Update records already present; show what changed.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show what would be imported, updated and added; write nothing.",
)
@click.option(
    "--no-summary",
    is_flag=True,
    help="Leave the page's summary text out (it may be copyrighted); an existing summary stays.",
)
@click.pass_context
def pages(
    ctx: click.Context,
    paths: tuple[Path, ...],
    root: Path,
    out: Path | None,
    url: str | None,
    update: bool,
    dry_run: bool,
    no_summary: bool,
) -> None:
    """Read resource pages (.txt or .html; folders are searched) into one YAML record each.

    The id comes from the page's URL (--url or the HTML canonical link), else a numeric file
    name, else the title. A record already present (same id, url or title) is reported, and
    changed only with --update. Unknown labels are kept as written and reported; developers
    and collaborators data/organizations.yaml does not know are added to it and reported.
    With --dry-run nothing is written. Exit status 1 when a file could not be read, is not a
    resource page, or its made-up id is that of another record.
    """
    files = page_files(paths)
    if url is not None and len(files) != 1:
        raise RkgError(f"--url is the address of one page, but {len(files)} page files were given")
    target = out if out is not None else root / "data" / "resources"
    lexicon = load_lexicon(root)
    reader = PageReader(lexicon, take_summary=not no_summary)
    importer = Importer(target, read_records(target), update=update, dry_run=dry_run)
    organizations = Organizations(
        resolve_paths(root).organizations, lexicon, load_settings(root).base, dry_run=dry_run
    )
    summary = Summary()
    columns = (TextColumn("importing pages"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err, transient=True, disable=len(files) < 2) as progress:
        task = progress.add_task("pages", total=len(files))
        for path in files:
            outcome, page = import_page(reader, importer, path, url, organizations)
            summary.add(outcome)
            unknown = page.unknown if page is not None else []
            summary.unknown += len(unknown)
            _report(progress.console, outcome, unknown)
            for note in page.notes if page is not None else []:
                progress.console.print(f"note: {note}", markup=False)
            progress.advance(task)
    added = len(organizations.added)
    orgs = f"; {added} organization(s) {'to add' if dry_run else 'added'}" if added else ""
    dry = " (dry run: nothing written)" if dry_run else ""
    err.print(f"pages{dry}: {summary}{orgs}", markup=False)
    ctx.exit(1 if summary.failed else 0)


@import_group.command("csv")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("root", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=field",
    help="Read a column under another name as a record field (repeatable).",
)
@click.option(
    "--root",
    "root_option",
    default=None,
    hidden=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Deprecated: pass the catalog folder as ROOT.",
)
@OUT_OPTION
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.pass_context
def csv_command(
    ctx: click.Context,
    file: Path,
    root: Path | None,
    maps: tuple[str, ...],
    root_option: Path | None,
    out: Path | None,
    dry_run: bool,
) -> None:
    """Bring back a CSV FILE of records (as `rkg export csv` writes it) into the catalog ROOT.

    Columns are record field names (or renamed with --map); list cells hold labels joined
    with '; '. Changed records are rewritten and their changed fields shown; unchanged
    records are not touched. The whole file is checked before anything is written; labels,
    years, dates, urls and statuses the build would warn about are reported with row and
    column. Exit status 1 when a row was skipped (each is named).
    """
    if root is not None and root_option is not None and root != root_option:
        raise click.UsageError(f"ROOT {root} and --root {root_option} name different catalogs")
    root = root or root_option or Path(".")
    rows = read_csv_rows(file, parse_map(maps))
    target = out if out is not None else root / "data" / "resources"
    lexicon = load_lexicon(root)
    checker = ScalarChecker(root, lexicon)
    importer = Importer(target, read_records(target), update=True, dry_run=dry_run)
    summary = Summary()
    skipped: list[int] = []
    for row in rows:
        unknown = unknown_labels(lexicon, row.values, str(file), row.line, row.row, row.columns)
        problems = checker.problems(row.values, str(file), row.line, row.row, row.columns)
        outcome = importer.offer(
            row.values, f"{file}: row {row.row}", id_fixed=True, replace=set(row.columns)
        )
        summary.add(outcome)
        summary.unknown += len(unknown)
        if outcome.kind == "skipped":
            skipped.append(row.row)
        _report(err, outcome, unknown)
        for problem in problems:
            err.print(f"warning: {problem}", markup=False)
    done = "csv (dry run, nothing written)" if dry_run else "csv"
    err.print(f"{done}: {summary}", markup=False)
    if skipped:
        shown = ", ".join(str(n) for n in skipped)
        err.print(f"error: {file}: row(s) {shown} not imported (see above)", markup=False)
        ctx.exit(1)


@cli.group(name="export")
def export_group() -> None:
    """Write records out for editing elsewhere."""


@export_group.command("csv")
@ROOT_ARG
@click.option(
    "--out",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV file to write (default: standard output).",
)
def export_csv_command(root: Path, out: Path | None) -> None:
    """All records as CSV: one column per record field, lists joined with '; '."""
    if out is not None:
        check_output(root, out)
    records = read_records(resolve_paths(root).resources, display_root=root)
    text = export_csv(records)
    if out is None:
        click.echo(text, nl=False)
        return
    write_atomic(out, text)
    err.print(f"exported {len(records)} records → {out}", markup=False)
