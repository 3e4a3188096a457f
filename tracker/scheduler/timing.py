"""The scheduler's default intervals, apart from the machinery that uses them.

``tracker run`` shows them as its options' defaults; keeping them here lets the command
line name them without importing APScheduler and the pipeline.
"""

from __future__ import annotations

HEARTBEAT_SECONDS = 5.0
"""How often a running scheduler records that it is alive."""

CANCEL_GRACE_SECONDS = 10.0
"""How long a stopping scheduler lets running jobs finish before it gives up on them."""

STANDBY_POLL_SECONDS = 3.0
"""How often a standby scheduler tries to take over leadership."""
