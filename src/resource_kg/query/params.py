"""Parameters of a stored question: labels and IRIs resolved to typed RDF terms through the vocabularies, bound into the query text as VALUES (never pasted as strings)."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Mapping, Sequence

import pyoxigraph as ox

from resource_kg.config import CONCEPT_BASE
from resource_kg.errors import QueryError
from resource_kg.query.stored import (
    CONCEPT_KINDS,
    LIMIT_CLAUSE,
    MAX_LIMIT,
    XSD,
    StoredQuery,
    Term,
    values_block,
)
from resource_kg.records import ID_PATTERN
from resource_kg.vocab import Lexicon, normalize


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
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise QueryError(
                f"{value!r} is not text: character {exc.start + 1} is a lone surrogate"
            ) from None
        return [ox.Literal(value)]
    if kind == "integer":
        if not re.fullmatch(r"[+-]?[0-9]{1,9}", text):
            raise QueryError(f"{value!r} is not a whole number")
        return [ox.Literal(str(int(text)), datatype=ox.NamedNode(XSD + "integer"))]
    relative = re.fullmatch(r"today(?:-([0-9]{1,5})d)?", text)
    day: dt.date | None = None
    if relative:
        day = today - dt.timedelta(days=int(relative.group(1) or 0))
    elif re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
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
    if not re.fullmatch(r"[0-9]{1,7}", text) or not 1 <= int(text) <= MAX_LIMIT:
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


#: A parameter value as a Python caller may give it: text, a whole number, a date, or a list
#: of those (several labels: the rows of any of them); None is "not given".
ParamValue = str | int | dt.date | Sequence[str | int | dt.date] | None

#: Kinds that take several values at once (each resolved, all bound in one VALUES block).
LIST_KINDS = (*CONCEPT_KINDS, "topic-or-subtopic")


def _one_text(name: str, value: object) -> str:
    """A single Python value as the text the CLI would pass (`limit=5` → '5')."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise QueryError(f"parameter {name!r}: {value!r} is not a label, number or date")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        raise QueryError(f"parameter {name!r}: give a date (datetime.date), not a datetime")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise QueryError(
        f"parameter {name!r}: {value!r} is not a label, number or date (a {type(value).__name__})"
    )


def coerce_value(name: str, kind: str, value: ParamValue) -> list[str] | None:
    """A Python value (str, int, date, or a list of them) as the CLI's texts; None = not given.

    A list gives several values for the kinds that take them (labels: the rows matching any);
    an int or a date is written as the CLI reads it (`5`, `2024-01-31`)."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        if kind not in LIST_KINDS:
            raise QueryError(f"parameter {name!r} takes one value (a {kind}), not a list")
        if not value:
            raise QueryError(f"parameter {name!r}: the list is empty")
        return [_one_text(name, v) for v in value]
    return [_one_text(name, value)]


def _spell(name: str, caller: str) -> str:
    """How the caller gives a parameter: `--param limit=VALUE` on the CLI, `limit=VALUE` in
    Python."""
    return f"--param {name}=VALUE" if caller == "cli" else f"{name}=VALUE"


def resolve_params(
    query: StoredQuery,
    given: Mapping[str, ParamValue],
    lexicon: Lexicon,
    find_resource: ResourceFinder,
    today: dt.date | None = None,
    *,
    caller: str = "cli",
) -> dict[str, list[Term]]:
    """Turn the user's values into RDF terms; empty list = not given (the query's UNDEF).

    `caller="python"` takes Python values (`coerce_value`) and words its errors for a
    keyword argument (`limit=…`) instead of the CLI's `--param limit=…`."""
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
        texts = coerce_value(param.name, param.kind, given.get(param.name))
        if texts is None and param.default is not None:
            texts = [param.default]
        if texts is None:
            if not param.optional:
                example = f" (example: {param.example})" if param.example else ""
                raise QueryError(
                    f"query {query.name!r} needs parameter {param.name!r}, "
                    f"a {param.kind}{example}: add {_spell(param.name, caller)}"
                )
            bound[param.name] = []
            continue
        terms: list[Term] = []
        for text in texts:
            try:
                found = resolve_value(param.kind, text, lexicon, find_resource, today)
            except QueryError as exc:
                raise QueryError(f"parameter {param.name!r}: {exc.message}") from exc
            terms += [t for t in found if t not in terms]
        bound[param.name] = terms
    return bound


def check_params(
    query: StoredQuery,
    given: Mapping[str, ParamValue],
    lexicon: Lexicon,
    today: dt.date | None = None,
    *,
    caller: str = "cli",
) -> None:
    """Every check of `resolve_params` that needs no catalog store (names, required values,
    labels, numbers, dates), so a caller can report a wrong parameter before it brings the
    store up to date, which takes a minute on a fresh 100k catalog. A resource id is only
    checked for its form here; whether it names a record is `resolve_params`'s question."""
    resolve_params(query, given, lexicon, lambda key: [key], today, caller=caller)


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
    alternatives = [values_block(name).pattern for name in blocks]
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
