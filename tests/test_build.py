"""`rkg build` on the bundled catalog: deterministic output, parseable, the seed resource exact."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from resource_kg import Catalog

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "build"
BASE = "https://w3id.org/resource-kg/"
SEED = f"{BASE}resource/4184"


def rkg(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "resource_kg.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = rkg("build", str(ROOT), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_build_twice_is_byte_identical(built: Path, tmp_path: Path) -> None:
    result = rkg("build", str(ROOT), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for name in ("catalog.trig", "catalog.ttl"):
        assert (tmp_path / name).read_bytes() == (built / name).read_bytes(), name


def test_outputs_parse_in_rdflib_and_pyoxigraph_without_blank_nodes(built: Path) -> None:
    ds = rdflib.Dataset()
    ds.parse(built / "catalog.trig", format="trig")
    union = rdflib.Graph().parse(built / "catalog.ttl", format="turtle")
    ox_quads = list(ox.parse(path=str(built / "catalog.trig"), format=ox.RdfFormat.TRIG))
    ox_triples = list(ox.parse(path=str(built / "catalog.ttl"), format=ox.RdfFormat.TURTLE))
    assert len(union) == len(ox_triples) > 500
    assert sum(1 for _ in ds.quads((None, None, None, None))) == len(ox_quads)
    for s, p, o in union:
        assert not isinstance(s, rdflib.BNode) and not isinstance(o, rdflib.BNode), (s, p, o)
    graphs = {q.graph_name.value for q in ox_quads if isinstance(q.graph_name, ox.NamedNode)}
    assert graphs == {
        f"{BASE}graph/{g}" for g in ("ontology", "vocabularies", "catalog", "derived")
    }


def _graph_of(trig: Path, graph: str, keep: str) -> rdflib.Graph:
    """Triples of one named graph whose subject is `keep` or one of its tag nodes."""
    ds = rdflib.Dataset()
    ds.parse(trig, format="trig")
    g = rdflib.Graph()
    for s, p, o in ds.graph(rdflib.URIRef(graph)):
        if str(s) == keep or str(s).startswith(keep + "/tag/"):
            g.add((s, p, o))
    return g


def test_seed_resource_catalog_graph_matches_hand_written_expectation(built: Path) -> None:
    got = _graph_of(built / "catalog.trig", f"{BASE}graph/catalog", SEED)
    expected = rdflib.Graph().parse(FIXTURES / "expected-4184-catalog.ttl", format="turtle")
    missing = set(expected) - set(got)
    extra = set(got) - set(expected)
    assert isomorphic(got, expected), f"missing {missing}\nextra {extra}"


def test_seed_resource_derived_graph_links_all_three_330_populations(built: Path) -> None:
    got = _graph_of(built / "catalog.trig", f"{BASE}graph/derived", SEED)
    expected = rdflib.Graph().parse(FIXTURES / "expected-4184-derived.ttl", format="turtle")
    assert isomorphic(got, expected), (
        f"missing {set(expected) - set(got)}\nextra {set(got) - set(expected)}"
    )


def test_seed_counts_through_the_library_api() -> None:
    catalog = Catalog.load(ROOT)
    store = catalog.store
    rkg_ns = "https://w3id.org/resource-kg/ontology#"

    def count(pred: str) -> int:
        return len(list(store.quads_for_pattern(ox.NamedNode(SEED), ox.NamedNode(pred), None)))

    assert count(rkg_ns + "primaryAudience") == 4
    assert count(rkg_ns + "secondaryAudience") == 3
    assert count(rkg_ns + "topic") == 3
    assert count(rkg_ns + "subtopic") == 4
    assert count(rkg_ns + "keyword") == 5
    loc = catalog.sources[SEED]
    assert loc.file == "data/resources/4184.yaml" and loc.line >= 1
    assert catalog.record("4184") is not None


def test_info_reports_counts_as_json() -> None:
    import json

    result = rkg("info", str(ROOT), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["resources"] == 3
    assert data["organizations"] == 4
    assert data["concepts"]["audience"] == 7
    assert set(data["triples"]) == {"ontology", "vocabularies", "catalog", "derived"}
    assert data["triples"]["derived"] > 0


def test_root_with_only_data_uses_packaged_vocabularies(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "data", tmp_path / "data")
    result = rkg("build", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "dist" / "catalog.trig").is_file()
    assert (tmp_path / "dist" / "catalog.ttl").read_bytes() == (
        Catalog.load(ROOT).serialize_turtle()
    )
