"""The entry point of validation: `validate(catalog, on)` runs an engine and maps its results to a Report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from resource_kg.catalog import Catalog
from resource_kg.errors import ValidationError
from resource_kg.files import write_atomic
from resource_kg.validate.engine import DEFAULT_BATCH, Progress, fast_results
from resource_kg.validate.focus import focus_from_keys
from resource_kg.validate.mapping import Mapper, one_per_problem
from resource_kg.validate.parts import parts_of
from resource_kg.validate.plan import PLANS, plans_json, read_plans
from resource_kg.validate.reference import reference_results
from resource_kg.validate.report import SORT_KEY, Finding, Report
from resource_kg.validate.shapes import META_CHECKED, Shapes, load_shapes
from resource_kg.validate.terms import curie

# ---------------------------------------------------------------- entry point


def validate(
    catalog: Catalog,
    on: dt.date | None = None,
    *,
    engine: str = "fast",
    batch_size: int = DEFAULT_BATCH,
    cache: Path | None = None,
    progress: Progress | None = None,
    shapes: Shapes | None = None,
    workers: int | None = None,
) -> Report:
    """Validate a built catalog against its shapes as of `on` (default today).

    `engine="pyshacl"` runs pySHACL once on the whole graph (the reference); the default engine
    gives the same findings in linear time. `cache` (a JSON file) lets a rerun revalidate only
    the records whose triples changed. `workers` (default: `default_workers()`) is how many
    processes check batches when there is more than one batch.
    """
    day = on or dt.date.today()
    shapes = shapes or prepare_shapes(catalog.paths.shapes, catalog.paths.root, cache)
    if engine not in ("fast", "pyshacl"):
        raise ValidationError(f"unknown engine {engine!r}; use fast or pyshacl")
    parts = parts_of(catalog)
    focus = focus_from_keys(shapes, parts.every)
    if engine == "pyshacl":
        raw = reference_results(catalog, shapes, day)
    else:
        raw = fast_results(
            catalog,
            shapes,
            day,
            batch_size=batch_size,
            cache=cache,
            progress=progress,
            workers=workers,
            parts=parts,
            focus=focus,
        )
    mapper = Mapper(catalog, day)
    findings = {f for r in raw for f in mapper.findings(r)}
    return report_of(findings, day, len(catalog.records), shapes, focus, catalog.settings.base)


def prepare_shapes(folder: Path, root: Path, cache: Path | None) -> Shapes:
    """The catalog's shapes, meta-SHACL and the SPARQL plans remembered in `cache`."""
    checked = cache / "shapes-checked.txt" if cache is not None else None
    if checked is not None and checked.is_file():  # meta-SHACL passed on these shapes before
        META_CHECKED.update(checked.read_text(encoding="utf-8").split())
    plans = cache / "shape-plans.json" if cache is not None else None
    if plans is not None:
        read_plans(plans)
    known = set(PLANS)
    shapes = load_shapes(folder, root)
    if checked is not None and shapes.digest in META_CHECKED:
        write_atomic(checked, shapes.digest + "\n")
    if plans is not None and (set(PLANS) != known or not plans.is_file()):
        write_atomic(plans, plans_json())
    return shapes


def report_of(
    findings: set[Finding],
    day: dt.date,
    records: int,
    shapes: Shapes,
    focus: dict[str, set[str]],
    base: str,
) -> Report:
    """The report of a run's findings: one per problem, in report order."""
    kept = one_per_problem(findings)
    return Report(sorted(kept, key=SORT_KEY), day, records, focus_counts(shapes, focus), base)


def focus_counts(shapes: Shapes, targets: dict[str, set[str]]) -> dict[str, int]:
    """Focus nodes checked per shape: node shapes by their targets, property shapes by owner."""
    counts = {curie(s): len(nodes) for s, nodes in targets.items()}
    for prop, owners in shapes.parents.items():
        nodes: set[str] = set()
        for owner in owners:
            nodes |= targets.get(owner, set())
        if any(o in targets for o in owners):
            counts[curie(prop)] = len(nodes)
    return dict(sorted(counts.items()))
