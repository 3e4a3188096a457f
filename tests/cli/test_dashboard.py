"""``tracker dashboard`` starts Streamlit on loopback, on the database it is given, and the
app runs: a real client asks for a page over Streamlit's websocket and reads what it drew
(the health endpoint answers "ok" before, and whether or not, the app can run)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field

from streamlit.proto import BackMsg_pb2, ForwardMsg_pb2
from websockets.asyncio.client import connect

from tests.cli.runner import REPO_ROOT, run_tracker

DASHBOARD = (sys.executable, "-m", "tracker.cli.main", "dashboard")
FINISHED_SUCCESSFULLY = ForwardMsg_pb2.ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY


@dataclass
class PageRun:
    """What one script run of a page sent: headings, exception messages, the end status."""

    headings: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    finished: int | None = None


async def run_page(port: int, page: str, timeout: float = 90) -> PageRun:
    """Ask for ``page`` as a browser tab does (a ``rerun_script`` back message) and collect
    the forward messages until the script run ends."""
    seen = PageRun()
    async with connect(
        f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"], max_size=None
    ) as stream:
        request = BackMsg_pb2.BackMsg()
        request.rerun_script.query_string = ""
        request.rerun_script.page_name = page
        await stream.send(request.SerializeToString())
        deadline = time.monotonic() + timeout
        while seen.finished is None:
            raw = await asyncio.wait_for(stream.recv(), max(deadline - time.monotonic(), 0.1))
            message = ForwardMsg_pb2.ForwardMsg()
            message.ParseFromString(raw)
            kind = message.WhichOneof("type")
            if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                element = message.delta.new_element
                if element.WhichOneof("type") == "heading":
                    seen.headings.append(element.heading.body)
                elif element.WhichOneof("type") == "exception":
                    seen.exceptions.append(element.exception.message)
            elif kind == "script_finished":
                seen.finished = message.script_finished
    return seen


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_dashboard(database_url: str, attempts: int = 3) -> tuple[subprocess.Popen[str], int]:
    """``tracker dashboard`` on a free port; another process may take the port between the
    probe and Streamlit's bind, so a start that finds it taken is retried on a new one."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    for _ in range(attempts):
        port = _free_port()
        process = subprocess.Popen(
            [*DASHBOARD, "--port", str(port), "--db", database_url],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=2
                ) as response:
                    if response.read() == b"ok":
                        return process, port
            except OSError:
                time.sleep(0.3)
        output = stop(process)
        if "already in use" not in output:
            raise AssertionError(f"the dashboard did not start:\n{output}")
    raise AssertionError(f"no free port after {attempts} attempts")


def stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


def test_dashboard_serves_the_app_on_loopback(database_url: str) -> None:
    process, port = start_dashboard(database_url)
    try:
        timeline = asyncio.run(run_page(port, ""))
        health = asyncio.run(run_page(port, "health"))
    finally:
        output = stop(process)
    assert f"http://127.0.0.1:{port}" in output
    assert "login is OFF: listening on 127.0.0.1 (loopback) only" in output
    for run in (timeline, health):
        assert run.finished == FINISHED_SUCCESSFULLY, output
        assert run.exceptions == []
    assert "Timeline" in timeline.headings
    assert "Pipeline health" in health.headings


def test_dashboard_refuses_a_bad_port() -> None:
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
