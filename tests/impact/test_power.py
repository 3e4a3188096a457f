"""Minimum detectable effect: the multiplier, and the power it promises (noncentral t)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tracker.impact.power import (
    mde_multiplier,
    minimum_detectable_effect,
    normal_mde_multiplier,
)


def test_large_sample_multiplier_is_the_textbook_2_80() -> None:
    assert normal_mde_multiplier() == pytest.approx(1.959964 + 0.841621, abs=1e-6)
    assert mde_multiplier(np.array([1e7]))[0] == pytest.approx(normal_mde_multiplier(), rel=1e-5)


@pytest.mark.parametrize("dof", [20, 118, 238])
def test_an_effect_of_one_mde_is_detected_about_80_percent_of_the_time(dof: int) -> None:
    se = 0.021
    mde = minimum_detectable_effect(np.array([se]), np.array([float(dof)]))[0]
    crit = stats.t.ppf(0.975, dof)
    power = stats.nct.sf(crit, dof, mde / se) + stats.nct.cdf(-crit, dof, mde / se)
    assert power == pytest.approx(0.80, abs=0.01)


def test_invalid_dof_gives_nan() -> None:
    got = minimum_detectable_effect(np.array([0.01, 0.01, 0.01]), np.array([0.0, np.nan, 50.0]))
    assert np.isnan(got[:2]).all()
    assert got[2] > 0
