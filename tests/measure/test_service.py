"""compute_impacts on real recorded prices, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select, update

from tracker.config import Settings
from tracker.db import Database
from tracker.db.models import (
    Basket,
    DailyBar,
    Event,
    FirmImpact,
    GroupImpact,
    Instrument,
)
from tracker.errors import ConfigError
from tracker.impact.returns import adjusted_close, returns_matrix
from tracker.impact.significance import group_statistics
from tracker.impact.study import EventRequest, run_event_study, window_label
from tracker.measure.clean import excluded_days, exclusion_span
from tracker.measure.service import compute_impacts
from tracker.measure.study import default_parameters

from .recorded import POWER, PRICE_TICKERS, SELLOFF_TICKERS, Events, add_event, load_recorded_prices

FIRST = datetime(2026, 1, 1, tzinfo=UTC)
LATER = datetime(2026, 1, 2, tzinfo=UTC)


def firm_rows(database: Database, event_id: int) -> dict[tuple[str, int, int], FirmImpact]:
    with database.session() as session:
        rows = session.execute(
            select(FirmImpact, Instrument.ticker)
            .join(Instrument, Instrument.id == FirmImpact.instrument_id)
            .where(FirmImpact.event_id == event_id)
        ).all()
    return {(ticker, row.window_start, row.window_end): row for row, ticker in rows}


def group_rows(database: Database, event_id: int) -> dict[tuple[str, int, int], GroupImpact]:
    with database.session() as session:
        rows = session.execute(
            select(GroupImpact, Basket.slug)
            .join(Basket, Basket.id == GroupImpact.basket_id)
            .where(GroupImpact.event_id == event_id)
        ).all()
    return {(slug, row.window_start, row.window_end): row for row, slug in rows}


def test_selloff_is_measured_to_the_cent_and_significant(
    priced_database: Database, settings: Settings, january: Events
) -> None:
    report = compute_impacts(priced_database, settings, now=FIRST)
    assert report.failed == []
    windows = len(default_parameters(settings).event_windows)
    assert report.computed == (len(SELLOFF_TICKERS) + 1 + 2) * windows
    rows = firm_rows(priced_database, january.selloff)
    nvda = rows[("NVDA", 0, 0)]
    assert nvda.day0 == date(2025, 1, 27)
    assert round(nvda.raw_return * 100, 2) == -16.97
    assert nvda.raw_return == pytest.approx(118.41999816894531 / 142.6199951171875 - 1, abs=5e-4)
    for ticker in ("NVDA", "VST"):
        row = rows[(ticker, 0, 0)]
        assert row.status == "ok"
        assert row.car < -0.10
        assert row.car_p < 0.01
        assert row.car_t == row.statistics["car_t"]
    assert set(nvda.statistics) >= {
        "alpha", "beta", "sigma", "n_est", "car_se", "ar", "abnormal_volume", "value_change",
        "scar",
    }  # fmt: skip
    assert nvda.statistics["ar"] == {"0": nvda.car}
    assert nvda.parameters["benchmark"] == "SPY"
    assert "first regular session" in nvda.calendar_rule
    groups = group_rows(priced_database, january.selloff)
    assert {slug for slug, _, _ in groups} == {"ai_semis", "ai_power"}
    power = groups[("ai_power", 0, 0)]
    assert power.n == len(POWER)
    assert power.caar < -0.10
    assert power.statistics["members"] == sorted(POWER)
    for key in ("patell_z", "patell_kp_z", "bmp_t", "kp_t", "mean_corr", "effective_n"):
        assert math.isfinite(power.statistics[key])
    for key in ("cda_t", "corrado_z", "gsign_z", "patell_p", "bmp_p", "kp_p", "gsign_p"):
        assert key in power.statistics


def test_day0_comes_from_the_exchange_calendar_and_is_stored(
    priced_database: Database, settings: Settings, january: Events
) -> None:
    compute_impacts(priced_database, settings, now=FIRST)
    with priced_database.session() as session:
        r1 = session.get(Event, january.r1)
        rebound = session.get(Event, january.rebound)
        assert r1 is not None
        assert rebound is not None
        assert r1.day0 == date(2025, 1, 21)  # released on MLK Day, a holiday
        assert rebound.day0 == date(2025, 1, 28)
    rebound_nvda = firm_rows(priced_database, january.rebound)[("NVDA", 0, 0)]
    assert rebound_nvda.raw_return == pytest.approx(128.99 / 118.42 - 1, abs=1e-4)
    assert rebound_nvda.car > 0
    # the same ticker in two events is two observations
    assert firm_rows(priced_database, january.selloff)[("NVDA", 0, 0)].id != rebound_nvda.id


def _direct_returns(data_dir: Path) -> pd.DataFrame:
    """The engine's returns built straight from the recorded files, bypassing the database."""
    adjusted = {}
    for ticker in PRICE_TICKERS:
        daily = pd.read_csv(data_dir / "prices" / "daily" / f"{ticker}.csv", parse_dates=["date"])
        daily = daily.set_index("date")
        path = data_dir / "prices" / "actions" / f"{ticker}_dividends.csv"
        dividends = (
            pd.read_csv(path, parse_dates=["date"]).set_index("date")["dividend"]
            if path.exists()
            else None
        )
        adjusted[ticker] = adjusted_close(daily["close"], dividends, daily["adj_close"])
    return returns_matrix(adjusted)


