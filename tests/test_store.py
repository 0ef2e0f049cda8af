"""The catalog store gives what a fresh build gives, whatever changed, killed or ran alongside."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from resource_kg import Catalog
from resource_kg.errors import QueryError
from resource_kg.query import EmbeddedEngine, load_queries, run_stored
from resource_kg.store import answers as answers_module
from resource_kg.store import incremental, querystore, scanning
from resource_kg.store.fingerprint import RACY_NS, code_fingerprint, files_digest
from resource_kg.store.state import connect, locked, store_dir
from resource_kg.validate import FORMATS, validate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIX = HERE / "fixtures" / "validate"
QUERY_FIXTURE = HERE / "fixtures" / "query"
RKG = str(Path(sys.executable).parent / "rkg")
DAY = dt.date(2025, 6, 1)


def copy(case: Path, tmp_path: Path) -> Path:
    root = tmp_path / case.name
    shutil.copytree(case, root)
    return root


def same_as_fresh(root: Path) -> Catalog:
    """Load through the store and check it against Catalog.load: trig, records, warnings."""
    fresh = Catalog.load(root)
    cached = incremental.load(root)
    assert cached.serialize_trig() == fresh.serialize_trig()
    assert cached.serialize_turtle() == fresh.serialize_turtle()
    assert cached.diagnostics == fresh.diagnostics
    assert [(r.id, r.file, r.line, r.values, r.field_lines) for r in cached.records] == [
        (r.id, r.file, r.line, r.values, r.field_lines) for r in fresh.records
    ]
    assert cached.sources == fresh.sources
    return cached


def stored_rows(root: Path, catalog: Catalog) -> dict[str, Any]:
    """Every stored question's example, answered from the on-disk query store."""
    out: dict[str, Any] = {}
    with querystore.open_store(root) as store:
        engine = EmbeddedEngine(store, catalog.graphs)
        for name, query in load_queries(catalog.paths.queries).items():
            try:
                out[name] = run_stored(engine, query, query.example, catalog.lexicon).values()
            except QueryError as exc:
                out[name] = str(exc)
    return out


def fresh_rows(catalog: Catalog) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, query in load_queries(catalog.paths.queries).items():
        try:
            out[name] = catalog.query(name, **query.example)
        except QueryError as exc:
            out[name] = str(exc)
    return out


def rkg(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RKG, *args], capture_output=True, text=True, check=check, timeout=300)


# ---------------------------------------------------------------- freshness by content


def test_cold_and_warm_store_equal_a_fresh_build(tmp_path: Path) -> None:
    root = copy(FIX / "invalid/curation-duplicates", tmp_path)
    assert not store_dir(root).exists()
    same_as_fresh(root)
    assert (store_dir(root) / "state.sqlite").is_file()
    assert not (root / ".rkg-cache").exists()  # nothing is written into the catalog folder
    warm = same_as_fresh(root)
    # the duplicate url warning depends on another record: recomputed, never cached stale
    assert [d.record_id for d in warm.diagnostics if d.field == "url"] == ["r2"]


