"""Per-record validation results in the catalog store's database, keyed by a hash of the record's triples."""

from __future__ import annotations

import json
from pathlib import Path

from resource_kg.store.state import connect, store_dir
from resource_kg.validate.terms import RawResult


class ResultCache:
    """Per-record results keyed by a hash of the record's triples, in the store's database.

    The context (shapes, vocabularies, organizations, ontology, validation date, code) is
    part of each row: rows of another context are never read, and are dropped on save.
    Results are JSON text: nothing read back can run code."""

    def __init__(self, folder: Path | None, context: str, *, lazy: bool = False) -> None:
        self.folder = folder
        self.context = context
        self.entries: dict[str, str] = {}
        self.used: set[str] = set()
        self.added: dict[str, str] = {}
        #: A lazy cache reads only the rows asked for and drops none on save (a run that
        #: checks a few records leaves the others' rows alone).
        self.lazy = lazy
        if lazy:
            return
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
        if self.lazy and key not in self.entries and self.folder is not None:
            db = connect(self.folder)
            try:
                row = db.execute(
                    "SELECT results FROM validation WHERE key = ? AND context = ?",
                    (key, self.context),
                ).fetchone()
            finally:
                db.close()
            if row is not None:
                self.entries[key] = row[0]
        hit = self.entries.get(key)
        if hit is None:
            return None
        self.used.add(key)
        return [RawResult(*row) for row in json.loads(hit)]

    def put(self, key: str, results: list[RawResult]) -> None:
        self.added[key] = json.dumps(sorted(r.to_json() for r in results), ensure_ascii=False)

    def save(self) -> None:
        """Keep what this run used or added; rows of gone records and other contexts go."""
        unused = set() if self.lazy else self.entries.keys() - self.used - self.added.keys()
        if self.folder is None or (not self.added and not unused):
            return
        db = connect(self.folder)
        try:
            db.execute("BEGIN IMMEDIATE")
            if not self.lazy:
                db.execute("DELETE FROM validation WHERE context != ?", (self.context,))
            db.executemany("DELETE FROM validation WHERE key = ?", [(k,) for k in unused])
            db.executemany(
                "INSERT OR REPLACE INTO validation (key, context, results) VALUES (?, ?, ?)",
                [(k, self.context, v) for k, v in self.added.items()],
            )
            db.execute("COMMIT")
        finally:
            db.close()


def cache_file(root: Path) -> Path:
    """Where incremental validation keeps per-record results: the catalog's store folder."""
    return store_dir(root)
