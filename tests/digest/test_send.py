"""Sending against a real SMTP server on loopback, with the ledger on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.digest.conftest import (
    DAY,
    RECIPIENTS,
    SENDER,
    ScriptedHandler,
    StartServer,
    quiet_content,
    refusing_port,
    synthetic_content,
)
from tracker.db import Database
from tracker.digest import ledger
from tracker.digest.send import (
    IN_FLIGHT_STALE_AFTER,
    RetryPolicy,
    last_completed_session,
    send_digest,
)
from tracker.errors import ConfigError, UserInputError

START = datetime(2030, 3, 5, 12, 0, tzinfo=UTC)
NO_WAIT = RetryPolicy(attempts=3, first_delay=0.0)


class SimulatedCrash(Exception):
    """Stands for the process dying right after the server accepted a message."""


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _send(database: Database, server, **kwargs):
    kwargs.setdefault("content", synthetic_content())
    kwargs.setdefault("retry", NO_WAIT)
    kwargs.setdefault("clock", Clock())
    return send_digest(database, server.settings(), DAY, **kwargs)


def _statuses(database: Database) -> dict[str, str]:
    return {row.recipient: row.status for row in ledger.deliveries(database, DAY)}


def test_sends_one_message_per_recipient_and_records_it(
    database: Database, start_smtp: StartServer
) -> None:
    server = start_smtp()
    report = _send(database, server)
    assert [(r.recipient, r.outcome) for r in report.results] == [
        (RECIPIENTS[0], "sent"),
        (RECIPIENTS[1], "sent"),
    ]
    assert report.as_counts() == {"recipients": 2, "sent": 2}
    received = server.handler.received
    assert [(m.mail_from, m.rcpt_tos) for m in received] == [
        (SENDER, [RECIPIENTS[0]]),
        (SENDER, [RECIPIENTS[1]]),
    ]
    message = received[0].message
    assert message["To"] == RECIPIENTS[0]
    assert message["Message-ID"] == report.results[0].message_id
    assert message.get_content_type() == "multipart/alternative"
    html = message.get_body(("html",))
    assert "Synthetic event: a lab releases a model" in html.get_content()
    image = next(part for part in message.walk() if part.get_content_type() == "image/png")
    assert f"cid:{image['Content-ID'].strip('<>')}" in html.get_content()
    rows = ledger.deliveries(database, DAY)
    assert {(row.recipient, row.status, row.attempts) for row in rows} == {
        (RECIPIENTS[0], "sent", 1),
        (RECIPIENTS[1], "sent", 1),
    }
    assert all(row.sent_at == START for row in rows)


def test_a_second_run_sends_nothing(database: Database, start_smtp: StartServer) -> None:
    server = start_smtp()
    _send(database, server)
    again = _send(database, server, recipients=["ALICE@example.com", RECIPIENTS[1]])
    assert [r.outcome for r in again.results] == ["already sent", "already sent"]
    assert len(server.handler.received) == 2


def test_crash_between_send_and_record_never_sends_twice(
    database: Database, start_smtp: StartServer
) -> None:
    server = start_smtp()
    clock = Clock()

    def crash_after_first(recipient: str) -> None:
        if recipient == RECIPIENTS[0]:
            raise SimulatedCrash

    with pytest.raises(SimulatedCrash):
        _send(database, server, clock=clock, on_accepted=crash_after_first)
    assert len(server.handler.received) == 1  # accepted by the server ...
    assert _statuses(database) == {RECIPIENTS[0]: "sending"}  # ... but never recorded

    # A restart (or the standby scheduler) right away: the attempt might still be running.
    clock.now += timedelta(minutes=1)
    report = _send(database, server, clock=clock)
    assert [r.outcome for r in report.results] == ["in progress", "sent"]
    assert len(server.handler.received) == 2  # bob got his; alice got no second copy

    # Later the stale attempt is resolved as "unknown" for the operator, never resent.
    clock.now += IN_FLIGHT_STALE_AFTER
    report = _send(database, server, clock=clock)
    assert [r.outcome for r in report.results] == ["unknown", "already sent"]
    assert "may have been delivered" in report.results[0].detail
    assert _statuses(database) == {RECIPIENTS[0]: "unknown", RECIPIENTS[1]: "sent"}
    report = _send(database, server, clock=clock)
    assert report.results[0].outcome == "unknown"
    assert len(server.handler.received) == 2


def test_transient_failure_is_retried_with_backoff(
    database: Database, start_smtp: StartServer
) -> None:
    server = start_smtp(ScriptedHandler(data_replies=["451 4.3.0 Try again later"]))
    waits: list[float] = []
    report = _send(
        database,
        server,
        recipients=[RECIPIENTS[0]],
        retry=RetryPolicy(attempts=3, first_delay=2.0, factor=4.0),
        sleep=waits.append,
    )
    assert report.results[0].outcome == "sent"
    assert report.results[0].attempts == 2
    assert waits == [2.0]
    assert server.handler.data_commands == 2
    assert len(server.handler.received) == 1
    assert _statuses(database) == {RECIPIENTS[0]: "sent"}


def test_transient_failures_left_over_are_retried_on_the_next_run(
    database: Database, start_smtp: StartServer
) -> None:
    server = start_smtp(ScriptedHandler(data_replies=["451 4.3.0 Busy"] * 3))
    report = _send(database, server, recipients=[RECIPIENTS[0]])
    assert report.results[0].outcome == "failed"
    assert "451" in report.results[0].detail
    assert "retried on the next run" in report.results[0].detail
    row = ledger.find(database, DAY, RECIPIENTS[0])
    assert row is not None
    assert (row.status, row.attempts) == ("pending", 3)
    assert "451 4.3.0 Busy" in (row.error or "")
    report = _send(database, server, recipients=[RECIPIENTS[0]])
    assert report.results[0].outcome == "sent"
    assert len(server.handler.received) == 1


def test_permanent_refusal_is_recorded_per_recipient(
    database: Database, start_smtp: StartServer
) -> None:
    handler = ScriptedHandler(refuse={RECIPIENTS[0]: "550 5.1.1 No such user"})
    server = start_smtp(handler)
    report = _send(database, server)
    assert [(r.outcome, r.attempts) for r in report.results] == [("failed", 1), ("sent", 1)]
    assert "550 5.1.1 No such user" in report.results[0].detail
    assert [m.rcpt_tos for m in handler.received] == [[RECIPIENTS[1]]]
    assert _statuses(database) == {RECIPIENTS[0]: "failed", RECIPIENTS[1]: "sent"}
    again = _send(database, server)
    assert again.results[0].outcome == "failed"
    assert "recorded earlier" in again.results[0].detail
    assert len(handler.received) == 1


def test_unreachable_server_is_a_transient_failure(
    database: Database, start_smtp: StartServer
) -> None:
    server = start_smtp()
    with refusing_port() as port:
        settings = server.settings(smtp_port=port)  # nothing listens there
        report = send_digest(
            database, settings, DAY, content=synthetic_content(), retry=NO_WAIT, clock=Clock()
        )
    assert [r.outcome for r in report.results] == ["failed", "failed"]
    assert all("connect to 127.0.0.1" in r.detail for r in report.results)
    assert set(_statuses(database).values()) == {"pending"}


def test_quiet_day_is_sent_with_its_explicit_message(
    database: Database, start_smtp: StartServer
) -> None:
    server = start_smtp()
    report = _send(database, server, content=quiet_content(), recipients=[RECIPIENTS[0]])
    assert report.results[0].outcome == "sent"
    message = server.handler.received[0].message
    assert message["Subject"] == "AI market digest 2030-03-04: nothing material"
    assert "Nothing material" in message.get_body(("plain",)).get_content()
    assert all(part.get_content_maintype() != "image" for part in message.walk())


def test_header_injection_reaches_nobody_else(database: Database, start_smtp: StartServer) -> None:
    server = start_smtp()
    content = synthetic_content(title="Sell-off\r\nBcc: eve@example.com\r\nX-Evil: 1")
    _send(database, server, content=content, recipients=[RECIPIENTS[0]])
    (received,) = server.handler.received
    assert received.rcpt_tos == [RECIPIENTS[0]]
    assert received.message["Bcc"] is None
    assert received.message["X-Evil"] is None
    with pytest.raises(UserInputError):
        _send(database, server, recipients=["alice@example.com\r\nBcc: eve@example.com"])


def test_no_recipients_is_a_config_error(database: Database, start_smtp: StartServer) -> None:
    server = start_smtp()
    with pytest.raises(ConfigError, match=r"TRACKER_DIGEST_TO"):
        send_digest(database, server.settings(digest_to=""), DAY, content=quiet_content())


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2025, 1, 28, 12, 0, tzinfo=UTC), date(2025, 1, 27)),  # 07:00 New York
        (datetime(2025, 1, 27, 21, 0, tzinfo=UTC), date(2025, 1, 27)),  # just after the close
        (datetime(2025, 1, 27, 20, 0, tzinfo=UTC), date(2025, 1, 24)),  # before the close
        (datetime(2025, 1, 21, 12, 0, tzinfo=UTC), date(2025, 1, 17)),  # after the 01-20 holiday
    ],
)
def test_last_completed_session(now: datetime, expected: date) -> None:
    assert last_completed_session(now, "XNYS") == expected


def test_connection_lost_during_data_is_unknown_and_not_resent(
    database: Database, start_smtp: StartServer, dropping_server: int
) -> None:
    settings = start_smtp().settings(smtp_port=dropping_server)
    report = send_digest(
        database,
        settings,
        DAY,
        recipients=[RECIPIENTS[0]],
        content=synthetic_content(),
        retry=NO_WAIT,
        clock=Clock(),
    )
    assert report.results[0].outcome == "unknown"
    assert report.results[0].attempts == 1  # never retried within the run either
    assert "may have accepted" in report.results[0].detail
    assert _statuses(database) == {RECIPIENTS[0]: "unknown"}
