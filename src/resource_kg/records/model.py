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


#: Longest id: it names a file (`<id>.yaml`, 255 bytes at most on common file systems) and
#: a page of the site.
MAX_ID = 200


#: Longest text value, in characters: well past any summary, and short enough that every
#: serializer and parser (pyoxigraph stops at 16 MiB per term) reads it back.
MAX_TEXT = 1_000_000


#: Characters no text value may hold: NUL (YAML refuses it, C-based tools cut text at it) and
#: lone surrogates, which are not characters and cannot be written as UTF-8. Other control
#: characters are kept: every writer escapes them.
BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")


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
        shown = rid if len(rid) <= 60 else rid[:57] + "..."
        raise StructureError(
            f"id {shown!r} may hold only letters, digits, '.', '_' and '-' (it becomes part of an IRI)",
            file=path,
            line=line,
            field="id",
        )
    if len(rid) > MAX_ID:
        raise StructureError(
            f"id {rid[:20]}... has {len(rid)} characters; the limit is {MAX_ID} "
            "(it names the record's file and page)",
            file=path,
            line=line,
            field="id",
        )
    return rid


def text_problem(text: str) -> str | None:
    """Why a text value cannot be kept (too long, a control character), or None."""
    if len(text) > MAX_TEXT:
        return f"holds {len(text):,} characters; the limit is {MAX_TEXT:,}"
    bad = BAD_CHARACTER.search(text)
    if bad is None:
        return None
    code = ord(bad.group())
    what = "a NUL byte" if code == 0 else "a lone surrogate"
    return f"holds {what} (U+{code:04X}) at character {bad.start() + 1}; remove it"


def check_record(record: Record, path: Path | str) -> None:
    """Refuse a record whose text values no output could hold (see `text_problem`)."""
    for name, value in record.values.items():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                problem = text_problem(text)
                if problem is not None:
                    raise StructureError(
                        problem,
                        file=path,
                        line=record.line_of(name),
                        field=name,
                        record_id=record.id,
                    )


def check_field_name(name: str, path: Path, line: int, rid: str | None) -> None:
    if name not in FIELDS:
        short = name if len(name) <= 60 else name[:57] + "..."
        raise StructureError(
            f"unknown field {short!r}{suggest(short, FIELDS)}",
            file=path,
            line=line,
            field=short,
            record_id=rid,
        )
