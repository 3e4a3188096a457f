"""``tracker ARGS`` as a user runs it: in-process through the real entry point, or as a process.

``run_tracker`` calls ``tracker.cli.main.main`` itself (the function the ``tracker`` script
runs) with ``sys.argv``, the environment and the standard streams swapped, so the output,
the one-line errors and the exit status are the ones a user sees, without paying a new
interpreter's imports for every call. An exception ``main`` lets through becomes exit
status 1 with its traceback on stderr, as the interpreter would report it.

``run_tracker_process`` is the real subprocess, for the tests whose point is the process
itself: the installed entry point, the inherited environment, start-up and exit.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from tracker.cli.main import main
from tracker.config import get_settings

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class TrackerResult:
    """What a finished ``tracker`` call left: its exit status and its two streams."""

    returncode: int
    stdout: str
    stderr: str


def _exit_status(code: object) -> int:
    """``SystemExit.code`` as the interpreter turns it into a process status."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return 1  # sys.exit("message"): the message goes to stderr, the status is 1


def run_tracker(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> TrackerResult:
    """Run the CLI in this process; never raises on a failing exit.

    ``timeout`` is accepted for the same calls as ``run_tracker_process``; an in-process
    call that hangs is stopped by pytest-timeout instead.
    """
    del timeout
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    saved_argv = sys.argv
    get_settings.cache_clear()
    with CliRunner().isolation(env=dict(env or {})) as (stdout, stderr, _):
        sys.argv = ["tracker", *args]
        try:
            main()
            status = 0
        except SystemExit as exc:
            status = _exit_status(exc.code)
            if isinstance(exc.code, str):
                sys.stderr.write(exc.code + "\n")
        except Exception:  # reported as the interpreter would: traceback, status 1
            sys.stderr.write(traceback.format_exc())
            status = 1
        finally:
            sys.argv = saved_argv
            sys.stdout.flush()
            sys.stderr.flush()
            get_settings.cache_clear()
            for handler in root.handlers[:]:
                if handler not in handlers:  # basicConfig's handler on the swapped stderr
                    root.removeHandler(handler)
            root.setLevel(level)
        return TrackerResult(
            status,
            stdout.getvalue().decode("utf-8", "replace"),
            stderr.getvalue().decode("utf-8", "replace"),
        )


def run_tracker_process(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a new process with the source tree first on the path; never raises
    on a failing exit."""
    return subprocess.run(
        [sys.executable, "-m", "tracker.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        cwd=REPO_ROOT,
        timeout=timeout,
        check=False,
    )
