"""The build cache gives the catalog a fresh build gives, whatever changed between runs."""

from __future__ import annotations

import shutil
from pathlib import Path

from resource_kg import Catalog, buildcache

FIX = Path(__file__).resolve().parent / "fixtures" / "validate"


def same_as_fresh(root: Path) -> Catalog:
    """Load through the cache and check it against Catalog.load: trig, records, warnings."""
    fresh = Catalog.load(root)
    cached = buildcache.load(root)
    assert cached.serialize_trig() == fresh.serialize_trig()
    assert cached.serialize_turtle() == fresh.serialize_turtle()
    assert cached.diagnostics == fresh.diagnostics
    assert [(r.id, r.file, r.line, r.values, r.field_lines) for r in cached.records] == [
        (r.id, r.file, r.line, r.values, r.field_lines) for r in fresh.records
    ]
    assert cached.sources == fresh.sources
    return cached


def copy(case: str, tmp_path: Path) -> Path:
    root = tmp_path / Path(case).name
    shutil.copytree(FIX / case, root)
    return root


def test_cold_and_warm_cache_equal_a_fresh_build(tmp_path: Path) -> None:
    root = copy("invalid/curation-duplicates", tmp_path)
    assert not buildcache.cache_path(root).exists()
    same_as_fresh(root)
    assert len(list(buildcache.cache_path(root).glob("*.pickle"))) == buildcache.SHARDS
    warm = same_as_fresh(root)
    # the duplicate url warning depends on another record: recomputed, never cached stale
    assert [d.record_id for d in warm.diagnostics if d.field == "url"] == ["r2"]


def test_edit_add_and_remove_record_files(tmp_path: Path) -> None:
    root = copy("invalid/curation-duplicates", tmp_path)
    resources = root / "data" / "resources"
    same_as_fresh(root)
    r3 = resources / "r3.yaml"
    r3.write_text(r3.read_text().replace("year: 2020", "year: 1901"), encoding="utf-8")
    edited = same_as_fresh(root)
    assert any(d.record_id == "r3" and d.field == "year" for d in edited.diagnostics)
    (resources / "r1.yaml").unlink()  # r2 now holds the first copy of the url
    removed = same_as_fresh(root)
    assert [d for d in removed.diagnostics if d.field == "url"] == []
    shutil.copy(FIX / "invalid/curation-duplicates/data/resources/r1.yaml", resources / "r9.yaml")
    text = (resources / "r9.yaml").read_text().replace("id: r1", "id: r9")
    (resources / "r9.yaml").write_text(text, encoding="utf-8")
    added = same_as_fresh(root)
    assert [d.record_id for d in added.diagnostics if d.field == "url"] == ["r9"]


def test_replaced_by_follows_the_records_that_exist(tmp_path: Path) -> None:
    root = copy("invalid/vocabulary-wrong-scheme", tmp_path)
    resources = root / "data" / "resources"
    first = same_as_fresh(root)
    assert any(d.field == "replaced_by" for d in first.diagnostics)  # names r9, not a record
    text = (resources / "r1.yaml").read_text().replace("id: r1", "id: r9")
    (resources / "r9.yaml").write_text(text.replace("replaced_by: r9", ""), encoding="utf-8")
    now = same_as_fresh(root)  # r1 is unchanged on disk, but its replacement now exists
    assert not any(d.record_id == "r1" and d.field == "replaced_by" for d in now.diagnostics)


def test_a_changed_vocabulary_drops_the_cache(tmp_path: Path) -> None:
    root = copy("invalid/curation-duplicates", tmp_path)
    shutil.copytree(Path(__file__).resolve().parents[1] / "ontology", root / "ontology")
    same_as_fresh(root)
    audiences = root / "ontology" / "vocab" / "audiences.ttl"
    audiences.write_text(
        audiences.read_text(encoding="utf-8").replace('"Clinicians"@en', '"Clinical staff"@en'),
        encoding="utf-8",
    )
    changed = same_as_fresh(root)
    assert any("Clinicians" in d.message for d in changed.diagnostics)


def test_file_listing_equals_record_files(tmp_path: Path) -> None:
    from resource_kg.records import record_files

    folder = tmp_path / "resources"
    for name in ("b.yaml", "a.YML", "sub/z.csv", "sub-dir/y.jsonl", "sub/deeper/x.yaml", "n.txt"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("id: x\n", encoding="utf-8")
    listed = [tmp_path / shown for shown, _ in buildcache._list_files(folder, tmp_path)]
    assert listed == record_files(folder)
    assert len(listed) == 5
