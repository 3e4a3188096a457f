"""Expected-return models fitted for many firm-event pairs at once (IMPACT_SPEC.md §3-§4).

Every model with an intercept is written as y = a + Z b + e with the q regressors Z centred on
their estimation means (q = 0 constant mean, 1 market model, >= 2 factor model). Centring makes
the market model's closed form and the factor model's normal equations the same computation and
keeps them well conditioned; it also gives the forecast-error term of the window variance
directly:

    g'(I + X*(X'X)^-1 X*')g sigma^2 = sigma^2 [L + L^2/M + d'(Zc'Zc)^-1 d],
    d = sum over the window of (z_t - mean z),

which for the market model is the spec's L + L^2/M + (sum (R_mt - mean R_m))^2 / SS_m.
The market-adjusted model estimates nothing (k = 0): AR = R - R_m, sigma^2 = sum AR^2 / M.

Arrays are stacked pairs x days (x regressors); NaN marks a missing day and is masked out of
every sum, so no pair is fitted on its own in a Python loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

# A residual standard deviation below this (in return units per day) is treated as zero:
# a constant price series, or a firm that is its own benchmark.
ZERO_SIGMA = 1e-12
# Relative eigenvalue floor below which the regressors are collinear / constant.
SINGULAR_RCOND = 1e-12


class ModelName(StrEnum):
    MARKET = "market"
    MARKET_ADJUSTED = "market_adjusted"
    CONSTANT_MEAN = "constant_mean"
    FACTOR = "factor"


def n_regressors(model: ModelName, n_benchmarks: int) -> int:
    """How many benchmark series the model reads (q)."""
    if model is ModelName.CONSTANT_MEAN:
        return 0
    if model in (ModelName.MARKET, ModelName.MARKET_ADJUSTED):
        return 1
    return n_benchmarks


def n_parameters(model: ModelName, n_benchmarks: int) -> int:
    """k in sigma^2 = SSR / (M - k): intercept plus slopes, 0 for market-adjusted."""
    if model is ModelName.MARKET_ADJUSTED:
        return 0
    return 1 + n_regressors(model, n_benchmarks)


@dataclass(frozen=True)
class Fit:
    """Estimation-window fit for P pairs (q regressors)."""

    model: ModelName
    alpha: FloatArray  # (P,)
    slopes: FloatArray  # (P, q)
    zbar: FloatArray  # (P, q) estimation means of the regressors
    szz_inv: FloatArray  # (P, q, q) inverse of the centred cross-product matrix
    sigma2: FloatArray  # (P,)
    n_est: IntArray  # (P,) M_i: days with the firm and every regressor present
    dof: IntArray  # (P,) M_i - k
    residual_source: FloatArray | Callable[[], FloatArray] = field(repr=False)
    degenerate: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @cached_property
    def residuals(self) -> FloatArray:
        """(P, E) estimation-window ARs, NaN where missing.

        The fast market-model path never needs them for the firm statistics, so it hands over
        a function and they are built on first use (group statistics), then kept.
        """
        source = self.residual_source
        return source() if callable(source) else source


def _masked(values: FloatArray, mask: BoolArray) -> FloatArray:
    return np.where(mask, values, 0.0)


def fit(model: ModelName, y: FloatArray, z: FloatArray, n_params: int) -> Fit:
    """Fit the model on estimation returns y (P, E) and regressors z (P, E, q)."""
    q = z.shape[2]
    mask = np.isfinite(y) & np.isfinite(z).all(axis=2)
    n = mask.sum(axis=1)
    n_safe = np.maximum(n, 1)
    y0 = _masked(y, mask)
    z0 = np.where(mask[:, :, None], z, 0.0)
    zbar = z0.sum(axis=1) / n_safe[:, None]
    degenerate = np.zeros(len(y), dtype=bool)
    if model is ModelName.MARKET_ADJUSTED:
        resid = y0 - z0[:, :, 0]
        alpha = np.full(len(y), np.nan)
        slopes = np.full((len(y), q), np.nan)
        szz_inv = np.zeros((len(y), q, q))
    else:
        ybar = y0.sum(axis=1) / n_safe
        yc = _masked(y - ybar[:, None], mask)
        zc = np.where(mask[:, :, None], z - zbar[:, None, :], 0.0)
        slopes, szz_inv, singular = _centred_ols(yc, zc)
        degenerate |= singular
        alpha = ybar - np.einsum("pq,pq->p", slopes, zbar)
        resid = yc - np.einsum("peq,pq->pe", zc, slopes)
    resid = np.where(mask, resid, np.nan)
    ssr = np.nansum(resid * resid, axis=1)
    dof = n - n_params
    sigma2 = ssr / np.where(dof > 0, dof, np.nan)
    degenerate |= ~(np.sqrt(sigma2) >= ZERO_SIGMA)
    return Fit(model, alpha, slopes, zbar, szz_inv, sigma2, n, dof, resid, degenerate)


def _centred_ols(yc: FloatArray, zc: FloatArray) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Slopes from centred data: closed form for one regressor, batched solve for more."""
    p, _, q = zc.shape
    if q == 0:
        return np.zeros((p, 0)), np.zeros((p, 0, 0)), np.zeros(p, dtype=bool)
    if q == 1:
        szz = np.einsum("pe,pe->p", zc[:, :, 0], zc[:, :, 0])
        singular = ~(szz > 0.0)
        szz_safe = np.where(singular, 1.0, szz)
        beta = np.einsum("pe,pe->p", zc[:, :, 0], yc) / szz_safe
        return beta[:, None], (1.0 / szz_safe)[:, None, None], singular
    szz_m = np.einsum("pek,pel->pkl", zc, zc)
    szy = np.einsum("pek,pe->pk", zc, yc)
    eig = np.linalg.eigvalsh(szz_m)
    singular = ~(eig[:, 0] > SINGULAR_RCOND * np.maximum(eig[:, -1], np.finfo(float).tiny))
    szz_m[singular] = np.eye(q)
    slopes = np.linalg.solve(szz_m, szy[:, :, None])[:, :, 0]
    return slopes, np.linalg.inv(szz_m), singular


