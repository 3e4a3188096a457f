"""An event with its articles, entities, themes, tickers and stored impacts."""

from __future__ import annotations

import pytest

from tests.query.conftest import World
from tracker.db import Database
from tracker.errors import NotFoundError
from tracker.query import get_event_detail


def test_detail_by_id_and_by_slug_carries_everything_stored(
    database: Database, world: World
) -> None:
    with database.session() as session:
        by_id = get_event_detail(session, world.events["a"])
        by_slug = get_event_detail(session, "synthetic-a")
        text_id = get_event_detail(session, str(world.events["a"]))
    assert by_id == by_slug == text_id
    assert by_id.title == "Synthetic: cheap model A released"
    assert [article.source for article in by_id.articles] == ["Synthetic Wire"] * 2
    assert [article.url for article in by_id.articles] == [
        "https://example.invalid/0",
        "https://example.invalid/1",
    ]
    assert [(t.ticker, t.reason) for t in by_id.tickers] == [
        ("NVDA", "synthetic reason 0"),
        ("VST", "synthetic reason 1"),
    ]
    assert [e.slug for e in by_id.entities] == ["deepseek"]
    assert [t.slug for t in by_id.themes] == ["ai_efficiency"]
    windows = {(f.ticker, f.window_start, f.window_end): f.car for f in by_id.firm_impacts}
    assert windows == {
        ("NVDA", 0, 0): -0.05,
        ("NVDA", 0, 1): -0.06,
        ("NVDA", 0, 5): -0.08,
        ("VST", 0, 1): -0.03,
    }
    assert [(g.basket, g.caar) for g in by_id.group_impacts] == [("ai_power", -0.04)]


def test_unknown_event_is_not_found(database: Database, world: World) -> None:
    with database.session() as session:
        for ref in ("no-such-event", "999999", 0):
            with pytest.raises(NotFoundError, match="no event with id or slug"):
                get_event_detail(session, ref)
