"""What a query's text asks beyond the catalog: its form, a dataset (`FROM`), `SERVICE` calls.

One detection for every place that runs user SPARQL (`rkg query` on the embedded and rdflib
engines, `rkg serve`): a `SERVICE` makes the engine send HTTP requests to any host the query
names, so it is refused unless the host is allowed. A small lexer (comments, strings and IRIs
skipped as the grammar does) says whether the query has a `SERVICE` or `FROM` keyword at all;
that is exact, since both are reserved words that cannot hide in a comment, a string, an IRI
or a prefixed name, and it keeps the common case (no `SERVICE`) cheap. When a `SERVICE` is
there, its targets come from rdflib's SPARQL parser and algebra (prefixes and BASE resolved
as the grammar says); a query rdflib cannot parse falls back to the lexer's own resolution.
A target that is a variable counts as unknown, and is refused unless every host is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from resource_kg.errors import QueryError

FORM_WORDS = frozenset(("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"))
UPDATE_WORDS = frozenset(
    ["INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"]
)

_NAME = r"[A-Za-z_\u00C0-\uFFFF][\w\-.\u00B7-\uFFFF]*"
TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
             |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$]\w+)
  | (?P<pname>(?:"""
    + _NAME
    + r""")?:(?:[\w\-.:%\\\u00B7-\uFFFF]*[\w\-:%\u00B7-\uFFFF])?)
  | (?P<word>[A-Za-z_][\w]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokens(query: str) -> list[Token]:
    """The query's tokens without white space and comments (an unclosed string ends it)."""
    out = []
    for m in TOKEN.finditer(query):
        kind = m.lastgroup or "other"
        if kind not in ("space", "comment"):
            out.append(Token(kind, m.group()))
    return out


@dataclass(frozen=True)
class Shape:
    """What the query asks: its form, whether it has FROM, and its SERVICE targets."""

    form: str | None
    has_dataset: bool
    services: tuple[str | None, ...]  # None: a variable or an IRI that cannot be resolved


def shape(query: str) -> Shape:
    """The form, dataset and SERVICE targets of a query (targets from the parser, see above)."""
    found = lexed_shape(query)
    if not found.services:
        return found
    parsed = parsed_services(query)
    return found if parsed is None else Shape(found.form, found.has_dataset, parsed)


def lexed_shape(query: str) -> Shape:
    """The lexer's view alone: exact on whether SERVICE/FROM occur, close on the targets."""
    toks = tokens(query)
    prefixes: dict[str, str] = {}
    base = ""
    form: str | None = None
    has_dataset = False
    services: list[str | None] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        word = tok.text.upper() if tok.kind == "word" else ""
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if word == "PREFIX" and nxt is not None and nxt.kind == "pname" and i + 2 < len(toks):
            if toks[i + 2].kind == "iri":
                prefixes[nxt.text[:-1]] = urljoin(base, toks[i + 2].text[1:-1])
            i += 3
            continue
        if word == "BASE" and nxt is not None and nxt.kind == "iri":
            base = urljoin(base, nxt.text[1:-1])
            i += 2
            continue
        if form is None and (word in FORM_WORDS or word in UPDATE_WORDS):
            form = word
        if word == "FROM":
            has_dataset = True
        if word == "SERVICE":
            j = i + 1
            if j < len(toks) and toks[j].text.upper() == "SILENT":
                j += 1
            target = toks[j] if j < len(toks) else None
            services.append(_resolve(target, prefixes, base))
        i += 1
    return Shape(form, has_dataset, tuple(services))


def _resolve(tok: Token | None, prefixes: dict[str, str], base: str) -> str | None:
    if tok is None:
        return None
    if tok.kind == "iri":
        return urljoin(base, tok.text[1:-1])
    if tok.kind == "pname":
        ns, _, local = tok.text.partition(":")
        if ns in prefixes:
            return prefixes[ns] + re.sub(r"\\(.)", r"\1", local)
    return None


def parsed_services(query: str) -> tuple[str | None, ...] | None:
    """SERVICE targets from rdflib's algebra, in query order; None when rdflib cannot parse it."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.term import URIRef

    try:
        algebra = translateQuery(parseQuery(query)).algebra
    except Exception:  # noqa: BLE001 - any failure of rdflib's parser: the lexer decides
        return None
    found: list[str | None] = []

    def walk(node: object) -> None:
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                term = node.get("term")
                found.append(str(term) if isinstance(term, URIRef) else None)
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)

    walk(algebra)
    return tuple(found)


def refused_service(found: Shape, allowed: tuple[str, ...]) -> str | None:
    """The first SERVICE target whose host is not in `allowed` (shown as text), else None."""
    hosts = {h.lower() for h in allowed}
    for target in found.services:
        host = urlsplit(target).hostname if target else None
        if host is None or host.lower() not in hosts:
            return target or "a variable or unresolvable name"
    return None


def check_local_query(query: str, allowed: tuple[str, ...], source: str = "query") -> Shape:
    """Refuse a SERVICE to a host not allowed by `--allow-service` (before anything runs)."""
    found = shape(query)
    target = refused_service(found, allowed)
    if target is not None:
        raise QueryError(
            f"SERVICE {target} refused: a local query makes no outbound requests "
            "(--allow-service HOST names a host it may call)",
            file=source,
        )
    return found
