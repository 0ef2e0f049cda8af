"""The live preview's fast path equals the plain one: a catalog loaded with an earlier load's
entries equals a fresh load, and pages updated from the previous model (`site.delta`) equal
pages built whole, page for page and description for description, after random edits."""

from __future__ import annotations

import datetime as dt
import random
import shutil
import subprocess
import sys
import time
from concurrent.futures import Future
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import pytest

from resource_kg import Catalog
from resource_kg.site import pages as site_pages
from resource_kg.store import delta, incremental, scanning
from resource_kg.store.fingerprint import HashMemo
from resource_kg.store.querystore import changed_records
from resource_kg.store.state import connect, store_dir
from resource_kg.validate import FORMATS, validate
from resource_kg.web import live
from resource_kg.web.pages import Pages

ROOT = Path(__file__).resolve().parent.parent
URL = "http://127.0.0.1:9/"
MODEL_MAPS = (
    "facts",
    "labels",
    "derived",
    "tags",
    "keys_of",
    "entities",
    "inverse",
    "inverse_derived",
)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An invented catalog of 150 resources (bench/generate.py), shared concepts and orgs."""
    out = tmp_path_factory.mktemp("delta") / "catalog"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), "150", "--seed", "5", "--out", out],
        check=True,
        capture_output=True,
    )
    return out


def edit(root: Path, rng: random.Random) -> str:
    """One curator edit of a random record's title, topics, audience, keywords or text."""
    files = sorted((root / "data" / "resources").glob("*.yaml"))
    path = rng.choice(files)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kind = rng.choice(["title", "topic", "audience", "keyword", "summary", "drop-list"])
    out: list[str] = []
    for line in lines:
        if kind == "title" and line.startswith("title:"):
            line = (
                f"title: {rng.choice(['Aaa first', 'Zzz last', 'Invented'])} {rng.randrange(9)}\n"
            )
        elif kind == "summary" and line.startswith("summary:"):
            line = "summary: Invented text on migratory agricultural workers and public housing.\n"
        out.append(line)
        if kind == "topic" and line.startswith("topics:"):
            out.append(f"  - {rng.choice(['Housing', 'Clinical Issues', 'Health Equity'])}\n")
        elif kind == "audience" and line.startswith("primary_audience:"):
            out.append(f"  - {rng.choice(['PCAs', 'Clinicians', 'Board of Directors'])}\n")
        elif kind == "keyword" and line.startswith("keywords:"):
            out.append(f"  - {rng.choice(['Farmworkers', 'Homelessness', 'Heat'])}\n")
    if kind == "drop-list":  # every keyword and subtopic goes
        at = [i for i, x in enumerate(out) if x.startswith(("subtopics:", "keywords:"))]
        for i in reversed(at):
            end = i + 1
            while end < len(out) and out[end].startswith("  - "):
                end += 1
            del out[i:end]
    path.write_text("".join(out), encoding="utf-8")
    return path.stem


def assert_pages_equal(updated: Pages, fresh: Pages) -> None:
    for name in MODEL_MAPS:
        assert getattr(updated.model, name) == getattr(fresh.model, name), name
    for name in MODEL_MAPS[-2:]:  # the lists' order decides ties on the pages
        assert list(getattr(updated.model, name).items()) == list(
            getattr(fresh.model, name).items()
        )
    assert updated.targets.keys() == fresh.targets.keys()
    paged = 0
    for path, target in fresh.targets.items():
        mine = updated.targets[path]
        assert (mine.iri, mine.page) == (target.iri, target.page)
        assert updated.page(mine, URL) == fresh.page(target, URL), path
        for media in ("text/turtle", "application/ld+json"):
            assert updated.describe(mine, media) == fresh.describe(target, media), path
        second = fresh.find(path + "/page-2")
        assert (updated.find(path + "/page-2") is None) == (second is None)
        if second is not None:
            assert updated.page(second, URL) == fresh.page(second, URL)
            paged += 1
    assert paged, "some concept list runs to a second page"
    assert updated.index(URL) == fresh.index(URL)


