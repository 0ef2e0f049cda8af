"""Files a run writes and leaves (issue 18): modes kept, leftovers of killed runs cleaned, the
dump pair never mixed, outputs never inside the sources, and one line for what used to be a
traceback. Each case runs the real `rkg` (as a subprocess where a umask, a signal or a closed
standard output is part of the case) on a copy of the bundled catalog (its records are real,
every change made here is invented).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path


def run(
    *args: str | Path, umask: int | None = None, stdout: int | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m resource_kg ARGS` in a fresh process (optionally under a umask)."""

    def before() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if umask is not None:
            os.umask(umask)

    return subprocess.run(
        [sys.executable, "-m", "resource_kg", *map(str, args)],
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        preexec_fn=before,
    )


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


# ---------------------------------------------------------------- modes


def test_rewritten_and_new_files_keep_their_mode_or_the_umasks(catalog: Path) -> None:
    """Rewritten records, dist/* and exports ended up 0600 (mkstemp's mode)."""
    record = catalog / "data" / "resources" / "3182.yaml"
    record.chmod(0o664)
    sheet = catalog / "records.csv"
    done = run("export", "csv", catalog, "--out", sheet, umask=0o027)
    assert done.returncode == 0, done.stderr
    assert mode(sheet) == 0o640  # a new file: what the umask gives
    text = sheet.read_text(encoding="utf-8").replace(
        ",Access to Care,", ",Access to Care; Housing,"
    )
    sheet.write_text(text, encoding="utf-8")
    sheet.chmod(0o644)
    done = run("import", "csv", sheet, catalog, umask=0o027)
    assert done.returncode == 0, done.stderr
    assert "updated record 3182" in done.stderr
    assert mode(record) == 0o664  # a rewritten file keeps its mode
    assert run("build", catalog, umask=0o022).returncode == 0
    assert {mode(p) for p in (catalog / "dist").iterdir()} == {0o644}
    (catalog / "dist" / "catalog.ttl").chmod(0o600)
    assert run("build", catalog, umask=0o022).returncode == 0
    assert mode(catalog / "dist" / "catalog.ttl") == 0o600
    assert mode(catalog / "dist" / "catalog.trig") == 0o644


# ---------------------------------------------------------------- leftovers of killed runs


def aged(path: Path, seconds: float = 60) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def test_leftovers_of_killed_runs_are_removed_and_live_ones_kept(catalog: Path) -> None:
    resources = catalog / "data" / "resources"
    dead = resources / ".3182.yaml.k1ll3d_x.tmp"
    dead.write_bytes(b"half a record")
    aged(dead)
    dead_old = resources / ".3736.yaml.a1b2c3d4.old"
    dead_old.write_bytes(b"x")
    aged(dead_old)
    live = resources / ".4184.yaml.l1v3wr1t.tmp"
    live.write_bytes(b"being written")
    aged(live)
    mine = resources / "notes.tmp"  # not a name rkg gives: never touched
    mine.write_bytes(b"a curator's file")
    aged(mine)
    with live.open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # a writer still at work
        sheet = catalog / "records.csv"
        assert run("export", "csv", catalog, "--out", sheet).returncode == 0
        text = sheet.read_text(encoding="utf-8")
        sheet.write_text(text.replace(",Access to Care,", ",Access to Care; Housing,"))
        done = run("import", "csv", sheet, catalog)
        assert done.returncode == 0, done.stderr
    assert not dead.exists() and not dead_old.exists()
    assert live.exists() and mine.exists()


