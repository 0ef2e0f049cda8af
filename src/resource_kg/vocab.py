"""Controlled vocabularies: resolve the labels curators write to concept and organization IRIs.

A label matches a concept's prefLabel, altLabel or notation, ignoring case, spacing and
punctuation; an organization matches by name, acronym, or "Name (ACRONYM)". A label that
matches nothing comes back with the closest known labels, so nothing is guessed silently.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import yaml

from resource_kg.config import CONCEPT_BASE
from resource_kg.errors import StructureError, VocabularyError
from resource_kg.files import NotUtf8, decode_utf8
from resource_kg.records import safeyaml
from resource_kg.records.model import check_id, text_problem

SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
PREF = ox.NamedNode(SKOS + "prefLabel")
ALT = ox.NamedNode(SKOS + "altLabel")
NOTATION = ox.NamedNode(SKOS + "notation")
IN_SCHEME = ox.NamedNode(SKOS + "inScheme")
CONCEPT = ox.NamedNode(SKOS + "Concept")
ORG_SCHEME = "organization"


def normalize(label: str) -> str:
    """The form labels are compared in: case, spacing, quotes and punctuation do not count."""
    text = unicodedata.normalize("NFKC", label).casefold()
    text = re.sub(r"[^\w+]+", " ", text)
    return " ".join(text.split())


def slugify(text: str) -> str:
    """An IRI-safe slug; used once, when an id is first fixed, never recomputed after."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


@dataclass(frozen=True)
class Term:
    """A concept or organization a label can resolve to."""

    iri: str
    scheme: str
    label: str
    labels: tuple[str, ...]
    file: str
    line: int
    notation: str | None = None


@dataclass
class Organization:
    """A developer or collaborator, from data/organizations.yaml."""

    id: str
    name: str
    acronym: str | None
    homepage: str | None
    file: str
    line: int
    field_lines: dict[str, int] = field(default_factory=dict)


@dataclass
class Resolution:
    """The outcome of resolving one label: the IRI, or the closest known labels."""

    label: str
    iri: str | None
    suggestions: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()


def subject_lines(path: Path, text: str) -> dict[str, int]:
    """Line where each subject starts in a Turtle file written one subject block at a time."""
    prefixes: dict[str, str] = {}
    lines: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        prefix = re.match(r"@prefix\s+([\w-]*):\s*<([^>]*)>", raw)
        if prefix:
            prefixes[prefix.group(1)] = prefix.group(2)
            continue
        if not raw or raw[0].isspace() or raw.startswith(("#", "@")):
            continue
        token = raw.split()[0]
        if token.startswith("<") and token.endswith(">"):
            iri = token[1:-1]
        elif ":" in token:
            pfx, local = token.split(":", 1)
            if pfx not in prefixes:
                continue
            iri = prefixes[pfx] + local
        else:
            continue
        lines.setdefault(iri, number)
    return lines


def parse_turtle(path: Path, graph: ox.NamedNode, shown: str) -> list[ox.Quad]:
    """Parse one Turtle file into quads of `graph`; a syntax error names the file and line."""
    try:
        data = path.read_bytes()
        return [
            ox.Quad(t.subject, t.predicate, t.object, graph)
            for t in ox.parse(data, format=ox.RdfFormat.TURTLE)
        ]
    except SyntaxError as exc:
        line = getattr(exc, "lineno", None)
        raise VocabularyError(f"Turtle syntax error: {exc.msg}", file=shown, line=line) from exc
    except OSError as exc:
        raise VocabularyError(f"cannot read file: {exc.strerror}", file=shown) from exc


class Lexicon:
    """All terms labels can resolve to, indexed per scheme by normalized label."""

    def __init__(self) -> None:
        self.terms: dict[str, Term] = {}
        self.index: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        # The same labels without word breaks, so "330h" finds "330(h)" and "csuite" "C-Suite".
        self.compact: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.locations: dict[str, tuple[str, int]] = {}

    def add(self, term: Term) -> None:
        self.terms[term.iri] = term
        self.locations.setdefault(term.iri, (term.file, term.line))
        for label in term.labels:
            key = normalize(label)
            for index, k in ((self.index, key), (self.compact, key.replace(" ", ""))):
                bucket = index[term.scheme][k]
                if term.iri not in bucket:
                    bucket.append(term.iri)

    def schemes(self) -> list[str]:
        return sorted(self.index)

    def in_scheme(self, scheme: str) -> list[Term]:
        return sorted((t for t in self.terms.values() if t.scheme == scheme), key=lambda t: t.iri)

    def resolve(self, scheme: str, label: str) -> Resolution:
        """Exact (normalized) match of a label, notation or IRI within one scheme."""
        if label in self.terms and self.terms[label].scheme == scheme:
            return Resolution(label, label)
        key = normalize(label)
        hits = self.index.get(scheme, {}).get(key, [])
        if not hits:
            hits = self.compact.get(scheme, {}).get(key.replace(" ", ""), [])
        if len(hits) == 1:
            return Resolution(label, hits[0])
        if len(hits) > 1:
            return Resolution(label, None, candidates=tuple(sorted(hits)))
        return Resolution(label, None, suggestions=self.suggest(scheme, label))

    def suggest(self, scheme: str, label: str, n: int = 3) -> tuple[str, ...]:
        """Closest known labels (prefLabels first) for a "did you mean" message."""
        known: dict[str, str] = {}
        for term in self.in_scheme(scheme):
            for lab in term.labels:
                known.setdefault(normalize(lab), lab)
        close = difflib.get_close_matches(normalize(label), list(known), n=n, cutoff=0.5)
        wanted = normalize(label)
        if not close and wanted:
            close = [k for k in known if wanted in k][:n]
        return tuple(known[c] for c in close)


