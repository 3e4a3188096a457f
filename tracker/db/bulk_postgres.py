"""PostgreSQL bulk loads check foreign keys once per referenced key instead of once per row.

A first load of prices spent most of its time in two places (``EXPLAIN ANALYZE`` of 1,000,000
new daily bars): staging every row in a temporary table before merging it, and the
per-row trigger behind each foreign key (``daily_bars.instrument_id``), which looked the
same few hundred instruments up a million times. Here:

- ``keys_absent`` (bulk_keys.py) tells the caller when no row of a batch can conflict, so it
  may ``COPY`` the batch straight into the table.
- ``foreign_keys_checked_once`` replaces the per-row checks by one locking query per foreign
  key: the distinct referenced keys are looked up with ``FOR KEY SHARE`` (the lock the
  per-row trigger takes, held to the end of the transaction, so a referenced row cannot be
  deleted under the load), and only when every one exists are the per-row triggers skipped,
  with ``SET LOCAL session_replication_role = replica``, for the one statement that writes
  the rows. The setting is restored right after it, so nothing else in the caller's
  transaction is affected. Whenever a key is missing, the table has a trigger of its own,
  a foreign key spans several columns or is not fed by the written columns, or the role
  may not change the setting (it needs superuser or, from PostgreSQL 15, ``GRANT SET``),
  nothing is skipped: the server's own per-row checks run and a bad row fails the batch
  with PostgreSQL's foreign-key error, as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Table

#: batches smaller than this keep the per-row checks: three catalogue queries cost more
SET_WISE_MIN_ROWS = 1_000

_FOREIGN_KEYS = """
SELECT con.conname,
       array_agg(src.attname ORDER BY k.ord) AS columns,
       ref.relname AS referred_table,
       array_agg(dst.attname ORDER BY k.ord) AS referred_columns,
       refns.nspname AS referred_schema
FROM pg_constraint con
JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(src_num, dst_num, ord) ON true
JOIN pg_attribute src ON src.attrelid = con.conrelid AND src.attnum = k.src_num
JOIN pg_attribute dst ON dst.attrelid = con.confrelid AND dst.attnum = k.dst_num
JOIN pg_class ref ON ref.oid = con.confrelid
JOIN pg_namespace refns ON refns.oid = ref.relnamespace
WHERE con.conrelid = to_regclass(%(table)s) AND con.contype = 'f'
GROUP BY con.conname, ref.relname, refns.nspname
"""

_OWN_TRIGGERS = """
SELECT EXISTS (
    SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(%(table)s) AND NOT tgisinternal
)
"""


@dataclass(frozen=True)
class _ForeignKey:
    name: str
    column: str
    referred: str  # quoted schema.table
    referred_column: str


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _foreign_keys(connection: Connection, table: Table) -> list[_ForeignKey] | None:
    """The table's single-column foreign keys, or None when one spans several columns."""
    rows = connection.exec_driver_sql(_FOREIGN_KEYS, {"table": _quoted(table.name)}).all()
    keys: list[_ForeignKey] = []
    for name, cols, referred, referred_cols, schema in rows:
        if len(cols) != 1:
            return None
        keys.append(
            _ForeignKey(name, cols[0], f"{_quoted(schema)}.{_quoted(referred)}", referred_cols[0])
        )
    return keys


def _may_skip_row_triggers(connection: Connection) -> bool:
    """Whether this role may set session_replication_role (superuser, or GRANT SET on 15+)."""
    version = connection.dialect.server_version_info or (0,)
    if version >= (15,):
        query = "SELECT has_parameter_privilege('session_replication_role', 'SET')"
    else:  # pragma: no cover - the tracker runs on PostgreSQL 15
        query = "SELECT current_setting('is_superuser') = 'on'"
    return bool(connection.exec_driver_sql(query).scalar_one())


def _all_referenced_rows_locked(connection: Connection, key: _ForeignKey, values: set[Any]) -> bool:
    """Lock every referenced row FOR KEY SHARE (as the per-row check does); True if all exist."""
    wanted = sorted(v for v in values if v is not None)
    if not wanted:
        return True
    found = connection.exec_driver_sql(
        f"SELECT count(*) FROM (SELECT 1 FROM {key.referred} "  # noqa: S608 (identifiers from the catalogue, values bound)
        f"WHERE {_quoted(key.referred_column)} = ANY(%(keys)s) FOR KEY SHARE) AS locked",
        {"keys": wanted},
    ).scalar_one()
    return int(found) == len(wanted)


def _checked_set_wise(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> bool:
    """True when every foreign key of the batch was checked (and locked) set-wise here."""
    if len(rows) < SET_WISE_MIN_ROWS or not _may_skip_row_triggers(connection):
        return False
    if connection.exec_driver_sql(_OWN_TRIGGERS, {"table": _quoted(table.name)}).scalar_one():
        return False  # replica mode would silence the table's own triggers too
    keys = _foreign_keys(connection, table)
    if keys is None or any(key.column not in columns for key in keys):
        return False
    for key in keys:
        at = columns.index(key.column)
        if not _all_referenced_rows_locked(connection, key, {row[at] for row in rows}):
            return False  # let the per-row check name the bad key in PostgreSQL's own error
    return True


@contextmanager
def foreign_keys_checked_once(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> Iterator[bool]:
    """Run the statement in the block without per-row foreign-key triggers when the batch's
    referenced keys were all found and locked here; yields whether they were skipped."""
    if not _checked_set_wise(connection, table, columns, rows):
        yield False
        return
    before = connection.exec_driver_sql("SHOW session_replication_role").scalar_one()
    connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
    try:
        yield True
    finally:
        # after a server error the transaction is aborted: its rollback undoes SET LOCAL
        status = connection.connection.dbapi_connection.info.transaction_status  # type: ignore[union-attr]
        if status != TransactionStatus.INERROR:
            connection.exec_driver_sql(
                "SELECT set_config('session_replication_role', %(v)s, true)", {"v": before}
            )
