"""Reading stored bars and corporate actions: the query side the impact engine and CLI use."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.models import CorporateAction, DailyBar, Instrument, IntradayBar

DAILY_FRAME_COLUMNS = ["ticker", "date", "open", "high", "low", "close", "adj_close", "volume"]


def _upper(tickers: Sequence[str]) -> list[str]:
    return sorted({t.strip().upper() for t in tickers if t.strip()})


def load_daily_bars(
    session: Session, tickers: Sequence[str], start: date | None, end: date | None
) -> pd.DataFrame:
    """Long-format daily bars (ticker, date, open, high, low, close, adj_close, volume).

    ``adj_close`` is the source's own adjusted close and is NaN where the source had none;
    the impact engine then derives it from ``close`` and :func:`load_corporate_actions`.
    Sorted by ticker then date; both bounds inclusive.
    """
    query = (
        select(
            Instrument.ticker,
            DailyBar.date,
            DailyBar.open,
            DailyBar.high,
            DailyBar.low,
            DailyBar.close,
            DailyBar.adj_close,
            DailyBar.volume,
        )
        .join(Instrument, Instrument.id == DailyBar.instrument_id)
        .where(Instrument.ticker.in_(_upper(tickers)))
        .order_by(Instrument.ticker, DailyBar.date)
    )
    if start is not None:
        query = query.where(DailyBar.date >= start)
    if end is not None:
        query = query.where(DailyBar.date <= end)
    frame = pd.DataFrame(session.execute(query).all(), columns=DAILY_FRAME_COLUMNS)
    for column in ("open", "high", "low", "close", "adj_close"):
        frame[column] = frame[column].astype("float64")
    frame["volume"] = frame["volume"].astype("Int64")
    return frame


def load_corporate_actions(session: Session, tickers: Sequence[str]) -> pd.DataFrame:
    """Dividends and splits (ticker, kind, ex_date, value), sorted by ticker and ex-date."""
    query = (
        select(
            Instrument.ticker, CorporateAction.kind, CorporateAction.ex_date, CorporateAction.value
        )
        .join(Instrument, Instrument.id == CorporateAction.instrument_id)
        .where(Instrument.ticker.in_(_upper(tickers)))
        .order_by(Instrument.ticker, CorporateAction.ex_date, CorporateAction.kind)
    )
    frame = pd.DataFrame(
        session.execute(query).all(), columns=["ticker", "kind", "ex_date", "value"]
    )
    frame["value"] = frame["value"].astype("float64")
    return frame


def last_daily_dates(session: Session, tickers: Sequence[str]) -> dict[str, date]:
    """The newest stored session per ticker (tickers without bars are absent)."""
    rows = session.execute(
        select(Instrument.ticker, func.max(DailyBar.date))
        .join(Instrument, Instrument.id == DailyBar.instrument_id)
        .where(Instrument.ticker.in_(_upper(tickers)))
        .group_by(Instrument.ticker)
    )
    return {ticker: last for ticker, last in rows if last is not None}


def last_intraday_times(
    session: Session, tickers: Sequence[str], interval: str
) -> dict[str, datetime]:
    """The newest stored bar start per ticker for ``interval``."""
    rows = session.execute(
        select(Instrument.ticker, func.max(IntradayBar.ts))
        .join(Instrument, Instrument.id == IntradayBar.instrument_id)
        .where(Instrument.ticker.in_(_upper(tickers)), IntradayBar.interval == interval)
        .group_by(Instrument.ticker)
    )
    result: dict[str, datetime] = {}
    for ticker, last in rows:
        if last is None:
            continue
        stamp = pd.Timestamp(last)
        result[ticker] = (
            stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        ).to_pydatetime()
    return result
