"""A small HTTP health endpoint for container health checks.

``GET /health`` (or ``/``) answers 200 with a JSON body when this process is alive as
leader or standby, its main loop has beaten recently, and the database answers; 503
otherwise. It reads shared state only; it never touches the scheduler.

Hardening (issue 17/18): it binds to loopback unless told otherwise; each client socket has a
timeout, so a client that sends nothing cannot hold a thread; the database probe uses its own
single read-only connection, never one the jobs need; and the worker identity (host name and
process id) is shown only to a request carrying ``Authorization: Bearer TRACKER_HEALTH_TOKEN``.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from tracker.db import Database
from tracker.db.engine import make_engine
from tracker.errors import ConfigError

log = logging.getLogger(__name__)

ALIVE_ROLES = frozenset({"leader", "standby", "replay"})


@dataclass
class HealthState:
    """What the service tells the endpoint; updated by the main loop."""

    worker: str
    max_silence_seconds: float = 30.0
    role: str = "starting"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    _beat: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set_role(self, role: str) -> None:
        with self._lock:
            self.role = role
            self._beat = time.monotonic()

    def beat(self) -> None:
        with self._lock:
            self._beat = time.monotonic()

    def snapshot(self) -> tuple[str, float]:
        with self._lock:
            return self.role, time.monotonic() - self._beat


SOCKET_TIMEOUT_SECONDS = 5.0
PROBE_TIMEOUT_SECONDS = 3


class DatabaseProbe:
    """``SELECT 1`` over one connection of its own (pool of one, no overflow), read-only.

    Borrowing from the jobs' pool let a flood of health checks starve the jobs, and a job
    holding every connection made the process look dead; this engine shares nothing with them.
    Probes are serialised: a second request waits at most ``PROBE_TIMEOUT_SECONDS``.
    """

    def __init__(self, db: Database) -> None:
        url = db.engine.url.render_as_string(hide_password=False)
        options: dict[str, Any] = {
            "pool_size": 1,
            "max_overflow": 0,
            "pool_timeout": PROBE_TIMEOUT_SECONDS,
        }
        if db.backend == "sqlite":
            options["connect_args"] = {"check_same_thread": False}
            options["poolclass"] = QueuePool
        else:
            options["connect_args"] = {"connect_timeout": PROBE_TIMEOUT_SECONDS}
        self.engine = make_engine(url, read_only=_can_open_read_only(db), **options)

    def check(self) -> str | None:
        """None when the database answers, else the error's type name (never its text)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            return type(exc).__name__
        return None

    def dispose(self) -> None:
        self.engine.dispose()


def _can_open_read_only(db: Database) -> bool:
    """SQLite ``mode=ro`` needs a file; an in-memory test database gets a normal engine."""
    if db.backend != "sqlite":
        return True
    name = db.engine.url.database or ""
    return name not in ("", ":memory:") and not name.startswith("file::memory:")


def check_health(
    state: HealthState, probe: DatabaseProbe, *, authenticated: bool = False
) -> tuple[bool, dict[str, Any]]:
    role, silence = state.snapshot()
    body: dict[str, Any] = {
        "role": role,
        "started_at": state.started_at.isoformat(),
        "seconds_since_heartbeat": round(silence, 1),
    }
    if authenticated:
        body["worker"] = state.worker
    problem = probe.check()
    body["database"] = "ok" if problem is None else f"unreachable: {problem}"
    db_ok = problem is None
    healthy = db_ok and role in ALIVE_ROLES and silence <= state.max_silence_seconds
    body["status"] = "ok" if healthy else "unhealthy"
    return healthy, body


def _authenticated(header: str | None, token: str | None) -> bool:
    if not token or not header:
        return False
    scheme, _, value = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token)


def _handler(
    state: HealthState, probe: DatabaseProbe, token: str | None
) -> type[BaseHTTPRequestHandler]:
    class HealthHandler(BaseHTTPRequestHandler):
        # StreamRequestHandler sets this on each client socket: a silent client is dropped.
        timeout = SOCKET_TIMEOUT_SECONDS

        server_version = "health"
        sys_version = ""

        def do_GET(self) -> None:
            if self.path.split("?")[0] not in ("/", "/health", "/healthz"):
                self._send(HTTPStatus.NOT_FOUND, {"error": "not found"})
                return
            authenticated = _authenticated(self.headers.get("Authorization"), token)
            healthy, body = check_health(state, probe, authenticated=authenticated)
            self._send(HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE, body)

        def _send(self, status: HTTPStatus, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("health: " + format, *args)

    return HealthHandler


class HealthServer:
    """The endpoint on its own daemon thread; port 0 picks a free port (see ``.port``)."""

    def __init__(
        self,
        state: HealthState,
        db: Database,
        host: str,
        port: int,
        *,
        origin: str = "TRACKER_HEALTH_PORT",
        token: str | None = None,
    ) -> None:
        """``origin`` names where the port came from (setting or option) for the error;
        ``token`` (TRACKER_HEALTH_TOKEN) unlocks the worker identity in the answer."""
        self._probe = DatabaseProbe(db)
        try:
            self._server = ThreadingHTTPServer((host, port), _handler(state, self._probe, token))
        except (OSError, OverflowError) as exc:
            self._probe.dispose()
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ConfigError(f"{origin}: cannot listen on {host}:{port}: {reason}") from exc
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="health", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._probe.dispose()
