"""`Catalog`: the one library object the CLI, the tests and a notebook all go through."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from resource_kg.config import Paths, Settings, load_settings, resolve_paths
from resource_kg.errors import Diagnostic
from resource_kg.files import write_atomic
from resource_kg.graph import PREFIXES, GraphBuilder, Graphs, resource_iri, sort_quads
from resource_kg.records import Record, read_records
from resource_kg.tagging import Tagger
from resource_kg.vocab import Lexicon, Organization, load_organizations, load_vocabularies

if TYPE_CHECKING:
    import rdflib


@dataclass(frozen=True)
class SourceLocation:
    """Where an entity of the graph was written: a record, an organization, a concept."""

    file: str
    line: int


@dataclass
class Catalog:
    """Records, vocabularies and the graph built from them, with each IRI's source location."""

    paths: Paths
    settings: Settings
    graphs: Graphs
    lexicon: Lexicon
    records: list[Record]
    organizations: list[Organization]
    quads: list[ox.Quad]
    diagnostics: list[Diagnostic]
    sources: dict[str, SourceLocation] = field(default_factory=dict)

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
        quads = load_vocabularies(ontology_files, graphs.ontology, root, lexicon)
        quads += load_vocabularies(vocab_files, graphs.vocabularies, root, lexicon)
        organizations = load_organizations(paths.organizations, root, settings.base, lexicon)
        records = read_records(paths.resources, display_root=root)
        builder = GraphBuilder(settings.base, graphs, lexicon, today or dt.date.today())
        quads += builder.organizations(organizations)
        known = {r.id for r in records}
        urls: dict[str, Record] = {}
        for record in records:
            quads += builder.record(record, known, urls)
        tagger = Tagger(lexicon)
        quads += builder.derived(tag for record in records for tag in tagger.tag(record))
        sources = {iri: SourceLocation(*loc) for iri, loc in lexicon.locations.items()}
        for record in records:
            sources[resource_iri(settings.base, record.id)] = SourceLocation(
                record.file, record.line
            )
        return cls(
            paths,
            settings,
            graphs,
            lexicon,
            records,
            organizations,
            sort_quads(quads),
            sorted(builder.diagnostics),
            sources,
        )

    # ------------------------------------------------------------ views

    def record(self, rid: str) -> Record | None:
        return self._by_id.get(rid)

    @cached_property
    def _by_id(self) -> dict[str, Record]:
        return {r.id: r for r in self.records}

    def record_for_iri(self, iri: str) -> Record | None:
        prefix = f"{self.settings.base}resource/"
        if not iri.startswith(prefix):
            return None
        return self._by_id.get(iri[len(prefix) :].split("/", 1)[0])

    def graph_quads(self, graph: ox.NamedNode) -> list[ox.Quad]:
        return [q for q in self.quads if q.graph_name == graph]

    def triples(self) -> list[ox.Triple]:
        """The union of all graphs, distinct and sorted."""
        seen = {(str(q.subject), str(q.predicate), str(q.object)): q.triple for q in self.quads}
        return [seen[k] for k in sorted(seen)]

    def triples_per_graph(self) -> dict[str, int]:
        counts = Counter(
            q.graph_name.value for q in self.quads if isinstance(q.graph_name, ox.NamedNode)
        )
        return {g.value: counts.get(g.value, 0) for g in self.graphs.all()}

    def concepts_per_scheme(self) -> dict[str, int]:
        counts = Counter(
            t.scheme for t in self.lexicon.terms.values() if t.scheme != "organization"
        )
        return dict(sorted(counts.items()))

    @cached_property
    def store(self) -> ox.Store:
        """An in-memory pyoxigraph store holding the four named graphs."""
        store = ox.Store()
        store.bulk_extend(self.quads)
        return store

    @cached_property
    def dataset(self) -> rdflib.Dataset:
        """The same quads as an rdflib Dataset, for pyshacl and rdflib users."""
        import rdflib

        ds = rdflib.Dataset()
        ds.parse(data=self.serialize_nquads(), format="nquads")
        return ds

    def query(self, name: str, **params: str) -> list[dict[str, Any]]:
        """Run stored query `name` with label/IRI parameters; rows of plain Python values."""
        from resource_kg.query import run_catalog_query

        return list(run_catalog_query(self, name, params).values())

    # ------------------------------------------------------------ output

    def serialize_trig(self) -> bytes:
        return _bytes(ox.serialize(self.quads, format=ox.RdfFormat.TRIG, prefixes=PREFIXES))

    def serialize_turtle(self) -> bytes:
        return _bytes(ox.serialize(self.triples(), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES))

    def serialize_nquads(self) -> bytes:
        return _bytes(ox.serialize(self.quads, format=ox.RdfFormat.N_QUADS))

    def write(self, out: Path | str) -> list[Path]:
        """Write dist/catalog.trig (named graphs) and dist/catalog.ttl (their union), atomically."""
        out = Path(out)
        written = [out / "catalog.trig", out / "catalog.ttl"]
        write_atomic(written[0], self.serialize_trig())
        write_atomic(written[1], self.serialize_turtle())
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


def _bytes(data: bytes | None) -> bytes:
    """pyoxigraph returns bytes when no output file is given."""
    assert data is not None
    return data
