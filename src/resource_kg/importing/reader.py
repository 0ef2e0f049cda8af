"""A parsed page turned into a record: ids from URLs, labels resolved, unknown labels kept and reported."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from resource_kg.errors import RkgError
from resource_kg.files import NotUtf8, decode_utf8
from resource_kg.graph import FIELD_SPECS
from resource_kg.importing.labels import LabelSplitter
from resource_kg.importing.page_text import (
    PAGE_SUFFIXES,
    Line,
    html_lines,
    is_html,
    text_lines,
)
from resource_kg.importing.pages import (
    COLLABORATION,
    ELLIPSIS,
    RUN_TOGETHER,
    SEE_OTHER,
    Page,
    parse_page,
)
from resource_kg.records import FIELDS, ID_PATTERN, LIST_FIELDS, Value
from resource_kg.vocab import ORG_SCHEME, Lexicon, normalize, slugify

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
    doubt: bool = False

    def __str__(self) -> str:
        hint = f" (closest known: {', '.join(self.suggestions)})" if self.suggestions else ""
        where = f"row {self.row}, column" if self.row is not None else "field"
        whole = "; kept whole, as a split is in doubt: check it" if self.doubt else ""
        return (
            f"{self.file}:{self.line}: {where} '{self.field}': unknown label "
            f"{self.label!r} kept as written{hint}{whole}"
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


#: A year the page says it does not know ("n.a.", "N/A", "unknown"): the field is left out.
NO_YEAR = re.compile(
    r"^(?:n\.?\s*a\.?|n/a|none|unknown|not (?:available|applicable|known)|-+)$", re.I
)


def _lossy(text: str) -> bool:
    """Whether the ASCII slug of `text` drops letters or digits (an id from it may collide)."""
    for c in text:
        if c.isalnum() and not c.isascii():
            plain = unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode()
            if not any(p.isalnum() for p in plain):
                return True
    return False


def slug_id(title: str) -> str:
    """An id from a title that stays distinct: its ASCII slug, with a stable hash when needed.

    A slug that would drop letters (a Japanese or Greek title), be empty or all digits (numeric
    ids are the site's), or be cut at 80 characters gets 8 hex digits of the title's SHA-256.
    """
    full = slugify(title) if any(c.isascii() and c.isalnum() for c in title) else ""
    slug = full
    if len(slug) > 80:
        slug = slug[:80].rsplit("-", 1)[0]
    if slug and slug == full and not slug.isdigit() and not _lossy(title):
        return slug
    digest = hashlib.sha256(normalize(title).encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}" if slug else f"r-{digest}"


def numeric_stem(path: Path) -> str | None:
    """The file name as an id when it is ASCII digits (`4184.txt`); `²³.txt` is not."""
    stem = path.stem
    return stem if stem.isascii() and stem.isdigit() else None


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
        items = splitter.split(
            text, run_together=name in RUN_TOGETHER, whole_unknown=scheme == ORG_SCHEME
        )
        for item in items:
            labels.append(item.label)
            if not item.known:
                suggestions = self.suggest(scheme, item.label)
                result.unknown.append(
                    UnknownLabel(result.file, line, name, item.label, suggestions, doubt=item.doubt)
                )
        return labels

    def learn(self, scheme: str, labels: Iterable[str]) -> None:
        """Labels added to the lexicon during a run (new organizations) split from now on."""
        splitter = self.splitters.setdefault(scheme, LabelSplitter(()))
        for label in labels:
            splitter.add(label)
        self._suggestions = {k: v for k, v in self._suggestions.items() if k[0] != scheme}

    def values(self, page: Page, path: Path, url: str | None) -> PageRecord:
        url = url or page.canonical_url
        rid = id_from_url(url)
        result = PageRecord(page.file, {}, rid is not None)
        if rid is None:
            rid = numeric_stem(path) or slug_id(page.title)
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
                year = " ".join(text.split())
                if NO_YEAR.match(year):
                    result.notes.append(
                        f"{page.file}:{pf.line}: field 'year': the page gives no year "
                        f"({year!r}); left out"
                    )
                    continue
                year = year.rstrip(".")
                plain = year.isascii() and year.isdigit()
                values["year"] = int(year) if plain else year
                if not plain:
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
                if name == "in_collaboration_with":
                    text = SEE_OTHER.sub(" ", text)
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
