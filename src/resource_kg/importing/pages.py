"""A page's lines parsed into labelled fields, found by their labels wherever they stand.

Real captures of the clearinghouse differ: the text may start at the title (no "Resource
Details" heading), navigation and banner lines surround the heading, and a label may run
together with the value before it ("Resource Type: Other.Primary Audience: …") or the last
value with the funding footer ("… (UDS).This project is supported by …"). So a page is
recognized by its field labels, a label counts at the start of a line or in mid-line, and the
footer is cut wherever it starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from resource_kg.errors import RkgError
from resource_kg.importing.page_text import Line
from resource_kg.vocab import normalize

#: Field labels as the site spells them (variants seen included) → record field;
#: "details" is read but not kept.
LABEL_SPELLINGS: dict[str, str] = {
    "Year Developed": "year",
    "Year": "year",
    "Resource Type": "types",
    "Resource Types": "types",
    "Resource Type(s)": "types",
    "Primary Audience": "primary_audience",
    "Primary Audiences": "primary_audience",
    "Primary Audience(s)": "primary_audience",
    "Secondary Audience": "secondary_audience",
    "Secondary Audiences": "secondary_audience",
    "Secondary Audience(s)": "secondary_audience",
    "Language(s)": "languages",
    "Languages": "languages",
    "Language": "languages",
    "Developed by": "developed_by",
    "Developed By": "developed_by",
    "In collaboration with": "in_collaboration_with",
    "In Collaboration With": "in_collaboration_with",
    "Resource Summary": "summary",
    "Resource Details": "details",
    "Resource Topic": "topics",
    "Resource Topics": "topics",
    "Resource Topic(s)": "topics",
    "Resource Subtopic": "subtopics",
    "Resource Subtopics": "subtopics",
    "Resource Subtopic(s)": "subtopics",
    "Keywords": "keywords",
    "Keyword": "keywords",
}

#: The labels in the form they are compared in at the start of a line (any case, spacing).
FIELD_LABELS: dict[str, str] = {normalize(k): v for k, v in LABEL_SPELLINGS.items()}

PROSE_FIELDS = frozenset({"summary", "details"})

#: Lists the site prints with spaces only between labels.
RUN_TOGETHER = frozenset({"primary_audience", "secondary_audience"})

#: Fields that make a page a resource page: MIN_FIELDS of them, or one under the heading.
RESOURCE_FIELDS = frozenset(set(LABEL_SPELLINGS.values()) - PROSE_FIELDS)
MIN_FIELDS = 3

HEADING = "resource details"

#: Site navigation lines (normalized): what stands before the last of them is the site's header.
NAVIGATION = frozenset(
    {
        HEADING,
        "menu",
        "menu +",
        "search",
        "home",
        "skip to main content",
        "skip to content",
        "back to search results",
        "back to results",
        "print",
        "share",
    }
)

#: Promotion banners of the site ("Cybersecurity Learning Bundle"), dropped above a title.
BANNER = re.compile(r"^.{0,60}\b(?:learning|training|resource)\s+bundle$", re.IGNORECASE)

#: The funding footer; it may follow the last value with no space at all.
FOOTER = re.compile(r"this project is supported by\b", re.IGNORECASE)

SEE_OTHER = re.compile(
    r"\(\s*see other resources developed by this organi[sz]ation\s*\.?\s*\)\.?", re.IGNORECASE
)

COLLABORATION = re.compile(r"\bin collaboration with\b\s*:?", re.IGNORECASE)

ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…)\s*$")

# A label in mid-line is spelled as the site spells it and ends with a colon.
_MID_LABEL = re.compile(
    "(?P<label>"
    + "|".join(re.escape(s) for s in sorted(LABEL_SPELLINGS, key=len, reverse=True))
    + r")\s*:"
)


class NotAPage(RkgError):
    """The file is readable but is not a clearinghouse resource page."""


@dataclass
class PageField:
    """A field of the page: its label's line and the text after the label."""

    name: str
    line: int
    parts: list[str] = field(default_factory=list)

    def text(self) -> str:
        if self.name in PROSE_FIELDS:
            paragraphs = " ".join(p if p else "\n\n" for p in self.parts).split("\n\n")
            return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())
        return "\n".join(p for p in self.parts if p)


@dataclass
class Page:
    file: str
    title: str
    title_line: int
    subtitle: str | None
    fields: dict[str, PageField]
    canonical_url: str | None = None


@dataclass(frozen=True)
class Piece:
    """A stretch of one line: before any label (`name` None) or after the label `name`."""

    line: int
    name: str | None
    text: str


def _line_start_label(text: str) -> tuple[str, int] | None:
    """A label at the start of a line, in any case or spacing: (field, end of the label)."""
    head, colon, _ = text.partition(":")
    if colon and len(head) <= 40:
        name = FIELD_LABELS.get(normalize(head))
        if name is not None:
            return name, len(head) + 1
    return None


