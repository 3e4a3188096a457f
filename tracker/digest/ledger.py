"""The delivery ledger: one ``digest_deliveries`` row per (digest date, recipient).

A digest must never reach a recipient twice, also across crashes, restarts and a standby
scheduler running the same job. The ledger gets there with an explicit state machine whose
transitions are compare-and-set ``UPDATE``s committed before anything goes on the wire::

    (none) --claim--> pending --start_attempt--> sending --mark_sent--> sent
                        ^                          |  \\--mark_failed--> failed   (5xx: permanent)
                        |                          |   \\-mark_unknown-> unknown  (lost mid-DATA)
                        +----mark_retryable--------+   (4xx / no connection: surely not delivered)

- ``pending``: claimed with its deterministic Message-ID; nothing is in flight. Safe to send
  (``attempts`` > 0 with an ``error`` means earlier attempts failed transiently).
- ``sending``: an attempt started and its outcome is not recorded yet. Only one worker can move
  a row from ``pending`` to ``sending`` (the UPDATE matches on status and attempt count).
- A row left in ``sending`` longer than any attempt can last means its worker died between
  starting and recording. The message may or may not have been accepted. We choose
  **at-most-once**: the row becomes ``unknown`` and is never resent automatically, because the
  issue says a digest is never sent twice; the operator sees ``unknown`` and the Message-ID
  to look for in the mail server's log (``tracker digest send`` lists it).
- ``reopen`` moves ``failed`` or ``unknown`` back to ``pending``. The scheduled job reopens
  ``failed`` rows of recent days (a refusal means nothing was delivered, so a retry cannot
  duplicate); only the operator reopens ``unknown`` (``tracker digest retry``), because that
  may deliver a second copy and is their call, made knowing the Message-ID.

Recipients are keyed lower-cased, so a change of case in the settings sends no second copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from tracker.db import Database
from tracker.db.models import DigestDelivery

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
UNKNOWN = "unknown"
MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class Delivery:
    """A snapshot of one ledger row."""

    id: int
    digest_date: date
    recipient: str
    status: str
    message_id: str
    attempts: int
    error: str | None
    sent_at: datetime | None
    updated_at: datetime


def ledger_key(recipient: str) -> str:
    return recipient.lower()


def _snapshot(row: DigestDelivery) -> Delivery:
    return Delivery(
        id=row.id,
        digest_date=row.digest_date,
        recipient=row.recipient,
        status=row.status,
        message_id=row.message_id,
        attempts=row.attempts,
        error=row.error,
        sent_at=row.sent_at,
        updated_at=row.updated_at,
    )


def find(db: Database, day: date, recipient: str) -> Delivery | None:
    with db.session() as session:
        row = session.scalar(
            select(DigestDelivery).where(
                DigestDelivery.digest_date == day,
                DigestDelivery.recipient == ledger_key(recipient),
            )
        )
        return _snapshot(row) if row is not None else None


def claim(db: Database, day: date, recipient: str, message_id: str, now: datetime) -> Delivery:
    """The row of (day, recipient), inserted as ``pending`` (committed) if it did not exist.

    Two workers claiming at once both end up reading the one row the unique constraint let in.
    """
    existing = find(db, day, recipient)
    if existing is not None:
        return existing
    try:
        with db.session() as session:
            session.add(
                DigestDelivery(
                    digest_date=day,
                    recipient=ledger_key(recipient),
                    status=PENDING,
                    message_id=message_id,
                    attempts=0,
                    updated_at=now,
                )
            )
    except IntegrityError:
        pass  # another worker claimed it first; its row is the one that counts
    claimed = find(db, day, recipient)
    if claimed is None:  # pragma: no cover - the row was just inserted or seen
        raise RuntimeError(f"ledger row for {day} / {recipient} vanished")
    return claimed


def _transition(db: Database, delivery: Delivery, expected_status: str, **values: object) -> bool:
    """Compare-and-set: apply ``values`` only if the row is still as ``delivery`` saw it."""
    with db.session() as session:
        result = session.execute(
            update(DigestDelivery)
            .where(
                DigestDelivery.id == delivery.id,
                DigestDelivery.status == expected_status,
                DigestDelivery.attempts == delivery.attempts,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def start_attempt(db: Database, delivery: Delivery, now: datetime) -> Delivery | None:
    """Move a ``pending`` row to ``sending`` (attempts + 1); ``None`` if another worker did."""
    if not _transition(
        db, delivery, PENDING, status=SENDING, attempts=delivery.attempts + 1, updated_at=now
    ):
        return None
    return find(db, delivery.digest_date, delivery.recipient)


def mark_sent(db: Database, delivery: Delivery, now: datetime) -> bool:
    return _transition(db, delivery, SENDING, status=SENT, error=None, sent_at=now, updated_at=now)


def mark_retryable(db: Database, delivery: Delivery, error: str, now: datetime) -> bool:
    """The attempt surely did not deliver (4xx, no connection): back to ``pending``."""
    return _transition(db, delivery, SENDING, status=PENDING, error=_clip(error), updated_at=now)


def mark_failed(db: Database, delivery: Delivery, error: str, now: datetime) -> bool:
    """The server refused for good (5xx): recorded, not retried."""
    return _transition(db, delivery, SENDING, status=FAILED, error=_clip(error), updated_at=now)


def mark_unknown(db: Database, delivery: Delivery, error: str, now: datetime) -> bool:
    """The outcome cannot be known (connection lost mid-DATA, or a stale ``sending`` row)."""
    return _transition(db, delivery, SENDING, status=UNKNOWN, error=_clip(error), updated_at=now)


def reopen(db: Database, delivery: Delivery, now: datetime) -> Delivery | None:
    """``failed``/``unknown`` -> ``pending`` (error kept); ``None`` if another worker moved it."""
    if delivery.status not in (FAILED, UNKNOWN):
        raise ValueError(f"only failed or unknown deliveries reopen, not {delivery.status}")
    if not _transition(db, delivery, delivery.status, status=PENDING, updated_at=now):
        return None
    return find(db, delivery.digest_date, delivery.recipient)


def unfinished_since(db: Database, first_day: date) -> list[Delivery]:
    """Rows from ``first_day`` on that a run left ``pending`` or ``failed`` (safe to retry)."""
    with db.session() as session:
        rows = session.scalars(
            select(DigestDelivery)
            .where(
                DigestDelivery.digest_date >= first_day,
                DigestDelivery.status.in_((PENDING, FAILED)),
            )
            .order_by(DigestDelivery.digest_date, DigestDelivery.recipient)
        )
        return [_snapshot(row) for row in rows]


def deliveries(db: Database, day: date) -> list[Delivery]:
    """Every ledger row of one digest date, by recipient."""
    with db.session() as session:
        rows = session.scalars(
            select(DigestDelivery)
            .where(DigestDelivery.digest_date == day)
            .order_by(DigestDelivery.recipient)
        )
        return [_snapshot(row) for row in rows]


def _clip(error: str) -> str:
    return error if len(error) <= MAX_ERROR_LENGTH else error[: MAX_ERROR_LENGTH - 1] + "…"
