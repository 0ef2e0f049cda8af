"""The catalog after a few record files were edited, made from the version before.

`rkg serve`'s live preview knows from the file system's change events which files were saved.
When those files keep their records (the same ids, in the same order) and nothing else
changed (the build context: ontology, vocabularies, organizations, settings, code), the new
version is the previous one with those records rebuilt: `edited` copies the previous
version's lists and maps (sharing every unchanged record, entry and key) and replaces the
edited records' pieces, instead of walking all 3.9M keys of a 100k catalog as a load does.
The catalog-wide pieces are redone as a load does them: duplicate urls (with the unchanged
records' url keys kept), the sorted warnings, the keys in catalog order (made on first use:
serving an edit needs only the edited records'). Anything else returns None and the caller
loads (`incremental.load`). Tests compare each result with a fresh load.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, overload

from resource_kg.catalog import SourceLocation
from resource_kg.errors import Diagnostic, StructureError
from resource_kg.graph import QuadKey, TermTable, resource_iri
from resource_kg.records import Record
from resource_kg.store.entries import Entry, build_entry, encode_entries
from resource_kg.store.fingerprint import hash_bytes
from resource_kg.store.incremental import (
    Setup,
    SortedOnUse,
    StoredCatalog,
    duplicate_urls,
    setup,
)
from resource_kg.store.scanning import read_records_of
from resource_kg.store.state import connect, get_meta, locked, transaction
from resource_kg.tagging import Tagger
from resource_kg.validate import Parts


class KeysOnUse(SortedOnUse):
    """A `SortedOnUse` whose unsorted keys are put together on first use."""

    def __init__(self, make: Any, table: TermTable) -> None:
        super().__init__([], table)
        self._make = make
        self._made = False
        self._raw: list[QuadKey] = []

    def _ensure(self) -> None:
        if not self._made:
            self._raw = self._unsorted = self._make()
            self._made = True

    def raw(self) -> list[QuadKey]:
        """The keys as put together, repeats and all (what a load hands validation)."""
        self._ensure()
        return self._raw

    @property
    def keys(self) -> list[QuadKey]:
        self._ensure()
        return SortedOnUse.keys.fget(self)  # type: ignore[attr-defined,no-any-return]

    @keys.setter
    def keys(self, value: list[QuadKey]) -> None:
        self._made = True
        SortedOnUse.keys.fset(self, value)  # type: ignore[attr-defined]

    def any_order(self) -> list[QuadKey]:
        self._ensure()
        return super().any_order()


class _Every(Sequence[QuadKey]):
    """`Parts.every` of a catalog whose keys are made on first use."""

    def __init__(self, table: KeysOnUse) -> None:
        self.table = table

    def __len__(self) -> int:
        return len(self.table.raw())

    @overload
    def __getitem__(self, index: int) -> QuadKey: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[QuadKey]: ...
    def __getitem__(self, index: int | slice) -> QuadKey | Sequence[QuadKey]:
        return self.table.raw()[index]

    def __iter__(self) -> Iterator[QuadKey]:
        return iter(self.table.raw())


def edited(
    previous: StoredCatalog, root: Path | str, changed: set[str], today: dt.date | None = None
) -> StoredCatalog | None:
    """`incremental.load(root)` when only the record files `changed` (as shown) changed since
    `previous` and kept their records' ids; None when that is not so (the caller loads)."""
    root = Path(root)
    with locked(root) as folder:
        up = setup(root, today)
        if up.context != previous.build_context or not hasattr(previous, "url_keys"):
            return None
        db = connect(folder)
        try:
            if get_meta(db, "build_context") != up.context:
                return None  # the store was cleared or rebuilt meanwhile: load it properly
            read = _read_changed(root, previous, changed)
            if read is None:
                return None
            if not read:
                return previous
            catalog = _assemble(previous, up, read)
            if catalog is None:
                return None
            rows = [
                (shown, sha, encode_entries([catalog.entries[r.id] for r in records]))
                for shown, (sha, records) in sorted(read.items())
            ]
            with transaction(db):
                db.executemany(
                    "INSERT OR REPLACE INTO files (path, sha, entries) VALUES (?, ?, ?)", rows
                )
        finally:
            db.close()
    catalog.state_folder = folder
    return catalog


