"""Validation curators can act on: SHACL results mapped back to record, field, file and line.

pySHACL is the reference engine (`engine="pyshacl"`: one run over the whole graph). The default
engine gives the same findings (tests compare both on fixture catalogs) in linear time:

* core constraints on resources run in pySHACL on batches of 1,000 records, in up to two
  worker processes forked from this one (they inherit the catalog; record ids go out, results
  come back). A batch graph holds its records' triples plus vocabularies and organizations.
  The shapes graph is parsed once; meta-SHACL runs once per shapes digest (remembered in
  .rkg-cache/), inference is off. Property shapes used only by the rkg:Resource node shapes
  get that target themselves in the batch copy of the shapes (`_hoist`): pySHACL then checks
  each once per batch instead of once per record (0.8 → 0.15 ms a record);
* each SHACL-SPARQL constraint is written once, as sh:select. Its whole-graph form is derived
  from the parsed query (`plan_query`): `$this` becomes the projected variable `?this` and the
  rows are joined with the shape's focus nodes, where that equals SHACL's pre-binding; any
  other query runs once per focus node with `$this` substituted;
* SPARQL constraints of resource shapes whose patterns read only the focus record's own
  triples and the reference graphs (`_local`) run per batch, over the batch store;
* the others (those that compare records with each other: duplicate url and title) run once
  on a store of only the triples their patterns can match (`SparqlCheck.reads`,
  `_whole_graph_checks`);
* shapes that target anything other than resources (concepts, ontology terms) and their
  SPARQL constraints run once, on the ontology, vocabularies and organizations;
* focus nodes per shape are computed from the quad keys, as pySHACL finds them.

Incremental runs: results are cached per record under a hash of the record's triples (context:
shapes, ontology + vocabularies + organizations, validation date), the once-only results with
the context, the whole-graph results under a hash of the triples they read. Only records whose
triples changed go through pySHACL again. With `store.incremental.load` (what `rkg validate` uses),
unchanged record files are not rebuilt (they are read and hashed).

Measured at 100k synthetic resources on 2 shared cores (bench/README.md): first run 71 s
including the build, 8.7 s after editing 10 records.

The validation date enters the data of the run as one fact, `<{base}validation/report>
rkgsh:validationDate "YYYY-MM-DD"^^xsd:date` (`run_facts`): the node and fact the Turtle
report carries, so a release's validation-report.ttl gives any SHACL engine the same date. The
shapes derive the latest year and the review cutoff from it; results depend on the date given,
never on the clock.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import multiprocessing
import operator
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
import rdflib.collection
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Node

from resource_kg.catalog import Catalog
from resource_kg.errors import ValidationError
from resource_kg.files import write_atomic
from resource_kg.graph import FIELD_SPECS, PREFIXES, RDF, UNRESOLVED, XSD, QuadKey, resource_iri
from resource_kg.records import FIELDS, Record
from resource_kg.store.fingerprint import code_fingerprint
from resource_kg.store.state import connect, store_dir
from resource_kg.terms import OxTerm, rdflib_to_ox
from resource_kg.vocab import subject_lines

SH = "http://www.w3.org/ns/shacl#"
SHAPES_NS = "https://w3id.org/resource-kg/shapes#"
RESOURCE_CLASS = "https://w3id.org/resource-kg/ontology#Resource"
SEVERITIES: tuple[str, ...] = ("Violation", "Warning", "Info")
FAIL_ON: dict[str, tuple[str, ...]] = {
    "violation": ("Violation",),
    "warning": ("Violation", "Warning"),
    "info": ("Violation", "Warning", "Info"),
}
FORMATS: tuple[str, ...] = ("text", "csv", "json", "markdown", "ttl")
KEYS: tuple[str, ...] = (
    "id",
    "title",
    "file",
    "line",
    "field",
    "value",
    "severity",
    "message",
    "shape",
)
DEFAULT_BATCH = 1000
CACHE_VERSION = "2"

Progress = Callable[[int, int], None]


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Finding:
    """One problem, in a curator's terms: which record, which field, where, and what to do."""

    id: str
    title: str
    file: str
    line: int
    field: str
    value: str
    severity: str
    message: str
    shape: str
    #: The RDF behind the finding (focus node, path, value as N-Triples); for the Turtle report.
    focus: str = dc_field(default="", compare=False, repr=False)
    path: str = dc_field(default="", compare=False, repr=False)
    term: str = dc_field(default="", compare=False, repr=False)

    def as_dict(self) -> dict[str, str | int]:
        """Exactly the documented keys, in their documented order."""
        return {key: getattr(self, key) for key in KEYS}

    def sort_key(self) -> tuple[str, int, str, str, str, str, str, str]:
        return _SORT_KEY(self)


#: Report order: by file and line, then field, shape, value, id, severity and message (a C
#: attrgetter: 74k findings sort in 0.1 s instead of 0.4 s).
_SORT_KEY = operator.attrgetter(
    "file", "line", "field", "shape", "value", "id", "severity", "message"
)


@dataclass(frozen=True)
class RawResult:
    """A SHACL result before mapping, identical whichever engine produced it."""

    focus: str
    path: str
    value: str  # N-Triples form of the value node, '' when the result has none
    severity: str
    shape: str
    message: str

    def to_json(self) -> list[str]:
        return [self.focus, self.path, self.value, self.severity, self.shape, self.message]


