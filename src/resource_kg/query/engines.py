"""The engines a stored question runs on: the embedded pyoxigraph store and rdflib's engine, with one Result shape for both.

Both refuse a `SERVICE` (it sends HTTP requests) unless its host is allowed, both honour a
query's own `FROM`/`FROM NAMED` (otherwise the default graph is the union of the catalog's
graphs), and neither fetches a graph from the web: rdflib's `SPARQL_LOAD_GRAPHS` is off, so
`FROM <g>` names a graph of the dataset. A query runs in a worker thread while the calling
thread waits, so a `deadline` stops the wait and Ctrl-C (SIGINT, delivered to the main thread)
ends it at once: pyoxigraph releases the GIL while it evaluates, but cannot be cancelled from
Python, so the thread is left to die with the process. Measured on the fixture catalog: the
thread costs ~0.1 ms a query (tests/test_query_hostile.py checks < 1 ms), while a worker
process that could be killed (fork, reopen the store read-only, send the rows back) cost
130-160 ms a query; so every local query takes the thread path, and there is no process.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pyoxigraph as ox

from resource_kg.errors import QueryError
from resource_kg.graph import Graphs
from resource_kg.query.shape import check_local_query
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


T = TypeVar("T")


def bounded(run: Callable[[], T], deadline: float | None, source: str, timeout: float) -> T:
    """`run()` in a daemon thread; the caller waits until it ends, the deadline or Ctrl-C.

    A query given up on keeps running in its thread until it ends: fine for `rkg query`,
    whose process exits; a long-lived caller that sets a timeout pays that CPU."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = run()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            # pyoxigraph's result objects may only be dropped on the thread that made them:
            # free the locals the traceback keeps here, not later on the waiting thread.
            cause: BaseException | None = exc
            while cause is not None:
                traceback.clear_frames(cause.__traceback__)
                cause = cause.__cause__ or cause.__context__
            box["error"] = exc

    worker = threading.Thread(target=target, name="rkg-query", daemon=True)
    worker.start()
    while worker.is_alive():
        wait = None if deadline is None else deadline - time.monotonic()
        if wait is not None and wait <= 0:
            raise QueryError(
                f"the query did not finish within {timeout:g} s (--timeout)", file=source
            )
        worker.join(0.25 if wait is None else min(wait, 0.25))
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


class _Limits:
    """The SERVICE hosts and the time limit (seconds, total over all queries) of an engine."""

    def __init__(self, allow_service: tuple[str, ...], timeout: float | None) -> None:
        self.allow_service = tuple(allow_service)
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout


def _syntax_error(exc: Exception, source: str) -> QueryError:
    return QueryError(f"SPARQL syntax error: {exc}", file=source)


class EmbeddedEngine:
    """pyoxigraph, in memory or on disk, over a store holding only the catalog's graphs.

    The store is only read: running a query never adds to it."""

    def __init__(
        self,
        store: ox.Store,
        graphs: Graphs,
        source: str = "query",
        allow_service: tuple[str, ...] = (),
        timeout: float | None = None,
    ) -> None:
        self.store = store
        self.graphs = list(graphs.all())
        self.source = source
        self.limits = _Limits(allow_service, timeout)

    def select(self, query: str) -> Result:
        found = check_local_query(query, self.limits.allow_service, self.source)
        # The query's own FROM names its dataset; otherwise the union of the catalog's graphs.
        union = not found.has_dataset
        return bounded(
            lambda: self._select(query, union),
            self.limits.deadline,
            self.source,
            self.limits.timeout or 0,
        )

    def _select(self, query: str, union: bool) -> Result:
        try:
            solutions = self.store.query(query, use_default_graph_as_union=union)
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

    def __init__(
        self,
        dataset: rdflib.Dataset,
        source: str = "query",
        allow_service: tuple[str, ...] = (),
        timeout: float | None = None,
    ) -> None:
        self.dataset = dataset
        self.dataset.default_union = True
        self.source = source
        self.limits = _Limits(allow_service, timeout)

    def select(self, query: str) -> Result:
        import rdflib.plugins.sparql

        check_local_query(query, self.limits.allow_service, self.source)
        # FROM <g> must name a graph of the dataset, never be fetched from the web.
        rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False
        return bounded(
            lambda: self._select(query), self.limits.deadline, self.source, self.limits.timeout or 0
        )

    def _select(self, query: str) -> Result:
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