def test_stored_numbers_equal_a_direct_engine_call(
    priced_database: Database, settings: Settings, january: Events, data_dir: Path
) -> None:
    compute_impacts(priced_database, settings, event_ids=[january.selloff], now=FIRST)
    params = default_parameters(settings)
    requests = [EventRequest("x", t, date(2025, 1, 27)) for t in SELLOFF_TICKERS]
    returns = _direct_returns(data_dir)
    span = exclusion_span(settings)
    assert span is not None  # clean estimation windows are the default
    with priced_database.session() as session:  # the stored facts: events, dividends, macro days
        excluded = excluded_days(
            session, list(SELLOFF_TICKERS), pd.DatetimeIndex(returns.index), "XNYS", span
        )
    direct = run_event_study(returns, requests, params, estimation_excluded=excluded)
    frame = direct.firm_frame().set_index(["ticker", "window"])
    rows = firm_rows(priced_database, january.selloff)
    for (ticker, start, end), row in rows.items():
        expected = frame.loc[(ticker, window_label((start, end)))]
        assert row.status == expected["status"]
        for name in ("car", "car_t", "car_p", "raw_return"):
            assert getattr(row, name) == pytest.approx(expected[name], rel=1e-12, abs=1e-15)
        for name in ("alpha", "beta", "sigma", "car_se", "scar"):
            assert row.statistics[name] == pytest.approx(expected[name], rel=1e-12)
        assert row.statistics["n_est"] == expected["n_est"]
    groups = group_rows(priced_database, january.selloff)
    for slug, members in (("ai_semis", ("NVDA", "AVGO", "TSM", "MRVL")), ("ai_power", POWER)):
        for window in params.event_windows:
            want = group_statistics(direct, [("x", t) for t in members], window)
            got = groups[(slug, *window)].statistics
            for name in ("caar", "patell_z", "bmp_t", "kp_t", "mean_corr", "corrado_z", "gsign_z"):
                assert got[name] == pytest.approx(getattr(want, name), rel=1e-12)


def test_second_run_rewrites_nothing(
    priced_database: Database, settings: Settings, january: Events
) -> None:
    first = compute_impacts(priced_database, settings, now=FIRST)
    before = {
        k: (r.id, r.computed_at) for k, r in firm_rows(priced_database, january.selloff).items()
    }
    second = compute_impacts(priced_database, settings, now=LATER)
    assert second.computed == 0
    assert second.groups_computed == 0
    assert second.unchanged == first.computed
    assert second.by_status == first.by_status
    after = {
        k: (r.id, r.computed_at) for k, r in firm_rows(priced_database, january.selloff).items()
    }
    assert after == before
    assert all(
        r.computed_at == FIRST for r in group_rows(priced_database, january.selloff).values()
    )