def concept_scheme_key(scheme_iri: str) -> str:
    """`.../concept/audience` → `audience`."""
    return scheme_iri.removeprefix(CONCEPT_BASE).strip("/")


def load_vocabularies(
    files: list[Path], graph: ox.NamedNode, root: Path, lexicon: Lexicon
) -> list[ox.Quad]:
    """Parse every vocabulary file and index its concepts; returns the quads."""
    quads: list[ox.Quad] = []
    for path in files:
        shown = _shown(path, root)
        file_quads = parse_turtle(path, graph, shown)
        quads.extend(file_quads)
        lines = subject_lines(path, path.read_text(encoding="utf-8"))
        by_subject: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for q in file_quads:
            if isinstance(q.subject, ox.NamedNode):
                by_subject[q.subject.value][q.predicate.value].append(
                    q.object.value if isinstance(q.object, ox.NamedNode | ox.Literal) else ""
                )
        for iri, props in sorted(by_subject.items()):
            if CONCEPT.value not in props.get(RDF_TYPE.value, []):
                lexicon.locations.setdefault(iri, (shown, lines.get(iri, 1)))
                continue
            prefs = props.get(PREF.value, [])
            schemes = props.get(IN_SCHEME.value, [])
            notation = props.get(NOTATION.value, [None])[0]
            labels = tuple(prefs + props.get(ALT.value, []) + ([notation] if notation else []))
            lexicon.add(
                Term(
                    iri=iri,
                    scheme=concept_scheme_key(schemes[0]) if schemes else "",
                    label=prefs[0] if prefs else iri,
                    labels=labels,
                    file=shown,
                    line=lines.get(iri, 1),
                    notation=notation,
                )
            )
    return quads


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def load_organizations(path: Path, root: Path, base: str, lexicon: Lexicon) -> list[Organization]:
    """Read data/organizations.yaml (a list of id/name/acronym/homepage) into the lexicon."""
    if not path.is_file():
        return []
    shown = _shown(path, root)
    try:
        text = decode_utf8(path.read_bytes())
    except NotUtf8 as bad:
        raise StructureError(
            f"file is not UTF-8 (byte 0x{bad.byte:02x} at offset {bad.offset}); save it as UTF-8",
            file=shown,
            line=bad.line,
        ) from None
    except OSError as exc:
        raise StructureError(f"cannot read file: {exc.strerror}", file=shown) from None
    node = safeyaml.compose(text, shown)
    if node is None:
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise StructureError("must be a list of organizations", file=shown, line=1)
    orgs: list[Organization] = []
    seen: dict[str, tuple[str, int]] = {}
    for item in node.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            raise StructureError("each organization must be a mapping", file=shown, line=line)
        values: dict[str, str] = {}
        lines: dict[str, int] = {}
        for k, v in item.value:
            if k.value not in {"id", "name", "acronym", "homepage"}:
                raise StructureError(
                    f"unknown organization field {k.value!r} (known: id, name, acronym, homepage)",
                    file=shown,
                    line=k.start_mark.line + 1,
                    field=str(k.value),
                )
            if not isinstance(v, yaml.ScalarNode):
                raise StructureError(
                    "must be a single value",
                    file=shown,
                    line=k.start_mark.line + 1,
                    field=str(k.value),
                )
            problem = text_problem(str(v.value))
            if problem is not None:
                raise StructureError(
                    problem, file=shown, line=k.start_mark.line + 1, field=str(k.value)
                )
            values[str(k.value)] = str(v.value).strip()
            lines[str(k.value)] = k.start_mark.line + 1
        if not values.get("name"):
            raise StructureError("organization has no name", file=shown, line=line, field="name")
        # The record-id rule: an organization id is part of an IRI and names a page of the site.
        oid = check_id(
            values.get("id") or slugify(values["name"]), Path(shown), lines.get("id", line)
        )
        page = oid.casefold()  # site/org/<id>.html: one page per id on any file system
        if page in seen:
            first, first_line = seen[page]
            same = "is used twice" if first == oid else f"and {first} name the same page"
            raise StructureError(
                f"organization id {oid} {same} (also on line {first_line})",
                file=shown,
                line=lines.get("id", line),
                field="id",
            )
        seen[page] = (oid, line)
        org = Organization(
            oid, values["name"], values.get("acronym"), values.get("homepage"), shown, line, lines
        )
        orgs.append(org)
        labels = [org.name]
        if org.acronym:
            labels += [org.acronym, f"{org.name} ({org.acronym})"]
        lexicon.add(
            Term(f"{base}org/{oid}", ORG_SCHEME, org.name, tuple(labels), shown, line, org.acronym)
        )
    return orgs
