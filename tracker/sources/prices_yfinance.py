"""Live prices from Yahoo Finance through yfinance.

yfinance's defaults are wrong for an event study, so every choice is explicit here:

- ``auto_adjust=False``: keep the raw close AND Yahoo's adjusted close (auto-adjusting
  would overwrite the raw close with a dividend-adjusted one that changes at every
  ex-date); ``actions=True`` brings the dividends and splits in the same call.
- ``yf.download`` answers many tickers per call, but swallows each ticker's exception into
  a log line and an all-NaN column. Errors are surfaced again: ``hide_exceptions`` is turned
  off and the ``yfinance`` logger's per-ticker error lines are captured during the call, so
  an unknown, delisted or rate-limited ticker is reported by name instead of as "no data".
- Rate limits and network errors are retried with exponential backoff and full jitter,
  within a per-call time budget so one bad download cannot hang the scheduler.
- Intraday requests respect Yahoo's limits (1m: 7 days per request and ~30 days back;
  2m-90m: 60 days back; 1h: 730 days back); older starts are clamped and noted.

- A bar whose period has not ended yet (today's daily bar before the close, the current
  hour's bar) is partial: Yahoo serves it with the latest trade as its close. It is left
  out (and noted), so a partial close is never stored as the session's close.

``session`` is handed to yfinance (``yf.download(session=...)``, ``yf.Ticker(session=...)``):
a curl_cffi or requests session, e.g. one behind a proxy; tests point one at a loopback
server that answers like Yahoo's chart API, so the installed yfinance runs end to end. The
downloader and the actions fetcher are injectable too (same signatures as ``yf.download``
and ``yf.Ticker(t).actions``).
"""

from __future__ import annotations

import ast
import logging
import random
import re
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import pandas as pd

from tracker.impact.calendar import DEFAULT_CALENDAR, is_session, session_close
from tracker.sources.prices import (
    TickerPrices,
    check_interval,
    empty_actions,
    empty_daily,
    empty_intraday,
)

logger = logging.getLogger(__name__)

Downloader = Callable[..., pd.DataFrame | None]
ActionsFetcher = Callable[[str], pd.DataFrame]

_INTERVAL_LENGTH = {
    "1m": "1min",
    "2m": "2min",
    "5m": "5min",
    "15m": "15min",
    "30m": "30min",
    "60m": "60min",
    "90m": "90min",
    "1h": "60min",
}
#: (how far back Yahoo serves the interval, the longest span one request may cover)
INTRADAY_LIMITS: dict[str, tuple[timedelta, timedelta | None]] = {
    "1m": (timedelta(days=30), timedelta(days=7)),
    **{iv: (timedelta(days=60), None) for iv in ("2m", "5m", "15m", "30m", "90m")},
    "60m": (timedelta(days=730), None),
    "1h": (timedelta(days=730), None),
}
RETRYABLE = re.compile(
    r"RateLimit|Too Many Requests|Timeout|timed out|Connection|Temporar|HTTPError|CurlError|"
    r"RequestException|\b50[234]\b",  # bounded: "period1=1737504000" is not an HTTP 504
    re.IGNORECASE,
)
_HTTP_STATUS = re.compile(r"HTTP Error (\d{3})|\b(\d{3}) Client Error")
_ERROR_LINE = re.compile(r"^\s*(\[[^\]]*\]):\s*(.+)$", re.DOTALL)


def _yf_download(session: Any = None, **kwargs: Any) -> pd.DataFrame | None:
    import yfinance as yf

    yf.config.debug.hide_exceptions = False
    result: pd.DataFrame | None = yf.download(session=session, **kwargs)
    return result


def _yf_actions(ticker: str, session: Any = None) -> pd.DataFrame:
    import yfinance as yf

    yf.config.debug.hide_exceptions = False
    actions: pd.DataFrame = yf.Ticker(ticker, session=session).actions
    return actions


