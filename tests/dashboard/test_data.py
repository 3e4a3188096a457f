"""The dashboard's engine (dashboard/_data.py) cannot write, on either backend."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from dashboard import _data
from tracker.db import Database

INSERT = text(
    "INSERT INTO feeds (url, name, kind, topics, enabled, error_count) "
    "VALUES ('http://example.test/x', 'x', 'rss', '', true, 0)"
)


@pytest.fixture
def dashboard_engine(monkeypatch: pytest.MonkeyPatch):
    def build(url: str) -> Database:
        monkeypatch.setenv("TRACKER_DASHBOARD_DATABASE_URL", url)
        st.cache_resource.clear()
        return _data.database(_data.database_url())

    yield build
    st.cache_resource.clear()


def _feed_count(url: str) -> int:
    database = Database.connect(url)
    try:
        with database.engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM feeds")).scalar_one())
    finally:
        database.dispose()


def test_an_insert_through_the_dashboard_engine_fails(dashboard_engine, database_url) -> None:
    database = dashboard_engine(database_url)
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM feeds")).scalar_one() == 0
    with pytest.raises(DBAPIError, match=r"read-only|readonly"), database.session() as session:
        session.execute(INSERT)
    assert _feed_count(database_url) == 0


def test_the_dashboard_engine_prefers_its_own_url(dashboard_engine, database_url, monkeypatch):
    monkeypatch.setenv("TRACKER_DATABASE_URL", "sqlite:////nonexistent/elsewhere.db")
    assert dashboard_engine(database_url).engine.url.database is not None
    assert _data.database_url() == database_url


def test_sqlite_reader_sets_no_pragma_that_writes(dashboard_engine, tmp_path: Path) -> None:
    """A rollback-journal file stays one: the reader never switches it to WAL."""
    path = tmp_path / "journal.db"
    with sqlite3.connect(path) as raw:
        raw.execute(
            "CREATE TABLE feeds (url text, name text, kind text, topics text, "
            "enabled boolean, error_count int)"
        )
    before = path.read_bytes()
    database = dashboard_engine(f"sqlite:///{path}")
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "delete"
        assert connection.execute(text("SELECT count(*) FROM feeds")).scalar() == 0
    with pytest.raises(DBAPIError), database.session() as session:
        session.execute(INSERT)
    database.dispose()
    assert path.read_bytes() == before
    assert not (tmp_path / "journal.db-wal").exists()


def test_a_missing_sqlite_file_is_not_created(dashboard_engine, tmp_path: Path) -> None:
    database = dashboard_engine(f"sqlite:///{tmp_path / 'absent.db'}")
    with pytest.raises(DBAPIError), database.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert not (tmp_path / "absent.db").exists()
