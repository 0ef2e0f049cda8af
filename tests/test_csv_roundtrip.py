"""`rkg export csv` / `rkg import csv`: a curator's spreadsheet round trip loses nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from cli_run import copy_bundled, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from resource_kg.recordfile import dump_record
from resource_kg.records import FIELDS, Value, read_yaml

ROOT = Path(__file__).resolve().parents[1]
CSV_FIXTURES = ROOT / "tests" / "fixtures" / "import" / "csv"


def rkg(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run the real CLI entry point; exit status, standard output, standard error."""
    return run_cli(capsys, *args)


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """A copy of the bundled catalog's data folder."""
    return copy_bundled(tmp_path)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_export_then_import_changes_nothing(
    capsys: pytest.CaptureFixture[str], catalog: Path
) -> None:
    resources = catalog / "data" / "resources"
    before = snapshot(resources)
    mtimes = {p.name: p.stat().st_mtime_ns for p in resources.iterdir()}
    sheet = catalog / "records.csv"
    code, _, err = rkg(capsys, "export", "csv", catalog, "--out", sheet)
    assert code == 0
    assert "exported 3 records" in err
    code, _, err = rkg(capsys, "import", "csv", sheet, "--root", catalog)
    assert code == 0, err
    assert "csv: 0 imported, 0 updated, 3 unchanged, 0 skipped; 0 unknown label(s)" in err
    assert snapshot(resources) == before
    assert {p.name: p.stat().st_mtime_ns for p in resources.iterdir()} == mtimes


def test_export_columns_are_field_names_and_lists_join_with_semicolons(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "data" / "resources").mkdir(parents=True)
    (tmp_path / "data" / "resources" / "7.yaml").write_text(
        "id: 7\ntitle: Invented, with a comma\nyear: 2020\n"
        "keywords:\n  - Housing\n  - Access to Care\nstatus: active\n",
        encoding="utf-8",
    )
    code, out, _ = rkg(capsys, "export", "csv", tmp_path)
    assert code == 0
    assert out == (
        "id,url,title,subtitle,year,types,primary_audience,secondary_audience,languages,"
        "developed_by,in_collaboration_with,summary,topics,subtopics,keywords,populations,"
        "date_added,last_reviewed,status,replaced_by\n"
        '7,,"Invented, with a comma",,2020,,,,,,,,,,Housing; Access to Care,,,,active,\n'
    )


