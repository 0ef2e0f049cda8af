"""`rkg import pages` on the layouts real captures show (issue 16), ids (issue 18), --dry-run.

The variant pages in tests/fixtures/import/variants/ are invented renderings of the real
layout (see the folder's README); each comes as text and as HTML and must give the same record.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cli_run import copy_bundled, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from page_strategies import labels_of, sentences

from resource_kg.importing import (
    LABEL_SPELLINGS,
    LabelSplitter,
    PageReader,
    load_lexicon,
    parse_page,
    slug_id,
    text_lines,
)
from resource_kg.recordfile import canonical
from resource_kg.records import ID_PATTERN, Value, read_file

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "import"
VARIANTS = FIXTURES / "variants"
LEXICON = load_lexicon(ROOT)
SUFFIXES = ("txt", "html")


def rkg(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    """Run the real CLI entry point; returns exit status and everything it printed."""
    code, out, err = run_cli(capsys, *args)
    return code, out + err


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """A copy of the bundled catalog's data folder."""
    return copy_bundled(tmp_path)


def import_into(
    capsys: pytest.CaptureFixture[str], catalog: Path, *args: str | Path
) -> tuple[int, str]:
    return rkg(capsys, "import", "pages", *args, "--root", catalog)


def record(catalog: Path, rid: str) -> dict[str, Value]:
    return read_file(catalog / "data" / "resources" / f"{rid}.yaml")[0].values


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# ---------------------------------------------------------------- each variant, field for field

TWO_CAPTURES: dict[str, Value] = {
    "id": "reporting-visits-of-seasonal-workers",
    "title": "Reporting Visits of Seasonal Workers",
    "subtitle": "A Worksheet for the Annual Report",
    "year": 2021,
    "types": ["Other"],
    "primary_audience": ["Administrative Staff"],
    "secondary_audience": ["C-Suite (CEOs, CFOs, CIO, COOs, CMOs, etc.)", "PCAs"],
    "languages": ["English"],
    "developed_by": ["National Center for Farmworker Health"],
    "in_collaboration_with": ["Migrant Clinicians Network"],
    "summary": (
        "A worksheet for counting visits of seasonal agricultural workers for the annual report."
    ),
    "topics": ["Operations", "Special and Vulnerable Populations"],
    "subtopics": ["Research and Data"],
    "keywords": [
        "Agricultural Workers",
        "Data Collection, Management, and Analytics",
        "Culturally and Linguistically Appropriate Services (CLAS)",
    ],
    "status": "active",
}

