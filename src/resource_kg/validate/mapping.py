"""Raw SHACL results mapped to findings: record, field, file, line and the value as the curator wrote it.

Two refinements make one problem one finding that says what to do:

* the bundled shapes whose problem the build also reports (a year, url or date that is not
  one, an unknown label or status, a missing title, a replacement that is no record) get the
  build's words (`resource_kg.advice`), chosen from the value as written: a quoted year is
  told to drop its quotes, not to write four digits;
* a label field left without any known label fails its `sh:minCount` ("Developer is
  missing") only because its label is unknown: `one_per_problem` keeps the "Unknown label"
  finding, which names the label and the closest known ones, and drops the derived one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import pyoxigraph as ox

from resource_kg import advice
from resource_kg.catalog import Catalog
from resource_kg.graph import FIELD_SPECS, RDF, UNRESOLVED, resource_iri
from resource_kg.records import FIELDS, Record
from resource_kg.validate.report import Finding
from resource_kg.validate.terms import RawResult, curie, nt, parse_term, term_text

# ---------------------------------------------------------------- mapping


_PREDICATE_FIELD: dict[str, str] = {spec.predicate: name for name, spec in FIELD_SPECS.items()}


class Mapper:
    """Turns raw results into findings named by record, field, file, line and written value."""

    def __init__(self, catalog: Catalog, on: dt.date | None = None) -> None:
        self.catalog = catalog
        self.on = on or dt.date.today()
        self.by_iri = {resource_iri(catalog.settings.base, r.id): r for r in catalog.records}

    def findings(self, raw: RawResult) -> list[Finding]:
        term = parse_term(raw.value)
        focus = parse_term(raw.focus)
        severity = raw.severity.rsplit("#", 1)[-1]
        shape = curie(raw.shape)
        record = self.by_iri.get(focus.value) if isinstance(focus, ox.NamedNode) else None
        if record is None:
            return [self._other(raw, focus, term, severity, shape)]
        title = record.get_text("title") or ""
        fields = self._fields(record, raw.path, term)
        out = []
        for name in fields:
            message = self._advice(shape, record, name, term) or raw.message
            out.append(
                Finding(
                    id=record.id,
                    title=title,
                    file=record.file,
                    line=record.line_of(name) if name else record.line,
                    field=name,
                    value=self._written(record, name, term, focus),
                    severity=severity,
                    message=message,
                    shape=shape,
                    focus=raw.focus,
                    path=raw.path,
                    term=raw.value,
                )
            )
        return out

    def _fields(self, record: Record, path: str, term: Any) -> list[str]:
        if path == UNRESOLVED and isinstance(term, ox.Literal):
            names = [
                name
                for name in FIELDS
                if term.value in record.get_list(name) and self._unresolved(name, term.value)
            ]
            return names or ["(unknown field)"]
        if path == RDF + "type":
            return ["(record)"]
        return [_PREDICATE_FIELD.get(path, curie(path) if path else "")]

    def _unresolved(self, name: str, label: str) -> bool:
        scheme = FIELD_SPECS[name].scheme
        return scheme is None or self.catalog.lexicon.resolve(scheme, label).iri is None

    def _advice(self, shape: str, record: Record, name: str, term: Any) -> str | None:
        """The build's words for a problem of a bundled shape, from the value as written;
        None keeps the shape's own message."""
        written = record.values.get(name)
        if shape == "rkgsh:RequiredNoUnresolvedLabel":
            scheme = FIELD_SPECS[name].scheme if name in FIELD_SPECS else None
            if scheme is None or not isinstance(term, ox.Literal):
                return None
            resolution = self.catalog.lexicon.resolve(scheme, term.value)
            return advice.finding(advice.unknown_label(term.value, scheme, resolution))
        if isinstance(written, list) or (term is not None and term_text(term) != str(written)):
            return None  # a value the record did not write (added by another tool)
        explain = _ADVICE.get(shape)
        if explain is None:
            return None
        text = explain(name, written, self.on)
        return advice.finding(text) if text else None

    def _written(self, record: Record, name: str, term: Any, focus: Any = None) -> str:
        """The value as the curator wrote it in the record, not the IRI it became.

        A node shape's result has the record itself as value; about a field the record
        left empty (a retired record without replaced_by), nothing was written."""
        if term is None or (term == focus and record.values.get(name) in (None, "", [])):
            return ""
        spec = FIELD_SPECS.get(name)
        raw = record.values.get(name)
        if spec is not None and isinstance(raw, list):
            if isinstance(term, ox.NamedNode) and spec.scheme is not None:
                for label in raw:
                    if self.catalog.lexicon.resolve(spec.scheme, label).iri == term.value:
                        return label
                known = self.catalog.lexicon.terms.get(term.value)
                return known.label if known else term_text(term)
            return term_text(term)
        if raw is not None and not isinstance(raw, list):
            return str(raw)
        known = (
            self.catalog.lexicon.terms.get(term.value) if isinstance(term, ox.NamedNode) else None
        )
        return known.label if known else term_text(term)

    def _other(self, raw: RawResult, focus: Any, term: Any, severity: str, shape: str) -> Finding:
        """A result on a concept, an ontology term or an organization: its file and line."""
        iri = focus.value if isinstance(focus, ox.NamedNode) else nt(focus)
        where = self.catalog.sources.get(iri)
        known = self.catalog.lexicon.terms.get(iri)
        return Finding(
            id=_short_id(iri),
            title=known.label if known and known.label != iri else "",
            file=where.file if where else "",
            line=where.line if where else 0,
            field=curie(raw.path) if raw.path else "",
            value=_short_id(term.value) if isinstance(term, ox.NamedNode) else term_text(term),
            severity=severity,
            message=raw.message,
            shape=shape,
            focus=raw.focus,
            path=raw.path,
            term=raw.value,
        )