@dataclass
class Report:
    """Findings of one validation run plus what was checked; renders the same bytes every run."""

    findings: list[Finding]
    date: dt.date
    records_checked: int
    focus_nodes: dict[str, int]
    base: str = "https://w3id.org/resource-kg/"

    def counts(self) -> dict[str, int]:
        """Results per severity (every severity present, zero when none)."""
        counter = Counter(f.severity for f in self.findings)
        return {sev: counter.get(sev, 0) for sev in SEVERITIES}

    def per_field(self) -> dict[str, int]:
        counter = Counter(f.field or "(record)" for f in self.findings)
        return dict(sorted(counter.items()))

    def conforms(self, fail_on: str = "violation") -> bool:
        """True when no finding reaches the `fail_on` level (violation, warning or info)."""
        if fail_on not in FAIL_ON:
            raise ValidationError(f"--fail-on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
        return not any(f.severity in FAIL_ON[fail_on] for f in self.findings)

    def summary(self) -> dict[str, Any]:
        return {
            "validation_date": self.date.isoformat(),
            "records_checked": self.records_checked,
            "focus_nodes_per_shape": dict(sorted(self.focus_nodes.items())),
            "results": len(self.findings),
            "results_per_severity": self.counts(),
            "results_per_field": self.per_field(),
            "conforms": {level: self.conforms(level) for level in FAIL_ON},
        }

    def render(self, fmt: str = "text") -> str:
        """The report as text, csv, json, markdown or ttl (a SHACL validation report)."""
        from resource_kg import report

        renderers: dict[str, Callable[[Report], str]] = {
            "text": report.text,
            "csv": report.csv_rows,
            "json": report.json_doc,
            "markdown": report.markdown,
            "ttl": report.turtle,
        }
        if fmt not in renderers:
            raise ValidationError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
        return renderers[fmt](self)


# ---------------------------------------------------------------- terms


def to_rdflib(term: Any) -> Node:
    """A pyoxigraph term as the rdflib term pySHACL expects (no text parsing on the way)."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        dtype = term.datatype.value
        if dtype == XSD + "string":
            return rdflib.Literal(term.value)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(dtype))
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    raise ValidationError(f"cannot validate RDF term {term!r}")


def to_ox(term: Node) -> OxTerm:
    found = rdflib_to_ox(term)
    if found is None:
        raise ValidationError(f"cannot read RDF term {term!r}")
    return found


def _nt(term: Any) -> str:
    return "" if term is None else str(term)


def _term_text(term: Any) -> str:
    """The text a term shows a person: a literal's lexical form, an IRI as a CURIE."""
    if isinstance(term, ox.Literal):
        return term.value
    if isinstance(term, ox.NamedNode):
        return curie(term.value)
    return _nt(term)


_BY_LENGTH = sorted(PREFIXES.items(), key=lambda kv: -len(kv[1]))


@functools.lru_cache(maxsize=4096)
def curie(iri: str) -> str:
    for prefix, ns in _BY_LENGTH:
        if iri.startswith(ns) and iri != ns:
            return f"{prefix}:{iri[len(ns) :]}"
    if iri.startswith(SHAPES_NS):
        return f"rkgsh:{iri[len(SHAPES_NS) :]}"
    return iri


@functools.lru_cache(maxsize=65536)
def _parse_term(nt: str) -> ox.NamedNode | ox.BlankNode | ox.Literal | None:
    if not nt:
        return None
    if nt[0] == "<" and nt[-1] == ">":
        return ox.NamedNode(nt[1:-1])
    triple = next(iter(ox.parse(f"<urn:s> <urn:p> {nt} .", format=ox.RdfFormat.N_TRIPLES)))
    obj = triple.object
    assert isinstance(obj, ox.NamedNode | ox.BlankNode | ox.Literal)
    return obj


# ---------------------------------------------------------------- shapes


@dataclass(frozen=True)
class SparqlCheck:
    """One SHACL-SPARQL constraint, with what the fast engine derived from its sh:select."""

    shape: str
    query: str  # the sh:select with its prefixes, `$this` as `?this`, `?this` projected
    path: str
    severity: str
    messages: tuple[str, ...]
    node_shape: bool
    #: True when running `query` once with `?this` free and keeping the rows on focus nodes
    #: gives what SHACL's pre-binding of `$this` gives per focus node (see `plan_query`);
    #: otherwise the fast engine runs it once per focus node with `$this` substituted.
    join_safe: bool = True
    #: The predicates the query's triple patterns can match, or None when any triple can
    #: match (a variable predicate, a negated or zero-length path).
    reads: tuple[str, ...] | None = None
    #: Each triple pattern as (subject is $this, predicate IRI or None, object N-Triples or
    #: None): what decides whether the check can run on batches of records (`_local`).
    patterns: tuple[tuple[bool, str | None, str | None], ...] = ()


@dataclass
class Shapes:
    """The shapes of a catalog: the full graph for pySHACL, and the parts the fast engine runs."""

    graph: rdflib.Graph
    core: rdflib.Graph
    digest: str
    locations: dict[str, tuple[str, int]]
    record_shapes: list[str]
    other_shapes: list[str]
    targets: dict[str, list[tuple[str, str]]]  # node shape → (target kind, IRI)
    parents: dict[str, list[str]]  # property shape → node shapes it belongs to
    sparql: list[SparqlCheck]
    #: Node shapes whose only target is rkg:Resource (what batches of records can check).
    record_roots: list[str] = dc_field(default_factory=list)
    #: `core` with the property shapes of record roots given the roots' target themselves,
    #: so pySHACL checks each once for all focus nodes of a batch (see `_hoist`).
    batch_core: rdflib.Graph | None = None


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


#: Digests of shape sets that passed meta-SHACL in this process (the check takes ≈ 1 s).
_META_CHECKED: set[str] = set()


def load_shapes(folder: Path, root: Path, *, meta: bool = True) -> Shapes:
    """Parse shapes/*.ttl; a syntax error names file and line, invalid SHACL is reported as such."""
    files = sorted(folder.glob("*.ttl"))
    if not files:
        raise ValidationError("no shapes found: the folder holds no *.ttl file", file=folder)
    graph = rdflib.Graph()
    locations: dict[str, tuple[str, int]] = {}
    digest = hashlib.sha256()
    for path in files:
        shown = _shown(path, root)
        data = path.read_bytes()
        digest.update(shown.encode() + b"\0" + data + b"\0")
        try:
            triples = list(ox.parse(data, format=ox.RdfFormat.TURTLE))
        except SyntaxError as exc:
            line = getattr(exc, "lineno", None)
            raise ValidationError(
                f"shapes file does not parse: {exc.msg}", file=shown, line=line
            ) from exc
        for t in triples:
            graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
        for iri, line in subject_lines(path, data.decode("utf-8")).items():
            locations.setdefault(iri, (shown, line))
    if meta and digest.hexdigest() not in _META_CHECKED:
        _meta_check(graph, locations)
        _META_CHECKED.add(digest.hexdigest())
    return _analyse(graph, digest.hexdigest(), locations)


def _meta_check(graph: rdflib.Graph, locations: dict[str, tuple[str, int]]) -> None:
    """pySHACL's meta-SHACL: the shapes themselves must be valid SHACL."""
    from pyshacl.entrypoints import meta_validate

    conforms, results, _ = meta_validate(graph, inference="none")
    if conforms:
        return
    problems = []
    sh = rdflib.Namespace(SH)
    for r in results.subjects(rdflib.RDF.type, sh.ValidationResult):
        focus = results.value(r, sh.focusNode)
        path = results.value(r, sh.resultPath)
        msg = results.value(r, sh.resultMessage)
        problems.append((str(focus), str(path) if path else "", str(msg) if msg else ""))
    focus, path, msg = sorted(problems)[0]
    file, line = locations.get(focus, (None, None))
    raise ValidationError(
        f"shape {curie(focus)} is not valid SHACL (pyshacl meta-SHACL, {len(problems)} problem(s)): "
        f"{curie(path)}: {msg}",
        file=file,
        line=line,
    )


def _literal_texts(graph: rdflib.Graph, s: Node, p: rdflib.URIRef) -> tuple[str, ...]:
    return tuple(sorted(str(o) for o in graph.objects(s, p) if isinstance(o, rdflib.Literal)))


def _reachable(graph: rdflib.Graph, roots: Iterable[str]) -> list[str]:
    """The shapes `roots` use through sh:property, sh:node, sh:not, sh:and/or/xone, ..."""
    sh = rdflib.Namespace(SH)
    single = (sh.property, sh.node, sh["not"], sh.qualifiedValueShape)
    lists = (sh["and"], sh["or"], sh.xone)
    seen: set[Node] = set()
    todo: list[Node] = [rdflib.URIRef(r) for r in roots]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for p in single:
            todo.extend(graph.objects(node, p))
        for p in lists:
            for head in graph.objects(node, p):
                todo.extend(rdflib.collection.Collection(graph, head))
    return sorted(str(n) for n in seen if isinstance(n, rdflib.URIRef))


def _analyse(graph: rdflib.Graph, digest: str, locations: dict[str, tuple[str, int]]) -> Shapes:
    sh = rdflib.Namespace(SH)
    target_kinds = ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf")
    targets: dict[str, list[tuple[str, str]]] = {}
    for kind in target_kinds:
        for s, o in graph.subject_objects(sh[kind]):
            targets.setdefault(str(s), []).append((kind, str(o)))
    for kind_list in targets.values():
        kind_list.sort()
    parents: dict[str, list[str]] = defaultdict(list)
    for s, o in graph.subject_objects(sh.property):
        parents[str(o)].append(str(s))
    record_roots = [s for s, t in targets.items() if t == [("targetClass", RESOURCE_CLASS)]]
    other_roots = sorted(set(targets) - set(record_roots))
    # pySHACL's use_shapes follows only blank-node shapes, so list every IRI shape reachable.
    record_shapes = _reachable(graph, record_roots)
    other_shapes = _reachable(graph, other_roots)
    checks: list[SparqlCheck] = []
    # The core graph (for batches) leaves out SPARQL constraints, and property shapes left with
    # no constraint at all: pySHACL would still visit each of them once per record.
    annotations = {
        rdflib.RDF.type,
        sh.path,
        sh.name,
        sh.description,
        sh.message,
        sh.severity,
        sh.sparql,
        sh.deactivated,
        sh.order,
        sh.group,
    }
    sparql_only = {
        shape
        for shape in set(graph.subjects(sh.sparql, None))
        if set(graph.predicates(shape, None)) <= annotations
    }
    core = rdflib.Graph()
    for triple in graph:
        if triple[1] == sh.sparql or (triple[1] == sh.property and triple[2] in sparql_only):
            continue
        core.add(triple)
    for shape, constraint in sorted(graph.subject_objects(sh.sparql)):
        if graph.value(constraint, sh.deactivated) == rdflib.Literal(True):
            continue
        select = graph.value(constraint, sh.select)
        if select is None:
            raise ValidationError(
                f"SPARQL constraint of {curie(str(shape))} has no sh:select (only SELECT is supported)",
                file=locations.get(str(shape), (None, 0))[0],
            )
        prefixes: dict[str, str] = {}
        for decl_owner in graph.objects(constraint, sh.prefixes):
            for decl in graph.objects(decl_owner, sh.declare):
                prefixes[str(graph.value(decl, sh.prefix))] = str(graph.value(decl, sh.namespace))
        head = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(prefixes.items()))
        try:
            query, plan = plan_query(head, str(select))
        except ValidationError as exc:
            raise ValidationError(
                f"SPARQL constraint of {curie(str(shape))} {exc.message}",
                file=locations.get(str(shape), (None, 0))[0],
                line=locations.get(str(shape), (None, None))[1],
            ) from exc
        path = graph.value(shape, sh.path)
        severity = graph.value(shape, sh.severity) or sh.Violation
        messages = _literal_texts(graph, constraint, sh.message) + _literal_texts(
            graph, shape, sh.message
        )
        checks.append(
            SparqlCheck(
                shape=str(shape),
                query=query,
                path=str(path) if isinstance(path, rdflib.URIRef) else "",
                severity=str(severity),
                messages=messages,
                node_shape=path is None,
                join_safe=plan.join_safe,
                reads=plan.reads,
                patterns=plan.patterns,
            )
        )
    return Shapes(
        graph,
        core,
        digest,
        locations,
        record_shapes,
        other_shapes,
        targets,
        dict(parents),
        checks,
        sorted(record_roots),
        _hoist(core, record_roots, targets, parents),
    )