def test_a_revised_bar_recomputes_only_the_pairs_and_groups_reading_it(
    priced_database: Database, settings: Settings, january: Events
) -> None:
    compute_impacts(priced_database, settings, now=FIRST)
    old = firm_rows(priced_database, january.selloff)[("NVDA", 0, 0)].car
    with priced_database.session() as session:
        nvda = session.scalars(select(Instrument.id).where(Instrument.ticker == "NVDA")).one()
        # some sources give 118.58 for the 2025-01-27 close; the revision drops adj_close
        session.execute(
            update(DailyBar)
            .where(DailyBar.instrument_id == nvda, DailyBar.date == date(2025, 1, 27))
            .values(close=118.58, adj_close=None)
        )
    report = compute_impacts(priced_database, settings, now=LATER)
    windows = len(default_parameters(settings).event_windows)
    # NVDA is in all three events; every NVDA pair reads the revised bar or the dividends
    assert report.computed == 3 * windows
    rows = firm_rows(priced_database, january.selloff)
    assert rows[("NVDA", 0, 0)].computed_at == LATER
    assert rows[("NVDA", 0, 0)].car != old
    assert rows[("VST", 0, 0)].computed_at == FIRST
    groups = group_rows(priced_database, january.selloff)
    assert groups[("ai_semis", 0, 0)].computed_at == LATER
    assert groups[("ai_power", 0, 0)].computed_at == FIRST


def test_pending_windows_are_stored_and_completed_when_bars_arrive(
    database: Database, settings: Settings, data_dir: Path
) -> None:
    with database.session() as session:
        load_recorded_prices(session, data_dir, ("SPY", "NVDA"))
        # the database as it stood at the close of 2025-01-27
        session.execute(
            update(DailyBar).values(source="later").where(DailyBar.date > date(2025, 1, 27))
        )
        later = session.execute(select(DailyBar).where(DailyBar.source == "later")).scalars().all()
        held_back = [
            {c: getattr(bar, c) for c in ("instrument_id", "date", "close", "adj_close", "volume")}
            for bar in later
        ]
        for bar in later:
            session.delete(bar)
    selloff = add_event(database, "selloff", datetime(2025, 1, 27, 8, tzinfo=UTC), ("NVDA",))
    future = add_event(database, "future", datetime(2026, 3, 2, 15, tzinfo=UTC), ("NVDA",))
    first = compute_impacts(database, settings, now=FIRST)
    rows = firm_rows(database, selloff)
    day0_car = rows[("NVDA", 0, 0)].car
    assert rows[("NVDA", 0, 0)].status == "ok"
    assert rows[("NVDA", 0, 1)].status == "pending"
    assert rows[("NVDA", 0, 1)].car is None
    assert {r.status for r in firm_rows(database, future).values()} == {"pending"}
    assert first.pending == len(firm_rows(database, future)) + 4  # all windows but [0,0]
    with database.session() as session:
        for values in held_back:
            session.add(DailyBar(**values, source="recorded"))
    second = compute_impacts(database, settings, now=LATER)
    rows = firm_rows(database, selloff)
    # the pair is the unit of recomputation: its [0,0] row is rewritten with the same numbers
    assert rows[("NVDA", 0, 0)].computed_at == LATER
    assert rows[("NVDA", 0, 0)].car == day0_car
    assert rows[("NVDA", 0, 1)].status == "ok"
    assert rows[("NVDA", 0, 1)].computed_at == LATER
    assert {r.status for r in firm_rows(database, future).values()} == {"pending"}
    assert second.pending == len(firm_rows(database, future))


def test_short_histories_and_missing_benchmarks_get_a_status_per_ticker(
    priced_database: Database, settings: Settings, january: Events
) -> None:
    strict = replace(default_parameters(settings), min_estimation_returns=200)
    report = compute_impacts(priced_database, settings, event_ids=[january.selloff], params=strict)
    rows = firm_rows(priced_database, january.selloff)
    assert rows[("GEV", 0, 0)].status == "insufficient_data"  # listed 2024-03-27: 197 returns
    assert rows[("GEV", 0, 0)].car is None
    assert rows[("GEV", 0, 0)].raw_return == pytest.approx(-0.2152, abs=1e-4)
    assert rows[("TLN", 0, 0)].status == "ok"
    assert report.insufficient == len(strict.event_windows)
    power = group_rows(priced_database, january.selloff)[("ai_power", 0, 0)]
    assert power.n == len(POWER) - 1
    assert power.statistics["excluded"] == {"insufficient_data": 1}

    # a benchmark with no bars at all is a setting's mistake, refused before anything is
    # written (the per-pair missing_benchmark status is the next test's)
    no_benchmark = replace(default_parameters(settings), benchmark="XLU")  # no XLU bars stored
    with pytest.raises(ConfigError, match="XLU"):
        compute_impacts(priced_database, settings, event_ids=[january.r1], params=no_benchmark)


