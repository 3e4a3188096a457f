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
