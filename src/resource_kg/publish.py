"""Write a release: dumps, VoID + DCAT description, checksums, validation report, changelog, site.

A release is one folder, OUT/<version>/, built in a temporary folder beside it and renamed
into place at the end, so a reader never sees half a release and an interrupted run leaves
earlier releases untouched. Every file in it depends only on the catalog, the version, the
date and the base URL: publishing twice gives byte-identical folders.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

import pyoxigraph as ox
from rich.progress import Progress

from resource_kg import jsonld
from resource_kg.catalog import Catalog
from resource_kg.changes import Changes, compare, releases_in, version_key
from resource_kg.config import CONCEPT_BASE
from resource_kg.config import ONTOLOGY_NS as RKG
from resource_kg.errors import PublishError
from resource_kg.files import write_atomic
from resource_kg.graph import DCT, FOAF, PREFIXES, RDF, SKOS, XSD, TripleKey
from resource_kg.vocab import slugify

DCAT = "http://www.w3.org/ns/dcat#"
VOID = "http://rdfs.org/ns/void#"
SPDX = "http://spdx.org/rdf/terms#"
ADMS = "http://www.w3.org/ns/adms#"
IANA = "http://www.iana.org/assignments/media-types/"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
VOID_PREFIXES = {
    **PREFIXES,
    "dcat": DCAT,
    "void": VOID,
    "spdx": SPDX,
    "adms": ADMS,
}
SUMS = "SHA256SUMS"
LATEST = "LATEST"


@dataclass(frozen=True)
class Dump:
    """One downloadable file of the release and how DCAT describes it."""

    name: str
    title: str
    description: str
    media_type: str
    file_type: str
    compressed: bool = False
    full: bool = True  # holds the whole dataset (a void:dataDump), not one graph of it


DUMPS: tuple[Dump, ...] = (
    Dump(
        "catalog.ttl",
        "Catalog as Turtle",
        "All four named graphs merged into one graph, in Turtle.",
        "text/turtle",
        "RDF_TURTLE",
    ),
    Dump(
        "catalog.nt.gz",
        "Catalog as sorted N-Triples (gzip)",
        "All four named graphs merged into one graph, one triple a line, lines sorted bytewise, gzip-compressed.",
        "application/n-triples",
        "RDF_N_TRIPLES",
        compressed=True,
    ),
    Dump(
        "catalog.trig",
        "Catalog as TriG (named graphs)",
        "The ontology, vocabularies, catalog (curated) and derived (tagged) graphs, each as a named graph.",
        "application/trig",
        "RDF_TRIG",
    ),
    Dump(
        "catalog.jsonld",
        "Catalog as JSON-LD",
        "All four named graphs merged into one graph, compact JSON-LD whose context is context.jsonld beside it.",
        "application/ld+json",
        "JSON_LD",
    ),
    Dump(
        "ontology.ttl",
        "Ontology",
        "The resource-kg ontology graph alone.",
        "text/turtle",
        "RDF_TURTLE",
        full=False,
    ),
    Dump(
        "vocabularies.ttl",
        "Vocabularies",
        "The SKOS concept schemes (audiences, types, languages, topics, subtopics, keywords, populations, statuses) alone.",
        "text/turtle",
        "RDF_TURTLE",
        full=False,
    ),
)


class PublishRefused(PublishError):
    """Validation found Violations and --force was not given: nothing was written."""

    exit_code = 1


@dataclass
class Release:
    """What `publish` wrote."""

    path: Path
    version: str
    date: dt.date
    base_url: str
    previous: Path | None
    forced: bool
    counts: dict[str, int]
    changes: Changes
    files: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- helpers


def _write(path: Path, data: bytes | str) -> None:
    """Plain write inside the temporary release folder; the folder rename is the atomic step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def _b(data: bytes | None) -> bytes:
    assert data is not None
    return data


def default_base_url(base: str, version: str) -> str:
    return f"{base.rstrip('/#')}/release/{version}/"