def _hoist(
    core: rdflib.Graph,
    roots: list[str],
    targets: dict[str, list[tuple[str, str]]],
    parents: dict[str, list[str]],
) -> rdflib.Graph:
    """`core` where each IRI property shape used only by record roots targets rkg:Resource itself.

    pySHACL checks a property shape reached through sh:property once per focus node, building
    its constraint objects anew each time (≈ 0.8 ms per record for these shapes); a property
    shape with its own target is checked once for all focus nodes (≈ 0.15 ms per record). The
    results are the same: same focus node, path, value, severity, message and source shape
    (tests compare with pySHACL on the unchanged shapes over the whole graph).
    """
    sh = rdflib.Namespace(SH)
    root_set = set(roots)
    out = rdflib.Graph()
    for triple in core:
        out.add(triple)
    for root in roots:
        for prop in list(out.objects(rdflib.URIRef(root), sh.property)):
            name = str(prop)
            if not isinstance(prop, rdflib.URIRef) or name in targets:
                continue
            if not set(parents.get(name, [])) <= root_set:
                continue
            out.remove((rdflib.URIRef(root), sh.property, prop))
            out.add((prop, sh.targetClass, rdflib.URIRef(RESOURCE_CLASS)))
    return out


# ---------------------------------------------------------------- SPARQL checks, derived

_THIS = rdflib.Variable("this")


@dataclass(frozen=True)
class QueryPlan:
    """What the fast engine derives from a constraint's sh:select (see `plan_query`)."""

    join_safe: bool
    reads: tuple[str, ...] | None
    patterns: tuple[tuple[bool, str | None, str | None], ...]


