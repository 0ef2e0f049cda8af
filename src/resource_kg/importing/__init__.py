"""Import clearinghouse resource pages (saved as text or HTML) and CSV rows into record files.

The pages list labels separated by commas, yet labels contain commas ("Community, Health, and
Housing Partnerships") and audiences run together with spaces ("Clinicians Enabling Staff").
So lists are split by matching the catalog's known labels, longest first; whatever matches no
known label is kept as written and reported with the closest known labels. An existing record
is never overwritten silently: a re-import is matched by id, url or title.

    pages     clearinghouse pages (.txt/.html) → numbered lines → labelled fields
    labels    the vocabularies as an importer sees them; run-together label lists split
    reader    a parsed page → a record (ids from URLs, labels resolved, unknown ones kept)
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
from resource_kg.importing.pages import (
    COLLAB_LINE,
    COLLABORATION,
    ELLIPSIS,
    FIELD_LABELS,
    FOOTER,
    HEADING,
    PAGE_SUFFIXES,
    PROSE_FIELDS,
    RUN_TOGETHER,
    SEE_OTHER,
    Line,
    NotAPage,
    Page,
    PageField,
    html_lines,
    is_html,
    parse_page,
    text_lines,
)
from resource_kg.importing.reader import (
    PageReader,
    PageRecord,
    UnknownLabel,
    id_from_url,
    page_files,
    slug_id,
)

__all__ = [
    "ABBREVIATION",
    "COLLABORATION",
    "COLLAB_LINE",
    "ELLIPSIS",
    "Entry",
    "FIELD_LABELS",
    "FOOTER",
    "HEADING",
    "Importer",
    "Item",
    "LabelSplitter",
    "Line",
    "NEW_STATUS",
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
    "slug_id",
    "text_lines",
    "unknown_labels",
    "url_key",
]
