"""Price ingestion on SQLite and PostgreSQL: recorded history, idempotence, bad input."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from tracker.db import Database
from tracker.ingest.prices import DAILY_OVERLAP, ingest_corporate_actions, ingest_daily_bars
from tracker.markets.bars import load_corporate_actions, load_daily_bars
from tracker.sources.prices import TickerPrices, empty_actions
from tracker.sources.prices_recorded import RecordedPriceSource


class FrameSource:
    """A source answering with given frames (SYNTHETIC prices for edge cases); records calls."""

    name = "test"
    default_intervals: tuple[str, ...] = ()

    def __init__(self, frames: dict[str, pd.DataFrame], errors: dict[str, str] | None = None):
        self.frames = frames
        self.errors = errors or {}
        self.calls: list[tuple[tuple[str, ...], date | None]] = []

    def available_tickers(self) -> None:
        return None

    def daily_bars(
        self, tickers: Sequence[str], start: date | None, end: date | None
    ) -> dict[str, TickerPrices]:
        self.calls.append((tuple(tickers), start))
        out = {}
        for t in tickers:
            if t in self.errors:
                out[t] = TickerPrices(t, error=self.errors[t])
            else:
                frame = self.frames[t]
                out[t] = TickerPrices(
                    t,
                    bars=frame[frame["date"] >= start] if start else frame,
                    actions=empty_actions(),
                )
        return out

    def intraday_bars(
        self, tickers: Sequence[str], interval: str, start: datetime | None, end: datetime | None
    ) -> dict[str, TickerPrices]:
        raise NotImplementedError

    def corporate_actions(self, tickers: Sequence[str]) -> dict[str, TickerPrices]:
        raise NotImplementedError


def synthetic(rows: list[tuple[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": [date.fromisoformat(d) for d, _ in rows],
            "open": [c for _, c in rows],
            "high": [c + 1 for _, c in rows],
            "low": [c - 1 if c == c and c > 1 else c for _, c in rows],
            "close": [c for _, c in rows],
            "adj_close": [float("nan")] * len(rows),
            "volume": [1000] * len(rows),
        }
    )


def test_recorded_history_loads_once_and_then_inserts_nothing(
    database: Database, data_dir: Path
) -> None:
    source = RecordedPriceSource(data_dir)
    tickers = ["NVDA", "VST", "CEG"]
    first = ingest_daily_bars(database, source, tickers, None, None)
    expected = sum(len(pd.read_csv(data_dir / "prices" / "daily" / f"{t}.csv")) for t in tickers)
    assert first.as_counts()["inserted"] == expected
    assert first.as_counts()["failed"] == 0
    again = ingest_daily_bars(database, source, tickers, None, None)
    assert again.as_counts()["inserted"] == 0
    assert again.as_counts()["updated"] == 0
    assert again.as_counts()["unchanged"] > 0  # the overlap was re-read and found identical
    with database.session() as session:
        bars = load_daily_bars(session, ["NVDA"], date(2025, 1, 24), date(2025, 1, 27)).set_index(
            "date"
        )
        actions = load_corporate_actions(session, ["CEG"])
    assert bars.loc[date(2025, 1, 24), "close"] == pytest.approx(142.62, abs=0.005)
    assert bars.loc[date(2025, 1, 27), "close"] == pytest.approx(118.42, abs=0.005)
    recorded = pd.read_csv(data_dir / "prices" / "actions" / "CEG_dividends.csv")
    assert len(actions) == len(recorded)
    assert set(actions["kind"]) == {"dividend"}


def test_incremental_run_starts_at_last_bar_minus_overlap_and_counts_revisions(
    database: Database,
) -> None:
    frame = synthetic([("2025-01-21", 10.0), ("2025-01-22", 11.0), ("2025-01-23", 12.0)])
    ingest_daily_bars(database, FrameSource({"SYN": frame}), ["SYN"], date(2025, 1, 21), None)
    revised = synthetic(
        [("2025-01-21", 10.0), ("2025-01-22", 11.5), ("2025-01-23", 12.0), ("2025-01-24", 13.0)]
    )
    source = FrameSource({"SYN": revised})
    report = ingest_daily_bars(database, source, ["SYN"], None, None)
    assert source.calls == [(("SYN",), date(2025, 1, 23) - DAILY_OVERLAP)]
    counts = report.as_counts()
    assert (counts["inserted"], counts["updated"], counts["unchanged"]) == (1, 1, 2)


def test_bad_rows_are_reported_and_skipped_and_other_tickers_go_on(database: Database) -> None:
    bad = synthetic(
        [
            ("2025-01-21", 10.0),
            ("2025-01-22", float("nan")),  # NaN row
            ("2025-01-23", 0.0),  # zero price
            ("2025-01-24", -3.0),  # negative price
            ("2025-01-20", 9.0),  # MLK day: not a session
            ("2025-01-25", 9.5),  # a Saturday
            ("2025-01-27", 8.0),
            ("2025-01-27", 8.1),  # conflicting duplicate
            ("2025-01-28", 7.0),
            ("2025-01-28", 7.0),  # identical duplicate
        ]
    )
    good = synthetic([("2025-01-21", 20.0), ("2025-01-22", 21.0)])
    source = FrameSource(
        {"BAD": bad, "GOOD": good}, errors={"GONE": "YFTzMissingError('possibly delisted')"}
    )
    report = ingest_daily_bars(database, source, ["BAD", "GONE", "GOOD"], date(2025, 1, 1), None)
    by_ticker = {r.ticker: r for r in report.results}
    assert by_ticker["GONE"].error is not None
    assert "delisted" in by_ticker["GONE"].error
    assert by_ticker["GOOD"].inserted == 2
    bad_result = by_ticker["BAD"]
    assert bad_result.inserted == 2  # 2025-01-21 and one 2025-01-28
    assert bad_result.skipped == 8
    text = " | ".join(bad_result.problems)
    for needle in (
        "NaN",
        "negative",
        "not a XNYS session",
        "conflicting",
        "identical",
        "2025-01-20",
    ):
        assert needle in text
    assert report.as_counts()["failed"] == 1
    assert any(line.startswith("GONE 1d:") for line in report.problems())
    with database.session() as session:
        stored = load_daily_bars(session, ["BAD"], None, None)
    assert list(stored["date"]) == [date(2025, 1, 21), date(2025, 1, 28)]


def test_a_ticker_that_cannot_be_stored_leaves_nothing_half_written(database: Database) -> None:
    frame = synthetic([("2025-01-21", 10.0), ("2025-01-22", 11.0)])
    frame["volume"] = [1000, 10**30]  # overflows BIGINT at write time
    report = ingest_daily_bars(
        database, FrameSource({"SYN": frame}), ["SYN"], date(2025, 1, 1), None
    )
    assert report.results[0].error is not None
    assert report.results[0].inserted == 0
    with database.session() as session:
        assert load_daily_bars(session, ["SYN"], None, None).empty


def test_corporate_actions_from_the_recorded_files(database: Database, data_dir: Path) -> None:
    report = ingest_corporate_actions(database, RecordedPriceSource(data_dir), ["NVDA", "TLN"])
    counts = report.as_counts()
    actions_dir = data_dir / "prices" / "actions"
    expected = sum(
        len(pd.read_csv(actions_dir / f"NVDA_{kind}.csv")) for kind in ("dividends", "splits")
    )
    assert counts["actions_inserted"] == expected  # TLN has none
    assert counts["failed"] == 0
    again = ingest_corporate_actions(database, RecordedPriceSource(data_dir), ["NVDA"])
    assert again.as_counts()["actions_inserted"] == 0
    with database.session() as session:
        splits = load_corporate_actions(session, ["NVDA"]).query("kind == 'split'")
    assert list(splits["ex_date"]) == [date(2021, 7, 20), date(2024, 6, 10)]