EXPECTED: dict[str, dict[str, Value]] = {
    "no_heading": {
        "id": "water-breaks-that-work",
        "title": "Water Breaks That Work",
        "year": 2023,
        "types": ["Guide"],
        "primary_audience": ["Outreach Staff", "Enabling Staff"],
        "secondary_audience": ["Clinicians"],
        "languages": ["English", "Spanish"],
        "developed_by": ["Migrant Clinicians Network"],
        "summary": "A guide for planning water and shade breaks with crew leaders.",
        "topics": ["Clinical Issues"],
        "subtopics": ["Emergency Management"],
        "keywords": ["Heat-Related Illness", "Occupational Health"],
        "status": "active",
    },
    "navigation_around_heading": {
        "id": "front-desk-scripts-for-sliding-fee-discounts",
        "title": "Front Desk Scripts for Sliding Fee Discounts",
        "year": 2020,
        "types": ["Template"],
        "primary_audience": ["Administrative Staff"],
        "secondary_audience": ["Board of Directors"],
        "languages": ["English"],
        "developed_by": ["National Center for Farmworker Health"],
        "summary": "Short scripts front desk staff can use to explain sliding fee discounts.",
        "topics": ["Finance"],
        "subtopics": ["Patient Engagement"],
        "keywords": ["Access to Care", "Health Insurance"],
        "status": "active",
    },
    "one_field_per_line": TWO_CAPTURES,
    "run_together": TWO_CAPTURES,
    "older_layout": {
        "id": "talking-with-patients-about-pesticide-exposure",
        "title": "Talking With Patients About Pesticide Exposure",
        "types": ["Publication"],
        "primary_audience": ["Clinicians"],
        "secondary_audience": ["Outreach Staff"],
        "languages": ["Spanish"],
        "developed_by": ["Farmworker Justice"],
        "summary": (
            "Talking points for clinicians who ask patients about pesticide exposure at work."
        ),
        "topics": ["Clinical Issues", "Special and Vulnerable Populations"],
        "subtopics": ["Population Health"],
        "keywords": ["Agricultural Workers", "Occupational Health"],
        "status": "active",
    },
    "label_variants": {
        "id": "coaching-new-clinic-managers",
        "title": "Coaching New Clinic Managers",
        "year": 2019,
        "types": ["Training"],
        # alternative labels of known concepts, as written
        "primary_audience": ["Clinician", "C-Suite (CEO, CFO, CIO, COO, CMO, etc.)"],
        # variants no vocabulary lists: each kept whole (not cut at its commas), reported
        "secondary_audience": [
            "C-Suite (CEO's, CFO's, CIO's, COO's, CMO's, etc.)",
            "Board of Director",
        ],
        "languages": ["English"],
        "developed_by": ["National Center for Farmworker Health"],
        "summary": "A coaching plan for people new to managing a clinic.",
        "topics": ["Workforce", "Governance"],
        "keywords": ["Partnerships"],
        "status": "active",
    },
    "empty_items_and_commas": {
        "id": "hiring-from-the-community",
        "title": "Hiring From the Community",
        "year": 2022,
        "types": ["Guide", "Template"],
        "primary_audience": ["Administrative Staff"],
        "secondary_audience": ["Board of Directors"],
        "languages": ["English", "Spanish"],
        "developed_by": ["National Center for Farmworker Health"],
        "summary": "Steps for recruiting staff from the communities a clinic serves.",
        "topics": ["Workforce", "Health Equity"],
        "subtopics": [
            "Community, Health, and Housing Partnerships",
            "Recruitment, Retention, and Pipeline Programs",
        ],
        "keywords": [
            "Community Engagement",
            "Education, Training, and Workforce Development",
            "Partnerships",
            "Rural Health",
            "Apprenticeships",
        ],
        "status": "active",
    },
    "unknown_organizations": {
        "id": "safe-housing-checklists-for-crew-camps",
        "title": "Safe Housing Checklists for Crew Camps",
        "year": 2024,
        "types": ["Toolkit"],
        "primary_audience": ["Outreach Staff"],
        "secondary_audience": ["Administrative Staff"],
        "languages": ["English", "Spanish"],
        "developed_by": ["Prairie Farmworker Health Alliance (PFHA)"],
        "in_collaboration_with": [
            "Northfield College of Nursing, Eastside Campus",
            "Migrant Clinicians Network",
        ],
        "summary": "Checklists outreach teams use when they visit housing at crew camps.",
        "topics": ["Special and Vulnerable Populations"],
        "subtopics": ["Community, Health, and Housing Partnerships"],
        "keywords": ["Housing", "Agricultural Workers"],
        "status": "active",
    },
}


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("variant", sorted(EXPECTED))
def test_variant_page_imports_field_for_field_and_twice_is_unchanged(
    capsys: pytest.CaptureFixture[str], catalog: Path, variant: str, suffix: str
) -> None:
    page = VARIANTS / f"{variant}.{suffix}"
    expected = EXPECTED[variant]
    code, output = import_into(capsys, catalog, page)
    assert code == 0, output
    assert "1 imported, 0 updated, 0 unchanged, 0 skipped" in output
    assert record(catalog, str(expected["id"])) == expected
    code, output = import_into(capsys, catalog, page)
    assert code == 0, output
    assert f"already present as record {expected['id']}" in output
    assert "0 imported, 0 updated, 1 unchanged, 0 skipped" in output


def test_the_two_captures_of_one_page_give_the_same_record() -> None:
    reader = PageReader(LEXICON)
    values = [
        canonical(reader.read(VARIANTS / f"{name}.{suffix}").values)
        for name in ("one_field_per_line", "run_together")
        for suffix in SUFFIXES
    ]
    assert values[0] == canonical({k: v for k, v in TWO_CAPTURES.items() if k != "status"})
    assert all(v == values[0] for v in values)


