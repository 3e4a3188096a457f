"""Clean estimation windows: excluded days leave the estimation sample, as in the reference.

The reference drops the excluded dates from each pair's estimation sample by hand
(``reference_pair(excluded=...)``); the engine gets them as a sessions x tickers mask.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from tracker.impact.significance import group_statistics_many
from tracker.impact.study import EventRequest, StudyParameters, run_event_study, window_label

from .conftest import POWER, SEMIS
from .reference import reference_group, reference_pair

RTOL = 1e-9
EVENTS = (("r1", date(2025, 1, 20)), ("selloff", date(2025, 1, 27)))
TICKERS = SEMIS[:5] + POWER[:5]
GROUP_KEYS = ("caar", "patell_z", "bmp_t", "mean_corr", "kp_t", "cda_t", "corrado_z", "gsign_z")


def _mask(returns: pd.DataFrame, seed: int) -> pd.DataFrame:
    """About one session in eight excluded per ticker, plus a shared run of days (macro)."""
    rng = np.random.default_rng(seed)
    mask = pd.DataFrame(
        rng.uniform(size=returns.shape) < 0.125, index=returns.index, columns=returns.columns
    )
    mask.iloc[400:410] = True
    return mask


def _excluded_dates(mask: pd.DataFrame, ticker: str) -> set[pd.Timestamp]:
    return set(mask.index[mask[ticker].to_numpy()]) if ticker in mask.columns else set()


@pytest.mark.parametrize(
    ("model", "factors"),
    [("market", ()), ("market_adjusted", ()), ("constant_mean", ()), ("factor", ("SMH",))],
)
def test_engine_matches_reference_with_excluded_days(market, model, factors):
    params = StudyParameters(model=model, factors=factors)
    mask = _mask(market.returns, 7)
    requests = [EventRequest(k, t, d) for k, d in EVENTS for t in TICKERS]
    result = run_event_study(market.returns, requests, params, estimation_excluded=mask)
    plain = run_event_study(market.returns, requests, params)
    frame = result.firm_frame().set_index(["event_key", "ticker", "window"])
    refs = {}
    for req in requests:
        ref = reference_pair(
            market.returns, req, params, excluded=_excluded_dates(mask, req.ticker)
        )
        refs[(req.event_key, req.ticker)] = ref
        for window in params.event_windows:
            got = frame.loc[(req.event_key, req.ticker, window_label(window))]
            assert got["status"] == ref.status[window]
            assert got["n_est"] == ref.n_est  # type: ignore[attr-defined]
            for col in ("car", "car_se", "car_p"):
                np.testing.assert_allclose(got[col], ref.row[window][col], rtol=RTOL, atol=1e-15)
    # the mask changed the sample: fewer estimation returns than without it
    assert (result.fit.n_est < plain.fit.n_est).all()
    groups = {"semis": [("selloff", t) for t in SEMIS[:5]], "power": [("r1", t) for t in POWER[:5]]}
    for window in params.event_windows:
        got_groups = {g.basket: g for g in group_statistics_many(result, groups, window)}
        for name, members in groups.items():
            want = reference_group([refs[m] for m in members], window)
            for key in GROUP_KEYS:
                np.testing.assert_allclose(
                    getattr(got_groups[name], key), want[key], rtol=RTOL, atol=1e-14,
                    err_msg=f"{name} {window} {key}",
                )  # fmt: skip


def test_event_window_returns_and_benchmark_are_never_excluded(market):
    params = StudyParameters()
    mask = pd.DataFrame(True, index=market.returns.index, columns=market.returns.columns)
    day0 = market.returns.index.get_loc(pd.Timestamp("2025-01-27"))
    mask.iloc[: day0 - 10] = False  # True from relative day -10 on
    requests = [EventRequest("selloff", "NVDA", date(2025, 1, 27))]
    masked = run_event_study(market.returns, requests, params, estimation_excluded=mask)
    plain = run_event_study(market.returns, requests, params)
    # the estimation window [-250,-11] is untouched while every event-window day is masked
    for window in params.event_windows:
        np.testing.assert_array_equal(masked.windows[window].car, plain.windows[window].car)
    assert math.isfinite(float(masked.windows[(0, 0)].car[0]))


def test_too_many_excluded_days_is_insufficient_data(market):
    mask = pd.DataFrame(False, index=market.returns.index, columns=market.returns.columns)
    mask.loc[: pd.Timestamp("2024-12-31"), "NVDA"] = True
    result = run_event_study(
        market.returns,
        [EventRequest("selloff", "NVDA", date(2025, 1, 27))],
        StudyParameters(),
        estimation_excluded=mask,
    )
    assert result.windows[(0, 0)].status[0] == "insufficient_data"