def plan_query(head: str, select: str) -> tuple[str, QueryPlan]:
    """The whole-graph form of a SHACL-SPARQL SELECT, derived from its text alone.

    SHACL pre-binds `$this` to one focus node at a time. Renaming `$this` to the variable
    `?this` (projected) and joining the rows with the shape's focus nodes gives the same rows
    for all focus nodes at once when every use of `$this` sees it bound: it occurs in a triple
    pattern of the group that a FILTER, BIND or OPTIONAL mentioning it applies to, and the
    query has no LIMIT/OFFSET, GROUP BY or aggregate, VALUES or MINUS on `$this`, SERVICE,
    or subquery hiding it. A row where `?this` stays unbound (a UNION branch without it) holds
    for every focus node. Zero-length paths (`*`, `?`) also need `$this` bound by a pattern:
    they match nodes of the graph only. Other queries run once per focus node with `$this`
    substituted (`join_safe` False): slower, same results. The query is parsed with rdflib's
    SPARQL parser, never taken apart by regular expressions.
    """
    from pyparsing import ParseException
    from rdflib.plugins.sparql import prepareQuery

    text = re.sub(r"\$this\b", "?this", select)
    try:
        parsed = prepareQuery(head + text)
    except ParseException as exc:
        raise ValidationError(f"does not parse: {exc}") from exc
    except Exception as exc:  # rdflib raises plain exceptions for unknown prefixes and the like
        raise ValidationError(f"does not parse: {exc}") from exc
    root = parsed.algebra
    if root.name != "SelectQuery":
        raise ValidationError("is not a SELECT query (only sh:select is supported)")
    project = root.p
    while isinstance(project, CompValue) and project.name != "Project":
        project = project.p
    inner = project.p
    if _THIS not in project.PV:
        select_kw = re.search(r"\bSELECT\s+((?:DISTINCT|REDUCED)\s+)?", text, re.IGNORECASE)
        if select_kw is None:
            raise ValidationError("has no SELECT clause")
        if not text[select_kw.end() :].startswith("*"):
            text = text[: select_kw.end()] + "?this " + text[select_kw.end() :]
    patterns: list[tuple[bool, str | None, str | None]] = []
    reads: set[str] | None = set()
    zero_length = False
    for s_term, p_term, o_term in _triple_patterns(root):
        anchored = s_term == _THIS
        obj = _key_of(o_term)
        if isinstance(p_term, rdflib.URIRef):
            patterns.append((anchored, str(p_term), obj))
            if reads is not None:
                reads.add(str(p_term))
            continue
        if isinstance(p_term, rdflib.Variable):
            patterns.append((anchored, None, None))
            reads = None
            continue
        iris, zero, negated, simple = _path_parts(p_term)
        zero_length = zero_length or zero
        if zero or negated or iris is None:
            reads = None
            patterns.append((False, None, None))
            continue
        if reads is not None:
            reads |= iris
        for iri in sorted(iris):
            patterns.append((anchored and simple, iri, obj if simple else None))
    safe = not _unsafe(inner) and not any(
        isinstance(node, CompValue) and node.name in ("Slice", "Group", "AggregateJoin")
        for node in _walk(root.p)
    )
    if zero_length and not _bound(inner):
        safe = False
    return head + text, QueryPlan(
        safe, tuple(sorted(reads)) if reads is not None else None, tuple(patterns)
    )


def _walk(node: Any) -> Iterable[Any]:
    """Every CompValue, list item and term below `node` (parsed SPARQL), `node` included."""
    todo = [node]
    while todo:
        item = todo.pop()
        yield item
        if isinstance(item, CompValue):
            todo.extend(v for k, v in item.items() if k != "_vars")
        elif isinstance(item, list | tuple):
            todo.extend(item)


def _mentions(node: Any) -> bool:
    return any(isinstance(item, rdflib.Variable) and item == _THIS for item in _walk(node))


def _triple_patterns(root: Any) -> Iterable[tuple[Any, Any, Any]]:
    """Triple patterns anywhere in the query, inside EXISTS and subqueries too."""
    for item in _walk(root):
        if isinstance(item, CompValue) and "triples" in item and item.triples:
            for triple in item.triples:
                if isinstance(triple, list | tuple) and len(triple) == 3:
                    yield triple[0], triple[1], triple[2]


def _key_of(term: Any) -> str | None:
    """A constant term as the catalog's quad keys write it (N-Triples), else None."""
    if isinstance(term, rdflib.URIRef | rdflib.Literal):
        return _nt(to_ox(term))
    return None


def _path_parts(path: Any) -> tuple[set[str] | None, bool, bool, bool]:
    """(IRIs of a property path, may match zero steps, is negated, is one step from subject
    to object: an IRI or alternatives of IRIs); IRIs None when the path is not understood."""
    from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, SequencePath

    if isinstance(path, rdflib.URIRef):
        return {str(path)}, False, False, True
    if isinstance(path, NegatedPath):
        return set(), False, True, False
    if isinstance(path, MulPath):
        iris, zero, negated, _ = _path_parts(path.path)
        return iris, zero or path.mod in ("*", "?"), negated, False
    if isinstance(path, InvPath):
        iris, zero, negated, _ = _path_parts(path.arg)
        return iris, zero, negated, False
    if isinstance(path, AlternativePath | SequencePath):
        found: set[str] = set()
        zero_any = negated_any = False
        simple = isinstance(path, AlternativePath)
        for arg in path.args:
            iris, zero, negated, one = _path_parts(arg)
            if iris is None:
                return None, zero, negated, False
            found |= iris
            zero_any, negated_any, simple = zero_any or zero, negated_any or negated, simple and one
        return found, zero_any, negated_any, simple
    return None, False, False, False


def _bound(node: Any) -> bool:
    """Whether every solution of a pattern binds ?this (a triple pattern in it does)."""
    if not isinstance(node, CompValue):
        return False
    name = node.name
    if name in ("BGP", "TriplesBlock"):
        return any(_THIS in (t[0], t[1], t[2]) for t in node.triples or ())
    if name == "Join":
        return _bound(node.p1) or _bound(node.p2)
    if name in ("LeftJoin", "Minus"):
        return _bound(node.p1)
    if name == "Union":
        return _bound(node.p1) and _bound(node.p2)
    if name == "Graph":
        return node.term == _THIS or _bound(node.p)
    if name == "Project":
        return _THIS in node.PV and _bound(node.p)
    if name in ("Filter", "Extend", "Distinct", "Reduced", "OrderBy", "ToMultiSet"):
        return _bound(node.p)
    return False


def _unsafe(node: Any) -> bool:
    """Whether some use of ?this would see it unbound once it is no longer pre-bound."""
    if isinstance(node, list | tuple):
        return any(_unsafe(item) for item in node)
    if not isinstance(node, CompValue):
        return False
    name = node.name
    if name in ("Slice", "Group", "AggregateJoin", "ServiceGraphPattern"):
        return True
    if name in ("values", "ToMultiSet") and "res" in node:  # VALUES
        return _mentions(node)
    if name == "Filter":
        if _mentions(node.expr) and not _bound(node.p):
            return True
        return _unsafe(node.p)
    if name == "Extend":
        if node.var == _THIS or (_mentions(node.expr) and not _bound(node.p)):
            return True
        return _unsafe(node.p)
    if name == "LeftJoin":
        if (_mentions(node.p2) or _mentions(node.expr)) and not _bound(node.p1):
            return True
        return _unsafe(node.p1) or _unsafe(node.p2)
    if name == "Minus":
        return _mentions(node.p2) or _unsafe(node.p1)
    if name == "Project":  # a subquery: it must pass ?this on
        if _mentions(node.p) and _THIS not in node.PV:
            return True
        return _unsafe(node.p)
    return any(_unsafe(v) for k, v in node.items() if k not in ("_vars", "expr"))


