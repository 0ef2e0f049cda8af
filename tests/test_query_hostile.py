"""Hostile queries and parameter values on the local engines, each reaching the code it could harm.

Parameter values go through resolution *and* binding into real queries run on the embedded
store; the rows are asserted (a title holding the payload, added to a temporary copy of the
invented fixture catalog, is found as exactly that record) and so is the text of each refusal.
`SERVICE` is tried against a real HTTP server on 127.0.0.1 that records every request it gets;
time limits and Ctrl-C against a real `rkg` process running a query that takes minutes.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import yaml
from test_query import FIXTURE, RKG, ROOT, T1, around, check_injection, valid_params

from resource_kg import Catalog
from resource_kg.errors import QueryError
from resource_kg.query import (
    CONCEPT_KINDS,
    EmbeddedEngine,
    RdflibEngine,
    StoredQuery,
    Term,
    bind,
    load_queries,
    parse_stored_query,
    run_stored,
    values_block,
)
from resource_kg.query.engines import bounded
from resource_kg.query.shape import lexed_shape, parsed_services, shape

DCT = "http://purl.org/dc/terms/"
R = "https://w3id.org/resource-kg/resource/"

#: A question with two text parameters, as a curator could write one (invented for the test).
TWO_TEXTS = """#+ title: Resources by exact title and description
#+ description: Invented for the tests, a question with two text parameters.
#+ params:
#+   a: {kind: text, description: the title, example: x}
#+   b: {kind: text, description: the summary, optional: true, example: y}
SELECT ?r WHERE {
  VALUES ?_a { UNDEF }
  VALUES ?_b { UNDEF }
  ?r <http://purl.org/dc/terms/title> ?_a .
  OPTIONAL { ?r <http://purl.org/dc/terms/abstract> ?_b }
}
"""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(FIXTURE)


def _sequential_bind(text: str, values: Mapping[str, Sequence[Term]]) -> str:
    """The old bind, one parameter after another (kept here to show the payload is real)."""
    for name, terms in values.items():
        block = f"VALUES ?_{name} {{ {' '.join(str(t) for t in terms) if terms else 'UNDEF'} }}"
        text = values_block(name).sub(lambda _m, block=block: block, text)  # type: ignore[misc]
    return text


def _structure(query: str) -> list[str]:
    """The names of the nodes of rdflib's algebra of the query, in order (values left out)."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    names: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, CompValue):
            names.append(node.name)
            for key, value in node.items():
                if key not in ("res", "_vars"):
                    walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)

    walk(translateQuery(parseQuery(query)).algebra)
    return names


@pytest.mark.parametrize(
    "payload",
    [
        " UNDEF } { ?r ?x ?y } UNION { ?r ?x ?y } #",
        " UNDEF } SERVICE <http://127.0.0.1:9/sparql> { ?r ?x ?y } #",
    ],
    ids=["union", "service"],
)
def test_a_value_holding_a_values_block_is_not_rewritten(catalog: Catalog, payload: str) -> None:
    """Issue 18: `VALUES ?_b {}` inside the first text is bound as text, never substituted."""
    query = parse_stored_query(Path("two-texts.rq"), TWO_TEXTS)
    values = {"a": [ox.Literal("VALUES ?_b {}")], "b": [ox.Literal(payload)]}
    engine = EmbeddedEngine(catalog.store, catalog.graphs, allow_service=("127.0.0.1",))
    old = _sequential_bind(query.text, values)
    assert "Union" in _structure(old) or "ServiceGraphPattern" in _structure(old)
    if "UNION" in payload:
        assert len(engine.select(old).rows) > 100  # the old way: every triple of every title
    bound = bind(query.text, values)
    assert _structure(bound) == _structure(query.text)
    assert shape(bound).services == ()
    assert engine.select(bound).rows == []
    rows = run_stored(engine, query, {"a": "VALUES ?_b {}", "b": payload}, catalog.lexicon)
    assert rows.rows == []
    title = run_stored(engine, query, {"a": T1, "b": payload}, catalog.lexicon)
    assert [r["r"] for r in title.rows] == [ox.NamedNode(R + "r1")]


# ---------------------------------------------------------------- SERVICE


