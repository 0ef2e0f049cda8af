"""Reading records from a CSV export or a JSON Lines file, with the row or line of each record."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from resource_kg.errors import StructureError
from resource_kg.records.model import (
    FIELDS,
    LIST_FIELDS,
    LIST_SEPARATOR,
    Record,
    Value,
    check_field_name,
    check_id,
    suggest,
)

# ---------------------------------------------------------------- CSV


def _cell_values(name: str, cell: str) -> Value | None:
    cell = cell.strip()
    if name in LIST_FIELDS:
        return [part.strip() for part in cell.split(LIST_SEPARATOR) if part.strip()]
    if cell == "":
        return None
    if name == "year" and re.fullmatch(r"-?\d+", cell):
        return int(cell)
    return cell


def read_csv(path: Path, text: str, column_map: dict[str, str] | None = None) -> list[Record]:
    """A header row of field names (or columns mapped to them); list cells separated by ';'."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise StructureError("file is empty: no header row", file=path, line=1) from None
    except csv.Error as exc:
        raise StructureError(f"malformed CSV: {exc}", file=path, line=1) from exc
    mapping = column_map or {}
    names = [mapping.get(col.strip(), col.strip()) for col in header]
    for col, name in zip(header, names, strict=True):
        if name not in FIELDS:
            raise StructureError(
                f"unknown column {col!r}{suggest(name, FIELDS)}; rename the column to a record "
                f"field (data/README.md lists them), or import the sheet with "
                f"`rkg import csv FILE --map '{col}=<field>'`",
                file=path,
                line=1,
                field=col,
            )
    if "id" not in names:
        raise StructureError("the header has no 'id' column", file=path, line=1, field="id")
    records: list[Record] = []
    previous_end = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise StructureError(f"malformed CSV: {exc}", file=path, line=previous_end + 1) from exc
        line = previous_end + 1
        previous_end = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            raise StructureError(
                f"row has {len(row)} cells, the header has {len(names)} columns",
                file=path,
                line=line,
            )
        rid = check_id(row[names.index("id")], path, line)
        values: dict[str, Value] = {}
        for name, cell in zip(names, row, strict=True):
            value = _cell_values(name, cell)
            if value is not None and value != []:
                values[name] = value
        values["id"] = rid
        records.append(Record(rid, values, str(path), line, {n: line for n in names}))
    if not records:
        raise StructureError("file holds a header but no record", file=path, line=1)
    return records


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
            ) from exc
        if not isinstance(obj, dict):
            raise StructureError("each line must hold one JSON object", file=path, line=number)
        rid = check_id(obj.get("id"), path, number)
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
        records.append(Record(rid, values, str(path), number, {n: number for n in obj}))
    if not records:
        raise StructureError("file is empty: it holds no record", file=path, line=1)
    return records
