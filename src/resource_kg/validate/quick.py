"""`rkg validate` after a few edits: findings kept per record file, only edited files checked.

A store-backed run (`validate_and_keep`) keeps, per record file, the findings of its records'
own checks (batch checks: they depend on the record's triples and the shared graphs alone),
the few triples catalog-wide steps read (types and the other predicates focus nodes and the
batch/whole-graph split are decided on, `wide_predicates`) and the N-Quads of the triples the
whole-graph checks match. `quick_validate` then builds and checks only the edited files'
records with the same engine functions, reruns the catalog-wide checks (whole-graph SPARQL,
reference shapes) on the kept triples (their own result cache still applies), and merges the
kept findings: the report is the one a full run gives, byte for byte.

The plain path is taken when this cannot be vouched for: no kept findings for this context
(code, build context, shapes, date, what is kept), record files or ids that appeared or
vanished (replaced_by and duplicate checks need every record), more than `QUICK_LIMIT` edited
files, or whole-graph checks that read other predicates than those kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from resource_kg.catalog import Catalog, SourceLocation
from resource_kg.graph import RDF, RDFS, GraphBuilder, Graphs, QuadKey, QuadTable, resource_iri
from resource_kg.records import Record
from resource_kg.store.entries import Entry, build_entry
from resource_kg.store.fingerprint import HashMemo
from resource_kg.store.incremental import StoredCatalog, setup
from resource_kg.store.reading import Scan, edited_files, kept_records
from resource_kg.store.scanning import read_records_of
from resource_kg.store.state import connect, gc_paused, get_meta, locked, set_meta, transaction
from resource_kg.tagging import Tagger
from resource_kg.validate.cache import ResultCache
from resource_kg.validate.engine import (
    Plan,
    Progress,
    Results,
    cache_context,
    check_records,
    fast_parts,
    local_predicates,
    matches,
    nquads,
    plan_checks,
    text_digest,
    whole_graph_checks,
    whole_predicates,
)
from resource_kg.validate.focus import focus_from_keys, owners
from resource_kg.validate.mapping import Mapper
from resource_kg.validate.parts import Parts, parts_of
from resource_kg.validate.report import Finding, Report
from resource_kg.validate.run import prepare_shapes, report_of
from resource_kg.validate.shapes import Shapes
from resource_kg.vocab import Lexicon

#: Bumped when what is kept per file changes shape.
CHECKS_FORMAT = "checks 2"
#: Above this many edited record files the full incremental run is as quick.
QUICK_LIMIT = 2000


_TYPE, _SUBCLASS = f"<{RDF}type>", f"<{RDFS}subClassOf>"


@dataclass
class Selectors:
    """Which triples of a record file catalog-wide steps read, from the shapes and the
    reference graphs: what is kept per file instead of every triple."""

    focus: set[str]  # predicates (N-Triples) focus nodes are found by
    classes: set[str]  # target classes and their subclasses: the rdf:type objects that count
    local: dict[str, set[str]]  # predicate IRI → constant objects of its non-$this patterns
    reference: set[QuadKey]

    def focus_keys(self, keys: Iterable[QuadKey]) -> list[QuadKey]:
        return [k for k in keys if k[2] in self.focus and (k[2] != _TYPE or k[3] in self.classes)]

    def outside(self, keys: Iterable[QuadKey]) -> dict[str, list[str]]:
        """For each predicate of `local`: the constants among its objects in `keys` outside
        the reference graphs (what `engine._local` asks of the data)."""
        found: dict[str, set[str]] = {}
        for key in keys:
            if key in self.reference:
                continue
            consts = self.local.get(key[2][1:-1])
            if consts is not None:
                found.setdefault(key[2][1:-1], set()).update({key[3]} & consts)
        return {pred: sorted(objs) for pred, objs in sorted(found.items())}


def selectors(shapes: Shapes, reference: list[QuadKey]) -> Selectors:
    focus = {_TYPE, _SUBCLASS}
    classes: set[str] = set()
    for targets in shapes.targets.values():
        for kind, iri in targets:
            if kind in ("targetSubjectsOf", "targetObjectsOf"):
                focus.add(f"<{iri}>")
            elif kind == "targetClass":
                classes.add(f"<{iri}>")
    parents: dict[str, set[str]] = {}
    for _g, sub, p, o in reference:
        if p == _SUBCLASS:
            parents.setdefault(o, set()).add(sub)
    todo = list(classes)
    while todo:
        for sub in parents.get(todo.pop(), ()):
            if sub not in classes:
                classes.add(sub)
                todo.append(sub)
    local: dict[str, set[str]] = {pred: set() for pred in local_predicates(shapes)}
    roots = set(shapes.record_roots)
    for check in shapes.sparql:
        if set(owners(shapes, check)) <= roots:
            for this_subject, pred, obj in check.patterns:
                if pred is not None and not this_subject and obj is not None:
                    local[pred].add(obj)
    return Selectors(focus, classes, local, set(reference))


def _context(build: str, shapes: Shapes, reference: list[QuadKey], day: dt.date) -> str:
    text = f"{CHECKS_FORMAT}\0{build}\0{cache_context(shapes, reference, day)}"
    return hashlib.sha256(text.encode()).hexdigest()


def _whole_tag(plan: Plan) -> str | None:
    """What the kept whole-graph triples were chosen by; None: they cannot be kept."""
    wanted = whole_predicates(plan)
    if wanted is None:
        return None
    return orjson.dumps(
        {p: None if o is None else sorted(o) for p, o in sorted(wanted.items())}
    ).decode()


def _encode_findings(findings: list[Finding]) -> str:
    return orjson.dumps(
        [
            [f.id, f.title, f.file, f.line, f.field, f.value, f.severity, f.message, f.shape]
            + [f.focus, f.path, f.term]
            for f in findings
        ]
    ).decode()


def _decode_all(texts: Iterable[str]) -> list[Any]:
    """Many JSON texts decoded in one call (100k calls cost more than the decoding)."""
    return list(orjson.loads("[" + ",".join(texts) + "]"))


def _own_keys(entry: Entry, base: str) -> list[QuadKey]:
    s = f"<{resource_iri(base, entry.record.id)}>"
    return [k for k in (*entry.keys, *entry.derived) if k[1] == s]


def _kept_rows(
    entries: list[Entry], findings: dict[str, list[Finding]], pick: Selectors, plan: Plan
) -> tuple[str, str, str, str, str]:
    """(ids, findings, focus keys, outside, whole-graph N-Quads) of one file's entries."""
    keys = [k for e in entries for k in (*e.keys, *e.derived)]
    whole = whole_predicates(plan) or {}
    return (
        orjson.dumps([e.record.id for e in entries]).decode(),
        _encode_findings([f for e in entries for f in findings.get(e.record.id, [])]),
        orjson.dumps(pick.focus_keys(keys)).decode(),
        orjson.dumps(pick.outside(keys)).decode(),
        nquads(k for k in keys if matches(whole, k)) if plan.whole else "",
    )


