"""Every stored question gives the same rows in the same order on three engines.

The engines: the embedded one (pyoxigraph, `Catalog.query`), an Oxigraph server (the catalog's
quads loaded with Oxigraph's own bulk loader, served read-only) and Virtuoso (the session's
private `virtuoso-t`, loaded by `push` over its Graph Store with Digest auth). The catalogs: the
bundled one (repo root) and a generated one of 2,000 resources (`bench/generate.py 2000 --seed 3`).
The questions: each stored query's `#+ example`, the hand-checked CASES of test_query.py, the
paged queries with `limit=all` and `related` for a resource the catalog holds.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from conftest import VirtuosoServer, _oxigraph_binary, _wait_ready, free_port
from test_query import CASES, ROOT
from test_virtuoso import virtuoso_push

from resource_kg import Catalog
from resource_kg.errors import QueryError
from resource_kg.query import Engine, StoredQuery, load_queries, run_stored
from resource_kg.remote import Endpoint, HttpAuth

Case = tuple[str, dict[str, str]]


def questions(catalog: Catalog) -> list[Case]:
    queries = load_queries(catalog.paths.queries)
    cases: list[Case] = [(name, dict(q.example)) for name, q in queries.items()]
    cases += [(name, dict(params)) for name, params, _rows in CASES]
    cases += [
        (name, {**q.example, "limit": "all"})
        for name, q in queries.items()
        if any(p.kind == "limit" for p in q.params)
    ]
    first = catalog.query("language", language="English", limit="1")
    if first:
        rid = str(first[0]["id"])
        cases += [("related", {"resource": rid}), ("related", {"resource": rid, "limit": "all"})]
    return cases


def answers(
    engine: Engine | None, catalog: Catalog, queries: dict[str, StoredQuery], name: str,
    params: dict[str, str],
) -> Any:  # fmt: skip
    try:
        if engine is None:
            return catalog.query(name, **params)
        return run_stored(engine, queries[name], params, catalog.lexicon).values()
    except QueryError as exc:
        return f"error: {exc}"


def generated(tmp: Path) -> Path:
    out = tmp / "generated"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "generate.py"),
            "2000",
            "--seed",
            "3",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module", params=["bundled", "generated-2000"])
def engines(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    virtuoso_server: VirtuosoServer,
) -> Iterator[tuple[Catalog, dict[str, Engine | None], dict[str, float]]]:
    """(catalog, engines by name, load seconds by engine) for one catalog."""
    tmp = tmp_path_factory.mktemp(f"parity-{request.param}")
    root = ROOT if request.param == "bundled" else generated(tmp)
    catalog = Catalog.load(root)
    graphs = [g.value for g in catalog.graphs.all()]
    loading: dict[str, float] = {}

    started = time.perf_counter()
    dump = tmp / "catalog.nq"
    with dump.open("wb") as out:
        ox.serialize(catalog.quads, out, format=ox.RdfFormat.N_QUADS)
    binary, location = _oxigraph_binary(), tmp / "oxigraph"
    subprocess.run([binary, "load", "--location", str(location), "--file", str(dump)],
                   check=True, capture_output=True)  # fmt: skip
    port, log = free_port(), tmp / "oxigraph.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "serve-read-only", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(f"http://127.0.0.1:{port}", process, log)
        loading["oxigraph"] = time.perf_counter() - started

        started = time.perf_counter()
        counts = virtuoso_push(virtuoso_server, catalog)
        assert all(c.ok for c in counts), counts
        loading["virtuoso"] = time.perf_counter() - started

        auth = HttpAuth(user=virtuoso_server.user, password=virtuoso_server.password)
        yield (
            catalog,
            {
                "embedded": None,
                "oxigraph": Endpoint(
                    f"http://127.0.0.1:{port}/query", 120, graphs, None, "oxigraph"
                ),
                "virtuoso": Endpoint(virtuoso_server.sparql, 120, graphs, None, "virtuoso", auth),
            },
            loading,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_every_stored_question_gives_the_same_rows_everywhere(
    engines: tuple[Catalog, dict[str, Engine | None], dict[str, float]],
    record_property: Any,
) -> None:
    catalog, by_name, loading = engines
    spent = dict.fromkeys(by_name, 0.0)
    differ, non_empty = [], 0
    cases = questions(catalog)
    queries = load_queries(catalog.paths.queries)
    for name, params in cases:
        got = {}
        for engine_name, engine in by_name.items():
            started = time.perf_counter()
            got[engine_name] = answers(engine, catalog, queries, name, params)
            spent[engine_name] += time.perf_counter() - started
        local = got["embedded"]
        differ += [(name, params, e) for e, rows in got.items() if rows != local]
        non_empty += bool(local) and not isinstance(local, str)
    timing = ", ".join(f"{e} {s:.2f} s" for e, s in spent.items())
    loads = ", ".join(f"{e} {s:.2f} s" for e, s in loading.items())
    record_property("parity", f"{len(cases)} questions: {timing}; loaded: {loads}")
    print(
        f"\n{len(catalog.triples_per_graph())} graphs, {len(cases)} questions: {timing}; loaded: {loads}"
    )
    assert not differ, differ
    assert non_empty >= len(load_queries(catalog.paths.queries))
