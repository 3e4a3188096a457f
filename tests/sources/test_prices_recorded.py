"""The recorded price source reads the real files and answers per ticker."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tracker.errors import DataUnavailableError
from tracker.sources.prices_recorded import RecordedPriceSource


def test_daily_bars_match_the_known_closes(data_dir: Path) -> None:
    source = RecordedPriceSource(data_dir)
    answer = source.daily_bars(["NVDA"], date(2025, 1, 24), date(2025, 1, 28))["NVDA"]
    assert answer.ok
    closes = dict(zip(answer.bars["date"], answer.bars["close"], strict=True))
    assert closes[date(2025, 1, 24)] == pytest.approx(142.62, abs=0.005)
    assert closes[date(2025, 1, 27)] == pytest.approx(118.42, abs=0.005)
    assert list(answer.bars["date"]) == [date(2025, 1, 24), date(2025, 1, 27), date(2025, 1, 28)]
    splits = answer.actions[answer.actions["kind"] == "split"]
    assert (date(2024, 6, 10), 10.0) in set(zip(splits["ex_date"], splits["value"], strict=True))


def test_missing_adj_close_stays_missing(data_dir: Path) -> None:
    answer = RecordedPriceSource(data_dir).daily_bars(["CEG"], None, None)["CEG"]
    assert answer.bars["adj_close"].isna().all()
    assert (answer.actions["kind"] == "dividend").any()


def test_unknown_ticker_is_an_error_not_an_exception(data_dir: Path) -> None:
    answers = RecordedPriceSource(data_dir).daily_bars(["NVDA", "NOPE"], None, None)
    assert answers["NVDA"].ok
    assert len(answers["NVDA"].bars) > 700
    assert answers["NOPE"].error is not None
    assert "NOPE" in answers["NOPE"].error


def test_intraday_bars_are_aware_utc_and_half_open(data_dir: Path) -> None:
    source = RecordedPriceSource(data_dir)
    start = datetime(2025, 1, 27, 14, 30, tzinfo=UTC)
    end = datetime(2025, 1, 27, 21, 0, tzinfo=UTC)
    bars = source.intraday_bars(["SPY"], "1h", start, end)["SPY"].bars
    assert str(bars["ts"].dt.tz) == "UTC"
    assert bars["ts"].min() == start
    assert (bars["ts"] < end).all()
    assert len(bars) == 7


def test_missing_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DataUnavailableError, match="no recorded prices"):
        RecordedPriceSource(tmp_path)
