"""What the event-study engine reads, loaded from the database.

The engine is pure; this module is its only door to storage. It returns wide matrices
(sessions x tickers) placed on the exchange's own sessions, so relative day -1 is the previous
session and a day a firm did not trade is a gap (NaN), never a zero return.

Reproducibility: the same (event, ticker) pair must get bit-identical numbers whether it is
computed alone (``tracker query impact`` on the fly) or in a batch of a thousand pairs (the
scheduler). So the session index always spans the database's whole stored history (first to
last stored bar of any instrument), and each ticker's adjusted close is derived from its whole
stored history: which other tickers or events are in the batch never changes a single return.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.models import (
    CorporateAction,
    DailyBar,
    Instrument,
    IntradayBar,
    SharesOutstanding,
)
from tracker.errors import ConfigError
from tracker.impact.calendar import sessions_between
from tracker.impact.returns import adjusted_close, returns_matrix
from tracker.impact.study import EventRequest
from tracker.markets.bars import load_daily_bars
from tracker.sources.famafrench import PREFIX as FF_PREFIX
from tracker.sources.famafrench import read_fama_french_daily

log = logging.getLogger(__name__)

#: a count filed this many days after day 0 stands in when none was in force before it
SHARES_FORWARD_DAYS = 100
INTERVALS = {"1m": 1, "2m": 2, "5m": 5, "15m": 15, "30m": 30, "60m": 60, "1h": 60, "90m": 90}


@dataclass(frozen=True)
class ShareBasis:
    """The share count a pair's value change uses, and why that one.

    ``rule`` is ``in force`` (the latest count dated before day 0: the count in force on the
    day before day 0) or ``first after day 0`` (no earlier count is stored; the first one
    dated within ``SHARES_FORWARD_DAYS`` after day 0 stands in, and the output says so).
    """

    shares: float
    as_of: date
    share_class: str
    source: str
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "shares_outstanding": self.shares,
            "shares_as_of": self.as_of.isoformat(),
            "shares_class": self.share_class,
            "shares_source": self.source,
            "shares_rule": self.rule,
        }


ShareHistory = dict[str, list[tuple[date, float, str, str]]]  # ticker -> (as_of, n, class, src)


def share_basis(history: ShareHistory, ticker: str, day0: date) -> ShareBasis | None:
    """The count for a pair with this day 0 (see ``ShareBasis``), or None without one."""
    counts = history.get(ticker, [])
    before = [c for c in counts if c[0] < day0]
    if before:
        as_of, shares, share_class, source = before[-1]
        return ShareBasis(shares, as_of, share_class, source, "in force")
    after = [c for c in counts if day0 <= c[0] <= day0 + timedelta(days=SHARES_FORWARD_DAYS)]
    if after:
        as_of, shares, share_class, source = after[0]
        return ShareBasis(shares, as_of, share_class, source, "first after day 0")
    return None


@dataclass(frozen=True)
class MarketInputs:
    """Engine inputs for a set of tickers, on the exchange's sessions.

    ``returns`` are simple returns of the adjusted close; ``closes`` the raw closes (the
    market-value change is shares x raw price change); ``volumes`` the traded volumes. A ticker
    with no stored bar has no column at all (the engine reports it as an unknown ticker).
    """

    returns: pd.DataFrame
    closes: pd.DataFrame
    volumes: pd.DataFrame
    shares_outstanding: dict[str, float]
    first_session: date | None
    last_session: date | None
    # sessions x tickers, True = left out of estimation windows (tracker.measure.clean)
    estimation_excluded: pd.DataFrame | None = None
    shares_history: ShareHistory = field(default_factory=dict)

    @property
    def index(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.returns.index)

    def share_basis(self, ticker: str, day0: date) -> ShareBasis | None:
        return share_basis(self.shares_history, ticker, day0)

    def with_shares(self, requests: Sequence[EventRequest]) -> list[EventRequest]:
        """Each request with the share count in force for its own day 0."""
        out = []
        for request in requests:
            basis = self.share_basis(request.ticker, request.day0)
            out.append(replace(request, shares_outstanding=basis.shares) if basis else request)
        return out


def stored_bar_range(session: Session) -> tuple[date | None, date | None]:
    """First and last date of any stored daily bar: the span every matrix is built on."""
    first, last = session.execute(select(func.min(DailyBar.date), func.max(DailyBar.date))).one()
    return first, last


def _upper(tickers: Iterable[str]) -> list[str]:
    return sorted({t.strip().upper() for t in tickers if t and t.strip()})


def load_daily_frame(session: Session, tickers: Sequence[str]) -> pd.DataFrame:
    """Every stored daily bar of ``tickers``, long: ticker, date, close, adj_close, volume."""
    frame = load_daily_bars(session, _upper(tickers), None, None)
    frame = frame[["ticker", "date", "close", "adj_close", "volume"]].copy()
    frame["date"] = pd.to_datetime(frame["date"])
    frame["volume"] = frame["volume"].astype("float64")  # the engine's arrays: NaN, not NA
    return frame


def load_dividends(session: Session, tickers: Sequence[str]) -> dict[str, pd.Series]:
    """Cash dividends per ticker, indexed by ex-date (split-adjusted like the closes)."""
    rows = session.execute(
        select(Instrument.ticker, CorporateAction.ex_date, CorporateAction.value)
        .join(Instrument, Instrument.id == CorporateAction.instrument_id)
        .where(Instrument.ticker.in_(_upper(tickers)), CorporateAction.kind == "dividend")
        .order_by(Instrument.ticker, CorporateAction.ex_date)
    ).all()
    out: dict[str, pd.Series] = {}
    for ticker in {row.ticker for row in rows}:
        mine = [row for row in rows if row.ticker == ticker]
        out[ticker] = pd.Series(
            [float(row.value) for row in mine],
            index=pd.DatetimeIndex([pd.Timestamp(row.ex_date) for row in mine]),
            dtype=float,
        )
    return out


def load_shares_outstanding(session: Session, tickers: Sequence[str]) -> dict[str, float]:
    """Shares outstanding where the instrument table knows them."""
    rows = session.execute(
        select(Instrument.ticker, Instrument.shares_outstanding).where(
            Instrument.ticker.in_(_upper(tickers)), Instrument.shares_outstanding.is_not(None)
        )
    ).all()
    return {row.ticker: float(row.shares_outstanding) for row in rows}


def load_shares_history(session: Session, tickers: Sequence[str]) -> ShareHistory:
    """Every stored share count of ``tickers``, oldest first."""
    rows = session.execute(
        select(
            Instrument.ticker,
            SharesOutstanding.as_of,
            SharesOutstanding.shares,
            SharesOutstanding.share_class,
            SharesOutstanding.source,
        )
        .join(Instrument, Instrument.id == SharesOutstanding.instrument_id)
        .where(Instrument.ticker.in_(_upper(tickers)))
        .order_by(Instrument.ticker, SharesOutstanding.as_of)
    ).all()
    out: ShareHistory = {}
    for row in rows:
        out.setdefault(row.ticker, []).append(
            (row.as_of, float(row.shares), row.share_class, row.source)
        )
    return out


def session_index(first: date | None, last: date | None, calendar: str) -> pd.DatetimeIndex:
    """The exchange's sessions from ``first`` to ``last`` (empty when nothing is stored)."""
    if first is None or last is None:
        return pd.DatetimeIndex([], name="date")
    return pd.DatetimeIndex(pd.to_datetime(sessions_between(first, last, calendar)), name="date")


