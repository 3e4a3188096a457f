"""The recorded share counts: the real filings file, and bad rows skipped with a clear error."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tracker.errors import DataUnavailableError
from tracker.sources.shares import RecordedSharesSource, stated_class

HEADER = "ticker,as_of,shares_outstanding,source\n"


def write_shares(root: Path, body: str, header: str = HEADER) -> Path:
    (root / "prices").mkdir(parents=True)
    (root / "prices" / "shares.csv").write_text(header + body, encoding="utf-8")
    return root


def test_the_recorded_filings_are_read_as_a_time_series(data_dir: Path) -> None:
    source = RecordedSharesSource(data_dir)
    assert source.problems() == []
    assert "NVDA" in source.available_tickers()
    nvda = source.shares_outstanding(["NVDA"], None, None)["NVDA"]
    assert nvda.ok
    assert [c.as_of for c in nvda.counts] == sorted(c.as_of for c in nvda.counts)
    before = [c for c in nvda.counts if c.as_of < date(2025, 1, 27)]
    assert before[-1].shares == 24_490_000_000  # the 10-Q filed 2024-11-20
    assert before[-1].share_class == "common"
    # a filing that sums two classes says so in the stored class: no silent mixing
    meta = source.shares_outstanding(["META"], None, None)["META"]
    assert meta.counts[0].share_class == "Class A + Class B"


def test_bad_rows_are_reported_by_line_and_skipped_the_others_kept(tmp_path: Path) -> None:
    root = write_shares(
        tmp_path,
        "NVDA,2024-11-15,24490000000,10-Q\n"
        "NVDA,2024-13-01,24490000000,10-Q\n"  # no such month
        "AVGO,2024-08-30,-5,10-Q\n"  # negative
        "TLN,2025-02-27,4.5e7,10-K\n"  # not a whole number as written
        ",2025-01-01,100,10-K\n"  # no ticker
        "AMZN,2025-01-29,10597729352,\n"  # no source
        "NVDA,2024-11-15,24490000000,10-Q again\n"  # duplicate date
        "XOM,2024-09-30,4395094536,10-Q\n",
    )
    source = RecordedSharesSource(root)
    problems = source.problems()
    assert len(problems) == 6
    assert "line 3" in problems[0]
    assert "as_of '2024-13-01'" in problems[0]
    assert "line 4" in problems[1]
    assert "not a positive whole number" in problems[1]
    assert "line 5" in problems[2]
    assert "4.5e7" in problems[2]
    assert "line 6" in problems[3]
    assert "ticker" in problems[3]
    assert "line 7" in problems[4]
    assert "source is empty" in problems[4]
    assert "line 8" in problems[5]
    assert "duplicate NVDA 2024-11-15" in problems[5]
    assert all(p.endswith("row skipped") for p in problems)
    assert source.available_tickers() == ["NVDA", "XOM"]
    answers = source.shares_outstanding(["NVDA", "XOM", "AVGO"], None, None)
    assert [c.shares for c in answers["NVDA"].counts] == [24_490_000_000]
    assert answers["XOM"].ok
    assert answers["AVGO"].error == "no recorded share count"


def test_a_missing_column_refuses_the_file_naming_it(tmp_path: Path) -> None:
    root = write_shares(tmp_path, "NVDA,2024-11-15,1\n", header="ticker,as_of,shares\n")
    with pytest.raises(DataUnavailableError, match="shares_outstanding, source"):
        RecordedSharesSource(root)


def test_no_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataUnavailableError, match="no recorded share counts"):
        RecordedSharesSource(tmp_path)


def test_an_explicit_share_class_column_wins(tmp_path: Path) -> None:
    root = write_shares(
        tmp_path,
        "ZZZZ,2024-12-31,1000,a test row (not market data),ADR (1 ADR = 5 ordinary shares)\n",
        header="ticker,as_of,shares_outstanding,source,share_class\n",
    )
    adr = RecordedSharesSource(root).shares_outstanding(["ZZZZ"], None, None)["ZZZZ"]
    assert adr.counts[0].share_class == "ADR (1 ADR = 5 ordinary shares)"
    assert stated_class("cover page: Class A 1 plus Class B 2") == "Class A + Class B"
