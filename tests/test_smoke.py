"""The bundled catalog builds."""

from pathlib import Path

from resource_kg import Catalog

ROOT = Path(__file__).resolve().parents[1]


def test_bundled_catalog_builds() -> None:
    catalog = Catalog.load(ROOT)
    assert sorted(r.id for r in catalog.records) == ["3182", "3736", "4184"]
    assert catalog.diagnostics == []
