"""Themes need cue words, not just a name: one in a title or two in the text."""

from __future__ import annotations

from tracker.link.themes import event_themes, shipped_themes

DEEPSEEK = frozenset({"deepseek"})


def test_a_name_and_one_incidental_cue_in_a_summary_is_not_a_theme() -> None:
    shock = next(t for t in shipped_themes() if t.slug == "ai-efficiency-shock")
    text = "DeepSeek answers questions about Tiananmen\nThe app is free and costs nothing."
    assert not shock.triggered_by(text, DEEPSEEK, "DeepSeek answers questions about Tiananmen")
    assert shock.cues(
        "DeepSeek rattles stocks\nInvestors flee", DEEPSEEK, "DeepSeek rattles stocks"
    )
    assert shock.cues("x\ncheap model; investors flee", DEEPSEEK, "x") == ["cheap", "investors"]
    assert not shock.triggered_by("Nvidia stocks fall", frozenset({"nvidia"}), "Nvidia stocks fall")


def test_event_theme_reports_the_cues_that_matched() -> None:
    titles = ["DeepSeek sparks tech stock sell-off", "DeepSeek censorship explained"]
    articles = [(t, DEEPSEEK) for t in titles]
    hits = {h.slug: h for h in event_themes(shipped_themes(), articles, titles)}
    hit = hits["ai-efficiency-shock"]
    assert (hit.triggered, hit.total) == (1, 2)
    assert hit.cues == ("sell-off",)


def test_a_large_story_keeps_a_theme_several_articles_argue() -> None:
    from tracker.link.themes import MIN_ARTICLES, event_themes, shipped_themes

    cue = "DeepSeek's cheap model sends chip stocks into a sell-off"
    plain = "What is DeepSeek? An explainer"
    texts = [(cue, frozenset({"deepseek"}))] * MIN_ARTICLES
    texts += [(plain, frozenset({"deepseek"}))] * 40
    hits = {hit.slug: hit for hit in event_themes(shipped_themes(), texts)}
    assert "ai-efficiency-shock" in hits
    assert hits["ai-efficiency-shock"].triggered == MIN_ARTICLES
    fewer = texts[1:]
    assert "ai-efficiency-shock" not in {h.slug for h in event_themes(shipped_themes(), fewer)}
