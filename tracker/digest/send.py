"""Send a day's digest to its recipients, exactly once each or not at all.

``send_digest`` is the one path: the CLI (``tracker digest send``) and the scheduler's
``send_scheduled_digest`` both call it. Per recipient it claims the ledger row (see
``ledger`` for the state machine and the at-most-once choice), sends, and records the outcome;
one recipient's failure never stops the others.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

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


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a transient failure is retried within one run."""

    attempts: int = 3
    first_delay: float = 2.0
    factor: float = 4.0
    max_delay: float = 60.0

    def delay(self, failed_attempts: int) -> float:
        return float(min(self.max_delay, self.first_delay * self.factor ** (failed_attempts - 1)))


@dataclass(frozen=True)
class RecipientResult:
    """What happened for one recipient; ``detail`` says why for anything but a plain send."""

    recipient: str
    outcome: str
    message_id: str
    attempts: int
    detail: str = ""


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
) -> DigestReport:
    """Send ``day``'s digest to ``recipients`` (default: ``TRACKER_DIGEST_TO``).

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
            )
            log.info("digest %s to %s: %s %s", day, recipient, result.outcome, result.detail)
            results.append(result)
    finally:
        if own_transport:
            smtp.close()
    return DigestReport(date=day, results=results)


def send_scheduled_digest(db: Database, settings: Settings, now: datetime) -> DigestReport:
    """The scheduler's entry point: the digest of the last session completed at ``now``."""
    return send_digest(db, settings, last_completed_session(now, settings.calendar))


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
) -> RecipientResult:
    message_id = digest_message_id(day, recipient, settings.digest_from)
    row = ledger.claim(db, day, recipient, message_id, clock())

    def result(outcome: str, detail: str = "", attempts: int | None = None) -> RecipientResult:
        return RecipientResult(
            recipient,
            outcome,
            row.message_id,
            row.attempts if attempts is None else attempts,
            detail,
        )

    if row.status == ledger.SENT:
        return result(ALREADY_SENT, f"at {row.sent_at.isoformat() if row.sent_at else '?'}")
    if row.status == ledger.FAILED:
        return result(FAILED, f"recorded earlier, not retried: {row.error}")
    if row.status == ledger.UNKNOWN:
        return result(UNKNOWN, f"recorded earlier, not resent: {row.error}")
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
