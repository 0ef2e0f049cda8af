"""Read resource records from YAML, CSV and JSON Lines, remembering file and line of each field.

Structural problems (the file cannot be read as records) raise `StructureError` naming file,
line and field. Content problems (a missing title, an unknown label) are not this module's
business: they are reported later, so a curator sees them all in one run.

    model     Record, the field list, the checks every reader applies (ids, text limits)
    safeyaml  the one YAML loader (no complex keys, bounded aliases), also for organizations
    yamlfile  one YAML record file, with the line of each field
    tables    CSV (the package's one CSV reader, also for `rkg import csv`) and JSON Lines
    folder    the record files of a folder, read whatever their format

Writing record files back (canonical YAML) is `resource_kg.recordfile`.
"""

from __future__ import annotations

from resource_kg.records.folder import claim_id, read_file, read_records, record_files
from resource_kg.records.model import (
    FIELDS,
    ID_PATTERN,
    LIST_FIELDS,
    LIST_SEPARATOR,
    MAX_ID,
    MAX_TEXT,
    RECORD_SUFFIXES,
    Record,
    Value,
    check_field_name,
    check_id,
    check_record,
    decode_text,
    suggest,
    text_problem,
)
from resource_kg.records.tables import read_csv, read_jsonl
from resource_kg.records.yamlfile import read_yaml

__all__ = [
    "FIELDS",
    "ID_PATTERN",
    "LIST_FIELDS",
    "LIST_SEPARATOR",
    "MAX_ID",
    "MAX_TEXT",
    "RECORD_SUFFIXES",
    "Record",
    "Value",
    "check_field_name",
    "check_id",
    "check_record",
    "claim_id",
    "decode_text",
    "read_csv",
    "read_file",
    "read_jsonl",
    "read_records",
    "read_yaml",
    "record_files",
    "suggest",
    "text_problem",
]
