"""`rkg new`: a commented record with every field, so a curator fills in a form instead of
copying an old record and deleting its values.

Every field of `records.FIELDS` is written, in that order, each under a comment saying what it
holds and where its labels come from (data/README.md explains more). Unfilled fields are empty
(`title:`, `types: []`), which the reader takes as absent: the file builds at once, and
`rkg validate` then names, field by field and line by line, what is still missing.
`date_added` is the day the record is made and `status` is `active`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from resource_kg.errors import StructureError
from resource_kg.records import FIELDS, LIST_FIELDS, check_id

#: One comment per field (what it holds, how it is matched), in our own words.
GUIDE: dict[str, str] = {
    "id": "Stable id, part of the resource's IRI; never change it once published.",
    "url": "The resource's page, in full: https://…",
    "title": "Required. The title as the resource gives it.",
    "subtitle": "Optional. The line under the title.",
    "year": "Required. Year developed, four digits without quotes: year: 2024",
    "types": "Required. Resource types: Publication, Toolkit, Webinar, Fact Sheet, Guide, "
    "Training, Template, Video, Podcast, Infographic, Other.",
    "primary_audience": "Required. Who it is written for first: Clinicians, Enabling Staff, "
    "Outreach Staff, PCAs, Administrative Staff, Board of Directors, C-Suite (CEOs, CFOs, CIO, "
    "COOs, CMOs, etc.).",
    "secondary_audience": "Recommended. Who else benefits (same labels; not again those above).",
    "languages": "Required. Language names or two-letter codes: English, es.",
    "developed_by": "Required. Organizations by name or acronym, as in data/organizations.yaml.",
    "in_collaboration_with": "Optional. Partner organizations, as developed_by.",
    "summary": "Recommended. Two or three sentences in the catalog's own words (use >- for "
    "several lines).",
    "topics": "Required. Topics from ontology/vocab/topics.ttl, e.g. Health Equity.",
    "subtopics": "Optional. Subtopics from ontology/vocab/subtopics.ttl.",
    "keywords": "Recommended. Keywords from ontology/vocab/keywords.ttl.",
    "populations": "Optional. Special populations served (330(g), 330(h), 330(i), "
    "farmworkers, …); those named in the text are found by tagging.",
    "date_added": "The day the resource entered the catalog, YYYY-MM-DD.",
    "last_reviewed": "Recommended. Day of the last yearly review, YYYY-MM-DD.",
    "status": "active or retired.",
    "replaced_by": "For a retired resource: the id of the record that replaces it.",
}

#: Longest id accepted: it becomes a file name (and part of page paths) on every system.
MAX_ID = 200


def _yaml_id(rid: str) -> str:
    """The id as YAML text that reads back as the same string (digits stay digits)."""
    if re.fullmatch(r"[1-9][0-9]{0,17}", rid) or re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", rid):
        return rid
    return f'"{rid}"'  # 0042, 1e5, 1.0, yes… would read as another value


def record_template(rid: str, today: dt.date) -> str:
    """The text of a new record `rid`: every field, commented, unfilled ones empty."""
    lines = [
        f"# New record {rid}: fill in the fields, then run `rkg validate` (it names what is",
        "# still missing). Lists take one '- label' per line. Field guide: data/README.md.",
    ]
    values = {"id": _yaml_id(rid), "date_added": today.isoformat(), "status": "active"}
    for name in FIELDS:
        lines.append(f"# {GUIDE[name]}")
        if name in values:
            lines.append(f"{name}: {values[name]}")
        elif name in LIST_FIELDS:
            lines.append(f"{name}: []")
        else:
            lines.append(f"{name}:")
    return "\n".join(lines) + "\n"


def next_id(resources: Path) -> str:
    """One more than the largest numeric record file name (1 in an empty folder)."""
    numbers = [int(p.stem) for p in resources.glob("*") if p.stem.isascii() and p.stem.isdigit()]
    return str(max(numbers, default=0) + 1)


def write_new_record(resources: Path, rid: str | None, today: dt.date) -> Path:
    """Write `resources/<id>.yaml` from the template; never replaces an existing file.

    The text goes to a temporary file that is then hard-linked to its name, which fails if
    the name exists: no other record is overwritten, and no half-written record appears."""
    rid = next_id(resources) if rid is None else rid
    target = resources / f"{rid}.yaml"
    rid = check_id(rid, target, 1)
    if len(rid) > MAX_ID:
        raise StructureError(
            f"id is {len(rid)} characters long; keep it to {MAX_ID}", file=target, field="id"
        )
    for existing in (target, target.with_suffix(".yml")):
        if existing.exists():
            raise StructureError(
                f"record {rid} exists already; edit it, or choose another id",
                file=existing,
                field="id",
            )
    resources.mkdir(parents=True, exist_ok=True)
    tmp = resources / f".{rid}.yaml.{os.getpid()}.new"
    try:
        with open(tmp, "x", encoding="utf-8") as fh:
            fh.write(record_template(rid, today))
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise StructureError(
                f"record {rid} exists already; edit it, or choose another id",
                file=target,
                field="id",
            ) from None
    finally:
        tmp.unlink(missing_ok=True)
    return target
