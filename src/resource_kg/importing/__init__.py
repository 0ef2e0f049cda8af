"""Import clearinghouse resource pages (saved as text or HTML) and CSV rows into record files.

The pages list labels separated by commas, yet labels contain commas ("Community, Health, and
Housing Partnerships") and audiences run together with spaces ("Clinicians Enabling Staff").
So lists are split by matching the catalog's known labels, longest first; whatever matches no
known label is kept as written and reported with the closest known labels. An existing record
is never overwritten silently: a re-import is matched by id, url or title.

    page_text page files (.txt/.html) → numbered text lines
    pages     lines → labelled fields, found by their labels wherever they stand
    labels    the vocabularies as an importer sees them; run-together label lists split
    reader    a parsed page → a record (ids from URLs, labels resolved, unknown ones kept)
    organizations  unknown developers → data/organizations.yaml (id from the name, reported)
    importer  pages → data/resources/*.yaml (new records, changed fields, a summary)

CSV and JSON Lines exports are read by `records` and written back by `recordfile`.
"""

from __future__ import annotations

from resource_kg.graph import url_key
from resource_kg.importing.importer import (
    NEW_STATUS,
    Entry,
    Importer,
    Outcome,
    Summary,
    import_page,
    unknown_labels,
)
from resource_kg.importing.labels import ABBREVIATION, TOKEN, Item, LabelSplitter, load_lexicon
from resource_kg.importing.organizations import NewOrganization, Organizations, split_acronym
from resource_kg.importing.page_text import PAGE_SUFFIXES, Line, html_lines, is_html, text_lines
from resource_kg.importing.pages import (
    BANNER,
    COLLABORATION,
    ELLIPSIS,
    FIELD_LABELS,
    FOOTER,
    HEADING,
    LABEL_SPELLINGS,
    NAVIGATION,
    PROSE_FIELDS,
    RUN_TOGETHER,
    SEE_OTHER,
    NotAPage,
    Page,
    PageField,
    parse_page,
)
from resource_kg.importing.reader import (
    PageReader,
    PageRecord,
    UnknownLabel,
    id_from_url,
    numeric_stem,
    page_files,
    slug_id,
)

__all__ = [
    "ABBREVIATION",
    "BANNER",
    "COLLABORATION",
    "ELLIPSIS",
    "Entry",
    "FIELD_LABELS",
    "FOOTER",
    "HEADING",
    "Importer",
    "Item",
    "LABEL_SPELLINGS",
    "LabelSplitter",
    "Line",
    "NAVIGATION",
    "NEW_STATUS",
    "NewOrganization",
    "Organizations",
    "NotAPage",
    "Outcome",
    "PAGE_SUFFIXES",
    "PROSE_FIELDS",
    "Page",
    "PageField",
    "PageReader",
    "PageRecord",
    "RUN_TOGETHER",
    "SEE_OTHER",
    "Summary",
    "TOKEN",
    "UnknownLabel",
    "html_lines",
    "id_from_url",
    "import_page",
    "is_html",
    "load_lexicon",
    "page_files",
    "parse_page",
    "numeric_stem",
    "slug_id",
    "split_acronym",
    "text_lines",
    "unknown_labels",
    "url_key",
]
