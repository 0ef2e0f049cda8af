"""The synthetic catalog generator (bench/generate.py): deterministic, and its catalogs build
and validate with exactly the errors it planted. Catalogs here are invented by the generator
into temporary folders; nothing in them is real."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from resource_kg import Catalog
from resource_kg.records import read_records
from resource_kg.records.yamlfile import _fast_yaml_record, _yaml_record

ROOT = Path(__file__).resolve().parents[1]
GENERATE = ROOT / "bench" / "generate.py"
DAY = dt.date(2026, 11, 29)

#: How each planted kind shows in a build warning (written by hand from graph.py's messages).
BUILD_MESSAGE = {
    "unknown-label": "unknown label",
    "missing-title": "title is missing",
    "bad-year": "year",
    "duplicate-url": "same url as record",
}


def generate(out: Path, n: int = 50, seed: int = 7, fmt: str = "yaml") -> list[dict[str, str]]:
    result = subprocess.run(
        [sys.executable, str(GENERATE), str(n), "--seed", str(seed), "--out", str(out)]
        + ["--format", fmt],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    planted: list[dict[str, str]] = json.loads((out / "planted-errors.json").read_text())
    return planted


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def yaml_catalog(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    out = tmp_path_factory.mktemp("synthetic") / "cat"
    return out, generate(out)


def test_same_seed_gives_byte_identical_catalogs(tmp_path: Path) -> None:
    generate(tmp_path / "a")
    generate(tmp_path / "b")
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert len(a) == 50 + 3  # records, organizations.yaml, planted-errors.json, README.md
    assert a == b


def test_another_seed_gives_another_catalog(tmp_path: Path) -> None:
    generate(tmp_path / "a", seed=7)
    generate(tmp_path / "b", seed=8)
    assert tree(tmp_path / "a") != tree(tmp_path / "b")


def test_every_file_says_it_is_invented(yaml_catalog: tuple[Path, list[dict[str, str]]]) -> None:
    root, _ = yaml_catalog
    for path in [
        *(root / "data" / "resources").glob("*.yaml"),
        root / "data" / "organizations.yaml",
    ]:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# Invented") and "synthetic" in first, path
    assert "invented" in (root / "README.md").read_text(encoding="utf-8")


def test_one_error_of_each_kind_at_small_sizes(
    yaml_catalog: tuple[Path, list[dict[str, str]]],
) -> None:
    _, planted = yaml_catalog
    assert sorted(p["kind"] for p in planted) == sorted(BUILD_MESSAGE)


def test_build_warns_about_exactly_the_planted_errors(
    yaml_catalog: tuple[Path, list[dict[str, str]]],
) -> None:
    root, planted = yaml_catalog
    catalog = Catalog.load(root, today=DAY)
    assert len(catalog.records) == 50
    got = sorted((d.record_id, d.field) for d in catalog.diagnostics)
    assert got == sorted((p["record"], p["field"]) for p in planted)
    by_place = {(d.record_id, d.field): d.message for d in catalog.diagnostics}
    for p in planted:
        assert BUILD_MESSAGE[p["kind"]] in by_place[(p["record"], p["field"])], p


def test_jsonl_variant_holds_the_same_records(
    tmp_path: Path, yaml_catalog: tuple[Path, list[dict[str, str]]]
) -> None:
    root, planted = yaml_catalog
    planted_jsonl = generate(tmp_path / "j", fmt="jsonl")
    assert planted_jsonl == planted
    assert [p.name for p in (tmp_path / "j" / "data" / "resources").iterdir()] == ["catalog.jsonl"]
    from_yaml = Catalog.load(root, today=DAY)
    from_jsonl = Catalog.load(tmp_path / "j", today=DAY)
    assert [r.values for r in from_jsonl.records] == [r.values for r in from_yaml.records]
    assert from_jsonl.serialize_nquads() == from_yaml.serialize_nquads()


def test_fast_yaml_reader_agrees_with_the_full_parser(
    yaml_catalog: tuple[Path, list[dict[str, str]]],
) -> None:
    """records.py reads simple files without the YAML parser; both must give the same record."""
    import yaml

    root, _ = yaml_catalog
    files = sorted((root / "data" / "resources").glob("*.yaml"))
    files += sorted((ROOT / "data" / "resources").glob("*.yaml"))
    for path in files:
        text = path.read_text(encoding="utf-8")
        fast = _fast_yaml_record(path, text)
        assert fast is not None, path  # these files take the fast path
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        assert node is not None
        slow = _yaml_record(node, path)
        assert (fast.id, fast.values, fast.line, fast.field_lines) == (
            slow.id,
            slow.values,
            slow.line,
            slow.field_lines,
        ), path
        assert list(fast.values) == list(slow.values)
    assert len(read_records(root / "data" / "resources")) == 50


@pytest.mark.skipif(
    importlib.util.find_spec("resource_kg.validate") is None,
    reason="resource_kg.validate does not exist yet (issue 3)",
)
def test_validation_finds_exactly_the_planted_errors(
    yaml_catalog: tuple[Path, list[dict[str, str]]],
) -> None:
    from resource_kg.validate import validate

    root, planted = yaml_catalog
    report = validate(Catalog.load(root, today=DAY), on=DAY)
    violations = sorted({(f.id, f.field) for f in report.findings if f.severity == "Violation"})
    expected = {(p["record"], p["field"]) for p in planted}
    # A repeated url is a fault of both records: validation names the earlier one too.
    expected |= {(p["same_as"], "url") for p in planted if p["kind"] == "duplicate-url"}
    assert violations == sorted(expected)


def test_pages_are_the_whole_answer_cut_and_the_store_agrees(
    yaml_catalog: tuple[Path, list[dict[str, str]]],
) -> None:
    """On a generated catalog (broad concepts, many ties): each limit is the first rows of the
    whole answer (every ORDER BY is total), and the on-disk catalog store answers each stored
    question as the in-memory store does."""
    from resource_kg.query import EmbeddedEngine, load_queries, run_stored
    from resource_kg.store.querystore import open_store

    root, _planted = yaml_catalog
    catalog = Catalog.load(root)
    engine = EmbeddedEngine(catalog.store, catalog.graphs)
    stored = load_queries(ROOT / "queries")
    cases = {
        "audience-topic": {"audience": "PCAs", "topic": "housing"},
        "due-for-review": {"before": "2024-06-01"},
        "language": {"language": "Spanish"},
        "population": {"population": "330(h)"},
        "whats-new": {"since": "2020-01-01"},
        "related": {"resource": sorted(r.id for r in catalog.records)[3]},
        "keyword-pairs": {},
    }
    for name, params in cases.items():
        whole = run_stored(engine, stored[name], {**params, "limit": "all"}, catalog.lexicon, DAY)
        assert whole.rows, name  # the generated catalog has matches for each
        for limit in (1, 4, 7, 30):
            got = run_stored(
                engine, stored[name], {**params, "limit": str(limit)}, catalog.lexicon, DAY
            )
            assert got.values() == whole.values()[:limit], (name, limit)
    with open_store(root) as store:
        on_disk = EmbeddedEngine(store, catalog.graphs)
        for name, query in stored.items():
            params = cases.get(name, {"scheme": "keyword"} if name == "concept-usage" else {})
            rows = run_stored(on_disk, query, params, catalog.lexicon, DAY).values()
            assert rows == run_stored(engine, query, params, catalog.lexicon, DAY).values(), name
