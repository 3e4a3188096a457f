"""tracker/export.py: CSV cells a spreadsheet would run as formulas become text."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tracker.export import FORMULA_PREFIXES, csv_bytes, csv_safe


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=x", "\r=x"])
def test_formula_text_is_prefixed(text: str) -> None:
    assert csv_safe(text) == "'" + text


@pytest.mark.parametrize("value", ["NVDA falls", "", "a=b", 1.5, -0.17, None, 3])
def test_other_values_are_unchanged(value: object) -> None:
    assert csv_safe(value) == value


def test_a_frame_keeps_numbers_and_defuses_text() -> None:
    frame = pd.DataFrame({"title": ['=HYPERLINK("x")', "plain"], "car": [-0.17, 0.02]})
    back = pd.read_csv(io.BytesIO(csv_bytes(frame)))
    assert list(back["car"]) == [-0.17, 0.02]
    assert back["title"][0] == '\'=HYPERLINK("x")'
    assert not any(str(v).startswith(FORMULA_PREFIXES) for v in back["title"])
