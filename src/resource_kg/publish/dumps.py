"""The release's downloadable files: each dump written (in parallel, gzip where asked) and the checksums."""

from __future__ import annotations

import gzip
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import pyoxigraph as ox
from rich.progress import Progress

from resource_kg import jsonld
from resource_kg.catalog import Catalog
from resource_kg.config import ONTOLOGY_NS as RKG
from resource_kg.graph import PREFIXES, RDF, SKOS, TripleKey

SUMS = "SHA256SUMS"


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


# ---------------------------------------------------------------- helpers


def write_plain(path: Path, data: bytes | str) -> None:
    """Plain write inside the temporary release folder; the folder rename is the atomic step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def expect_bytes(data: bytes | None) -> bytes:
    assert data is not None
    return data


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
def progress_step(progress: Progress | None, description: str) -> Iterator[None]:
    """One line of progress per step of the publish."""
    task = progress.add_task(description, total=1) if progress is not None else None
    yield
    if progress is not None and task is not None:
        progress.update(task, completed=1)


def progress_callback(
    progress: Progress | None, description: str
) -> Callable[[int, int], None] | None:
    """A (done, total) callback, as validate() reports, shown as a progress bar."""
    if progress is None:
        return None
    task = progress.add_task(description, total=None)

    def report(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return report


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
    with (
        progress_step(progress, "writing catalog.trig"),
        (folder / "catalog.trig").open("wb") as fh,
    ):
        ox.serialize(table.iter_quads(), fh, format=ox.RdfFormat.TRIG, prefixes=PREFIXES)
    keys = table.triple_keys()
    # The N-Triples blocks are compressed on the other core while Turtle is written.
    with (
        progress_step(progress, "writing catalog.nt.gz, catalog.ttl"),
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        nt = pool.submit(write_gzip, folder / "catalog.nt.gz", ntriples_chunks(keys))
        with (folder / "catalog.ttl").open("wb") as fh:
            ox.serialize(
                table.iter_triples(keys), fh, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES
            )
        nt.result()
    with progress_step(progress, "writing catalog.jsonld"):
        compactor = jsonld.Compactor(jsonld.catalog_prefixes(catalog.settings.base))
        write_plain(folder / "context.jsonld", jsonld.dumps(compactor.context()) + "\n")
        with (folder / "catalog.jsonld").open("w", encoding="utf-8", newline="\n") as text:
            jsonld.KeyWriter(compactor, terms).write(text, keys, "context.jsonld")
    for name, graph in (
        ("ontology.ttl", catalog.graphs.ontology),
        ("vocabularies.ttl", catalog.graphs.vocabularies),
    ):
        part = table.iter_triples(k[1:] for k in table.graph_keys(str(graph)))
        write_plain(
            folder / name,
            expect_bytes(ox.serialize(part, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)),
        )
    return DumpStats.of(keys, terms)
