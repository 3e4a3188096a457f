"""A small HTTP health endpoint for container health checks.

``GET /health`` (or ``/``) answers 200 with a JSON body when this process is alive as
leader or standby, its main loop has beaten recently, and the database answers; 503
otherwise. It reads shared state only; it never touches the scheduler.
"""

from __future__ import annotations

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

from tracker.db import Database
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


def check_health(state: HealthState, db: Database) -> tuple[bool, dict[str, Any]]:
    role, silence = state.snapshot()
    body: dict[str, Any] = {
        "worker": state.worker,
        "role": role,
        "started_at": state.started_at.isoformat(),
        "seconds_since_heartbeat": round(silence, 1),
    }
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        body["database"] = "ok"
        db_ok = True
    except Exception as exc:
        body["database"] = f"unreachable: {type(exc).__name__}"
        db_ok = False
    healthy = db_ok and role in ALIVE_ROLES and silence <= state.max_silence_seconds
    body["status"] = "ok" if healthy else "unhealthy"
    return healthy, body


def _handler(state: HealthState, db: Database) -> type[BaseHTTPRequestHandler]:
    class HealthHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] not in ("/", "/health", "/healthz"):
                self._send(HTTPStatus.NOT_FOUND, {"error": "not found"})
                return
            healthy, body = check_health(state, db)
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
    ) -> None:
        """``origin`` names where the port came from (setting or option) for the error."""
        try:
            self._server = ThreadingHTTPServer((host, port), _handler(state, db))
        except (OSError, OverflowError) as exc:
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
