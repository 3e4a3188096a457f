"""Benchmark: the impact engine against PyPI eventstudy==0.1a12, and 100k pairs at scale.

Run from the repository root:
    /work/main/.venv/bin/python bench/bench_impact.py [--peer-python /work/venv-bench/bin/python]

Part 1 uses the recorded prices (TRACKER_DATA_DIR) and runs the peer in its own venv through
a subprocess (it pins nothing but pulls matplotlib/statsmodels; kept out of the product venv).
Part 2 is SYNTHETIC (fixed seed): 100,000 (event, ticker) pairs, every statistic of the spec.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracker.impact.returns import adjusted_close, returns_matrix
from tracker.impact.significance import group_statistics_many
from tracker.impact.study import EventRequest, StudyParameters, run_event_study

TICKERS = [
    "NVDA",
    "AMD",
    "AVGO",
    "TSM",
    "ASML",
    "MU",
    "SMCI",
    "MRVL",
    "VST",
    "CEG",
    "NRG",
    "OKLO",
    "SMR",
    "NEE",
    "VRT",
]
EVENTS = (("r1", date(2025, 1, 21)), ("selloff", date(2025, 1, 27)), ("rebound", date(2025, 1, 28)))
WINDOW = (-5, 5)
PEER_SCRIPT = r"""
import json, sys, time
import numpy as np
import eventstudy as es
spec = json.load(open(sys.argv[1]))
data = {"date": np.array(spec["dates"], dtype="datetime64[D]")}
for k, v in spec["returns"].items():
    data[k] = np.array(v, dtype=float)
es.Single._parameters["returns"] = data
repeat = spec["repeat"]
out = []
best = float("inf")
for _ in range(repeat):  # best of: the same rule as the engine's timing
    out = []
    t0 = time.perf_counter()
    for ticker, day0 in spec["pairs"]:
        ev = es.Single.market_model(
            security_ticker=ticker, market_ticker="SPY", event_date=np.datetime64(day0),
            event_window=tuple(spec["window"]), estimation_size=240, buffer_size=5,
        )
        out.append({"ar": list(map(float, ev.AR)), "car": float(ev.CAR[-1]),
                    "t": float(ev.tstat[-1]), "var_ar": float(ev.var_AR[0]), "df": int(ev.df)})
    best = min(best, time.perf_counter() - t0)
