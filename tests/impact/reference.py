"""Slow reference event study written straight from IMPACT_SPEC.md.

One statsmodels OLS per pair in a plain loop, uncentred design matrices and the general
variance form g' sigma^2 (I + X*(X'X)^-1 X*') g, pandas for the correlation and scipy for the
ranks: deliberately a different route to the same numbers, so agreement means something.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from tracker.impact.study import EventRequest, StudyParameters

USABLE = ("ok", "gap_in_window")
EVENT_ROW = 10**6  # the cumulated event window's row in the GRANK ranks


@dataclass
class RefPair:
    key: tuple[str, str]
    status: dict[tuple[int, int], str]
    row: dict[tuple[int, int], dict[str, float]]
    est_resid: pd.Series  # by calendar date
    est_resid_rel: dict[int, float]  # by relative day
    ar: dict[int, float] = field(default_factory=dict)  # relative day -> AR (fitted pairs)
    dof: int = 0
    sigma2: float = math.nan


def _design(x: pd.DataFrame, model: str) -> np.ndarray:
    if model == "constant_mean":
        return np.ones((len(x), 1))
    return np.asarray(sm.add_constant(x.to_numpy(), has_constant="add"))


def reference_pair(
    returns: pd.DataFrame,
    request: EventRequest,
    params: StudyParameters,
    volumes: pd.DataFrame | None = None,
    shares: dict[str, float] | None = None,
    prices: pd.DataFrame | None = None,
    excluded: set[pd.Timestamp] | None = None,
) -> RefPair:
    """One pair from the formulas; ``excluded`` dates are dropped from its estimation sample."""
    model = str(params.model_name)
    regs = list(params.regressors)
    index = list(returns.index)
    n_rows = len(index)
    day0 = pd.Timestamp(request.day0)
    p0 = n_rows
    for i, d in enumerate(index):
        if d >= day0:
            p0 = i
            break
    last_row = max(i for i in range(n_rows) if returns.iloc[i].notna().any())
    e1, e2 = params.estimation_window
    k = 0 if model == "market_adjusted" else 1 + (0 if model == "constant_mean" else len(regs))

    def cell(row: int, col: str) -> float:
        if col not in returns.columns or row < 0 or row >= n_rows:
            return math.nan
        return float(returns[col].iloc[row])

    est_rows = list(range(p0 + e1, p0 + e2 + 1))
    dropped = excluded or set()
    y_est = np.array(
        [
            math.nan if 0 <= r < n_rows and index[r] in dropped else cell(r, request.ticker)
            for r in est_rows
        ]
    )
    x_est = np.array([[cell(r, c) for c in regs] for r in est_rows]).reshape(len(est_rows), -1)
    valid = np.isfinite(y_est) & np.isfinite(x_est).all(axis=1)
    m = int(valid.sum())
    firm_valid = int(np.isfinite(y_est).sum())

    if request.ticker not in returns.columns:
        pair_status = "unknown_ticker"
    elif firm_valid < params.min_estimation_returns:
        pair_status = "insufficient_data"
    elif any(c not in returns.columns for c in regs) or m < params.min_estimation_returns:
        pair_status = "missing_benchmark"
    else:
        pair_status = "ok"

    fitted = None
    est_resid = pd.Series(dtype=float)
    est_resid_rel: dict[int, float] = {}
    sigma2 = math.nan
    if pair_status == "ok":
        y = y_est[valid]
        x = pd.DataFrame(x_est[valid])
        if model == "market_adjusted":
            resid = y - x.to_numpy()[:, 0]
            sigma2 = float(resid @ resid / m)
            degenerate = not math.sqrt(sigma2) >= 1e-12
        else:
            design = _design(x, model)
            fitted = sm.OLS(y, design).fit()
            resid = fitted.resid
            sigma2 = float(fitted.ssr / (m - k))
            degenerate = not math.sqrt(sigma2) >= 1e-12
            if design.shape[1] > 1:
                xc = design[:, 1:] - design[:, 1:].mean(axis=0)
                eig = np.linalg.eigvalsh(xc.T @ xc)
                degenerate |= not eig[0] > 1e-12 * max(eig[-1], np.finfo(float).tiny)
        if degenerate:
            pair_status = "zero_variance"
        else:
            dates = [index[r] for r, v in zip(est_rows, valid, strict=True) if v]
            rels = [e for e, v in zip(range(e1, e2 + 1), valid, strict=True) if v]
            est_resid = pd.Series(resid, index=dates)
            est_resid_rel = dict(zip(rels, resid, strict=True))

    def expected(row_x: np.ndarray) -> float:
        if model == "market_adjusted":
            return float(row_x[0])
        design_row = np.concatenate([[1.0], row_x]) if model != "constant_mean" else np.ones(1)
        assert fitted is not None
        return float(design_row @ fitted.params)

    out = RefPair((request.event_key, request.ticker), {}, {}, est_resid, est_resid_rel, dof=m - k)
    out.sigma2 = sigma2
    s_lo = min(w[0] for w in params.event_windows)
    s_hi = max(w[1] for w in params.event_windows)
    for rel in range(s_lo, s_hi + 1):
        r = p0 + rel
        yv = cell(r, request.ticker)
        xv = np.array([cell(r, c) for c in regs])
        ok_fit = pair_status == "ok" and p0 < n_rows
        if ok_fit and math.isfinite(yv) and np.isfinite(xv).all():
            out.ar[rel] = yv - expected(xv)
        else:
            out.ar[rel] = math.nan

    for t1, t2 in params.event_windows:
        w = (t1, t2)
        rows = list(range(p0 + t1, p0 + t2 + 1))
        days = [(rel, r) for rel, r in zip(range(t1, t2 + 1), rows, strict=True)]
        have = [
            (rel, r)
            for rel, r in days
            if math.isfinite(cell(r, request.ticker))
            and all(math.isfinite(cell(r, c)) for c in regs)
        ]
        status = pair_status
        if status == "ok":
            if t1 <= 0 <= t2:
                if not math.isfinite(cell(p0, request.ticker)):
                    status = "no_event_day_price"
                elif not all(math.isfinite(cell(p0, c)) for c in regs):
                    status = "missing_benchmark"
            if not have and status == "ok":
                status = "no_event_day_price"
            if status == "ok" and len(have) < t2 - t1 + 1:
                status = "gap_in_window"
        if p0 + t2 > last_row and status != "unknown_ticker":
            status = "pending"
        out.status[w] = status

        names = ("car", "car_se", "car_t", "car_p", "raw_return", "value_change")
        row: dict[str, float] = dict.fromkeys((*names, "bhar", "bhar_t", "mde"), math.nan)
        firm_days = [r for r in rows if math.isfinite(cell(r, request.ticker))]
        if status != "pending" and firm_days:
            row["raw_return"] = float(np.prod([1 + cell(r, request.ticker) for r in firm_days]) - 1)
        if status != "pending" and prices is not None and shares and request.ticker in shares:
            p_start = _price(prices, p0 + t1 - 1, request.ticker)
            p_end = _price(prices, p0 + t2, request.ticker)
            row["value_change"] = shares[request.ticker] * (p_end - p_start)
        if status in USABLE:
            car = sum(out.ar[rel] for rel, _ in have)
            length = len(have)
            if model == "market_adjusted":
                var = sigma2 * length
            else:
                x_star = np.array([[cell(r, c) for c in regs] for _, r in have]).reshape(length, -1)
                design_w = _design(pd.DataFrame(x_star), model)
                design_e = _design(pd.DataFrame(x_est[valid]), model)
                g = np.ones(length)
                cov = np.eye(length) + design_w @ np.linalg.inv(design_e.T @ design_e) @ design_w.T
                var = float(g @ (sigma2 * cov) @ g)
            se = math.sqrt(var)
            row["car"] = car
            row["car_se"] = se
            row["car_t"] = car / se
            row["car_p"] = float(2 * stats.t.sf(abs(car / se), m - k))
            held, expect = 1.0, 1.0
            for rel, r in have:
                held *= 1.0 + cell(r, request.ticker)
                expect *= 1.0 + cell(r, request.ticker) - out.ar[rel]
            row["bhar"] = held - expect
            row["bhar_t"] = (held - expect) / se
            multiplier = stats.t.ppf(0.975, m - k) + stats.t.ppf(0.80, m - k)
            row["mde"] = float(multiplier * se)
        out.row[w] = row

    volume_z = math.nan
    if volumes is not None and request.ticker in volumes.columns and p0 < n_rows:
        vol = volumes[request.ticker]
        est_v = [float(vol.iloc[r]) for r in est_rows if 0 <= r < n_rows]
        logs = np.log([v for v in est_v if math.isfinite(v) and v > 0])
        v0 = float(vol.iloc[p0])
        if len(logs) >= params.min_estimation_returns and math.isfinite(v0) and v0 > 0:
            volume_z = (math.log(v0) - logs.mean()) / logs.std(ddof=1)
    for w in out.row:
        out.row[w]["abnormal_volume"] = volume_z
    if pair_status == "ok" and p0 < n_rows:
        out.row_fit = {  # type: ignore[attr-defined]
            "alpha": math.nan if model == "market_adjusted" else float(fitted.params[0]),
            "beta": float(fitted.params[1])
            if fitted is not None and model != "constant_mean"
            else math.nan,
            "sigma": math.sqrt(sigma2),
        }
    out.n_est = m  # type: ignore[attr-defined]
    return out


def _price(prices: pd.DataFrame, row: int, ticker: str) -> float:
    if row < 0 or row >= len(prices) or ticker not in prices.columns:
        return math.nan
    return float(prices[ticker].iloc[row])


def reference_group(pairs: list[RefPair], window: tuple[int, int]) -> dict[str, float]:
    """Every §5 statistic from the formulas, looping over firms."""
    used = [p for p in pairs if p.status[window] in USABLE]
    n = len(used)
    out: dict[str, float] = {"n": n}
    if n == 0:
        return out
    car = np.array([p.row[window]["car"] for p in used])
    scar = np.array([p.row[window]["car_t"] for p in used])
    d = np.array([p.dof for p in used], dtype=float)
    out["caar"] = car.mean()
    out["patell_z"] = scar.sum() / math.sqrt(np.sum(d / (d - 2)))
    out["bmp_t"] = math.sqrt(n) * scar.mean() / scar.std(ddof=1) if n > 1 else math.nan
    # Kolari-Pynnonen: residuals aligned by calendar date, pairwise-complete correlations
    frame = pd.DataFrame({i: p.est_resid for i, p in enumerate(used)})
    corr = frame.corr(min_periods=3).to_numpy()
    off = corr[~np.eye(n, dtype=bool)]
    r = float(np.nanmean(off)) if n > 1 and np.isfinite(off).any() else math.nan
    out["mean_corr"] = r
    out["patell_kp_z"] = out["patell_z"] * math.sqrt(1 / (1 + (n - 1) * r))
    out["kp_t"] = out["bmp_t"] * math.sqrt((1 - r) / (1 + (n - 1) * r))
    out["effective_n"] = n / (1 + (n - 1) * r)
    # portfolio test: AAR over estimation relative days
    rel_frame = pd.DataFrame({i: pd.Series(p.est_resid_rel) for i, p in enumerate(used)})
    aar_est = rel_frame.mean(axis=1, skipna=True)
    length = window[1] - window[0] + 1
    out["cda_t"] = out["caar"] / (math.sqrt(length) * aar_est.std(ddof=1))
    # Corrado rank test, window form
    kbar_rows = []
    for p in used:
        days = sorted(p.est_resid_rel) + list(range(window[0], window[1] + 1))
        values = [p.est_resid_rel[t] for t in sorted(p.est_resid_rel)] + [
            p.ar[t] for t in range(window[0], window[1] + 1)
        ]
        series = pd.Series(values, index=days).dropna()
        ranks = stats.rankdata(series.to_numpy())
        u = ranks / (len(series) + 1) - 0.5
        kbar_rows.append(pd.Series(u, index=series.index))
    kbar = pd.DataFrame(kbar_rows).T.mean(axis=1, skipna=True)
    s = math.sqrt(float((kbar**2).mean()))
    in_window = kbar[(kbar.index >= window[0]) & (kbar.index <= window[1])]
    out["corrado_z"] = in_window.sum() / (math.sqrt(len(in_window)) * s)
    # generalised sign test
    shares = [np.mean(np.array(list(p.est_resid_rel.values())) > 0) for p in used]
    p_pos = float(np.mean(shares))
    w = float(np.sum(car > 0))
    out["gsign_z"] = (w - n * p_pos) / math.sqrt(n * p_pos * (1 - p_pos))
    out["aar"] = [  # type: ignore[assignment]
        pd.Series([p.ar[t] for p in used]).mean() for t in range(window[0], window[1] + 1)
    ]
    return out


def _hall_skew_t(x: np.ndarray) -> tuple[float, float]:
    """Hall (1992) skewness-corrected t, from scipy's unbiased skewness (a different route)."""
    n = len(x)
    if n < 3:
        return math.nan, math.nan
    s = x.mean() / x.std(ddof=1)
    # EST's gamma = n/((n-1)(n-2)) sum d^3 / s^3 is scipy's bias-corrected G1
    g1 = stats.skew(x, bias=False)
    t = math.sqrt(n) * (s + g1 * s**2 / 3 + g1**2 * s**3 / 27 + g1 / (6 * n))
    return t, float(2 * stats.t.sf(abs(t), n - 1))


