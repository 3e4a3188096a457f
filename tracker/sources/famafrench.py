"""Fama-French daily factors from the CSV that Ken French's data library publishes.

The library ships each table as a zip holding one CSV: a few lines of description, a header
row that starts with a comma (",Mkt-RF,SMB,HML,RF"), rows of YYYYMMDD and values in PERCENT,
then possibly a blank line and a copyright line (monthly files append an annual table after a
blank line; only the first table is read). Missing values are written as -99.99 or -999.

The factors become return series named FF_<NAME> (FF_MKT-RF, FF_SMB, FF_HML, FF_RF, and
FF_RMW, FF_CMA, FF_MOM ... in other tables), in decimal units, so the engine's factor model
takes them like any stored return series:
``StudyParameters(model="factor", benchmark="FF_MKT-RF", factors=("FF_SMB", "FF_HML"))``.
(The excess market factor, with the firm's raw return on the left, leaves RF in the
intercept; add "FF_RF" to the factors to estimate it.)

The source is a local path or an http(s) URL (setting TRACKER_FAMA_FRENCH_SOURCE); nothing
is downloaded unless a URL is configured.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import httpx
import pandas as pd

from tracker.errors import TrackerError

PREFIX = "FF_"
MISSING_VALUES = (-99.99, -999.0)
_DATE_ROW = re.compile(r"^\s*(\d{8})\s*,")
MAX_BYTES = 64 * 1024 * 1024


class FactorFileError(TrackerError):
    """The factor file could not be read or is not in Ken French's CSV layout."""


def parse_fama_french_daily(text: str, source: str = "<text>") -> pd.DataFrame:
    """Sessions x FF_<factor> decimal returns from the text of one daily factors CSV."""
    lines = text.splitlines()
    header_at = next(
        (i for i, line in enumerate(lines) if line.lstrip().startswith(",") and line.count(",")),
        None,
    )
    if header_at is None:
        raise FactorFileError(f"{source}: no header row starting with ',' (e.g. ',Mkt-RF,SMB')")
    names = [name.strip() for name in lines[header_at].split(",")[1:]]
    if not all(names):
        raise FactorFileError(f"{source}: empty factor name in the header row")
    dates: list[str] = []
    rows: list[list[float]] = []
    for number, line in enumerate(lines[header_at + 1 :], start=header_at + 2):
        if not _DATE_ROW.match(line):
            if rows:
                break  # the end of the first table (a blank line, an annual table, copyright)
            continue
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != len(names) + 1:
            raise FactorFileError(
                f"{source}: line {number} has {len(fields) - 1} values for {len(names)} factors"
            )
        try:
            rows.append([float(field) for field in fields[1:]])
        except ValueError:
            raise FactorFileError(f"{source}: line {number} has a non-numeric value") from None
        dates.append(fields[0])
    if not rows:
        raise FactorFileError(f"{source}: no YYYYMMDD rows after the header")
    try:
        index = pd.to_datetime(dates, format="%Y%m%d")
    except ValueError as exc:
        raise FactorFileError(f"{source}: bad date ({exc})") from None
    frame = pd.DataFrame(rows, index=pd.DatetimeIndex(index, name="date"), columns=names)
    if not frame.index.is_unique:
        raise FactorFileError(f"{source}: repeated dates")
    frame = frame.mask(frame.isin(MISSING_VALUES)) / 100.0
    frame.columns = [PREFIX + name.upper() for name in names]
    return frame.sort_index()


def read_fama_french_daily(source: str | Path, timeout: float = 30.0) -> pd.DataFrame:
    """Read a daily factors table from a path or http(s) URL; a .zip's single CSV is read."""
    text_source = str(source)
    if text_source.startswith(("http://", "https://")):
        try:
            response = httpx.get(text_source, timeout=timeout, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise FactorFileError(f"{text_source}: {exc}") from None
        payload = response.content
    else:
        try:
            payload = Path(text_source).read_bytes()
        except OSError as exc:
            raise FactorFileError(f"{text_source}: {exc.strerror or exc}") from None
    if len(payload) > MAX_BYTES:
        raise FactorFileError(f"{text_source}: larger than {MAX_BYTES} bytes")
    if payload[:4] == b"PK\x03\x04":
        payload = _single_member(payload, text_source)
    return parse_fama_french_daily(payload.decode("latin-1"), text_source)


def _single_member(payload: bytes, source: str) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                raise FactorFileError(f"{source}: expected one CSV in the zip, got {len(members)}")
            if members[0].file_size > MAX_BYTES:
                raise FactorFileError(f"{source}: zipped CSV larger than {MAX_BYTES} bytes")
            return archive.read(members[0])
    except zipfile.BadZipFile as exc:
        raise FactorFileError(f"{source}: {exc}") from None
