"""The quick paths after a few edits give what the plain paths give: the same reports, dumps.

`quick_validate` and `quick_build` (a few edited record files: kept findings and serialized
blocks reused) are compared with the plain path on the same catalog after every batch of
random edits, and each case where they must hand over to the plain path is shown to do so.
The catalogs are the invented fixtures of tests/fixtures (see their comments).
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_store import apply_edit

from resource_kg import Catalog
from resource_kg.store import incremental
from resource_kg.store.dumps import quick_build, write_recording
from resource_kg.validate import FORMATS, Report, validate
from resource_kg.validate.quick import quick_validate, validate_and_keep

HERE = Path(__file__).resolve().parent
QUERY_FIXTURE = HERE / "fixtures" / "query"
DUPLICATES = HERE / "fixtures" / "validate" / "invalid" / "curation-duplicates"
RKG = str(Path(sys.executable).parent / "rkg")
DAY = dt.date(2025, 6, 1)
#: Edits that keep every record id and file name: the quick paths must take them.
KEEPS_IDS = ("title", "year", "keyword", "url", "touch")


def copy(case: Path, tmp_path: Path) -> Path:
    root = tmp_path / case.name
    shutil.copytree(case, root)
    return root


def prime(root: Path, out: Path) -> None:
    """The plain store-backed runs that keep what the quick paths reuse."""
    write_recording(incremental.load(root), out)
    validate_and_keep(incremental.load(root), DAY)


def assert_reports_equal(mine: Report, plain: Report) -> None:
    for fmt in FORMATS:
        assert mine.render(fmt) == plain.render(fmt), fmt
    assert mine.render("text", verbose=True) == plain.render("text", verbose=True)


def assert_dumps_equal(out: Path, fresh: Catalog) -> None:
    assert (out / "catalog.trig").read_bytes() == fresh.serialize_trig()
    assert (out / "catalog.ttl").read_bytes() == fresh.serialize_turtle()


def check_both(root: Path, out: Path, *, quick_expected: bool) -> None:
    """Quick validate and quick build equal the plain paths (or hand over to them)."""
    fresh = Catalog.load(root)
    plain = validate(fresh, DAY)
    report = quick_validate(root, DAY)
    assert (report is not None) == quick_expected
    if report is None:
        report = validate_and_keep(incremental.load(root), DAY)
    assert_reports_equal(report, plain)
    built = quick_build(root, out)
    assert (built is not None) == quick_expected
    if built is None:
        write_recording(incremental.load(root), out)
    else:
        assert built.records == len(fresh.records)
        assert built.triples == sum(fresh.triples_per_graph().values())
        assert built.diagnostics == fresh.diagnostics
    assert_dumps_equal(out, fresh)


@settings(
    max_examples=6,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.lists(
            st.sampled_from((*KEEPS_IDS, *KEEPS_IDS, "add", "delete", "rename")),
            min_size=1,
            max_size=3,
        ),
        min_size=1,
        max_size=4,
    ),
    seed=st.integers(0, 10_000),
)
def test_random_edits_quick_paths_equal_the_plain_paths(
    tmp_path_factory: pytest.TempPathFactory, steps: list[list[str]], seed: int
) -> None:
    """After each batch of edits: every report format and both dumps byte-identical."""
    tmp = tmp_path_factory.mktemp("quick")
    root = copy(QUERY_FIXTURE, tmp)
    out = tmp / "dist"
    rng = random.Random(seed)
    prime(root, out)
    folder = root / "data" / "resources"
    for batch in steps:
        before = sorted(p.name for p in folder.iterdir())
        for edit in batch:
            apply_edit(root, edit, rng)
        # An addition and a deletion may cancel out (the file added is the one deleted): what
        # the quick paths need is the same record files, whatever the edits were.
        kept = sorted(p.name for p in folder.iterdir()) == before
        check_both(root, out, quick_expected=kept)


def test_a_title_edit_ending_a_duplicate_is_seen_by_the_unchanged_record(tmp_path: Path) -> None:
    """r3 and r4 share a normalized title: editing r4 ends r3's finding too (whole-graph)."""
    root = copy(DUPLICATES, tmp_path)
    prime(root, tmp_path / "dist")
    before = quick_validate(root, DAY)
    assert before is not None
    assert {f.id for f in before.findings if "title" in f.shape.lower()} >= {"r3", "r4"}
    record = root / "data" / "resources" / "r4.yaml"
    lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
    record.write_text(
        "".join("title: Another invented title\n" if x.startswith("title:") else x for x in lines),
        encoding="utf-8",
    )
    after = quick_validate(root, DAY)
    assert after is not None
    assert not [f for f in after.findings if f.id == "r3" and "Title" in f.shape]
    assert_reports_equal(after, validate(Catalog.load(root), DAY))
    check_both(root, tmp_path / "dist", quick_expected=True)


def _ids_changed(root: Path, what: str) -> None:
    folder = root / "data" / "resources"
    if what == "added":
        text = (folder / "r2.yaml").read_text(encoding="utf-8")
        (folder / "r9.yaml").write_text(text.replace("id: r2", "id: r9"), encoding="utf-8")
    elif what == "deleted":
        (folder / "r3.yaml").unlink()
    elif what == "renamed id":
        path = folder / "r3.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("id: r3", "id: r33"))
    elif what == "moved file":
        (folder / "r3.yaml").rename(folder / "moved.yaml")


