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

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The subpackages first (light: they load their modules on first use), so that the names
# `validate` and `publish` below are the functions, whatever is imported later.
import resource_kg.publish as _publish_package  # noqa: F401
import resource_kg.validate as _validate_package  # noqa: F401
from resource_kg.errors import RkgError
from resource_kg.lazy import lazy_exports

if TYPE_CHECKING:
    from resource_kg.catalog import Catalog
    from resource_kg.publish.release import PublishRefused, Release
    from resource_kg.rows import Entity, Row
    from resource_kg.validate.report import Finding, Report

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


def validate(catalog: Catalog, on: dt.date | None = None, **options: Any) -> Report:
    """Validate a built catalog against its shapes as of `on` (default today): a `Report`.

    `resource_kg.validate.run.validate`, whose options (engine, cache, workers, ...) pass on."""
    from resource_kg.validate.run import validate as run

    return run(catalog, on, **options)


def publish(catalog: Catalog, out: Path | str, **options: Any) -> Release:
    """Validate, then write OUT/<version>/ atomically; `PublishRefused` on Violations.

    `resource_kg.publish.release.publish`, whose options (version, date, force, ...) pass on."""
    from resource_kg.publish.release import publish as run

    return run(catalog, out, **options)


#: `Catalog` and the rest load on first use, so that `rkg` starts (and handles Ctrl-C)
#: before the heavy libraries load.
__getattr__ = lazy_exports(
    __name__,
    {
        "Catalog": "catalog",
        "PublishRefused": "publish.release",
        "Release": "publish.release",
        "Entity": "rows",
        "Row": "rows",
        "Finding": "validate.report",
        "Report": "validate.report",
    },
)
