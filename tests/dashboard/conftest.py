"""The demo database (``tracker demo``: the recorded DeepSeek case study), built once."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tracker.config import load_settings
from tracker.db import Database
from tracker.demo import build_demo

# The dashboard runs from the source tree (like `streamlit run dashboard/app.py`), it is not an
# installed package: make `import dashboard` resolve to it whatever pytest's working directory.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def demo_database_url(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('dashboard-demo') / 'demo.db'}"
    database = Database.connect(url)
    try:
        build_demo(database, load_settings(database_url=url, data_dir=data_dir))
    finally:
        database.dispose()
    return url


@pytest.fixture(scope="session")
def demo_postgres_url(postgres_server, data_dir: Path) -> str:
    """The same demo on the real PostgreSQL (the dashboard must read both backends)."""
    url = postgres_server.create_database()
    database = Database.connect(url)
    try:
        build_demo(database, load_settings(database_url=url, data_dir=data_dir))
    finally:
        database.dispose()
    return url


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
