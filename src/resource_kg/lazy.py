"""Names of a package loaded from its modules on first use (a package's `__getattr__`).

`rkg query` needs `resource_kg.validate.Parts` but not pySHACL; `rkg` must start (and take
Ctrl-C) before rdflib and pyoxigraph load. A package lists where each of its names lives and
imports that module only when the name is first asked for.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level `__getattr__` for `package`: `name` comes from `package.where[name]`."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # asked once
        return value

    return __getattr__
