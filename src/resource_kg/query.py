"""Stored SPARQL queries: their metadata, safe parameters, and the engines that run them.

A stored query is a `.rq` file whose `#+` header lines hold YAML metadata (grlc style), so the
file stays valid SPARQL. Each parameter NAME appears in the query as `VALUES ?_NAME { UNDEF }`
(once, or once in each subquery that needs it); running the query replaces those blocks'
content with RDF terms serialized by pyoxigraph. User text is never pasted into a query: a
label becomes the IRI it resolves to through the vocabularies, a number or date becomes a
typed literal. The one exception is a `limit` parameter: the query's single `LIMIT n` clause
gets the canonical digits of a validated whole number (or disappears for `all`).

Every engine sees the same RDF dataset: the default graph is the union of the four named
graphs (ontology, vocabularies, catalog, derived), and `GRAPH ?g` ranges over those four: the
graphs a release carries, so a stored query gives the same rows on any store loaded from the
release files. The embedded store holds exactly those graphs and is queried with pyoxigraph's union default graph
(2-3x faster than listing the graphs); a remote endpoint, which may hold other graphs, gets
them as the SPARQL 1.1 Protocol's `default-graph-uri`/`named-graph-uri` parameters (portable
to any SPARQL 1.1 server, no server option needed); rdflib uses its union default graph.
Oxigraph keeps a triple that sits in two graphs twice in that union where rdflib keeps it
once, so stored queries use DISTINCT where that could matter.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pyoxigraph as ox
import yaml

from resource_kg.config import CONCEPT_BASE, Paths, load_settings, resolve_paths
from resource_kg.errors import QueryError
from resource_kg.graph import DCT, Graphs
from resource_kg.records import ID_PATTERN
from resource_kg.vocab import Lexicon, load_organizations, load_vocabularies, normalize

if TYPE_CHECKING:
    import rdflib

    from resource_kg.catalog import Catalog

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


def _values_block(name: str) -> re.Pattern[str]:
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
        elif not _values_block(str(name)).findall(text):
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


# ---------------------------------------------------------------- parameters


def _no_match(kind: str, value: str, suggestions: Sequence[str]) -> QueryError:
    hint = (
        "closest: " + ", ".join(repr(s) for s in suggestions) if suggestions else "no similar label"
    )
    return QueryError(f"no {kind} matches {value!r}; {hint}")


def _concepts(lexicon: Lexicon, kind: str, value: str) -> list[Term]:
    res = lexicon.resolve(kind, value)
    if res.iri is not None:
        return [ox.NamedNode(res.iri)]
    if res.candidates:
        labels = [f"{lexicon.terms[c].label} <{c}>" for c in res.candidates]
        raise QueryError(
            f"{value!r} matches several {kind} entries; give one of: {'; '.join(labels)}"
        )
    raise _no_match(kind, value, res.suggestions)


def _topic_or_subtopic(lexicon: Lexicon, value: str) -> list[Term]:
    """Exact matches first; otherwise every topic or subtopic whose label contains the words."""
    exact = [
        r.iri
        for r in (lexicon.resolve(s, value) for s in ("topic", "subtopic"))
        if r.iri is not None
    ]
    if not exact:
        wanted = normalize(value)
        if wanted:
            pattern = re.compile(r"(?<!\w)" + re.escape(wanted) + r"(?!\w)")
            exact = [
                t.iri
                for s in ("topic", "subtopic")
                for t in lexicon.in_scheme(s)
                if any(pattern.search(normalize(label)) for label in t.labels)
            ]
    if not exact:
        suggestions = lexicon.suggest("topic", value) + lexicon.suggest("subtopic", value)
        raise _no_match("topic or subtopic", value, suggestions[:4])
    return [ox.NamedNode(i) for i in sorted(set(exact))]


def _scheme(lexicon: Lexicon, value: str) -> list[Term]:
    known = [s for s in lexicon.schemes() if s and s != "organization"]
    key = value.strip()
    key = key.removeprefix(CONCEPT_BASE).strip("/") if key.startswith(CONCEPT_BASE) else key
    key = normalize(key).replace(" ", "-")
    for candidate in (key, key.removesuffix("s"), key.removeprefix("resource-")):
        if candidate in known:
            return [ox.NamedNode(CONCEPT_BASE + candidate)]
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
    raise _no_match("concept scheme", value, close or known)


def _literal(kind: str, value: str, today: dt.date) -> list[Term]:
    text = value.strip()
    if kind == "text":
        return [ox.Literal(value)]
    if kind == "integer":
        if not re.fullmatch(r"[+-]?\d{1,9}", text):
            raise QueryError(f"{value!r} is not a whole number")
        return [ox.Literal(str(int(text)), datatype=ox.NamedNode(XSD + "integer"))]
    relative = re.fullmatch(r"today(?:-(\d{1,5})d)?", text)
    day: dt.date | None = None
    if relative:
        day = today - dt.timedelta(days=int(relative.group(1) or 0))
    elif re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            day = None
    if day is None:
        raise QueryError(f"{value!r} is not a date (write YYYY-MM-DD)")
    return [ox.Literal(day.isoformat(), datatype=ox.NamedNode(XSD + "date"))]


def _limit(value: str) -> ox.Literal:
    """A page size: a whole number from 1 to MAX_LIMIT, or `all` (bound as 0)."""
    text = value.strip().lower()
    if text == "all":
        return ox.Literal("0", datatype=ox.NamedNode(XSD + "integer"))
    if not re.fullmatch(r"\d{1,7}", text) or not 1 <= int(text) <= MAX_LIMIT:
        raise QueryError(f"{value!r} is not a row limit (a whole number 1–{MAX_LIMIT}, or all)")
    return ox.Literal(str(int(text)), datatype=ox.NamedNode(XSD + "integer"))


ResourceFinder = Callable[[Term], list[Term]]


def _resource(value: str, find: ResourceFinder) -> list[Term]:
    text = value.strip()
    key: Term
    if "://" in text:
        try:
            key = ox.NamedNode(text)
        except ValueError as exc:
            raise QueryError(f"{value!r} is not a valid IRI: {exc}") from exc
    elif ID_PATTERN.match(text):
        key = ox.Literal(text)
    else:
        raise QueryError(f"{value!r} is neither a resource id nor a resource IRI")
    found = find(key)
    if not found:
        raise QueryError(f"no resource has the id or IRI {value!r}")
    return found[:1]


def resolve_params(
    query: StoredQuery,
    given: Mapping[str, str],
    lexicon: Lexicon,
    find_resource: ResourceFinder,
    today: dt.date | None = None,
) -> dict[str, list[Term]]:
    """Turn the user's values into RDF terms; empty list = not given (the query's UNDEF)."""
    today = today or dt.date.today()
    names = [p.name for p in query.params]
    for key in given:
        if query.param(key) is None:
            close = difflib.get_close_matches(key, names, n=2, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            known = ", ".join(names) if names else "none"
            raise QueryError(
                f"query {query.name!r} has no parameter {key!r}{hint} (parameters: {known})"
            )
    bound: dict[str, list[Term]] = {}
    for param in query.params:
        value = given.get(param.name, param.default)
        if value is None:
            if not param.optional:
                example = f" (example: {param.example})" if param.example else ""
                raise QueryError(
                    f"query {query.name!r} needs parameter {param.name!r}, "
                    f"a {param.kind}{example}: add --param {param.name}=VALUE"
                )
            bound[param.name] = []
            continue
        try:
            bound[param.name] = resolve_value(param.kind, value, lexicon, find_resource, today)
        except QueryError as exc:
            raise QueryError(f"parameter {param.name!r}: {exc.message}") from exc
    return bound


def resolve_value(
    kind: str, value: str, lexicon: Lexicon, find_resource: ResourceFinder, today: dt.date
) -> list[Term]:
    """One parameter value as the RDF terms it stands for (a clear error when none)."""
    if kind in ("integer", "date", "text"):
        return _literal(kind, value, today)
    if kind == "limit":
        return [_limit(value)]
    if not value.strip():
        raise QueryError("the value is empty")
    if kind in CONCEPT_KINDS:
        return _concepts(lexicon, kind, value)
    if kind == "topic-or-subtopic":
        return _topic_or_subtopic(lexicon, value)
    if kind == "scheme":
        return _scheme(lexicon, value)
    if kind == "resource":
        return _resource(value, find_resource)
    raise QueryError(f"unknown parameter kind {kind!r}")


def bind(text: str, values: Mapping[str, Sequence[Term]], limits: Sequence[str] = ()) -> str:
    """Fill each parameter's `VALUES ?_NAME { ... }` blocks with serialized RDF terms.

    All blocks are replaced in one pass over the original text, so a value (a literal holding
    `VALUES ?_other {}`, say) is never seen again by the next parameter's substitution. A
    parameter named in `limits` sets the `LIMIT n` clause instead: its value was checked to be
    a whole number, and only `int(value)` is written (0 removes the clause)."""
    blocks: dict[str, str] = {}
    clause: str | None = None
    for name, terms in values.items():
        for term in terms:
            if not isinstance(term, ox.NamedNode | ox.Literal):
                raise QueryError(f"parameter {name!r} must be an IRI or a literal")
        if name in limits:
            if terms:
                n = int(terms[0].value)
                clause = f"LIMIT {n}" if n > 0 else ""
            continue
        inside = " ".join(str(t) for t in terms) if terms else "UNDEF"
        blocks[name] = f"VALUES ?_{name} {{ {inside} }}"
    alternatives = [_values_block(name).pattern for name in blocks]
    if clause is not None:
        alternatives.append(LIMIT_CLAUSE.pattern)
    if not alternatives:
        return text
    limit_done = False

    def replace_one(match: re.Match[str]) -> str:
        nonlocal limit_done
        found = match.group(0)
        if found.startswith("VALUES"):
            name = found.split(None, 2)[1][2:].split("{")[0].strip()
            return blocks.get(name, found)
        if limit_done or clause is None:
            return found
        limit_done = True
        return clause

    return re.compile("|".join(f"(?:{a})" for a in alternatives)).sub(replace_one, text)


# ---------------------------------------------------------------- engines


@dataclass
class Result:
    """The columns and rows of a SELECT, as RDF terms (None when unbound)."""

    columns: list[str]
    rows: list[dict[str, Cell]]

    def values(self) -> list[dict[str, Value]]:
        """Plain Python values: IRIs and text as str, integers as int, `...Labels` as lists."""
        return [{c: to_value(c, row.get(c)) for c in self.columns} for row in self.rows]


def to_value(column: str, cell: Cell) -> Value:
    if cell is None:
        return None
    if isinstance(cell, ox.Literal) and cell.datatype.value in INTEGER_TYPES:
        try:
            return int(cell.value)
        except ValueError:
            return cell.value
    text = cell.value
    if column.endswith("Labels"):
        return sorted(set(text.split(LIST_SEPARATOR))) if text else []
    return text


class Engine(Protocol):
    """Something that answers a SPARQL SELECT over the catalog's dataset."""

    def select(self, query: str) -> Result: ...