def reference_robust(
    pairs: list[RefPair],
    window: tuple[int, int],
    params: StudyParameters,
) -> dict[str, float]:
    """GRANK, skewness-corrected t, BHAR mean, placebo and wild bootstrap, basket MDE."""
    from tracker.impact.resampling import draw_key, placebo_starts, rademacher_signs

    used = [p for p in pairs if p.status[window] in USABLE]
    used.sort(key=lambda p: p.key[1])  # draws are keyed and assigned by ticker
    basket = draw_key([p.key[1] for p in used])
    n = len(used)
    out: dict[str, float] = {"n": n}
    if n < 2:
        return out
    car = np.array([p.row[window]["car"] for p in used])
    scar = np.array([p.row[window]["car_t"] for p in used])
    bhar = np.array([p.row[window]["bhar"] for p in used])
    out["bhar_mean"] = float(np.mean(bhar))
    out["skew_t"], out["skew_p"] = _hall_skew_t(car)
    out["bhar_skew_t"], out["bhar_skew_p"] = _hall_skew_t(bhar)
    # GRANK: rank each firm's SARs and its scaled SCAR together
    scar_star = scar / scar.std(ddof=1)
    u_rows = {}
    for i, p in enumerate(used):
        days = sorted(p.est_resid_rel)
        values = [p.est_resid_rel[t] / math.sqrt(p.sigma2) for t in days] + [scar_star[i]]
        ranks = stats.rankdata(values)
        u_rows[i] = pd.Series(ranks / (len(values) + 1) - 0.5, index=[*days, EVENT_ROW])
    u = pd.DataFrame(u_rows)  # days x firms
    ubar = u.mean(axis=1, skipna=True)
    n_t = u.notna().sum(axis=1)
    big_t = len(ubar)
    s_u = math.sqrt(float(((n_t / n) * ubar**2).sum()) / big_t)
    z = float(ubar[EVENT_ROW]) / s_u
    out["grank_z"] = z
    out["grank_t"] = z * math.sqrt((big_t - 2) / (big_t - 1 - z * z))
    out["grank_p"] = float(2 * stats.t.sf(abs(out["grank_t"]), big_t - 2))
    # placebo: pseudo-event windows of the estimation AAR (relative days), one loop per draw
    rel_frame = pd.DataFrame({i: pd.Series(p.est_resid_rel) for i, p in enumerate(used)})
    length = window[1] - window[0] + 1
    draws, seed = params.resampling_draws, params.resampling_seed
    e1, e2 = params.estimation_window
    est_days = list(range(e1, e2 + 1))
    aar = rel_frame.mean(axis=1, skipna=True).reindex(est_days)
    caar = float(car.mean())
    starts = placebo_starts(seed, basket, len(est_days) - length + 1, draws)
    hits = 0
    for s in starts:
        pseudo = float(aar.iloc[s : s + length].sum(skipna=True))
        hits += abs(pseudo) >= abs(caar)
    out["perm_p"] = (1 + hits) / (draws + 1)
    # wild bootstrap of the cross-sectional t
    t_obs = math.sqrt(n) * car.mean() / car.std(ddof=1)
    signs = rademacher_signs(seed, basket, draws, n)
    hits = 0
    for b in range(draws):
        star = signs[b] * (car - car.mean())
        hits += abs(math.sqrt(n) * star.mean() / star.std(ddof=1)) >= abs(t_obs)
    out["boot_p"] = (1 + hits) / (draws + 1)
    # basket MDE: normal multiplier x SE(CAAR) x KP inflation
    frame = pd.DataFrame({i: p.est_resid for i, p in enumerate(used)})
    corr = frame.corr(min_periods=3).to_numpy()
    r = float(np.nanmean(corr[~np.eye(n, dtype=bool)]))
    se = np.array([p.row[window]["car_se"] for p in used])
    multiplier = stats.norm.ppf(0.975) + stats.norm.ppf(0.80)
    out["mde"] = float(multiplier * math.sqrt(np.sum(se**2)) / n * math.sqrt(1 + (n - 1) * r))
    return out
