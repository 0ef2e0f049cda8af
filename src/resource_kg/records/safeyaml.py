"""One YAML loader for every catalog file: PyYAML's safe (C) loader with two limits added.

A mapping key that is a list or a mapping (`? [a, b]`) is refused: record and organization
fields are plain names, and formatting a key built from nested aliases into a message took
minutes and gigabytes. Aliases are allowed, but what they add to the document is bounded
(`MAX_NODES`), counted without expanding anything: a "billion laughs" file is refused at once.
Every refusal is one `StructureError` naming file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from resource_kg.errors import StructureError

#: Values aliases may add to a document once expanded (beyond those written out); a record
#: written by hand repeats a few.
MAX_NODES = 100_000

_BASE: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class BoundedLoader(_BASE):  # type: ignore[misc]
    """The safe loader, refusing complex keys and alias bombs (see `check_node`)."""

    def get_single_node(self) -> yaml.Node | None:
        node: yaml.Node | None = super().get_single_node()
        if node is not None:
            check_node(node)
        return node


class _Refused(Exception):
    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.message = message
        self.line = node.start_mark.line + 1


def check_node(root: yaml.Node) -> None:
    """Refuse non-scalar keys and aliases adding more than `MAX_NODES` values.

    Sizes are memoized per node object, so the check is linear in the nodes written, not in
    the nodes the aliases stand for; a node that contains itself counts as too large."""
    sizes: dict[int, int] = {}
    busy = -1
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            children = _children(node)
            total = 1 + sum(sizes[id(c)] for c in children)
            sizes[key] = total
            if total > MAX_NODES + len(sizes):  # expanded minus written > MAX_NODES
                raise _Refused(
                    f"aliases expand this document beyond {MAX_NODES:,} values; "
                    "write the values out instead of repeating anchors",
                    node,
                )
            continue
        if key in sizes:
            if sizes[key] == busy:
                raise _Refused("an alias refers to a value that contains it", node)
            continue
        sizes[key] = busy
        if isinstance(node, yaml.MappingNode):
            for k, _v in node.value:
                if not isinstance(k, yaml.ScalarNode):
                    raise _Refused(
                        "a key must be a plain name, not a list or mapping (`? [...]`)", k
                    )
        stack.append((node, True))
        for child in _children(node):
            if sizes.get(id(child)) == busy:
                raise _Refused("an alias refers to a value that contains it", child)
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def compose(text: str, path: Path | str) -> yaml.Node | None:
    """The node tree of one YAML document; any problem is one line naming file and line."""
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=BoundedLoader)
    except _Refused as exc:
        raise StructureError(exc.message, file=path, line=exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(str(exc.problem or exc.context or "").split())
        raise StructureError(f"malformed YAML: {problem}", file=path, line=line) from None
    except yaml.reader.ReaderError as exc:
        line = text[: max(exc.position, 0)].count("\n") + 1
        what = f"#x{exc.character:04x}" if isinstance(exc.character, int) else "a character"
        raise StructureError(
            f"character {what} is not allowed in YAML (control characters and NUL bytes are "
            "refused); remove it",
            file=path,
            line=line,
        ) from None
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        raise StructureError(f"malformed YAML: {message}", file=path) from None
    except RecursionError:
        raise StructureError("malformed YAML: nested too deeply", file=path) from None
    return node
