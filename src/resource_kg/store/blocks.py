"""pyoxigraph's TriG and Turtle of sorted keys, cut into one block per (graph, subject) or subject.

pyoxigraph writes a sorted TriG as one block of lines per (graph, subject) and a sorted Turtle
as one block per subject; a block's bytes depend on that subject's triples and the prefixes
alone (literals are escaped, so every line break in the output is the serializer's own).
`serialize_trig` and `serialize_ttl` pass pyoxigraph's output on and hand each block, named,
to a callback as it goes by; `store.dumps` keeps them per record file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, cast

import pyoxigraph as ox

from resource_kg.graph import PREFIXES, QuadKey

#: One TriG block: a subject line (one tab) and its continuation lines (two tabs).
_TRIG_BLOCK = re.compile(rb"^\t[^\t][^\n]*\n(?:\t\t[^\n]*\n)*", re.M)
#: One Turtle block: a subject line (no tab, not a prefix) and its lines (one tab).
_TTL_BLOCK = re.compile(rb"^[^\t@\n][^\n]*\n(?:\t[^\n]*\n)*", re.M)


class NotSplittable(Exception):
    """pyoxigraph's output did not cut into one block per subject as expected."""


_END = object()


class _Cutter:
    """A file-like sink for `ox.serialize`: passes the bytes on and cuts them into blocks,
    handing each to `keep` with its name (the next of `names`: one per block, in order)."""

    def __init__(
        self,
        out: IO[bytes] | None,
        pattern: re.Pattern[bytes],
        names: Iterator[Any],
        keep: Callable[[Any, bytes], None],
    ) -> None:
        self.out = out
        self.pattern = pattern
        self.names = names
        self.keep = keep
        self.buf = b""

    def _block(self, block: bytes) -> None:
        name = next(self.names, _END)
        if name is _END:
            raise NotSplittable("more blocks than subjects")
        self.keep(name, block)

    def write(self, data: bytes) -> int:
        if self.out is not None:
            self.out.write(data)
        buf = self.buf + data
        end = buf.rfind(b"\n") + 1
        cut = end
        for match in self.pattern.finditer(buf, 0, end):
            if match.end() == end:  # more continuation lines may follow in the next chunk
                cut = match.start()
                break
            self._block(match.group())
        self.buf = buf[cut:]
        return len(data)

    def flush(self) -> None:
        if self.out is not None:
            self.out.flush()

    def close(self) -> None:
        for match in self.pattern.finditer(self.buf):
            self._block(match.group())
        self.buf = b""
        if next(self.names, _END) is not _END:
            raise NotSplittable("fewer blocks than subjects")


def _pairs(keys: Iterable[QuadKey]) -> Iterator[tuple[str, str]]:
    """The distinct (graph, subject) of sorted keys, in order."""
    last: tuple[str, str] | None = None
    for g, s, _p, _o in keys:
        if last is None or last[0] != g or last[1] != s:
            last = (g, s)
            yield last


def _subjects(triples: Iterable[tuple[str, str, str]]) -> Iterator[str]:
    last: str | None = None
    for s, _p, _o in triples:
        if s != last:
            last = s
            yield s


def serialize_trig(
    keys: list[QuadKey], table: Any, out: IO[bytes] | None, keep: Callable[[Any, bytes], None]
) -> None:
    """pyoxigraph's TriG of sorted distinct `keys` to `out`, each (graph, subject) block kept."""
    cutter = _Cutter(out, _TRIG_BLOCK, _pairs(keys), keep)
    terms = table.terms
    quads = (ox.Quad(terms[s], terms[p], terms[o], terms[g]) for g, s, p, o in keys)
    ox.serialize(quads, cast(IO[bytes], cutter), format=ox.RdfFormat.TRIG, prefixes=PREFIXES)
    cutter.close()


def serialize_ttl(
    triples: list[tuple[str, str, str]],
    table: Any,
    out: IO[bytes] | None,
    keep: Callable[[Any, bytes], None],
) -> None:
    """pyoxigraph's Turtle of sorted distinct triple keys to `out`, each subject block kept."""
    cutter = _Cutter(out, _TTL_BLOCK, _subjects(triples), keep)
    terms = table.terms
    made = (ox.Triple(terms[s], terms[p], terms[o]) for s, p, o in triples)
    ox.serialize(made, cast(IO[bytes], cutter), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    cutter.close()


@dataclass
class Pieces:
    """Serialized blocks of some quads: TriG per (graph, subject), Turtle per subject."""

    trig: list[tuple[tuple[str, str], bytes]]
    ttl: list[tuple[str, bytes]]


def pieces(keys: Iterable[QuadKey], table: Any) -> Pieces:
    """The blocks of `keys` (any order, repeats allowed), serialized by pyoxigraph."""
    quads = sorted(set(keys))
    made = Pieces([], [])
    serialize_trig(quads, table, None, lambda name, body: made.trig.append((name, body)))
    triples = sorted({k[1:] for k in quads})
    serialize_ttl(triples, table, None, lambda name, body: made.ttl.append((name, body)))
    return made
