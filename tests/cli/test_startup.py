"""``tracker`` starts without the heavy libraries: each command imports what it needs.

A new interpreter, because this test process has long imported them all.
"""

from __future__ import annotations

import subprocess
import sys

from tests.cli.runner import REPO_ROOT

HEAVY = (
    "alembic",
    "apscheduler",
    "exchange_calendars",
    "httpx",
    "matplotlib",
    "numpy",
    "pandas",
    "psycopg",
    "scipy",
    "statsmodels",
    "streamlit",
    "tracker.db.models",
    "yfinance",
)


def test_importing_the_cli_loads_no_heavy_library() -> None:
    probe = (
        "import sys, tracker.cli.main; "
        f"print(','.join(name for name in {HEAVY!r} if name in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == ""
