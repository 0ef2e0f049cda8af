"""A build cache so that `rkg validate` after a few edits does not rebuild 100k records.

`load(root)` returns the same `Catalog` as `Catalog.load(root)` (same records, quads,
diagnostics and sources; a test compares catalog.trig byte for byte after editing, adding and
removing record files), but reads only the record files whose (size, mtime_ns) changed since
the last run. For every other file it reuses what the last run kept in
ROOT/.rkg-cache/build.pickle: the parsed records, their quad keys (`graph.QuadKey`), their
content diagnostics and population tags, and the content hash of each record's triples that
incremental validation keys its results on.

What a record's keys depend on besides its own file is part of the cache context, which
drops every entry when it changes: the ontology, vocabulary, organization and settings files,
the code that builds records, the base IRI and the build year (year warnings use it). Two
things depend on other records and are redone on every load: whether `replaced_by` names a
record of the catalog (an entry is rebuilt when that answer changes), and the duplicate-url
warning (recomputed for the few records whose url repeats an earlier one, by the builder
itself, so the message is the builder's).

Terms of cached keys are made from their N-Triples text only when something asks for them
(`_LazyTerms`): validation of a few edited records touches a few thousand of 1.5M terms.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import os
import pickle
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from resource_kg.catalog import Catalog, SourceLocation, _add_quads
from resource_kg.config import load_settings, resolve_paths
from resource_kg.errors import Diagnostic, StructureError
from resource_kg.files import write_atomic
from resource_kg.graph import (
    GraphBuilder,
    Graphs,
    QuadKey,
    QuadTable,
    TermTable,
    _url_key,
    resource_iri,
)
from resource_kg.records import RECORD_SUFFIXES, Record, claim_id, read_file
from resource_kg.tagging import Tag, Tagger
from resource_kg.validate import Parts, record_digest
from resource_kg.vocab import Lexicon, load_organizations, load_vocabularies

FORMAT = "1"
#: Modules whose code decides what a record becomes; their source is part of the context.
_CODE = ("buildcache", "catalog", "config", "graph", "records", "tagging", "vocab")


@dataclass
class Entry:
    """What one record became: kept per file, reused while the file and the context stay."""

    record: Record
    keys: list[QuadKey]  # record_keys output (catalog graph)
    derived: list[QuadKey]  # its population tags (derived graph)
    diagnostics: list[Diagnostic]  # content warnings of the record alone
    replaced_known: bool | None  # whether replaced_by named a record (None: no replaced_by)
    digest: str  # record_digest of the keys validation sees (subject = the record)


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


class _SortedOnUse(QuadTable):
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


SHARDS = 256


def cache_path(root: Path | str) -> Path:
    """Where the build cache lives (ROOT/.rkg-cache/ is gitignored): a folder of shards.

    Files are spread over `SHARDS` pickles by a hash of their path, so that saving after a
    few edits rewrites a few small shards, not 150 MB (pickling it all takes ≈ 3 s at 100k)."""
    return Path(root) / ".rkg-cache" / "build"


def _shard(name: str) -> int:
    return zlib.crc32(name.encode()) % SHARDS


def _list_files(folder: Path, root: Path) -> list[tuple[str, os.stat_result]]:
    """`records.record_files(folder)` with each file's stat, from one directory scan, as paths
    relative to root (the names records and the cache use).

    Same files, same order (pathlib orders paths by their parts), but a path's stat comes
    from its directory entry, names are joined as strings and sorting uses a key instead of
    Path comparisons: 0.5 s instead of 3.5 s for 100k files."""
    found: list[tuple[tuple[str, ...], str, os.stat_result]] = []
    if not folder.is_dir():
        return []

    def scan(directory: str, shown: str, parts: tuple[str, ...]) -> None:
        with os.scandir(directory) as entries:
            for entry in entries:
                name = entry.name
                if entry.is_dir() and not entry.is_symlink():
                    scan(entry.path, os.path.join(shown, name), (*parts, name))
                elif entry.is_file() and os.path.splitext(name)[1].lower() in RECORD_SUFFIXES:
                    found.append(((*parts, name), os.path.join(shown, name), entry.stat()))

    scan(str(folder), str(folder.relative_to(root)), folder.parts)
    found.sort(key=lambda item: item[0])
    return [(shown, st) for _, shown, st in found]


def _context(root: Path, files: list[Path], settings: Any, year: int) -> str:
    digest = hashlib.sha256(f"{FORMAT}\0{settings!r}\0{year}\0".encode())
    here = Path(__file__).resolve().parent
    for name in _CODE:
        digest.update((here / f"{name}.py").read_bytes())
    for path in files:
        if path.is_file():
            digest.update(
                str(path.relative_to(root) if path.is_relative_to(root) else path).encode()
            )
            digest.update(b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _read_shards(folder: Path, context: str) -> dict[str, tuple[int, int, list[Entry]]]:
    """Every shard written for this context (a shard of another context is ignored)."""
    out: dict[str, tuple[int, int, list[Entry]]] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.pickle")):
        doc = _read(path)
        if isinstance(doc, dict) and doc.get("context") == context:
            out.update(doc.get("files", {}))
    return out


def _read(path: Path) -> Any:
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError):
        return None


def load(root: Path | str = ".", *, today: dt.date | None = None, save: bool = True) -> Catalog:
    """`Catalog.load(root, today=today)`, reusing the entries of unchanged record files.

    The cyclic garbage collector is paused meanwhile: unpickling millions of small objects
    otherwise triggers full collections over and over (0.54 s instead of 0.11 s at 10k);
    the objects made are then frozen (`gc.freeze`), as they live as long as the catalog."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        catalog = _load(Path(root), today, save)
        # What was made meanwhile lives as long as the catalog: move it out of the collector's
        # sight, or its first pass would scan millions of young objects (≈ 2 s at 100k).
        gc.freeze()
        return catalog
    finally:
        if enabled:
            gc.enable()


