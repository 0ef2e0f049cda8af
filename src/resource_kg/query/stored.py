"""Stored questions: queries/*.rq with their `#+` metadata (title, description, typed parameters), loaded and looked up by name."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import yaml

from resource_kg.errors import QueryError

XSD = "http://www.w3.org/2001/XMLSchema#"


RKG_RESOURCE = "https://w3id.org/resource-kg/ontology#Resource"


#: Concept schemes a parameter kind may name directly.
CONCEPT_KINDS = (
    "audience",
    "population",
    "topic",
    "subtopic",
    "type",
    "keyword",
    "language",
    "status",
    "organization",
)


OTHER_KINDS = ("topic-or-subtopic", "scheme", "resource", "text", "integer", "date", "limit")


KINDS = CONCEPT_KINDS + OTHER_KINDS


#: GROUP_CONCAT separator of list columns (named `...Labels`).
LIST_SEPARATOR = " | "


INTEGER_TYPES = frozenset(
    XSD + t
    for t in (
        "integer",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "unsignedInt",
        "unsignedLong",
    )
)


Term = ox.NamedNode | ox.Literal | ox.BlankNode


Cell = Term | None


Value = str | int | list[str] | None


# ---------------------------------------------------------------- metadata


@dataclass(frozen=True)
class Parameter:
    """One named parameter of a stored query."""

    name: str
    kind: str
    description: str
    example: str | None = None
    optional: bool = False
    default: str | None = None


@dataclass(frozen=True)
class StoredQuery:
    """A `.rq` file: its SPARQL text and the metadata of its `#+` header."""

    name: str
    path: Path
    title: str
    description: str
    tags: tuple[str, ...]
    params: tuple[Parameter, ...]
    example: dict[str, str]
    text: str

    def param(self, name: str) -> Parameter | None:
        return next((p for p in self.params if p.name == name), None)

    def example_command(self) -> str:
        args = "".join(f" --param {k}={_shell_quote(v)}" for k, v in self.example.items())
        return f"rkg query {self.name}{args}"


def _shell_quote(value: str) -> str:
    return (
        value if re.fullmatch(r"[\w.,:/@+-]+", value) else "'" + value.replace("'", "'\\''") + "'"
    )


def values_block(name: str) -> re.Pattern[str]:
    return re.compile(r"VALUES\s+\?_" + re.escape(name) + r"\s*\{[^{}]*\}")


#: The one `LIMIT n` clause a `limit` parameter sets.
LIMIT_CLAUSE = re.compile(r"\bLIMIT\s+\d+\b")


#: Largest page a `limit` parameter accepts (`all` lifts the limit).
MAX_LIMIT = 1_000_000


def parse_stored_query(path: Path, text: str | None = None) -> StoredQuery:
    """Read one `.rq` file; a bad header names the file and line."""
    if text is None:
        text = path.read_text(encoding="utf-8")
    header: list[str] = []
    for line in text.splitlines():
        if line.startswith("#+"):
            header.append(line[3:] if line.startswith("#+ ") else line[2:])
        elif header or line.strip():
            break
    try:
        meta = yaml.safe_load("\n".join(header)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise QueryError(
            f"bad metadata header: {exc}", file=path, line=mark.line + 1 if mark else None
        ) from exc
    if not isinstance(meta, dict):
        raise QueryError("metadata header must be `#+ key: value` lines", file=path, line=1)
    for key in ("title", "description"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            raise QueryError(f"metadata lacks '{key}'", file=path, line=1, field=key)
    raw_params = meta.get("params") or {}
    if not isinstance(raw_params, dict):
        raise QueryError("'params' must map names to kinds", file=path, line=1, field="params")
    params = []
    for name, spec in raw_params.items():
        if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
            raise QueryError(
                f"parameter {name!r} needs a kind, one of: {', '.join(KINDS)}",
                file=path,
                line=1,
                field="params",
            )
        if spec["kind"] == "limit":
            if len(LIMIT_CLAUSE.findall(text)) != 1:
                raise QueryError(
                    f"parameter {name!r} (a limit) needs exactly one `LIMIT n` clause",
                    file=path,
                    field="params",
                )
        elif not values_block(str(name)).findall(text):
            raise QueryError(
                f"parameter {name!r} must appear as `VALUES ?_{name} {{ UNDEF }}`",
                file=path,
                field="params",
            )
        params.append(
            Parameter(
                name=str(name),
                kind=str(spec["kind"]),
                description=str(spec.get("description", "")).strip(),
                example=None if spec.get("example") is None else str(spec["example"]),
                optional=bool(spec.get("optional", False)),
                default=None if spec.get("default") is None else str(spec["default"]),
            )
        )
    example = meta.get("example") or {}
    tags = meta.get("tags") or []
    return StoredQuery(
        name=path.stem,
        path=path,
        title=meta["title"].strip(),
        description=" ".join(meta["description"].split()),
        tags=tuple(str(t) for t in tags),
        params=tuple(params),
        example={str(k): str(v) for k, v in dict(example).items()},
        text=text,
    )


def load_queries(folder: Path) -> dict[str, StoredQuery]:
    """Every stored query of a folder, by name (the file name without `.rq`)."""
    return {p.stem: parse_stored_query(p) for p in sorted(Path(folder).glob("*.rq"))}


def find_query(queries: Mapping[str, StoredQuery], name: str) -> StoredQuery:
    """A stored query by name; an unknown name lists the closest ones."""
    if name in queries:
        return queries[name]
    close = difflib.get_close_matches(name, list(queries), n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise QueryError(
        f"no stored query named {name!r}{hint} (rkg queries lists them: {', '.join(queries)})"
    )
