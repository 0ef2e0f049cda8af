"""The fast engine: batches of records in pySHACL (forked workers), once-only shapes, whole-graph SPARQL checks; the same results as the reference engine."""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.term import Node

from resource_kg.catalog import Catalog
from resource_kg.graph import QuadKey, resource_iri
from resource_kg.store.fingerprint import code_fingerprint
from resource_kg.store.forked import default_workers
from resource_kg.validate.cache import ResultCache
from resource_kg.validate.focus import focus_from_keys, focus_nodes, owners
from resource_kg.validate.parts import Parts, parts_of, record_digest
from resource_kg.validate.reference import rdflib_graph, run_facts, run_pyshacl
from resource_kg.validate.shapes import Shapes, SparqlCheck
from resource_kg.validate.sparql import check_rows
from resource_kg.validate.terms import RawResult, to_rdflib

DEFAULT_BATCH = 1000


CACHE_VERSION = "2"


Progress = Callable[[int, int], None]


@dataclass
class _Job:
    """What a batch needs; set before worker processes fork, so nothing is pickled to them."""

    catalog: Catalog
    shapes: Shapes
    parts: Parts
    focus: dict[str, set[str]]
    checks: list[tuple[SparqlCheck, set[str]]]  # batch SPARQL checks with their focus nodes
    facts: list[ox.Quad]
    rdf: dict[str, Node] = dc_field(default_factory=dict)  # key → rdflib term
    shared_rdf: list[tuple[Node, Node, Node]] | None = None

    def triples(self, keys: Sequence[QuadKey]) -> list[tuple[Node, Node, Node]]:
        rdf = self.rdf
        missing = {k for key in keys for k in key[1:] if k not in rdf}
        if missing:
            terms = self.catalog.quad_table.table.terms
            _ensure_terms(terms, missing)
            for k in missing:
                rdf[k] = to_rdflib(terms[k])
        return [(rdf[s], rdf[p], rdf[o]) for _g, s, p, o in keys]


def _ensure_terms(terms: dict[str, Any], keys: Iterable[str]) -> None:
    """Make the pyoxigraph terms of keys a table lacks in one parse (a cached build makes
    terms on demand; one by one, the literals of a batch take ≈ 20 µs each)."""
    missing = sorted({k for k in keys if k not in terms})
    if not missing:
        return
    doc = "".join(f"<urn:s> <urn:p> {k} .\n" for k in missing)
    parsed = ox.parse(doc.encode(), format=ox.RdfFormat.N_TRIPLES)
    for key, triple in zip(missing, parsed, strict=True):
        terms[key] = triple.object


def _store(keys: Iterable[QuadKey], facts: Iterable[ox.Quad] = ()) -> ox.Store:
    """An in-memory store of keys: parsed as N-Quads text in one call, no Python terms made."""
    store = ox.Store()
    doc = "".join(f"{s} {p} {o} {g} .\n" for g, s, p, o in keys)
    store.load(doc.encode(), format=ox.RdfFormat.N_QUADS)
    store.extend(list(facts))
    return store


_JOB: _Job | None = None


def _run_batch(rids: list[str]) -> list[tuple[str, list[RawResult]]]:
    """Core shapes (pySHACL) and batch SPARQL checks (pyoxigraph) for some records.

    The data are the records' own triples plus the shared graphs, so a record's results
    depend only on its own triples: what makes the per-record cache sound."""
    job = _JOB
    assert job is not None
    parts, shapes = job.parts, job.shapes
    base = job.catalog.settings.base
    iris = {rid: f"<{resource_iri(base, rid)}>" for rid in rids}
    found: list[RawResult] = []
    if shapes.record_shapes:
        if job.shared_rdf is None:
            job.shared_rdf = job.triples(parts.shared)
        graph = rdflib.Graph()
        add = graph.add
        for triple in job.shared_rdf:
            add(triple)
        for triple in job.triples([k for rid in rids for k in parts.per_record[rid]]):
            add(triple)
        found += run_pyshacl(graph, shapes.batch_core or shapes.core, shapes.record_shapes)
    if job.checks:
        store = _store(
            [*parts.reference, *(k for rid in rids for k in parts.per_record[rid])], job.facts
        )
        mine = set(iris.values())
        for check, focus in job.checks:
            found += check_rows(store, check, focus & mine)
    by_focus: dict[str, list[RawResult]] = defaultdict(list)
    for r in found:
        by_focus[r.focus].append(r)
    return [(rid, by_focus.get(iri, [])) for rid, iri in iris.items()]