def test_the_seed_page_run_together_gives_the_same_record() -> None:
    """The real seed page with every field line joined to the one before, footer attached."""
    text = (FIXTURES / "seed_4184.txt").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    first = next(k for k, ln in enumerate(lines) if ln.startswith("Year Developed:"))
    joined = "\n".join(lines[:first]) + "\n" + "".join(lines[first:])
    assert "Partnerships.This project is supported by" in joined
    reader = PageReader(LEXICON)
    per_line = parse_page(text_lines(text), "seed.txt")
    together = parse_page(text_lines(joined), "seed.txt")
    url = "https://www.healthcenterinfo.org/details/?id=4184"
    a = reader.values(per_line, Path("seed.txt"), url)
    b = reader.values(together, Path("seed.txt"), url)
    assert b.unknown == [] == a.unknown
    assert canonical(b.values) == canonical(a.values)
    assert (
        b.values["keywords"] == read_file(ROOT / "data/resources/4184.yaml")[0].values["keywords"]
    )


def test_variants_report_what_they_could_not_resolve(
    capsys: pytest.CaptureFixture[str], catalog: Path
) -> None:
    code, output = import_into(
        capsys,
        catalog,
        VARIANTS / "older_layout.txt",
        VARIANTS / "label_variants.txt",
        VARIANTS / "empty_items_and_commas.txt",
    )
    assert code == 0, output
    assert "older_layout.txt:12: field 'year': the page gives no year ('n.a.'); left out" in output
    assert (
        "label_variants.txt:12: field 'secondary_audience': unknown label \"C-Suite (CEO's, "
        "CFO's, CIO's, COO's, CMO's, etc.)\" kept as written (closest known: C-Suite (CEOs,"
    ) in output
    assert (
        "label_variants.txt:12: field 'secondary_audience': unknown label 'Board of Director' "
        "kept as written (closest known: Board of Directors"
    ) in output
    assert (
        "empty_items_and_commas.txt:24: field 'keywords': unknown label 'Education, Training, "
        "and Workforce Development' kept as written; kept whole, as a split is in doubt"
    ) in output
    assert "3 imported, 0 updated, 0 unchanged, 0 skipped; 6 unknown label(s)" in output


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_the_vetting_protocol_page_is_skipped_with_a_reason(
    capsys: pytest.CaptureFixture[str], catalog: Path, suffix: str
) -> None:
    before = snapshot(catalog)
    page = VARIANTS / f"vetting_protocol.{suffix}"
    code, output = import_into(capsys, catalog, page)
    assert code == 1
    line = 11 if suffix == "txt" else 13
    assert (
        f"error: {page}: not a resource page: it has only 1 resource field label(s), "
        f"topics (line {line}); a resource page has at least 3"
    ) in output
    assert "0 imported, 0 updated, 0 unchanged, 1 skipped" in output
    assert snapshot(catalog) == before


# ---------------------------------------------------------------- splitting in doubt


@pytest.mark.parametrize(
    ("scheme", "text", "run_together", "labels"),
    [
        # a variant inside brackets is one label, not seven
        (
            "audience",
            "Board of Directors C-Suite (CEO's, CFO's, CIO's, COO's, CMO's, etc.) PCAs",
            True,
            ["Board of Directors", "C-Suite (CEO's, CFO's, CIO's, COO's, CMO's, etc.)", "PCAs"],
        ),
        # a known label at the start of an unknown one is not cut out of it
        ("audience", "Board of Director Clinicians", True, ["Board of Director", "Clinicians"]),
        # empty items in the middle and at the start
        ("keyword", ", Housing, , , Legal Issues.", False, ["Housing", "Legal Issues"]),
        # an unknown series with "and" stays whole
        (
            "keyword",
            "Housing, Diversity, Equity, and Inclusion, Legal Issues",
            False,
            ["Housing", "Diversity, Equity, and Inclusion", "Legal Issues"],
        ),
        # unbalanced brackets (a list cut short): the rest stays one label
        ("keyword", "Housing, Foo (Bar, Baz", False, ["Housing", "Foo (Bar, Baz"]),
    ],
)
def test_a_split_in_doubt_keeps_the_label_whole(
    scheme: str, text: str, run_together: bool, labels: list[str]
) -> None:
    splitter = LabelSplitter(label for t in LEXICON.in_scheme(scheme) for label in t.labels)
    assert [item.label for item in splitter.split(text, run_together)] == labels


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("University of Somewhere, Riverside", ["University of Somewhere, Riverside"]),
        (
            "Migrant Clinicians Network, University of Somewhere, Riverside",
            ["Migrant Clinicians Network", "University of Somewhere, Riverside"],
        ),
        ("Alpha Health Group (AHG), Beta Clinics", ["Alpha Health Group (AHG)", "Beta Clinics"]),
    ],
)
def test_an_unknown_organization_name_with_a_comma_is_not_split(
    text: str, labels: list[str]
) -> None:
    splitter = LabelSplitter(label for t in LEXICON.in_scheme("organization") for label in t.labels)
    assert [i.label for i in splitter.split(text, whole_unknown=True)] == labels


