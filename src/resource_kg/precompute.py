"""The summaries graph: what SPARQL cannot compute quickly enough at 100k resources.

Two stored queries read counts instead of aggregating the catalog on every run:
`concept-usage` (resources per concept) and `keyword-pairs` (resources per pair of keywords;
≈ 1M keyword pairs to group at 100k resources, 1.4–2.7 s on pyoxigraph).

The selective queries read page windows: every resource is numbered into windows of
`WINDOW_SIZE` resources along each order a stored query pages by (`sum:idWindow` by id,
`sum:addedWindow` newest first, `sum:reviewWindow` never reviewed then oldest review). A query
that matches tens of thousands of resources would otherwise find and sort all of them before
its first page (0.4–0.6 s at 100k); restricted to the first window it reads 1,000 resources
(≈ 7 ms), and `query.run_stored` widens the windows until the page is full (see there).

Everything here is computed once from the built quads, in plain Python over N-Triples strings,
and kept in the named graph
`{base}graph/summaries`, which the cached query store, the library's in-memory store, the rdflib
engine and `rkg push` all include, so every engine reads the same numbers. `rkg build` does not
write this graph to dist/: it is a query index, not catalog content.

The live (slow) form of each precomputed query is kept in `queries/live/`; a test checks that
both give the same rows, so the counts cannot drift from what the queries would compute.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator

import pyoxigraph as ox

from resource_kg.config import ONTOLOGY_NS
from resource_kg.graph import DCT, RDF, RDFS, XSD, Graphs, QuadTable
from resource_kg.related import RELATED_COUNT, RELATED_PREDICATES, related_indices

#: Namespace of the summary terms; each is described (label, comment) inside the graph itself.
SUMMARY_NS = "https://w3id.org/resource-kg/summary#"
#: Properties through which a resource uses a concept (the `concept-usage` query's list).
USAGE_PREDICATES = frozenset(
    [ONTOLOGY_NS + p for p in ("primaryAudience", "secondaryAudience", "servesPopulation")]
    + [ONTOLOGY_NS + p for p in ("topic", "subtopic", "keyword", "status")]
    + [DCT + "type", DCT + "language"]
)
KEYWORD = ONTOLOGY_NS + "keyword"
RDF_TYPE = RDF + "type"
RESOURCE_CLASS = ONTOLOGY_NS + "Resource"
IDENTIFIER = DCT + "identifier"
DATE_ADDED = ONTOLOGY_NS + "dateAdded"
LAST_REVIEWED = ONTOLOGY_NS + "lastReviewed"
#: Predicates whose literal values the page windows are ordered by.
LITERAL_PREDICATES = frozenset({IDENTIFIER, DATE_ADDED, LAST_REVIEWED})
CREATOR = DCT + "creator"
TOPIC = ONTOLOGY_NS + "topic"
POPULATION = ONTOLOGY_NS + "servesPopulation"
#: Predicates whose triples the summaries are computed from.
INPUT_PREDICATES = USAGE_PREDICATES | LITERAL_PREDICATES | {RDF_TYPE, CREATOR}
#: Resources in one page window.
WINDOW_SIZE = 1000

#: Summary terms: (local name, label, comment).
TERMS = (
    ("KeywordPair", "keyword pair", "Two keywords given to the same resources (first < second)."),
    ("first", "first keyword", "The keyword of a pair whose IRI sorts first."),
    ("second", "second keyword", "The keyword of a pair whose IRI sorts second."),
    (
        "resources",
        "number of resources",
        "How many distinct resources use this concept, or carry both keywords of this pair.",
    ),
    ("resourceCount", "resources in the catalog", "How many resources (rkg:Resource) there are."),
    (
        "CoverageCell",
        "coverage cell",
        "A special population and a topic with resources serving the one on the other.",
    ),
    ("population", "population", "The special population of a coverage cell."),
    ("topic", "topic", "The topic of a coverage cell; of a developer, a topic it covered."),
    ("developed", "resources developed", "How many resources an organization developed."),
    ("windows", "page windows", "How many page windows each order has (the last may be short)."),
    (
        "related",
        "related resource",
        f"One of the {RELATED_COUNT} other resources sharing the most topics, subtopics, keywords"
        " and served populations with this one (ties go to the lower IRI).",
    ),
    (
        "idWindow",
        "window in id order",
        "The page window of a resource when resources are ordered by id (0 is the first).",
    ),
    (
        "addedWindow",
        "window in order of addition",
        "The page window of a resource when resources are ordered newest added first, then by"
        " id; resources without a date added come last.",
    ),
    (
        "reviewWindow",
        "window in review order",
        "The page window of a resource when resources are ordered never reviewed first (by id),"
        " then by their oldest last review, then by id.",
    ),
)

#: One input triple: subject (N-Triples form), predicate IRI, and object: an IRI, the lexical
#: form of a literal of one of LITERAL_PREDICATES, or None for any other literal.
Fact = tuple[str, str, str | None]


def summaries_graph(graphs: Graphs) -> ox.NamedNode:
    """`{base}graph/summaries`, beside the catalog's four graphs."""
    return ox.NamedNode(graphs.catalog.value.rsplit("/", 1)[0] + "/summaries")


