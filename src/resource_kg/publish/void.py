"""The dataset described: VoID statistics and DCAT (distributions, licence, publisher) from the dumps written."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import pyoxigraph as ox

from resource_kg import jsonld
from resource_kg.catalog import Catalog
from resource_kg.config import CONCEPT_BASE
from resource_kg.graph import DCT, FOAF, PREFIXES, RDF, SKOS, XSD
from resource_kg.publish.dumps import DUMPS, DumpStats, expect_bytes, sha256_file
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
    body = expect_bytes(ox.serialize(ordered, format=ox.RdfFormat.TURTLE, prefixes=VOID_PREFIXES))
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
