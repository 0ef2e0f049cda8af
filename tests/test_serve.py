"""`rkg serve` as a real process on 127.0.0.1: the SPARQL 1.1 Protocol, GSP, IRIs, safety.

The server is started once per module on a copy of the bundled catalog (three records) and
spoken to with raw HTTP (httpx) and with the clients people use (SPARQLWrapper, rdflib's
SPARQLStore); every answer is parsed back in its format. Nothing is mocked.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import rdflib
from SPARQLWrapper import JSON, RDFXML, XML, SPARQLWrapper

REPO = Path(__file__).resolve().parent.parent
BASE = "https://w3id.org/resource-kg/"
CATALOG_GRAPH = BASE + "graph/catalog"
GRAPHS = [BASE + "graph/" + g for g in ("ontology", "vocabularies", "catalog", "derived")]
R4184 = BASE + "resource/4184"
TITLE = rdflib.URIRef("http://purl.org/dc/terms/title")
RDF_FORMATS = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}
CARTESIAN = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def sparql(self, **kwargs: Any) -> httpx.Response:
        return httpx.get(self.url + "/sparql", timeout=30, **kwargs)

    def post(self, **kwargs: Any) -> httpx.Response:
        return httpx.post(self.url + "/sparql", timeout=30, **kwargs)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(root: Path, log: Path, *extra: str) -> Server:
    """`python -m resource_kg.cli serve ROOT` on a free port, once it answers ASK {}."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "resource_kg.cli",
                "serve",
                str(root),
                "--port",
                str(port),
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rkg serve exited early: {log.read_text(errors='replace')}")
        try:
            if httpx.get(url + "/sparql", params={"query": "ASK {}"}, timeout=1).status_code == 200:
                return Server(url, process, log)
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"rkg serve did not answer within 30 s: {log.read_text(errors='replace')}")


def stop_server(server: Server) -> int:
    server.process.terminate()
    try:
        return server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)
        raise


@pytest.fixture(scope="module")
def catalog_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    shutil.copytree(REPO / "data", root / "data")
    return root


