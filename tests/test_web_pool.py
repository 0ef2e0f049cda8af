"""The query workers' pool: kept answers equal fresh ones and never outlive the data; a new
snapshot reaches the running workers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pyoxigraph as ox

from resource_kg.graph import Graphs
from resource_kg.web.pool import WorkerPool
from resource_kg.web.sparql import Job

EX = "http://example.org/"  # invented test data


def _snapshot(folder: Path, titles: list[str]) -> Path:
    """An on-disk store of one title per resource, closed: what `store.snapshots` hands over."""
    store = ox.Store(str(folder))
    for i, title in enumerate(titles):
        store.add(
            ox.Quad(
                ox.NamedNode(f"{EX}r{i}"),
                ox.NamedNode(f"{EX}title"),
                ox.Literal(title),
                ox.NamedNode(f"{EX}g"),
            )
        )
    store.flush()
    del store
    return folder


QUERY = f"SELECT ?r ?t WHERE {{ ?r <{EX}title> ?t }} ORDER BY ?r"


def test_kept_answers_are_the_fresh_answers_and_end_with_a_reload(tmp_path: Path) -> None:
    async def scenario() -> None:
        first_data = _snapshot(tmp_path / "v1", ["one", "two"])
        kept = WorkerPool(first_data, 2, 10.0)
        plain = WorkerPool(first_data, 2, 10.0)
        plain.keep_answers = False
        kept.start()
        plain.start()
        try:
            job = Job(QUERY, "application/sparql-results+json", union=True)
            first = await kept.run(job)
            again = await kept.run(job)
            fresh = await plain.run(job)
            assert first.status == 200 and b'"one"' in first.body
            assert again == first == fresh
            assert job in kept.answers and not plain.answers
            # the data changes: the pool reloads, the kept answer goes
            kept.reload(_snapshot(tmp_path / "v2", ["one", "three"]))
            assert not kept.answers
            after = await kept.run(job)
            assert b'"three"' in after.body and b'"two"' not in after.body
            # an error is never kept
            bad = Job("SELECT * WHERE {", "application/sparql-results+json")
            assert (await kept.run(bad)).status != 200
            assert bad not in kept.answers
        finally:
            kept.close()
            plain.close()

    asyncio.run(scenario())


def test_workers_told_of_a_new_snapshot_answer_as_workers_started_on_it(tmp_path: Path) -> None:
    """The live preview's path: running workers open the new version's snapshot (no new
    process); their answers equal those of a pool started on that snapshot, and a job sent
    while a reload is under way sees one version or the other, never a mix."""

    async def scenario() -> None:
        told = WorkerPool(_snapshot(tmp_path / "v1", ["one", "two"]), 2, 10.0)
        told.keep_answers = False
        told.start()
        pids = sorted(told.pids())
        job = Job(QUERY, "application/sparql-results+json", union=True)
        try:
            assert b'"two"' in (await told.run(job)).body
            new = _snapshot(tmp_path / "v2", ["one", "three"])
            told.reload(new)
            started = WorkerPool(new, 2, 10.0)
            started.start()
            try:
                # Each worker answers at least once (two jobs at a time, twice).
                for _ in range(2):
                    answers = await asyncio.gather(told.run(job), told.run(job))
                    fresh = await started.run(job)
                    assert all(a.body == fresh.body for a in answers)
                    assert b'"three"' in fresh.body and b'"two"' not in fresh.body
                # The look-ups the server makes itself read the new snapshot too.
                engine = told.engine(Graphs.for_base(EX), "test")
                rows = engine.select(QUERY).rows
                assert [str(r["t"]) for r in rows] == ['"one"', '"three"']
            finally:
                started.close()
            assert sorted(told.pids()) == pids  # no worker was started again
        finally:
            told.close()

    asyncio.run(scenario())
