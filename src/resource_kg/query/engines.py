"""The engines a stored question runs on: the embedded pyoxigraph store and rdflib's engine, with one Result shape for both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import pyoxigraph as ox

from resource_kg.errors import QueryError
from resource_kg.graph import Graphs
from resource_kg.query.stored import INTEGER_TYPES, LIST_SEPARATOR, Cell, Value

if TYPE_CHECKING:
    import rdflib


# ---------------------------------------------------------------- engines


@dataclass
class Result:
    """The columns and rows of a SELECT, as RDF terms (None when unbound)."""

    columns: list[str]
    rows: list[dict[str, Cell]]

    def values(self) -> list[dict[str, Value]]:
        """Plain Python values: IRIs and text as str, integers as int, `...Labels` as lists."""
        return [{c: to_value(c, row.get(c)) for c in self.columns} for row in self.rows]


def to_value(column: str, cell: Cell) -> Value:
    if cell is None:
        return None
    if isinstance(cell, ox.Literal) and cell.datatype.value in INTEGER_TYPES:
        try:
            return int(cell.value)
        except ValueError:
            return cell.value
    text = cell.value
    if column.endswith("Labels"):
        return sorted(set(text.split(LIST_SEPARATOR))) if text else []
    return text


class Engine(Protocol):
    """Something that answers a SPARQL SELECT over the catalog's dataset."""

    def select(self, query: str) -> Result: ...


def _syntax_error(exc: Exception, source: str) -> QueryError:
    return QueryError(f"SPARQL syntax error: {exc}", file=source)


class EmbeddedEngine:
    """pyoxigraph, in memory or on disk, over a store holding only the catalog's graphs.

    The store is only read: running a query never adds to it."""

    def __init__(self, store: ox.Store, graphs: Graphs, source: str = "query") -> None:
        self.store = store
        self.graphs = list(graphs.all())
        self.source = source

    def select(self, query: str) -> Result:
        try:
            solutions = self.store.query(query, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise _syntax_error(exc, self.source) from exc
        except OSError as exc:
            raise QueryError(f"the query failed: {exc}", file=self.source) from exc
        if not isinstance(solutions, ox.QuerySolutions):
            raise QueryError("only SELECT queries can be run here", file=self.source)
        columns = [v.value for v in solutions.variables]
        try:
            rows: list[dict[str, Cell]] = [dict(zip(columns, s, strict=True)) for s in solutions]
        except OSError as exc:
            raise QueryError(f"the query failed: {exc}", file=self.source) from exc
        return Result(columns, rows)


class RdflibEngine:
    """rdflib's own SPARQL engine over the same quads: slow, but an independent check."""

    def __init__(self, dataset: rdflib.Dataset, source: str = "query") -> None:
        self.dataset = dataset
        self.dataset.default_union = True
        self.source = source

    def select(self, query: str) -> Result:
        from pyparsing import ParseException

        try:
            result = self.dataset.query(query)
        except ParseException as exc:
            raise QueryError(
                f"SPARQL syntax error at {exc.lineno}:{exc.col}: {exc.msg}", file=self.source
            ) from exc
        if result.type != "SELECT" or result.vars is None:
            raise QueryError("only SELECT queries can be run here", file=self.source)
        columns = [str(v) for v in result.vars]
        rows = []
        for row in result:
            values: Any = row
            rows.append({c: _rdflib_cell(values[i]) for i, c in enumerate(columns)})
        return Result(columns, rows)


def _rdflib_cell(term: object) -> Cell:
    from resource_kg.terms import rdflib_to_ox  # rdflib loads only when its engine is used

    if term is None:
        return None
    found = rdflib_to_ox(term)
    if found is None:
        raise QueryError(f"unsupported term in result: {term!r}")
    return found
