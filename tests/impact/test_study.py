"""Firm-level engine against the slow reference, on the recorded data and on synthetic gaps."""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from tracker.impact.study import (
    EventRequest,
    StudyParameters,
    fingerprint_inputs,
    run_event_study,
    window_label,
)

from .conftest import POWER, SEMIS, Market
from .reference import reference_pair

RTOL = 1e-9
ATOL = 1e-15
DEEPSEEK = (
    ("r1", date(2025, 1, 20)),  # a holiday: day 0 is the next session, 2025-01-21
    ("selloff", date(2025, 1, 27)),
    ("rebound", date(2025, 1, 28)),
)
EDGE = (
    ("gev_early", date(2024, 8, 5), "GEV"),  # listed 2024-03-27: ~85 estimation returns
    ("tln_early", date(2023, 10, 2), "TLN"),  # file starts 2023-06-02
    ("late", date(2025, 12, 29), "NVDA"),  # [0,+5] runs past the data: pending
    ("future", date(2026, 3, 2), "NVDA"),  # after the data entirely
    ("vst_after_file", date(2025, 10, 1), "VST"),  # VST's file stops 2025-09-08
    ("smh_young", date(2023, 12, 15), "NVDA"),  # SMH starts 2023-07-03
)
FIRM_NUMBERS = ("car", "car_se", "car_t", "car_p", "raw_return", "value_change", "abnormal_volume")


def _requests(tickers: tuple[str, ...]) -> list[EventRequest]:
    reqs = [EventRequest(k, t, d) for k, d in DEEPSEEK for t in tickers]
    reqs += [EventRequest(k, t, d) for k, d, t in EDGE]
    return reqs


def _compare(
    market: Market,
    requests: list[EventRequest],
    params: StudyParameters,
    returns: pd.DataFrame | None = None,
) -> pd.DataFrame:
    returns = market.returns if returns is None else returns
    shares = {t: 1e9 + i for i, t in enumerate(sorted({r.ticker for r in requests}))}
    result = run_event_study(
        returns, requests, params, market.volumes, shares, market.closes.reindex(returns.index)
    )
    frame = result.firm_frame().set_index(["event_key", "ticker", "window"])
    for req in requests:
        ref = reference_pair(
            returns, req, params, market.volumes, shares, market.closes.reindex(returns.index)
        )
        fit = getattr(ref, "row_fit", None)
        for window in params.event_windows:
            got = frame.loc[(req.event_key, req.ticker, window_label(window))]
            where = f"{req.event_key}/{req.ticker}/{window}"
            assert got["status"] == ref.status[window], where
            assert got["n_est"] == ref.n_est, where  # type: ignore[attr-defined]
            for col in FIRM_NUMBERS:
                np.testing.assert_allclose(
                    got[col], ref.row[window][col], rtol=RTOL, atol=ATOL, err_msg=f"{where} {col}"
                )
            for col in ("alpha", "beta", "sigma"):
                want = math.nan if fit is None else fit[col]
                np.testing.assert_allclose(got[col], want, rtol=RTOL, atol=ATOL, err_msg=col)
        path = result.ar_path(req.event_key, req.ticker)
        np.testing.assert_allclose(
            path.to_numpy(), [ref.ar[d] for d in path.index], rtol=RTOL, atol=ATOL
        )
    return result.firm_frame()


@pytest.mark.parametrize(
    ("model", "factors", "tickers"),
    [
        ("market", (), SEMIS + POWER),
        ("market_adjusted", (), SEMIS + POWER),
        ("constant_mean", (), SEMIS + POWER),
        ("factor", ("SMH",), SEMIS),
        ("factor", ("XLU",), POWER),
        ("factor", ("SMH", "XLU"), SEMIS[:3] + POWER[:3]),
    ],
)
def test_engine_matches_reference_on_recorded_data(market, model, factors, tickers):
    params = StudyParameters(model=model, factors=factors)
    frame = _compare(market, _requests(tickers), params)
    assert (frame["status"] == "ok").sum() >= 3 * len(tickers) * 4  # real numbers were compared


def test_statuses_on_recorded_edge_cases(market):
    params = StudyParameters(model="factor", factors=("SMH",))
    result = run_event_study(market.returns, _requests(("NVDA",)), params)
    frame = result.firm_frame().set_index(["event_key", "ticker", "window"]).sort_index()
    assert frame.loc[("gev_early", "GEV", "[0,0]"), "status"] == "insufficient_data"
    assert frame.loc[("tln_early", "TLN", "[0,0]"), "status"] == "insufficient_data"
    assert frame.loc[("late", "NVDA", "[0,0]"), "status"] == "ok"
    assert frame.loc[("late", "NVDA", "[0,+5]"), "status"] == "pending"
    assert (frame.loc[("future", "NVDA")]["status"] == "pending").all()
    assert frame.loc[("vst_after_file", "VST", "[0,0]"), "status"] == "no_event_day_price"
    assert frame.loc[("smh_young", "NVDA", "[0,0]"), "status"] == "missing_benchmark"
    assert (frame.loc[("selloff", "NVDA")]["status"] == "ok").all()
    assert np.isnan(frame.loc[("gev_early", "GEV", "[0,0]"), "car"])
    # model-free numbers stay available for a firm too young for a model
    assert frame.loc[("gev_early", "GEV", "[0,0]"), "raw_return"] == pytest.approx(
        market.returns.loc["2024-08-05", "GEV"], rel=1e-12
    )


