"""Findings and the validation Report, and the report rendered as text, CSV, JSON, Markdown or a SHACL report in Turtle.

Every renderer works from the report's sorted findings only, so two runs on the same input
give byte-identical output. Text and Markdown are for people: Violations first, then Warnings,
then Info, each grouped by record in file and line order, and one summary line (the counts per
field and per shape with `verbose`). Every renderer can show only the findings at or above a
severity (`severity="violation"`); the summary and the exit status still count them all. Text
quoted from the catalog goes through `printable`, so a title cannot drive the terminal.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import operator
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

import orjson
import pyoxigraph as ox

from resource_kg.errors import ValidationError
from resource_kg.graph import PREFIXES, XSD
from resource_kg.printable import printable
from resource_kg.spreadsheet import neutralize_row
from resource_kg.validate.terms import SH, SHAPES_NS, parse_term

SEVERITIES: tuple[str, ...] = ("Violation", "Warning", "Info")


FAIL_ON: dict[str, tuple[str, ...]] = {
    "violation": ("Violation",),
    "warning": ("Violation", "Warning"),
    "info": ("Violation", "Warning", "Info"),
}


FORMATS: tuple[str, ...] = ("text", "csv", "json", "markdown", "ttl")


KEYS: tuple[str, ...] = (
    "id",
    "title",
    "file",
    "line",
    "field",
    "value",
    "severity",
    "message",
    "shape",
)


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Finding:
    """One problem, in a curator's terms: which record, which field, where, and what to do."""

    id: str
    title: str
    file: str
    line: int
    field: str
    value: str
    severity: str
    message: str
    shape: str
    #: The RDF behind the finding (focus node, path, value as N-Triples); for the Turtle report.
    focus: str = dc_field(default="", compare=False, repr=False)
    path: str = dc_field(default="", compare=False, repr=False)
    term: str = dc_field(default="", compare=False, repr=False)

    def as_dict(self) -> dict[str, str | int]:
        """Exactly the documented keys, in their documented order."""
        return {key: getattr(self, key) for key in KEYS}

    def sort_key(self) -> tuple[str, int, str, str, str, str, str, str]:
        return SORT_KEY(self)


#: Report order: by file and line, then field, shape, value, id, severity and message (a C
#: attrgetter: 74k findings sort in 0.1 s instead of 0.4 s).
SORT_KEY = operator.attrgetter(
    "file", "line", "field", "shape", "value", "id", "severity", "message"
)


