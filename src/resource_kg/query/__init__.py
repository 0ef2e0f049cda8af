"""Stored SPARQL queries: their metadata, safe parameters, and the engines that run them.

A stored query is a `.rq` file whose `#+` header lines hold YAML metadata (grlc style), so the
file stays valid SPARQL. Each parameter NAME appears in the query as `VALUES ?_NAME { UNDEF }`
(once, or once in each subquery that needs it); running the query replaces those blocks'
content with RDF terms serialized by pyoxigraph. User text is never pasted into a query: a
label becomes the IRI it resolves to through the vocabularies, a number or date becomes a
typed literal. The one exception is a `limit` parameter: the query's single `LIMIT n` clause
gets the canonical digits of a validated whole number (or disappears for `all`).

Every engine sees the same RDF dataset: the default graph is the union of the four named
graphs (ontology, vocabularies, catalog, derived), and `GRAPH ?g` ranges over those four: the
graphs a release carries, so a stored query gives the same rows on any store loaded from the
release files. The embedded store holds exactly those graphs and is queried with pyoxigraph's union default graph
(2-3x faster than listing the graphs); a remote endpoint, which may hold other graphs, gets
them as the SPARQL 1.1 Protocol's `default-graph-uri`/`named-graph-uri` parameters (portable
to any SPARQL 1.1 server, no server option needed); rdflib uses its union default graph.
Oxigraph keeps a triple that sits in two graphs twice in that union where rdflib keeps it
once, so stored queries use DISTINCT where that could matter.

    stored   queries/*.rq and their `#+` metadata: StoredQuery, Parameter, load_queries
    params   parameter values → typed RDF terms (labels through the vocabularies), bind()
    engines  the embedded pyoxigraph engine and rdflib's engine, one Result for both
    run      run_stored (resolve, bind, run) and the cheap Context of a catalog folder

The remote engine (a SPARQL 1.1 endpoint) is `resource_kg.remote`; the catalog store that
keeps the embedded engine fresh is `resource_kg.store`.
"""

from __future__ import annotations

from resource_kg.query.engines import EmbeddedEngine, Engine, RdflibEngine, Result, to_value
from resource_kg.query.params import (
    ParamValue,
    ResourceFinder,
    bind,
    check_params,
    coerce_value,
    resolve_params,
    resolve_value,
)
from resource_kg.query.run import Context, load_context, resource_finder, run_stored
from resource_kg.query.stored import (
    CONCEPT_KINDS,
    INTEGER_TYPES,
    KINDS,
    LIMIT_CLAUSE,
    LIST_SEPARATOR,
    MAX_LIMIT,
    OTHER_KINDS,
    RKG_RESOURCE,
    XSD,
    Cell,
    Parameter,
    StoredQuery,
    Term,
    Value,
    find_query,
    load_queries,
    parse_stored_query,
    values_block,
)

__all__ = [
    "CONCEPT_KINDS",
    "Cell",
    "Context",
    "EmbeddedEngine",
    "Engine",
    "INTEGER_TYPES",
    "KINDS",
    "LIMIT_CLAUSE",
    "LIST_SEPARATOR",
    "MAX_LIMIT",
    "OTHER_KINDS",
    "ParamValue",
    "Parameter",
    "RKG_RESOURCE",
    "RdflibEngine",
    "ResourceFinder",
    "Result",
    "StoredQuery",
    "Term",
    "Value",
    "XSD",
    "bind",
    "coerce_value",
    "find_query",
    "load_context",
    "load_queries",
    "parse_stored_query",
    "check_params",
    "resolve_params",
    "resolve_value",
    "resource_finder",
    "run_stored",
    "to_value",
    "values_block",
]
