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
    rows = session.execute(query).all()
    columns = [instrument.ticker for instrument in instruments]
    if not rows:
        return pd.DataFrame(columns=columns, index=pd.DatetimeIndex([], name="date"), dtype=float)
    # column-wise: building a frame from the row objects costs more than the query
    ids, days, prices = zip(*rows, strict=True)
    frame = pd.DataFrame(
        {
            "ticker": [ticker_of[instrument_id] for instrument_id in ids],
            "date": pd.to_datetime(list(days)),
            "price": np.asarray(prices, dtype=float),
        }
    )
    wide = frame.pivot(index="date", columns="ticker", values="price").reindex(columns=columns)
    wide = wide.sort_index().astype(float)
    if rebase_at is not None:
        wide = _rebased(wide, rebase_at)
    return wide


def _rebased(wide: pd.DataFrame, at: date) -> pd.DataFrame:
    after = wide[wide.index >= pd.Timestamp(at)]
    # each column's first close on or after ``at`` (NaN where it has none)
    bases = after.bfill().iloc[0] if len(after) else pd.Series(np.nan, index=wide.columns)
    return wide.divide(bases.astype(float), axis="columns") * 100.0
