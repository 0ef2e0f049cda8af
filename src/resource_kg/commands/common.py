"""What every command shares: the `rkg` click group, the ROOT argument, the consoles, and
loading a catalog through its store. The command modules register on `cli` here; `resource_kg.cli`
imports them all and holds the entry point."""

from __future__ import annotations

import datetime as dt
import gc
import importlib
from pathlib import Path

import click
from rich.console import Console

from resource_kg.catalog import Catalog
from resource_kg.printable import printable

#: The consoles: no emoji codes (a title's `:x:` stays `:x:`) and no highlighting; text quoted
#: from a catalog is printed with markup=False (or `rich.markup.escape`d in a table) after
#: `printable` (no control characters reach the terminal).
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
out = Console(highlight=False, soft_wrap=True, emoji=False)

ROOT_ARG = click.argument(
    "root", required=False, default=".", type=click.Path(file_okay=False, path_type=Path)
)


#: Large objects commands made, kept until the process ends (see `keep`).
_KEPT: list[object] = []
#: Set by `resource_kg.cli.main` (through `process_exits`) when it ends the process itself
#: with os._exit.
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
    # The catalog lives until the command ends: move its millions of objects out of the
    # collector's sight, or its first full pass scans them all (≈ 2 s at 100k resources).
    gc.freeze()
    if not quiet:
        report_warnings(catalog)
    return catalog


def report_warnings(catalog: Catalog) -> None:
    """The catalog's content warnings on stderr, one line each."""
    for diag in catalog.diagnostics:
        err.print(f"warning: {printable(str(diag))}", markup=False)


#: Which module of `resource_kg.commands` defines each command. A run imports only its own
#: command's module (`rkg query` does not load pySHACL); `--help` and completion load all.
COMMAND_MODULES = {
    "build": "build",
    "info": "build",
    "import": "importing",
    "export": "importing",
    "new": "new",
    "publish": "publish",
    "queries": "query",
    "query": "query",
    "push": "query",
    "serve": "serve",
    "store": "store",
    "validate": "validate",
}


class LazyGroup(click.Group):
    """The `rkg` group: commands register on it when their module is first imported."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if cmd_name not in self.commands and module is not None:
            importlib.import_module(f"resource_kg.commands.{module}")
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


def process_exits(flag: bool) -> None:
    """Tell `keep` whether this process ends with os._exit once the command returns."""
    _PROCESS["exits"] = flag
