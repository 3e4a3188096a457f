"""Attribution: the documented ranking (pure) and its storage on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest
from sqlalchemy import func, select, update

from tracker.db import Database
from tracker.db.models import Attribution, Event, EventTicker, FirmImpact, Story
from tracker.errors import NotFoundError
from tracker.markets.universe import ensure_instruments
from tracker.measure.attribution import CANDIDATE_COLUMNS, compute_attributions, rank_candidates
from tracker.query.attribution import move_attribution

DAY = date(2025, 1, 27)


def _candidate(event_id: int, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "instrument_id": 1,
        "session_date": DAY,
        "event_id": event_id,
        "story_id": None,
        "lag": 0,
        "link": "text",
        "kind": "news",
        "title": f"event {event_id}",
        "source_count": 3,
        "is_novel": True,
        "importance": 0.0,
        "story_articles": 3,
    }
    row.update(overrides)
    return row


def _rank(*rows: dict[str, object]) -> pd.DataFrame:
    return rank_candidates(pd.DataFrame(list(rows), columns=list(CANDIDATE_COLUMNS)))


def _roles(ranked: pd.DataFrame) -> dict[int, str]:
    return dict(zip(ranked["event_id"], ranked["role"], strict=True))


def test_each_component_orders_as_documented() -> None:
    ranked = _rank(
        _candidate(1, link="theme"),
        _candidate(2, link="headline"),
        _candidate(3, link="headline", lag=2),
        _candidate(4, link="exposure"),
    )
    # 0.35 link + 0.35 timing (0.5 ** lag) + 0.15 coverage + 0.15 importance: a same-day
    # exposure (0.35 * 0.35 + 0.35) outranks a two-day-old headline (0.35 + 0.35 * 0.25)
    assert list(ranked["event_id"]) == [2, 4, 3, 1]
    assert (ranked["role"] == "primary").sum() == 1
    scores = list(ranked["score"])
    assert scores == sorted(scores, reverse=True)
    assert ranked["why"].str.len().min() > 20


def test_ranking_ties_break_by_lag_link_sources_then_lowest_id() -> None:
    twins = [_candidate(9), _candidate(5), _candidate(7)]
    for order in (twins, twins[::-1]):
        ranked = _rank(*order)
        assert ranked["score"].nunique() == 1
        assert list(ranked["event_id"]) == [5, 7, 9]
        assert _roles(ranked) == {5: "primary", 7: "confound", 9: "confound"}


def test_market_move_reports_are_halved_below_news() -> None:
    ranked = _rank(_candidate(1, kind="market_move", link="headline"), _candidate(2, link="theme"))
    assert list(ranked["event_id"]) == [2, 1]
    assert "reports the move itself" in ranked["why"].iloc[1]


def test_a_market_move_in_a_story_stands_for_the_story_and_is_not_halved() -> None:
    """The sell-off event of the DeepSeek story carries the reports folded into it: it
    outranks a same-day headline about the firm that no one else covered."""
    ranked = _rank(
        _candidate(1, kind="market_move", link="headline", story_id=10, story_articles=20),
        _candidate(2, link="headline", source_count=1, story_articles=1),
    )
    assert list(ranked["event_id"]) == [1, 2]
    assert "reports the move, for its story" in ranked["why"].iloc[0]


def test_same_story_folds_and_a_missing_story_is_its_own() -> None:
    ranked = _rank(
        _candidate(1, story_id=10, link="headline"),
        _candidate(2, story_id=10, link="theme"),
        _candidate(3, story_id=None, link="theme"),
        _candidate(4, story_id=None, link="theme", lag=1),
    )
    assert _roles(ranked) == {1: "primary", 2: "same_story", 3: "confound", 4: "confound"}
    alone = _rank(_candidate(3, link="headline"), _candidate(4, link="theme"))
    assert _roles(alone) == {3: "primary", 4: "confound"}


def test_a_ticker_with_two_stories_on_one_day() -> None:
    stargate = [_candidate(1, story_id=20, link="headline"), _candidate(2, story_id=20)]
    deepseek = [_candidate(3, story_id=30, link="theme"), _candidate(4, story_id=30)]
    ranked = _rank(*stargate, *deepseek)
    assert _roles(ranked) == {1: "primary", 2: "same_story", 3: "confound", 4: "confound"}
    louder = [_candidate(3, story_id=30, link="headline", source_count=40), deepseek[1]]
    swapped = _rank(*stargate, *louder)
    assert _roles(swapped) == {3: "primary", 4: "same_story", 1: "confound", 2: "confound"}


def test_moves_are_ranked_separately() -> None:
    ranked = _rank(_candidate(1), _candidate(2, instrument_id=2), _candidate(3, instrument_id=2))
    primaries = ranked[ranked["role"] == "primary"]
    assert sorted(primaries["instrument_id"]) == [1, 2]


@pytest.mark.parametrize(
    ("override", "message"),
    [({"link": "rumour"}, "unknown link strength"), ({"lag": -1}, "negative lag")],
)
def test_bad_candidates_are_refused(override: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _rank(_candidate(1, **override))


def test_missing_columns_are_named() -> None:
    with pytest.raises(ValueError, match="story_articles"):
        rank_candidates(pd.DataFrame([_candidate(1)]).drop(columns=["story_articles"]))


# --------------------------------------------------------------------------- storage


def _story(database: Database, slug: str) -> int:
    with database.session() as session:
        story = Story(slug=slug, title=slug.title(), origin="curated")
        session.add(story)
        session.flush()
        return story.id


def _event(
    database: Database,
    slug: str,
    day0: date,
    tickers: dict[str, str],
    *,
    story: int | None = None,
    sources: int = 2,
    moves: dict[str, float] | None = None,
) -> int:
    """An event linked to ``tickers`` (ticker -> stored reason) with [0,0] results."""
    with database.session() as session:
        ids = ensure_instruments(session, list(tickers))
        event = Event(
            slug=slug,
            title=f"synthetic {slug}",
            origin="detected",
            first_reported_at=datetime.combine(day0, datetime.min.time(), tzinfo=UTC),
            day0=day0,
            source_count=sources,
            article_count=sources,
            story_id=story,
        )
        session.add(event)
        session.flush()
        for ticker, reason in tickers.items():
            session.add(EventTicker(event_id=event.id, instrument_id=ids[ticker], reason=reason))
            if moves and ticker in moves:
                session.add(
                    FirmImpact(
                        event_id=event.id,
                        instrument_id=ids[ticker],
                        model="market",
                        window_start=0,
                        window_end=0,
                        status="ok",
                        day0=day0,
                        car=moves[ticker],
                        car_p=0.001,
                        q_value=0.004,
                        input_fingerprint="synthetic",
                    )
                )
        return event.id


def _roles_of(database: Database, ticker: str, day: date) -> dict[str, str]:
    with database.session() as session:
        found = move_attribution(session, ticker, day)
    return {c.event.slug: c.role for c in found.candidates}


def test_stored_attribution_with_stories(database: Database) -> None:
    deepseek, stargate = _story(database, "deepseek"), _story(database, "stargate")
    move = {"NVDA": -0.13}
    _event(database, "app-store", DAY, {"NVDA": "named in 4 articles"}, story=deepseek,
           sources=11, moves=move)  # fmt: skip
    _event(database, "janus", DAY, {"NVDA": "theme: AI efficiency"}, story=deepseek, moves=move)
    _event(database, "stargate", date(2025, 1, 21), {"NVDA": "named in 2 articles"},
           story=stargate)  # fmt: skip
    _event(database, "rtx", DAY, {"NVDA": "theme: AI capex"}, moves=move)
    report = compute_attributions(database, "XNYS")
    assert report.moves == 1
    assert report.candidates == 4
    assert _roles_of(database, "NVDA", DAY) == {
        "app-store": "primary",
        "janus": "same_story",
        "stargate": "confound",
        "rtx": "confound",
    }
    with database.session() as session:
        found = move_attribution(session, "nvda", DAY)
    record = found.as_json()
    assert list(record) == [
        "ticker", "session", "abnormal_return", "p_value", "q_value", "primary", "candidates",
    ]  # fmt: skip
    assert record["primary"]["event"]["slug"] == "app-store"
    assert record["primary"]["story"]["slug"] == "deepseek"
    assert set(record["primary"]) == {"event", "story", "score", "why"}
    assert set(record["candidates"][0]) == {"event", "story", "score", "why", "role"}
    assert record["abnormal_return"] == pytest.approx(-0.13)
    assert record["q_value"] == pytest.approx(0.004)
    # an idempotent rerun rewrites nothing
    assert compute_attributions(database, "XNYS").written == 0


def test_story_changes_rewrite_only_the_moves_they_touch(database: Database) -> None:
    story = _story(database, "deepseek")
    first = _event(database, "a", DAY, {"NVDA": "named in 1 article"}, moves={"NVDA": -0.1})
    _event(database, "b", DAY, {"NVDA": "theme: x"}, moves={"NVDA": -0.1})
    _event(database, "c", date(2025, 1, 28), {"VST": "theme: y"}, moves={"VST": 0.02})
    assert compute_attributions(database, "XNYS").written == 2
    assert _roles_of(database, "NVDA", DAY) == {"a": "primary", "b": "confound"}
    with database.session() as session:
        session.execute(update(Event).where(Event.slug.in_(["a", "b"])).values(story_id=story))
    again = compute_attributions(database, "XNYS")
    assert again.written == 1
    assert _roles_of(database, "NVDA", DAY) == {"a": "primary", "b": "same_story"}
    with database.session() as session:
        session.execute(
            update(FirmImpact).where(FirmImpact.event_id == first).values(status="pending")
        )
        session.execute(
            update(FirmImpact).where(FirmImpact.event_id != first).values(status="pending")
        )
    gone = compute_attributions(database, "XNYS")
    assert gone.removed == 2
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Attribution)) == 0


def test_ties_are_identical_on_both_backends(database: Database) -> None:
    later = _event(database, "later", DAY, {"NVDA": "named in 1 article"}, moves={"NVDA": -0.1})
    earlier = _event(database, "twin", DAY, {"NVDA": "named in 1 article"})
    assert earlier > later
    compute_attributions(database, "XNYS")
    with database.session() as session:
        rows = session.execute(
            select(
                Attribution.event_id, Attribution.rank, Attribution.score, Attribution.role
            ).order_by(Attribution.rank)
        ).all()
    assert rows[0].score == rows[1].score
    assert [(r.event_id, r.role) for r in rows] == [(later, "primary"), (earlier, "confound")]


def test_unknown_move_is_a_clear_error(database: Database) -> None:
    _event(database, "a", DAY, {"NVDA": "named in 1 article"}, moves={"NVDA": -0.1})
    compute_attributions(database, "XNYS")
    with database.session() as session, pytest.raises(NotFoundError, match="no attributed move"):
        move_attribution(session, "NVDA", date(2025, 1, 28))
    with database.session() as session, pytest.raises(NotFoundError, match="unknown ticker"):
        move_attribution(session, "NOPE", DAY)
