"""Event time -> day 0 on the NYSE calendar (IMPACT_SPEC.md §1)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pandas as pd
import pytest

from tracker.impact.calendar import (
    closes_after,
    first_affected_session,
    is_session,
    mapping_rule,
    session_close,
    sessions_between,
)


@pytest.mark.parametrize(
    ("ts", "day0"),
    [
        (datetime(2025, 1, 20, 15, 0, tzinfo=UTC), date(2025, 1, 21)),  # R1 on a holiday
        (datetime(2025, 1, 24, 21, 30, tzinfo=UTC), date(2025, 1, 27)),  # Friday after close
        (datetime(2025, 1, 24, 21, 0, tzinfo=UTC), date(2025, 1, 27)),  # at the close: next
        (datetime(2025, 1, 24, 20, 59, 59, tzinfo=UTC), date(2025, 1, 24)),
        (datetime(2025, 1, 25, 12, 0, tzinfo=UTC), date(2025, 1, 27)),  # Saturday
        (datetime(2025, 1, 8, 22, 0, tzinfo=UTC), date(2025, 1, 10)),  # 01-09 closed (Carter)
        (datetime(2024, 11, 29, 18, 30, tzinfo=UTC), date(2024, 12, 2)),  # after early close
        (datetime(2024, 11, 29, 17, 59, tzinfo=UTC), date(2024, 11, 29)),
        (datetime(2025, 7, 1, 19, 59, tzinfo=UTC), date(2025, 7, 1)),  # EDT close is 20:00Z
        (datetime(2025, 7, 1, 20, 0, tzinfo=UTC), date(2025, 7, 2)),
        (datetime(2027, 12, 31, 22, 0, tzinfo=UTC), date(2028, 1, 3)),  # calendar reaches 2028
    ],
)
def test_first_affected_session(ts, day0):
    assert first_affected_session(ts) == day0


def test_other_zones_are_converted_not_misread():
    tokyo = timezone(timedelta(hours=9))
    assert first_affected_session(datetime(2025, 1, 25, 5, 0, tzinfo=tokyo)) == date(2025, 1, 24)


def test_naive_and_out_of_range_timestamps_are_rejected():
    with pytest.raises(ValueError, match="naive"):
        first_affected_session(datetime(2025, 1, 20, 15, 0))
    with pytest.raises(ValueError):
        first_affected_session(datetime(1999, 6, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        first_affected_session(datetime(2031, 6, 1, tzinfo=UTC))


def test_sessions_and_closes():
    assert not is_session(date(2025, 1, 9))
    assert not is_session("2025-01-20")
    assert is_session(date(2025, 1, 21))
    assert sessions_between("2025-01-17", "2025-01-22") == [
        date(2025, 1, 17), date(2025, 1, 21), date(2025, 1, 22),
    ]  # fmt: skip
    assert session_close(date(2024, 11, 29)) == datetime(2024, 11, 29, 18, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        session_close(date(2025, 1, 20))
    closes = closes_after(pd.DatetimeIndex(["2025-01-24 20:30", "2025-01-24 21:00"], tz="UTC"))
    assert list(closes.date) == [date(2025, 1, 24), date(2025, 1, 27)]
    assert "XNYS" in mapping_rule()


def test_recorded_sessions_match_the_calendar(data_dir):
    dates = pd.read_csv(data_dir / "prices" / "daily" / "SPY.csv", usecols=["date"])["date"]
    assert [d.isoformat() for d in sessions_between(dates.iloc[0], dates.iloc[-1])] == list(dates)
