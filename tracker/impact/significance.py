"""Group (basket) statistics over firm-event pairs (IMPACT_SPEC.md §5).

Only pairs whose window status is usable (ok, gap_in_window) enter a group; the others are
counted by status in `excluded`, never dropped silently. Many groups are computed together:
member rows are stacked by group and reduced with np.add.reduceat, so the cost grows with the
number of memberships, not with a Python loop over pairs. The Kolari-Pynnonen correlation
matrices (n x n) are batched over baskets of one size and one calendar; only baskets whose
members have different event dates are done one at a time. Window-independent pieces (the
residual ranks, estimation-window AAR, KP correlation) are computed once per study or member
set and cached on the StudyResult; docs/impact.md ("Performance") describes the layout.

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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from tracker.impact.blas import single_threaded_blas
from tracker.impact.grank import grank_test
from tracker.impact.models import FloatArray, IntArray
from tracker.impact.power import normal_mde_multiplier
from tracker.impact.resampling import (
    draw_key,
    placebo_p_many,
    placebo_uniforms,
    rademacher_bits,
    starts_from_uniforms,
    wild_bootstrap_p_many,
)
from tracker.impact.skewness import skewness_corrected_t
from tracker.impact.study import USABLE_STATUSES, StudyResult, Window, window_label
from tracker.impact.windowsums import ROWS_PER_BLOCK, row_blocks

MIN_CORRELATION_OVERLAP = 3

Members = Sequence[tuple[str, str]] | IntArray


#: every statistic of a basket, with its p-value, in the order outputs list them
GROUP_STATISTIC_NAMES = (
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
    "grank_z",
    "grank_t",
    "grank_p",
    "skew_t",
    "skew_p",
    "perm_p",
    "boot_p",
    "bhar_mean",
    "bhar_skew_t",
    "bhar_skew_p",
    "mde",
)


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
    grank_z: float = math.nan
    grank_t: float = math.nan
    grank_p: float = math.nan
    skew_t: float = math.nan
    skew_p: float = math.nan
    perm_p: float = math.nan
    boot_p: float = math.nan
    bhar_mean: float = math.nan
    bhar_skew_t: float = math.nan
    bhar_skew_p: float = math.nan
    mde: float = math.nan
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json_dict(self) -> dict[str, Any]:
        def num(v: float) -> float | None:
            return float(v) if math.isfinite(v) else None

        out: dict[str, Any] = {"basket": self.basket, "window": window_label(self.window)}
        out["n"] = self.n
        out["n_requested"] = self.n_requested
        out["excluded"] = dict(self.excluded)
        for name in GROUP_STATISTIC_NAMES:
            out[name] = num(getattr(self, name))
        out["aar"] = {str(d): num(v) for d, v in self.aar.items()}
        return out


def row_ranks(values: FloatArray) -> FloatArray:
    """Average ranks (1-based) within each row, NaN left as NaN; vectorised over rows.

    One argsort gives the ranks of rows without ties; the (rare, for real returns) rows with
    ties are re-ranked with scipy's average method.
    """
    rows, cols = values.shape
    finite = np.isfinite(values)
    filled = np.where(finite, values, np.inf)  # no NaNs: numpy's SIMD argsort applies
    order = np.argsort(filled, axis=1)  # missing sort last
    ranks = np.empty((rows, cols))
    np.put_along_axis(ranks, order, np.arange(1.0, cols + 1.0)[None, :], axis=1)
    ranks[~finite] = np.nan
    ordered = np.take_along_axis(filled, order, axis=1)
    tied = ((ordered[:, 1:] == ordered[:, :-1]) & np.isfinite(ordered[:, 1:])).any(axis=1)
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


def _group_blocks(sizes: IntArray, step: int = ROWS_PER_BLOCK) -> list[tuple[int, int]]:
    """Runs of consecutive groups (g0, g1) with about `step` member rows each."""
    ends = np.cumsum(sizes)
    out, g0 = [], 0
    while g0 < len(sizes):
        start = ends[g0] - sizes[g0]
        g1 = max(int(np.searchsorted(ends, start + step, side="right")), g0 + 1)
        out.append((g0, g1))
        g0 = g1
    return out


def _correlation_terms(residuals: FloatArray) -> FloatArray:
    """Mean off-diagonal pairwise correlation for a batch of same-date baskets (b, n, E).

    The same pairwise-overlap formulas as mean_offdiagonal_correlation (NaN = missing), as
    batched products: x x', [x; x^2] present' (sums over shared dates) and present present'
    (shared-date counts, in float32: exact for 0/1 sums below 2^24).
    """
    b, n, width = residuals.shape
    stacked = np.empty((b, 2 * n, width))
    x, xx = stacked[:, :n], stacked[:, n:]
    finite = np.isfinite(residuals)
    present = finite.astype(np.float32)  # 0/1 counts are exact in float32 (half the cost)
    np.copyto(x, residuals)
    x[~finite] = 0.0
    np.multiply(x, x, out=xx)
    with single_threaded_blas():
        cross = np.matmul(x, x.transpose(0, 2, 1))
        sums = np.matmul(stacked, present.transpose(0, 2, 1).astype(np.float64))
        count = np.matmul(present, present.transpose(0, 2, 1)).astype(np.float64)
    sum_x, sum_xx = sums[:, :n], sums[:, n:]
    with np.errstate(divide="ignore", invalid="ignore"):
        shared = sum_x * sum_x.transpose(0, 2, 1)
        shared /= count
        cross -= shared  # covariance x n_ij
        own = sum_x * sum_x
        own /= count
        sum_xx -= own  # variance of x_i over the dates shared with j, x n_ij
        var_x = sum_xx
        denom = var_x * var_x.transpose(0, 2, 1)
        np.sqrt(denom, out=denom)
        cross /= denom
    corr = cross
    keep = np.isfinite(corr)
    keep &= count >= MIN_CORRELATION_OVERLAP
    keep &= ~np.eye(n, dtype=bool)[None]
    kept = keep.sum(axis=(1, 2))
    corr[~keep] = 0.0
    total = corr.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(kept > 0, total / kept, np.nan), dtype=np.float64)


def _cached_correlations(result: StudyResult, used: list[IntArray]) -> FloatArray:
    """The KP correlation per basket, once per member set (it does not depend on the window).

    Baskets whose members share one estimation calendar (one event date, the usual case) are
    computed together, grouped by size, as batched products; the others one by one with
    calendar alignment.
    """
    residuals = result.fit.residuals
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
                residuals[members], est_positions
            )
    for size, groups in buckets.items():
        for part in row_blocks(len(groups), max(1, ROWS_PER_BLOCK // size)):
            batch = groups[part]
            values = _correlation_terms(residuals[np.stack([used[g] for g in batch])])
            for g, value in zip(batch, values, strict=True):
                out[g] = result.cache[used[g].tobytes()] = float(value)
    return out


@dataclass(frozen=True)
class _PairRanks:
    """Window-independent rank data of every pair's estimation residuals, built once.

    rank2: twice the average rank among the pair's own residuals (0 where missing): average
    ranks are integers or halves, so twice them is an exact small integer.
    slot: row * (E + 1) + position in the sorted row, P * (E + 1) where missing.
    below / upto: how many residuals lie strictly below / at or below each AR of the span of
    event days (a binary search in the sorted row).
    """

    rank2: NDArray[np.signedinteger[Any]]
    slot: NDArray[np.signedinteger[Any]]
    count: FloatArray  # (P,) residuals present (M_i)
    share_pos: FloatArray  # (P,) share of positive residuals
    below: NDArray[np.int32]  # (P, S)
    upto: NDArray[np.int32]  # (P, S)


def _row_searchsorted(ordered: FloatArray, values: FloatArray, right: bool) -> IntArray:
    """Per row, how many of ordered[row] are < values[row, k] (<= when right).

    ordered (n, E) is sorted ascending along rows (+inf for missing); values (n, S). A
    branch-free binary search on all rows at once: rows padded with +inf to a power of two,
    then one halving step per bit. `<=` is `<` against the next float up.
    """
    n, width = ordered.shape
    size = 1 << max(int(width - 1).bit_length(), 0)
    padded = np.full((n, size), np.inf)
    padded[:, :width] = ordered
    flat = padded.reshape(-1)
    query = np.nextafter(values, np.inf) if right else values
    found = np.broadcast_to((np.arange(n, dtype=np.int64) * size - 1)[:, None], values.shape)
    found = found.copy()  # flat index of the last element known to be < query (-1: none)
    step = size
    while step > 1:
        step >>= 1
        found += (flat[found + step] < query) * step
    found += flat[found + 1] < query  # the last bit
    return np.asarray(found - (np.arange(n, dtype=np.int64) * size - 1)[:, None])


def _pair_ranks(result: StudyResult) -> _PairRanks:
    cached = result.group_cache.get("ranks")
    if cached is not None:
        return cast(_PairRanks, cached)
    resid = result.fit.residuals
    span = result.ar_span
    rows, width = resid.shape
    slot_type = np.int32 if rows * (width + 1) < 2**31 - 1 else np.int64
    out = _PairRanks(
        rank2=np.empty((rows, width), dtype=np.int16 if 2 * width < 2**15 - 64 else np.int32),
        slot=np.empty((rows, width), dtype=slot_type),
        count=np.empty(rows),
        share_pos=np.empty(rows),
        below=np.empty(span.shape, dtype=np.int32),
        upto=np.empty(span.shape, dtype=np.int32),
    )
    sorted_at = np.arange(width, dtype=np.int64)[None, :]
    for part in row_blocks(rows):
        block = resid[part]
        n = len(block)
        present = np.isfinite(block)
        # missing -> +inf: sorts last, and without NaNs numpy's SIMD argsort applies (~6x)
        filled = np.where(present, block, np.inf)
        order = np.argsort(filled, axis=1)
        ordered = np.sort(filled, axis=1)  # SIMD sort: cheaper than gathering by order
        local = np.arange(n, dtype=np.int64)[:, None]
        row_slot = part.start * (width + 1) + local * (width + 1)  # slot of sorted position 0
        slot = out.slot[part]
        # slot[r, order[r, k]] = row_slot[r] + k as one flat scatter (put_along_axis builds
        # a row index per element, ~3x slower)
        order += local * width
        sorted_slot = (row_slot + sorted_at).astype(slot.dtype)
        slot.reshape(-1)[order.reshape(-1)] = sorted_slot.reshape(-1)
        rank2 = out.rank2[part]
        np.subtract(slot, (row_slot - 1).astype(slot.dtype), out=rank2, casting="unsafe")
        rank2 *= 2
        tied = ((ordered[:, 1:] == ordered[:, :-1]) & np.isfinite(ordered[:, 1:])).any(axis=1)
        if tied.any():
            rank2[tied] = np.rint(2.0 * stats.rankdata(block[tied], axis=1, nan_policy="omit"))
        missing = ~present
        rank2[missing] = 0
        slot[missing] = rows * (width + 1)
        count = present.sum(axis=1)
        out.count[part] = count
        with np.errstate(invalid="ignore", divide="ignore"):
            out.share_pos[part] = (block > 0).sum(axis=1) / count
        ar = span[part]
        # one search for both sides: <= v is < the next float up
        both = _row_searchsorted(ordered, np.hstack([ar, np.nextafter(ar, np.inf)]), right=False)
        out.below[part] = both[:, : ar.shape[1]]
        out.upto[part] = both[:, ar.shape[1] :]
    result.group_cache["ranks"] = out
    return out


def _correlations_without_warnings(result: StudyResult, used: list[IntArray]) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):  # numpy's error state is per thread
        return _cached_correlations(result, used)


def _correlations_and_ranks(
    result: StudyResult, used: list[IntArray]
) -> tuple[FloatArray, _PairRanks]:
    """The KP correlations and the pair rank cache; the first time, on two threads.

    Both are window-independent, cached on the result, and only read the residuals (built
    here first, once); numpy releases the GIL in their products and sorts, so on a second
    core they overlap (the two largest one-off costs of a study's group statistics).
    """
    if "ranks" in result.group_cache:
        return _cached_correlations(result, used), _pair_ranks(result)
    _ = result.fit.residuals
    with ThreadPoolExecutor(max_workers=1) as pool:
        correlations = pool.submit(_correlations_without_warnings, result, used)
        pairs = _pair_ranks(result)
        return correlations.result(), pairs


@dataclass(frozen=True)
class _GroupEstimation:
    """Window-independent sums over each group's members by estimation day."""

    present: FloatArray  # (G, E) members with a residual
    aar: FloatArray  # (G, E) mean residual
    days: FloatArray  # (G,) estimation days with an AAR
    sd_aar: FloatArray  # (G,)


def _group_estimation(result: StudyResult, member: IntArray, sizes: IntArray) -> _GroupEstimation:
    key = ("groups", member.tobytes(), sizes.tobytes())
    cached = result.group_cache.get(key)
    if cached is not None:
        return cast(_GroupEstimation, cached)
    resid = result.fit.residuals
    width = resid.shape[1]
    present = np.zeros((len(sizes), width))
    total = np.zeros((len(sizes), width))
    starts = np.cumsum(sizes) - sizes
    for g0, g1 in _group_blocks(sizes):
        block = resid[member[starts[g0] : starts[g0] + sizes[g0:g1].sum()]]
        finite = np.isfinite(block)
        present[g0:g1] = _segment_sum(finite.astype(np.float64), sizes[g0:g1])
        total[g0:g1] = _segment_sum(np.where(finite, block, 0.0), sizes[g0:g1])
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        aar = total / present
        days = np.isfinite(aar).sum(axis=1).astype(np.float64)
        sd_aar = np.sqrt(
            np.nansum((aar - np.nanmean(aar, axis=1, keepdims=True)) ** 2, axis=1) / (days - 1.0)
        )
    out = _GroupEstimation(present, aar, days, sd_aar)
    keys = list(result.group_cache)  # a snapshot: other threads may use the same result
    stale = [k for k in keys if k != "ranks" and k != "steps"]
    if len(stale) >= 16:  # bounded: member sets of past calls
        for old in stale:
            result.group_cache.pop(old, None)
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
        # Kolari-Pynnonen: residual correlation by calendar date (beside the rank cache)
        mean_corr, pairs = _correlations_and_ranks(result, used)
        inflation = 1.0 + (n - 1.0) * mean_corr
        kp_patell = patell * np.sqrt(1.0 / inflation)
        kp_bmp = bmp * np.sqrt((1.0 - mean_corr) / inflation)
        effective_n = n / inflation
        # event-time AAR over the window and portfolio (crude dependence) test
        win_ar = result.window_ar(window)[member]
        aar = seg(_nan_to_zero(win_ar)) / seg(np.isfinite(win_ar).astype(np.float64))
        est = _group_estimation(result, member, sizes)
        est_days, sd_aar = est.days, est.sd_aar
        length = float(window[1] - window[0] + 1)
        cda = caar / (math.sqrt(length) * sd_aar)
        # Corrado rank test, window form
        corrado = _corrado(result, pairs, est, window, member, sizes, seg)
        # generalised sign test
        p_pos = seg(pairs.share_pos[member]) / n
        wins = seg((car > 0).astype(np.float64))
        gsign = (wins - n * p_pos) / np.sqrt(n * p_pos * (1.0 - p_pos))
        # GRANK, skewness-corrected t (CAR and BHAR), minimum detectable CAAR
        gsar0 = scar / sd_scar[group_of]
        grank_z, grank_t, grank_p = _grank(result, pairs, est, member, sizes, gsar0)
        skew_t, skew_p = skewness_corrected_t(car, sizes)
        bhar = arrays.bhar[member]
        bhar_mean = seg(bhar) / n
        bhar_skew_t, bhar_skew_p = skewness_corrected_t(bhar, sizes)
        caar_se = np.sqrt(seg(arrays.variance[member])) / n
        mde = normal_mde_multiplier() * caar_se * np.sqrt(inflation)
        perm_p, boot_p = _resampling(result, est, window, member, car, caar, sizes)

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
                grank_z=float(grank_z[g]),
                grank_t=float(grank_t[g]),
                grank_p=float(grank_p[g]),
                skew_t=float(skew_t[g]),
                skew_p=float(skew_p[g]),
                perm_p=float(perm_p[g]),
                boot_p=float(boot_p[g]),
                bhar_mean=float(bhar_mean[g]) if ok else nan,
                bhar_skew_t=float(bhar_skew_t[g]),
                bhar_skew_p=float(bhar_skew_p[g]),
                mde=float(mde[g]),
            )
        )
    return out


