"""The fast paths of bulk_upsert: a conflict-free batch written straight into its table (COPY
on PostgreSQL, executemany on SQLite), and on PostgreSQL foreign keys checked once per
referenced key. Every behaviour runs on both backends and must give the same answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from tracker.db import Base, Database, bulk_keys, bulk_postgres
from tracker.db.models import DailyBar, Instrument
from tracker.db.upsert import UpsertCounts, _column_converters, _convert, bulk_upsert

COLUMNS = ("instrument_id", "date", "open", "high", "low", "close", "adj_close", "volume")
KEYS = ("instrument_id", "date")
TABLE = DailyBar.__table__


@pytest.fixture
def postgres_database(postgres_template_url: str) -> Iterator[Database]:
    """The migrated PostgreSQL test database, emptied (for the PostgreSQL-only paths)."""
    database = Database.connect(postgres_template_url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield database
    database.dispose()


@pytest.fixture(autouse=True)
def _set_wise_for_small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """The set-wise checks start at 1,000 rows; the tests exercise them on a few."""
    monkeypatch.setattr(bulk_postgres, "SET_WISE_MIN_ROWS", 1)


def _instruments(database: Database, n: int = 2) -> list[int]:
    with database.session() as session:
        made = [Instrument(ticker=f"SYNTH{i}", name="synthetic") for i in range(n)]
        session.add_all(made)
        session.flush()
        return [instrument.id for instrument in made]


def _bars(iid: int, start: int, n: int, close: float = 10.0) -> list[tuple[object, ...]]:
    """n bars from 2024-01-01 + start days; a day's close is ``close`` + its day number."""
    first = date(2024, 1, 1)
    return [
        (iid, first + timedelta(days=d), 1.0, 2.0, 0.5, close + d, None, 100 + d)
        for d in range(start, start + n)
    ]


def _upsert(database: Database, rows: list[tuple[object, ...]]) -> UpsertCounts:
    with database.engine.begin() as connection:
        return bulk_upsert(
            connection,
            TABLE,  # type: ignore[arg-type]
            COLUMNS,
            rows,
            key_columns=KEYS,
            constants={"source": "test", "updated_at": datetime.now(UTC)},
        )


def _stored(database: Database) -> list[tuple[int, date, float, str]]:
    with database.session() as session:
        bars = session.scalars(select(DailyBar).order_by(DailyBar.instrument_id, DailyBar.date))
        return [(b.instrument_id, b.date, b.close, b.source) for b in bars]


def test_new_rows_of_several_instruments_are_all_inserted(database: Database) -> None:
    a, b = _instruments(database)
    assert _upsert(database, _bars(a, 0, 30) + _bars(b, 0, 20)) == UpsertCounts(inserted=50)
    stored = _stored(database)
    assert len(stored) == 50
    assert stored[0] == (a, date(2024, 1, 1), 10.0, "test")
    assert stored[-1] == (b, date(2024, 1, 20), 29.0, "test")


def test_later_sessions_append_and_a_repeat_is_unchanged(database: Database) -> None:
    (a,) = _instruments(database, 1)
    assert _upsert(database, _bars(a, 0, 10)) == UpsertCounts(inserted=10)
    assert _upsert(database, _bars(a, 10, 5)) == UpsertCounts(inserted=5)
    assert _upsert(database, _bars(a, 0, 15)) == UpsertCounts(unchanged=15)
    assert len(_stored(database)) == 15


def test_mixed_batch_updates_inserts_and_keeps(database: Database) -> None:
    a, b = _instruments(database)
    _upsert(database, _bars(a, 0, 10))
    rows = _bars(a, 0, 12, close=20.0)[:2] + _bars(a, 2, 10) + _bars(b, 0, 3)
    assert _upsert(database, rows) == UpsertCounts(inserted=5, updated=2, unchanged=8)
    stored = {(iid, day): close for iid, day, close, _ in _stored(database)}
    assert len(stored) == 15
    assert stored[(a, date(2024, 1, 1))] == 20.0
    assert stored[(a, date(2024, 1, 12))] == 21.0


@pytest.mark.parametrize("existing", [0, 5], ids=["first-load", "mixed"])
def test_unknown_instrument_fails_the_batch_with_a_foreign_key_error(
    database: Database, existing: int
) -> None:
    (a,) = _instruments(database, 1)
    if existing:
        _upsert(database, _bars(a, 0, existing))
    before = _stored(database)
    rows = _bars(a, existing, 20) + _bars(a + 1000, 0, 1)
    with pytest.raises(Exception, match=r"(?i)foreign key") as caught:
        _upsert(database, rows)
    if database.engine.dialect.name == "postgresql":
        assert f"({a + 1000})" in str(caught.value)  # the bad key is named
    assert _stored(database) == before


