"""Shapes are portable SHACL: the release files plus shapes/*.ttl validate the same everywhere.

A release carries the date its checks ran as of: validation-report.ttl holds the one fact
`<{base}validation/report> rkgsh:validationDate "YYYY-MM-DD"^^xsd:date`, the same fact
`rkg validate` adds to the data it checks. Here pySHACL (nothing rkg adds at run time) and
Jena SHACL (its `shacl validate` command, a real process) validate a published release with
shapes/*.ttl alone and must find what `rkg validate` finds: the same (focus node, path,
shape, severity) for a year 2999, an overdue review, a retired record without replacement
and two records with one url.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from resource_kg import Catalog
from resource_kg.publish import publish
from resource_kg.validate import (
    check_rows,
    curie,
    load_shapes,
    run_facts,
    validate,
)

ROOT = Path(__file__).resolve().parents[1]
SHAPES = sorted((ROOT / "shapes").glob("*.ttl"))
CASE = Path(__file__).resolve().parent / "fixtures" / "validate" / "release" / "portable"
DAY = dt.date(2025, 6, 1)
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
#: The release files that hold data: the catalog (all four graphs) and the validation date.
DATA_FILES = ("catalog.ttl", "validation-report.ttl")

Result = tuple[str, str, str, str]  # focus node (N-Triples), path IRI, shape, severity


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("portable") / "catalog"
    shutil.copytree(CASE, root)
    done = publish(Catalog.load(root, today=DAY), root / "releases", date=DAY, force=True)
    return done.path


@pytest.fixture(scope="module")
def expected() -> set[Result]:
    report = validate(Catalog.load(CASE, today=DAY), DAY, engine="fast")
    found = {(f.focus, f.path, f.shape, f.severity) for f in report.findings}
    shapes = {shape for _focus, _path, shape, _severity in found}
    assert {
        "rkgsh:RequiredYearRange",
        "rkgsh:CurationReviewDue",
        "rkgsh:CurationReplacement",
        "rkgsh:CurationUniqueUrl",
    } <= shapes
    return found


def _text(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
    assert not isinstance(term, ox.Triple)
    return term.value


def results_of(report: rdflib.Graph) -> set[Result]:
    """Top-level results of a SHACL validation report, whichever engine wrote it."""
    out: set[Result] = set()
    for r in report.objects(None, SH.result):
        focus = report.value(r, SH.focusNode)
        path = report.value(r, SH.resultPath)
        shape = report.value(r, SH.sourceShape)
        severity = report.value(r, SH.resultSeverity)
        assert isinstance(focus, rdflib.URIRef)
        out.add(
            (
                f"<{focus}>",
                str(path) if isinstance(path, rdflib.URIRef) else "",
                curie(str(shape)),
                str(severity).rsplit("#", 1)[-1],
            )
        )
    return out


def test_release_carries_the_validation_date(release: Path) -> None:
    graph = rdflib.Graph().parse(release / "validation-report.ttl", format="turtle")
    dates = list(
        graph.objects(None, rdflib.URIRef("https://w3id.org/resource-kg/shapes#validationDate"))
    )
    assert dates == [rdflib.Literal("2025-06-01", datatype=rdflib.XSD.date)]
    facts = run_facts("https://w3id.org/resource-kg/", DAY)
    assert [(_text(t.subject), t.predicate.value, _text(t.object)) for t in facts] == [
        (str(s), str(p), str(o)) for s, p, o in graph.triples((None, None, dates[0]))
    ]


def test_pyshacl_on_the_release_with_the_shapes_alone(release: Path, expected: set[Result]) -> None:
    import pyshacl

    data = rdflib.Graph()
    for name in DATA_FILES:
        data.parse(release / name, format="turtle")
    shapes = rdflib.Graph()
    for path in SHAPES:
        shapes.parse(path, format="turtle")
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    assert isinstance(report, rdflib.Graph)
    assert not conforms
    assert results_of(report) == expected


# ---------------------------------------------------------------- Jena SHACL

#: Debian's libapache-jena-java ships the jars, not the `shacl` script: the command is
#: `java -cp ... shacl.shacl`, with the libraries the package depends on.
DEBIAN_JARS = (
    "commons-cli",
    "commons-codec",
    "commons-compress",
    "commons-csv",
    "commons-io",
    "commons-lang3",
    "gson",
    "guava",
    "httpclient",
    "httpcore",
    "jackson-core",
    "jackson-databind",
    "jackson-annotations",
    "jsonld-java",
    "jakarta.json-api",
    "slf4j-api",
    "slf4j-simple",
    "titanium-json-ld",
    "thrift",
    "dexx.collection",
    "protobuf",
)


def _debian_resources(jar: Path, folder: Path) -> Path:
    """Debian's jena-core moves Xerces' classes to `xerces.*` but leaves their message
    bundles under `org/apache/jena/ext/xerces/`; without them Jena cannot start. A copy at
    the classes' path, on the class path, is enough."""
    prefix = "org/apache/jena/ext/xerces/"
    with zipfile.ZipFile(jar) as zf:
        for name in zf.namelist():
            if name.startswith(prefix) and name.endswith(".properties"):
                target = folder / "xerces" / name[len(prefix) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(name))
    return folder