def _counts_mid_line(text: str, start: int, label: str) -> bool:
    """A one-word label ("Keywords:") in mid-line counts only where a value ended before it.

    "…PartnershipsKeywords:" or "…Housing. Keywords:" end a value; "Sign Language:" or "the
    Year:" in a sentence do not. Labels of several words are distinctive enough anywhere.
    """
    if " " in label or "(" in label:
        return True
    before = text[:start]
    if not before[-1:].isspace():
        return True
    return before.rstrip()[-1:] in {".", ";", ",", ")"}


def split_line(line: Line) -> tuple[list[Piece], bool]:
    """A line cut at its field labels and the footer; True when the footer starts in it."""
    text = line.text
    footer = FOOTER.search(text)
    if footer is not None:
        text = text[: footer.start()]
    cuts: list[tuple[int, int, str]] = []  # (label start, value start, field)
    first = _line_start_label(text)
    pos = 0
    if first is not None:
        cuts.append((0, first[1], first[0]))
        pos = first[1]
    for m in _MID_LABEL.finditer(text, pos):
        if m.start() == 0 or not _counts_mid_line(text, m.start(), m.group("label")):
            continue
        cuts.append((m.start(), m.end(), LABEL_SPELLINGS[m.group("label")]))
    pieces: list[Piece] = []
    if not cuts or cuts[0][0] > 0:
        before = text[: cuts[0][0] if cuts else len(text)].strip()
        if before or not cuts:
            pieces.append(Piece(line.number, None, before))
    for k, (_, value_start, name) in enumerate(cuts):
        end = cuts[k + 1][0] if k + 1 < len(cuts) else len(text)
        pieces.append(Piece(line.number, name, text[value_start:end].strip()))
    return pieces, footer is not None


def _title_lines(head: list[Piece]) -> list[Piece]:
    """The title (and subtitle) among the lines above the first field: site chrome left out."""
    lines = [p for p in head if p.text]
    kept: list[Piece] = []
    for k, piece in enumerate(lines):
        if normalize(piece.text) in NAVIGATION:
            if any(normalize(p.text) not in NAVIGATION for p in lines[k + 1 :]):
                kept = []  # what stood above it was the site's header
            continue
        kept.append(piece)
    while len(kept) > 1 and BANNER.match(kept[0].text):
        kept.pop(0)
    if kept and normalize(kept[0].text).startswith(HEADING + " "):
        # the heading run together with the title in one line
        rest = kept[0].text[len("Resource Details") :].strip()
        kept[0] = Piece(kept[0].line, None, rest)
    return kept


def _not_a_page(resource: dict[str, PageField], file: str) -> NotAPage:
    """Why a page is not a resource page, naming the field labels it has."""
    if not resource:
        return NotAPage(
            "not a resource page: none of its lines has a resource field label "
            "(Year Developed:, Resource Type:, Primary Audience:, Developed by:, Keywords:, …)",
            file=file,
        )
    shown = ", ".join(f"{name} (line {pf.line})" for name, pf in resource.items())
    return NotAPage(
        f"not a resource page: it has only {len(resource)} resource field label(s), {shown}; "
        f"a resource page has at least {MIN_FIELDS} (or one under a 'Resource Details' heading)",
        file=file,
    )


def _fields(lines: list[Line]) -> tuple[list[Piece], dict[str, PageField]]:
    """The lines above the first field label, and the fields up to the footer."""
    head: list[Piece] = []
    fields: dict[str, PageField] = {}
    current: PageField | None = None
    for ln in lines:
        pieces, footer = split_line(ln)
        for piece in pieces:
            if piece.name is None and current is None:
                head.append(piece)
            elif piece.name is None:
                assert current is not None
                if piece.text or current.parts:
                    current.parts.append(piece.text)
            else:
                current = fields.get(piece.name)
                if current is None:
                    current = fields[piece.name] = PageField(piece.name, piece.line)
                elif current.parts:
                    current.parts.append("")
                if piece.text:
                    current.parts.append(piece.text)
        if footer and current is not None:
            break
    return head, fields


def parse_page(lines: list[Line], file: str, canonical_url: str | None = None) -> Page:
    """Find the fields by their labels, the title above them; ignore chrome and footer.

    With a "Resource Details" heading, what stands above it is the site's header (a banner
    may quote a label); the page is read from the heading unless no title follows it.
    """
    heading = next((k for k, ln in enumerate(lines) if normalize(ln.text) == HEADING), None)
    head, fields = _fields(lines[heading:] if heading is not None else lines)
    title = _title_lines(head)
    if heading is not None and not title:
        head, fields = _fields(lines)
        title = _title_lines(head)
    resource = {n: pf for n, pf in fields.items() if n in RESOURCE_FIELDS}
    if len(resource) < (1 if heading is not None else MIN_FIELDS):
        raise _not_a_page(resource, file)
    if not title:
        first = min(pf.line for pf in fields.values())
        raise NotAPage("not a resource page: no title above its first field", file=file, line=first)
    subtitle = " ".join(p.text for p in title[1:]) or None
    return Page(file, title[0].text, title[0].line, subtitle, fields, canonical_url)
