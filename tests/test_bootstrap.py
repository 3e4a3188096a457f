from __future__ import annotations

from sqlalchemy import func, select

from tracker.bootstrap import bootstrap
from tracker.db import Database
from tracker.db.models import Basket, Entity, Event, Feed, Instrument, Theme


def _counts(database: Database) -> dict[str, int]:
    with database.session() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Instrument, Basket, Feed, Entity, Theme, Event)
        }


def test_bootstrap_seeds_what_the_pipeline_reads_once(database: Database) -> None:
    first = bootstrap(database)
    after_first = _counts(database)
    second = bootstrap(database)
    assert after_first == _counts(database)
    assert first["feeds_created"] > 50
    assert first["curated_events_created"] > 30
    assert second["feeds_created"] == 0
    assert second["curated_events_created"] == 0
    assert all(count > 0 for count in after_first.values())
