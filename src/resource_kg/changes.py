"""What changed since the previous release: resources added, removed and changed, field by field.

Compared are the curated facts (the catalog graph) of the two releases, resource by resource;
the derived graph follows from them. The result is written twice: CHANGES.md for people and
changes.ttl for programs, as Talis changesets (one `cs:ChangeSet` per resource whose
additions and removals are `rdf:Statement`s), so a consumer can patch its own copy.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from resource_kg.catalog import Catalog
from resource_kg.errors import PublishError
from resource_kg.graph import (
    DCT,
    FIELD_SPECS,
    FOAF,
    PREFIXES,
    RDF,
    RDFS,
    SKOS,
    UNRESOLVED,
    XSD,
    rkg,
)
from resource_kg.jsonld import Compactor

CS = "http://purl.org/vocab/changeset/schema#"
VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
RESOURCE = rkg("Resource")
RDF_TYPE = ox.NamedNode(RDF + "type")

#: Property → the record field a curator knows it by.
FIELD_OF: dict[str, str] = {spec.predicate: name for name, spec in FIELD_SPECS.items()}
FIELD_OF[UNRESOLVED] = "unresolved_label"
FIELD_OF[RDF + "type"] = "class"
FIELD_ORDER = {name: i for i, name in enumerate([*FIELD_SPECS, "unresolved_label", "class"])}

Description = dict[str, set[ox.NamedNode | ox.Literal]]


@dataclass(frozen=True)
class FieldChange:
    """One field of one resource: its values before and after, and what was added/removed."""

    field: str
    predicate: str
    old: tuple[str, ...]
    new: tuple[str, ...]
    removed: tuple[ox.NamedNode | ox.Literal, ...]
    added: tuple[ox.NamedNode | ox.Literal, ...]


@dataclass(frozen=True)
class ResourceChange:
    """A resource added, removed or changed; `fields` lists the fields that differ."""

    kind: str  # "added" | "removed" | "changed"
    iri: str
    id: str
    title: str
    fields: tuple[FieldChange, ...]


@dataclass
class Changes:
    """The difference between a previous release (if any) and the catalog being published."""

    version: str
    date: dt.date
    previous_version: str | None
    previous_date: str | None
    resources: list[ResourceChange] = field(default_factory=list)

    def of(self, kind: str) -> list[ResourceChange]:
        return [r for r in self.resources if r.kind == kind]

    def summary(self) -> str:
        if self.previous_version is None:
            return "first release"
        n = {k: len(self.of(k)) for k in ("added", "removed", "changed")}
        return f"{n['added']} added, {n['removed']} removed, {n['changed']} changed since {self.previous_version}"

    # ------------------------------------------------------------ Markdown

    def markdown(self, notes: list[str] | None = None) -> str:
        """CHANGES.md: a list per kind; a table of old and new values per changed resource."""
        out = [f"# Changes in release {self.version} ({self.date.isoformat()})", ""]
        for note in notes or []:
            out += [f"> {note}", ""]
        if self.previous_version is None:
            out += ["First release: there is no previous release to compare with.", ""]
            return "\n".join(out)
        since = f"release {self.previous_version}"
        if self.previous_date:
            since += f" ({self.previous_date})"
        n = {k: len(self.of(k)) for k in ("added", "removed", "changed")}
        out += [
            f"Compared with {since}: {n['added']} added, {n['removed']} removed, "
            f"{n['changed']} changed.",
            "",
        ]
        for kind, heading in (("added", "Added"), ("removed", "Removed")):
            items = self.of(kind)
            if not items:
                continue
            out += [f"## {heading} ({len(items)})", ""]
            for r in items:
                out.append(f"- {_md(r.id)} {_md(r.title)} <{r.iri}>")
            out.append("")
        changed = self.of("changed")
        if changed:
            out += [f"## Changed ({len(changed)})", ""]
            for r in changed:
                out += [f"### {_md(r.id)} {_md(r.title)}", "", f"<{r.iri}>", ""]
                out += ["| field | old | new |", "| --- | --- | --- |"]
                for f in r.fields:
                    out.append(f"| {f.field} | {_cell(f.old)} | {_cell(f.new)} |")
                out.append("")
        return "\n".join(out)

    # ------------------------------------------------------------ Turtle

    def turtle(self, base_url: str) -> bytes:
        """changes.ttl: one cs:ChangeSet per resource; statements get IRIs, never blank nodes."""
        doc = f"{base_url}changes.ttl#"
        triples: list[ox.Triple] = []
        date = ox.Literal(self.date.isoformat(), datatype=ox.NamedNode(XSD + "date"))
        for r in self.resources:
            cs = ox.NamedNode(f"{doc}{r.id}")
            reason = (
                r.kind
                if r.kind != "changed"
                else "changed: " + ", ".join(f.field for f in r.fields)
            )
            triples += [
                ox.Triple(cs, RDF_TYPE, ox.NamedNode(CS + "ChangeSet")),
                ox.Triple(cs, ox.NamedNode(CS + "subjectOfChange"), ox.NamedNode(r.iri)),
                ox.Triple(cs, ox.NamedNode(CS + "changeReason"), ox.Literal(reason)),
                ox.Triple(cs, ox.NamedNode(DCT + "date"), date),
            ]
            for kind, attr in (("removal", "removed"), ("addition", "added")):
                statements = [(f.predicate, value) for f in r.fields for value in getattr(f, attr)]
                for n, (predicate, value) in enumerate(statements, start=1):
                    st = ox.NamedNode(f"{doc}{r.id}-{kind}-{n}")
                    triples += [
                        ox.Triple(cs, ox.NamedNode(CS + kind), st),
                        ox.Triple(st, RDF_TYPE, ox.NamedNode(RDF + "Statement")),
                        ox.Triple(st, ox.NamedNode(RDF + "subject"), ox.NamedNode(r.iri)),
                        ox.Triple(st, ox.NamedNode(RDF + "predicate"), ox.NamedNode(predicate)),
                        ox.Triple(st, ox.NamedNode(RDF + "object"), value),
                    ]
        triples.sort(key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
        data = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes={**PREFIXES, "cs": CS})
        header = f"# Changes in release {self.version}: {self.summary()}.\n"
        return header.encode() + (data or b"")


# ---------------------------------------------------------------- reading releases


def version_key(name: str) -> tuple[int, int, int] | None:
    m = VERSION_RE.match(name)
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def releases_in(out: Path) -> list[Path]:
    """Release folders of an out folder (named X.Y.Z, holding catalog.trig), oldest first."""
    if not out.is_dir():
        return []
    found = [
        p
        for p in out.iterdir()
        if p.is_dir() and version_key(p.name) and (p / "catalog.trig").is_file()
    ]
    return sorted(found, key=lambda p: version_key(p.name) or (0, 0, 0))


@dataclass
class PreviousRelease:
    """What the comparison needs from a previous release folder."""

    version: str
    date: str | None
    resources: dict[str, Description]
    labels: dict[str, str]


def read_release(folder: Path) -> PreviousRelease:
    """Parse a release's catalog.trig (and void.ttl for its version and date)."""
    trig = folder / "catalog.trig"
    if not trig.is_file():
        raise PublishError("not a release folder: it holds no catalog.trig", file=folder)
    labels = _LabelPicker()
    by_subject: dict[str, Description] = defaultdict(lambda: defaultdict(set))
    resources: set[str] = set()
    try:
        # Streamed: a large release is never held as one list of quads.
        for q in ox.parse(path=str(trig), format=ox.RdfFormat.TRIG):
            labels.add(q.subject, q.predicate.value, q.object)
            if str(q.graph_name).endswith("/graph/catalog>"):
                _describe(by_subject, resources, q.subject, q.predicate, q.object)
    except SyntaxError as exc:
        raise PublishError(f"previous release does not parse: {exc}", file=trig) from exc
    version, date = folder.name, None
    void = folder / "void.ttl"
    if void.is_file():
        for t in ox.parse(path=str(void), format=ox.RdfFormat.TURTLE):
            if t.predicate.value == "http://www.w3.org/ns/dcat#version" and str(t.subject).endswith(
                "#dataset>"
            ):
                version = t.object.value
            if t.predicate.value == DCT + "issued" and str(t.subject).endswith("#dataset>"):
                date = t.object.value
    return PreviousRelease(version, date, _finish(by_subject, resources), labels.labels())


