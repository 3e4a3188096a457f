"""The health endpoint over real HTTP on loopback."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tracker.errors import ConfigError
from tracker.scheduler.health import HealthServer, HealthState


def get(port: int, path: str = "/health") -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_healthy_only_when_leading_or_standing_by_with_a_reachable_database(database) -> None:
    state = HealthState(worker="test:1", max_silence_seconds=30)
    server = HealthServer(state, database, "127.0.0.1", 0).start()
    try:
        status, body = get(server.port)
        assert (status, body["role"], body["status"]) == (503, "starting", "unhealthy")
        state.set_role("standby")
        assert get(server.port)[0] == 200
        state.set_role("leader")
        status, body = get(server.port)
        assert (status, body["role"], body["database"]) == (200, "leader", "ok")
        assert get(server.port, "/nope")[0] == 404
        database.dispose()
        state.set_role("stopped")
        assert get(server.port)[0] == 503
    finally:
        server.stop()


def test_a_silent_main_loop_is_unhealthy(database) -> None:
    state = HealthState(worker="test:1", max_silence_seconds=0.0)
    state.set_role("leader")
    server = HealthServer(state, database, "127.0.0.1", 0).start()
    try:
        status, body = get(server.port)
        assert status == 503
        assert body["seconds_since_heartbeat"] >= 0
    finally:
        server.stop()


def test_a_busy_port_is_a_clear_error(database) -> None:
    state = HealthState(worker="test:1")
    server = HealthServer(state, database, "127.0.0.1", 0).start()
    try:
        with pytest.raises(ConfigError, match="TRACKER_HEALTH_PORT"):
            HealthServer(state, database, "127.0.0.1", server.port)
    finally:
        server.stop()
