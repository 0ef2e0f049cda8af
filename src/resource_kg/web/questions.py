"""Stored questions on the web: their list, a form per question, its API, and OpenAPI.

Everything is made from a question's `#+` metadata (`resource_kg.query.StoredQuery`): a
parameter of a vocabulary kind becomes a list of that scheme's labels with their resource
counts, the others typed inputs with their example and default. The values a person or a
client sends are resolved by `resolve_params` and bound as RDF terms by `bind` exactly as
`rkg query` does, so user text never becomes SPARQL; the rows are rendered by `rkg query`'s
own `render` (CSV, TSV, JSON).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pyoxigraph as ox

from resource_kg import site
from resource_kg.query import (
    CONCEPT_KINDS,
    LIST_SEPARATOR,
    MAX_LIMIT,
    Cell,
    Parameter,
    Result,
    StoredQuery,
)
from resource_kg.vocab import normalize

#: Kinds whose values are the labels of concept schemes (an enum in OpenAPI).
LIST_KINDS = (*CONCEPT_KINDS, "topic-or-subtopic", "scheme")
#: A list longer than this is a searchable text box with suggestions instead of a <select>.
SELECT_MAX = 30
#: Most suggestions a text box carries (a keyword scheme of a large catalog is long).
SUGGESTIONS_MAX = 5_000
API_SUFFIXES = {
    ".json": "application/json",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
}


@dataclass(frozen=True)
class Choice:
    """One label a vocabulary parameter may take and how many resources carry it."""

    label: str
    count: int
    iri: str


# ---------------------------------------------------------------- choices


def choices(pages: Any, kind: str) -> list[Choice]:
    """The labels of a list kind, in label order, with their resource counts (cached)."""
    cache: dict[str, list[Choice]] = pages.choice_cache
    found = cache.get(kind)
    if found is not None:
        return found
    lexicon = pages.catalog.lexicon
    model = pages.model
    if kind == "scheme":
        known = [s for s in lexicon.schemes() if s and s != "organization"]
        found = [Choice(s, len(lexicon.in_scheme(s)), "") for s in known]
    else:
        schemes = ("topic", "subtopic") if kind == "topic-or-subtopic" else (kind,)
        found = []
        for scheme in schemes:
            for term in lexicon.in_scheme(scheme):
                users = {r for _, r in model.inverse.get(term.iri, [])}
                users.update(model.inverse_derived.get(term.iri, []))
                found.append(Choice(term.label, len(users), term.iri))
        found.sort(key=lambda c: (c.label.casefold(), c.label))
    cache[kind] = found
    return found


def all_labels(pages: Any, kind: str) -> list[str]:
    """Every label a list kind accepts: preferred labels first, then alternative labels and
    notations (each once)."""
    terms = pages.catalog.lexicon.terms
    found = choices(pages, kind)
    out = dict.fromkeys(c.label for c in found)
    for c in found:
        term = terms.get(c.iri)
        if term is not None:
            out.update(dict.fromkeys(term.labels))
    return list(out)


# ---------------------------------------------------------------- parameters from a request


def given_params(query: StoredQuery, pairs: list[tuple[str, str]]) -> dict[str, str]:
    """The request's values by name; empty ones are not given (the default or UNDEF applies).
    Unknown names are kept so that `resolve_params` names them in its error."""
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in ("run",):
            continue
        if value.strip() == "":
            continue
        if key in out:
            from resource_kg.errors import QueryError

            raise QueryError(f"parameter {key!r} is given twice")
        out[key] = value
    return out


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def closest_labels(message: str) -> list[str]:
    """The labels a `QueryError` message suggests (its `closest: …` or `give one of: …`)."""
    m = re.search(r"closest: (.*)$", message)
    if m:
        out = []
        for piece in _QUOTED.findall(m.group(1)):
            try:
                out.append(str(ast.literal_eval(piece)))
            except (ValueError, SyntaxError):
                continue
        return out
    m = re.search(r"give one of: (.*)$", message)
    if m:
        return [re.sub(r"\s*<[^<>]*>$", "", part).strip() for part in m.group(1).split("; ")]
    return []


def parameter_of(message: str) -> str | None:
    m = re.match(r"parameter '([^']+)'", message)
    return m.group(1) if m else None


# ---------------------------------------------------------------- results


def _from_json(term: dict[str, Any]) -> Cell:
    kind = term.get("type")
    value = str(term.get("value", ""))
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(value)
    if "xml:lang" in term:
        return ox.Literal(value, language=term["xml:lang"])
    if "datatype" in term:
        return ox.Literal(value, datatype=ox.NamedNode(term["datatype"]))
    return ox.Literal(value)


def result_from_json(doc: dict[str, Any]) -> Result:
    """SPARQL JSON results (as the workers send them) as a `Result` of RDF terms."""
    columns: list[str] = list(doc["head"]["vars"])
    rows: list[dict[str, Cell]] = [
        {c: _from_json(b[c]) if c in b else None for c in columns}
        for b in doc["results"]["bindings"]
    ]
    return Result(columns, rows)


# ---------------------------------------------------------------- pages


def list_page(queries: Mapping[str, StoredQuery]) -> str:
    """The body of /queries: every stored question with its description and tags."""
    items = []
    for q in queries.values():
        tags = "".join(f'<li class="tag">{site.e(t)}</li>' for t in q.tags)
        params = ", ".join(site.e(p.name) for p in q.params) or "none"
        items.append(
            f'<li class="question" id="q-{site.e(q.name)}">'
            f'<h2><a href="queries/{quote(q.name)}">{site.e(q.title)}</a></h2>'
            f"<p>{site.e(q.description)}</p>"
            f'<p class="muted">Parameters: {params} · API: '
            f'<a href="queries/{quote(q.name)}.json">{site.e(q.name)}.json</a></p>'
            f'<ul class="inline tags" aria-label="Tags">{tags}</ul></li>'
        )
    return (
        "<h1>Stored questions</h1>"
        "<p>Questions the catalog answers, each with a form. The same answers come as CSV, TSV "
        'or JSON from <code>queries/NAME.csv</code> (see <a href="api">the API</a>, '
        'described by <a href="openapi.json">openapi.json</a>).</p>'
        f'<ul class="questions">{"".join(items)}</ul>'
    )


def _input(pages: Any, q: StoredQuery, p: Parameter, value: str | None) -> str:
    ident = f"p-{p.name}"
    hint_parts = []
    if p.example is not None:
        hint_parts.append(f"example: {p.example}")
    if p.default is not None:
        hint_parts.append(f"default: {p.default}")
    if p.optional and p.default is None:
        hint_parts.append("optional")
    hint = f' <span class="muted">({site.e("; ".join(hint_parts))})</span>' if hint_parts else ""
    label = f'<label for="{ident}">{site.e(p.name.replace("_", " ").capitalize())}</label>'
    described = f'<p class="help" id="{ident}-help">{site.e(p.description)}{hint}</p>'
    aria = f'aria-describedby="{ident}-help"'
    required = "" if p.optional or p.default is not None else " required"
    current = value if value is not None else (p.default or "")
    if p.kind in LIST_KINDS:
        opts = choices(pages, p.kind)
        free_text = p.kind == "topic-or-subtopic"
        if len(opts) <= SELECT_MAX and not free_text:
            wanted = normalize(current)
            known = {normalize(c.label) for c in opts}
            picked = wanted if wanted in known else None
            if picked is None and current:
                # an alternative label or an IRI: show the label it stands for
                for c in opts:
                    term = pages.catalog.lexicon.terms.get(c.iri)
                    if c.iri == current or (
                        term is not None and wanted in {normalize(x) for x in term.labels}
                    ):
                        picked = normalize(c.label)
                        break
            first = "(any)" if p.optional else "(choose one)"
            options = [f'<option value="">{first}</option>']
            if picked is None and current:
                # a value the lists do not know: kept, so the answer's error names it
                options.append(
                    f'<option value="{site.e(current)}" selected>{site.e(current)}</option>'
                )
            for c in opts:
                sel = " selected" if normalize(c.label) == picked else ""
                options.append(
                    f'<option value="{site.e(c.label)}"{sel}>{site.e(c.label)} ({c.count})</option>'
                )
            control = (
                f'<select id="{ident}" name="{site.e(p.name)}" {aria}{required}>'
                f"{''.join(options)}</select>"
            )
        else:
            listed = opts[:SUGGESTIONS_MAX]
            suggestions = "".join(
                f'<option value="{site.e(c.label)}">{c.count} resource(s)</option>' for c in listed
            )
            placeholder = f' placeholder="{site.e(p.example)}"' if p.example else ""
            control = (
                f'<input id="{ident}" name="{site.e(p.name)}" type="search" list="{ident}-list" '
                f'value="{site.e(current)}"{placeholder} autocomplete="off" {aria}{required}>'
                f'<datalist id="{ident}-list">{suggestions}</datalist>'
            )
        return f'<div class="field">{label}{control}{described}</div>'
    if p.kind == "integer":
        attrs = 'type="number" step="1" inputmode="numeric"'
    elif p.kind == "limit":
        attrs = 'type="text" inputmode="numeric" pattern="[0-9]{1,7}|all"'
    elif p.kind == "date":
        attrs = 'type="text" pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}|today(-[0-9]{1,5}d)?"'
    else:
        attrs = 'type="text"'
    placeholder = f' placeholder="{site.e(p.example)}"' if p.example else ""
    control = (
        f'<input id="{ident}" name="{site.e(p.name)}" {attrs} value="{site.e(current)}"'
        f"{placeholder} {aria}{required}>"
    )
    return f'<div class="field">{label}{control}{described}</div>'


def form_page(
    pages: Any,
    q: StoredQuery,
    given: Mapping[str, str],
    *,
    answer: str = "",
    error: str | None = None,
    root_url: str = "",
) -> str:
    """The body of /queries/NAME: the form, then the error or the answer."""
    fields = "".join(_input(pages, q, p, given.get(p.name)) for p in q.params)
    if not q.params:
        fields = "<p>This question has no parameters.</p>"
    tags = "".join(f'<li class="tag">{site.e(t)}</li>' for t in q.tags)
    problem = ""
    if error is not None:
        close = closest_labels(error)
        name = parameter_of(error)
        links = ""
        if close and name is not None:
            items = []
            for label in close:
                params = {**given, name: label}
                items.append(
                    f'<li><a href="{site.e(quote(q.name))}?{site.e(urlencode(params))}">'
                    f"{site.e(label)}</a></li>"
                )
            links = f'<p>Closest labels:</p><ul class="closest">{"".join(items)}</ul>'
        problem = (
            f'<div class="problem" role="alert" id="problem"><h2>The question cannot run</h2>'
            f"<p>{site.e(error)}</p>{links}</div>"
        )
    return (
        f'<p class="crumbs"><a href="../queries">Stored questions</a></p>'
        f"<h1>{site.e(q.title)}</h1><p>{site.e(q.description)}</p>"
        f'<ul class="inline tags" aria-label="Tags">{tags}</ul>'
        f'<form class="question" method="get" action="{site.e(quote(q.name))}">'
        f'{fields}<input type="hidden" name="run" value="1">'
        f'<button type="submit">Answer</button></form>{problem}{answer}'
    )


def answer_html(
    pages: Any,
    q: StoredQuery,
    given: Mapping[str, str],
    result: Result,
    bound: str,
    root_url: str,
    millis: float,
) -> str:
    """The answer: a table whose labels link to their pages, downloads, and the SPARQL."""
    from resource_kg.commands.query import display_columns

    shown = display_columns(result.columns)
    model = pages.model

    def page_of(iri: str) -> str | None:
        ent = model.entities.get(iri)
        return root_url + ent.path if ent is not None else None

    def cell(row: dict[str, Cell], column: str) -> str:
        value = row.get(column)
        if value is None:
            return "<td></td>"
        text = value.value
        # The IRI column this label column stands for (resource → resourceLabel).
        stem = column.removesuffix("Labels").removesuffix("Label")
        iri_cell = row.get(stem) if stem != column else None
        if isinstance(value, ox.NamedNode):
            href = page_of(text)
            label = model.labels.get(text, text)
            if href is not None:
                return f'<td><a href="{site.e(href)}">{site.e(label)}</a></td>'
            return f'<td class="iri">{site.e(text)}</td>'
        if isinstance(iri_cell, ox.NamedNode) and column.endswith("Label"):
            href = page_of(iri_cell.value)
            if href is not None:
                return f'<td><a href="{site.e(href)}">{site.e(text)}</a></td>'
        if column.endswith("Labels"):
            parts = [t for t in text.split(LIST_SEPARATOR) if t] if text else []
            items = []
            for part in sorted(set(parts)):
                href = _label_page(pages, part, root_url)
                items.append(
                    f'<li><a href="{site.e(href)}">{site.e(part)}</a></li>'
                    if href
                    else f"<li>{site.e(part)}</li>"
                )
            return f'<td><ul class="inline">{"".join(items)}</ul></td>'
        return f"<td>{site.e(text)}</td>"

    head = "".join(f'<th scope="col">{site.e(h)}</th>' for _, h in shown)
    body = "".join(
        "<tr>" + "".join(cell(row, c) for c, _ in shown) + "</tr>" for row in result.rows
    )
    params = urlencode(dict(given))
    suffix = f"?{params}" if params else ""
    name = quote(q.name)
    downloads = (
        f'<p class="downloads">Download: <a id="download-csv" href="{site.e(name)}.csv{site.e(suffix)}" '
        f'download="{site.e(q.name)}.csv">CSV</a> · <a id="download-json" '
        f'href="{site.e(name)}.json{site.e(suffix)}">JSON</a> · <a href="{site.e(name)}.tsv{site.e(suffix)}">TSV</a></p>'
    )
    sparql_link = f"../sparql?{urlencode({'query': bound})}"
    return (
        f'<h2 id="answer-heading">Answer</h2>'
        f'<p id="answer" aria-live="polite">{len(result.rows)} row(s) '
        f'<span class="muted">({millis:.0f} ms)</span></p>'
        f"{downloads}"
        f'<div class="scroll"><table id="results"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
        f'<h2 id="sparql-heading">The SPARQL behind it</h2>'
        f"<p>The values above are bound as RDF terms into the stored query's <code>VALUES</code> blocks. "
        f'<a id="open-in-sparql" href="{site.e(sparql_link)}">Open it in the SPARQL query page</a>.</p>'
        f'<pre class="sparql" id="sparql"><code>{site.e(bound)}</code></pre>'
    )


def _label_page(pages: Any, label: str, root_url: str) -> str | None:
    """The page of a concept named by its label (for list columns, which carry no IRIs)."""
    index: dict[str, str] | None = getattr(pages, "label_index", None)
    if index is None:
        index = {}
        for ent in pages.model.entities.values():
            if ent.kind == "concept":
                index.setdefault(ent.label, ent.path)
        pages.label_index = index
    path = index.get(label)
    return root_url + path if path is not None else None


# ---------------------------------------------------------------- OpenAPI


def _schema(pages: Any, p: Parameter) -> dict[str, Any]:
    if p.kind == "integer":
        schema: dict[str, Any] = {"type": "integer"}
    elif p.kind == "limit":
        schema = {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                {"type": "string", "enum": ["all"]},
            ]
        }
    elif p.kind == "date":
        schema = {
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "pattern": "^today(-[0-9]{1,5}d)?$"},
            ]
        }
    elif p.kind == "topic-or-subtopic":
        labels = [c.label for c in choices(pages, p.kind)]
        schema = {
            "type": "string",
            "description": "A topic or subtopic label, or words of one (every label holding them "
            "matches); known labels: " + "; ".join(labels[:200]),
        }
    elif p.kind in LIST_KINDS:
        schema = {"type": "string", "enum": all_labels(pages, p.kind)}
    elif p.kind == "resource":
        schema = {"type": "string", "description": "A resource id or IRI"}
    else:
        schema = {"type": "string"}
    if p.default is not None:
        schema["default"] = _typed(p, p.default)
    return schema


def _typed(p: Parameter, value: str) -> Any:
    if p.kind in ("integer", "limit") and re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value)
    return value


def openapi(
    pages: Any, queries: Mapping[str, StoredQuery], server_url: str, title: str
) -> dict[str, Any]:
    """An OpenAPI 3.1 description of the stored questions' API, from their metadata."""
    paths: dict[str, Any] = {}
    error = {
        "description": "A parameter cannot be resolved (unknown label, bad number or date): "
        "the message and the closest labels",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for q in queries.values():
        params = []
        for p in q.params:
            entry: dict[str, Any] = {
                "name": p.name,
                "in": "query",
                "required": not p.optional and p.default is None,
                "description": f"{p.description} ({p.kind})",
                "schema": _schema(pages, p),
            }
            if p.example is not None:
                entry["example"] = _typed(p, p.example)
            params.append(entry)
        for suffix, media in API_SUFFIXES.items():
            content: dict[str, Any]
            if suffix == ".json":
                content = {
                    media: {
                        "schema": {
                            "type": "array",
                            "items": {"type": "object", "additionalProperties": True},
                        }
                    }
                }
            else:
                content = {media: {"schema": {"type": "string"}}}
            paths[f"/queries/{q.name}{suffix}"] = {
                "get": {
                    "operationId": f"{q.name}-{suffix[1:]}",
                    "summary": f"{q.title} ({suffix[1:].upper()})",
                    "description": q.description,
                    "tags": list(q.tags) or ["questions"],
                    "parameters": params,
                    "responses": {
                        "200": {
                            "description": "The rows, as `rkg query` gives them",
                            "content": content,
                        },
                        "400": error,
                        "503": {
                            "description": "The question ran past the server's time limit",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                    },
                }
            }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{title}: stored questions",
            "version": "live",
            "description": "Each stored question of the catalog as a GET request. Parameter "
            "values are labels (or alternative labels, notations, IRIs) resolved through the "
            "vocabularies and bound as RDF terms; the rows are those of `rkg query NAME "
            "--format json|csv|tsv`.",
        },
        "servers": [{"url": server_url.rstrip("/")}],
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string"},
                        "query": {"type": "string"},
                        "parameter": {"type": ["string", "null"]},
                        "closest": {"type": "array", "items": {"type": "string"}},
                    },
                }
            }
        },
    }


