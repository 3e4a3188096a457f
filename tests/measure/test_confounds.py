"""The confound ledger: other events, earnings, macro releases, dividends and splits."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from importlib import resources

from sqlalchemy import update

from tracker.db import Database
from tracker.db.models import CorporateAction, Event, EventTicker, Story
from tracker.impact.calendar import is_session
from tracker.markets.universe import ensure_instruments
from tracker.measure.confounds import compute_confounds, macro_releases
from tracker.query.attribution import event_confounds, flagged

SPAN = (-5, 5)


def _event(database: Database, slug: str, day0: date, *, kind: str = "news") -> int:
    with database.session() as session:
        ids = ensure_instruments(session, ["NVDA"])
        event = Event(
            slug=slug,
            title=f"synthetic {slug}",
            kind=kind,
            origin="detected",
            first_reported_at=datetime.combine(day0, datetime.min.time(), tzinfo=UTC),
            day0=day0,
        )
        session.add(event)
        session.flush()
        session.add(EventTicker(event_id=event.id, instrument_id=ids["NVDA"], reason="named"))
        return event.id


def _action(database: Database, kind: str, day: date, value: float) -> None:
    with database.session() as session:
        ids = ensure_instruments(session, ["NVDA"])
        session.add(CorporateAction(instrument_id=ids["NVDA"], kind=kind, ex_date=day, value=value))


def test_macro_table_is_sessions_with_sources() -> None:
    text = resources.files("tracker.measure").joinpath("data/macro_releases.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(macro_releases())
    assert {row["kind"] for row in rows} == {"fomc", "cpi"}
    for release in macro_releases():
        assert is_session(release.day, "XNYS"), release
        assert release.source.startswith("https://")
    fomc = {r.day for r in macro_releases() if r.kind == "fomc"}
    assert date(2025, 1, 29) in fomc  # the decision two days after the sell-off
    assert sum(1 for d in fomc if d.year == 2024) == 8  # eight scheduled meetings a year


def test_ledger_lists_every_kind_inside_the_span(database: Database) -> None:
    r1 = _event(database, "r1", date(2025, 1, 21))
    _event(database, "stargate", date(2025, 1, 22))
    _event(database, "results", date(2025, 1, 24), kind="earnings")
    _event(database, "far-away", date(2025, 3, 3))
    _action(database, "dividend", date(2025, 1, 23), 0.01)
    _action(database, "split", date(2025, 1, 27), 10.0)
    report = compute_confounds(database, "XNYS", SPAN)
    assert report.pairs == 3  # the far-away event has nothing within its span
    with database.session() as session:
        ledger = event_confounds(session, r1, SPAN)
    rows = [(r.kind, r.date, r.relative_day) for r in next(iter(ledger.values()))]
    assert rows == [
        ("macro", date(2025, 1, 15), -3),  # CPI; 2025-01-20 was a holiday
        ("event", date(2025, 1, 22), 1),
        ("dividend", date(2025, 1, 23), 2),
        ("earnings", date(2025, 1, 24), 3),
        ("split", date(2025, 1, 27), 4),
    ]  # the FOMC decision of 2025-01-29 is day +6, outside the span
    with database.session() as session:
        narrow = event_confounds(session, r1, (0, 1))
    assert [r.title for r in next(iter(narrow.values()))] == ["synthetic stargate"]
    assert compute_confounds(database, "XNYS", SPAN).written_pairs == 0


def test_events_of_the_same_story_do_not_flag_a_result(database: Database) -> None:
    r1 = _event(database, "r1", date(2025, 1, 21))
    other = _event(database, "ars", date(2025, 1, 21))
    compute_confounds(database, "XNYS", SPAN)
    with database.session() as session:
        rows = next(iter(event_confounds(session, r1, (0, 1)).values()))
    assert [r.title for r in flagged(rows, None, r1)] == ["synthetic ars"]
    with database.session() as session:
        story = Story(slug="deepseek", title="DeepSeek", origin="curated")
        session.add(story)
        session.flush()
        session.execute(update(Event).where(Event.id.in_([r1, other])).values(story_id=story.id))
        story_id = story.id
    report = compute_confounds(database, "XNYS", SPAN)
    assert report.written_pairs == 2  # both (event, NVDA) pairs carry the new story
    with database.session() as session:
        rows = next(iter(event_confounds(session, r1, (0, 1)).values()))
    assert flagged(rows, story_id, r1) == []
