"""The rows `Catalog.query` returns to a Python caller: plain values, plus the IRIs and labels.

A row is a `dict` (column → value, as `Result.values()` gives it: IRIs and text as str,
integers as int, `...Labels` columns as lists), so existing code and comparisons with plain
dictionaries keep working; `entities` adds, for each column that holds an IRI, the IRI with
the label the query gave it (its `...Label` column), which is what a caller usually wants.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from resource_kg.query import Result, Value


@dataclass(frozen=True)
class Entity:
    """A resource, concept or organization in an answer: its IRI and label (None if the
    query gave none)."""

    iri: str
    label: str | None


class Row(dict[str, Value]):
    """One answer row: column → plain value; `entities`: each IRI column as an Entity."""

    def __init__(self, values: dict[str, Value], entities: dict[str, Entity]) -> None:
        super().__init__(values)
        self.entities = entities

    def iri(self, column: str) -> str | None:
        """The IRI in `column`, or None when it holds none (unbound or not an IRI)."""
        found = self.entities.get(column)
        return found.iri if found else None

    def label(self, column: str) -> str | None:
        """The label of the IRI in `column` (from its `...Label` column)."""
        found = self.entities.get(column)
        return found.label if found else None


def rows_of(result: Result) -> list[Row]:
    """The typed rows of a SELECT result, in its order."""
    out = []
    for cells, values in zip(result.rows, result.values(), strict=True):
        entities = {}
        for column in result.columns:
            cell = cells.get(column)
            if isinstance(cell, ox.NamedNode):
                label = values.get(f"{column}Label")
                entities[column] = Entity(cell.value, label if isinstance(label, str) else None)
        out.append(Row(values, entities))
    return out
