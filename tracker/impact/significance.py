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
from typing import Any, cast

import numpy as np
from scipy import sparse, stats

from tracker.impact.blas import single_threaded_blas
from tracker.impact.models import BoolArray, FloatArray, IntArray
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


def _correlation_terms(x: FloatArray, present: FloatArray) -> FloatArray:
    """Mean off-diagonal pairwise correlation for a batch of same-date baskets (b, n, E).

    x holds the residuals with 0 where missing, present 1.0 where a residual exists: the
    same pairwise-overlap formulas as mean_offdiagonal_correlation, as batched products.
    """
    n = x.shape[1]
    xt = x.transpose(0, 2, 1)
    pt = present.transpose(0, 2, 1)
    with single_threaded_blas():
        count = np.matmul(present, pt)
        sum_x = np.matmul(x, pt)
        sum_xx = np.matmul(x * x, pt)
        cross = np.matmul(x, xt)
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = cross - sum_x * sum_x.transpose(0, 2, 1) / count
        var_x = sum_xx - sum_x * sum_x / count
        corr = cov / np.sqrt(var_x * var_x.transpose(0, 2, 1))
    keep = ~np.eye(n, dtype=bool)[None] & (count >= MIN_CORRELATION_OVERLAP) & np.isfinite(corr)
    kept = keep.sum(axis=(1, 2))
    total = np.where(keep, corr, 0.0).sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(kept > 0, total / kept, np.nan), dtype=np.float64)


CORRELATION_BATCH = 64  # baskets per batched product: bounded temporaries


def _cached_correlations(result: StudyResult, used: list[IntArray]) -> FloatArray:
    """The KP correlation per basket, once per member set (it does not depend on the window).

    Baskets whose members share one estimation calendar (one event date, the usual case) are
    computed together, grouped by size, as batched products; the others one by one with
    calendar alignment.
    """
    pairs = _pair_estimation(result)
    positions = result.position
    out = np.full(len(used), np.nan)
    buckets: dict[int, list[int]] = {}
    for g, members in enumerate(used):
        key = members.tobytes()
        if key in result.cache:
            out[g] = result.cache[key]
        elif len(members) < 2:
            out[g] = result.cache[key] = math.nan
        elif (positions[members] == positions[members[0]]).all():
            buckets.setdefault(len(members), []).append(g)
        else:
            est_positions = positions[members][:, None] + result.est_offsets[None, :]
            out[g] = result.cache[key] = mean_offdiagonal_correlation(
                result.fit.residuals[members], est_positions
            )
    for groups in buckets.values():
        for s in range(0, len(groups), CORRELATION_BATCH):
            batch = groups[s : s + CORRELATION_BATCH]
            rows = np.stack([used[g] for g in batch])
            values = _correlation_terms(pairs.resid0[rows], pairs.present[rows])
            for g, value in zip(batch, values, strict=True):
                out[g] = result.cache[used[g].tobytes()] = float(value)
    return out


@dataclass(frozen=True)
class _PairEstimation:
    """Window-independent per-pair arrays of the estimation residuals, built once per study."""

    resid0: FloatArray  # (P, E) residuals, 0 where missing
    present: FloatArray  # (P, E) 1.0 where a residual exists
    count: FloatArray  # (P,) residuals present (M_i)
    share_pos: FloatArray  # (P,) share of positive residuals
    sorted_key: Any  # (P * E,) complex: row + 1j * residual, rows ascending, missing = +inf
    rank0: FloatArray  # (P, E) average ranks among the pair's residuals, 0 where missing
    slot: IntArray  # (P, E) row * (E + 1) + sorted position; P * (E + 1) where missing


def _pair_estimation(result: StudyResult) -> _PairEstimation:
    cached = result.group_cache.get("pairs")
    if cached is not None:
        return cast(_PairEstimation, cached)
    resid = result.fit.residuals
    rows, width = resid.shape
    present = np.isfinite(resid)
    count = present.sum(axis=1).astype(np.float64)
    order = np.argsort(resid, axis=1)  # NaN last
    ordered = np.take_along_axis(resid, order, axis=1)
    position = np.empty((rows, width), dtype=np.int64)
    np.put_along_axis(position, order, np.arange(width, dtype=np.int64)[None, :], axis=1)
    ranks = position + 1.0
    tied = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
    if tied.any():
        ranks[tied] = stats.rankdata(resid[tied], axis=1, nan_policy="omit")
    row = np.arange(rows, dtype=np.int64)[:, None]
    with np.errstate(invalid="ignore"):
        share_pos = (resid > 0).sum(axis=1) / count
    pairs = _PairEstimation(
        resid0=np.where(present, resid, 0.0),
        present=present.astype(np.float64),
        count=count,
        share_pos=share_pos,
        # +inf, not NaN: numpy orders complex NaNs after everything, whatever the row
        sorted_key=_row_keys(row, np.where(np.isfinite(ordered), ordered, np.inf)),
        rank0=np.where(present, ranks, 0.0),
        slot=np.where(present, row * (width + 1) + position, rows * (width + 1)).astype(
            np.int32 if rows * (width + 1) < 2**31 - 1 else np.int64
        ),
    )
    result.group_cache["pairs"] = pairs
    return pairs


def _row_keys(row: IntArray, values: FloatArray) -> Any:
    """Complex keys row + i * value (built part by part: 1j * inf would put NaN in the row)."""
    keys = np.empty(values.shape, dtype=np.complex128)
    keys.real = row
    keys.imag = values
    return keys.ravel()


def _group_matrix(member: IntArray, sizes: IntArray, n_cols: int, weights: FloatArray) -> Any:
    """Sparse groups x pairs matrix: row g holds weights at group g's member columns."""
    indptr = np.concatenate([[0], np.cumsum(sizes)])
    return sparse.csr_matrix((weights, member, indptr), shape=(len(sizes), n_cols))


