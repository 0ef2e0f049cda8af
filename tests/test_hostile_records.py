"""Hostile and careless record and organization files (issue 18): one clear line, never a traceback.

Every fixture here is invented: a copy of the bundled catalog with one file changed to show
one case. Each case runs the real `rkg` entry point (in-process, or as a subprocess where
time and memory are what is checked) and asserts the exit status and the one line it prints.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from cli_run import copy_bundled, run_cli

from resource_kg.records import MAX_TEXT

ROOT = Path(__file__).resolve().parents[1]


def rkg(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run the real CLI entry point; exit status, standard output, standard error."""
    return run_cli(capsys, *args)


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """A copy of the bundled catalog's data folder."""
    return copy_bundled(tmp_path)


def one_error_line(err: str) -> str:
    """The single line a refused input prints (no traceback, no second line)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("error: "), err
    return lines[0]


def nested_alias_key(levels: int) -> str:
    """The probe's ~500-byte complex key: each anchor lists the previous one nine times."""
    anchors = ["&a0 [x,x,x,x,x,x,x,x,x]"]
    anchors += [f"&a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "? [" + ", ".join(anchors) + "]\n: c\n"


def test_complex_key_of_nested_aliases_is_refused_fast(catalog: Path) -> None:
    """Seven levels took 147 s or a MemoryError: the key was formatted into the message."""
    record = catalog / "data" / "resources" / "9.yaml"
    record.write_text("id: 9\n" + nested_alias_key(7), encoding="utf-8")
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "resource_kg", "build", str(catalog)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert time.monotonic() - start < 20
    assert done.returncode == 2
    line = one_error_line(done.stderr)
    assert line == (
        "error: data/resources/9.yaml:2: a key must be a plain name, not a list or mapping "
        "(`? [...]`)"
    )


def test_alias_bomb_in_a_value_is_refused(
    capsys: pytest.CaptureFixture[str], catalog: Path
) -> None:
    anchors = ["&a0 [x,x,x,x,x,x,x,x,x]"]
    anchors += [f"&a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 8)]
    (catalog / "data" / "resources" / "9.yaml").write_text(
        "id: 9\nkeywords: [" + ", ".join(anchors) + "]\n", encoding="utf-8"
    )
    code, _, err = rkg(capsys, "build", catalog)
    assert code == 2
    assert "data/resources/9.yaml:2: aliases expand this document beyond 100,000 values" in (
        one_error_line(err)
    )


def test_a_few_aliases_are_still_read(capsys: pytest.CaptureFixture[str], catalog: Path) -> None:
    (catalog / "data" / "resources" / "9.yaml").write_text(
        "id: 9\ntitle: &t Invented aliased title\nsubtitle: *t\n", encoding="utf-8"
    )
    code, _, err = rkg(capsys, "build", catalog)
    assert code == 0, err
    assert "Invented aliased title" in (catalog / "dist" / "catalog.ttl").read_text()


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("9.yaml", "id: 9\ntitle: {big}\n"),  # the fast reader's layout
        ("9.yaml", "id: 9\ntitle: '{big}'\nkeywords: [a]\n"),  # the YAML parser's
        ("9.jsonl", '{{"id": "9", "title": "{big}"}}\n'),
        ("9.csv", "id,title\n9,{big}\n"),
    ],
)
def test_text_over_the_limit_is_one_clear_error(
    capsys: pytest.CaptureFixture[str], catalog: Path, name: str, text: str
) -> None:
    """A 16 MiB title made validate and publish die and build write unreadable dumps."""
    (catalog / "data" / "resources" / name).write_text(
        text.format(big="a" * (MAX_TEXT + 1)), encoding="utf-8"
    )
    code, _, err = rkg(capsys, "build", catalog)
    assert code == 2
    line = one_error_line(err)
    assert f"data/resources/{name}:2" in line or f"data/resources/{name}:1" in line
    assert "'title'" in line and "the limit is 1,000,000" in line
    assert not (catalog / "dist").exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/100%-free",
        "https://example.org/%zz",
        "https://x.org/a#b#c",
        "http://[::1",
    ],
)
def test_bad_url_is_a_warning_and_the_dumps_read_back(
    capsys: pytest.CaptureFixture[str], catalog: Path, url: str
) -> None:
    record = catalog / "data" / "resources" / "3182.yaml"
    text = record.read_text(encoding="utf-8")
    record.write_text(
        text.replace("url: https://healthcenterinfo.org/details/?id=3182", f"url: {url}"),
        encoding="utf-8",
    )
    code, _, err = rkg(capsys, "build", catalog)
    assert code == 0, err
    assert f"data/resources/3182.yaml:4: record 3182: field 'url': url {url!r} is not" in err
    quads = list(ox.parse(path=str(catalog / "dist" / "catalog.trig"), format=ox.RdfFormat.TRIG))
    assert any(isinstance(q.object, ox.Literal) and q.object.value == url for q in quads)


def test_bad_homepage_is_left_out_not_a_crash(
    capsys: pytest.CaptureFixture[str], catalog: Path
) -> None:
    orgs = catalog / "data" / "organizations.yaml"
    orgs.write_text(
        orgs.read_text(encoding="utf-8").replace(
            "homepage: https://www.ncfh.org/", "homepage: https://www.ncfh.org/100%-free"
        ),
        encoding="utf-8",
    )
    code, _, err = rkg(capsys, "build", catalog)
    assert code == 0, err
    assert "100%-free" not in (catalog / "dist" / "catalog.ttl").read_text()