def _corrado(
    result: StudyResult,
    pairs: _PairRanks,
    est: _GroupEstimation,
    window: Window,
    member: IntArray,
    sizes: IntArray,
    seg: Any,
) -> FloatArray:
    """Corrado z per group: ranks over estimation + window days, Kbar by relative day.

    Nothing is re-sorted per window. A window AR's rank in the combined set is its rank
    among the window's ARs plus the residuals below it (half the equal ones), from
    _pair_ranks. An estimation day's rank is its rank among the residuals plus 1 per window
    AR below it (1/2 per tie): a step function of its sorted position, built by adding the
    window ARs' positions and cumulating along each row. Ties are averaged as in row_ranks.
    """
    rows, width = pairs.rank2.shape
    win_all = result.window_ar(window)  # (P, L), NaN where missing or unusable
    present = np.isfinite(win_all)
    sl = slice(window[0] - int(result.span_offsets[0]), window[1] - int(result.span_offsets[0]) + 1)
    below, upto = pairs.below[:, sl], pairs.upto[:, sl]
    weight = 1.0 / (pairs.count + present.sum(axis=1) + 1.0)  # 1 / (T_i + 1)
    # window days (member rows)
    k_win = row_ranks(win_all[member]) + below[member] + 0.5 * (upto[member] - below[member])
    u_win = k_win * weight[member, None] - 0.5  # NaN stays NaN
    # estimation days: half a step at each window AR's left and right sorted position
    dtype = np.int8 if 2 * win_all.shape[1] < 127 else np.int32
    # the buffer is taken out of the cache while in use: a concurrent call makes its own
    flat = result.group_cache.pop("steps", None)
    if flat is None or flat.dtype != dtype or len(flat) != rows * (width + 1) + 1:
        flat = np.zeros(rows * (width + 1) + 1, dtype=dtype)  # last: missing residuals
    else:
        flat.fill(0)
    steps = flat[:-1].reshape(rows, width + 1)
    used = np.zeros(rows, dtype=bool)
    used[member] = True
    chosen_rows = np.flatnonzero(used)
    # each member row's step positions, sorted within the row: row by row they are then
    # sorted overall (no global sort). A missing AR steps at position `width`, which no
    # residual reads (sorted positions run 0..width-1), so it changes nothing.
    edges = np.concatenate([below[chosen_rows], upto[chosen_rows]], axis=1)
    edges[~np.concatenate([present[chosen_rows]] * 2, axis=1)] = width
    edges.sort(axis=1)
    at = ((chosen_rows * (width + 1))[:, None] + edges).reshape(-1)
    if len(at):  # flat[at] += 1 with repeats, as one assignment per distinct position
        first = np.flatnonzero(np.r_[True, at[1:] != at[:-1]])
        flat[at[first]] = np.diff(np.r_[first, len(at)])
    np.cumsum(steps, axis=1, out=steps)
    sums = np.zeros((len(sizes), width))
    starts = np.cumsum(sizes) - sizes
    half_weight = 0.5 * weight
    for g0, g1 in _group_blocks(sizes):
        chosen = member[starts[g0] : starts[g0] + sizes[g0:g1].sum()]
        block: IntArray | slice = chosen
        if len(chosen) and bool((np.diff(chosen) == 1).all()):  # consecutive: views, no copy
            block = slice(int(chosen[0]), int(chosen[-1]) + 1)
        twice = pairs.rank2[block] + flat[pairs.slot[block]]  # 2 x combined rank, integer
        ranks = np.multiply(twice, half_weight[block, None])
        sums[g0:g1] = _segment_sum(ranks, sizes[g0:g1])
    result.group_cache["steps"] = flat  # reusable by the next call
    kbar_est = (sums - 0.5 * est.present) / est.present
    kbar_win = seg(_nan_to_zero(u_win)) / seg(np.isfinite(u_win).astype(np.float64))
    kbar = np.concatenate([kbar_est, kbar_win], axis=1)
    s = np.sqrt(np.nanmean(kbar * kbar, axis=1))
    length = np.isfinite(kbar_win).sum(axis=1)
    return np.asarray(np.nansum(kbar_win, axis=1) / (np.sqrt(length) * s), dtype=np.float64)