def jena_shacl(tmp: Path) -> list[str] | None:
    """The `shacl` command of Apache Jena, or None when it is not installed."""
    found = shutil.which("shacl")
    if found is not None:
        return [found]
    java, share = shutil.which("java"), Path("/usr/share/java")
    if java is None or not (share / "jena-cmds.jar").is_file():
        return None
    jars = sorted(str(p) for p in share.glob("jena-*.jar") if not p.stem[-1].isdigit())
    jars += [str(share / f"{n}.jar") for n in DEBIAN_JARS if (share / f"{n}.jar").is_file()]
    fix = _debian_resources(share / "jena-core.jar", tmp / "jena-resources")
    return [java, "-cp", os.pathsep.join([str(fix), *jars]), "shacl.shacl"]


def _one_file(paths: list[Path], target: Path) -> Path:
    """Jena's `shacl validate` reads one shapes file and one data file: the files go in as
    they are, one after the other (Turtle allows @prefix anywhere; none uses a blank-node
    label that could merge two nodes)."""
    texts = [p.read_text(encoding="utf-8") for p in paths]
    assert not any("_:" in t for t in texts)
    target.write_text("\n".join(texts), encoding="utf-8")
    return target


def test_jena_shacl_on_the_release_with_the_shapes_alone(
    release: Path, expected: set[Result], tmp_path: Path
) -> None:
    command = jena_shacl(tmp_path)
    if command is None:
        if os.environ.get("RKG_REQUIRE_JENA"):
            pytest.fail("Jena SHACL is required (RKG_REQUIRE_JENA) but not installed")
        pytest.skip("Jena SHACL is not installed (apt-get install libapache-jena-java)")
    shapes = _one_file(SHAPES, tmp_path / "shapes.ttl")
    data = _one_file([release / n for n in DATA_FILES], tmp_path / "data.ttl")
    done = subprocess.run(
        [*command, "validate", "--shapes", str(shapes), "--data", str(data)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = rdflib.Graph().parse(data=done.stdout, format="turtle")
    assert results_of(report) == expected


# ---------------------------------------------------------------- dates in SPARQL


@pytest.mark.parametrize(
    ("today", "reviewed"),
    [
        (dt.date(2025, 6, 1), ["2024-05-31", "2024-06-01", "2025-06-01"]),
        (dt.date(2028, 2, 29), ["2027-02-27", "2027-02-28", "2027-03-01"]),
        (dt.date(2025, 1, 1), ["2023-12-31", "2024-01-01"]),
        (dt.date(2025, 3, 1), ["2024-02-29", "2024-03-01"]),
    ],
)
def test_review_cutoff_in_sparql_is_twelve_months_back(today: dt.date, reviewed: list[str]) -> None:
    """The shapes compute the cutoff from the date alone; 29 February counts back to the
    28th, as `date.replace(year - 1)` falls back to."""
    try:
        cutoff = today.replace(year=today.year - 1)
    except ValueError:
        cutoff = today.replace(year=today.year - 1, day=28)
    shapes = load_shapes(ROOT / "shapes", ROOT)
    check = next(c for c in shapes.sparql if c.shape.endswith("#CurationReviewDue"))
    store = ox.Store()
    focus = set()
    xsd_date = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")
    for i, day in enumerate(reviewed):
        node = ox.NamedNode(f"urn:r{i}")
        focus.add(str(node))
        store.add(
            ox.Quad(
                node,
                ox.NamedNode("https://w3id.org/resource-kg/ontology#lastReviewed"),
                ox.Literal(day, datatype=xsd_date),
            )
        )
    store.extend([ox.Quad(t.subject, t.predicate, t.object) for t in run_facts("x:", today)])
    overdue = {r.focus for r in check_rows(store, check, focus)}
    assert overdue == {
        f"<urn:r{i}>" for i, day in enumerate(reviewed) if dt.date.fromisoformat(day) < cutoff
    }
