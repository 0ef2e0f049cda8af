"""Importing pages into data/resources/: new records, updates of changed fields, a summary of what was done."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from resource_kg.errors import RkgError
from resource_kg.graph import FIELD_SPECS, url_key
from resource_kg.importing.organizations import NewOrganization, Organizations
from resource_kg.importing.reader import PageReader, PageRecord, UnknownLabel
from resource_kg.recordfile import canonical, changed_fields, header_comments, write_record
from resource_kg.records import FIELDS, Record, Value
from resource_kg.vocab import ORG_SCHEME, Lexicon, normalize

#: Status given to a newly imported page: a page on the live site is an offered resource.
NEW_STATUS = "active"


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

    def __init__(
        self, out: Path, existing: Iterable[Record], *, update: bool, dry_run: bool = False
    ) -> None:
        self.out = out
        self.update = update
        self.dry_run = dry_run  # decide and report everything, write nothing
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

    @staticmethod
    def same_source(entry: Entry, values: Mapping[str, Value]) -> bool:
        """Whether a record has the url or the title of incoming values (not just their id)."""
        url, title = values.get("url"), values.get("title")
        old_url, old_title = entry.values.get("url"), entry.values.get("title")
        if isinstance(url, str) and isinstance(old_url, str) and url_key(url) == url_key(old_url):
            return True
        return title is not None and normalize(str(title)) == normalize(str(old_title or ""))

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
        only by url or title under another id is a conflict, not the same record. An id that
        is not fixed (made from a title or file name) never matches a record on its own: the
        record must have the same url or title too.
        `replace`: fields to clear when `values` lacks them (CSV columns left empty).
        `keep_items`: list fields the source may have cut short; existing items stay.
        """
        incoming = canonical(values)
        rid = str(incoming["id"])
        found = self.matches(incoming)
        if id_fixed and found and found[0][1] == "id":
            # An authoritative id names its record; that its url or title is also another
            # record's (a duplicate the build reports) must not stop the record's own update.
            found = found[:1]
        taken = next((e for e, how in found if how == "id"), None)
        if not id_fixed and taken is not None and not self.same_source(taken, incoming):
            found = [(e, how) for e, how in found if e is not taken]
            if not found:
                return Outcome(
                    "skipped",
                    source,
                    f"its id {rid} (made from its title or file name) is that of record "
                    f"{taken.id} ({taken.file}), which has another title and url; not imported "
                    "(give the page's address with --url)",
                    rid,
                    error=True,
                )
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
            if not self.dry_run:
                write_record(path, new)
            self._index(Entry(rid, canonical(new), path, False, source))
            verb = "would import" if self.dry_run else "imported"
            return Outcome("imported", source, f"{verb} record {rid} → {path}", rid)
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
        if not self.dry_run:
            write_record(entry.file, merged, header_comments(entry.file))
        entry.values = canonical(merged)
        entry.source = source
        self._index(entry)
        verb = "would update" if self.dry_run else "updated"
        return Outcome("updated", source, f"{verb} {where}", entry.id, changes)


def import_page(
    reader: PageReader,
    importer: Importer,
    path: Path,
    url: str | None = None,
    organizations: Organizations | None = None,
) -> tuple[Outcome, PageRecord | None]:
    """Read one page and offer its record; an unreadable file or non-page is skipped.

    When the record is written, the developers and collaborators it names that no
    organization matches are added to `organizations` (and reported there, not as unknown).
    """
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
    if organizations is not None and outcome.kind in ("imported", "updated"):
        add_organizations(page, organizations, reader)
    return outcome, page


def add_organizations(page: PageRecord, organizations: Organizations, reader: PageReader) -> None:
    """Unknown organizations of a written record go into the organizations file, reported."""
    new: dict[str, NewOrganization] = {}
    kept: list[UnknownLabel] = []
    for unknown in page.unknown:
        if FIELD_SPECS[unknown.field].scheme != ORG_SCHEME:
            kept.append(unknown)
            continue
        key = normalize(unknown.label)
        if key in new:
            continue
        proposal = organizations.propose(unknown)
        if isinstance(proposal, str):
            kept.append(unknown)
            page.notes.append(
                f"{unknown.file}:{unknown.line}: field '{unknown.field}': organization "
                f"{unknown.label!r} {proposal}"
            )
            continue
        new[key] = proposal
    organizations.add(new.values(), reader)
    verb = "would be added" if organizations.dry_run else "added"
    for org in new.values():
        page.notes.append(f"{org.where}: {org.describe()} {verb} to {organizations.path}")
    page.unknown = kept


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
