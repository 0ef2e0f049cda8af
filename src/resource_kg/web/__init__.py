"""The web face of the catalog (`rkg serve`): a read-only SPARQL endpoint and its IRIs' pages.

`create_app(root)` (a catalog folder: SPARQL answers while the catalog loads) or
`create_app(catalog)` (a loaded `Catalog`) gives the ASGI app; `rkg serve` only starts it under
uvicorn. Over a remote store: `create_app(remote_catalog(root, endpoint), endpoint=endpoint)`."""

from resource_kg.web.app import create_app
from resource_kg.web.store import remote_catalog

__all__ = ["create_app", "remote_catalog"]
