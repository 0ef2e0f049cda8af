"""`rkg import pages`: clearinghouse pages (text and HTML) become records, label by label."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_run import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from page_strategies import labels_of, sentences

from resource_kg.importing import (
    LabelSplitter,
    PageReader,
    load_lexicon,
    parse_page,
    text_lines,
    url_key,
)
from resource_kg.recordfile import canonical
from resource_kg.records import Value, read_file

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "import"
BUNDLED = ROOT / "data" / "resources"
URL_4184 = "https://www.healthcenterinfo.org/details/?id=4184"
LEXICON = load_lexicon(ROOT)


def rkg(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    """Run the real CLI entry point; returns exit status and everything it printed."""
    code, out, err = run_cli(capsys, *args)
    return code, out + err


def import_pages(
    capsys: pytest.CaptureFixture[str], out: Path, *args: str | Path
) -> tuple[int, str]:
    return rkg(capsys, "import", "pages", *args, "--root", ROOT, "--out", out)


def only_record(out: Path) -> dict[str, Value]:
    files = sorted(out.glob("*.yaml"))
    assert len(files) == 1, files
    return read_file(files[0])[0].values


# ---------------------------------------------------------------- the seed page


def test_seed_page_gives_bundled_record_4184_field_by_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, output = import_pages(capsys, tmp_path, FIXTURES / "seed_4184.txt", "--url", URL_4184)
    assert code == 0, output
    assert "1 imported, 0 updated, 0 unchanged, 0 skipped; 0 unknown label(s)" in output
    imported = canonical(read_file(tmp_path / "4184.yaml")[0].values)
    bundled = canonical(read_file(BUNDLED / "4184.yaml")[0].values)
    # The bundled record carries a summary in our own words (page text is not kept in data);
    # every other field must be equal.
    assert sorted(imported) == sorted(bundled)
    for name in bundled:
        if name != "summary":
            assert imported[name] == bundled[name], name
    page_summary = next(
        line.removeprefix("Resource Summary: ")
        for line in (FIXTURES / "seed_4184.txt").read_text(encoding="utf-8").splitlines()
        if line.startswith("Resource Summary: ")
    )
    assert imported["summary"] == page_summary


def test_seed_page_without_summary_is_unchanged_against_bundled_record(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "resources"
    shutil.copytree(BUNDLED, out)
    before = (out / "4184.yaml").read_bytes()
    code, output = import_pages(
        capsys, out, FIXTURES / "seed_4184.txt", "--url", URL_4184, "--no-summary"
    )
    assert code == 0
    assert "already present as record 4184" in output
    assert "unchanged" in output
    assert "0 imported, 0 updated, 1 unchanged, 0 skipped" in output
    assert (out / "4184.yaml").read_bytes() == before


# ---------------------------------------------------------------- layout variations

COMMON = {"status": "active"}


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "audiences_one_per_line.txt",
            {
                "id": "cooling-stations-for-field-crews",
                "title": "Cooling Stations for Field Crews",
                "year": 2020,
                "types": ["Guide"],
                "primary_audience": ["Clinicians", "Outreach Staff", "Enabling Staff"],
                "secondary_audience": [
                    "Board of Directors",
                    "C-Suite (CEOs, CFOs, CIO, COOs, CMOs, etc.)",
                ],
                "languages": ["English", "Spanish"],
                "developed_by": ["Migrant Clinicians Network (MCN)"],
                "summary": "A planning aid for setting up shaded rest areas near fields.",
                "topics": ["Clinical Issues", "Special and Vulnerable Populations"],
                "subtopics": ["Emergency Management"],
                "keywords": ["Heat-Related Illness", "Occupational Health"],
            },
        ),
        (
            "labels_with_commas.txt",
            {
                "id": "sharing-clinic-data-with-housing-partners",
                "title": "Sharing Clinic Data with Housing Partners",
                "year": 2023,
                "types": ["Toolkit", "Template"],
                "primary_audience": [
                    "C-Suite (CEOs, CFOs, CIO, COOs, CMOs, etc.)",
                    "Administrative Staff",
                ],
                "secondary_audience": ["PCAs"],
                "languages": ["English"],
                "developed_by": ["National Center for Farmworker Health"],
                "summary": "Templates for data-use agreements between clinics and housing agencies.",
                "topics": ["Health Equity", "Operations"],
                "subtopics": [
                    "Community, Health, and Housing Partnerships",
                    "Research and Data",
                    "Social Determinants of Health (SDOH)",
                ],
                "keywords": [
                    "Data Collection, Management, and Analytics",
                    "Housing",
                    "Partnerships",
                ],
            },
        ),
        (
            "empty_items.txt",
            {
                "id": "dental-outreach-at-seasonal-camps",
                "title": "Dental Outreach at Seasonal Camps",
                "year": 2018,
                "types": ["Fact Sheet"],
                "primary_audience": ["Clinicians", "Outreach Staff"],
                "secondary_audience": ["PCAs"],
                "languages": ["English", "Spanish"],
                "developed_by": ["National Center for Farmworker Health"],
                "summary": "A one-page overview of mobile dental visits for agricultural workers.",
                "topics": ["Clinical Issues", "Special and Vulnerable Populations"],
                "subtopics": ["Oral Health", "Outreach and Enrollment", "Population Health"],
                "keywords": ["Agricultural Workers", "Access to Care"],
            },
        ),
        (
            "trailing_period.txt",
            {
                "id": "counting-patients-who-move-with-the-harvest",
                "title": "Counting Patients Who Move With the Harvest",
                "year": 2021,
                "types": ["Publication"],
                "primary_audience": ["Administrative Staff"],
                "secondary_audience": ["Board of Directors", "PCAs"],
                "languages": ["English"],
                "developed_by": ["National Center for Farmworker Health"],
                "summary": "A short note on estimating patient counts across a growing season.",
                "topics": ["Health Equity"],
                "subtopics": ["Research and Data", "Social Determinants of Health (SDOH)"],
                "keywords": [
                    "Agricultural Workers",
                    "Culturally and Linguistically Appropriate Services (CLAS)",
                ],
            },
        ),
        (
            "see_other_and_collaboration.txt",
            {
                "id": "know-your-rights-at-work-a-clinic-handout",
                "title": "Know Your Rights at Work: A Clinic Handout",
                "year": 2022,
                "types": ["Fact Sheet"],
                "primary_audience": ["Outreach Staff"],
                "secondary_audience": ["Clinicians"],
                "languages": ["English", "Spanish", "Haitian Creole"],
                "developed_by": ["National Center for Medical-Legal Partnership"],
                "in_collaboration_with": ["Farmworker Justice (FJ)"],
                "summary": "A handout clinics can give patients about workplace protections.",
                "topics": ["Special and Vulnerable Populations"],
                "subtopics": ["Policy and Advocacy"],
                "keywords": ["Legal Issues", "Medical Legal Partnerships (MLPs)"],
            },
        ),
        (
            "collaboration_own_line.txt",
            {
                "id": "building-a-legal-aid-referral-path",
                "title": "Building a Legal Aid Referral Path",
                "year": 2019,
                "types": ["Guide"],
                "primary_audience": ["Enabling Staff"],
                "secondary_audience": ["Administrative Staff"],
                "languages": ["English"],
                "developed_by": ["Farmworker Justice"],
                "in_collaboration_with": [
                    "Migrant Clinicians Network",
                    "National Center for Medical-Legal Partnership",
                ],
                "summary": "Steps for referring patients to civil legal aid.",
                "topics": ["Health Equity"],
                "subtopics": ["Programs and Services"],
                "keywords": ["Legal Issues", "Non-Clinical Services"],
            },
        ),
        (
            "subtitle_line.txt",
            {
                "id": "clinic-heat-plans",
                "title": "Clinic Heat Plans",
                "subtitle": "A 2024 Review of Practice",
                "year": 2024,
                "types": ["Publication"],
                "primary_audience": ["Clinicians"],
                "secondary_audience": ["Administrative Staff"],
                "languages": ["English"],
                "developed_by": ["Migrant Clinicians Network"],
                "summary": "A review of how clinics plan for extreme heat days.",
                "topics": ["Emerging Issues"],
                "subtopics": ["Emergency Management"],
                "keywords": ["Heat-Related Illness"],
            },
        ),
        (
            "tagline_line.txt",
            {
                "id": "telehealth-starter-kit",
                "title": "Telehealth Starter Kit",
                "subtitle": "Everything a small clinic needs to start video visits.",
                "year": 2021,
                "types": ["Toolkit"],
                "primary_audience": ["Administrative Staff", "Clinicians"],
                "secondary_audience": ["C-Suite (CEOs, CFOs, CIO, COOs, CMOs, etc.)"],
                "languages": ["English"],
                "developed_by": ["National Center for Farmworker Health"],
                "summary": "Checklists for starting video visits in a small clinic.",
                "topics": ["Health Information Technology"],
                "subtopics": ["Telehealth"],
                "keywords": ["Access to Care"],
            },
        ),
        (
            "banners_and_footer.txt",
            {
                "id": "interpreter-scheduling-made-simple",
                "title": "Interpreter Scheduling Made Simple",
                "year": 2017,
                "types": ["Template"],
                "primary_audience": ["Enabling Staff"],
                "secondary_audience": ["Administrative Staff"],
                "languages": ["English"],
                "developed_by": ["National Center for Farmworker Health"],
                "summary": "A scheduling template for booking interpreters ahead of visits.",
                "topics": ["Operations"],
                "subtopics": ["Patient Engagement"],
                "keywords": ["Interpretation Services"],
            },
        ),
        (
            "missing_field.txt",
            {
                "id": "board-orientation-slides",
                "title": "Board Orientation Slides",
                "year": 2016,
                "types": ["Training"],
                "primary_audience": ["Board of Directors"],
                "developed_by": ["National Center for Farmworker Health"],
                "summary": "Slides that introduce new board members to their duties.",
                "topics": ["Governance"],
                "keywords": ["Partnerships"],
            },
        ),
        (
            "list_cut_short.txt",
            {
                "id": "heat-safety-posters",
                "title": "Heat Safety Posters",
                "year": 2020,
                "types": ["Infographic"],
                "primary_audience": ["Outreach Staff"],
                "secondary_audience": ["Clinicians"],
                "languages": ["English", "Spanish"],
                "developed_by": ["Migrant Clinicians Network"],
                "summary": "Posters that remind crews to drink water and rest in shade.",
                "topics": ["Clinical Issues"],
                "subtopics": ["Emergency Management"],
                "keywords": ["Access to Care", "Heat-Related Illness", "Occupational He"],
            },
        ),
        (
            "page.html",
            {
                "id": "9102",
                "url": "https://www.healthcenterinfo.org/details/?id=9102",
                "title": "Mobile Clinic Route Planner",
                "subtitle": "Plan stops where & when workers are free.",
                "year": 2019,
                "types": ["Toolkit", "Template"],
                "primary_audience": ["Outreach Staff", "Enabling Staff"],
                "secondary_audience": ["Administrative Staff", "Board of Directors"],
                "languages": ["English", "Spanish"],
                "developed_by": ["National Center for Farmworker Health"],
                "summary": "A worksheet for planning mobile clinic stops around work shifts.",
                "topics": ["Special and Vulnerable Populations", "Operations"],
                "subtopics": [
                    "Outreach and Enrollment",
                    "Community, Health, and Housing Partnerships",
                ],
                "keywords": ["Agricultural Workers", "Access to Care"],
            },
        ),
    ],
)
def test_layout_variation_gives_exact_record(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fixture: str, expected: dict[str, Value]
) -> None:
    code, output = import_pages(capsys, tmp_path, FIXTURES / fixture)
    assert code == 0, output
    assert only_record(tmp_path) == {**expected, **COMMON}


def test_cut_short_list_is_reported_with_its_incomplete_label(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, output = import_pages(capsys, tmp_path, FIXTURES / "list_cut_short.txt")
    assert "list_cut_short.txt:24: field 'keywords': the list is cut short" in output
    assert (
        "list_cut_short.txt:24: field 'keywords': unknown label 'Occupational He' kept as "
        "written (closest known: Occupational Health)"
    ) in output


# ---------------------------------------------------------------- splitting


@pytest.mark.parametrize(
    ("scheme", "text", "run_together", "labels"),
    [
        (
            "audience",
            "Clinicians Enabling Staff Outreach Staff PCAs",
            True,
            ["Clinicians", "Enabling Staff", "Outreach Staff", "PCAs"],
        ),
        (
            "audience",
            "Administrative Staff Board of Directors C-Suite (CEOs, CFOs, CIO, COOs, CMOs, etc.)",
            True,
            [
                "Administrative Staff",
                "Board of Directors",
                "C-Suite (CEOs, CFOs, CIO, COOs, CMOs, etc.)",
            ],
        ),
        (
            "subtopic",
            ", Population Health, Community, Health, and Housing Partnerships, Policy and Advocacy.",
            False,
            [
                "Population Health",
                "Community, Health, and Housing Partnerships",
                "Policy and Advocacy",
            ],
        ),
        ("type", "Publication.", False, ["Publication"]),
        ("keyword", "Access to Care, , Legal Issues", False, ["Access to Care", "Legal Issues"]),
        # an unknown stretch that starts like a known label is not cut into a guess
        ("topic", "Health Equity Research, Finance", False, ["Health Equity Research", "Finance"]),
        # an unknown label keeps its own punctuation
        (
            "keyword",
            "Rural Health (Frontier), Housing",
            False,
            ["Rural Health (Frontier)", "Housing"],
        ),
    ],
)
def test_lists_split_by_known_labels_longest_first(
    scheme: str, text: str, run_together: bool, labels: list[str]
) -> None:
    splitter = LabelSplitter(label for t in LEXICON.in_scheme(scheme) for label in t.labels)
    assert [item.label for item in splitter.split(text, run_together)] == labels


def test_url_key_ignores_www_scheme_case_and_trailing_slash() -> None:
    """One normalization for import, build and the duplicate-url shape."""
    from resource_kg import graph

    assert url_key is graph.url_key
    assert url_key("https://www.healthcenterinfo.org/details/?id=4184/") == url_key(
        "http://healthcenterinfo.org/details/?id=4184"
    )
    assert url_key("https://example.org/Toolkits/Heat") == url_key(
        "https://example.org/toolkits/heat/"
    )
    assert url_key("https://healthcenterinfo.org/details/?id=4184") != url_key(
        "https://healthcenterinfo.org/details/?id=4185"
    )


# ---------------------------------------------------------------- ids and re-imports


def test_numeric_file_name_gives_the_id(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    page = tmp_path / "pages" / "5120.txt"
    page.parent.mkdir()
    shutil.copy(FIXTURES / "missing_field.txt", page)
    code, _ = import_pages(capsys, tmp_path / "out", page)
    assert code == 0
    assert only_record(tmp_path / "out")["id"] == "5120"


def test_reimport_matches_by_url_with_www_and_slash_differences(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "resources"
    shutil.copytree(BUNDLED, out)
    code, output = import_pages(
        capsys,
        out,
        FIXTURES / "seed_4184.txt",
        "--url",
        "http://healthcenterinfo.org/details?id=4184",
        "--no-summary",
    )
    assert code == 0
    assert "already present as record 4184" in output
    assert "unchanged" in output
    assert sorted(p.name for p in out.iterdir()) == ["3182.yaml", "3736.yaml", "4184.yaml"]


def test_reimport_without_url_matches_by_normalized_title(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "resources"
    shutil.copytree(BUNDLED, out)
    code, output = import_pages(capsys, out, FIXTURES / "seed_4184.txt")
    assert code == 0
    assert (
        "already present as record 4184 (" in output
        and "matched by title); differs in summary; use --update to apply" in output
    )
    assert "0 imported, 0 updated, 0 unchanged, 1 skipped" in output
    assert sorted(p.name for p in out.iterdir()) == ["3182.yaml", "3736.yaml", "4184.yaml"]


def test_update_rewrites_record_shows_changed_fields_and_keeps_curated_ones(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "resources"
    out.mkdir()
    (out / "4184.yaml").write_text(
        "# curator's note: keep me\n"
        "id: 4184\n"
        f"url: {URL_4184}\n"
        "title: Old title\n"
        "year: 2019\n"
        "keywords:\n  - Housing\n"
        "populations:\n  - 330(h)\n"
        "status: active\n",
        encoding="utf-8",
    )
    code, output = import_pages(
        capsys, out, FIXTURES / "seed_4184.txt", "--url", URL_4184, "--update", "--no-summary"
    )
    assert code == 0, output
    assert "updated record 4184" in output
    assert "    year: 2019 → 2022" in output
    assert "    title: Old title → Advancing MLP in Health Centers" in output
    assert "    keywords: [Housing] → [Access to Care; Legal Issues;" in output
    assert "0 imported, 1 updated, 0 unchanged, 0 skipped" in output
    text = (out / "4184.yaml").read_text(encoding="utf-8")
    assert text.startswith("# curator's note: keep me\nid: 4184\n")
    values = read_file(out / "4184.yaml")[0].values
    assert values["populations"] == ["330(h)"]
    assert values["year"] == 2022
    assert "summary" not in values


def test_update_from_a_cut_short_list_keeps_the_existing_labels(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "resources"
    out.mkdir()
    (out / "heat-safety-posters.yaml").write_text(
        "id: heat-safety-posters\ntitle: Heat Safety Posters\n"
        "keywords:\n  - Access to Care\n  - Agricultural Workers\n",
        encoding="utf-8",
    )
    code, output = import_pages(capsys, out, FIXTURES / "list_cut_short.txt", "--update")
    assert code == 0, output
    assert read_file(out / "heat-safety-posters.yaml")[0].values["keywords"] == [
        "Access to Care",
        "Heat-Related Illness",
        "Occupational He",
        "Agricultural Workers",
    ]


def test_record_in_a_shared_file_is_not_rewritten(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "resources"
    out.mkdir()
    shared = out / "batch.jsonl"
    shared.write_text(
        json.dumps({"id": "4184", "url": URL_4184, "title": "Old"})
        + "\n"
        + json.dumps({"id": "5", "title": "Other"})
        + "\n",
        encoding="utf-8",
    )
    before = shared.read_bytes()
    code, output = import_pages(
        capsys, out, FIXTURES / "seed_4184.txt", "--url", URL_4184, "--update"
    )
    assert code == 0
    assert f"record 4184 lives in {shared} with other records; edit it there" in output
    assert shared.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["batch.jsonl"]


# ---------------------------------------------------------------- bad inputs


def test_not_a_page_is_reported_and_skipped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, output = import_pages(
        capsys, tmp_path, FIXTURES / "not_a_page.txt", FIXTURES / "missing_field.txt"
    )
    assert code == 1
    assert (
        f"error: {FIXTURES / 'not_a_page.txt'}: not a resource page: none of its lines has a "
        "resource field label (Year Developed:, Resource Type:"
    ) in output
    assert "1 imported, 0 updated, 0 unchanged, 1 skipped" in output
    assert [p.name for p in tmp_path.glob("*.yaml")] == ["board-orientation-slides.yaml"]


def test_unknown_labels_are_kept_and_reported_with_closest_known(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, output = import_pages(capsys, tmp_path, FIXTURES / "unknown_label.txt")
    assert code == 0
    assert (
        "unknown_label.txt:10: field 'primary_audience': unknown label 'Dental Assistants' "
        "kept as written (closest known: Enabling Staff)"
    ) in output
    assert (
        "unknown_label.txt:24: field 'keywords': unknown label 'Partnership' kept as written "
        "(closest known: Partnerships"
    ) in output
    assert "3 unknown label(s) kept as written" in output
    record = only_record(tmp_path)
    assert record["primary_audience"] == ["Clinicians", "Dental Assistants", "PCAs"]
    assert record["keywords"] == ["Rural Health", "Partnership"]


def test_same_page_twice_in_one_run_is_a_duplicate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(FIXTURES / "subtitle_line.txt", pages / "a.txt")
    shutil.copy(FIXTURES / "subtitle_line.txt", pages / "b.txt")
    code, output = import_pages(capsys, tmp_path / "out", pages)
    assert code == 0
    assert (
        f"skipped: {pages / 'b.txt'}: duplicate: same id as {pages / 'a.txt'} "
        "(record clinic-heat-plans) earlier in this run; not imported"
    ) in output
    assert "1 imported, 0 updated, 0 unchanged, 1 skipped" in output


def test_page_whose_url_id_differs_from_a_record_with_its_title_is_not_merged(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "resources"
    shutil.copytree(BUNDLED, out)
    code, output = import_pages(
        capsys,
        out,
        FIXTURES / "seed_4184.txt",
        "--url",
        "https://healthcenterinfo.org/details/?id=99",
    )
    assert code == 0
    assert "duplicate: its title matches record 4184" in output
    assert "but its id is 99; not imported" in output
    assert not (out / "99.yaml").exists()


def test_unreadable_file_is_reported_and_skipped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, output = import_pages(
        capsys, tmp_path, FIXTURES / "not_utf8.txt", tmp_path / "missing.txt"
    )
    assert code == 1
    assert (
        f"error: {FIXTURES / 'not_utf8.txt'}:4: cannot read file: it is not UTF-8 text "
        "(byte 0xe9 at offset"
    ) in output
    assert (
        f"error: {tmp_path / 'missing.txt'}: cannot read file: No such file or directory" in output
    )
    assert "0 imported, 0 updated, 0 unchanged, 2 skipped" in output


def test_url_option_needs_exactly_one_page(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, output = import_pages(capsys, tmp_path, FIXTURES, "--url", URL_4184)
    assert code == 2
    assert "--url is the address of one page" in output


# ---------------------------------------------------------------- property: render → import

SCHEME_OF = {
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
PAGE_LABELS = {
    "year": "Year Developed",
    "types": "Resource Type",
    "primary_audience": "Primary Audience",
    "secondary_audience": "Secondary Audience",
    "languages": "Language(s)",
    "developed_by": "Developed by",
    "summary": "Resource Summary",
    "topics": "Resource Topic",
    "subtopics": "Resource Subtopic",
    "keywords": "Keywords",
}
SENTENCE = sentences(12)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Value]:
    rid = str(draw(st.integers(1, 99999)))
    record: dict[str, Value] = {
        "id": rid,
        "url": f"https://www.healthcenterinfo.org/details/?id={rid}",
        "title": draw(SENTENCE),
        "year": draw(st.integers(1990, 2030)),
    }
    subtitle = draw(st.none() | SENTENCE)
    if subtitle:
        record["subtitle"] = subtitle
    summary = draw(st.none() | SENTENCE)
    if summary:
        record["summary"] = summary
    for name, scheme in SCHEME_OF.items():
        labels = draw(labels_of(scheme, 1 if name == "developed_by" else 4))
        if labels:
            record[name] = labels
    return record


@st.composite
def layouts(draw: st.DrawFn) -> dict[str, bool]:
    names = (
        "audience_per_line",
        "leading_empty",
        "empty_items",
        "trailing_period",
        "banners",
        "see_other",
        "collab_own_line",
        "footer",
        "empty_field_lines",
    )
    return {name: draw(st.booleans()) for name in names}


def render(record: dict[str, Value], layout: dict[str, bool]) -> str:
    """Page text in the seed's layout; each layout flag is one variation seen on the site."""

    def joined(labels: list[str]) -> str:
        sep = ", , " if layout["empty_items"] else ", "
        text = sep.join(labels)
        if layout["leading_empty"]:
            text = ", " + text
        return text + ("." if layout["trailing_period"] else "")

    lines: list[str] = []
    if layout["banners"]:
        lines += ["Cybersecurity Learning Bundle", "Menu +", ""]
    lines += ["Resource Details", "", "", str(record["title"])]
    if "subtitle" in record:
        lines.append(str(record["subtitle"]))
    lines += ["", f"Year Developed: {record['year']}", ""]
    for name in ("types", "primary_audience", "secondary_audience", "languages", "developed_by"):
        value = record.get(name)
        if not isinstance(value, list):
            if layout["empty_field_lines"]:
                lines += [f"{PAGE_LABELS[name]}: ", ""]
            continue
        if name.endswith("audience"):
            if layout["audience_per_line"]:
                lines += [f"{PAGE_LABELS[name]}:", *value, ""]
            else:
                lines += [f"{PAGE_LABELS[name]}: " + " ".join(value), ""]
            continue
        if name == "developed_by":
            line = f"Developed by: {value[0]}"
            if layout["see_other"]:
                line += " (See other resources developed by this organization)."
            collab = record.get("in_collaboration_with")
            if isinstance(collab, list) and layout["collab_own_line"]:
                lines += [line, f"In collaboration with: {', '.join(collab)}", ""]
            elif isinstance(collab, list):
                lines += [f"{line} In collaboration with {', '.join(collab)}", ""]
            else:
                lines += [line, ""]
            continue
        lines += [f"{PAGE_LABELS[name]}: {joined(value)}", ""]
    if "summary" in record:
        lines += [f"Resource Summary: {record['summary']}", ""]
    lines += ["Resource Details: Invented longer description that is not kept.", ""]
    for name in ("topics", "subtopics", "keywords"):
        value = record.get(name)
        if isinstance(value, list):
            lines += [f"{PAGE_LABELS[name]}: {joined(value)}", ""]
    if layout["footer"]:
        lines.append("This project is supported by an invented award. Keywords: none")
    return "\n".join(lines)


READER = PageReader(LEXICON)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=records(), layout=layouts())
def test_rendered_page_imports_back_to_the_same_record(
    record: dict[str, Value], layout: dict[str, bool]
) -> None:
    if "in_collaboration_with" in record and "developed_by" not in record:
        del record["in_collaboration_with"]  # the page shows collaborators after the developer
    text = render(record, layout)
    page = parse_page(text_lines(text), "page.txt")
    result = READER.values(page, Path("page.txt"), str(record["url"]))
    assert result.unknown == []
    assert canonical(result.values) == canonical(record)