def test_known_facts_selloff(market):
    result = run_event_study(
        market.returns,
        [EventRequest("r1", "NVDA", date(2025, 1, 20))]
        + [EventRequest("selloff", t, date(2025, 1, 27)) for t in ("NVDA", "VST", "NEE")],
    )
    frame = result.firm_frame().set_index(["event_key", "ticker", "window"])
    assert frame.loc[("r1", "NVDA", "[0,0]"), "day0_session"] == pd.Timestamp("2025-01-21")
    for ticker in ("NVDA", "VST"):
        row = frame.loc[("selloff", ticker, "[0,0]")]
        assert row["car"] < -0.10
        assert row["car_t"] < -4
        assert row["car_p"] < 1e-4
    assert frame.loc[("selloff", "NVDA", "[0,0]"), "raw_return"] == pytest.approx(
        118.41999816894531 / 142.6199951171875 - 1, rel=1e-4
    )
    assert frame.loc[("selloff", "NEE", "[0,0]"), "car_p"] > 0.05


def _synthetic(n_days: int = 400, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2022-01-03", periods=n_days)
    mkt = rng.normal(0.0004, 0.01, n_days)
    fac = rng.normal(0.0, 0.012, n_days)
    data = {"SPY": mkt, "SMH": fac}
    for i in range(6):
        data[f"F{i}"] = 0.0002 * i + (0.8 + 0.2 * i) * mkt + 0.3 * fac + rng.normal(0, 0.02, n_days)
    frame = pd.DataFrame(data, index=index)
    # gaps inside the estimation window and the event windows (day0 = row 300)
    frame.iloc[100:140, frame.columns.get_loc("F1")] = np.nan
    frame.iloc[[297, 302], frame.columns.get_loc("F2")] = np.nan
    frame.iloc[300, frame.columns.get_loc("F3")] = np.nan  # no day-0 price
    frame.iloc[150:300:7, frame.columns.get_loc("SPY")] = np.nan  # benchmark gaps
    frame.iloc[301, frame.columns.get_loc("SPY")] = np.nan
    frame["FLAT"] = 0.0  # zero variance
    frame.iloc[:200, frame.columns.get_loc("F5")] = np.nan  # too little history
    return frame


@pytest.mark.parametrize("model", ["market", "market_adjusted", "constant_mean", "factor"])
def test_engine_matches_reference_with_gaps(model):
    returns = _synthetic()
    day0 = returns.index[300].date()
    tickers = ["F0", "F1", "F2", "F3", "F4", "F5", "FLAT", "NOPE"]
    requests = [EventRequest("e", t, day0) for t in tickers]
    requests.append(EventRequest("e2", "F0", returns.index[320].date()))
    params = StudyParameters(model=model, factors=("SMH",) if model == "factor" else ())
    volumes = pd.DataFrame(
        np.random.default_rng(1).integers(0, 10**6, returns.shape), returns.index, returns.columns
    )
    market = Market(returns, (1 + returns.fillna(0)).cumprod() * 50, volumes)
    frame = _compare(market, requests, params, returns)
    statuses = frame.set_index(["event_key", "ticker", "window"])["status"]
    assert statuses[("e", "F3", "[0,0]")] == "no_event_day_price"
    assert statuses[("e", "F3", "[0,+5]")] == "no_event_day_price"
    assert statuses[("e", "F2", "[-5,+5]")] == "gap_in_window"
    assert statuses[("e", "F2", "[0,0]")] == "ok"
    assert statuses[("e", "F5", "[0,0]")] == "insufficient_data"
    assert statuses[("e", "NOPE", "[0,0]")] == "unknown_ticker"
    if model != "constant_mean":
        assert statuses[("e", "F0", "[0,+1]")] == "gap_in_window"  # SPY missing on day +1
    if model != "market_adjusted":  # a flat firm still has AR = -R_m when market-adjusted
        assert statuses[("e", "FLAT", "[0,0]")] == "zero_variance"
    assert statuses[("e", "F1", "[0,0]")] == "ok"  # gaps in estimation are just fewer days


def test_market_model_variance_is_the_spec_closed_form(market):
    req = EventRequest("selloff", "NVDA", date(2025, 1, 27))
    result = run_event_study(market.returns, [req])
    r = market.returns
    pos = r.index.get_loc(pd.Timestamp("2025-01-27"))
    est = r.iloc[pos - 250 : pos - 10][["NVDA", "SPY"]].dropna()
    m = len(est)
    beta, alpha = np.polyfit(est["SPY"], est["NVDA"], 1)
    resid = est["NVDA"] - alpha - beta * est["SPY"]
    sigma2 = (resid**2).sum() / (m - 2)
    ss_m = ((est["SPY"] - est["SPY"].mean()) ** 2).sum()
    for t1, t2 in [(0, 0), (-5, 5)]:
        rm = r["SPY"].iloc[pos + t1 : pos + t2 + 1]
        length = t2 - t1 + 1
        var = sigma2 * (length + length**2 / m + (rm - est["SPY"].mean()).sum() ** 2 / ss_m)
        got = result.windows[(t1, t2)].variance[0]
        assert got == pytest.approx(var, rel=1e-9)
        assert got != pytest.approx(length * sigma2, rel=1e-6)  # not the naive L sigma^2


def test_same_ticker_in_two_events_is_two_observations(market):
    reqs = [EventRequest("selloff", "NVDA", date(2025, 1, 27))]
    reqs.append(EventRequest("rebound", "NVDA", date(2025, 1, 28)))
    frame = run_event_study(market.returns, reqs).firm_frame()
    day0 = frame[frame["window"] == "[0,0]"].set_index("event_key")
    assert len(day0) == 2
    assert day0.loc["selloff", "car"] < 0 < day0.loc["rebound", "car"]
    with pytest.raises(ValueError, match="duplicate"):
        run_event_study(market.returns, reqs + reqs[:1])


def test_json_shape_and_nan_is_none(market):
    reqs = [EventRequest("selloff", "NVDA", date(2025, 1, 27))]
    reqs.append(EventRequest("gev_early", "GEV", date(2024, 8, 5)))
    result = run_event_study(market.returns, reqs)
    payload = json.loads(json.dumps(result.to_json_dict(), allow_nan=False))
    assert payload["mapping_rule"].startswith("first regular session whose close")
    firm = payload["firms"][0]
    expected = {"ticker", "window", "model", "alpha", "beta", "sigma", "n_est", "raw_return"}
    expected |= {"car", "car_se", "car_t", "car_p", "ar", "abnormal_volume", "value_change"}
    assert expected | {"status"} <= set(firm)
    gev = next(f for f in payload["firms"] if f["ticker"] == "GEV" and f["window"] == "[-1,+1]")
    assert gev["status"] == "insufficient_data"
    assert gev["car"] is None
    assert set(gev["ar"]) == {"-1", "0", "1"}
    records = result.firm_records()
    assert records[0].ar[0] == pytest.approx(result.ar_path("selloff", "NVDA")[0])


def test_fingerprint_changes_only_with_inputs(market):
    reqs = [EventRequest("selloff", "NVDA", date(2025, 1, 27))]
    returns = market.returns[["SPY", "NVDA"]]
    params = StudyParameters()
    base = fingerprint_inputs(returns, reqs, params)
    assert base == fingerprint_inputs(returns[["NVDA", "SPY"]], reqs, params)
    changed = returns.copy()
    changed.iloc[-1, 0] += 1e-12
    assert fingerprint_inputs(changed, reqs, params) != base
    assert fingerprint_inputs(returns, reqs, StudyParameters(min_estimation_returns=121)) != base


def test_parameters_are_validated():
    with pytest.raises(ValueError, match="factor"):
        StudyParameters(model="factor")
    with pytest.raises(ValueError, match="overlaps"):
        StudyParameters(event_windows=((-20, 0),))
    with pytest.raises(ValueError):
        StudyParameters(model="capm")
    with pytest.raises(ValueError, match="min_estimation_returns"):
        StudyParameters(min_estimation_returns=2)


def test_an_event_measured_alone_or_with_others_gives_the_same_bits(market):
    """The stored study (every event at once) and an on-the-fly read (one event) must show
    the same numbers: nothing in the engine may depend on which other events share the batch."""
    selloff = [EventRequest("selloff", t, date(2025, 1, 27)) for t in ("NVDA", "AVGO")]
    others = [EventRequest("early", "NVDA", date(2023, 10, 2))]
    others += [EventRequest("late", "VST", date(2025, 6, 2))]
    alone = run_event_study(market.returns, selloff).firm_frame()
    batch = run_event_study(market.returns, others + selloff).firm_frame()
    batch = batch[batch["event_key"] == "selloff"].reset_index(drop=True)
    columns = ["ticker", "window", "car", "car_se", "car_t", "car_p", "raw_return"]
    pd.testing.assert_frame_equal(alone[columns], batch[columns], check_exact=True)