def _describe(
    by_subject: dict[str, Description], resources: set[str], s: Any, p: Any, o: Any
) -> None:
    """Record one catalog-graph fact (IRI subject, no blank-node or quoted-triple object)."""
    if not isinstance(s, ox.NamedNode) or isinstance(o, ox.BlankNode | ox.Triple):
        return
    by_subject[s.value][p.value].add(o)
    if p == RDF_TYPE and o == RESOURCE:
        resources.add(s.value)


def _finish(by_subject: dict[str, Description], resources: set[str]) -> dict[str, Description]:
    """Property → values of every rkg:Resource of the catalog graph."""
    return {iri: dict(by_subject[iri]) for iri in sorted(resources)}


def _current_descriptions(catalog: Catalog) -> dict[str, Description]:
    """Field values per resource of the catalog graph, from the quad table's keys."""
    table = catalog.quad_table
    terms = table.table.terms
    graph, rdf_type, resource = str(catalog.graphs.catalog), str(RDF_TYPE), str(RESOURCE)
    keys = [k for k in table.keys if k[0] == graph]
    wanted = {k[1] for k in keys if k[2] == rdf_type and k[3] == resource}
    by_subject: dict[str, Description] = defaultdict(lambda: defaultdict(set))
    for _, s, p, o in keys:
        if s in wanted and o[0] != "_" and not o.startswith("<<"):
            by_subject[terms[s].value][terms[p].value].add(terms[o])
    return {iri: dict(by_subject[iri]) for iri in sorted(by_subject)}


