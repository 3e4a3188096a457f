"""Price ingestion: source answers -> validated, counted, idempotent rows.

One ticker is one unit of work: its bars and corporate actions are written in one
transaction or not at all, and a ticker that fails (unknown, delisted, empty answer,
unreadable) is reported while the others go on. Bad rows (NaN prices, zero or negative
prices, duplicate dates, bars on days the exchange was shut) are reported and skipped.

Incremental by default: with no explicit start, each ticker is fetched from its last
stored bar minus a small overlap, so revisions Yahoo makes to recent bars are caught
(updated in place and counted) while a repeated run inserts nothing.

Adjusted closes are stored only where the source gives one; where it does not, the
dividends and splits are stored as ``CorporateAction`` rows and the impact engine
(``tracker.impact.returns``) derives the adjusted series at measurement time.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Table

from tracker.db import Database
from tracker.db.models import CorporateAction, DailyBar, IntradayBar
from tracker.db.upsert import UpsertCounts, bulk_upsert
from tracker.impact.calendar import is_session, session_close, sessions_between
from tracker.markets.bars import last_daily_dates, last_intraday_times
from tracker.markets.universe import ensure_instruments
from tracker.sources.prices import PriceSource, TickerPrices, check_interval

logger = logging.getLogger(__name__)

#: first date fetched for a ticker with no stored bars and no explicit start
DEFAULT_BACKFILL_START = date(2023, 1, 1)
#: re-read this many calendar days before the last stored bar to catch revisions
DAILY_OVERLAP = timedelta(days=7)
INTRADAY_OVERLAP = timedelta(days=1)
_SHOWN = 5  # dates listed per problem message

DAILY_ROW = ("instrument_id", "date", "open", "high", "low", "close", "adj_close", "volume")
INTRADAY_ROW = ("instrument_id", "interval", "ts", "open", "high", "low", "close", "volume")
ACTION_ROW = ("instrument_id", "kind", "ex_date", "value")


@dataclass
class TickerResult:
    """What ingestion did for one ticker and one kind of data (1d, 1h, actions ...)."""

    ticker: str
    dataset: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    actions_inserted: int = 0
    actions_updated: int = 0
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def status(self) -> str:
        if self.error:
            return "failed"
        return "ok" if not self.problems else "ok, with problems"

    def as_row(self) -> dict[str, Any]:
        return {
            "ticker": self.ticker,
            "data": self.dataset,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "actions": f"+{self.actions_inserted}/~{self.actions_updated}",
            "status": self.status,
            "detail": "; ".join(([self.error] if self.error else []) + self.problems),
        }


@dataclass
class IngestReport:
    """Per-ticker outcomes; ``as_counts`` is what the job-run log records."""

    results: list[TickerResult] = field(default_factory=list)

    def extend(self, other: IngestReport) -> None:
        self.results.extend(other.results)

    @property
    def failed(self) -> list[TickerResult]:
        return [r for r in self.results if r.error]

    def as_counts(self) -> dict[str, int]:
        return {
            "tickers": len({r.ticker for r in self.results}),
            "failed": len(self.failed),
            "inserted": sum(r.inserted for r in self.results),
            "updated": sum(r.updated for r in self.results),
            "unchanged": sum(r.unchanged for r in self.results),
            "skipped": sum(r.skipped for r in self.results),
            "actions_inserted": sum(r.actions_inserted for r in self.results),
            "actions_updated": sum(r.actions_updated for r in self.results),
        }

    def problems(self) -> list[str]:
        """One line per failure or skipped-row reason, for the job-run log's error text."""
        lines = []
        for r in self.results:
            if r.error:
                lines.append(f"{r.ticker} {r.dataset}: {r.error}")
            lines.extend(f"{r.ticker} {r.dataset}: {p}" for p in r.problems)
        return lines


# ----------------------------------------------------------------- validation


def _dates_text(values: Any) -> str:
    shown = [v.isoformat() if hasattr(v, "isoformat") else str(v) for v in list(values)[:_SHOWN]]
    more = len(values) - len(shown)
    return ", ".join(shown) + (f" (+{more} more)" if more > 0 else "")


