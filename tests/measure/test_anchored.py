"""The study at the attention day 0 and the sensitivity strip, stored apart, same engine."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tracker.config import Settings
from tracker.db import Database
from tracker.db.models import AnchoredImpact, Event, FirmImpact, Instrument
from tracker.errors import UserInputError
from tracker.ingest.shares import ingest_shares
from tracker.measure.anchored import SHIFTS, compute_anchored, shifted_session
from tracker.measure.read import event_impact
from tracker.measure.service import compute_impacts
from tracker.sources.shares import RecordedSharesSource

from .recorded import Events

SELLOFF = date(2025, 1, 27)


def publication_car(database: Database, event_id: int, ticker: str) -> float | None:
    with database.session() as session:
        return session.scalars(
            select(FirmImpact.car)
            .join(Instrument, Instrument.id == FirmImpact.instrument_id)
            .where(
                FirmImpact.event_id == event_id,
                Instrument.ticker == ticker,
                FirmImpact.window_start == 0,
                FirmImpact.window_end == 0,
            )
        ).one()


def anchored_rows(database: Database, event_id: int) -> dict[tuple[str, int, str], AnchoredImpact]:
    with database.session() as session:
        rows = session.scalars(
            select(AnchoredImpact).where(
                AnchoredImpact.event_id == event_id,
                AnchoredImpact.window_start == 0,
                AnchoredImpact.window_end == 0,
            )
        ).all()
    return {(r.anchor, r.shift, r.subject): r for r in rows}


@pytest.fixture
def r1_noticed_late(
    priced_database: Database, settings: Settings, january: Events, data_dir: Path
) -> Events:
    """R1 (day 0 2025-01-21) with its attention day 0 on the sell-off, shares loaded."""
    source = RecordedSharesSource(data_dir)
    ingest_shares(priced_database, source, source.available_tickers())
    compute_impacts(priced_database, settings)
    with priced_database.session() as session:
        session.execute(update(Event).where(Event.id == january.r1).values(attention_day0=SELLOFF))
    return january


def test_attention_anchored_numbers_are_the_engines_at_that_day(
    priced_database: Database, settings: Settings, r1_noticed_late: Events
) -> None:
    report = compute_anchored(priced_database, settings)
    assert report.failed == []
    rows = anchored_rows(priced_database, r1_noticed_late.r1)
    at_attention = rows[("attention", 0, "NVDA")]
    assert at_attention.day0 == SELLOFF
    # the same pair measured at the same day 0 by the same engine: the sell-off's own number
    assert at_attention.car == publication_car(priced_database, r1_noticed_late.selloff, "NVDA")
    assert at_attention.car == pytest.approx(-0.133, abs=0.005)
    shares = at_attention.statistics["shares"]
    assert shares["shares_outstanding"] == 24_490_000_000
    assert shares["shares_rule"] == "in force"
    value = at_attention.statistics["value_change"]
    assert value == pytest.approx(24.49e9 * (118.42 - 142.62), rel=1e-6)  # about -$592.7 bn
    # the publication-anchored rows are untouched
    assert publication_car(priced_database, r1_noticed_late.r1, "NVDA") == pytest.approx(
        rows[("shift", 0, "NVDA")].car, rel=1e-12
    )


def test_the_sensitivity_strip_shows_when_the_price_moved(
    priced_database: Database, settings: Settings, r1_noticed_late: Events
) -> None:
    compute_anchored(priced_database, settings)
    rows = anchored_rows(priced_database, r1_noticed_late.r1)
    strip = {shift: rows[("shift", shift, "NVDA")] for shift in SHIFTS}
    assert [strip[s].day0 for s in (-2, 0, 4, 5)] == [
        date(2025, 1, 16),  # 01-20 was a holiday: two sessions back is the 16th
        date(2025, 1, 21),
        SELLOFF,
        date(2025, 1, 28),
    ]
    biggest = min(strip, key=lambda s: strip[s].car or 0.0)
    assert biggest == 4
    assert ("shift", 4, "basket:ai_semis") not in rows  # R1 is linked to NVDA alone: no group
    assert shifted_session(date(2025, 1, 21), -1, "XNYS") == date(2025, 1, 17)


def test_rerun_is_idempotent_and_a_cleared_attention_day0_removes_its_rows(
    priced_database: Database, settings: Settings, r1_noticed_late: Events
) -> None:
    first = compute_anchored(priced_database, settings)
    assert first.written == 3
    again = compute_anchored(priced_database, settings)
    assert (again.written, again.unchanged) == (0, 3)
    with priced_database.session() as session:
        session.execute(
            update(Event).where(Event.id == r1_noticed_late.r1).values(attention_day0=None)
        )
    cleared = compute_anchored(priced_database, settings)
    assert cleared.written == 1
    assert not any(k[0] == "attention" for k in anchored_rows(priced_database, r1_noticed_late.r1))


def test_query_at_the_attention_anchor_reads_stored_and_on_the_fly_alike(
    priced_database: Database, settings: Settings, r1_noticed_late: Events
) -> None:
    compute_anchored(priced_database, settings)
    stored = event_impact(priced_database, settings, "deepseek-r1-released", window="0,0",
                          anchor="attention")  # fmt: skip
    fresh = event_impact(priced_database, settings, "deepseek-r1-released", window="0,0",
                         anchor="attention", compute=True)  # fmt: skip
    assert stored == fresh
    assert stored["day0"] == "2025-01-21"
    assert stored["attention_day0"] == "2025-01-27"
    assert stored["anchor_day0"] == "2025-01-27"
    nvda = stored["firms"][0]
    assert nvda["car"] == pytest.approx(-0.133, abs=0.005)
    publication = event_impact(priced_database, settings, "deepseek-r1-released", window="0,0")
    assert publication["anchor_day0"] == "2025-01-21"
    assert publication["firms"][0]["car"] != nvda["car"]
    with pytest.raises(UserInputError, match="anchor"):
        event_impact(priced_database, settings, "deepseek-r1-released", anchor="later")


def test_basket_value_change_sums_members_with_a_count_and_names_the_rest(
    priced_database: Database, settings: Settings, r1_noticed_late: Events
) -> None:
    impact = event_impact(priced_database, settings, "deepseek-selloff", window="0,0")
    firms = {f["ticker"]: f for f in impact["firms"]}
    semis = impact["value_change"]["baskets"]["ai_semis"]
    counted = list(semis["counted"])
    assert set(counted) == {"NVDA", "AVGO"}  # the recorded filings of the semis
    assert set(semis["without_count"]) == {"TSM", "MRVL"}
    assert semis["value_change"] == pytest.approx(
        sum(firms[t]["value_change"] for t in counted), rel=1e-12
    )
    assert firms["TSM"]["shares"]["shares_note"] == "no share count stored for this ticker"
    power = impact["value_change"]["baskets"]["ai_power"]
    # TLN's only filed count is dated after day 0: it stands in, and the output says so
    assert power["counted"] == ["TLN"]
    assert firms["TLN"]["shares"]["shares_rule"] == "first after day 0"
