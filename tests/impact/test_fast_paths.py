"""The fast paths (window sums, batched groups, sorted-once ranks) against the general ones.

Synthetic returns with gaps (clearly synthetic, fixed seeds): every fast path must give the
general path's numbers to 1e-12 relative, including pairs it hands back to the general path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tracker.impact.models import ModelName, fit
from tracker.impact.significance import (
    _correlation_terms,
    _row_searchsorted,
    group_statistics_many,
    mean_offdiagonal_correlation,
    row_ranks,
)
from tracker.impact.study import (
    EventRequest,
    StudyParameters,
    _abnormal_volume_rows,
    _Gatherer,
    run_event_study,
)

TIGHT = 1e-12


def _returns(seed: int = 7, n_days: int = 700, n_firms: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2019-01-01", periods=n_days)
    market = rng.normal(0.0004, 0.011, n_days)
    data = market[:, None] * rng.uniform(0.3, 2.0, n_firms) + rng.normal(0, 0.02, (n_days, n_firms))
    data[rng.random(data.shape) < 0.03] = np.nan  # scattered gaps
    data[:350, 0] = np.nan  # a young listing
    frame = pd.DataFrame(data, index, [f"F{i}" for i in range(n_firms)])
    frame["SPY"] = market
    frame.iloc[100:400:9, frame.columns.get_loc("SPY")] = np.nan  # benchmark gaps
    frame["TWIN"] = frame["SPY"]  # near-perfect fit -> handed to the general path
    frame["FLAT"] = 0.0  # zero variance -> general path
    frame["NEAR"] = frame["SPY"] * 1.5 + 1e-7 * rng.normal(size=n_days)
    return frame


def _requests(frame: pd.DataFrame) -> list[EventRequest]:
    days = frame.index[[300, 420, 421, 560, 690]]
    return [EventRequest(f"e{k}", t, d.date()) for k, d in enumerate(days) for t in frame.columns]


def test_market_fit_from_window_sums_equals_the_general_fit():
    frame = _returns()
    requests = _requests(frame)
    params = StudyParameters()
    result = run_event_study(frame, requests, params)
    # the general path, on the same gathered rows
    data = frame.to_numpy()
    columns = {c: i for i, c in enumerate(frame.columns)}
    col = np.array([columns[r.ticker] for r in requests])
    grid = _Gatherer(data, result.position, -251, 5)
    y = grid.take(col, result.est_offsets)
    z = grid.take(np.full((len(col), 1), columns["SPY"]), result.est_offsets)
    want = fit(ModelName.MARKET, y, z, 2)
    got = result.fit
    np.testing.assert_array_equal(got.n_est, want.n_est)
    np.testing.assert_array_equal(got.degenerate, want.degenerate)
    ok = ~want.degenerate
    assert ok.sum() > 40  # real fits were compared
    # alpha is a difference (ybar - beta xbar): near zero only absolute precision is defined
    for name, atol in (("alpha", 1e-16), ("slopes", 0), ("zbar", 0), ("szz_inv", 0), ("sigma2", 0)):
        np.testing.assert_allclose(
            getattr(got, name)[ok], getattr(want, name)[ok], rtol=TIGHT, atol=atol, err_msg=name
        )
    np.testing.assert_allclose(got.residuals[ok], want.residuals[ok], rtol=1e-9, atol=1e-16)
    np.testing.assert_array_equal(np.isnan(got.residuals), np.isnan(want.residuals))
    status = dict(
        zip(zip(result.event_keys, result.tickers, strict=True), result.pair_status, strict=True)
    )
    assert status[("e1", "FLAT")] == "zero_variance"
    assert status[("e1", "TWIN")] == "zero_variance"  # its own benchmark: residuals ~0


@pytest.mark.parametrize("model", ["market", "market_adjusted", "constant_mean"])
def test_abnormal_volume_from_sums_equals_two_pass(model):
    frame = _returns(seed=11)
    rng = np.random.default_rng(3)
    volumes = pd.DataFrame(rng.lognormal(14, 0.6, frame.shape), frame.index, frame.columns)
    volumes.iloc[:, 1] *= np.linspace(1, 200, len(frame))  # trending: far from its mean level
    volumes.iloc[:, 2] = 5e6  # constant: zero variance
    volumes[volumes < np.exp(13)] = 0.0  # zero volume counts as missing
    requests = _requests(frame)
    result = run_event_study(frame, requests, StudyParameters(model=model), volumes=volumes)
    columns = {c: i for i, c in enumerate(volumes.columns)}
    col = np.array([columns[r.ticker] for r in requests])
    grid = _Gatherer(volumes.to_numpy(float), result.position, -251, 5)
    est = grid.take(col, result.est_offsets)
    day0 = grid.take(col, np.array([0]))[:, 0]
    want = _abnormal_volume_rows(est, day0, 120)
    np.testing.assert_allclose(result.abnormal_volume, want, rtol=TIGHT, atol=1e-13)
    assert np.isfinite(want).sum() > 30


def test_batched_correlation_equals_one_basket_at_a_time():
    rng = np.random.default_rng(5)
    resid = rng.normal(size=(6, 9, 80))
    resid[rng.random(resid.shape) < 0.05] = np.nan
    resid[1, :, :40] = np.nan  # half the dates missing for every member
    resid[2, 3, :78] = np.nan  # a member sharing < 3 dates with the others
    resid[3] = np.nan  # nothing at all
    positions = np.broadcast_to(np.arange(80), (9, 80))
    got = _correlation_terms(resid)
    want = [mean_offdiagonal_correlation(r, positions) for r in resid]
    np.testing.assert_allclose(got, want, rtol=TIGHT, equal_nan=True)


def _corrado_by_sorting(result, members, window):
    """The pre-optimisation Corrado: rank estimation + window ARs together, per group."""
    out = []
    w = result.windows[window]
    for idx in members.values():
        used = idx[np.isin(w.status[idx], ["ok", "gap_in_window"])]
        resid = result.fit.residuals[used]
        win = result.window_ar(window)[used]
        combined = np.concatenate([resid, win], axis=1)
        ranks = row_ranks(combined)
        total = np.isfinite(combined).sum(axis=1)
        u = ranks / (total[:, None] + 1.0) - 0.5
        if not len(used):
            out.append(np.nan)
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            kbar = np.nansum(u, axis=0) / np.isfinite(u).sum(axis=0)
            s = np.sqrt(np.nanmean(kbar**2))
            k_win = kbar[resid.shape[1] :]
            out.append(np.nansum(k_win) / (np.sqrt(np.isfinite(k_win).sum()) * s))
    return np.array(out)


@pytest.mark.parametrize("model", ["market", "market_adjusted", "constant_mean", "factor"])
def test_corrado_and_groups_with_ties_overlaps_and_gaps(model):
    frame = _returns(seed=13)
    # ties: rounded returns give equal ARs within a firm (market_adjusted, constant_mean)
    frame.iloc[:, 3] = frame.iloc[:, 3].round(3)
    frame["SMH"] = frame["F4"] * 0.5 + frame["SPY"] * 0.5
    requests = _requests(frame)
    params = StudyParameters(model=model, factors=("SMH",) if model == "factor" else ())
    result = run_event_study(frame, requests, params)
    n = len(frame.columns)
    members = {
        "first": np.arange(0, n),
        "second": np.arange(n, 2 * n),
        "mixed_dates": np.array([0, 1, n + 2, 2 * n + 3, 3 * n + 4, 4 * n + 5]),
        "overlap": np.arange(n // 2, n + n // 2),  # pairs also in first and second
        "single": np.array([1]),
        "empty": np.array([], dtype=np.int64),
    }
    for window in params.event_windows:
        got = group_statistics_many(result, members, window)
        want = _corrado_by_sorting(result, members, window)
        np.testing.assert_allclose(
            [g.corrado_z for g in got], want, rtol=TIGHT, equal_nan=True, err_msg=str(window)
        )
        # same numbers whichever groups are computed together
        for g in got:
            alone = group_statistics_many(result, {g.basket: members[g.basket]}, window)[0]
            for key in ("corrado_z", "mean_corr", "cda_t", "gsign_z", "kp_t", "patell_z"):
                np.testing.assert_allclose(
                    getattr(alone, key), getattr(g, key), rtol=TIGHT, equal_nan=True
                )


@pytest.mark.parametrize("width", [1, 2, 5, 240, 255, 256, 257])
def test_row_searchsorted_matches_numpy_per_row(width):
    rng = np.random.default_rng(width)
    ordered = np.sort(rng.integers(0, 20, (50, width)).astype(float), axis=1)
    ordered[:5, -2:] = np.inf  # missing values sort last as +inf
    values = rng.integers(-1, 22, (50, 11)).astype(float)  # ties with the rows included
    for right, side in ((False, "left"), (True, "right")):
        want = [np.searchsorted(ordered[i], values[i], side) for i in range(50)]
        np.testing.assert_array_equal(_row_searchsorted(ordered, values, right), want)


def test_single_threaded_blas_restores_the_setting_after_nested_and_threaded_use():
    import threading

    from tracker.impact import blas

    controls = blas._openblas_controls()
    if not controls:
        pytest.skip("no OpenBLAS loaded by numpy on this platform")
    get = controls[0][0]
    before = get()
    barrier = threading.Barrier(2)
    inside = []

    def work() -> None:
        with blas.single_threaded_blas():
            barrier.wait()  # both threads inside at once
            inside.append(get())
            barrier.wait()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with blas.single_threaded_blas(), blas.single_threaded_blas():
        inside.append(get())
    assert inside == [1, 1, 1]
    assert get() == before