def _load(root: Path, today: dt.date | None, save: bool) -> Catalog:
    paths = resolve_paths(root)
    settings = load_settings(root)
    day = today or dt.date.today()
    graphs = Graphs.for_base(settings.base)
    lexicon = Lexicon()
    ontology_files = sorted(paths.ontology.glob("*.ttl"))
    vocab_files = sorted((paths.ontology / "vocab").glob("*.ttl"))
    context = _context(
        root,
        [*ontology_files, *vocab_files, paths.organizations, root / "pyproject.toml"],
        settings,
        day.year,
    )
    builder = GraphBuilder(settings.base, graphs, lexicon, day)
    builder.table.terms = _LazyTerms(builder.table.terms)
    ontology: list[QuadKey] = []
    _add_quads(
        builder.table, load_vocabularies(ontology_files, graphs.ontology, root, lexicon), ontology
    )
    shared: list[QuadKey] = []
    _add_quads(
        builder.table, load_vocabularies(vocab_files, graphs.vocabularies, root, lexicon), shared
    )
    organizations = load_organizations(paths.organizations, root, settings.base, lexicon)
    builder.organization_keys(organizations, shared)

    where = cache_path(root)
    old_files = _read_shards(where, context)
    files: dict[str, tuple[int, int, list[Entry] | None]] = {}
    records: list[Record] = []
    cached: dict[str, Entry] = {}
    seen: dict[str, Record] = {}
    for shown, st in _list_files(paths.resources, root):
        hit = old_files.get(shown)
        entries: list[Entry] | None = None
        if hit is not None and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            entries = hit[2]
            file_records = [e.record for e in entries]
        else:
            try:
                file_records = read_file(root / shown)
            except StructureError as exc:
                exc.file = shown
                raise
            for record in file_records:
                record.file = shown
        files[shown] = (st.st_size, st.st_mtime_ns, entries)
        for i, record in enumerate(file_records):
            claim_id(record, seen)
            records.append(record)
            if entries is not None:
                cached[record.id] = entries[i]

    known = set(seen)
    tagger: Tagger | None = None
    keys: list[QuadKey] = [*ontology, *shared]
    diagnostics: list[Diagnostic] = []
    per_record: dict[str, list[QuadKey]] = {}
    digests: dict[str, str] = {}
    by_id: dict[str, Entry] = {}
    dirty = {_shard(name) for name in files.keys() ^ old_files.keys()}
    for name, (_size, _mtime, entries) in files.items():
        if entries is None:
            dirty.add(_shard(name))
    for record in records:
        entry = cached.get(record.id)
        replaced = record.get_text("replaced_by")
        if (
            entry is not None
            and (replaced is not None)
            and entry.replaced_known != (replaced in known)
        ):
            entry = None
        if entry is None:
            dirty.add(_shard(record.file))
            tagger = tagger or Tagger(lexicon)
            entry = _entry(builder, tagger, record, known)
        by_id[record.id] = entry
        keys += entry.keys
        keys += entry.derived
        diagnostics += entry.diagnostics
        s = f"<{resource_iri(settings.base, record.id)}>"
        per_record[record.id] = [k for k in (*entry.keys, *entry.derived) if k[1] == s]
        digests[record.id] = entry.digest
    diagnostics += _duplicate_urls(builder, records, known)
    builder.activity_keys(keys)

    if save and dirty:
        _save(where, context, files, records, by_id, dirty)

    sources = {iri: SourceLocation(*loc) for iri, loc in lexicon.locations.items()}
    for record in records:
        sources[resource_iri(settings.base, record.id)] = SourceLocation(record.file, record.line)
    catalog = Catalog(
        paths,
        settings,
        graphs,
        lexicon,
        records,
        organizations,
        _SortedOnUse(keys, builder.table),
        sorted(diagnostics),
        sources,
    )
    parts = Parts(per_record, shared, [*ontology, *shared], keys, digests)
    catalog.validation_parts = parts  # type: ignore[attr-defined]
    return catalog