# ---------------------------------------------------------------- engines


def run_facts(base: str, on: dt.date) -> list[ox.Triple]:
    """The validation date as data: `<{base}validation/report> rkgsh:validationDate on`.

    One fact, on the node of the Turtle validation report, which carries the same triple: a
    release's validation-report.ttl is the settings node any SHACL engine needs beside
    catalog.ttl. The shapes derive the latest year and the review cutoff from it."""
    report = ox.NamedNode(f"{base}validation/report")
    return [ox.Triple(report, ox.NamedNode(SHAPES_NS + "validationDate"), _date(on))]


def _date(day: dt.date) -> ox.Literal:
    return ox.Literal(day.isoformat(), datatype=ox.NamedNode(XSD + "date"))


def _results(results: rdflib.Graph) -> list[RawResult]:
    """Read pySHACL's report graph into engine-neutral results."""
    sh = rdflib.Namespace(SH)
    out = []
    # Only top-level results: nested ones (sh:detail of an sh:node result) are not findings.
    for r in results.objects(None, sh.result):
        focus = results.value(r, sh.focusNode)
        path = results.value(r, sh.resultPath)
        value = results.value(r, sh.value)
        severity = results.value(r, sh.resultSeverity)
        shape = results.value(r, sh.sourceShape)
        messages = sorted(str(m) for m in results.objects(r, sh.resultMessage))
        out.append(
            RawResult(
                focus=_nt(to_ox(focus)) if focus is not None else "",
                path=str(path) if isinstance(path, rdflib.URIRef) else "",
                value=_nt(to_ox(value)) if value is not None else "",
                severity=str(severity),
                shape=str(shape),
                message=" ".join(messages),
            )
        )
    return out


def _pyshacl(
    data: rdflib.Graph, shapes: rdflib.Graph, use_shapes: Sequence[str] | None
) -> list[RawResult]:
    import pyshacl
    from pyshacl.errors import ConstraintLoadError, ReportableRuntimeError, ShapeLoadError

    try:
        _, results, _ = pyshacl.validate(
            data,
            shacl_graph=shapes,
            inference="none",
            advanced=False,
            meta_shacl=False,
            inplace=True,
            use_shapes=list(use_shapes) if use_shapes else None,
        )
    except (ShapeLoadError, ConstraintLoadError) as exc:
        raise ValidationError(f"a shape is not valid SHACL (pyshacl): {exc}") from exc
    except ReportableRuntimeError as exc:
        raise ValidationError(f"pyshacl could not validate: {exc}") from exc
    assert isinstance(results, rdflib.Graph)
    return _results(results)


def _graph(triples: Iterable[tuple[Node, Node, Node]]) -> rdflib.Graph:
    g = rdflib.Graph()
    for t in triples:
        g.add(t)
    return g


class _Converter:
    """pyoxigraph → rdflib triples, converting each distinct term once."""

    def __init__(self) -> None:
        self.cache: dict[Any, Node] = {}

    def term(self, t: Any) -> Node:
        hit = self.cache.get(t)
        if hit is None:
            hit = self.cache[t] = to_rdflib(t)
        return hit

    def triple(self, q: ox.Quad | ox.Triple) -> tuple[Node, Node, Node]:
        return (self.term(q.subject), self.term(q.predicate), self.term(q.object))


def reference_results(catalog: Catalog, shapes: Shapes, on: dt.date) -> list[RawResult]:
    """pySHACL on the whole graph (all named graphs + the run facts): the reference engine."""
    conv = _Converter()
    seen: set[tuple[Node, Node, Node]] = set()
    triples = [conv.triple(q) for q in catalog.quads] + [
        conv.triple(t) for t in run_facts(catalog.settings.base, on)
    ]
    for t in triples:
        seen.add(t)
    return _pyshacl(_graph(seen), shapes.graph, None)


@dataclass
class Parts:
    """The catalog's quad keys (see `graph.QuadKey`) as the fast engine uses them.

    `Catalog` holds keys, not pyoxigraph objects; working on keys keeps the fast engine from
    making 3.9M objects at 100k resources. `store.incremental.load` hands these over ready-made.
    """

    per_record: dict[str, list[QuadKey]]  # record id → keys whose subject is the record
    shared: list[QuadKey]  # vocabularies + organizations: what record shapes look up
    reference: list[QuadKey]  # ontology + shared: what shapes of concepts and terms see
    every: Sequence[QuadKey]  # all keys, in any order (duplicates allowed)
    digests: dict[str, str] = dc_field(default_factory=dict)  # record id → record_digest

    def digest(self, rid: str) -> str:
        found = self.digests.get(rid)
        if found is None:
            found = self.digests[rid] = record_digest(self.per_record[rid])
        return found


def parts_of(catalog: Catalog) -> Parts:
    """Split the catalog's keys per record (or take the split `store.incremental` made while loading)."""
    ready = getattr(catalog, "validation_parts", None)
    if isinstance(ready, Parts):
        return ready
    base = catalog.settings.base
    iri_to_id = {f"<{resource_iri(base, r.id)}>": r.id for r in catalog.records}
    per_record: dict[str, list[QuadKey]] = {r.id: [] for r in catalog.records}
    shared: list[QuadKey] = []
    reference: list[QuadKey] = []
    g = catalog.graphs
    shared_graphs = {str(g.vocabularies), str(g.catalog)}
    ontology = str(g.ontology)
    keys = catalog.quad_table.keys
    for key in keys:
        rid = iri_to_id.get(key[1])
        if rid is not None:
            per_record[rid].append(key)
        elif key[0] in shared_graphs:
            shared.append(key)
            reference.append(key)
        elif key[0] == ontology:
            reference.append(key)
    return Parts(per_record, shared, reference, keys)


def record_digest(keys: Iterable[QuadKey]) -> str:
    """Content hash of a record's triples (graph names left out), the incremental cache key."""
    lines = sorted({f"{s} {p} {o}" for _g, s, p, o in keys})
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


