"""Organizations a page names that the catalog does not know, added to data/organizations.yaml.

A developer the organizations file does not know makes every record naming it fail
validation, so an import adds it (id from the name, acronym from a trailing "(ABC)") and says
so. A name that looks like a variant of a known organization (the same acronym, nearly the
same name) is not added: it stays an unknown label, reported with the closest known name, so
one organization does not end up twice.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from resource_kg.files import write_atomic
from resource_kg.importing.reader import PageReader, UnknownLabel, slug_id
from resource_kg.vocab import ORG_SCHEME, Lexicon, Term, normalize

#: "Name (ABC)": an acronym of 2–15 characters with at least two capitals, last in the label.
ACRONYM = re.compile(r"^(?P<name>.*\S)\s*\((?P<acronym>[A-Z][A-Za-z0-9&.\-]{1,14})\)$")

#: Names this similar (difflib ratio of the normalized forms) to a known one are variants.
VARIANT_RATIO = 0.9

HEADER = "# Developers and collaborators of catalog resources (see data/README.md).\n"


@dataclass(frozen=True)
class NewOrganization:
    """An organization to add, and where a page named it."""

    id: str
    name: str
    acronym: str | None
    label: str
    where: str

    def describe(self) -> str:
        acronym = f", acronym {self.acronym}" if self.acronym else ""
        return f"organization {self.name!r} (id {self.id}{acronym})"


def split_acronym(label: str) -> tuple[str, str | None]:
    """'Name (ABC)' → ('Name', 'ABC'); any other label is a name without acronym."""
    m = ACRONYM.match(label.strip())
    if m and sum(c.isupper() for c in m.group("acronym")) >= 2:
        return m.group("name").strip(), m.group("acronym")
    return label.strip(), None


class Organizations:
    """The catalog's organizations file and the organizations a run adds to it."""

    def __init__(self, path: Path, lexicon: Lexicon, base: str, *, dry_run: bool) -> None:
        self.path = path
        self.lexicon = lexicon
        self.base = base
        self.dry_run = dry_run
        prefix = f"{base}org/"
        self.ids = {t.iri.removeprefix(prefix) for t in lexicon.in_scheme(ORG_SCHEME)}
        self.added: list[NewOrganization] = []

    def _known_names(self) -> dict[str, str]:
        return {
            normalize(label): label
            for term in self.lexicon.in_scheme(ORG_SCHEME)
            for label in term.labels
        }

    def propose(self, unknown: UnknownLabel) -> NewOrganization | str:
        """The organization an unknown developer label names, or why it is not added."""
        if not self.path.is_file():
            return f"not added: {self.path} does not exist (is --root the catalog folder?)"
        name, acronym = split_acronym(unknown.label)
        if acronym is not None and self.lexicon.resolve(ORG_SCHEME, acronym).iri is not None:
            known = self.lexicon.terms[self.lexicon.resolve(ORG_SCHEME, acronym).iri or ""]
            return f"not added: its acronym {acronym} is that of {known.label!r}"
        known_names = self._known_names()
        close = difflib.get_close_matches(
            normalize(name), list(known_names), n=1, cutoff=VARIANT_RATIO
        )
        if close:
            return f"not added: it looks like a variant of {known_names[close[0]]!r}"
        if not normalize(name):
            return "not added: it has no name"
        base_id = slug_id(name)
        oid, n = base_id, 2
        while oid in self.ids:
            oid, n = f"{base_id}-{n}", n + 1
        where = f"{unknown.file}:{unknown.line}"
        return NewOrganization(oid, name, acronym, unknown.label, where)

    def add(self, orgs: Iterable[NewOrganization], reader: PageReader) -> None:
        """Write the organizations into the file (unless a dry run) and let the run know them."""
        new = [o for o in orgs if o.id not in self.ids]
        if not new:
            return
        text = self.path.read_text(encoding="utf-8") if self.path.is_file() else HEADER
        text = text if not text or text.endswith("\n") else text + "\n"
        line = text.count("\n") + 1
        for org in new:
            entry: dict[str, str] = {"id": org.id, "name": org.name}
            if org.acronym:
                entry["acronym"] = org.acronym
            block = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=1000)
            text += block
            labels = [org.name]
            if org.acronym:
                labels += [org.acronym, f"{org.name} ({org.acronym})"]
            term = Term(
                f"{self.base}org/{org.id}",
                ORG_SCHEME,
                org.name,
                tuple(labels),
                str(self.path),
                line,
                org.acronym,
            )
            line += block.count("\n")
            self.lexicon.add(term)
            reader.learn(ORG_SCHEME, labels)
            self.ids.add(org.id)
            self.added.append(org)
        if not self.dry_run:
            write_atomic(self.path, text)