def dataset_graphs(graphs: Graphs) -> tuple[ox.NamedNode, ...]:
    """The graphs every query engine sees: the four of the catalog and the summaries."""
    return (*graphs.all(), summaries_graph(graphs))


def facts_from_table(table: QuadTable) -> Iterator[Fact]:
    """The input triples of a built catalog, read from its string keys (no term objects)."""
    wanted = {f"<{p}>": p for p in INPUT_PREDICATES}
    for _g, s, p, o in table.keys:
        predicate = wanted.get(p)
        if predicate is None:
            continue
        if o.startswith("<"):
            yield s, predicate, o[1:-1]
        elif predicate in LITERAL_PREDICATES and o.startswith('"'):
            # Ids and dates hold no escapes, so the quoted text is the lexical form.
            yield s, predicate, o[1 : o.rindex('"')]
        else:
            yield s, predicate, None


def facts_from_store(store: ox.Store) -> Iterator[Fact]:
    """The input triples of any pyoxigraph store holding the catalog's graphs."""
    for predicate in sorted(INPUT_PREDICATES):
        for q in store.quads_for_pattern(None, ox.NamedNode(predicate), None, None):
            o = q.object
            if isinstance(o, ox.NamedNode) or (
                isinstance(o, ox.Literal) and predicate in LITERAL_PREDICATES
            ):
                yield str(q.subject), predicate, o.value
            else:
                yield str(q.subject), predicate, None


