"""The vocabularies as an importer sees them, and splitting a run-together list of labels into known labels."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from resource_kg.config import load_settings, resolve_paths
from resource_kg.graph import Graphs
from resource_kg.vocab import Lexicon, load_organizations, load_vocabularies, normalize

ABBREVIATION = re.compile(r"\b(?:etc|inc|ltd|co|corp|jr|sr|st)\.$", re.IGNORECASE)


TOKEN = re.compile(r"[\w+]+")


_END = ""


# ---------------------------------------------------------------- vocabularies


def load_lexicon(root: Path) -> Lexicon:
    """Vocabularies and organizations of a catalog, without building its graph."""
    paths = resolve_paths(root)
    settings = load_settings(root)
    graphs = Graphs.for_base(settings.base)
    lexicon = Lexicon()
    load_vocabularies(
        sorted((paths.ontology / "vocab").glob("*.ttl")), graphs.vocabularies, root, lexicon
    )
    load_organizations(paths.organizations, root, settings.base, lexicon)
    return lexicon


@dataclass(frozen=True)
class Item:
    """One label split from a list: as the vocabulary spells it, or as written when unknown.

    `doubt` marks an unknown label kept whole although separators stand inside it ("Education,
    Training, and Workforce"; an organization "University of California, San Francisco").
    """

    label: str
    known: bool
    doubt: bool = False


#: An unknown stretch that continues the one before it ("…, and Workforce", "…, health").
CONTINUATION = re.compile(r"^(?:(?:and|or|&)\b|[a-z])")

_OPEN, _CLOSE, _HARD = "([{", ")]}", ",;\n"


class LabelSplitter:
    """Splits list text into the labels of one scheme; built once per run (a token trie).

    A separator inside brackets never splits ("C-Suite (CEOs, CFOs, …)" stays one label,
    known or not), and a match never starts or ends inside brackets.
    """

    def __init__(self, labels: Iterable[str]) -> None:
        self.trie: dict[str, Any] = {}
        for label in labels:
            self.add(label)

    def add(self, label: str) -> None:
        """Learn one more label (an organization added during a run)."""
        node = self.trie
        for token in normalize(label).split():
            node = node.setdefault(token, {})
        spellings = node.setdefault(_END, [])
        if label not in spellings:
            spellings.append(label)

    def split(
        self, text: str, run_together: bool = False, *, whole_unknown: bool = False
    ) -> list[Item]:
        """Known labels longest first; unknown stretches between separators kept verbatim.

        `whole_unknown`: consecutive unknown stretches are one label (organization names hold
        commas, and no vocabulary tells where one unknown name ends) unless the first ends
        with its bracketed acronym.
        """
        tokens: list[tuple[str, int, int]] = []
        for m in TOKEN.finditer(text):
            for part in normalize(m.group()).split():
                tokens.append((part, m.start(), m.end()))
        n = len(tokens)
        if n == 0:
            return []
        # For the gap after token k: where its first top-level separator stands (or None),
        # and whether it holds top-level whitespace; a gap ending inside brackets is no break.
        hard_at: list[int | None] = []
        soft_gap: list[bool] = []
        depth = 0
        for c in text[: tokens[0][1]]:
            depth = depth + 1 if c in _OPEN else max(0, depth - 1) if c in _CLOSE else depth
        for k in range(n):
            start, end = tokens[k][2], tokens[k + 1][1] if k + 1 < n else len(text)
            sep: int | None = None
            space = False
            for pos in range(start, end):
                c = text[pos]
                if c in _OPEN:
                    depth += 1
                elif c in _CLOSE:
                    depth = max(0, depth - 1)
                elif depth == 0 and c in _HARD and sep is None:
                    sep = pos
                elif depth == 0 and c.isspace():
                    space = True
            inside = depth > 0 and k + 1 < n
            hard_at.append(None if inside else sep)
            soft_gap.append(not inside and (space or sep is not None))

        def hard(k: int) -> bool:  # the gap after token k separates list items
            return k == n - 1 or hard_at[k] is not None

        def soft(k: int) -> bool:  # the gap after token k may separate run-together labels
            return hard(k) or (run_together and soft_gap[k])

        def match(i: int) -> tuple[int, str] | None:
            node, best, j = self.trie, None, i
            while j < n and tokens[j][0] in node:
                node = node[tokens[j][0]]
                j += 1
                if _END in node and soft(j - 1):
                    spellings: list[str] = node[_END]
                    exact = [s for s in spellings if text.startswith(s, tokens[i][1])]
                    best = (j, (exact or spellings)[0])
            return best

        found: list[tuple[Item, int, int]] = []  # item, first and last token
        i = 0
        while i < n:
            hit = match(i)
            if hit is not None:
                found.append((Item(hit[1], True), i, hit[0] - 1))
                i = hit[0]
                continue
            k = i
            while not hard(k):
                k += 1
                if run_together and soft(k - 1) and match(k) is not None:
                    k -= 1
                    break
            found.append((Item(self._raw(text, tokens, hard_at, i, k), False), i, k))
            i = k + 1
        items = self._merge(text, tokens, hard_at, found, whole_unknown)
        seen: set[str] = set()
        unique: list[Item] = []
        for item in items:
            key = normalize(item.label)
            if key and key not in seen:
                seen.add(key)
                unique.append(item)
        return unique

    @staticmethod
    def _raw(
        text: str, tokens: list[tuple[str, int, int]], hard_at: list[int | None], i: int, k: int
    ) -> str:
        """The text of tokens i..k as written, without the separator and a final period."""
        n = len(tokens)
        cut = hard_at[k]
        if k == n - 1:
            end = len(text)
        elif cut is not None:
            end = cut
        else:  # run together: keep the closing punctuation that ends the label ("etc.)")
            end = tokens[k][2]
            while end < tokens[k + 1][1] and text[end] in ".)]}'\"’":
                end += 1
        raw = text[tokens[i][1] : end].strip()
        while raw and raw[-1] in ",; ":
            raw = raw[:-1].rstrip()
        if k == n - 1 and raw.endswith(".") and not ABBREVIATION.search(raw):
            raw = raw[:-1].rstrip()
        return raw

    def _merge(
        self,
        text: str,
        tokens: list[tuple[str, int, int]],
        hard_at: list[int | None],
        found: list[tuple[Item, int, int]],
        whole_unknown: bool,
    ) -> list[Item]:
        """Unknown stretches a separator should not have split, joined back into one label."""
        merged: list[tuple[Item, int, int]] = []
        for item, i, k in found:
            if (
                not item.known
                and merged
                and merged[-1][0].known
                and hard_at[merged[-1][2]] is None
                and CONTINUATION.match(item.label)
            ):
                # "Board of Director": a known "Board" run together with the rest of one label
                first = merged.pop()[1]
                merged.append(
                    (Item(self._raw(text, tokens, hard_at, first, k), False, True), first, k)
                )
                continue
            if item.known or not merged or merged[-1][0].known:
                merged.append((item, i, k))
                continue
            # "Name (ABC), Other" names two organizations: the acronym closed the first
            names_end = merged[-1][0].label.endswith(")")
            if (whole_unknown and not names_end) or CONTINUATION.match(item.label):
                # join the whole run of unknown stretches before it
                j = len(merged) - 1
                while j > 0 and not merged[j - 1][0].known:
                    j -= 1
                first = merged[j][1]
                del merged[j:]
                raw = self._raw(text, tokens, hard_at, first, k)
                merged.append((Item(raw, False, True), first, k))
            else:
                merged.append((item, i, k))
        return [item for item, _, _ in merged]
