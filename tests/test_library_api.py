"""The library as a Python caller uses it: `from resource_kg import Catalog, validate, publish`,
typed parameters on `Catalog.query`, typed rows, errors worded for a keyword argument.

Each call is compared with the CLI (a real `rkg` subprocess) on the same catalog: the invented
five-resource catalog of tests/fixtures/query, and a copy of the bundled catalog to publish.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from resource_kg import Catalog, Entity, PublishRefused, Report, Row, publish, validate
from resource_kg.errors import QueryError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIXTURE = HERE / "fixtures" / "query"
RKG = str(Path(sys.executable).parent / "rkg")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(FIXTURE)


def cli_rows(name: str, *params: str, root: Path = FIXTURE) -> tuple[int, Any, str]:
    args = [RKG, "query", name, str(root), "--format", "json"]
    for p in params:
        args += ["-p", p]
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    return proc.returncode, json.loads(proc.stdout) if proc.returncode == 0 else None, proc.stderr


def test_the_three_names_import_from_the_package(catalog: Catalog) -> None:
    """`validate` and `publish` are the stages' functions (loaded on first call), whatever
    else is imported; the subpackages' modules stay importable by name."""
    import inspect

    import resource_kg
    import resource_kg.publish.release
    import resource_kg.validate.report
    from resource_kg.validate.run import validate as run_validate

    assert resource_kg.validate is validate and resource_kg.publish is publish
    assert inspect.isfunction(validate) and inspect.isfunction(publish)
    day = dt.date(2025, 6, 1)
    assert validate(catalog, day).findings == run_validate(catalog, day).findings
    from resource_kg.validate.report import Report as ReportClass

    assert Report is ReportClass


def test_query_with_an_int_limit_gives_the_cli_rows_typed(catalog: Catalog) -> None:
    rows = catalog.query("language", language="English", limit=2)
    code, expected, err = cli_rows("language", "language=English", "limit=2")
    assert code == 0, err
    assert rows == expected
    assert [r["id"] for r in rows] == ["r1", "r2"]
    assert all(isinstance(r, Row) for r in rows)
    first = rows[0]
    label = first["resourceLabel"]
    assert isinstance(label, str) and label
    assert first.entities["resource"] == Entity("https://w3id.org/resource-kg/resource/r1", label)
    assert first.iri("resource") == first["resource"]
    assert first.label("resource") == first["resourceLabel"]
    assert first.iri("id") is None  # a literal column has no IRI
    assert catalog.query("language", language="English", limit="2") == rows


def test_query_with_a_date_equals_the_same_date_as_text(catalog: Catalog) -> None:
    as_date = catalog.query("due-for-review", before=dt.date(2024, 6, 1), limit=1)
    code, expected, err = cli_rows("due-for-review", "before=2024-06-01", "limit=1")
    assert code == 0, err
    assert as_date == expected
    assert [r["id"] for r in as_date] == ["r3"]


def test_a_list_of_labels_gives_the_rows_of_any(catalog: Catalog) -> None:
    spanish = {str(r["id"]) for r in catalog.query("language", language="es")}
    english = {str(r["id"]) for r in catalog.query("language", language="en")}
    both = [str(r["id"]) for r in catalog.query("language", language=["es", "en"])]
    assert spanish - english and english - spanish  # the list adds rows to each
    assert sorted(set(both)) == sorted(spanish | english)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "query 'language' needs parameter 'language', a language (example: Spanish): "
         "add language=VALUE"),
        ({"language": "es", "limit": "ten"}, "parameter 'limit': 'ten' is not a row limit"),
        ({"language": "es", "limit": True}, "parameter 'limit': True is not a label, number"),
        ({"language": "es", "limit": [1, 2]}, "parameter 'limit' takes one value"),
        ({"language": []}, "parameter 'language': the list is empty"),
        ({"language": 1.5}, "parameter 'language': 1.5 is not a label, number or date"),
    ],
)  # fmt: skip
def test_errors_name_the_keyword_not_the_cli_option(
    catalog: Catalog, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(QueryError) as info:
        catalog.query("language", **params)
    assert str(info.value).startswith(message)
    assert "--param" not in str(info.value)


def test_the_cli_still_names_its_option() -> None:
    code, _, err = cli_rows("language")
    assert code == 2
    assert err.strip().endswith("add --param language=VALUE")


def test_datetime_is_refused_with_a_clear_message(catalog: Catalog) -> None:
    with pytest.raises(QueryError, match="give a date"):
        catalog.query("due-for-review", before=dt.datetime(2024, 6, 1, 12, 0))


def test_validate_and_publish_from_python(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(ROOT / "data", root / "data")
    day = dt.date(2025, 6, 1)
    catalog = Catalog.load(root, today=day)
    report = validate(catalog, day)
    assert isinstance(report, Report)
    assert report.conforms("violation") and report.counts()["Warning"] == 10
    release = publish(catalog, root / "releases", version="1.0.0", date=day)
    assert (release.path / "SHA256SUMS").is_file()
    # a record with a Violation: publish refuses and hands back what it found
    record = root / "data/resources/3182.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("year: ", "year: x"))
    broken = Catalog.load(root, today=day)
    with pytest.raises(PublishRefused) as info:
        publish(broken, root / "releases", version="1.0.1", date=day)
    assert [(f.id, f.field) for f in info.value.violations.findings] == [("3182", "year")]
    assert not (root / "releases/1.0.1").exists()