@dataclass
class Plan:
    """Where each SPARQL check runs, the run's facts and the per-record cache context."""

    batch: list[tuple[SparqlCheck, set[str]]]  # per batch of records
    other: list[tuple[SparqlCheck, set[str]]]  # once, on the reference graphs
    whole: list[tuple[SparqlCheck, set[str]]]  # once, on the triples they read
    facts: list[ox.Quad]
    context: str


def local_predicates(shapes: Shapes) -> set[str]:
    """Predicates of the patterns of record checks that do not start at `$this`: what decides,
    from the data, whether such a check can run per batch (`_local`)."""
    roots = set(shapes.record_roots)
    return {
        pred
        for check in shapes.sparql
        if set(owners(shapes, check)) <= roots
        for this_subject, pred, _obj in check.patterns
        if pred is not None and not this_subject
    }


def plan_checks(
    shapes: Shapes,
    on: dt.date,
    base: str,
    focus: dict[str, set[str]],
    outside: dict[str, set[str]],
    records: set[str],
    reference: Sequence[QuadKey],
) -> Plan:
    """Sort the SPARQL checks into batch, reference-only and whole-graph ones."""
    roots = set(shapes.record_roots)
    plan = Plan([], [], [], [], "")
    for check in shapes.sparql:
        owned = owners(shapes, check)
        nodes: set[str] = set()
        for owner in owned:
            nodes |= focus.get(owner, set())
        if owned and set(owned) <= roots:
            (plan.batch if _local(check, outside) else plan.whole).append((check, nodes))
        elif nodes.isdisjoint(records):
            plan.other.append((check, nodes))
        else:  # a shape of other things that also reaches records: it sees every graph
            plan.whole.append((check, nodes))
    graph = ox.NamedNode(f"{base}graph/validation")
    plan.facts = [ox.Quad(t.subject, t.predicate, t.object, graph) for t in run_facts(base, on)]
    plan.context = cache_context(shapes, reference, on)
    return plan


def cache_context(shapes: Shapes, reference: Sequence[QuadKey], on: dt.date) -> str:
    """What every kept result depends on besides the record: code, shapes, shared graphs, day."""
    return (
        f"{CACHE_VERSION} {code_fingerprint()} {shapes.digest} "
        f"{record_digest(reference)} {on.isoformat()}"
    )


@dataclass
class Results:
    """Raw results of one run, per record (batch checks) and for the whole catalog."""

    per_record: dict[str, list[RawResult]]
    reference: list[RawResult]
    whole: list[RawResult]
    plan: Plan | None = None

    def all(self) -> list[RawResult]:
        return [
            *(r for found in self.per_record.values() for r in found),
            *self.reference,
            *self.whole,
        ]


def fast_results(
    catalog: Catalog,
    shapes: Shapes,
    on: dt.date,
    *,
    batch_size: int = DEFAULT_BATCH,
    cache: Path | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    parts: Parts | None = None,
    focus: dict[str, set[str]] | None = None,
) -> list[RawResult]:
    """Batched core shapes + once-only shapes + whole-graph SPARQL; equal to the reference."""
    return fast_parts(
        catalog,
        shapes,
        on,
        batch_size=batch_size,
        cache=cache,
        progress=progress,
        workers=workers,
        parts=parts,
        focus=focus,
    ).all()


def fast_parts(
    catalog: Catalog,
    shapes: Shapes,
    on: dt.date,
    *,
    batch_size: int = DEFAULT_BATCH,
    cache: Path | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    parts: Parts | None = None,
    focus: dict[str, set[str]] | None = None,
) -> Results:
    """`fast_results`, per record and for the whole catalog.

    Batches of records run in `workers` processes forked from this one (they inherit the
    catalog; only record ids go out and results come back). Shapes of concepts and terms and
    their SPARQL checks run once, whole-graph SPARQL checks on the triples they name."""
    parts = parts or parts_of(catalog)
    focus = focus if focus is not None else focus_from_keys(shapes, parts.every)
    base = catalog.settings.base
    records = {f"<{resource_iri(base, rid)}>" for rid in parts.per_record}
    outside = outside_reference(parts.every, parts.reference, local_predicates(shapes))
    plan = plan_checks(shapes, on, base, focus, outside, records, parts.reference)
    store_cache = ResultCache(cache, plan.context)
    out = check_records(
        catalog,
        shapes,
        parts,
        focus,
        plan,
        store_cache,
        list(parts.per_record),
        batch_size=batch_size,
        progress=progress,
        workers=workers,
    )
    whole = whole_graph_checks(whole_keys(parts.every, plan), plan, store_cache, workers=workers)
    out.whole, out.plan = whole, plan
    store_cache.save()
    return out


