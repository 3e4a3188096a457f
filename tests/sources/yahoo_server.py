"""A loopback stand-in for Yahoo Finance's chart API, so the installed yfinance runs end to end.

yfinance talks to ``https://query{1,2}.finance.yahoo.com`` through the session it is given
(``yf.download(session=...)``, ``yf.Ticker(..., session=...)``). ``LoopbackSession`` is the
session yfinance uses in production (curl_cffi, Chrome impersonation) with one change: it
sends every request to this server instead of Yahoo. The server answers the way Yahoo does:
``/v8/finance/chart/{SYMBOL}`` JSON (meta, timestamps at the session open for daily bars,
``indicators.quote``/``adjclose``, ``events.dividends``/``splits``, ``tradingPeriods`` for
intraday bars), the cookie and crumb endpoints, 404 ``No data found, symbol may be delisted``
for unknown symbols, and ``429 Too Many Requests`` when told to rate-limit a symbol.

The prices are the recorded real ones from the recorded-data directory; nothing is invented.
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from datetime import date
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
from curl_cffi import requests as curl_requests

from tracker.impact.calendar import session_close, session_open

NOT_FOUND = {
    "chart": {
        "result": None,
        "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
    }
}
ETFS = {"SPY", "QQQ", "SMH", "SOXX", "XLE", "XLK", "XLU"}
ZONE = "America/New_York"


def _epoch(moment: Any) -> int:
    return int(pd.Timestamp(moment).timestamp())


def _opens(days: pd.Series) -> list[int]:
    """Each day's 09:30 New York time (epoch seconds): Yahoo stamps a daily bar (and a
    dividend or split) with its session's open."""
    local = pd.DatetimeIndex(pd.to_datetime(days)).tz_localize(ZONE) + pd.Timedelta("9h30min")
    return [_epoch(ts) for ts in local]


@lru_cache(maxsize=64)
def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


def _numbers(values: pd.Series) -> list[float | None]:
    return [None if pd.isna(v) or math.isinf(v) else float(v) for v in values]


def _period(day: date) -> dict[str, Any]:
    start, end = session_open(day), session_close(day)
    offset = int(pd.Timestamp(start).tz_convert(ZONE).utcoffset().total_seconds())
    zone = "EDT" if offset == -4 * 3600 else "EST"
    return {"timezone": zone, "start": _epoch(start), "end": _epoch(end), "gmtoffset": offset}


