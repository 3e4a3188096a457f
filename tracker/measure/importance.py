"""Importance: the order of the default event and story lists.

An analyst opening the Events page should meet the happenings that matter first, not the
newest headline. Each event's score (0-100) adds four parts, stored with the event
(``importance``, and ``importance_detail`` with each part so a page can say why):

- coverage (weight 30): sources and articles reporting it, on a log scale (10 sources, 40
  articles fill it); a curated event counts the detected events merged into it;
- editorial (15): the event is on the curated timeline (a person judged it to matter);
- novelty (10): first report of a happening, not a follow-up;
- link strength (15): the strongest stored link to a tracked ticker (named in the headlines,
  or exposed through a theme);
- significant moves (30): once measured, how many of its tickers moved significantly in the
  default window (``is_significant``) and the largest such |CAR| (10% fills it), each move
  weighted by the ticker's link relevance (a ticker named in the headlines counts fully, one
  exposed only through a theme about half), so a market-wide day does not make every
  theme-linked headline important.

A story's importance is its most important event's plus a twentieth of the others' (not
capped): a thread with several important happenings ranks above a one-off.
Computed after linking and after every impact run (``refresh_importance``); it only reads
stored facts and stored impacts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db import Database
from tracker.db.models import Event, EventTicker, FirmImpact, Instrument, Story

WEIGHTS = {"coverage": 30.0, "editorial": 15.0, "novelty": 10.0, "link": 15.0, "moves": 30.0}
MOVES_MODEL = "market"
MOVES_WINDOW = (0, 1)
SIGNIFICANCE_LEVEL = 0.05
FULL_SOURCES = 10
FULL_ARTICLES = 40
FULL_CAR = 0.10
FOLLOWER_SHARE = 0.05


def is_significant(q_value: float | None) -> bool:
    """The one test of a "significant move" for ranking: the stored Benjamini-Hochberg
    q-value (across the event's tickers) below 5%, as everywhere else in the tracker;
    every ranking reads significance through this function only."""
    return q_value is not None and q_value == q_value and q_value < SIGNIFICANCE_LEVEL


def _scaled_log(value: int, full: int) -> float:
    return min(1.0, math.log1p(max(value, 0)) / math.log1p(full))


def event_importance(
    event: Event, link: float, significant: Sequence[tuple[str, float, float]]
) -> tuple[float, dict[str, object]]:
    """The score and its parts for one event; ``significant`` is (ticker, CAR, relevance)."""
    coverage = 0.5 * _scaled_log(event.source_count, FULL_SOURCES) + 0.5 * _scaled_log(
        event.article_count, FULL_ARTICLES
    )
    largest = max((abs(car) * rel for _, car, rel in significant), default=0.0)
    weighted = sum(rel for _, _, rel in significant)
    moves = 0.5 * min(1.0, weighted / 3) + 0.5 * min(1.0, largest / FULL_CAR)
    parts = {
        "coverage": coverage,
        "editorial": 1.0 if event.origin == "curated" else 0.0,
        "novelty": 1.0 if event.is_novel else 0.0,
        "link": max(0.0, min(1.0, link)),
        "moves": moves,
    }
    score = sum(WEIGHTS[name] * value for name, value in parts.items())
    detail: dict[str, object] = {
        "parts": {name: round(value, 4) for name, value in parts.items()},
        "weights": WEIGHTS,
        "significant_moves": [
            {"ticker": t, "car": round(c, 6), "relevance": round(r, 4)}
            for t, c, r in sorted(significant, key=lambda x: (-abs(x[1]) * x[2], x[0]))
        ][:5],
        "significance": f"CAR{list(MOVES_WINDOW)} p < {SIGNIFICANCE_LEVEL} ({MOVES_MODEL} model)",
    }
    return round(score, 2), detail


def story_importance(member_scores: Sequence[float]) -> float:
    ranked = sorted(member_scores, reverse=True)
    if not ranked:
        return 0.0
    return round(ranked[0] + FOLLOWER_SHARE * sum(ranked[1:]), 2)


def refresh_importance(db: Database) -> int:
    """Recompute every event's and story's importance; returns how many events were scored."""
    with db.session() as session:
        return refresh_importance_in(session)


def refresh_importance_in(session: Session) -> int:
    links = dict(
        session.execute(
            select(EventTicker.event_id, func.max(EventTicker.relevance)).group_by(
                EventTicker.event_id
            )
        ).all()
    )
    moves: dict[int, list[tuple[str, float, float]]] = defaultdict(list)
    for event_id, ticker, car, q_value, relevance in session.execute(
        select(
            FirmImpact.event_id,
            Instrument.ticker,
            FirmImpact.car,
            FirmImpact.q_value,
            EventTicker.relevance,
        )
        .join(Instrument, Instrument.id == FirmImpact.instrument_id)
        .outerjoin(
            EventTicker,
            (EventTicker.event_id == FirmImpact.event_id)
            & (EventTicker.instrument_id == FirmImpact.instrument_id),
        )
        .where(
            FirmImpact.model == MOVES_MODEL,
            FirmImpact.window_start == MOVES_WINDOW[0],
            FirmImpact.window_end == MOVES_WINDOW[1],
            FirmImpact.car.is_not(None),
        )
    ):
        if is_significant(q_value):
            # a measured ticker no longer linked (links rebuilt since) counts as theme-linked
            weight = 0.5 if relevance is None else max(0.0, min(1.0, float(relevance)))
            moves[event_id].append((ticker, float(car or 0.0), weight))
    scores: dict[int, list[float]] = defaultdict(list)
    count = 0
    for event in session.scalars(select(Event).order_by(Event.id)):
        score, detail = event_importance(
            event, float(links.get(event.id) or 0.0), moves.get(event.id, [])
        )
        if event.importance != score or event.importance_detail != detail:
            event.importance, event.importance_detail = score, detail
        if event.story_id is not None and event.parent_id is None:
            scores[event.story_id].append(score)
        count += 1
    for story in session.scalars(select(Story)):
        value = story_importance(scores.get(story.id, []))
        if story.importance != value:
            story.importance = value
    session.flush()
    return count