def _read_changed(
    root: Path, previous: StoredCatalog, changed: set[str]
) -> dict[str, tuple[str, list[Record]]] | None:
    """shown → (hash, records) of each changed file whose bytes differ; None when a file was
    added, deleted or is not a plain file."""
    out: dict[str, tuple[str, list[Record]]] = {}
    for shown in sorted(changed):
        if shown not in previous.file_hashes:
            return None
        name = os.path.join(root, shown)
        if os.path.islink(name) or not os.path.isfile(name):
            return None
        try:
            with open(name, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise StructureError(f"cannot read file: {exc.strerror}", file=shown) from exc
        sha = hash_bytes(data)
        if sha != previous.file_hashes[shown]:
            out[shown] = (sha, read_records_of(root, shown, data))
    return out


def _assemble(
    previous: StoredCatalog, up: Setup, read: dict[str, tuple[str, list[Record]]]
) -> StoredCatalog | None:
    where: dict[str, list[int]] = {shown: [] for shown in read}
    for i, record in enumerate(previous.records):
        if record.file in where:
            where[record.file].append(i)
    records = list(previous.records)
    for shown, (_sha, mine) in read.items():
        if [records[i].id for i in where[shown]] != [r.id for r in mine]:
            return None  # ids appeared, vanished or moved: replaced_by and duplicates need all
        for i, record in zip(where[shown], mine, strict=True):
            records[i] = record
    known = set(previous.entries)
    tagger = Tagger(up.lexicon)
    base = up.settings.base
    entries = dict(previous.entries)
    parts = previous.validation_parts
    per_record, digests = dict(parts.per_record), dict(parts.digests)
    url_keys = dict(previous.url_keys)
    sources = dict(previous.sources)
    for _shown, (_sha, mine) in read.items():
        for record in mine:
            entry = entries[record.id] = build_entry(up.builder, tagger, record, known)
            s = f"<{resource_iri(base, record.id)}>"
            per_record[record.id] = [k for k in (*entry.keys, *entry.derived) if k[1] == s]
            digests[record.id] = entry.digest
            url_keys.pop(record.id, None)
            sources[resource_iri(base, record.id)] = SourceLocation(record.file, record.line)
    edited_ids = {r.id for _shown, (_sha, mine) in read.items() for r in mine}
    own = [d for d in _own_diagnostics(previous) if d.record_id not in edited_ids]
    own += [d for rid in sorted(edited_ids) for d in entries[rid].diagnostics]
    diagnostics = own + duplicate_urls(up.builder, records, known, url_keys)
    table = KeysOnUse(lambda: _all_keys(up, records, entries), up.builder.table)
    catalog = StoredCatalog(
        up.paths,
        up.settings,
        up.graphs,
        up.lexicon,
        records,
        up.organizations,
        table,
        sorted(diagnostics),
        sources,
    )
    catalog.validation_parts = Parts(
        per_record, up.shared, [*up.ontology, *up.shared], _Every(table), digests
    )
    catalog.entries = entries
    catalog.build_context = up.context
    hashes = dict(previous.file_hashes)
    hashes.update({shown: sha for shown, (sha, _r) in read.items()})
    catalog.file_hashes = hashes
    catalog.url_keys = url_keys
    catalog.own_diagnostics = own
    return catalog


def _own_diagnostics(catalog: StoredCatalog) -> list[Diagnostic]:
    """The records' own warnings (not the duplicate-url ones), in any order: kept on a version
    this module made, else gathered from its entries."""
    kept: list[Diagnostic] | None = getattr(catalog, "own_diagnostics", None)
    if kept is None:
        kept = [d for entry in catalog.entries.values() for d in entry.diagnostics]
    return kept


def _all_keys(up: Setup, records: list[Record], entries: dict[str, Entry]) -> list[QuadKey]:
    """The catalog's keys in the order a load puts them together."""
    keys: list[QuadKey] = [*up.ontology, *up.shared]
    for record in records:
        entry = entries[record.id]
        keys += entry.keys
        keys += entry.derived
    up.builder.activity_keys(keys)
    return keys
