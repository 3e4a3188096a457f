"""Parsing of user input shared by the queries and the CLI."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.errors import UserInputError
from tracker.query import parse_day, parse_window


def test_parse_day_accepts_iso_and_names_the_option_otherwise() -> None:
    assert parse_day("2025-01-27", "--from") == date(2025, 1, 27)
    for bad in ("27/01/2025", "2025-02-30", "yesterday", ""):
        with pytest.raises(UserInputError, match="--to"):
            parse_day(bad, "--to")


def test_parse_window() -> None:
    assert parse_window("0,5") == (0, 5)
    assert parse_window(" -1 , 1 ") == (-1, 1)
    for bad in ("5,0", "0", "a,b", "0,1,2"):
        with pytest.raises(UserInputError, match="--window"):
            parse_window(bad)