def docs_page(doc: dict[str, Any], example: Callable[[str, list[dict[str, Any]]], str]) -> str:
    """The body of /api: the OpenAPI document as a page (no script, no CDN)."""
    parts = [
        f"<h1>{site.e(doc['info']['title'])}</h1>",
        f"<p>{site.e(doc['info']['description'])}</p>",
        '<p>Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1). '
        'The forms: <a href="queries">stored questions</a>.</p>',
    ]
    for path, item in doc["paths"].items():
        op = item["get"]
        rows = []
        for prm in op["parameters"]:
            schema = prm["schema"]
            allowed = ""
            if "enum" in schema:
                values = schema["enum"]
                shown = ", ".join(site.e(v) for v in values[:40])
                more = f" … ({len(values)} in all)" if len(values) > 40 else ""
                allowed = shown + more
            typ = schema.get("type") or " or ".join(
                str(x.get("format") or x.get("type")) for x in schema.get("anyOf", [])
            )
            rows.append(
                f"<tr><td><code>{site.e(prm['name'])}</code></td><td>{site.e(typ)}</td>"
                f"<td>{'yes' if prm['required'] else 'no'}</td>"
                f"<td>{site.e(schema.get('default', ''))}</td><td>{site.e(prm.get('example', ''))}</td>"
                f'<td>{site.e(prm["description"])}<br><span class="muted">{allowed}</span></td></tr>'
            )
        table = (
            '<div class="scroll"><table><thead><tr><th scope="col">Parameter</th><th scope="col">Type</th>'
            '<th scope="col">Required</th><th scope="col">Default</th><th scope="col">Example</th>'
            f'<th scope="col">About</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
            if rows
            else "<p>No parameters.</p>"
        )
        href = example(path, op["parameters"])
        parts.append(
            f'<section class="operation"><h2><code>GET {site.e(path)}</code></h2>'
            f"<p>{site.e(op['summary'])}</p>{table}"
            f'<p>Try it: <a href="{site.e(href)}">{site.e(href)}</a></p></section>'
        )
    return "\n".join(parts)


def example_params(parameters: list[dict[str, Any]]) -> dict[str, str]:
    """Values that make a request answer: the example of every required parameter."""
    out = {}
    for prm in parameters:
        if prm["required"] and "example" in prm:
            out[prm["name"]] = str(prm["example"])
    return out