@pytest.mark.parametrize("what", ["added", "deleted", "renamed id", "moved file"])
def test_ids_or_files_appearing_or_vanishing_take_the_plain_path(tmp_path: Path, what: str) -> None:
    root = copy(QUERY_FIXTURE, tmp_path)
    prime(root, tmp_path / "dist")
    _ids_changed(root, what)
    check_both(root, tmp_path / "dist", quick_expected=False)
    check_both(root, tmp_path / "dist", quick_expected=True)  # kept again for the next edit


def test_a_deleted_organization_takes_the_plain_path(tmp_path: Path) -> None:
    """Organizations are part of the build context: their resources' developer is unknown."""
    root = copy(QUERY_FIXTURE, tmp_path)
    prime(root, tmp_path / "dist")
    orgs = root / "data" / "organizations.yaml"
    text = orgs.read_text(encoding="utf-8")
    assert "Riverside Training Center" in text
    blocks = text.split("\n- ")
    orgs.write_text(
        "\n- ".join(b for b in blocks if "Riverside Training Center" not in b), encoding="utf-8"
    )
    check_both(root, tmp_path / "dist", quick_expected=False)
    report = quick_validate(root, DAY)
    assert report is not None
    assert any(f.id == "r2" and f.field == "developed_by" for f in report.findings)


def test_another_validation_date_takes_the_plain_path(tmp_path: Path) -> None:
    root = copy(QUERY_FIXTURE, tmp_path)
    prime(root, tmp_path / "dist")
    later = DAY + dt.timedelta(days=400)
    assert quick_validate(root, later) is None
    assert quick_validate(root, DAY) is not None


def test_a_record_subject_in_the_shared_graphs_is_never_copied(tmp_path: Path) -> None:
    """An ontology file saying something of record r1: the full write merges it in."""
    root = copy(QUERY_FIXTURE, tmp_path)
    shipped = incremental.setup(root, None).paths.ontology
    shutil.copytree(shipped, root / "ontology")
    (root / "ontology" / "about-r1.ttl").write_text(
        "# invented: a comment on a record, to show the dumps are then written in full\n"
        '<https://w3id.org/resource-kg/resource/r1> <http://www.w3.org/2000/01/rdf-schema#comment> "x" .\n',
        encoding="utf-8",
    )
    prime(root, tmp_path / "dist")
    apply_edit(root, "title", random.Random(3))
    fresh = Catalog.load(root)
    assert quick_build(root, tmp_path / "dist") is None
    write_recording(incremental.load(root), tmp_path / "dist")
    assert_dumps_equal(tmp_path / "dist", fresh)


def rkg(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([RKG, *args], capture_output=True, check=False, timeout=300)


def test_cli_after_an_edit_equals_the_fresh_path(tmp_path: Path) -> None:
    """`rkg validate` / `rkg build` after an edit, beside `--no-cache` / a cleared store."""
    root = copy(DUPLICATES, tmp_path)
    day = ("--date", DAY.isoformat())
    assert rkg("build", str(root)).returncode == 0
    assert rkg("validate", str(root), *day).returncode == 1
    assert quick_validate(root, DAY) is not None  # what the CLI kept is what the quick path reads
    record = root / "data" / "resources" / "r1.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("title: ", "title: New "))
    quick = tmp_path / "quick"
    built = rkg("build", str(root), "--out", str(quick))
    assert built.returncode == 0
    for fmt in FORMATS:
        mine = rkg("validate", str(root), *day, "--format", fmt)
        plain = rkg("validate", str(root), *day, "--format", fmt, "--no-cache")
        assert mine.returncode == plain.returncode == 1
        assert mine.stdout == plain.stdout, fmt
    assert rkg("store", "--clear", str(root)).returncode == 0
    fresh = rkg("build", str(root))
    assert fresh.stderr == built.stderr.replace(str(quick).encode(), str(root / "dist").encode())
    for name in ("catalog.trig", "catalog.ttl", "catalog.sha256"):
        assert (quick / name).read_bytes() == (root / "dist" / name).read_bytes(), name


def test_quick_runs_killed_midway_then_rerun_equal_the_plain_paths(tmp_path: Path) -> None:
    """`rkg build` / `rkg validate` killed at random points after an edit leave a store the
    next run uses as it was or replaces: the reports and dumps still equal the plain path."""
    import signal
    import time

    root = copy(QUERY_FIXTURE, tmp_path)
    out = tmp_path / "dist"
    prime(root, out)
    rng = random.Random(11)
    for attempt in range(6):
        apply_edit(root, rng.choice(("title", "url", "year")), rng)
        command = (
            ["build", str(root), "--out", str(out)]
            if attempt % 3 != 2
            else ["validate", str(root), "--date", DAY.isoformat()]
        )
        process = subprocess.Popen(
            [RKG, *command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.05, 1.2))
        process.send_signal(signal.SIGKILL if attempt % 2 else signal.SIGINT)
        process.wait(timeout=60)
        fresh = Catalog.load(root)
        report = quick_validate(root, DAY)
        if report is None:
            report = validate_and_keep(incremental.load(root), DAY)
        assert_reports_equal(report, validate(fresh, DAY))
        if quick_build(root, out) is None:
            write_recording(incremental.load(root), out)
        assert_dumps_equal(out, fresh)
