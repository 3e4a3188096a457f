"""Latest headlines with their source and event."""

from __future__ import annotations

import pytest

from tests.query.conftest import World
from tracker.db import Database
from tracker.errors import UserInputError
from tracker.query import latest_headlines


def test_latest_headlines_newest_first_with_source_and_event(
    database: Database, world: World
) -> None:
    with database.session() as session:
        latest = latest_headlines(session, limit=2)
        searched = latest_headlines(session, text="synthetic article")
        none = latest_headlines(session, text=";--")
        with pytest.raises(UserInputError):
            latest_headlines(session, limit=0)
    assert [h.title for h in latest] == ["Synthetic article 2", "Synthetic article 1"]
    assert latest[0].source == "Synthetic Wire"
    assert latest[0].event_id == world.events["c"]
    assert len(searched) == 3
    assert none == []


def test_headline_search_strategies_agree(
    database: Database, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Few matches are sorted, many walked against the match set, most probed: same lists."""
    from tracker.query import news, search

    texts = ["synthetic article", "synth*", '"synthetic article"', "article", "nomatchword"]

    def run_all() -> list[list[int]]:
        with database.session() as session:
            return [
                [h.article_id for h in latest_headlines(session, limit=2, text=text)]
                + [h.article_id for h in latest_headlines(session, limit=50, text=text)]
                for text in texts
            ]

    expected = run_all()
    assert any(expected)
    assert not expected[-1]
    for few, many, common in [(0, 10**6, 10**9), (0, 0, 1), (10**6, 10**6, 10**9)]:
        monkeypatch.setattr(search, "SQLITE_FEW_MATCHES", few)
        monkeypatch.setattr(news, "SQLITE_MANY_MATCHES", many)
        monkeypatch.setattr(search, "COMMON_MATCH_THRESHOLD", common)
        monkeypatch.setattr(search, "COMMON_ESTIMATE_THRESHOLD", common if common > 1 else 0)
        assert run_all() == expected, (few, many, common)
