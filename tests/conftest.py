"""Shared fixtures: the recorded data directory and migrated databases on both backends.

Storage tests take the ``database`` fixture, which runs each test on SQLite and on the
real PostgreSQL named by ``TRACKER_TEST_POSTGRES_URL``. Under CI (``CI=true``) a missing
recorded-data directory or an unreachable configured PostgreSQL fails the run; elsewhere
it is reported as a skip with the reason.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from tracker.config import get_settings, load_settings
from tracker.db import Base, Database, migrate

REPO_ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI requires it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real recorded data (``TRACKER_DATA_DIR``, else ``../shared/data``)."""
    configured = os.environ.get("TRACKER_DATA_DIR")
    path = Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"
    if not (path / "prices" / "daily").is_dir():
        _unavailable(f"recorded data not found at {path} (set TRACKER_DATA_DIR)")
    return path


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test reads the developer's real settings or writes to ./var."""
    for name in list(os.environ):
        if name.startswith("TRACKER_") and name not in {
            "TRACKER_DATA_DIR",
            "TRACKER_TEST_POSTGRES_URL",
        }:
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRACKER_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


DEFAULT_TEST_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_admin_url() -> str | None:
    """The PostgreSQL to test on: the setting, else the local server; empty means none."""
    url = os.environ.get("TRACKER_TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL)
    return url or None


class PostgresServer:
    """Creates throw-away databases on the configured PostgreSQL server."""

    def __init__(self, url: str) -> None:
        self.admin_url = make_url(url).set(drivername="postgresql+psycopg")
        self.engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create_database(self, *, drop_at_end: bool = True) -> str:
        """A new empty database; dropped at the end of the session unless told otherwise."""
        name = f"tracker_test_{uuid.uuid4().hex[:12]}"
        with self.engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        if drop_at_end:
            self.created.append(name)
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        """Drop a database ``create_database`` made (its connections are closed first)."""
        name = make_url(url).database
        with self.engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def drop_all(self) -> None:
        with self.engine.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    url = postgres_admin_url()
    if url is None:
        _unavailable("TRACKER_TEST_POSTGRES_URL is empty: PostgreSQL tests are switched off")
        raise AssertionError("unreachable")
    server = PostgresServer(url)
    try:
        with server.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        _unavailable(f"PostgreSQL at {url} is unreachable: {exc.orig}")
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template_url(postgres_server: PostgresServer) -> str:
    url = postgres_server.create_database()
    migrate.upgrade(url)
    return url


def _truncate_all(database: Database) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "tracker.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_template_url")
    database = Database.connect(url)
    _truncate_all(database)
    database.dispose()
    yield url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database.connect(database_url)
    yield db
    db.dispose()


@pytest.fixture
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An unmigrated database URL on SQLite (PostgreSQL variants use ``postgres_server``)."""
    return f"sqlite:///{tmp_path / 'empty.db'}"


# ------------------------------------------------------------------ the demo databases
#
# pytest-xdist's ``--dist loadgroup`` is meant to keep the tests of a demo on one worker, but
# with pytest 9.2 it ignores the groups (pytest-dev/pytest-xdist#1386): any worker may run a
# demo test. So each demo is built once per run across the workers: the first worker to need
# it builds it under a file lock in the directory the workers share, the others wait for it
# and read the same database.


def _run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory every worker of this run shares (the run's base temporary directory)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if "PYTEST_XDIST_WORKER" in os.environ else base


def _build_demo(url: str, data_dir: Path) -> None:
    from tracker.demo import build_demo

    database = Database.connect(url)
    try:
        build_demo(database, load_settings(database_url=url, data_dir=data_dir))
    finally:
        database.dispose()


@pytest.fixture(scope="session")
def demo_database_url(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> str:
    """``tracker demo`` (the recorded DeepSeek case study) on SQLite, built once per run.

    Read-only for the tests that take it: build a database of your own to write.
    """
    shared = _run_dir(tmp_path_factory)
    path, built = shared / "demo.db", shared / "demo.db.built"
    url = f"sqlite:///{path}"
    with FileLock(shared / "demo.db.lock"):
        if not built.exists():
            path.unlink(missing_ok=True)  # what a build that failed half-way left
            _build_demo(url, data_dir)
            built.touch()
    return url


@pytest.fixture(scope="session")
def demo_postgres_url(
    postgres_server: PostgresServer, data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The same demo on the real PostgreSQL (every reader must read both backends).

    The last worker done with it drops it; a worker that needs it after that builds it again.
    """
    shared = _run_dir(tmp_path_factory)
    record, lock = shared / "demo-postgres.url", FileLock(shared / "demo-postgres.lock")
    readers = shared / "demo-postgres.readers"
    me = readers / os.environ.get("PYTEST_XDIST_WORKER", "main")
    with lock:
        if not record.exists():
            url = postgres_server.create_database(drop_at_end=False)
            try:
                _build_demo(url, data_dir)
            except BaseException:
                postgres_server.drop_database(url)
                raise
            record.write_text(url)
        readers.mkdir(exist_ok=True)
        me.touch()
        url = record.read_text()
    yield url
    with lock:
        me.unlink()
        if not any(readers.iterdir()):
            postgres_server.drop_database(url)
            record.unlink()


DEMO_GROUPS = {"demo_database_url": "demo-sqlite", "demo_postgres_url": "demo-postgres"}


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.xdist_group(DEMO_GROUPS["demo_database_url"])),
        pytest.param(
            "postgresql",
            marks=[pytest.mark.postgres, pytest.mark.xdist_group(DEMO_GROUPS["demo_postgres_url"])],
        ),
    ]
)
def demo_url(request: pytest.FixtureRequest) -> str:
    """The demo database on each backend (read-only, like the two fixtures it picks from)."""
    name = "demo_database_url" if request.param == "sqlite" else "demo_postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups into the node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``), ask for the tests that read one demo
    database to run on one worker; the SQLite and the PostgreSQL demo are separate groups, so
    the two can be read on both workers at once. (``demo_url`` carries its group on each of
    its params.) Where xdist ignores the groups, the shared build above still builds each
    demo once per run."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for fixture, group in DEMO_GROUPS.items():
            if fixture in used:
                item.add_marker(pytest.mark.xdist_group(group))
