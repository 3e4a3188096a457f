"""What every query shares: defaults, input parsing, name resolution and DataFrame conversion."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.models import Basket, Event, Instrument, Story
from tracker.errors import NotFoundError, UserInputError
from tracker.impact.models import ModelName
from tracker.impact.study import DEFAULT_WINDOWS
from tracker.link.curated import EVENT_KINDS

DEFAULT_MODEL = "market"
"""The event-study model whose stored results the queries read (IMPACT_SPEC section 3)."""

QUERY_MODELS: tuple[ModelName, ...] = (
    ModelName.MARKET,
    ModelName.MARKET_ADJUSTED,
    ModelName.CONSTANT_MEAN,
)
"""The models an event's impact can be asked for (computed on the fly when not stored)."""

STORED_MODELS: tuple[str, ...] = (DEFAULT_MODEL,)
"""The models the measure stage stores (``tracker.measure.study.default_parameters``):
filters, sorts, moves and analogs read stored results, so only these have rows."""

Window = tuple[int, int]
STORED_WINDOWS: tuple[Window, ...] = DEFAULT_WINDOWS
"""The event windows the measure stage stores (the study's default windows)."""

KINDS = EVENT_KINDS
"""Every kind an event can have, curated or detected (``tracker.link.curated``)."""
DEFAULT_WINDOW: Window = (0, 1)
"""The event window of filters and impact sorting: the first affected session and the next."""

MOVE_WINDOW: Window = (0, 0)
"""A "move" is one session's abnormal return: the [0,0] window."""

ANALOG_WINDOW: Window = (0, 5)
"""Analogs compare a week of reaction: CAR[0,+5]."""

DEFAULT_ALPHA = 0.05


def parse_day(value: str, option: str) -> date:
    """An ISO date (YYYY-MM-DD); the error names the option it came from."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserInputError(f"{option}: {value!r} is not a date (expected YYYY-MM-DD)") from None


def parse_window(value: str | Sequence[int], option: str = "--window") -> Window:
    """``"a,b"``, ``"[a,b]"`` or ``(a, b)`` -> ``(a, b)`` with a <= b, in trading days
    relative to day 0. The one window parser of the queries and the measure stage's reads."""
    if isinstance(value, str):
        parts = [part.strip() for part in value.strip().strip("[]").split(",")]
    else:
        parts = [str(part) for part in value]
    try:
        start, end = (int(part) for part in parts)
    except ValueError:
        raise UserInputError(
            f"{option}: {value!r} is not a window (expected two integers 'a,b', e.g. 0,1)"
        ) from None
    return check_window((start, end), option)


def check_window(window: Window, option: str = "window") -> Window:
    start, end = window
    if start > end:
        raise UserInputError(f"{option}: start {start} is after end {end}")
    return (start, end)


def window_text(window: Window) -> str:
    return f"{window[0]},{window[1]}"


def check_stored_window(window: Window, option: str = "--window") -> Window:
    """A window the measure stage stores; UserInputError listing them otherwise."""
    check_window(window, option)
    if tuple(window) not in STORED_WINDOWS:
        stored = "; ".join(window_text(w) for w in STORED_WINDOWS)
        raise UserInputError(
            f"{option} {window_text(window)} is not a stored window; use one of: {stored}"
        )
    return (window[0], window[1])


def check_query_model(model: str, option: str = "--model") -> str:
    """One of QUERY_MODELS; UserInputError listing them otherwise."""
    if model not in QUERY_MODELS:
        allowed = ", ".join(m.value for m in QUERY_MODELS)
        raise UserInputError(f"{option}: unknown model {model!r}; use one of {allowed}")
    return str(model)


def check_stored_model(model: str, option: str = "--model") -> str:
    """A model whose results are stored: what reads over stored impacts can use.

    A query model that is not stored is refused rather than answered with nothing.
    """
    check_query_model(model, option)
    if model not in STORED_MODELS:
        raise UserInputError(
            f"{option} {model!r}: only stored results can be filtered, sorted or compared, "
            f"and the stored model(s) are: {', '.join(STORED_MODELS)} "
            f"(`tracker query impact EVENT --model {model}` computes one event)"
        )
    return str(model)


def check_kind(kind: str, option: str = "--kind") -> str:
    """A known event kind (normalised to lower case); UserInputError listing them otherwise."""
    normal = kind.strip().lower()
    if normal not in KINDS:
        raise UserInputError(f"{option} {kind!r} is not one of {', '.join(sorted(KINDS))}")
    return normal


def day_start(day: date) -> datetime:
    """00:00 UTC of ``day``: date filters are inclusive UTC days."""
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def day_after(day: date) -> datetime:
    return day_start(day + timedelta(days=1))


def find_instrument(session: Session, ticker: str) -> Instrument:
    """The instrument with ``ticker`` (case-insensitive), or a NotFoundError naming it."""
    symbol = ticker.strip().upper()
    instrument = session.scalars(select(Instrument).where(Instrument.ticker == symbol)).first()
    if instrument is None:
        raise NotFoundError(f"unknown ticker {ticker!r}")
    return instrument


def find_basket(session: Session, slug: str) -> Basket:
    basket = session.scalars(
        select(Basket).where(func.lower(Basket.slug) == slug.strip().lower())
    ).first()
    if basket is None:
        raise NotFoundError(f"unknown basket {slug!r}")
    return basket


MAX_DATABASE_ID = 2**63 - 1  # the largest integer key either backend stores


def is_database_id(text: str) -> bool:
    """Whether ``text`` is a row id: ASCII digits only (``str.isdigit`` accepts ``²`` and
    other Unicode digits ``int`` refuses) and small enough for a 64-bit key (a larger
    number overflows the driver instead of finding nothing)."""
    return text.isascii() and text.isdigit() and int(text) <= MAX_DATABASE_ID


def find_event(session: Session, ref: str | int) -> Event:
    """An event by id (digits) or slug: the one lookup of the CLI, queries and measure reads.

    NotFoundError ``no event with id or slug 'x'`` otherwise.
    """
    text = str(ref).strip()
    event: Event | None = None
    if is_database_id(text):
        event = session.get(Event, int(text))
    if event is None:
        event = session.scalars(select(Event).where(Event.slug == text)).first()
    if event is None:
        raise NotFoundError(f"no event with id or slug {text!r}")
    return event


def find_story(session: Session, ref: str | int) -> Story:
    """A story by id (digits) or slug; NotFoundError ``no story with id or slug 'x'``."""
    text = str(ref).strip()
    story: Story | None = None
    if text.isdigit():
        story = session.get(Story, int(text))
    if story is None:
        story = session.scalars(select(Story).where(Story.slug == text)).first()
    if story is None:
        raise NotFoundError(f"no story with id or slug {text!r}")
    return story


def as_record(item: Any) -> dict[str, Any]:
    """A flat dict of a result dataclass (nested tuples of dataclasses become lists of dicts)."""
    if not dataclasses.is_dataclass(item) or isinstance(item, type):
        raise TypeError(f"expected a dataclass instance, got {type(item).__name__}")
    record: dict[str, Any] = {}
    for field in dataclasses.fields(item):
        value = getattr(item, field.name)
        if isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            value = [as_record(element) for element in value]
        elif isinstance(value, tuple):
            value = list(value)
        record[field.name] = value
    return record


def to_frame(items: Iterable[Any], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A DataFrame with one row per result dataclass (columns fixed even when empty)."""
    rows = [as_record(item) for item in items]
    return pd.DataFrame(rows, columns=list(columns) if columns is not None else None)


def field_names(cls: type[Any]) -> list[str]:
    return [field.name for field in dataclasses.fields(cls)]
