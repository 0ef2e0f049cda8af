"""The web face of the catalog (`rkg serve`): a read-only SPARQL endpoint and its IRIs' pages.

`create_app(catalog)` gives the ASGI app; `rkg serve` only starts it under uvicorn."""

from resource_kg.web.app import create_app

__all__ = ["create_app"]