def next_version(out: Path) -> str:
    """1.0.0 for a first release, else the newest release's version with patch + 1."""
    existing = releases_in(out)
    if not existing:
        return "1.0.0"
    major, minor, patch = version_key(existing[-1].name) or (0, 0, 0)
    return f"{major}.{minor}.{patch + 1}"


def ntriples_chunks(keys: list[TripleKey], size: int = 50_000) -> Iterator[bytes]:
    """Sorted N-Triples from sorted, distinct triple keys, a block of lines at a time.

    The keys are the N-Triples forms of the terms, and sorting the (s, p, o) tuples sorts the
    lines bytewise: a term that is a prefix of another is followed in its line by a space,
    which sorts before any character that can continue a term (and UTF-8 keeps code-point
    order), so the lines come out in `LC_ALL=C sort` order without sorting them again.
    """
    join = " ".join
    for i in range(0, len(keys), size):
        yield (" .\n".join(map(join, keys[i : i + size])) + " .\n").encode("utf-8")


def write_gzip(path: Path, chunks: Iterable[bytes]) -> None:
    """gzip (no file name, mtime 0: same input, same bytes) of the chunks, compressed in a
    second thread.

    zlib releases the GIL, so compression runs on the other core while this thread makes the
    next block of lines; chunking does not change deflate's output.
    """
    with path.open("wb") as raw, ThreadPoolExecutor(max_workers=1) as pool:
        gz = gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=6, mtime=0)
        pending: list[Future[int]] = []
        for chunk in chunks:
            pending.append(pool.submit(gz.write, chunk))
            while len(pending) > 2:
                pending.pop(0).result()
        for f in pending:
            f.result()
        gz.close()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256sums(folder: Path, known: dict[Path, str] | None = None) -> str:
    """`sha256sum -c` input over every file of the folder except SHA256SUMS, sorted by path.

    `known` holds digests already computed while writing (path → hex); the others are read,
    on two threads (reading and hashing release the GIL)."""
    by_name = {p.as_posix(): d for p, d in (known or {}).items()}
    files = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != SUMS
    )
    root = folder.as_posix() + "/"
    todo = [rel for rel in files if root + rel not in by_name]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for rel, digest in zip(
            todo, pool.map(sha256_file, (folder / r for r in todo)), strict=True
        ):
            by_name[root + rel] = digest
    return "".join(f"{by_name[root + rel]}  {rel}\n" for rel in files)


@contextmanager
def _step(progress: Progress | None, description: str) -> Iterator[None]:
    """One line of progress per step of the publish."""
    task = progress.add_task(description, total=1) if progress is not None else None
    yield
    if progress is not None and task is not None:
        progress.update(task, completed=1)


def _callback(progress: Progress | None, description: str) -> Callable[[int, int], None] | None:
    """A (done, total) callback, as validate() reports, shown as a progress bar."""
    if progress is None:
        return None
    task = progress.add_task(description, total=None)

    def report(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return report


# ---------------------------------------------------------------- VoID + DCAT


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _lit(value: str | int, datatype: str | None = None, lang: str | None = None) -> ox.Literal:
    if lang:
        return ox.Literal(str(value), language=lang)
    return ox.Literal(str(value), datatype=_n(datatype)) if datatype else ox.Literal(str(value))


def _namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1]


