"""Snapshots of the query store (`rkg serve`'s workers read them): each holds exactly its
version's quads, whatever the store does afterwards, and nothing is left behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox

from resource_kg import Catalog
from resource_kg.store import incremental, querystore, snapshots
from resource_kg.store.state import store_dir

REPO = Path(__file__).resolve().parent.parent


def quads(store: ox.Store) -> set[str]:
    return {str(q) for q in store}


def fresh_quads(root: Path) -> set[str]:
    """The quads of a build from scratch (no store involved)."""
    return {str(q) for q in Catalog.load(root).quads}


def test_a_snapshot_keeps_its_version_while_the_store_follows_edits(tmp_path: Path) -> None:
    """After an edit, a deletion and a new record the store moves on (record by record); the
    snapshot taken before still holds the old version, the one taken after the new: each
    equal to a fresh build of its folder."""
    root = tmp_path / "catalog"
    shutil.copytree(REPO / "data", root / "data")
    before = fresh_quads(root)
    old = snapshots.take(incremental.load(root))
    folder = root / "data" / "resources"
    text = (folder / "4184.yaml").read_text(encoding="utf-8")
    (folder / "4184.yaml").write_text(text.replace('title: "Advancing', 'title: "Changed', 1))
    (folder / "3182.yaml").unlink()
    (folder / "7000.yaml").write_text(text.replace("4184", "7000"), encoding="utf-8")
    after = fresh_quads(root)
    assert before != after
    new = snapshots.take(incremental.load(root))
    assert new.done == "updated 3 record(s)"  # record by record, not rebuilt
    try:
        assert quads(old.open()) == before
        assert quads(new.open()) == after
        # `rkg query` in another terminal updates the store again: the snapshots stay.
        (folder / "7000.yaml").unlink()
        querystore.refresh(root)
        assert quads(old.open()) == before and quads(new.open()) == after
        assert old.path.parent == new.path.parent == store_dir(root) / snapshots.SNAPSHOTS
    finally:
        old.discard()
        new.discard()
    assert not old.path.exists() and not new.path.exists()


def test_a_catalog_not_loaded_through_the_store_gets_a_temporary_one(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(REPO / "data", root / "data")
    catalog = Catalog.load(root)
    snap = snapshots.take(catalog)
    try:
        assert snap.done == "temporary"
        assert quads(snap.open()) == {str(q) for q in catalog.quads}
        assert not store_dir(root).exists()  # nothing written to the catalog's store
    finally:
        snap.discard()
    assert not snap.path.parent.exists()


def test_snapshots_of_processes_gone_are_cleared(tmp_path: Path) -> None:
    parent = tmp_path / "snapshots"
    parent.mkdir()
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = parent / f"{gone.stdout.strip()}-1"
    mine = parent / f"{os.getpid()}-7"
    living = parent / f"{os.getppid()}-2"
    other = parent / "notes"
    for path in (dead, mine, living, other):
        path.mkdir()
    assert snapshots.clear_stale(parent) == [dead]
    assert sorted(p.name for p in parent.iterdir()) == sorted(p.name for p in (mine, living, other))


def test_clearing_the_store_leaves_a_running_servers_snapshot(tmp_path: Path) -> None:
    """`rkg store --clear` while a server reads its snapshot: the store goes, the snapshot of
    the living process stays readable, one of a process gone is removed."""
    root = tmp_path / "catalog"
    shutil.copytree(REPO / "data", root / "data")
    live = snapshots.take(incremental.load(root))
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = live.path.parent / f"{gone.stdout.strip()}-3"
    dead.mkdir()
    rkg = str(Path(sys.executable).parent / "rkg")
    subprocess.run([rkg, "store", str(root), "--clear"], check=True, capture_output=True)
    try:
        assert not (store_dir(root) / "state.sqlite").exists()
        assert not (store_dir(root) / querystore.STORE_FOLDER).exists()
        assert not dead.exists()
        assert quads(live.open()) == fresh_quads(root)
    finally:
        live.discard()


def _store_quads(root: Path) -> set[str]:
    store = ox.Store.read_only(str(store_dir(root) / querystore.STORE_FOLDER))
    try:
        return quads(store)
    finally:
        del store


def test_sync_from_the_previous_catalog_equals_the_full_compare(tmp_path: Path) -> None:
    """The live preview's path (`sync(new, previous)`: only the records that differ between
    the two catalogs) leaves the store a fresh build gives, as the record-by-record compare
    does; once another process wrote the store, the previous catalog is not trusted."""
    root = tmp_path / "catalog"
    shutil.copytree(REPO / "data", root / "data")
    folder = root / "data" / "resources"
    first = incremental.load(root)
    assert querystore.sync(first)[1] == "built" and first.store_token
    original = (folder / "3182.yaml").read_text(encoding="utf-8")
    text = (folder / "4184.yaml").read_text(encoding="utf-8")
    (folder / "4184.yaml").write_text(text.replace('title: "Advancing', 'title: "Changed', 1))
    second = incremental.load(root, previous=first)
    assert querystore.sync(second, first)[1] == "updated 1 record(s)"
    assert _store_quads(root) == fresh_quads(root)
    # The plain path on the same input: a copy of the folder synced without a previous one.
    plain = tmp_path / "plain"
    shutil.copytree(root / "data", plain / "data")
    querystore.sync(incremental.load(plain))
    assert _store_quads(plain) == _store_quads(root)
    # Another process (`rkg query` after an edit) writes the store; the edit is then undone.
    (folder / "3182.yaml").write_text(original.replace("title: Heat", "title: Cold", 1))
    querystore.refresh(root)
    (folder / "3182.yaml").write_text(original, encoding="utf-8")
    third = incremental.load(root, previous=second)
    assert querystore.changed_records(second, third) == ([], [])  # all lent from `second`
    done = querystore.sync(third, second)[1]
    assert done == "updated 1 record(s)"  # found by comparing every record, not by the delta
    assert _store_quads(root) == fresh_quads(root)
