"""Answers kept beside the query store: the same query text on the same store state is not run twice.

A catalog-wide aggregate (keyword pairs, concept usage) reads millions of quads; asked again
before anything changed, its answer cannot differ. An answer is kept under the hash of the
exact query text (parameters already bound) and of the store's state: the build context (code
fingerprint, vocabularies, settings) and the digest of every record file's content the store
was made from. Any edit gives another state, so an answer is never served for a store it was
not computed on. Kept as JSON (terms spelled out), never pickles; the table keeps the
`KEEP` answers used last.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import orjson
import pyoxigraph as ox

from resource_kg.query.engines import Engine, Result
from resource_kg.query.stored import Cell
from resource_kg.store.state import connect, get_meta

#: How many answers the table keeps (the least recently used go first).
KEEP = 256
#: Answers larger than this (bytes of JSON) are not kept: cheap to recompute next to their size.
MAX_BYTES = 8 * 1024 * 1024


def store_state(folder: Path) -> str | None:
    """The state the query store in `folder` holds, or None when it is not known to be clean."""
    db = connect(folder)
    try:
        clean = get_meta(db, "store_clean")
        files = get_meta(db, "store_files")
    finally:
        db.close()
    if clean is None or files is None:
        return None
    return f"{clean}:{files}"


def _cell(term: Cell) -> Any:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return ["u", term.value]
    if isinstance(term, ox.BlankNode):
        return ["b", term.value]
    if isinstance(term, ox.Literal):
        if term.language:
            return ["l", term.value, term.language]
        return ["t", term.value, term.datatype.value]
    raise TypeError(f"unexpected term in an answer: {term!r}")


def _term(cell: Any) -> Cell:
    if cell is None:
        return None
    kind = cell[0]
    if kind == "u":
        return ox.NamedNode(cell[1])
    if kind == "b":
        return ox.BlankNode(cell[1])
    if kind == "l":
        return ox.Literal(cell[1], language=cell[2])
    return ox.Literal(cell[1], datatype=ox.NamedNode(cell[2]))


def encode(result: Result) -> bytes:
    rows = [[_cell(row.get(c)) for c in result.columns] for row in result.rows]
    return orjson.dumps({"columns": result.columns, "rows": rows})


def decode(body: bytes) -> Result:
    data = orjson.loads(body)
    columns: list[str] = data["columns"]
    rows: list[dict[str, Cell]] = []
    for cells in data["rows"]:
        rows.append({c: _term(v) for c, v in zip(columns, cells, strict=True)})
    return Result(columns, rows)


class KeptAnswers:
    """An engine that answers from the kept answers when it can, and keeps what it computes."""

    def __init__(self, inner: Engine, folder: Path, state: str) -> None:
        self.inner = inner
        self.folder = folder
        self.state = state

    def _key(self, query: str) -> str:
        return hashlib.sha256(f"{self.state}\0{query}".encode()).hexdigest()

    def select(self, query: str) -> Result:
        key = self._key(query)
        db = connect(self.folder)
        try:
            row = db.execute("SELECT body FROM answers WHERE key = ?", (key,)).fetchone()
            if row is not None:
                db.execute(
                    "UPDATE answers SET used = ?, hits = hits + 1 WHERE key = ?",
                    (time.time_ns(), key),
                )
                return decode(bytes(row[0]))
            result = self.inner.select(query)
            body = encode(result)
            if len(body) <= MAX_BYTES:
                db.execute("BEGIN IMMEDIATE")
                db.execute(
                    "INSERT OR REPLACE INTO answers (key, used, hits, body) VALUES (?, ?, 0, ?)",
                    (key, time.time_ns(), body),
                )
                db.execute(
                    "DELETE FROM answers WHERE key NOT IN "
                    "(SELECT key FROM answers ORDER BY used DESC LIMIT ?)",
                    (KEEP,),
                )
                db.execute("COMMIT")
            return result
        finally:
            db.close()
