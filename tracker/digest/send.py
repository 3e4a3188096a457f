"""Send a day's digest to its recipients: at most once per (digest date, recipient).

``send_digest`` is the one path: the CLI (``tracker digest send|retry``) and the scheduler's
``send_scheduled_digest`` both call it. Per recipient it claims the ledger row (see
``ledger`` for the state machine and the at-most-once choice), sends, and records the outcome;
one recipient's failure never stops the others.

The scheduled job is not done until every recipient has the digest: a run that leaves a
delivery failed, unknown or in progress raises ``DigestIncomplete`` (the job-run log shows it
failed and the watermark stays), and every run also retries the ``pending`` and ``failed``
deliveries of the last ``CATCH_UP_SESSIONS`` sessions and sends the sessions it missed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from tracker.config import Settings
from tracker.db import Database, utcnow
from tracker.digest import ledger
from tracker.digest.addresses import validate_digest_settings, validate_recipients
from tracker.digest.content import DigestContent, build_digest_content
from tracker.digest.message import RenderedDigest, build_message, digest_message_id, render_digest
from tracker.digest.transport import (
    AmbiguousSmtpError,
    PermanentSmtpError,
    SmtpTransport,
    TransientSmtpError,
)
from tracker.errors import ConfigError
from tracker.impact.calendar import first_affected_session, sessions_between

log = logging.getLogger(__name__)

# Longer than any one attempt can take (connect + TLS + login + DATA, each bounded by the
# transport's timeout), so a ``sending`` row this old belongs to a worker that died.
IN_FLIGHT_STALE_AFTER = timedelta(minutes=15)

SENT = "sent"
ALREADY_SENT = "already sent"
FAILED = "failed"
UNKNOWN = "unknown"
IN_PROGRESS = "in progress"
CATCH_UP_SESSIONS = 5  # how far back the scheduled job sends missed days and retries


class DigestIncomplete(Exception):
    """A scheduled run left some delivery not sent; the run is logged as failed."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a transient failure is retried within one run."""

    attempts: int = 3
    first_delay: float = 2.0
    factor: float = 4.0
    max_delay: float = 60.0

    def delay(self, failed_attempts: int) -> float:
        return float(min(self.max_delay, self.first_delay * self.factor ** (failed_attempts - 1)))


SCHEDULED_RETRY = RetryPolicy()  # read at each run (tests shorten it)


@dataclass(frozen=True)
class RecipientResult:
    """What happened for one recipient; ``detail`` says why for anything but a plain send."""

    recipient: str
    outcome: str
    message_id: str
    attempts: int
    detail: str = ""
    earlier: bool = False  # an outcome recorded by an earlier run, reported again

    @property
    def needs_attention(self) -> bool:
        """Not delivered (or not known to be) by this run's doing."""
        if self.outcome in (SENT, ALREADY_SENT):
            return False
        return not (self.outcome == UNKNOWN and self.earlier)


@dataclass(frozen=True)
class DigestReport:
    date: date
    results: list[RecipientResult] = field(default_factory=list)

    def as_counts(self) -> dict[str, int]:
        """Counts per outcome for the job-run log, e.g. ``{"sent": 2, "failed": 1}``."""
        counts = Counter(result.outcome.replace(" ", "_") for result in self.results)
        return {"recipients": len(self.results), **dict(sorted(counts.items()))}

    @property
    def ok(self) -> bool:
        return all(result.outcome in (SENT, ALREADY_SENT) for result in self.results)


def last_completed_session(now: datetime, calendar: str) -> date:
    """The most recent session whose close is at or before ``now``."""
    upcoming = first_affected_session(now, calendar)  # first session closing after now
    sessions = sessions_between(upcoming - timedelta(days=14), upcoming, calendar)
    return sessions[-2]


