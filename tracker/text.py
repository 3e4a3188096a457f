"""Untrusted text (feed titles, summaries) made safe for plain-text outputs.

Feed text is sanitised for HTML at ingest, but a terminal, a CSV file and an e-mail
header are other readers with other hazards:

- C0/C1 control characters and DEL move a terminal's cursor, clear its screen or start an
  escape sequence; in a header they would split it.
- Bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069, and the marks
  U+200E, U+200F, U+061C) make a title display in another order than it reads, so a
  line can look as if it said something else ("Trojan Source").
- A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@`` as a formula
  (OWASP "CSV injection"; the rule is ``tracker.export.csv_safe``, shared with the dashboard).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from tracker.export import csv_safe

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def one_line(text: str) -> str:
    """``text`` on one line without control or bidi-override characters (each becomes a
    space; runs of white space collapse)."""
    return " ".join(_UNSAFE.sub(" ", text).split())


def csv_text_cell(text: str) -> str:
    """A text cell a spreadsheet shows as text: one line, and a leading ``'`` where it
    would otherwise start a formula. Only for text; numbers are written as numbers."""
    return str(csv_safe(one_line(text)))


def date_only(moment: datetime | None, origin: str) -> date | None:
    """The date of a curated timeline row that gives no time of day (stored at 00:00 UTC),
    which must be shown as that date: in US time it would read as the evening before."""
    if moment is None or origin != "curated":
        return None
    utc = moment.astimezone(UTC)
    if (utc.hour, utc.minute, utc.second, utc.microsecond) != (0, 0, 0, 0):
        return None
    return utc.date()