def edit(sheet: Path, rid: str, **cells: str) -> None:
    rows = list(csv.DictReader(io.StringIO(sheet.read_text(encoding="utf-8"))))
    for row in rows:
        if row["id"] == rid:
            row.update(cells)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(FIELDS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    sheet.write_text(buffer.getvalue(), encoding="utf-8")


def test_edited_cells_update_the_record_and_show_changes(
    capsys: pytest.CaptureFixture[str], catalog: Path
) -> None:
    resources = catalog / "data" / "resources"
    sheet = catalog / "records.csv"
    rkg(capsys, "export", "csv", catalog, "--out", sheet)
    edit(sheet, "3182", keywords="Access to Care; Heat-Related Illness", in_collaboration_with="")
    untouched = {n: b for n, b in snapshot(resources).items() if n != "3182.yaml"}
    code, _, err = rkg(capsys, "import", "csv", sheet, "--root", catalog)
    assert code == 0, err
    assert "updated record 3182" in err
    assert "    in_collaboration_with: [Farmworker Justice (FJ)] → (none)" in err
    assert "    keywords: [Access to Care] → [Access to Care; Heat-Related Illness]" in err
    assert "0 imported, 1 updated, 2 unchanged, 0 skipped" in err
    assert (resources / "3182.yaml").read_text(encoding="utf-8") == (
        "# Facts from https://healthcenterinfo.org/details/?id=3182; summary in our own words.\n"
        "# The keyword list of the copy the facts were read from may be incomplete.\n"
        "id: 3182\n"
        "url: https://healthcenterinfo.org/details/?id=3182\n"
        "title: Heat-Related Illness Clinician’s Guide\n"
        "year: 2021\n"
        "types:\n  - Other\n"
        "primary_audience:\n  - Clinicians\n  - Outreach Staff\n"
        "secondary_audience:\n  - Administrative Staff\n  - Board of Directors\n"
        "  - C-Suite (CEOs, CFOs, CIO, COOs, CMOs, etc.)\n  - PCAs\n"
        "languages:\n  - English\n"
        "developed_by:\n  - Migrant Clinicians Network (MCN)\n"
        "summary: >-\n"
        "  A guide for clinicians on preventing, recognizing and treating illness caused by heat\n"
        "  exposure at work.\n"
        "topics:\n  - Clinical Issues\n  - Emerging Issues\n"
        "  - Special and Vulnerable Populations\n  - Health Equity\n"
        "subtopics:\n  - Emergency Management\n  - Patient-Centered Health Outcomes\n"
        "  - Social Determinants of Health (SDOH)\n"
        "keywords:\n  - Access to Care\n  - Heat-Related Illness\n"
        "status: active\n"
    )
    assert {n: b for n, b in snapshot(resources).items() if n != "3182.yaml"} == untouched


def test_map_renames_spreadsheet_columns(capsys: pytest.CaptureFixture[str], catalog: Path) -> None:
    code, _, err = rkg(
        capsys,
        "import",
        "csv",
        CSV_FIXTURES / "mapped_columns.csv",
        "--map",
        "Resource ID=id",
        "--map",
        "Name=title",
        "--map",
        "Year Developed=year",
        "--map",
        "Keywords=keywords",
        "--root",
        catalog,
    )
    assert code == 0, err
    assert "1 imported, 0 updated, 3 unchanged" not in err
    assert "csv: 1 imported, 0 updated, 0 unchanged, 0 skipped" in err
    assert (catalog / "data" / "resources" / "9003.yaml").read_text(encoding="utf-8") == (
        "id: 9003\ntitle: Invented Mapped Title\nyear: 2019\n"
        "keywords:\n  - Housing\n  - Access to Care\n"
    )


# ---------------------------------------------------------------- bad CSV input


@pytest.mark.parametrize(
    ("fixture", "args", "message"),
    [
        (
            "missing_title_column.csv",
            (),
            "missing_title_column.csv:1: field 'title': row 1: required column 'title' is "
            "missing (columns: id, year, keywords)",
        ),
        (
            "short_row.csv",
            (),
            "short_row.csv:3: field 'keywords': row 3, column 'keywords': missing cell "
            "(the row has 3 cells, the header has 4 columns)",
        ),
        (
            "empty_id.csv",
            (),
            "empty_id.csv:2: field 'id': row 2, column 'id': required, but the cell is empty",
        ),
        (
            "unknown_column.csv",
            (),
            "unknown_column.csv:1: field 'Name': row 1, column 'Name': not a record field; "
            "rename it or map it with --map 'Name=<field>'",
        ),
        (
            "mapped_columns.csv",
            ("--map", "Name=titel"),
            "--map 'Name=titel': 'titel' is not a record field (did you mean title, subtitle?)",
        ),
    ],
)
def test_bad_csv_is_refused_naming_row_and_column(
    capsys: pytest.CaptureFixture[str],
    catalog: Path,
    fixture: str,
    args: tuple[str, ...],
    message: str,
) -> None:
    before = snapshot(catalog / "data" / "resources")
    code, _, err = rkg(capsys, "import", "csv", CSV_FIXTURES / fixture, *args, "--root", catalog)
    assert code == 2
    assert message in err
    assert snapshot(catalog / "data" / "resources") == before


def test_csv_unknown_labels_and_duplicate_ids_are_reported(
    capsys: pytest.CaptureFixture[str], catalog: Path
) -> None:
    sheet = CSV_FIXTURES / "unknown_label_and_duplicate.csv"
    code, _, err = rkg(capsys, "import", "csv", sheet, catalog)
    assert code == 1  # a row was skipped
    assert f"error: {sheet}: row(s) 3 not imported (see above)" in err
    assert (
        f"{sheet}:2: row 2, column 'primary_audience': unknown label 'Dental Assistants' "
        "kept as written (closest known: Enabling Staff)"
    ) in err
    assert f"{sheet}:2: row 2, column 'keywords': unknown label 'Rural Health'" in err
    assert (
        f"skipped: {sheet}: row 3: duplicate: same id as {sheet}: row 2 (record 9005) "
        "earlier in this run; not imported"
    ) in err
    values = read_yaml(
        Path("9005.yaml"), (catalog / "data" / "resources" / "9005.yaml").read_text()
    )
    assert values[0].values["primary_audience"] == ["Clinicians", "Dental Assistants"]


# ---------------------------------------------------------------- the canonical writer


def test_writer_quotes_only_what_yaml_would_misread() -> None:
    text = dump_record(
        {
            "id": "0123",
            "title": "Case Studies: A Review",
            "subtitle": "2020",
            "year": 2022,
            "keywords": ["yes", "C-Suite (CEOs, CFOs, CIO, COOs, CMOs, etc.)", "#1 topic"],
            "status": "active",
        },
        ["# a note"],
    )
    assert text == (
        "# a note\n"
        'id: "0123"\n'
        'title: "Case Studies: A Review"\n'
        'subtitle: "2020"\n'
        "year: 2022\n"
        "keywords:\n"
        '  - "yes"\n'
        "  - C-Suite (CEOs, CFOs, CIO, COOs, CMOs, etc.)\n"
        '  - "#1 topic"\n'
        "status: active\n"
    )


TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
    min_size=1,
    max_size=60,
).filter(lambda s: s.strip() == s and s != "")