# ---------------------------------------------------------------- new organizations


def organizations(catalog: Path) -> list[dict[str, str]]:
    loaded = yaml.safe_load((catalog / "data" / "organizations.yaml").read_text("utf-8"))
    assert isinstance(loaded, list)
    return loaded


def violations(catalog: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "resource_kg", "validate", str(catalog)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    lines = (done.stdout + done.stderr).splitlines()
    return [ln for ln in lines if re.search(r"\bViolation: ", ln)]


def test_unknown_organizations_are_added_reported_and_the_record_validates(
    capsys: pytest.CaptureFixture[str], catalog: Path
) -> None:
    orgs_file = catalog / "data" / "organizations.yaml"
    before = orgs_file.read_text(encoding="utf-8")
    code, output = import_into(capsys, catalog, VARIANTS / "unknown_organizations.txt")
    assert code == 0, output
    assert (
        "unknown_organizations.txt:16: organization 'Prairie Farmworker Health Alliance' "
        f"(id prairie-farmworker-health-alliance, acronym PFHA) added to {orgs_file}"
    ) in output
    assert (
        "unknown_organizations.txt:17: organization 'Northfield College of Nursing, Eastside "
        "Campus' (id northfield-college-of-nursing-eastside-campus) added to"
    ) in output
    assert "0 unknown label(s) kept as written; 2 organization(s) added" in output
    after = orgs_file.read_text(encoding="utf-8")
    assert after.startswith(before)  # the curated entries and comments are kept as they were
    assert organizations(catalog)[-2:] == [
        {
            "id": "prairie-farmworker-health-alliance",
            "name": "Prairie Farmworker Health Alliance",
            "acronym": "PFHA",
        },
        {
            "id": "northfield-college-of-nursing-eastside-campus",
            "name": "Northfield College of Nursing, Eastside Campus",
        },
    ]
    assert violations(catalog) == []
    # the same record without the added organizations is what validation would refuse
    orgs_file.write_text(before, encoding="utf-8")
    assert any("developed_by" in v for v in violations(catalog))


def test_a_page_naming_a_new_organization_twice_adds_it_once(
    capsys: pytest.CaptureFixture[str], catalog: Path, tmp_path: Path
) -> None:
    second = tmp_path / "second.txt"
    text = (VARIANTS / "unknown_organizations.txt").read_text(encoding="utf-8")
    second.write_text(text.replace("Safe Housing Checklists", "Safe Water Checklists"), "utf-8")
    code, output = import_into(capsys, catalog, VARIANTS / "unknown_organizations.txt", second)
    assert code == 0, output
    assert "2 imported" in output and "2 organization(s) added" in output
    ids = [o["id"] for o in organizations(catalog)]
    assert len(ids) == len(set(ids))


def test_a_variant_of_a_known_organization_is_not_added(
    capsys: pytest.CaptureFixture[str], catalog: Path, tmp_path: Path
) -> None:
    page = tmp_path / "variant.txt"
    text = (VARIANTS / "no_heading.txt").read_text(encoding="utf-8")
    page.write_text(
        text.replace("Migrant Clinicians Network", "Migrant Clinician Network"), "utf-8"
    )
    before = (catalog / "data" / "organizations.yaml").read_bytes()
    code, output = import_into(capsys, catalog, page)
    assert code == 0, output
    assert (
        "organization 'Migrant Clinician Network' not added: it looks like a variant of "
        "'Migrant Clinicians Network'"
    ) in output
    assert "unknown label 'Migrant Clinician Network' kept as written" in output
    assert (catalog / "data" / "organizations.yaml").read_bytes() == before


# ---------------------------------------------------------------- --dry-run


def test_dry_run_shows_what_would_change_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], catalog: Path
) -> None:
    resources = catalog / "data" / "resources"
    seed = FIXTURES / "seed_4184.txt"
    url = "https://www.healthcenterinfo.org/details/?id=4184"
    # record 4184 as the page had it before: the dry run must show the update without doing it
    values = read_file(resources / "4184.yaml")[0].values
    (resources / "4184.yaml").write_text(
        (resources / "4184.yaml").read_text("utf-8").replace("year: 2022", "year: 2019"), "utf-8"
    )
    assert values["year"] == 2022
    before = snapshot(catalog)
    code, output = rkg(
        capsys,
        "import",
        "pages",
        VARIANTS / "unknown_organizations.txt",
        VARIANTS / "no_heading.html",
        "--root",
        catalog,
        "--dry-run",
    )
    assert code == 0, output
    assert (
        f"would import record safe-housing-checklists-for-crew-camps → "
        f"{resources / 'safe-housing-checklists-for-crew-camps.yaml'}"
    ) in output
    assert "would import record water-breaks-that-work" in output
    assert "(id prairie-farmworker-health-alliance, acronym PFHA) would be added to" in output
    assert (
        "pages (dry run: nothing written): 2 imported, 0 updated, 0 unchanged, 0 skipped; "
        "0 unknown label(s) kept as written; 2 organization(s) to add"
    ) in output
    code, output = rkg(
        capsys, "import", "pages", seed, "--url", url, "--root", catalog, "--update", "--dry-run"
    )
    assert code == 0, output
    assert "would update record 4184" in output
    assert "    year: 2019 → 2022" in output
    assert snapshot(catalog) == before
    assert not list(catalog.rglob("*.tmp"))


