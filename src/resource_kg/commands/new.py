"""`rkg new [ID] [ROOT]`: start a record from the commented template (resource_kg.template)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from resource_kg.commands.common import cli, err
from resource_kg.config import resolve_paths
from resource_kg.printable import printable
from resource_kg.template import write_new_record


@cli.command("new")
@click.argument("rid", metavar="[ID]", required=False)
@click.argument(
    "root", required=False, default=".", type=click.Path(file_okay=False, path_type=Path)
)
def new_command(rid: str | None, root: Path) -> None:
    """Write data/resources/ID.yaml: every field, each with a comment saying what it holds.

    ID defaults to one more than the largest numeric record file name. The record is never
    written over an existing one. Unfilled fields are empty, so the catalog still builds, and
    `rkg validate` lists what is left to fill in.
    """
    paths = resolve_paths(root)
    written = write_new_record(paths.resources, rid, dt.date.today())
    err.print(f"wrote {printable(str(written))}: fill it in, then run rkg validate", markup=False)
