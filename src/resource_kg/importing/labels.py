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
    """One label split from a list: as the vocabulary spells it, or as written when unknown."""

    label: str
    known: bool


class LabelSplitter:
    """Splits list text into the labels of one scheme; built once per run (a token trie)."""

    def __init__(self, labels: Iterable[str]) -> None:
        self.trie: dict[str, Any] = {}
        for label in labels:
            node = self.trie
            for token in normalize(label).split():
                node = node.setdefault(token, {})
            spellings = node.setdefault(_END, [])
            if label not in spellings:
                spellings.append(label)

    def split(self, text: str, run_together: bool = False) -> list[Item]:
        """Known labels longest first; unknown stretches between separators kept verbatim."""
        tokens: list[tuple[str, int, int]] = []
        for m in TOKEN.finditer(text):
            for part in normalize(m.group()).split():
                tokens.append((part, m.start(), m.end()))
        n = len(tokens)
        gaps = [text[tokens[k][2] : tokens[k + 1][1]] for k in range(n - 1)] + [
            text[tokens[-1][2] :] if n else ""
        ]

        def hard(k: int) -> bool:  # the gap after token k separates list items
            return k == n - 1 or any(c in ",;\n" for c in gaps[k])

        def soft(k: int) -> bool:  # the gap after token k may separate run-together labels
            return hard(k) or (run_together and any(c.isspace() for c in gaps[k]))

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

        items: list[Item] = []
        i = 0
        while i < n:
            found = match(i)
            if found is not None:
                items.append(Item(found[1], True))
                i = found[0]
                continue
            k = i
            while not hard(k):
                k += 1
                if run_together and soft(k - 1) and match(k) is not None:
                    k -= 1
                    break
            start = tokens[i][1]
            cut = min((gaps[k].find(c) for c in ",;\n" if c in gaps[k]), default=len(gaps[k]))
            end = len(text) if k == n - 1 else tokens[k][2] + cut
            raw = text[start:end].strip()
            while raw and raw[-1] in ",; ":
                raw = raw[:-1].rstrip()
            if k == n - 1 and raw.endswith(".") and not ABBREVIATION.search(raw):
                raw = raw[:-1].rstrip()
            items.append(Item(raw, False))
            i = k + 1
        seen: set[str] = set()
        unique: list[Item] = []
        for item in items:
            key = normalize(item.label)
            if key not in seen:
                seen.add(key)
                unique.append(item)
        return unique