def test_a_load_lent_an_earlier_one_equals_a_fresh_load(generated: Path, tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    subprocess.run(["cp", "-r", str(generated), str(root)], check=True)
    rng = random.Random(11)
    previous = incremental.load(root)
    for _ in range(4):
        for _ in range(rng.randrange(1, 4)):
            edit(root, rng)
        lent = incremental.load(root, previous=previous)
        fresh = Catalog.load(root)
        assert lent.serialize_trig() == fresh.serialize_trig()
        assert lent.diagnostics == fresh.diagnostics
        assert (
            lent.validation_parts.per_record == incremental.load(root).validation_parts.per_record
        )
        unchanged = [rid for rid in lent.entries if lent.entries[rid] is previous.entries.get(rid)]
        assert len(unchanged) >= len(lent.entries) - 4  # the others' entries were lent, not decoded
        previous = lent


def test_a_load_told_which_files_changed_equals_a_fresh_load(
    generated: Path, tmp_path: Path
) -> None:
    """The live preview's change events name the saved files: edits, an addition, a deletion,
    a file in a new subfolder; each such load equals a fresh one."""
    root = tmp_path / "catalog"
    subprocess.run(["cp", "-r", str(generated), str(root)], check=True)
    folder = root / "data" / "resources"
    rng = random.Random(8)
    previous = incremental.load(root)
    for step in range(4):
        names = {f"data/resources/{edit(root, rng)}.yaml" for _ in range(rng.randrange(1, 3))}
        if step == 1:
            victim = sorted(folder.glob("*.yaml"))[5]
            victim.unlink()
            names.add(f"data/resources/{victim.name}")
        if step == 2:
            text = sorted(folder.glob("*.yaml"))[0].read_text(encoding="utf-8")
            rid = text.split("\nid: ", 1)[1].split("\n", 1)[0]
            (folder / "aaa-added.yaml").write_text(
                text.replace(f"id: {rid}", "id: invented-added"), encoding="utf-8"
            )
            names.add("data/resources/aaa-added.yaml")
        told = incremental.load(root, previous=previous, changed=names)
        with connect(store_dir(root)) as db:  # the unchanged files' identities are kept
            (kept,) = db.execute("SELECT count(*) FROM file_stats").fetchone()
        assert kept == len(told.file_hashes)
        fresh = Catalog.load(root)
        assert told.serialize_trig() == fresh.serialize_trig()
        assert told.diagnostics == fresh.diagnostics
        assert [(r.id, r.file) for r in told.records] == [(r.id, r.file) for r in fresh.records]
        assert list(told.file_hashes) == list(incremental.load(root).file_hashes)
        previous = told
    (folder / "sub").mkdir()
    names = {"data/resources/sub"}
    assert scanning.scan_changed(root, told.paths, _memo(root), told.file_hashes, names) is None


def test_a_catalog_made_from_the_version_before_equals_a_fresh_load(
    generated: Path, tmp_path: Path
) -> None:
    """`store.delta.edited` after random edits: same quads, warnings, records, sources and
    validation parts as a fresh load, and the store's rows let a later load agree too."""
    root = tmp_path / "catalog"
    subprocess.run(["cp", "-r", str(generated), str(root)], check=True)
    rng = random.Random(21)
    previous = incremental.load(root)
    for _ in range(5):
        names = {f"data/resources/{edit(root, rng)}.yaml" for _ in range(rng.randrange(1, 4))}
        made = delta.edited(previous, root, names)
        assert made is not None
        fresh = Catalog.load(root)
        assert made.serialize_trig() == fresh.serialize_trig()
        assert made.diagnostics == fresh.diagnostics
        assert [(r.id, r.file, r.line, r.values) for r in made.records] == [
            (r.id, r.file, r.line, r.values) for r in fresh.records
        ]
        assert made.sources == fresh.sources
        loaded = incremental.load(root)  # from the rows `edited` wrote
        assert loaded.serialize_trig() == fresh.serialize_trig()
        assert list(made.sources) == list(loaded.sources)
        assert made.validation_parts.per_record == loaded.validation_parts.per_record
        assert made.validation_parts.digests == loaded.validation_parts.digests
        assert sorted(made.validation_parts.every) == sorted(loaded.validation_parts.every)
        assert made.file_hashes == loaded.file_hashes
        assert made.url_keys == loaded.url_keys
        previous = made
    day = dt.date(2025, 6, 1)
    fresh = Catalog.load(root)
    for fmt in FORMATS:  # the curator view's findings come from this catalog
        assert validate(previous, day).render(fmt) == validate(fresh, day).render(fmt)


def test_the_version_before_is_not_enough_when_files_come_or_go_or_ids_change(
    generated: Path, tmp_path: Path
) -> None:
    root = tmp_path / "catalog"
    subprocess.run(["cp", "-r", str(generated), str(root)], check=True)
    folder = root / "data" / "resources"
    previous = incremental.load(root)
    first = sorted(folder.glob("*.yaml"))[0]
    text = first.read_text(encoding="utf-8")
    assert delta.edited(previous, root, {f"data/resources/{first.name}"}) is previous  # same bytes
    (folder / "new.yaml").write_text(text.replace("id: syn", "id: added-syn"), encoding="utf-8")
    assert delta.edited(previous, root, {"data/resources/new.yaml"}) is None  # a file came
    (folder / "new.yaml").unlink()
    first.write_text(text.replace("id: syn", "id: renamed-syn"), encoding="utf-8")
    assert delta.edited(previous, root, {f"data/resources/{first.name}"}) is None  # an id changed
    first.unlink()
    assert delta.edited(previous, root, {f"data/resources/{first.name}"}) is None  # a file went


def _memo(root: Path) -> HashMemo:
    return HashMemo(connect(store_dir(root)))


def test_pages_updated_after_edits_equal_pages_built_whole(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(site_pages, "CONCEPT_PAGE_SIZE", 15)  # long lists at 150 resources
    root = tmp_path / "catalog"
    subprocess.run(["cp", "-r", str(generated), str(root)], check=True)
    rng = random.Random(3)
    catalog = incremental.load(root)
    pages = Pages(catalog)
    for _ in range(6):
        for _ in range(rng.randrange(1, 3)):
            edit(root, rng)
        new = incremental.load(root, previous=catalog)
        delta = changed_records(catalog, new)
        edited = live.edited_records(new, delta)
        assert edited, "the edits changed records and kept every id"
        updated = Pages.updated(pages, new, pages.queries, edited)
        assert updated.model.sort_keys is pages.model.sort_keys  # the fast path was taken
        assert_pages_equal(updated, Pages(new, queries=pages.queries))
        catalog, pages = new, updated


def test_an_added_record_builds_the_pages_whole(generated: Path, tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    subprocess.run(["cp", "-r", str(generated), str(root)], check=True)
    catalog = incremental.load(root)
    first = sorted((root / "data" / "resources").glob("*.yaml"))[0]
    text = first.read_text(encoding="utf-8")
    rid = first.stem
    (first.parent / "added.yaml").write_text(
        text.replace(f"id: {rid}", "id: invented-added"), encoding="utf-8"
    )
    new = incremental.load(root, previous=catalog)
    delta = changed_records(catalog, new)
    assert delta is not None and "invented-added" in delta[1]
    assert live.edited_records(new, delta) is None  # an id appeared: not an edit of records


def _polling_watcher(root: Path, catalog: Any, validator: Any) -> live.Watcher:
    """A watcher without change events on `catalog` as its first version (no server)."""
    pages: Future[Any] = Future()
    pages.set_result(Pages(catalog))
    served = live.Served(catalog, None, pages, pages.result().queries)
    return live.Watcher(
        root,
        served,
        lambda _new: None,
        lambda c, q, _o, _e: Pages(c, queries=q),
        validator=validator,
        events=False,
    )


def test_a_poll_tells_the_reload_which_record_files_changed(tmp_path: Path) -> None:
    """Without change events the poll's signatures name the changed files: the reload reads
    only those (the catalog is made from the version before) and serves the edit."""
    root = tmp_path / "catalog"
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copytree(ROOT / "queries", root / "queries")
    catalog = incremental.load(root)
    watcher = _polling_watcher(root, catalog, None)
    before = live.signature(root)
    record = root / "data" / "resources" / "3182.yaml"
    record.write_text(
        record.read_text(encoding="utf-8").replace("title: Heat", "title: Polled Heat", 1),
        encoding="utf-8",
    )
    told = watcher.record_files(live.changed_paths(before, live.signature(root)))
    assert told == {"data/resources/3182.yaml"}
    assert watcher.record_files({str(root / "data" / "organizations.yaml")}) is None
    swap = root / "data" / "resources" / ".3182.yaml.swp"
    swap.write_bytes(b"invented editor state")
    assert watcher.record_files({str(swap), str(record)}) == told  # not a record file
    (root / "data" / "resources" / "sub").mkdir()
    assert watcher.record_files({str(root / "data" / "resources" / "sub")}) is None
    assert watcher.reload(told)
    now = watcher.current
    made = now.catalog
    assert isinstance(made, incremental.StoredCatalog)
    assert made.entries["3182"] is not catalog.entries["3182"]
    assert made.entries["4184"] is catalog.entries["4184"]  # lent, not rebuilt
    page = now.pages.result().page(now.pages.result().find("resource/3182"), "http://x/")
    assert "Polled Heat" in page


def _validate_slowly(_catalog: Any) -> list[Any]:
    """A validation that outlasts the test (run in the forked child)."""
    time.sleep(120)
    return []


def test_a_reload_ends_the_validation_under_way_before_it_loads(tmp_path: Path) -> None:
    """The validation child shares the server's memory: a reload kills it first (every page
    the reload writes while the child lives is copied), and no new one is forked meanwhile."""
    root = tmp_path / "catalog"
    shutil.copytree(ROOT / "data", root / "data")
    catalog = incremental.load(root)
    watcher = _polling_watcher(root, catalog, _validate_slowly)
    served = watcher.current
    try:
        watcher.validate_later(served)
        deadline = time.monotonic() + 30
        while not watcher._children and time.monotonic() < deadline:
            time.sleep(0.05)
        (child,) = watcher._children
        assert child.is_alive()
        record = root / "data" / "resources" / "3182.yaml"
        text = record.read_text(encoding="utf-8")
        record.write_text(text.replace("title: Heat", "title: Reloaded Heat", 1))
        seen: list[bool] = []
        real = watcher.loader

        def loader(*args: Any) -> Any:
            # As the load begins: has the child ended? Its sentinel says so whichever thread
            # reaped it. `is_alive()` can say True for a moment after the validation thread's
            # own join reaped it (the next waitpid fails before that thread records the exit
            # code), which once failed this test with the child already dead.
            seen.append(not wait([child.sentinel], 0))
            return real(*args)

        watcher.loader = loader
        watcher._reload_safely({"data/resources/3182.yaml"})
        assert seen == [False]
        assert watcher.current.version == 2
    finally:
        watcher.stop()
        watcher.stop_validation()