@pytest.mark.parametrize("rid", ["0042", "1_000", "007"])
def test_ids_are_kept_as_written(
    capsys: pytest.CaptureFixture[str], catalog: Path, rid: str
) -> None:
    """`0042` became 42 and `1_000` became 1000: another resource, silently."""
    (catalog / "data" / "resources" / "9.yaml").write_text(
        f"id: {rid}\ntitle: Invented\nkeywords:\n  - 0042\n", encoding="utf-8"
    )
    code, _, err = rkg(capsys, "build", catalog)
    assert code == 0, err
    ttl = (catalog / "dist" / "catalog.ttl").read_text()
    assert f"<https://w3id.org/resource-kg/resource/{rid}>" in ttl
    code, out, _ = rkg(capsys, "export", "csv", catalog)
    assert f"\n{rid},,Invented," in out


def test_signed_id_is_refused(capsys: pytest.CaptureFixture[str], catalog: Path) -> None:
    (catalog / "data" / "resources" / "9.yaml").write_text("id: +5\ntitle: x\n", encoding="utf-8")
    code, _, err = rkg(capsys, "build", catalog)
    assert code == 2
    assert one_error_line(err).startswith("error: data/resources/9.yaml:1: field 'id': id '+5'")


@pytest.mark.parametrize("layout", ["id: {rid}\ntitle: x\n", "id: {rid}\ntitle: [x]\n"])
def test_overlong_id_is_refused(
    capsys: pytest.CaptureFixture[str], catalog: Path, layout: str
) -> None:
    """Ids over ~250 characters crashed publish and import with ENAMETOOLONG."""
    (catalog / "data" / "resources" / "9.yaml").write_text(
        layout.format(rid="a" * 300), encoding="utf-8"
    )
    code, _, err = rkg(capsys, "build", catalog)
    assert code == 2
    assert "has 300 characters; the limit is 200" in one_error_line(err)


@pytest.mark.parametrize(
    ("name", "data", "where", "words"),
    [
        ("9.yaml", b"id: 9\ntitle: a\x00b\n", "9.yaml:2", "#x0000 is not allowed"),
        ("9.yaml", b'id: 9\ntitle: "a\\0b"\n', "9.yaml:2", "holds a NUL byte"),
        ("9.jsonl", b'{"id": "9", "title": "a\\u0000b"}\n', "9.jsonl:1", "holds a NUL byte"),
        ("9.jsonl", b'{"id": "9", "title": "\\ud800"}\n', "9.jsonl:1", "a lone surrogate"),
        ("9.csv", b"id,title\n9,a\x00b\n", "9.csv:2", "holds a NUL byte"),
        (
            "9.jsonl",
            b'{"id": "9", "title": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
            "9.jsonl:1",
            "nested too deeply",
        ),
        ("9.jsonl", b'{"id": 1e3, "title": "x"}\n', "9.jsonl:1", "must be a string"),
    ],
)
def test_bad_characters_and_nesting_are_one_line(
    capsys: pytest.CaptureFixture[str],
    catalog: Path,
    name: str,
    data: bytes,
    where: str,
    words: str,
) -> None:
    (catalog / "data" / "resources" / name).write_bytes(data)
    code, _, err = rkg(capsys, "build", catalog)
    assert code == 2
    line = one_error_line(err)
    assert f"data/resources/{where}" in line and words in line


@pytest.mark.parametrize("command", ["build", "validate"])
def test_symlink_loop_in_data_is_one_line(
    capsys: pytest.CaptureFixture[str], catalog: Path, command: str
) -> None:
    resources = catalog / "data" / "resources"
    (resources / "a.yaml").symlink_to("b.yaml")
    (resources / "b.yaml").symlink_to("a.yaml")
    code, _, err = rkg(capsys, command, catalog)
    assert code == 2
    assert "a symbolic link that loops" in one_error_line(err)


def test_symlinked_folder_loop_is_harmless(
    capsys: pytest.CaptureFixture[str], catalog: Path
) -> None:
    (catalog / "data" / "resources" / "again").symlink_to(".")
    code, _, err = rkg(capsys, "build", catalog)
    assert code == 0, err
    assert "built 3 resources" in err


# ---------------------------------------------------------------- organizations


@pytest.mark.parametrize(
    ("org_id", "words"),
    [
        ("zzz/ncmlp", "id 'zzz/ncmlp' may hold only letters"),
        ('"a b"', "id 'a b' may hold only letters"),
        ("'<x>'", "id '<x>' may hold only letters"),
        ("'a\"b'", "may hold only letters"),
        ("ncmlp", "organization id ncmlp is used twice (also on line 4)"),
        ("NCMLP", "organization id NCMLP and ncmlp name the same page (also on line 4)"),
    ],
)
def test_organization_ids_follow_the_record_id_rule(
    capsys: pytest.CaptureFixture[str], catalog: Path, org_id: str, words: str
) -> None:
    """`zzz/ncmlp` showed an impostor on site/org/ncmlp.html; a space, `<` or `"` crashed."""
    orgs = catalog / "data" / "organizations.yaml"
    orgs.write_text(
        orgs.read_text(encoding="utf-8").replace("- id: fj\n", f"- id: {org_id}\n"),
        encoding="utf-8",
    )
    code, _, err = rkg(capsys, "build", catalog)
    assert code == 2
    line = one_error_line(err)
    assert line.startswith("error: data/organizations.yaml:12: field 'id': ")
    assert words in line


def test_organizations_complex_key_is_one_line(
    capsys: pytest.CaptureFixture[str], catalog: Path
) -> None:
    orgs = catalog / "data" / "organizations.yaml"
    orgs.write_text("- " + nested_alias_key(7).replace("\n:", "\n  :"), encoding="utf-8")
    code, _, err = rkg(capsys, "build", catalog)
    assert code == 2
    assert "data/organizations.yaml:1: a key must be a plain name" in one_error_line(err)