def check_records(
    catalog: Catalog,
    shapes: Shapes,
    parts: Parts,
    focus: dict[str, set[str]],
    plan: Plan,
    store_cache: ResultCache,
    rids: list[str],
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
    workers: int | None = None,
) -> Results:
    """The batch checks of `rids` (kept results reused) and the reference-only checks."""
    global _JOB
    per_record: dict[str, list[RawResult]] = {}
    todo: list[tuple[str, str]] = []
    for rid in rids:
        key = f"{rid} {parts.digest(rid)}"
        hit = store_cache.get(key)
        if hit is None:
            todo.append((rid, key))
        else:
            per_record[rid] = hit
    total = len(todo)
    if progress:
        progress(0, total)
    keys = dict(todo)
    batches = [[rid for rid, _ in todo[i : i + batch_size]] for i in range(0, total, batch_size)]
    _JOB = _Job(catalog, shapes, parts, focus, plan.batch, plan.facts)
    try:
        done = 0
        n = min(workers or default_workers(), len(batches))
        if shapes.record_shapes or plan.batch:
            outputs: Iterable[list[tuple[str, list[RawResult]]]]
            if n > 1:
                pool = multiprocessing.get_context("fork").Pool(n)
                outputs = pool.imap_unordered(_run_batch, batches)
            else:
                pool = None
                outputs = map(_run_batch, batches)
            try:
                for out in outputs:
                    for rid, mine in out:
                        store_cache.put(keys[rid], mine)
                        per_record[rid] = mine
                    done += len(out)
                    if progress:
                        progress(done, total)
            finally:
                if pool is not None:
                    pool.close()
                    pool.join()
        else:
            for rid, key in todo:
                store_cache.put(key, [])
                per_record[rid] = []
        # Shapes of concepts and terms: depend only on the reference graphs, cached with them.
        ref_key = "\0reference"
        hit = store_cache.get(ref_key)
        if hit is None:
            hit = _reference_checks(_JOB, plan.other)
            store_cache.put(ref_key, hit)
    finally:
        _JOB = None
    return Results(per_record, hit, [])


def _reference_checks(job: _Job, checks: list[tuple[SparqlCheck, set[str]]]) -> list[RawResult]:
    """Shapes that target concepts, terms or organizations, on ontology + vocabularies + orgs."""
    shapes, parts = job.shapes, job.parts
    out: list[RawResult] = []
    if shapes.other_shapes:
        out += run_pyshacl(
            rdflib_graph(job.triples(parts.reference)), shapes.core, shapes.other_shapes
        )
    if checks:
        store = _store(parts.reference, job.facts)
        for check, focus in checks:
            out += check_rows(store, check, focus)
    return out


def outside_reference(
    keys: Iterable[QuadKey], reference: Sequence[QuadKey], predicates: set[str]
) -> dict[str, set[str]]:
    """For each predicate, the objects (keys) of its triples outside the reference graphs:
    the triples of records (and derived nodes) that a batch holds only in part."""
    wanted = {f"<{iri}>" for iri in predicates}
    out: dict[str, set[str]] = {}
    if not wanted:
        return out
    kept = set(reference)
    for key in keys:
        if key[2] in wanted and key not in kept:
            out.setdefault(key[2][1:-1], set()).add(key[3])
    return out


def _local(check: SparqlCheck, outside: dict[str, set[str]]) -> bool:
    """Whether a check's rows for a record depend only on its own triples and the reference
    graphs (what a batch store holds): each triple pattern has $this as subject, or can match
    only reference triples (its predicate, or predicate and object, never occur outside them).
    Other checks run once on the whole graph."""
    for this_subject, pred, obj in check.patterns:
        if this_subject:
            continue
        if pred is None:
            return False
        found = outside.get(pred)
        if found is None or (obj is not None and obj not in found):
            continue
        return False
    return True


def whole_predicates(plan: Plan) -> dict[str, set[str] | None] | None:
    """What the whole-graph checks' triple patterns can match: predicate (N-Triples) → the
    constant objects of its patterns (None: any object); None: any triple (a variable
    predicate, a negated or a zero-length path)."""
    wanted: dict[str, set[str] | None] = {}
    for check, _ in plan.whole:
        if check.reads is None:
            return None
        for iri in check.reads:
            wanted.setdefault(f"<{iri}>", set())
        for _this, pred, obj in check.patterns:
            if pred is None:
                return None
            objs = wanted.get(f"<{pred}>")
            if obj is None or objs is None:
                wanted[f"<{pred}>"] = None
            else:
                objs.add(obj)
    return wanted


