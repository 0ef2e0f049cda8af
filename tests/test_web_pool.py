"""The query workers' pool: kept answers equal fresh ones and never outlive the data."""

from __future__ import annotations

import asyncio

import pyoxigraph as ox

from resource_kg.web.pool import WorkerPool
from resource_kg.web.sparql import Job

EX = "http://example.org/"  # invented test data


def _store(titles: list[str]) -> ox.Store:
    store = ox.Store()
    for i, title in enumerate(titles):
        store.add(
            ox.Quad(
                ox.NamedNode(f"{EX}r{i}"),
                ox.NamedNode(f"{EX}title"),
                ox.Literal(title),
                ox.NamedNode(f"{EX}g"),
            )
        )
    return store


QUERY = f"SELECT ?r ?t WHERE {{ ?r <{EX}title> ?t }} ORDER BY ?r"


def test_kept_answers_are_the_fresh_answers_and_end_with_a_reload() -> None:
    async def scenario() -> None:
        kept = WorkerPool(_store(["one", "two"]), 2, 10.0)
        plain = WorkerPool(_store(["one", "two"]), 2, 10.0)
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
            changed = _store(["one", "three"])
            kept.reload(changed)
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
