"""Shared fixtures: the recorded price data (read in place, never copied) and helpers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from tracker.impact.returns import adjusted_close, returns_matrix

SEMIS = ("NVDA", "AMD", "AVGO", "TSM", "ASML", "MU", "ARM", "SMCI", "MRVL")
POWER = ("VST", "CEG", "TLN", "NRG", "GEV", "OKLO", "SMR", "NEE", "VRT")
ETFS = ("SPY", "QQQ", "SMH", "SOXX", "XLU", "XLE", "XLK")


def load_daily(data_dir: Path, ticker: str) -> pd.DataFrame:
    frame = pd.read_csv(data_dir / "prices" / "daily" / f"{ticker}.csv", parse_dates=["date"])
    return frame.set_index("date")


def load_dividends(data_dir: Path, ticker: str) -> pd.Series | None:
    path = data_dir / "prices" / "actions" / f"{ticker}_dividends.csv"
    if not path.exists():
        return None
    return pd.read_csv(path, parse_dates=["date"]).set_index("date")["dividend"]


@dataclass(frozen=True)
class Market:
    returns: pd.DataFrame
    closes: pd.DataFrame
    volumes: pd.DataFrame


@pytest.fixture(scope="session")
def market(data_dir: Path) -> Market:
    tickers = sorted(p.stem for p in (data_dir / "prices" / "daily").glob("*.csv"))
    daily = {t: load_daily(data_dir, t) for t in tickers}
    adjusted = {
        t: adjusted_close(f["close"], load_dividends(data_dir, t), f["adj_close"])
        for t, f in daily.items()
    }
    returns = returns_matrix(adjusted)
    closes = pd.DataFrame({t: f["close"] for t, f in daily.items()}).reindex(returns.index)
    volumes = pd.DataFrame({t: f["volume"] for t, f in daily.items()}).reindex(returns.index)
    return Market(returns, closes, volumes)