def matches(wanted: dict[str, set[str] | None], key: QuadKey) -> bool:
    """Whether a whole-graph pattern can match `key` (see `whole_predicates`)."""
    if key[2] not in wanted:
        return False
    objs = wanted[key[2]]
    return objs is None or key[3] in objs


def whole_keys(keys: Sequence[QuadKey], plan: Plan) -> list[QuadKey]:
    """Of `keys`, those the whole-graph checks can match, in the order given."""
    if not plan.whole:
        return []
    wanted = whole_predicates(plan)
    return list(keys) if wanted is None else [k for k in keys if matches(wanted, k)]


def nquads(keys: Iterable[QuadKey]) -> str:
    """Keys as N-Quads lines (what a store of them is loaded from)."""
    return "".join([f"{s} {p} {o} {g} .\n" for g, s, p, o in keys])


def whole_key(text_digest: str, plan: Plan) -> str:
    """The cache key of the whole-graph results: the hash of their triples' N-Quads text
    (`text_digest`) and each check's focus nodes."""
    digest = hashlib.sha256(text_digest.encode())
    for check, focus in plan.whole:
        digest.update(f"\0{check}\0{len(focus)}\0".encode())
        digest.update("\n".join(sorted(focus)).encode())
    return f"\0whole-graph {digest.hexdigest()}"


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


_WHOLE: list[Any] = []  # (store, checks) while whole-graph checks run in forked workers


def _run_whole(index: int) -> list[RawResult]:
    store, checks = _WHOLE[0]
    check, focus = checks[index]
    return check_rows(store, check, focus)


def whole_graph_checks(
    text: list[QuadKey] | str | Callable[[], str],
    plan: Plan,
    cache: ResultCache,
    *,
    digest: str | None = None,
    workers: int | None = None,
) -> list[RawResult]:
    """Checks that compare records with each other, on the triples their patterns can match.

    A triple pattern with a constant predicate can only match triples with that predicate, so
    a store of those triples (`whole_keys`, given as keys, as their N-Quads text or as a
    function giving it) answers the query as the whole graph does (url, title, id and type:
    ≈ 4 of 39 triples a resource). `SparqlCheck.reads`, from the parsed query, lists them; a
    query with a variable predicate, a negated or a zero-length path gets every triple. The
    results are cached under a hash of that text (`digest` when the caller knows it) and the
    focus nodes: editing summaries leaves them valid, editing a title reruns the checks, one
    per worker process (forked after the store is loaded)."""
    checks = plan.whole
    if not checks:
        return []
    made: list[str] = []

    def data() -> str:
        if not made:
            made.append(
                text() if callable(text) else text if isinstance(text, str) else nquads(text)
            )
        return made[0]

    key = whole_key(digest if digest is not None else text_digest(data()), plan)
    hit = cache.get(key)
    if hit is not None:
        return hit
    store = ox.Store()
    store.load(data().encode(), format=ox.RdfFormat.N_QUADS)
    store.extend(plan.facts)
    out: list[RawResult] = []
    n = min(workers or default_workers(), len(checks))
    if n > 1:
        _WHOLE.append((store, checks))
        try:
            with multiprocessing.get_context("fork").Pool(n) as pool:
                for found in pool.map(_run_whole, range(len(checks))):
                    out += found
        finally:
            _WHOLE.clear()
    else:
        for check, focus in checks:
            out += check_rows(store, check, focus)
    cache.put(key, out)
    return out


def sparql_results(catalog: Catalog, shapes: Shapes, on: dt.date) -> list[RawResult]:
    """Each SHACL-SPARQL constraint as one query over the whole graph (catalog.store)."""
    if not shapes.sparql:
        return []
    store = catalog.store
    run_graph = ox.NamedNode(f"{catalog.settings.base}graph/validation")
    facts = [
        ox.Quad(t.subject, t.predicate, t.object, run_graph)
        for t in run_facts(catalog.settings.base, on)
    ]
    store.extend(facts)
    try:
        targets = focus_nodes(catalog, shapes)
        out: list[RawResult] = []
        for check in shapes.sparql:
            nodes: set[str] = set()
            for owner in owners(shapes, check):
                nodes |= targets.get(owner, set())
            out += check_rows(store, check, nodes)
        return out
    finally:
        for q in facts:
            store.remove(q)