@dataclass(frozen=True)
class DumpStats:
    """What void.ttl says about the union graph, counted in one pass while the dumps are written.

    Entities are the distinct IRI subjects that have an rdf:type; `per_class` counts the
    distinct subjects of each class, `per_property` the triples of each property; `topics`
    are the topic concepts resources use, with their label (None: no skos:prefLabel).
    """

    triples: int
    entities: int
    distinct_subjects: int
    distinct_objects: int
    per_class: dict[str, int]
    per_property: dict[str, int]
    topics: dict[str, str | None]

    @classmethod
    def of(cls, keys: Sequence[TripleKey], terms: dict[str, object]) -> DumpStats:
        """Counts over sorted, distinct triple keys; set and Counter work stays in C."""
        rdf_type, topic, pref = f"<{RDF}type>", f"<{RKG}topic>", f"<{SKOS}prefLabel>"
        per_property = Counter(map(itemgetter(1), keys))
        typed = [k for k in keys if k[1] == rdf_type and k[2][0] == "<"]
        per_class: dict[str, set[str]] = {}
        for s, _, o in typed:
            per_class.setdefault(o, set()).add(s)
        used = {k[2] for k in keys if k[1] == topic and k[2][0] == "<"}
        labels: dict[str, str] = {}
        for s, _, o in (k for k in keys if k[1] == pref and k[2][0] == '"' and k[0] in used):
            labels[s] = _value(terms[o])  # the last in sorted order wins, as before
        return cls(
            triples=len(keys),
            entities=len({s for s, _, _ in typed if s[0] == "<"}),
            distinct_subjects=len(set(map(itemgetter(0), keys))),
            distinct_objects=len(set(map(itemgetter(2), keys))),
            per_class={_value(terms[c]): len(v) for c, v in per_class.items()},
            per_property={_value(terms[p]): n for p, n in per_property.items()},
            topics={_value(terms[t]): labels.get(t) for t in used},
        )


def _value(term: object) -> str:
    value = getattr(term, "value", None)
    assert isinstance(value, str)
    return value


