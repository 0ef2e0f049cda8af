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
from dataclasses import dataclass
from pathlib import Path

import yaml

from resource_kg.errors import StructureError
from resource_kg.files import NotUtf8, decode_utf8, write_atomic
from resource_kg.records import FIELDS, ID_PATTERN, LIST_FIELDS, Record, Value

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
    """All records as CSV: one column per record field, list cells joined with '; '."""
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
        writer.writerow(row)
    return buffer.getvalue()


# ---------------------------------------------------------------- CSV import


@dataclass
class CsvRow:
    """One record read from a CSV row: the fields its columns give, and where it was."""

    row: int
    line: int
    values: dict[str, Value]
    columns: dict[str, str]


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


def _cell(name: str, cell: str) -> Value | None:
    cell = cell.strip()
    if name in LIST_FIELDS:
        return [part.strip() for part in cell.split(";") if part.strip()]
    if not cell:
        return None
    return int(cell) if name == "year" and _DECIMAL.fullmatch(cell) else cell


def read_csv_rows(path: Path, column_map: Mapping[str, str] | None = None) -> list[CsvRow]:
    """Read a curator's CSV; every error names the row (header = row 1) and the column."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StructureError(f"cannot read file: {exc.strerror}", file=path) from exc
    try:
        text = decode_utf8(data)
    except NotUtf8 as bad:
        raise StructureError(
            f"file is not UTF-8 (byte 0x{bad.byte:02x}); save it as UTF-8 CSV",
            file=path,
            line=bad.line,
        ) from bad
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [col.strip() for col in next(reader)]
    except StopIteration:
        raise StructureError("row 1: the file is empty, no header row", file=path, line=1) from None
    except csv.Error as exc:
        raise StructureError(f"row 1: malformed CSV: {exc}", file=path, line=1) from exc
    mapping = dict(column_map or {})
    names = [mapping.get(col, col) for col in header]
    for col, name in zip(header, names, strict=True):
        if name not in FIELDS:
            raise StructureError(
                f"row 1, column {col!r}: not a record field{_did_you_mean(name, FIELDS)}; "
                f"rename it or map it with --map '{col}=<field>'",
                file=path,
                line=1,
                field=col,
            )
    seen: dict[str, str] = {}
    for col, name in zip(header, names, strict=True):
        if name in seen:
            raise StructureError(
                f"row 1, column {col!r}: gives field {name!r} again (also column {seen[name]!r})",
                file=path,
                line=1,
                field=col,
            )
        seen[name] = col
    for required in REQUIRED_COLUMNS:
        if required not in names:
            raise StructureError(
                f"row 1: required column {required!r} is missing (columns: {', '.join(header)})",
                file=path,
                line=1,
                field=required,
            )
    rows: list[CsvRow] = []
    number = 1
    end = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise StructureError(
                f"row {number + 1}: malformed CSV: {exc}", file=path, line=end + 1
            ) from exc
        number += 1
        line, end = end + 1, reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) < len(names):
            missing = header[len(cells)]
            raise StructureError(
                f"row {number}, column {missing!r}: missing cell (the row has {len(cells)} "
                f"cells, the header has {len(names)} columns)",
                file=path,
                line=line,
                field=missing,
            )
        if len(cells) > len(names):
            raise StructureError(
                f"row {number}: {len(cells)} cells, but the header has {len(names)} columns "
                f"(extra cells after column {header[-1]!r})",
                file=path,
                line=line,
            )
        values: dict[str, Value] = {}
        for col, name, cell in zip(header, names, cells, strict=True):
            value = _cell(name, cell)
            if name in REQUIRED_COLUMNS and not value:
                raise StructureError(
                    f"row {number}, column {col!r}: required, but the cell is empty",
                    file=path,
                    line=line,
                    field=col,
                )
            if name == "id" and not ID_PATTERN.match(str(value)):
                raise StructureError(
                    f"row {number}, column {col!r}: id {value!r} may hold only letters, "
                    "digits, '.', '_' and '-' (it becomes part of an IRI)",
                    file=path,
                    line=line,
                    field=col,
                )
            if value is not None:
                values[name] = value
        rows.append(CsvRow(number, line, values, dict(zip(names, header, strict=True))))
    if not rows:
        raise StructureError("row 2: the file has a header but no record", file=path, line=2)
    return rows