@dataclass
class Report:
    """Findings of one validation run plus what was checked; renders the same bytes every run."""

    findings: list[Finding]
    date: dt.date
    records_checked: int
    focus_nodes: dict[str, int]
    base: str = "https://w3id.org/resource-kg/"

    def counts(self) -> dict[str, int]:
        """Results per severity (every severity present, zero when none)."""
        counter = Counter(f.severity for f in self.findings)
        return {sev: counter.get(sev, 0) for sev in SEVERITIES}

    def per_field(self) -> dict[str, int]:
        counter = Counter(f.field or "(record)" for f in self.findings)
        return dict(sorted(counter.items()))

    def conforms(self, fail_on: str = "violation") -> bool:
        """True when no finding reaches the `fail_on` level (violation, warning or info)."""
        if fail_on not in FAIL_ON:
            raise ValidationError(f"--fail-on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
        return not any(f.severity in FAIL_ON[fail_on] for f in self.findings)

    def summary(self) -> dict[str, Any]:
        return {
            "validation_date": self.date.isoformat(),
            "records_checked": self.records_checked,
            "focus_nodes_per_shape": dict(sorted(self.focus_nodes.items())),
            "results": len(self.findings),
            "results_per_severity": self.counts(),
            "results_per_field": self.per_field(),
            "conforms": {level: self.conforms(level) for level in FAIL_ON},
        }

    def shown(self, severity: str = "info") -> Report:
        """The same run showing only the findings at `severity` or above (summary: all)."""
        if severity not in FAIL_ON:
            raise ValidationError(f"severity must be one of {', '.join(FAIL_ON)}, not {severity!r}")
        if severity == "info":
            return self
        wanted = FAIL_ON[severity]
        return _Shown(
            [f for f in self.findings if f.severity in wanted],
            self.date,
            self.records_checked,
            self.focus_nodes,
            self.base,
            whole=self,
            level=severity,
        )

    def run(self) -> Report:
        """The whole run this report shows (itself unless filtered by `shown`)."""
        return self

    def render(
        self,
        fmt: str = "text",
        *,
        severity: str = "info",
        verbose: bool = False,
        fail_on: str = "violation",
    ) -> str:
        """The report as text, csv, json, markdown or ttl (a SHACL validation report).

        `severity` keeps the findings at that level or above; `verbose` adds the counts per
        field and per shape to text and markdown; `fail_on` is the level the summary line
        says the run conforms at."""
        renderers: dict[str, Callable[[Report], str]] = {
            "csv": csv_rows,
            "json": json_doc,
            "ttl": turtle,
        }
        shown = self.shown(severity)
        if fmt == "text":
            return text(shown, verbose=verbose, fail_on=fail_on)
        if fmt == "markdown":
            return markdown(shown, verbose=verbose, fail_on=fail_on)
        if fmt not in renderers:
            raise ValidationError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
        return renderers[fmt](shown)


@dataclass
class _Shown(Report):
    """A report filtered by severity: its findings are a part, its summary the whole run's."""

    whole: Report | None = None
    level: str = "info"

    def run(self) -> Report:
        assert self.whole is not None
        return self.whole

    def summary(self) -> dict[str, Any]:
        return self.run().summary()

    def counts(self) -> dict[str, int]:
        return self.run().counts()

    def conforms(self, fail_on: str = "violation") -> bool:
        return self.run().conforms(fail_on)


# ---------------------------------------------------------------- rendering


#: Sections of the text and Markdown reports, most severe first.
_SECTION: dict[str, str] = {"Violation": "Violations", "Warning": "Warnings", "Info": "Info"}


def _groups(findings: list[Finding]) -> list[tuple[tuple[str, str], list[Finding]]]:
    """Findings grouped by (file, record id), groups in order of their first finding."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.file, f.id), []).append(f)
    return list(groups.items())


def _sections(report: Report) -> list[tuple[str, list[tuple[tuple[str, str], list[Finding]]]]]:
    """(severity, its findings grouped by record), Violations first; empty ones left out."""
    out = []
    for severity in SEVERITIES:
        found = [f for f in report.findings if f.severity == severity]
        if found:
            out.append((severity, _groups(found)))
    return out


def _count(n: int, severity: str) -> str:
    name = severity.lower()
    return f"{n} {name}" if n == 1 or severity == "Info" else f"{n} {name}s"


def summary_line(report: Report, fail_on: str = "violation") -> str:
    """The one line that ends a text report: what was checked, what was found, the verdict."""
    counts = report.counts()
    found = ", ".join(_count(counts[sev], sev) for sev in SEVERITIES)
    verdict = "conforms" if report.conforms(fail_on) else "does not conform"
    records = report.records_checked
    line = (
        f"Summary: {records} record{'' if records == 1 else 's'} checked as of "
        f"{report.date.isoformat()}: {found}; {verdict} at --fail-on {fail_on}"
    )
    if isinstance(report, _Shown):
        shown = " and ".join(_SECTION[sev].lower() for sev in FAIL_ON[report.level])
        line += f" (showing {shown} only)"
    return line + "."


def _nothing(report: Report) -> str:
    """What a report without findings (to show) says instead."""
    if isinstance(report, _Shown):
        return "No " + " or ".join(_SECTION[sev].lower() for sev in FAIL_ON[report.level]) + "."
    return "No findings."


def _verbose_lines(report: Report) -> list[str]:
    s = report.summary()
    per_field = s["results_per_field"]
    lines = [
        "Results per field: "
        + (", ".join(f"{name} {n}" for name, n in per_field.items()) if per_field else "none"),
        "Focus nodes checked per shape:",
    ]
    width = max((len(k) for k in s["focus_nodes_per_shape"]), default=0)
    for shape, n in s["focus_nodes_per_shape"].items():
        lines.append(f"  {shape.ljust(width)}  {n}")
    return lines


def text(report: Report, *, verbose: bool = False, fail_on: str = "violation") -> str:
    p = printable
    out: list[str] = []
    for severity, groups in _sections(report):
        out += [f"{_SECTION[severity]} ({sum(len(items) for _, items in groups)})", ""]
        for (file, rid), items in groups:
            title = items[0].title
            where = p(file) if file else "(no file)"
            out.append(f"{where}: {p(rid)}" + (f" — {p(title)}" if title else ""))
            for f in items:
                value = f" = {p(repr(f.value))}" if f.value else ""
                field = p(f.field) if f.field else "(record)"
                out.append(f"  line {f.line}: {f.severity}: {field}{value}")
                out.append(f"    {p(f.message)} [{p(f.shape)}]")
            out.append("")
    if not report.findings:
        out += [_nothing(report), ""]
    out.append(summary_line(report, fail_on))
    if verbose:
        out += _verbose_lines(report)
    return "\n".join(out) + "\n"


def csv_rows(report: Report) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(KEYS)
    for f in report.findings:
        writer.writerow(neutralize_row(f.as_dict()[k] for k in KEYS))
    return buf.getvalue()


def json_doc(report: Report) -> str:
    """The JSON report, written by orjson (a maintained C encoder): the same bytes as
    `json.dumps(doc, indent=2, ensure_ascii=False)` (a test compares both) in a fraction of the
    time (the standard library encodes in Python once `indent` is given: 2.2 s for 67k results)."""
    doc: dict[str, Any] = {
        "results": [f.as_dict() for f in report.findings],
        "summary": report.summary(),
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"


def json_doc_reference(report: Report) -> str:
    """The JSON report through `json.dumps` alone (what `json_doc` must equal)."""
    doc: dict[str, Any] = {
        "results": [f.as_dict() for f in report.findings],
        "summary": report.summary(),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _cell(text: object) -> str:
    return printable(str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " "))


def markdown(report: Report, *, verbose: bool = False, fail_on: str = "violation") -> str:
    out = [f"# Validation report ({report.date.isoformat()})", ""]
    for severity, groups in _sections(report):
        out += [f"## {_SECTION[severity]}", ""]
        for (file, rid), items in groups:
            title = items[0].title
            out.append(f"### {_cell(rid)}" + (f" — {_cell(title)}" if title else ""))
            out.append("")
            out.append(f"File: `{_cell(file)}`" if file else "File: (none)")
            out.append("")
            out.append("| line | field | value | severity | message | shape |")
            out.append("|---:|---|---|---|---|---|")
            for f in items:
                out.append(
                    f"| {f.line} | {_cell(f.field)} | {_cell(f.value)} | {f.severity} | "
                    f"{_cell(f.message)} | {_cell(f.shape)} |"
                )
            out.append("")
    if not report.findings:
        out += [_nothing(report), ""]
    out += ["## Summary", "", summary_line(report, fail_on), ""]
    if verbose:
        out += ["```", *_verbose_lines(report), "```", ""]
    return "\n".join(out)


def turtle(report: Report) -> str:
    """A SHACL validation report; results are numbered IRIs (no blank nodes), source located."""
    base = f"{report.base}validation/report"
    rep = ox.NamedNode(base)
    n = ox.NamedNode
    triples = [
        ox.Triple(rep, n(PREFIXES["rdf"] + "type"), n(SH + "ValidationReport")),
        ox.Triple(
            rep,
            n(SH + "conforms"),
            ox.Literal("true" if not report.findings else "false", datatype=n(XSD + "boolean")),
        ),
        ox.Triple(
            rep,
            n(SHAPES_NS + "validationDate"),
            ox.Literal(report.date.isoformat(), datatype=n(XSD + "date")),
        ),
    ]
    for i, f in enumerate(report.findings, start=1):
        r = n(f"{base}/result/{i}")
        triples += [
            ox.Triple(rep, n(SH + "result"), r),
            ox.Triple(r, n(PREFIXES["rdf"] + "type"), n(SH + "ValidationResult")),
            ox.Triple(r, n(SH + "resultSeverity"), n(SH + f.severity)),
            ox.Triple(r, n(SH + "resultMessage"), ox.Literal(f.message, language="en")),
            ox.Triple(r, n(SHAPES_NS + "recordId"), ox.Literal(f.id)),
            ox.Triple(r, n(SHAPES_NS + "sourceFile"), ox.Literal(f.file)),
            ox.Triple(
                r, n(SHAPES_NS + "sourceLine"), ox.Literal(str(f.line), datatype=n(XSD + "integer"))
            ),
            ox.Triple(r, n(SHAPES_NS + "field"), ox.Literal(f.field)),
            ox.Triple(r, n(SHAPES_NS + "writtenValue"), ox.Literal(f.value)),
        ]
        if f.focus.startswith("<"):
            triples.append(ox.Triple(r, n(SH + "focusNode"), n(f.focus[1:-1])))
        if f.path:
            triples.append(ox.Triple(r, n(SH + "resultPath"), n(f.path)))
        shape_iri = (
            f.shape.replace("rkgsh:", SHAPES_NS, 1) if f.shape.startswith("rkgsh:") else f.shape
        )
        triples.append(ox.Triple(r, n(SH + "sourceShape"), n(shape_iri)))
        if f.term:
            value = parse_term(f.term)
            if value is not None and not isinstance(value, ox.BlankNode):
                triples.append(ox.Triple(r, n(SH + "value"), value))
    prefixes = dict(PREFIXES, sh=SH, rkgsh=SHAPES_NS)
    ordered = sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    data = ox.serialize(ordered, format=ox.RdfFormat.TURTLE, prefixes=prefixes)
    assert data is not None
    return data.decode("utf-8")
