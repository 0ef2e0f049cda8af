"""CHANGES.md and changes.ttl of a release against a previous one (fixtures: publish/changes)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import rdflib

from resource_kg.catalog import Catalog
from resource_kg.changes import compare, releases_in
from resource_kg.publish import publish

FIXTURES = Path(__file__).parent / "fixtures" / "publish" / "changes"
CURRENT = FIXTURES / "current"
PREVIOUS = FIXTURES / "previous" / "1.0.0"
DATE = dt.date(2024, 6, 1)


def _triples(data: bytes | str) -> set[tuple[rdflib.term.Node, ...]]:
    graph = rdflib.Graph().parse(data=data, format="turtle")
    return {tuple(t) for t in graph}


def test_publish_with_previous_writes_exact_changelog(tmp_path: Path) -> None:
    release = publish(
        Catalog.load(CURRENT, today=DATE),
        tmp_path / "out",
        version="1.1.0",
        date=DATE,
        previous=PREVIOUS,
    )
    expected_md = (FIXTURES / "expected-CHANGES.md").read_text(encoding="utf-8")
    assert (release.path / "CHANGES.md").read_text(encoding="utf-8") == expected_md
    written = (release.path / "changes.ttl").read_bytes()
    assert _triples(written) == _triples((FIXTURES / "expected-changes.ttl").read_bytes())
    assert written.startswith(
        b"# Changes in release 1.1.0: 1 added, 1 removed, 1 changed since 1.0.0.\n"
    )


def test_previous_defaults_to_newest_older_release_in_out(tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(PREVIOUS, out / "1.0.0")
    # A leftover of an interrupted publish and a newer release must not be taken as "previous".
    (out / ".1.0.1.abc.partial").mkdir()
    release = publish(Catalog.load(CURRENT, today=DATE), out, version="1.1.0", date=DATE)
    assert release.previous == out / "1.0.0"
    expected_md = (FIXTURES / "expected-CHANGES.md").read_text(encoding="utf-8")
    assert (release.path / "CHANGES.md").read_text(encoding="utf-8") == expected_md
    assert [p.name for p in releases_in(out)] == ["1.0.0", "1.1.0"]


def test_changed_fields_carry_old_and_new_values() -> None:
    changes = compare(Catalog.load(CURRENT, today=DATE), "1.1.0", DATE, PREVIOUS)
    assert [(r.kind, r.id) for r in changes.resources] == [
        ("added", "d4"),
        ("removed", "b2"),
        ("changed", "a1"),
    ]
    a1 = changes.resources[2]
    assert [(f.field, f.old, f.new) for f in a1.fields] == [
        ("year", ("2020",), ("2021",)),
        ("secondary_audience", (), ("PCAs",)),
    ]


def test_first_release_says_so() -> None:
    changes = compare(Catalog.load(CURRENT, today=DATE), "1.0.0", DATE, None)
    assert changes.markdown() == (
        "# Changes in release 1.0.0 (2024-06-01)\n\n"
        "First release: there is no previous release to compare with.\n"
    )
    assert _triples(changes.turtle("https://example.org/r/")) == set()