def load_market_inputs(
    session: Session,
    tickers: Sequence[str],
    calendar: str,
    *,
    exclusion_span: tuple[int, int] | None = None,
) -> MarketInputs:
    """Returns, closes, volumes and shares for ``tickers`` over every stored session.

    With ``exclusion_span`` (the widest event window), each ticker's busy days (other
    events' windows of that span, earnings, ex-dividend days, splits, macro releases) are
    marked for clean estimation windows (``tracker.measure.clean``); None leaves them in.
    The adjusted close is the source's ``adj_close`` where it is complete, otherwise it is
    derived from the raw closes and the stored dividends (the engine's rule, IMPACT_SPEC §2).
    Bars on dates that are not sessions of ``calendar`` are dropped with a warning.
    """
    first, last = stored_bar_range(session)
    index = session_index(first, last, calendar)
    wanted = _upper(tickers)
    daily = load_daily_frame(session, wanted)
    dividends = load_dividends(session, wanted)
    adjusted: dict[str, pd.Series] = {}
    closes: dict[str, pd.Series] = {}
    volumes: dict[str, pd.Series] = {}
    for ticker, bars in daily.groupby("ticker", sort=True):
        bars = bars.set_index("date")
        off_calendar = bars.index.difference(index)
        if len(off_calendar):
            log.warning(
                "%s: %d bars on non-sessions of %s ignored (first %s)",
                ticker,
                len(off_calendar),
                calendar,
                off_calendar[0].date(),
            )
            bars = bars.drop(off_calendar)
        name = str(ticker)
        adjusted[name] = adjusted_close(bars["close"], dividends.get(name), bars["adj_close"])
        closes[name] = bars["close"]
        volumes[name] = bars["volume"]
    returns = returns_matrix(adjusted, index) if adjusted else pd.DataFrame(index=index)
    returns.index.name = "date"
    excluded = None
    if exclusion_span is not None:
        from tracker.measure.clean import excluded_days

        excluded = excluded_days(session, list(adjusted), index, calendar, exclusion_span)
    return MarketInputs(
        returns=returns,
        closes=pd.DataFrame(closes).reindex(index),
        volumes=pd.DataFrame(volumes).reindex(index),
        shares_outstanding=load_shares_outstanding(session, wanted),
        first_session=first,
        last_session=last,
        estimation_excluded=excluded,
        shares_history=load_shares_history(session, wanted),
    )


