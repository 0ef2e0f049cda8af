"""resource-kg: a catalog of health-center resources as a knowledge graph."""

from resource_kg.catalog import Catalog
from resource_kg.errors import RkgError

__all__ = ["Catalog", "RkgError", "__version__"]
__version__ = "0.1.0"