class _Recorder(BaseHTTPRequestHandler):
    """Answers 500 to everything and remembers each request's path."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        server: Any = self.server
        server.seen.append(self.path)
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture()
def recorder() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen = []
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/sparql"
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _service_queries(url: str) -> list[str]:
    base = url.rsplit("/", 1)[0]
    return [
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<{url}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        f"PREFIX ep: <{base}/>\nSELECT * WHERE {{ service silent ep:sparql {{ ?s ?p ?o }} }}",
        f"BASE <{base}/>\nSELECT * WHERE {{ ?s ?p ?o . SERVICE <sparql> {{ ?s ?p ?o }} }}",
    ]


@pytest.fixture()
def catalog_dir(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(FIXTURE, target)
    return target


@pytest.mark.parametrize("engine", ["embedded", "rdflib"])
def test_service_is_refused_and_sends_nothing(
    recorder: Any, catalog_dir: Path, tmp_path: Path, engine: str
) -> None:
    """Ad-hoc and stored queries: one line, exit 2, and the server never hears of it."""
    (catalog_dir / "queries").mkdir()
    for i, text in enumerate(_service_queries(recorder.url)):
        adhoc = tmp_path / f"service-{i}.rq"
        adhoc.write_text(text, encoding="utf-8")
        stored = catalog_dir / "queries" / f"service-{i}.rq"
        stored.write_text(f"#+ title: Remote {i}\n#+ description: invented\n{text}")
        for args in (["--file", str(adhoc)], [f"service-{i}"])[: 2 if i in (0, 2) else 1]:
            proc = subprocess.run(
                [*RKG, "query", *args, str(catalog_dir), "--engine", engine],
                capture_output=True,
                text=True,
            )
            assert proc.returncode == 2, (text, proc.stderr)
            lines = proc.stderr.strip().splitlines()
            assert len(lines) == 1 and "Traceback" not in proc.stderr
            assert re.fullmatch(
                r"error: \S+service-\d\.rq: SERVICE (\S+|a variable or unresolvable name) "
                r"refused: a local query makes no outbound requests "
                r"\(--allow-service HOST names a host it may call\)",
                lines[0],
            ), lines[0]
    time.sleep(0.2)
    assert recorder.seen == []


def test_allow_service_lets_one_host_be_called(recorder: Any, catalog_dir: Path) -> None:
    """With --allow-service 127.0.0.1 the request is sent (and the server's 500 reported)."""
    adhoc = catalog_dir / "service.rq"
    adhoc.write_text(f"SELECT * WHERE {{ SERVICE <{recorder.url}> {{ ?s ?p ?o }} }}")
    args = [*RKG, "query", "--file", str(adhoc), str(catalog_dir)]
    proc = subprocess.run([*args, "--allow-service", "localhost"], capture_output=True, text=True)
    assert proc.returncode == 2 and recorder.seen == []
    proc = subprocess.run([*args, "--allow-service", "127.0.0.1"], capture_output=True, text=True)
    assert recorder.seen, proc.stderr
    assert proc.returncode == 2 and proc.stderr.startswith("error: ")


def test_parser_and_lexer_agree_on_service_targets(recorder: Any) -> None:
    """The lexer's fast answer (no SERVICE) and its targets match rdflib's algebra."""
    for text in _service_queries(recorder.url):
        assert lexed_shape(text).services == parsed_services(text), text
        assert shape(text).services == parsed_services(text)
    harmless = [
        f"# SERVICE <{recorder.url}>\nASK {{}}",
        f'ASK {{ FILTER("SERVICE <{recorder.url}>" != "") }}',
        "ASK { <urn:x:SERVICE> ?p ?o }",
        "PREFIX SERVICE: <urn:x:> ASK { SERVICE:a ?p ?o }",
    ]
    for text in harmless:
        assert lexed_shape(text).services == () == parsed_services(text), text


# ---------------------------------------------------------------- FROM


def test_from_is_honoured_like_rdflib(catalog: Catalog) -> None:
    """`FROM <g>` counts the triples of g alone, on both engines, as the catalog says."""
    rdflib_engine = RdflibEngine(catalog.dataset)
    embedded = EmbeddedEngine(catalog.store, catalog.graphs)
    counts = catalog.triples_per_graph()
    for graph, expected in counts.items():
        text = f"SELECT (COUNT(*) AS ?n) FROM <{graph}> WHERE {{ ?s ?p ?o }}"
        got = [int(e.select(text).rows[0]["n"].value) for e in (embedded, rdflib_engine)]  # type: ignore[union-attr]
        assert got == [expected, expected], graph
    union = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    everything = int(embedded.select(union).rows[0]["n"].value)  # type: ignore[union-attr]
    assert everything >= sum(counts.values()) > max(counts.values())
    named = (
        f"SELECT DISTINCT ?g FROM NAMED <{next(iter(counts))}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    )
    assert [r["g"] for r in embedded.select(named).rows] == [ox.NamedNode(next(iter(counts)))]


def test_from_never_fetches_a_graph(catalog: Catalog, recorder: Any) -> None:
    """rdflib would load `FROM <url>` from the web: a graph not in the dataset is empty."""
    text = f"SELECT (COUNT(*) AS ?n) FROM <{recorder.url}> FROM NAMED <{recorder.url}> WHERE {{ ?s ?p ?o }}"
    for engine in (RdflibEngine(catalog.dataset), EmbeddedEngine(catalog.store, catalog.graphs)):
        assert engine.select(text).rows[0]["n"] == ox.Literal(
            "0", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
        )
    time.sleep(0.2)
    assert recorder.seen == []


# ---------------------------------------------------------------- time limit and Ctrl-C

#: Counts the triples of the fixture cubed: minutes on the embedded engine.
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }\n"


def test_timeout_stops_a_local_query(catalog_dir: Path) -> None:
    slow = catalog_dir / "slow.rq"
    slow.write_text(SLOW)
    started = time.monotonic()
    proc = subprocess.run(
        [*RKG, "query", "--file", str(slow), str(catalog_dir), "--timeout", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    took = time.monotonic() - started
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {slow}: the query did not finish within 2 s (--timeout)"
    assert took < 10  # start-up and store build included; the query alone runs for minutes


def _sigint_as_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_a_local_query_at_once(catalog_dir: Path) -> None:
    slow = catalog_dir / "slow.rq"
    slow.write_text(SLOW)
    with subprocess.Popen(
        [*RKG, "query", "--file", str(slow), str(catalog_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As from a terminal: a test run started in the background (`cmd &` in a script)
        # ignores SIGINT, and Python then keeps ignoring it in its children.
        preexec_fn=_sigint_as_default,
    ) as proc:
        time.sleep(4)  # started, store built, the query running
        assert proc.poll() is None
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    assert proc.returncode == 130 and err.strip() == "aborted", err
    assert took < 1.5


def test_the_query_thread_costs_little(catalog: Catalog) -> None:
    """Every local query runs in a worker thread: the same rows, well under 1 ms more."""
    engine = EmbeddedEngine(catalog.store, catalog.graphs)
    text = f"SELECT ?r WHERE {{ ?r <{DCT}identifier> ?id }} ORDER BY ?r"
    solutions = catalog.store.query(text, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    direct = [dict(zip(["r"], s, strict=True)) for s in solutions]
    assert engine.select(text).rows == direct and len(direct) == 5
    n = 300
    started = time.perf_counter()
    for _ in range(n):
        bounded(lambda: None, None, "q", 0)
    assert (time.perf_counter() - started) / n < 0.001
    with pytest.raises(QueryError, match=r"did not finish within 0\.5 s"):
        bounded(lambda: time.sleep(5), time.monotonic() + 0.5, "q", 0.5)


# ---------------------------------------------------------------- hostile parameter values


def _stored(text: str) -> StoredQuery:
    return parse_stored_query(Path("hostile.rq"), text)


TITLE_QUERY = _stored(
    """#+ title: A resource by its exact title
#+ description: Invented for the tests, one text parameter bound to dct:title.
#+ params:
#+   title: {kind: text, description: the title, example: x}
SELECT ?id WHERE {
  VALUES ?_title { UNDEF }
  ?r <http://purl.org/dc/terms/title> ?_title ; <http://purl.org/dc/terms/identifier> ?id .
}
"""
)

#: Titles that would break out of a pasted string; each becomes the title of one new record.
HOSTILE_TITLES = [
    'Invented "quoted" title',
    "Invented title with ' and '''",
    'Invented title " } UNION { ?r ?p ?o } #',
    "Invented } closing brace",
    "Invented # not a comment",
    "Invented title\nwith a newline",
    "Invented title with a tab\tand a backslash \\",
    'Invented """ long string',
    "Invented ünïcødé 東京 ☃ title",
    "Invented > VALUES ?_title { UNDEF } <",
]


@pytest.fixture(scope="module")
def hostile_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The fixture catalog plus one record per hostile title (ids h0, h1, ...)."""
    root = tmp_path_factory.mktemp("hostile") / "catalog"
    shutil.copytree(FIXTURE, root)
    template = yaml.safe_load((root / "data" / "resources" / "r4.yaml").read_text())
    for i, title in enumerate(HOSTILE_TITLES):
        record = {**template, "id": f"h{i}", "title": title}
        (root / "data" / "resources" / f"h{i}.yaml").write_text(
            yaml.safe_dump(record, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return Catalog.load(root)


@pytest.mark.parametrize("i", range(len(HOSTILE_TITLES)))
def test_a_hostile_title_finds_exactly_its_record(hostile_catalog: Catalog, i: int) -> None:
    engine = EmbeddedEngine(hostile_catalog.store, hostile_catalog.graphs)
    params = {"title": HOSTILE_TITLES[i]}
    rows = run_stored(engine, TITLE_QUERY, params, hostile_catalog.lexicon).values()
    assert rows == [{"id": f"h{i}"}]
    rdflib_rows = run_stored(
        RdflibEngine(hostile_catalog.dataset), TITLE_QUERY, params, hostile_catalog.lexicon
    ).values()
    assert rdflib_rows == rows


@pytest.mark.parametrize(
    "value",
    ["\u0000", "Invented \u0000 board orientation workbook", "\ud800", "", " ", T1 + " "],
    ids=["nul", "nul-inside", "lone-surrogate", "empty", "space", "trailing-space"],
)
def test_odd_text_values_match_nothing(hostile_catalog: Catalog, value: str) -> None:
    engine = EmbeddedEngine(hostile_catalog.store, hostile_catalog.graphs)
    try:
        rows = run_stored(engine, TITLE_QUERY, {"title": value}, hostile_catalog.lexicon)
    except QueryError as exc:  # no RDF literal holds a lone surrogate: a clear error
        assert value == "\ud800"
        assert (
            exc.message
            == "parameter 'title': '\\ud800' is not text: character 1 is a lone surrogate"
        )
        return
    assert value != "\ud800" and rows.rows == []


def _run(catalog: Catalog, name: str, params: dict[str, str]) -> list[dict[str, Any]]:
    return [dict(row) for row in catalog.query(name, **params)]


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        # IRIs: `>`, spaces and braces never reach the query text.
        ("related", {"resource": R + "r1> } UNION { ?s ?p ?o"},
         "parameter 'resource': '" + R + "r1> } UNION { ?s ?p ?o' is not a valid IRI: "),
        ("related", {"resource": R + "r 1"}, "parameter 'resource': '" + R + "r 1' is not a valid IRI: "),
        ("related", {"resource": "r1> ."}, "parameter 'resource': 'r1> .' is neither a resource id nor a resource IRI"),
        ("related", {"resource": R + "r1%3E"}, "parameter 'resource': no resource has the id or IRI '" + R + "r1%3E'"),
        ("language", {"language": "<http://id.loc.gov/vocabulary/iso639-1/es> } UNION {"},
         "parameter 'language': no language matches '<http://id.loc.gov/vocabulary/iso639-1/es> } UNION {'"),
        # Numbers.
        ("population", {"population": "PEH", "since": "1e309"}, "parameter 'since': '1e309' is not a whole number"),
        ("population", {"population": "PEH", "since": "1;DROP"}, "parameter 'since': '1;DROP' is not a whole number"),
        ("population", {"population": "PEH", "since": "2019 } UNION {"}, "parameter 'since': '2019 } UNION {' is not a whole number"),
        ("population", {"population": "PEH", "since": "1234567890"}, "parameter 'since': '1234567890' is not a whole number"),
        ("population", {"population": "PEH", "since": "٢٠١٩"}, "parameter 'since': '٢٠١٩' is not a whole number"),
        ("population", {"population": "PEH", "limit": "1e309"},
         "parameter 'limit': '1e309' is not a row limit (a whole number 1–1000000, or all)"),
        # Dates.
        ("whats-new", {"since": "2020-13-45"}, "parameter 'since': '2020-13-45' is not a date (write YYYY-MM-DD)"),
        ("whats-new", {"since": "2021-02-29"}, "parameter 'since': '2021-02-29' is not a date (write YYYY-MM-DD)"),
        ("whats-new", {"since": '2020-01-01" } UNION {'}, "parameter 'since': '2020-01-01\" } UNION {' is not a date (write YYYY-MM-DD)"),
        ("whats-new", {"since": "today-999999d"}, "parameter 'since': 'today-999999d' is not a date (write YYYY-MM-DD)"),
        ("due-for-review", {"before": "２０２０-01-01"}, "parameter 'before': '２０２０-01-01' is not a date (write YYYY-MM-DD)"),
    ],
)  # fmt: skip
def test_refused_values_say_why(
    catalog: Catalog, name: str, params: dict[str, str], message: str
) -> None:
    with pytest.raises(QueryError) as caught:
        _run(catalog, name, params)
    assert caught.value.message.startswith(message), caught.value.message


@pytest.mark.parametrize(
    ("name", "params", "same_as"),
    [
        ("population", {"population": "PEH", "since": "-0"}, {"population": "PEH", "since": "0"}),
        ("population", {"population": "PEH", "since": "+2019"}, {"population": "PEH", "since": "2019"}),
        ("population", {"population": "PEH", "since": " 2019 "}, {"population": "PEH", "since": "2019"}),
        ("whats-new", {"since": " 2020-01-01\n"}, {"since": "2020-01-01"}),
        ("related", {"resource": " r1 "}, {"resource": "r1"}),
        ("related", {"resource": R + "r1"}, {"resource": "r1"}),
    ],
)  # fmt: skip
def test_accepted_odd_values_give_the_plain_rows(
    catalog: Catalog, name: str, params: dict[str, str], same_as: dict[str, str]
) -> None:
    rows = _run(catalog, name, params)
    assert rows == _run(catalog, name, same_as) and rows


def test_numbers_and_dates_are_bound_as_typed_literals() -> None:
    """What the engine sees: the canonical lexical form with its datatype, nothing else."""
    from resource_kg.query import resolve_value
    from resource_kg.vocab import Lexicon

    day = dt.date(2025, 1, 1)
    template = "SELECT * WHERE { VALUES ?_x { UNDEF } }"
    for kind, value, term in [
        ("integer", "-0", '"0"^^<http://www.w3.org/2001/XMLSchema#integer>'),
        ("integer", "+007", '"7"^^<http://www.w3.org/2001/XMLSchema#integer>'),
        ("date", "today-1d", '"2024-12-31"^^<http://www.w3.org/2001/XMLSchema#date>'),
        ("text", 'a"b}\n#', '"a\\"b}\\n#"'),
    ]:
        terms = resolve_value(kind, value, Lexicon(), lambda _: [], day)
        assert bind(template, {"x": terms}) == f"SELECT * WHERE {{ VALUES ?_x {{ {term} }} }}"


LABEL_KINDS = (*CONCEPT_KINDS, "topic-or-subtopic", "scheme")


def _param_cases() -> list[tuple[str, str, str, str]]:
    stored = load_queries(ROOT / "queries")
    valid = valid_params()
    return [
        (q.name, p.name, p.kind, valid[q.name].get(p.name, p.example or ""))
        for q in stored.values()
        for p in q.params
    ]


@pytest.mark.parametrize(("name", "param", "kind", "valid"), _param_cases())
def test_hostile_values_reach_binding(
    catalog: Catalog, name: str, param: str, kind: str, valid: str
) -> None:
    """Issue 12: the injection cases of test_query reach binding for every label parameter.

    Punctuation around a label is ignored by the lookup, so the value is bound (as the
    label's IRI) and the rows are those of the plain label; numbers, dates, limits and
    resource ids with the same punctuation are refused by their own check."""
    query = load_queries(ROOT / "queries")[name]
    spec = query.param(param)
    assert spec is not None
    base = {**valid_params()[name], param: valid}
    plain = catalog.query(name, **base)
    reached = []
    for value in around(valid):
        run = lambda n, p: catalog.query(n, **p)  # noqa: E731
        if check_injection(run, name, param, value, spec.optional):
            reached.append(value)
            assert catalog.query(name, **{**base, param: value}) == plain, value
    if kind in LABEL_KINDS:
        assert reached and plain, (name, param)
    else:
        assert reached == [], (name, param, reached)