def wait_until_validated(srv: Server) -> None:
    """The curator view reloads a page once the catalog's validation ends (its findings then
    show): a navigation under way at that moment is aborted. Tests browse after it."""
    deadline = time.monotonic() + 60
    # version-findings done-problems-…: the version served is validated and reads cleanly
    while not re.search(r'data-version="\d+-1-0-', httpx.get(srv.url + "/").text):
        assert time.monotonic() < deadline, "the catalog's validation did not end"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def server(catalog_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("log") / "serve.log"
    srv = start_server(catalog_root, log, "--timeout", "2", "--max-rows", "500", "--workers", "2")
    try:
        wait_until_validated(srv)  # the curator view's findings then stay as they are
        yield srv
    finally:
        stop_server(srv)


def count_triples(server: Server, graph: str | None = None) -> int:
    # DISTINCT: pyoxigraph counts a triple stated in two graphs twice in their union.
    query = "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }"
    params: dict[str, Any] = {"query": query}
    if graph is not None:
        params["default-graph-uri"] = graph
    r = server.sparql(params=params, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


# ---------------------------------------------------------------- the query protocol

SELECT_TITLE = f"SELECT ?t WHERE {{ <{R4184}> <{TITLE}> ?t }}"


def test_get_select_in_every_result_format(server: Server) -> None:
    json_r = server.sparql(
        params={"query": SELECT_TITLE}, headers={"Accept": "application/sparql-results+json"}
    )
    assert json_r.headers["content-type"].startswith("application/sparql-results+json")
    title = json_r.json()["results"]["bindings"][0]["t"]["value"]
    assert title.startswith("Advancing MLP")

    xml_r = server.sparql(
        params={"query": SELECT_TITLE}, headers={"Accept": "application/sparql-results+xml"}
    )
    parsed = rdflib.query.Result.parse(io.BytesIO(xml_r.content), format="xml")
    assert [str(row[0]) for row in parsed] == [title]  # type: ignore[index]

    csv_r = server.sparql(params={"query": SELECT_TITLE}, headers={"Accept": "text/csv"})
    assert csv_r.headers["content-type"].startswith("text/csv")
    assert list(csv.DictReader(io.StringIO(csv_r.text))) == [{"t": title}]

    tsv_r = server.sparql(
        params={"query": SELECT_TITLE}, headers={"Accept": "text/tab-separated-values"}
    )
    head, row = tsv_r.text.splitlines()
    assert head == "?t"
    assert json.loads(row.split("@")[0]) == title  # "…"@en as N-Triples

    # q-values: CSV preferred over JSON when the client says so.
    pref = server.sparql(
        params={"query": SELECT_TITLE},
        headers={"Accept": "application/sparql-results+json;q=0.5, text/csv;q=0.9"},
    )
    assert pref.headers["content-type"].startswith("text/csv")
    # No Accept header: SPARQL JSON.
    plain = httpx.get(
        server.url + "/sparql", params={"query": SELECT_TITLE}, headers={"Accept": ""}
    )
    assert plain.headers["content-type"].startswith("application/sparql-results+json")


def test_ask_as_json_and_xml(server: Server) -> None:
    r = server.sparql(params={"query": f"ASK {{ <{R4184}> ?p ?o }}"})
    assert r.json() == {"head": {}, "boolean": True}
    x = server.sparql(
        params={"query": "ASK { <urn:x:none> ?p ?o }"},
        headers={"Accept": "application/sparql-results+xml"},
    )
    assert "<boolean>false</boolean>" in x.text


def test_post_form_and_post_direct(server: Server) -> None:
    form = server.post(
        data={"query": SELECT_TITLE}, headers={"Accept": "application/sparql-results+json"}
    )
    assert form.status_code == 200
    direct = server.post(
        content=SELECT_TITLE.encode(),
        headers={
            "Content-Type": "application/sparql-query; charset=UTF-8",
            "Accept": "application/json",
        },
    )
    assert direct.status_code == 200
    assert direct.json() == form.json()


@pytest.mark.parametrize("media, fmt", sorted(RDF_FORMATS.items()))
def test_construct_and_describe_in_every_graph_format(server: Server, media: str, fmt: str) -> None:
    for query in (
        f"CONSTRUCT {{ <{R4184}> ?p ?o }} WHERE {{ <{R4184}> ?p ?o }}",
        f"DESCRIBE <{R4184}>",
    ):
        r = server.sparql(params={"query": query}, headers={"Accept": media})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith(media)
        g = rdflib.Graph().parse(data=r.content, format=fmt)
        assert str(g.value(rdflib.URIRef(R4184), TITLE)).startswith("Advancing MLP")


def test_dataset_parameters_override_the_union(server: Server) -> None:
    union = count_triples(server)
    catalog_only = count_triples(server, CATALOG_GRAPH)
    assert 0 < catalog_only < union
    # Two default graphs are merged; named graphs appear only when named.
    r = server.sparql(
        params=[
            ("query", "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"),
            ("default-graph-uri", GRAPHS[0]),
            ("default-graph-uri", GRAPHS[1]),
        ]
    )
    both = int(r.json()["results"]["bindings"][0]["n"]["value"])
    assert both == int(
        server.sparql(
            params=[
                ("query", "SELECT (COUNT(*) AS ?n) { { GRAPH ?g { ?s ?p ?o } } }"),
                ("named-graph-uri", GRAPHS[0]),
                ("named-graph-uri", GRAPHS[1]),
            ]
        ).json()["results"]["bindings"][0]["n"]["value"]
    )
    named = server.sparql(
        params=[
            ("query", "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }"),
            ("named-graph-uri", CATALOG_GRAPH),
        ]
    )
    assert [b["g"]["value"] for b in named.json()["results"]["bindings"]] == [CATALOG_GRAPH]
    # Without parameters the four catalog graphs are named, nothing else.
    every = server.sparql(params={"query": "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }"})
    assert sorted(b["g"]["value"] for b in every.json()["results"]["bindings"]) == sorted(GRAPHS)


def test_nothing_acceptable_is_406(server: Server) -> None:
    assert (
        server.sparql(params={"query": SELECT_TITLE}, headers={"Accept": "image/png"}).status_code
        == 406
    )
    construct = f"CONSTRUCT {{ <{R4184}> ?p ?o }} WHERE {{ <{R4184}> ?p ?o }}"
    r = server.sparql(params={"query": construct}, headers={"Accept": "text/csv"})
    assert r.status_code == 406
    assert "text/turtle" in r.text


def test_protocol_errors(server: Server) -> None:
    syntax = server.sparql(params={"query": "SELECT * WHERE {\n  ?s ?p }"})
    assert syntax.status_code == 400
    assert re.search(r"at line 2, column \d+: expected", syntax.text), syntax.text
    two = server.sparql(params=[("query", "ASK {}"), ("query", "ASK {}")])
    assert two.status_code == 400 and "2 'query' parameters" in two.text
    no_type = httpx.post(server.url + "/sparql", content=b"ASK {}", headers={"Content-Type": ""})
    assert no_type.status_code == 415
    wrong = server.post(content=b"ASK {}", headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 415
    latin = server.post(
        content='SELECT * { ?s ?p "café" }'.encode("latin-1"),
        headers={"Content-Type": "application/sparql-query"},
    )
    assert latin.status_code == 400 and "not UTF-8" in latin.text
    bad_form = server.post(
        content=b"query=%E9", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert bad_form.status_code == 400
    bad_graph = server.sparql(params={"query": "ASK {}", "default-graph-uri": "not an iri"})
    assert bad_graph.status_code == 400
    no_query = server.sparql(headers={"Accept": "application/sparql-results+json"})
    assert no_query.status_code == 400


def test_updates_are_refused_and_change_nothing(server: Server) -> None:
    before = count_triples(server)
    insert = "INSERT DATA { <urn:x:s> <urn:x:p> <urn:x:o> }"
    clear = "CLEAR ALL"
    answers = [
        server.post(data={"update": insert}),
        server.post(data={"update": clear}),
        server.post(content=insert.encode(), headers={"Content-Type": "application/sparql-update"}),
        server.sparql(params={"query": insert}),
        server.post(data={"query": clear}),
        server.post(content=b"DROP ALL", headers={"Content-Type": "application/sparql-query"}),
        server.sparql(params={"query": "# SELECT\nDELETE WHERE { ?s ?p ?o }"}),
    ]
    for r in answers:
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert count_triples(server) == before
    assert server.sparql(params={"query": "ASK { <urn:x:s> ?p ?o }"}).json()["boolean"] is False


def test_service_description_and_query_page(server: Server) -> None:
    r = server.sparql(headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    svc = rdflib.URIRef(server.url + "/sparql")
    assert (svc, rdflib.RDF.type, sd.Service) in g
    assert (svc, sd.supportedLanguage, sd.SPARQL11Query) in g
    names = {str(o) for o in g.objects(None, sd.name)}
    assert names == set(GRAPHS)

    page = server.sparql(headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert '<textarea id="query" name="query"' in page.text
    assert "audience-topic" in page.text  # the stored questions are the examples
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["x-content-type-options"] == "nosniff"
    # A browser submitting the form gets the answer as a table.
    answer = server.sparql(
        params={"query": SELECT_TITLE}, headers={"Accept": "text/html,*/*;q=0.8"}
    )
    assert '<table id="results">' in answer.text and "Advancing MLP" in answer.text
    script = httpx.get(server.url + "/assets/query.js")
    assert script.status_code == 200 and "rkg-examples" in script.text


def test_cors(server: Server) -> None:
    r = server.sparql(params={"query": "ASK {}"}, headers={"Origin": "https://example.org"})
    assert r.headers["access-control-allow-origin"] == "*"
    pre = httpx.options(
        server.url + "/sparql",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"},
    )
    assert pre.status_code == 204
    assert "POST" in pre.headers["access-control-allow-methods"]
    err = server.sparql(params={"query": "SELECT"})
    assert err.status_code == 400 and err.headers["access-control-allow-origin"] == "*"


# ---------------------------------------------------------------- real clients


def test_sparqlwrapper_json_xml_ask_construct(server: Server) -> None:
    client = SPARQLWrapper(server.url + "/sparql")
    client.setQuery(SELECT_TITLE)
    client.setReturnFormat(JSON)
    answer: Any = client.queryAndConvert()
    rows = answer["results"]["bindings"]
    assert rows[0]["t"]["value"].startswith("Advancing MLP")
    client.setReturnFormat(XML)
    doc: Any = client.queryAndConvert()
    assert "Advancing MLP" in doc.toxml()
    client.setQuery(f"ASK {{ <{R4184}> ?p ?o }}")
    client.setReturnFormat(JSON)
    answer = client.queryAndConvert()
    assert answer["boolean"] is True
    client.setQuery(f"CONSTRUCT {{ <{R4184}> <{TITLE}> ?t }} WHERE {{ <{R4184}> <{TITLE}> ?t }}")
    client.setMethod("POST")
    client.setReturnFormat(RDFXML)
    graph = client.queryAndConvert()
    assert isinstance(graph, rdflib.Graph)
    assert len(graph) == 1


def test_rdflib_sparqlstore(server: Server) -> None:
    g = rdflib.Graph(store="SPARQLStore")
    g.open(server.url + "/sparql")
    try:
        rows = list(g.query(SELECT_TITLE))
        assert str(rows[0][0]).startswith("Advancing MLP")  # type: ignore[index]
        assert str(g.value(rdflib.URIRef(R4184), TITLE)).startswith("Advancing MLP")
        assert (rdflib.URIRef(R4184), TITLE, None) in g
        assert g.query(f"ASK {{ <{R4184}> ?p ?o }}").askAnswer is True
    finally:
        g.close()


# ---------------------------------------------------------------- graph store protocol


@pytest.mark.parametrize(
    "media, fmt",
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/n-quads", "nquads"),
        ("application/trig", "trig"),
    ],
)
def test_graph_store_read(server: Server, media: str, fmt: str) -> None:
    r = httpx.get(server.url + "/store", params={"graph": CATALOG_GRAPH}, headers={"Accept": media})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(media)
    ds = rdflib.Dataset()
    ds.parse(data=r.content, format=fmt)
    triples = {(s, p, o) for s, p, o, _ in ds.quads((None, None, None, None))}
    assert len(triples) == count_triples(server, CATALOG_GRAPH)
    if fmt in ("nquads", "trig"):
        assert {str(c) for _, _, _, c in ds.quads((None, None, None, None))} == {CATALOG_GRAPH}
    whole = httpx.get(server.url + "/store?default", headers={"Accept": media})
    assert whole.status_code == 200
    union = rdflib.Dataset()
    union.parse(data=whole.content, format=fmt)
    assert len(
        {(s, p, o) for s, p, o, _ in union.quads((None, None, None, None))}
    ) == count_triples(server)


def test_graph_store_errors(server: Server) -> None:
    assert (
        httpx.get(server.url + "/store", params={"graph": BASE + "graph/nope"}).status_code == 404
    )
    assert httpx.get(server.url + "/store").status_code == 400
    assert (
        httpx.get(server.url + "/store?default", headers={"Accept": "text/csv"}).status_code == 406
    )


# ---------------------------------------------------------------- dereferenceable IRIs

ENTITIES = [
    ("resource/4184", "Advancing MLP"),
    ("org/ncmlp", "National Center for Medical-Legal Partnership"),
    ("concept/audience/pcas", "PCAs"),
    ("concept/audience", None),
]


@pytest.mark.parametrize("path, label", ENTITIES)
def test_content_negotiation_on_entities(server: Server, path: str, label: str | None) -> None:
    iri = rdflib.URIRef(BASE + path)
    url = f"{server.url}/{path}"
    for media, fmt in RDF_FORMATS.items():
        for r in (
            httpx.get(url, headers={"Accept": media}),
            httpx.get(
                url
                + {
                    "text/turtle": ".ttl",
                    "application/n-triples": ".nt",
                    "application/ld+json": ".jsonld",
                    "application/rdf+xml": ".rdf",
                }[media]
            ),
        ):
            assert r.status_code == 200, (url, media, r.text)
            assert r.headers["content-type"].startswith(media)
            assert r.headers["vary"] == "Accept"
            g = rdflib.Graph().parse(data=r.content, format=fmt)
            assert (iri, None, None) in g, (path, media)
            assert len(list(g.predicate_objects(iri))) >= 2
    page = httpx.get(url, headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["vary"] == "Accept"
    assert f'<p class="iri">{iri}</p>' in page.text
    assert 'rel="alternate" type="text/turtle"' in page.text
    if label:
        assert label in page.text
    # The same page by suffix; only the live preview's version may have moved in between
    # (the catalog's validation finishing, say).
    assert _unversioned(httpx.get(url + ".html").text) == _unversioned(page.text)


def _unversioned(html: str) -> str:
    return re.sub(r'data-version="[^"]*"', 'data-version=""', html)


def test_description_carries_labels_of_what_it_links_to(server: Server) -> None:
    r = httpx.get(server.url + "/resource/4184", headers={"Accept": "text/turtle"})
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    pcas = rdflib.URIRef(BASE + "concept/audience/pcas")
    assert str(g.value(pcas, rdflib.SKOS.prefLabel)) == "PCAs"


def test_pages_are_the_site_renderers(server: Server, catalog_root: Path) -> None:
    import datetime as dt

    from resource_kg import site
    from resource_kg.catalog import Catalog
    from resource_kg.web.pages import VERSION

    catalog = Catalog.load(catalog_root)
    model = site.SiteModel.build(catalog)
    ent = model.entities[R4184]
    s = catalog.settings
    info = site.SiteInfo(
        s.title, s.description, s.publisher, s.license, VERSION, dt.date.today(), server.url + "/"
    )
    served = httpx.get(server.url + "/resource/4184.html").text
    assert without_server_additions(served) == site.resource_page(model, ent, info)


#: What the server adds to the site's pages (menu links, the curator view), each marked
#: `class="serve-only"`: removed, a served page is byte for byte the site renderer's.
SERVE_ONLY = re.compile(
    r'<a class="serve-only"[^>]*>[^<]*</a>'
    r'|<p class="curator-alert serve-only".*?</p>'
    r'|<section class="curator serve-only".*?</section>'
    r'|<script class="serve-only"[^>]*></script>',
    re.DOTALL,
)


def without_server_additions(html: str) -> str:
    return SERVE_ONLY.sub("", html)


def test_ontology_and_its_terms(server: Server) -> None:
    term = rdflib.URIRef(BASE + "ontology#primaryAudience")
    for media, fmt in RDF_FORMATS.items():
        r = httpx.get(server.url + "/ontology", headers={"Accept": media})
        assert r.status_code == 200
        g = rdflib.Graph().parse(data=r.content, format=fmt)
        assert (
            term,
            rdflib.RDFS.subPropertyOf,
            rdflib.URIRef("http://purl.org/dc/terms/audience"),
        ) in g
        assert (rdflib.URIRef(BASE + "ontology"), rdflib.RDF.type, rdflib.OWL.Ontology) in g
    page = httpx.get(server.url + "/ontology", headers={"Accept": "text/html"})
    assert 'id="primaryAudience"' in page.text


def test_unknown_iris_are_404(server: Server) -> None:
    for path in (
        "/resource/9999",
        "/org/nobody.ttl",
        "/concept/audience/nobody",
        "/concept/nothing",
        "/nothing",
    ):
        assert httpx.get(server.url + path).status_code == 404, path


def test_index_downloads_void(server: Server) -> None:
    index = httpx.get(server.url + "/")
    assert index.status_code == 200
    assert 'src="catalog-index.js"' in index.text
    script = httpx.get(server.url + "/catalog-index.js")
    assert "window.rkgCatalog" in script.text
    assert "Advancing MLP" in script.text
    listing = httpx.get(server.url + "/downloads/")
    assert 'href="catalog.trig"' in listing.text
    dump = httpx.get(server.url + "/downloads/catalog.trig")
    ds = rdflib.Dataset()
    ds.parse(data=dump.content, format="trig")
    assert len({(s, p, o) for s, p, o, _ in ds.quads((None, None, None, None))}) == count_triples(
        server
    )
    # The index links to its dumps as ../NAME: the same files.
    assert (
        httpx.get(server.url + "/catalog.ttl").content
        == httpx.get(server.url + "/downloads/catalog.ttl").content
    )
    void = httpx.get(server.url + "/.well-known/void", headers={"Accept": "text/turtle"})
    g = rdflib.Graph().parse(data=void.text, format="turtle")
    assert (None, rdflib.RDF.type, rdflib.URIRef("http://rdfs.org/ns/void#Dataset")) in g


# ---------------------------------------------------------------- safety


def test_security_headers_and_no_path_escapes(server: Server) -> None:
    page = httpx.get(server.url + "/resource/4184.html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert (
        httpx.get(server.url + "/sparql", params={"query": "ASK {}"}).headers[
            "x-content-type-options"
        ]
        == "nosniff"
    )
    for path in (
        "/assets/../../pyproject.toml",
        "/assets/..%2f..%2fcatalog.py",
        "/assets/%2e%2e/%2e%2e/etc/passwd",
        "/downloads/..%2fetc%2fpasswd",
        "/downloads/../data/resources/4184.yaml",
        "/resource/..%2f..%2fdata%2fresources%2f4184.yaml",
        "/concept/../../pyproject.toml",
    ):
        r = httpx.get(server.url + path)
        assert r.status_code == 404, path
        assert "resource_kg" not in r.text


def test_body_and_row_caps(server: Server) -> None:
    big = server.post(
        content=b"#" * 2_000_000, headers={"Content-Type": "application/sparql-query"}
    )
    assert big.status_code == 413
    many = server.sparql(params={"query": "SELECT * { ?s ?p ?o }"})
    assert many.status_code == 400 and "more than 500 rows" in many.text
    assert server.sparql(params={"query": "SELECT * { ?s ?p ?o } LIMIT 500"}).status_code == 200


def test_timeout_stops_a_runaway_query_while_others_are_answered(server: Server) -> None:
    result: dict[str, Any] = {}

    def runaway() -> None:
        started = time.monotonic()
        result["response"] = server.sparql(params={"query": CARTESIAN})
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.3)  # the runaway query is running in a worker now
    asks = []
    for _ in range(5):
        started = time.monotonic()
        r = server.sparql(params={"query": "ASK {}"})
        asks.append(time.monotonic() - started)
        assert r.status_code == 200
    assert max(asks) < 1.0, asks
    thread.join(timeout=30)
    r = result["response"]
    assert r.status_code == 503
    assert "time limit of 2 s" in r.text
    assert r.headers["content-type"].startswith("text/plain")
    assert result["seconds"] < 5
    # The worker that ran it was replaced: the server answers as before.
    for _ in range(4):
        assert server.sparql(params={"query": "ASK {}"}).json()["boolean"] is True


class _Recorder(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.seen.append(self.path)
        self.send_response(500)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


def test_service_makes_no_outbound_request(server: Server) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    target = f"http://127.0.0.1:{httpd.server_address[1]}/sparql"
    try:
        refused = [
            f"SELECT * {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
            f"SELECT * {{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }}",
            f"PREFIX ep: <{target.rsplit('/', 1)[0]}/>\nSELECT * {{ service ep:sparql {{ ?s ?p ?o }} }}",
            f"SELECT * {{ BIND(<{target}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        ]
        for query in refused:
            r = server.sparql(params={"query": query})
            assert r.status_code == 400, (query, r.text)
            assert "SERVICE" in r.text
        # The word in a comment, a string or an IRI is not a SERVICE clause.
        harmless = [
            f"# SERVICE <{target}>\nASK {{}}",
            f'ASK {{ FILTER("SERVICE <{target}>" != "") }}',
            "ASK { <urn:x:SERVICE> ?p ?o }",
        ]
        for query in harmless:
            r = server.sparql(params={"query": query})
            assert r.status_code == 200, (query, r.text)
        time.sleep(0.2)
        assert _Recorder.seen == []
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_access_log_has_one_line_per_request(server: Server) -> None:
    marker = "/resource/4184.nt?marker=access-log"
    httpx.get(server.url + marker)
    time.sleep(0.2)
    lines = [line for line in server.log.read_text().splitlines() if marker in line]
    assert len(lines) == 1
    assert '"GET ' + marker + ' HTTP/1.1" 200' in lines[0]


def test_sigterm_stops_cleanly(catalog_root: Path, tmp_path: Path) -> None:
    srv = start_server(catalog_root, tmp_path / "serve.log", "--workers", "2")
    import os
    import signal

    def descendants(pid: int) -> list[str]:
        found = subprocess.run(
            ["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        return [*found, *(d for child in found for d in descendants(int(child)))]

    def gone(pid: str) -> bool:
        status = Path(f"/proc/{pid}/status")
        try:
            return "zombie" in status.read_text().lower()
        except OSError:
            return True

    tree = descendants(srv.process.pid)
    assert len(tree) >= 3  # the fork server, its two query workers (and a resource tracker)
    started = time.monotonic()
    os.kill(srv.process.pid, signal.SIGINT)
    assert srv.process.wait(timeout=15) == 0
    assert time.monotonic() - started < 5
    deadline = time.monotonic() + 5
    while not all(gone(pid) for pid in tree) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in tree if not gone(pid)] == []  # no process left behind
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


class _Endpoint(BaseHTTPRequestHandler):
    """A tiny SPARQL endpoint answering every query with one row, recording the requests."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.seen.append(self.path)
        body = b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":"remote"}}]}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


def test_allow_service_names_the_hosts_that_may_be_called(
    catalog_root: Path, tmp_path: Path
) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    srv = start_server(catalog_root, tmp_path / "serve.log", "--allow-service", "127.0.0.1")
    try:
        allowed = f"SELECT ?x {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?x ?p ?o }} }}"
        r = srv.sparql(params={"query": allowed})
        assert r.status_code == 200, r.text
        assert r.json()["results"]["bindings"] == [{"x": {"type": "literal", "value": "remote"}}]
        assert len(_Endpoint.seen) == 1
        other = f"SELECT ?x {{ SERVICE <http://localhost:{port}/sparql> {{ ?x ?p ?o }} }}"
        assert srv.sparql(params={"query": other}).status_code == 400
        assert len(_Endpoint.seen) == 1
    finally:
        stop_server(srv)
        httpd.shutdown()
        httpd.server_close()