def _save(
    where: Path,
    context: str,
    files: dict[str, tuple[int, int, list[Entry] | None]],
    records: list[Record],
    by_id: dict[str, Entry],
    dirty: set[int],
) -> None:
    """Rewrite the shards that changed; shards of an older context are all rewritten."""
    current = where / "context"
    fresh = not current.is_file() or current.read_text(encoding="utf-8") != context
    wanted = set(range(SHARDS)) if fresh else dirty
    shards: dict[int, dict[str, tuple[int, int, list[Entry]]]] = {n: {} for n in wanted}
    for name, (size, mtime, _) in files.items():
        shard = _shard(name)
        if shard in wanted:
            shards[shard][name] = (size, mtime, [])
    for record in records:
        shard = _shard(record.file)
        if shard in wanted:
            shards[shard][record.file][2].append(by_id[record.id])
    for shard in sorted(wanted):
        doc = {"context": context, "files": shards[shard]}
        write_atomic(where / f"{shard:03d}.pickle", pickle.dumps(doc, protocol=5))
    if fresh:
        write_atomic(current, context)


def _entry(builder: GraphBuilder, tagger: Tagger, record: Record, known: set[str]) -> Entry:
    """Build one record with the real builder, its url compared with no other record."""
    start = len(builder.diagnostics)
    keys: list[QuadKey] = []
    builder.record_keys(record, known, {}, keys)
    diagnostics = builder.diagnostics[start:]
    del builder.diagnostics[start:]
    tags: list[Tag] = tagger.tag(record)
    derived: list[QuadKey] = []
    builder.derived_keys(tags, derived)
    s = f"<{resource_iri(builder.base, record.id)}>"
    replaced = record.get_text("replaced_by")
    return Entry(
        record,
        keys,
        derived,
        diagnostics,
        None if replaced is None else replaced in known,
        record_digest(k for k in (*keys, *derived) if k[1] == s),
    )


def _duplicate_urls(
    builder: GraphBuilder, records: list[Record], known: set[str]
) -> list[Diagnostic]:
    """The builder's same-url warnings: it warns on each record whose url an earlier one has."""
    first: dict[str, Record] = {}
    out: list[Diagnostic] = []
    for record in records:
        url = record.get_text("url")
        if url is None:
            continue
        key = _url_key(url)
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