@settings(max_examples=300, deadline=None)
@given(
    title=TEXT,
    summary=st.lists(TEXT, min_size=1, max_size=20).map(" ".join),
    labels=st.lists(TEXT, min_size=1, max_size=5, unique=True),
)
def test_written_record_reads_back_the_same(title: str, summary: str, labels: list[str]) -> None:
    values: dict[str, Value] = {
        "id": "r1",
        "title": title,
        "summary": summary,
        "keywords": labels,
        "year": 2001,
    }
    record = read_yaml(Path("r1.yaml"), dump_record(values))[0]
    assert record.values == values


# ---------------------------------------------------------------- hostile and careless sheets


FORMULAS = [
    '=HYPERLINK("http://example.invalid/x","click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "'=already quoted by a curator",
    "''+two quotes",
]


def invented_record(resources: Path, rid: str, title: str, **more: Value) -> Path:
    """An invented one-record file written by the canonical writer."""
    path = resources / f"{rid}.yaml"
    path.write_text(dump_record({"id": rid, "title": title, **more}), encoding="utf-8")
    return path


def cells(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_formula_cells_are_quoted_on_export_and_restored_on_import(
    capsys: pytest.CaptureFixture[str], catalog: Path
) -> None:
    """Titles like `=HYPERLINK(…)` came out verbatim: a spreadsheet would run them."""
    resources = catalog / "data" / "resources"
    for n, title in enumerate(FORMULAS):
        invented_record(resources, f"f{n}", title, status="active")
    invented_record(resources, "g1", "Invented", keywords=["-x", "@y"], subtitle="=1+1")
    before = snapshot(resources)
    sheet = catalog / "records.csv"
    code, _, err = rkg(capsys, "export", "csv", catalog, "--out", sheet)
    assert code == 0, err
    rows = {r["id"]: r for r in cells(sheet.read_text(encoding="utf-8"))}
    for n, title in enumerate(FORMULAS):
        shown = rows[f"f{n}"]["title"]
        assert shown == "'" + title  # no cell starts with what a spreadsheet runs
    assert rows["g1"]["subtitle"] == "'=1+1"
    assert rows["g1"]["keywords"] == "'-x; @y"
    for row in rows.values():
        for cell in row.values():
            assert not cell or cell[0] not in "=+-@\t\r"
    code, _, err = rkg(capsys, "import", "csv", sheet, catalog)
    assert code == 0, err
    assert f"0 updated, {len(rows)} unchanged, 0 skipped" in err
    assert snapshot(resources) == before


def test_generated_2k_catalog_round_trips(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Export then import failed at a record without a title and at cells over 128 KB."""
    import subprocess
    import sys

    root = tmp_path / "g2k"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "generate.py"),
            "2000",
            "--seed",
            "7",
            "--out",
            str(root),
        ],
        check=True,
        capture_output=True,
    )
    resources = root / "data" / "resources"
    long_summary = " ".join(["An invented sentence for a long summary cell."] * 4000)
    assert len(long_summary) > 128 * 1024
    invented_record(resources, "long1", "Invented long", summary=long_summary)
    planted = json.loads((root / "planted-errors.json").read_text(encoding="utf-8"))
    untitled = [e["record"] for e in planted if e["kind"] == "missing-title"]
    assert untitled  # the generator plants records without a title
    for rid in untitled:
        assert "title:" not in (resources / f"{rid}.yaml").read_text(encoding="utf-8")
    before = snapshot(resources)
    sheet = tmp_path / "records.csv"
    code, _, err = rkg(capsys, "export", "csv", root, "--out", sheet)
    assert code == 0, err
    code, _, err = rkg(capsys, "import", "csv", sheet, root)
    assert code == 0, err
    assert "csv: 0 imported, 0 updated, 2001 unchanged, 0 skipped" in err
    assert snapshot(resources) == before


def test_rows_matching_several_records_exit_1_and_are_named(
    capsys: pytest.CaptureFixture[str], catalog: Path
) -> None:
    """`import csv` exited 0 when rows were skipped."""
    sheet = catalog / "sheet.csv"
    sheet.write_text(
        "id,url,title\n"
        "9100,https://healthcenterinfo.org/details/?id=3182,Invented New Title\n"
        "9101,,Invented Other Title\n"
        "9102,https://healthcenterinfo.org/details/?id=4184,Heat-Related Illness Clinician’s Guide\n",
        encoding="utf-8",
    )
    before = snapshot(catalog / "data" / "resources")
    code, _, err = rkg(capsys, "import", "csv", sheet, catalog)
    assert code == 1
    assert f"skipped: {sheet}: row 2: duplicate: its url matches record 3182" in err
    assert (
        f"skipped: {sheet}: row 4: matches several records: 4184 (by url), 3182 (by title)" in err
    )
    assert f"error: {sheet}: row(s) 2, 4 not imported (see above)" in err
    after = snapshot(catalog / "data" / "resources")
    assert set(after) - set(before) == {"9101.yaml"}


def test_scalar_cells_are_checked_as_build_does(
    capsys: pytest.CaptureFixture[str], catalog: Path
) -> None:
    """`year=twenty-twenty` went into YAML without a word."""
    sheet = catalog / "sheet.csv"
    sheet.write_text(
        "id,title,year,date_added,url,status\n"
        "9200,Invented Title,twenty-twenty,2024-13-01,ftp://example.invalid/x,gone\n",
        encoding="utf-8",
    )
    code, _, err = rkg(capsys, "import", "csv", sheet, catalog)
    assert code == 0, err
    assert f"warning: {sheet}:2: row 2, column 'year': year 'twenty-twenty' is not a year" in err
    assert (
        f"warning: {sheet}:2: row 2, column 'date_added': date added '2024-13-01' is not a date"
        in err
    )
    assert f"warning: {sheet}:2: row 2, column 'url': url 'ftp://example.invalid/x' is not" in err
    assert f"warning: {sheet}:2: row 2, column 'status': unknown status 'gone'" in err
    # The build says the same of the record the import wrote (kept as written).
    code, _, build_err = rkg(capsys, "build", catalog)
    assert code == 0
    assert "field 'year': year 'twenty-twenty' is not a year" in build_err


def test_dry_run_shows_changes_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], catalog: Path
) -> None:
    resources = catalog / "data" / "resources"
    sheet = catalog / "records.csv"
    rkg(capsys, "export", "csv", catalog, "--out", sheet)
    edit(sheet, "3182", keywords="Access to Care; Heat-Related Illness")
    with sheet.open("a", encoding="utf-8") as fh:
        fh.write("9300,,Invented Dry Title" + "," * (len(FIELDS) - 3) + "\n")
    before = snapshot(resources)
    code, _, err = rkg(capsys, "import", "csv", sheet, catalog, "--dry-run")
    assert code == 0, err
    assert "would update record 3182" in err
    assert "    keywords: [Access to Care] → [Access to Care; Heat-Related Illness]" in err
    assert "would import record 9300" in err
    assert "csv (dry run, nothing written): 1 imported, 1 updated, 2 unchanged" in err
    assert snapshot(resources) == before


def test_root_is_an_argument_and_root_option_still_works(
    capsys: pytest.CaptureFixture[str], catalog: Path, tmp_path: Path
) -> None:
    sheet = catalog / "records.csv"
    rkg(capsys, "export", "csv", catalog, "--out", sheet)
    code, _, err = rkg(capsys, "import", "csv", sheet, catalog)
    assert (code, "3 unchanged" in err) == (0, True)
    code, _, err = rkg(capsys, "import", "csv", sheet, "--root", catalog)
    assert (code, "3 unchanged" in err) == (0, True)
    code, _, err = rkg(capsys, "import", "csv", sheet, catalog, "--root", tmp_path / "other")
    assert code == 2 and "name different catalogs" in err


def test_query_and_validation_csv_quote_formula_cells(
    capsys: pytest.CaptureFixture[str], catalog: Path
) -> None:
    resources = catalog / "data" / "resources"
    title = '=HYPERLINK("http://example.invalid/x","click")'
    invented_record(resources, "f1", title, year="2999")
    query = catalog / "titles.rq"
    query.write_text(
        "PREFIX dct: <http://purl.org/dc/terms/>\n"
        "SELECT ?title WHERE { ?r dct:title ?title } ORDER BY ?title\n",
        encoding="utf-8",
    )
    code, out, err = rkg(capsys, "query", "--file", query, catalog, "--format", "csv")
    assert code == 0, err
    titles = [r["title"] for r in cells(out)]
    assert "'" + title in titles and title not in titles
    code, out, err = rkg(capsys, "validate", catalog, "--format", "csv")
    found = [r for r in cells(out) if r["id"] == "f1"]
    assert found, out
    assert {r["title"] for r in found} == {"'" + title}
