"""``tracker status`` data: job lag, failing feeds, per-ticker freshness.

Bar values below are synthetic placeholders; only the dates matter to freshness.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tracker.db.models import DailyBar, Feed
from tracker.impact import calendar as cal
from tracker.markets.universe import ensure_instruments
from tracker.scheduler import runlog
from tracker.scheduler.jobs import JobSpec
from tracker.scheduler.schedules import AfterSessionClose
from tracker.scheduler.status import collect_status, last_closed_session

NOW = datetime(2025, 1, 15, 18, 0, tzinfo=UTC)  # Wednesday, session open
DAILY = AfterSessionClose(timedelta(minutes=20))


def noop(ctx):
    return None


def test_last_closed_session_skips_holidays_and_open_sessions() -> None:
    assert last_closed_session(NOW, "XNYS") == date(2025, 1, 14)
    assert last_closed_session(datetime(2025, 1, 10, 12, tzinfo=UTC), "XNYS") == date(2025, 1, 8)
    after_close = cal.session_close(date(2025, 1, 15)) + timedelta(seconds=1)
    assert last_closed_session(after_close, "XNYS") == date(2025, 1, 15)


def test_status_reports_lag_failures_and_freshness(database) -> None:
    done = DAILY.latest_at_or_before(NOW - timedelta(days=3))
    assert done is not None
    run_id = runlog.claim_run(database, "prices.daily", done, "w:1", done)
    assert run_id is not None
    runlog.finish_run(
        database,
        run_id,
        status=runlog.RunStatus.success,
        finished_at=done,
        counts={"bars": 2},
        advance_watermark=("prices.daily", done),
    )
    with database.session() as session:
        ids = ensure_instruments(session, ["NVDA", "VST"])
        for day in (date(2025, 1, 13), date(2025, 1, 14)):
            session.add(DailyBar(instrument_id=ids["NVDA"], date=day, close=1.0))
        session.add(DailyBar(instrument_id=ids["VST"], date=date(2025, 1, 8), close=1.0))
        session.add(
            Feed(
                url="https://example.invalid/rss",
                name="Broken",
                error_count=3,
                failing_since=NOW - timedelta(hours=5),
                last_error="HTTP 500\ntrace",
            )
        )
        session.add(Feed(url="https://example.invalid/ok", name="Fine", error_count=0))

    report = collect_status(
        database, [JobSpec("prices.daily", DAILY, noop, timedelta(hours=1))], NOW, "XNYS"
    )
    (job,) = report.jobs
    due = DAILY.latest_at_or_before(NOW)
    assert due is not None
    assert job["last_status"] == "success"
    assert job["last_scheduled_for"] == done
    assert job["lag_seconds"] == (due - done).total_seconds() > 0
    assert [feed["feed"] for feed in report.failing_feeds] == ["Broken"]
    assert report.failing_feeds[0]["last_error"] == "HTTP 500"
    fresh = {row["ticker"]: row for row in report.freshness}
    assert fresh["NVDA"]["sessions_behind"] == 0
    assert fresh["VST"]["sessions_behind"] == len(
        cal.sessions_between(date(2025, 1, 9), date(2025, 1, 14))
    )
    assert set(report.as_dict()) == {"jobs", "failing_feeds", "freshness"}