def test_benchmark_with_a_shorter_history_than_the_firm(
    database: Database, settings: Settings, data_dir: Path
) -> None:
    with database.session() as session:
        load_recorded_prices(session, data_dir, ("XLU", "NVDA", "VST"))  # XLU from 2023-07-03
    event = add_event(database, "dec-2023", datetime(2023, 12, 1, 15, tzinfo=UTC), ("NVDA", "VST"))
    params = replace(default_parameters(settings), benchmark="XLU")
    compute_impacts(database, settings, params=params)
    rows = firm_rows(database, event)
    assert rows[("NVDA", 0, 0)].status == "missing_benchmark"
    assert rows[("VST", 0, 0)].status == "insufficient_data"  # listed here from 2023-09-11


def test_a_failing_event_is_recorded_and_the_others_go_on(
    priced_database: Database, settings: Settings, january: Events
) -> None:
    broken = add_event(priced_database, "too-far", datetime(2031, 6, 1, tzinfo=UTC), ("NVDA",))
    report = compute_impacts(priced_database, settings)
    assert [o.event_id for o in report.failed] == [broken]
    assert "day 0" in (report.failed[0].error or "")
    assert firm_rows(priced_database, january.selloff)
    assert not firm_rows(priced_database, broken)


def test_unlinked_tickers_lose_their_rows(
    priced_database: Database, settings: Settings, january: Events
) -> None:
    compute_impacts(priced_database, settings, now=FIRST)
    from tracker.db.models import EventTicker

    with priced_database.session() as session:
        avgo = session.scalars(select(Instrument.id).where(Instrument.ticker == "AVGO")).one()
        session.delete(session.get(EventTicker, (january.rebound, avgo)))
    report = compute_impacts(priced_database, settings, now=LATER)
    assert {t for t, _, _ in firm_rows(priced_database, january.rebound)} == {"NVDA"}
    assert report.computed == 0
    assert np.isfinite(firm_rows(priced_database, january.rebound)[("NVDA", 0, 0)].car)


def test_a_benchmark_without_prices_is_refused_and_nothing_is_rewritten(
    priced_database: Database, settings: Settings, january: Events
) -> None:
    from sqlalchemy import func, select

    from tracker.config import load_settings
    from tracker.db.models import FirmImpact

    compute_impacts(priced_database, settings)
    with priced_database.session() as session:
        ok_before = session.scalar(
            select(func.count()).select_from(FirmImpact).where(FirmImpact.status == "ok")
        )
    typo = load_settings(database_url=settings.database_url, benchmark="ZZZ")
    with pytest.raises(ConfigError, match="TRACKER_BENCHMARK"):
        compute_impacts(priced_database, typo)
    with priced_database.session() as session:
        ok_after = session.scalar(
            select(func.count()).select_from(FirmImpact).where(FirmImpact.status == "ok")
        )
    assert ok_before
    assert ok_after == ok_before


def test_an_event_merged_into_another_is_not_measured_and_loses_its_rows(
    priced_database: Database, settings: Settings, january: Events
) -> None:
    compute_impacts(priced_database, settings, now=FIRST)
    assert firm_rows(priced_database, january.rebound)
    with priced_database.session() as session:
        session.execute(
            update(Event).where(Event.id == january.rebound).values(parent_id=january.selloff)
        )
    report = compute_impacts(priced_database, settings, now=LATER)
    outcome = next(o for o in report.events if o.event_id == january.rebound)
    assert outcome.merged_into == january.selloff
    assert outcome.removed > 0
    assert outcome.computed == 0
    assert f"merged into event {january.selloff}" in outcome.line
    assert report.summary()["merged"] == 1
    assert not firm_rows(priced_database, january.rebound)
    assert not group_rows(priced_database, january.rebound)
    assert firm_rows(priced_database, january.selloff)
    # split again: measured again on the next run
    with priced_database.session() as session:
        session.execute(update(Event).where(Event.id == january.rebound).values(parent_id=None))
    again = compute_impacts(priced_database, settings, now=LATER)
    assert next(o for o in again.events if o.event_id == january.rebound).computed > 0
    assert firm_rows(priced_database, january.rebound)
