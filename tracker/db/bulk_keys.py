"""Whether a bulk batch can conflict with stored rows: one query on the primary key.

When no stored row lies in the batch's key range, every row of the batch is new, and a bulk
upsert may insert it straight into the table (``COPY`` on PostgreSQL, one ``executemany``
on SQLite) instead of staging it and merging: a first load, or new sessions after the last
stored one, the common cases of price ingestion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def keys_absent(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    key_columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> bool:
    """True when no stored row of ``table`` has a key inside the batch's key range.

    Every key column lies between the batch's smallest and largest value; on PostgreSQL the
    leading one matches any of the batch's values instead (``= ANY``), which is exact for it.
    Conservative: a stored row inside the range but with another key still answers False.
    ``rows`` hold the values as the driver receives them (ISO text for SQLite dates).
    """
    postgresql = connection.dialect.name == "postgresql"
    conditions: list[str] = []
    params: dict[str, Any] = {}
    for rank, name in enumerate(key_columns):
        at = columns.index(name)
        values = {row[at] for row in rows}
        if None in values:
            return False  # a NULL key is the server's to reject, on the general path
        if rank == 0 and postgresql:
            conditions.append(f"{_quoted(name)} = ANY(%(k0)s)")
            params["k0"] = sorted(values)
        elif postgresql:
            conditions.append(f"{_quoted(name)} BETWEEN %(lo{rank})s AND %(hi{rank})s")
            params[f"lo{rank}"], params[f"hi{rank}"] = min(values), max(values)
        else:
            conditions.append(f"{_quoted(name)} BETWEEN :lo{rank} AND :hi{rank}")
            params[f"lo{rank}"], params[f"hi{rank}"] = min(values), max(values)
    found = connection.exec_driver_sql(
        f"SELECT EXISTS (SELECT 1 FROM {_quoted(table.name)} WHERE {' AND '.join(conditions)})",  # noqa: S608 (identifiers from the schema, values bound)
        params,
    ).scalar_one()
    return not found
