"""resource-kg: a catalog of health-center resources as a knowledge graph.

The library in three calls::

    from resource_kg import Catalog, validate, publish

    catalog = Catalog.load(".")                     # build (records → RDF)
    report = validate(catalog)                      # a Report: findings, render("text")
    rows = catalog.query("language", language="English", limit=5)
    release = publish(catalog, "releases")          # raises PublishRefused on Violations

`validate` and `publish` are the functions of the subpackages of the same name (whose modules
stay importable: `from resource_kg.validate import Report`). Errors a caller can fix are
`RkgError`s.
"""

from resource_kg.catalog import Catalog
from resource_kg.errors import RkgError
from resource_kg.publish import PublishRefused, Release
from resource_kg.publish import publish as publish
from resource_kg.rows import Entity, Row
from resource_kg.validate import Finding, Report
from resource_kg.validate import validate as validate

__all__ = [
    "Catalog",
    "Entity",
    "Finding",
    "PublishRefused",
    "Release",
    "Report",
    "RkgError",
    "Row",
    "__version__",
    "publish",
    "validate",
]
__version__ = "0.1.0"