class _Cache:
    """Per-record results keyed by a hash of the record's triples, in the store's database.

    The context (shapes, vocabularies, organizations, ontology, validation date, code) is
    part of each row: rows of another context are never read, and are dropped on save.
    Results are JSON text: nothing read back can run code."""

    def __init__(self, folder: Path | None, context: str) -> None:
        self.folder = folder
        self.context = context
        self.entries: dict[str, str] = {}
        self.used: set[str] = set()
        self.added: dict[str, str] = {}
        if folder is not None and (folder / "state.sqlite").is_file():
            db = connect(folder)
            try:
                rows = db.execute(
                    "SELECT key, results FROM validation WHERE context = ?", (context,)
                )
                self.entries = dict(rows.fetchall())
            finally:
                db.close()

    def get(self, key: str) -> list[RawResult] | None:
        hit = self.entries.get(key)
        if hit is None:
            return None
        self.used.add(key)
        return [RawResult(*row) for row in json.loads(hit)]

    def put(self, key: str, results: list[RawResult]) -> None:
        self.added[key] = json.dumps(sorted(r.to_json() for r in results), ensure_ascii=False)

    def save(self) -> None:
        """Keep what this run used or added; rows of gone records and other contexts go."""
        unused = self.entries.keys() - self.used - self.added.keys()
        if self.folder is None or (not self.added and not unused):
            return
        db = connect(self.folder)
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM validation WHERE context != ?", (self.context,))
            db.executemany("DELETE FROM validation WHERE key = ?", [(k,) for k in unused])
            db.executemany(
                "INSERT OR REPLACE INTO validation (key, context, results) VALUES (?, ?, ?)",
                [(k, self.context, v) for k, v in self.added.items()],
            )
            db.execute("COMMIT")
        finally:
            db.close()


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
        found += _pyshacl(graph, shapes.batch_core or shapes.core, shapes.record_shapes)
    if job.checks:
        store = _store(
            [*parts.reference, *(k for rid in rids for k in parts.per_record[rid])], job.facts
        )
        mine = set(iris.values())
        for check, focus in job.checks:
            found += _check_rows(store, check, focus & mine)
    by_focus: dict[str, list[RawResult]] = defaultdict(list)
    for r in found:
        by_focus[r.focus].append(r)
    return [(rid, by_focus.get(iri, [])) for rid, iri in iris.items()]


