"""Price history for the dashboard's timeline: tickers or a basket, raw or rebased to 100."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.models import BasketMember, DailyBar, Instrument
from tracker.errors import UserInputError
from tracker.query.common import find_basket, find_instrument


def price_history(
    session: Session,
    tickers: Sequence[str] = (),
    *,
    basket: str | None = None,
    start: date | None = None,
    end: date | None = None,
    rebase_at: date | None = None,
    adjusted: bool = True,
) -> pd.DataFrame:
    """Closes by date (rows) and ticker (columns), from stored daily bars.

    ``adjusted`` uses the dividend-adjusted close where stored (else the raw close).
    ``rebase_at`` divides each column by its close on the first session on or after that
    date and multiplies by 100, so differently priced names share one axis; a ticker with
    no bar on or after it stays unscaled as NaN. Unknown tickers or baskets raise
    NotFoundError.
    """
    if start and end and start > end:
        raise UserInputError(f"start {start} is after end {end}")
    instruments = [find_instrument(session, ticker) for ticker in tickers]
    if basket:
        members = session.scalars(
            select(Instrument)
            .join(BasketMember, BasketMember.instrument_id == Instrument.id)
            .where(BasketMember.basket_id == find_basket(session, basket).id)
            .order_by(Instrument.ticker)
        )
        instruments += [member for member in members if member not in instruments]
    if not instruments:
        raise UserInputError("give at least one ticker or a basket")
    ticker_of = {instrument.id: instrument.ticker for instrument in instruments}
    price = func.coalesce(DailyBar.adj_close, DailyBar.close) if adjusted else DailyBar.close
    query = select(DailyBar.instrument_id, DailyBar.date, price).where(
        DailyBar.instrument_id.in_(list(ticker_of))
    )
    if start:
        query = query.where(DailyBar.date >= start)
    if end:
        query = query.where(DailyBar.date <= end)
    # rows are streamed into plain lists: holding thousands of Row objects at once
    # promotes them to the oldest garbage-collector generation, whose full collections
    # (~100 ms in a process with pandas loaded) then land on every few calls
    ids: list[int] = []
    days: list[date] = []
    prices: list[float] = []
    for instrument_id, day, close in session.execute(query):
        ids.append(instrument_id)
        days.append(day)
        prices.append(close)
    columns = [instrument.ticker for instrument in instruments]
    if not ids:
        return pd.DataFrame(columns=columns, index=pd.DatetimeIndex([], name="date"), dtype=float)
    wide = _pivot(ids, days, prices, ticker_of).reindex(columns=columns)
    if rebase_at is not None:
        wide = _rebased(wide, rebase_at)
    return wide


def _pivot(
    ids: list[int], days: list[date], prices: list[float], ticker_of: dict[int, str]
) -> pd.DataFrame:
    """Prices by date (sorted rows) and ticker (columns in ``ticker_of`` order), NaN where
    a ticker has no bar that day; (id, date) pairs are unique (the bars' primary key)."""
    unique_days, row = np.unique(np.asarray(days, dtype="datetime64[D]"), return_inverse=True)
    position = {instrument_id: index for index, instrument_id in enumerate(ticker_of)}
    column = np.fromiter((position[instrument_id] for instrument_id in ids), np.intp, len(ids))
    values = np.full((len(unique_days), len(ticker_of)), np.nan)
    values[row, column] = np.asarray(prices, dtype=float)
    index = pd.DatetimeIndex(unique_days, name="date")
    return pd.DataFrame(values, index=index, columns=pd.Index(ticker_of.values(), name="ticker"))


def _rebased(wide: pd.DataFrame, at: date) -> pd.DataFrame:
    after = wide[wide.index >= pd.Timestamp(at)]
    # each column's first close on or after ``at`` (NaN where it has none)
    bases = after.bfill().iloc[0] if len(after) else pd.Series(np.nan, index=wide.columns)
    return wide.divide(bases.astype(float), axis="columns") * 100.0