def void_description(
    catalog: Catalog,
    stats: DumpStats,
    folder: Path,
    *,
    version: str,
    date: dt.date,
    base_url: str,
    notes: list[str],
) -> bytes:
    """void.ttl: VoID statistics and a DCAT-AP catalog, dataset and one distribution per dump."""
    s = catalog.settings
    doc = f"{base_url}void.ttl#"
    cat, ds, pub = _n(doc + "catalog"), _n(doc + "dataset"), _n(doc + "publisher")
    day = _lit(date.isoformat(), XSD + "date")
    license_ = _n(s.license)
    site = _n(f"{base_url}site/index.html")
    out: list[ox.Triple] = []

    def add(subject: ox.NamedNode, predicate: str, obj: ox.NamedNode | ox.Literal) -> None:
        out.append(ox.Triple(subject, _n(predicate), obj))

    # The catalog and its publisher.
    add(cat, RDF + "type", _n(DCAT + "Catalog"))
    add(cat, DCT + "title", _lit(s.title, lang="en"))
    add(cat, DCT + "description", _lit(s.description, lang="en"))
    add(cat, DCT + "publisher", pub)
    add(cat, DCT + "license", license_)
    add(cat, DCT + "issued", day)
    add(cat, DCT + "modified", day)
    add(cat, DCT + "language", _n(EU_LANGUAGE + "ENG"))
    add(cat, FOAF + "homepage", site)
    add(cat, DCAT + "dataset", ds)
    add(pub, RDF + "type", _n(FOAF + "Agent"))
    add(pub, RDF + "type", _n(FOAF + "Organization"))
    add(pub, FOAF + "name", _lit(s.publisher))
    add(license_, RDF + "type", _n(DCT + "LicenseDocument"))
    add(site, RDF + "type", _n(FOAF + "Document"))
    add(_n(EU_LANGUAGE + "ENG"), RDF + "type", _n(DCT + "LinguisticSystem"))

    # The dataset: DCAT metadata.
    for cls in (DCAT + "Dataset", VOID + "Dataset"):
        add(ds, RDF + "type", _n(cls))
    add(ds, DCT + "title", _lit(s.title, lang="en"))
    add(ds, DCT + "description", _lit(s.description, lang="en"))
    add(ds, DCT + "publisher", pub)
    add(ds, DCT + "license", license_)
    add(ds, DCT + "issued", day)
    add(ds, DCT + "modified", day)
    add(ds, DCAT + "version", _lit(version))
    add(ds, DCAT + "landingPage", site)
    for note in notes:
        add(ds, ADMS + "versionNotes", _lit(note, lang="en"))
    add(ds, VOID + "uriSpace", _lit(s.base))
    add(ds, VOID + "rootResource", _n(s.base))

    # Themes: the topic concepts resources use, from the topics scheme.
    topic_scheme = f"{CONCEPT_BASE}topic"
    used_topics = sorted(stats.topics)
    labels = {iri: label for iri, label in stats.topics.items() if label is not None}
    if used_topics:
        add(cat, DCAT + "themeTaxonomy", _n(topic_scheme))
        add(_n(topic_scheme), RDF + "type", _n(SKOS + "ConceptScheme"))
        add(_n(topic_scheme), DCT + "title", _lit("Topics", lang="en"))
    for iri in used_topics:
        add(ds, DCAT + "theme", _n(iri))
        add(_n(iri), RDF + "type", _n(SKOS + "Concept"))
        add(_n(iri), SKOS + "prefLabel", _lit(labels.get(iri, iri.rsplit("/", 1)[-1]), lang="en"))
        add(_n(iri), SKOS + "inScheme", _n(topic_scheme))
        add(ds, DCAT + "keyword", _lit(labels.get(iri, iri.rsplit("/", 1)[-1]), lang="en"))

    # Distributions, one per dump, with size and checksum.
    for dump in DUMPS:
        slug = slugify(dump.name)
        dist, checksum = _n(doc + "dump-" + slug), _n(doc + "checksum-" + slug)
        url = _n(base_url + dump.name)
        path = folder / dump.name
        add(ds, DCAT + "distribution", dist)
        if dump.full:
            add(ds, VOID + "dataDump", url)
        add(dist, RDF + "type", _n(DCAT + "Distribution"))
        add(dist, DCT + "title", _lit(dump.title, lang="en"))
        add(dist, DCT + "description", _lit(dump.description, lang="en"))
        add(dist, DCAT + "accessURL", url)
        add(dist, DCAT + "downloadURL", url)
        add(dist, DCAT + "mediaType", _n(IANA + dump.media_type))
        add(_n(IANA + dump.media_type), RDF + "type", _n(DCT + "MediaType"))
        add(dist, DCT + "format", _n(FILE_TYPE + dump.file_type))
        add(_n(FILE_TYPE + dump.file_type), RDF + "type", _n(DCT + "MediaTypeOrExtent"))
        if dump.compressed:
            add(dist, DCAT + "compressFormat", _n(IANA + "application/gzip"))
            add(_n(IANA + "application/gzip"), RDF + "type", _n(DCT + "MediaType"))
        add(dist, DCAT + "byteSize", _lit(path.stat().st_size, XSD + "nonNegativeInteger"))
        add(dist, SPDX + "checksum", checksum)
        add(checksum, RDF + "type", _n(SPDX + "Checksum"))
        add(checksum, SPDX + "algorithm", _n(SPDX + "checksumAlgorithm_sha256"))
        add(checksum, SPDX + "checksumValue", _lit(sha256_file(path), XSD + "hexBinary"))
        add(dist, DCT + "issued", day)
        add(dist, DCT + "modified", day)
        add(dist, DCT + "license", license_)

    # VoID statistics over the union graph.
    out += void_statistics(ds, doc, stats)
    for g, n in catalog.triples_per_graph().items():
        part = _n(doc + "graph-" + slugify(g.rsplit("/", 1)[-1]))
        add(ds, VOID + "subset", part)
        add(part, RDF + "type", _n(VOID + "Dataset"))
        add(part, DCT + "title", _lit(f"{g.rsplit('/', 1)[-1]} graph <{g}>", lang="en"))
        add(part, VOID + "triples", _lit(n, XSD + "integer"))

    distinct = {(str(t.subject), str(t.predicate), str(t.object)): t for t in out}
    ordered = [distinct[k] for k in sorted(distinct)]
    header = (
        f"# {s.title}, release {version} ({date.isoformat()}): VoID statistics and a "
        "DCAT-AP 3 description of the dataset and its downloads.\n"
    )
    body = _b(ox.serialize(ordered, format=ox.RdfFormat.TURTLE, prefixes=VOID_PREFIXES))
    return header.encode("utf-8") + body


