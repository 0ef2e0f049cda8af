"""Running a stored question: parameters resolved, bound and run on an engine; the cheap context (vocabularies only) a query needs without a build."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from resource_kg.config import Paths, load_settings, resolve_paths
from resource_kg.graph import DCT, Graphs
from resource_kg.query.engines import Engine, Result
from resource_kg.query.params import ParamValue, ResourceFinder, bind, resolve_params
from resource_kg.query.stored import RKG_RESOURCE, StoredQuery, Term
from resource_kg.vocab import Lexicon, load_organizations, load_vocabularies


def resource_finder(engine: Engine) -> ResourceFinder:
    """Look a resource up by id (a literal) or IRI on the engine, bound as a VALUES term."""

    def find(key: Term) -> list[Term]:
        if isinstance(key, ox.Literal):
            text = (
                "SELECT DISTINCT ?r WHERE { VALUES ?_key { UNDEF } "
                f"?r <{DCT}identifier> ?_key ; a <{RKG_RESOURCE}> . }} ORDER BY ?r"
            )
        else:
            text = (
                "SELECT DISTINCT ?r WHERE { VALUES ?_key { UNDEF } "
                f"?_key a <{RKG_RESOURCE}> . BIND(?_key AS ?r) }} ORDER BY ?r"
            )
        result = engine.select(bind(text, {"key": [key]}))
        return [c for row in result.rows if (c := row.get("r")) is not None]

    return find


# ---------------------------------------------------------------- running


def run_stored(
    engine: Engine,
    query: StoredQuery,
    params: Mapping[str, ParamValue],
    lexicon: Lexicon,
    today: dt.date | None = None,
    *,
    caller: str = "cli",
) -> Result:
    """Resolve the parameters, bind them as RDF terms and run the stored query as written
    (`caller="python"`: see `resolve_params`)."""
    values = resolve_params(query, params, lexicon, resource_finder(engine), today, caller=caller)
    limits = [p.name for p in query.params if p.kind == "limit"]
    return engine.select(bind(query.text, values, limits))


@dataclass
class Context:
    """What a query needs without building the catalog: paths, graph IRIs and labels."""

    root: Path
    paths: Paths
    graphs: Graphs
    lexicon: Lexicon
    base: str


def load_context(root: Path) -> Context:
    """Vocabularies and organizations only (cheap): enough to resolve parameters."""
    root = Path(root)
    paths = resolve_paths(root)
    settings = load_settings(root)
    graphs = Graphs.for_base(settings.base)
    lexicon = Lexicon()
    load_vocabularies(sorted(paths.ontology.glob("*.ttl")), graphs.ontology, root, lexicon)
    load_vocabularies(
        sorted((paths.ontology / "vocab").glob("*.ttl")), graphs.vocabularies, root, lexicon
    )
    load_organizations(paths.organizations, root, settings.base, lexicon)
    return Context(root, paths, graphs, lexicon, settings.base)
