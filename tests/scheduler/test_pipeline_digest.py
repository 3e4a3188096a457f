"""The scheduler's real ``digest.send`` job against aiosmtpd on loopback, run by the runner.

A day whose digest did not reach everyone is a failed run (the watermark stays), and the
next run sends it: transient failures left pending, refusals, and days missed entirely.
Outcomes that may have been delivered (``unknown``) are left to the operator.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.digest.conftest import RECIPIENTS, ScriptedHandler, StartServer, refusing_port
from tracker.db import Database
from tracker.digest import ledger, send
from tracker.scheduler import runlog
from tracker.scheduler.clock import ManualClock
from tracker.scheduler.pipeline import pipeline_jobs
from tracker.scheduler.runner import JobRunner, Outcome

# 07:00 in New York on two mornings after sessions 2025-01-27 and 2025-01-28.
MONDAY_DIGEST = datetime(2025, 1, 28, 12, 0, tzinfo=UTC)
TUESDAY_DIGEST = datetime(2025, 1, 29, 12, 0, tzinfo=UTC)
MONDAY, TUESDAY = date(2025, 1, 27), date(2025, 1, 28)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(send, "SCHEDULED_RETRY", send.RetryPolicy(attempts=2, first_delay=0.0))


def run_digest_job(database: Database, settings, at: datetime):
    spec = next(job for job in pipeline_jobs(settings) if job.id == "digest.send")
    clock = ManualClock(at + timedelta(minutes=1))
    runner = JobRunner(database, settings, clock, worker="test:1:boot")
    return runner.run(spec, at)


def statuses(database: Database, day: date) -> dict[str, str]:
    return {row.recipient: row.status for row in ledger.deliveries(database, day)}


def test_without_recipients_the_job_is_skipped_in_one_line(
    database: Database, start_smtp: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = start_smtp()
    with caplog.at_level(logging.INFO):
        result = run_digest_job(database, server.settings(digest_to=""), MONDAY_DIGEST)
    assert result.outcome is Outcome.success
    assert result.counts == {"skipped_no_recipients": 1}
    said = [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("tracker") and record.levelno >= logging.WARNING
    ]
    assert len(said) == 1
    assert "TRACKER_DIGEST_TO" in said[0]
    # Recipients configured later: the next morning's run sends.
    sent = run_digest_job(database, server.settings(), TUESDAY_DIGEST)
    assert sent.outcome is Outcome.success
    assert statuses(database, TUESDAY) == dict.fromkeys(RECIPIENTS, "sent")


def test_smtp_down_fails_the_run_and_the_next_run_sends_that_day_too(
    database: Database, start_smtp: StartServer
) -> None:
    server = start_smtp()
    with refusing_port() as port:
        down = run_digest_job(database, server.settings(smtp_port=port), MONDAY_DIGEST)
    assert down.outcome is Outcome.failed
    assert "not completed" in (down.error or "")
    assert runlog.job_watermark(database, "digest.send") is None  # not logged as done
    assert set(statuses(database, MONDAY).values()) == {"pending"}

    up = run_digest_job(database, server.settings(), TUESDAY_DIGEST)
    assert up.outcome is Outcome.success
    assert up.counts["days"] == 2
    assert statuses(database, MONDAY) == dict.fromkeys(RECIPIENTS, "sent")
    assert statuses(database, TUESDAY) == dict.fromkeys(RECIPIENTS, "sent")
    assert len(server.handler.received) == 4
    assert runlog.job_watermark(database, "digest.send") == TUESDAY_DIGEST


def test_a_refused_delivery_of_an_earlier_day_is_retried(
    database: Database, start_smtp: StartServer
) -> None:
    handler = ScriptedHandler(refuse={RECIPIENTS[0]: "550 5.2.1 Mailbox disabled"})
    server = start_smtp(handler)
    first = run_digest_job(database, server.settings(), MONDAY_DIGEST)
    assert first.outcome is Outcome.failed
    assert statuses(database, MONDAY) == {RECIPIENTS[0]: "failed", RECIPIENTS[1]: "sent"}

    handler.refuse.clear()  # the mailbox works again
    second = run_digest_job(database, server.settings(), TUESDAY_DIGEST)
    assert second.outcome is Outcome.success
    assert statuses(database, MONDAY) == dict.fromkeys(RECIPIENTS, "sent")
    received = sorted((m.message["Subject"], m.rcpt_tos[0]) for m in handler.received)
    assert [rcpt for _, rcpt in received].count(RECIPIENTS[1]) == 2  # Monday once, Tuesday once
    assert [rcpt for _, rcpt in received].count(RECIPIENTS[0]) == 2


def test_an_unknown_outcome_is_reported_once_and_never_resent_by_the_job(
    database: Database, start_smtp: StartServer
) -> None:
    server = start_smtp()
    settings = server.settings(digest_to=RECIPIENTS[0])
    # An attempt that started and never recorded its end (the worker was killed).
    claimed_at = MONDAY_DIGEST - send.IN_FLIGHT_STALE_AFTER - timedelta(minutes=5)
    row = ledger.claim(database, MONDAY, RECIPIENTS[0], "<m@tracker.test>", claimed_at)
    assert ledger.start_attempt(database, row, claimed_at) is not None

    first = run_digest_job(database, settings, MONDAY_DIGEST)
    assert first.outcome is Outcome.failed
    assert "unknown" in (first.error or "")
    assert statuses(database, MONDAY) == {RECIPIENTS[0]: "unknown"}
    second = run_digest_job(database, settings, TUESDAY_DIGEST)
    assert second.outcome is Outcome.success  # Tuesday went out; Monday awaits the operator
    assert statuses(database, MONDAY) == {RECIPIENTS[0]: "unknown"}
    assert [m.message["Subject"] for m in server.handler.received] == [
        "AI market digest 2025-01-28: nothing material"
    ]
