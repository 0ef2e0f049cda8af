"""A parsed page turned into a record: ids from URLs, labels resolved, unknown labels kept and reported."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from resource_kg.errors import RkgError
from resource_kg.files import NotUtf8, decode_utf8
from resource_kg.graph import FIELD_SPECS
from resource_kg.importing.labels import LabelSplitter
from resource_kg.importing.pages import (
    COLLABORATION,
    ELLIPSIS,
    PAGE_SUFFIXES,
    RUN_TOGETHER,
    SEE_OTHER,
    Line,
    Page,
    html_lines,
    is_html,
    parse_page,
    text_lines,
)
from resource_kg.records import FIELDS, ID_PATTERN, LIST_FIELDS, Value
from resource_kg.vocab import Lexicon, slugify

# ---------------------------------------------------------------- page → record values


@dataclass(frozen=True)
class UnknownLabel:
    """A label no vocabulary knows: kept in the record as written, reported with suggestions."""

    file: str
    line: int
    field: str
    label: str
    suggestions: tuple[str, ...]
    row: int | None = None

    def __str__(self) -> str:
        hint = f" (closest known: {', '.join(self.suggestions)})" if self.suggestions else ""
        where = f"row {self.row}, column" if self.row is not None else "field"
        return (
            f"{self.file}:{self.line}: {where} '{self.field}': unknown label "
            f"{self.label!r} kept as written{hint}"
        )


@dataclass
class PageRecord:
    """The record values read from one page, with what a curator must know about them."""

    file: str
    values: dict[str, Value]
    id_from_url: bool
    unknown: list[UnknownLabel] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cut_short: set[str] = field(default_factory=set)


def id_from_url(url: str | None) -> str | None:
    if not url:
        return None
    found = parse_qs(urlsplit(url.strip()).query).get("id")
    rid = found[0].strip().rstrip("/") if found else ""
    return rid if ID_PATTERN.match(rid) else None


def slug_id(title: str) -> str:
    slug = slugify(title)
    if len(slug) > 80:
        slug = slug[:80].rsplit("-", 1)[0]
    return slug


class PageReader:
    """Reads pages into record values; label matchers are built once, for every page of a run."""

    def __init__(self, lexicon: Lexicon, *, take_summary: bool = True) -> None:
        self.lexicon = lexicon
        self.take_summary = take_summary
        self.splitters: dict[str, LabelSplitter] = {}
        for scheme in lexicon.schemes():
            labels = [label for term in lexicon.in_scheme(scheme) for label in term.labels]
            self.splitters[scheme] = LabelSplitter(labels)
        self._suggestions: dict[tuple[str, str], tuple[str, ...]] = {}

    def suggest(self, scheme: str, label: str) -> tuple[str, ...]:
        key = (scheme, label)
        if key not in self._suggestions:
            self._suggestions[key] = self.lexicon.suggest(scheme, label)
        return self._suggestions[key]

    def load(self, path: Path) -> tuple[list[Line], str | None]:
        """Read a page file as lines; an unreadable file raises RkgError naming it."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise RkgError(f"cannot read file: {exc.strerror}", file=path) from exc
        try:
            text = decode_utf8(data)
        except NotUtf8 as bad:
            raise RkgError(
                f"cannot read file: it is not UTF-8 text (byte 0x{bad.byte:02x} "
                f"at offset {bad.offset})",
                file=path,
                line=bad.line,
            ) from bad
        if is_html(path, text):
            return html_lines(text)
        return text_lines(text), None

    def read(self, path: Path, url: str | None = None) -> PageRecord:
        lines, canonical_url = self.load(path)
        page = parse_page(lines, str(path), canonical_url)
        return self.values(page, path, url)

    def split(self, result: PageRecord, name: str, text: str, line: int) -> list[str]:
        scheme = FIELD_SPECS[name].scheme or ""
        if ELLIPSIS.search(text):
            text = ELLIPSIS.sub("", text)
            result.cut_short.add(name)
            result.notes.append(f"{result.file}:{line}: field '{name}': the list is cut short (…)")
        splitter = self.splitters.get(scheme) or LabelSplitter(())
        labels: list[str] = []
        for item in splitter.split(text, run_together=name in RUN_TOGETHER):
            labels.append(item.label)
            if not item.known:
                result.unknown.append(
                    UnknownLabel(
                        result.file, line, name, item.label, self.suggest(scheme, item.label)
                    )
                )
        return labels

    def values(self, page: Page, path: Path, url: str | None) -> PageRecord:
        url = url or page.canonical_url
        rid = id_from_url(url)
        result = PageRecord(page.file, {}, rid is not None)
        if rid is None:
            rid = path.stem if path.stem.isdigit() else slug_id(page.title)
        values = result.values
        values["id"] = rid
        if url:
            values["url"] = url
        values["title"] = page.title
        if page.subtitle:
            values["subtitle"] = page.subtitle
        lists: dict[str, list[str]] = {}
        for name, pf in page.fields.items():
            text = pf.text()
            if name == "details" or not text.strip():
                continue
            if name == "summary":
                if self.take_summary:
                    values["summary"] = text
            elif name == "year":
                year = " ".join(text.split()).rstrip(".")
                values["year"] = int(year) if year.isdigit() else year
                if not year.isdigit():
                    result.notes.append(
                        f"{page.file}:{pf.line}: field 'year': {year!r} is not a year"
                    )
            elif name == "developed_by":
                text = SEE_OTHER.sub(" ", text)
                collab = COLLABORATION.search(text)
                if collab:
                    rest = text[collab.end() :]
                    lists.setdefault("in_collaboration_with", []).extend(
                        self.split(result, "in_collaboration_with", rest, pf.line)
                    )
                    text = text[: collab.start()]
                lists.setdefault(name, []).extend(self.split(result, name, text, pf.line))
            elif name in LIST_FIELDS:
                lists.setdefault(name, []).extend(self.split(result, name, text, pf.line))
        for name in FIELDS:
            if lists.get(name):
                values[name] = list(dict.fromkeys(lists[name]))
        return result


def page_files(paths: Iterable[Path]) -> list[Path]:
    """The page files named: files as given, folders searched for .txt/.html, sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in PAGE_SUFFIXES
                )
            )
        else:
            files.append(path)
    return files