def _drop(frame: pd.DataFrame, mask: Any, key: str, why: str, problems: list[str]) -> pd.DataFrame:
    mask = np.asarray(mask, dtype=bool)
    if mask.any():
        problems.append(
            f"{int(mask.sum())} row(s) skipped, {why}: {_dates_text(frame.loc[mask, key])}"
        )
        kept: pd.DataFrame = frame.loc[~mask]
        return kept
    return frame


def _price_checks(frame: pd.DataFrame, key: str, problems: list[str]) -> pd.DataFrame:
    frame = _drop(frame, frame[key].isna(), key, "no date/time", problems)
    prices = frame[["open", "high", "low", "close"]].apply(pd.to_numeric, errors="coerce")
    frame = _drop(frame, prices.isna().any(axis=1), key, "NaN price", problems)
    prices = frame[["open", "high", "low", "close"]].astype("float64")
    values = prices.to_numpy()
    bad = (values <= 0).any(axis=1) | ~np.isfinite(values).all(axis=1)
    if "adj_close" in frame.columns:
        adj = pd.to_numeric(frame["adj_close"], errors="coerce").to_numpy(dtype="float64")
        bad |= (adj <= 0) | np.isinf(adj)
    frame = _drop(frame, bad, key, "zero, negative or infinite price", problems)
    volume = pd.to_numeric(frame["volume"], errors="coerce")
    return _drop(frame, volume < 0, key, "negative volume", problems)


def _dedupe(frame: pd.DataFrame, key: str, problems: list[str]) -> pd.DataFrame:
    """Identical repeats collapse to one row; a key with conflicting rows is dropped whole."""
    repeated = frame.duplicated(keep="first")
    if repeated.any():
        problems.append(
            f"{int(repeated.sum())} identical duplicate row(s) ignored: "
            f"{_dates_text(frame.loc[repeated, key])}"
        )
        frame = frame.loc[~repeated]
    conflicting = frame[key].duplicated(keep=False)
    return _drop(frame, conflicting, key, "conflicting duplicates for the same date", problems)


def clean_daily(bars: pd.DataFrame, calendar: str) -> tuple[pd.DataFrame, list[str], int]:
    """Valid daily bars, the problems found, and how many rows were skipped."""
    problems: list[str] = []
    frame = _price_checks(bars.copy(), "date", problems)
    frame = _dedupe(frame, "date", problems)
    if not frame.empty:
        sessions = set(sessions_between(min(frame["date"]), max(frame["date"]), calendar))
        frame = _drop(
            frame, ~frame["date"].isin(sessions), "date", f"not a {calendar} session", problems
        )
    return frame.sort_values("date"), problems, len(bars) - len(frame)


def clean_intraday(bars: pd.DataFrame, calendar: str) -> tuple[pd.DataFrame, list[str], int]:
    """Valid intraday bars: as daily, and each bar must start inside a regular session."""
    problems: list[str] = []
    frame = _price_checks(bars.copy(), "ts", problems)
    frame = _dedupe(frame, "ts", problems)
    if not frame.empty:
        local_dates = pd.DatetimeIndex(frame["ts"]).tz_convert("America/New_York").date
        closes: dict[date, datetime | None] = {}
        for day in set(local_dates):
            closes[day] = session_close(day, calendar) if is_session(day, calendar) else None
        outside = [
            closes[day] is None or ts >= closes[day]
            for day, ts in zip(local_dates, frame["ts"], strict=True)
        ]
        frame = _drop(frame, outside, "ts", f"outside a {calendar} session", problems)
    return frame.sort_values("ts"), problems, len(bars) - len(frame)


