"""`Catalog`: the one library object the CLI, the tests and a notebook all go through."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from resource_kg.config import Paths, Settings, load_settings, resolve_paths
from resource_kg.errors import Diagnostic
from resource_kg.files import atomic_outputs
from resource_kg.graph import (
    PREFIXES,
    GraphBuilder,
    Graphs,
    QuadKey,
    QuadTable,
    TermTable,
    resource_iri,
)
from resource_kg.records import Record, read_records
from resource_kg.tagging import Tagger
from resource_kg.vocab import Lexicon, Organization, load_organizations, load_vocabularies

#: The checksums of the pair `Catalog.write` writes, written after both (`sha256sum -c`).
MANIFEST = "catalog.sha256"

if TYPE_CHECKING:
    import rdflib

    from resource_kg.query import ParamValue
    from resource_kg.rows import Row


@dataclass(frozen=True)
class SourceLocation:
    """Where an entity of the graph was written: a record, an organization, a concept."""

    file: str
    line: int


class Catalog:
    """Records, vocabularies and the graph built from them, with each IRI's source location.

    The quads are held as a `QuadTable` (string keys sharing one term per value), because
    a list of pyoxigraph objects costs ≈ 0.5 KB a quad (2 GB at 100k resources); `quads`
    makes that list on first use, serializations and `store` stream from the table.
    """

    def __init__(
        self,
        paths: Paths,
        settings: Settings,
        graphs: Graphs,
        lexicon: Lexicon,
        records: list[Record],
        organizations: list[Organization],
        quads: list[ox.Quad] | QuadTable,
        diagnostics: list[Diagnostic],
        sources: dict[str, SourceLocation] | None = None,
    ) -> None:
        self.paths = paths
        self.settings = settings
        self.graphs = graphs
        self.lexicon = lexicon
        self.records = records
        self.organizations = organizations
        self.diagnostics = diagnostics
        self.sources: dict[str, SourceLocation] = sources if sources is not None else {}
        if isinstance(quads, QuadTable):
            self._table, self._quads = quads, None
        else:
            self._table, self._quads = QuadTable.from_quads(quads), list(quads)

    def __repr__(self) -> str:
        return f"Catalog({str(self.paths.root)!r}, {len(self.records)} records, {len(self._table)} quads)"

    @property
    def quads(self) -> list[ox.Quad]:
        """All quads, distinct and sorted, as pyoxigraph objects (made on first use)."""
        if self._quads is None:
            self._quads = list(self._table.iter_quads())
        return self._quads

    @property
    def quad_table(self) -> QuadTable:
        """The quads as string keys: what to use for work over every quad of a large catalog."""
        return self._table

    @classmethod
    def load(cls, root: Path | str = ".", *, today: dt.date | None = None) -> Catalog:
        """Read and build a catalog folder; structural errors raise, content problems warn."""
        root = Path(root)
        paths = resolve_paths(root)
        settings = load_settings(root)
        graphs = Graphs.for_base(settings.base)
        lexicon = Lexicon()
        ontology_files = sorted(paths.ontology.glob("*.ttl"))
        vocab_files = sorted((paths.ontology / "vocab").glob("*.ttl"))
        builder = GraphBuilder(settings.base, graphs, lexicon, today or dt.date.today())
        keys: list[QuadKey] = []
        add_quads(
            builder.table, load_vocabularies(ontology_files, graphs.ontology, root, lexicon), keys
        )
        add_quads(
            builder.table, load_vocabularies(vocab_files, graphs.vocabularies, root, lexicon), keys
        )
        organizations = load_organizations(paths.organizations, root, settings.base, lexicon)
        records = read_records(paths.resources, display_root=root)
        builder.organization_keys(organizations, keys)
        known = {r.id for r in records}
        urls: dict[str, Record] = {}
        for record in records:
            builder.record_keys(record, known, urls, keys)
        tagger = Tagger(lexicon)
        builder.activity_keys(keys)
        builder.derived_keys((tag for record in records for tag in tagger.tag(record)), keys)
        sources = {iri: SourceLocation(*loc) for iri, loc in lexicon.locations.items()}
        for record in records:
            sources[resource_iri(settings.base, record.id)] = SourceLocation(
                record.file, record.line
            )
        table = QuadTable(keys, builder.table).sorted()
        del keys
        return cls(
            paths,
            settings,
            graphs,
            lexicon,
            records,
            organizations,
            table,
            sorted(builder.diagnostics),
            sources,
        )

    # ------------------------------------------------------------ views

    def record(self, rid: str) -> Record | None:
        return self._by_id.get(rid)

    @cached_property
    def _by_id(self) -> dict[str, Record]:
        return {r.id: r for r in self.records}

    def graph_quads(self, graph: ox.NamedNode) -> list[ox.Quad]:
        table = self._table
        return list(table.iter_quads(table.graph_keys(str(graph))))

    def triples(self) -> list[ox.Triple]:
        """The union of all graphs, distinct and sorted."""
        return list(self._table.iter_triples())

    def triples_per_graph(self) -> dict[str, int]:
        counts = Counter(k[0] for k in self._table.keys)
        return {g.value: counts.get(str(g), 0) for g in self.graphs.all()}

    def concepts_per_scheme(self) -> dict[str, int]:
        counts = Counter(
            t.scheme for t in self.lexicon.terms.values() if t.scheme != "organization"
        )
        return dict(sorted(counts.items()))

    @cached_property
    def store(self) -> ox.Store:
        """An in-memory pyoxigraph store holding the four named graphs."""
        store = ox.Store()
        store.bulk_extend(self._quads if self._quads is not None else self._table.iter_quads())
        return store

    @cached_property
    def dataset(self) -> rdflib.Dataset:
        """The same quads as an rdflib Dataset, for pyshacl and rdflib users."""
        import rdflib

        from resource_kg.terms import ox_to_rdflib

        # Added graph by graph, not parsed from N-Quads: rdflib's N-Quads parser goes through
        # the deprecated Dataset.default_context (three warnings a parse).
        ds = rdflib.Dataset()
        graphs: dict[str, rdflib.Graph] = {}
        terms: dict[Any, Any] = {}

        def term(t: Any) -> Any:
            hit = terms.get(t)
            if hit is None:
                hit = terms[t] = ox_to_rdflib(t)
            return hit

        quads = self._quads if self._quads is not None else self._table.iter_quads()
        for q in quads:
            name = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
            graph = graphs.get(name)
            if graph is None:
                graph = graphs[name] = ds.graph(rdflib.URIRef(name)) if name else ds.default_graph
            graph.add((term(q.subject), term(q.predicate), term(q.object)))
        return ds

    def query(self, name: str, /, **params: ParamValue) -> list[Row]:
        """Run stored query `name`; its rows as `Row`s (dicts of plain values, with `entities`:
        the IRIs and their labels).

        Parameters are given as the CLI's `--param` takes them, or as Python values: labels,
        IRIs or ids as str, `limit=5` and other numbers as int, dates as `datetime.date`, and a
        list of labels for the rows matching any of them. A bad value raises QueryError naming
        the keyword (`limit=…`)."""
        from resource_kg.query import EmbeddedEngine, find_query, load_queries, run_stored
        from resource_kg.rows import rows_of

        query = find_query(load_queries(self.paths.queries), name)
        engine = EmbeddedEngine(self.store, self.graphs, str(query.path))
        return rows_of(run_stored(engine, query, params, self.lexicon, caller="python"))

    # ------------------------------------------------------------ output

    def serialize_trig(self) -> bytes:
        quads = self._table.iter_quads()
        return _bytes(ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=PREFIXES))

    def serialize_turtle(self) -> bytes:
        triples = self._table.iter_triples()
        return _bytes(ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES))

    def serialize_nquads(self) -> bytes:
        return _bytes(ox.serialize(self._table.iter_quads(), format=ox.RdfFormat.N_QUADS))

    def write(self, out: Path | str) -> list[Path]:
        """Write dist/catalog.trig (named graphs) and dist/catalog.ttl (their union) together.

        Both are streamed to temporary files beside the targets (the same bytes as
        `serialize_trig`/`serialize_turtle` without holding a few hundred MB in memory), then
        renamed; `catalog.sha256` is written last and names the pair (`sha256sum -c`)."""
        out = Path(out)
        written = [out / "catalog.trig", out / "catalog.ttl"]
        table = self._table
        with atomic_outputs(written, out / MANIFEST) as (trig, ttl):
            ox.serialize(table.iter_quads(), trig, format=ox.RdfFormat.TRIG, prefixes=PREFIXES)
            ox.serialize(table.iter_triples(), ttl, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
        return written

    def info(self) -> dict[str, Any]:
        """Counts a curator checks after a build."""
        per_graph = self.triples_per_graph()
        return {
            "resources": len(self.records),
            "organizations": len(self.organizations),
            "concepts": self.concepts_per_scheme(),
            "triples": {iri.rsplit("/", 1)[-1]: n for iri, n in per_graph.items()},
            "warnings": len(self.diagnostics),
        }


def add_quads(table: TermTable, quads: list[ox.Quad], out: list[QuadKey]) -> None:
    add = table.add
    out.extend((add(q.graph_name), add(q.subject), add(q.predicate), add(q.object)) for q in quads)


def _bytes(data: bytes | None) -> bytes:
    """pyoxigraph returns bytes when no output file is given."""
    assert data is not None
    return data
