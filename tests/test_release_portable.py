"""A store loaded from the release files alone answers every stored question as rkg does.

The release is made by `rkg publish`; its `catalog.trig` is loaded with Oxigraph's own
loader (`oxigraph load`) into a fresh on-disk store served read-only on 127.0.0.1: nothing rkg
adds at query time (no extra graph, no engine lines) is there.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import _oxigraph_binary, _wait_ready, free_port
from test_query import CASES, FIXTURE

from resource_kg import Catalog
from resource_kg.errors import QueryError
from resource_kg.query import load_queries, run_stored
from resource_kg.remote import Endpoint

ROOT = Path(__file__).resolve().parent.parent
RKG = str(Path(sys.executable).parent / "rkg")


def release_of(catalog_root: Path, tmp: Path) -> Path:
    """`rkg publish` of a copy of the catalog folder; the folder of the release it wrote."""
    root = tmp / "catalog"
    shutil.copytree(catalog_root / "data", root / "data")
    if (catalog_root / "pyproject.toml").is_file():
        shutil.copy(catalog_root / "pyproject.toml", root / "pyproject.toml")
    done = subprocess.run([RKG, "publish", str(root)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (release,) = [p.parent for p in (root / "releases").glob("*/catalog.trig")]
    return release


@pytest.fixture(scope="module", params=["bundled", "query-fixture"])
def served_release(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Catalog]]:
    """(query URL, catalog) of an Oxigraph server holding only the release's catalog.trig."""
    source = ROOT if request.param == "bundled" else FIXTURE
    tmp = tmp_path_factory.mktemp(f"release-{request.param}")
    release = release_of(source, tmp)
    binary = _oxigraph_binary()
    location = tmp / "store"
    subprocess.run(
        [binary, "load", "--location", str(location), "--file", str(release / "catalog.trig")],
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = tmp / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "serve-read-only", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log)
        yield url + "/query", Catalog.load(source)
    finally:
        process.terminate()
        process.wait(timeout=10)


def answers(run: Any) -> Any:
    try:
        return run()
    except QueryError as exc:
        return f"error: {exc}"


def test_every_stored_question_gives_the_embedded_rows(
    served_release: tuple[str, Catalog],
) -> None:
    url, catalog = served_release
    endpoint = Endpoint(url, 30, [g.value for g in catalog.graphs.all()])
    queries = load_queries(catalog.paths.queries)
    cases = [(name, q.example) for name, q in queries.items()]
    cases += [(name, params) for name, params, _rows in CASES]
    non_empty = 0
    for name, params in cases:
        query = queries[name]
        remote = answers(lambda: run_stored(endpoint, query, params, catalog.lexicon).values())  # noqa: B023
        local = answers(lambda: catalog.query(name, **params))  # noqa: B023
        assert remote == local, (name, params)
        non_empty += bool(local) and not isinstance(local, str)
    assert non_empty >= len(queries)  # the aggregates gave real rows, not two empty tables