def _syntax_error(exc: Exception, source: str) -> QueryError:
    return QueryError(f"SPARQL syntax error: {exc}", file=source)


class EmbeddedEngine:
    """pyoxigraph, in memory or on disk, over a store holding only the catalog's graphs.

    The store is only read: running a query never adds to it."""

    def __init__(self, store: ox.Store, graphs: Graphs, source: str = "query") -> None:
        self.store = store
        self.graphs = list(graphs.all())
        self.source = source

    def select(self, query: str) -> Result:
        try:
            solutions = self.store.query(query, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise _syntax_error(exc, self.source) from exc
        except OSError as exc:
            raise QueryError(f"the query failed: {exc}", file=self.source) from exc
        if not isinstance(solutions, ox.QuerySolutions):
            raise QueryError("only SELECT queries can be run here", file=self.source)
        columns = [v.value for v in solutions.variables]
        try:
            rows: list[dict[str, Cell]] = [dict(zip(columns, s, strict=True)) for s in solutions]
        except OSError as exc:
            raise QueryError(f"the query failed: {exc}", file=self.source) from exc
        return Result(columns, rows)


class RdflibEngine:
    """rdflib's own SPARQL engine over the same quads: slow, but an independent check."""

    def __init__(self, dataset: rdflib.Dataset, source: str = "query") -> None:
        self.dataset = dataset
        self.dataset.default_union = True
        self.source = source

    def select(self, query: str) -> Result:
        from pyparsing import ParseException

        try:
            result = self.dataset.query(query)
        except ParseException as exc:
            raise QueryError(
                f"SPARQL syntax error at {exc.lineno}:{exc.col}: {exc.msg}", file=self.source
            ) from exc
        if result.type != "SELECT" or result.vars is None:
            raise QueryError("only SELECT queries can be run here", file=self.source)
        columns = [str(v) for v in result.vars]
        rows = []
        for row in result:
            values: Any = row
            rows.append({c: _rdflib_cell(values[i]) for i, c in enumerate(columns)})
        return Result(columns, rows)


def _rdflib_cell(term: object) -> Cell:
    from resource_kg.terms import rdflib_to_ox  # rdflib loads only when its engine is used

    if term is None:
        return None
    found = rdflib_to_ox(term)
    if found is None:
        raise QueryError(f"unsupported term in result: {term!r}")
    return found


def resource_finder(engine: Engine) -> ResourceFinder:
    """Look a resource up by id (a literal) or IRI on the engine, bound as a VALUES term."""

    def find(key: Term) -> list[Term]:
        if isinstance(key, ox.Literal):
            text = (
                "SELECT DISTINCT ?r WHERE { VALUES ?_key { UNDEF } "
                f"?r <{DCT}identifier> ?_key ; a <{RKG_RESOURCE}> . }} ORDER BY ?r"
            )
        else:
            text = (
                "SELECT DISTINCT ?r WHERE { VALUES ?_key { UNDEF } "
                f"?_key a <{RKG_RESOURCE}> . BIND(?_key AS ?r) }} ORDER BY ?r"
            )
        result = engine.select(bind(text, {"key": [key]}))
        return [c for row in result.rows if (c := row.get("r")) is not None]

    return find


# ---------------------------------------------------------------- running


def run_stored(
    engine: Engine,
    query: StoredQuery,
    params: Mapping[str, str],
    lexicon: Lexicon,
    today: dt.date | None = None,
) -> Result:
    """Resolve the parameters, bind them as RDF terms and run the stored query as written."""
    values = resolve_params(query, params, lexicon, resource_finder(engine), today)
    limits = [p.name for p in query.params if p.kind == "limit"]
    return engine.select(bind(query.text, values, limits))


def run_catalog_query(catalog: Catalog, name: str, params: Mapping[str, str]) -> Result:
    """The library path: a loaded catalog's in-memory store, its lexicon and stored queries."""
    query = find_query(load_queries(catalog.paths.queries), name)
    engine = EmbeddedEngine(catalog.store, catalog.graphs, str(query.path))
    return run_stored(engine, query, params, catalog.lexicon)


@dataclass
class Context:
    """What a query needs without building the catalog: paths, graph IRIs and labels."""

    root: Path
    paths: Paths
    graphs: Graphs
    lexicon: Lexicon
    base: str


def load_context(root: Path) -> Context:
    """Vocabularies and organizations only (cheap): enough to resolve parameters."""
    root = Path(root)
    paths = resolve_paths(root)
    settings = load_settings(root)
    graphs = Graphs.for_base(settings.base)
    lexicon = Lexicon()
    load_vocabularies(sorted(paths.ontology.glob("*.ttl")), graphs.ontology, root, lexicon)
    load_vocabularies(
        sorted((paths.ontology / "vocab").glob("*.ttl")), graphs.vocabularies, root, lexicon
    )
    load_organizations(paths.organizations, root, settings.base, lexicon)
    return Context(root, paths, graphs, lexicon, settings.base)
