"""Cells a spreadsheet would run as a formula, neutralized on the way out and restored on the way in.

A title such as `=HYPERLINK(...)` or `+1+cmd|...` is a formula to Excel, LibreOffice and
Google Sheets. Every CSV rkg writes goes through `neutralize`, which prefixes such a cell with
`'` (OWASP's rule for CSV injection: cells starting with `=`, `+`, `-`, `@`, tab or CR).
`rkg import csv` (every CSV read as records) undoes it with `restore`, so an export read back
gives the same values. A cell that already starts with quotes followed by one of those
characters gets one quote more, so the mapping is exact both ways: `'=x` (written by a
curator) is exported as `''=x` and read back as `'=x`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: First characters that make a spreadsheet treat a cell as a formula.
TRIGGERS = "=+-@\t\r"

_NEEDS_QUOTE = re.compile(f"'*[{re.escape(TRIGGERS)}]")
_QUOTED = re.compile(f"'+[{re.escape(TRIGGERS)}]")


def neutralize(cell: str) -> str:
    """The cell as a spreadsheet shows it without running it."""
    return "'" + cell if _NEEDS_QUOTE.match(cell) else cell


def restore(cell: str) -> str:
    """The value `neutralize` was given (a cell it did not change comes back unchanged)."""
    return cell[1:] if _QUOTED.match(cell) else cell


def neutralize_row(cells: Iterable[object]) -> list[str]:
    """A row of values as neutralized text cells (None becomes an empty cell)."""
    return [neutralize("" if c is None else str(c)) for c in cells]
