"""At most once per (digest date, recipient), proven with real processes and real races.

A sender is SIGKILLed after the SMTP server accepted its message and before the ledger
recorded it; two senders run at once against one ledger. The SMTP server is aiosmtpd on
loopback, the ledger is the real database on both backends.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, update

from tests.cli.runner import REPO_ROOT
from tests.digest.conftest import DAY, ScriptedHandler, StartServer, synthetic_content
from tracker.db import Database
from tracker.db import utcnow as send_utcnow
from tracker.db.models import DigestDelivery
from tracker.digest import ledger
from tracker.digest.send import IN_FLIGHT_STALE_AFTER, RetryPolicy, send_digest

WAIT_SECONDS = 240.0  # bounded, generous for a loaded machine
NO_WAIT = RetryPolicy(attempts=1, first_delay=0.0)


def sender(url: str, port: int, go: Path, *recipients: str, log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.digest.sender_process", url, str(port), str(go), *recipients],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        text=True,
    )


def outcomes(log: Path) -> dict[str, str]:
    lines = [line.split("\t") for line in log.read_text().splitlines() if "\t" in line]
    return {parts[0]: parts[1] for parts in lines}


class LockTheLedgerOnData(ScriptedHandler):
    """Before answering 250 to DATA, lock the ledger row in the test's own transaction, so
    the sender gets the acceptance and then blocks on its ledger update: the window to kill
    it in is held open, not hit by timing."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        self.connection: Any = None
        self.accepted = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.connection = self.engine.connect()
        self.connection.begin()
        self.connection.execute(
            update(DigestDelivery)
            .where(DigestDelivery.digest_date == DAY)
            .values(updated_at=DigestDelivery.updated_at)
        )
        reply = await super().handle_DATA(server, session, envelope)
        self.accepted.set()
        return reply

    def release(self) -> None:
        if self.connection is not None:
            self.connection.rollback()
            self.connection.close()
        self.engine.dispose()


def test_a_sender_killed_between_acceptance_and_the_ledger_never_sends_twice(
    database: Database, database_url: str, start_smtp: StartServer, tmp_path: Path
) -> None:
    handler = LockTheLedgerOnData(database_url)
    server = start_smtp(handler)
    go = tmp_path / "go"
    go.touch()
    process = sender(database_url, server.port, go, "alice@example.com", log=tmp_path / "a.log")
    try:
        assert handler.accepted.wait(WAIT_SECONDS), (tmp_path / "a.log").read_text()
        time.sleep(0.3)  # the sender now waits for the row the test holds
        assert process.poll() is None
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        handler.release()
    assert len(handler.received) == 1
    row = ledger.find(database, DAY, "alice@example.com")
    assert row is not None
    assert row.status == ledger.SENDING  # accepted, never recorded

    def send_at(now_offset: timedelta) -> str:
        report = send_digest(
            database,
            server.settings(digest_to="alice@example.com"),
            DAY,
            content=synthetic_content(),
            retry=NO_WAIT,
            clock=lambda: send_utcnow() + now_offset,
        )
        return report.results[0].outcome

    assert send_at(timedelta(0)) == "in progress"  # a restart right away: maybe still sending
    assert send_at(IN_FLIGHT_STALE_AFTER + timedelta(minutes=1)) == "unknown"
    assert send_at(IN_FLIGHT_STALE_AFTER + timedelta(minutes=2)) == "unknown"
    assert len(handler.received) == 1  # never a second copy without the operator


class SlowData(ScriptedHandler):
    """Takes its time over DATA, so two senders overlap for certain."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.4)
        return await super().handle_DATA(server, session, envelope)


def test_two_senders_at_once_deliver_each_recipient_once(
    database: Database, database_url: str, start_smtp: StartServer, tmp_path: Path
) -> None:
    handler = SlowData()
    server = start_smtp(handler)
    recipients = [f"reader{number}@example.com" for number in range(6)]
    go = tmp_path / "go"
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    processes = [sender(database_url, server.port, go, *recipients, log=log) for log in logs]
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while len(list(tmp_path.glob("go.*.ready"))) < len(processes):
            assert time.monotonic() < deadline, "the senders never became ready"
            assert all(process.poll() is None for process in processes)
            time.sleep(0.05)
        go.touch()
        for process in processes:
            assert process.wait(timeout=WAIT_SECONDS) == 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    delivered = Counter(rcpt for received in handler.received for rcpt in received.rcpt_tos)
    assert delivered == Counter(recipients)  # everyone once, nobody twice
    assert {row.status for row in ledger.deliveries(database, DAY)} == {ledger.SENT}
    first, second = (outcomes(log) for log in logs)
    assert set(first) == set(second) == set(recipients)
    for recipient in recipients:
        pair = sorted([first[recipient], second[recipient]])
        assert pair in (["already sent", "sent"], ["in progress", "sent"]), (recipient, pair)
    both = list(first.values()) + list(second.values())
    assert "in progress" in both  # the "another worker is sending it" branch ran


def test_a_worker_that_loses_the_race_to_start_sending_backs_off(
    database: Database, start_smtp: StartServer
) -> None:
    """Between one worker's claim and its attempt, another sends: the first sends nothing."""
    server = start_smtp()
    settings = server.settings(digest_to="alice@example.com")
    calls = 0
    others: list[str] = []

    def clock_that_lets_another_worker_in() -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:  # after the claim, before start_attempt
            other = send_digest(database, settings, DAY, content=synthetic_content())
            others.append(other.results[0].outcome)
        return send_utcnow()

    report = send_digest(
        database,
        settings,
        DAY,
        content=synthetic_content(),
        retry=NO_WAIT,
        clock=clock_that_lets_another_worker_in,
    )
    assert others == ["sent"]
    assert report.results[0].outcome == "in progress"
    assert report.results[0].detail == "another worker started sending it"
    assert len(server.handler.received) == 1


def test_a_stale_attempt_resolved_by_another_worker_first_is_left_to_it(
    database: Database, start_smtp: StartServer
) -> None:
    server = start_smtp()
    settings = server.settings(digest_to="alice@example.com")
    now = send_utcnow()
    row = ledger.claim(database, DAY, "alice@example.com", "<m@tracker.test>", now)
    assert ledger.start_attempt(database, row, now) is not None  # then the worker died
    later = now + IN_FLIGHT_STALE_AFTER + timedelta(minutes=1)
    calls = 0
    others: list[str] = []

    def clock() -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:  # after the staleness check, before mark_unknown
            other = send_digest(
                database, settings, DAY, content=synthetic_content(), clock=lambda: later
            )
            others.append(other.results[0].outcome)
        return later

    report = send_digest(
        database, settings, DAY, content=synthetic_content(), retry=NO_WAIT, clock=clock
    )
    assert others == ["unknown"]
    assert report.results[0].outcome == "in progress"
    assert "resolved it concurrently" in report.results[0].detail
    assert server.handler.received == []