def test_sigkilled_publish_leaves_a_partial_folder_the_next_publish_removes(
    catalog: Path,
) -> None:
    out = catalog / "releases"
    process = subprocess.Popen(
        [sys.executable, "-m", "resource_kg", "publish", str(catalog), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    partial: list[Path] = []
    while time.monotonic() < deadline and not partial and process.poll() is None:
        partial = list(out.glob(".*.partial")) if out.is_dir() else []
        time.sleep(0.01)
    process.kill()
    process.wait()
    if not partial:
        pytest.fail("publish finished before a .partial folder was seen")
    leftovers = list(out.glob(".*.partial"))
    assert leftovers  # what SIGKILL leaves
    for path in leftovers:
        aged(path)
    done = run("publish", catalog, "--out", out, "--version", "2.0.0")
    assert done.returncode == 0, done.stderr
    assert list(out.glob(".*.partial")) == []
    assert (out / "2.0.0" / "catalog.trig").is_file()


# ---------------------------------------------------------------- the dump pair


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_dump_pair_has_a_manifest_and_a_failed_write_keeps_the_old_pair(catalog: Path) -> None:
    """A build stopped between its two writes left a new catalog.trig beside an old .ttl."""
    assert run("build", catalog).returncode == 0
    dist = catalog / "dist"
    manifest = (dist / "catalog.sha256").read_text(encoding="utf-8")
    assert manifest == (
        f"{digest(dist / 'catalog.trig')}  catalog.trig\n{digest(dist / 'catalog.ttl')}  catalog.ttl\n"
    )
    before = {p.name: p.read_bytes() for p in dist.iterdir()}
    record = catalog / "data" / "resources" / "3182.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("year: 2021", "year: 2020"))
    # The second file of the pair cannot be replaced (a folder holds its place): the first,
    # already renamed, must get its old content back.
    (dist / "catalog.ttl").unlink()
    (dist / "catalog.ttl").mkdir()
    (dist / "catalog.ttl" / "keep").write_text("x")
    done = run("build", catalog)
    assert done.returncode == 2
    assert "cannot" in one_line(done.stderr)
    assert (dist / "catalog.trig").read_bytes() == before["catalog.trig"]
    assert (dist / "catalog.sha256").read_bytes() == before["catalog.sha256"]
    assert sorted(p.name for p in dist.iterdir()) == [
        "catalog.sha256",
        "catalog.trig",
        "catalog.ttl",
    ]


# ---------------------------------------------------------------- outputs inside the sources


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "{root}", "--out", "{root}/data/resources/3182.yaml"),
        ("export", "csv", "{root}", "--out", "{root}/data/resources/export.csv"),
        ("build", "{root}", "--out", "{root}/data/resources"),
        ("publish", "{root}", "--out", "{root}/data/releases"),
    ],
)
def test_outputs_inside_the_catalog_sources_are_refused(
    catalog: Path, args: tuple[str, ...]
) -> None:
    """`rkg validate --out data/resources/3182.yaml` silently overwrote the record."""
    before = {p: p.read_bytes() for p in (catalog / "data").rglob("*") if p.is_file()}
    done = run(*(a.format(root=catalog) for a in args))
    assert done.returncode == 2
    assert "is inside the catalog's sources" in one_line(done.stderr)
    assert {p: p.read_bytes() for p in (catalog / "data").rglob("*") if p.is_file()} == before


# ---------------------------------------------------------------- tracebacks still seen


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ('[tool.resource_kg]\nbase = "not an iri/"\n', "base 'not an iri/' is not an IRI"),
        ('[tool.resource_kg]\nbase = "https://x y/"\n', "is not an IRI"),
        ("[tool]\nresource_kg = 5\n", "[tool.resource_kg] must be a table of settings"),
        ("[tool.resource_kg]\ntitle = 5\n", "field 'title': title must be a quoted string"),
    ],
)
def test_bad_settings_are_one_line(catalog: Path, settings: str, words: str) -> None:
    (catalog / "pyproject.toml").write_text(settings, encoding="utf-8")
    done = run("build", catalog)
    assert done.returncode == 2
    assert words in one_line(done.stderr)


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "{root}", "--out", "/proc/x"),
        ("export", "csv", "{root}", "--out", "/proc/x"),
        ("build", "{root}", "--out", "/proc/x"),
    ],
)
def test_unwritable_out_is_one_line(catalog: Path, args: tuple[str, ...]) -> None:
    done = run(*(a.format(root=catalog) for a in args))
    assert done.returncode == 2
    assert one_line(done.stderr).startswith("error: cannot write /proc/x")


@pytest.mark.parametrize(
    "args", [("export", "csv", "{root}"), ("validate", "{root}"), ("query", "developers", "{root}")]
)
def test_standard_output_on_a_full_device_is_one_line(catalog: Path, args: tuple[str, ...]) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "w") as full:
        done = run(*(a.format(root=catalog) for a in args), stdout=full.fileno())
    assert done.returncode == 2
    assert one_line(done.stderr) == "error: cannot read or write: No space left on device"


def _loaded_pyoxigraph(pid: int) -> bool:
    try:
        return "pyoxigraph" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def test_ctrl_c_during_start_up_is_one_line(catalog: Path) -> None:
    """Ctrl-C while the CLI imports its libraries ended in a traceback."""
    if not Path(f"/proc/{os.getpid()}/maps").exists():
        pytest.skip("needs /proc to see when the CLI's libraries load")
    process = subprocess.Popen(
        [sys.executable, "-m", "resource_kg", "build", str(catalog)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while not _loaded_pyoxigraph(process.pid) and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    if process.returncode == 0:
        pytest.skip("the build finished before the signal arrived")
    assert (process.returncode, err) == (130, "aborted\n")
