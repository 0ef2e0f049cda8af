"""Where a catalog's parts live and which settings it uses.

A catalog folder needs only `data/`; `ontology/`, `shapes/` and `queries/` fall back to the
copies shipped inside the package, so `rkg build path/to/catalog` works anywhere.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from resource_kg.errors import ConfigError

ONTOLOGY_NS = "https://w3id.org/resource-kg/ontology#"
CONCEPT_BASE = "https://w3id.org/resource-kg/concept/"
DEFAULT_BASE = "https://w3id.org/resource-kg/"


def _defaults_dir() -> Path:
    """The shipped ontology/shapes/queries: inside a wheel, or the source tree when editable."""
    packaged = Path(__file__).resolve().parent / "_defaults"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    """The `[tool.resource_kg]` table: base IRI and the dataset's description."""

    base: str = DEFAULT_BASE
    title: str = "Health Center Resource Catalog"
    description: str = "Resources for health centers and their partners, as a knowledge graph."
    publisher: str = "resource-kg"
    license: str = "https://creativecommons.org/licenses/by/4.0/"


@dataclass(frozen=True)
class Paths:
    """Resolved folders of one catalog."""

    root: Path
    data: Path
    ontology: Path
    shapes: Path
    queries: Path

    @property
    def resources(self) -> Path:
        return self.data / "resources"

    @property
    def organizations(self) -> Path:
        return self.data / "organizations.yaml"


def resolve_paths(root: Path) -> Paths:
    """Use the catalog's own ontology/shapes/queries where it has them, else the shipped ones."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"catalog folder does not exist: {root}")
    data = root / "data"
    if not data.is_dir():
        raise ConfigError(
            "no data/ folder here: a catalog folder holds data/resources/*.yaml "
            "(run rkg from the catalog folder or pass it as ROOT)",
            file=root,
        )
    defaults = _defaults_dir()

    def pick(name: str) -> Path:
        own = root / name
        return own if own.is_dir() else defaults / name

    return Paths(root, data, pick("ontology"), pick("shapes"), pick("queries"))


def load_settings(root: Path) -> Settings:
    """Read `[tool.resource_kg]` from ROOT/pyproject.toml; defaults when absent."""
    pyproject = Path(root) / "pyproject.toml"
    if not pyproject.is_file():
        return Settings()
    try:
        doc = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read settings: {exc}", file=pyproject) from exc
    tool = doc.get("tool", {})
    table = tool.get("resource_kg", {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(
            '[tool.resource_kg] must be a table of settings (base = "https://…/", title = …)',
            file=pyproject,
        )
    known = set(Settings.__dataclass_fields__)
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {', '.join(unknown)} in [tool.resource_kg]; "
            f"known: {', '.join(sorted(known))}",
            file=pyproject,
        )
    for key, value in table.items():
        if not isinstance(value, str):
            raise ConfigError(f"{key} must be a quoted string", file=pyproject, field=key)
    settings = Settings(**table)
    if not settings.base.endswith(("/", "#")):
        raise ConfigError("base must end with '/' or '#'", file=pyproject, field="base")
    if not _is_iri(settings.base + "x"):
        raise ConfigError(
            f"base {settings.base!r} is not an IRI (write it as https://example.org/catalog/)",
            file=pyproject,
            field="base",
        )
    for name in LINK_SETTINGS:
        check_link(name, getattr(settings, name), pyproject)
    return settings


def _is_iri(text: str) -> bool:
    """Whether every IRI made from the base (`<base>resource/<id>`) can be written."""
    import pyoxigraph as ox

    try:
        ox.NamedNode(text)
    except ValueError:
        return False
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", text) is not None


def check_output(root: Path, out: Path, option: str = "--out") -> None:
    """Refuse an output inside the catalog's sources (data/, ontology/, shapes/, queries/):
    `--out data/resources/3182.yaml` overwrote a record, and dumps there broke the next build."""
    paths = resolve_paths(root)
    target = Path(os.path.abspath(out))
    for source in (paths.data, paths.ontology, paths.shapes, paths.queries):
        inside = Path(os.path.abspath(source))
        real = Path(os.path.realpath(inside))
        for candidate in {target, Path(os.path.realpath(target))}:
            if (
                candidate in (inside, real)
                or inside in candidate.parents
                or real in candidate.parents
            ):
                raise ConfigError(
                    f"{option} {out} is inside the catalog's sources ({source}); "
                    "write outputs elsewhere (e.g. dist/)"
                )


#: Settings that become links (`href`) on the site's pages: the license on every page, the
#: base in the IRIs and canonical links. Only web addresses.
LINK_SETTINGS = ("base", "license")

_WEB_ADDRESS = re.compile(r"https?://[^\s<>\"'`\\^{}|]+", re.IGNORECASE)


def check_link(name: str, value: str, file: Path) -> None:
    """A setting shown as a link must be an http(s) URL: `javascript:…` or `data:…` would
    run in every reader's browser."""
    if not _WEB_ADDRESS.fullmatch(value):
        raise ConfigError(
            f"{name} must be a web address starting with https:// or http://, not {value!r}",
            file=file,
            field=name,
        )