@dataclass(frozen=True)
class _GroupEstimation:
    """Window-independent sums over each group's members by estimation day."""

    present: FloatArray  # (G, E) members with a residual
    aar: FloatArray  # (G, E) mean residual
    days: FloatArray  # (G,) estimation days with an AAR
    sd_aar: FloatArray  # (G,)


def _group_estimation(
    result: StudyResult, pairs: _PairEstimation, member: IntArray, sizes: IntArray
) -> _GroupEstimation:
    key = ("groups", member.tobytes(), sizes.tobytes())
    cached = result.group_cache.get(key)
    if cached is not None:
        return cast(_GroupEstimation, cached)
    ones = _group_matrix(member, sizes, result.n_pairs, np.ones(len(member)))
    present = np.asarray(ones @ pairs.present)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        aar = np.asarray(ones @ pairs.resid0) / present
        days = np.isfinite(aar).sum(axis=1).astype(np.float64)
        sd_aar = np.sqrt(
            np.nansum((aar - np.nanmean(aar, axis=1, keepdims=True)) ** 2, axis=1) / (days - 1.0)
        )
    out = _GroupEstimation(present, aar, days, sd_aar)
    if len(result.group_cache) > 64:  # bounded: member sets of past calls
        result.group_cache.clear()
        result.group_cache["pairs"] = pairs
    result.group_cache[key] = out
    return out


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
        mean_corr = _cached_correlations(result, used)
        inflation = 1.0 + (n - 1.0) * mean_corr
        kp_patell = patell * np.sqrt(1.0 / inflation)
        kp_bmp = bmp * np.sqrt((1.0 - mean_corr) / inflation)
        effective_n = n / inflation
        # event-time AAR over the window and portfolio (crude dependence) test
        win_ar = result.window_ar(window)[member]
        aar = seg(_nan_to_zero(win_ar)) / seg(np.isfinite(win_ar).astype(np.float64))
        pairs = _pair_estimation(result)
        est = _group_estimation(result, pairs, member, sizes)
        est_days, sd_aar = est.days, est.sd_aar
        length = float(window[1] - window[0] + 1)
        cda = caar / (math.sqrt(length) * sd_aar)
        # Corrado rank test, window form
        corrado = _corrado(pairs, est, member, sizes, win_ar, seg)
        # generalised sign test
        p_pos = seg(pairs.share_pos[member]) / n
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


def _corrado(
    pairs: _PairEstimation,
    est: _GroupEstimation,
    member: IntArray,
    sizes: IntArray,
    win_ar: FloatArray,
    seg: Any,
) -> FloatArray:
    """Corrado z per group: ranks over estimation + window days, Kbar by relative day.

    The estimation residuals are sorted once per study. For a window, each window AR's rank
    among the pair's residuals is a binary search in that sorted row (one searchsorted over
    all rows, keyed row + 1j * value), and an estimation day's rank in the combined set is
    its rank among the residuals plus, per window AR below it, 1 (1/2 per tie): a step
    function of its sorted position, built by cumulative sums. Ties are averaged as in
    row_ranks.
    """
    rows, width = pairs.rank0.shape
    uniq, inverse = np.unique(member, return_inverse=True)
    first = np.empty(len(uniq), dtype=np.int64)  # a pair in several groups: one row
    first[inverse] = np.arange(len(member))
    win = win_ar[first]
    present = np.isfinite(win)
    query = _row_keys(uniq[:, None], np.where(present, win, 0.0))
    base = (uniq * width)[:, None]
    below = np.searchsorted(pairs.sorted_key, query, side="left").reshape(win.shape) - base
    upto = np.searchsorted(pairs.sorted_key, query, side="right").reshape(win.shape) - base
    total = pairs.count[uniq] + present.sum(axis=1)
    weight = 1.0 / (total + 1.0)
    # window days: rank among the window ARs + residuals below + half the equal residuals
    k_win = row_ranks(win) + below + 0.5 * (upto - below)
    u_win = np.where(present, k_win * weight[:, None] - 0.5, np.nan)[inverse]
    # estimation days: + 1/2 for each window AR at or below (left), 1/2 more strictly below
    # counted in halves, in the smallest integer type that holds 2 L
    dtype = np.int8 if 2 * win.shape[1] < 127 else np.int32
    flat = np.zeros(rows * (width + 1) + 1, dtype=dtype)  # last entry: missing residuals
    steps = flat[:-1].reshape(rows, width + 1)
    step_rows = np.broadcast_to(uniq[:, None], win.shape)[present]
    np.add.at(steps, (step_rows, below[present]), 1)
    np.add.at(steps, (step_rows, upto[present]), 1)
    np.cumsum(steps, axis=1, out=steps)
    if len(uniq) == rows:
        ranks = pairs.rank0 + 0.5 * flat[pairs.slot]
    else:
        ranks = pairs.rank0[uniq] + 0.5 * flat[pairs.slot[uniq]]
    weights = _group_matrix(inverse, sizes, len(uniq), weight[inverse])
    kbar_est = (np.asarray(weights @ ranks) - 0.5 * est.present) / est.present
    kbar_win = seg(_nan_to_zero(u_win)) / seg(np.isfinite(u_win).astype(np.float64))
    kbar = np.concatenate([kbar_est, kbar_win], axis=1)
    s = np.sqrt(np.nanmean(kbar * kbar, axis=1))
    length = np.isfinite(kbar_win).sum(axis=1)
    return np.asarray(np.nansum(kbar_win, axis=1) / (np.sqrt(length) * s), dtype=np.float64)
