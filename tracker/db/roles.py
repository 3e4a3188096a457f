"""The dashboard's read-only PostgreSQL role (``tracker db roles``).

A command rather than a migration, because:
- roles belong to the PostgreSQL cluster, not to one database: a migration's downgrade that
  drops the role would break every other database using it, and a rerun after
  ``downgrade base`` / ``upgrade`` must not fail on a role that already exists;
- creating roles needs CREATEROLE, which the migrating role should not need for schema work;
- the role's name and password are deployment secrets (they come from
  ``TRACKER_DASHBOARD_DATABASE_URL``), never something to write into a migration file;
- SQLite has no roles at all (the dashboard opens its file with ``mode=ro`` instead).

The command is idempotent: it creates the role when missing, (re)sets its password and its
attributes, and grants SELECT on every table plus, through default privileges, on the tables
later migrations create. Run it after ``tracker db upgrade`` (compose does, in ``migrate``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from psycopg import sql
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from tracker.errors import ConfigError

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class ReaderRole:
    """The role the dashboard connects as, taken from its URL."""

    name: str
    password: str


def reader_role(dashboard_url: str | None) -> ReaderRole:
    """The role and password in ``TRACKER_DASHBOARD_DATABASE_URL`` (ConfigError if unusable)."""
    if not dashboard_url:
        raise ConfigError(
            "TRACKER_DASHBOARD_DATABASE_URL is not set: it names the read-only role to create "
            "(postgresql://ROLE:PASSWORD@host/db)"
        )
    try:
        url = make_url(dashboard_url)
    except ArgumentError as exc:
        raise ConfigError("TRACKER_DASHBOARD_DATABASE_URL is not a database URL") from exc
    if url.get_backend_name() != "postgresql":
        raise ConfigError("TRACKER_DASHBOARD_DATABASE_URL: roles exist on PostgreSQL only")
    if not url.username or not ROLE_NAME.fullmatch(url.username):
        raise ConfigError(
            "TRACKER_DASHBOARD_DATABASE_URL: the user must be a plain role name "
            "(lowercase letters, digits, _)"
        )
    if not url.password:
        raise ConfigError("TRACKER_DASHBOARD_DATABASE_URL has no password for the role")
    return ReaderRole(url.username, str(url.password))


def _run(connection: Connection, statement: sql.Composable) -> None:
    """Execute DDL composed with psycopg's quoting (DDL takes no bound parameters)."""
    raw = connection.connection.driver_connection
    connection.exec_driver_sql(statement.as_string(raw))


def ensure_reader_role(engine: Engine, role: ReaderRole) -> bool:
    """Create or update the read-only role; True when it was created now."""
    if engine.dialect.name != "postgresql":
        raise ConfigError("roles exist on PostgreSQL only (SQLite: the dashboard opens mode=ro)")
    name = sql.Identifier(role.name)
    with engine.begin() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": role.name}
        ).first()
        if exists is None:
            _run(connection, sql.SQL("CREATE ROLE {} LOGIN").format(name))
        _run(
            connection,
            sql.SQL(
                "ALTER ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                "NOINHERIT PASSWORD {}"
            ).format(name, sql.Literal(role.password)),
        )
        _run(
            connection, sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(name)
        )
        database = connection.execute(text("SELECT current_database()")).scalar_one()
        _run(
            connection,
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), name),
        )
        # PostgreSQL before 15 lets every role create tables in public; nobody but the owner
        # and the migrating role needs to.
        _run(connection, sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
        _run(connection, sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name))
        _run(connection, sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(name))
        _run(
            connection,
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {}"
            ).format(name),
        )
    return exists is None
