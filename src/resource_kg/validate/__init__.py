"""Validation curators can act on: SHACL results mapped back to record, field, file and line.

pySHACL is the reference engine (`engine="pyshacl"`: one run over the whole graph). The default
engine gives the same findings (tests compare both on fixture catalogs) in linear time:

* core constraints on resources run in pySHACL on batches of 1,000 records, in up to two
  worker processes forked from this one (they inherit the catalog; record ids go out, results
  come back). A batch graph holds its records' triples plus vocabularies and organizations.
  The shapes graph is parsed once; meta-SHACL runs once per shapes digest (remembered in
  .rkg-cache/), inference is off. Property shapes used only by the rkg:Resource node shapes
  get that target themselves in the batch copy of the shapes (`shapes._hoist`): pySHACL then checks
  each once per batch instead of once per record (0.8 → 0.15 ms a record);
* each SHACL-SPARQL constraint is written once, as sh:select. Its whole-graph form is derived
  from the parsed query (`plan.plan_query`): `$this` becomes the projected variable `?this` and the
  rows are joined with the shape's focus nodes, where that equals SHACL's pre-binding; any
  other query runs once per focus node with `$this` substituted;
* SPARQL constraints of resource shapes whose patterns read only the focus record's own
  triples and the reference graphs (`engine._local`) run per batch, over the batch store;
* the others (those that compare records with each other: duplicate url and title) run once
  on a store of only the triples their patterns can match (`SparqlCheck.reads`,
  `engine.whole_graph_checks`);
* shapes that target anything other than resources (concepts, ontology terms) and their
  SPARQL constraints run once, on the ontology, vocabularies and organizations;
* focus nodes per shape are computed from the quad keys, as pySHACL finds them.

Incremental runs: results are cached per record under a hash of the record's triples (context:
shapes, ontology + vocabularies + organizations, validation date), the once-only results with
the context, the whole-graph results under a hash of the triples they read. Only records whose
triples changed go through pySHACL again. With `store.incremental.load` (what `rkg validate` uses),
unchanged record files are not rebuilt (they are read and hashed). After a few edits `quick`
goes further: it keeps each record file's findings and the few triples catalog-wide steps read,
builds and checks only the edited files, reruns the catalog-wide checks on the kept triples and
gives the report a full run gives (tests compare them after random edits).

Measured at 100k synthetic resources on 2 shared cores (bench/README.md): first run 71 s
including the build; after editing 10 records' summaries ≈ 6 s (quick), their titles ≈ 10 s
(the two duplicate checks rerun on 300k triples).

The validation date enters the data of the run as one fact, `<{base}validation/report>
rkgsh:validationDate "YYYY-MM-DD"^^xsd:date` (`reference.run_facts`): the node and fact the Turtle
report carries, so a release's validation-report.ttl gives any SHACL engine the same date. The
shapes derive the latest year and the review cutoff from it; results depend on the date given,
never on the clock.

Where each part lives (one module, one job):

    run        `validate(catalog, on)`: the entry point, engine → findings → Report
    shapes     shapes/*.ttl loaded, meta-SHACL, what the fast engine runs on
    plan       the whole-graph form of a SHACL-SPARQL check, from its parsed sh:select
    reference  pySHACL: run facts, one pySHACL run read into raw results, the reference engine
    engine     the fast engine: batches in forked workers, once-only shapes, whole-graph checks
    sparql     a SHACL-SPARQL check on a pyoxigraph store, rows → raw results
    focus      focus nodes per shape, from the quad keys
    parts      the catalog's quad keys split per record / shared / reference
    cache      per-record results in the store's database
    quick      a run after a few edits: kept findings per record file, edited files checked
    mapping    raw results → findings (record, field, file, line, written value)
    report     Finding, Report and its renderers (text, csv, json, markdown, ttl)
    terms      RDF terms, CURIEs and the raw result the others share
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from resource_kg.lazy import lazy_exports

if TYPE_CHECKING:
    from resource_kg.validate.cache import ResultCache, cache_file
    from resource_kg.validate.engine import (
        DEFAULT_BATCH,
        Progress,
        fast_results,
        sparql_results,
    )
    from resource_kg.validate.focus import focus_from_keys, focus_nodes
    from resource_kg.validate.mapping import Mapper
    from resource_kg.validate.parts import Parts, parts_of, record_digest
    from resource_kg.validate.plan import QueryPlan, plan_query
    from resource_kg.validate.reference import reference_results, run_facts
    from resource_kg.validate.report import FAIL_ON, FORMATS, KEYS, SEVERITIES, Finding, Report
    from resource_kg.validate.run import validate
    from resource_kg.validate.shapes import Shapes, SparqlCheck, load_shapes
    from resource_kg.validate.sparql import check_rows
    from resource_kg.validate.terms import SH, SHAPES_NS, RawResult, curie

#: Where each name lives. Loaded on first use: `rkg query` needs `Parts` (through the
#: store) but not pySHACL or rdflib's SPARQL parser, whose imports alone take ~0.8 s.
_WHERE = {
    "DEFAULT_BATCH": "engine",
    "FAIL_ON": "report",
    "FORMATS": "report",
    "Finding": "report",
    "KEYS": "report",
    "Mapper": "mapping",
    "Parts": "parts",
    "Progress": "engine",
    "QueryPlan": "plan",
    "RawResult": "terms",
    "Report": "report",
    "ResultCache": "cache",
    "SEVERITIES": "report",
    "SH": "terms",
    "SHAPES_NS": "terms",
    "Shapes": "shapes",
    "SparqlCheck": "shapes",
    "cache_file": "cache",
    "check_rows": "sparql",
    "curie": "terms",
    "fast_results": "engine",
    "focus_from_keys": "focus",
    "focus_nodes": "focus",
    "load_shapes": "shapes",
    "parts_of": "parts",
    "plan_query": "plan",
    "record_digest": "parts",
    "reference_results": "reference",
    "run_facts": "reference",
    "sparql_results": "engine",
    "validate": "run",
}


__getattr__ = lazy_exports(__name__, _WHERE)

__all__ = [
    "DEFAULT_BATCH",
    "FAIL_ON",
    "FORMATS",
    "Finding",
    "KEYS",
    "Mapper",
    "Parts",
    "Progress",
    "QueryPlan",
    "RawResult",
    "Report",
    "ResultCache",
    "SEVERITIES",
    "SH",
    "SHAPES_NS",
    "Shapes",
    "SparqlCheck",
    "cache_file",
    "check_rows",
    "curie",
    "fast_results",
    "focus_from_keys",
    "focus_nodes",
    "load_shapes",
    "parts_of",
    "plan_query",
    "record_digest",
    "reference_results",
    "run_facts",
    "sparql_results",
    "validate",
]
