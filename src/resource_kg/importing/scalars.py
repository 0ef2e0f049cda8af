"""The checks `rkg build` makes of single-valued fields (year, dates, url, status), for an import.

`rkg import csv` used to write `year: twenty-twenty` without a word. It now runs the build's
own checks (`GraphBuilder`, so the wording is the build's, whatever it becomes) on each row
and reports what they find with the row and column; the value is imported as written, as the
build keeps it, and the next build warns again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from resource_kg.config import load_settings
from resource_kg.graph import GraphBuilder, Graphs, QuadKey
from resource_kg.records import Record, Value
from resource_kg.vocab import Lexicon

#: Fields checked on import; list fields are checked as labels (`unknown_labels`).
SCALAR_FIELDS = ("url", "year", "date_added", "last_reviewed", "status")


@dataclass(frozen=True)
class ScalarProblem:
    """A single value the build would warn about, where the CSV has it."""

    file: str
    line: int
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: row {self.row}, column '{self.column}': {self.message}"


class ScalarChecker:
    """The build's checks of one catalog (its base, vocabularies and day), row by row."""

    def __init__(self, root: Path, lexicon: Lexicon, today: dt.date | None = None) -> None:
        base = load_settings(root).base
        self.builder = GraphBuilder(base, Graphs.for_base(base), lexicon, today or dt.date.today())

    def problems(
        self,
        values: Mapping[str, Value],
        file: str,
        line: int,
        row: int,
        columns: Mapping[str, str],
    ) -> list[ScalarProblem]:
        """What the build would say about the row's single values (nothing is written)."""
        scalars = {k: v for k, v in values.items() if k in SCALAR_FIELDS or k == "id"}
        record = Record(str(values["id"]), scalars, file, line, {k: line for k in scalars})
        builder = self.builder
        start = len(builder.diagnostics)
        keys: list[QuadKey] = []
        builder.record_keys(record, set(), {}, keys)
        found = [
            ScalarProblem(file, line, row, columns.get(d.field, d.field), d.message)
            for d in builder.diagnostics[start:]
            if d.field in SCALAR_FIELDS
        ]
        del builder.diagnostics[start:]
        return found
