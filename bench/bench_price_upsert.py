"""Bulk upsert of daily bars into SQLite and PostgreSQL: first load, then all duplicates.

The goal is at least 100,000 bars/s on both runs and both databases. Bars are SYNTHETIC
(a random walk per synthetic ticker BENCH0000..): they measure storage speed, not markets.
Each database is loaded ``--runs`` times from empty (a fresh database each time); the
median and the range of the runs are printed with the machine's load.

    python -m bench.bench_price_upsert [--bars 1000000] [--runs 5] [--postgres URL]
        [--backends sqlite,postgresql] [--db-prefix tracker_bench]

PostgreSQL defaults to ``TRACKER_TEST_POSTGRES_URL``; a throw-away database named
``<db-prefix>_<random>`` is created on it for each run and dropped after it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, make_url, text

from bench.runs import DEFAULT_RUNS, Spread, load_average
from tracker.db import Database, migrate
from tracker.db.models import DailyBar, Instrument
from tracker.db.upsert import UpsertCounts, bulk_upsert

COLUMNS = ("instrument_id", "date", "open", "high", "low", "close", "adj_close", "volume")
SESSIONS_PER_TICKER = 2_500


def synthetic_bars(n_bars: int, seed: int = 7) -> tuple[int, list[tuple[object, ...]]]:
    """``n_bars`` synthetic bars: 2,500 weekdays for each of ceil(n / 2500) synthetic tickers."""
    rng = np.random.default_rng(seed)
    n_tickers = -(-n_bars // SESSIONS_PER_TICKER)
    days: list[date] = []
    day = date(2010, 1, 4)
    while len(days) < SESSIONS_PER_TICKER:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    rows: list[tuple[object, ...]] = []
    for ticker in range(n_tickers):
        closes = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, SESSIONS_PER_TICKER)))
        volumes = rng.integers(1_000, 10_000_000, SESSIONS_PER_TICKER)
        for i in range(SESSIONS_PER_TICKER):
            if len(rows) == n_bars:
                break
            c = float(closes[i])
            rows.append((ticker + 1, days[i], c, c * 1.01, c * 0.99, c, c * 0.98, int(volumes[i])))
    return n_tickers, rows


def load_once(url: str, n_tickers: int, rows: list[tuple[object, ...]]) -> tuple[float, float]:
    """Seconds for the first load and for the all-duplicates repeat, on a fresh database."""
    migrate.upgrade(url)
    database = Database.connect(url)
    seconds: list[float] = []
    try:
        with database.session() as session:
            session.add_all(
                Instrument(id=i + 1, ticker=f"BENCH{i:04d}", name="synthetic")
                for i in range(n_tickers)
            )
        for expected_new in (len(rows), 0):
            started = time.perf_counter()
            with database.engine.begin() as connection:
                counts: UpsertCounts = bulk_upsert(
                    connection,
                    DailyBar.__table__,  # type: ignore[arg-type]
                    COLUMNS,
                    rows,
                    key_columns=("instrument_id", "date"),
                    constants={"source": "bench", "updated_at": datetime.now(UTC)},
                )
            seconds.append(time.perf_counter() - started)
            if counts.inserted != expected_new:
                raise RuntimeError(f"expected {expected_new} new bars, got {counts}")
    finally:
        database.dispose()
    return seconds[0], seconds[1]


def report(label: str, n_bars: int, runs: list[tuple[float, float]]) -> None:
    first = Spread.of([run[0] for run in runs])
    repeat = Spread.of([run[1] for run in runs])
    print(f"{label:<10} new bars    {first.rate(n_bars, 'bars')}")
    print(f"{label:<10} duplicates  {repeat.rate(n_bars, 'bars')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--postgres", default=os.environ.get("TRACKER_TEST_POSTGRES_URL"))
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument("--db-prefix", default="tracker_bench", help="throw-away PostgreSQL dbs")
    args = parser.parse_args()
    backends = set(args.backends.split(","))
    n_tickers, rows = synthetic_bars(args.bars)
    print(f"{len(rows):,} synthetic daily bars, {n_tickers} synthetic tickers, {load_average()}")
    if "sqlite" in backends:
        sqlite_runs = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{Path(tmp) / 'bench.db'}"
                sqlite_runs.append(load_once(url, n_tickers, rows))
        report("sqlite", len(rows), sqlite_runs)
    if "postgresql" not in backends:
        return
    if not args.postgres:
        print("postgresql skipped: pass --postgres or set TRACKER_TEST_POSTGRES_URL")
        return
    admin = make_url(args.postgres).set(drivername="postgresql+psycopg")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    postgres_runs = []
    try:
        for _ in range(args.runs):
            name = f"{args.db_prefix}_{uuid.uuid4().hex[:8]}"
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = admin.set(database=name).render_as_string(False)
                postgres_runs.append(load_once(url, n_tickers, rows))
            finally:
                with engine.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()
    report("postgresql", len(rows), postgres_runs)
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
