"""The migrations build the schema the models describe, and undo it, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from tracker.db import (
    Base,
    make_engine,
    migrate,
    models,  # noqa: F401
)


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
            context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": migrate.include_object})
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
