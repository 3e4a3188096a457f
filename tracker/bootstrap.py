"""What a fresh database needs before the pipeline can run (idempotent, like a prestart).

The default instrument universe and baskets, the default feeds, the entity dictionary and
themes, and the curated timeline. ``tracker run`` and ``tracker demo`` both call it, so a
service started on an empty database has feeds to poll, tickers to price and the curated
events to measure. Re-running it adds what is missing and changes nothing else.
"""

from __future__ import annotations

from tracker.db import Database
from tracker.link.entities import seed_entities
from tracker.link.events import load_curated_events
from tracker.link.themes import seed_themes
from tracker.markets.universe import seed_universe
from tracker.news.registry import seed_default_feeds


def bootstrap(db: Database) -> dict[str, int]:
    """Seed everything the pipeline reads; returns how much was created."""
    with db.session() as session:
        counts = seed_universe(session)
        counts["entities"] = len(seed_entities(session))
        counts["themes"] = len(seed_themes(session))
        counts["feeds_created"] = seed_default_feeds(session)
    counts["curated_events_created"] = load_curated_events(db)
    return counts
