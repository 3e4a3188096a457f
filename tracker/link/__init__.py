"""The link stage: entities in articles, themes, story clusters and curated events.

Public API::

    link_new_articles(db, *, now=None) -> LinkReport
    load_curated_events(db, path=None) -> int
    seed_entities(session, specs=None) -> dict[str, int]
"""

from tracker.link.entities import Matcher, load_dictionary, seed_entities, shipped_dictionary
from tracker.link.events import LinkReport, link_new_articles, load_curated_events

__all__ = [
    "LinkReport",
    "Matcher",
    "link_new_articles",
    "load_curated_events",
    "load_dictionary",
    "seed_entities",
    "shipped_dictionary",
]
