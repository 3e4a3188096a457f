"""Resampling draws and p-values: batched forms against plain loops, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from tracker.impact.resampling import (
    placebo_p,
    placebo_p_many,
    placebo_starts,
    rademacher_bits,
    rademacher_signs,
    wild_bootstrap_p,
    wild_bootstrap_p_many,
)


def test_draws_are_reproducible_and_keyed() -> None:
    assert np.array_equal(placebo_starts(1, "a", 230, 50), placebo_starts(1, "a", 230, 50))
    assert not np.array_equal(placebo_starts(1, "a", 230, 50), placebo_starts(1, "b", 230, 50))
    assert not np.array_equal(placebo_starts(2, "a", 230, 50), placebo_starts(1, "a", 230, 50))
    starts = placebo_starts(1, "a", 7, 2000)
    assert starts.min() == 0
    assert starts.max() == 6
    signs = rademacher_signs(3, "a", 400, 13)
    assert set(np.unique(signs)) == {-1.0, 1.0}
    assert abs(signs.mean()) < 0.05


@pytest.mark.parametrize("n", [2, 5, 8, 13, 40])
def test_batched_wild_bootstrap_matches_a_loop_over_draws(n: int) -> None:
    rng = np.random.default_rng(n)
    cars = rng.standard_t(3, (6, n)) * 0.02 + 0.004
    draws = 300
    keys = [f"g{g}" for g in range(len(cars))]
    mean = cars.mean(axis=1)
    got = wild_bootstrap_p_many(
        cars - mean[:, None], mean, [rademacher_bits(9, k, draws, n) for k in keys], draws
    )
    for g, key in enumerate(keys):
        signs = rademacher_signs(9, key, draws, n)
        t_obs = np.sqrt(n) * cars[g].mean() / cars[g].std(ddof=1)
        hits = 0
        for b in range(draws):
            star = signs[b] * (cars[g] - cars[g].mean())
            with np.errstate(divide="ignore", invalid="ignore"):
                hits += abs(np.sqrt(n) * star.mean() / star.std(ddof=1)) >= abs(t_obs)
        assert got[g] == (1 + hits) / (draws + 1)
        assert wild_bootstrap_p(cars[g], signs) == got[g]


def test_batched_placebo_matches_a_loop() -> None:
    rng = np.random.default_rng(4)
    aar = rng.normal(0, 0.01, (5, 240))
    aar[rng.random(aar.shape) < 0.05] = np.nan
    caar = np.array([0.05, -0.01, 0.0, 0.2, np.nan])
    starts = np.stack([placebo_starts(1, f"b{g}", 240 - 3 + 1, 500) for g in range(5)])
    got = placebo_p_many(aar, 3, caar, starts)
    for g in range(4):
        pseudo = [np.nansum(aar[g, s : s + 3]) for s in starts[g]]
        want = (1 + sum(abs(x) >= abs(caar[g]) for x in pseudo)) / 501
        assert got[g] == pytest.approx(want, abs=0)
        assert placebo_p(aar[g], 3, float(caar[g]), starts[g]) == got[g]
    assert np.isnan(got[4])
    assert got[3] == 1 / 501  # far beyond every pseudo window
    assert got[2] == 1.0  # a zero CAAR is matched by every draw
