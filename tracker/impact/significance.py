"""Group (basket) statistics over firm-event pairs (IMPACT_SPEC.md §5).

Only pairs whose window status is usable (ok, gap_in_window) enter a group; the others are
counted by status in `excluded`, never dropped silently. Many groups are computed together:
member rows are stacked by group and reduced with np.add.reduceat, so the cost grows with the
number of memberships, not with a Python loop over pairs. The one per-group loop is the
Kolari-Pynnonen residual correlation matrix (n x n), which is inherently per group.

Choices the spec leaves open, made explicit:
- Patell uses each firm's t degrees of freedom d_i = M_i - k: sum SCAR / sqrt(sum d/(d-2)),
  the spec's (M-2)/(M-4) for the market model.
- Event-time alignment (AAR, the portfolio test, Corrado) is by relative day; the residual
  correlation is by calendar date, over the dates both residual series have (>= 3 of them).
- Corrado ranks each firm's ARs over the estimation window plus the tested window W.
- p-values: normal for Patell, Corrado and the sign test; t(N-1) for BMP and its adjustment;
  t(D-1) for the portfolio test, D = estimation days with an AAR.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from tracker.impact.models import FloatArray, IntArray
from tracker.impact.study import USABLE_STATUSES, StudyResult, Window, window_label

MIN_CORRELATION_OVERLAP = 3

Members = Sequence[tuple[str, str]] | IntArray


@dataclass(frozen=True)
class GroupResult:
    basket: str
    window: Window
    n: int
    n_requested: int
    excluded: dict[str, int]
    caar: float
    aar: dict[int, float]
    patell_z: float
    patell_p: float
    patell_kp_z: float
    patell_kp_p: float
    bmp_t: float
    bmp_p: float
    kp_t: float
    kp_p: float
    mean_corr: float
    effective_n: float
    cda_t: float
    cda_p: float
    corrado_z: float
    corrado_p: float
    gsign_z: float
    gsign_p: float
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json_dict(self) -> dict[str, Any]:
        def num(v: float) -> float | None:
            return float(v) if math.isfinite(v) else None

        out: dict[str, Any] = {"basket": self.basket, "window": window_label(self.window)}
        out["n"] = self.n
        out["n_requested"] = self.n_requested
        out["excluded"] = dict(self.excluded)
        for name in (
            "caar",
            "patell_z",
            "patell_p",
            "patell_kp_z",
            "patell_kp_p",
            "bmp_t",
            "bmp_p",
            "kp_t",
            "kp_p",
            "mean_corr",
            "effective_n",
            "cda_t",
            "cda_p",
            "corrado_z",
            "corrado_p",
            "gsign_z",
            "gsign_p",
        ):
            out[name] = num(getattr(self, name))
        out["aar"] = {str(d): num(v) for d, v in self.aar.items()}
        return out


def row_ranks(values: FloatArray) -> FloatArray:
    """Average ranks (1-based) within each row, NaN left as NaN; vectorised over rows.

    One argsort gives the ranks of rows without ties; the (rare, for real returns) rows with
    ties are re-ranked with scipy's average method.
    """
    rows, cols = values.shape
    order = np.argsort(values, axis=1)  # NaN sort last
    ranks = np.empty((rows, cols))
    np.put_along_axis(ranks, order, np.arange(1.0, cols + 1.0)[None, :], axis=1)
    ranks[~np.isfinite(values)] = np.nan
    ordered = np.take_along_axis(values, order, axis=1)
    tied = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
    if tied.any():
        ranks[tied] = stats.rankdata(values[tied], axis=1, nan_policy="omit")
    return ranks


def _nan_to_zero(values: FloatArray) -> FloatArray:
    return np.where(np.isfinite(values), values, 0.0)


def _segment_sum(values: FloatArray, sizes: IntArray) -> FloatArray:
    """Sum of member rows per group; rows stacked in group order, sizes rows per group."""
    out = np.zeros((len(sizes), *values.shape[1:]))
    filled = np.flatnonzero(sizes > 0)
    if len(filled):
        starts = (np.cumsum(sizes) - sizes)[filled]
        out[filled] = np.add.reduceat(values, starts, axis=0)
    return out


def mean_offdiagonal_correlation(residuals: FloatArray, positions: IntArray) -> float:
    """Mean pairwise Pearson correlation of residual series aligned by calendar position.

    residuals (n, E) hold estimation residuals, positions (n, E) their rows in the session
    index. Each pair uses the dates both series have.
    """
    n = len(residuals)
    if n < 2:
        return math.nan
    if (positions == positions[0]).all():
        matrix = residuals
    else:
        dates, column = np.unique(positions, return_inverse=True)
        matrix = np.full((n, len(dates)), np.nan)
        matrix[np.repeat(np.arange(n), positions.shape[1]), column.ravel()] = residuals.ravel()
    if np.isfinite(matrix).all():  # common case: same dates, no gaps -> one product
        corr_full = np.asarray(np.corrcoef(matrix), dtype=np.float64)
        return float(corr_full[~np.eye(n, dtype=bool)].mean())
    present = np.isfinite(matrix).astype(np.float64)
    x = _nan_to_zero(matrix)
    count = present @ present.T
    sum_x = x @ present.T  # sum of x_i over the dates shared with j
    sum_xx = (x * x) @ present.T
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = x @ x.T - sum_x * sum_x.T / count
        var_x = sum_xx - sum_x * sum_x / count
        corr = cov / np.sqrt(var_x * var_x.T)
    keep = ~np.eye(n, dtype=bool) & (count >= MIN_CORRELATION_OVERLAP) & np.isfinite(corr)
    return float(corr[keep].mean()) if keep.any() else math.nan


def _cached_correlation(result: StudyResult, members: IntArray, positions: IntArray) -> float:
    """The KP correlation does not depend on the window: compute it once per member set."""
    key = members.tobytes()
    if key not in result.cache:
        result.cache[key] = mean_offdiagonal_correlation(
            result.fit.residuals[members], positions[members]
        )
    return result.cache[key]


def _two_sided_normal(z: FloatArray) -> FloatArray:
    return np.asarray(2.0 * stats.norm.sf(np.abs(z)), dtype=np.float64)


def _two_sided_t(t: FloatArray, dof: FloatArray) -> FloatArray:
    dof = np.where(dof > 0, dof, np.nan)
    return np.asarray(2.0 * stats.t.sf(np.abs(t), dof), dtype=np.float64)


def group_statistics(
    result: StudyResult, members: Members, window: Window, basket: str = "basket"
) -> GroupResult:
    """All §5 statistics for one basket of pairs in one window."""
    return group_statistics_many(result, {basket: members}, window)[0]


def group_statistics_many(
    result: StudyResult, groups: Mapping[str, Members], window: Window
) -> list[GroupResult]:
    """§5 statistics for many baskets at once (vectorised across groups and members)."""
    window = (int(window[0]), int(window[1]))
    if window not in result.windows:
        raise KeyError(f"window {window} was not part of this study")
    arrays = result.windows[window]
    usable_pair = np.isin(arrays.status, list(USABLE_STATUSES))
    names = list(groups)
    requested, used = [], []
    for name in names:
        members = groups[name]
        idx = (
            np.asarray(members, dtype=np.int64)
            if isinstance(members, np.ndarray)
            else result.pair_index(list(members))
        )
        requested.append(idx)
        used.append(idx[usable_pair[idx]])
    n_groups = len(names)
    sizes = np.array([len(u) for u in used], dtype=np.int64)
    member = np.concatenate(used) if used else np.zeros(0, dtype=np.int64)
    group_of = np.repeat(np.arange(n_groups), sizes)
    n = sizes.astype(np.float64)

    def seg(values: FloatArray) -> FloatArray:
        return _segment_sum(values, sizes)

    # Empty groups and single-member groups give NaN statistics by design; silence the
    # "mean of empty slice" / division warnings that produce them.
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        car = arrays.car[member]
        scar = arrays.car_t[member]
        dof = result.fit.dof[member].astype(np.float64)
        caar = seg(car) / n
        # Patell and BMP on standardised CARs
        patell = seg(scar) / np.sqrt(seg(dof / (dof - 2.0)))
        mean_scar = seg(scar) / n
        dev = scar - mean_scar[group_of]
        sd_scar = np.sqrt(seg(dev * dev) / (n - 1.0))
        bmp = np.sqrt(n) * mean_scar / sd_scar
        # Kolari-Pynnonen: residual correlation by calendar date
        est_positions = result.position[:, None] + result.est_offsets[None, :]
        mean_corr = np.array([_cached_correlation(result, u, est_positions) for u in used])
        inflation = 1.0 + (n - 1.0) * mean_corr
        kp_patell = patell * np.sqrt(1.0 / inflation)
        kp_bmp = bmp * np.sqrt((1.0 - mean_corr) / inflation)
        effective_n = n / inflation
        # event-time AAR over the window and portfolio (crude dependence) test
        win_ar = result.window_ar(window)[member]
        aar = seg(_nan_to_zero(win_ar)) / seg(np.isfinite(win_ar).astype(np.float64))
        resid = result.fit.residuals[member]
        aar_est = seg(_nan_to_zero(resid)) / seg(np.isfinite(resid).astype(np.float64))
        est_days = np.isfinite(aar_est).sum(axis=1).astype(np.float64)
        sd_aar = np.sqrt(
            np.nansum((aar_est - np.nanmean(aar_est, axis=1, keepdims=True)) ** 2, axis=1)
            / (est_days - 1.0)
        )
        length = float(window[1] - window[0] + 1)
        cda = caar / (math.sqrt(length) * sd_aar)
        # Corrado rank test, window form
        corrado = _corrado(resid, win_ar, seg)
        # generalised sign test
        share_pos = (resid > 0).sum(axis=1) / np.isfinite(resid).sum(axis=1)
        p_pos = seg(share_pos) / n
        wins = seg((car > 0).astype(np.float64))
        gsign = (wins - n * p_pos) / np.sqrt(n * p_pos * (1.0 - p_pos))

        p_values = {
            "patell": _two_sided_normal(patell),
            "patell_kp": _two_sided_normal(kp_patell),
            "bmp": _two_sided_t(bmp, n - 1.0),
            "kp": _two_sided_t(kp_bmp, n - 1.0),
            "cda": _two_sided_t(cda, est_days - 1.0),
            "corrado": _two_sided_normal(corrado),
            "gsign": _two_sided_normal(gsign),
        }

    days = range(window[0], window[1] + 1)
    out = []
    for g, name in enumerate(names):
        statuses, counts = np.unique(
            arrays.status[requested[g]][~usable_pair[requested[g]]].astype(str),
            return_counts=True,
        )
        nan = math.nan
        ok = sizes[g] > 0
        out.append(
            GroupResult(
                basket=name,
                window=window,
                n=int(sizes[g]),
                n_requested=len(requested[g]),
                excluded={str(s): int(c) for s, c in zip(statuses, counts, strict=True)},
                caar=float(caar[g]) if ok else nan,
                aar={d: float(v) for d, v in zip(days, aar[g], strict=True)}
                if ok
                else dict.fromkeys(days, nan),
                patell_z=float(patell[g]) if ok else nan,
                patell_p=float(p_values["patell"][g]) if ok else nan,
                patell_kp_z=float(kp_patell[g]),
                patell_kp_p=float(p_values["patell_kp"][g]),
                bmp_t=float(bmp[g]),
                bmp_p=float(p_values["bmp"][g]),
                kp_t=float(kp_bmp[g]),
                kp_p=float(p_values["kp"][g]),
                mean_corr=float(mean_corr[g]),
                effective_n=float(effective_n[g]),
                cda_t=float(cda[g]) if ok else nan,
                cda_p=float(p_values["cda"][g]) if ok else nan,
                corrado_z=float(corrado[g]) if ok else nan,
                corrado_p=float(p_values["corrado"][g]) if ok else nan,
                gsign_z=float(gsign[g]) if ok else nan,
                gsign_p=float(p_values["gsign"][g]) if ok else nan,
            )
        )
    return out


def _corrado(resid: FloatArray, win_ar: FloatArray, seg: Any) -> FloatArray:
    """Corrado z per group: ranks over estimation + window days, Kbar by relative day."""
    combined = np.concatenate([resid, win_ar], axis=1)
    ranks = row_ranks(combined)
    total = np.isfinite(combined).sum(axis=1).astype(np.float64)
    u = ranks / (total[:, None] + 1.0) - 0.5
    kbar = seg(_nan_to_zero(u)) / seg(np.isfinite(u).astype(np.float64))
    s = np.sqrt(np.nanmean(kbar * kbar, axis=1))
    in_window = kbar[:, resid.shape[1] :]
    length = np.isfinite(in_window).sum(axis=1)
    return np.asarray(np.nansum(in_window, axis=1) / (np.sqrt(length) * s), dtype=np.float64)