def test_same_size_edit_with_the_time_restored_is_seen(tmp_path: Path) -> None:
    """The case of the issue: year 2021 → 1950 in place, mtime put back (`touch -r`)."""
    root = tmp_path / "catalog"
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    first = rkg("validate", str(root), "--date", "2025-06-01")
    assert first.returncode == 0, first.stdout + first.stderr
    record = root / "data" / "resources" / "3182.yaml"
    before = record.stat()
    text = record.read_text(encoding="utf-8")
    assert "year: 2021" in text
    record.write_text(text.replace("year: 2021", "year: 1950"), encoding="utf-8")
    os.utime(record, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert record.stat().st_size == before.st_size
    assert record.stat().st_mtime_ns == before.st_mtime_ns
    again = rkg("validate", str(root), "--date", "2025-06-01")
    assert again.returncode == 1, again.stdout
    assert "1950" in again.stdout and "Violation" in again.stdout
    plain = rkg("validate", str(root), "--date", "2025-06-01", "--no-cache")
    assert plain.stdout == again.stdout
    # the query store sees it too
    rows = rkg("query", "language", str(root), "-p", "language=English", "--format", "csv")
    assert rows.returncode == 0, rows.stderr
    line = next(x for x in rows.stdout.splitlines() if ",3182," in x)
    assert ",1950" in line


def test_the_hash_memo_rereads_a_same_size_edit_with_the_time_restored(tmp_path: Path) -> None:
    """Files hashed long after their last change are not re-read (their recorded hash is
    vouched for by size, mtime, ctime, inode); an in-place same-size edit with the mtime put
    back still changes the ctime, so query and validate see it; equal to a fresh build."""
    root = tmp_path / "catalog"
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    time.sleep(RACY_NS / 1e9 + 0.2)  # older than the racy margin: the memo may vouch for them
    first = rkg("query", "language", str(root), "-p", "language=English", "--format", "csv")
    assert first.returncode == 0, first.stderr

    def hashed_at() -> dict[str, int]:
        with locked(root) as folder:
            db = connect(folder)
            try:
                return {p: at for p, at in db.execute("SELECT path, hashed FROM file_stats")}
            finally:
                db.close()

    before = hashed_at()
    assert "data/resources/3182.yaml" in before
    rkg("query", "language", str(root), "-p", "language=English", "--format", "csv")
    assert hashed_at() == before  # nothing re-read: every hash vouched for
    record = root / "data" / "resources" / "3182.yaml"
    old = record.stat()
    text = record.read_text(encoding="utf-8")
    with record.open("r+", encoding="utf-8") as handle:  # in place: same inode
        handle.write(text.replace("year: 2021", "year: 1950"))
    os.utime(record, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert (record.stat().st_size, record.stat().st_mtime_ns) == (old.st_size, old.st_mtime_ns)
    assert record.stat().st_ino == old.st_ino
    rows = rkg("query", "language", str(root), "-p", "language=English", "--format", "csv")
    line = next(x for x in rows.stdout.splitlines() if ",3182," in x)
    assert ",1950" in line
    after = hashed_at()
    assert after["data/resources/3182.yaml"] > before["data/resources/3182.yaml"]
    assert {p: t for p, t in after.items() if "3182" not in p} == {
        p: t for p, t in before.items() if "3182" not in p
    }
    again = rkg("validate", str(root), "--date", "2025-06-01")
    plain = rkg("validate", str(root), "--date", "2025-06-01", "--no-cache")
    assert again.returncode == 1 and "1950" in again.stdout
    assert plain.stdout == again.stdout


def test_the_joined_files_digest_equals_a_digest_fed_pair_by_pair() -> None:
    """`files_digest` hashes one joined text (the quick paths' speed-up); it must give the
    digest of feeding the pairs one by one, in name order, which stores already hold."""
    rng = random.Random(7)
    named = [(f"data/resources/r{rng.randrange(10**6)}.yaml", f"{rng.getrandbits(256):064x}")]
    named += [(f"data/resources/é{i}.yml", f"{i:064x}") for i in range(300)]
    rng.shuffle(named)
    plain = hashlib.sha256()
    for name, sha in sorted(named):
        plain.update(f"{name}\0{sha}\n".encode())
    assert files_digest(named) == plain.hexdigest()
    assert files_digest([]) == hashlib.sha256().hexdigest()
    assert files_digest(named[:-1]) != files_digest(named)


def test_the_hash_memo_forgets_a_deleted_file(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    assert rkg("query", "coverage", str(root), "--format", "csv").returncode == 0

    def recorded() -> set[str]:
        with locked(root) as folder:
            db = connect(folder)
            try:
                return {p for (p,) in db.execute("SELECT path FROM file_stats")}
            finally:
                db.close()

    assert "data/resources/3182.yaml" in recorded()
    (root / "data" / "resources" / "3182.yaml").unlink()
    done = rkg("query", "coverage", str(root), "--format", "csv")
    assert done.returncode == 0, done.stderr
    left = recorded()
    assert "data/resources/3182.yaml" not in left and "data/resources/4184.yaml" in left


def test_the_forked_scan_equals_the_scan_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Scan` (a child scans while the parent reads) gives what `scan_hashes` gives here, read
    bytes included; a child that cannot open the store leaves the scan to the parent; a child
    whose answer is not asked for is reaped."""
    from resource_kg.config import resolve_paths
    from resource_kg.store.fingerprint import HashMemo
    from resource_kg.store.reading import Scan, scan_hashes

    monkeypatch.setattr("resource_kg.store.fingerprint.RACY_NS", 0)  # vouch for files at once
    root = copy(QUERY_FIXTURE, tmp_path)
    paths = resolve_paths(root)
    with locked(root) as folder:
        db = connect(folder)
        try:
            first = HashMemo(db)
            scan_hashes(root, paths, first)
            first.save()
            edited = root / "data" / "resources" / "r2.yaml"
            edited.write_text(edited.read_text(encoding="utf-8") + "\n", encoding="utf-8")
            plain = scan_hashes(root, paths, HashMemo(db))
            assert list(plain[1]) == ["data/resources/r2.yaml"]  # the edited file alone is read
            with Scan(root, folder) as scan:
                assert scan.pid is not None  # forked: one thread here
                forked = scan.result(HashMemo(db))
                assert scan.by_child
            assert forked == plain
            assert list(forked[0]) == list(plain[0])  # the catalog's order
            after = scan_hashes(root, paths, HashMemo(db))
            assert after[0] == plain[0] and after[1] == {}  # the child recorded the new hash
            blocked = tmp_path / "not-a-folder"
            blocked.write_text("", encoding="utf-8")
            with Scan(root, blocked) as scan:
                assert scan.pid is not None
                assert scan.result(HashMemo(db)) == after
                assert not scan.by_child  # it failed: scanned here
            with Scan(root, folder) as scan:
                pid = scan.pid
            assert pid is not None
            with pytest.raises(ChildProcessError):
                os.waitpid(pid, 0)
            # a deleted file leaves the memo, the others stay, also after the parent's save
            (root / "data" / "resources" / "r3.yaml").unlink()
            parent = HashMemo(db)
            with Scan(root, folder) as scan:
                assert "data/resources/r3.yaml" not in scan.result(parent)[0]
            parent.save()
            recorded = {path for (path,) in db.execute("SELECT path FROM file_stats")}
            assert recorded == set(plain[0]) - {"data/resources/r3.yaml"}
        finally:
            db.close()


def test_a_changed_source_file_of_the_package_changes_the_fingerprint(tmp_path: Path) -> None:
    """A copy of the package with one constant edited computes another fingerprint."""
    package = Path(str(__import__("resource_kg").__file__)).resolve().parent
    copy_of = tmp_path / "site" / "resource_kg"
    shutil.copytree(package, copy_of, ignore=shutil.ignore_patterns("__pycache__"))
    probe = "from resource_kg.store.fingerprint import RACY_NS, code_fingerprint, files_digest; print(code_fingerprint())"
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}

    def fingerprint() -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    same = fingerprint()
    assert same == code_fingerprint()  # same files, same fingerprint
    tagging = copy_of / "tagging.py"
    tagging.write_text(tagging.read_text(encoding="utf-8") + "\nEDITED = 1\n", encoding="utf-8")
    assert fingerprint() != same
    (copy_of / "new_module.py").write_text("X = 1\n", encoding="utf-8")  # listed by nobody
    assert len({fingerprint(), same}) == 2


def test_a_code_change_rebuilds_the_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy(QUERY_FIXTURE, tmp_path)
    first = incremental.load(root)
    monkeypatch.setattr(incremental, "code_fingerprint", lambda: "another version of the code")
    second = incremental.load(root)
    assert second.build_context != first.build_context
    assert second.serialize_trig() == first.serialize_trig()


def test_nothing_read_back_executes_code(tmp_path: Path) -> None:
    """A pickle planted where round 1 kept its caches, and in the store folder, is never run."""
    root = copy(QUERY_FIXTURE, tmp_path)
    sentinel = tmp_path / "ran"
    payload = (
        b"cos\nsystem\n(S'touch " + str(sentinel).encode() + b"'\ntR."
    )  # pickle protocol 0: os.system("touch ...")
    for folder in (root / ".rkg-cache", root / ".rkg-cache" / "build", store_dir(root)):
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("build.pickle", "validate.pickle", "000.pickle"):
            (folder / name).write_bytes(payload)
    for args in (["build", str(root)], ["validate", str(root)], ["query", "developers", str(root)]):
        done = rkg(*args)
        assert done.returncode in (0, 1), done.stderr
    assert not sentinel.exists()
    sources = (ROOT / "src").rglob("*.py")
    assert not [p for p in sources if "import pickle" in p.read_text(encoding="utf-8")]
    assert not [p for p in (ROOT / "src").rglob("*.py") if "marshal" in p.read_text()]


# ---------------------------------------------------------------- incremental


def test_edit_add_and_remove_record_files(tmp_path: Path) -> None:
    root = copy(FIX / "invalid/curation-duplicates", tmp_path)
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
    root = copy(FIX / "invalid/vocabulary-wrong-scheme", tmp_path)
    resources = root / "data" / "resources"
    first = same_as_fresh(root)
    assert any(d.field == "replaced_by" for d in first.diagnostics)  # names r9, not a record
    text = (resources / "r1.yaml").read_text().replace("id: r1", "id: r9")
    (resources / "r9.yaml").write_text(text.replace("replaced_by: r9", ""), encoding="utf-8")
    now = same_as_fresh(root)  # r1 is unchanged on disk, but its replacement now exists
    assert not any(d.record_id == "r1" and d.field == "replaced_by" for d in now.diagnostics)


def test_a_changed_vocabulary_rebuilds(tmp_path: Path) -> None:
    root = copy(FIX / "invalid/curation-duplicates", tmp_path)
    shutil.copytree(ROOT / "ontology", root / "ontology")
    same_as_fresh(root)
    audiences = root / "ontology" / "vocab" / "audiences.ttl"
    audiences.write_text(
        audiences.read_text(encoding="utf-8").replace('"Clinicians"@en', '"Clinical staff"@en'),
        encoding="utf-8",
    )
    changed = same_as_fresh(root)
    assert any("Clinicians" in d.message for d in changed.diagnostics)


def test_a_deleted_organization_makes_its_resources_developer_unknown(tmp_path: Path) -> None:
    root = copy(QUERY_FIXTURE, tmp_path)
    same_as_fresh(root)
    orgs = root / "data" / "organizations.yaml"
    text = orgs.read_text(encoding="utf-8")
    start = text.index("- id:")
    second = text.index("- id:", start + 1)
    orgs.write_text(text[:start] + text[second:], encoding="utf-8")
    after = same_as_fresh(root)
    assert any(d.field == "developed_by" for d in after.diagnostics)


def test_a_few_edited_files_take_the_quick_path(tmp_path: Path) -> None:
    root = copy(QUERY_FIXTURE, tmp_path)
    querystore.refresh(root)
    assert querystore.refresh(root)[1] == "unchanged"
    record = root / "data" / "resources" / "r2.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("year: 20", "year: 19"))
    assert querystore.refresh(root)[1] == "updated 1 record(s) from 1 file(s)"
    record.rename(record.with_name("renamed.yaml"))
    assert querystore.refresh(root)[1] == "updated 1 record(s) from 2 file(s)"
    (root / "data" / "resources" / "r3.yaml").unlink()  # an id vanishes: the full path
    assert querystore.refresh(root)[1].startswith("updated")
    fresh = Catalog.load(root)
    assert stored_rows(root, fresh) == fresh_rows(fresh)


def test_file_listing_equals_record_files(tmp_path: Path) -> None:
    from resource_kg.records import record_files

    folder = tmp_path / "resources"
    names = ("b.yaml", "a.YML", "sub/z.csv", "sub-dir/y.jsonl", "sub/deeper/x.yaml", "sub.yaml")
    # names with dots where suffix rules differ (os.path.splitext gives "..yaml" none,
    # pathlib ".yaml"): a dot that opens the name, hidden files, a name ending in a dot
    dotted = (".yaml", "..yaml", ".hidden.yaml", "..x.yml", "v.yaml.", "w..csv")
    for name in (*names, *dotted, "n.txt", "sub0/w.json"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("id: x\n", encoding="utf-8")
    pairs = scanning.list_files(folder, tmp_path)
    listed = [tmp_path / shown for shown, _path in pairs]
    assert listed == record_files(folder)
    assert [Path(path) for _shown, path in pairs] == listed
    assert len(listed) == 10  # the six, ..yaml, .hidden.yaml, ..x.yml and w..csv


# ---------------------------------------------------------------- random edit sequences

EDITS = ("title", "year", "keyword", "url", "add", "delete", "rename", "touch")


def apply_edit(root: Path, edit: str, rng: random.Random) -> None:
    """One curator action on a record file, chosen by `rng` among the files present."""
    folder = root / "data" / "resources"
    files = sorted(folder.glob("*.yaml"))
    if not files:
        edit = "add"
    path = rng.choice(files) if files else folder / "r1.yaml"
    if edit == "add":
        rid = f"n{rng.randrange(10_000)}"
        template = (QUERY_FIXTURE / "data" / "resources" / "r2.yaml").read_text(encoding="utf-8")
        target = folder / f"{rid}.yaml"
        if not target.exists():
            target.write_text(template.replace("id: r2", f"id: {rid}"), encoding="utf-8")
        return
    if edit == "delete":
        path.unlink()
        return
    if edit == "rename":
        path.rename(folder / f"moved-{rng.randrange(1000)}-{path.name}")
        return
    text = path.read_text(encoding="utf-8")
    if edit == "title":
        lines = text.splitlines(keepends=True)
        lines = [
            f"title: Invented title {rng.randrange(100)}\n" if x.startswith("title:") else x
            for x in lines
        ]
        text = "".join(lines)
    elif edit == "year":
        text = "".join(
            f"year: {rng.choice([1950, 2019, 2021, 2999])}\n" if x.startswith("year:") else x
            for x in text.splitlines(keepends=True)
        )
    elif edit == "keyword":
        text = text.replace(
            "keywords:\n",
            f"keywords:\n  - {rng.choice(['Housing', 'Heat', 'Nonsense label'])}\n",
            1,
        )
    elif edit == "url":
        text = "".join(x for x in text.splitlines(keepends=True) if not x.startswith("url:"))
        text += "url: https://example.org/shared-page\n"  # may duplicate another record's
    stat = path.stat()
    path.write_text(text, encoding="utf-8")
    if edit == "touch":
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    else:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # time restored: content decides


def assert_store_equals_fresh(root: Path) -> None:
    fresh = Catalog.load(root)
    # The query store first: after an edit it takes the quick path (changed files only).
    assert stored_rows(root, fresh) == fresh_rows(fresh)
    cached = same_as_fresh(root)
    plain = validate(fresh, DAY)
    folder = store_dir(root)
    fast = validate(cached, DAY, cache=folder)
    for fmt in FORMATS:
        assert fast.render(fmt) == plain.render(fmt), fmt
    assert stored_rows(root, cached) == fresh_rows(fresh)


@settings(
    max_examples=5,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking a store takes minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.lists(st.sampled_from(EDITS), min_size=1, max_size=3), min_size=1, max_size=3
    ),
    seed=st.integers(0, 10_000),
)
def test_random_edit_sequences_equal_a_fresh_build(
    tmp_path_factory: pytest.TempPathFactory, steps: list[list[str]], seed: int
) -> None:
    """After each batch of edits: same quads, findings (every format) and stored answers."""
    root = copy(QUERY_FIXTURE, tmp_path_factory.mktemp("edits"))
    rng = random.Random(seed)
    assert_store_equals_fresh(root)
    for batch in steps:
        for edit in batch:
            apply_edit(root, edit, rng)
        assert_store_equals_fresh(root)


# ---------------------------------------------------------------- killed and concurrent runs


def test_a_run_killed_during_an_update_then_rerun_equals_a_fresh_build(tmp_path: Path) -> None:
    root = copy(QUERY_FIXTURE, tmp_path)
    rng = random.Random(7)
    assert rkg("query", "developers", str(root)).returncode == 0
    for attempt in range(6):
        apply_edit(root, rng.choice(("title", "year", "add", "delete")), rng)
        process = subprocess.Popen(
            [RKG, "query", "developers", str(root)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.05, 1.5))
        process.send_signal(signal.SIGKILL if attempt % 2 else signal.SIGINT)
        process.wait(timeout=60)
        assert_store_equals_fresh(root)


def test_two_runs_at_once_wait_for_each_other(tmp_path: Path) -> None:
    root = copy(QUERY_FIXTURE, tmp_path)
    with locked(root):
        waiting = subprocess.Popen(
            [RKG, "validate", str(root), "--date", "2025-06-01"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert waiting.stderr is not None
        guard = threading.Timer(60, waiting.kill)  # never hang: no message in 60 s fails
        guard.start()
        told = waiting.stderr.readline()
        guard.cancel()  # it says so once it has waited 2 s (however slow
        assert "waiting for another rkg run" in told  # its start-up is on a busy machine)
        assert waiting.poll() is None  # still waiting for the lock held here
    out, _err = waiting.communicate(timeout=120)
    both = [
        subprocess.Popen(
            [RKG, "validate", str(root), "--date", "2025-06-01", "--format", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in both]
    assert (
        outputs[0]
        == outputs[1]
        == rkg(
            "validate", str(root), "--date", "2025-06-01", "--format", "json", "--no-cache"
        ).stdout
    )
    assert out == rkg("validate", str(root), "--date", "2025-06-01").stdout


def test_rkg_store_shows_and_clears(tmp_path: Path) -> None:
    root = copy(QUERY_FIXTURE, tmp_path)
    assert rkg("query", "developers", str(root)).returncode == 0
    shown = rkg("store", str(root), check=True).stdout
    assert str(store_dir(root)) in shown and "5 records, complete" in shown
    rkg("store", str(root), "--clear", check=True)
    assert not (store_dir(root) / "state.sqlite").exists()
    assert "empty" in rkg("store", str(root), check=True).stdout
    assert rkg("query", "developers", str(root)).returncode == 0  # rebuilt on use


def test_a_year_beyond_64_bits_survives_the_store(tmp_path: Path) -> None:
    root = copy(QUERY_FIXTURE, tmp_path)
    record = root / "data" / "resources" / "r1.yaml"
    record.write_text(record.read_text().replace("year: 2021", "year: " + "9" * 30))
    same_as_fresh(root)
    again = same_as_fresh(root)  # read back from the store
    assert again.record("r1") is not None
    assert again.record("r1").values["year"] == int("9" * 30)  # type: ignore[union-attr]


# ---------------------------------------------------------------- kept answers


def test_kept_answers_equal_the_plain_engine_and_follow_edits(tmp_path: Path) -> None:
    """Every stored question: the kept answer (first computed, then read back) equals the
    plain engine's rows, terms and order; an edit changes the state, so no stale answer."""
    root = tmp_path / "catalog"
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    catalog = Catalog.load(root)
    queries = load_queries(catalog.paths.queries)

    def answers() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], str]:
        plain: dict[str, Any] = {}
        first: dict[str, Any] = {}
        again: dict[str, Any] = {}
        with querystore.open_store(root) as store:
            engine = EmbeddedEngine(store, catalog.graphs)
            state = answers_module.store_state(store_dir(root))
            assert state is not None
            kept = answers_module.KeptAnswers(engine, store_dir(root), state)
            for name, query in queries.items():
                plain[name] = run_stored(engine, query, query.example, catalog.lexicon)
                first[name] = run_stored(kept, query, query.example, catalog.lexicon)
                again[name] = run_stored(kept, query, query.example, catalog.lexicon)
        return plain, first, again, state

    plain, first, again, state = answers()
    assert any(r.rows for r in plain.values())
    for name in queries:
        assert first[name] == plain[name], name
        assert again[name] == plain[name], name
    with locked(root) as folder:
        db = connect(folder)
        hits = dict(db.execute("SELECT key, hits FROM answers").fetchall())
        db.close()
    assert len(hits) >= len(queries) - 1 and all(h >= 1 for h in hits.values())
    # a new title for 3182: the state changes and the answers follow
    record = root / "data" / "resources" / "3182.yaml"
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace("title: ", "title: Renamed ", 1), encoding="utf-8")
    plain2, first2, _again2, state2 = answers()
    assert state2 != state
    for name in queries:
        assert first2[name] == plain2[name], name
    assert first2 != first  # some question shows the new title


def test_rkg_query_twice_gives_the_same_output(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    for args in (
        ["keyword-pairs"],
        ["audience-topic", "-p", "audience=PCAs", "-p", "topic=housing"],
    ):
        one = rkg("query", *args, str(root), "--format", "json")
        two = rkg("query", *args, str(root), "--format", "json")
        assert one.returncode == 0, one.stderr
        assert one.stdout == two.stdout and one.stdout.strip()


def test_the_chunked_text_load_equals_bulk_extend_of_the_same_quads(tmp_path: Path) -> None:
    """`load_keys` (N-Quads text, chunks loaded on a thread) against pyoxigraph's own
    `bulk_extend` of the terms: the same quads, with chunks far smaller than the catalog."""
    root = tmp_path / "generated"  # an invented catalog: 200 synthetic records
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), "200", "--out", str(root)],
        check=True,
        capture_output=True,
    )
    catalog = incremental.load(root)
    keys = querystore._all_keys(catalog)
    assert len(keys) > 5000
    plain = ox.Store(str(tmp_path / "plain"))
    plain.bulk_extend(catalog.quad_table.iter_quads(keys))
    for chunk in (97, 1_000_000):
        store = ox.Store(str(tmp_path / f"chunked-{chunk}"))
        querystore.load_keys(store, keys, chunk=chunk)
        assert set(store) == set(plain)
    # Language-tagged and typed literals went through the text, not around it.
    literals = [q.object for q in plain if isinstance(q.object, ox.Literal)]
    assert any(o.language for o in literals)
    assert any(o.datatype.value.endswith("#date") for o in literals)


def test_a_failing_chunk_is_raised_in_the_caller_and_nothing_hangs(tmp_path: Path) -> None:
    good = ("<urn:g>", "<urn:s>", "<urn:p>", '"o"')
    bad = ("<urn:g>", "<urn:s>", "<urn:p>", '"no closing quote')
    store = ox.Store(str(tmp_path / "store"))
    with pytest.raises(SyntaxError):
        querystore.load_keys(store, [good] * 5 + [bad] + [good] * 50, chunk=3)


def test_the_store_fed_while_the_catalog_loads_equals_one_built_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The full refresh feeds a new store while records are read (`Rebuild.follow`; records
    naming replaced_by are fed once every id is known). Its quads equal those of the plain
    catalog load, for a store made from scratch and for one remade beside kept entries."""
    root = tmp_path / "generated"  # an invented catalog: 300 synthetic records
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), "300", "--out", str(root)],
        check=True,
        capture_output=True,
    )
    files = sorted((root / "data" / "resources").rglob("*.yaml"))
    named = [p for p in files if "replaced_by:" in p.read_text()]
    assert named, "the generated catalog names replaced_by somewhere"
    with files[0].open("a") as out:  # one replaced_by naming no record of the catalog
        out.write("replaced_by: syn999999\n")
    monkeypatch.setattr(querystore, "LOAD_CHUNK", 97)
    fed: list[int] = []
    finish = querystore.Rebuild.finish

    def spy(self: querystore.Rebuild, *args: Any) -> str:
        fed.append(self.fed)
        return finish(self, *args)

    monkeypatch.setattr(querystore.Rebuild, "finish", spy)

    def check() -> None:
        plain = ox.Store()
        plain.bulk_extend(Catalog.load(root).quads)
        target, done = querystore.refresh(root)
        assert done == "built"
        store = ox.Store.read_only(str(target))
        assert set(store) == set(plain)
        del store

    check()
    assert fed[-1] > 1000  # most quads were loaded before the load ended
    edited = files[len(files) // 2]
    lines = edited.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("title:"))
    lines[at] = "title: An edited title"
    edited.write_text("\n".join(lines) + "\n")
    shutil.rmtree(store_dir(root) / querystore.STORE_FOLDER)  # entries kept, store gone
    check()
