"""`python -m resource_kg` and the `rkg` command: the entry point, kept light.

Importing the CLI takes a moment (rdflib, pyoxigraph); Ctrl-C during that moment ended in a
traceback. `run` turns it into the one line and exit status 130 that Ctrl-C gives later on.
"""

from __future__ import annotations

import sys


def run() -> None:
    """Import the CLI and run it; Ctrl-C while importing is one line, exit status 130."""
    try:
        from resource_kg.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("aborted\n")
        sys.exit(130)
    main()


if __name__ == "__main__":
    run()
