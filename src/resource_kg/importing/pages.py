"""Clearinghouse pages (.txt/.html) read as numbered lines and parsed into labelled fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from resource_kg.errors import RkgError
from resource_kg.vocab import normalize

PAGE_SUFFIXES = (".txt", ".html", ".htm")


#: The page's field labels (normalized) → record field; "details" is read but not kept.
FIELD_LABELS: dict[str, str] = {
    "year developed": "year",
    "year": "year",
    "resource type": "types",
    "resource types": "types",
    "primary audience": "primary_audience",
    "primary audiences": "primary_audience",
    "secondary audience": "secondary_audience",
    "secondary audiences": "secondary_audience",
    "language s": "languages",
    "languages": "languages",
    "language": "languages",
    "developed by": "developed_by",
    "in collaboration with": "in_collaboration_with",
    "resource summary": "summary",
    "resource details": "details",
    "resource topic": "topics",
    "resource topics": "topics",
    "resource subtopic": "subtopics",
    "resource subtopics": "subtopics",
    "keywords": "keywords",
    "keyword": "keywords",
}


PROSE_FIELDS = frozenset({"summary", "details"})


#: Lists the site prints with spaces only between labels.
RUN_TOGETHER = frozenset({"primary_audience", "secondary_audience"})


HEADING = "resource details"


FOOTER = re.compile(r"^\s*this project is supported by\b", re.IGNORECASE)


SEE_OTHER = re.compile(r"\(\s*see other resources developed by this organi[sz]ation\s*\)\.?", re.I)


COLLABORATION = re.compile(r"\bin collaboration with\b\s*:?", re.IGNORECASE)


COLLAB_LINE = re.compile(r"^\s*in collaboration with\b\s*:?\s*(.*)$", re.IGNORECASE)


ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…)\s*$")


class NotAPage(RkgError):
    """The file is readable but is not a clearinghouse resource page."""


# ---------------------------------------------------------------- page text


@dataclass(frozen=True)
class Line:
    number: int
    text: str


class _TextLines(HTMLParser):
    """HTML → text lines as a reader sees them; block elements end a line."""

    BLOCK = frozenset(
        [
            "address",
            "article",
            "aside",
            "blockquote",
            "br",
            "dd",
            "div",
            "dl",
            "dt",
            "footer",
            "form",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "header",
            "hr",
            "li",
            "main",
            "nav",
            "ol",
            "p",
            "section",
            "table",
            "tbody",
            "td",
            "th",
            "thead",
            "tr",
            "ul",
        ]
    )
    SKIP = frozenset({"script", "style", "noscript", "template", "title", "svg", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[Line] = []
        self.parts: list[str] = []
        self.start = 1
        self.skip = 0
        self.canonical: str | None = None

    def flush(self) -> None:
        text = " ".join("".join(self.parts).split())
        if text:
            self.lines.append(Line(self.start, text))
        self.parts = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "link":
            a = dict(attrs)
            if (
                (a.get("rel") or "").lower() == "canonical"
                and a.get("href")
                and self.canonical is None
            ):
                self.canonical = (a["href"] or "").strip()
        elif tag == "meta":
            a = dict(attrs)
            if a.get("property") == "og:url" and a.get("content") and self.canonical is None:
                self.canonical = (a["content"] or "").strip()
        if tag in self.SKIP:
            self.skip += 1
        elif tag in self.BLOCK:
            self.flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCK:
            self.flush()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if not self.parts or not "".join(self.parts).strip():
            self.start = self.getpos()[0] + data[: len(data) - len(data.lstrip())].count("\n")
        self.parts.append(data)


def html_lines(text: str) -> tuple[list[Line], str | None]:
    """Text lines of an HTML page and its canonical URL (standard-library parser only)."""
    parser = _TextLines()
    parser.feed(text)
    parser.close()
    parser.flush()
    return parser.lines, parser.canonical


def text_lines(text: str) -> list[Line]:
    return [Line(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)]


def is_html(path: Path, text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return path.suffix.lower() in (".html", ".htm") or head.startswith(("<!doctype", "<html"))


# ---------------------------------------------------------------- page structure


@dataclass
class PageField:
    """A field of the page: its label's line and the text lines under it."""

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


def _field_label(text: str) -> tuple[str, str] | None:
    head, colon, rest = text.partition(":")
    if colon and len(head) <= 40:
        name = FIELD_LABELS.get(normalize(head))
        if name is not None:
            return name, rest.strip()
    collab = COLLAB_LINE.match(text)
    if collab:
        return "in_collaboration_with", collab.group(1).strip()
    return None


def parse_page(lines: list[Line], file: str, canonical_url: str | None = None) -> Page:
    """Find heading, title (and optional second line), fields; ignore banners and footer."""
    start = next(
        (k for k, ln in enumerate(lines) if ":" not in ln.text and normalize(ln.text) == HEADING),
        None,
    )
    if start is None:
        raise NotAPage("not a resource page: it has no 'Resource Details' heading", file=file)
    k = start + 1
    title_lines: list[Line] = []
    while (
        k < len(lines) and _field_label(lines[k].text) is None and not FOOTER.match(lines[k].text)
    ):
        if lines[k].text:
            title_lines.append(lines[k])
        k += 1
    if not title_lines:
        raise NotAPage(
            "not a resource page: no title under the 'Resource Details' heading",
            file=file,
            line=lines[start].number,
        )
    fields: dict[str, PageField] = {}
    current: PageField | None = None
    for ln in lines[k:]:
        if FOOTER.match(ln.text):
            break
        label = _field_label(ln.text)
        if label is not None:
            name, rest = label
            current = fields.get(name)
            if current is None:
                current = fields[name] = PageField(name, ln.number)
            elif current.parts:
                current.parts.append("")
            if rest:
                current.parts.append(rest)
        elif current is not None and (ln.text or current.parts):
            current.parts.append(ln.text)
    if not fields:
        raise NotAPage(
            "not a resource page: no resource fields (Year Developed:, Resource Type:, ...)",
            file=file,
            line=title_lines[0].number,
        )
    subtitle = " ".join(ln.text for ln in title_lines[1:]) or None
    return Page(file, title_lines[0].text, title_lines[0].number, subtitle, fields, canonical_url)
