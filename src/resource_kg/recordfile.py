"""Write records back: one canonical YAML file per record, and CSV export/import of records.

A curator edits records in a spreadsheet and brings them back, so both ways must agree on
columns (the record field names) and list cells (labels joined with "; "). The YAML writer is
canonical (fixed field order, fixed quoting and wrapping) so that an unchanged record gives an
identical file and a diff shows only real edits.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

from resource_kg.errors import StructureError
from resource_kg.files import NotUtf8, decode_utf8, write_atomic
from resource_kg.records import FIELDS, Record, Value, tables
from resource_kg.records.tables import CsvRow
from resource_kg.spreadsheet import neutralize_row

#: Columns a CSV import cannot do without: a row must say which record it is and what it is.
REQUIRED_COLUMNS: tuple[str, ...] = ("id", "title")
CELL_SEPARATOR = "; "
WRAP = 92
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)")
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")


def canonical(values: Mapping[str, Value]) -> dict[str, Value]:
    """The comparable form of a record: field order, no empty values, text except a numeric year.

    YAML reads `title: 2020` as a number and CSV reads every cell as text; both describe the
    same record, so comparison goes through this form.
    """
    out: dict[str, Value] = {}
    for name in FIELDS:
        value = values.get(name)
        if value is None:
            continue
        if isinstance(value, list):
            items = [str(v).strip() for v in value if str(v).strip()]
            if items:
                out[name] = items
            continue
        text = str(value).strip()
        if not text:
            continue
        out[name] = int(text) if name == "year" and _DECIMAL.fullmatch(text) else text
    return out


def changed_fields(old: Mapping[str, Value], new: Mapping[str, Value]) -> list[str]:
    """Fields whose canonical values differ, in field order."""
    a, b = canonical(old), canonical(new)
    return [name for name in FIELDS if a.get(name) != b.get(name)]


def show_value(value: Value | None) -> str:
    """A value as one short line, for change listings."""
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + "; ".join(value) + "]"
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ---------------------------------------------------------------- YAML


def _plain_ok(text: str, numeric: bool) -> bool:
    """Whether `text` reads back unchanged as a plain YAML scalar in block context."""
    if not text or text != text.strip() or text[0] in _INDICATORS:
        return False
    if ": " in text or " #" in text or text.endswith(":") or "\t" in text:
        return False
    if not all(_printable(c) for c in text):
        return False
    if numeric and _DECIMAL.fullmatch(text):
        return True
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return tag == _STR_TAG


def _printable(c: str) -> bool:
    """Characters YAML allows as written and does not treat as line breaks."""
    o = ord(c)
    return (
        0x20 <= o <= 0x7E or 0xA0 <= o <= 0xD7FF or 0xE000 <= o <= 0xFFFD or o >= 0x10000
    ) and c != "\ufeff"


def _quoted(text: str) -> str:
    """A double-quoted scalar; anything YAML would reject or fold is escaped."""
    body = json.dumps(text, ensure_ascii=False)
    return "".join(
        c if _printable(c) else f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}"
        for c in body
    )


def _scalar(text: str, numeric: bool = False) -> str:
    return text if _plain_ok(text, numeric) else _quoted(text)


def _foldable(text: str) -> bool:
    """Folded block style keeps a long text readable; only safe for single-spaced prose."""
    return (
        len(text) > WRAP - 12
        and text == text.strip()
        and "  " not in text
        and all(_printable(c) and not c.isspace() or c == " " for c in text)
    )


def _wrap(text: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) + 2 > WRAP:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return lines


def dump_record(values: Mapping[str, Value], header: Iterable[str] = ()) -> str:
    """The canonical YAML text of one record; `header` comment lines are kept on top."""
    data = canonical(values)
    out = [line if line.startswith("#") else f"# {line}" for line in header]
    for name in FIELDS:
        if name not in data:
            continue
        value = data[name]
        if isinstance(value, list):
            out.append(f"{name}:")
            out.extend(f"  - {_scalar(item)}" for item in value)
        elif isinstance(value, int):
            out.append(f"{name}: {value}")
        elif name == "summary" and _foldable(value):
            out.append(f"{name}: >-")
            out.extend(f"  {line}" for line in _wrap(value))
        else:
            out.append(f"{name}: {_scalar(value, numeric=name == 'id')}")
    return "\n".join(out) + "\n"


def header_comments(path: Path) -> list[str]:
    """The comment lines at the top of a record file (provenance notes a rewrite must keep)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    header: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    return header


def write_record(path: Path, values: Mapping[str, Value], header: Iterable[str] = ()) -> None:
    write_atomic(path, dump_record(values, header))


# ---------------------------------------------------------------- CSV export


def export_csv(records: Iterable[Record]) -> str:
    """All records as CSV: one column per record field, list cells joined with '; '; cells a
    spreadsheet would run are quoted (`spreadsheet.neutralize`), and read back as written."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FIELDS)
    for record in records:
        data = canonical(record.values)
        row: list[str] = []
        for name in FIELDS:
            value = data.get(name)
            if isinstance(value, list):
                for item in value:
                    if ";" in item:
                        raise StructureError(
                            f"label {item!r} contains ';', the CSV list separator; "
                            "it would not come back as one label",
                            file=record.file,
                            line=record.line_of(name),
                            field=name,
                            record_id=record.id,
                        )
                row.append(CELL_SEPARATOR.join(value))
            else:
                row.append("" if value is None else str(value))
        writer.writerow(neutralize_row(row))
    return buffer.getvalue()


# ---------------------------------------------------------------- CSV import


def parse_map(options: Iterable[str]) -> dict[str, str]:
    """`--map COLUMN=field` options → {column: field}; a bad option names itself."""
    mapping: dict[str, str] = {}
    for option in options:
        column, sep, name = option.partition("=")
        column, name = column.strip(), name.strip()
        if not sep or not column or not name:
            raise StructureError(f"--map {option!r}: write it as COLUMN=field")
        if name not in FIELDS:
            raise StructureError(
                f"--map {option!r}: {name!r} is not a record field{_did_you_mean(name, FIELDS)}"
            )
        mapping[column] = name
    return mapping


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def read_csv_rows(path: Path, column_map: Mapping[str, str] | None = None) -> list[CsvRow]:
    """Read a curator's CSV (the one CSV reader, `records.tables`); errors name row and column.

    Columns `id` and `title` must be present; a row may leave its title empty (a record
    without a title is a content problem, reported by validation, and must round-trip)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StructureError(f"cannot read file: {exc.strerror}", file=path) from None
    try:
        text = decode_utf8(data)
    except NotUtf8 as bad:
        raise StructureError(
            f"file is not UTF-8 (byte 0x{bad.byte:02x}); save it as UTF-8 CSV",
            file=path,
            line=bad.line,
        ) from None
    return tables.read_csv_rows(path, text, column_map, required=REQUIRED_COLUMNS, map_hint=True)
