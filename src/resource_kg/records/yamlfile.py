"""Reading one record file (YAML) with the line of each field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from resource_kg.errors import StructureError
from resource_kg.records.model import (
    FIELDS,
    ID_PATTERN,
    LIST_FIELDS,
    MAX_ID,
    MAX_TEXT,
    Record,
    Value,
    check_field_name,
    check_id,
    check_record,
)
from resource_kg.records.safeyaml import compose


def _scalar(node: yaml.ScalarNode, name: str = "") -> str | int | None:
    """A value as written: text, except a year YAML reads as a whole number (`0042` stays
    "0042" in every other field, so an id or a title never turns into another one)."""
    if node.tag == "tag:yaml.org,2002:null":
        return None
    if node.tag == "tag:yaml.org,2002:int" and name == "year":
        try:
            return int(node.value)
        except ValueError:
            return str(node.value)
    return str(node.value)


def _yaml_record(node: yaml.Node, path: Path) -> Record:
    line0 = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        raise StructureError(
            "a record file must hold one mapping of field: value", file=path, line=line0
        )
    values: dict[str, Value] = {}
    lines: dict[str, int] = {}
    id_line = line0
    raw_id: object = None
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if key_node.value == "id" and isinstance(value_node, yaml.ScalarNode):
            raw_id, id_line = _scalar(value_node, "id"), line
    rid = check_id(raw_id, path, id_line)
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        name = str(key_node.value)
        check_field_name(name, path, line, rid)
        if name in lines:
            raise StructureError(
                f"field {name!r} appears twice (also on line {lines[name]})",
                file=path,
                line=line,
                field=name,
                record_id=rid,
            )
        lines[name] = line
        if name in LIST_FIELDS:
            if isinstance(value_node, yaml.ScalarNode) and _scalar(value_node) is None:
                continue
            if not isinstance(value_node, yaml.SequenceNode):
                kind = "a mapping" if isinstance(value_node, yaml.MappingNode) else "a single value"
                raise StructureError(
                    f"must be a list (one '- label' per line), found {kind}",
                    file=path,
                    line=line,
                    field=name,
                    record_id=rid,
                )
            items: list[str] = []
            for item in value_node.value:
                if not isinstance(item, yaml.ScalarNode):
                    raise StructureError(
                        "list items must be plain labels, found a nested list or mapping",
                        file=path,
                        line=item.start_mark.line + 1,
                        field=name,
                        record_id=rid,
                    )
                value = _scalar(item)
                if value is not None and str(value).strip():
                    items.append(str(value).strip())
            values[name] = items
        else:
            if not isinstance(value_node, yaml.ScalarNode):
                kind = "a list" if isinstance(value_node, yaml.SequenceNode) else "a mapping"
                raise StructureError(
                    f"must be a single value, found {kind}",
                    file=path,
                    line=line,
                    field=name,
                    record_id=rid,
                )
            scalar = _scalar(value_node, name)
            if scalar is None or (isinstance(scalar, str) and not scalar.strip()):
                continue
            values[name] = scalar.strip() if isinstance(scalar, str) else scalar
    values["id"] = rid
    record = Record(rid, values, str(path), line0, lines)
    check_record(record, path)  # escapes ("\0", "\ud800") can write what YAML refuses raw
    return record


# A fast reader for the plain layout record files use: `field: value` lines at the left margin,
# lists as `- item` lines, values plain, quoted on one line, or `>-`/`|` blocks without blank
# lines. It builds exactly the Record the YAML parser would; on anything else (flow lists,
# anchors, tabs, escapes, several records in one file, errors of any kind) it returns None and
# the full parser reads the file, so results and error messages never depend on which one ran.

_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?: +(.*))?")


_ITEM_LINE = re.compile(r"( *)-(?: +(.*))?")


_BLOCK_HEADER = re.compile(r"([>|])[-+]?(?: +#.*)?")


# Tabs, CR, NEL, LS, PS, BOM and non-printable characters: left to the full parser.
_UNSAFE = re.compile(
    "[^\x0a\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)


_PLAIN_FIRST_BAD = frozenset("-?:,[]{}#&*!|>'\"%@`")


_RESOLVER: Any = yaml.resolver.Resolver()


_PLAIN_CACHE: dict[str, str | None] = {}


_SHARED: dict[str, str] = {}  # one string object per distinct short value (labels recur)


_FIELD_NAMES = {name: name for name in FIELDS}


_NULL_TAG = "tag:yaml.org,2002:null"


_INT_TAG = "tag:yaml.org,2002:int"


class _Fallback(Exception):
    """The fast reader met something it does not handle: use the YAML parser."""


class _YamlInt(str):
    """A plain scalar YAML reads as a whole number: text as written, a number only in `year`."""


def _year_or_text(name: str, value: str) -> str | int:
    """What `_scalar` makes of a plain scalar in field `name` (see `_YamlInt`)."""
    if isinstance(value, _YamlInt):
        if name == "year":
            try:
                return int(value)
            except ValueError:
                pass
        return str(value)
    return value


def _plain_value(value: str) -> str | None:
    """What `_scalar` makes of a plain scalar: the YAML 1.1 resolver decides null and int."""
    hit = _PLAIN_CACHE.get(value, _PLAIN_CACHE)
    if hit is not _PLAIN_CACHE:
        return hit  # type: ignore[return-value]
    tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
    result: str | None = value
    if tag == _NULL_TAG:
        result = None
    elif tag == _INT_TAG:
        result = _YamlInt(value)
    if len(_PLAIN_CACHE) < 50_000 and len(value) < 40:
        _PLAIN_CACHE[value] = result
    return result


def _inline_value(rest: str) -> str | None:
    """A one-line scalar after `key: ` or `- `: plain, "double" or 'single' quoted."""
    first = rest[0]
    if first == '"' or first == "'":
        end = rest.find(first, 1)
        if end < 0 or "\\" in rest[:end] or rest[end + 1 : end + 2] == first:
            raise _Fallback
        after = rest[end + 1 :]
        if after and not (after[0] == " " and after.lstrip().startswith("#")) and after.strip():
            raise _Fallback
        text = rest[1:end]
        if len(text) <= 80 and len(_SHARED) < 200_000:
            text = _SHARED.setdefault(text, text)
        return text
    if first in _PLAIN_FIRST_BAD:
        raise _Fallback
    cut = rest.find(" #")
    value = (rest if cut < 0 else rest[:cut]).rstrip()
    if ": " in value or value.endswith(":"):
        raise _Fallback
    return _plain_value(value)


def _fast_entries(text: str) -> tuple[int, list[tuple[str, int, Any]]]:
    """(first key line, [(key, line, value or list of values)]) of a simple record file."""
    if _UNSAFE.search(text):
        raise _Fallback
    lines = text.split("\n")
    n = len(lines)
    entries: list[tuple[str, int, Any]] = []
    i = 0
    while i < n:
        line = lines[i]
        i += 1
        if not line or line[0] == "#" or not line.strip():
            continue
        if line[0] == " " and line.lstrip()[0] == "#":
            continue
        m = _KEY_LINE.fullmatch(line)
        if m is None:
            raise _Fallback
        key, rest = m.group(1), (m.group(2) or "").rstrip()
        key = _FIELD_NAMES.get(key, key)
        number = i
        if rest and rest[0] != "#":
            if rest[0] in ">|":
                if _BLOCK_HEADER.fullmatch(rest) is None:
                    raise _Fallback
                block: list[str] = []
                indent = 0
                while i < n:
                    nxt = lines[i]
                    if not nxt.strip():
                        # A blank line ends the block only if nothing of the block follows.
                        j = i
                        while j < n and not lines[j].strip():
                            j += 1
                        if j < n and indent and lines[j].startswith(" "):
                            raise _Fallback
                        break
                    width = len(nxt) - len(nxt.lstrip(" "))
                    if not block:
                        if width == 0:
                            break
                        indent = width
                    elif width < indent:
                        if width:
                            raise _Fallback
                        break
                    elif width > indent:
                        raise _Fallback
                    block.append(nxt[indent:])
                    i += 1
                if not block:
                    raise _Fallback
                entries.append((key, number, (" " if rest[0] == ">" else "\n").join(block)))
            else:
                entries.append((key, number, _inline_value(rest)))
            continue
        # `key:` alone: a list of `- item` lines follows, or the value is null.
        items: list[str | None] | None = None
        item_indent = -1
        while i < n:
            nxt = lines[i]
            stripped = nxt.lstrip(" ")
            if not stripped or stripped[0] == "#":
                i += 1
                continue
            im = _ITEM_LINE.fullmatch(nxt)
            if im is None:
                if nxt[0] == " ":
                    raise _Fallback
                break
            width = len(im.group(1))
            if item_indent < 0:
                item_indent = width
                items = []
            elif width != item_indent:
                raise _Fallback
            assert items is not None
            item = (im.group(2) or "").rstrip()
            items.append(None if not item or item[0] == "#" else _inline_value(item))
            i += 1
        entries.append((key, number, items))
    if not entries:
        raise _Fallback
    return entries[0][1], entries


def _fast_yaml_record(path: Path, text: str) -> Record | None:
    """The record `_yaml_record` would build, or None when the full parser must read the file."""
    try:
        line0, entries = _fast_entries(text)
    except _Fallback:
        return None
    raw_id: object = None
    for name, _line, value in entries:
        if name == "id" and not isinstance(value, list):
            raw_id = value
    if raw_id is None or not ID_PATTERN.match(str(raw_id).strip()):
        return None
    if len(str(raw_id).strip()) > MAX_ID:
        return None  # the full reader reports it
    rid = str(raw_id).strip()
    values: dict[str, Value] = {}
    lines: dict[str, int] = {}
    for name, line, value in entries:
        if name not in FIELDS or name in lines:
            return None
        lines[name] = line
        if name in LIST_FIELDS:
            if value is None:
                continue
            if not isinstance(value, list):
                return None
            values[name] = [str(v).strip() for v in value if v is not None and str(v).strip()]
        else:
            if isinstance(value, list):
                return None
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            scalar = _year_or_text(name, value)
            values[name] = scalar.strip() if isinstance(scalar, str) else scalar
    values["id"] = rid
    return Record(rid, values, str(path), line0, lines)


def read_yaml(path: Path, text: str) -> list[Record]:
    """One record per YAML file (a file may also hold a list of records)."""
    fast = _fast_yaml_record(path, text)
    if fast is not None:
        if len(text) > MAX_TEXT:  # no control characters reach the fast reader, only size
            check_record(fast, path)
        return [fast]
    node = compose(text, path)
    if node is None:
        raise StructureError("file is empty: it holds no record", file=path, line=1)
    if isinstance(node, yaml.SequenceNode):
        return [_yaml_record(item, path) for item in node.value]
    return [_yaml_record(node, path)]
