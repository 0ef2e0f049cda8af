"""Reading records from a CSV export or a JSON Lines file, with the row or line of each record."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from resource_kg.errors import StructureError
from resource_kg.records.model import (
    FIELDS,
    LIST_FIELDS,
    LIST_SEPARATOR,
    MAX_TEXT,
    Record,
    Value,
    check_field_name,
    check_id,
    check_record,
    suggest,
    text_problem,
)
from resource_kg.spreadsheet import restore

# ---------------------------------------------------------------- CSV

#: The one reader of CSV records, for record files in data/resources and `rkg import csv`
#: alike; messages name the row (the header is row 1) and the column.

_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)")

# Cells up to MAX_TEXT are read and checked with a clear message (the csv module stops at
# 128 KB by default); a cell past this bound is reported as malformed CSV.
csv.field_size_limit(max(csv.field_size_limit(), 64 * MAX_TEXT))


@dataclass
class CsvRow:
    """One record read from a CSV row: the fields its columns give, and where it was."""

    row: int
    line: int
    values: dict[str, Value]
    columns: dict[str, str]  # field name → the column header that gave it


def _cell(name: str, cell: str) -> Value | None:
    """A cell's value: spreadsheet quoting undone (see `spreadsheet`), lists split on ';'."""
    cell = restore(cell).strip()
    if name in LIST_FIELDS:
        return [part.strip() for part in cell.split(LIST_SEPARATOR) if part.strip()]
    if not cell:
        return None
    return int(cell) if name == "year" and _DECIMAL.fullmatch(cell) else cell


def read_csv_rows(
    path: Path | str,
    text: str,
    column_map: Mapping[str, str] | None = None,
    *,
    required: tuple[str, ...] = ("id",),
    map_hint: bool = False,
) -> list[CsvRow]:
    """Rows of a CSV of records: a header row of field names (or columns mapped to them by
    `column_map`), then one record per row; `required` columns must be present."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [col.strip() for col in next(reader)]
    except StopIteration:
        raise StructureError("row 1: the file is empty, no header row", file=path, line=1) from None
    except csv.Error as exc:
        raise StructureError(f"row 1: malformed CSV: {exc}", file=path, line=1) from None
    mapping = dict(column_map or {})
    names = [mapping.get(col, col) for col in header]
    hint = (
        "rename it or map it with --map '{col}=<field>'"
        if map_hint
        else "rename the column to a record field (data/README.md lists them), or import the "
        "sheet with `rkg import csv FILE --map '{col}=<field>'`"
    )
    seen: dict[str, str] = {}
    for col, name in zip(header, names, strict=True):
        if name not in FIELDS:
            raise StructureError(
                f"row 1, column {_short(col)!r}: not a record field{suggest(name, FIELDS)}; "
                + hint.format(col=_short(col)),
                file=path,
                line=1,
                field=_short(col),
            )
        if name in seen:
            raise StructureError(
                f"row 1, column {col!r}: gives field {name!r} again (also column {seen[name]!r})",
                file=path,
                line=1,
                field=col,
            )
        seen[name] = col
    for want in required:
        if want not in names:
            raise StructureError(
                f"row 1: required column {want!r} is missing (columns: {', '.join(header)})",
                file=path,
                line=1,
                field=want,
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
            ) from None
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
            if name == "id" and not value:
                raise StructureError(
                    f"row {number}, column {col!r}: required, but the cell is empty",
                    file=path,
                    line=line,
                    field=col,
                )
            where = f"row {number}, column {col!r}: "
            try:
                if name == "id":
                    value = check_id(value, Path(path), line)
                for item in value if isinstance(value, list) else [value]:
                    problem = text_problem(item) if isinstance(item, str) else None
                    if problem is not None:
                        raise StructureError(problem, file=path, line=line, field=col)
            except StructureError as exc:
                raise StructureError(where + exc.message, file=path, line=line, field=col) from None
            if value is not None and value != []:
                values[name] = value
        rows.append(CsvRow(number, line, values, dict(zip(names, header, strict=True))))
    if not rows:
        raise StructureError("row 2: the file has a header but no record", file=path, line=2)
    return rows


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def read_csv(path: Path, text: str, column_map: dict[str, str] | None = None) -> list[Record]:
    """Records of a CSV file in data/resources (see `read_csv_rows`)."""
    return [
        Record(
            str(row.values["id"]),
            row.values,
            str(path),
            row.line,
            {name: row.line for name in row.columns},
        )
        for row in read_csv_rows(path, text, column_map)
    ]


# ---------------------------------------------------------------- JSON Lines


def read_jsonl(path: Path, text: str) -> list[Record]:
    """One JSON object per line, with the record's field names."""
    records: list[Record] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise StructureError(
                f"malformed JSON at column {exc.colno}: {exc.msg}", file=path, line=number
            ) from None
        except RecursionError:
            raise StructureError(
                "malformed JSON: lists or objects nested too deeply", file=path, line=number
            ) from None
        if not isinstance(obj, dict):
            raise StructureError("each line must hold one JSON object", file=path, line=number)
        raw_id = obj.get("id")
        if isinstance(raw_id, bool | float):
            raise StructureError(
                f"id {raw_id!r} must be a string (or a whole number)",
                file=path,
                line=number,
                field="id",
            )
        rid = check_id(raw_id, path, number)
        values: dict[str, Value] = {}
        for name, value in obj.items():
            check_field_name(name, path, number, rid)
            if value is None:
                continue
            if name in LIST_FIELDS:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise StructureError(
                        "must be a list of labels",
                        file=path,
                        line=number,
                        field=name,
                        record_id=rid,
                    )
                items = [v.strip() for v in value if v.strip()]
                if items:
                    values[name] = items
            elif isinstance(value, list | dict):
                raise StructureError(
                    "must be a single value", file=path, line=number, field=name, record_id=rid
                )
            elif isinstance(value, bool):
                values[name] = str(value).lower()
            elif isinstance(value, int):
                values[name] = value
            elif str(value).strip():
                values[name] = str(value).strip()
        values["id"] = rid
        record = Record(rid, values, str(path), number, {n: number for n in obj})
        check_record(record, path)
        records.append(record)
    if not records:
        raise StructureError("file is empty: it holds no record", file=path, line=1)
    return records
