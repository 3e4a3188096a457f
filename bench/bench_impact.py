"""Benchmark: the impact engine against PyPI eventstudy==0.1a12, and 100k pairs at scale.

Run from the repository root (the `bench` extra installs the peer into the venv):
    .venv/bin/python bench/bench_impact.py [--runs 5] [--sizes 45,500,5000,all]

Part 1 uses the recorded prices (TRACKER_DATA_DIR): the SAME real (ticker, day 0) pairs go to
both tools at each size (45 = the DeepSeek days; larger sizes are distinct real pairs drawn
with a fixed seed from every session whose estimation + event span is complete, as the peer
cannot handle gaps). The peer runs in a subprocess of --peer-python (default: this Python).
Part 2 is SYNTHETIC (fixed seed): 100,000 (event, ticker) pairs, every statistic, without and
with the resampling tests (1,000 placebo + 1,000 wild-bootstrap draws per basket and window).
Every figure is the median of --runs runs (>= 5) with its min-max range (bench/runs.py), wall
and CPU time, and the 1-minute load average when it was taken; figures are printed, never
asserted. A full run (all sizes, both parts) takes a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.runs import DEFAULT_RUNS, Spread, load_average
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
times = []
cpus = []
for _ in range(repeat):
    out = []
    c0, t0 = time.process_time(), time.perf_counter()
    for ticker, day0 in spec["pairs"]:
        ev = es.Single.market_model(
            security_ticker=ticker, market_ticker="SPY", event_date=np.datetime64(day0),
            event_window=tuple(spec["window"]), estimation_size=240, buffer_size=5,
        )
        out.append({"ar": list(map(float, ev.AR)), "car": float(ev.CAR[-1]),
                    "t": float(ev.tstat[-1]), "var_ar": float(ev.var_AR[0]), "df": int(ev.df)})
    times.append(time.perf_counter() - t0)
    cpus.append(time.process_time() - c0)
json.dump({"times": times, "cpu": cpus, "results": out, "version": es.__version__}, sys.stdout)
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


class Timing:
    """Runs of one measurement: wall and cpu seconds, and the load average at each run."""

    def __init__(self, wall: list[float], cpu: list[float], load: list[float]) -> None:
        self.wall, self.cpu, self.load = Spread.of(wall), Spread.of(cpu), load

    @property
    def median(self) -> float:
        return self.wall.median

    def text(self, digits: int = 3) -> str:
        """``wall 1.234 s (1.2-1.3, 5 runs), cpu 1.200 s (...), load 0.4-0.6`` (the 1-min load)."""
        return (
            f"wall {self.wall.seconds(digits)}, cpu {self.cpu.seconds(digits)}, "
            f"load {min(self.load):.1f}-{max(self.load):.1f}"
        )


def timed(fn: Callable[[], object], runs: int) -> Timing:
    wall, cpu, load = [], [], []
    for _ in range(runs):
        load.append(os.getloadavg()[0])
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return Timing(wall, cpu, load)


def candidate_pairs(returns: pd.DataFrame) -> list[tuple[str, date]]:
    """Every real (ticker, day 0) whose estimation + event span is complete (no gaps)."""
    complete = returns[[*TICKERS, "SPY"]].notna().to_numpy()
    span = np.vstack([np.zeros((1, complete.shape[1]), dtype=np.int64), complete.cumsum(axis=0)])
    out = []
    for pos in range(250, len(returns) - WINDOW[1]):
        full = span[pos + WINDOW[1] + 1] - span[pos - 250]
        for j, ticker in enumerate(TICKERS):
            if full[j] == 256 and full[-1] == 256:
                out.append((ticker, returns.index[pos].date()))
    return out


def deepseek_pairs(returns: pd.DataFrame) -> list[tuple[str, date]]:
    pairs = []
    for _, day0 in EVENTS:
        pos = int(returns.index.searchsorted(pd.Timestamp(day0)))
        span = returns.iloc[pos - 250 : pos + 6]
        pairs += [(t, day0) for t in TICKERS if span[[t, "SPY"]].notna().all().all()]
    return pairs


def run_peer(
    peer_python: str, returns: pd.DataFrame, pairs: list[tuple[str, date]], runs: int
) -> dict[str, object]:
    dense = returns.dropna(subset=["SPY"])
    with tempfile.TemporaryDirectory() as tmp:  # inputs for the peer, outside the repository
        spec_path = Path(tmp) / "spec.json"
        spec = {
            "dates": [d.date().isoformat() for d in dense.index],
            "returns": {c: dense[c].fillna(0.0).tolist() for c in dense.columns},
            "pairs": [(t, d.isoformat()) for t, d in pairs],
            "window": list(WINDOW),
            "repeat": runs,
        }
        spec_path.write_text(json.dumps(spec))
        script = Path(tmp) / "peer.py"
        script.write_text(PEER_SCRIPT)
        load = os.getloadavg()[0]
        proc = subprocess.run(
            [peer_python, str(script), str(spec_path)], capture_output=True, text=True, check=False
        )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "?")
    out: dict[str, object] = json.loads(proc.stdout)
    out["load"] = [load, os.getloadavg()[0]]
    return out


def peer_comparison(peer_python: str, sizes: list[str], runs: int) -> None:
    print("== Part 1: engine vs eventstudy==0.1a12, recorded data, market model, window [-5,+5]")
    root = data_dir()
    if not (root / "prices/daily").is_dir():
        print(f"SKIPPED: recorded data not found at {root} (set TRACKER_DATA_DIR)")
        return
    returns = load_returns(root)
    pool = candidate_pairs(returns)
    rng = np.random.default_rng(20250127)
    params = StudyParameters(event_windows=(WINDOW,))
    print(f"{len(pool):,} distinct real pairs with a complete span in the recorded data")
    print(
        "| pairs | eventstudy (median, spread, load) | engine (median, spread, load) | ratio wall |"
        " ratio cpu | max abs CAR diff |"
    )
    print("|---|---|---|---|---|---|")
    for size in sizes:
        if size == "45":
            pairs = deepseek_pairs(returns)
        else:
            n = len(pool) if size == "all" else min(int(size), len(pool))
            pairs = [pool[i] for i in np.sort(rng.choice(len(pool), n, replace=False))]
        requests = [EventRequest(f"{d}#{t}", t, d) for t, d in pairs]
        result = run_event_study(returns, requests, params)

        def engine_run(req: list[EventRequest] = requests) -> object:
            return run_event_study(returns, req, params)

        engine = timed(engine_run, max(runs, 7))
        try:
            peer = run_peer(peer_python, returns, pairs, runs)
        except (RuntimeError, OSError) as exc:
            print(f"| {len(pairs):,} | PEER FAILED: {exc} | {engine.text(4)} | | | |")
            continue
        times = [float(x) for x in peer["times"]]  # type: ignore[attr-defined]
        cpus = [float(x) for x in peer["cpu"]]  # type: ignore[attr-defined]
        load = [float(x) for x in peer["load"]]  # type: ignore[attr-defined]
        peer_timing = Timing(times, cpus, load)
        peer_text = peer_timing.text(4)
        ratio = peer_timing.median / engine.median
        ratio_cpu = peer_timing.cpu.median / engine.cpu.median
        peer_car = np.array([r["car"] for r in peer["results"]])  # type: ignore[attr-defined]
        diff = np.nanmax(np.abs(result.windows[WINDOW].car - peer_car))
        print(
            f"| {len(pairs):,} | {peer_text} | {engine.text(4)} | {ratio:,.0f}x | "
            f"{ratio_cpu:,.0f}x | {diff:.1e} |"
        )


def scale_test(runs: int, n_events: int = 1000, n_firms: int = 100) -> None:
    print("\n== Part 2: SYNTHETIC scale test, every statistic (fixed seed 20250127)")
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
    groups = {f"E{e:04d}": [(f"E{e:04d}", t) for t in tickers] for e in range(n_events)}
    n = len(requests)
    print(
        f"{n:,} pairs ({n_events} events x {n_firms} firms), 5 windows, market model, "
        f"volumes + market value; {n_events} baskets x 5 windows"
    )
    for label, draws in (("resampling off", 0), ("with 1,000-draw placebo + bootstrap", 1000)):
        params = StudyParameters(resampling_draws=draws)
        firm, group, total = [], [], []
        last = None
        for _ in range(runs):
            load = os.getloadavg()[0]
            c0, t0 = time.process_time(), time.perf_counter()
            result = run_event_study(returns, requests, params, volumes, shares, prices)
            c1, t1 = time.process_time(), time.perf_counter()
            members = {name: result.pair_index(keys) for name, keys in groups.items()}
            c2, t2 = time.process_time(), time.perf_counter()
            last = [group_statistics_many(result, members, w) for w in params.event_windows]
            c3, t3 = time.process_time(), time.perf_counter()
            firm.append((t1 - t0, c1 - c0, load))
            group.append((t3 - t2, c3 - c2, load))
            total.append((t1 - t0 + t3 - t2, c1 - c0 + c3 - c2, load))
        print(f"-- {label}:")
        for name, rows in (("firm level", firm), ("group level", group), ("TOTAL", total)):
            timing = Timing([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
            print(f"   {name}: {timing.text(2)}")
        assert last is not None
        first = last[0]
        print(
            f"   sanity: mean |patell_z| {np.nanmean([abs(g.patell_z) for g in first]):.2f}, "
            f"share of perm_p < 0.05: {np.nanmean([g.perm_p < 0.05 for g in first]):.3f}, "
            f"boot_p < 0.05: {np.nanmean([g.boot_p < 0.05 for g in first]):.3f}, "
            f"grank_p < 0.05: {np.nanmean([g.grank_p < 0.05 for g in first]):.3f}"
        )


def machine() -> None:
    """What the figures were measured on: cores, load, BLAS threads (set by no one here)."""
    print(
        f"machine: {load_average()}; "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')} (the bench "
        "sets no thread limit; the engine runs its small batched products on one BLAS thread)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer-python", default=sys.executable)
    parser.add_argument(
        "--runs", type=int, default=DEFAULT_RUNS, help="runs per figure (at least 5)"
    )
    parser.add_argument("--sizes", default="45,500,5000,all", help="pair counts for part 1")
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args()
    runs = max(DEFAULT_RUNS, args.runs)
    machine()
    if not args.skip_peer:
        peer_comparison(args.peer_python, args.sizes.split(","), runs)
    if not args.skip_scale:
        scale_test(runs)
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
