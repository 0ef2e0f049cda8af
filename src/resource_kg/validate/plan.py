"""The whole-graph form of a SHACL-SPARQL constraint, derived from its parsed sh:select (`plan_query`)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rdflib
from rdflib.plugins.sparql.parserutils import CompValue

from resource_kg.errors import ValidationError
from resource_kg.store.fingerprint import code_fingerprint
from resource_kg.validate.terms import nt, to_ox

# ---------------------------------------------------------------- SPARQL checks, derived

_THIS = rdflib.Variable("this")


@dataclass(frozen=True)
class QueryPlan:
    """What the fast engine derives from a constraint's sh:select (see `plan_query`)."""

    join_safe: bool
    reads: tuple[str, ...] | None
    patterns: tuple[tuple[bool, str | None, str | None], ...]


#: Plans derived in this process, or read back from the validation cache, by `plan_key`.
PLANS: dict[str, tuple[str, QueryPlan]] = {}
#: The keys `plan_query` was asked for in this process (what is worth keeping).
USED: set[str] = set()


def plan_key(head: str, select: str) -> str:
    """The code that derives a plan and the text it is derived from, hashed."""
    return hashlib.sha256(f"{code_fingerprint()}\0{head}\0{select}".encode()).hexdigest()


def plan_query(head: str, select: str) -> tuple[str, QueryPlan]:
    """`derive_plan`, remembered: parsing with rdflib takes ≈ 90 ms a constraint, and every
    `rkg validate` would otherwise pay it for every SPARQL constraint before checking anything."""
    key = plan_key(head, select)
    USED.add(key)
    hit = PLANS.get(key)
    if hit is None:
        hit = PLANS[key] = derive_plan(head, select)
    return hit


def read_plans(path: Path) -> None:
    """Plans kept in `path` (JSON) by an earlier run; a file that does not read is ignored."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        for key, (query, join_safe, reads, patterns) in data.items():
            PLANS.setdefault(
                key,
                (
                    query,
                    QueryPlan(
                        bool(join_safe),
                        None if reads is None else tuple(reads),
                        tuple((bool(a), b, c) for a, b, c in patterns),
                    ),
                ),
            )
    except (OSError, ValueError, TypeError):
        return


def plans_json() -> str:
    """The plans used in this process as JSON (what `read_plans` reads back)."""
    return json.dumps(
        {
            key: [query, plan.join_safe, plan.reads, [list(p) for p in plan.patterns]]
            for key, (query, plan) in sorted(PLANS.items())
            if key in USED
        },
        sort_keys=True,
    )


def derive_plan(head: str, select: str) -> tuple[str, QueryPlan]:
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
        return nt(to_ox(term))
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
