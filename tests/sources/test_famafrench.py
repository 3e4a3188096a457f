"""Ken French's daily factors CSV: parsing, zip and URL sources, errors, and use in a study.

Every factor value here is SYNTHETIC (random numbers written in the library's layout by the
test), never real factor data.
"""

from __future__ import annotations

import http.server
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.impact.reference import reference_pair
from tracker.impact.study import EventRequest, StudyParameters, run_event_study
from tracker.sources.famafrench import (
    FactorFileError,
    parse_fama_french_daily,
    read_fama_french_daily,
)


def synthetic_factor_csv(dates: pd.DatetimeIndex, seed: int = 0) -> tuple[str, pd.DataFrame]:
    """A daily-factors file in the library's layout with random values (percent units)."""
    rng = np.random.default_rng(seed)
    values = np.round(rng.normal(0, 1, (len(dates), 4)) * [1.0, 0.5, 0.5, 0.0] + [0, 0, 0, 0.02], 2)
    lines = [
        "This file was created by a TEST with SYNTHETIC values (not real factor data).",
        "",
        ",Mkt-RF,SMB,HML,RF",
    ]
    for day, row in zip(dates, values, strict=True):
        lines.append(day.strftime("%Y%m%d") + "," + ",".join(f"{v:8.2f}" for v in row))
    lines += ["", "Copyright (synthetic test file)", ""]
    expected = pd.DataFrame(
        values / 100.0, index=dates, columns=["FF_MKT-RF", "FF_SMB", "FF_HML", "FF_RF"]
    )
    return "\r\n".join(lines), expected


def test_parse_reads_percent_into_decimals_and_stops_at_the_table_end() -> None:
    dates = pd.bdate_range("2024-01-02", periods=5)
    text, expected = synthetic_factor_csv(dates)
    text += "\r\n Annual Factors: January-December \r\n,Mkt-RF,SMB,HML,RF\r\n2024,1,2,3,4\r\n"
    got = parse_fama_french_daily(text)
    pd.testing.assert_frame_equal(got, expected, check_names=False, check_freq=False)


def test_missing_value_codes_become_nan() -> None:
    text = ",Mkt-RF,SMB\n20240102,  -99.99, 0.10\n20240103, 0.20, -999\n"
    got = parse_fama_french_daily(text)
    assert np.isnan(got.loc["2024-01-02", "FF_MKT-RF"])
    assert np.isnan(got.loc["2024-01-03", "FF_SMB"])
    assert got.loc["2024-01-03", "FF_MKT-RF"] == pytest.approx(0.002)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no header here\n20240102,1,2\n", "no header row"),
        (",Mkt-RF,SMB\n20240102,1\n", "line 2 has 1 values for 2 factors"),
        (",Mkt-RF\n20240102,abc\n", "non-numeric"),
        (",Mkt-RF\n", "no YYYYMMDD rows"),
        (",Mkt-RF\n20241302,1\n", "bad date"),
    ],
)
def test_malformed_files_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(FactorFileError, match=message):
        parse_fama_french_daily(text, "factors.csv")


def test_read_from_path_and_zip(tmp_path: Path) -> None:
    text, expected = synthetic_factor_csv(pd.bdate_range("2024-03-01", periods=8), seed=2)
    csv = tmp_path / "F-F_Research_Data_Factors_daily.CSV"
    csv.write_text(text, encoding="latin-1")
    archive = tmp_path / "F-F_Research_Data_Factors_daily_CSV.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(csv, csv.name)
    for source in (csv, str(archive)):
        got = read_fama_french_daily(source)
        pd.testing.assert_frame_equal(got, expected, check_names=False, check_freq=False)
    with pytest.raises(FactorFileError, match=r"missing\.csv"):
        read_fama_french_daily(tmp_path / "missing.csv")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 (port picked by the OS) serving tmp_path."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_read_from_url(tmp_path: Path, served: str) -> None:
    text, expected = synthetic_factor_csv(pd.bdate_range("2024-03-01", periods=6), seed=3)
    (tmp_path / "factors.csv").write_text(text, encoding="latin-1")
    got = read_fama_french_daily(f"{served}/factors.csv")
    pd.testing.assert_frame_equal(got, expected, check_names=False, check_freq=False)
    with pytest.raises(FactorFileError, match="404"):
        read_fama_french_daily(f"{served}/absent.csv")


def test_factor_model_on_fama_french_columns_matches_statsmodels() -> None:
    """Synthetic firm returns loaded on synthetic factors: the engine's fit equals OLS."""
    dates = pd.bdate_range("2023-01-02", periods=320)
    text, _ = synthetic_factor_csv(dates, seed=5)
    factors = parse_fama_french_daily(text)
    rng = np.random.default_rng(6)
    loads = factors[["FF_MKT-RF", "FF_SMB", "FF_HML"]].to_numpy() @ [1.2, 0.4, -0.3]
    returns = factors.copy()
    returns["F1"] = loads + rng.normal(0, 0.002, len(dates))
    returns["F2"] = 0.5 * loads + rng.normal(0, 0.02, len(dates))
    params = StudyParameters(model="factor", benchmark="FF_MKT-RF", factors=("FF_SMB", "FF_HML"))
    requests = [EventRequest("e", t, dates[300].date()) for t in ("F1", "F2")]
    result = run_event_study(returns, requests, params)
    assert result.fit.slopes[0] == pytest.approx([1.2, 0.4, -0.3], abs=0.1)
    for i, request in enumerate(requests):
        ref = reference_pair(returns, request, params)
        for window, arrays in result.windows.items():
            assert arrays.car[i] == pytest.approx(ref.row[window]["car"], rel=1e-9)
            assert arrays.car_t[i] == pytest.approx(ref.row[window]["car_t"], rel=1e-9)
