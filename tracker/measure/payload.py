"""One conversion from engine results to stored JSON and to the issue-6 output shape.

Stored results and results computed on the fly pass through the same functions, so a number
reads the same whichever path produced it (NaN becomes None; floats are kept at full precision,
which both SQLite and PostgreSQL round-trip exactly).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from tracker.impact.significance import GROUP_STATISTIC_NAMES, GroupResult
from tracker.impact.study import FirmResult, StudyParameters, Window, window_label
from tracker.measure.inputs import ShareBasis

FIRM_KEYS = (
    "ticker",
    "window",
    "model",
    "alpha",
    "beta",
    "sigma",
    "n_est",
    "raw_return",
    "car",
    "car_se",
    "car_t",
    "car_p",
    "ar",
    "abnormal_volume",
    "value_change",
    "bhar",
    "bhar_t",
    "mde",
    "shares",
    "status",
)
GROUP_KEYS = (
    "basket",
    "window",
    "n",
    "caar",
    "patell_z",
    "patell_kp_z",
    "bmp_t",
    "kp_t",
    "mean_corr",
    "effective_n",
    "cda_t",
    "corrado_z",
    "gsign_z",
)
# The robust and power statistics (issue 19): in the JSON output, not in the table columns;
# the engine's list from GRANK on (tracker.impact.significance.GROUP_STATISTIC_NAMES).
ROBUST_GROUP_KEYS = GROUP_STATISTIC_NAMES[GROUP_STATISTIC_NAMES.index("grank_z") :]
# Every group status a GroupImpact row can carry.
GROUP_OK = "ok"
GROUP_PENDING = "pending"
GROUP_INSUFFICIENT = "insufficient_data"


def finite(value: Any) -> float | None:
    """A JSON-safe float: NaN and infinities become None."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


NO_SHARE_COUNT = "no share count stored for this ticker"


def shares_json(basis: ShareBasis | None) -> dict[str, Any]:
    """The share count a value change used, or a note that there is none."""
    if basis is None:
        return {"shares_outstanding": None, "shares_note": NO_SHARE_COUNT}
    return basis.to_dict()


def firm_statistics(record: FirmResult, basis: ShareBasis | None = None) -> dict[str, Any]:
    """Every firm statistic of one (pair, window), JSON-ready: what FirmImpact.statistics holds."""
    return {
        "alpha": finite(record.alpha),
        "beta": finite(record.beta),
        "sigma": finite(record.sigma),
        "n_est": int(record.n_est),
        "dof": int(record.dof),
        "n_window": int(record.n_window),
        "raw_return": finite(record.raw_return),
        "car": finite(record.car),
        "car_se": finite(record.car_se),
        "car_t": finite(record.car_t),
        "car_p": finite(record.car_p),
        "scar": finite(record.scar),
        "ar": {str(day): finite(value) for day, value in record.ar.items()},
        "abnormal_volume": finite(record.abnormal_volume),
        "value_change": finite(record.value_change),
        "bhar": finite(record.bhar),
        "bhar_t": finite(record.bhar_t),
        "mde": finite(record.mde),
        "day0_session": record.day0_session.isoformat() if record.day0_session else None,
        "shares": shares_json(basis),
    }


def firm_output(
    ticker: str, window: Window, model: str, status: str, statistics: Mapping[str, Any]
) -> dict[str, Any]:
    """One element of ``firms`` in the issue-6 JSON shape."""
    out: dict[str, Any] = {"ticker": ticker, "window": window_label(window), "model": model}
    for key in ("alpha", "beta", "sigma"):
        out[key] = statistics.get(key)
    out["n_est"] = statistics.get("n_est")
    for key in ("raw_return", "car", "car_se", "car_t", "car_p"):
        out[key] = statistics.get(key)
    out["ar"] = dict(statistics.get("ar") or {})
    out["abnormal_volume"] = statistics.get("abnormal_volume")
    out["value_change"] = statistics.get("value_change")
    for key in ("bhar", "bhar_t", "mde"):
        out[key] = statistics.get(key)  # None on rows stored before these existed
    shares = statistics.get("shares")
    out["shares"] = dict(shares) if shares else {"shares_outstanding": None}
    out["status"] = status
    return out


def group_status(result: GroupResult) -> str:
    """pending while a member's window is still open; insufficient below two usable members."""
    if result.excluded.get("pending", 0) > 0:
        return GROUP_PENDING
    return GROUP_OK if result.n >= 2 else GROUP_INSUFFICIENT


def group_statistics_json(result: GroupResult, members: list[str]) -> dict[str, Any]:
    """Every group statistic with its p-value, JSON-ready: what GroupImpact.statistics holds."""
    out: dict[str, Any] = {name: finite(getattr(result, name)) for name in GROUP_STATISTIC_NAMES}
    out["n"] = int(result.n)
    out["n_requested"] = int(result.n_requested)
    out["excluded"] = {str(k): int(v) for k, v in sorted(result.excluded.items())}
    out["aar"] = {str(day): finite(value) for day, value in result.aar.items()}
    out["members"] = list(members)
    return out


def basket_value_change(firms: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The summed value change of firms, with the tickers that could not be counted.

    Dollars add across firms (unlike returns): the sum is the basket's change in market
    value over the window, over the members with a share count and prices.
    """
    counted = [f for f in firms if f.get("value_change") is not None]
    return {
        "value_change": sum(float(f["value_change"]) for f in counted) if counted else None,
        "counted": [str(f["ticker"]) for f in counted],
        "without_count": [str(f["ticker"]) for f in firms if f.get("value_change") is None],
    }


def group_output(basket: str, window: Window, statistics: Mapping[str, Any]) -> dict[str, Any]:
    """One element of ``groups`` in the issue-6 JSON shape."""
    out: dict[str, Any] = {"basket": basket, "window": window_label(window)}
    out["n"] = statistics.get("n")
    for key in GROUP_KEYS[3:] + ROBUST_GROUP_KEYS:
        out[key] = statistics.get(key)
    return out


def parameters_json(params: StudyParameters) -> dict[str, Any]:
    """The study parameters as stored with every result (so it can be reproduced)."""
    return params.to_dict()