def send_digest(
    db: Database,
    settings: Settings,
    day: date,
    *,
    recipients: Sequence[str] | None = None,
    content: DigestContent | None = None,
    transport: SmtpTransport | None = None,
    retry: RetryPolicy | None = None,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    on_accepted: Callable[[str], None] | None = None,
    reopen: frozenset[str] = frozenset(),
) -> DigestReport:
    """Send ``day``'s digest to ``recipients`` (default: ``TRACKER_DIGEST_TO``).

    ``reopen`` names ledger statuses (``failed``, ``unknown``) to move back to ``pending`` and
    send again; by default a recorded failure or unknown outcome is reported, not resent.

    ``content`` defaults to ``build_digest_content``; it is built and rendered only if some
    recipient still needs it. ``on_accepted(recipient)`` runs after the server accepted a
    message and before the ledger records it (a hook for metrics, and for the crash test).
    """
    configured = validate_digest_settings(settings)
    targets = validate_recipients(list(recipients)) if recipients is not None else configured
    if not targets:
        raise ConfigError("TRACKER_DIGEST_TO: no digest recipients configured")
    own_transport = transport is None
    smtp = transport or SmtpTransport(settings)
    rendered: RenderedDigest | None = None

    def rendered_digest() -> RenderedDigest:
        nonlocal rendered
        if rendered is None:
            body = content if content is not None else build_digest_content(db, settings, day)
            rendered = render_digest(body, settings.digest_from)
        return rendered

    results = []
    try:
        for recipient in targets:
            result = _send_one(
                db,
                settings,
                day,
                recipient,
                smtp,
                rendered_digest,
                retry or RetryPolicy(),
                clock,
                sleep,
                on_accepted,
                reopen,
            )
            log.info("digest %s to %s: %s %s", day, recipient, result.outcome, result.detail)
            results.append(result)
    finally:
        if own_transport:
            smtp.close()
    return DigestReport(date=day, results=results)


@dataclass(frozen=True)
class ScheduledDigestReport:
    """What one scheduled run did, over every day it sent or retried."""

    reports: list[DigestReport] = field(default_factory=list)
    skipped: bool = False

    def as_counts(self) -> dict[str, int]:
        if self.skipped:
            return {"skipped_no_recipients": 1}
        counts: Counter[str] = Counter({"days": len(self.reports)})
        for report in self.reports:
            counts.update(report.as_counts())
        return dict(sorted(counts.items()))

    @property
    def needing_attention(self) -> list[tuple[date, RecipientResult]]:
        return [
            (report.date, result)
            for report in self.reports
            for result in report.results
            if result.needs_attention
        ]


def send_scheduled_digest(
    db: Database,
    settings: Settings,
    now: datetime,
    since: datetime | None = None,
    **send_options: Any,
) -> ScheduledDigestReport:
    """The scheduler's entry point: the last session completed at ``now``, the sessions
    missed since ``since`` (the last successful run), and recent unfinished deliveries.

    Without recipients it does nothing and says so in one line: the job stays scheduled
    and sends once ``TRACKER_DIGEST_TO`` is set.
    """
    recipients = validate_digest_settings(settings)
    if not recipients:
        log.warning(
            "digest skipped: TRACKER_DIGEST_TO is empty (no recipients); "
            "it is sent once recipients are configured"
        )
        return ScheduledDigestReport(skipped=True)
    today = last_completed_session(now, settings.calendar)
    recent = sessions_between(today - timedelta(days=14), today, settings.calendar)
    recent = recent[-CATCH_UP_SESSIONS:]
    last_done = last_completed_session(since, settings.calendar) if since else None
    due = {day for day in recent if (day > last_done if last_done else day == today)}
    configured = {address.lower(): address for address in recipients}
    retry: dict[date, list[str]] = {}
    for row in ledger.unfinished_since(db, recent[0]):
        if row.digest_date not in due and row.recipient in configured:
            retry.setdefault(row.digest_date, []).append(configured[row.recipient])
    send_options.setdefault("retry", SCHEDULED_RETRY)
    reports = []
    for day in sorted(due | set(retry)):
        reports.append(
            send_digest(
                db,
                settings,
                day,
                recipients=None if day in due else retry[day],
                reopen=frozenset({ledger.FAILED}),
                **send_options,
            )
        )
    return ScheduledDigestReport(reports)


