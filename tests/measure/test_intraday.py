"""intraday_reaction on the recorded hourly SPY and QQQ bars."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from tracker.config import Settings
from tracker.db import Database
from tracker.errors import NotFoundError
from tracker.impact.intraday import intraday_reaction as engine_reaction
from tracker.measure.service import intraday_reaction

from .recorded import add_event, load_recorded_intraday

START, END = datetime(2025, 1, 17, tzinfo=UTC), datetime(2025, 2, 3, tzinfo=UTC)


def test_reaction_of_tickers_with_intraday_bars(
    database: Database, settings: Settings, data_dir: Path
) -> None:
    with database.session() as session:
        for ticker in ("SPY", "QQQ"):
            assert load_recorded_intraday(session, data_dir, ticker, START, END) > 0
    moment = datetime(2025, 1, 27, 16, 57, 45, tzinfo=UTC)  # Janus-Pro on HN, mid-session
    event = add_event(database, "janus-pro", moment, ("QQQ", "NVDA"))
    reactions = intraday_reaction(database, settings, event)
    assert [r.ticker for r in reactions] == ["QQQ"]  # no NVDA intraday bars are recorded
    qqq = reactions[0]
    assert qqq.benchmark == "SPY"
    # hourly bars: no bar ends within 30 minutes of 16:57:45, so that horizon is uncovered
    assert qqq.status == "partial"
    assert math.isnan(qqq.returns["30m"])
    assert math.isfinite(qqq.excess_returns["1h"])
    assert math.isfinite(qqq.excess_returns["close"])
    # the same engine on the bars read straight from the recorded files
    frames = {}
    for ticker in ("QQQ", "SPY"):
        frame = pd.read_csv(data_dir / "prices" / "intraday" / f"{ticker}_1h.csv")
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        frames[ticker] = frame[(frame["timestamp"] >= START) & (frame["timestamp"] <= END)]
    direct = engine_reaction(frames["QQQ"], moment, benchmark_bars=frames["SPY"], ticker="QQQ")
    assert qqq.status == direct.status
    assert qqq.base_price == direct.base_price
    for horizon in ("1h", "close"):
        assert qqq.returns[horizon] == pytest.approx(direct.returns[horizon], rel=1e-12)
        assert qqq.excess_returns[horizon] == pytest.approx(
            direct.excess_returns[horizon], rel=1e-12
        )


def test_unknown_event(database: Database, settings: Settings) -> None:
    with pytest.raises(NotFoundError):
        intraday_reaction(database, settings, 12345)