def _whole_digest(pieces: list[str], reference: list[QuadKey], plan: Plan, base: str) -> str:
    """The hash of the whole-graph checks' N-Quads, joined as the quick run joins them:
    reference graphs, each record file's piece in catalog order, the tagging activity."""
    whole = whole_predicates(plan) or {}
    activity: list[QuadKey] = []
    builder = GraphBuilder(base, Graphs.for_base(base), Lexicon(), dt.date.today())
    builder.activity_keys(activity)
    text = nquads(k for k in reference if matches(whole, k)) + "".join(pieces)
    return text_digest(text + nquads(k for k in activity if matches(whole, k)))


def _keeps_subclasses(entries: Iterable[Entry]) -> bool:
    """Whether records say rdfs:subClassOf (then target classes depend on them: not kept)."""
    return any(k[2] == _SUBCLASS for e in entries for k in (*e.keys, *e.derived))


# ---------------------------------------------------------------- the full run, kept


def validate_and_keep(
    catalog: StoredCatalog, on: dt.date | None = None, *, progress: Progress | None = None
) -> Report:
    """`validate(catalog, on, cache=…)` with the fast engine, keeping per record file what
    `quick_validate` reuses."""
    day = on or dt.date.today()
    folder = catalog.state_folder
    shapes = prepare_shapes(catalog.paths.shapes, catalog.paths.root, folder)
    parts = parts_of(catalog)
    focus = focus_from_keys(shapes, parts.every)
    results = fast_parts(
        catalog, shapes, day, cache=folder, progress=progress, parts=parts, focus=focus
    )
    mapper = Mapper(catalog, day)
    own = {
        rid: [f for r in raw for f in mapper.findings(r)] for rid, raw in results.per_record.items()
    }
    findings = {f for found in own.values() for f in found}
    findings |= {f for r in (*results.reference, *results.whole) for f in mapper.findings(r)}
    report = report_of(findings, day, len(catalog.records), shapes, focus, catalog.settings.base)
    plan = results.plan
    assert plan is not None
    tag = None if _keeps_subclasses(catalog.entries.values()) else _whole_tag(plan)
    per_file: dict[str, list[Entry]] = {}
    for record in catalog.records:
        per_file.setdefault(record.file, []).append(catalog.entries[record.id])
    pick = selectors(shapes, parts.reference)
    context = _context(catalog.build_context, shapes, parts.reference, day)
    db = connect(folder)
    try:
        with transaction(db):
            db.execute("DELETE FROM record_checks")
            set_meta(db, "checks_context", "")
            if tag is not None:
                rows = [
                    (path, catalog.file_hashes[path], *_kept_rows(entries, own, pick, plan))
                    for path, entries in per_file.items()
                ]
                db.executemany(
                    "INSERT INTO record_checks (path, sha, ids, findings, focus, outside, whole)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                set_meta(db, "checks_context", context)
                set_meta(db, "checks_whole", tag)
                pieces = [row[-1] for row in rows]
                digest = _whole_digest(pieces, parts.reference, plan, catalog.settings.base)
                set_meta(db, "checks_whole_digest", digest)
    finally:
        db.close()
    return report


# ---------------------------------------------------------------- the quick run


def quick_validate(root: Path | str, on: dt.date | None = None) -> Report | None:
    """The report of a full run from kept findings and the edited files, or None when the
    plain path is needed."""
    root = Path(root)
    with gc_paused(), locked(root) as folder:
        db = connect(folder)  # before the scan's child connects: one of them creates the file
        try:
            with Scan(root, folder) as scan:
                return _quick(root, folder, db, on or dt.date.today(), scan)
        finally:
            db.close()


def _quick(
    root: Path, folder: Path, db: sqlite3.Connection, day: dt.date, scan: Scan
) -> Report | None:
    up = setup(root, None)
    reference = [*up.ontology, *up.shared]
    shapes = prepare_shapes(up.paths.shapes, root, folder)
    if get_meta(db, "checks_context") != _context(up.context, shapes, reference, day):
        return None
    memo = HashMemo(db)
    rows = {
        row[0]: row[1:]
        for row in db.execute("SELECT path, sha, ids, findings, focus, outside FROM record_checks")
    }
    # Decoded before the scan's answer is needed (the scan runs in a child meanwhile); an
    # edited file's old rows are decoded for nothing, a few among 100k.
    stored_ids = dict(zip(rows, _decode_all(r[1] for r in rows.values()), strict=True))
    stored_findings = dict(zip(rows, _decode_all(r[2] for r in rows.values()), strict=True))
    stored_focus = dict(zip(rows, _decode_all(r[3] for r in rows.values()), strict=True))
    hashes, read = scan.result(memo)
    changed = edited_files(
        root, {p: r[0] for p, r in rows.items()}, hashes, read, memo, QUICK_LIMIT
    )
    if changed is None:
        return None  # record files appeared or vanished, or too many changed
    ids = {p: stored_ids[p] for p in hashes}
    new_records = {p: read_records_of(root, p, read[p]) for p in changed}
    if sorted(i for p in changed for i in ids[p]) != sorted(
        r.id for rs in new_records.values() for r in rs
    ):
        return None  # ids appeared or vanished: replaced_by and duplicates need every record
    known = {rid for found in ids.values() for rid in found}
    tagger = Tagger(up.lexicon)
    built = {
        p: [build_entry(up.builder, tagger, r, known) for r in rs] for p, rs in new_records.items()
    }
    activity: list[QuadKey] = []
    up.builder.activity_keys(activity)
    if _keeps_subclasses(e for found in built.values() for e in found):
        return None
    pick = selectors(shapes, reference)
    focus_keys: list[Any] = [*reference, *pick.focus_keys(activity)]  # any order: sets are made
    for p in hashes:
        if p not in built:
            focus_keys += stored_focus[p]  # [g, s, p, o] lists: focus_from_keys unpacks them
    outside: dict[str, set[str]] = {}
    seen: set[str] = set()
    for p in hashes:
        if p in built:
            keys = [k for e in built[p] for k in (*e.keys, *e.derived)]
            focus_keys += pick.focus_keys(keys)
            text = orjson.dumps(pick.outside(keys)).decode()
        else:
            text = rows[p][4]
        if text not in seen:  # most files give the same few predicates and constants
            seen.add(text)
            for pred, objs in orjson.loads(text).items():
                outside.setdefault(pred, set()).update(objs)
    for pred, objs in pick.outside(activity).items():
        outside.setdefault(pred, set()).update(objs)
    focus = focus_from_keys(shapes, focus_keys)
    base = up.settings.base
    iris = {f"<{resource_iri(base, rid)}>" for rid in known}
    plan = plan_checks(shapes, day, base, focus, outside, iris, reference)
    if _whole_tag(plan) != get_meta(db, "checks_whole"):
        return None  # the whole-graph checks read other triples than those kept
    whole = whole_predicates(plan) or {}
    mine = {
        p: nquads(k for e in built[p] for k in (*e.keys, *e.derived) if matches(whole, k))
        for p in changed
    }
    kept_digest = get_meta(db, "checks_whole_digest")

    def whole_text() -> str:
        """The N-Quads of the whole-graph checks' triples: kept pieces, the edited files' anew."""
        kept = dict(db.execute("SELECT path, whole FROM record_checks").fetchall())
        pieces = [nquads(k for k in reference if matches(whole, k))]
        pieces += [mine[p] if p in mine else kept[p] for p in hashes]
        pieces.append(nquads(k for k in activity if matches(whole, k)))
        return "".join(pieces)

    old = {}
    for p in changed:
        row = db.execute("SELECT whole FROM record_checks WHERE path = ?", (p,)).fetchone()
        old[p] = None if row is None else row[0]
    same = kept_digest is not None and all(old[p] == mine[p] for p in changed)
    digest = kept_digest if same else None
    if digest is None and plan.whole:
        text = whole_text()
        digest = text_digest(text)
    else:
        text = ""
    entries = {e.record.id: e for p in changed for e in built[p]}
    records = [e.record for e in entries.values()]
    catalog = _partial_catalog(up, records)
    parts = Parts(
        {rid: _own_keys(e, base) for rid, e in entries.items()},
        up.shared,
        reference,
        [],
        {rid: e.digest for rid, e in entries.items()},
    )
    cache = ResultCache(folder, plan.context, lazy=True)
    results: Results = check_records(
        catalog, shapes, parts, focus, plan, cache, list(entries), workers=1
    )
    results.whole = whole_graph_checks(text or whole_text, plan, cache, digest=digest)
    cache.save()
    catalog_wide = [*results.reference, *results.whole]
    prefix = f"<{resource_iri(base, '')}"
    wanted = {r.focus[len(prefix) : -1] for r in catalog_wide if r.focus.startswith(prefix)}
    more: list[Record] = []
    for p in hashes:
        if p not in built and wanted.intersection(ids[p]):
            found = kept_records(root, db, memo, p, hashes[p])
            if found is None:
                return None
            more += found
    catalog = _partial_catalog(up, [*records, *more])
    mapper = Mapper(catalog, day)
    own = {
        rid: [f for r in raw for f in mapper.findings(r)] for rid, raw in results.per_record.items()
    }
    kept = [p for p in hashes if p not in built]
    findings = {Finding(*row) for p in kept for row in stored_findings[p]}
    findings |= {f for found in own.values() for f in found}
    findings |= {f for r in catalog_wide for f in mapper.findings(r)}
    report = report_of(findings, day, len(known), shapes, focus, base)
    db.execute("BEGIN IMMEDIATE")
    try:
        db.executemany(
            "INSERT OR REPLACE INTO record_checks"
            " (path, sha, ids, findings, focus, outside, whole) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(p, hashes[p], *_kept_rows(built[p], own, pick, plan)) for p in changed],
        )
        if digest is not None:
            set_meta(db, "checks_whole_digest", digest)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    memo.save()
    return report


def _partial_catalog(up: Any, records: list[Record]) -> Catalog:
    """A catalog of some records and every shared input: what batch checks and the mapper read."""
    sources = {iri: SourceLocation(*loc) for iri, loc in up.lexicon.locations.items()}
    for record in records:
        sources[resource_iri(up.settings.base, record.id)] = SourceLocation(
            record.file, record.line
        )
    return Catalog(
        up.paths,
        up.settings,
        up.graphs,
        up.lexicon,
        records,
        up.organizations,
        QuadTable([], up.builder.table),
        [],
        sources,
    )
