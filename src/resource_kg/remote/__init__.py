"""A remote SPARQL 1.1 store: query it (SPARQL 1.1 Protocol, answers streamed) and load it (Graph Store Protocol).

Stores come in kinds (`oxigraph`, `virtuoso`, `generic`), given or detected from the endpoint's
`Server` header. The kind says where the Graph Store and the update service are, and how a query
names the catalog's graphs: as protocol parameters (`default-graph-uri`, `named-graph-uri`:
Oxigraph, generic stores), or not at all (Virtuoso, whose default dataset is the union of its
graphs and which plans the parameters and `FROM` badly); `FROM` / `FROM NAMED` added to the text
sent to one store is a third choice. The stored query text is otherwise sent as written.

Credentials come from the environment, never from the command line: `RKG_ENDPOINT_TOKEN`
(sent as `Authorization: Bearer ...`), or `RKG_ENDPOINT_USER` with `RKG_ENDPOINT_PASSWORD`
(HTTP Basic, or Digest when the store asks for it, as Virtuoso's `/sparql-graph-crud-auth`
does; `RKG_ENDPOINT_AUTH=basic|digest` forces one). Every failure to talk to the store
(refused, timed out, an HTTP error, a body that is no SPARQL result) becomes one
`EndpointError`; a refused login says so.

A push loads each named graph into a temporary graph in bounded chunks, then swaps it in with
SPARQL Update `MOVE`, so each graph on the store is either wholly old or wholly new; a push that
stops says which graphs are done.
"""

from __future__ import annotations

from resource_kg.remote.endpoint import (
    DATASET_OF_KIND,
    STORE_KINDS,
    DatasetMode,
    Endpoint,
    StoreKind,
    StoreLayout,
    detect_kind,
    layout_for,
    store_url_for,
    with_dataset,
)
from resource_kg.remote.http import (
    DEFAULT_TIMEOUT,
    ENV_AUTH,
    ENV_PASSWORD,
    ENV_TOKEN,
    ENV_USER,
    Answer,
    HttpAuth,
    auth_header,
    http_request,
)
from resource_kg.remote.push import (
    CHUNK_TRIPLES,
    GraphCount,
    GraphSource,
    PushInterrupted,
    push,
    put_graph,
    quads_source,
    swap_graph,
    temporary_graph,
)

__all__ = [
    "CHUNK_TRIPLES",
    "DATASET_OF_KIND",
    "DEFAULT_TIMEOUT",
    "ENV_AUTH",
    "ENV_PASSWORD",
    "ENV_TOKEN",
    "ENV_USER",
    "STORE_KINDS",
    "Answer",
    "DatasetMode",
    "Endpoint",
    "GraphCount",
    "GraphSource",
    "HttpAuth",
    "PushInterrupted",
    "StoreKind",
    "StoreLayout",
    "auth_header",
    "detect_kind",
    "http_request",
    "layout_for",
    "push",
    "put_graph",
    "quads_source",
    "store_url_for",
    "swap_graph",
    "temporary_graph",
    "with_dataset",
]
