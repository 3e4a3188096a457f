"""Every (event, ticker) link with what attribution, the confound ledger and clean
estimation windows need: day 0, story, coverage, importance and the link's strength.

One read for the three consumers, so they always agree on which events touch a ticker and
when. Link strength is read from what the linker stored:

- ``headline``: an entity whose listed security the ticker is (``issuer``) is named in the
  event's title or in the title of one of its articles;
- ``text``: such an issuer is named in the articles' text (the linker's "named in N
  articles"), or the ticker was named by the curated timeline or the user;
- ``exposure``: a private entity the ticker is exposed to is named ("exposure: OpenAI ...");
- ``theme``: the ticker is only in a basket exposed to one of the event's themes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import (
    ArticleEntity,
    Entity,
    EntityAlias,
    EntityTicker,
    Event,
    EventArticle,
    EventTicker,
    Instrument,
)
from tracker.impact.calendar import sessions_between
from tracker.measure.events import event_day0

LINK_TIERS = ("headline", "text", "exposure", "theme")
TEXT_REASONS = ("named in", "curated timeline", "named by the user")
LINK_COLUMNS = (
    "event_id",
    "instrument_id",
    "ticker",
    "day0",
    "kind",
    "title",
    "slug",
    "story_id",
    "source_count",
    "article_count",
    "is_novel",
    "importance",
    "link",
)


def reason_tier(reason: str) -> str:
    """The tier a link's stored reason supports (``headline`` is decided from titles)."""
    parts = [part.strip() for part in reason.split(";")]
    if any(part.startswith(TEXT_REASONS) for part in parts):
        return "text"
    if any(part.startswith("exposure:") for part in parts):
        return "exposure"
    return "theme"


def _issuer_patterns(session: Session, instrument_ids: set[int]) -> dict[int, re.Pattern[str]]:
    """Instrument id -> one regex of its issuer entities' names and aliases (whole words)."""
    names: dict[int, set[str]] = defaultdict(set)
    rows = session.execute(
        select(EntityTicker.instrument_id, Entity.name, EntityAlias.alias)
        .join(Entity, Entity.id == EntityTicker.entity_id)
        .outerjoin(EntityAlias, EntityAlias.entity_id == Entity.id)
        .where(EntityTicker.relation == "issuer")
    )
    for instrument_id, name, alias in rows:
        if instrument_id in instrument_ids:
            names[instrument_id].update(n for n in (name, alias) if n and len(n) > 1)
    return {
        instrument_id: re.compile(
            r"(?<!\w)(?:"
            + "|".join(re.escape(n) for n in sorted(found, key=len)[::-1])
            + r")(?!\w)",
            re.IGNORECASE,
        )
        for instrument_id, found in names.items()
    }


def _titled_issuers(session: Session, event_ids: Sequence[int]) -> set[tuple[int, int]]:
    """(event, instrument) pairs whose issuer is named in one of the event's article titles."""
    rows = session.execute(
        select(EventArticle.event_id, EntityTicker.instrument_id)
        .join(ArticleEntity, ArticleEntity.article_id == EventArticle.article_id)
        .join(EntityTicker, EntityTicker.entity_id == ArticleEntity.entity_id)
        .where(ArticleEntity.in_title.is_(True), EntityTicker.relation == "issuer")
        .distinct()
    )
    wanted = set(event_ids)
    return {(e, i) for e, i in rows if e in wanted}


def load_links(
    session: Session, calendar: str, tickers: Sequence[str] | None = None
) -> pd.DataFrame:
    """Every (event, ticker) link (of ``tickers`` when given), LINK_COLUMNS, by event id."""
    query = (
        select(
            EventTicker.event_id,
            EventTicker.instrument_id,
            EventTicker.reason,
            Instrument.ticker,
        )
        .join(Instrument, Instrument.id == EventTicker.instrument_id)
        .order_by(EventTicker.event_id, Instrument.ticker)
    )
    if tickers is not None:
        query = query.where(Instrument.ticker.in_(sorted(set(tickers))))
    links = session.execute(query).all()
    if not links:
        return pd.DataFrame({name: [] for name in LINK_COLUMNS})
    event_ids = sorted({row.event_id for row in links})
    events = {e.id: e for e in session.scalars(select(Event).where(Event.id.in_(event_ids)))}
    day0: dict[int, date] = {}
    for event_id, event in events.items():
        try:
            day0[event_id] = event_day0(event, calendar)
        except ValueError:
            continue  # no session for it (outside the calendar): not in any window
    patterns = _issuer_patterns(session, {row.instrument_id for row in links})
    titled = _titled_issuers(session, event_ids)
    records = []
    for row in links:
        event = events[row.event_id]
        if row.event_id not in day0 or event.parent_id is not None:
            # a detected or report event merged into a happening (hidden from every list):
            # its articles and tickers are the parent's, which stands for it here
            continue
        tier = reason_tier(row.reason or "")
        pattern = patterns.get(row.instrument_id)
        if (row.event_id, row.instrument_id) in titled or (
            tier == "text" and pattern is not None and pattern.search(event.title or "")
        ):
            tier = "headline"
        records.append(
            (
                row.event_id,
                row.instrument_id,
                row.ticker,
                day0[row.event_id],
                event.kind,
                event.title,
                event.slug,
                event.story_id,
                int(event.source_count or 0),
                int(event.article_count or 0),
                bool(event.is_novel),
                float(event.importance or 0.0),
                tier,
            )
        )
    frame = pd.DataFrame.from_records(records, columns=list(LINK_COLUMNS))
    frame["story_id"] = frame["story_id"].astype("Int64")
    return frame


def session_positions(days: Sequence[date] | pd.Series, index: pd.DatetimeIndex) -> np.ndarray:
    """Row of each day's session in ``index`` (the next session for a non-session day)."""
    values = pd.to_datetime(pd.Series(list(days))).to_numpy(dtype="datetime64[D]")
    return np.searchsorted(index.to_numpy(dtype="datetime64[D]"), values).astype(np.int64)


def session_index(days: Sequence[date], calendar: str, pad: int = 20) -> pd.DatetimeIndex:
    """The exchange's sessions from before the first to after the last of ``days``."""
    if not len(days):
        return pd.DatetimeIndex([])
    first, last = min(days), max(days)
    sessions = sessions_between(
        first - pd.Timedelta(days=2 * pad).to_pytimedelta(),
        last + pd.Timedelta(days=2 * pad).to_pytimedelta(),
        calendar,
    )
    return pd.DatetimeIndex(pd.to_datetime(sessions))
