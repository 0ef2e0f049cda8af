"""Move RDF terms between rdflib (pySHACL, rdflib's SPARQL engine) and pyoxigraph without
going through text."""

from __future__ import annotations

import pyoxigraph as ox
import rdflib

OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal


def rdflib_to_ox(term: object) -> OxTerm | None:
    """The pyoxigraph form of an rdflib term; None for anything that is not an RDF term."""
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    return None
