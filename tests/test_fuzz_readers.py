"""Property-based fuzzing of the readers of catalog input (issue 18), with a fixed budget.

Inputs are random bytes and structure-aware mutations of real files (a bundled record, the
bundled organizations, an exported CSV, an invented page fixture): tokens YAML, CSV and JSON
give meaning to (anchors, aliases, complex keys, tags, quotes, NUL, lone surrogates, deep
nesting) inserted, deleted, duplicated and swapped. For every input:

- the reader returns records or raises the package's one error type, whose message is one
  line naming the file (never any other exception: that would be a traceback at the CLI);
- through the real `rkg` entry point the exit status is 0, 1 or 2, an error is one line
  naming the file, and nothing is written when it fails;
- each input is read within a time and memory bound.

`derandomize=True` and a fixed `max_examples` make the run the same in CI every time.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resource_kg.cli import main
from resource_kg.config import DEFAULT_BASE
from resource_kg.errors import RkgError
from resource_kg.importing import PageReader, load_lexicon
from resource_kg.recordfile import read_csv_rows
from resource_kg.records import read_file
from resource_kg.vocab import Lexicon, load_organizations

ROOT = Path(__file__).resolve().parents[1]
RECORD = (ROOT / "data" / "resources" / "3182.yaml").read_bytes()
ORGANIZATIONS = (ROOT / "data" / "organizations.yaml").read_bytes()
PAGE = (ROOT / "tests" / "fixtures" / "import" / "seed_4184.txt").read_bytes()
JSONL = b'{"id": "9", "title": "Invented", "keywords": ["a", "b"], "year": 2020}\n'
CSV = b"id,title,year,keywords\n9,Invented,2020,Housing; Access to Care\n"

TOKENS = [
    b"&a ", b"*a", b"? ", b"[", b"]", b"{", b"}", b": ", b"- ", b",", b";", b'"', b"'",
    b"\x00", b"\t", b"\r", b"\n", b"\n  ", b"#", b"|", b">-", b"<<: *a", b"!!python/object:os.system ",
    b"!!binary ", b"%TAG ", b"---\n", b"...\n", b"0042", b"+5", b"1_000", b"\xef\xbb\xbf", b"\xff",
    b"\\ud800", b'"\\ud800"', b"\\0", b"%zz", b"[::1", b"=HYPERLINK(", b"[" * 200, b"a" * 300,
    b"id: ", b"title: ", b"url: http://x/%", b"year: twenty",
]  # fmt: skip

#: Per input: a reader has this long and this much Python memory.
SECONDS = 5.0
MEGABYTES = 64


@st.composite
def mutations(draw: st.DrawFn, seed: bytes) -> bytes:
    """`seed` with a few edits: tokens inserted, spans deleted, duplicated or replaced."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        op = draw(st.sampled_from(["token", "delete", "duplicate", "byte"]))
        at = draw(st.integers(min_value=0, max_value=len(data)))
        if op == "token":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif op == "byte":
            data[at:at] = bytes([draw(st.integers(min_value=0, max_value=255))])
        else:
            end = min(len(data), at + draw(st.integers(min_value=1, max_value=40)))
            span = bytes(data[at:end])
            data[at:end] = span * 2 if op == "duplicate" else b""
    return bytes(data)


def inputs(seed: bytes) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=600), mutations(seed), mutations(seed).map(lambda b: b * 3))


FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CLI_FUZZ = settings(FUZZ, max_examples=30)


def bounded(call: Callable[[], object]) -> None:
    """Run `call` within the time and memory bounds; only RkgError may come out of it."""
    tracemalloc.start()
    start = time.monotonic()
    try:
        call()
    except RkgError as exc:
        assert "\n" not in str(exc), str(exc)
        assert exc.file is not None or "--map" in exc.message, str(exc)
    finally:
        elapsed = time.monotonic() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < SECONDS
    assert peak < MEGABYTES * 1024 * 1024


def scratch(name: str, data: bytes) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="rkg-fuzz-"))
    path = folder / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- the readers themselves


@FUZZ
@given(data=inputs(RECORD))
def test_yaml_record_reader(data: bytes) -> None:
    path = scratch("x.yaml", data)
    try:
        bounded(lambda: read_file(path))
    finally:
        shutil.rmtree(path.parent)


@FUZZ
@given(data=st.one_of(inputs(JSONL), inputs(CSV)), suffix=st.sampled_from([".jsonl", ".csv"]))
def test_jsonl_and_csv_record_readers(data: bytes, suffix: str) -> None:
    path = scratch("x" + suffix, data)
    try:
        bounded(lambda: read_file(path))
    finally:
        shutil.rmtree(path.parent)


@FUZZ
@given(data=inputs(ORGANIZATIONS))
def test_organizations_reader(data: bytes) -> None:
    path = scratch("organizations.yaml", data)
    try:
        bounded(lambda: load_organizations(path, path.parent, DEFAULT_BASE, Lexicon()))
    finally:
        shutil.rmtree(path.parent)


@FUZZ
@given(data=inputs(CSV))
def test_csv_import_reader(data: bytes) -> None:
    path = scratch("sheet.csv", data)
    try:
        bounded(lambda: read_csv_rows(path))
    finally:
        shutil.rmtree(path.parent)


READER = PageReader(load_lexicon(ROOT))


@settings(FUZZ, max_examples=60)
@given(data=inputs(PAGE), suffix=st.sampled_from([".txt", ".html"]))
def test_page_reader(data: bytes, suffix: str) -> None:
    path = scratch("page" + suffix, data)
    try:
        bounded(lambda: READER.read(path))
    finally:
        shutil.rmtree(path.parent)


# ---------------------------------------------------------------- through the CLI


def rkg(*args: str | Path) -> tuple[int, str]:
    """The real entry point, in this process: exit status and standard error."""
    err, out = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stderr(err), redirect_stdout(out):
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, err.getvalue()


def catalog_copy() -> Path:
    root = Path(tempfile.mkdtemp(prefix="rkg-fuzz-"))
    shutil.copytree(ROOT / "data", root / "data")
    return root


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def check_cli(code: int, err: str, name: str) -> None:
    assert code in (0, 1, 2), err
    assert "Traceback" not in err, err
    if code == 2:
        errors = [line for line in err.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, err
        assert name in errors[0], err


@CLI_FUZZ
@given(data=inputs(RECORD), which=st.sampled_from(["record", "organizations"]))
def test_build_of_a_mutated_catalog(data: bytes, which: str) -> None:
    root = catalog_copy()
    try:
        name = "data/resources/9.yaml" if which == "record" else "data/organizations.yaml"
        (root / name).write_bytes(data if which == "record" else data + ORGANIZATIONS)
        start = time.monotonic()
        code, err = rkg("build", root)
        assert time.monotonic() - start < 30
        check_cli(code, err, name)
        if code == 2:
            assert not (root / "dist").exists()  # nothing written on error
    finally:
        shutil.rmtree(root)


@CLI_FUZZ
@given(data=inputs(CSV))
def test_import_csv_of_a_mutated_sheet(data: bytes) -> None:
    root = catalog_copy()
    try:
        sheet = root / "sheet.csv"
        sheet.write_bytes(data)
        before = files_of(root / "data")
        code, err = rkg("import", "csv", sheet, root)
        check_cli(code, err, "sheet.csv")
        if code == 2:
            assert files_of(root / "data") == before  # nothing written on error
    finally:
        shutil.rmtree(root)