def _grank(
    result: StudyResult,
    pairs: _PairRanks,
    est: _GroupEstimation,
    member: IntArray,
    sizes: IntArray,
    gsar0: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """GRANK per group (grank.py) without re-sorting per window.

    U_it (T_i + 1) = rank among the member's own residuals (window-independent, cached per
    member set) + [SAR_it > GSAR_i0] (+ 1/2 if equal): only the comparisons with the event
    observation are done per window, as resid > GSAR_i0 sigma_i (sigma_i > 0).
    """
    resid = result.fit.residuals
    sigma = np.sqrt(result.fit.sigma2)
    scale = 1.0 / (pairs.count + 2.0)  # 1 / (T_i + 1), T_i = M_i + 1
    rank_part = _grank_rank_part(result, pairs, member, sizes, scale)
    width = resid.shape[1]
    above_part = np.zeros((len(sizes), width))
    sum_u0 = np.zeros(len(sizes))
    starts = np.cumsum(sizes) - sizes
    for g0, g1 in _group_blocks(sizes):
        lo = int(starts[g0])
        rows = slice(lo, lo + int(sizes[g0:g1].sum()))
        chosen = member[rows]
        block = _rows_of(resid, chosen)
        threshold = (gsar0[rows] * sigma[chosen])[:, None]
        above = block > threshold
        equal = block == threshold
        weight = above.astype(np.float64)
        n_above = above.sum(axis=1)
        n_equal = equal.sum(axis=1)
        if n_equal.any():
            weight += 0.5 * equal
        weight *= scale[chosen, None]
        above_part[g0:g1] = _segment_sum(weight, sizes[g0:g1])
        count = pairs.count[chosen]
        rank0 = 1.0 + (count - n_above - n_equal) + 0.5 * n_equal
        u0 = np.where(np.isfinite(gsar0[rows]), rank0 * scale[chosen] - 0.5, np.nan)
        sum_u0[g0:g1] = _segment_sum(u0, sizes[g0:g1])
    sum_u_est = rank_part + above_part - 0.5 * est.present
    return grank_test(sum_u_est, est.present, sum_u0, sizes.astype(np.float64))


def _rows_of(matrix: FloatArray, chosen: IntArray) -> FloatArray:
    """matrix[chosen]: a view when the rows are consecutive (the usual stacking), else a copy."""
    if len(chosen) and bool((np.diff(chosen) == 1).all()):
        return matrix[int(chosen[0]) : int(chosen[-1]) + 1]
    return np.asarray(matrix[chosen], dtype=np.float64)


def _grank_rank_part(
    result: StudyResult, pairs: _PairRanks, member: IntArray, sizes: IntArray, scale: FloatArray
) -> FloatArray:
    """Per group and estimation day: sum over members of rank_it / (T_i + 1) (cached)."""
    key = ("grank_ranks", member.tobytes(), sizes.tobytes())
    cached = result.group_cache.get(key)
    if cached is not None:
        return cast(FloatArray, cached)
    width = pairs.rank2.shape[1]
    out = np.zeros((len(sizes), width))
    starts = np.cumsum(sizes) - sizes
    for g0, g1 in _group_blocks(sizes):
        lo = int(starts[g0])
        chosen = member[lo : lo + int(sizes[g0:g1].sum())]
        ranks = pairs.rank2[chosen] * (0.5 * scale[chosen, None])  # 0 where missing
        out[g0:g1] = _segment_sum(ranks, sizes[g0:g1])
    result.group_cache[key] = out
    return out


@dataclass(frozen=True)
class _Draws:
    """Window-independent resampling draws of a member set (resampling.py)."""

    order: IntArray  # stacked member rows, each group's members sorted by ticker
    uniforms: FloatArray  # (G, B) behind the placebo start days
    packed: list[NDArray[np.uint8]]  # per group: its wild-bootstrap sign bits


def _draws(result: StudyResult, member: IntArray, sizes: IntArray) -> _Draws:
    key = ("draws", member.tobytes(), sizes.tobytes())
    cached = result.group_cache.get(key)
    if cached is not None:
        return cast(_Draws, cached)
    draws, seed = result.params.resampling_draws, result.params.resampling_seed
    starts = np.cumsum(sizes) - sizes
    order = np.empty(len(member), dtype=np.int64)
    uniforms = np.full((len(sizes), draws), 0.0)
    packed = []
    for g, (lo, size) in enumerate(zip(starts, sizes, strict=True)):
        tickers = result.tickers[member[lo : lo + size]].astype(str)
        sort = np.argsort(tickers, kind="stable")
        order[lo : lo + size] = lo + sort
        name = draw_key(list(tickers[sort]))
        if size >= 2:
            uniforms[g] = placebo_uniforms(seed, name, draws)
        packed.append(rademacher_bits(seed, name, draws, int(size)))
    out = _Draws(order, uniforms, packed)
    result.group_cache[key] = out
    return out


def _resampling(
    result: StudyResult,
    est: _GroupEstimation,
    window: Window,
    member: IntArray,
    car: FloatArray,
    caar: FloatArray,
    sizes: IntArray,
) -> tuple[FloatArray, FloatArray]:
    """Placebo and wild-bootstrap p per basket (resampling.py), batched over baskets.

    The draws are seeded by the members' tickers (sorted), and each sign goes to the same
    ticker whatever the member order: the stored rows (named by event id) and an on-the-fly
    query (named by slug) get identical p-values.
    """
    draws = result.params.resampling_draws
    perm = np.full(len(sizes), np.nan)
    boot = np.full(len(sizes), np.nan)
    if draws == 0:
        return perm, boot
    drawn = _draws(result, member, sizes)
    big = sizes >= 2
    length = window[1] - window[0] + 1
    n_starts = est.aar.shape[1] - length + 1
    if n_starts > 0:
        starts = starts_from_uniforms(drawn.uniforms, n_starts)
        perm = np.where(big, placebo_p_many(est.aar, length, caar, starts), np.nan)
    group_of = np.repeat(np.arange(len(sizes)), sizes)
    dev = (car - caar[group_of])[drawn.order]  # sorted by ticker within each group
    first = np.cumsum(sizes) - sizes
    for size in np.unique(sizes[big]):
        groups = np.flatnonzero(sizes == size)
        rows = first[groups][:, None] + np.arange(size)[None, :]
        boot[groups] = wild_bootstrap_p_many(
            dev[rows], caar[groups], [drawn.packed[g] for g in groups], draws
        )
    return perm, boot