json.dump({"per_repeat": best, "results": out, "version": es.__version__}, sys.stdout)
"""


def data_dir() -> Path:
    env = os.environ.get("TRACKER_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def load_returns(root: Path) -> pd.DataFrame:
    prices = {}
    for ticker in [*TICKERS, "SPY"]:
        daily = pd.read_csv(root / "prices/daily" / f"{ticker}.csv", parse_dates=["date"])
        daily = daily.set_index("date")
        div_path = root / "prices/actions" / f"{ticker}_dividends.csv"
        divs = None
        if div_path.exists():
            divs = pd.read_csv(div_path, parse_dates=["date"]).set_index("date")["dividend"]
        prices[ticker] = adjusted_close(daily["close"], divs, daily["adj_close"])
    return returns_matrix(prices)


def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def peer_comparison(peer_python: str) -> None:
    print("== Part 1: engine vs eventstudy==0.1a12, recorded data, market model, window [-5,+5]")
    root = data_dir()
    if not (root / "prices/daily").is_dir():
        print(f"SKIPPED: recorded data not found at {root} (set TRACKER_DATA_DIR)")
        return
    returns = load_returns(root)
    # the peer cannot handle gaps: keep pairs whose whole estimation+event span is complete
    pairs = []
    for _, day0 in EVENTS:
        pos = int(returns.index.searchsorted(pd.Timestamp(day0)))
        span = returns.iloc[pos - 250 : pos + 6]
        pairs += [(t, day0) for t in TICKERS if span[[t, "SPY"]].notna().all().all()]
    params = StudyParameters(event_windows=(WINDOW,))
    requests = [EventRequest(d.isoformat(), t, d) for t, d in pairs]
    result = run_event_study(returns, requests, params)
    engine_s = best_of(lambda: run_event_study(returns, requests, params), 20)
    big = [EventRequest(f"{d}#{i}", t, d) for i in range(2000) for t, d in pairs]
    engine_big_s = best_of(lambda: run_event_study(returns, big, params), 5)

    if not Path(peer_python).exists():
        print(f"PEER NOT RUN: {peer_python} does not exist (create /work/venv-bench, see docs)")
        return
    dense = returns.dropna(subset=["SPY"])
    with tempfile.TemporaryDirectory() as tmp:  # inputs for the peer, outside the repository
        spec_path = Path(tmp) / "spec.json"
        spec = {
            "dates": [d.date().isoformat() for d in dense.index],
            "returns": {c: dense[c].fillna(0.0).tolist() for c in dense.columns},
            "pairs": [(t, d.isoformat()) for t, d in pairs],
            "window": list(WINDOW),
            "repeat": 10,
        }
        spec_path.write_text(json.dumps(spec))
        script = Path(tmp) / "peer.py"
        script.write_text(PEER_SCRIPT)
        proc = subprocess.run(
            [peer_python, str(script), str(spec_path)], capture_output=True, text=True, check=False
        )
    if proc.returncode != 0:
        print("PEER FAILED:", proc.stderr.strip().splitlines()[-1] if proc.stderr else "?")
        return
    peer = json.loads(proc.stdout)
    n = len(pairs)
    peer_rate = n / peer["per_repeat"]
    ar = result.window_ar(WINDOW)
    car = result.windows[WINDOW].car
    peer_ar = np.array([r["ar"] for r in peer["results"]])
    peer_car = np.array([r["car"] for r in peer["results"]])
    # the peer's t uses Var(CAR) = L * np.var(resid) (ddof=0, no forecast-error correction)
    sigma2_ddof0 = np.nanmean(result.fit.residuals**2, axis=1)
    peer_style_t = car / np.sqrt(11 * sigma2_ddof0)
    print(f"pairs: {n} real (event, ticker) pairs from {len(EVENTS)} DeepSeek days")
    print(
        f"eventstudy {peer['version']} (best of 10): {peer['per_repeat']:.4f} s -> "
        f"{peer_rate:,.0f} pairs/s"
    )
    print(
        f"engine, same {n} pairs: {engine_s:.4f} s -> {n / engine_s:,.0f} pairs/s "
        f"(ratio {n / engine_s / peer_rate:,.1f}x; fixed overhead dominates at this size)"
    )
    print(
        f"engine, same pairs x2000 ({len(big):,}, best of 5): {engine_big_s:.3f} s -> "
        f"{len(big) / engine_big_s:,.0f} pairs/s "
        f"(ratio {len(big) / engine_big_s / peer_rate:,.0f}x; goal >= 100x)"
    )
    print(
        f"max |AR diff| {np.nanmax(np.abs(ar - peer_ar)):.2e}, "
        f"max |CAR diff| {np.nanmax(np.abs(car - peer_car)):.2e}"
    )
    print(
        f"t: peer's convention recomputed from engine residuals vs peer: max |diff| "
        f"{np.nanmax(np.abs(peer_style_t - [r['t'] for r in peer['results']])):.2e}; "
        f"spec t (forecast-error corrected, M-2 dof) differs by up to "
        f"{np.nanmax(np.abs(result.windows[WINDOW].car_t - peer_style_t)):.3f}"
    )


def scale_test(n_events: int = 1000, n_firms: int = 100) -> None:
    print("\n== Part 2: SYNTHETIC scale test, every statistic of the spec (fixed seed 20250127)")
    rng = np.random.default_rng(20250127)
    n_days = n_events + 300
    index = pd.bdate_range("2020-01-01", periods=n_days)
    market = rng.normal(0.0004, 0.011, n_days)
    betas = rng.uniform(0.5, 2.0, n_firms)
    data = market[:, None] * betas + rng.normal(0, 0.02, (n_days, n_firms))
    data[rng.random(data.shape) < 0.01] = np.nan  # 1% missing days
    tickers = [f"T{i:03d}" for i in range(n_firms)]
    returns = pd.DataFrame(data, index=index, columns=tickers)
    returns["SPY"] = market
    volumes = pd.DataFrame(rng.lognormal(14, 0.5, (n_days, n_firms)), index, tickers)
    prices = (1 + returns[tickers].fillna(0)).cumprod() * 50
    shares = dict.fromkeys(tickers, 1000000000.0)
    requests = [
        EventRequest(f"E{e:04d}", t, index[260 + e].date())
        for e in range(n_events)
        for t in tickers
    ]
    params = StudyParameters()
    groups = {f"E{e:04d}": [(f"E{e:04d}", t) for t in tickers] for e in range(n_events)}
    c0, t0 = time.process_time(), time.perf_counter()
    result = run_event_study(returns, requests, params, volumes, shares, prices)
    c1, t1 = time.process_time(), time.perf_counter()
    members = {name: result.pair_index(keys) for name, keys in groups.items()}  # key lookup, once
    c2, t2 = time.process_time(), time.perf_counter()
    all_groups = [group_statistics_many(result, members, w) for w in params.event_windows]
    c3, t3 = time.process_time(), time.perf_counter()
    n = len(requests)
    print(
        f"{n:,} pairs ({n_events} events x {n_firms} firms), {len(params.event_windows)} windows,"
        f" market model, volumes + market value"
    )
    print(
        "firm level (fit, AR/CAR, corrected variances, t, p, volume, value): "
        f"{t1 - t0:.2f} s (cpu {c1 - c0:.2f} s)"
    )
    print(f"pair-key lookup: {t2 - t1:.2f} s (cpu {c2 - c1:.2f} s)")
    print(
        f"group level ({n_events} baskets x {len(params.event_windows)} windows: CAAR, Patell, "
        f"BMP, KP, CDA, Corrado, sign): {t3 - t2:.2f} s (cpu {c3 - c2:.2f} s)"
    )
    total = (t1 - t0) + (t3 - t2)
    print(
        f"TOTAL all statistics (firm + group): {total:.2f} s -> {n / total:,.0f} pairs/s "
        f"(goal <= 5 s; cpu {(c1 - c0) + (c3 - c2):.2f} s)"
    )
    print(
        f"sanity: {np.mean(result.windows[(0, 0)].status == 'ok'):.1%} ok on [0,0]; "
        f"mean |patell_z| {np.nanmean([abs(g.patell_z) for g in all_groups[0]]):.2f}"
    )


def machine() -> None:
    """What the figures were measured on: cores, load, BLAS threads (set by no one here)."""
    load = os.getloadavg()
    print(
        f"machine: os.cpu_count()={os.cpu_count()}, load average at start "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')} (the bench "
        "sets no thread limit; the engine runs its small batched products on one BLAS thread)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer-python", default="/work/venv-bench/bin/python")
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args()
    machine()
    peer_comparison(args.peer_python)
    if not args.skip_scale:
        scale_test()


if __name__ == "__main__":
    main()
