"""event_impact: the issue-6 JSON shape, stored and on-the-fly numbers identical, errors."""

from __future__ import annotations

import json

import pytest

from tracker.config import Settings
from tracker.db import Database
from tracker.errors import NotFoundError, UserInputError
from tracker.measure.read import event_impact
from tracker.measure.service import compute_impacts

from .recorded import SELLOFF_TICKERS, Events

FIRM_KEYS = {
    "ticker", "window", "model", "alpha", "beta", "sigma", "n_est", "raw_return", "car",
    "car_se", "car_t", "car_p", "ar", "abnormal_volume", "value_change", "shares", "status",
    "bhar", "bhar_t", "mde",  # issue 19
    "q_value", "attributed_to", "confounds",
}  # fmt: skip
GROUP_KEYS = {
    "basket", "window", "n", "caar", "patell_z", "patell_kp_z", "bmp_t", "kp_t", "mean_corr",
    "effective_n", "cda_t", "corrado_z", "gsign_z",
    # issue 19
    "grank_z", "grank_t", "grank_p", "skew_t", "skew_p", "perm_p", "boot_p", "bhar_mean",
    "bhar_skew_t", "bhar_skew_p", "mde",
}  # fmt: skip


def test_json_shape_is_exactly_issue_6(
    priced_database: Database, settings: Settings, january: Events
) -> None:
    compute_impacts(priced_database, settings)
    impact = event_impact(priced_database, settings, "deepseek-selloff")
    assert set(impact) == {
        "event", "day0", "attention_day0", "anchor", "anchor_day0", "lag_sessions", "firms",
        "groups", "value_change",
    }  # fmt: skip
    assert impact["anchor"] == "publication"
    assert impact["attention_day0"] is None  # no attention computed in this database
    assert impact["event"] == {
        "id": january.selloff,
        "slug": "deepseek-selloff",
        "title": "deepseek selloff",
    }
    assert impact["day0"] == "2025-01-27"
    assert [f["ticker"] for f in impact["firms"]] == sorted(SELLOFF_TICKERS)
    for firm in impact["firms"]:
        assert set(firm) == FIRM_KEYS
        assert firm["window"] == "[0,+1]"
        assert firm["model"] == "market"
        assert set(firm["ar"]) == {"0", "1"}
        assert firm["car"] == pytest.approx(sum(firm["ar"].values()), rel=1e-12)
    assert [g["basket"] for g in impact["groups"]] == ["ai_power", "ai_semis"]
    for group in impact["groups"]:
        assert set(group) == GROUP_KEYS
        for key in ("grank_z", "grank_p", "skew_t", "perm_p", "boot_p", "bhar_mean", "mde"):
            assert isinstance(group[key], float), (group["basket"], key)
    for firm in impact["firms"]:
        if firm["status"] == "ok":
            assert firm["mde"] > 0
            assert firm["bhar_t"] == pytest.approx(firm["bhar"] / firm["car_se"], rel=1e-12)
    json.dumps(impact, allow_nan=False)  # strictly valid JSON: no NaN anywhere


@pytest.mark.parametrize(
    ("model", "window"),
    [("market", (0, 0)), ("market", (-1, 1)), ("market_adjusted", (0, 1))],
)
def test_stored_and_on_the_fly_numbers_are_identical(
    priced_database: Database,
    settings: Settings,
    january: Events,
    model: str,
    window: tuple[int, int],
) -> None:
    compute_impacts(priced_database, settings)
    stored = event_impact(priced_database, settings, january.selloff, model=model, window=window)
    fresh = event_impact(
        priced_database, settings, january.selloff, model=model, window=window, compute=True
    )
    assert stored == fresh
    assert stored["firms"][0]["status"] == "ok"


def test_filters_by_ticker_and_basket(
    priced_database: Database, settings: Settings, january: Events
) -> None:
    compute_impacts(priced_database, settings)
    only = event_impact(priced_database, settings, str(january.selloff), tickers=["nvda", "VST"])
    assert [f["ticker"] for f in only["firms"]] == ["NVDA", "VST"]
    power = event_impact(priced_database, settings, "deepseek-selloff", basket="ai_power")
    assert [g["basket"] for g in power["groups"]] == ["ai_power"]
    assert {f["ticker"] for f in power["firms"]} == {"VST", "CEG", "TLN", "GEV", "NRG"}
    # SPY is stored but not linked to the event: computed on the fly, nothing stored
    spy = event_impact(priced_database, settings, "deepseek-selloff", tickers=["SPY"])
    assert spy["firms"][0]["status"] == "zero_variance"  # the benchmark against itself


def test_rebound_and_r1_read_without_a_compute_run(
    priced_database: Database, settings: Settings, january: Events
) -> None:
    r1 = event_impact(priced_database, settings, "deepseek-r1-released", window="0,0")
    assert r1["day0"] == "2025-01-21"
    assert r1["groups"] == []
    rebound = event_impact(priced_database, settings, "nvidia-rebound", window="0,0")
    nvda = next(f for f in rebound["firms"] if f["ticker"] == "NVDA")
    assert nvda["raw_return"] == pytest.approx(128.99 / 118.42 - 1, abs=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"event": "no-such-event"}, NotFoundError),
        ({"event": 999}, NotFoundError),
        ({"tickers": ["NOPE"]}, NotFoundError),
        ({"basket": "no_basket"}, NotFoundError),
        ({"basket": "oil_majors"}, UserInputError),
        ({"window": "1,0"}, UserInputError),
        ({"window": "0"}, UserInputError),
        ({"window": "a,b"}, UserInputError),
        ({"window": "-20,0"}, UserInputError),  # overlaps the estimation window
        ({"model": "capm"}, UserInputError),
        ({"model": "factor"}, UserInputError),
    ],
)
def test_bad_requests_are_clear_errors(
    database: Database,
    settings: Settings,
    unpriced_january: Events,
    kwargs: dict[str, object],
    error: type[Exception],
) -> None:
    arguments: dict[str, object] = {"event": "deepseek-selloff", **kwargs}
    event = arguments.pop("event")
    with pytest.raises(error):
        event_impact(database, settings, event, **arguments)  # type: ignore[arg-type]
