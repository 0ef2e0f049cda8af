"""Import clearinghouse resource pages (saved as text or HTML) and CSV rows into record files.

The pages list labels separated by commas, yet labels contain commas ("Community, Health, and
Housing Partnerships") and audiences run together with spaces ("Clinicians Enabling Staff").
So lists are split by matching the catalog's known labels, longest first; whatever matches no
known label is kept as written and reported with the closest known labels. An existing record
is never overwritten silently: a re-import is matched by id, url or title.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from resource_kg.config import load_settings, resolve_paths
from resource_kg.errors import RkgError
from resource_kg.files import NotUtf8, decode_utf8
from resource_kg.graph import FIELD_SPECS, Graphs
from resource_kg.recordfile import canonical, changed_fields, header_comments, write_record
from resource_kg.records import FIELDS, ID_PATTERN, LIST_FIELDS, Record, Value
from resource_kg.vocab import Lexicon, load_organizations, load_vocabularies, normalize, slugify

PAGE_SUFFIXES = (".txt", ".html", ".htm")
#: Status given to a newly imported page: a page on the live site is an offered resource.
NEW_STATUS = "active"

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
ABBREVIATION = re.compile(r"\b(?:etc|inc|ltd|co|corp|jr|sr|st)\.$", re.IGNORECASE)
TOKEN = re.compile(r"[\w+]+")
_END = ""


class NotAPage(RkgError):
    """The file is readable but is not a clearinghouse resource page."""


# ---------------------------------------------------------------- vocabularies


def load_lexicon(root: Path) -> Lexicon:
    """Vocabularies and organizations of a catalog, without building its graph."""
    paths = resolve_paths(root)
    settings = load_settings(root)
    graphs = Graphs.for_base(settings.base)
    lexicon = Lexicon()
    load_vocabularies(
        sorted((paths.ontology / "vocab").glob("*.ttl")), graphs.vocabularies, root, lexicon
    )
    load_organizations(paths.organizations, root, settings.base, lexicon)
    return lexicon


@dataclass(frozen=True)
class Item:
    """One label split from a list: as the vocabulary spells it, or as written when unknown."""

    label: str
    known: bool


class LabelSplitter:
    """Splits list text into the labels of one scheme; built once per run (a token trie)."""

    def __init__(self, labels: Iterable[str]) -> None:
        self.trie: dict[str, Any] = {}
        for label in labels:
            node = self.trie
            for token in normalize(label).split():
                node = node.setdefault(token, {})
            spellings = node.setdefault(_END, [])
            if label not in spellings:
                spellings.append(label)

    def split(self, text: str, run_together: bool = False) -> list[Item]:
        """Known labels longest first; unknown stretches between separators kept verbatim."""
        tokens: list[tuple[str, int, int]] = []
        for m in TOKEN.finditer(text):
            for part in normalize(m.group()).split():
                tokens.append((part, m.start(), m.end()))
        n = len(tokens)
        gaps = [text[tokens[k][2] : tokens[k + 1][1]] for k in range(n - 1)] + [
            text[tokens[-1][2] :] if n else ""
        ]

        def hard(k: int) -> bool:  # the gap after token k separates list items
            return k == n - 1 or any(c in ",;\n" for c in gaps[k])

        def soft(k: int) -> bool:  # the gap after token k may separate run-together labels
            return hard(k) or (run_together and any(c.isspace() for c in gaps[k]))

        def match(i: int) -> tuple[int, str] | None:
            node, best, j = self.trie, None, i
            while j < n and tokens[j][0] in node:
                node = node[tokens[j][0]]
                j += 1
                if _END in node and soft(j - 1):
                    spellings: list[str] = node[_END]
                    exact = [s for s in spellings if text.startswith(s, tokens[i][1])]
                    best = (j, (exact or spellings)[0])
            return best

        items: list[Item] = []
        i = 0
        while i < n:
            found = match(i)
            if found is not None:
                items.append(Item(found[1], True))
                i = found[0]
                continue
            k = i
            while not hard(k):
                k += 1
                if run_together and soft(k - 1) and match(k) is not None:
                    k -= 1
                    break
            start = tokens[i][1]
            cut = min((gaps[k].find(c) for c in ",;\n" if c in gaps[k]), default=len(gaps[k]))
            end = len(text) if k == n - 1 else tokens[k][2] + cut
            raw = text[start:end].strip()
            while raw and raw[-1] in ",; ":
                raw = raw[:-1].rstrip()
            if k == n - 1 and raw.endswith(".") and not ABBREVIATION.search(raw):
                raw = raw[:-1].rstrip()
            items.append(Item(raw, False))
            i = k + 1
        seen: set[str] = set()
        unique: list[Item] = []
        for item in items:
            key = normalize(item.label)
            if key not in seen:
                seen.add(key)
                unique.append(item)
        return unique


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


def url_key(url: str) -> str:
    """The same page whether written with www or not, http or https, a trailing slash or not."""
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    key = host + parts.path.rstrip("/")
    query = parts.query.rstrip("/")
    return f"{key}?{query}" if query else key


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


# ---------------------------------------------------------------- existing records


@dataclass
class Entry:
    """A record the run knows: from the output folder, or written earlier in this run."""

    id: str
    values: dict[str, Value]
    file: Path
    shared_file: bool
    source: str | None = None  # set when this run wrote or updated it


@dataclass
class Outcome:
    """What happened to one page or row; `kind` is imported/updated/unchanged/skipped."""

    kind: str
    source: str
    message: str
    record_id: str | None = None
    changes: list[tuple[str, Value | None, Value | None]] = field(default_factory=list)
    error: bool = False


@dataclass
class Summary:
    """Counts of a run, printed at its end."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    unknown: int = 0
    failed: int = 0

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome.kind, getattr(self, outcome.kind) + 1)
        self.failed += outcome.error

    def __str__(self) -> str:
        return (
            f"{self.imported} imported, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.skipped} skipped; {self.unknown} unknown label(s) kept as written"
        )


