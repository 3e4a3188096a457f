"""Stories: the threads that tie events, with each event's measured headline impact.

Read-only, like every ``tracker.query`` module: stories are built by ``tracker.link.stories``,
importance by ``tracker.measure.importance``, impacts by ``tracker.measure``. The headline
impact of an event is its largest stored |CAR| in the default window and model, with its
ticker and p-value; the digest and the dashboard story page read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from tracker.db.models import Event, FirmImpact, Story
from tracker.errors import UserInputError
from tracker.query.common import DEFAULT_MODEL, DEFAULT_WINDOW, Window, find_event, find_story
from tracker.query.events import EventSummary, event_summaries

StorySort = Literal["importance", "time"]
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class StorySummary:
    """One story of a list."""

    id: int
    slug: str
    title: str
    origin: str
    first_reported_at: datetime | None
    last_reported_at: datetime | None
    event_count: int
    article_count: int
    source_count: int
    importance: float
    user_edited: bool


# one event of a story: the same row as in every event list, with its headline impact
StoryEvent = EventSummary


@dataclass(frozen=True)
class StoryDetail:
    """A story and its events in first-report order."""

    story: StorySummary
    description: str
    events: tuple[StoryEvent, ...]
    window: Window
    model: str


def _summary(story: Story) -> StorySummary:
    return StorySummary(
        id=story.id,
        slug=story.slug,
        title=story.title,
        origin=story.origin,
        first_reported_at=story.first_reported_at,
        last_reported_at=story.last_reported_at,
        event_count=story.event_count,
        article_count=story.article_count,
        source_count=story.source_count,
        importance=story.importance,
        user_edited=story.user_edited,
    )


def list_stories(
    session: Session, *, sort: StorySort = "importance", limit: int = 100, min_events: int = 1
) -> list[StorySummary]:
    """Stories, most important first (or latest first report first with ``sort="time"``)."""
    if sort not in ("importance", "time"):
        raise UserInputError(f"--sort must be 'importance' or 'time', got {sort!r}")
    if not 1 <= limit <= MAX_LIMIT:
        raise UserInputError(f"--limit must be between 1 and {MAX_LIMIT}, got {limit}")
    order = (
        (Story.importance.desc(), Story.last_reported_at.desc(), Story.id.desc())
        if sort == "importance"
        else (Story.last_reported_at.desc(), Story.id.desc())
    )
    stories = session.scalars(
        select(Story).where(Story.event_count >= min_events).order_by(*order).limit(limit)
    )
    return [_summary(s) for s in stories]


def headline_conditions(
    window: Window = DEFAULT_WINDOW, model: str = DEFAULT_MODEL
) -> list[ColumnElement[bool]]:
    """The stored results a headline impact is chosen from: ``window`` under ``model``."""
    return [
        FirmImpact.model == model,
        FirmImpact.window_start == window[0],
        FirmImpact.window_end == window[1],
        FirmImpact.car.is_not(None),
    ]


def get_story(
    session: Session, ref: str | int, window: Window = DEFAULT_WINDOW, model: str = DEFAULT_MODEL
) -> StoryDetail:
    """A story (id or slug) with its listed events (merged ones stand under their curated
    event) in first-report order; NotFoundError for an unknown story."""
    story = find_story(session, ref)
    events = list(
        session.scalars(
            select(Event)
            .where(Event.story_id == story.id, Event.parent_id.is_(None))
            .order_by(Event.first_reported_at, Event.id)
        )
    )
    rows = event_summaries(session, events, headline_conditions(window, model))
    return StoryDetail(_summary(story), story.description, tuple(rows), window, model)


def story_of_event(session: Session, ref: str | int) -> StorySummary | None:
    """The story an event (id or slug) belongs to; a merged detected event: its curated
    event's story. None when it is in no story (the digest's "part of" line)."""
    event = find_event(session, ref)
    if event.story_id is None and event.parent_id is not None:
        event = session.get(Event, event.parent_id) or event
    if event.story_id is None:
        return None
    story = session.get(Story, event.story_id)
    return None if story is None else _summary(story)
