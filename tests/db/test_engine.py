from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tracker.db import Database
from tracker.db.models import Article


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    database = Database.connect(f"sqlite:///{tmp_path / 'nested' / 'x.db'}")
    try:
        with database.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
    finally:
        database.dispose()


def test_foreign_keys_are_enforced(database: Database) -> None:
    from datetime import UTC, datetime

    with pytest.raises(IntegrityError), database.session() as session:
        session.add(
            Article(
                feed_id=999,
                dedupe_key="k",
                title="t",
                published_at=datetime(2025, 1, 1, tzinfo=UTC),
                content_hash="h",
            )
        )


def test_session_scope_rolls_back_on_error(database: Database) -> None:
    from tracker.db.models import Feed

    with pytest.raises(RuntimeError), database.session() as session:
        session.add(Feed(url="https://a.example/feed", name="a"))
        session.flush()
        raise RuntimeError("boom")
    with database.session() as session:
        assert session.query(Feed).count() == 0
