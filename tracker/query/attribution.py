"""Read the stored attribution and confound ledger (computed by ``tracker.measure``).

Why a move is credited to an event is decided and explained in one place,
``tracker.measure.attribution``; this module only reads what it stored, for the CLI
(``tracker query attribution``), the dashboard, the digest and the impact JSON.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import Attribution, Confound, Event, EventTicker, Instrument, Story
from tracker.errors import NotFoundError
from tracker.query.common import DEFAULT_MODEL


@dataclass(frozen=True)
class EventRef:
    id: int
    slug: str
    title: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "slug": self.slug, "title": self.title}


@dataclass(frozen=True)
class Candidate:
    """One candidate catalyst of a move, with its role and the one-line reason."""

    event: EventRef
    story: EventRef | None
    score: float
    why: str
    role: str
    rank: int
    components: dict[str, Any] = field(default_factory=dict)

    def as_json(self, *, with_role: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "event": self.event.as_json(),
            "story": self.story.as_json() if self.story else None,
            "score": self.score,
            "why": self.why,
        }
        if with_role:
            out["role"] = self.role
        return out


@dataclass(frozen=True)
class MoveAttribution:
    """A (ticker, session) move: its figures, its primary catalyst and every candidate."""

    ticker: str
    session: date
    abnormal_return: float | None
    p_value: float | None
    q_value: float | None
    primary: Candidate
    candidates: list[Candidate]

    def as_json(self) -> dict[str, Any]:
        """The issue-15 JSON object (exact names)."""
        return {
            "ticker": self.ticker,
            "session": self.session.isoformat(),
            "abnormal_return": self.abnormal_return,
            "p_value": self.p_value,
            "q_value": self.q_value,
            "primary": self.primary.as_json(with_role=False),
            "candidates": [c.as_json() for c in self.candidates],
        }


def _instrument_id(session: Session, ticker: str) -> tuple[int, str]:
    name = ticker.strip().upper()
    found = session.scalar(select(Instrument.id).where(Instrument.ticker == name))
    if found is None:
        raise NotFoundError(f"unknown ticker {name!r}")
    return int(found), name


def _story_refs(session: Session, story_ids: set[int]) -> dict[int, EventRef]:
    if not story_ids:
        return {}
    rows = session.execute(
        select(Story.id, Story.slug, Story.title).where(Story.id.in_(sorted(story_ids)))
    )
    return {i: EventRef(i, slug, title) for i, slug, title in rows}


def _candidates(session: Session, rows: Sequence[Attribution]) -> list[Candidate]:
    events = {
        e.id: EventRef(e.id, e.slug, e.title)
        for e in session.execute(
            select(Event.id, Event.slug, Event.title).where(
                Event.id.in_(sorted({r.event_id for r in rows}))
            )
        )
    }
    stories = _story_refs(session, {r.story_id for r in rows if r.story_id is not None})
    return [
        Candidate(
            event=events[r.event_id],
            story=stories.get(r.story_id) if r.story_id is not None else None,
            score=r.score,
            why=r.why,
            role=r.role,
            rank=r.rank,
            components=dict(r.components or {}),
        )
        for r in rows
    ]


def move_attribution(
    session: Session, ticker: str, day: date, model: str = DEFAULT_MODEL
) -> MoveAttribution:
    """The stored attribution of ``ticker``'s move on ``day``.

    Raises NotFoundError for an unknown ticker or when no move is stored for that session
    (no event linked to the ticker was measured with day 0 on it).
    """
    instrument_id, name = _instrument_id(session, ticker)
    rows = list(
        session.scalars(
            select(Attribution)
            .where(
                Attribution.instrument_id == instrument_id,
                Attribution.session_date == day,
                Attribution.model == model,
            )
            .order_by(Attribution.rank)
        )
    )
    if not rows:
        raise NotFoundError(
            f"no attributed move of {name} on {day.isoformat()} (model {model}): no event "
            "linked to it was measured with day 0 on that session"
        )
    candidates = _candidates(session, rows)
    first = rows[0]
    return MoveAttribution(
        ticker=name,
        session=day,
        abnormal_return=first.abnormal_return,
        p_value=first.p_value,
        q_value=first.q_value,
        primary=candidates[0],
        candidates=candidates,
    )


def primary_catalysts(
    session: Session,
    instrument_ids: Sequence[int],
    days: Sequence[date],
    model: str = DEFAULT_MODEL,
) -> dict[tuple[int, date], EventRef]:
    """(instrument, session) -> its primary catalyst, for the given instruments and days."""
    if not instrument_ids or not days:
        return {}
    rows = session.execute(
        select(
            Attribution.instrument_id, Attribution.session_date, Event.id, Event.slug, Event.title
        )
        .join(Event, Event.id == Attribution.event_id)
        .where(
            Attribution.role == "primary",
            Attribution.model == model,
            Attribution.instrument_id.in_(sorted(set(instrument_ids))),
            Attribution.session_date.in_(sorted(set(days))),
        )
    )
    return {(i, d): EventRef(e, slug, title) for i, d, e, slug, title in rows}


@dataclass(frozen=True)
class ConfoundRow:
    """Something else in an (event, ticker) window: ``kind``, ``title``, ``date``."""

    kind: str
    title: str
    date: date
    relative_day: int
    other_event_id: int | None
    story_id: int | None

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "date": self.date.isoformat()}


def event_confounds(
    session: Session, event_id: int, window: tuple[int, int]
) -> dict[int, list[ConfoundRow]]:
    """Instrument id -> the ledger rows inside ``window`` of the event (by day, kind)."""
    rows = session.scalars(
        select(Confound)
        .where(
            Confound.event_id == event_id,
            Confound.relative_day >= window[0],
            Confound.relative_day <= window[1],
        )
        .order_by(Confound.instrument_id, Confound.relative_day, Confound.kind, Confound.title)
    )
    out: dict[int, list[ConfoundRow]] = defaultdict(list)
    for row in rows:
        out[row.instrument_id].append(
            ConfoundRow(
                row.kind,
                row.title,
                row.session_date,
                row.relative_day,
                row.other_event_id,
                row.story_id,
            )
        )
    return dict(out)


def same_story(row: ConfoundRow, story_id: int | None, event_id: int) -> bool:
    """Whether a ledger row is part of the event's own story (then it is no confound)."""
    if row.kind not in ("event", "earnings") or row.other_event_id is None:
        return False
    return row.other_event_id == event_id or (story_id is not None and row.story_id == story_id)