# ---------------------------------------------------------------- ids (issue 18, pages)


def page_titled(title: str, folder: Path, name: str = "page.txt") -> Path:
    text = (VARIANTS / "no_heading.txt").read_text(encoding="utf-8")
    path = folder / name
    path.write_text(text.replace("Water Breaks That Work", title, 1), encoding="utf-8")
    return path


def test_titles_without_ascii_letters_get_distinct_ids(
    capsys: pytest.CaptureFixture[str], catalog: Path, tmp_path: Path
) -> None:
    titles = ["熱中症の予防", "熱中症の手引き", "Профилактика", "2021", "Café 東京", "Café 大阪"]
    pages = [page_titled(t, tmp_path, f"p{k}.txt") for k, t in enumerate(titles)]
    code, output = import_into(capsys, catalog, *pages)
    assert code == 0, output
    assert f"{len(titles)} imported, 0 updated, 0 unchanged, 0 skipped" in output
    ids = [slug_id(t) for t in titles]
    assert len(set(ids)) == len(ids)
    for rid, title in zip(ids, titles, strict=True):
        assert ID_PATTERN.match(rid) and not rid.isdigit() and rid != "x"
        assert record(catalog, rid)["title"] == title
    assert ids[4].startswith("cafe-") and slug_id("Plain Title") == "plain-title"


def test_update_never_matches_a_record_by_a_derived_id_alone(
    capsys: pytest.CaptureFixture[str], catalog: Path, tmp_path: Path
) -> None:
    rid = slug_id("熱中症の予防")
    other = catalog / "data" / "resources" / f"{rid}.yaml"
    other.write_text(f"id: {rid}\ntitle: An unrelated record\nyear: 2020\n", encoding="utf-8")
    before = other.read_bytes()
    code, output = import_into(capsys, catalog, page_titled("熱中症の予防", tmp_path), "--update")
    assert code == 1
    assert (
        f"its id {rid} (made from its title or file name) is that of record {rid} ({other}), "
        "which has another title and url; not imported"
    ) in output
    assert other.read_bytes() == before


def test_unicode_digit_file_names_are_not_ids(
    capsys: pytest.CaptureFixture[str], catalog: Path, tmp_path: Path
) -> None:
    page = page_titled("Superscript Named Page", tmp_path, "²³.txt")
    digits = page_titled("Digit Named Page", tmp_path, "5120.txt")
    code, output = import_into(capsys, catalog, page, digits)
    assert code == 0, output
    assert record(catalog, "superscript-named-page")["title"] == "Superscript Named Page"
    assert record(catalog, "5120")["title"] == "Digit Named Page"


# ---------------------------------------------------------------- property: random layouts

LIST_FIELDS = {
    "types": "type",
    "primary_audience": "audience",
    "secondary_audience": "audience",
    "languages": "language",
    "developed_by": "organization",
    "in_collaboration_with": "organization",
    "topics": "topic",
    "subtopics": "subtopic",
    "keywords": "keyword",
}
SPELLINGS: dict[str, list[str]] = {}
for spelling, name in LABEL_SPELLINGS.items():
    SPELLINGS.setdefault(name, []).append(spelling)
