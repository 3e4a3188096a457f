"""The migrations build the schema the models describe, and undo it, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, update

from tracker.db import (
    Base,
    Database,
    make_engine,
    migrate,
    models,  # noqa: F401
)
from tracker.db.models import Event
from tracker.query.search import matching_event_ids, parse_search_text


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    server = request.getfixturevalue("postgres_server")
    url: str = server.create_database()
    return url


def test_upgrade_creates_every_model_table_and_downgrade_removes_them(fresh_url: str) -> None:
    migrate.upgrade(fresh_url)
    engine = make_engine(fresh_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()

    migrate.downgrade(fresh_url, "base")
    engine = make_engine(fresh_url)
    try:
        leftover = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert leftover == set()
        assert migrate.current_revision(engine) is None
    finally:
        engine.dispose()


def test_models_and_migrations_agree(fresh_url: str) -> None:
    """The equivalent of `alembic check`: autogenerate finds nothing to do at head."""
    migrate.upgrade(fresh_url)
    engine = make_engine(fresh_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": migrate.include_object}
            )
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_upgrade_is_repeatable(fresh_url: str) -> None:
    migrate.upgrade(fresh_url)
    migrate.upgrade(fresh_url)
    engine = make_engine(fresh_url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def _search_finds(url: str, word: str) -> set[str]:
    database = Database.connect(url)
    try:
        with database.session() as session:
            ids = matching_event_ids(database.backend, parse_search_text(word))
            return set(session.scalars(select(Event.title).where(Event.id.in_(ids))))
    finally:
        database.dispose()


@pytest.mark.parametrize("path", ["head", "round trip"])
def test_search_keeps_finding_new_and_edited_events_at_head(fresh_url: str, path: str) -> None:
    """A migration that rebuilds ``events`` on SQLite (a batch) drops the triggers that
    keep its full-text index in step: new events would silently never be found."""
    migrate.upgrade(fresh_url)
    if path == "round trip":
        migrate.downgrade(fresh_url, "0003_query_indexes")
        migrate.upgrade(fresh_url)
    database = Database.connect(fresh_url)
    try:
        with database.session() as session:
            event = Event(
                slug="zyxwv-chip-sale",
                title="Zyxwv chip sale",
                first_reported_at=datetime(2025, 1, 27, 12, tzinfo=UTC),
            )
            session.add(event)
        assert _search_finds(fresh_url, "zyxwv") == {"Zyxwv chip sale"}
        with database.session() as session:
            session.execute(update(Event).values(title="Qwerty ban"))
    finally:
        database.dispose()
    assert _search_finds(fresh_url, "qwerty") == {"Qwerty ban"}
    assert _search_finds(fresh_url, "zyxwv") == set()
