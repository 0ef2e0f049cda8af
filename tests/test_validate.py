"""Validation maps SHACL results back to record, field, file and line; both engines agree."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resource_kg import Catalog
from resource_kg.errors import StructureError, ValidationError
from resource_kg.store.state import store_dir
from resource_kg.validate import KEYS, Report, validate

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).resolve().parent / "fixtures" / "validate"
DAY = dt.date(2025, 6, 1)

Row = tuple[str, str, int, str, str, str, str]


def rows(report: Report) -> list[Row]:
    """(record, file name, line, field, value, severity, shape) of every finding."""
    return [
        (f.id, Path(f.file).name, f.line, f.field, f.value, f.severity, f.shape)
        for f in report.findings
    ]


def load(case: str, on: dt.date = DAY) -> Catalog:
    catalog = Catalog.load(FIX / case, today=on)
    extra = FIX / case / "extra.ttl"
    if extra.is_file():  # triples an outside tool added; the build cannot make them
        added = [
            ox.Quad(t.subject, t.predicate, t.object, catalog.graphs.catalog)
            for t in ox.parse(extra.read_bytes(), format=ox.RdfFormat.TURTLE)
        ]
        catalog = Catalog(
            catalog.paths,
            catalog.settings,
            catalog.graphs,
            catalog.lexicon,
            catalog.records,
            catalog.organizations,
            list(catalog.quads) + added,
            catalog.diagnostics,
            catalog.sources,
        )
    return catalog


# ---------------------------------------------------------------- one fixture per case

EXPECTED: dict[str, list[Row]] = {
    "valid/complete-record": [],
    "valid/ontology-and-vocabularies": [],
    "invalid/required-missing-fields": [
        ("r1", "r1.yaml", 2, "developed_by", "", "Violation", "rkgsh:RequiredDeveloper"),
        ("r1", "r1.yaml", 2, "languages", "", "Violation", "rkgsh:RequiredLanguage"),
        ("r1", "r1.yaml", 2, "primary_audience", "", "Violation", "rkgsh:RequiredPrimaryAudience"),
        ("r1", "r1.yaml", 2, "title", "", "Violation", "rkgsh:RequiredTitle"),
        ("r1", "r1.yaml", 2, "topics", "", "Violation", "rkgsh:RequiredTopic"),
        ("r1", "r1.yaml", 2, "types", "", "Violation", "rkgsh:RequiredType"),
        ("r1", "r1.yaml", 2, "year", "", "Violation", "rkgsh:RequiredYear"),
    ],
    "invalid/required-bad-values": [
        ("r1", "r1.yaml", 3, "url", "ftp://example.org/r1", "Violation", "rkgsh:RequiredUrl"),
        ("r1", "r1.yaml", 5, "year", "1950", "Violation", "rkgsh:RequiredYearRange"),
        (
            "r1",
            "r1.yaml",
            8,
            "primary_audience",
            "Clinicans",
            "Violation",
            "rkgsh:RequiredNoUnresolvedLabel",
        ),
        ("r1", "r1.yaml", 22, "date_added", "2024-13-01", "Violation", "rkgsh:RequiredDateAdded"),
        (
            "r1",
            "r1.yaml",
            23,
            "last_reviewed",
            "soon",
            "Violation",
            "rkgsh:RequiredLastReviewedDate",
        ),
    ],
    "invalid/required-year-after-next": [
        ("r1", "r1.yaml", 5, "year", "2027", "Violation", "rkgsh:RequiredYearRange"),
    ],
    "invalid/vocabulary-wrong-scheme": [
        (
            "r1",
            "r1.yaml",
            8,
            "primary_audience",
            "Health Equity",
            "Violation",
            "rkgsh:VocabularyPrimaryAudience",
        ),
        ("r1", "r1.yaml", 23, "status", "paused", "Violation", "rkgsh:VocabularyStatus"),
        ("r1", "r1.yaml", 24, "replaced_by", "r9", "Violation", "rkgsh:VocabularyReplacedBy"),
    ],
    "invalid/recommended-missing": [
        ("r1", "r1.yaml", 2, "keywords", "", "Warning", "rkgsh:RecommendedKeyword"),
        (
            "r1",
            "r1.yaml",
            2,
            "secondary_audience",
            "",
            "Warning",
            "rkgsh:RecommendedSecondaryAudience",
        ),
        ("r1", "r1.yaml", 2, "summary", "", "Warning", "rkgsh:RecommendedSummary"),
        (
            "r2",
            "r2.yaml",
            8,
            "primary_audience",
            "Clinicians",
            "Warning",
            "rkgsh:RecommendedDistinctAudiences",
        ),
    ],
    "invalid/curation-review": [
        ("r1", "r1.yaml", 2, "last_reviewed", "", "Warning", "rkgsh:CurationReviewed"),
        ("r2", "r2.yaml", 22, "last_reviewed", "2024-05-31", "Warning", "rkgsh:CurationReviewDue"),
        ("r4", "r4.yaml", 2, "replaced_by", "", "Warning", "rkgsh:CurationReplacement"),
    ],
    "invalid/curation-duplicates": [
        (
            "r1",
            "r1.yaml",
            3,
            "url",
            "https://example.org/same",
            "Violation",
            "rkgsh:CurationUniqueUrl",
        ),
        (
            "r2",
            "r2.yaml",
            3,
            "url",
            "http://www.example.org/same/",
            "Violation",
            "rkgsh:CurationUniqueUrl",
        ),
        ("r3", "r3.yaml", 4, "title", "Heat Guide", "Violation", "rkgsh:CurationUniqueTitle"),
        ("r4", "r4.yaml", 4, "title", "heat-guide!", "Violation", "rkgsh:CurationUniqueTitle"),
    ],
    "invalid/vocabularies-concepts": [
        (
            "audience/two-labels",
            "audiences.ttl",
            8,
            "skos:prefLabel",
            "",
            "Violation",
            "rkgsh:VocabulariesPrefLabel",
        ),
        (
            "audience/two-schemes",
            "audiences.ttl",
            13,
            "skos:inScheme",
            "",
            "Violation",
            "rkgsh:VocabulariesOneScheme",
        ),
        (
            "audience/pharmacists",
            "audiences.ttl",
            18,
            "skos:prefLabel",
            "Pharmacists",
            "Violation",
            "rkgsh:VocabulariesDistinctLabel",
        ),
        (
            "audience/pharmacy-staff",
            "audiences.ttl",
            23,
            "skos:altLabel",
            "pharmacists",
            "Violation",
            "rkgsh:VocabulariesDistinctLabel",
        ),
        (
            "audience/cycle-a",
            "audiences.ttl",
            29,
            "skos:broader",
            "audience/cycle-b",
            "Violation",
            "rkgsh:VocabulariesNoBroaderCycle",
        ),
        (
            "audience/cycle-b",
            "audiences.ttl",
            35,
            "skos:broader",
            "audience/cycle-a",
            "Violation",
            "rkgsh:VocabulariesNoBroaderCycle",
        ),
    ],
    "invalid/ontology-undocumented": [
        (
            "rkg:Resource",
            "resource-kg.ttl",
            6,
            "rdfs:comment",
            "",
            "Violation",
            "rkgsh:OntologyComment",
        ),
        (
            "rkg:primaryAudience",
            "resource-kg.ttl",
            10,
            "rdfs:label",
            "",
            "Violation",
            "rkgsh:OntologyLabel",
        ),
    ],
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_exact_findings(case: str) -> None:
    assert rows(validate(load(case), DAY)) == EXPECTED[case]


# pySHACL on the whole graph parses each SPARQL constraint once per focus node (≈ 5 s on the
# bundled vocabularies), so the comparison runs on the cases that exercise every kind of check:
# SPARQL joins, date facts, nested sh:node, unresolved labels, concept and ontology shapes.
REFERENCE_CASES = [
    "invalid/curation-duplicates",
    "invalid/curation-review",
    "invalid/required-bad-values",
    "invalid/vocabulary-wrong-scheme",
    "invalid/vocabularies-concepts",
    "invalid/ontology-undocumented",
    "release/portable",
    "custom/user-shape",
]


@pytest.mark.parametrize("case", REFERENCE_CASES)
def test_fast_engine_equals_pyshacl_on_whole_graph(case: str) -> None:
    catalog = load(case)
    fast = validate(catalog, DAY, batch_size=1)
    reference = validate(catalog, DAY, engine="pyshacl")
    assert fast.findings == reference.findings
    assert fast.render("json") == reference.render("json")


def test_a_users_own_sparql_shape_needs_no_second_copy() -> None:
    """Shapes of a catalog's own (tests/fixtures/validate/custom/user-shape/shapes): written
    once, as for any SHACL engine; the fast engine finds what pySHACL finds."""
    from resource_kg.validate import load_shapes

    catalog = load("custom/user-shape")
    shapes = load_shapes(catalog.paths.shapes, catalog.paths.root)
    plans = {c.shape.rsplit("#", 1)[-1]: c for c in shapes.sparql}
    # $this only inside FILTER NOT EXISTS: run per focus node; the comparison: in one pass
    assert not plans["KeywordGiven"].join_safe
    assert plans["OwnSummary"].join_safe
    assert plans["OwnSummary"].reads == (
        "http://purl.org/dc/terms/abstract",
        "http://purl.org/dc/terms/identifier",
    )
    assert rows(validate(catalog, DAY, batch_size=1)) == [
        ("r1", "r1.yaml", 2, "", "", "Info", "https://example.org/shapes#KeywordGiven"),
        (
            "r2",
            "r2.yaml",
            17,
            "summary",
            "An invented resource.",
            "Warning",
            "https://example.org/shapes#OwnSummary",
        ),
        (
            "r3",
            "r3.yaml",
            17,
            "summary",
            "An invented resource.",
            "Warning",
            "https://example.org/shapes#OwnSummary",
        ),
    ]


@pytest.mark.parametrize(
    ("select", "safe"),
    [
        ("SELECT $this WHERE { $this <urn:p> ?v . FILTER NOT EXISTS { $this <urn:q> ?w } }", True),
        ("SELECT $this WHERE { FILTER NOT EXISTS { $this <urn:q> ?w } }", False),
        ("SELECT ?v WHERE { ?x <urn:p> ?v . OPTIONAL { $this <urn:q> ?v } }", False),
        ("SELECT ?v WHERE { $this <urn:p> ?v . OPTIONAL { ?v <urn:q> $this } }", True),
        ("SELECT ?s WHERE { BIND (STR($this) AS ?s) $this <urn:p> ?v }", False),
        ("SELECT $this WHERE { $this <urn:p> ?v } LIMIT 1", False),
        ("SELECT ?v WHERE { ?x <urn:p> ?v . { ?y <urn:q> ?v FILTER (?y != $this) } }", False),
        ("SELECT ?v WHERE { $this <urn:p>* ?v }", True),
        ("SELECT ?v WHERE { ?x <urn:p>* ?v . FILTER (?x != $this) }", False),
    ],
)
def test_whole_graph_form_only_where_it_equals_pre_binding(select: str, safe: bool) -> None:
    from resource_kg.validate import plan_query

    query, plan = plan_query("", select)
    assert plan.join_safe is safe
    assert "$this" not in query and "?this" in query.split("WHERE")[0]


def test_batched_equals_one_batch() -> None:
    catalog = load("invalid/curation-review")
    one = validate(catalog, DAY, batch_size=1000)
    assert validate(catalog, DAY, batch_size=2).findings == one.findings
    assert len(one.findings) == 3


def test_incremental_equals_full(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(FIX / "invalid/curation-review", root)
    cache = tmp_path / "store"
    first = validate(Catalog.load(root), DAY, cache=cache)
    assert (cache / "state.sqlite").is_file()
    record = root / "data/resources/r3.yaml"
    record.write_text(record.read_text().replace("last_reviewed: 2024-06-01\n", ""))
    edited = Catalog.load(root)
    calls: list[tuple[int, int]] = []
    incremental = validate(edited, DAY, cache=cache, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (1, 1)  # only the edited record went through pySHACL again
    full = validate(edited, DAY)
    assert incremental.findings == full.findings
    assert len(full.findings) == len(first.findings) + 1


def test_messages_substitute_values_and_suggest_labels() -> None:
    msgs = {f.field: f.message for f in validate(load("invalid/required-bad-values"), DAY).findings}
    assert msgs["year"] == "Year 1950 is out of range: it must lie between 1960 and 2026."
    assert "closest known: 'Clinicians'" in msgs["primary_audience"]
    dup = validate(load("invalid/curation-duplicates"), DAY).findings[0]
    assert dup.message.startswith("Same url as record r2:")


def test_validation_date_decides_year_and_review() -> None:
    later = dt.date(2026, 6, 1)
    # in 2026, year 2027 is allowed, but the review of 2025-01-15 is now overdue
    assert rows(validate(load("invalid/required-year-after-next", later), later)) == [
        ("r1", "r1.yaml", 22, "last_reviewed", "2025-01-15", "Warning", "rkgsh:CurationReviewDue")
    ]
    earlier = dt.date(2025, 5, 31)
    found = rows(validate(load("invalid/curation-review"), earlier))
    assert [r[0] for r in found] == ["r1", "r4"]


def test_bundled_catalog_has_no_violation_and_3736_only_warns() -> None:
    report = validate(Catalog.load(ROOT), DAY)
    assert report.conforms("violation")
    assert report.counts()["Violation"] == 0
    warned = {(f.id, f.field, f.value) for f in report.findings if f.id == "3736"}
    assert ("3736", "primary_audience", "Clinicians") in warned
    assert {f.severity for f in report.findings if f.field == "primary_audience"} == {"Warning"}


# ---------------------------------------------------------------- output


@pytest.mark.parametrize("fmt", ["text", "csv", "json", "markdown", "ttl"])
def test_two_runs_are_byte_identical(fmt: str) -> None:
    first = validate(load("invalid/recommended-missing"), DAY).render(fmt)
    second = validate(load("invalid/recommended-missing"), DAY).render(fmt)
    assert first == second
    assert first


def test_json_has_exactly_the_keys_and_a_summary() -> None:
    doc = json.loads(validate(load("invalid/curation-review"), DAY).render("json"))
    assert set(doc) == {"results", "summary"}
    assert all(list(r) == list(KEYS) for r in doc["results"])
    summary = doc["summary"]
    assert summary["records_checked"] == 5
    assert summary["results_per_severity"] == {"Violation": 0, "Warning": 3, "Info": 0}
    assert summary["results_per_field"] == {"last_reviewed": 2, "replaced_by": 1}
    assert summary["focus_nodes_per_shape"]["rkgsh:CurationReviewDue"] == 5
    assert summary["validation_date"] == "2025-06-01"


def test_text_groups_by_record_and_ends_with_summary() -> None:
    text = validate(load("invalid/recommended-missing"), DAY).render("text")
    lines = text.splitlines()
    assert lines[:4] == [
        "Warnings (4)",
        "",
        "data/resources/r1.yaml: r1 — Example Resource r1",
        "  line 2: Warning: keywords",
    ]
    assert "data/resources/r2.yaml: r2 — Example Resource r2" in lines
    assert lines[-1] == (
        "Summary: 2 records checked as of 2025-06-01: 0 violations, 4 warnings, 0 info; "
        "conforms at --fail-on violation."
    )


def test_turtle_report_is_a_shacl_report() -> None:
    ttl = validate(load("invalid/curation-review"), DAY).render("ttl")
    triples = list(ox.parse(ttl.encode(), format=ox.RdfFormat.TURTLE))
    sh = "http://www.w3.org/ns/shacl#"
    results = [t for t in triples if t.predicate.value == sh + "result"]
    assert len(results) == 3
    assert not any(isinstance(t.subject, ox.BlankNode) for t in triples)


# ---------------------------------------------------------------- bad input


def test_shapes_that_do_not_parse_name_file_and_line() -> None:
    with pytest.raises(ValidationError) as info:
        validate(load("invalid/shapes-syntax"), DAY)
    assert info.value.file == "shapes/broken.ttl"
    assert info.value.line == 6


def test_shape_that_is_not_shacl_is_reported_as_such() -> None:
    with pytest.raises(ValidationError) as info:
        validate(load("invalid/shapes-not-shacl"), DAY)
    assert "not valid SHACL (pyshacl meta-SHACL" in info.value.message
    assert info.value.file == "shapes/bad.ttl"
    assert info.value.line == 9


def test_record_that_fails_to_build_is_the_build_error() -> None:
    with pytest.raises(StructureError) as info:
        Catalog.load(FIX / "invalid/record-does-not-build")
    assert info.value.field == "sumary"


# ---------------------------------------------------------------- CLI exit codes


def rkg(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "rkg"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def copy(case: str, tmp_path: Path) -> Path:
    target = tmp_path / Path(case).name
    shutil.copytree(FIX / case, target)
    return target


def test_exit_codes(tmp_path: Path) -> None:
    ok = copy("invalid/recommended-missing", tmp_path)
    assert rkg("validate", str(ok), "--date", "2025-06-01", cwd=tmp_path).returncode == 0
    res = rkg("validate", str(ok), "--date", "2025-06-01", "--fail-on", "warning", cwd=tmp_path)
    assert res.returncode == 1
    assert "line 2: Warning: keywords" in res.stdout
    bad = copy("invalid/curation-duplicates", tmp_path)
    assert rkg("validate", str(bad), "--date", "2025-06-01", cwd=tmp_path).returncode == 1
    broken = copy("invalid/shapes-syntax", tmp_path)
    res = rkg("validate", str(broken), cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.startswith("error: shapes/broken.ttl:6: shapes file does not parse")
    unbuilt = copy("invalid/record-does-not-build", tmp_path)
    res = rkg("validate", str(unbuilt), cwd=tmp_path)
    assert res.returncode == 2
    assert "data/resources/r1.yaml:16" in res.stderr
    res = rkg("validate", str(ok), "--date", "June", cwd=tmp_path)
    assert res.returncode == 2


def test_build_validate_runs_the_same_validation(tmp_path: Path) -> None:
    bad = copy("invalid/curation-duplicates", tmp_path)
    res = rkg("build", str(bad), "--validate", "--date", "2025-06-01", cwd=tmp_path)
    assert res.returncode == 1
    assert (bad / "dist" / "catalog.trig").is_file()
    assert "Same url as record r2" in res.stdout


# ---------------------------------------------------------------- scale machinery


@pytest.mark.parametrize("case", ["invalid/curation-duplicates", "valid/complete-record"])
def test_json_report_equals_the_standard_library_rendering(case: str) -> None:
    from resource_kg.validate.report import json_doc, json_doc_reference

    report = validate(load(case), DAY)
    assert json_doc(report) == json_doc_reference(report)


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet=st.characters(exclude_categories=["Cs"])),
    st.integers(-(2**63), 2**63 - 1),
)
def test_orjson_writes_what_the_standard_library_writes(text: str, number: int) -> None:
    """The JSON report's writer (orjson) against json.dumps on any text a finding can hold:
    quotes, backslashes, control characters, line separators, any script."""
    import json

    import orjson

    doc = {"results": [{"message": text, "line": number}], "summary": {"by": [text], "e": []}}
    ours = orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode("utf-8")
    assert ours == json.dumps(doc, indent=2, ensure_ascii=False)


def test_worker_processes_give_the_same_findings() -> None:
    catalog = load("invalid/curation-review")
    alone = validate(catalog, DAY, batch_size=1, workers=1)
    assert validate(catalog, DAY, batch_size=2, workers=2).findings == alone.findings


def test_whole_graph_checks_on_named_triples_equal_the_full_store() -> None:
    from resource_kg.validate import (
        ResultCache,
        focus_from_keys,
        load_shapes,
        parts_of,
        run_facts,
        sparql_results,
    )
    from resource_kg.validate.engine import Plan, whole_graph_checks, whole_keys
    from resource_kg.validate.focus import owners

    catalog = load("invalid/curation-duplicates")
    shapes = load_shapes(catalog.paths.shapes, catalog.paths.root)
    parts = parts_of(catalog)
    focus = focus_from_keys(shapes, parts.every)
    checks = [
        (c, set().union(*(focus[o] for o in owners(shapes, c))))
        for c in shapes.sparql
        if "CurationUnique" in c.shape
    ]
    assert all(c.join_safe and c.reads is not None for c, _ in checks)
    run = ox.NamedNode(catalog.settings.base + "graph/validation")
    facts = [
        ox.Quad(t.subject, t.predicate, t.object, run)
        for t in run_facts(catalog.settings.base, DAY)
    ]
    plan = Plan([], [], checks, facts, "")
    mine = whole_graph_checks(whole_keys(parts.every, plan), plan, ResultCache(None, ""))
    names = {c.shape for c, _ in checks}
    full = [r for r in sparql_results(catalog, shapes, DAY) if r.shape in names]
    assert sorted(map(str, mine)) == sorted(map(str, full))
    assert len(mine) == 4  # r1/r2 share a url, r3/r4 a normalized title


def test_cli_rerun_after_an_edit_equals_a_run_without_caches(tmp_path: Path) -> None:
    root = copy("invalid/curation-review", tmp_path)
    args = ("validate", str(root), "--date", "2025-06-01", "--format", "json")
    first = rkg(*args, cwd=tmp_path)
    assert (store_dir(root) / "state.sqlite").is_file()
    assert not (root / ".rkg-cache").exists()
    record = root / "data/resources/r2.yaml"
    record.write_text(record.read_text().replace("2024-05-31", "2025-05-31"), encoding="utf-8")
    again = rkg(*args, cwd=tmp_path)
    fresh = rkg(*args, "--no-cache", cwd=tmp_path)
    assert again.stdout == fresh.stdout
    assert again.stdout != first.stdout
    assert json.loads(first.stdout)["summary"]["results"] == 3
    assert json.loads(again.stdout)["summary"]["results"] == 2
