"""A curator's day (issue 17): output that leads to the fix, through real `rkg` runs.

Each test copies a small fixture (or the bundled catalog) into a temporary folder, edits a
record the way a curator would, and reads what `rkg` prints. Titles with ESC sequences, rich
markup and emoji codes (issue 18, "the terminal and the site") are written into real records.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resource_kg import Catalog
from resource_kg.advice import finding
from resource_kg.errors import ConfigError
from resource_kg.validate import validate

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).resolve().parent / "fixtures" / "validate"
DAY = "2025-06-01"
RKG = str(Path(sys.executable).parent / "rkg")


def rkg(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RKG, *args], cwd=cwd, capture_output=True, text=True, check=False)


def copy(case: str, tmp_path: Path) -> Path:
    target = tmp_path / Path(case).name
    shutil.copytree(FIX / case, target)
    return target


def violation_after_warnings(tmp_path: Path) -> Path:
    """recommended-missing (four Warnings in r1 and r2) with r2's url made an ftp address:
    the one Violation is in the last file."""
    root = copy("invalid/recommended-missing", tmp_path)
    record = root / "data/resources/r2.yaml"
    text = record.read_text(encoding="utf-8")
    assert "url: https://example.org/r2" in text
    record.write_text(text.replace("url: https://", "url: ftp://"), encoding="utf-8")
    return root


# ---------------------------------------------------------------- order, filter, summary


def test_the_first_finding_of_a_catalog_with_a_violation_is_that_violation(
    tmp_path: Path,
) -> None:
    root = violation_after_warnings(tmp_path)
    res = rkg("validate", "--date", DAY, cwd=root)
    assert res.returncode == 1, res.stderr
    lines = res.stdout.splitlines()
    assert lines[:4] == [
        "Violations (1)",
        "",
        "data/resources/r2.yaml: r2 — Example Resource r2",
        "  line 3: Violation: url = 'ftp://example.org/r2'",
    ]
    warnings = lines.index("Warnings (4)")
    # within the Warnings, by file and line: r1 before r2
    assert lines.index("data/resources/r1.yaml: r1 — Example Resource r1") > warnings
    assert lines.index("data/resources/r2.yaml: r2 — Example Resource r2", warnings) > warnings
    # one summary line, no per-shape counts
    assert lines[-1] == (
        "Summary: 2 records checked as of 2025-06-01: 1 violation, 4 warnings, 0 info; "
        "does not conform at --fail-on violation."
    )
    assert "rkgsh:RequiredUrl  " not in res.stdout
    assert "Focus nodes" not in res.stdout


def test_severity_filter_shows_only_that_level_and_above(tmp_path: Path) -> None:
    root = violation_after_warnings(tmp_path)
    only = rkg("validate", "--date", DAY, "--severity", "violation", cwd=root)
    assert only.returncode == 1
    assert "Warning" not in only.stdout.replace("warnings", "")
    assert only.stdout.count("  line ") == 1
    assert only.stdout.rstrip().endswith("(showing violations only).")
    both = rkg("validate", "--date", DAY, "--severity", "warning", "--format", "csv", cwd=root)
    assert len(both.stdout.splitlines()) == 1 + 5  # header + every result
    clean = copy("invalid/recommended-missing", tmp_path / "clean")
    none = rkg("validate", "--date", DAY, "--severity", "violation", cwd=clean)
    assert none.returncode == 0
    assert none.stdout.splitlines()[0] == "No violations."


def test_verbose_adds_results_per_field_and_shape(tmp_path: Path) -> None:
    root = violation_after_warnings(tmp_path)
    res = rkg("validate", "--date", DAY, "--verbose", cwd=root)
    lines = res.stdout.splitlines()
    summary = next(i for i, line in enumerate(lines) if line.startswith("Summary: "))
    assert lines[summary + 1].startswith("Results per field: ")
    assert "url 1" in lines[summary + 1]
    assert lines[summary + 2] == "Focus nodes checked per shape:"
    assert any(line.split() == ["rkgsh:RequiredUrl", "2"] for line in lines[summary + 3 :])


# ---------------------------------------------------------------- one problem, one finding


def test_unknown_developer_and_audience_give_only_the_unknown_label() -> None:
    catalog = Catalog.load(FIX / "invalid/unknown-developer-and-audience")
    found = validate(catalog, dt.date(2025, 6, 1)).findings
    assert [(f.field, f.value, f.shape) for f in found] == [
        ("primary_audience", "Clinicans", "rkgsh:RequiredNoUnresolvedLabel"),
        ("developed_by", "Exmaple Org", "rkgsh:RequiredNoUnresolvedLabel"),
    ]
    assert "closest known: 'Clinicians'" in found[0].message
    assert "closest known: 'Example Org'" in found[1].message
    # the pySHACL reference engine gives the same single findings
    reference = validate(catalog, dt.date(2025, 6, 1), engine="pyshacl").findings
    assert reference == found


def test_a_quoted_year_is_told_to_lose_its_quotes() -> None:
    catalog = Catalog.load(FIX / "invalid/quoted-year")
    (found,) = validate(catalog, dt.date(2025, 6, 1)).findings
    assert (found.field, found.value, found.line) == ("year", "2021", 5)
    assert found.message.startswith('Year "2021" is written in quotes: remove the quotes')
    assert "four digits" not in found.message


@pytest.mark.parametrize(
    "case",
    ["invalid/quoted-year", "invalid/required-bad-values", "invalid/vocabulary-wrong-scheme"],
)
def test_build_and_validate_word_one_problem_alike(case: str) -> None:
    """Every build warning reappears, word for word, as the finding on the same field."""
    catalog = Catalog.load(FIX / case, today=dt.date(2025, 6, 1))
    messages = {(f.field, f.message) for f in validate(catalog, dt.date(2025, 6, 1)).findings}
    assert catalog.diagnostics
    for diag in catalog.diagnostics:
        assert (diag.field, finding(diag.message)) in messages, diag


# ---------------------------------------------------------------- publish and build


def test_publish_refusing_lists_the_violations_as_validate_would(tmp_path: Path) -> None:
    root = violation_after_warnings(tmp_path)
    listed = rkg("validate", "--date", DAY, "--severity", "violation", cwd=root)
    refused = rkg("publish", "--date", DAY, cwd=root)
    assert refused.returncode == 1
    assert refused.stdout == listed.stdout
    assert "  line 3: Violation: url = 'ftp://example.org/r2'" in refused.stdout
    assert (
        refused.stderr.strip()
        .splitlines()[-1]
        .startswith("error: validation found 1 violation(s), 4 warning(s): nothing published")
    )
    assert not (root / "releases").exists()


def test_build_on_a_csv_with_an_unknown_column_does_not_advise_map(tmp_path: Path) -> None:
    root = tmp_path / "sheet"
    (root / "data/resources").mkdir(parents=True)
    # invented: a spreadsheet export with a column no record has
    (root / "data/resources/sheet.csv").write_text(
        "id,title,colour\nr1,Example Resource r1,blue\n", encoding="utf-8"
    )
    res = rkg("build", cwd=root)
    assert res.returncode == 2
    (line,) = res.stderr.strip().splitlines()
    assert line.startswith("error: data/resources/sheet.csv:1: field 'colour': ")
    assert "column 'colour': not a record field" in line
    assert "rename the column to a record field" in line
    assert "rkg import csv FILE --map 'colour=<field>'" in line
    assert "map it with --map" not in line


# ---------------------------------------------------------------- one error style


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["validate", "--format", "bogus"],
            "error: invalid value for '--format': 'bogus' is not one of 'text', 'csv', 'json', "
            "'markdown', 'ttl' (see 'rkg validate --help')",
        ),
        (["frobnicate"], "error: no such command 'frobnicate' (see 'rkg --help')"),
        (
            ["validate", "--no-cach"],
            "error: no such option '--no-cach'; did you mean '--no-cache'? "
            "(see 'rkg validate --help')",
        ),
        (["build", "no-such-folder"], "error: catalog folder does not exist: no-such-folder"),
    ],
)
def test_click_and_rkg_errors_share_one_form(
    args: list[str], expected: str, tmp_path: Path
) -> None:
    res = rkg(*args, cwd=tmp_path)
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr.splitlines() == [expected]


# ---------------------------------------------------------------- the terminal and the site

HOSTILE = "\x1b[2J\x1b]8;;https://evil.example/\x07:x: [bold]Heat[/bold] \u202egnp.exe"


def hostile_title(tmp_path: Path) -> Path:
    """The bundled catalog, record 3182's title replaced by ESC sequences, rich markup, an
    emoji code and a bidi override (a double-quoted YAML string keeps them)."""
    root = tmp_path / "catalog"
    shutil.copytree(ROOT / "data", root / "data")
    record = root / "data/resources/3182.yaml"
    lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("title:"))
    escaped = HOSTILE.replace("\x1b", "\\e").replace("\x07", "\\a").replace("\u202e", "\\u202E")
    lines[at] = f'title: "{escaped}"\n'
    record.write_text("".join(lines), encoding="utf-8")
    # and a Violation, so the title is shown in the report
    record.write_text(record.read_text(encoding="utf-8").replace("year: ", "year: x"))
    return root


SHOWN = "\\x1b[2J\\x1b]8;;https://evil.example/\\x07:x: [bold]Heat[/bold] \\u202egnp.exe"


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_reports_show_control_characters_and_markup_as_written(fmt: str, tmp_path: Path) -> None:
    root = hostile_title(tmp_path)
    res = rkg("validate", "--date", DAY, "--format", fmt, cwd=root)
    assert res.returncode == 1, res.stderr
    for raw in ("\x1b", "\x07", "\u202e", "❌"):
        assert raw not in res.stdout
        assert raw not in res.stderr
    assert SHOWN in res.stdout


def test_query_tables_and_warnings_show_control_characters_as_written(tmp_path: Path) -> None:
    root = hostile_title(tmp_path)
    res = rkg("query", "language", "-p", "language=English", cwd=root)
    assert res.returncode == 0, res.stderr
    for raw in ("\x1b", "\x07", "\u202e", "❌"):
        assert raw not in res.stdout
        assert raw not in res.stderr
    flat = "".join(
        line.strip("│ ").strip()
        for line in res.stdout.splitlines()
        if "3182" in line or "│" in line
    )
    assert ":x:" in flat and "[bold]Heat[/bold]" in flat
    build = rkg("build", cwd=root)
    assert "\x1b" not in build.stderr
    assert "year 'x" in build.stderr


def test_a_license_that_is_not_a_web_address_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(ROOT / "data", root / "data")
    (root / "pyproject.toml").write_text(
        '[tool.resource_kg]\nlicense = "javascript:alert(document.domain)"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as info:
        Catalog.load(root)
    assert info.value.field == "license"
    res = rkg("publish", cwd=root)
    assert res.returncode == 2
    assert res.stderr.splitlines() == [
        "error: pyproject.toml: field 'license': license must be a web address "
        "starting with https:// or http://, not 'javascript:alert(document.domain)'"
    ]
    assert not (root / "releases").exists()
    (root / "pyproject.toml").write_text(
        '[tool.resource_kg]\nlicense = "https://example.org/licence"\n', encoding="utf-8"
    )
    assert Catalog.load(root).settings.license == "https://example.org/licence"


def test_rkg_alone_shows_the_help_not_an_error(tmp_path: Path) -> None:
    res = rkg(cwd=tmp_path)
    assert res.returncode == 0
    assert res.stdout.startswith("Usage: rkg [OPTIONS] COMMAND [ARGS]...")
    assert res.stderr == ""


def test_the_documented_shell_completion_works(tmp_path: Path) -> None:
    """README's bash line registers a completion; completing asks rkg, which answers."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(x for x in readme.splitlines() if "_RKG_COMPLETE=bash_source" in x)
    script = line.split("#")[0].strip()
    assert script == 'eval "$(_RKG_COMPLETE=bash_source rkg)"'
    env = {"PATH": f"{Path(RKG).parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    registered = subprocess.run(
        ["bash", "--norc", "-c", f"{script} && complete -p rkg"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    assert "_rkg_completion rkg" in registered.stdout
    answer = subprocess.run(
        [RKG],
        capture_output=True, text=True, check=False,
        env=env | {"COMP_WORDS": "rkg validate --severity ", "COMP_CWORD": "3",
                   "_RKG_COMPLETE": "bash_complete"},
    )  # fmt: skip
    assert answer.stdout.split() == ["plain,violation", "plain,warning", "plain,info"]


@given(st.text(alphabet=st.characters(max_codepoint=0x2100)), st.booleans())
def test_printable_returns_plain_ascii_as_is_and_escapes_as_the_table_says(
    text: str, keep_newlines: bool
) -> None:
    """The shortcut for printable ASCII gives what the full translation gives."""
    from resource_kg import printable as module

    table = module._LINES if keep_newlines else module._ONE_LINE
    assert module.printable(text, keep_newlines=keep_newlines) == text.translate(table)
    assert module.printable(text + "\x1b[2J") != text + "\x1b[2J"
