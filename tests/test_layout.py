"""The layout of src/resource_kg stays one a newcomer can hold in their head.

The import graph is read with `ast` from every `import` and `from … import` anywhere in a
module (inside functions and `if TYPE_CHECKING:` too), resolved to the package's own modules.
Importing `a.b.c` also runs `a/__init__` and `a/b/__init__`, so those count as imported too,
except a module's own enclosing packages (Python finishes those while it imports their parts).
"""

from __future__ import annotations

import ast
from pathlib import Path

import resource_kg

PACKAGE = Path(resource_kg.__file__).resolve().parent
MAX_LINES = 600
#: Modules over MAX_LINES that their owners are splitting, with why; each must still be over
#: (so the entry goes when the module is split) and no other module may join them.
BEING_SPLIT: dict[str, str] = {}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _known(name: str) -> str | None:
    """The longest prefix of a dotted name that is one of our modules."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(name: str) -> list[tuple[str, list[str], int]]:
    """(module imported, names taken from it, line) for every import statement of a module."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    package = name if _is_package(name) else name.rpartition(".")[0]
    out: list[tuple[str, list[str], int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _known(alias.name)
                if target is not None:
                    out.append((target, [], node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            target = _known(source)
            if target is None:
                continue
            taken: list[str] = []
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                if sub in MODULES:  # `from pkg import module`
                    out.append((sub, [], node.lineno))
                else:
                    taken.append(alias.name)
            out.append((target, taken, node.lineno))
    return out


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name in MODULES:
        own = {name.rsplit(".", i)[0] for i in range(name.count(".") + 1)}
        for target, _taken, _line in _imports(name):
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                imported = ".".join(parts[:i])
                if imported in MODULES and imported not in own:
                    graph[name].add(imported)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path a → … → a, or None."""
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_the_import_graph_has_no_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_function_level_and_parent_package_imports() -> None:
    graph = import_graph()
    # Catalog.query imports the query package inside the method.
    assert "resource_kg.query" in graph["resource_kg.catalog"]
    # `from resource_kg.validate.parts import …` runs resource_kg/validate/__init__ too.
    assert "resource_kg.validate" in graph["resource_kg.store.incremental"]


def test_no_module_is_over_600_lines() -> None:
    long = {
        name: n
        for name, path in MODULES.items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    new = {name: n for name, n in long.items() if name not in BEING_SPLIT}
    assert not new, f"modules over {MAX_LINES} lines (split them by job): {new}"
    done = sorted(set(BEING_SPLIT) - set(long))
    assert not done, f"split now, take them out of BEING_SPLIT: {done}"


def test_no_module_imports_another_modules_private_names() -> None:
    reaching = [
        f"{name}:{line} takes {taken} from {target}"
        for name in MODULES
        for target, names, line in _imports(name)
        if target != name
        for taken in names
        if taken.startswith("_") and not taken.startswith("__")
    ]
    assert not reaching, "private names used across modules: " + "; ".join(reaching)


def test_every_command_is_found_where_the_lazy_group_looks() -> None:
    """`rkg` imports a command's module only when it runs it: the map must name them all."""
    import importlib
    import pkgutil

    import resource_kg.commands as package
    from resource_kg.commands.common import COMMAND_MODULES, cli

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"resource_kg.commands.{info.name}")
    assert set(cli.commands) == set(COMMAND_MODULES)
    for name, command in cli.commands.items():
        assert command.callback is not None
        assert command.callback.__module__ == f"resource_kg.commands.{COMMAND_MODULES[name]}"


def test_rkg_query_does_not_load_the_validation_engine(tmp_path: Path) -> None:
    """The point of the lazy group and package names: a query run leaves pySHACL unloaded."""
    import shutil
    import subprocess
    import sys

    shutil.copytree(Path(__file__).resolve().parents[1] / "data", tmp_path / "data")
    probe = (
        "import sys\n"
        "from resource_kg.cli import main\n"
        "main(['query', 'language', sys.argv[1], '-p', 'language=English', '--format', 'csv'])\n"
        "print('LOADED', sorted(m for m in ('pyshacl', 'rdflib.plugins.sparql') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "3182" in done.stdout
    assert "LOADED []" in done.stdout
