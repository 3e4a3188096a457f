"""Spreadsheet-safe CSV cells: one helper for every CSV the tracker writes (CLI and dashboard).

Feed titles are untrusted. A cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or
carriage return, which some spreadsheets strip before looking) is run as a formula when the
file is opened in Excel or LibreOffice ("CSV injection", OWASP). Such text cells get a leading
apostrophe, the convention spreadsheets show as literal text. Numbers stay numbers: a negative
CAR is a float, not text, so it is never touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported by the frame helpers only: csv_safe serves the CLI too
    import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) are all ``csv_safe``."""
    from pandas.api.types import is_string_dtype

    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or is_string_dtype(safe[column]):
            safe[column] = safe[column].map(csv_safe)
    safe.columns = [csv_safe(str(name)) for name in safe.columns]
    return safe


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV with every text cell made spreadsheet-safe."""
    return csv_safe_frame(frame).to_csv(index=False).encode("utf-8")
