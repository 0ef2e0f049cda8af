"""README's first command prints what README shows.

The first ```bash block of README.md holds the two set-up commands; the first one installs and
then runs `rkg build`, `rkg validate`, `rkg query …` and `rkg publish`. Those `rkg` steps run
here, as written, on a copy of the bundled catalog (data, ontology, shapes, queries and the
settings in pyproject.toml), and the lines of the ```text block that follows must be the last
lines they print (dates are the day of the run, so both sides have them replaced).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RKG = str(Path(sys.executable).parent / "rkg")
DATE = re.compile(r"\b\d{4}-\d\d-\d\d\b")


def readme_first_command() -> tuple[list[list[str]], list[str]]:
    """The rkg steps of README's first command, and the lines README says it prints last."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    bash = re.search(r"```bash\n(.*?)```", text, re.S)
    assert bash is not None
    commands = [c for c in bash.group(1).splitlines() if c and not c.startswith("#")]
    assert len(commands) == 2, "the first screen has exactly two set-up commands"
    steps = [shlex.split(step) for step in commands[0].split(" && ")]
    rkg_steps = [s for s in steps if s[0] == ".venv/bin/rkg"]
    assert [s[1] for s in rkg_steps] == ["build", "validate", "query", "publish"]
    shown = re.search(r"```text\n(.*?)```", text[bash.end() :], re.S)
    assert shown is not None
    return rkg_steps, shown.group(1).rstrip("\n").split("\n")


def test_readme_first_command_prints_what_readme_shows(tmp_path: Path) -> None:
    steps, shown = readme_first_command()
    root = tmp_path / "catalog"
    for part in ("data", "ontology", "shapes", "queries"):
        shutil.copytree(ROOT / part, root / part)
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    printed: list[str] = []
    for step in steps:
        proc = subprocess.run(
            [RKG, *step[1:]], cwd=root, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, (step, proc.stderr)
        printed += (proc.stdout + proc.stderr).rstrip("\n").split("\n")
    assert len(shown) >= 10
    assert [DATE.sub("DATE", line) for line in printed[-len(shown) :]] == [
        DATE.sub("DATE", line) for line in shown
    ]
    assert (root / "releases/1.0.0/SHA256SUMS").is_file()
