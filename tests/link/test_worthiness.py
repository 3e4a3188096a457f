"""Event-worthiness: noise classes, archives and relevance, on real recorded headlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tracker.errors import UserInputError
from tracker.link.entities import Matcher, load_dictionary
from tracker.link.worthiness import judge, load_rules, noise_class, parse_rules, shipped_rules

SPECS = load_dictionary()
MATCHER = Matcher(SPECS)
KINDS = {s.slug: s.kind for s in SPECS}
NOW = datetime(2025, 1, 27, 12, tzinfo=UTC)

# Real headlines from the recorded corpus (feeds/corpus/*.jsonl), by the class they belong to.
NOISE = [
    ("Prime members can save $50 on the Amazon Kindle Colorsoft in its first sale", "", "deal"),
    ("Sephora Promo Codes: 4X Points on Skincare", "", "deal"),
    ("Intel Arc B570 review: At $219, the cheapest good graphics card", "", "review"),
    ("6 Best Sunrise Alarm Clocks (2025), Tested and Reviewed", "", "review"),
    ("How to Turn Off Apple Intelligence on an iPhone, iPad, or Mac", "", "how_to"),
    ("C. Richard Kramlich, Early Investor in Silicon Valley, Dies at 89", "", "obituary"),
    ("Famed director David Lynch dies at 78", "", "obituary"),
    (
        "DeepSeek Deep Dive + Hands-On With Operator + Hot Mess Express!",
        "https://www.nytimes.com/2025/01/31/podcasts/hardfork-deepseek-china.html",
        "podcast",
    ),
    (
        "DeepSeek, Stargate, and the new AI arms race",
        "https://www.theverge.com/decoder-podcast-with-nilay-patel/603045/deepseek-stargate",
        "podcast",
    ),
    (
        "https://github.com/deepseek-ai/DeepSeek-VL",
        "https://github.com/deepseek-ai/DeepSeek-VL",
        "listing",
    ),
    ("Show HN: Race Timing with Integrated Replay", "", "forum_post"),
    ("Ask HN: Is anyone making money selling traditional downloadable software?", "", "forum_post"),
    ("How Europe Swung to the Right", "https://www.nytimes.com/2025/01/27/opinion/a", "opinion"),
    ("DeepSeek: all the news about the startup that’s shaking up AI stocks", "", "hub_page"),
]
NEWS = [
    "OpenAI Close to Deal that Values Company at $300 Billion",
    "Port Labor Talks Hinge on Deal on Automation",
    "Google agrees to crack down on fake reviews for UK businesses",
    "DeepSeek panic triggers tech stock sell-off as Chinese AI tops App Store",
    "Nvidia Reels After DeepSeek’s A.I. Breakthrough",
]


@pytest.mark.parametrize(("title", "url", "expected"), NOISE)
def test_noise_classes_are_recognised(title: str, url: str, expected: str) -> None:
    assert noise_class(shipped_rules(), title, url) == expected


@pytest.mark.parametrize("title", NEWS)
def test_news_is_not_noise(title: str) -> None:
    assert noise_class(shipped_rules(), title, "https://example.com/news") is None


def verdict(title: str, *, published: datetime = NOW, first_fetch: datetime | None = None):
    return judge(
        shipped_rules(),
        title=title,
        body="",
        url="https://example.com/a",
        matches=MATCHER.match(title),
        kinds=KINDS,
        published_at=published,
        feed_first_fetch=first_fetch,
    )


def test_an_op_ed_is_known_by_its_summary() -> None:
    # Ars Technica marks opinion in the summary, not the title (recorded 2025-01-30)
    title = "I agree with OpenAI: You shouldn’t use other peoples’ work without permission"
    summary = "Op-ed: OpenAI says DeepSeek used its data improperly. That must be frustrating!"
    assert noise_class(shipped_rules(), title, "https://arstechnica.com/ai/x") is None
    assert noise_class(shipped_rules(), title, "https://arstechnica.com/ai/x", summary) == (
        "opinion"
    )


def test_tracked_news_is_worthy_and_noise_or_unrelated_is_not() -> None:
    assert verdict("NASA, US Navy ban DeepSeek amid growing security concerns").worthy
    review = verdict("Nvidia GeForce RTX 5090 review: a new king of 4K is here")
    assert (review.worthy, review.noise_class) == (False, "review")
    unrelated = verdict("An icy vent line may have caused Blue Origin to scrub debut launch")
    assert not unrelated.worthy
    assert unrelated.reason.startswith("not relevant")
    # a politician alone is not market news about the tracked universe
    trump = "Trump to issue 10 executive orders on immigration upon taking office"
    assert not verdict(trump).worthy


def test_archive_entries_never_make_events() -> None:
    # the recorded OpenAI research feed lists this 2019 post beside January 2025 ones
    title = "OpenAI Five defeats Dota 2 world champions"
    old = datetime(2019, 4, 15, tzinfo=UTC)
    archived = verdict(title, published=old, first_fetch=NOW)
    assert not archived.worthy
    assert archived.reason.startswith("archive: published 2019-04-15")
    assert verdict(title, published=NOW - timedelta(days=10), first_fetch=NOW).worthy
    assert verdict(title, published=old, first_fetch=None).worthy  # no fetch known: judged as news


def test_rules_file_is_validated_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="bad regular expression"):
        parse_rules("noise:\n  deal:\n    title: ['(']\n", "w.yaml")
    with pytest.raises(UserInputError, match="archive_age_days must be positive"):
        parse_rules("archive_age_days: 0\n", "w.yaml")
    with pytest.raises(UserInputError, match="takes 'title', 'url' and 'summary'"):
        parse_rules("noise:\n  deal:\n    body: ['x']\n", "w.yaml")
    custom = tmp_path / "rules.yaml"
    custom.write_text("noise:\n  sports:\n    title: ['super bowl']\n", encoding="utf-8")
    rules = load_rules(custom)
    assert noise_class(rules, "How to Watch the 2025 Super Bowl and Halftime Show for Free") == (
        "sports"
    )
    with pytest.raises(UserInputError, match="worthiness file"):
        load_rules(tmp_path / "missing.yaml")
