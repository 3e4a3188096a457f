"""Share-count ingestion on both backends: idempotent, per-ticker errors, revised counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlalchemy import select

from tracker.db import Database
from tracker.db.models import Instrument, SharesOutstanding
from tracker.ingest.shares import ingest_shares
from tracker.markets.universe import seed_universe
from tracker.sources.shares import RecordedSharesSource, ShareCount, TickerShares


def stored(database: Database) -> dict[tuple[str, date], tuple[int, str, str]]:
    with database.session() as session:
        rows = session.execute(
            select(Instrument.ticker, SharesOutstanding).join(
                Instrument, Instrument.id == SharesOutstanding.instrument_id
            )
        ).all()
    return {(ticker, row.as_of): (row.shares, row.share_class, row.source) for ticker, row in rows}


def test_recorded_counts_are_stored_once(database: Database, data_dir: Path) -> None:
    with database.session() as session:
        seed_universe(session)
    source = RecordedSharesSource(data_dir)
    first = ingest_shares(database, source, source.available_tickers())
    assert first.failed == []
    assert first.as_counts()["inserted"] == 7
    rows = stored(database)
    assert rows[("NVDA", date(2024, 11, 15))] == (24_490_000_000, "common", "recorded")
    again = ingest_shares(database, source, source.available_tickers())
    assert again.as_counts()["inserted"] == 0
    assert sum(r.unchanged for r in again.tickers) == 7
    assert stored(database) == rows


class OneRevised:
    """A source whose NVDA count for one date changes, with one failing ticker."""

    name = "yfinance"

    def __init__(self, shares: int) -> None:
        self.shares = shares

    def problems(self) -> list[str]:
        return ["shares.csv line 9: something wrong; row skipped"]

    def shares_outstanding(
        self, tickers: Sequence[str], start: date | None, end: date | None
    ) -> dict[str, TickerShares]:
        out = {}
        for ticker in tickers:
            if ticker == "AVGO":
                out[ticker] = TickerShares(ticker, error="HTTPError: 404 Not Found")
            else:
                count = ShareCount(date(2024, 11, 15), self.shares, "test", "test row")
                out[ticker] = TickerShares(ticker, [count])
        return out


def test_one_failing_or_unknown_ticker_never_stops_the_others(database: Database) -> None:
    with database.session() as session:
        seed_universe(session)
    report = ingest_shares(database, OneRevised(1_000), ["AVGO", "NVDA", "NOPE"])
    by_ticker = {r.ticker: r for r in report.tickers}
    assert by_ticker["AVGO"].error == "HTTPError: 404 Not Found"
    assert by_ticker["NOPE"].error == "unknown ticker: no such instrument"
    assert by_ticker["NVDA"].inserted == 1
    assert report.as_counts()["bad_rows"] == 1
    revised = ingest_shares(database, OneRevised(1_200), ["NVDA"])
    assert revised.tickers[0].updated == 1
    assert stored(database)[("NVDA", date(2024, 11, 15))] == (1_200, "test", "yfinance")