def interval_length(interval: str) -> timedelta:
    """'1h' -> 1 hour; the intraday engine needs each bar's length to know when it ended."""
    minutes = INTERVALS.get(interval)
    if minutes is None:
        raise ValueError(f"unknown intraday interval {interval!r}")
    return timedelta(minutes=minutes)


def load_intraday_bars(
    session: Session, ticker: str, start: datetime, end: datetime
) -> tuple[pd.DataFrame, str | None]:
    """Intraday bars of ``ticker`` starting in [start, end], in the finest stored interval.

    Returns the bars (indexed by their UTC start, with a ``close`` column) and the interval,
    or an empty frame and None when none are stored.
    """
    rows = session.execute(
        select(IntradayBar.interval, IntradayBar.ts, IntradayBar.close)
        .join(Instrument, Instrument.id == IntradayBar.instrument_id)
        .where(Instrument.ticker == ticker.upper(), IntradayBar.ts.between(start, end))
        .order_by(IntradayBar.ts)
    ).all()
    if not rows:
        return pd.DataFrame({"close": []}, index=pd.DatetimeIndex([], tz="UTC")), None
    known = [row.interval for row in rows if row.interval in INTERVALS]
    if not known:
        return pd.DataFrame({"close": []}, index=pd.DatetimeIndex([], tz="UTC")), None
    finest = min(set(known), key=lambda name: INTERVALS[name])
    chosen = [row for row in rows if row.interval == finest]
    frame = pd.DataFrame(
        {"close": [float(row.close) for row in chosen]},
        index=pd.DatetimeIndex([pd.Timestamp(row.ts) for row in chosen]).tz_convert("UTC"),
    )
    return frame, finest


def with_factor_returns(inputs: MarketInputs, factors: pd.DataFrame) -> MarketInputs:
    """``inputs`` with factor series as extra return columns, on the inputs' sessions.

    A session the factor file does not cover is missing (NaN) for the factors, so the engine
    leaves it out of the estimation like any other gap; factor dates that are not sessions
    are ignored. Columns already present (a stored ticker of the same name) are kept.
    """
    extra = factors.drop(columns=[c for c in factors.columns if c in inputs.returns.columns])
    if extra.empty:
        return inputs
    aligned = extra.reindex(inputs.returns.index)
    return replace(inputs, returns=pd.concat([inputs.returns, aligned], axis=1))


def add_configured_factors(
    inputs: MarketInputs, regressors: Sequence[str], source: str | None
) -> MarketInputs:
    """Join the Fama-French factors when the study's regressors name any (FF_*).

    Raises ConfigError when FF_* factors are asked for without TRACKER_FAMA_FRENCH_SOURCE.
    """
    wanted = [r for r in regressors if r.startswith(FF_PREFIX)]
    if not wanted:
        return inputs
    if not source:
        raise ConfigError(
            f"factors {', '.join(wanted)} need TRACKER_FAMA_FRENCH_SOURCE (a path or URL of "
            "Ken French's daily factors CSV)"
        )
    return with_factor_returns(inputs, read_fama_french_daily(source))
