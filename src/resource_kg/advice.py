"""One wording for one problem: what `rkg build` warns and what `rkg validate` reports.

The build (`graph`) finds content problems while it makes triples; validation finds the same
problems again in the graph through the shapes, whose messages cannot see what the curator
wrote (a quoted year and a missing year are the same SHACL result). Both take their words
from here, given the value as written, so a curator reads the same sentence, saying what to
do, in the build's warning and the validation finding (`finding` makes it a sentence).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from resource_kg.vocab import ORG_SCHEME, Resolution

MIN_YEAR = 1960

#: How each date field is named in a sentence, with an example of the form asked for.
DATE_FIELDS: dict[str, tuple[str, str]] = {
    "date_added": ("date added", "2024-03-01"),
    "last_reviewed": ("last reviewed", "2025-01-15"),
}


def finding(message: str) -> str:
    """A build message as a validation finding's sentence: capital first letter, full stop."""
    if not message:
        return message
    return message[0].upper() + message[1:] + ("" if message.endswith(".") else ".")


def year(written: object) -> str:
    """The year is missing, quoted, or not a year (as written: None when absent)."""
    if written is None or written == "":
        return "year is missing: write the year of publication as four digits, e.g. 2022"
    text = str(written).strip()
    if isinstance(written, str) and re.fullmatch(r"\d{4}", text):
        return (
            f'year "{text}" is written in quotes: remove the quotes (year: {text}) so it reads '
            "as a year"
        )
    return f"year {text!r} is not a year: write the year of publication as four digits, e.g. 2022"


def year_range(value: object, latest: int) -> str:
    return f"year {value} is out of range: it must lie between {MIN_YEAR} and {latest}"


def url(written: str) -> str:
    return (
        f"url {written!r} is not a web address: write it in full, starting with https:// or http://"
    )


def date(field: str, written: str) -> str:
    label, example = DATE_FIELDS.get(field, (field.replace("_", " "), "2024-03-01"))
    return f"{label} {written!r} is not a date: write it as YYYY-MM-DD, e.g. {example}"


def unknown_label(label: str, scheme: str, resolution: Resolution) -> str:
    """A label no concept (or organization) of its scheme has, with the closest known ones."""
    if scheme == ORG_SCHEME:
        where, fix = "data/organizations.yaml", "add the organization there"
    else:
        where, fix = f"the {scheme} vocabulary", "add the label to the vocabulary"
    message = f"unknown label {label!r} (not in {where}): correct the spelling or {fix}"
    if resolution.candidates:
        return message + "; it matches several entries: " + ", ".join(resolution.candidates)
    if resolution.suggestions:
        return message + "; closest known: " + _quoted(resolution.suggestions)
    return message + "; no similar label known"


def status(written: str) -> str:
    return f"unknown status {written!r}: write active or retired"


def replaced_by(written: str) -> str:
    return (
        f"replaced_by names {written!r}, which is no record of this catalog: write the id of "
        "the record that replaces this one"
    )


def title_missing() -> str:
    return "title is missing: write the resource's title"


def same_url(other: str) -> str:
    return f"same url as record {other}: merge the two records or correct one url"


def _quoted(labels: Sequence[str]) -> str:
    return ", ".join(repr(x) for x in labels)
