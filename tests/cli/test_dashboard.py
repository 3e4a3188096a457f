"""``tracker dashboard`` starts Streamlit on loopback, on the database it is given."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

from tests.cli.runner import REPO_ROOT, run_tracker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_dashboard_serves_on_loopback(database_url):
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tracker.cli.main",
            "dashboard",
            "--port",
            str(port),
            "--db",
            database_url,
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body, deadline = "", time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=2
                ) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.3)
        assert body == "ok"
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert f"http://127.0.0.1:{port}" in output
    assert "login is OFF: listening on 127.0.0.1 (loopback) only" in output


def test_dashboard_refuses_a_bad_port():
    result = run_tracker("dashboard", "--port", "70000")
    assert result.returncode == 2
    assert "65535" in result.stderr  # the message names the allowed range


def test_dashboard_beyond_loopback_refuses_to_start_without_login_settings():
    """No address other than loopback serves the dashboard without login configured."""
    result = run_tracker("dashboard", "--address", "0.0.0.0")
    assert result.returncode != 0
    assert "TRACKER_DASHBOARD_ALLOWED_USERS" in result.stderr


def test_login_off_beyond_loopback_is_refused(monkeypatch):
    monkeypatch.setenv("TRACKER_DASHBOARD_AUTH", "off")
    result = run_tracker("dashboard", "--address", "0.0.0.0")
    assert result.returncode != 0
    assert "only on loopback" in result.stderr
