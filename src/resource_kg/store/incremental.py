"""The catalog loaded through its store: only record files whose bytes changed are rebuilt.

`load(root)` returns the same `Catalog` as `Catalog.load(root)` (same records, quads,
diagnostics and sources; tests compare both after random edits), but builds only the record
files whose content hash differs from the last run's. For every other file it reuses what the
store's database kept: the parsed record, its quad keys (`graph.QuadKey`), its content
diagnostics and population tags, and the content hash of its triples that incremental
validation and the query store key on. Entries are JSON (`store.entries`), never pickles:
nothing read back can run code.

What a record's keys depend on besides its own file is the build context, which drops every
entry when it changes: the ontology, vocabulary, organization and settings files (by content),
the code fingerprint (`fingerprint.code_fingerprint`) and the build year (year warnings use
it). Two things depend on other records and are redone on every load: whether `replaced_by`
names a record of the catalog (an entry is rebuilt when that answer changes), and the
duplicate-url warning (recomputed by the builder itself for the records whose url repeats an
earlier one, so the message is the builder's).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from resource_kg.catalog import Catalog, SourceLocation, add_quads
from resource_kg.config import load_settings, resolve_paths
from resource_kg.errors import Diagnostic
from resource_kg.graph import (
    GraphBuilder,
    Graphs,
    QuadKey,
    QuadTable,
    TermTable,
    resource_iri,
    url_key,
)
from resource_kg.records import Record, claim_id
from resource_kg.store.entries import (
    ENTRY_FORMAT,
    Entry,
    build_entry,
    decode_entries,
    encode_entries,
)
from resource_kg.store.fingerprint import HashMemo, code_fingerprint, hash_bytes
from resource_kg.store.scanning import (
    Prebuilt,
    forked_scan,
    read_file_bytes,
    read_records_of,
    scan,
    scan_changed,
)
from resource_kg.store.state import connect, gc_paused, get_meta, locked, set_meta
from resource_kg.tagging import Tagger
from resource_kg.validate import Parts
from resource_kg.vocab import Lexicon, load_organizations, load_vocabularies


class StoredCatalog(Catalog):
    """A `Catalog` loaded through the store, with the per-record pieces later steps reuse."""

    validation_parts: Parts
    entries: dict[str, Entry]
    build_context: str
    state_folder: Path
    file_hashes: dict[str, str]  # record file → content hash, as this load read them
    url_keys: dict[str, str | None]  # record id → the key its url is compared by
    own_diagnostics: list[Diagnostic]  # set by store.delta: the records' own warnings
    #: The query store's token when `querystore.sync` last left it holding this catalog.
    store_token: str | None = None


class _LazyTerms(dict[str, Any]):
    """Term table whose pyoxigraph terms are made from the key (N-Triples) on first lookup."""

    def __missing__(self, key: str) -> Any:
        term: Any
        if key.startswith("<") and key.endswith(">"):
            term = ox.NamedNode(key[1:-1])
        elif key.startswith("_:"):
            term = ox.BlankNode(key[2:])
        else:
            triple = next(iter(ox.parse(f"<urn:s> <urn:p> {key} .", format=ox.RdfFormat.N_TRIPLES)))
            term = triple.object
        self[key] = term
        return term


class SortedOnUse(QuadTable):
    """A `QuadTable` that sorts its keys when first asked for them.

    Validation reads keys per record and in any order (`validate.Parts`), so `rkg validate`
    never pays for sorting 3.9M keys (≈ 2 s at 100k); writing the catalog does, once."""

    def __init__(self, keys: list[QuadKey], table: TermTable) -> None:
        self._unsorted: list[QuadKey] | None = keys
        self._keys: list[QuadKey] = []
        self.table = table

    @property
    def keys(self) -> list[QuadKey]:
        if self._unsorted is not None:
            self._keys = QuadTable(self._unsorted, self.table).sorted().keys
            self._unsorted = None
        return self._keys

    @keys.setter
    def keys(self, value: list[QuadKey]) -> None:
        self._unsorted, self._keys = None, value

    def any_order(self) -> list[QuadKey]:
        """The keys unsorted, with repeats: enough for loading a store, which sorts itself."""
        return self._unsorted if self._unsorted is not None else self._keys


# ---------------------------------------------------------------- loading


def build_context(root: Path, files: list[Path], settings: Any, year: int) -> str:
    """The hash every entry depends on: code, settings, year and the shared input files."""
    digest = hashlib.sha256(
        f"{ENTRY_FORMAT}\0{code_fingerprint()}\0{settings!r}\0{year}\0".encode()
    )
    for path in files:
        if path.is_file():
            shown = path.relative_to(root) if path.is_relative_to(root) else path
            digest.update(f"{shown}\0{hash_bytes(path.read_bytes())}\0".encode())
    return digest.hexdigest()


def load(
    root: Path | str = ".",
    *,
    today: dt.date | None = None,
    save: bool = True,
    previous: StoredCatalog | None = None,
    changed: set[str] | None = None,
    sink: Callable[[list[QuadKey]], None] | None = None,
) -> StoredCatalog:
    """`Catalog.load(root, today=today)`, reusing the entries of unchanged record files.

    `previous`, an earlier load of the same folder still in memory (the live preview keeps
    one), lends its entries for files whose hash is the same, so they are not decoded again.
    Holds the catalog's lock meanwhile. The cyclic garbage collector is paused while entries
    are decoded: millions of small objects otherwise trigger full collections over and over.
    `sink` is called with a list of the catalog's quad keys each time it grows, in the order
    records are done (the query store's `Rebuild.follow` loads them meanwhile); at the end
    it holds the catalog's keys, in another order."""
    with gc_paused(), locked(root) as folder:
        return _load(Path(root), folder, today, save, previous, changed, sink)


@dataclass
class Setup:
    """What every record is built against: settings, vocabularies, organizations, context."""

    paths: Any
    settings: Any
    graphs: Graphs
    lexicon: Lexicon
    builder: GraphBuilder
    context: str
    ontology: list[QuadKey]
    shared: list[QuadKey]
    organizations: list[Any]


def setup(root: Path, today: dt.date | None) -> Setup:
    """Read the shared inputs (cheap: no record file) and make the builder records go through."""
    paths = resolve_paths(root)
    settings = load_settings(root)
    day = today or dt.date.today()
    graphs = Graphs.for_base(settings.base)
    lexicon = Lexicon()
    ontology_files = sorted(paths.ontology.glob("*.ttl"))
    vocab_files = sorted((paths.ontology / "vocab").glob("*.ttl"))
    context = build_context(
        root,
        [*ontology_files, *vocab_files, paths.organizations, root / "pyproject.toml"],
        settings,
        day.year,
    )
    builder = GraphBuilder(settings.base, graphs, lexicon, day)
    builder.table.terms = _LazyTerms(builder.table.terms)
    ontology: list[QuadKey] = []
    add_quads(
        builder.table, load_vocabularies(ontology_files, graphs.ontology, root, lexicon), ontology
    )
    shared: list[QuadKey] = []
    add_quads(
        builder.table, load_vocabularies(vocab_files, graphs.vocabularies, root, lexicon), shared
    )
    organizations = load_organizations(paths.organizations, root, settings.base, lexicon)
    builder.organization_keys(organizations, shared)
    return Setup(
        paths, settings, graphs, lexicon, builder, context, ontology, shared, organizations
    )


def _entries_by_file(previous: StoredCatalog | None, context: str) -> dict[str, list[Entry]]:
    """An earlier load's entries per file, in record order (none when its context differs)."""
    if previous is None or previous.build_context != context:
        return {}
    out: dict[str, list[Entry]] = {}
    for record in previous.records:
        out.setdefault(record.file, []).append(previous.entries[record.id])
    return out


def _load(
    root: Path,
    folder: Path,
    today: dt.date | None,
    save: bool,
    previous: StoredCatalog | None,
    changed: set[str] | None = None,
    sink: Callable[[list[QuadKey]], None] | None = None,
) -> StoredCatalog:
    up = setup(root, today)
    paths, settings, graphs, lexicon = up.paths, up.settings, up.graphs, up.lexicon
    builder, context, ontology, shared = up.builder, up.context, up.ontology, up.shared
    organizations = up.organizations

    db = connect(folder)
    source: Generator[tuple[str, str, bytes | None, Prebuilt | None]] | None = None
    try:
        lent = _entries_by_file(previous, context)
        prior = previous.file_hashes if lent and previous is not None else {}
        old: dict[str, tuple[str, str | None]] = {}
        if get_meta(db, "build_context") == context and lent:
            # An earlier load at hand: its files stand for the rows (a file whose hash differs
            # from its is rebuilt and its row written, whatever another process wrote there).
            old = {p: (sha, None) for p, sha in prior.items()}
        elif get_meta(db, "build_context") == context:
            old = {p: (sha, t) for p, sha, t in db.execute("SELECT path, sha, entries FROM files")}
        pool: dict[str, str] = {}
        files: dict[str, str] = {}  # path → content hash
        dirty: set[str] = set()
        records: list[Record] = []
        cached: dict[str, Entry] = {}
        seen: dict[str, Record] = {}
        tagger: Tagger | None = None
        # The quads for `sink`, in the order their records are final: a record without
        # replaced_by as soon as it is read (the others once every record id is known).
        stream: list[QuadKey] = [] if sink is None else [*ontology, *shared]
        memo = HashMemo(db)
        texts: dict[str, str] = {}  # file → its entries as encoded by a forked child
        if changed is not None and lent:
            listed = scan_changed(root, paths, memo, prior, changed)
        else:
            listed = None
        if listed is not None:
            source = ((shown, sha, data, None) for shown, sha, data in listed)
        elif not old and sink is None:
            # Every file to read and build: shared with forked children. Not while a new
            # query store is fed (`sink`): its loader thread already has the other core, and
            # forked there the first answer of a fresh 100k catalog took 220 s against 208 s.
            source = forked_scan(root, paths, memo, builder, lexicon, pool, texts)
        else:
            source = ((shown, sha, data, None) for shown, sha, data in scan(root, paths, memo))
        for shown, sha, data, pre in source:
            hit = old.get(shown)
            entries: list[Entry] | None = None
            if pre is not None:  # read and built by a forked child
                files[shown] = sha
                dirty.add(shown)
                for record, made in zip(*pre, strict=True):
                    claim_id(record, seen)
                    records.append(record)
                    if made is not None:
                        cached[record.id] = made
                continue
            if data is None and (hit is None or hit[0] != sha):
                sha, data = read_file_bytes(memo, os.path.join(root, shown), shown)
            files[shown] = sha
            if hit is not None and hit[0] == sha:
                entries = lent.get(shown, []) if prior.get(shown) == sha else None
                if entries is None:
                    text = hit[1]
                    if text is None:
                        (text,) = db.execute(
                            "SELECT entries FROM files WHERE path = ?", (shown,)
                        ).fetchone()
                    entries = decode_entries(text, shown, pool)
                file_records = [e.record for e in entries]
            else:
                dirty.add(shown)
                assert data is not None
                file_records = read_records_of(root, shown, data)
            for i, record in enumerate(file_records):
                claim_id(record, seen)
                records.append(record)
                alone = record.get_text("replaced_by") is None  # needs no other record
                if entries is not None:
                    done = cached[record.id] = entries[i]
                elif alone:
                    tagger = tagger or Tagger(lexicon)
                    done = cached[record.id] = build_entry(builder, tagger, record, set())
                if sink is not None and alone:
                    stream += done.keys
                    stream += done.derived
                    sink(stream)

        known = set(seen)
        keys: list[QuadKey] = [*ontology, *shared]
        diagnostics: list[Diagnostic] = []
        per_record: dict[str, list[QuadKey]] = {}
        digests: dict[str, str] = {}
        by_id: dict[str, Entry] = {}
        for record in records:
            entry = cached.get(record.id)
            replaced = record.get_text("replaced_by")
            if (
                entry is not None
                and replaced is not None
                and entry.replaced_known != (replaced in known)
            ):
                entry = None
            if entry is None:
                dirty.add(record.file)
                tagger = tagger or Tagger(lexicon)
                entry = build_entry(builder, tagger, record, known)
            by_id[record.id] = entry
            keys += entry.keys
            keys += entry.derived
            if sink is not None and replaced is not None:
                stream += entry.keys
                stream += entry.derived
                sink(stream)
            diagnostics += entry.diagnostics
            if previous is not None and previous.entries.get(record.id) is entry:
                per_record[record.id] = previous.validation_parts.per_record[record.id]
            else:
                s = f"<{resource_iri(settings.base, record.id)}>"
                per_record[record.id] = [k for k in (*entry.keys, *entry.derived) if k[1] == s]
            digests[record.id] = entry.digest
        url_keys: dict[str, str | None] = {}
        diagnostics += duplicate_urls(builder, records, known, url_keys)
        builder.activity_keys(keys)
        if sink is not None:
            builder.activity_keys(stream)
            sink(stream)

        gone = old.keys() - files.keys()
        if save and (dirty or gone or not old):
            _save(db, context, files, records, by_id, dirty, gone, fresh=not old, texts=texts)
        if save:
            memo.save()
    finally:
        if source is not None:
            source.close()  # a forked scan's children end (an error left them running)
        db.close()

    sources = {iri: SourceLocation(*loc) for iri, loc in lexicon.locations.items()}
    for record in records:
        sources[resource_iri(settings.base, record.id)] = SourceLocation(record.file, record.line)
    catalog = StoredCatalog(
        paths,
        settings,
        graphs,
        lexicon,
        records,
        organizations,
        SortedOnUse(keys, builder.table),
        sorted(diagnostics),
        sources,
    )
    catalog.validation_parts = Parts(per_record, shared, [*ontology, *shared], keys, digests)
    catalog.entries = by_id
    catalog.build_context = context
    catalog.state_folder = folder
    catalog.file_hashes = files
    catalog.url_keys = url_keys
    return catalog


def _save(
    db: Any,
    context: str,
    files: dict[str, str],
    records: list[Record],
    by_id: dict[str, Entry],
    dirty: set[str],
    gone: set[str],
    *,
    fresh: bool,
    texts: dict[str, str],
) -> None:
    """Write the rows of changed files in one transaction (all rows when the context changed).

    `texts` holds files' entries as a forked child encoded them (every record of the file
    built there, none rebuilt since): the same text `encode_entries` gives, not made twice."""
    wanted = set(files) if fresh else dirty
    per_file: dict[str, list[Entry]] = {name: [] for name in wanted}
    for record in records:
        if record.file in per_file:
            per_file[record.file].append(by_id[record.id])
    db.execute("BEGIN IMMEDIATE")
    try:
        if fresh:
            db.execute("DELETE FROM files")
            set_meta(db, "build_context", context)
        db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in sorted(gone)])
        db.executemany(
            "INSERT OR REPLACE INTO files (path, sha, entries) VALUES (?, ?, ?)",
            [
                (name, files[name], texts.get(name) or encode_entries(per_file[name]))
                for name in sorted(wanted)
            ],
        )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def duplicate_urls(
    builder: GraphBuilder,
    records: list[Record],
    known: set[str],
    url_keys: dict[str, str | None] | None = None,
) -> list[Diagnostic]:
    """The builder's same-url warnings: it warns on each record whose url an earlier one has.

    Only the records whose url repeats another's matter; they may be given alone, in the
    catalog's order. `url_keys` (record id → its url's key) is read and filled: a version made
    from the one before (`store.delta`) keeps the keys of its unchanged records."""
    first: dict[str, Record] = {}
    out: list[Diagnostic] = []
    keys: dict[str, str | None] = {} if url_keys is None else url_keys
    for record in records:
        if record.id in keys:
            key = keys[record.id]
        else:
            url = record.get_text("url")
            key = keys[record.id] = None if url is None else url_key(url)
        if key is None:
            continue
        earlier = first.setdefault(key, record)
        if earlier is record:
            continue
        alone = len(builder.diagnostics)
        builder.record_keys(record, known, {}, [])
        with_other = len(builder.diagnostics)
        builder.record_keys(record, known, {key: earlier}, [])
        out += builder.diagnostics[with_other + (with_other - alone) :]
        del builder.diagnostics[alone:]
    return out
