"""Untrusted text in plain-text outputs: terminals, CSV files, e-mail headers."""

from __future__ import annotations

import csv
import io

import pytest

from tracker.cli.common import render_csv, render_table
from tracker.digest.addresses import safe_header_text
from tracker.digest.render import plain
from tracker.text import csv_text_cell, one_line

# a title that displays reversed after U+202E, with a C1 CSI and an ANSI clear-screen
HOSTILE = "Nvidia \u202eseilppus\u202c falls\x9b2J \x1b[2J\u2066x\u2069\u200f"


def test_one_line_drops_control_and_bidi_characters() -> None:
    cleaned = one_line(HOSTILE)
    assert cleaned == "Nvidia seilppus falls 2J [2J x"
    for character in ("\u202e", "\u202c", "\x9b", "\x1b", "\u2066", "\u2069", "\u200f"):
        assert character not in cleaned
    assert one_line("two\nlines\r\nhere") == "two lines here"
    assert one_line("Ünïcödé — “quoted” 中文") == "Ünïcödé — “quoted” 中文"


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Nvidia falls", "Nvidia falls"),
    ],
)
def test_csv_text_cells_are_never_formulas(text: str, cell: str) -> None:
    assert csv_text_cell(text) == cell


def test_cli_csv_quotes_formulas_but_keeps_numbers() -> None:
    rows = [{"title": "=cmd|' /C calc'!A0", "car": -0.1697, "n": -3}]
    [parsed] = list(csv.DictReader(io.StringIO(render_csv(rows))))
    assert parsed["title"] == "'=cmd|' /C calc'!A0"
    assert parsed["car"] == "-0.1697"  # a number stays a number
    assert parsed["n"] == "-3"


def test_cli_table_and_email_text_are_clean() -> None:
    table = render_table([{"title": HOSTILE}])
    assert table.splitlines()[-1] == one_line(HOSTILE)
    for text in (plain(HOSTILE), safe_header_text(HOSTILE)):
        assert text == one_line(HOSTILE)


def test_a_curated_row_without_a_time_keeps_its_date() -> None:
    from datetime import UTC, date, datetime

    from tracker.text import date_only

    midnight = datetime(2025, 1, 27, tzinfo=UTC)
    assert date_only(midnight, "curated") == date(2025, 1, 27)
    assert date_only(midnight, "detected") is None  # a real 00:00 UTC first article
    assert date_only(datetime(2025, 1, 27, 16, 57, tzinfo=UTC), "curated") is None
    assert date_only(None, "curated") is None
