"""Page files as a reader sees them: numbered text lines, from plain text or from HTML.

HTML is read with the standard library's parser; block elements end a line, inline elements
do not (so a capture's labels may run together with the value before them, as on the site).
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

PAGE_SUFFIXES = (".txt", ".html", ".htm")


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