def summary_quads(
    facts: Iterable[Fact], graphs: Graphs, window_size: int = WINDOW_SIZE
) -> list[ox.Quad]:
    """The summaries graph: concept usage counts, keyword pair counts and the resource count
    (sorted), then page windows and related resources (in resource order).

    A fact stated in two graphs counts once (the stored queries count DISTINCT resources)."""
    shared: dict[str, set[tuple[str, str]]] = defaultdict(set)
    creators: dict[str, set[str]] = defaultdict(set)
    users: dict[str, set[str]] = defaultdict(set)
    keywords: dict[str, set[str]] = defaultdict(set)
    resources: set[str] = set()
    literals: dict[str, dict[str, list[str]]] = {p: defaultdict(list) for p in LITERAL_PREDICATES}
    for s, p, o in facts:
        if o is None:
            continue
        if p == RDF_TYPE:
            if o == RESOURCE_CLASS:
                resources.add(s)
            continue
        if p in LITERAL_PREDICATES:
            literals[p][s].append(o)
            continue
        if p == CREATOR:
            creators[s].add(o)
            continue
        users[o].add(s)
        if p in RELATED_PREDICATES:
            shared[s].add((p, o))
        if p == KEYWORD:
            keywords[s].add(o)
    pairs: Counter[tuple[str, str]] = Counter()
    for found in keywords.values():
        ordered = sorted(found)
        for i, first in enumerate(ordered):
            for second in ordered[i + 1 :]:
                pairs[(first, second)] += 1
    g = summaries_graph(graphs)
    base = g.value.rsplit("graph/", 1)[0]
    s_ns = SUMMARY_NS
    count = ox.NamedNode(s_ns + "resources")
    out: list[ox.Quad] = []
    for concept, subjects in users.items():
        out.append(ox.Quad(ox.NamedNode(concept), count, _integer(len(subjects)), g))
    out += _pair_nodes(pairs, ("KeywordPair", "first", "second"), "keyword-pair", base, g)
    out += _aggregates(shared, creators, base, g)
    catalog = ox.NamedNode(f"{base}summary/catalog")
    out.append(ox.Quad(catalog, ox.NamedNode(s_ns + "resourceCount"), _integer(len(resources)), g))
    windows = -(-len(resources) // window_size)
    out.append(ox.Quad(catalog, ox.NamedNode(s_ns + "windows"), _integer(windows), g))
    label, comment = ox.NamedNode(RDFS + "label"), ox.NamedNode(RDFS + "comment")
    for name, text, note in TERMS:
        term = ox.NamedNode(s_ns + name)
        out += [
            ox.Quad(term, label, ox.Literal(text, language="en"), g),
            ox.Quad(term, comment, ox.Literal(note, language="en"), g),
        ]
    out.sort(key=lambda q: (str(q.subject), str(q.predicate), str(q.object)))
    for name, ordered in _orders(resources, literals).items():
        prop = ox.NamedNode(s_ns + name)
        for i, s in enumerate(ordered):
            out.append(ox.Quad(ox.NamedNode(s[1:-1]), prop, _integer(i // window_size), g))
    by_iri = sorted(resources, key=lambda s: s[1:-1])
    nodes = [ox.NamedNode(s[1:-1]) for s in by_iri]
    prop = ox.NamedNode(s_ns + "related")
    ranked = related_indices([frozenset(shared.get(s, ())) for s in by_iri])
    for i, others in enumerate(ranked):
        out += [ox.Quad(nodes[i], prop, nodes[j], g) for j in others]
    return out


def _aggregates(
    shared: dict[str, set[tuple[str, str]]],
    creators: dict[str, set[str]],
    base: str,
    g: ox.NamedNode,
) -> list[ox.Quad]:
    """The `coverage` cells (resources per population and topic) and the `developers` counts
    (resources per organization, and the topics those cover)."""
    topics = {s: {o for p, o in found if p == TOPIC} for s, found in shared.items()}
    cells: Counter[tuple[str, str]] = Counter()
    for s, found in shared.items():
        for p, population in found:
            if p == POPULATION:
                for topic in topics[s]:
                    cells[(population, topic)] += 1
    developed: Counter[str] = Counter()
    covered: dict[str, set[str]] = defaultdict(set)
    for s, organizations in creators.items():
        for org in organizations:
            developed[org] += 1
            covered[org] |= topics.get(s, set())
    ns = SUMMARY_NS
    roles = ("CoverageCell", "population", "topic")
    out = _pair_nodes(cells, roles, "coverage", base, g)
    topic_p = ox.NamedNode(ns + "topic")
    developed_p = ox.NamedNode(ns + "developed")
    for org, n in developed.items():
        node = ox.NamedNode(org)
        out.append(ox.Quad(node, developed_p, _integer(n), g))
        out += [ox.Quad(node, topic_p, ox.NamedNode(t), g) for t in covered[org]]
    return out


def _pair_nodes(
    counts: Counter[tuple[str, str]],
    names: tuple[str, str, str],
    folder: str,
    base: str,
    g: ox.NamedNode,
) -> list[ox.Quad]:
    """A node per pair of IRIs with its count: typed `names[0]`, the two IRIs through
    `names[1]` and `names[2]`, named by a hash of the pair under `{base}summary/{folder}/`."""
    kind, first_p, second_p = (ox.NamedNode(SUMMARY_NS + n) for n in names)
    count, a = ox.NamedNode(SUMMARY_NS + "resources"), ox.NamedNode(RDF_TYPE)
    out: list[ox.Quad] = []
    for (first, second), n in counts.items():
        digest = hashlib.sha256(f"{first} {second}".encode()).hexdigest()[:16]
        node = ox.NamedNode(f"{base}summary/{folder}/{digest}")
        out += [
            ox.Quad(node, a, kind, g),
            ox.Quad(node, first_p, ox.NamedNode(first), g),
            ox.Quad(node, second_p, ox.NamedNode(second), g),
            ox.Quad(node, count, _integer(n), g),
        ]
    return out


def _orders(resources: set[str], literals: dict[str, dict[str, list[str]]]) -> dict[str, list[str]]:
    """The resources in each page order, matching the ORDER BY of the queries that use it.

    Ids compare by code point and dates (YYYY-MM-DD) as text, as SPARQL compares them. A
    resource with two values of a field (invalid, but possible) is placed by the one the
    query's order meets first."""
    ids = literals[IDENTIFIER]
    by_id = sorted(resources, key=lambda s: (0, min(ids[s]), s) if s in ids else (1, "", s))
    added = literals[DATE_ADDED]
    newest = sorted((s for s in by_id if s in added), key=lambda s: max(added[s]), reverse=True)
    newest += [s for s in by_id if s not in added]
    reviewed = literals[LAST_REVIEWED]
    review = [s for s in by_id if s not in reviewed]
    review += sorted((s for s in by_id if s in reviewed), key=lambda s: min(reviewed[s]))
    return {"idWindow": by_id, "addedWindow": newest, "reviewWindow": review}


def _integer(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))


def ensure_summaries(store: ox.Store, graphs: Graphs) -> bool:
    """Add the summaries graph to a writable store that lacks it; True when it was added."""
    g = summaries_graph(graphs)
    if store.contains_named_graph(g):
        return False
    store.bulk_extend(summary_quads(facts_from_store(store), graphs))
    return True
