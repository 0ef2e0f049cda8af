"""The `rkg` command: a thin layer over the library; errors are rendered here, once.

The click group and what commands share live in `resource_kg.commands.common`; each stage's
commands in `resource_kg.commands.<stage>`, imported when the group is asked for them.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from resource_kg.commands.common import ROOT_ARG, cli, err, keep, load, out, process_exits
from resource_kg.errors import RkgError
from resource_kg.printable import printable

__all__ = ["ROOT_ARG", "cli", "err", "keep", "load", "main", "out"]


def main(argv: list[str] | None = None) -> Any:
    """Entry point: user errors become one message and exit status 2 (tracebacks with --debug)."""
    args = sys.argv[1:] if argv is None else argv
    process_exits(argv is None)
    try:
        rc = cli.main(args=args, prog_name="rkg", standalone_mode=False)
    except RkgError as exc:
        if "--debug" in args:
            raise
        err.print(f"error: {printable(str(exc))}", markup=False)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        if isinstance(exc, NO_ARGS_IS_HELP) and exc.ctx is not None:
            click.echo(exc.ctx.get_help())  # `rkg` or `rkg import` alone: the help, no error
            sys.exit(0)
        err.print(f"error: {click_message(exc)}", markup=False)
        sys.exit(2)
    except OSError as exc:  # stdout on a full disk or /dev/full, a file vanishing mid-run
        if "--debug" in args:
            raise
        _os_error(exc, hard=argv is None)
    code = rc if isinstance(rc, int) else 0
    if argv is None:
        # A process that ran a command: its output is written and flushed, so skip freeing a
        # large catalog object by object at interpreter exit (≈ 0.5 s at 100k resources).
        try:
            sys.stdout.flush()
        except OSError as exc:
            _os_error(exc, hard=True)
        sys.stderr.flush()
        os._exit(code)
    if code != 0:
        sys.exit(code)
    return rc


def _os_error(exc: OSError, *, hard: bool) -> None:
    """One line for an input/output failure no command turned into an RkgError; exit 2.

    `hard`: this process ends here without flushing standard output again (it cannot be
    written: a second attempt at exit would print a traceback)."""
    what = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    err.print(f"error: cannot read or write: {what}", markup=False)
    if hard:
        sys.stderr.flush()
        os._exit(2)
    sys.exit(2)


class _NeverRaised(click.UsageError):
    """Stands in for NoArgsIsHelpError where click is older (and shows the help itself)."""


#: Raised (click ≥ 8.2) for a group called without a command.
NO_ARGS_IS_HELP: type[click.UsageError] = getattr(
    click.exceptions, "NoArgsIsHelpError", _NeverRaised
)


def click_message(exc: click.ClickException) -> str:
    """A usage error from click in rkg's one form: `error: <what>`, one line, lower case, with
    where to read more (click's own "Usage: …" / "Error: …" block is not shown)."""
    text = " ".join(printable(exc.format_message(), keep_newlines=True).split())
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    text = text.removesuffix(".").replace(". Did you mean", "; did you mean")
    ctx = exc.ctx if isinstance(exc, click.UsageError) else None
    if ctx is not None:
        text += f" (see '{ctx.command_path} --help')"
    return text


if __name__ == "__main__":
    main()
