"""Normalising entries: nothing executable survives, times are UTC, keys are stable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tracker.news.normalize import (
    canonical_url,
    entry_time,
    normalize_entry,
    plain_text,
    sanitize_html,
)

NOW = datetime(2025, 1, 27, 12, 0, tzinfo=UTC)

PAYLOADS = [
    "<script>alert(1)</script>safe",
    '<img src=x onerror="alert(1)">safe',
    '<a href="javascript:alert(1)">safe</a>',
    '<p onclick="alert(1)">safe</p>',
    "<iframe src='https://evil.test'></iframe>safe",
    "<style>body{display:none}</style>safe",
    '<a href="data:text/html;base64,PHNjcmlwdD4=">safe</a>',
    "<svg onload=alert(1)>safe</svg>",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_sanitized_html_has_nothing_executable(payload: str) -> None:
    cleaned = sanitize_html(payload).lower()
    for needle in ("<script", "onerror", "onclick", "onload", "javascript:", "<iframe", "<style"):
        assert needle not in cleaned
    assert "data:" not in cleaned
    assert "safe" in cleaned


@pytest.mark.parametrize("payload", PAYLOADS)
def test_plain_text_keeps_words_only(payload: str) -> None:
    text = plain_text(payload)
    assert "<" not in text
    assert "alert" not in text
    assert text == "safe"


def test_links_keep_http_and_get_noopener() -> None:
    cleaned = sanitize_html('<a href="https://example.test/a" target="_blank">x</a>')
    assert 'href="https://example.test/a"' in cleaned
    assert 'rel="noopener noreferrer"' in cleaned
    assert "target" not in cleaned


def test_plain_text_decodes_entities_and_collapses_space() -> None:
    assert plain_text("DeepSeek&#8217;s  <b>R1</b>\n &amp; o1") == "DeepSeek’s R1 & o1"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://Example.TEST:443/a/b?utm_source=rss&utm_medium=feed&id=7#section",
            "https://example.test/a/b?id=7",
        ),
        ("http://example.test?fbclid=abc", "http://example.test/"),
        ("http://example.test:8080/x?gclid=1&q=a+b", "http://example.test:8080/x?q=a+b"),
        ("javascript:alert(1)", None),
        ("not a url", None),
        ("", None),
        ("https://example.test/" + "a" * 3000, None),
    ],
)
def test_canonical_url(url: str, expected: str | None) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_entry_time_keeps_real_times_in_utc(zone: str) -> None:
    """A fixed non-UTC zone (the machine's own zone is UTC here, which would hide a missing
    conversion): the instant is kept and expressed in UTC."""
    instant = datetime(2025, 1, 27, 2, 49, 1, tzinfo=UTC)
    claimed = instant.astimezone(ZoneInfo(zone))
    assert claimed.utcoffset() != timedelta(0)
    timing = entry_time(claimed, NOW)
    assert timing.published_at == instant
    assert timing.published_at.utcoffset() == timedelta(0)
    assert (timing.published_at.hour, timing.published_at.minute) == (2, 49)
    assert not timing.estimated
    assert not timing.future_dated


def test_missing_time_is_first_seen_and_estimated() -> None:
    timing = entry_time(None, NOW)
    assert timing.published_at == NOW
    assert timing.estimated
    assert not timing.future_dated


def test_future_time_is_flagged_and_not_trusted() -> None:
    timing = entry_time(NOW + timedelta(days=3), NOW)
    assert timing.future_dated
    assert timing.published_at == NOW
    near = entry_time(NOW + timedelta(minutes=5), NOW)  # a clock a little ahead is normal
    assert not near.future_dated


def _article(**kwargs):
    values = {
        "guid": None,
        "link": None,
        "title": "A headline",
        "summary": "<p>text</p>",
        "published": NOW,
        "first_seen": NOW,
    }
    values.update(kwargs)
    return normalize_entry(**values)


def test_dedupe_key_prefers_guid_then_link_then_content() -> None:
    by_guid = _article(guid="id-1", link="https://example.test/a")
    assert by_guid.dedupe_key == _article(guid="id-1", link="https://other.test/b").dedupe_key
    assert by_guid.dedupe_key.startswith("g:")
    by_link = _article(link="https://example.test/a?utm_source=x")
    assert by_link.dedupe_key == _article(link="https://example.test/a").dedupe_key
    assert by_link.dedupe_key.startswith("u:")
    by_hash = _article()
    assert by_hash.dedupe_key.startswith("h:")
    assert by_hash.dedupe_key != _article(title="Another headline").dedupe_key
    assert len(_article(guid="x" * 5000).dedupe_key) <= 128


def test_title_is_plain_text_and_summary_sanitised() -> None:
    article = _article(
        title="<b>Big</b> &amp; <script>alert(1)</script>news",
        summary='<p>Hi<img src=x onerror="alert(1)"></p>',
    )
    assert article.title == "Big & news"
    assert article.summary_html == "<p>Hi</p>"
    assert article.summary_text == "Hi"