class _LabelPicker:
    """A display label per IRI: prefLabel, name, title or rdfs:label, first found wins."""

    RANK = {
        p: i
        for i, p in enumerate((SKOS + "prefLabel", FOAF + "name", DCT + "title", RDFS + "label"))
    }

    def __init__(self) -> None:
        self.best: dict[str, tuple[int, str]] = {}

    def add(self, s: Any, p: str, o: Any) -> None:
        r = self.RANK.get(p)
        if r is None or not isinstance(o, ox.Literal) or isinstance(s, ox.Triple):
            return
        cand = (r, o.value)
        old = self.best.get(s.value)
        if old is None or cand < old:
            self.best[s.value] = cand

    def labels(self) -> dict[str, str]:
        return {k: v[1] for k, v in self.best.items()}


def _labels(quads: list[ox.Quad]) -> dict[str, str]:
    """A display label per IRI: prefLabel, name, title or rdfs:label, first found wins."""
    picker = _LabelPicker()
    for q in quads:
        picker.add(q.subject, q.predicate.value, q.object)
    return picker.labels()


def _current_labels(catalog: Catalog) -> dict[str, str]:
    """`_labels` of all the catalog's quads, from the quad table's keys."""
    table = catalog.quad_table
    terms = table.table.terms
    picker = _LabelPicker()
    ranked = {f"<{p}>" for p in _LabelPicker.RANK}
    for _, s, p, o in table.keys:
        if p in ranked and o[0] == '"':
            picker.add(terms[s], terms[p].value, terms[o])
    return picker.labels()


# ---------------------------------------------------------------- comparing


def compare(catalog: Catalog, version: str, date: dt.date, previous: Path | None) -> Changes:
    """Changes of `catalog` against the release folder `previous` (None: first release)."""
    if previous is None:
        return Changes(version, date, None, None)
    prev = read_release(previous)
    current = _current_descriptions(catalog)
    labels = {**prev.labels, **_current_labels(catalog)}
    compactor = Compactor(PREFIXES)
    changes = Changes(version, date, prev.version, prev.date)
    for iri in sorted(set(current) | set(prev.resources), key=_natural):
        old, new = prev.resources.get(iri, {}), current.get(iri, {})
        if old == new:
            continue
        kind = "added" if not old else "removed" if not new else "changed"
        fields: list[FieldChange] = []
        for predicate in set(old) | set(new):
            before, after = old.get(predicate, set()), new.get(predicate, set())
            if before == after:
                continue
            fields.append(
                FieldChange(
                    FIELD_OF.get(predicate, compactor.iri(predicate)),
                    predicate,
                    _shown(before, labels),
                    _shown(after, labels),
                    tuple(sorted(before - after, key=str)),
                    tuple(sorted(after - before, key=str)),
                )
            )
        fields.sort(key=lambda f: (FIELD_ORDER.get(f.field, len(FIELD_ORDER)), f.field))
        desc = new or old
        rid = _first(desc.get(DCT + "identifier")) or iri.rsplit("/", 1)[-1]
        title = _first(desc.get(DCT + "title")) or ""
        changes.resources.append(ResourceChange(kind, iri, rid, title, tuple(fields)))
    order = {"added": 0, "removed": 1, "changed": 2}
    changes.resources.sort(key=lambda r: (order[r.kind], _natural(r.iri)))
    return changes


def _natural(text: str) -> tuple[tuple[int, str], ...]:
    """Sort key that puts resource 99 before resource 100."""
    return tuple((int(p), "") if p.isdigit() else (0, p) for p in re.split(r"(\d+)", text))


def _first(values: set[ox.NamedNode | ox.Literal] | None) -> str | None:
    return min((v.value for v in values), default=None) if values else None


def _shown(values: set[ox.NamedNode | ox.Literal], labels: dict[str, str]) -> tuple[str, ...]:
    out = []
    for v in values:
        out.append(labels.get(v.value, v.value) if isinstance(v, ox.NamedNode) else v.value)
    return tuple(sorted(out, key=str.casefold))


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _cell(values: tuple[str, ...]) -> str:
    return "; ".join(_md(v) for v in values) if values else "—"