def clean_actions(actions: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    problems: list[str] = []
    frame = actions.copy()
    value = pd.to_numeric(frame["value"], errors="coerce")
    frame = _drop(
        frame,
        ~(value > 0) | np.isinf(value),
        "ex_date",
        "action without a positive value",
        problems,
    )
    frame = frame.drop_duplicates()
    conflicting = frame.duplicated(subset=["kind", "ex_date"], keep=False)
    frame = _drop(frame, conflicting, "ex_date", "conflicting actions on one ex-date", problems)
    return frame, problems


# ---------------------------------------------------------------------- rows


def _optional(values: pd.Series, cast: type) -> list[Any]:
    return [None if pd.isna(v) else cast(v) for v in values]


def _daily_rows(instrument_id: int, frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    return list(
        zip(
            [instrument_id] * len(frame),
            frame["date"],
            frame["open"].astype(float),
            frame["high"].astype(float),
            frame["low"].astype(float),
            frame["close"].astype(float),
            _optional(frame["adj_close"], float),
            _optional(frame["volume"], int),
            strict=True,
        )
    )


def _intraday_rows(instrument_id: int, interval: str, frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    stamps = pd.DatetimeIndex(frame["ts"]).tz_convert("UTC").to_pydatetime()
    return list(
        zip(
            [instrument_id] * len(frame),
            [interval] * len(frame),
            stamps,
            frame["open"].astype(float),
            frame["high"].astype(float),
            frame["low"].astype(float),
            frame["close"].astype(float),
            _optional(frame["volume"], int),
            strict=True,
        )
    )


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


# ------------------------------------------------------------------ ingestion


def _store(
    db: Database,
    answer: TickerPrices,
    result: TickerResult,
    source_name: str,
    write_bars: Any,
) -> None:
    """Write one ticker's bars and actions in one transaction; on failure record the error."""
    actions, action_problems = clean_actions(answer.actions)
    result.problems.extend(action_problems)
    now = datetime.now(UTC)
    try:
        with db.session() as session:
            instrument_id = ensure_instruments(session, [answer.ticker])[answer.ticker]
            connection = session.connection()
            counts: UpsertCounts = write_bars(connection, instrument_id, now)
            action_counts = bulk_upsert(
                connection,
                _table(CorporateAction),
                ACTION_ROW,
                [(instrument_id, k, d, float(v)) for k, d, v in actions.itertuples(index=False)],
                key_columns=("instrument_id", "kind", "ex_date"),
                constants={"source": source_name},
            )
    except Exception as exc:  # one ticker's failure never stops the others
        logger.exception("storing %s failed", answer.ticker)
        result.error = f"not stored ({type(exc).__name__}: {str(exc).splitlines()[0]})"
        result.inserted = result.updated = result.unchanged = 0
        return
    result.inserted, result.updated, result.unchanged = (
        counts.inserted,
        counts.updated,
        counts.unchanged,
    )
    result.actions_inserted, result.actions_updated = action_counts.inserted, action_counts.updated


def _normalise(tickers: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(t.strip().upper() for t in tickers if t.strip()))


def ingest_daily_bars(
    db: Database,
    source: PriceSource,
    tickers: Sequence[str],
    start: date | None,
    end: date | None,
    *,
    calendar: str = "XNYS",
    default_start: date = DEFAULT_BACKFILL_START,
) -> IngestReport:
    """Fetch and store daily bars (and the corporate actions that come with them).

    With ``start`` None each ticker resumes from its last stored bar minus ``DAILY_OVERLAP``
    (``default_start`` when it has none); tickers sharing a start are fetched in one call.
    """
    tickers = _normalise(tickers)
    starts: dict[date | None, list[str]] = defaultdict(list)
    if start is None:
        with db.session() as session:
            last = last_daily_dates(session, tickers)
        for ticker in tickers:
            starts[last[ticker] - DAILY_OVERLAP if ticker in last else default_start].append(ticker)
    else:
        starts[start] = tickers
    report = IngestReport()
    for group_start, group in starts.items():
        answers = source.daily_bars(group, group_start, end)
        for ticker in group:
            report.results.append(
                _ingest_daily_one(db, source.name, answers.get(ticker), ticker, calendar)
            )
    return report


def _ingest_daily_one(
    db: Database, source_name: str, answer: TickerPrices | None, ticker: str, calendar: str
) -> TickerResult:
    result = TickerResult(ticker, "1d")
    if answer is None:
        result.error = "the source gave no answer for this ticker"
        return result
    result.problems.extend(answer.notes)
    if answer.error:
        result.error = answer.error
        return result
    if answer.bars.empty:
        result.error = "empty answer: no bars in the requested range"
        return result
    bars, problems, skipped = clean_daily(answer.bars, calendar)
    result.problems.extend(problems)
    result.skipped = skipped

    def write(connection: Any, instrument_id: int, now: datetime) -> UpsertCounts:
        return bulk_upsert(
            connection,
            _table(DailyBar),
            DAILY_ROW,
            _daily_rows(instrument_id, bars),
            key_columns=("instrument_id", "date"),
            constants={"source": source_name, "updated_at": now},
        )

    _store(db, answer, result, source_name, write)
    for line in result.problems:
        logger.warning("%s 1d: %s", ticker, line)
    return result


def ingest_intraday_bars(
    db: Database,
    source: PriceSource,
    tickers: Sequence[str],
    interval: str,
    start: datetime | None,
    end: datetime | None,
    *,
    calendar: str = "XNYS",
) -> IngestReport:
    """Fetch and store intraday bars; incremental from the last stored bar when start is None."""
    check_interval(interval)
    for bound in (start, end):
        if bound is not None and bound.tzinfo is None:
            raise ValueError(f"naive datetime {bound.isoformat()} refused: pass aware UTC")
    tickers = _normalise(tickers)
    starts: dict[datetime | None, list[str]] = defaultdict(list)
    if start is None:
        with db.session() as session:
            last = last_intraday_times(session, tickers, interval)
        for ticker in tickers:
            starts[last[ticker] - INTRADAY_OVERLAP if ticker in last else None].append(ticker)
    else:
        starts[start] = tickers
    report = IngestReport()
    for group_start, group in starts.items():
        answers = source.intraday_bars(group, interval, group_start, end)
        for ticker in group:
            result = _ingest_intraday_one(
                db, source.name, answers.get(ticker), ticker, interval, calendar
            )
            report.results.append(result)
    return report


def _ingest_intraday_one(
    db: Database,
    source_name: str,
    answer: TickerPrices | None,
    ticker: str,
    interval: str,
    calendar: str,
) -> TickerResult:
    result = TickerResult(ticker, interval)
    if answer is None:
        result.error = "the source gave no answer for this ticker"
        return result
    result.problems.extend(answer.notes)
    if answer.error or answer.bars.empty:
        result.error = answer.error or "empty answer: no bars in the requested range"
        return result
    bars, problems, result.skipped = clean_intraday(answer.bars, calendar)
    result.problems.extend(problems)

    def write(connection: Any, instrument_id: int, now: datetime) -> UpsertCounts:
        return bulk_upsert(
            connection,
            _table(IntradayBar),
            INTRADAY_ROW,
            _intraday_rows(instrument_id, interval, bars),
            key_columns=("instrument_id", "interval", "ts"),
            constants={"source": source_name},
        )

    _store(db, answer, result, source_name, write)
    for line in result.problems:
        logger.warning("%s %s: %s", ticker, interval, line)
    return result


def ingest_corporate_actions(
    db: Database, source: PriceSource, tickers: Sequence[str]
) -> IngestReport:
    """Store every dividend and split the source knows for ``tickers`` (full history)."""
    report = IngestReport()
    tickers = _normalise(tickers)
    answers = source.corporate_actions(tickers)
    for ticker in tickers:
        answer = answers.get(ticker)
        result = TickerResult(ticker, "actions")
        report.results.append(result)
        if answer is None or answer.error:
            result.error = answer.error if answer else "the source gave no answer for this ticker"
            continue
        _store(db, answer, result, source.name, lambda *_: UpsertCounts())
    return report


def ingest_prices(
    db: Database,
    source: PriceSource,
    tickers: Sequence[str],
    start: date | None = None,
    end: date | None = None,
    *,
    interval: str | None = None,
    calendar: str = "XNYS",
) -> IngestReport:
    """What ``tracker prices fetch``, the demo and the scheduler's backfill all run.

    ``interval`` None: daily bars (with their corporate actions) plus the source's default
    intraday intervals, for the tickers that have them; ``"1d"``: daily only; an intraday
    interval: only that. ``end`` is an inclusive date.
    """
    report = IngestReport()
    if interval in (None, "1d"):
        report.extend(ingest_daily_bars(db, source, tickers, start, end, calendar=calendar))
    if interval == "1d":
        return report
    for each in [interval] if interval is not None else list(source.default_intervals):
        wanted = list(tickers)
        if interval is None:
            holding = source.intraday_tickers(each)
            if holding is not None:
                wanted = [t for t in wanted if t.upper() in set(holding)]
        report.extend(
            ingest_intraday_bars(
                db,
                source,
                wanted,
                each,
                datetime.combine(start, time(), UTC) if start else None,
                # an inclusive end date: bars starting before the next midnight UTC
                datetime.combine(end + timedelta(days=1), time(), UTC) if end else None,
                calendar=calendar,
            )
        )
    return report