def _short_id(iri: str) -> str:
    from resource_kg.config import CONCEPT_BASE

    if iri.startswith(CONCEPT_BASE):
        return iri[len(CONCEPT_BASE) :]
    return curie(iri)


def _year(_name: str, written: object, _on: dt.date) -> str | None:
    if isinstance(written, int):  # a year, only out of range or given twice
        return None
    return advice.year(written)


def _url(_name: str, written: object, _on: dt.date) -> str | None:
    return advice.url(str(written)) if written not in (None, "") else None


def _date(name: str, written: object, _on: dt.date) -> str | None:
    return advice.date(name, str(written)) if written not in (None, "") else None


def _title(_name: str, written: object, _on: dt.date) -> str | None:
    return advice.title_missing() if written in (None, "") else None


def _status(_name: str, written: object, _on: dt.date) -> str | None:
    return advice.status(str(written)) if written not in (None, "") else None


def _replaced_by(_name: str, written: object, _on: dt.date) -> str | None:
    return advice.replaced_by(str(written)) if written not in (None, "") else None


#: Bundled shapes whose problem the build reports too: the build's words, from the value.
_ADVICE: dict[str, Callable[[str, object, dt.date], str | None]] = {
    "rkgsh:RequiredYear": _year,
    "rkgsh:RequiredUrl": _url,
    "rkgsh:RequiredDateAdded": _date,
    "rkgsh:RequiredLastReviewedDate": _date,
    "rkgsh:RequiredTitle": _title,
    "rkgsh:VocabularyStatus": _status,
    "rkgsh:VocabularyReplacedBy": _replaced_by,
}


def one_per_problem(findings: Iterable[Finding]) -> list[Finding]:
    """Drop a "field is missing" finding (nothing written, on the field's own property) of a
    record whose same field holds an unknown label: that label is the problem to fix."""
    found = list(findings)
    unknown = {(f.file, f.id, f.field) for f in found if f.path == UNRESOLVED}
    if not unknown:
        return found
    own = {name: spec.predicate for name, spec in FIELD_SPECS.items()}
    return [
        f
        for f in found
        if not (f.value == "" and (f.file, f.id, f.field) in unknown and f.path == own.get(f.field))
    ]
