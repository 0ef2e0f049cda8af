"""CLI commands of the publish stage (registered on resource_kg.commands.common.cli)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from resource_kg.commands.common import ROOT_ARG, cli, err, load
from resource_kg.config import check_output
from resource_kg.errors import PublishError
from resource_kg.publish import PublishRefused
from resource_kg.publish import publish as publish_release


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (write YYYY-MM-DD)") from None


@cli.command()
@ROOT_ARG
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder holding the releases (default: ROOT/releases); the release goes to OUT/VERSION.",
)
@click.option(
    "--version",
    "version",
    default=None,
    help="Release version X.Y.Z (default: the newest release in OUT with patch + 1, or 1.0.0).",
)
@click.option(
    "--date", "date", default=None, callback=_date, help="Release date YYYY-MM-DD (default: today)."
)
@click.option(
    "--previous",
    default=None,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Release folder to compare with for CHANGES.md (default: the newest older release in OUT).",
)
@click.option(
    "--base-url",
    default=None,
    help="URL the release folder is served at (default: {base}release/VERSION/).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Publish even when validation finds Violations (recorded in void.ttl and CHANGES.md).",
)
def publish(
    root: Path,
    out_dir: Path | None,
    version: str | None,
    date: dt.date | None,
    previous: Path | None,
    base_url: str | None,
    force: bool,
) -> None:
    """Validate, then write a release: dumps, void.ttl, SHA256SUMS, changelog and a static site.

    The release folder OUT/VERSION is written beside its final place and renamed into it at
    the end; an existing release is never overwritten. Exit status 1 when validation finds
    Violations (they are listed; nothing written unless --force), 2 on errors.
    """
    out = out_dir if out_dir is not None else root / "releases"
    check_output(root, out)
    catalog = load(root, today=date)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=err, transient=True) as progress:
            release = publish_release(
                catalog,
                out,
                version=version,
                date=date,
                previous=previous,
                base_url=base_url,
                force=force,
                progress=progress,
            )
    except PublishRefused as refused:
        # the Violations as `rkg validate --severity violation` lists them, then the error
        click.echo(refused.violations.render("text"), nl=False)
        raise
    if release.forced:
        err.print(
            f"warning: published with --force despite {release.counts.get('Violation', 0)} violation(s)",
            markup=False,
        )
    err.print(
        f"published release {release.version} ({release.date.isoformat()}): "
        f"{len(release.files)} files, {release.changes.summary()} → {release.path}",
        markup=False,
    )


__all__ = ["publish", "PublishError"]
