"""Move RDF terms between rdflib (pySHACL, rdflib's SPARQL engine) and pyoxigraph without
going through text."""

from __future__ import annotations

import pyoxigraph as ox
import rdflib

OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def ox_to_rdflib(term: object) -> rdflib.URIRef | rdflib.BNode | rdflib.Literal | None:
    """The rdflib form of a pyoxigraph term (a plain literal for xsd:string, as rdflib's
    parsers read `"text"`); None for anything that is not an RDF term."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        dtype = term.datatype.value
        if dtype == XSD_STRING:
            return rdflib.Literal(term.value)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(dtype))
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    return None


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