def void_statistics(ds: ox.NamedNode, doc: str, stats: DumpStats) -> list[ox.Triple]:
    """Counts VoID defines, class and property partitions, and the vocabularies used."""
    per_class, per_property = stats.per_class, stats.per_property
    compactor = jsonld.Compactor(PREFIXES)
    integer = XSD + "integer"
    out = [
        ox.Triple(ds, _n(VOID + "triples"), _lit(stats.triples, integer)),
        ox.Triple(ds, _n(VOID + "entities"), _lit(stats.entities, integer)),
        ox.Triple(ds, _n(VOID + "distinctSubjects"), _lit(stats.distinct_subjects, integer)),
        ox.Triple(ds, _n(VOID + "distinctObjects"), _lit(stats.distinct_objects, integer)),
        ox.Triple(ds, _n(VOID + "classes"), _lit(len(per_class), integer)),
        ox.Triple(ds, _n(VOID + "properties"), _lit(len(per_property), integer)),
    ]
    used: set[str] = set()
    taken: set[str] = set()

    def part_iri(kind: str, iri: str) -> ox.NamedNode:
        short = compactor.iri(iri)
        key = (
            re.sub(r"[^A-Za-z0-9._-]", "-", short)
            if short != iri
            else hashlib.sha1(iri.encode()).hexdigest()[:12]
        )
        name, n = f"{kind}-{key}", 1
        while name in taken:
            n += 1
            name = f"{kind}-{key}-{n}"
        taken.add(name)
        return _n(doc + name)

    for cls in sorted(per_class):
        part = part_iri("class", cls)
        used.add(_namespace(cls))
        out += [
            ox.Triple(ds, _n(VOID + "classPartition"), part),
            ox.Triple(part, _n(VOID + "class"), _n(cls)),
            ox.Triple(part, _n(VOID + "entities"), _lit(per_class[cls], integer)),
        ]
    for prop in sorted(per_property):
        part = part_iri("property", prop)
        used.add(_namespace(prop))
        out += [
            ox.Triple(ds, _n(VOID + "propertyPartition"), part),
            ox.Triple(part, _n(VOID + "property"), _n(prop)),
            ox.Triple(part, _n(VOID + "triples"), _lit(per_property[prop], integer)),
        ]
    for ns in sorted(used):
        out.append(ox.Triple(ds, _n(VOID + "vocabulary"), _n(ns)))
    return out


# ---------------------------------------------------------------- publish


def publish(
    catalog: Catalog,
    out: Path | str,
    *,
    version: str | None = None,
    date: dt.date | None = None,
    previous: Path | str | None = None,
    base_url: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> Release:
    """Validate, then write OUT/<version>/ atomically; raise PublishRefused on Violations."""
    from resource_kg import site
    from resource_kg.validate import validate

    out = Path(out)
    date = date or dt.date.today()
    version = version or next_version(out)
    if version_key(version) is None:
        raise PublishError(
            f"version {version!r} is not of the form X.Y.Z (e.g. 1.2.0)", field="version"
        )
    target = out / version
    if target.exists():
        raise PublishError(
            f"release {version} already exists; releases are never overwritten: choose another "
            "--version or remove that folder",
            file=target,
        )
    prev = Path(previous) if previous is not None else _previous_in(out, version)
    if prev is not None and not (prev / "catalog.trig").is_file():
        raise PublishError("previous release has no catalog.trig", file=prev)
    base_url = base_url or default_base_url(catalog.settings.base, version)
    if not base_url.endswith("/"):
        base_url += "/"

    report = validate(catalog, on=date, progress=_callback(progress, "validating"))
    counts = dict(report.counts())
    violations = counts.get("Violation", 0)
    forced = violations > 0
    if forced and not force:
        raise PublishRefused(
            f"validation found {violations} violation(s), {counts.get('Warning', 0)} warning(s): "
            "nothing published (run `rkg validate` to see them, or publish anyway with --force)"
        )
    notes: list[str] = []
    if forced:
        notes.append(
            f"Published with --force although validation found {violations} violation(s); "
            "see validation-report.csv."
        )

    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", suffix=".partial", dir=out))
    try:
        stats = write_dumps(catalog, tmp, progress=progress)
        _write(tmp / "validation-report.csv", report.render("csv"))
        _write(tmp / "validation-report.ttl", report.render("ttl"))
        with _step(progress, "comparing with the previous release"):
            changes = compare(catalog, version, date, prev)
        _write(tmp / "CHANGES.md", changes.markdown(notes))
        notes.append(f"Release {version}: {changes.summary()}.")
        _write(tmp / "changes.ttl", changes.turtle(base_url))
        written: dict[Path, str] = {}
        site.build_site(
            catalog,
            tmp / "site",
            version=version,
            date=date,
            base_url=base_url,
            progress=progress,
            digests=written,
        )
        with _step(progress, "describing the dataset (VoID, DCAT) and checksums"):
            _write(
                tmp / "void.ttl",
                void_description(
                    catalog,
                    stats,
                    tmp,
                    version=version,
                    date=date,
                    base_url=base_url,
                    notes=notes,
                ),
            )
            _write(tmp / SUMS, sha256sums(tmp, written))
        files = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
        _make_readable(tmp)
        os.sync()
        try:
            os.rename(tmp, target)
        except OSError as exc:  # another publish of the same version finished first
            raise PublishError(f"cannot move the release into place: {exc}", file=target) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    newest = releases_in(out)
    if newest and newest[-1].name == version:
        write_atomic(out / LATEST, version + "\n")
        (out / LATEST).chmod(0o644)
    return Release(target, version, date, base_url, prev, forced, counts, changes, files)


def _previous_in(out: Path, version: str) -> Path | None:
    """The newest release in OUT older than `version`."""
    key = version_key(version)
    older = [p for p in releases_in(out) if key is not None and (version_key(p.name) or key) < key]
    return older[-1] if older else None


def _make_readable(folder: Path) -> None:
    """Temporary folders are private (0700); a release is meant to be served."""
    folder.chmod(0o755)
    for p in folder.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)


