"""Hypothesis strategies the page-import property tests share: invented words, sentences and
labels drawn from the bundled vocabularies."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

from resource_kg.importing import BANNER, NAVIGATION, load_lexicon
from resource_kg.vocab import normalize

ROOT = Path(__file__).resolve().parents[1]
LEXICON = load_lexicon(ROOT)

WORD = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789’-&",
    min_size=1,
    max_size=9,
)


def sentences(max_words: int) -> st.SearchStrategy[str]:
    """Invented sentences; one that reads exactly like site navigation or a banner is left out
    (the importer takes such a title line for navigation, by design)."""
    return (
        st.lists(WORD, min_size=1, max_size=max_words)
        .map(" ".join)
        .filter(lambda s: normalize(s) not in NAVIGATION and not BANNER.match(s))
    )


def labels_of(scheme: str, max_size: int) -> st.SearchStrategy[list[str]]:
    """Distinct concepts of a scheme, each written with one of its labels."""
    terms = LEXICON.in_scheme(scheme)
    return st.lists(st.sampled_from(terms), max_size=max_size, unique_by=lambda t: t.iri).flatmap(
        lambda chosen: st.tuples(*(st.sampled_from(t.labels) for t in chosen)).map(list)
    )
