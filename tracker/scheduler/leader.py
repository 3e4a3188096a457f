"""One leader per database: only the process holding the lock runs jobs.

PostgreSQL: a session-level advisory lock held on a dedicated connection (with TCP
keepalives) for as long as the leader lives; when the process dies, even by kill -9, the
server ends the session and frees the lock. A periodic heartbeat checks the connection
still holds it, so a leader cut off from the database steps down instead of running on.
SQLite: an OS file lock on a file beside the database file, freed by the kernel when the
process dies; removing (or replacing) the file deposes its holder. Standbys retry every few
seconds; a new leader then waits out the fence of ``service`` (a deposed leader may still be
finishing a job) before its first run: ``bench/bench_failover.py`` measures the whole takeover.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from filelock import FileLock, Timeout
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tracker.db import Database
from tracker.errors import ConfigError
from tracker.scheduler.timing import STANDBY_POLL_SECONDS

log = logging.getLogger(__name__)

# Below 2**31 so pg_locks shows it as classid 0, objid = the key ("trak" in ASCII).
ADVISORY_LOCK_KEY = 0x7472616B


class LeaderLock(Protocol):
    def try_acquire(self) -> bool:
        """Take the lock if it is free; True when this process now leads."""
        ...

    def still_held(self) -> bool:
        """The heartbeat: True while this process verifiably holds the lock."""
        ...

    def release(self) -> None: ...

    def describe(self) -> str: ...


class PostgresAdvisoryLock:
    """``pg_try_advisory_lock`` on a connection of its own, outside every pool."""

    def __init__(self, database_url: str, key: int = ADVISORY_LOCK_KEY) -> None:
        url = make_url(database_url)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        self._engine = create_engine(
            url,
            poolclass=NullPool,
            connect_args={
                "application_name": "tracker-leader",
                "keepalives": 1,
                "keepalives_idle": 5,
                "keepalives_interval": 2,
                "keepalives_count": 3,
                "connect_timeout": 10,
            },
        )
        self.key = key
        self._connection: Connection | None = None

    def try_acquire(self) -> bool:
        try:
            if self._connection is None:
                self._connection = self._engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                )
            got = self._connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            ).scalar_one()
        except Exception as exc:
            log.warning("leader lock: cannot reach PostgreSQL: %s", exc)
            self._drop_connection()
            return False
        return bool(got)

    def still_held(self) -> bool:
        if self._connection is None:
            return False
        try:
            held = self._connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid() AND classid = 0 AND objid = :key "
                    "AND objsubid = 1 AND granted"
                ),
                {"key": self.key},
            ).scalar_one()
        except Exception as exc:
            log.error("leader heartbeat failed: %s", exc)
            self._drop_connection()
            return False
        return bool(held)

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            except Exception as exc:  # closing the session frees it anyway
                log.warning("leader unlock failed: %s", exc)
        self._drop_connection()
        self._engine.dispose()

    def _drop_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception as exc:
                log.debug("closing the leader connection: %s", exc)
            self._connection = None

    def describe(self) -> str:
        return f"PostgreSQL advisory lock {self.key}"


class SqliteFileLock:
    """An exclusive OS lock on ``<database file>.leader.lock``."""

    def __init__(self, database_path: Path, db: Database | None = None) -> None:
        self.path = Path(f"{database_path}.leader.lock")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(self.path), thread_local=False)
        self._db = db
        self._held: tuple[int, int] | None = None  # (device, inode) of the file we locked

    def _identity(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return stat.st_dev, stat.st_ino

    def try_acquire(self) -> bool:
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        self._held = self._identity()
        return True

    def still_held(self) -> bool:
        """The file we locked is still the one at the path: a removed (and perhaps
        re-created, then locked by a standby) lock file means leadership is lost."""
        if not self._lock.is_locked or self._held is None or self._identity() != self._held:
            return False
        if self._db is None:
            return True
        try:
            with self._db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            log.error("leader heartbeat: database unreachable: %s", exc)
            return False
        return True

    def release(self) -> None:
        self._held = None
        if self._lock.is_locked:
            self._lock.release(force=True)

    def describe(self) -> str:
        return f"file lock {self.path}"


def leader_lock_for(db: Database) -> LeaderLock:
    """The right lock for the database's backend."""
    url = db.engine.url
    if db.backend == "postgresql":
        return PostgresAdvisoryLock(url.render_as_string(hide_password=False))
    if db.backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ConfigError(
                "TRACKER_DATABASE_URL: the scheduler needs a database file, not :memory:"
            )
        return SqliteFileLock(Path(url.database).expanduser().resolve(), db)
    raise ConfigError(f"TRACKER_DATABASE_URL: no leader lock for {db.backend}")


def wait_for_leadership(
    lock: LeaderLock,
    stop: threading.Event,
    poll_seconds: float = STANDBY_POLL_SECONDS,
    on_poll: Callable[[], None] | None = None,
) -> bool:
    """Stand by until the lock is ours (True) or we are told to stop (False)."""
    announced = False
    while not stop.is_set():
        if lock.try_acquire():
            return True
        if not announced:
            log.warning("standby: another scheduler leads (%s); waiting", lock.describe())
            announced = True
        if on_poll is not None:
            on_poll()
        stop.wait(poll_seconds)
    return False