def require_complete(report: ScheduledDigestReport) -> ScheduledDigestReport:
    """Raise ``DigestIncomplete`` naming each delivery this run could not complete."""
    problems = report.needing_attention
    if problems:
        listed = "; ".join(
            f"{day} {result.recipient}: {result.outcome} ({result.detail})"
            for day, result in problems
        )
        raise DigestIncomplete(
            f"{len(problems)} deliveries not completed, retried on the next run "
            f"(unknown ones: `tracker digest retry`): {listed}"
        )
    return report


def _send_one(
    db: Database,
    settings: Settings,
    day: date,
    recipient: str,
    smtp: SmtpTransport,
    rendered_digest: Callable[[], RenderedDigest],
    retry: RetryPolicy,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
    on_accepted: Callable[[str], None] | None,
    reopen: frozenset[str],
) -> RecipientResult:
    message_id = digest_message_id(day, recipient, settings.digest_from)
    row = ledger.claim(db, day, recipient, message_id, clock())

    def result(outcome: str, detail: str = "", *, earlier: bool = False) -> RecipientResult:
        return RecipientResult(recipient, outcome, row.message_id, row.attempts, detail, earlier)

    if row.status in reopen:
        reopened = ledger.reopen(db, row, clock())
        if reopened is None:
            return result(IN_PROGRESS, "another worker changed it concurrently")
        log.info("digest %s to %s: %s reopened for a retry", day, recipient, row.status)
        row = reopened

    if row.status == ledger.SENT:
        return result(ALREADY_SENT, f"at {row.sent_at.isoformat() if row.sent_at else '?'}")
    if row.status == ledger.FAILED:
        return result(FAILED, f"recorded earlier, not retried: {row.error}")
    if row.status == ledger.UNKNOWN:
        return result(UNKNOWN, f"recorded earlier, not resent: {row.error}", earlier=True)
    if row.status == ledger.SENDING:
        if clock() - row.updated_at < IN_FLIGHT_STALE_AFTER:
            return result(IN_PROGRESS, "another worker is sending it")
        reason = (
            f"an attempt started at {row.updated_at.isoformat()} never recorded its outcome "
            "(worker crashed?); it may have been delivered, so it is not resent"
        )
        if ledger.mark_unknown(db, row, reason, clock()):
            return result(UNKNOWN, reason)
        return result(IN_PROGRESS, "another worker resolved it concurrently")

    rendered = rendered_digest()
    for attempt in range(1, retry.attempts + 1):
        started = ledger.start_attempt(db, row, clock())
        if started is None:
            return result(IN_PROGRESS, "another worker started sending it")
        row = started
        message = build_message(
            rendered,
            sender=settings.digest_from,
            recipient=recipient,
            message_id=row.message_id,
            sent_at=clock(),
        )
        try:
            smtp.deliver(message, settings.digest_from, recipient)
        except TransientSmtpError as exc:
            ledger.mark_retryable(db, row, str(exc), clock())
            row = _reload(db, row)
            if attempt < retry.attempts:
                sleep(retry.delay(attempt))
                continue
            return result(FAILED, f"{exc} (transient; retried on the next run)")
        except PermanentSmtpError as exc:
            ledger.mark_failed(db, row, str(exc), clock())
            return result(FAILED, str(exc))
        except AmbiguousSmtpError as exc:
            ledger.mark_unknown(db, row, str(exc), clock())
            return result(UNKNOWN, str(exc))
        if on_accepted is not None:
            on_accepted(recipient)
        ledger.mark_sent(db, row, clock())
        return result(SENT)
    raise AssertionError("unreachable: the retry loop always returns")


def _reload(db: Database, row: ledger.Delivery) -> ledger.Delivery:
    current = ledger.find(db, row.digest_date, row.recipient)
    return current if current is not None else row
