"""The job-run log: one claim per (job, scheduled_for), outcomes, forward-only watermarks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tracker.db.models import JobRun
from tracker.scheduler import runlog

T0 = datetime(2025, 1, 15, 21, 20, tzinfo=UTC)


def test_a_run_can_be_claimed_only_once(database) -> None:
    first = runlog.claim_run(database, "prices.daily", T0, "a:1", T0)
    again = runlog.claim_run(database, "prices.daily", T0, "b:2", T0)
    other_job = runlog.claim_run(database, "news.poll", T0, "b:2", T0)
    assert first is not None
    assert other_job is not None
    assert again is None
    with database.session() as session:
        rows = session.scalars(select(JobRun).where(JobRun.job == "prices.daily")).all()
    assert [(row.worker, row.status) for row in rows] == [("a:1", "running")]


def test_finish_records_counts_and_moves_the_watermark_forward_only(database) -> None:
    later = T0 + timedelta(days=1)
    for moment in (later, T0):  # the older run finishes last
        run_id = runlog.claim_run(database, "prices.daily", moment, "a:1", moment)
        assert run_id is not None
        runlog.finish_run(
            database,
            run_id,
            status=runlog.RunStatus.success,
            finished_at=moment + timedelta(minutes=1),
            counts={"bars": 33},
            advance_watermark=("prices.daily", moment),
        )
    assert runlog.job_watermark(database, "prices.daily") == later
    runs = runlog.recent_runs(database, "prices.daily")
    assert [run.counts for run in runs] == [{"bars": 33}, {"bars": 33}]
    assert all(run.status == "success" and run.finished_at is not None for run in runs)


def test_a_failure_keeps_its_error_and_leaves_the_watermark(database) -> None:
    run_id = runlog.claim_run(database, "news.poll", T0, "a:1", T0)
    assert run_id is not None
    runlog.finish_run(
        database, run_id, status=runlog.RunStatus.failed, finished_at=T0, error="boom"
    )
    (run,) = runlog.recent_runs(database, "news.poll")
    assert (run.status, run.error) == ("failed", "boom")
    assert runlog.job_watermark(database, "news.poll") is None


def test_a_new_leader_closes_runs_left_open_by_dead_workers(database) -> None:
    dead = runlog.claim_run(database, "prices.daily", T0, "old:1", T0)
    mine = runlog.claim_run(database, "news.poll", T0, "new:2", T0)
    assert dead is not None
    assert mine is not None
    assert runlog.abandon_others(database, "new:2", T0 + timedelta(minutes=5)) == 1
    with database.session() as session:
        status = {run.job: run.status for run in session.scalars(select(JobRun))}
    assert status == {"prices.daily": "abandoned", "news.poll": "running"}
