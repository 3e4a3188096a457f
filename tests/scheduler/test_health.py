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


def get_with(port: int, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/health", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_host_and_pid_only_for_the_token(database) -> None:
    state = HealthState(worker="host-a:4242")
    state.set_role("leader")
    server = HealthServer(state, database, "127.0.0.1", 0, token="s3cret-token").start()
    try:
        status, anonymous = get(server.port)
        assert status == 200
        assert "worker" not in anonymous
        assert "host-a" not in json.dumps(anonymous)
        assert "4242" not in json.dumps(anonymous)
        assert "worker" not in get_with(server.port, {"Authorization": "Bearer wrong"})[1]
        assert "worker" not in get_with(server.port, {"Authorization": "s3cret-token"})[1]
        _, authed = get_with(server.port, {"Authorization": "Bearer s3cret-token"})
        assert authed["worker"] == "host-a:4242"
    finally:
        server.stop()


def test_without_a_token_nobody_sees_the_worker(database) -> None:
    state = HealthState(worker="host-a:4242")
    state.set_role("leader")
    server = HealthServer(state, database, "127.0.0.1", 0).start()
    try:
        assert "worker" not in get_with(server.port, {"Authorization": "Bearer "})[1]
    finally:
        server.stop()


def test_a_silent_client_is_dropped_by_the_socket_timeout(database, monkeypatch) -> None:
    """A client that connects and sends nothing gets its socket closed, not a thread forever."""
    import socket

    from tracker.scheduler import health

    monkeypatch.setattr(health, "SOCKET_TIMEOUT_SECONDS", 0.3)
    state = HealthState(worker="w:1")
    server = HealthServer(state, database, "127.0.0.1", 0).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
            # The server closes the connection (EOF) instead of waiting for a request line.
            assert client.recv(1) == b""
    finally:
        server.stop()


def test_the_probe_does_not_borrow_from_the_jobs_pool(database_url) -> None:
    """Every pooled connection of the jobs' engine is held: health still answers from its own."""
    from tracker.db import Database

    jobs = Database.connect(database_url)
    held = []
    try:
        pool_size = jobs.engine.pool.size() + jobs.engine.pool._max_overflow  # type: ignore[attr-defined]
        held = [jobs.engine.connect() for _ in range(max(pool_size, 1))]
        state = HealthState(worker="w:1")
        state.set_role("leader")
        server = HealthServer(state, jobs, "127.0.0.1", 0).start()
        try:
            status, body = get(server.port)
            assert (status, body["database"]) == (200, "ok")
            assert jobs.engine.pool.checkedout() == len(held)
        finally:
            server.stop()
    finally:
        for connection in held:
            connection.close()
        jobs.dispose()
