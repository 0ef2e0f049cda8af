"""Write a synthetic catalog folder for benchmarks and scale tests.

Every record and organization is invented; labels come from the real vocabularies
(ontology/vocab/*.ttl, read through resource_kg.vocab), so the catalog builds like a real
one. A few deliberate errors per thousand records (unknown label, missing title, bad year,
duplicate url) are planted and listed in DIR/planted-errors.json as {record, field, kind,
value} (a duplicate url also names `same_as`, the earlier record whose url it repeats: the
build warns on the later record, validation flags both), so a test can check that the build
and validation report exactly those. The same N and seed give byte-identical files.

    python bench/generate.py 1000 --seed 7 --out bench/scratch/1k [--format yaml|jsonl]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from resource_kg.vocab import Lexicon, load_vocabularies, normalize

REPO = Path(__file__).resolve().parents[1]
VOCAB_DIR = REPO / "ontology" / "vocab"
MARKER = "synthetic catalog written by bench/generate.py"
TODAY = dt.date(2026, 11, 1)  # fixed, so that output does not depend on the day it runs
ERRORS_PER_THOUSAND = 4
MIN_ERRORS = 4
ERROR_KINDS = ("unknown-label", "missing-title", "bad-year", "duplicate-url")
ORG_POOL = 300

# Word lists for invented titles, summaries and organizations.
ADJECTIVES = (
    "Practical", "Essential", "Advancing", "Strengthening", "Improving", "Building",
    "Sustaining", "Expanding", "Integrating", "Measuring", "Planning", "Leading",
)  # fmt: skip
SUBJECTS = (
    "Care Coordination", "Patient Outreach", "Workforce Retention", "Data Quality",
    "Board Governance", "Revenue Cycle", "Language Access", "Emergency Readiness",
    "Chronic Disease Management", "Telehealth Programs", "Dental Services", "Enrollment Assistance",
    "Community Partnerships", "Quality Reporting", "Staff Training", "Health Literacy",
)  # fmt: skip
FORMS = (
    "A Guide", "A Toolkit", "Lessons Learned", "Case Studies", "Promising Practices",
    "An Overview", "Frequently Asked Questions", "A Checklist", "Key Findings",
)  # fmt: skip
POPULATION_PHRASES = (
    "agricultural workers", "migrant and seasonal farmworkers", "people experiencing homelessness",
    "residents of public housing", "veterans", "people with limited English proficiency",
    "LGBTQ+ people", "Pacific Islanders", "Latino communities",
)  # fmt: skip
VERBS = (
    "describes", "explains", "summarizes", "walks through", "compares", "collects",
    "outlines", "reviews",
)  # fmt: skip
OBJECTS = (
    "steps health centers can take", "ways staff can work together", "measures worth tracking",
    "questions boards often ask", "approaches that worked in small clinics",
    "common barriers and how teams addressed them", "templates for day-to-day work",
)  # fmt: skip
ORG_KINDS = (
    "Center", "Institute", "Network", "Association", "Coalition", "Alliance", "Council",
    "Collaborative", "Foundation", "Partnership",
)  # fmt: skip
ORG_FOCUS = (
    "Rural Health", "Community Care", "Primary Care", "Health Workforce", "Oral Health",
    "Behavioral Health", "Health Data", "Care Transitions", "Patient Safety", "Health Policy",
    "Family Medicine", "Health Finance", "Telehealth", "Public Health Practice", "Health Literacy",
    "Clinical Quality", "Immunization", "Maternal Health", "Nutrition", "Environmental Health",
)  # fmt: skip
ORG_PLACES = (
    "National", "Northern", "Southern", "Eastern", "Western", "Central", "Coastal",
    "Mountain", "Plains", "Lakes", "Valley", "River", "Desert", "Island", "Prairie",
)  # fmt: skip
UNKNOWN_LABELS = (
    "Zephyr Logistics", "Quantum Gardening", "Vellum Binding", "Orbital Planning",
    "Glacier Surveying", "Marble Carving",
)  # fmt: skip
LABEL_FIELDS = {
    "types": "type",
    "primary_audience": "audience",
    "secondary_audience": "audience",
    "topics": "topic",
    "subtopics": "subtopic",
    "keywords": "keyword",
}


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    acronym: str


class Vocab:
    """The labels of each scheme that resolve to exactly one concept, prefLabel first."""

    def __init__(self, vocab_dir: Path = VOCAB_DIR) -> None:
        self.lexicon = Lexicon()
        files = sorted(vocab_dir.glob("*.ttl"))
        load_vocabularies(files, ox.NamedNode("urn:x-bench:vocab"), vocab_dir, self.lexicon)
        self.pref: dict[str, list[str]] = {}
        self.alt: dict[str, list[list[str]]] = {}
        for scheme in self.lexicon.schemes():
            terms = self.lexicon.in_scheme(scheme)
            self.pref[scheme] = [t.label for t in terms]
            self.alt[scheme] = [
                [lab for lab in t.labels if self.lexicon.resolve(scheme, lab).iri == t.iri]
                for t in terms
            ]

    def pick(self, rng: random.Random, scheme: str, k: int) -> list[str]:
        """k distinct concepts of a scheme, written by prefLabel (or now and then an altLabel)."""
        indices = rng.sample(range(len(self.pref[scheme])), k)
        out = []
        for i in indices:
            labels = self.alt[scheme][i]
            out.append(rng.choice(labels) if rng.random() < 0.1 else self.pref[scheme][i])
        return out


def make_orgs(rng: random.Random, n: int) -> list[Org]:
    """n invented organizations with distinct names, acronyms and ids."""
    orgs: list[Org] = []
    names: set[str] = set()
    acronyms: set[str] = set()
    while len(orgs) < n:
        place, focus, kind = rng.choice(ORG_PLACES), rng.choice(ORG_FOCUS), rng.choice(ORG_KINDS)
        name = f"{place} {focus} {kind}" if rng.random() < 0.5 else f"{place} {kind} for {focus}"
        if normalize(name) in names:
            continue
        words = [w for w in name.replace("for ", "").split() if w[0].isupper()]
        acronym = "".join(w[0] for w in words)
        base_acr, k = acronym, 2
        while acronym.lower() in acronyms:
            acronym = f"{base_acr}{k}"
            k += 1
        names.add(normalize(name))
        acronyms.add(acronym.lower())
        orgs.append(Org(f"org{len(orgs) + 1:04d}", name, acronym))
    return orgs


def org_label(rng: random.Random, org: Org) -> str:
    r = rng.random()
    if r < 0.6:
        return org.name
    if r < 0.8:
        return f"{org.name} ({org.acronym})"
    return org.acronym


def record_id(i: int) -> str:
    return f"syn{i:06d}"


def record_url(rid: str) -> str:
    return f"https://resources.example.org/details/{rid}"


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    days = (end - start).days
    return start + dt.timedelta(days=rng.randint(0, max(days, 0)))


def make_record(
    rng: random.Random, i: int, vocab: Vocab, orgs: list[Org], titles: set[str]
) -> dict[str, Any]:
    """One plausible record: spreads as in the issue (1–7 audiences, 1–4 topics, ...).

    Titles are kept distinct (`titles` holds those used so far): validation rightly flags two
    records with one title, and only the planted errors should be found."""
    rid = record_id(i)
    n_aud = rng.randint(1, 7)
    audiences = vocab.pick(rng, "audience", n_aud)
    n_primary = rng.randint(1, n_aud)
    year = min(2026, 2005 + int(rng.triangular(0, 22, 18)))
    rec: dict[str, Any] = {
        "id": rid,
        "url": record_url(rid),
        "title": f"{rng.choice(ADJECTIVES)} {rng.choice(SUBJECTS)}: {rng.choice(FORMS)}",
    }
    summary_pop = rng.random() < 0.25
    if rng.random() < 0.15:
        rec["title"] += f" for Health Centers Serving {rng.choice(POPULATION_PHRASES)}"
    if rec["title"] in titles:
        base, k = rec["title"], 2
        while f"{base}, Volume {k}" in titles:
            k += 1
        rec["title"] = f"{base}, Volume {k}"
    titles.add(rec["title"])
    if rng.random() < 0.2:
        rec["subtitle"] = f"{rng.choice(('Part', 'Module', 'Volume'))} {rng.randint(1, 6)}"
    rec["year"] = year
    rec["types"] = vocab.pick(rng, "type", 1 if rng.random() < 0.9 else 2)
    rec["primary_audience"] = audiences[:n_primary]
    if n_primary < n_aud:
        rec["secondary_audience"] = audiences[n_primary:]
    r = rng.random()
    if r < 0.82:
        rec["languages"] = ["English"]
    elif r < 0.92:
        rec["languages"] = ["English", "Spanish"]
    elif r < 0.97:
        rec["languages"] = ["Spanish" if rng.random() < 0.7 else "Español"]
    else:
        rec["languages"] = ["English", *vocab.pick(rng, "language", 1)]
        if rec["languages"][1] in ("English", "Inglés", "en"):
            rec["languages"] = ["English"]
    # A few prolific developers and a long tail, as in a real catalog.
    n_dev = 1 if rng.random() < 0.8 else 2
    devs: list[Org] = []
    while len(devs) < n_dev:
        org = orgs[min(len(orgs) - 1, int(rng.paretovariate(1.2)) - 1)]
        if org not in devs:
            devs.append(org)
    rec["developed_by"] = [org_label(rng, o) for o in devs]
    if rng.random() < 0.2:
        collaborator = rng.choice(orgs)
        if collaborator not in devs:
            rec["in_collaboration_with"] = [org_label(rng, collaborator)]
    summary = (
        f"This {rec['types'][0].lower()} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
        f"on {rng.choice(SUBJECTS).lower()}."
    )
    if summary_pop:
        summary += f" It draws on work with {rng.choice(POPULATION_PHRASES)}."
    rec["summary"] = summary
    rec["topics"] = vocab.pick(rng, "topic", rng.randint(1, 4))
    rec["subtopics"] = vocab.pick(rng, "subtopic", rng.randint(1, 8))
    rec["keywords"] = vocab.pick(rng, "keyword", rng.randint(1, 8))
    if rng.random() < 0.1:
        rec["populations"] = vocab.pick(rng, "population", rng.randint(1, 2))
    added = _date_between(rng, max(dt.date(year, 1, 1), dt.date(2012, 1, 1)), TODAY)
    rec["date_added"] = added.isoformat()
    if rng.random() < 0.85:
        # Most reviewed within the year; some long ago (due for review); some never.
        span_start = added if rng.random() < 0.3 else max(added, TODAY - dt.timedelta(days=365))
        rec["last_reviewed"] = _date_between(rng, span_start, TODAY).isoformat()
    if rng.random() < 0.05 and i > 0:
        rec["status"] = "retired"
        if rng.random() < 0.5:
            rec["replaced_by"] = record_id(rng.randrange(0, i))
    else:
        rec["status"] = "active"
    return rec


def plant_errors(
    rng: random.Random, records: list[dict[str, Any]], vocab: Vocab
) -> list[dict[str, Any]]:
    """Plant a few errors per thousand records, each kind in turn, one per chosen record."""
    n = len(records)
    count = min(n - 1, max(MIN_ERRORS, n * ERRORS_PER_THOUSAND // 1000))
    chosen = sorted(rng.sample(range(1, n), count))
    chosen_set = set(chosen)
    planted: list[dict[str, Any]] = []
    for k, i in enumerate(chosen):
        rec = records[i]
        kind = ERROR_KINDS[k % len(ERROR_KINDS)]
        if kind == "unknown-label":
            name = rng.choice(sorted(LABEL_FIELDS))
            label = rng.choice(UNKNOWN_LABELS)
            assert vocab.lexicon.resolve(LABEL_FIELDS[name], label).iri is None
            rec.setdefault(name, []).append(label)
            planted.append({"record": rec["id"], "field": name, "kind": kind, "value": label})
        elif kind == "missing-title":
            del rec["title"]
            planted.append({"record": rec["id"], "field": "title", "kind": kind, "value": None})
        elif kind == "bad-year":
            bad: str | int = rng.choice(("20l9", "two thousand", 1850, 2999))
            rec["year"] = bad
            planted.append({"record": rec["id"], "field": "year", "kind": kind, "value": bad})
        else:
            source = rng.choice([j for j in range(i) if j not in chosen_set] or [0])
            url = records[source]["url"]
            rec["url"] = url + "/" if rng.random() < 0.5 else url
            planted.append(
                {
                    "record": rec["id"],
                    "field": "url",
                    "kind": kind,
                    "value": rec["url"],
                    "same_as": records[source]["id"],
                }
            )
    return planted


def generate(n: int, seed: int) -> tuple[list[Org], list[dict[str, Any]], list[dict[str, Any]]]:
    """Organizations, records and the planted errors for n records and a seed."""
    if n < MIN_ERRORS + 1:
        raise ValueError(f"N must be at least {MIN_ERRORS + 1}")
    rng = random.Random(seed)
    vocab = Vocab()
    orgs = make_orgs(rng, ORG_POOL)
    titles: set[str] = set()
    records = [make_record(rng, i, vocab, orgs, titles) for i in range(n)]
    planted = plant_errors(rng, records, vocab)
    return orgs, records, planted


# ---------------------------------------------------------------- output


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def record_yaml(rec: dict[str, Any], seed: int) -> str:
    lines = [f"# Invented record: {MARKER} (seed {seed}); not a real resource."]
    for name, value in rec.items():
        if isinstance(value, list):
            lines.append(f"{name}:")
            lines.extend(f"  - {_q(v)}" for v in value)
        elif isinstance(value, int) or name in ("date_added", "last_reviewed", "status", "id"):
            lines.append(f"{name}: {value}")
        else:
            lines.append(f"{name}: {_q(value)}")
    return "\n".join(lines) + "\n"


def orgs_yaml(orgs: list[Org], seed: int) -> str:
    lines = [
        f"# Invented organizations: {MARKER} (seed {seed}); none of them exists.",
    ]
    for org in orgs:
        lines += [
            f"- id: {org.id}",
            f"  name: {_q(org.name)}",
            f"  acronym: {_q(org.acronym)}",
            f"  homepage: https://{org.id}.example.org/",
        ]
    return "\n".join(lines) + "\n"


def readme(n: int, seed: int, fmt: str, planted: int) -> str:
    return (
        f"# Synthetic catalog\n\nThis is a {MARKER}: {n} invented records (seed {seed}, "
        f"format {fmt}).\nNo record or organization here is real; labels come from the real "
        f"vocabularies.\n{planted} deliberate errors are listed in planted-errors.json.\n"
    )


def write_catalog(out: Path, n: int, seed: int, fmt: str = "yaml") -> list[dict[str, Any]]:
    """Write the catalog folder; refuses to overwrite a folder it did not write itself."""
    readme_path = out / "README.md"
    if (out / "data").exists() and MARKER not in (
        readme_path.read_text(encoding="utf-8") if readme_path.is_file() else ""
    ):
        raise SystemExit(f"{out}/data exists and is not a synthetic catalog; choose another --out")
    orgs, records, planted = generate(n, seed)
    resources = out / "data" / "resources"
    if resources.exists():
        shutil.rmtree(resources)
    resources.mkdir(parents=True)
    (out / "data" / "organizations.yaml").write_text(orgs_yaml(orgs, seed), encoding="utf-8")
    if fmt == "yaml":
        for rec in records:
            (resources / f"{rec['id']}.yaml").write_text(record_yaml(rec, seed), encoding="utf-8")
    else:
        with (resources / "catalog.jsonl").open("w", encoding="utf-8") as fh:
            for rec in records:
                fh.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
    (out / "planted-errors.json").write_text(
        json.dumps(planted, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    readme_path.write_text(readme(n, seed, fmt, len(planted)), encoding="utf-8")
    return planted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="number of records")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="catalog folder to write")
    parser.add_argument("--format", choices=("yaml", "jsonl"), default="yaml")
    args = parser.parse_args(argv)
    planted = write_catalog(args.out, args.n, args.seed, args.format)
    print(f"wrote {args.n} records ({len(planted)} planted errors) to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
