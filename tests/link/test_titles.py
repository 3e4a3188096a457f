"""Event titles are headlines, never URLs; slugs are short."""

from __future__ import annotations

from datetime import UTC, datetime

from tracker.link.titles import event_slug, looks_like_url, readable_title


def test_a_url_title_becomes_the_summary_or_the_url_words() -> None:
    # as GitHub Trending publishes entries in the recorded feeds
    url = "https://github.com/deepseek-ai/DeepSeek-VL"
    summary = "DeepSeek-VL: Towards Real-World Vision-Language Understanding"
    assert looks_like_url(url)
    assert readable_title(url, summary, url) == f"deepseek-ai/DeepSeek-VL: {summary}"
    assert readable_title(url, "", url) == "deepseek-ai/DeepSeek-VL on GitHub"
    assert readable_title("https://example.com/news/big-chip-rule.html") == "Big chip rule"
    assert readable_title("", "") == "(untitled)"


def test_a_headline_is_kept_and_long_ones_are_clipped_on_a_word() -> None:
    title = "Nvidia Reels After DeepSeek’s A.I. Breakthrough"
    assert not looks_like_url(title)
    assert readable_title(title, "whatever", "https://www.nytimes.com/x") == title
    long = readable_title("word " * 100)
    assert len(long) <= 161
    assert long.endswith("word…")


def test_slug_is_short_and_unique_by_key() -> None:
    at = datetime(2025, 1, 6, tzinfo=UTC)
    title = "Same CPU, slower GPU and NPU: Meet the rest of Intel’s Core Ultra 200 laptop chips"
    slug = event_slug(at, title, 136)
    assert slug == "2025-01-06-cpu-slower-gpu-npu-meet-rest-136"
    assert event_slug(at, title, 137) != slug
    assert event_slug(at, "https://github.com/x/y", 5).startswith("2025-01-06-")
