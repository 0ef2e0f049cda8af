"""The ontology and the SKOS vocabularies are code too: documented, aligned, consistent;
labels resolve the way curators type them; tagging finds populations with provenance."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from resource_kg import Catalog
from resource_kg.records import Record, Value
from resource_kg.tagging import Tagger
from resource_kg.vocab import Lexicon, normalize

ROOT = Path(__file__).resolve().parents[1]
ONTOLOGY = ROOT / "ontology" / "resource-kg.ttl"
VOCAB_FILES = sorted((ROOT / "ontology" / "vocab").glob("*.ttl"))
RKG = "https://w3id.org/resource-kg/ontology#"
STANDARD = (
    "http://purl.org/dc/terms/",
    "https://schema.org/",
    "http://www.w3.org/2004/02/skos/core#",
    "http://xmlns.com/foaf/0.1/",
    "http://www.w3.org/ns/prov#",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
)


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY, format="turtle")


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Catalog.load(ROOT).lexicon


def own_terms(g: rdflib.Graph) -> list[rdflib.URIRef]:
    return sorted(
        s for s in set(g.subjects()) if isinstance(s, rdflib.URIRef) and str(s).startswith(RKG)
    )


def test_ontology_header(ontology: rdflib.Graph) -> None:
    [onto] = list(ontology.subjects(RDF.type, OWL.Ontology))
    for p in (
        OWL.versionInfo,
        rdflib.DCTERMS.title,
        rdflib.DCTERMS.description,
        rdflib.DCTERMS.license,
    ):
        assert ontology.value(onto, p) is not None, p


def test_every_ontology_term_has_label_and_comment(ontology: rdflib.Graph) -> None:
    terms = own_terms(ontology)
    assert len(terms) >= 12
    for term in terms:
        assert ontology.value(term, RDFS.label) is not None, f"{term} has no rdfs:label"
        assert ontology.value(term, RDFS.comment) is not None, f"{term} has no rdfs:comment"


def test_every_own_term_is_aligned_to_a_standard_term(ontology: rdflib.Graph) -> None:
    for term in own_terms(ontology):
        kinds = set(ontology.objects(term, RDF.type))
        link = RDFS.subClassOf if OWL.Class in kinds else RDFS.subPropertyOf
        parents = [str(o) for o in ontology.objects(term, link)]
        assert any(p.startswith(STANDARD) for p in parents), f"{term} is not aligned: {parents}"


@pytest.mark.parametrize("path", VOCAB_FILES, ids=[p.name for p in VOCAB_FILES])
def test_vocabulary_concepts_have_one_preflabel_and_one_scheme(path: Path) -> None:
    g = rdflib.Graph().parse(path, format="turtle")
    schemes = list(g.subjects(RDF.type, SKOS.ConceptScheme))
    assert len(schemes) == 1, "one concept scheme per file"
    concepts = list(g.subjects(RDF.type, SKOS.Concept))
    assert concepts
    labels: dict[str, list[str]] = defaultdict(list)
    for c in concepts:
        prefs = list(g.objects(c, SKOS.prefLabel))
        assert len(prefs) == 1, f"{c}: {prefs}"
        assert list(g.objects(c, SKOS.inScheme)) == schemes, c
        assert g.value(c, SKOS.definition) is not None, f"{c} has no definition"
        for label in [*prefs, *g.objects(c, SKOS.altLabel), *g.objects(c, SKOS.notation)]:
            labels[normalize(str(label))].append(str(c))
    clashes = {k: v for k, v in labels.items() if len(set(v)) > 1}
    assert not clashes, f"labels shared by two concepts: {clashes}"


def test_special_populations_carry_their_section_330_notation(lexicon: Lexicon) -> None:
    by_notation = {t.notation: t.label for t in lexicon.in_scheme("population") if t.notation}
    assert by_notation == {
        "330(g)": "Migratory and seasonal agricultural workers",
        "330(h)": "People experiencing homelessness",
        "330(i)": "Residents of public housing",
    }


def test_seed_and_sample_labels_all_resolve(lexicon: Lexicon) -> None:
    import json

    sample = Path(__file__).parent / "fixtures" / "reference" / "clearinghouse-sample.jsonl"
    fields = {
        "resource_type": "type",
        "primary_audience": "audience",
        "secondary_audience": "audience",
        "languages": "language",
        "topics": "topic",
        "subtopics": "subtopic",
        "keywords": "keyword",
        "developed_by": "organization",
        "collaborators": "organization",
    }
    for line in sample.read_text(encoding="utf-8").splitlines():
        page = json.loads(line)
        for name, scheme in fields.items():
            for label in page[name]:
                assert lexicon.resolve(scheme, label).iri, (page["id"], name, label)


@pytest.mark.parametrize(
    ("scheme", "label", "slug"),
    [
        ("audience", "PCAs", "pcas"),
        ("audience", "primary care associations", "pcas"),
        ("audience", "C-Suite", "c-suite"),
        ("audience", "c‑suite (CEOs, CFOs, CIO, COOs, CMOs, etc.)", "c-suite"),
        ("audience", "Board", "board-of-directors"),
        ("population", "330(h)", "peh"),
        ("population", "330h", "peh"),
        ("audience", "CSuite", "c-suite"),
        ("population", "farmworkers", "msaw"),
        ("population", "PHPC", "rph"),
        (
            "subtopic",
            "community health and housing partnerships",
            "community-health-and-housing-partnerships",
        ),
        ("language", "es", "es"),
        ("language", "Español", "es"),
    ],
)
def test_labels_resolve_case_spacing_and_punctuation_insensitive(
    lexicon: Lexicon, scheme: str, label: str, slug: str
) -> None:
    iri = lexicon.resolve(scheme, label).iri
    assert iri is not None and iri.endswith(f"/{scheme}/{slug}"), (label, iri)


def test_unknown_label_gets_closest_known_labels(lexicon: Lexicon) -> None:
    res = lexicon.resolve("audience", "Clinicans")
    assert res.iri is None
    assert res.suggestions[0] == "Clinicians"


def _record(**values: Value) -> Record:
    return Record("t1", {"id": "t1", **values}, "invented.yaml", 1, {})


def test_tagging_names_field_and_label_and_respects_word_boundaries(lexicon: Lexicon) -> None:
    tagger = Tagger(lexicon)
    rec = _record(
        title="Outreach to Farmworkers",
        summary="Shelter staff meet people who are homeless; the PEH count grew. peh is not an acronym here.",
        keywords=["Public Housing", "Homelessnessless"],
    )
    tags = [(t.population.rsplit("/", 1)[-1], t.field, t.matched) for t in tagger.tag(rec)]
    assert tags == [
        ("msaw", "title", "Farmworkers"),
        ("peh", "summary", "people who are homeless"),
        ("rph", "keywords", "Public Housing"),
    ]


def test_tagging_acronyms_are_case_sensitive(lexicon: Lexicon) -> None:
    tagger = Tagger(lexicon)
    assert tagger.tag(_record(summary="a peh and a phpc")) == []
    assert [t.matched for t in tagger.tag(_record(summary="PHPC grantees"))] == ["PHPC"]
