"""Escaping of feed text, link filtering and significance marks."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from dashboard._ui import eastern, md_escape, reported, significance_mark
from tracker.news.normalize import safe_http_url as safe_url


@pytest.mark.parametrize(
    "title",
    [
        "![pixel](http://tracker.example/p.gif) Nvidia falls",
        "<script>alert(1)</script> DeepSeek",
        "[click](javascript:alert(1))",
        "**bold** _it_ `code` # heading",
    ],
)
def test_markdown_escaping_leaves_no_active_syntax(title):
    escaped = md_escape(title)
    unescaped = re.sub(r"\\.", "", escaped)
    assert not re.search(r"[\[\]()<>`*_#!]", unescaped)
    assert re.sub(r"\\(.)", r"\1", escaped) == " ".join(title.split())


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://www.nytimes.com/2025/01/27/business/x.html", True),
        ("http://example.org/a", True),
        ("javascript:alert(1)", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("//example.org/no-scheme", False),
        ("", False),
        (None, False),
    ],
)
def test_only_absolute_http_links_are_kept(url, kept):
    assert (safe_url(url) is not None) is kept


@pytest.mark.parametrize(
    ("p_value", "mark"),
    [(0.001, "***"), (0.02, "**"), (0.07, "*"), (0.2, ""), (None, ""), (float("nan"), "")],
)
def test_significance_marks(p_value, mark):
    assert significance_mark(p_value) == mark


def test_a_date_only_curated_row_is_shown_as_its_date_not_the_evening_before() -> None:
    midnight = datetime(2025, 1, 27, tzinfo=UTC)
    assert reported(midnight, "curated") == "2025-01-27 (date only)"
    # a detected event's first article at 00:00 UTC really was 19:00 Eastern the day before
    assert reported(midnight, "detected") == eastern(midnight)
    assert "2025-01-26" in eastern(midnight)
    timed = datetime(2025, 1, 27, 16, 57, tzinfo=UTC)
    assert reported(timed, "curated") == eastern(timed)
    assert reported(None, "curated") == "—"
