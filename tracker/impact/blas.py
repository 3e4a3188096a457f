"""Run small batched matrix products on one OpenBLAS thread.

The per-basket residual correlation products (100 x 240 by 240 x 100) are far too small to
gain from threads, and on a shared 2-core machine OpenBLAS's spinning threads made them ~10x
slower than one thread. numpy offers no switch for this, so the OpenBLAS library numpy
loaded is asked directly (what threadpoolctl does), and its setting is restored afterwards.
Where no OpenBLAS is found (another BLAS, another OS) the products simply run as configured.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

_SYMBOLS = (
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)


@cache
def _openblas_controls() -> tuple[tuple[object, object], ...]:
    """(get, set) function pairs of every OpenBLAS library mapped into this process."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return ()
    paths = sorted(
        {line.split()[-1] for line in maps.read_text().splitlines() if "openblas" in line}
    )
    controls = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get_name, set_name in _SYMBOLS:
            if hasattr(lib, get_name) and hasattr(lib, set_name):
                getter, setter = getattr(lib, get_name), getattr(lib, set_name)
                getter.restype = ctypes.c_int
                setter.argtypes = [ctypes.c_int]
                controls.append((getter, setter))
                break
    return tuple(controls)


_lock = threading.Lock()
_depth = 0  # blocks currently inside single_threaded_blas, over all threads
_previous: list[int] = []


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """One OpenBLAS thread inside the block, the previous setting after the last one exits.

    Counted across threads, so overlapping blocks in two threads cannot leave the library
    stuck on one thread.
    """
    import numpy  # noqa: F401  (its OpenBLAS must be loaded before the maps are read)

    global _depth
    controls = _openblas_controls()
    with _lock:
        if _depth == 0:
            _previous[:] = [get() for get, _ in controls]  # type: ignore[operator]
            for _, set_ in controls:
                set_(1)  # type: ignore[operator]
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for (_, set_), count in zip(controls, _previous, strict=True):
                    set_(count)  # type: ignore[operator]
