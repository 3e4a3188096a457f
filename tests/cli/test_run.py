"""``tracker run`` / ``tracker status`` as real processes: one leader, kill -9, takeover.

The scheduler runs its cheap self-check jobs (``--jobs test``: a heartbeat every second
that writes a row, and a job that always raises), so these tests depend on no pipeline
stage. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.cli.runner import REPO_ROOT, run_tracker
from tracker.db import Database, migrate
from tracker.db.models import JobRun

TAKEOVER_LIMIT = timedelta(seconds=30)
WAIT_LIMIT = 40.0


def tracker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_tracker(*args, timeout=timeout)


class Scheduler:
    """One ``tracker run`` process, its stderr in a file so it can never block on a pipe."""

    def __init__(self, url: str, log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tracker.cli.main",
                "run",
                "--db",
                url,
                "--jobs",
                "test",
                "--heartbeat",
                "0.5",
                "--standby-poll",
                "1",
                "--health-port",
                "0",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )

    @property
    def worker_suffix(self) -> str:
        return f":{self.process.pid}"

    def health(self) -> dict | None:
        found = re.search(r"health: (http://\S+)", self.log_path.read_text())
        if not found:
            return None
        try:
            with urllib.request.urlopen(found.group(1), timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            return None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._log.close()


def wait_until(condition, what: str):
    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def first_run_of(database: Database, scheduler: Scheduler) -> JobRun | None:
    with database.session() as session:
        return session.scalars(
            select(JobRun)
            .where(JobRun.worker.endswith(scheduler.worker_suffix), JobRun.status == "success")
            .order_by(JobRun.started_at)
            .limit(1)
        ).first()


def duplicates(database: Database) -> list:
    with database.session() as session:
        return list(
            session.execute(
                select(JobRun.job, JobRun.scheduled_for)
                .group_by(JobRun.job, JobRun.scheduled_for)
                .having(func.count() > 1)
            ).all()
        )


def leader_dies_standby_takes_over(url: str, tmp_path: Path) -> None:
    migrate.upgrade(url)
    database = Database.connect(url)
    leader = Scheduler(url, tmp_path / "leader.log")
    standby: Scheduler | None = None
    try:
        wait_until(lambda: first_run_of(database, leader), "the leader's first run")
        standby = Scheduler(url, tmp_path / "standby.log")
        wait_until(
            lambda: (standby.health() or {}).get("role") == "standby", "the standby to stand by"
        )
        assert (leader.health() or {}).get("role") == "leader"
        assert first_run_of(database, standby) is None

        killed_at = datetime.now(UTC)
        os.kill(leader.process.pid, signal.SIGKILL)
        leader.process.wait(timeout=10)

        taken_over = wait_until(lambda: first_run_of(database, standby), "the takeover")
        assert taken_over.started_at - killed_at < TAKEOVER_LIMIT
        assert wait_until(lambda: (standby.health() or {}).get("role") == "leader", "leader role")
        wait_until(
            lambda: any(
                run.status == "failed"
                for run in session_runs(database)
                if run.worker.endswith(standby.worker_suffix)
            ),
            "the failing job to be logged by the new leader",
        )
        beats_before = len(session_runs(database))
        wait_until(lambda: len(session_runs(database)) > beats_before + 2, "more runs")

        standby.process.send_signal(signal.SIGTERM)
        assert standby.process.wait(timeout=20) == 0
        runs = session_runs(database)
        assert duplicates(database) == []
        assert not [run for run in runs if run.status == "running"]
        failed = [run for run in runs if run.job == "test.explode" and run.status == "failed"]
        assert failed
        assert all("RuntimeError" in (run.error or "") for run in failed)
        assert {run.status for run in runs} <= {"success", "failed", "abandoned"}
    finally:
        leader.close()
        if standby is not None:
            standby.close()
        database.dispose()


def session_runs(database: Database) -> list[JobRun]:
    with database.session() as session:
        return list(session.scalars(select(JobRun)))


def test_sqlite_file_lock_standby_takes_over_after_kill_9(tmp_path: Path) -> None:
    leader_dies_standby_takes_over(f"sqlite:///{tmp_path / 'tracker.db'}", tmp_path)


@pytest.mark.postgres
def test_postgres_advisory_lock_standby_takes_over_after_kill_9(
    postgres_server, tmp_path: Path
) -> None:
    leader_dies_standby_takes_over(postgres_server.create_database(), tmp_path)


def test_run_refuses_an_unmigrated_database_in_one_line(tmp_path: Path) -> None:
    result = tracker("run", "--db", f"sqlite:///{tmp_path / 'empty.db'}", "--health-port", "0")
    assert result.returncode == 2
    assert "tracker db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_rejects_a_bad_replay_range(tmp_path: Path) -> None:
    result = tracker("run", "--db", f"sqlite:///{tmp_path / 't.db'}", "--replay", "2025-02-05")
    assert result.returncode == 2
    assert "--replay" in result.stderr


def test_replay_then_status_reports_the_runs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'replay.db'}"
    migrate.upgrade(url)
    replayed = tracker(
        "run",
        "--db",
        url,
        "--jobs",
        "test",
        "--replay",
        "2025-01-27..2025-01-27",
        "--speed",
        "1e6",
        "--health-port",
        "0",
    )
    assert replayed.returncode == 0, replayed.stderr
    assert "replayed 2025-01-27..2025-01-28" in replayed.stdout
    status = tracker("status", "--db", url, "--format", "json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    jobs = {job["job"]: job for job in report["jobs"]}
    assert jobs["test.heartbeat"]["last_status"] == "success"
    assert jobs["test.heartbeat"]["last_scheduled_for"].startswith("2025-01-2")
    assert jobs["test.explode"]["last_status"] == "failed"
    table = tracker("status", "--db", url)
    assert table.returncode == 0
    assert "Data freshness" in table.stdout
