"""The query workers' pool: kept answers equal fresh ones and never outlive the data."""

from __future__ import annotations

import asyncio

import pyoxigraph as ox

from resource_kg.web.pool import StoreChange, WorkerPool
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


def test_workers_told_a_change_answer_as_workers_forked_from_the_changed_store() -> None:
    """The live preview's fast path: the change is sent to the running workers (no fork);
    their answers equal those of a pool forked from a store changed the same way."""

    async def scenario() -> None:
        store = _store(["one", "two"])
        told = WorkerPool(store, 2, 10.0)
        told.keep_answers = False
        told.start()
        pids = sorted(told.pids())
        job = Job(QUERY, "application/sparql-results+json", union=True)
        try:
            assert b'"two"' in (await told.run(job)).body
            old = ox.Quad(
                ox.NamedNode(f"{EX}r1"),
                ox.NamedNode(f"{EX}title"),
                ox.Literal("two"),
                ox.NamedNode(f"{EX}g"),
            )
            new = ox.Quad(old.subject, old.predicate, ox.Literal("three"), old.graph_name)
            change = StoreChange((old,), (new,))
            change.apply(store)  # the server's own store, as store_update.update_store does
            told.reload(store, change)
            reforked = WorkerPool(store, 2, 10.0)
            reforked.start()
            try:
                # Each worker answers at least once (two jobs at a time, twice).
                for _ in range(2):
                    answers = await asyncio.gather(told.run(job), told.run(job))
                    fresh = await reforked.run(job)
                    assert all(a.body == fresh.body for a in answers)
                    assert b'"three"' in fresh.body and b'"two"' not in fresh.body
            finally:
                reforked.close()
            assert sorted(told.pids()) == pids  # no worker was forked again
        finally:
            told.close()

    asyncio.run(scenario())
