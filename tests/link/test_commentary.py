"""The commentary rule (tracker/link/commentary.py) on real recorded headlines."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tracker.errors import UserInputError
from tracker.link.commentary import load_rules, parse_rules, shipped_rules

COMMENTARY = [
    "How Chinese A.I. Start-Up DeepSeek Is Competing With OpenAI and Google",
    "How Chinese AI Startup DeepSeek Made a Model that Rivals OpenAI",
    "Silicon Valley Is Raving About a Made-in-China AI Model",
    "China Has Taught AI Startups a Lesson Automakers Learned Years Ago",
    "How DeepSeek crashed the AI party",
    "AI is ‘an energy hog,’ but DeepSeek could change that",
    "Is DeepSeek's new image model another win for cheaper AI?",
]
HAPPENINGS = [
    "DeepSeek hit with large-scale cyberattack, says it's limiting registrations",
    "OpenAI launches new o3-mini reasoning model with a free ChatGPT version",
    "Nvidia Reels After DeepSeek’s A.I. Breakthrough",
    "Microsoft makes DeepSeek’s R1 model available on Azure AI and GitHub",
    "Trump says China's DeepSeek AI 'should be a wake-up call' for American tech companies",
    "DeepSeek releases Janus Pro, a text-to-image generator [pdf]",
]


@pytest.mark.parametrize("title", COMMENTARY)
def test_explainers_and_reactions_are_commentary(title: str) -> None:
    assert shipped_rules().is_commentary_title(title)


@pytest.mark.parametrize("title", HAPPENINGS)
def test_reports_of_happenings_are_not(title: str) -> None:
    assert not shipped_rules().is_commentary_title(title)


def test_the_shipped_rule_folds_single_pieces_within_a_week() -> None:
    rules = shipped_rules()
    assert rules.max_articles == 1
    assert rules.lookback == timedelta(days=7)
    assert 0 < rules.min_similarity < 1


def test_a_user_file_replaces_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "commentary.yaml"
    path.write_text(
        "max_articles: 2\nlookback_days: 3\nmin_similarity: 0.2\ntitle: ['^why\\b']\n",
        encoding="utf-8",
    )
    rules = load_rules(path)
    assert rules.max_articles == 2
    assert rules.lookback == timedelta(days=3)
    assert rules.is_commentary_title("Why DeepSeek matters")
    assert not rules.is_commentary_title("How DeepSeek crashed the AI party")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a list", "expected a mapping"),
        ("lookback_days: 3\nmin_similarity: 0.2\ntitle: []\n", "missing key 'max_articles'"),
        ("max_articles: 1\nlookback_days: 3\nmin_similarity: 0.2\ntitle: ['(']\n", "bad title"),
        ("max_articles: 0\nlookback_days: 3\nmin_similarity: 0.2\n", "max_articles must be"),
        ("max_articles: x\nlookback_days: 3\nmin_similarity: 0.2\n", "not a number"),
    ],
)
def test_bad_rule_files_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        parse_rules(text, "test file")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="commentary file"):
        load_rules(tmp_path / "nope.yaml")
