"""Fast, counted, dialect-aware bulk upserts (insert new rows, update changed ones in place).

Price ingestion re-reads overlapping history on every run, so most rows it writes already
exist. A row-at-a-time ``INSERT .. ON CONFLICT`` through the ORM manages a few thousand rows
a second and cannot tell a new row from a revised or an unchanged one. Here the rows are
staged in a temporary table with the driver's fastest path (``executemany`` on SQLite,
``COPY`` on PostgreSQL), then merged with two set-based statements whose row counts are the
answer: an ``UPDATE .. FROM`` that touches only rows whose values differ (NULL-safe) and an
``INSERT .. SELECT`` of the keys not yet present. A batch none of whose keys can be stored
yet (a first load, or new sessions after the last stored one: bulk_keys.py) skips the stage
and goes straight into its table; on PostgreSQL foreign keys are then checked once per
referenced key (bulk_postgres.py). Everything runs on the caller's connection, inside the caller's
transaction, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Dialect, Table

from tracker.db.bulk_keys import keys_absent
from tracker.db.bulk_postgres import foreign_keys_checked_once
from tracker.db.types import UTCDateTime


@dataclass(frozen=True)
class UpsertCounts:
    """What an upsert did: rows created, rows whose values changed, rows already identical."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


def _sqlite_datetime(value: datetime) -> str:
    """The exact text SQLAlchemy's SQLite DateTime stores, so keys compare equal."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} refused: times are aware UTC")
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _column_converters(table: Table, columns: Sequence[str], dialect: str) -> list[Any]:
    """Per-column converters from Python values to what the raw driver must receive."""
    converters: list[Any] = []
    for name in columns:
        column_type = table.c[name].type
        if isinstance(column_type, UTCDateTime):
            converters.append(_sqlite_datetime if dialect == "sqlite" else _aware_utc)
        elif dialect == "sqlite" and column_type.python_type is date:
            converters.append(date.isoformat)
        else:
            converters.append(None)
    return converters


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} refused: times are aware UTC")
    return value.astimezone(UTC)


def _convert(rows: Sequence[Sequence[Any]], converters: list[Any]) -> list[tuple[Any, ...]]:
    if not any(converters):
        return [tuple(row) for row in rows]
    return [
        tuple(
            value if conv is None or value is None else conv(value)
            for value, conv in zip(row, converters, strict=True)
        )
        for row in rows
    ]


def bulk_upsert(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    key_columns: Sequence[str],
    constants: Mapping[str, Any] | None = None,
) -> UpsertCounts:
    """Upsert ``rows`` (tuples in ``columns`` order) into ``table`` and count the outcome.

    ``key_columns`` (a subset of ``columns``) identify a row; the other columns are compared
    NULL-safely and a row is updated only when one differs. ``constants`` (e.g. a fresh
    ``updated_at`` or the ``source``) are written on insert and update but never compared,
    so re-ingesting identical data reports it as unchanged. Keys must be unique in ``rows``.
    """
    if not rows:
        return UpsertCounts()
    missing = [key for key in key_columns if key not in columns]
    if missing:
        raise ValueError(f"key columns {missing} are not among the upserted columns")
    constants = dict(constants or {})
    dialect = connection.dialect.name
    stage = f"stage_{table.name}_{uuid.uuid4().hex[:8]}"
    converters = _column_converters(table, columns, dialect)
    staged = _convert(rows, converters)
    column_ddl = ", ".join(
        f'"{name}" {table.c[name].type.compile(dialect=connection.dialect)}' for name in columns
    )
    if dialect in ("postgresql", "sqlite") and keys_absent(
        connection, table, columns, key_columns, staged
    ):
        return _insert_new(connection, table, columns, staged, constants)
    if dialect == "postgresql":
        _stage_postgresql(connection, stage, column_ddl, columns, staged, table)
    elif dialect == "sqlite":
        _stage_sqlite(connection, stage, column_ddl, columns, key_columns, staged)
    else:  # pragma: no cover - the tracker supports exactly these two backends
        raise NotImplementedError(f"bulk_upsert does not support {dialect}")
    try:
        counts = _merge(connection, table, stage, columns, key_columns, constants, staged)
    except Exception:
        # PostgreSQL's aborted transaction drops the stage on rollback; SQLite may keep it
        if dialect == "sqlite":
            with contextlib.suppress(Exception):
                connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{stage}"')
        raise
    connection.exec_driver_sql(f'DROP TABLE "{stage}"')
    return counts


def _stage_sqlite(
    connection: Connection,
    stage: str,
    column_ddl: str,
    columns: Sequence[str],
    key_columns: Sequence[str],
    rows: list[tuple[Any, ...]],
) -> None:
    keys = ", ".join(f'"{k}"' for k in key_columns)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f'CREATE TEMP TABLE "{stage}" ({column_ddl}, PRIMARY KEY ({keys}))')
        placeholders = ", ".join("?" for _ in columns)
        cursor.executemany(f'INSERT INTO "{stage}" VALUES ({placeholders})', rows)  # noqa: S608 (identifiers from the schema, values bound)
    finally:
        cursor.close()


def _insert_new(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    constants: Mapping[str, Any],
) -> UpsertCounts:
    """Write a batch none of whose keys can be stored yet straight into its table: binary
    COPY with foreign keys checked per referenced key on PostgreSQL, one executemany on
    SQLite (15-20% faster than staging a first load of 1,000,000 bars)."""
    dialect = connection.dialect.name
    defaults = _insert_defaults(table, [*columns, *constants])
    extra = {**constants, **defaults}
    names = [*columns, *extra]
    tail = tuple(_bind(value, dialect) for value in extra.values())
    full = [row + tail for row in rows] if tail else rows
    if dialect == "postgresql":
        with foreign_keys_checked_once(connection, table, columns, rows):
            copy_types = _copy_types(table, names, connection.dialect)
            _copy_rows(connection, table.name, names, copy_types, full)
        return UpsertCounts(inserted=len(rows))
    quoted = ", ".join(f'"{name}"' for name in names)
    placeholders = ", ".join("?" for _ in names)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(f'INSERT INTO "{table.name}" ({quoted}) VALUES ({placeholders})', full)  # noqa: S608 (identifiers from the schema, values bound)
    finally:
        cursor.close()
    return UpsertCounts(inserted=len(rows))


def _stage_postgresql(
    connection: Connection,
    stage: str,
    column_ddl: str,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    table: Table,
) -> None:
    connection.exec_driver_sql(f'CREATE TEMP TABLE "{stage}" ({column_ddl})')
    types = _copy_types(table, columns, connection.dialect)
    _copy_rows(connection, stage, list(columns), types, rows)
    connection.exec_driver_sql(f'ANALYZE "{stage}"')


# PostgreSQL type names of the column types bulk upserts write, for binary COPY: the text
# format makes the driver format and the server parse every value (~10x slower).
_BINARY_COPY_TYPES = {
    "INTEGER": "int4",
    "BIGINT": "int8",
    "SMALLINT": "int2",
    "FLOAT": "float8",
    "DOUBLE PRECISION": "float8",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TEXT": "text",
    "BOOLEAN": "bool",
}


def _copy_types(table: Table, columns: Sequence[str], dialect: Dialect) -> list[str] | None:
    """The binary COPY type of each column, or None when one has no binary mapping here."""
    names: list[str] = []
    for name in columns:
        compiled = str(table.c[name].type.compile(dialect=dialect)).upper()
        if compiled.startswith("VARCHAR"):
            names.append("varchar")
        elif compiled in _BINARY_COPY_TYPES:
            names.append(_BINARY_COPY_TYPES[compiled])
        else:
            return None
    return names


def _copy_rows(
    connection: Connection,
    target: str,
    columns: list[str],
    types: list[str] | None,
    rows: Sequence[Sequence[Any]],
) -> None:
    """COPY ``rows`` into ``target``: binary with declared types where every column has one."""
    names = ", ".join(f'"{c}"' for c in columns)
    binary = " (FORMAT BINARY)" if types is not None else ""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f'COPY "{target}" ({names}) FROM STDIN{binary}') as copy:
            if types is not None:
                copy.set_types(types)
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


def _merge(
    connection: Connection,
    table: Table,
    stage: str,
    columns: Sequence[str],
    key_columns: Sequence[str],
    constants: Mapping[str, Any],
    rows: list[tuple[Any, ...]],
) -> UpsertCounts:
    dialect = connection.dialect.name
    distinct = "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"
    target = f'"{table.name}"'
    values = [c for c in columns if c not in key_columns]
    join = " AND ".join(f'{target}."{k}" = s."{k}"' for k in key_columns)
    params = {f"const_{name}": _bind(value, dialect) for name, value in constants.items()}
    updated = 0
    if values:
        changed = " OR ".join(f'{target}."{c}" {distinct} s."{c}"' for c in values)
        assignments = [f'"{c}" = s."{c}"' for c in values]
        assignments += [f'"{name}" = :const_{name}' for name in constants]
        result = connection.exec_driver_sql(
            _named(
                f'UPDATE {target} SET {", ".join(assignments)} FROM "{stage}" AS s '  # noqa: S608 (identifiers from the schema, values bound)
                f"WHERE {join} AND ({changed})",
                dialect,
            ),
            params,
        )
        updated = max(result.rowcount, 0)
    defaults = _insert_defaults(table, [*columns, *constants])
    params |= {f"const_{name}": _bind(value, dialect) for name, value in defaults.items()}
    insert_columns = [*columns, *constants, *defaults]
    select_values = [f's."{c}"' for c in columns] + [
        f":const_{name}" for name in [*constants, *defaults]
    ]
    exists = " AND ".join(f'{target}."{k}" = s."{k}"' for k in key_columns)
    quoted_columns = ", ".join(f'"{c}"' for c in insert_columns)
    checks = (
        foreign_keys_checked_once(connection, table, columns, rows)
        if dialect == "postgresql"
        else contextlib.nullcontext(False)
    )
    with checks:
        result = connection.exec_driver_sql(
            _named(
                f"INSERT INTO {target} ({quoted_columns}) "  # noqa: S608 (identifiers from the schema, values bound)
                f'SELECT {", ".join(select_values)} FROM "{stage}" AS s '
                f"WHERE NOT EXISTS (SELECT 1 FROM {target} WHERE {exists})",
                dialect,
            ),
            params,
        )
    inserted = max(result.rowcount, 0)
    unchanged = len(rows) - inserted - updated
    return UpsertCounts(inserted=inserted, updated=updated, unchanged=unchanged)


def _insert_defaults(table: Table, given: Sequence[str]) -> dict[str, Any]:
    """The model's Python-side defaults (``source=""``, ``updated_at=utcnow``) for the columns
    a raw INSERT leaves out; the ORM would have applied them."""
    values: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.name in given or default is None or column.primary_key:
            continue
        if getattr(default, "is_scalar", False):
            values[column.name] = default.arg  # type: ignore[attr-defined]
        elif getattr(default, "is_callable", False):
            values[column.name] = default.arg(None)  # type: ignore[attr-defined]
    return values


def _named(sql: str, dialect: str) -> str:
    """Raw driver SQL with ``:name`` placeholders in the driver's own paramstyle."""
    if dialect == "postgresql":
        return re.sub(r":(const_\w+)", r"%(\1)s", sql)
    return sql


def _bind(value: Any, dialect: str) -> Any:
    if isinstance(value, datetime):
        return _sqlite_datetime(value) if dialect == "sqlite" else _aware_utc(value)
    if isinstance(value, date) and dialect == "sqlite":
        return value.isoformat()
    return value