def is_retryable(error: BaseException | str) -> bool:
    """Rate limits and transient network failures are worth another try; the rest is not.

    A client error other than 408/429 (yfinance reports an unknown symbol's quote lookup as
    ``HTTPError('HTTP Error 404: Not Found')``) will answer the same way every time.
    """
    if isinstance(error, TimeoutError | ConnectionError):
        return True
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    found = _HTTP_STATUS.search(text)
    code = int(found.group(1) or found.group(2)) if found else 0
    if 400 <= code < 500 and code not in (408, 429):
        return False
    if not isinstance(error, str):
        text += " " + " ".join(cls.__name__ for cls in type(error).__mro__)
    return bool(RETRYABLE.search(text))


class _ErrorCapture(logging.Handler):
    """Collects yfinance's per-ticker error lines (``['NVDA']: YFRateLimitError(...)``)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        match = _ERROR_LINE.match(record.getMessage())
        if not match:
            return
        try:
            tickers = ast.literal_eval(match.group(1))
        except (ValueError, SyntaxError):
            return
        for ticker in tickers:
            self.errors[str(ticker).upper()] = match.group(2).strip().splitlines()[0]


@contextmanager
def _captured_yfinance_errors() -> Iterator[_ErrorCapture]:
    """yfinance's error lines go to the report (CLI table, job-run log), not the console.

    Its pandas deprecation warnings (yfinance's own code under pandas 3.1) are silenced too:
    they say nothing about the data and would bury the scheduler's output.
    """
    handler = _ErrorCapture()
    yf_logger = logging.getLogger("yfinance")
    propagate = yf_logger.propagate
    yf_logger.addHandler(handler)
    yf_logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"yfinance(\.|$)")
            yield handler
    finally:
        yf_logger.propagate = propagate
        yf_logger.removeHandler(handler)


@dataclass
class _Budget:
    """A deadline for one call: retries stop when the next wait would cross it."""

    deadline: float
    clock: Callable[[], float]

    def allows(self, wait: float) -> bool:
        return self.clock() + wait <= self.deadline


class YFinancePriceSource:
    """``PriceSource`` over yfinance, with retries, a time budget and surfaced errors."""

    name = "yfinance"
    default_intervals: tuple[str, ...] = ()

    def __init__(
        self,
        downloader: Downloader | None = None,
        actions_fetcher: ActionsFetcher | None = None,
        *,
        batch_size: int = 40,
        max_attempts: int = 5,
        base_delay: float = 2.0,
        max_delay: float = 60.0,
        time_budget: float = 600.0,
        request_timeout: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
        session: Any = None,
        calendar: str = DEFAULT_CALENDAR,
    ) -> None:
        self.download = downloader or partial(_yf_download, session=session)
        self.fetch_actions = actions_fetcher or partial(_yf_actions, session=session)
        self.calendar = calendar
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.time_budget = time_budget
        self.request_timeout = request_timeout
        self.sleep = sleep
        self.clock = clock
        self.now = now
        self.rng = rng or random.Random()

    def available_tickers(self) -> None:
        return None

    def intraday_tickers(self, interval: str) -> None:
        return None

    # -------------------------------------------------------------- protocol

    def daily_bars(
        self, tickers: Sequence[str], start: date | None, end: date | None
    ) -> dict[str, TickerPrices]:
        kwargs: dict[str, Any] = {"interval": "1d"}
        if start is not None:
            kwargs["start"] = start.isoformat()
        else:
            kwargs["period"] = "max"
        if end is not None:  # yfinance's end is exclusive, ours inclusive
            kwargs["end"] = (end + timedelta(days=1)).isoformat()
        answers = self._fetch(tickers, kwargs, _daily_frame)
        now = self.now()
        for answer in answers.values():
            if answer.ok and start is not None:
                answer.bars = answer.bars[answer.bars["date"] >= start].reset_index(drop=True)
            if answer.ok:
                self._drop_partial_daily(answer, now)
        return answers

    def _drop_partial_daily(self, answer: TickerPrices, now: datetime) -> None:
        """Leave out bars of sessions that have not closed at ``now`` (Yahoo's live bar)."""
        if answer.bars.empty:
            return
        recent = {day for day in set(answer.bars["date"]) if day >= now.date() - timedelta(days=1)}
        open_sessions = {
            day
            for day in recent
            if is_session(day, self.calendar) and session_close(day, self.calendar) > now
        }
        if open_sessions:
            keep = ~answer.bars["date"].isin(open_sessions)
            answer.bars = answer.bars[keep].reset_index(drop=True)
            days = ", ".join(str(day) for day in sorted(open_sessions))
            answer.notes.append(f"partial bar left out: session {days} not closed yet")

    def intraday_bars(
        self,
        tickers: Sequence[str],
        interval: str,
        start: datetime | None,
        end: datetime | None,
    ) -> dict[str, TickerPrices]:
        check_interval(interval)
        history, span = INTRADAY_LIMITS[interval]
        now = self.now()
        end = min(end or now, now)
        earliest = now - history + timedelta(minutes=5)
        note = None
        if start is None or start < earliest:
            if start is not None:
                note = (
                    f"start {start.isoformat()} clamped to {earliest:%Y-%m-%d %H:%M}Z: Yahoo "
                    f"serves {interval} bars only {history.days} days back"
                )
            start = earliest
        windows = _windows(start, end, span)
        merged: dict[str, list[TickerPrices]] = {t: [] for t in tickers}
        for lo, hi in windows:
            kwargs = {"interval": interval, "start": lo, "end": hi, "ignore_tz": False}
            for ticker, answer in self._fetch(tickers, kwargs, _intraday_frame).items():
                merged[ticker].append(answer)
        answers = {}
        for ticker, parts in merged.items():
            errors = [p.error for p in parts if p.error]
            good = [p.bars for p in parts if p.ok and not p.bars.empty]
            if errors and len(errors) == len(parts):
                answers[ticker] = TickerPrices(ticker, bars=empty_intraday(), error=errors[0])
                continue
            bars = pd.concat(good, ignore_index=True) if good else empty_intraday()
            bars, unfinished = _complete_intraday(bars, interval, now, self.calendar)
            answer = TickerPrices(ticker, bars=bars, notes=[note] if note else [])
            if unfinished:
                answer.notes.append(
                    f"partial bar left out: {unfinished} not complete at {now:%H:%M}Z"
                )
            answer.notes += [f"window failed: {e}" for e in errors]
            answers[ticker] = answer
        return answers

    def corporate_actions(self, tickers: Sequence[str]) -> dict[str, TickerPrices]:
        budget = _Budget(self.clock() + self.time_budget, self.clock)
        answers = {}
        for ticker in tickers:
            try:
                with _captured_yfinance_errors():  # its pandas warnings, not the console
                    raw = self._retrying(lambda t=ticker: self.fetch_actions(t), budget)  # type: ignore[misc]
                answers[ticker] = TickerPrices(ticker, actions=_actions_from(raw))
            except Exception as exc:
                answers[ticker] = TickerPrices(ticker, error=_describe(exc))
        return answers

    # --------------------------------------------------------------- fetching

    def _fetch(
        self,
        tickers: Sequence[str],
        kwargs: dict[str, Any],
        shape: Callable[[pd.DataFrame, str], TickerPrices],
    ) -> dict[str, TickerPrices]:
        """Download in batches; retry the tickers that failed transiently; shape the rest."""
        budget = _Budget(self.clock() + self.time_budget, self.clock)
        answers: dict[str, TickerPrices] = {}
        for i in range(0, len(tickers), self.batch_size):
            batch = [t.upper() for t in tickers[i : i + self.batch_size]]
            answers.update(self._fetch_batch(batch, kwargs, shape, budget))
        return answers

    def _fetch_batch(
        self,
        batch: list[str],
        kwargs: dict[str, Any],
        shape: Callable[[pd.DataFrame, str], TickerPrices],
        budget: _Budget,
    ) -> dict[str, TickerPrices]:
        answers: dict[str, TickerPrices] = {}
        pending = list(batch)
        for attempt in range(self.max_attempts):
            try:
                with _captured_yfinance_errors() as capture:
                    frame = self.download(
                        tickers=pending,
                        auto_adjust=False,
                        actions=True,
                        group_by="column",
                        multi_level_index=True,
                        threads=True,
                        progress=False,
                        timeout=self.request_timeout,
                        **kwargs,
                    )
                errors = capture.errors
            except Exception as exc:
                if not is_retryable(exc):
                    return answers | {t: TickerPrices(t, error=_describe(exc)) for t in pending}
                frame, errors = None, {t: _describe(exc) for t in pending}
            retry = []
            for ticker in pending:
                answer = _answer(frame, ticker, errors.get(ticker), shape)
                if answer.error and is_retryable(answer.error):
                    retry.append(ticker)
                answers[ticker] = answer
            if not retry:
                return answers
            wait = self._backoff(attempt)
            if attempt + 1 == self.max_attempts or not budget.allows(wait):
                reason = (
                    "time budget exhausted"
                    if attempt + 1 < self.max_attempts
                    else (f"gave up after {self.max_attempts} attempts")
                )
                for ticker in retry:
                    answers[ticker].error = f"{answers[ticker].error} ({reason})"
                return answers
            logger.warning("yfinance: retrying %s in %.1f s", ", ".join(retry), wait)
            self.sleep(wait)
            pending = retry
        return answers

    def _retrying(self, call: Callable[[], pd.DataFrame], budget: _Budget) -> pd.DataFrame:
        for attempt in range(self.max_attempts):
            try:
                return call()
            except Exception as exc:
                wait = self._backoff(attempt)
                last = attempt + 1 == self.max_attempts
                if not is_retryable(exc) or last or not budget.allows(wait):
                    raise
                self.sleep(wait)
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^attempt)] spreads retrying clients."""
        return self.rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


# ------------------------------------------------------------------ shaping


def _complete_intraday(
    bars: pd.DataFrame, interval: str, now: datetime, calendar: str
) -> tuple[pd.DataFrame, str | None]:
    """The bars that ended by ``now`` (a bar ends after its interval or at the session's
    close, whichever is first), and the start of the partial one left out, if any."""
    if bars.empty:
        return bars, None
    starts = pd.DatetimeIndex(bars["ts"]).tz_convert("UTC")
    ends = starts + pd.Timedelta(_INTERVAL_LENGTH[interval])
    local_days = starts.tz_convert("America/New_York").date
    closes = {
        day: pd.Timestamp(session_close(day, calendar))
        for day in set(local_days)
        if is_session(day, calendar)
    }
    ends = pd.DatetimeIndex(
        [min(end, closes.get(day, end)) for end, day in zip(ends, local_days, strict=True)]
    )
    complete = ends <= pd.Timestamp(now)
    if complete.all():
        return bars, None
    partial = ", ".join(f"{ts:%Y-%m-%d %H:%M}Z" for ts in starts[~complete])
    return bars[complete].reset_index(drop=True), partial


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".strip().splitlines()[0]


def _windows(
    start: datetime, end: datetime, span: timedelta | None
) -> list[tuple[datetime, datetime]]:
    if start >= end:
        return []
    if span is None:
        return [(start, end)]
    windows = []
    lo = start
    while lo < end:
        hi = min(lo + span, end)
        windows.append((lo, hi))
        lo = hi
    return windows


def flatten_ticker(frame: pd.DataFrame, ticker: str) -> pd.DataFrame | None:
    """One ticker's columns (``Close``, ``Adj Close`` ...) out of yfinance's (Price, Ticker)
    column index; None when the ticker is absent."""
    columns = frame.columns
    if isinstance(columns, pd.MultiIndex):
        names = list(columns.names)
        level = names.index("Ticker") if "Ticker" in names else 1
        if ticker not in columns.get_level_values(level):
            return None
        part: pd.DataFrame = frame.xs(ticker, axis=1, level=level)  # type: ignore[assignment]
        return part
    return frame


def _answer(
    frame: pd.DataFrame | None,
    ticker: str,
    error: str | None,
    shape: Callable[[pd.DataFrame, str], TickerPrices],
) -> TickerPrices:
    if error:
        return TickerPrices(ticker, error=error)
    if frame is None or frame.empty:
        return TickerPrices(ticker, error="empty answer: no bars returned")
    part = flatten_ticker(frame, ticker)
    if part is None:
        return TickerPrices(ticker, error="empty answer: ticker missing from the response")
    prices = [c for c in ("Open", "High", "Low", "Close", "Adj Close") if c in part.columns]
    part = part.dropna(how="all", subset=prices)  # other tickers' dates, not this one's rows
    if part.empty:
        return TickerPrices(ticker, error="empty answer: no bars returned")
    try:
        return shape(part, ticker)
    except ValueError as exc:
        return TickerPrices(ticker, error=str(exc))


def _number(part: pd.DataFrame, column: str) -> pd.Series:
    if column in part.columns:
        return pd.to_numeric(part[column], errors="coerce").astype("float64")
    return pd.Series(float("nan"), index=part.index, dtype="float64")


def _daily_frame(part: pd.DataFrame, ticker: str) -> TickerPrices:
    index = pd.DatetimeIndex(part.index)
    if "Close" not in part.columns:
        raise ValueError("response has no Close column")
    # A daily bar is labelled by the session's date in the exchange's zone; an aware index
    # is already in that zone (yfinance converts to the exchange's tz), a naive one is local.
    dates = index.date
    bars = pd.DataFrame(
        {
            "date": dates,
            "open": _number(part, "Open").to_numpy(),
            "high": _number(part, "High").to_numpy(),
            "low": _number(part, "Low").to_numpy(),
            "close": _number(part, "Close").to_numpy(),
            "adj_close": _number(part, "Adj Close").to_numpy(),
            "volume": _number(part, "Volume").to_numpy(),
        }
    )
    actions = _actions_from(part.set_axis(dates, axis=0))
    return TickerPrices(ticker, bars=bars.reset_index(drop=True), actions=actions)


def _intraday_frame(part: pd.DataFrame, ticker: str) -> TickerPrices:
    index = pd.DatetimeIndex(part.index)
    if index.tz is None:
        raise ValueError("intraday response has naive timestamps; refusing to guess the zone")
    bars = pd.DataFrame(
        {
            "ts": index.tz_convert("UTC"),
            "open": _number(part, "Open").to_numpy(),
            "high": _number(part, "High").to_numpy(),
            "low": _number(part, "Low").to_numpy(),
            "close": _number(part, "Close").to_numpy(),
            "volume": _number(part, "Volume").to_numpy(),
        }
    )
    return TickerPrices(ticker, bars=bars.reset_index(drop=True))


def _actions_from(part: pd.DataFrame | None) -> pd.DataFrame:
    """Non-zero ``Dividends`` / ``Stock Splits`` entries as corporate-action rows."""
    if part is None or part.empty:
        return empty_actions()
    rows: list[dict[str, Any]] = []
    for column, kind in (("Dividends", "dividend"), ("Stock Splits", "split")):
        if column not in part.columns:
            continue
        values = pd.to_numeric(part[column], errors="coerce")
        for when, value in values[values.fillna(0) != 0].items():
            ex_date = when.date() if isinstance(when, datetime | pd.Timestamp) else when
            rows.append({"kind": kind, "ex_date": ex_date, "value": float(value)})
    if not rows:
        return empty_actions()
    return pd.DataFrame(rows, columns=["kind", "ex_date", "value"])


__all__ = ["INTRADAY_LIMITS", "YFinancePriceSource", "empty_daily", "flatten_ticker"]
