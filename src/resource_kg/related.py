"""Related resources, precomputed: for each resource, the RELATED_COUNT others that share the
most concepts with it (ties broken by IRI), as the `related` query's live form would rank them.

Counted live, `related` joins every resource sharing any concept with the one asked about; with
broad concepts that is most of the catalog (≈ 376k joined rows, ≈ 2 s at 100k resources). Here
each concept is a bit set over the resources (one Python int), a resource's shared counts are
the sum of its concepts' bit sets kept as binary digits in bit slices (a few big-int ANDs and
XORs per concept), and the top of the ranking is read off those slices: ≈ 0.2 ms a resource,
≈ 20 s of CPU at 100k, split over the machine's cores. Only which resources are related is
stored; the query counts and lists the shared concepts of those few live.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor

from resource_kg.config import ONTOLOGY_NS

#: Properties through which two resources share a concept (the `related` query's list).
RELATED_PREDICATES = frozenset(
    ONTOLOGY_NS + p for p in ("topic", "subtopic", "keyword", "servesPopulation")
)
#: How many related resources are kept per resource (the query's default limit).
RELATED_COUNT = 20
#: Below this many resources one process is quicker than starting workers.
PARALLEL_FROM = 5000

# The state workers read (inherited through fork, never pickled).
_STATE: dict[str, object] = {}


def related_indices(
    concepts: Sequence[frozenset[tuple[str, str]]], count: int = RELATED_COUNT
) -> list[list[int]]:
    """For resources 0..n-1 (in IRI order) and the (property, concept) pairs each has, the
    indices of each resource's related resources, ascending."""
    n = len(concepts)
    members: dict[tuple[str, str], bytearray] = defaultdict(lambda: bytearray((n + 7) // 8))
    for i, keys in enumerate(concepts):
        for key in keys:
            members[key][i >> 3] |= 1 << (i & 7)
    bits = {key: int.from_bytes(raw, "little") for key, raw in members.items()}
    _STATE.update(bits=bits, concepts=concepts, count=count)
    try:
        workers = min(os.cpu_count() or 1, 4)
        if (
            n < PARALLEL_FROM
            or workers < 2
            or "fork" not in multiprocessing.get_all_start_methods()
        ):
            return _chunk((0, n))
        step = -(-n // (workers * 4))
        chunks = [(lo, min(n, lo + step)) for lo in range(0, n, step)]
        gc.freeze()  # the children share the parent's objects without copying their pages
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                return [row for part in pool.map(_chunk, chunks) for row in part]
        finally:
            gc.unfreeze()
    finally:
        _STATE.clear()


def _chunk(bounds: tuple[int, int]) -> list[list[int]]:
    bits: dict[tuple[str, str], int] = _STATE["bits"]  # type: ignore[assignment]
    concepts: Sequence[frozenset[tuple[str, str]]] = _STATE["concepts"]  # type: ignore[assignment]
    count: int = _STATE["count"]  # type: ignore[assignment]
    everyone = (1 << len(concepts)) - 1
    return [_top(i, concepts[i], bits, everyone, count) for i in range(*bounds)]


def _top(
    i: int,
    keys: Iterable[tuple[str, str]],
    bits: dict[tuple[str, str], int],
    everyone: int,
    count: int,
) -> list[int]:
    keys = list(keys)
    if not keys:
        return []
    # slices[j] holds binary digit j of every resource's shared count.
    slices = [0] * len(keys).bit_length()
    for key in keys:
        carry = bits[key]
        for j in range(len(slices)):
            if not carry:
                break
            slices[j], carry = slices[j] ^ carry, slices[j] & carry
    others = everyone ^ (1 << i)
    slices = [s & others for s in slices]

    def at_least(t: int) -> int:
        above, equal = 0, everyone
        for j in range(len(slices) - 1, -1, -1):
            if (t >> j) & 1:
                equal &= slices[j]
            else:
                above |= equal & slices[j]
                equal &= ~slices[j]
        return above | equal

    higher = 0  # resources sharing more than the current threshold: all of them are in
    for t in range(len(keys), 0, -1):
        found = at_least(t)
        if found.bit_count() >= count or t == 1:
            picked = _lowest(higher, count)
            picked += _lowest(found & ~higher, count - len(picked))
            return sorted(picked)
        higher = found
    return []


def _lowest(x: int, count: int) -> list[int]:
    """The positions of the lowest `count` set bits of x (lowest IRIs first)."""
    out: list[int] = []
    while x and len(out) < count:
        low = x & -x
        out.append(low.bit_length() - 1)
        x ^= low
    return out
