"""resource-kg: a catalog of health-center resources as a knowledge graph."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from resource_kg.errors import RkgError

if TYPE_CHECKING:
    from resource_kg.catalog import Catalog

__all__ = ["Catalog", "RkgError", "__version__"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """`Catalog` is imported on first use, so that `rkg` starts (and handles Ctrl-C) before
    the heavy libraries load."""
    if name == "Catalog":
        from resource_kg.catalog import Catalog

        return Catalog
    raise AttributeError(f"module 'resource_kg' has no attribute {name!r}")
