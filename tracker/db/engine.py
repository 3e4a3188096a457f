"""One engine factory and a transactional session scope for every backend."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from tracker.errors import ConfigError

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL for concurrent readers (dashboard) beside a writer (scheduler), FKs enforced."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _configure_sqlite_reader(dbapi_connection: Any, _record: Any) -> None:
    """A reader's connection settings: no ``journal_mode`` (that pragma writes the file).

    ``query_only`` makes the connection itself refuse writes even if the URI's ``mode=ro`` were
    lost on the way.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _sqlite_read_only_url(url: URL) -> URL:
    """``sqlite:///file:PATH?mode=ro&uri=true``: SQLite opens the file read-only.

    A missing file is an error (nothing is created) rather than a new empty database.
    """
    database = url.database or ""
    if database in ("", ":memory:"):
        raise ConfigError("a read-only engine needs a SQLite file, not an in-memory database")
    if database.startswith("file:"):
        path = database.removeprefix("file:").split("?", 1)[0]
    else:
        path = str(Path(database).expanduser().resolve())
    query = {**url.query, "mode": "ro", "uri": "true"}
    return url.set(database=f"file:{quote(path)}", query=query)


def make_engine(database_url: str, *, read_only: bool = False, **kwargs: Any) -> Engine:
    """Create the engine for ``database_url``; on SQLite, create the file's directory too.

    ``read_only`` is the dashboard's engine: SQLite opens the file with ``mode=ro`` and sets no
    pragma that writes; PostgreSQL sessions start with ``default_transaction_read_only``
    (which a session could switch off again: the read-only role of ``tracker db roles`` is the
    barrier that holds, this is the second line).
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if read_only:
            engine = create_engine(_sqlite_read_only_url(url), **kwargs)
            event.listen(engine, "connect", _configure_sqlite_reader)
            return engine
        if url.database and url.database != ":memory:":
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if read_only:
        connect_args = dict(kwargs.pop("connect_args", {}))
        options = connect_args.get("options", "")
        connect_args["options"] = f"{options} -c default_transaction_read_only=on".strip()
        kwargs["connect_args"] = connect_args
    return create_engine(url, pool_pre_ping=True, **kwargs)


@dataclass
class Database:
    """The engine and its session factory; pass this around, not globals."""

    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def connect(cls, database_url: str, *, read_only: bool = False) -> Database:
        engine = make_engine(database_url, read_only=read_only)
        return cls(engine, sessionmaker(engine, expire_on_commit=False))

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