def write_dumps(
    catalog: Catalog,
    folder: Path | list[ox.Triple],
    legacy_folder: Path | None = None,
    *,
    progress: Progress | None = None,
) -> DumpStats:
    """The six dump files and context.jsonld, streamed from the catalog's quad table.

    Everything is written from the sorted string keys of `Catalog.quad_table`: Turtle and
    TriG through pyoxigraph's streaming serializer (one object at a time), N-Triples and
    JSON-LD as text, so 100k resources never exist as millions of pyoxigraph objects.
    Returns the VoID statistics counted on the way. `write_dumps(catalog, triples, folder)`,
    the older form, still works; the triples are not needed and are ignored.
    """
    if legacy_folder is not None:
        folder = legacy_folder
    assert isinstance(folder, Path)
    folder.mkdir(parents=True, exist_ok=True)
    table = catalog.quad_table
    terms = table.table.terms
    with _step(progress, "writing catalog.trig"), (folder / "catalog.trig").open("wb") as fh:
        ox.serialize(table.iter_quads(), fh, format=ox.RdfFormat.TRIG, prefixes=PREFIXES)
    keys = table.triple_keys()
    # The N-Triples blocks are compressed on the other core while Turtle is written.
    with (
        _step(progress, "writing catalog.nt.gz, catalog.ttl"),
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        nt = pool.submit(write_gzip, folder / "catalog.nt.gz", ntriples_chunks(keys))
        with (folder / "catalog.ttl").open("wb") as fh:
            ox.serialize(
                table.iter_triples(keys), fh, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES
            )
        nt.result()
    with _step(progress, "writing catalog.jsonld"):
        compactor = jsonld.Compactor(jsonld.catalog_prefixes(catalog.settings.base))
        _write(folder / "context.jsonld", jsonld.dumps(compactor.context()) + "\n")
        with (folder / "catalog.jsonld").open("w", encoding="utf-8", newline="\n") as text:
            jsonld.KeyWriter(compactor, terms).write(text, keys, "context.jsonld")
    for name, graph in (
        ("ontology.ttl", catalog.graphs.ontology),
        ("vocabularies.ttl", catalog.graphs.vocabularies),
    ):
        part = table.iter_triples(k[1:] for k in table.graph_keys(str(graph)))
        _write(folder / name, _b(ox.serialize(part, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)))
    return DumpStats.of(keys, terms)