class Importer:
    """Writes incoming record values into a folder of one-record YAML files, never silently."""

    def __init__(self, out: Path, existing: Iterable[Record], *, update: bool) -> None:
        self.out = out
        self.update = update
        self.by_id: dict[str, Entry] = {}
        self.by_url: dict[str, Entry] = {}
        self.by_title: dict[str, Entry] = {}
        counts: dict[str, int] = {}
        records = list(existing)
        for record in records:
            counts[record.file] = counts.get(record.file, 0) + 1
        for record in records:
            path = Path(record.file)
            shared = counts[record.file] > 1 or path.suffix.lower() not in (".yaml", ".yml")
            self._index(Entry(record.id, canonical(record.values), path, shared))

    def _index(self, entry: Entry) -> None:
        self.by_id[entry.id] = entry
        url = entry.values.get("url")
        if isinstance(url, str):
            self.by_url.setdefault(url_key(url), entry)
        title = entry.values.get("title")
        if title is not None:
            self.by_title.setdefault(normalize(str(title)), entry)

    def matches(self, values: Mapping[str, Value]) -> list[tuple[Entry, str]]:
        found: list[tuple[Entry, str]] = []
        url, title = values.get("url"), values.get("title")
        candidates = [
            (self.by_id.get(str(values.get("id"))), "id"),
            (self.by_url.get(url_key(url)) if isinstance(url, str) else None, "url"),
            (self.by_title.get(normalize(str(title))) if title is not None else None, "title"),
        ]
        for entry, how in candidates:
            if entry is not None and all(entry is not e for e, _ in found):
                found.append((entry, how))
        return found

    def offer(
        self,
        values: Mapping[str, Value],
        source: str,
        *,
        id_fixed: bool,
        replace: Iterable[str] = (),
        keep_items: Iterable[str] = (),
        defaults: Mapping[str, Value] | None = None,
    ) -> Outcome:
        """Import one record's values.

        `id_fixed`: the id is authoritative (from a URL or a CSV cell), so a record matched
        only by url or title under another id is a conflict, not the same record.
        `replace`: fields to clear when `values` lacks them (CSV columns left empty).
        `keep_items`: list fields the source may have cut short; existing items stay.
        """
        incoming = canonical(values)
        rid = str(incoming["id"])
        found = self.matches(incoming)
        if len(found) > 1:
            which = ", ".join(f"{e.id} (by {how})" for e, how in found)
            return Outcome(
                "skipped", source, f"matches several records: {which}; not imported", rid
            )
        if not found:
            path = self.out / f"{rid}.yaml"
            if path.exists():
                return Outcome(
                    "skipped",
                    source,
                    f"{path} exists but does not hold record {rid}; not imported",
                    rid,
                )
            new = dict(defaults or {})
            new.update(incoming)
            write_record(path, new)
            self._index(Entry(rid, canonical(new), path, False, source))
            return Outcome("imported", source, f"imported record {rid} → {path}", rid)
        entry, how = found[0]
        if entry.source is not None:
            return Outcome(
                "skipped",
                source,
                f"duplicate: same {how} as {entry.source} (record {entry.id}) earlier in this run; "
                "not imported",
                entry.id,
            )
        if entry.id != rid and id_fixed:
            return Outcome(
                "skipped",
                source,
                f"duplicate: its {how} matches record {entry.id} ({entry.file}) but its id is "
                f"{rid}; not imported",
                rid,
            )
        merged: dict[str, Value] = dict(entry.values)
        for name in FIELDS:
            if name == "id":
                continue
            if name in incoming:
                new_value = incoming[name]
                old_value = merged.get(name)
                if (
                    name in set(keep_items)
                    and isinstance(old_value, list)
                    and isinstance(new_value, list)
                ):
                    new_value = list(dict.fromkeys(new_value + old_value))
                if (
                    name == "url"
                    and isinstance(old_value, str)
                    and url_key(old_value) == url_key(str(new_value))
                ):
                    new_value = old_value
                merged[name] = new_value
            elif name in set(replace):
                merged.pop(name, None)
        changes = [
            (n, entry.values.get(n), canonical(merged).get(n))
            for n in changed_fields(entry.values, merged)
        ]
        where = f"record {entry.id} ({entry.file}, matched by {how})"
        if not changes:
            entry.source = source
            return Outcome("unchanged", source, f"already present as {where}, unchanged", entry.id)
        if not self.update:
            names = ", ".join(n for n, _, _ in changes)
            return Outcome(
                "skipped",
                source,
                f"already present as {where}; differs in {names}; use --update to apply",
                entry.id,
                changes,
            )
        if entry.shared_file:
            return Outcome(
                "skipped",
                source,
                f"record {entry.id} lives in {entry.file} with other records; edit it there",
                entry.id,
                changes,
            )
        write_record(entry.file, merged, header_comments(entry.file))
        entry.values = canonical(merged)
        entry.source = source
        self._index(entry)
        return Outcome("updated", source, f"updated {where}", entry.id, changes)


