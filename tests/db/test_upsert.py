"""bulk_upsert on SQLite and PostgreSQL: counts, NULL-safe change detection, UTC keys."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tracker.db import Database
from tracker.db.models import DailyBar, Instrument, IntradayBar
from tracker.db.upsert import UpsertCounts, bulk_upsert

COLUMNS = ("instrument_id", "date", "open", "high", "low", "close", "adj_close", "volume")
KEYS = ("instrument_id", "date")


def _instrument(database: Database) -> int:
    with database.session() as session:
        instrument = Instrument(ticker="SYNTH", name="synthetic")
        session.add(instrument)
        session.flush()
        return instrument.id


def _bars(iid: int, n: int, adj: float | None = 1.0) -> list[tuple[object, ...]]:
    return [
        (
            iid,
            date(2024, 1, 1) + timedelta(days=i),
            10.0 + i,
            11.0 + i,
            9.0 + i,
            10.5 + i,
            adj,
            100 + i,
        )
        for i in range(n)
    ]


def _upsert(database: Database, rows: list[tuple[object, ...]]) -> UpsertCounts:
    with database.engine.begin() as connection:
        return bulk_upsert(
            connection,
            DailyBar.__table__,
            COLUMNS,
            rows,
            key_columns=KEYS,
            constants={"source": "test", "updated_at": datetime.now(UTC)},
        )


def test_insert_then_repeat_inserts_nothing(database: Database) -> None:
    iid = _instrument(database)
    assert _upsert(database, _bars(iid, 50)) == UpsertCounts(inserted=50)
    assert _upsert(database, _bars(iid, 50)) == UpsertCounts(unchanged=50)
    with database.session() as session:
        stored = session.scalars(select(DailyBar).order_by(DailyBar.date)).all()
    assert len(stored) == 50
    assert stored[3].close == 13.5
    assert stored[3].source == "test"


def test_revised_and_new_rows_are_told_apart(database: Database) -> None:
    iid = _instrument(database)
    _upsert(database, _bars(iid, 10, adj=None))
    rows = _bars(iid, 12, adj=None)
    rows[2] = (*rows[2][:5], 99.0, *rows[2][6:])  # a revised close
    rows[4] = (*rows[4][:6], 7.0, rows[4][7])  # NULL adj_close -> a value is a change
    assert _upsert(database, rows) == UpsertCounts(inserted=2, updated=2, unchanged=8)
    with database.session() as session:
        revised = session.get(DailyBar, (iid, date(2024, 1, 3)))
        assert revised is not None
        assert revised.close == 99.0


def test_failure_rolls_back_the_whole_batch(database: Database) -> None:
    iid = _instrument(database)
    rows = _bars(iid, 5)
    rows.append((iid + 1000, date(2024, 2, 1), 1.0, 1.0, 1.0, 1.0, None, 1))  # unknown instrument
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        _upsert(database, rows)
    with database.session() as session:
        assert session.scalars(select(DailyBar)).all() == []


def test_intraday_keys_are_utc_and_match_orm_rows(database: Database) -> None:
    iid = _instrument(database)
    ts = datetime(2025, 1, 27, 14, 30, tzinfo=UTC)
    with database.session() as session:  # one bar written through the ORM
        session.add(IntradayBar(instrument_id=iid, interval="1h", ts=ts, close=1.0, source="orm"))
    columns = ("instrument_id", "interval", "ts", "close")
    new_york = ts.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
    rows = [(iid, "1h", new_york, 1.0), (iid, "1h", ts + timedelta(hours=1), 2.0)]
    with database.engine.begin() as connection:
        counts = bulk_upsert(
            connection,
            IntradayBar.__table__,
            columns,
            rows,
            key_columns=("instrument_id", "interval", "ts"),
        )
    assert counts == UpsertCounts(inserted=1, unchanged=1)
    with database.session() as session:
        stamps = session.scalars(select(IntradayBar.ts).order_by(IntradayBar.ts)).all()
    assert stamps == [ts, ts + timedelta(hours=1)]


def test_naive_datetimes_are_refused(database: Database) -> None:
    iid = _instrument(database)
    with database.engine.begin() as connection, pytest.raises(ValueError, match="naive"):
        bulk_upsert(
            connection,
            IntradayBar.__table__,
            ("instrument_id", "interval", "ts", "close"),
            [(iid, "1h", datetime(2025, 1, 27, 14, 30), 1.0)],
            key_columns=("instrument_id", "interval", "ts"),
        )


def test_postgresql_stages_every_price_table_with_binary_copy() -> None:
    """Binary COPY (10x the text format) needs a type for every column; a column type
    without one falls back to text COPY instead of failing."""
    from sqlalchemy import JSON, Column, Integer, MetaData, Table
    from sqlalchemy.dialects import postgresql

    from tracker.db.models import CorporateAction, DailyBar, IntradayBar
    from tracker.db.upsert import _copy_types

    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    for model in (DailyBar, IntradayBar, CorporateAction):
        table = model.__table__
        columns = [
            column.name for column in table.columns if not column.primary_key or column.name != "id"
        ]
        types = _copy_types(table, columns, dialect)
        assert types is not None, model.__name__
        assert len(types) == len(columns)
    odd = Table("odd", MetaData(), Column("id", Integer), Column("doc", JSON))
    assert _copy_types(odd, ["id"], dialect) == ["int4"]
    assert _copy_types(odd, ["id", "doc"], dialect) is None