def test_duplicate_keys_in_one_batch_fail_and_write_nothing(database: Database) -> None:
    (a,) = _instruments(database, 1)
    rows = _bars(a, 0, 5)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        _upsert(database, rows + rows[:1])
    assert _stored(database) == []


def test_a_later_failure_in_the_transaction_rolls_the_copied_rows_back(
    database: Database,
) -> None:
    (a,) = _instruments(database, 1)
    with pytest.raises(RuntimeError, match="after the load"), database.engine.begin() as conn:
        counts = bulk_upsert(conn, TABLE, COLUMNS, _bars(a, 0, 10), key_columns=KEYS)  # type: ignore[arg-type]
        assert counts == UpsertCounts(inserted=10)
        raise RuntimeError("after the load")
    assert _stored(database) == []


@pytest.mark.postgres
def test_postgresql_foreign_keys_are_enforced_again_after_the_batch(
    postgres_database: Database,
) -> None:
    database = postgres_database
    (a,) = _instruments(database, 1)
    with database.engine.begin() as conn:
        with bulk_postgres.foreign_keys_checked_once(
            conn, TABLE, COLUMNS, _bars(a, 0, 3)
        ) as skipped:  # type: ignore[arg-type]
            assert skipped  # the test server's role is a superuser
            assert conn.execute(text("SHOW session_replication_role")).scalar_one() == "replica"
        assert conn.execute(text("SHOW session_replication_role")).scalar_one() == "origin"
        bulk_upsert(conn, TABLE, COLUMNS, _bars(a, 0, 3), key_columns=KEYS)  # type: ignore[arg-type]
    with pytest.raises(Exception, match=r"(?i)foreign key"), database.engine.begin() as conn:
        bulk_upsert(conn, TABLE, COLUMNS, _bars(a, 3, 2), key_columns=KEYS)  # type: ignore[arg-type]
        conn.execute(  # a plain insert later in the same transaction is checked per row
            text(
                "INSERT INTO daily_bars (instrument_id, date, close, source, updated_at) "
                "VALUES (:iid, :day, 1.0, 'x', now())"
            ),
            {"iid": a + 1000, "day": date(2020, 1, 1)},
        )
    assert len(_stored(database)) == 3


def test_keys_absent_looks_at_the_batch_key_range(database: Database) -> None:
    a, b = _instruments(database)
    _upsert(database, _bars(a, 10, 5))  # 2024-01-11 .. 2024-01-15 of a
    dialect = database.engine.dialect.name
    converters = _column_converters(TABLE, COLUMNS, dialect)  # type: ignore[arg-type]
    with database.engine.begin() as conn:

        def absent(rows: list[tuple[object, ...]]) -> bool:
            staged = _convert(rows, converters)
            return bulk_keys.keys_absent(conn, TABLE, COLUMNS, KEYS, staged)  # type: ignore[arg-type]

        assert absent(_bars(a, 0, 10))  # before the stored range
        assert absent(_bars(a, 15, 10))  # after it
        assert absent(_bars(b, 10, 5))  # same days, another instrument
        assert not absent(_bars(a, 14, 3))  # overlaps
        assert not absent(_bars(a, 0, 1) + _bars(a, 20, 1))  # spans it: conservative


@pytest.mark.postgres
def test_postgresql_missing_referenced_key_keeps_the_per_row_checks(
    postgres_database: Database,
) -> None:
    database = postgres_database
    (a,) = _instruments(database, 1)
    with database.engine.begin() as conn:
        rows = _bars(a, 0, 2) + _bars(a + 1000, 0, 1)
        with bulk_postgres.foreign_keys_checked_once(conn, TABLE, COLUMNS, rows) as skipped:  # type: ignore[arg-type]
            assert not skipped
            assert conn.execute(text("SHOW session_replication_role")).scalar_one() == "origin"


@pytest.mark.postgres
def test_postgresql_role_without_the_privilege_keeps_the_per_row_checks(
    postgres_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A role that may not set session_replication_role loads the same rows, checked per row."""
    monkeypatch.setattr(bulk_postgres, "_may_skip_row_triggers", lambda connection: False)
    database = postgres_database
    (a,) = _instruments(database, 1)
    with (
        database.engine.begin() as conn,
        bulk_postgres.foreign_keys_checked_once(conn, TABLE, COLUMNS, _bars(a, 0, 3)) as skipped,
    ):  # type: ignore[arg-type]
        assert not skipped
    assert _upsert(database, _bars(a, 0, 4)) == UpsertCounts(inserted=4)
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        _upsert(database, _bars(a, 4, 2) + _bars(a + 1000, 0, 1))
    assert len(_stored(database)) == 4