def import_page(
    reader: PageReader, importer: Importer, path: Path, url: str | None = None
) -> tuple[Outcome, PageRecord | None]:
    """Read one page and offer its record; an unreadable file or non-page is skipped."""
    try:
        page = reader.read(path, url)
    except RkgError as exc:
        return Outcome("skipped", exc.location() or str(path), exc.message, error=True), None
    outcome = importer.offer(
        page.values,
        str(path),
        id_fixed=page.id_from_url,
        keep_items=page.cut_short,
        defaults={"status": NEW_STATUS},
    )
    return outcome, page


def unknown_labels(
    lexicon: Lexicon,
    values: Mapping[str, Value],
    file: str,
    line: int,
    row: int,
    columns: Mapping[str, str],
) -> list[UnknownLabel]:
    """Labels of a CSV row that resolve in no vocabulary (they are imported as written)."""
    found: list[UnknownLabel] = []
    for name in FIELDS:
        scheme = FIELD_SPECS[name].scheme
        value = values.get(name)
        if scheme is None or value is None:
            continue
        for label in value if isinstance(value, list) else [str(value)]:
            resolution = lexicon.resolve(scheme, label)
            if resolution.iri is None and not resolution.candidates:
                found.append(
                    UnknownLabel(
                        file, line, columns.get(name, name), label, resolution.suggestions, row
                    )
                )
    return found
