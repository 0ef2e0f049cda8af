"""`rkg new [ID]`: a commented record with every field, never over an existing one.

Runs the real `rkg` on a copy of the bundled catalog and reads the written file back with the
record reader, the build and validation.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from resource_kg import Catalog, validate
from resource_kg.records import FIELDS

ROOT = Path(__file__).resolve().parents[1]
RKG = str(Path(sys.executable).parent / "rkg")


def rkg(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RKG, *args], cwd=cwd, capture_output=True, text=True, check=False)


def bundled(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(ROOT / "data", root / "data")
    return root


def test_new_writes_every_field_commented_and_the_catalog_still_builds(tmp_path: Path) -> None:
    root = bundled(tmp_path)
    res = rkg("new", "4200", cwd=root)
    assert res.returncode == 0, res.stderr
    path = root / "data/resources/4200.yaml"
    assert res.stderr.strip() == "wrote data/resources/4200.yaml: fill it in, then run rkg validate"
    text = path.read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    assert list(doc) == list(FIELDS)
    lines = text.splitlines()
    for name in FIELDS:  # each field under its own comment
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{name}:"))
        assert lines[at - 1].startswith("# ") and len(lines[at - 1]) > 8, name
    assert doc["id"] == 4200 and doc["status"] == "active"
    assert rkg("build", cwd=root).returncode == 0
    catalog = Catalog.load(root)
    record = catalog.record("4200")
    assert record is not None and record.values["status"] == "active"
    # validation names what is left, on the template's own lines
    found = {
        f.field: f.line
        for f in validate(catalog).findings
        if f.id == "4200" and f.severity == "Violation"
    }
    assert set(found) == {
        "title", "year", "types", "primary_audience", "languages", "developed_by", "topics",
    }  # fmt: skip
    assert all(lines[found[name] - 1].startswith(f"{name}:") for name in found)


def test_new_without_id_takes_the_next_number(tmp_path: Path) -> None:
    root = bundled(tmp_path)
    assert rkg("new", cwd=root).returncode == 0
    assert (root / "data/resources/4185.yaml").is_file()  # after 3182, 3736, 4184


def test_new_never_overwrites_a_record(tmp_path: Path) -> None:
    root = bundled(tmp_path)
    record = root / "data/resources/3182.yaml"
    before = record.read_bytes()
    res = rkg("new", "3182", cwd=root)
    assert res.returncode == 2
    assert res.stderr.splitlines() == [
        "error: data/resources/3182.yaml: field 'id': record 3182 exists already; edit it, or "
        "choose another id"
    ]
    assert record.read_bytes() == before
    assert sorted(p.name for p in record.parent.iterdir()) == [
        "3182.yaml", "3736.yaml", "4184.yaml",
    ]  # fmt: skip


def test_new_checks_the_id(tmp_path: Path) -> None:
    root = bundled(tmp_path)
    for bad in ("bad id", "../escape", "x" * 201):
        res = rkg("new", bad, cwd=root)
        assert res.returncode == 2, bad
        assert len(res.stderr.splitlines()) == 1 and res.stderr.startswith("error: "), bad
    assert sorted(p.name for p in (root / "data/resources").iterdir()) == [
        "3182.yaml", "3736.yaml", "4184.yaml",
    ]  # fmt: skip
    assert not (root / "data/escape.yaml").exists()


def test_an_id_with_leading_zeros_stays_as_written(tmp_path: Path) -> None:
    root = bundled(tmp_path)
    assert rkg("new", "0042", cwd=root).returncode == 0
    assert Catalog.load(root).record("0042") is not None
