"""Content negotiation: pick the best offered media type for an Accept header (RFC 9110).

Kept free of any web framework so that query workers, which negotiate once they know the
query form, can use it as well as the request handlers.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

#: Media types of SELECT/ASK results, first one the default; aliases map to the same format.
RESULT_TYPES: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/xml": ox.QueryResultsFormat.XML,
}
#: Media types of graphs (CONSTRUCT, DESCRIBE, entity descriptions), Turtle the default.
GRAPH_TYPES: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "text/plain": ox.RdfFormat.N_TRIPLES,
}
#: Media types of whole datasets (Graph Store Protocol).
DATASET_TYPES: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
#: File suffixes of dereferenceable IRIs and the media type each stands for.
SUFFIXES: dict[str, str] = {
    ".html": "text/html",
    ".ttl": "text/turtle",
    ".jsonld": "application/ld+json",
    ".nt": "application/n-triples",
    ".rdf": "application/rdf+xml",
}
HTML = "text/html"


@dataclass(frozen=True)
class Range:
    """One element of an Accept header: type/subtype (either may be *) and its weight."""

    type: str
    subtype: str
    q: float
    order: int

    def matches(self, media: str) -> int:
        """Specificity of the match (2 exact, 1 type/*, 0 */*), or -1 when it does not match."""
        main, _, sub = media.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 0
        if self.type != main:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == sub else -1


def parse_accept(header: str | None) -> list[Range]:
    """The ranges of an Accept header; an absent or empty header accepts anything."""
    if not header or not header.strip():
        return [Range("*", "*", 1.0, 0)]
    ranges = []
    for i, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if "/" not in media:
            if media == "*":
                media = "*/*"
            else:
                continue
        main, _, sub = media.partition("/")
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append(Range(main, sub, q, i))
    return ranges


def choose(header: str | None, offered: list[str] | tuple[str, ...]) -> str | None:
    """The offered media type the client prefers most, or None when none is acceptable.

    Each offer takes the weight of the most specific range matching it; ties go to the
    order of `offered` (the server's preference), so `*/*` gets the first offer."""
    ranges = parse_accept(header)
    best: tuple[float, int, str] | None = None
    for rank, media in enumerate(offered):
        match = max(
            ((r.matches(media), r.q) for r in ranges if r.matches(media) >= 0), default=None
        )
        if match is None or match[1] <= 0:
            continue
        key = (match[1], -rank, media)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best is not None else None


def split_suffix(name: str) -> tuple[str, str | None]:
    """`3182.ttl` → (`3182`, `text/turtle`); a name without a known suffix is kept whole."""
    for suffix, media in SUFFIXES.items():
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], media
    return name, None