class RecordedYahoo:
    """The recorded bars and actions, served as Yahoo's chart API would serve them."""

    def __init__(self, data_dir: Path) -> None:
        self.prices = data_dir / "prices"

    def tickers(self) -> list[str]:
        return sorted(p.stem for p in (self.prices / "daily").glob("*.csv"))

    def daily(self, ticker: str) -> pd.DataFrame:
        frame = _read(self.prices / "daily" / f"{ticker}.csv").copy()
        frame["ts"] = _opens(frame["date"])
        return frame

    def hourly(self, ticker: str) -> pd.DataFrame:
        frame = _read(self.prices / "intraday" / f"{ticker}_1h.csv").copy()
        stamps = pd.to_datetime(frame["timestamp"], utc=True)
        frame["ts"] = [_epoch(s) for s in stamps]
        return frame

    def _actions(self, ticker: str, lo: int, hi: int) -> dict[str, Any]:
        events: dict[str, Any] = {}
        dividends = self.prices / "actions" / f"{ticker}_dividends.csv"
        splits = self.prices / "actions" / f"{ticker}_splits.csv"
        if dividends.is_file():
            rows = _read(dividends)
            found = {}
            for (_, amount), ts in zip(
                rows.itertuples(index=False), _opens(rows["date"]), strict=True
            ):
                if lo <= ts < hi:
                    found[str(ts)] = {"amount": float(amount), "date": ts}
            if found:
                events["dividends"] = found
        if splits.is_file():
            rows = _read(splits)
            found = {}
            for (_, ratio), ts in zip(
                rows.itertuples(index=False), _opens(rows["date"]), strict=True
            ):
                if lo <= ts < hi:
                    found[str(ts)] = {
                        "date": ts,
                        "numerator": float(ratio),
                        "denominator": 1.0,
                        "splitRatio": f"{ratio:g}:1",
                    }
            if found:
                events["splits"] = found
        return events

    def chart(self, ticker: str, params: dict[str, str], *, empty: bool = False) -> dict[str, Any]:
        interval = params.get("interval", "1d")
        intraday = interval != "1d"
        frame = self.hourly(ticker) if intraday else self.daily(ticker)
        if "period1" in params:
            lo, hi = int(params["period1"]), int(params["period2"])
        else:  # range=1d: the time-zone probe, answered with the last recorded bar
            lo, hi = int(frame["ts"].iloc[-1]), int(frame["ts"].iloc[-1]) + 1
        rows = frame[(frame["ts"] >= lo) & (frame["ts"] < hi)]
        last = frame.iloc[-1]
        days = sorted(
            {pd.Timestamp(t, unit="s", tz="UTC").tz_convert(ZONE).date() for t in rows["ts"]}
        )
        meta: dict[str, Any] = {
            "currency": "USD",
            "symbol": ticker,
            "exchangeName": "NMS",
            "fullExchangeName": "NasdaqGS",
            "instrumentType": "ETF" if ticker in ETFS else "EQUITY",
            "firstTradeDate": int(frame["ts"].iloc[0]),
            "regularMarketTime": int(last["ts"]),
            "hasPrePostMarketData": True,
            "gmtoffset": -18000,
            "timezone": "EST",
            "exchangeTimezoneName": ZONE,
            "regularMarketPrice": float(last["close"]),
            "priceHint": 2,
            "dataGranularity": interval,
            "range": params.get("range", ""),
            "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "ytd", "max"],
        }
        result: dict[str, Any] = {"meta": meta}
        if intraday and days:
            meta["tradingPeriods"] = [[_period(day)] for day in days]
        if empty or rows.empty:
            result["indicators"] = {"quote": [{}], "adjclose": [{}]}
            return {"chart": {"result": [result], "error": None}}
        result["timestamp"] = [int(t) for t in rows["ts"]]
        events = {} if intraday else self._actions(ticker, lo, hi)
        if events:
            result["events"] = events
        quote = {name: _numbers(rows[name]) for name in ("open", "high", "low", "close")}
        quote["volume"] = [None if pd.isna(v) else int(v) for v in rows["volume"]]
        result["indicators"] = {"quote": [quote]}
        if not intraday and "adj_close" in rows and rows["adj_close"].notna().any():
            result["indicators"]["adjclose"] = [{"adjclose": _numbers(rows["adj_close"])}]
        return {"chart": {"result": [result], "error": None}}


class YahooServer:
    """The chart API on 127.0.0.1 (port 0). ``unknown`` symbols get Yahoo's 404,
    ``rate_limited[SYMBOL] = n`` answers that symbol's next n history requests with 429,
    ``empty`` symbols get a chart with no bars. ``history`` counts history requests per
    symbol (time-zone probes, which yfinance caches, are left out)."""

    def __init__(self, data_dir: Path) -> None:
        self.recorded = RecordedYahoo(data_dir)
        self.unknown: set[str] = set()
        self.empty: set[str] = set()
        self.rate_limited: Counter[str] = Counter()
        self.history: Counter[str] = Counter()
        self.history_params: dict[str, list[dict[str, str]]] = {}
        self.paths: list[str] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                status, body, kind = server._answer(self.path)
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_GET

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> YahooServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _answer(self, raw_path: str) -> tuple[int, Any, str]:
        parts = urlsplit(raw_path)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.paths.append(parts.path)
        if parts.path == "/v1/test/getcrumb":
            return 200, b"loopback-crumb", "text/plain"
        if not parts.path.startswith("/v8/finance/chart/"):
            return 404, NOT_FOUND, "application/json"  # cookie/consent pages, quoteSummary
        ticker = parts.path.rsplit("/", 1)[1].upper()
        if ticker in self.unknown:
            return 404, NOT_FOUND, "application/json"
        if "period1" in params:
            with self._lock:
                self.history[ticker] += 1
                self.history_params.setdefault(ticker, []).append(params)
                if self.rate_limited[ticker] > 0:
                    self.rate_limited[ticker] -= 1
                    return 429, b"Too Many Requests\r\n", "text/plain"
        return (
            200,
            self.recorded.chart(ticker, params, empty=ticker in self.empty),
            "application/json",
        )


class LoopbackSession(curl_requests.Session):  # type: ignore[type-arg]
    """yfinance's own kind of session (curl_cffi, Chrome impersonation), sent to loopback."""

    def __init__(self, base: str) -> None:
        super().__init__(impersonate="chrome")
        self.base = base

    def request(self, method: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        if not (parts.hostname or "").endswith("yahoo.com"):
            raise AssertionError(f"yfinance asked for a non-Yahoo URL: {url}")
        local = self.base + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, local, *args, **kwargs)
