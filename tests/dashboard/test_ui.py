"""Escaping of feed text, link filtering and significance marks."""

from __future__ import annotations

import re

import pytest

from dashboard._ui import md_escape, significance_mark
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
