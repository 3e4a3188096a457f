"""Group statistics against the reference loop, plus the building blocks on their own."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tracker.impact.significance import (
    group_statistics,
    group_statistics_many,
    mean_offdiagonal_correlation,
    row_ranks,
)
from tracker.impact.study import EventRequest, StudyParameters, run_event_study

from .conftest import POWER, SEMIS
from .reference import reference_group, reference_pair, reference_robust
from .test_study import _synthetic

RTOL = 1e-9
GROUP_KEYS = (
    "n", "caar", "patell_z", "bmp_t", "mean_corr", "patell_kp_z", "kp_t", "effective_n",
    "cda_t", "corrado_z", "gsign_z",
)  # fmt: skip


def _check(result, refs, groups, window):
    got = {g.basket: g for g in group_statistics_many(result, groups, window)}
    for name, members in groups.items():
        want = reference_group([refs[m] for m in members], window)
        for key in GROUP_KEYS:
            if key in want:
                np.testing.assert_allclose(
                    getattr(got[name], key), want[key], rtol=RTOL, atol=1e-14,
                    err_msg=f"{name} {window} {key}",
                )  # fmt: skip
        if want["n"]:
            np.testing.assert_allclose(
                list(got[name].aar.values()), want["aar"], rtol=RTOL, atol=1e-15
            )
    return got


@pytest.mark.parametrize(
    ("model", "factors"),
    [("market", ()), ("market_adjusted", ()), ("constant_mean", ()), ("factor", ("SMH",))],
)
def test_groups_match_reference_on_recorded_data(market, model, factors):
    params = StudyParameters(model=model, factors=factors)
    events = (("r1", date(2025, 1, 20)), ("selloff", date(2025, 1, 27)))
    events += (("rebound", date(2025, 1, 28)),)
    requests = [EventRequest(k, t, d) for k, d in events for t in SEMIS + POWER]
    requests.append(EventRequest("gev_early", "GEV", date(2024, 8, 5)))
    result = run_event_study(market.returns, requests, params)
    refs = {(r.event_key, r.ticker): reference_pair(market.returns, r, params) for r in requests}
    groups = {
        "semis_selloff": [("selloff", t) for t in SEMIS],
        "power_selloff": [("selloff", t) for t in POWER] + [("gev_early", "GEV")],
        "semis_all_events": [(k, t) for k, _ in events for t in SEMIS],  # mixed dates
        "nvda_twice": [("selloff", "NVDA"), ("rebound", "NVDA")],
    }
    for window in params.event_windows:
        got = _check(result, refs, groups, window)
    assert got["power_selloff"].excluded == {"insufficient_data": 1}
    assert got["power_selloff"].n == len(POWER)


def test_groups_match_reference_with_gaps():
    returns = _synthetic()
    requests = [EventRequest("e", f"F{i}", returns.index[300].date()) for i in range(6)]
    requests += [EventRequest("e2", f"F{i}", returns.index[310].date()) for i in range(6)]
    params = StudyParameters()
    result = run_event_study(returns, requests, params)
    refs = {(r.event_key, r.ticker): reference_pair(returns, r, params) for r in requests}
    groups = {
        "same_day": [("e", f"F{i}") for i in range(6)],
        "two_days": [(k, f"F{i}") for k in ("e", "e2") for i in range(6)],
    }
    for window in params.event_windows:
        _check(result, refs, groups, window)


def test_selloff_baskets_are_significant(market):
    requests = [EventRequest("selloff", t, date(2025, 1, 27)) for t in SEMIS + POWER]
    result = run_event_study(market.returns, requests)
    power = group_statistics(result, [("selloff", t) for t in POWER], (0, 0), "power")
    assert power.caar < -0.1
    assert power.patell_z < -5
    assert abs(power.patell_kp_z) < abs(power.patell_z)  # correlation shrinks the statistic
    assert 0 < power.mean_corr < 1
    assert 1 < power.effective_n < power.n
    assert power.bmp_p < 0.01


def test_empty_and_single_member_groups(market):
    requests = [EventRequest("selloff", "NVDA", date(2025, 1, 27))]
    result = run_event_study(market.returns, requests)
    empty, single = group_statistics_many(
        result, {"empty": [], "single": [("selloff", "NVDA")]}, (0, 0)
    )
    assert empty.n == 0
    assert math.isnan(empty.caar)
    assert single.n == 1
    assert single.caar == pytest.approx(result.windows[(0, 0)].car[0])
    assert math.isnan(single.bmp_t)
    assert math.isnan(single.mean_corr)
    with pytest.raises(KeyError):
        group_statistics(result, [("selloff", "AMD")], (0, 0))
    with pytest.raises(KeyError):
        group_statistics(result, [("selloff", "NVDA")], (0, 3))


def test_row_ranks_match_scipy_with_ties_and_nans():
    rng = np.random.default_rng(3)
    values = rng.integers(0, 6, (50, 30)).astype(float)  # many ties
    values[rng.random(values.shape) < 0.2] = np.nan
    got = row_ranks(values)
    for row_got, row in zip(got, values, strict=True):
        keep = np.isfinite(row)
        np.testing.assert_array_equal(row_got[keep], stats.rankdata(row[keep]))
        assert np.isnan(row_got[~keep]).all()


def test_correlation_is_aligned_by_calendar_date():
    rng = np.random.default_rng(5)
    common = rng.normal(size=300)
    series = pd.DataFrame(
        {i: common + rng.normal(size=300) for i in range(4)}, index=range(300)
    ).where(rng.random((300, 4)) > 0.1)
    # pair i sees calendar rows start_i .. start_i + 199
    starts = np.array([0, 30, 60, 100])
    residuals = np.array([series[i].to_numpy()[s : s + 200] for i, s in enumerate(starts)])
    positions = starts[:, None] + np.arange(200)[None, :]
    want_frame = pd.DataFrame({i: pd.Series(residuals[i], index=positions[i]) for i in range(4)})
    want = want_frame.corr(min_periods=3).to_numpy()[~np.eye(4, dtype=bool)].mean()
    assert mean_offdiagonal_correlation(residuals, positions) == pytest.approx(want, rel=1e-12)
    shifted = mean_offdiagonal_correlation(residuals, np.broadcast_to(positions[0], (4, 200)))
    assert shifted != pytest.approx(want, rel=1e-3)  # misaligned dates give another answer


ROBUST_KEYS = (
    "grank_z", "grank_t", "grank_p", "skew_t", "skew_p", "bhar_mean", "bhar_skew_t",
    "bhar_skew_p", "perm_p", "boot_p", "mde",
)  # fmt: skip


@pytest.mark.parametrize(("model", "factors"), [("market", ()), ("factor", ("SMH",))])
def test_robust_statistics_match_reference_on_recorded_data(market, model, factors):
    params = StudyParameters(model=model, factors=factors, resampling_draws=400)
    events = (("r1", date(2025, 1, 20)), ("selloff", date(2025, 1, 27)))
    requests = [EventRequest(k, t, d) for k, d in events for t in SEMIS + POWER]
    result = run_event_study(market.returns, requests, params)
    refs = {(r.event_key, r.ticker): reference_pair(market.returns, r, params) for r in requests}
    groups = {
        "semis_selloff": [("selloff", t) for t in SEMIS],
        "power_selloff": [("selloff", t) for t in POWER],
        "all_r1": [("r1", t) for t in SEMIS + POWER],
        "mixed_dates": [(k, t) for k, _ in events for t in SEMIS],
    }
    checked = 0
    for window in params.event_windows:
        got = {g.basket: g for g in group_statistics_many(result, groups, window)}
        for name, members in groups.items():
            want = reference_robust([refs[m] for m in members], window, params)
            for key in ROBUST_KEYS:
                np.testing.assert_allclose(
                    getattr(got[name], key), want[key], rtol=RTOL, atol=1e-14,
                    err_msg=f"{model} {name} {window} {key}",
                )  # fmt: skip
                checked += math.isfinite(getattr(got[name], key))
    assert checked == len(params.event_windows) * len(groups) * len(ROBUST_KEYS)


def test_firm_bhar_and_mde_match_reference(market):
    params = StudyParameters()
    requests = [EventRequest("selloff", t, date(2025, 1, 27)) for t in SEMIS + POWER]
    result = run_event_study(market.returns, requests, params)
    for i, request in enumerate(requests):
        ref = reference_pair(market.returns, request, params)
        for window, arrays in result.windows.items():
            for key in ("bhar", "bhar_t", "mde"):
                np.testing.assert_allclose(
                    getattr(arrays, key)[i], ref.row[window][key], rtol=RTOL, atol=1e-15,
                    err_msg=f"{request.ticker} {window} {key}",
                )  # fmt: skip


def test_selloff_power_basket_is_significant_by_the_robust_tests(market):
    requests = [EventRequest("selloff", t, date(2025, 1, 27)) for t in POWER]
    result = run_event_study(market.returns, requests)
    power = group_statistics(result, [("selloff", t) for t in POWER], (0, 0), "power")
    assert power.grank_p < 0.05
    assert power.perm_p < 0.05  # no estimation day of the basket fell as far
    assert power.bhar_mean < -0.1
    assert 0 < power.mde < abs(power.caar)  # the move was far above what could be detected


def test_resampling_p_values_are_reproducible_and_independent_of_other_baskets(market):
    requests = [EventRequest("selloff", t, date(2025, 1, 27)) for t in SEMIS + POWER]
    result = run_event_study(market.returns, requests)
    semis = [("selloff", t) for t in SEMIS]
    alone = group_statistics(result, semis, (-1, 1), "semis")
    together = group_statistics_many(
        result, {"power": [("selloff", t) for t in POWER], "semis": semis}, (-1, 1)
    )[1]
    assert (alone.perm_p, alone.boot_p) == (together.perm_p, together.boot_p)
    other_seed = run_event_study(
        market.returns, requests, StudyParameters(resampling_seed=7, resampling_draws=999)
    )
    moved = group_statistics(other_seed, semis, (-1, 1), "semis")
    assert moved.boot_p != alone.boot_p or moved.perm_p != alone.perm_p
    off = run_event_study(market.returns, requests, StudyParameters(resampling_draws=0))
    disabled = group_statistics(off, semis, (-1, 1), "semis")
    assert math.isnan(disabled.perm_p)
    assert math.isnan(disabled.boot_p)
    assert disabled.grank_z == alone.grank_z
