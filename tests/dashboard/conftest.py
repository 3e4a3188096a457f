"""The address AppTest pretends to listen on; a real ``tracker dashboard`` and Chromium for
browser checks (the demo databases are in tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import _unavailable

# The dashboard runs from the source tree (like `streamlit run dashboard/app.py`), it is not an
# installed package: make `import dashboard` resolve to it whatever pytest's working directory.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def listening_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str | None], None]]:
    """The address the app believes it listens on (AppTest runs no server): loopback, like
    ``tracker dashboard``, so login is off unless a test chooses another address."""
    from streamlit import config

    previous = config.get_option("server.address")

    def set_address(address: str | None) -> None:
        config.set_option("server.address", address)

    set_address("127.0.0.1")
    yield set_address
    set_address(previous)


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    _unavailable("Chromium not found: apt-get install -y chromium")
    raise AssertionError("unreachable")


@pytest.fixture
def start_dashboard() -> Iterator[Callable[[dict[str, str], str], int]]:
    """Start ``tracker dashboard`` on loopback with these settings and database; its port."""
    processes: list[subprocess.Popen[bytes]] = []

    from dashboard.browser_check import dashboard_command, free_port, wait_for_http

    def start(settings: dict[str, str], database_url: str) -> int:
        for _attempt in range(3):  # the free port can be taken between probe and bind
            port = free_port()
            env = {
                **os.environ,
                **{
                    k.replace("{port}", str(port)): v.replace("{port}", str(port))
                    for k, v in settings.items()
                },
                "PYTHONPATH": str(ROOT),
            }
            process = subprocess.Popen(
                dashboard_command(port, database_url),
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            processes.append(process)
            try:
                wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", timeout=60)
                return port
            except TimeoutError:
                process.kill()
        raise RuntimeError("the dashboard did not start")

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
