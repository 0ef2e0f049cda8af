"""Reading records: structural errors stop the build and name file, line and field;
content problems warn and the build goes on.

All catalogs here are invented fixtures written by the tests into temporary folders.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from resource_kg import Catalog
from resource_kg.errors import StructureError

GOOD = """\
id: {id}
url: https://example.org/details/?id={id}
title: Invented fixture resource {id}
year: 2021
types: [Publication]
primary_audience:
  - Clinicians
languages: [English]
developed_by: [Migrant Clinicians Network]
topics: [Health Equity]
"""


def catalog_dir(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    resources = tmp_path / "data" / "resources"
    resources.mkdir(parents=True)
    (tmp_path / "data" / "organizations.yaml").write_text(
        "- id: mcn\n  name: Migrant Clinicians Network\n  acronym: MCN\n", encoding="utf-8"
    )
    for name, content in files.items():
        path = resources / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return tmp_path


def structure_error(tmp_path: Path, files: dict[str, str | bytes]) -> StructureError:
    root = catalog_dir(tmp_path, files)
    with pytest.raises(StructureError) as info:
        Catalog.load(root)
    return info.value


# ---------------------------------------------------------------- structural errors


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    bad = GOOD.format(id="1") + "keywords: [Access to Care\nsummary: x\n"
    exc = structure_error(tmp_path, {"1.yaml": bad})
    assert exc.file == "data/resources/1.yaml"
    assert exc.line is not None and exc.line >= 11
    assert "malformed YAML" in str(exc)


def test_record_without_id(tmp_path: Path) -> None:
    text = GOOD.format(id="2").replace("id: 2\n", "")
    exc = structure_error(tmp_path, {"2.yaml": text})
    assert (exc.file, exc.line, exc.field) == ("data/resources/2.yaml", 1, "id")
    assert "no id" in str(exc)


def test_same_id_in_two_files_names_both(tmp_path: Path) -> None:
    exc = structure_error(tmp_path, {"a.yaml": GOOD.format(id="7"), "b.yaml": GOOD.format(id="7")})
    message = str(exc)
    assert exc.field == "id"
    assert "data/resources/b.yaml:1" in message and "data/resources/a.yaml:1" in message


def test_mapping_where_a_list_belongs(tmp_path: Path) -> None:
    text = GOOD.format(id="3") + "keywords:\n  main: Access to Care\n"
    exc = structure_error(tmp_path, {"3.yaml": text})
    assert (exc.file, exc.line, exc.field) == ("data/resources/3.yaml", 11, "keywords")
    assert "must be a list" in exc.message and "mapping" in exc.message


def test_list_where_a_single_value_belongs(tmp_path: Path) -> None:
    text = GOOD.format(id="4").replace("year: 2021", "year: [2021, 2022]")
    exc = structure_error(tmp_path, {"4.yaml": text})
    assert (exc.line, exc.field) == (4, "year")


def test_unknown_field_suggests_the_right_name(tmp_path: Path) -> None:
    text = GOOD.format(id="5") + "primary_audiences: [PCAs]\n"
    exc = structure_error(tmp_path, {"5.yaml": text})
    assert (exc.line, exc.field) == (11, "primary_audiences")
    assert "primary_audience" in exc.message


def test_file_not_utf8_names_line(tmp_path: Path) -> None:
    text = (GOOD.format(id="6") + "summary: caf").encode("utf-8") + b"\xe9 latin-1\n"
    exc = structure_error(tmp_path, {"6.yaml": text})
    assert (exc.file, exc.line) == ("data/resources/6.yaml", 11)
    assert "UTF-8" in exc.message


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    exc = structure_error(tmp_path, {"8.yaml": content})
    assert exc.file == "data/resources/8.yaml" and "empty" in exc.message


def test_csv_row_with_wrong_number_of_cells_names_row(tmp_path: Path) -> None:
    csv_text = (
        "id,title,year,primary_audience\n"
        "10,Invented fixture A,2020,Clinicians; PCAs\n"
        "11,Invented fixture B,2020\n"
    )
    exc = structure_error(tmp_path, {"batch.csv": csv_text})
    assert (exc.file, exc.line) == ("data/resources/batch.csv", 3)
    assert "3 cells" in exc.message and "4 columns" in exc.message


def test_csv_unknown_column(tmp_path: Path) -> None:
    exc = structure_error(tmp_path, {"batch.csv": "id,titel\n1,x\n"})
    assert (exc.line, exc.field) == (1, "titel") and "title" in exc.message


def test_jsonl_malformed_line(tmp_path: Path) -> None:
    exc = structure_error(tmp_path, {"batch.jsonl": '{"id": "1", "title": "a"}\n{"id": 2,\n'})
    assert (exc.file, exc.line) == ("data/resources/batch.jsonl", 2)


def test_cli_structural_error_is_one_line_exit_2_and_keeps_previous_output(
    tmp_path: Path,
) -> None:
    root = catalog_dir(tmp_path, {"1.yaml": GOOD.format(id="1")})
    run = [sys.executable, "-m", "resource_kg.cli", "build", str(root)]
    assert subprocess.run(run, capture_output=True, check=False).returncode == 0
    before = (root / "dist" / "catalog.ttl").read_bytes()
    (root / "data" / "resources" / "2.yaml").write_text("id: 2\ntypes: {a: b}\n", encoding="utf-8")
    result = subprocess.run(run, capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: data/resources/2.yaml:2: record 2: field 'types': must be a list "
        "(one '- label' per line), found a mapping"
    ]
    assert (root / "dist" / "catalog.ttl").read_bytes() == before
    assert not list((root / "dist").glob(".*tmp"))


# ---------------------------------------------------------------- other formats


def test_csv_and_jsonl_records_build_like_yaml(tmp_path: Path) -> None:
    csv_text = (
        "id,title,year,types,primary_audience,languages,developed_by,topics\n"
        '20,Invented fixture CSV,2019,Toolkit,"PCAs; Board",Spanish,MCN,Finance\n'
    )
    jsonl = (
        '{"id": "21", "title": "Invented fixture JSONL", "year": 2018, '
        '"primary_audience": ["Clinicians"], "languages": ["es"]}\n'
    )
    root = catalog_dir(tmp_path, {"a.csv": csv_text, "b.jsonl": jsonl})
    catalog = Catalog.load(root)
    assert catalog.diagnostics == []
    rec = catalog.record("20")
    assert rec is not None
    assert rec.values["primary_audience"] == ["PCAs", "Board"]
    assert rec.values["year"] == 2019
    assert (rec.file, rec.line) == ("data/resources/a.csv", 2)
    json_rec = catalog.record("21")
    assert json_rec is not None and json_rec.line == 1


# ---------------------------------------------------------------- content problems


@pytest.mark.parametrize(
    ("change", "line", "field", "needle"),
    [
        (lambda t: t.replace("title: Invented fixture resource 30\n", ""), 1, "title", "missing"),
        (lambda t: t.replace("year: 2021", "year: 1850"), 4, "year", "out of range"),
        (lambda t: t.replace("year: 2021", "year: 20x1"), 4, "year", "not a year"),
        (lambda t: t.replace("[Health Equity]", "[Helth Equity]"), 10, "topics", "Health Equity"),
        (
            lambda t: t.replace("[Migrant Clinicians Network]", "[Unknown Org]"),
            9,
            "developed_by",
            "organizations.yaml",
        ),
        (lambda t: t.replace("https://example.org/details/?id=30", "not a url"), 2, "url", "http"),
    ],
    ids=[
        "missing-title",
        "year-out-of-range",
        "year-not-a-year",
        "unknown-label",
        "unknown-org",
        "bad-url",
    ],
)
def test_content_problem_warns_and_build_goes_on(
    tmp_path: Path, change: object, line: int, field: str, needle: str
) -> None:
    text = change(GOOD.format(id="30"))  # type: ignore[operator]
    root = catalog_dir(tmp_path, {"30.yaml": text, "31.yaml": GOOD.format(id="31")})
    catalog = Catalog.load(root)
    assert len(catalog.records) == 2
    assert len(catalog.diagnostics) == 1, catalog.diagnostics
    diag = catalog.diagnostics[0]
    assert (diag.file, diag.line, diag.record_id, diag.field) == (
        "data/resources/30.yaml",
        line,
        "30",
        field,
    )
    assert needle in diag.message
    assert len(catalog.quads) > 0


def test_unknown_label_is_kept_in_the_graph(tmp_path: Path) -> None:
    text = GOOD.format(id="32").replace("[Health Equity]", "[Helth Equity]")
    catalog = Catalog.load(catalog_dir(tmp_path, {"32.yaml": text}))
    kept = [q for q in catalog.quads if q.predicate.value.endswith("#unresolvedLabel")]
    assert [str(q.object.value) for q in kept if isinstance(q.object, ox.Literal)] == [
        "Helth Equity"
    ]
    assert len(kept) == 1
    assert "'Health Equity'" in catalog.diagnostics[0].message


def test_duplicate_url_warns_on_the_second_record(tmp_path: Path) -> None:
    second = (
        GOOD.format(id="41")
        .replace("?id=41", "?id=40/")
        .replace("https://example", "http://www.example")
    )
    catalog = Catalog.load(
        catalog_dir(tmp_path, {"40.yaml": GOOD.format(id="40"), "41.yaml": second})
    )
    [diag] = catalog.diagnostics
    assert (diag.record_id, diag.field, diag.line) == ("41", "url", 2)
    assert "record 40" in diag.message


def test_cli_build_prints_warnings_with_location_and_succeeds(tmp_path: Path) -> None:
    text = GOOD.format(id="50").replace("[Health Equity]", "[Helth Equity]")
    root = catalog_dir(tmp_path, {"50.yaml": text})
    result = subprocess.run(
        [sys.executable, "-m", "resource_kg.cli", "build", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert (
        "warning: data/resources/50.yaml:10: record 50: field 'topics': unknown label 'Helth Equity'"
        in result.stderr
    )


def test_organizations_file_not_utf8_names_line(tmp_path: Path) -> None:
    root = catalog_dir(tmp_path, {"1.yaml": GOOD.format(id="1")})
    (root / "data" / "organizations.yaml").write_bytes(
        b"- id: mcn\n  name: Migrant Clinicians Network\n- id: x\n  name: Caf\xe9\n"
    )
    with pytest.raises(StructureError) as info:
        Catalog.load(root)
    assert (info.value.file, info.value.line) == ("data/organizations.yaml", 4)
    assert "UTF-8" in info.value.message
