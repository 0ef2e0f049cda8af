"""SHACL-SPARQL constraints run on a pyoxigraph store: rows on focus nodes, turned into raw results as SHACL does."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import pyoxigraph as ox

from resource_kg.errors import ValidationError
from resource_kg.validate.shapes import SparqlCheck
from resource_kg.validate.terms import RawResult, curie, nt, parse_term


def check_rows(store: ox.Store, check: SparqlCheck, focus: set[str]) -> list[RawResult]:
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
                    out.append(_row_result(check, row, names, parse_term(node)))
            elif nt(this) in focus:
                out.append(_row_result(check, row, names, this))
        return out
    variable = ox.Variable("this")
    for node in sorted(focus):
        term = parse_term(node)
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
        focus=nt(this),
        path=path_iri,
        value=nt(value),
        severity=check.severity,
        shape=check.shape,
        message=" ".join(messages),
    )


def _literal(text: str) -> Callable[[re.Match[str]], str]:
    """A re.sub replacement that inserts `text` as is (no backslash processing)."""
    return lambda _match: text


def _format(message: str, bound: dict[str, Any]) -> str:
    """`{?var}` / `{$var}` in a message become the bound value's text, as pySHACL does."""
    for name, term in bound.items():
        text = term.value if isinstance(term, ox.NamedNode | ox.Literal) else str(term)
        message = re.sub(r"\{[?$]" + re.escape(name) + r"\}", _literal(text), message)
    return message
