"""What the CLI tests share: the real `rkg` entry point run in-process, a copy of the catalog."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from resource_kg.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run the real CLI entry point; exit status, standard output, standard error."""
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def copy_bundled(tmp_path: Path) -> Path:
    """A copy of the bundled catalog's data folder (vocabularies come from the package)."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path