def abnormal_returns(fit_: Fit, y: FloatArray, z: FloatArray) -> FloatArray:
    """ARs over event-time days: y (P, S) minus the fitted expectation; NaN where missing."""
    if fit_.model is ModelName.MARKET_ADJUSTED:
        return y - z[:, :, 0]
    expected = fit_.alpha[:, None] + np.einsum("psq,pq->ps", z, fit_.slopes)
    return np.asarray(y - expected, dtype=np.float64)


@dataclass(frozen=True)
class WindowMoments:
    car: FloatArray  # (P,)
    variance: FloatArray  # (P,) forecast-error-corrected S^2(CAR)
    n_days: IntArray  # (P,) window days with an AR


def window_moments(fit_: Fit, ar: FloatArray, z: FloatArray) -> WindowMoments:
    """CAR and its forecast-error-corrected variance over the days of ar (P, L).

    Missing days drop out of g, so L is the number of days with an AR.
    """
    present = np.isfinite(ar)
    n_days = present.sum(axis=1)
    car = np.where(present, ar, 0.0).sum(axis=1)
    car = np.where(n_days > 0, car, np.nan)
    length = n_days.astype(float)
    if fit_.model is ModelName.MARKET_ADJUSTED:
        variance = fit_.sigma2 * length
    else:
        m = fit_.n_est.astype(float)
        dev = np.where(present[:, :, None], z - fit_.zbar[:, None, :], 0.0).sum(axis=1)
        quad = np.einsum("pk,pkl,pl->p", dev, fit_.szz_inv, dev)
        variance = fit_.sigma2 * (length + length * length / np.where(m > 0, m, np.nan) + quad)
    return WindowMoments(car, variance, n_days)


# Fast market-model path: a pair is fitted from its window sums only when the subtractions
# below cannot lose more than ~1/WELL_POSED of the precision of the sums; the others (constant
# or near-constant benchmark, near-perfect fit, constant firm, too few days) go through fit().
WELL_POSED = 0.05


@dataclass(frozen=True)
class MarketSums:
    """Masked sums over each pair's estimation window (days with firm AND benchmark)."""

    n: FloatArray
    sy: FloatArray
    sx: FloatArray
    syy: FloatArray
    sxy: FloatArray
    sxx: FloatArray


def fit_market_from_sums(
    sums: MarketSums, residual_source: Callable[[], FloatArray]
) -> tuple[Fit, BoolArray]:
    """Closed-form market model from window sums, and which pairs it is exact enough for.

    Same centred formulas as fit(): beta = Sxy_c / Sxx_c, alpha = ybar - beta xbar,
    SSR = Syy_c - beta Sxy_c. The returned mask `exact` is False where the centred sums lose
    too much to cancellation (Sxx_c or SSR small against the raw sums) or M < 3: the caller
    refits those pairs with fit() and merges them in with merge_fit().
    """
    n = sums.n
    with np.errstate(divide="ignore", invalid="ignore"):
        n_safe = np.maximum(n, 1.0)
        xbar = sums.sx / n_safe
        ybar = sums.sy / n_safe
        sxx_c = sums.sxx - sums.sx * xbar
        sxy_c = sums.sxy - sums.sx * ybar
        syy_c = sums.syy - sums.sy * ybar
        beta = sxy_c / sxx_c
        alpha = ybar - beta * xbar
        ssr = syy_c - beta * sxy_c
        dof = n.astype(np.int64) - 2
        sigma2 = ssr / np.where(dof > 0, dof, np.nan)
        szz_inv = 1.0 / sxx_c
    exact = (n >= 3) & (sxx_c > WELL_POSED * sums.sxx) & (ssr > WELL_POSED * sums.syy)
    degenerate = ~(np.sqrt(sigma2) >= ZERO_SIGMA)
    fit_ = Fit(
        model=ModelName.MARKET,
        alpha=alpha,
        slopes=beta[:, None],
        zbar=xbar[:, None],
        szz_inv=szz_inv[:, None, None],
        sigma2=sigma2,
        n_est=n.astype(np.int64),
        dof=dof,
        residual_source=residual_source,
        degenerate=degenerate,
    )
    return fit_, exact


def merge_fit(
    base: Fit, rows: IntArray, other: Fit, residual_source: Callable[[], FloatArray]
) -> Fit:
    """base with the pairs at rows replaced by other's (fitted on those pairs only)."""

    def put(values: NDArray[Any], new: NDArray[Any]) -> NDArray[Any]:
        out = values.copy()
        out[rows] = new
        return out

    return Fit(
        model=base.model,
        alpha=put(base.alpha, other.alpha),
        slopes=put(base.slopes, other.slopes),
        zbar=put(base.zbar, other.zbar),
        szz_inv=put(base.szz_inv, other.szz_inv),
        sigma2=put(base.sigma2, other.sigma2),
        n_est=put(base.n_est, other.n_est),
        dof=put(base.dof, other.dof),
        residual_source=residual_source,
        degenerate=put(base.degenerate, other.degenerate),
    )
