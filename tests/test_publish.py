"""A release of the bundled catalog: parseable dumps, JSON-LD = Turtle, checksums, DCAT-AP, determinism."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pyshacl
import pytest
import rdflib
from pyld import jsonld

from resource_kg.catalog import Catalog
from resource_kg.errors import PublishError
from resource_kg.publish import PublishRefused, publish

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "publish"
DCAT_AP = FIXTURES / "dcat-ap-3.0.1"
DATE = dt.date(2024, 5, 1)
BASE_URL = "https://example.org/kg/releases/1.0.0/"
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
RDF_TYPE = rdflib.URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD_DATE = rdflib.URIRef("http://www.w3.org/2001/XMLSchema#date")
ADMS = rdflib.Namespace("http://www.w3.org/ns/adms#")
RDF_SUFFIXES = {".ttl": "turtle", ".trig": "trig", ".jsonld": "json-ld"}
DUMPS = [
    "catalog.ttl",
    "catalog.nt.gz",
    "catalog.trig",
    "catalog.jsonld",
    "ontology.ttl",
    "vocabularies.ttl",
]


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    catalog = Catalog.load(ROOT, today=DATE)
    published = publish(catalog, out, version="1.0.0", date=DATE, base_url=BASE_URL)
    assert published.path == out / "1.0.0"
    return published.path


def _int(node: object) -> int:
    """An integer literal of the VoID description as a Python int."""
    assert isinstance(node, rdflib.Literal)
    return int(node)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _local_loader(folder: Path) -> Any:
    """pyld document loader serving context.jsonld from the release folder (no network)."""

    def load(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        name = url.rsplit("/", 1)[-1]
        assert name == "context.jsonld", url
        document = json.loads((folder / name).read_text(encoding="utf-8"))
        return {"contextUrl": None, "documentUrl": url, "document": document}

    return load


def test_release_holds_the_documented_files(release: Path) -> None:
    names = {p.name for p in release.iterdir()}
    assert names == {
        *DUMPS,
        "context.jsonld",
        "void.ttl",
        "SHA256SUMS",
        "validation-report.csv",
        "validation-report.ttl",
        "CHANGES.md",
        "changes.ttl",
        "site",
    }
    assert (release.parent / "LATEST").read_text() == "1.0.0\n"
    assert not [p for p in release.parent.iterdir() if p.name.startswith(".")]


def test_every_rdf_file_parses_with_rdflib_and_pyoxigraph(release: Path) -> None:
    rdf_files = [
        p
        for p in release.rglob("*")
        if (p.suffix in RDF_SUFFIXES or p.name.endswith(".nt.gz")) and p.name != "context.jsonld"
    ]
    assert len(rdf_files) > 20  # dumps, void, changes, report, and the site's entity files
    for path in rdf_files:
        data = path.read_bytes()
        if path.name.endswith(".nt.gz"):
            data, fmt, ox_fmt = gzip.decompress(data), "nt", ox.RdfFormat.N_TRIPLES
        elif path.name == "catalog.jsonld":
            # Its context is a separate file; inline it for the parsers that do not fetch.
            doc = json.loads(data)
            doc["@context"] = json.loads((release / "context.jsonld").read_bytes())["@context"]
            data, fmt, ox_fmt = json.dumps(doc).encode(), "json-ld", ox.RdfFormat.JSON_LD
        else:
            fmt = RDF_SUFFIXES[path.suffix]
            ox_fmt = ox.RdfFormat.from_extension(path.suffix[1:]) or ox.RdfFormat.TURTLE
        graph = rdflib.Dataset() if fmt == "trig" else rdflib.Graph()
        graph.parse(data=data, format=fmt)
        quads = list(ox.parse(data, format=ox_fmt))
        assert quads or path.name == "changes.ttl", path  # a first release changes nothing
        if fmt != "trig":
            assert len(graph) == len(set(quads)), path


def test_catalog_jsonld_expands_to_the_triples_of_catalog_ttl(release: Path) -> None:
    document = json.loads((release / "catalog.jsonld").read_text(encoding="utf-8"))
    assert document["@context"] == "context.jsonld"
    nquads = jsonld.to_rdf(
        document,
        {
            "base": BASE_URL + "catalog.jsonld",
            "documentLoader": _local_loader(release),
            "format": "application/n-quads",
        },
    )
    from_jsonld = set(rdflib.Graph().parse(data=nquads, format="nt"))
    from_turtle = set(rdflib.Graph().parse(release / "catalog.ttl", format="turtle"))
    assert len(from_turtle) > 700
    assert from_jsonld == from_turtle


def test_sorted_ntriples_dump_is_reproducible_gzip(release: Path) -> None:
    raw = (release / "catalog.nt.gz").read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip mtime 0
    assert raw[3] & 0x08 == 0  # no file name stored
    lines = gzip.decompress(raw).splitlines()
    assert lines == sorted(set(lines))
    turtle = rdflib.Graph().parse(release / "catalog.ttl", format="turtle")
    assert len(lines) == len(turtle)


def test_sha256sums_lists_every_file_with_its_digest(release: Path) -> None:
    listed: dict[str, str] = {}
    for line in (release / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    on_disk = _files(release)
    del on_disk["SHA256SUMS"]
    assert list(listed) == sorted(listed)
    assert listed == {name: hashlib.sha256(data).hexdigest() for name, data in on_disk.items()}
    if shutil.which("sha256sum"):
        check = subprocess.run(
            ["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=release, capture_output=True
        )
        assert check.returncode == 0, check.stdout + check.stderr


def _dcat_ap(data: rdflib.Graph, *files: str) -> tuple[bool, rdflib.Graph]:
    shapes = rdflib.Graph()
    for name in files:
        shapes.parse(DCAT_AP / name, format="turtle")
    conforms, results, _ = pyshacl.validate(data, shacl_graph=shapes, allow_warnings=True)
    return bool(conforms), results


def test_void_conforms_to_dcat_ap_3(release: Path) -> None:
    void = rdflib.Graph().parse(release / "void.ttl", format="turtle")
    conforms, results = _dcat_ap(void, "shapes.ttl", "range.ttl")
    assert conforms, results.serialize(format="turtle")
    # Recommended properties only warn.
    _, recommended = _dcat_ap(void, "shapes_recommended.ttl")
    severities = set(
        recommended.objects(None, rdflib.URIRef("http://www.w3.org/ns/shacl#resultSeverity"))
    )
    assert severities <= {rdflib.URIRef("http://www.w3.org/ns/shacl#Warning")}
    # The shapes do bite: a distribution without its access URL is a violation.
    broken = rdflib.Graph()
    for t in void:
        if not (t[1] == DCAT.accessURL and str(t[0]).endswith("#dump-catalog-ttl")):
            broken.add(t)
    assert not _dcat_ap(broken, "shapes.ttl", "range.ttl")[0]


def test_void_describes_the_dumps_and_counts_the_graph(release: Path) -> None:
    void = rdflib.Graph().parse(release / "void.ttl", format="turtle")
    assert not [n for t in void for n in t if isinstance(n, rdflib.BNode)]
    ds = rdflib.URIRef(BASE_URL + "void.ttl#dataset")
    assert void.value(ds, DCAT.version) == rdflib.Literal("1.0.0")
    assert void.value(ds, rdflib.URIRef("http://purl.org/dc/terms/issued")) == rdflib.Literal(
        "2024-05-01", datatype=XSD_DATE
    )
    # Every dump: download URL, byte size and SHA-256 of the file in the folder.
    dists = list(void.objects(ds, DCAT.distribution))
    assert len(dists) == len(DUMPS)
    for dist in dists:
        url = str(void.value(dist, DCAT.downloadURL))
        name = url.removeprefix(BASE_URL)
        assert name in DUMPS
        data = (release / name).read_bytes()
        assert _int(void.value(dist, DCAT.byteSize)) == len(data)
        checksum = void.value(dist, SPDX.checksum)
        assert str(void.value(checksum, SPDX.checksumValue)) == hashlib.sha256(data).hexdigest()
    dumps = {str(u).removeprefix(BASE_URL) for u in void.objects(ds, VOID.dataDump)}
    assert dumps == {"catalog.ttl", "catalog.nt.gz", "catalog.trig", "catalog.jsonld"}
    # Statistics, checked against the Turtle dump read by rdflib.
    union = rdflib.Graph().parse(release / "catalog.ttl", format="turtle")
    assert _int(void.value(ds, VOID.triples)) == len(union)
    assert _int(void.value(ds, VOID.distinctSubjects)) == len(set(union.subjects()))
    assert _int(void.value(ds, VOID.distinctObjects)) == len(set(union.objects()))
    assert _int(void.value(ds, VOID.properties)) == len(set(union.predicates()))
    assert _int(void.value(ds, VOID.classes)) == len(set(union.objects(None, RDF_TYPE)))
    resource_class = rdflib.URIRef("https://w3id.org/resource-kg/ontology#Resource")
    part = next(
        p
        for p in void.objects(ds, VOID.classPartition)
        if void.value(p, VOID["class"]) == resource_class
    )
    assert _int(void.value(part, VOID.entities)) == 3  # the three bundled records
    title = rdflib.URIRef("http://purl.org/dc/terms/title")
    part = next(
        p for p in void.objects(ds, VOID.propertyPartition) if void.value(p, VOID.property) == title
    )
    assert _int(void.value(part, VOID.triples)) == len(list(union.triples((None, title, None))))
    assert rdflib.URIRef("http://purl.org/dc/terms/") in set(void.objects(ds, VOID.vocabulary))


def test_two_publishes_are_byte_identical(release: Path, tmp_path: Path) -> None:
    again = publish(
        Catalog.load(ROOT, today=DATE), tmp_path, version="1.0.0", date=DATE, base_url=BASE_URL
    )
    first, second = _files(release), _files(again.path)
    assert list(first) == list(second)
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []


def test_violations_refuse_unless_forced(tmp_path: Path) -> None:
    catalog = Catalog.load(FIXTURES / "violation", today=DATE)
    with pytest.raises(PublishRefused, match="violation"):
        publish(catalog, tmp_path, version="1.0.0", date=DATE)
    assert list(tmp_path.iterdir()) == []
    forced = publish(catalog, tmp_path, version="1.0.0", date=DATE, force=True)
    assert forced.forced
    changes = (forced.path / "CHANGES.md").read_text(encoding="utf-8")
    assert "Published with --force although validation found" in changes
    void = rdflib.Graph().parse(forced.path / "void.ttl", format="turtle")
    notes = [str(n) for n in void.objects(None, ADMS.versionNotes)]
    assert any(n.startswith("Published with --force") for n in notes)
    report = (forced.path / "validation-report.csv").read_text(encoding="utf-8")
    assert "Violation" in report


def test_existing_release_is_never_overwritten(release: Path) -> None:
    before = _files(release)
    with pytest.raises(PublishError, match="already exists"):
        publish(Catalog.load(ROOT, today=DATE), release.parent, version="1.0.0", date=DATE)
    assert _files(release) == before


def test_failure_mid_publish_leaves_earlier_release_and_no_partial_folder(
    release: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(release, out / "1.0.0")
    (out / "LATEST").write_text("1.0.0\n")
    before = _files(out)
    broken = tmp_path / "broken-previous"
    broken.mkdir()
    (broken / "catalog.trig").write_text("this is not TriG {", encoding="utf-8")
    # The dumps are already written when the previous release turns out to be unreadable.
    with pytest.raises(PublishError, match="does not parse"):
        publish(Catalog.load(ROOT, today=DATE), out, version="1.0.1", date=DATE, previous=broken)
    assert _files(out) == before
    assert sorted(p.name for p in out.iterdir()) == ["1.0.0", "LATEST"]


def test_cli_publishes_and_reports_exit_codes(tmp_path: Path) -> None:
    beside = Path(sys.executable).parent / "rkg"
    rkg = [str(beside) if beside.is_file() else "rkg"]
    ok = subprocess.run(
        [*rkg, "publish", str(FIXTURES / "site"), "--out", str(tmp_path), "--date", "2024-05-01"],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "published release 1.0.0 (2024-05-01)" in ok.stderr
    assert (tmp_path / "1.0.0" / "site" / "index.html").is_file()
    # With no --version the next release bumps the patch number and compares with 1.0.0.
    ok = subprocess.run(
        [*rkg, "publish", str(FIXTURES / "site"), "--out", str(tmp_path), "--date", "2024-05-02"],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "0 added, 0 removed, 0 changed since 1.0.0" in ok.stderr
    assert (tmp_path / "LATEST").read_text() == "1.0.1\n"
    refused = subprocess.run(
        [*rkg, "publish", str(FIXTURES / "violation"), "--out", str(tmp_path / "v")],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1
    assert "nothing published" in refused.stderr
    bad = subprocess.run(
        [*rkg, "publish", str(FIXTURES / "site"), "--out", str(tmp_path), "--version", "one"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert "is not of the form X.Y.Z" in bad.stderr


def test_site_pages_link_to_existing_files_and_sitemap_lists_them(release: Path) -> None:
    site = release / "site"
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    tree = ET.parse(site / "sitemap.xml")
    locs = [el.text or "" for el in tree.getroot().findall("s:url/s:loc", namespace)]
    assert sorted(loc.removeprefix(BASE_URL + "site/") for loc in locs) == pages
    # 3 resources, 4 organizations, every concept and scheme, index and ontology.
    assert {"index.html", "ontology.html", "resource/3182.html", "org/mcn.html"} <= set(pages)
    assert "concept/population/msaw.html" in pages and "concept/audience.html" in pages
    broken = []
    for rel in pages:
        page = site / rel
        for href in re.findall(r'(?:href|src)="([^"#]+)', page.read_text(encoding="utf-8")):
            if href.startswith(("http://", "https://")):
                continue
            if not (page.parent / html.unescape(href)).resolve().is_file():
                broken.append((rel, href))
    assert broken == []
    # Each entity page has its .ttl and .jsonld beside it.
    for rel in pages:
        if rel.startswith(("resource/", "org/", "concept/")):
            stem = (site / rel).with_suffix("")
            assert stem.with_suffix(".ttl").is_file() and stem.with_suffix(".jsonld").is_file()


def test_write_dumps_alone_gives_the_release_dumps(release: Path, tmp_path: Path) -> None:
    from resource_kg.publish import write_dumps

    catalog = Catalog.load(ROOT, today=DATE)
    stats = write_dumps(catalog, tmp_path / "new")
    write_dumps(catalog, catalog.triples(), tmp_path / "old")  # the older call still works
    for name in [*DUMPS, "context.jsonld"]:
        assert (tmp_path / "new" / name).read_bytes() == (release / name).read_bytes(), name
        assert (tmp_path / "old" / name).read_bytes() == (release / name).read_bytes(), name
    union = rdflib.Graph().parse(release / "catalog.ttl", format="turtle")
    assert stats.triples == len(union)
    assert stats.distinct_subjects == len(set(union.subjects()))


def test_index_data_is_a_separate_script(release: Path) -> None:
    site = release / "site"
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<script src="catalog-index.js"></script><script src="assets/facets.js">' in index
    script = (site / "catalog-index.js").read_text(encoding="utf-8")
    prefix = "window.rkgCatalog = "
    body = script.splitlines()[1]
    assert body.startswith(prefix) and body.endswith(";")
    data = json.loads(body[len(prefix) : -1])
    assert [f["key"] for f in data["facets"]][:2] == ["audience", "population"]
    assert sorted(row["i"] for row in data["rows"]) == ["3182", "3736", "4184"]


def test_the_release_is_flushed_with_one_syncfs_here(tmp_path: Path) -> None:
    """On Linux the release's files are flushed by one syncfs(2) on its filesystem (the
    fallback, an fsync per file, gives the same files: the release tests above run either)."""
    import sys

    from resource_kg.publish import release

    (tmp_path / "f").write_text("x", encoding="utf-8")
    if sys.platform.startswith("linux"):
        assert release.flush_filesystem(tmp_path) is True
