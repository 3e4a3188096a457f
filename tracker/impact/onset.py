"""Attention onset: the session where coverage of a story or entity first surges.

Why: a release is often published days before the market notices it (DeepSeek-R1 was
released on a holiday, 2025-01-20; the sell-off came on 2025-01-27, after the app topped the
App Store and coverage exploded over the weekend). Measuring only at the publication day 0
credits the move to whatever was published on the day of the surge.

Method (robust z-score against a trailing baseline; pure, no clock, no I/O):

For each session ``s`` in the search range (publication day 0 up to ``max_lag`` sessions
later), take the counts of the ``baseline`` sessions before ``s``. A session without articles
counts as zero, but a session before coverage was collected at all (before the first stored
article) is unknown (NaN), not zero: a baseline needs ``min_baseline`` known sessions, or a
subject's first days in the database would all look like surges. Then

    z(s) = (articles(s) - median(baseline)) / max(1.4826 * MAD(baseline), min_scale)

where MAD is the median absolute deviation (1.4826 MAD estimates the standard deviation of
normal data, and is not inflated by earlier bursts as the standard deviation is). ``min_scale``
keeps a baseline of zeros from turning one article into an infinite z. The onset is the first
session with

    z(s) >= threshold  and  articles(s) >= min_articles  and  sources(s) >= min_sources

so that neither a handful of articles nor one outlet's series of posts counts as the market's
attention: the surge must be broad. No session qualifying -> no onset (``None``).

References: Leys et al. (2013), "Detecting outliers: do not use standard deviation around the
mean, use absolute deviation around the median", JESP 49:764-766 (the 1.4826 MAD scale).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np

MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class OnsetParameters:
    """Every choice of the method; stored with each onset so it can be reproduced."""

    baseline: int = 20  # trailing sessions the surge is measured against
    min_baseline: int = 10  # known sessions the baseline needs
    threshold: float = 3.5  # robust z-score a surge must reach
    min_articles: int = 5
    min_sources: int = 3
    min_scale: float = 1.0  # floor of the robust scale, in articles
    max_lag: int = 10  # sessions after the publication day 0 searched

    def __post_init__(self) -> None:
        if self.baseline < 1:
            raise ValueError("baseline must be at least one session")
        if not 1 <= self.min_baseline <= self.baseline:
            raise ValueError("min_baseline must be between 1 and baseline")
        if self.min_scale <= 0:
            raise ValueError("min_scale must be positive")
        if self.max_lag < 0:
            raise ValueError("max_lag must not be negative")

    def to_dict(self) -> dict[str, Any]:
        return {"method": "robust_z_trailing_median", **asdict(self)}


@dataclass(frozen=True)
class Onset:
    """The chosen session and the figures behind the choice."""

    session: date
    lag: int  # sessions after the publication day 0
    articles: int
    sources: int
    z: float
    baseline_median: float
    baseline_scale: float

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["session"] = self.session.isoformat()
        return out


def robust_z(counts: Sequence[float], position: int, baseline: int, min_scale: float) -> float:
    """z of ``counts[position]`` against the known ``baseline`` values before it (see module)."""
    window = np.asarray(counts[max(0, position - baseline) : position], dtype=np.float64)
    window = window[np.isfinite(window)]
    median, scale = _centre_and_scale(window, min_scale)
    return float((counts[position] - median) / scale)


def _centre_and_scale(window: np.ndarray, min_scale: float) -> tuple[float, float]:
    if len(window) == 0:
        return 0.0, min_scale
    median = float(np.median(window))
    mad = float(np.median(np.abs(window - median)))
    return median, max(MAD_TO_SD * mad, min_scale)


def detect_onset(
    sessions: Sequence[date],
    articles: Sequence[float],
    sources: Sequence[float],
    start: date,
    params: OnsetParameters | None = None,
) -> Onset | None:
    """The first surge session at or after ``start`` (within ``max_lag`` sessions), or None.

    ``sessions`` are consecutive exchange sessions in order, with the article and distinct
    source counts of each (zeros included, NaN before coverage was collected); ``start`` is
    the publication day 0.
    """
    params = params or OnsetParameters()
    if not len(sessions) == len(articles) == len(sources):
        raise ValueError("sessions, articles and sources must have the same length")
    if any(b <= a for a, b in itertools.pairwise(sessions)):
        raise ValueError("sessions must be in increasing order")
    counts = np.asarray(articles, dtype=np.float64)
    first = int(np.searchsorted(np.array(sessions, dtype="datetime64[D]"), np.datetime64(start)))
    last = min(len(sessions) - 1, first + params.max_lag)
    for position in range(first, last + 1):
        window = counts[max(0, position - params.baseline) : position]
        window = window[np.isfinite(window)]
        if len(window) < params.min_baseline or not np.isfinite(counts[position]):
            continue
        median, scale = _centre_and_scale(window, params.min_scale)
        z = (counts[position] - median) / scale
        if (
            z >= params.threshold
            and articles[position] >= params.min_articles
            and sources[position] >= params.min_sources
        ):
            return Onset(
                session=sessions[position],
                lag=position - first,
                articles=int(articles[position]),
                sources=int(sources[position]),
                z=float(z),
                baseline_median=median,
                baseline_scale=scale,
            )
    return None
