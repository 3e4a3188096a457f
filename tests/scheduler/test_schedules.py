"""Schedules are grids: calendar-aware, consistent, the same on every worker."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from tracker.impact import calendar as cal
from tracker.scheduler.schedules import (
    AfterSessionClose,
    DailyAt,
    DuringSessions,
    Every,
    due_between,
)
from tracker.scheduler.service import ScheduleTrigger

JAN_6 = datetime(2025, 1, 6, tzinfo=UTC)
JAN_14 = datetime(2025, 1, 14, tzinfo=UTC)


def test_after_close_runs_once_per_session_and_never_on_the_mourning_day() -> None:
    schedule = AfterSessionClose(timedelta(minutes=20))
    instants = list(due_between(schedule, JAN_6, JAN_14))
    sessions = [schedule.session_of(moment) for moment in instants]
    assert sessions == cal.sessions_between(JAN_6.date(), JAN_14.date() - timedelta(days=1))
    assert date(2025, 1, 9) not in sessions  # national day of mourning: cron would have run
    assert all(moment.weekday() < 5 for moment in instants)
    for session, moment in zip(sessions, instants, strict=True):
        assert moment == cal.session_close(session) + timedelta(minutes=20)


def test_after_close_runs_earlier_on_an_early_close() -> None:
    schedule = AfterSessionClose(timedelta(minutes=20))
    black_friday = schedule.next_after(datetime(2025, 11, 28, 5, tzinfo=UTC))
    monday = schedule.next_after(datetime(2025, 12, 1, 5, tzinfo=UTC))
    assert black_friday is not None
    assert monday is not None
    assert black_friday == cal.session_close(date(2025, 11, 28)) + timedelta(minutes=20)
    assert black_friday.time() < monday.time()  # 13:00 ET close, not 16:00
    assert schedule.session_of(black_friday) == date(2025, 11, 28)


@pytest.mark.parametrize(
    "schedule",
    [
        Every(timedelta(minutes=7)),
        AfterSessionClose(timedelta(minutes=20)),
        DuringSessions(timedelta(minutes=30)),
        DailyAt(time(7, 0), "America/New_York"),
    ],
    ids=["every", "after-close", "during-sessions", "daily-at"],
)
def test_latest_and_next_bracket_every_moment(schedule) -> None:
    moment = datetime(2025, 1, 17, 13, 1, tzinfo=UTC)
    while moment < datetime(2025, 1, 22, tzinfo=UTC):
        latest = schedule.latest_at_or_before(moment)
        upcoming = schedule.next_after(moment)
        assert latest is not None
        assert upcoming is not None
        assert latest <= moment < upcoming
        assert schedule.next_after(latest) == upcoming
        moment += timedelta(minutes=53)


def test_every_is_anchored_to_the_epoch_not_to_the_start() -> None:
    schedule = Every(timedelta(minutes=10))
    a = schedule.next_after(datetime(2025, 1, 6, 9, 3, 17, tzinfo=UTC))
    b = schedule.next_after(datetime(2025, 1, 6, 9, 8, 59, tzinfo=UTC))
    assert a == b == datetime(2025, 1, 6, 9, 10, tzinfo=UTC)


def test_during_sessions_stays_inside_sessions_and_ends_at_the_close() -> None:
    schedule = DuringSessions(timedelta(minutes=30))
    instants = list(due_between(schedule, JAN_6, JAN_14))
    days = {moment.date() for moment in instants}
    assert date(2025, 1, 9) not in days
    assert date(2025, 1, 11) not in days
    for day in cal.sessions_between(JAN_6.date(), JAN_14.date() - timedelta(days=1)):
        on_day = [moment for moment in instants if moment.date() == day]
        assert on_day[-1] == cal.session_close(day)
        assert all(moment <= cal.session_close(day) for moment in on_day)


def test_daily_at_follows_daylight_saving() -> None:
    schedule = DailyAt(time(7, 0), "America/New_York")
    winter = schedule.next_after(datetime(2025, 1, 15, tzinfo=UTC))
    summer = schedule.next_after(datetime(2025, 7, 15, tzinfo=UTC))
    assert winter == datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
    assert summer == datetime(2025, 7, 15, 11, 0, tzinfo=UTC)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        Every(timedelta(minutes=1)).next_after(datetime(2025, 1, 6))


def test_apscheduler_trigger_walks_the_schedule() -> None:
    schedule = AfterSessionClose(timedelta(minutes=20))
    trigger = ScheduleTrigger(schedule)
    first = trigger.get_next_fire_time(None, datetime(2025, 1, 8, 22, tzinfo=UTC))
    second = trigger.get_next_fire_time(first, datetime(2025, 1, 8, 22, tzinfo=UTC))
    assert first is not None
    assert second is not None
    assert schedule.session_of(first) == date(2025, 1, 10)  # skips the 9th
    assert schedule.session_of(second) == date(2025, 1, 13)
