"""Find the special populations a record's text names, with the field and label as provenance.

Tagged links are facts the curator did not state, so they go to the derived graph, each with
the field and the label that produced it; a consumer can keep or drop them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from resource_kg.records import Record
from resource_kg.vocab import Lexicon

#: Fields whose text is searched, in the order tags are reported.
TAGGED_FIELDS: tuple[str, ...] = ("title", "subtitle", "summary", "topics", "subtopics", "keywords")
POPULATION_SCHEME = "population"


@dataclass(frozen=True, order=True)
class Tag:
    """One population named by one field of one record."""

    record_id: str
    population: str
    field: str
    matched: str


def _is_acronym(label: str) -> bool:
    letters = [c for c in label if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters) and len(label) <= 8


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


class Tagger:
    """Two compiled alternations (acronyms case-sensitive, other labels not), longest first."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.by_label: dict[str, str] = {}
        self.by_acronym: dict[str, str] = {}
        for term in lexicon.in_scheme(POPULATION_SCHEME):
            for label in term.labels:
                if label == term.notation:
                    continue
                if _is_acronym(label):
                    self.by_acronym.setdefault(label, term.iri)
                else:
                    self.by_label.setdefault(_key(label), term.iri)
        self._labels = self._compile(list(self.by_label), re.IGNORECASE)
        self._acronyms = self._compile(list(self.by_acronym), 0)
        # Hits of list items (topic, keyword labels), which recur across a whole catalog.
        self._label_hits: dict[str, list[tuple[int, str, str]]] = {}

    @staticmethod
    def _compile(labels: list[str], flags: int) -> re.Pattern[str] | None:
        if not labels:
            return None
        ordered = sorted(labels, key=lambda s: (-len(s), s))
        parts = [r"\s+".join(re.escape(w) for w in label.split()) for label in ordered]
        return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", flags)

    def find(self, text: str) -> list[tuple[int, str, str]]:
        """(position, population IRI, matched text) of every label occurrence."""
        hits: list[tuple[int, str, str]] = []
        if self._labels is not None:
            for m in self._labels.finditer(text):
                hits.append((m.start(), self.by_label[_key(m.group(0))], m.group(0)))
        if self._acronyms is not None:
            for m in self._acronyms.finditer(text):
                hits.append((m.start(), self.by_acronym[m.group(0)], m.group(0)))
        return sorted(hits)

    def tag(self, record: Record) -> list[Tag]:
        """One tag per (population, field): the first label occurrence in that field."""
        tags: list[Tag] = []
        for name in TAGGED_FIELDS:
            value = record.values.get(name)
            if value is None:
                continue
            seen: set[str] = set()
            for text in value if isinstance(value, list) else (str(value),):
                if isinstance(value, list):
                    hits = self._label_hits.get(text)
                    if hits is None:
                        hits = self.find(text)
                        if len(self._label_hits) < 100_000:
                            self._label_hits[text] = hits
                else:
                    hits = self.find(text)
                for _, population, matched in hits:
                    if population not in seen:
                        seen.add(population)
                        tags.append(Tag(record.id, population, name, " ".join(matched.split())))
        return tags
