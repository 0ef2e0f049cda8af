"""The shapes are code: each one named, described and worded for curators; all valid SHACL."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from resource_kg.validate import load_shapes

ROOT = Path(__file__).resolve().parents[1]
SHAPES = ROOT / "shapes"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
FILES = [
    "curation.ttl",
    "ontology.ttl",
    "recommended.ttl",
    "required.ttl",
    "vocabularies.ttl",
    "vocabulary.ttl",
]


def shapes_of(graph: rdflib.Graph) -> set[rdflib.term.Node]:
    found: set[rdflib.term.Node] = set()
    for cls in (SH.NodeShape, SH.PropertyShape):
        found |= set(graph.subjects(rdflib.RDF.type, cls))
    return found


def test_the_six_shape_files_exist() -> None:
    assert sorted(p.name for p in SHAPES.glob("*.ttl")) == FILES


@pytest.mark.parametrize("name", FILES)
def test_every_shape_has_name_description_and_message(name: str) -> None:
    graph = rdflib.Graph().parse(SHAPES / name, format="turtle")
    shapes = shapes_of(graph)
    assert shapes, f"{name} declares no shape"
    for shape in shapes:
        assert isinstance(shape, rdflib.URIRef), f"{name}: a shape is a blank node"
        for prop in (SH.name, SH.description, SH.message):
            assert graph.value(shape, prop) is not None, f"{name}: {shape} lacks {prop}"


def test_severity_follows_the_file() -> None:
    expected = {
        "required.ttl": {SH.Violation},
        "vocabulary.ttl": {SH.Violation},
        "vocabularies.ttl": {SH.Violation},
        "ontology.ttl": {SH.Violation},
        "recommended.ttl": {SH.Warning},
        "curation.ttl": {SH.Warning, SH.Violation},
    }
    for name, allowed in expected.items():
        graph = rdflib.Graph().parse(SHAPES / name, format="turtle")
        found = set(graph.objects(None, SH.severity))
        assert found <= allowed and found, name


def test_shapes_pass_meta_shacl_and_sparql_checks_are_found() -> None:
    shapes = load_shapes(SHAPES, ROOT)  # raises if pyshacl's meta-SHACL rejects a shape
    sparql = sorted(c.shape.rsplit("#", 1)[-1] for c in shapes.sparql)
    assert sparql == [
        "CurationReplacement",
        "CurationReviewDue",
        "CurationUniqueTitle",
        "CurationUniqueUrl",
        "RequiredYearRange",
        "VocabulariesDistinctLabel",
        "VocabulariesNoBroaderCycle",
        "VocabularyCollaborator",
        "VocabularyDeveloper",
        "VocabularyKeyword",
        "VocabularyLanguage",
        "VocabularyPopulation",
        "VocabularyPrimaryAudience",
        "VocabularySecondaryAudience",
        "VocabularyStatus",
        "VocabularySubtopic",
        "VocabularyTopic",
        "VocabularyType",
    ]
    assert all("?this" in c.query and "$this" not in c.query for c in shapes.sparql)


def test_kept_plans_read_back_equal_the_derived_plans(tmp_path: Path) -> None:
    """The plans `rkg validate` keeps in its cache read back exactly as derived afresh."""
    from resource_kg.validate import plan

    plan.PLANS.clear()
    plan.USED.clear()
    shapes = load_shapes(ROOT / "shapes", ROOT)  # every plan derived now, from the text
    fresh = dict(plan.PLANS)
    assert len(fresh) == len({c.query for c in shapes.sparql}) > 0
    kept = tmp_path / "shape-plans.json"
    kept.write_text(plan.plans_json(), encoding="utf-8")
    plan.PLANS.clear()
    plan.read_plans(kept)
    assert fresh == plan.PLANS
    again = load_shapes(ROOT / "shapes", ROOT)  # from the kept plans: the same checks
    assert again.sparql == shapes.sparql
    plan.PLANS.clear()
    kept.write_text("{not json", encoding="utf-8")
    plan.read_plans(kept)  # an unreadable file is ignored, not an error
    assert plan.PLANS == {}
