"""A fresh load shared with forked children (`store.scanning.forked_scan` over
`store.forked.ForkedParts`) gives what the plain one-process load gives: the same catalog, the
same rows kept in the store, the same error at the same file. Catalogs are invented
(bench/generate.py), with retired records whose replaced_by names another record."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from resource_kg.errors import StructureError
from resource_kg.store import forked, incremental, scanning
from resource_kg.store.dumps import write_recording
from resource_kg.store.entries import build_entry
from resource_kg.store.fingerprint import HashMemo
from resource_kg.tagging import Tagger

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 11, 1)


def _generate(out: Path, n: int, fmt: str) -> Path:
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), str(n), "--seed", "3"]
        + ["--out", str(out), "--format", fmt],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def yaml_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """240 invented records, one YAML file each."""
    return _generate(tmp_path_factory.mktemp("scan") / "yaml", 240, "yaml")


@pytest.fixture(scope="module")
def jsonl_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """240 invented records in JSON Lines files (several records a file)."""
    return _generate(tmp_path_factory.mktemp("scan") / "jsonl", 240, "jsonl")


def _load(
    root: Path, cache: Path, workers: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[incremental.StoredCatalog, dict[str, list[Any]]]:
    """A fresh load (an empty store in `cache`) with `workers` processes, and the rows kept."""
    monkeypatch.setenv("RKG_WORKERS", str(workers))
    monkeypatch.setenv("RKG_CACHE_DIR", str(cache))
    monkeypatch.setattr(scanning, "FORK_FILES", 1)
    catalog = incremental.load(root, today=DAY)
    db = sqlite3.connect(catalog.state_folder / "state.sqlite")
    try:
        rows = {
            "files": db.execute("SELECT path, sha, entries FROM files ORDER BY path").fetchall(),
            "stats": db.execute(
                "SELECT path, size, mtime, ctime, ino, dev, sha FROM file_stats ORDER BY path"
            ).fetchall(),
            "meta": db.execute("SELECT * FROM meta WHERE key = 'build_context'").fetchall(),
        }
    finally:
        db.close()
    return catalog, rows


def _picture(catalog: incremental.StoredCatalog) -> dict[str, Any]:
    """What a load gives, as comparable values."""
    return {
        "records": [(r.id, r.file, r.line, r.values, r.field_lines) for r in catalog.records],
        "keys": catalog.quad_table.keys,
        "diagnostics": [str(d) for d in catalog.diagnostics],
        "hashes": list(catalog.file_hashes.items()),
        "entries": {
            rid: (e.keys, e.derived, e.digest, e.quads_digest, e.replaced_known)
            for rid, e in catalog.entries.items()
        },
        "sources": sorted((k, v.file, v.line) for k, v in catalog.sources.items()),
    }


@pytest.mark.parametrize("kind", ["yaml", "jsonl"])
def test_a_fresh_load_with_a_forked_child_equals_the_plain_load(
    kind: str,
    yaml_catalog: Path,
    jsonl_catalog: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = yaml_catalog if kind == "yaml" else jsonl_catalog
    assert forked.can_fork(), "this test needs a process that may fork (no other thread)"
    plain, plain_rows = _load(root, tmp_path / "plain", 1, monkeypatch)
    shared, shared_rows = _load(root, tmp_path / "forked", 2, monkeypatch)
    assert any(r.get_text("replaced_by") for r in shared.records)  # built after the scan
    assert _picture(shared) == _picture(plain)
    assert shared_rows == plain_rows  # entries byte-identical, the same stats kept
    # and the store written by the shared load serves the next (plain) load as its own
    again, _ = _load(root, tmp_path / "forked", 1, monkeypatch)
    assert _picture(again) == _picture(plain)


def test_the_children_build_the_later_files(
    yaml_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forked scan itself: files after the first part come built by a child, and their
    records and entries are those built here."""
    monkeypatch.setenv("RKG_WORKERS", "3")
    monkeypatch.setattr(scanning, "FORK_FILES", 1)
    up = incremental.setup(yaml_catalog, DAY)
    db = sqlite3.connect(":memory:")
    memo = HashMemo(db)
    texts: dict[str, str] = {}
    items = list(
        scanning.forked_scan(yaml_catalog, up.paths, memo, up.builder, up.lexicon, {}, texts)
    )
    listed = scanning.list_files(up.paths.resources, yaml_catalog)
    assert [i[0] for i in items] == [shown for shown, _ in listed]
    by_child = [i for i in items if i[3] is not None]
    assert len(by_child) > len(items) // 2  # two of three parts
    assert all(i[3] is None and i[2] is not None for i in items[: len(items) - len(by_child)])
    here = incremental.setup(yaml_catalog, DAY)
    tagger = Tagger(here.lexicon)
    for shown, sha, _data, pre in by_child:
        assert pre is not None
        data = (yaml_catalog / shown).read_bytes()
        assert sha == HashMemo(db).read(str(yaml_catalog / shown), shown)[0]
        records = scanning.read_records_of(yaml_catalog, shown, data)
        assert pre[0] == records
        for record, entry in zip(*pre, strict=True):
            if record.get_text("replaced_by") is None:
                assert entry == build_entry(here.builder, tagger, record, set())
            else:
                assert entry is None
        assert shown in memo.fresh and shown in memo.present
    # a file's encoded entries are kept when the child built all its records
    alone = {i[0] for i in by_child if i[3] and all(e is not None for e in i[3][1])}
    assert set(texts) == alone and len(alone) < len(by_child)


