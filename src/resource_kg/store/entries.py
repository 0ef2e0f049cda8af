"""What one record became, kept per record file in the store's database as JSON.

An entry holds the parsed record, its quad keys, population tags, content diagnostics and
the digests that validation and the query store key on. It is written as JSON (orjson:
twice as fast as the standard library's json on it), never as a pickle: nothing read back
can run code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import orjson

from resource_kg.errors import Diagnostic
from resource_kg.graph import GraphBuilder, QuadKey, resource_iri
from resource_kg.records import Record
from resource_kg.tagging import Tag, Tagger
from resource_kg.validate import record_digest

#: Bumped when the JSON of an entry changes shape.
ENTRY_FORMAT = "1"


@dataclass
class Entry:
    """What one record became: kept per file, reused while the file and the context stay."""

    record: Record
    keys: list[QuadKey]  # record_keys output (catalog graph)
    derived: list[QuadKey]  # its population tags (derived graph)
    diagnostics: list[Diagnostic]  # content warnings of the record alone
    replaced_known: bool | None  # whether replaced_by named a record (None: no replaced_by)
    digest: str  # record_digest of the keys validation sees (subject = the record)
    quads_digest: str  # hash of every key of the record: what the query store compares


def encode_entries(entries: list[Entry]) -> str:
    """One file's entries as compact JSON: distinct terms once, quads as term indexes."""
    terms: dict[str, int] = {}

    def flat(keys: list[QuadKey]) -> list[int]:
        return [terms.setdefault(term, len(terms)) for key in keys for term in key]

    rows = [
        [
            e.record.id,
            e.record.values,
            e.record.line,
            e.record.field_lines,
            flat(e.keys),
            flat(e.derived),
            [[d.line, d.field, d.message] for d in e.diagnostics],
            e.replaced_known,
            e.digest,
            e.quads_digest,
        ]
        for e in entries
    ]
    doc = [list(terms), rows]
    try:
        return orjson.dumps(doc).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits (a year of 30 digits, say)
        return "J" + json.dumps(doc, ensure_ascii=False)


def decode_entries(text: str, file: str, pool: dict[str, str]) -> list[Entry]:
    """The inverse of `encode_entries`; equal term strings are shared through `pool`."""
    names, rows = json.loads(text[1:]) if text.startswith("J") else orjson.loads(text)
    terms = [pool.setdefault(t, t) for t in names]

    def keys(flat: list[int]) -> list[QuadKey]:
        it = iter(flat)
        return [
            (terms[g], terms[s], terms[p], terms[o])
            for g, s, p, o in zip(it, it, it, it, strict=True)
        ]

    out = []
    for rid, values, line, field_lines, ks, ds, diags, known, digest, qdigest in rows:
        record = Record(rid, values, file, line, field_lines)
        diagnostics = [Diagnostic(file, dl, rid, df, dm) for dl, df, dm in diags]
        out.append(Entry(record, keys(ks), keys(ds), diagnostics, known, digest, qdigest))
    return out


def build_entry(builder: GraphBuilder, tagger: Tagger, record: Record, known: set[str]) -> Entry:
    """Build one record with the real builder, its url compared with no other record."""
    start = len(builder.diagnostics)
    keys: list[QuadKey] = []
    builder.record_keys(record, known, {}, keys)
    diagnostics = builder.diagnostics[start:]
    del builder.diagnostics[start:]
    tags: list[Tag] = tagger.tag(record)
    derived: list[QuadKey] = []
    builder.derived_keys(tags, derived)
    s = f"<{resource_iri(builder.base, record.id)}>"
    replaced = record.get_text("replaced_by")
    every = "\n".join(sorted(" ".join(k) for k in (*keys, *derived)))
    return Entry(
        record,
        keys,
        derived,
        diagnostics,
        None if replaced is None else replaced in known,
        record_digest(k for k in (*keys, *derived) if k[1] == s),
        hashlib.sha256(every.encode()).hexdigest(),
    )
