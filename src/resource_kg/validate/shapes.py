"""Loading shapes/*.ttl: parse with file and line, meta-SHACL once per shapes digest, and the analysis the fast engine runs on (targets, owners, the core graph, SPARQL checks)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path

import pyoxigraph as ox
import rdflib
import rdflib.collection
from rdflib.term import Node

from resource_kg.errors import ValidationError
from resource_kg.validate.plan import plan_query
from resource_kg.validate.terms import RESOURCE_CLASS, SH, curie, to_rdflib
from resource_kg.vocab import subject_lines

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
META_CHECKED: set[str] = set()


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
    if meta and digest.hexdigest() not in META_CHECKED:
        _meta_check(graph, locations)
        META_CHECKED.add(digest.hexdigest())
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
