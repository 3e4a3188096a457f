"""``tracker ARGS`` as a user runs it: a real subprocess on this source tree."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_tracker(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the CLI with the source tree first on the path; never raises on a failing exit."""
    return subprocess.run(
        [sys.executable, "-m", "tracker.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        cwd=REPO_ROOT,
        timeout=timeout,
        check=False,
    )