def default_workers() -> int:
    """Worker processes for batches: RKG_WORKERS, else up to 2 (one per core)."""
    env = os.environ.get("RKG_WORKERS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(2, os.cpu_count() or 1))


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
    """Batched core shapes + once-only shapes + whole-graph SPARQL; equal to the reference.

    Batches of records run in `workers` processes forked from this one (they inherit the
    catalog; only record ids go out and results come back). Shapes of concepts and terms and
    their SPARQL checks run once, whole-graph SPARQL checks on the triples they name."""
    global _JOB
    parts = parts or parts_of(catalog)
    focus = focus if focus is not None else focus_from_keys(shapes, parts.every)
    roots = set(shapes.record_roots)
    base = catalog.settings.base
    records = {f"<{resource_iri(base, rid)}>" for rid in parts.per_record}
    batch_checks: list[tuple[SparqlCheck, set[str]]] = []
    other_checks: list[tuple[SparqlCheck, set[str]]] = []
    global_checks: list[tuple[SparqlCheck, set[str]]] = []
    outside = _outside_reference(
        parts,
        {
            pred
            for check in shapes.sparql
            if set(_owners(shapes, check)) <= roots
            for this_subject, pred, _obj in check.patterns
            if pred is not None and not this_subject
        },
    )
    for check in shapes.sparql:
        owners = _owners(shapes, check)
        nodes: set[str] = set()
        for owner in owners:
            nodes |= focus.get(owner, set())
        if owners and set(owners) <= roots:
            (batch_checks if _local(check, outside) else global_checks).append((check, nodes))
        elif nodes.isdisjoint(records):
            other_checks.append((check, nodes))
        else:  # a shape of other things that also reaches records: it sees every graph
            global_checks.append((check, nodes))
    facts = [
        ox.Quad(
            t.subject,
            t.predicate,
            t.object,
            ox.NamedNode(f"{catalog.settings.base}graph/validation"),
        )
        for t in run_facts(catalog.settings.base, on)
    ]
    context = (
        f"{CACHE_VERSION} {code_fingerprint()} {shapes.digest} "
        f"{record_digest(parts.reference)} {on.isoformat()}"
    )
    store_cache = _Cache(cache, context)
    results: list[RawResult] = []
    todo: list[tuple[str, str]] = []
    for rid in parts.per_record:
        key = f"{rid} {parts.digest(rid)}"
        hit = store_cache.get(key)
        if hit is None:
            todo.append((rid, key))
        else:
            results += hit
    total = len(todo)
    if progress:
        progress(0, total)
    keys = dict(todo)
    batches = [[rid for rid, _ in todo[i : i + batch_size]] for i in range(0, total, batch_size)]
    _JOB = _Job(catalog, shapes, parts, focus, batch_checks, facts)
    try:
        done = 0
        n = min(workers or default_workers(), len(batches))
        if shapes.record_shapes or batch_checks:
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
                        results += mine
                    done += len(out)
                    if progress:
                        progress(done, total)
            finally:
                if pool is not None:
                    pool.close()
                    pool.join()
        else:
            for _rid, key in todo:
                store_cache.put(key, [])
        # Shapes of concepts and terms: depend only on the reference graphs, cached with them.
        ref_key = "\0reference"
        hit = store_cache.get(ref_key)
        if hit is None:
            hit = _reference_checks(_JOB, other_checks)
            store_cache.put(ref_key, hit)
        results += hit
    finally:
        _JOB = None
    results += _whole_graph_checks(parts, global_checks, facts, store_cache)
    store_cache.save()
    return results


def _owners(shapes: Shapes, check: SparqlCheck) -> list[str]:
    return [check.shape] if check.node_shape else shapes.parents.get(check.shape, [])


def _reference_checks(job: _Job, checks: list[tuple[SparqlCheck, set[str]]]) -> list[RawResult]:
    """Shapes that target concepts, terms or organizations, on ontology + vocabularies + orgs."""
    shapes, parts = job.shapes, job.parts
    out: list[RawResult] = []
    if shapes.other_shapes:
        out += _pyshacl(_graph(job.triples(parts.reference)), shapes.core, shapes.other_shapes)
    if checks:
        store = _store(parts.reference, job.facts)
        for check, focus in checks:
            out += _check_rows(store, check, focus)
    return out


def _outside_reference(parts: Parts, predicates: set[str]) -> dict[str, set[str]]:
    """For each predicate, the objects (keys) of its triples outside the reference graphs:
    the triples of records (and derived nodes) that a batch holds only in part."""
    wanted = {f"<{iri}>" for iri in predicates}
    out: dict[str, set[str]] = {}
    if not wanted:
        return out
    reference = set(parts.reference)
    for key in parts.every:
        if key[2] in wanted and key not in reference:
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


def _whole_graph_checks(
    parts: Parts,
    checks: list[tuple[SparqlCheck, set[str]]],
    facts: list[ox.Quad],
    cache: _Cache,
) -> list[RawResult]:
    """Checks that compare records with each other, on the triples their patterns can match.

    A triple pattern with a constant predicate can only match triples with that predicate, so
    a store of those triples answers the query as the whole graph does (url, title, id and
    type: ≈ 4 of 39 triples a resource). `SparqlCheck.reads`, from the parsed query, lists
    them; a query with a variable predicate, a negated or a zero-length path gets every triple.
    The results are cached under a hash of those triples and the focus nodes: editing
    summaries leaves them valid, editing a title reruns the checks (≈ 3 s at 100k)."""
    if not checks:
        return []
    wanted: set[str] | None = set()
    for check, _ in checks:
        if check.reads is None:
            wanted = None
            break
        assert wanted is not None
        wanted |= {f"<{iri}>" for iri in check.reads}
    keys = parts.every if wanted is None else [k for k in parts.every if k[2] in wanted]
    # In the order the catalog holds them: the same inputs give the same text (another order
    # would only miss the cache).
    text = "".join([f"{s} {p} {o} {g} .\n" for g, s, p, o in keys]).encode()
    digest = hashlib.sha256(text)
    for check, focus in checks:
        digest.update(f"{check}\0{len(focus)}\0".encode())
        digest.update("\n".join(sorted(focus)).encode())
    key = f"\0whole-graph {digest.hexdigest()}"
    hit = cache.get(key)
    if hit is not None:
        return hit
    store = ox.Store()
    store.load(text, format=ox.RdfFormat.N_QUADS)
    store.extend(facts)
    out: list[RawResult] = []
    for check, focus in checks:
        out += _check_rows(store, check, focus)
    cache.put(key, out)
    return out


def focus_from_keys(shapes: Shapes, keys: Iterable[QuadKey]) -> dict[str, set[str]]:
    """Focus nodes (N-Triples) of every node shape with targets, as pySHACL finds them:
    sh:targetClass includes instances of subclasses (rdfs:subClassOf*, over all graphs)."""
    rdf_type, sub_class = f"<{RDF}type>", "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"
    by_predicate = {
        f"<{iri}>"
        for targets in shapes.targets.values()
        for kind, iri in targets
        if kind in ("targetSubjectsOf", "targetObjectsOf")
    }
    instances: dict[str, set[str]] = defaultdict(set)
    parents: dict[str, set[str]] = defaultdict(set)
    subjects: dict[str, set[str]] = defaultdict(set)
    objects: dict[str, set[str]] = defaultdict(set)
    wanted = by_predicate | {rdf_type, sub_class}
    for _g, s, p, o in keys:
        if p not in wanted:  # most triples: one set lookup each (3.9M at 100k resources)
            continue
        if p == rdf_type:
            instances[o].add(s)
        elif p == sub_class:
            parents[o].add(s)  # o is a superclass of s
        if p in by_predicate:
            subjects[p].add(s)
            objects[p].add(o)
    out: dict[str, set[str]] = {}
    for shape, targets in shapes.targets.items():
        nodes: set[str] = set()
        for kind, iri in targets:
            key = f"<{iri}>"
            if kind == "targetNode":
                nodes.add(key)
            elif kind == "targetClass":
                seen, todo = {key}, [key]
                while todo:
                    for sub in parents.get(todo.pop(), ()):
                        if sub not in seen:
                            seen.add(sub)
                            todo.append(sub)
                for cls in seen:
                    nodes |= instances.get(cls, set())
            elif kind == "targetSubjectsOf":
                nodes |= subjects.get(key, set())
            elif kind == "targetObjectsOf":
                nodes |= objects.get(key, set())
        out[shape] = nodes
    return out


def focus_nodes(
    catalog: Catalog, shapes: Shapes, store: ox.Store | None = None
) -> dict[str, set[str]]:
    """Focus nodes (N-Triples) of every node shape with targets."""
    return focus_from_keys(shapes, parts_of(catalog).every)


def _check_rows(store: ox.Store, check: SparqlCheck, focus: set[str]) -> list[RawResult]:
    """One SHACL-SPARQL constraint on a store: rows on focus nodes only.

    A join-safe query runs once with `?this` free (a row without `?this` holds for every
    focus node); any other runs once per focus node with `$this` substituted, as SHACL
    pre-binds it."""
    if not focus:
        return []
    out: list[RawResult] = []
    if check.join_safe:
        for row, names in _solutions(store, check, None):
            this = row["this"]
            if this is None:
                for node in sorted(focus):
                    out.append(_row_result(check, row, names, _parse_term(node)))
            elif _nt(this) in focus:
                out.append(_row_result(check, row, names, this))
        return out
    variable = ox.Variable("this")
    for node in sorted(focus):
        term = _parse_term(node)
        assert term is not None
        for row, names in _solutions(store, check, {variable: term}):
            out.append(_row_result(check, row, names, term))
    return out


def _solutions(
    store: ox.Store, check: SparqlCheck, substitutions: dict[ox.Variable, Any] | None
) -> Iterable[tuple[ox.QuerySolution, list[str]]]:
    try:
        rows = store.query(
            check.query, use_default_graph_as_union=True, substitutions=substitutions
        )
    except SyntaxError as exc:
        raise ValidationError(
            f"SPARQL constraint of {curie(check.shape)} does not parse: {exc}"
        ) from exc
    assert isinstance(rows, ox.QuerySolutions)
    names = [v.value for v in rows.variables]
    for row in rows:
        yield row, names


def _row_result(
    check: SparqlCheck, row: ox.QuerySolution, names: list[str], this: Any
) -> RawResult:
    """A solution as SHACL turns it into a result: value, path and message from its bindings."""
    bound = {n: row[n] for n in names if n != "this" and row[n] is not None}
    value = bound.get("value", this if check.node_shape else None)
    path = bound.get("path")
    path_iri = path.value if isinstance(path, ox.NamedNode) else check.path
    fmt = dict(bound)
    fmt["this"] = this
    if path is not None:
        fmt["path"] = path
    if value is not None:
        fmt["value"] = value
    messages = sorted({_format(m, fmt) for m in check.messages})
    return RawResult(
        focus=_nt(this),
        path=path_iri,
        value=_nt(value),
        severity=check.severity,
        shape=check.shape,
        message=" ".join(messages),
    )


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
            for owner in _owners(shapes, check):
                nodes |= targets.get(owner, set())
            out += _check_rows(store, check, nodes)
        return out
    finally:
        for q in facts:
            store.remove(q)


def _literal(text: str) -> Callable[[re.Match[str]], str]:
    """A re.sub replacement that inserts `text` as is (no backslash processing)."""
    return lambda _match: text


def _format(message: str, bound: dict[str, Any]) -> str:
    """`{?var}` / `{$var}` in a message become the bound value's text, as pySHACL does."""
    for name, term in bound.items():
        text = term.value if isinstance(term, ox.NamedNode | ox.Literal) else str(term)
        message = re.sub(r"\{[?$]" + re.escape(name) + r"\}", _literal(text), message)
    return message


# ---------------------------------------------------------------- mapping


_PREDICATE_FIELD: dict[str, str] = {spec.predicate: name for name, spec in FIELD_SPECS.items()}


class _Mapper:
    """Turns raw results into findings named by record, field, file, line and written value."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.by_iri = {resource_iri(catalog.settings.base, r.id): r for r in catalog.records}

    def findings(self, raw: RawResult) -> list[Finding]:
        term = _parse_term(raw.value)
        focus = _parse_term(raw.focus)
        severity = raw.severity.rsplit("#", 1)[-1]
        shape = curie(raw.shape)
        record = self.by_iri.get(focus.value) if isinstance(focus, ox.NamedNode) else None
        if record is None:
            return [self._other(raw, focus, term, severity, shape)]
        title = record.get_text("title") or ""
        fields = self._fields(record, raw.path, term)
        out = []
        for name in fields:
            message = raw.message
            if raw.path == UNRESOLVED and isinstance(term, ox.Literal):
                message = self._suggest(message, name, term.value)
            out.append(
                Finding(
                    id=record.id,
                    title=title,
                    file=record.file,
                    line=record.line_of(name) if name else record.line,
                    field=name,
                    value=self._written(record, name, term, focus),
                    severity=severity,
                    message=message,
                    shape=shape,
                    focus=raw.focus,
                    path=raw.path,
                    term=raw.value,
                )
            )
        return out

    def _fields(self, record: Record, path: str, term: Any) -> list[str]:
        if path == UNRESOLVED and isinstance(term, ox.Literal):
            names = [
                name
                for name in FIELDS
                if term.value in record.get_list(name) and self._unresolved(name, term.value)
            ]
            return names or ["(unknown field)"]
        if path == RDF + "type":
            return ["(record)"]
        return [_PREDICATE_FIELD.get(path, curie(path) if path else "")]

    def _unresolved(self, name: str, label: str) -> bool:
        scheme = FIELD_SPECS[name].scheme
        return scheme is None or self.catalog.lexicon.resolve(scheme, label).iri is None

    def _suggest(self, message: str, name: str, label: str) -> str:
        scheme = FIELD_SPECS[name].scheme if name in FIELD_SPECS else None
        if scheme is None:
            return message
        close = self.catalog.lexicon.suggest(scheme, label)
        return f"{message} Closest known: {', '.join(close)}." if close else message

    def _written(self, record: Record, name: str, term: Any, focus: Any = None) -> str:
        """The value as the curator wrote it in the record, not the IRI it became.

        A node shape's result has the record itself as value; about a field the record
        left empty (a retired record without replaced_by), nothing was written."""
        if term is None or (term == focus and record.values.get(name) in (None, "", [])):
            return ""
        spec = FIELD_SPECS.get(name)
        raw = record.values.get(name)
        if spec is not None and isinstance(raw, list):
            if isinstance(term, ox.NamedNode) and spec.scheme is not None:
                for label in raw:
                    if self.catalog.lexicon.resolve(spec.scheme, label).iri == term.value:
                        return label
                known = self.catalog.lexicon.terms.get(term.value)
                return known.label if known else _term_text(term)
            return _term_text(term)
        if raw is not None and not isinstance(raw, list):
            return str(raw)
        known = (
            self.catalog.lexicon.terms.get(term.value) if isinstance(term, ox.NamedNode) else None
        )
        return known.label if known else _term_text(term)

    def _other(self, raw: RawResult, focus: Any, term: Any, severity: str, shape: str) -> Finding:
        """A result on a concept, an ontology term or an organization: its file and line."""
        iri = focus.value if isinstance(focus, ox.NamedNode) else _nt(focus)
        where = self.catalog.sources.get(iri)
        known = self.catalog.lexicon.terms.get(iri)
        return Finding(
            id=_short_id(iri),
            title=known.label if known and known.label != iri else "",
            file=where.file if where else "",
            line=where.line if where else 0,
            field=curie(raw.path) if raw.path else "",
            value=_short_id(term.value) if isinstance(term, ox.NamedNode) else _term_text(term),
            severity=severity,
            message=raw.message,
            shape=shape,
            focus=raw.focus,
            path=raw.path,
            term=raw.value,
        )


def _short_id(iri: str) -> str:
    from resource_kg.config import CONCEPT_BASE

    if iri.startswith(CONCEPT_BASE):
        return iri[len(CONCEPT_BASE) :]
    return curie(iri)


# ---------------------------------------------------------------- entry point


def validate(
    catalog: Catalog,
    on: dt.date | None = None,
    *,
    engine: str = "fast",
    batch_size: int = DEFAULT_BATCH,
    cache: Path | None = None,
    progress: Progress | None = None,
    shapes: Shapes | None = None,
    workers: int | None = None,
) -> Report:
    """Validate a built catalog against its shapes as of `on` (default today).

    `engine="pyshacl"` runs pySHACL once on the whole graph (the reference); the default engine
    gives the same findings in linear time. `cache` (a JSON file) lets a rerun revalidate only
    the records whose triples changed. `workers` (default: `default_workers()`) is how many
    processes check batches when there is more than one batch.
    """
    day = on or dt.date.today()
    checked = cache / "shapes-checked.txt" if cache is not None else None
    if checked is not None and checked.is_file():  # meta-SHACL passed on these shapes before
        _META_CHECKED.update(checked.read_text(encoding="utf-8").split())
    shapes = shapes or load_shapes(catalog.paths.shapes, catalog.paths.root)
    if checked is not None and shapes.digest in _META_CHECKED:
        write_atomic(checked, shapes.digest + "\n")
    if engine not in ("fast", "pyshacl"):
        raise ValidationError(f"unknown engine {engine!r}; use fast or pyshacl")
    parts = parts_of(catalog)
    focus = focus_from_keys(shapes, parts.every)
    if engine == "pyshacl":
        raw = reference_results(catalog, shapes, day)
    else:
        raw = fast_results(
            catalog,
            shapes,
            day,
            batch_size=batch_size,
            cache=cache,
            progress=progress,
            workers=workers,
            parts=parts,
            focus=focus,
        )
    mapper = _Mapper(catalog)
    findings = {f for r in raw for f in mapper.findings(r)}
    counts = _focus_counts(shapes, focus)
    return Report(
        sorted(findings, key=_SORT_KEY),
        day,
        len(catalog.records),
        counts,
        catalog.settings.base,
    )


def _focus_counts(shapes: Shapes, targets: dict[str, set[str]]) -> dict[str, int]:
    """Focus nodes checked per shape: node shapes by their targets, property shapes by owner."""
    counts = {curie(s): len(nodes) for s, nodes in targets.items()}
    for prop, owners in shapes.parents.items():
        nodes: set[str] = set()
        for owner in owners:
            nodes |= targets.get(owner, set())
        if any(o in targets for o in owners):
            counts[curie(prop)] = len(nodes)
    return dict(sorted(counts.items()))


def cache_file(root: Path) -> Path:
    """Where incremental validation keeps per-record results: the catalog's store folder."""
    return store_dir(root)
