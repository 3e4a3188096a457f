"""The yfinance adapter with the REAL installed yfinance, at its HTTP boundary.

yfinance is given a session (the hook it offers) that sends its requests to a loopback
server answering like Yahoo's chart API with the recorded real prices (tests/sources/
yahoo_server.py), so ``_yf_download`` and ``_yf_actions`` run yfinance's own URL building,
cookie/crumb dance, JSON parsing, time-zone handling and per-ticker error reporting.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yfinance as yf

from tests.sources.yahoo_server import LoopbackSession, YahooServer
from tracker.sources.prices_yfinance import YFinancePriceSource


@pytest.fixture(scope="session", autouse=True)
def yfinance_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """yfinance keeps a time-zone and cookie cache on disk: this process's own, not ~/.cache."""
    yf.set_tz_cache_location(str(tmp_path_factory.mktemp("yfinance-cache")))


@pytest.fixture
def yahoo(data_dir: Path) -> Iterator[YahooServer]:
    from yfinance.data import YfData

    YfData.cache_get.cache_clear()  # yfinance memoises past-range answers per process
    server = YahooServer(data_dir).start()
    yield server
    server.stop()


def make_source(yahoo: YahooServer, **kwargs: Any) -> tuple[YFinancePriceSource, list[float]]:
    sleeps: list[float] = []
    kwargs.setdefault("now", lambda: datetime(2025, 12, 31, tzinfo=UTC))
    source = YFinancePriceSource(
        session=LoopbackSession(yahoo.base),
        sleep=sleeps.append,
        rng=random.Random(1),
        **kwargs,
    )
    return source, sleeps


def recorded_daily(data_dir: Path, ticker: str, start: str, end: str) -> pd.DataFrame:
    frame = pd.read_csv(data_dir / "prices" / "daily" / f"{ticker}.csv", parse_dates=["date"])
    frame = frame[(frame["date"] >= start) & (frame["date"] <= end)]
    return frame.assign(date=frame["date"].dt.date).set_index("date")


def recorded_actions(data_dir: Path, ticker: str, first: date, last: date) -> set[tuple]:
    rows: set[tuple] = set()
    for kind, suffix in (("dividend", "dividends"), ("split", "splits")):
        path = data_dir / "prices" / "actions" / f"{ticker}_{suffix}.csv"
        if path.is_file():
            for day, value in pd.read_csv(path, parse_dates=["date"]).itertuples(index=False):
                if first <= day.date() <= last:
                    rows.add((kind, day.date(), float(value)))
    return rows


def test_daily_bars_are_the_recorded_sessions_on_their_exchange_dates(yahoo, data_dir) -> None:
    source, sleeps = make_source(yahoo)
    answers = source.daily_bars(["NVDA", "VST"], date(2025, 1, 21), date(2025, 1, 31))
    for ticker in ("NVDA", "VST"):
        answer = answers[ticker]
        assert answer.ok, answer.error
        expected = recorded_daily(data_dir, ticker, "2025-01-21", "2025-01-31")
        got = answer.bars.set_index("date")
        assert list(got.index) == list(expected.index)  # no day shifted by the UTC offset
        assert got["close"].to_numpy() == pytest.approx(expected["close"].to_numpy(), rel=1e-9)
        assert got["adj_close"].to_numpy() == pytest.approx(expected["adj_close"].to_numpy())
        assert got["volume"].to_numpy() == pytest.approx(expected["volume"].to_numpy())
    nvda = answers["NVDA"].bars.set_index("date")
    assert nvda.loc[date(2025, 1, 27), "close"] == pytest.approx(118.42, abs=0.005)
    params = yahoo.history_params["NVDA"][-1]
    assert params["interval"] == "1d"
    assert "div" in params["events"]
    end = pd.Timestamp("2025-02-01", tz="America/New_York")  # our end is inclusive
    assert int(params["period2"]) == int(end.timestamp())
    assert sleeps == []


