"""Test helper: load a few tickers of the real recorded prices into DailyBar/CorporateAction.

The recorded files are read in place from the ``data_dir`` fixture (never copied). Only the
tickers a test needs are loaded, so each test stays at a few thousand rows.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from tracker.db.models import CorporateAction, DailyBar, IntradayBar
from tracker.markets.universe import ensure_instruments, seed_universe


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


def load_recorded_prices(session: Session, data_dir: Path, tickers: Sequence[str]) -> None:
    """Seed the universe, then store the daily bars and dividends of ``tickers``."""
    seed_universe(session)
    ids = ensure_instruments(session, list(tickers))
    for ticker in tickers:
        with open(data_dir / "prices" / "daily" / f"{ticker}.csv", newline="") as handle:
            bars = [
                {
                    "instrument_id": ids[ticker],
                    "date": date.fromisoformat(row["date"]),
                    "open": _number(row["open"]),
                    "high": _number(row["high"]),
                    "low": _number(row["low"]),
                    "close": float(row["close"]),
                    "adj_close": _number(row["adj_close"]),
                    "volume": int(float(row["volume"])) if row["volume"] else None,
                    "source": "recorded",
                }
                for row in csv.DictReader(handle)
            ]
        session.execute(insert(DailyBar), bars)
        dividends = data_dir / "prices" / "actions" / f"{ticker}_dividends.csv"
        if dividends.exists():
            with open(dividends, newline="") as handle:
                actions = [
                    {
                        "instrument_id": ids[ticker],
                        "kind": "dividend",
                        "ex_date": date.fromisoformat(row["date"]),
                        "value": float(row["dividend"]),
                        "source": "recorded",
                    }
                    for row in csv.DictReader(handle)
                ]
            if actions:
                session.execute(insert(CorporateAction), actions)
    session.flush()


def load_recorded_intraday(
    session: Session, data_dir: Path, ticker: str, start: datetime, end: datetime
) -> int:
    """Store the recorded hourly bars of ``ticker`` starting in [start, end]; returns the count."""
    ids = ensure_instruments(session, [ticker])
    with open(data_dir / "prices" / "intraday" / f"{ticker}_1h.csv", newline="") as handle:
        bars = []
        for row in csv.DictReader(handle):
            ts = datetime.fromisoformat(row["timestamp"]).astimezone(UTC)
            if start <= ts <= end:
                bars.append(
                    {
                        "instrument_id": ids[ticker],
                        "interval": "1h",
                        "ts": ts,
                        "open": _number(row["open"]),
                        "high": _number(row["high"]),
                        "low": _number(row["low"]),
                        "close": float(row["close"]),
                        "volume": int(float(row["volume"])) if row["volume"] else None,
                        "source": "recorded",
                    }
                )
    if bars:
        session.execute(insert(IntradayBar), bars)
    session.flush()
    return len(bars)
