"""Repeated measurements: every benchmark prints the median and spread of several runs
beside the machine's load, so a README figure can be reproduced and judged."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DEFAULT_RUNS = 5


def load_average() -> str:
    """``load 0.42 0.51 0.60 on 2 cores`` (1, 5 and 15 minutes), or what is known."""
    cores = os.cpu_count() or 0
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:  # pragma: no cover - not on every platform
        return f"load unknown on {cores} cores ({platform.system()})"
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {cores} cores"


@dataclass(frozen=True)
class Spread:
    """Seconds per run: the median and the range of ``n`` runs."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Spread:
        if not samples:
            raise ValueError("no samples")
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))

    def rate(self, items: int, unit: str) -> str:
        """``123,456 bars/s (112,000-130,000, 5 runs)``: items per second of the median run."""
        return (
            f"{items / self.median:,.0f} {unit}/s "
            f"({items / self.high:,.0f}-{items / self.low:,.0f}, {self.n} runs)"
        )

    def seconds(self, digits: int = 3) -> str:
        """``1.234 s (1.200-1.300, 5 runs)`` (``digits`` after the point)."""
        return (
            f"{self.median:.{digits}f} s ({self.low:.{digits}f}-{self.high:.{digits}f}, "
            f"{self.n} runs)"
        )


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