def test_start_none_asks_for_the_whole_history_and_brings_its_actions(yahoo, data_dir) -> None:
    source, _ = make_source(yahoo)
    answer = source.daily_bars(["NVDA"], None, date(2025, 1, 31))["NVDA"]
    assert answer.ok, answer.error
    params = yahoo.history_params["NVDA"][-1]
    assert int(params["period1"]) < int(pd.Timestamp("1990-01-01", tz="UTC").timestamp())
    expected = recorded_daily(data_dir, "NVDA", "1900-01-01", "2025-01-31")
    assert list(answer.bars["date"]) == list(expected.index)
    got = {(k, d, v) for k, d, v in answer.actions.itertuples(index=False)}
    assert got == recorded_actions(data_dir, "NVDA", expected.index[0], date(2025, 1, 31))
    assert ("split", date(2024, 6, 10), 10.0) in got


def test_corporate_actions_through_ticker_actions(yahoo, data_dir) -> None:
    """``yf.Ticker(t).actions`` asks for period=max; an unknown symbol fails alone."""
    yahoo.unknown.add("ZZZQ")
    source, sleeps = make_source(yahoo)
    answers = source.corporate_actions(["NVDA", "ZZZQ", "AVGO"])
    for ticker in ("NVDA", "AVGO"):
        first = recorded_daily(data_dir, ticker, "1900-01-01", "2100-01-01").index[0]
        got = {(k, d, v) for k, d, v in answers[ticker].actions.itertuples(index=False)}
        # Yahoo's events come with the price history; the recorded one starts in 2023
        assert got == recorded_actions(data_dir, ticker, first, date(2100, 1, 1))
        assert got
    assert answers["ZZZQ"].error is not None
    assert "delisted" in answers["ZZZQ"].error or "404" in answers["ZZZQ"].error
    assert sleeps == []  # not retryable (a 404 was retried as a transient HTTPError before)


def test_more_than_40_tickers_go_in_batches_and_unknown_ones_fail_alone(yahoo, data_dir):
    known = yahoo.recorded.tickers()
    unknown = [f"ZZQ{letter}" for letter in "ABCDEFGHI"]
    yahoo.unknown.update(unknown)
    tickers = known + unknown
    assert len(tickers) > 40
    source, sleeps = make_source(yahoo)
    batches: list[list[str]] = []
    download = source.download

    def recording_download(**kwargs: Any) -> Any:
        batches.append(list(kwargs["tickers"]))
        return download(**kwargs)

    source.download = recording_download
    answers = source.daily_bars(tickers, date(2025, 1, 24), date(2025, 1, 28))
    assert [len(batch) for batch in batches] == [40, len(tickers) - 40]
    for ticker in known:
        assert answers[ticker].ok, (ticker, answers[ticker].error)
        expected = recorded_daily(data_dir, ticker, "2025-01-24", "2025-01-28")
        got = answers[ticker].bars.set_index("date")["close"]
        assert got.to_numpy() == pytest.approx(expected["close"].to_numpy(), rel=1e-9)
    for ticker in unknown:
        error = answers[ticker].error or ""
        assert "delisted" in error or "HTTP Error 404" in error, ticker
    assert sleeps == []  # unknown symbols are not retried


def test_rate_limited_ticker_is_retried_alone_then_succeeds(yahoo, data_dir) -> None:
    """Two 429s: yfinance retries once itself, then raises YFRateLimitError; the adapter
    backs off and asks again for that ticker only."""
    yahoo.rate_limited["NVDA"] = 2
    source, sleeps = make_source(yahoo)
    answers = source.daily_bars(["NVDA", "AMD"], date(2025, 1, 21), date(2025, 1, 24))
    assert answers["NVDA"].ok, answers["NVDA"].error
    assert answers["AMD"].ok
    assert len(sleeps) == 1
    assert (yahoo.history["NVDA"], yahoo.history["AMD"]) == (3, 1)


def test_persistent_rate_limit_gives_up_with_the_reason(yahoo) -> None:
    yahoo.rate_limited["NVDA"] = 1000
    source, sleeps = make_source(yahoo, max_attempts=3)
    answers = source.daily_bars(["NVDA", "AMD"], date(2025, 1, 21), date(2025, 1, 24))
    error = answers["NVDA"].error or ""
    assert "YFRateLimitError" in error
    assert "gave up after 3 attempts" in error
    assert answers["AMD"].ok
    assert len(sleeps) == 2


