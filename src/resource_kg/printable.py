"""Text from a catalog made safe to show on a terminal: control characters made visible.

A title or label may hold an ESC sequence (`\\x1b[2J` clears the screen, `\\x1b]8;;…` makes a
hidden link) or a bidi override that reorders what follows. Reports, tables and messages pass
what they quote through `printable`, which writes each such character as its escape (`\\x1b`,
`\\u202e`), so the terminal shows what the file holds and runs nothing. Rich markup and emoji
codes are the consoles' business: they are created with markup off for quoted text and
`emoji=False` (see `resource_kg.commands.common`).
"""

from __future__ import annotations

import unicodedata

#: Bidi embeddings, overrides and isolates: invisible, and they reorder the rest of the line.
_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _table(keep_newlines: bool) -> dict[int, str]:
    table = {
        code: _escape(code)
        for code in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *_BIDI)
        if unicodedata.category(chr(code)) in ("Cc", "Cf")
    }
    if keep_newlines:
        del table[ord("\n")]
    return table


_ONE_LINE = _table(keep_newlines=False)
_LINES = _table(keep_newlines=True)


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control character (and bidi control) written as its escape.

    One-line places (a cell, a message, a title) escape newlines too; `keep_newlines` keeps
    them for text that is shown as several lines. Printable ASCII (most of what a report
    quotes: 400k fields in a 100k-record report) is returned as it is, without a copy."""
    if text.isascii() and text.isprintable():
        return text  # no control character: every one the tables escape is unprintable
    return text.translate(_LINES if keep_newlines else _ONE_LINE)