def flagged(rows: Sequence[ConfoundRow], story_id: int | None, event_id: int) -> list[ConfoundRow]:
    """The rows that make a result "confounded": anything but the event's own story."""
    return [row for row in rows if not same_story(row, story_id, event_id)]


@dataclass(frozen=True)
class DayMove:
    """A ticker's move on one session with its primary catalyst (the digest's unit)."""

    ticker: str
    instrument_id: int
    event: EventRef
    story: EventRef | None
    abnormal_return: float | None
    p_value: float | None
    q_value: float | None


def primary_moves_on(session: Session, day: date, model: str = DEFAULT_MODEL) -> list[DayMove]:
    """Every stored move of ``day`` with its primary catalyst, largest |abnormal return| first."""
    rows = session.execute(
        select(
            Instrument.ticker,
            Attribution.instrument_id,
            Attribution.story_id,
            Attribution.abnormal_return,
            Attribution.p_value,
            Attribution.q_value,
            Event.id,
            Event.slug,
            Event.title,
        )
        .join(Instrument, Instrument.id == Attribution.instrument_id)
        .join(Event, Event.id == Attribution.event_id)
        .where(
            Attribution.session_date == day,
            Attribution.role == "primary",
            Attribution.model == model,
        )
    ).all()
    stories = _story_refs(session, {r.story_id for r in rows if r.story_id is not None})
    moves = [
        DayMove(
            ticker=r.ticker,
            instrument_id=r.instrument_id,
            event=EventRef(r.id, r.slug, r.title),
            story=stories.get(r.story_id) if r.story_id is not None else None,
            abnormal_return=r.abnormal_return,
            p_value=r.p_value,
            q_value=r.q_value,
        )
        for r in rows
    ]
    return sorted(moves, key=lambda m: (-abs(m.abnormal_return or 0.0), m.ticker))


def event_story(session: Session, event_ids: Sequence[int]) -> dict[int, EventRef | None]:
    """Event id -> its story (None: the event is a story of its own)."""
    rows = session.execute(
        select(Event.id, Event.story_id).where(Event.id.in_(sorted(set(event_ids))))
    ).all()
    stories = _story_refs(session, {s for _, s in rows if s is not None})
    return {e: (stories.get(s) if s is not None else None) for e, s in rows}


@dataclass(frozen=True)
class TickerAttribution:
    """How one ticker of an event reads: whose move it is, and what else was in the window."""

    ticker: str
    attributed_to: EventRef | None  # the move's primary catalyst when it is another event
    confounds: list[ConfoundRow]  # the ledger rows of the window not of the event's story

    @property
    def elsewhere(self) -> bool:
        return self.attributed_to is not None


def event_attribution(
    session: Session, event_id: int, window: tuple[int, int], model: str = DEFAULT_MODEL
) -> dict[str, TickerAttribution]:
    """Ticker -> its attribution and confounds, for every ticker linked to the event."""
    event = session.get(Event, event_id)
    if event is None:
        raise NotFoundError(f"no event with id {event_id}")
    rows = session.execute(
        select(Instrument.id, Instrument.ticker)
        .join(EventTicker, EventTicker.instrument_id == Instrument.id)
        .where(EventTicker.event_id == event_id)
    ).all()
    ids = {ticker: instrument_id for instrument_id, ticker in rows}
    primaries = (
        primary_catalysts(session, list(ids.values()), [event.day0], model)
        if event.day0 is not None
        else {}
    )
    ledger = event_confounds(session, event_id, window)
    out = {}
    for ticker, instrument_id in sorted(ids.items()):
        primary = primaries.get((instrument_id, event.day0)) if event.day0 else None
        out[ticker] = TickerAttribution(
            ticker=ticker,
            attributed_to=primary if primary is not None and primary.id != event_id else None,
            confounds=flagged(ledger.get(instrument_id, []), event.story_id, event_id),
        )
    return out