def test_rate_limited_corporate_actions_are_retried(yahoo) -> None:
    yahoo.rate_limited["NVDA"] = 2
    source, sleeps = make_source(yahoo)
    answer = source.corporate_actions(["NVDA"])["NVDA"]
    assert answer.ok, answer.error
    assert not answer.actions.empty
    assert len(sleeps) == 1


def test_empty_chart_is_an_error_not_silence_and_not_retried(yahoo) -> None:
    yahoo.empty.add("NVDA")
    source, sleeps = make_source(yahoo)
    answers = source.daily_bars(["NVDA", "AMD"], date(2025, 1, 21), date(2025, 1, 24))
    assert "no price data found" in (answers["NVDA"].error or "")
    assert answers["AMD"].ok
    assert sleeps == []
    assert yahoo.history["NVDA"] == 1


def test_partial_daily_bar_is_left_out_until_the_session_closes(yahoo) -> None:
    """At 11:00 New York time on 2025-01-27 Yahoo's last daily bar is that session, still
    trading; its close is not a close yet. After 16:00 it is."""
    during = datetime(2025, 1, 27, 16, 0, tzinfo=UTC)
    source, _ = make_source(yahoo, now=lambda: during)
    answer = source.daily_bars(["NVDA"], date(2025, 1, 22), date(2025, 1, 27))["NVDA"]
    assert answer.ok
    assert max(answer.bars["date"]) == date(2025, 1, 24)
    assert answer.notes == ["partial bar left out: session 2025-01-27 not closed yet"]
    after = datetime(2025, 1, 27, 21, 5, tzinfo=UTC)
    source, _ = make_source(yahoo, now=lambda: after)
    answer = source.daily_bars(["NVDA"], date(2025, 1, 22), date(2025, 1, 27))["NVDA"]
    assert max(answer.bars["date"]) == date(2025, 1, 27)
    assert answer.notes == []


def test_partial_intraday_bar_is_left_out(yahoo, data_dir) -> None:
    now = datetime(2025, 1, 27, 17, 0, tzinfo=UTC)
    source, _ = make_source(yahoo, now=lambda: now)
    answer = source.intraday_bars(["SPY"], "1h", datetime(2025, 1, 27, tzinfo=UTC), now)["SPY"]
    assert answer.ok, answer.error
    hourly = pd.read_csv(data_dir / "prices" / "intraday" / "SPY_1h.csv")
    stamps = pd.to_datetime(hourly["timestamp"], utc=True)
    served = stamps[(stamps >= "2025-01-27") & (stamps < pd.Timestamp(now))]
    complete = served[served + pd.Timedelta(hours=1) <= pd.Timestamp(now)]
    assert len(served) == len(complete) + 1  # the 16:30Z bar is still running at 17:00Z
    assert list(answer.bars["ts"]) == list(complete)
    assert any("partial bar left out" in note for note in answer.notes)


def test_intraday_bars_across_a_dst_change_keep_their_utc_instants(yahoo, data_dir) -> None:
    """yfinance returns intraday bars in the exchange's zone; New York moved to EDT on
    2025-03-09, so the 09:30 open is 14:30Z before and 13:30Z after. Every bar must come
    back at the recorded UTC instant, and a bar's close must match the recorded one."""
    start = datetime(2025, 3, 6, tzinfo=UTC)
    end = datetime(2025, 3, 12, tzinfo=UTC)
    source, _ = make_source(yahoo, now=lambda: end)
    answer = source.intraday_bars(["SPY"], "1h", start, end)["SPY"]
    assert answer.ok, answer.error
    hourly = pd.read_csv(data_dir / "prices" / "intraday" / "SPY_1h.csv")
    hourly["ts"] = pd.to_datetime(hourly["timestamp"], utc=True)
    expected = hourly[(hourly["ts"] >= pd.Timestamp(start)) & (hourly["ts"] < pd.Timestamp(end))]
    assert list(answer.bars["ts"]) == list(expected["ts"])
    assert answer.bars["close"].to_numpy() == pytest.approx(expected["close"].to_numpy())
    first = answer.bars.groupby(answer.bars["ts"].dt.date)["ts"].min()
    assert {ts.strftime("%H:%M") for ts in first[first.index < date(2025, 3, 9)]} == {"14:30"}
    assert {ts.strftime("%H:%M") for ts in first[first.index > date(2025, 3, 9)]} == {"13:30"}
