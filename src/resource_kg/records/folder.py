"""Finding and reading the record files of a catalog folder, whatever their format."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from resource_kg.errors import StructureError
from resource_kg.records.model import RECORD_SUFFIXES, Record, decode_text
from resource_kg.records.tables import read_csv, read_jsonl
from resource_kg.records.yamlfile import read_yaml

# ---------------------------------------------------------------- folders


def read_file(
    path: Path, column_map: dict[str, str] | None = None, data: bytes | None = None
) -> list[Record]:
    """Read one record file by its extension (`data`: its bytes, when already read)."""
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StructureError(f"cannot read file: {exc.strerror}", file=path) from exc
    if not data.strip():
        raise StructureError("file is empty: it holds no record", file=path, line=1)
    text = decode_text(path, data)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path, text, column_map)
    if suffix == ".jsonl":
        return read_jsonl(path, text)
    return read_yaml(path, text)


def is_record_file(path: Path, shown: Path | str | None = None) -> bool:
    """Whether a path with a record suffix is a file to read; a symbolic link that loops is
    an error naming it (pathlib would skip it silently), a dangling one is skipped."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return False
    except OSError as exc:
        what = "a symbolic link that loops" if exc.errno == errno.ELOOP else exc.strerror
        raise StructureError(
            f"cannot read file: {what}; remove it or point it at a record file",
            file=shown if shown is not None else path,
        ) from None


def record_files(folder: Path) -> list[Path]:
    """Record files of a folder, sorted so that every run reads them in the same order."""
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in RECORD_SUFFIXES and is_record_file(p)
    )


def read_records(folder: Path, display_root: Path | None = None) -> list[Record]:
    """Every record of a folder; the same id twice is a structural error naming both places."""
    seen: dict[str, Record] = {}
    records: list[Record] = []
    for path in record_files(folder):
        shown = path.relative_to(display_root) if display_root else path
        try:
            file_records = read_file(path)
        except StructureError as exc:
            exc.file = str(shown)  # report paths as the curator sees them in the catalog
            raise
        for record in file_records:
            record.file = str(shown)
            claim_id(record, seen)
            records.append(record)
    return records


def claim_id(record: Record, seen: dict[str, Record]) -> None:
    """Register a record's id; the same id twice is a structural error naming both places."""
    first = seen.get(record.id)
    if first is not None:
        raise StructureError(
            f"id {record.id} is used twice: here and in {first.file}:{first.line}",
            file=record.file,
            line=record.line_of("id"),
            field="id",
            record_id=record.id,
        )
    seen[record.id] = record
