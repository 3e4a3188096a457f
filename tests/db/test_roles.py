"""``tracker db roles``: the dashboard's read-only role on the real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tracker.db import Database
from tracker.db.roles import ensure_reader_role, reader_role
from tracker.errors import ConfigError


@pytest.fixture
def reader_url(postgres_server) -> Iterator[tuple[str, str]]:
    """A migrated database and the URL of a fresh read-only role on it (dropped afterwards)."""
    from tracker.db import migrate

    url = postgres_server.create_database()
    migrate.upgrade(url, "head")
    role = f"reader_{uuid.uuid4().hex[:10]}"
    reader = make_url(url).set(username=role, password="pw-" + uuid.uuid4().hex)
    yield url, reader.render_as_string(hide_password=False)
    admin = Database.connect(url)
    try:
        with admin.engine.begin() as connection:
            connection.execute(text(f'DROP OWNED BY "{role}"'))
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    finally:
        admin.dispose()


def test_the_role_reads_but_cannot_write_even_after_switching_read_only_off(reader_url) -> None:
    url, dashboard_url = reader_url
    admin = Database.connect(url)
    try:
        assert ensure_reader_role(admin.engine, reader_role(dashboard_url)) is True
        assert ensure_reader_role(admin.engine, reader_role(dashboard_url)) is False  # rerun
    finally:
        admin.dispose()
    reader = Database.connect(dashboard_url)  # a plain engine: the role itself must refuse
    try:
        with reader.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM feeds")).scalar() == 0
            assert connection.execute(text("SHOW default_transaction_read_only")).scalar() == "on"
        with pytest.raises(DBAPIError, match="permission denied"), reader.engine.begin() as c:
            c.execute(text("SET default_transaction_read_only = off"))
            c.execute(text("SET transaction_read_only = off"))
            c.execute(text("INSERT INTO feeds (name, url) VALUES ('x', 'http://x')"))
        with pytest.raises(DBAPIError), reader.engine.begin() as c:
            c.execute(text("SET transaction_read_only = off"))
            c.execute(text("CREATE TABLE public.intruder (x int)"))
    finally:
        reader.dispose()


def test_tables_added_later_are_readable_too(reader_url) -> None:
    url, dashboard_url = reader_url
    admin = Database.connect(url)
    reader = Database.connect(dashboard_url)
    try:
        ensure_reader_role(admin.engine, reader_role(dashboard_url))
        with admin.engine.begin() as connection:
            connection.execute(text("CREATE TABLE later_table (x int)"))
        with reader.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM later_table")).scalar() == 0
    finally:
        reader.dispose()
        admin.dispose()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (None, "is not set"),
        ("sqlite:///x.db", "PostgreSQL only"),
        ("postgresql://Bad-Name:pw@h/db", "plain role name"),
        ('postgresql://x";drop:pw@h/db', "plain role name"),
        ("postgresql://reader@h/db", "no password"),
    ],
)
def test_an_unusable_dashboard_url_is_a_clear_error(url, problem) -> None:
    with pytest.raises(ConfigError, match=problem):
        reader_role(url)


def test_the_dashboard_engine_with_the_role_cannot_insert(reader_url) -> None:
    """The role and the read-only sessions together: the dashboard's engine on PostgreSQL."""
    url, dashboard_url = reader_url
    admin = Database.connect(url)
    try:
        ensure_reader_role(admin.engine, reader_role(dashboard_url))
    finally:
        admin.dispose()
    reader = Database.connect(dashboard_url, read_only=True)
    try:
        with pytest.raises(DBAPIError, match="read-only"), reader.session() as session:
            session.execute(text("INSERT INTO feeds (name, url) VALUES ('x', 'http://x')"))
    finally:
        reader.dispose()
