"""The record: its fields, a value per field, and where each was written (file and line); the checks every reader applies."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from resource_kg.errors import StructureError
from resource_kg.files import NotUtf8, decode_utf8

#: Record fields in their documented order (data/README.md explains each).
FIELDS: tuple[str, ...] = (
    "id",
    "url",
    "title",
    "subtitle",
    "year",
    "types",
    "primary_audience",
    "secondary_audience",
    "languages",
    "developed_by",
    "in_collaboration_with",
    "summary",
    "topics",
    "subtopics",
    "keywords",
    "populations",
    "date_added",
    "last_reviewed",
    "status",
    "replaced_by",
)


LIST_FIELDS: frozenset[str] = frozenset(
    {
        "types",
        "primary_audience",
        "secondary_audience",
        "languages",
        "developed_by",
        "in_collaboration_with",
        "topics",
        "subtopics",
        "keywords",
        "populations",
    }
)


ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


LIST_SEPARATOR = ";"


RECORD_SUFFIXES = (".yaml", ".yml", ".csv", ".jsonl")


Value = str | int | list[str]


@dataclass
class Record:
    """One resource as the curator wrote it: values as written, plus where each field is."""

    id: str
    values: dict[str, Value]
    file: str
    line: int
    field_lines: dict[str, int] = field(default_factory=dict)

    def get_list(self, name: str) -> list[str]:
        value = self.values.get(name)
        return list(value) if isinstance(value, list) else []

    def get_text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, list):
            return None
        return str(value)

    def line_of(self, name: str) -> int:
        """The line of a field's key, or the record's first line when the field is absent."""
        return self.field_lines.get(name, self.line)


def suggest(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def decode_text(path: Path, data: bytes) -> str:
    try:
        return decode_utf8(data)
    except NotUtf8 as bad:
        raise StructureError(
            f"file is not UTF-8 (byte 0x{bad.byte:02x} at offset {bad.offset}); save it as UTF-8",
            file=path,
            line=bad.line,
        ) from bad


def check_id(raw: object, path: Path, line: int) -> str:
    if raw is None or str(raw).strip() == "":
        raise StructureError("record has no id", file=path, line=line, field="id")
    rid = str(raw).strip()
    if not ID_PATTERN.match(rid):
        raise StructureError(
            f"id {rid!r} may hold only letters, digits, '.', '_' and '-' (it becomes part of an IRI)",
            file=path,
            line=line,
            field="id",
        )
    return rid


def check_field_name(name: str, path: Path, line: int, rid: str | None) -> None:
    if name not in FIELDS:
        raise StructureError(
            f"unknown field {name!r}{suggest(name, FIELDS)}",
            file=path,
            line=line,
            field=name,
            record_id=rid,
        )