@pytest.mark.parametrize("where", ["first part", "child's part"])
def test_a_broken_file_gives_the_plain_loads_error(
    where: str, yaml_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(yaml_catalog, root)
    files = sorted((root / "data" / "resources").glob("*.yaml"))
    broken = files[10] if where == "first part" else files[-20]
    broken.write_text("id: [unclosed\n", encoding="utf-8")
    errors = []
    for workers in (1, 2):
        with pytest.raises(StructureError) as caught:
            _load(root, tmp_path / f"cache-{workers}", workers, monkeypatch)
        errors.append((str(caught.value), caught.value.file, caught.value.line))
    assert errors[0] == errors[1]
    assert broken.name in str(errors[0][1])


def test_an_id_used_in_both_parts_gives_the_plain_loads_error(
    yaml_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(yaml_catalog, root)
    files = sorted((root / "data" / "resources").glob("*.yaml"))
    first_id = files[0].stem
    last = files[-1]
    text = last.read_text(encoding="utf-8")
    last.write_text(text.replace(f"id: {last.stem}", f"id: {first_id}"), encoding="utf-8")
    errors = []
    for workers in (1, 2):
        with pytest.raises(StructureError) as caught:
            _load(root, tmp_path / f"cache-{workers}", workers, monkeypatch)
        errors.append(str(caught.value))
    assert errors[0] == errors[1]
    assert f"id {first_id} is used twice" in errors[0]


# ---------------------------------------------------------------- ForkedParts alone


def _double(n: int) -> bytes | None:
    return orjson.dumps(n * 2)


def _take_all(items: list[int], work: Callable[[int], bytes | None], parts: int) -> list[list[int]]:
    """Each part's results as the children gave them (the caller's own part: done here)."""
    with forked.ForkedParts(items, work, parts, 1.5) as split:
        out = [[orjson.loads(_double(i) or b"") for i in split.mine]]
        split.drain()
        for index in range(1, len(split.parts)):
            out.append([orjson.loads(b) for b in split.results(index)])
    return out


def test_parts_cover_the_items_in_order_and_children_do_theirs() -> None:
    items = list(range(1000))
    got = _take_all(items, _double, 3)
    assert [x for part in got for x in part] == [2 * i for i in items]
    assert len(got) == 3 and len(got[0]) > len(got[1])  # the first part is 1.5 times longer


def test_a_child_that_stops_or_dies_gives_what_it_finished() -> None:
    def stops(n: int) -> bytes | None:
        return None if n == 700 else _double(n)

    def fails(n: int) -> bytes | None:
        if n == 650:
            raise ValueError("cannot")
        return _double(n)

    def dies(n: int) -> bytes | None:
        if n == 800:
            os._exit(3)  # killed: what it had not written yet is lost, never half a result
        return orjson.dumps("x" * 12000) if n >= 700 else _double(n)

    items = list(range(1000))  # the child's part: 600-999 (the first part is 1.5 times longer)
    for work, upto in ((stops, 700), (fails, 650)):
        got = _take_all(items, work, 2)
        assert [x for part in got for x in part] == [2 * i for i in range(upto)]
    second = _take_all(items, dies, 2)[1]
    expected = [2 * i if i < 700 else "x" * 12000 for i in range(600, 800)]
    assert 100 <= len(second) < 200 and second == expected[: len(second)]


def test_nothing_is_forked_while_another_thread_runs() -> None:
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        with forked.ForkedParts(list(range(10)), _double, 2) as split:
            assert len(split.parts) == 1 and list(split.mine) == list(range(10))
    finally:
        stop.set()
        thread.join()


# ---------------------------------------------------------------- the dumps after a forked load


def _dumps(
    root: Path, cache: Path, out: Path, workers: int, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """A fresh store-backed build with `workers` processes: its files and the blocks kept."""
    catalog, _rows = _load(root, cache, workers, monkeypatch)
    write_recording(catalog, out)
    db = sqlite3.connect(catalog.state_folder / "state.sqlite")
    try:
        kept = {
            table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()  # noqa: S608
            for table in ("trig_blocks", "ttl_blocks", "dump_files")
        }
    finally:
        db.close()
    files = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    return {"files": files, **kept}


def test_the_dumps_after_a_forked_load_equal_the_plain_build(
    yaml_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert forked.can_fork()
    plain = _dumps(yaml_catalog, tmp_path / "c1", tmp_path / "d1", 1, monkeypatch)
    shared = _dumps(yaml_catalog, tmp_path / "c2", tmp_path / "d2", 2, monkeypatch)
    assert plain["ttl_blocks"] and shared == plain
    assert sorted(plain["files"]) == ["catalog.sha256", "catalog.trig", "catalog.ttl"]
