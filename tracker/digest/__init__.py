"""The daily digest e-mail: what moved and why, sent once to each recipient.

``build_digest_content`` reads the day through the query and measure layers, ``render``
and ``message`` turn it into a multipart e-mail with an inline chart, and ``send_digest``
delivers it over SMTP with a ledger that never sends a digest twice.
"""

from tracker.digest.addresses import validate_digest_settings
from tracker.digest.content import (
    BasketSummary,
    DigestContent,
    DigestEvent,
    Mover,
    TickerMove,
    build_digest_content,
)
from tracker.digest.send import (
    DigestReport,
    RecipientResult,
    RetryPolicy,
    last_completed_session,
    send_digest,
    send_scheduled_digest,
)

__all__ = [
    "BasketSummary",
    "DigestContent",
    "DigestEvent",
    "DigestReport",
    "Mover",
    "RecipientResult",
    "RetryPolicy",
    "TickerMove",
    "build_digest_content",
    "last_completed_session",
    "send_digest",
    "send_scheduled_digest",
    "validate_digest_settings",
]