SENTENCE = sentences(10)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Value]:
    rid = str(draw(st.integers(1, 99999)))
    values: dict[str, Value] = {
        "id": rid,
        "url": f"https://www.healthcenterinfo.org/details/?id={rid}",
        "title": draw(SENTENCE),
        "year": draw(st.integers(1990, 2030)),
    }
    if draw(st.booleans()):
        values["summary"] = draw(SENTENCE)
    for name, scheme in LIST_FIELDS.items():
        labels = draw(labels_of(scheme, 1 if name == "developed_by" else 3))
        if labels:
            values[name] = labels
    values.setdefault("types", ["Other"])
    values.setdefault("keywords", ["Housing"])
    if "developed_by" not in values:
        values.pop("in_collaboration_with", None)
    return values


def render(values: dict[str, Value], rng: random.Random, layout: dict[str, bool]) -> str:
    """A page in a random layout: order shuffled, labels run together, footer attached."""

    def label(name: str) -> str:
        return rng.choice(SPELLINGS[name]) if layout["variant_labels"] else SPELLINGS[name][0]

    blocks: list[str] = []
    for name, value in values.items():
        if name in ("id", "url", "title", "in_collaboration_with"):
            continue
        if name == "year" or name == "summary":
            blocks.append(f"{label(name)}: {value}")
        elif name.endswith("audience"):
            assert isinstance(value, list)
            blocks.append(f"{label(name)}: {' '.join(value)}")
        elif name == "developed_by":
            assert isinstance(value, list)
            text = (
                f"{label(name)}: {value[0]} (See other resources developed by this organization)."
            )
            collab = values.get("in_collaboration_with")
            if isinstance(collab, list):
                text += f" In collaboration with {', '.join(collab)}"
            blocks.append(text)
        else:
            assert isinstance(value, list)
            items = ", ".join(value)
            blocks.append(f"{label(name)}: {', ' if layout['leading_empty'] else ''}{items}.")
    blocks.append("Resource Details: An invented longer description that is not kept.")
    if layout["shuffle"]:
        rng.shuffle(blocks)
    head = ["Cybersecurity Learning Bundle", "Menu +", ""] if layout["banners"] else []
    if layout["heading"]:
        head += ["Resource Details", ""]
    body = "".join(blocks) if layout["run_together"] else "\n\n".join(blocks)
    footer = "This project is supported by an invented award. Keywords: Footer Only"
    body += footer if layout["footer_attached"] else "\n\n" + footer
    return "\n".join([*head, str(values["title"]), "", body])


LAYOUT = st.fixed_dictionaries(
    {
        k: st.booleans()
        for k in (
            "shuffle",
            "run_together",
            "footer_attached",
            "variant_labels",
            "leading_empty",
            "banners",
            "heading",
        )
    }
)
READER = PageReader(LEXICON)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=records(), layout=LAYOUT, seed=st.integers(0, 2**32))
def test_records_in_random_layouts_import_back_equal(
    values: dict[str, Value], layout: dict[str, bool], seed: int
) -> None:
    text = render(values, random.Random(seed), layout)
    page = parse_page(text_lines(text), "page.txt")
    result = READER.values(page, Path("page.txt"), str(values["url"]))
    assert result.unknown == [], text
    assert canonical(result.values) == canonical(values), text
    assert not re.search(r"Footer Only", str(result.values))


def test_no_organizations_file_is_created_where_the_catalog_has_none(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A catalog without data/organizations.yaml: new organizations are reported, not added."""
    out = tmp_path / "data" / "resources"
    out.mkdir(parents=True)
    code, output = rkg(
        capsys,
        "import",
        "pages",
        VARIANTS / "unknown_organizations.txt",
        "--root",
        tmp_path,
    )
    assert code == 0, output
    missing = tmp_path / "data" / "organizations.yaml"
    assert (
        f"organization 'Prairie Farmworker Health Alliance (PFHA)' not added: {missing} does "
        "not exist"
    ) in output
    assert "unknown label 'Prairie Farmworker Health Alliance (PFHA)' kept as written" in output
    assert not missing.exists()
    assert [p.name for p in out.iterdir()] == ["safe-housing-checklists-for-crew-camps.yaml"]
