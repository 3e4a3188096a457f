"""Firm-level event study for many (event, ticker) pairs at once (IMPACT_SPEC.md §3-§4).

Relative days count rows of the returns index, which must be the trading sessions: day -1 is
the previous session, not the previous weekday. Every requested pair comes back with a status
for every window; a pair that cannot be measured says why instead of disappearing.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from enum import StrEnum
from functools import cached_property
from operator import attrgetter
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from tracker.impact.calendar import DEFAULT_CALENDAR, mapping_rule
from tracker.impact.models import (
    WELL_POSED,
    BoolArray,
    Fit,
    FloatArray,
    IntArray,
    MarketSums,
    ModelName,
    abnormal_returns,
    fit,
    fit_market_from_sums,
    merge_fit,
    n_parameters,
    window_moments,
)
from tracker.impact.power import minimum_detectable_effect
from tracker.impact.resampling import DEFAULT_DRAWS, DEFAULT_SEED
from tracker.impact.windowsums import WindowSums, row_blocks, window_rows

Window = tuple[int, int]
NDArray_str = np.ndarray  # object arrays of str (ticker, status) or datetime64[D]
DEFAULT_WINDOWS: tuple[Window, ...] = ((0, 0), (0, 1), (-1, 1), (0, 5), (-5, 5))


class Status(StrEnum):
    """Why a (pair, window) has or lacks numbers. Only OK and GAP_IN_WINDOW enter groups."""

    OK = "ok"
    GAP_IN_WINDOW = "gap_in_window"  # some window days lack a return: CAR over the rest
    PENDING = "pending"  # the window ends after the last session with data
    UNKNOWN_TICKER = "unknown_ticker"  # no returns column at all
    INSUFFICIENT_DATA = "insufficient_data"  # fewer valid estimation returns than required
    MISSING_BENCHMARK = "missing_benchmark"  # the firm has data, the benchmark does not
    ZERO_VARIANCE = "zero_variance"  # constant residuals or constant/collinear benchmarks
    NO_EVENT_DAY_PRICE = "no_event_day_price"  # no return on day 0 (or on any window day)


USABLE_STATUSES = frozenset({Status.OK, Status.GAP_IN_WINDOW})

# Statuses are worked out as small integer codes (cheap masks over 100k pairs) and turned
# into the str values once per window at the end.
_STATUSES = tuple(Status)
_CODE = {status: np.int8(i) for i, status in enumerate(_STATUSES)}
_STATUS_TEXT = np.array([status.value for status in _STATUSES], dtype=object)


def window_label(window: Window) -> str:
    """'[0,+1]', '[-5,+5]': the key a window has in stored results."""
    return "[" + ",".join(f"{d:+d}" if d else "0" for d in window) + "]"


@dataclass(frozen=True)
class EventRequest:
    """One firm-event pair: the same ticker in two events is two requests."""

    event_key: str
    ticker: str
    day0: date
    # the count in force for this pair (it changes over time); None: the ticker's mapping
    shares_outstanding: float | None = None


@dataclass(frozen=True)
class StudyParameters:
    """Every choice that changes a number; stored (and fingerprinted) with the results."""

    model: ModelName | str = ModelName.MARKET
    benchmark: str = "SPY"
    factors: tuple[str, ...] = ()  # extra regressors of the factor model, after the benchmark
    estimation_window: Window = (-250, -11)
    event_windows: tuple[Window, ...] = DEFAULT_WINDOWS
    min_estimation_returns: int = 120
    calendar: str = DEFAULT_CALENDAR
    resampling_draws: int = DEFAULT_DRAWS  # placebo and wild-bootstrap draws per basket
    resampling_seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        object.__setattr__(self, "model", ModelName(self.model))
        object.__setattr__(self, "factors", tuple(self.factors))
        object.__setattr__(self, "estimation_window", tuple(self.estimation_window))
        object.__setattr__(self, "event_windows", tuple(tuple(w) for w in self.event_windows))
        e1, e2 = self.estimation_window
        if e1 > e2:
            raise ValueError(f"estimation_window {self.estimation_window}: start after end")
        if not self.event_windows:
            raise ValueError("event_windows: at least one window is needed")
        for t1, t2 in self.event_windows:
            if t1 > t2:
                raise ValueError(f"event window ({t1}, {t2}): start after end")
            if t1 <= e2 and e1 <= t2:
                raise ValueError(f"event window ({t1}, {t2}) overlaps the estimation window")
        if self.model_name is ModelName.FACTOR and not self.factors:
            raise ValueError("factors: the factor model needs at least one factor ticker")
        floor = self.n_params + 3  # dof > 2 keeps the Patell variance d/(d-2) finite
        if self.min_estimation_returns < floor:
            raise ValueError(f"min_estimation_returns must be at least {floor} for this model")
        if self.min_estimation_returns > e2 - e1 + 1:
            raise ValueError("min_estimation_returns exceeds the estimation window length")
        if self.resampling_draws < 0:
            raise ValueError("resampling_draws must be >= 0 (0 turns the resampling tests off)")
        if self.resampling_seed < 0:
            raise ValueError("resampling_seed must be a non-negative integer")

    @property
    def model_name(self) -> ModelName:
        return ModelName(self.model)

    @property
    def regressors(self) -> tuple[str, ...]:
        """Return series the model reads, in order (the benchmark first)."""
        if self.model_name is ModelName.CONSTANT_MEAN:
            return ()
        if self.model_name is ModelName.FACTOR:
            return (self.benchmark, *self.factors)
        return (self.benchmark,)

    @property
    def n_params(self) -> int:
        return n_parameters(self.model_name, len(self.regressors))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["model"] = str(self.model_name)
        out["estimation_window"] = list(self.estimation_window)
        out["event_windows"] = [list(w) for w in self.event_windows]
        out["factors"] = list(self.factors)
        out["mapping_rule"] = mapping_rule(self.calendar)
        return out


@dataclass(frozen=True)
class FirmResult:
    """One (pair, window) row, typed."""

    event_key: str
    ticker: str
    day0: date
    day0_session: date | None
    window: str
    model: str
    status: str
    alpha: float
    beta: float
    sigma: float
    n_est: int
    dof: int
    n_window: int
    raw_return: float
    car: float
    car_se: float
    car_t: float
    car_p: float
    scar: float
    abnormal_volume: float
    value_change: float
    bhar: float = math.nan
    bhar_t: float = math.nan
    mde: float = math.nan
    ar: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class WindowArrays:
    """Per-pair statistics of one event window (arrays over pairs)."""

    window: Window
    status: NDArray_str
    car: FloatArray
    variance: FloatArray
    car_se: FloatArray
    car_t: FloatArray
    car_p: FloatArray
    n_days: IntArray
    raw_return: FloatArray
    value_change: FloatArray
    bhar: FloatArray
    bhar_t: FloatArray
    mde: FloatArray


@dataclass(frozen=True)
class StudyResult:
    """Everything the group tests and the storage layer need, as arrays over pairs."""

    params: StudyParameters
    index: pd.DatetimeIndex
    event_keys: NDArray_str
    tickers: NDArray_str
    day0: NDArray_str  # datetime64[D] as requested
    position: IntArray  # row of day 0 in the index (len(index) when after the data)
    fit: Fit
    est_offsets: IntArray
    span_offsets: IntArray
    ar_span: FloatArray  # (P, S) ARs over span_offsets, NaN where missing or not fitted
    abnormal_volume: FloatArray
    windows: dict[Window, WindowArrays]
    pair_status: NDArray_str
    fit_valid: BoolArray  # the fit is shown: enough data, and day 0 inside the index
    # memo of window-independent group quantities (residual correlations), keyed by members
    cache: dict[bytes, float] = field(default_factory=dict, compare=False, repr=False)
    # memo of window-independent per-pair and per-member-set arrays of the group statistics
    group_cache: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_pairs(self) -> int:
        return len(self.tickers)

    @property
    def mapping_rule(self) -> str:
        return mapping_rule(self.params.calendar)

    @cached_property
    def _lookup(self) -> dict[tuple[str, str], int]:
        return {k: i for i, k in enumerate(zip(self.event_keys, self.tickers, strict=True))}

    def pair_index(self, keys: Sequence[tuple[str, str]]) -> IntArray:
        """Positions of (event_key, ticker) pairs; KeyError names a pair that was not run."""
        lookup = self._lookup
        try:
            return np.array([lookup[(e, t)] for e, t in keys], dtype=np.int64)
        except KeyError as exc:
            raise KeyError(f"pair {exc.args[0]} is not in this study") from None

    def select(
        self, event_keys: Sequence[str] | None = None, tickers: Sequence[str] | None = None
    ) -> IntArray:
        """Pairs of the given events and/or tickers (all pairs when both are None)."""
        keep = np.ones(self.n_pairs, dtype=bool)
        if event_keys is not None:
            keep &= np.isin(self.event_keys, list(event_keys))
        if tickers is not None:
            keep &= np.isin(self.tickers, list(tickers))
        return np.flatnonzero(keep).astype(np.int64)

    def day0_session(self) -> NDArray_str:
        out = np.full(self.n_pairs, np.datetime64("NaT"), dtype="datetime64[D]")
        inside = self.position < len(self.index)
        out[inside] = self.index.values.astype("datetime64[D]")[self.position[inside]]
        return out

    def window_ar(self, window: Window) -> FloatArray:
        """ARs of the window's days (P, L), NaN for days without one or unusable pairs."""
        t1, t2 = window
        lo = int(t1 - self.span_offsets[0])
        ar = self.ar_span[:, lo : lo + t2 - t1 + 1].copy()
        usable = np.isin(self.windows[window].status, list(USABLE_STATUSES))
        ar[~usable] = np.nan
        return ar

    def ar_path(self, event_key: str, ticker: str) -> pd.Series:
        """Relative day -> AR for one pair over every day the windows span."""
        i = int(self.pair_index([(event_key, ticker)])[0])
        return pd.Series(self.ar_span[i], index=pd.Index(self.span_offsets, name="day"))

    def firm_frame(self) -> pd.DataFrame:
        """One row per (pair, window), the columns of FirmResult except the AR map."""
        frames = []
        session = self.day0_session()
        beta = self.fit.slopes[:, 0] if self.fit.slopes.shape[1] else np.full(self.n_pairs, np.nan)
        fit_ok = self.fit_valid
        for window, arrays in self.windows.items():
            frames.append(
                pd.DataFrame(
                    {
                        "event_key": self.event_keys,
                        "ticker": self.tickers,
                        "day0": self.day0,
                        "day0_session": session,
                        "window": window_label(window),
                        "t1": window[0],
                        "t2": window[1],
                        "model": str(self.params.model_name),
                        "status": arrays.status,
                        "alpha": np.where(fit_ok, self.fit.alpha, np.nan),
                        "beta": np.where(fit_ok, beta, np.nan),
                        "sigma": np.where(fit_ok, np.sqrt(self.fit.sigma2), np.nan),
                        "n_est": self.fit.n_est,
                        "dof": self.fit.dof,
                        "n_window": arrays.n_days,
                        "raw_return": arrays.raw_return,
                        "car": arrays.car,
                        "car_se": arrays.car_se,
                        "car_t": arrays.car_t,
                        "car_p": arrays.car_p,
                        "scar": arrays.car_t,
                        "abnormal_volume": self.abnormal_volume,
                        "value_change": arrays.value_change,
                        "bhar": arrays.bhar,
                        "bhar_t": arrays.bhar_t,
                        "mde": arrays.mde,
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def firm_records(self) -> list[FirmResult]:
        """Typed rows, AR maps included (builds Python objects: for output, not for maths)."""
        frame = self.firm_frame()
        records = []
        ar_by_window = {window_label(w): (w, self.window_ar(w)) for w in self.windows}
        for row_no, row in enumerate(frame.to_dict("records")):
            values: dict[str, Any] = {str(k): v for k, v in row.items()}
            window, ar = ar_by_window[str(values["window"])]
            pair = row_no % self.n_pairs
            days = range(window[0], window[1] + 1)
            ar_map = {d: float(v) for d, v in zip(days, ar[pair], strict=True)}
            values.pop("t1")
            values.pop("t2")
            values["day0"] = pd.Timestamp(values["day0"]).date()
            ses = values["day0_session"]
            values["day0_session"] = None if pd.isna(ses) else pd.Timestamp(ses).date()
            records.append(FirmResult(**values, ar=ar_map))
        return records

    def to_json_dict(self, groups: Sequence[Any] = ()) -> dict[str, Any]:
        """JSON-ready results: NaN -> None, relative days as string keys."""
        firms = []
        for rec in self.firm_records():
            firms.append(
                {
                    "event_key": rec.event_key,
                    "ticker": rec.ticker,
                    "day0": rec.day0.isoformat(),
                    "day0_session": rec.day0_session.isoformat() if rec.day0_session else None,
                    "window": rec.window,
                    "model": rec.model,
                    "alpha": _json_float(rec.alpha),
                    "beta": _json_float(rec.beta),
                    "sigma": _json_float(rec.sigma),
                    "n_est": int(rec.n_est),
                    "raw_return": _json_float(rec.raw_return),
                    "car": _json_float(rec.car),
                    "car_se": _json_float(rec.car_se),
                    "car_t": _json_float(rec.car_t),
                    "car_p": _json_float(rec.car_p),
                    "ar": {str(d): _json_float(v) for d, v in rec.ar.items()},
                    "abnormal_volume": _json_float(rec.abnormal_volume),
                    "value_change": _json_float(rec.value_change),
                    "bhar": _json_float(rec.bhar),
                    "bhar_t": _json_float(rec.bhar_t),
                    "mde": _json_float(rec.mde),
                    "status": rec.status,
                }
            )
        return {
            "mapping_rule": self.mapping_rule,
            "parameters": self.params.to_dict(),
            "firms": firms,
            "groups": [g.to_json_dict() for g in groups],
        }


def _json_float(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _session_index(returns: pd.DataFrame) -> pd.DatetimeIndex:
    index = returns.index
    if not (
        isinstance(index, pd.DatetimeIndex)
        and index.tz is None
        and bool((index.values == index.values.astype("datetime64[D]")).all())
    ):  # already tz-naive midnights (the usual case): normalising would copy it unchanged
        index = pd.DatetimeIndex(pd.to_datetime(index)).normalize()
    if index.tz is not None:
        raise ValueError("the returns index must hold tz-naive session dates")
    if not index.is_monotonic_increasing or not index.is_unique:
        raise ValueError("the returns index must be strictly increasing sessions")
    return index


def _aligned(frame: pd.DataFrame | None, index: pd.DatetimeIndex) -> pd.DataFrame | None:
    if frame is None:
        return None
    out = frame.copy()
    out.index = _session_index(frame)
    return out.reindex(index)


class _Gatherer:
    """Reads (pair, relative day) cells of a sessions x tickers matrix, NaN outside it."""

    def __init__(self, matrix: FloatArray, position: IntArray, lo: int, hi: int) -> None:
        rows, cols = matrix.shape
        self.pad = max(0, -lo)
        padded = np.full((rows + self.pad + max(0, hi) + 1, cols + 1), np.nan)
        padded[self.pad : self.pad + rows, :cols] = matrix
        self.padded = padded
        self.position = position
        self.missing_col = cols

    def take(
        self, cols: IntArray, offsets: IntArray, position: IntArray | None = None
    ) -> FloatArray:
        """cols (P,) -> (P, D); cols (P, q) -> (P, D, q). position: a subset's day-0 rows."""
        pos = self.position if position is None else position
        rows = pos[:, None] + offsets[None, :] + self.pad
        if cols.ndim == 1:
            return np.asarray(self.padded[rows, cols[:, None]], dtype=np.float64)
        return np.asarray(self.padded[rows[:, :, None], cols[:, None, :]], dtype=np.float64)


def run_event_study(
    returns: pd.DataFrame,
    requests: Sequence[EventRequest],
    params: StudyParameters | None = None,
    volumes: pd.DataFrame | None = None,
    shares_outstanding: Mapping[str, float] | None = None,
    prices: pd.DataFrame | None = None,
    estimation_excluded: pd.DataFrame | None = None,
) -> StudyResult:
    """Measure every requested pair in every window of params.

    returns: simple returns, sessions x tickers, NaN = missing (see returns.returns_matrix).
    volumes / prices: same layout (reindexed onto returns' sessions); prices are the closes
    the market-value change is computed from, shares_outstanding maps ticker -> shares.
    estimation_excluded: booleans, sessions x tickers; a True cell is left out of every
    estimation window of that ticker (a "clean" estimation window: days of other news about
    the firm, earnings, macro releases), as if the return were missing. Event-window returns
    are never excluded, and neither are the model's regressors.
    """
    params = params or StudyParameters()
    index = _session_index(returns)
    data = returns.to_numpy(dtype=np.float64, na_value=np.nan)
    n_rows, n_cols = data.shape
    # attribute reads through C-level map(attrgetter); lookups below are vectorised
    key_list = list(map(_EVENT_KEY, requests))
    ticker_list = list(map(_TICKER, requests))
    # distinct event keys cannot repeat a pair (and a set of str reuses their cached hashes)
    distinct = len(set(key_list)) == len(requests)
    if not distinct and len(set(zip(key_list, ticker_list, strict=True))) != len(requests):
        raise ValueError("duplicate (event_key, ticker) requests")
    event_keys = np.array(key_list, dtype=object)
    tickers = np.array(ticker_list, dtype=object)
    epoch = date(1970, 1, 1).toordinal()
    day0 = (
        np.fromiter(map(date.toordinal, map(_DAY0, requests)), np.int64, len(requests)) - epoch
    ).astype("datetime64[D]")
    col = _column_of(returns.columns, tickers)
    position = np.searchsorted(index.values.astype("datetime64[D]"), day0).astype(np.int64)
    has_data = np.flatnonzero(np.isfinite(data).any(axis=1))
    last_row = int(has_data[-1]) if len(has_data) else -1

    e1, e2 = params.estimation_window
    est_offsets = np.arange(e1, e2 + 1, dtype=np.int64)
    s_lo = min(w[0] for w in params.event_windows)
    s_hi = max(w[1] for w in params.event_windows)
    span_offsets = np.arange(s_lo, s_hi + 1, dtype=np.int64)
    lo, hi = min(e1, s_lo - 1), max(e2, s_hi)
    grid = _Gatherer(data, position, lo, hi)

    reg_cols = _column_of(returns.columns, np.array(params.regressors, dtype=object))
    reg = np.broadcast_to(reg_cols, (len(requests), len(reg_cols)))
    est_data = _without_excluded(data, returns.columns, index, estimation_excluded, reg_cols)
    est_grid = grid if est_data is data else _Gatherer(est_data, position, lo, hi)
    if params.model_name is ModelName.MARKET:
        fitted, firm_valid = _fit_market(
            est_data, est_grid, col, int(reg_cols[0]), est_offsets, params
        )
    else:
        y_est = est_grid.take(col, est_offsets)
        z_est = grid.take(reg, est_offsets)
        fitted = fit(params.model_name, y_est, z_est, params.n_params)
        firm_valid = np.isfinite(y_est).sum(axis=1)
    pair_code = _pair_status(
        col == n_cols, firm_valid, fitted, params, bool((reg_cols == n_cols).any())
    )
    y_span = grid.take(col, span_offsets)
    z_span = grid.take(reg, span_offsets)
    ar_span = abnormal_returns(fitted, y_span, z_span)
    fit_valid = (pair_code == _CODE[Status.OK]) & (position < n_rows)
    ar_span[~fit_valid] = np.nan

    price_grid = _grid_for(_aligned(prices, index), tickers, position, lo, hi)
    shares = _shares_of(requests, ticker_list, shares_outstanding)
    windows = {}
    for window in params.event_windows:
        windows[window] = _window_arrays(
            window,
            fitted,
            pair_code,
            ar_span,
            y_span,
            z_span,
            span_offsets,
            position,
            last_row,
            price_grid,
            shares,
        )
    volume_grid = _grid_for(_aligned(volumes, index), tickers, position, lo, hi)
    abnormal_volume = _abnormal_volume(
        volume_grid, est_offsets, params.min_estimation_returns, len(requests)
    )
    abnormal_volume[position >= n_rows] = np.nan
    return StudyResult(
        params=params,
        index=index,
        event_keys=event_keys,
        tickers=tickers,
        day0=day0,
        position=position,
        fit=fitted,
        est_offsets=est_offsets,
        span_offsets=span_offsets,
        ar_span=ar_span,
        abnormal_volume=abnormal_volume,
        windows=windows,
        pair_status=_STATUS_TEXT[pair_code],
        fit_valid=fit_valid,
    )


_EVENT_KEY = attrgetter("event_key")
_TICKER = attrgetter("ticker")
_DAY0 = attrgetter("day0")
_SHARES = attrgetter("shares_outstanding")


def _shares_of(
    requests: Sequence[EventRequest],
    tickers: list[str],
    mapping: Mapping[str, float] | None,
) -> FloatArray:
    """Each pair's shares outstanding: its own count, else the ticker's mapping, else NaN."""
    own = list(map(_SHARES, requests))
    if mapping is None and own.count(None) == len(own):
        return np.full(len(own), np.nan)
    lookup = mapping or {}
    return np.array(
        [
            value if value is not None else lookup.get(ticker, np.nan)
            for value, ticker in zip(own, tickers, strict=True)
        ],
        dtype=np.float64,
    )


def _column_of(columns: pd.Index, names: NDArray_str) -> IntArray:
    """Column number of each name (str of the column label), len(columns) when absent."""
    labels = pd.Index([str(c) for c in columns], dtype=object)
    if not labels.is_unique:  # the last column of a repeated label wins, as a dict would
        last = {label: i for i, label in enumerate(labels)}
        return np.array([last.get(n, len(columns)) for n in names], dtype=np.int64)
    found = labels.get_indexer(pd.Index(names, dtype=object))
    return np.asarray(np.where(found < 0, len(columns), found), dtype=np.int64)


def _without_excluded(
    data: FloatArray,
    columns: pd.Index,
    index: pd.DatetimeIndex,
    excluded: pd.DataFrame | None,
    reg_cols: IntArray,
) -> FloatArray:
    """``data`` with the excluded cells of firm columns set to NaN (``data`` itself if none)."""
    if excluded is None or excluded.empty:
        return data
    aligned = _aligned(excluded, index)
    assert aligned is not None
    mask = aligned.reindex(columns=columns).to_numpy(dtype=np.float64, na_value=0.0) != 0.0
    mask[:, reg_cols[reg_cols < data.shape[1]]] = False
    if not mask.any():
        return data
    return np.where(mask, np.nan, data)


def _fit_market(
    data: FloatArray,
    grid: _Gatherer,
    col: IntArray,
    reg_col: int,
    est_offsets: IntArray,
    params: StudyParameters,
) -> tuple[Fit, IntArray]:
    """Market model for all pairs from window sums; the few ill-conditioned pairs by fit().

    Returns the fit (residuals built on first use) and each firm's valid estimation returns.
    """
    n_rows, n_cols = data.shape
    e1, e2 = int(est_offsets[0]), int(est_offsets[-1])
    position = grid.position
    # every session is cumulated from the first one, whatever the batch: an event's numbers
    # are then the same to the last bit whether it is measured alone or with others (the
    # stored and the on-the-fly reads agree exactly)
    firm = np.isfinite(data)
    x = data[:, reg_col] if reg_col < n_cols else np.full(n_rows, np.nan)
    both = firm & np.isfinite(x)[:, None]
    y0 = np.where(both, data, 0.0)
    x0 = np.where(both, x[:, None], 0.0)
    sums = WindowSums(
        [both.astype(np.float64), y0, x0, y0 * y0, x0 * y0, x0 * x0, firm.astype(np.float64)]
    )
    got = sums.window(col, position + e1, position + e2)
    # counts are cumulated in float64: exact integers far beyond any sessions count
    market = MarketSums(np.rint(got[:, 0]), got[:, 1], got[:, 2], got[:, 3], got[:, 4], got[:, 5])
    firm_valid = np.rint(got[:, 6]).astype(np.int64)
    base, exact = fit_market_from_sums(market, lambda: np.empty(0))
    redo = np.flatnonzero(~exact)
    if len(redo):
        reg = np.full((len(redo), 1), reg_col, dtype=np.int64)
        y_redo = grid.take(col[redo], est_offsets, position[redo])
        z_redo = grid.take(reg, est_offsets, position[redo])
        refit = fit(ModelName.MARKET, y_redo, z_redo, params.n_params)
        base = merge_fit(base, redo, refit, lambda: np.empty(0))
        redo_resid = refit.residuals
    alpha, beta = base.alpha, base.slopes[:, 0]

    def residuals() -> FloatArray:
        """y - alpha - beta x, NaN where either is missing, block by block of pairs."""
        padded_t = np.ascontiguousarray(grid.padded.T)
        starts = position + e1 + grid.pad
        length = e2 - e1 + 1
        out = np.empty((len(col), length))
        for part in row_blocks(len(col)):
            y = window_rows(padded_t, col[part], starts[part], length, out=out[part])
            xs = window_rows(padded_t, np.full(len(y), reg_col), starts[part], length)
            xs *= beta[part, None]
            xs += alpha[part, None]
            y -= xs
        if len(redo):
            out[redo] = redo_resid
        return out

    return replace(base, residual_source=residuals), firm_valid


def _grid_for(
    frame: pd.DataFrame | None, tickers: NDArray_str, position: IntArray, lo: int, hi: int
) -> tuple[_Gatherer, IntArray] | None:
    if frame is None:
        return None
    matrix = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    cols = _column_of(frame.columns, tickers)
    return _Gatherer(matrix, position, lo, hi), cols


def _pair_status(
    unknown: BoolArray,
    firm_valid: IntArray,
    fitted: Fit,
    params: StudyParameters,
    benchmark_absent: bool,
) -> NDArray[np.int8]:
    """Window-independent status code, most fundamental reason first."""
    need = params.min_estimation_returns
    status = np.full(len(unknown), _CODE[Status.OK], dtype=np.int8)
    status[fitted.degenerate] = _CODE[Status.ZERO_VARIANCE]
    short_joint = fitted.n_est < need
    status[short_joint] = _CODE[Status.MISSING_BENCHMARK]
    if benchmark_absent:
        status[:] = _CODE[Status.MISSING_BENCHMARK]
    status[firm_valid < need] = _CODE[Status.INSUFFICIENT_DATA]
    status[unknown] = _CODE[Status.UNKNOWN_TICKER]
    return status


def _window_arrays(
    window: Window,
    fitted: Fit,
    pair_code: NDArray[np.int8],
    ar_span: FloatArray,
    y_span: FloatArray,
    z_span: FloatArray,
    span_offsets: IntArray,
    position: IntArray,
    last_row: int,
    price_grid: tuple[_Gatherer, IntArray] | None,
    shares: FloatArray,
) -> WindowArrays:
    t1, t2 = window
    sl = slice(int(t1 - span_offsets[0]), int(t2 - span_offsets[0]) + 1)
    ar, y, z = ar_span[:, sl], y_span[:, sl], z_span[:, sl]
    moments = window_moments(fitted, ar, z)
    length = t2 - t1 + 1

    status = pair_code.copy()
    fit_ok = pair_code == _CODE[Status.OK]
    if t1 <= 0 <= t2:
        day0 = -t1
        no_price = ~np.isfinite(y[:, day0])
        no_bench = ~no_price & ~np.isfinite(z[:, day0, :]).all(axis=1)
        status[fit_ok & no_bench] = _CODE[Status.MISSING_BENCHMARK]
    else:
        no_price = np.zeros(len(status), dtype=bool)
    no_price |= moments.n_days == 0
    status[fit_ok & no_price] = _CODE[Status.NO_EVENT_DAY_PRICE]
    gap = (status == _CODE[Status.OK]) & (moments.n_days < length)
    status[gap] = _CODE[Status.GAP_IN_WINDOW]
    pending = position + t2 > last_row
    status[pending & (status != _CODE[Status.UNKNOWN_TICKER])] = _CODE[Status.PENDING]

    usable = (status == _CODE[Status.OK]) | (status == _CODE[Status.GAP_IN_WINDOW])
    car = np.where(usable, moments.car, np.nan)
    variance = np.where(usable, moments.variance, np.nan)
    se = np.sqrt(variance)
    t_stat = car / se
    dof = fitted.dof.astype(float)
    p_value = 2.0 * stats.t.sf(np.abs(t_stat), np.where(usable, dof, np.nan))

    bhar = buy_and_hold_abnormal(y, ar)
    bhar = np.where(usable, bhar, np.nan)

    measured = ~pending
    present = np.isfinite(y)
    gross = np.where(present, 1.0 + y, 1.0).prod(axis=1) - 1.0
    raw_return = np.where(measured & present.any(axis=1), gross, np.nan)
    value_change = np.full(len(status), np.nan)
    if price_grid is not None:
        grid, cols = price_grid
        ends = grid.take(cols, np.array([t1 - 1, t2], dtype=np.int64))
        value_change = np.where(measured, shares * (ends[:, 1] - ends[:, 0]), np.nan)
    return WindowArrays(
        window=window,
        status=_STATUS_TEXT[status],
        car=car,
        variance=variance,
        car_se=se,
        car_t=t_stat,
        car_p=p_value,
        n_days=np.where(usable, moments.n_days, 0),
        raw_return=raw_return,
        value_change=value_change,
        bhar=bhar,
        bhar_t=bhar / se,
        mde=minimum_detectable_effect(se, np.where(usable, dof, np.nan)),
    )


def buy_and_hold_abnormal(y: FloatArray, ar: FloatArray) -> FloatArray:
    """BHAR = prod(1 + R_t) - prod(1 + E[R_t]) over the window days with an AR (P, L).

    E[R_t] = R_t - AR_t, the model's expected return; days without an AR drop out of both
    products, as they drop out of the CAR. NaN where the pair has no AR at all.
    """
    present = np.isfinite(ar)
    held = np.where(present, 1.0 + y, 1.0).prod(axis=1)
    expected = np.where(present, 1.0 + y - ar, 1.0).prod(axis=1)
    return np.asarray(np.where(present.any(axis=1), held - expected, np.nan), dtype=np.float64)


def _abnormal_volume(
    volume_grid: tuple[_Gatherer, IntArray] | None,
    est_offsets: IntArray,
    need: int,
    n_pairs: int,
) -> FloatArray:
    """(log V_0 - mean log V_est) / sd(log V_est, ddof=1); zero volume counts as missing.

    It needs as many valid estimation volumes as the model needs returns. Window means and
    variances come from cumulated sums of log volume minus the ticker's overall mean log
    volume; pairs whose window mean sits far from that level (or with ~zero variance), where
    the subtraction would cancel, are recomputed from their own rows.
    """
    if volume_grid is None:
        return np.full(n_pairs, np.nan)
    grid, cols = volume_grid
    with np.errstate(divide="ignore", invalid="ignore"):
        log_v = np.log(np.where(grid.padded > 0, grid.padded, np.nan))
    present = np.isfinite(log_v)
    count = present.sum(axis=0)
    level = np.where(present, log_v, 0.0).sum(axis=0) / np.maximum(count, 1)
    dev = np.where(present, log_v - level, 0.0)
    sums = WindowSums([present.astype(np.float64), dev, dev * dev])
    first = grid.position + int(est_offsets[0]) + grid.pad
    got = sums.window(cols, first, first + len(est_offsets) - 1)
    n, s1, s2 = np.rint(got[:, 0]), got[:, 1], got[:, 2]
    day0 = grid.take(cols, np.array([0], dtype=np.int64))[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s1 / np.maximum(n, 1)
        var = (s2 - s1 * mean) / np.maximum(n - 1, 1)
        log_day0 = np.log(np.where(day0 > 0, day0, np.nan))
        z = (log_day0 - level[cols] - mean) / np.sqrt(var)
    z = np.where((n >= need) & (var > 0), z, np.nan)
    redo = np.flatnonzero((n >= need) & ~(var > WELL_POSED * s2 / np.maximum(n, 1)))
    if len(redo):
        est = grid.take(cols[redo], est_offsets, grid.position[redo])
        z[redo] = _abnormal_volume_rows(est, day0[redo], need)
    return z


def _abnormal_volume_rows(est: FloatArray, day0: FloatArray, need: int) -> FloatArray:
    """The same statistic from gathered estimation volumes (P, E), two-pass."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_est = np.log(np.where(est > 0, est, np.nan))
        log_day0 = np.log(np.where(day0 > 0, day0, np.nan))
    n = np.isfinite(log_est).sum(axis=1)
    mean = np.nansum(log_est, axis=1) / np.maximum(n, 1)
    dev = np.where(np.isfinite(log_est), log_est - mean[:, None], 0.0)
    sd = np.sqrt((dev * dev).sum(axis=1) / np.maximum(n - 1, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (log_day0 - mean) / sd
    return np.where((n >= need) & (sd > 0), z, np.nan)


def fingerprint_inputs(
    returns: pd.DataFrame,
    requests: Sequence[EventRequest],
    params: StudyParameters,
    volumes: pd.DataFrame | None = None,
    shares_outstanding: Mapping[str, float] | None = None,
    prices: pd.DataFrame | None = None,
) -> str:
    """sha256 over everything run_event_study reads, so storage recomputes only on change.

    Columns are sorted and NaNs canonicalised, so column order and NaN payloads do not matter.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps(params.to_dict(), sort_keys=True).encode())
    req = [(r.event_key, r.ticker, r.day0.isoformat(), r.shares_outstanding) for r in requests]
    digest.update(json.dumps(req).encode())
    digest.update(json.dumps(sorted((shares_outstanding or {}).items())).encode())
    for name, frame in (("returns", returns), ("volumes", volumes), ("prices", prices)):
        digest.update(name.encode())
        if frame is None:
            digest.update(b"none")
            continue
        ordered = frame.reindex(columns=sorted(frame.columns, key=str))
        digest.update(json.dumps([str(c) for c in ordered.columns]).encode())
        dates = pd.DatetimeIndex(pd.to_datetime(ordered.index)).values.astype("datetime64[D]")
        digest.update(dates.astype(np.int64).tobytes())
        values = ordered.to_numpy(dtype=np.float64, na_value=np.nan)
        digest.update(np.where(np.isnan(values), np.nan, values).tobytes())
    return digest.hexdigest()
