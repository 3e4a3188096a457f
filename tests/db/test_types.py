from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from tracker.db import Database
from tracker.db.models import Feed


def test_times_come_back_aware_utc_on_every_backend(database: Database) -> None:
    eastern = timezone(timedelta(hours=-5))
    with database.session() as session:
        session.add(
            Feed(
                url="https://example.org/feed",
                name="x",
                next_check_at=datetime(2025, 1, 27, 2, 49, tzinfo=eastern),
            )
        )
    with database.session() as session:
        stored = session.scalars(select(Feed.next_check_at)).one()
    assert stored is not None
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)
    assert stored == datetime(2025, 1, 27, 7, 49, tzinfo=UTC)
    assert stored.hour == 7


def test_naive_datetimes_are_refused(database: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"), database.session() as session:
        session.add(
            Feed(url="https://example.org/n", name="n", next_check_at=datetime(2025, 1, 27, 7, 49))
        )
        session.flush()
    with database.session() as session:
        assert session.scalars(select(Feed)).all() == []
