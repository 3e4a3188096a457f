"""``tracker run`` / ``tracker status`` as real processes: one leader, kill -9, lock loss.

The scheduler runs its cheap self-check jobs (``--jobs test``: a heartbeat every second
that writes a row, a job that always raises, and a slow job that works in small steps), so
these tests depend on no pipeline stage. Takeovers are checked by the order of events in
the job-run log, never by wall time (``bench/bench_failover.py`` measures how long one
takes). Each process reports its own health port (``--health-port 0``), so nothing races
for a port. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tests.cli.runner import REPO_ROOT, run_tracker
from tracker.cli.run import start_health_server
from tracker.db import Database, migrate
from tracker.db.models import JobRun, Watermark
from tracker.scheduler.health import HealthState
from tracker.scheduler.leader import ADVISORY_LOCK_KEY

WAIT_LIMIT = 240.0  # bounded, and generous: a loaded CI box takes long to start Python


def tracker(*args: str, timeout: float = WAIT_LIMIT) -> subprocess.CompletedProcess[str]:
    return run_tracker(*args, timeout=timeout)


class Scheduler:
    """One ``tracker run`` process, its stderr in a file so it can never block on a pipe."""

    def __init__(self, url: str, log_path: Path, *extra: str, env: dict[str, str] | None = None):
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
                "--cancel-grace",
                "5",
                *extra,
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        )

    @property
    def worker_marker(self) -> str:
        """Worker names are host:pid:boot-id."""
        return f":{self.process.pid}:"

    def output(self) -> str:
        return self.log_path.read_text()

    def health(self) -> dict | None:
        found = re.search(r"health: (http://\S+/health)", self.output())
        if not found:
            return None
        try:
            with urllib.request.urlopen(found.group(1), timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            return None

    def role(self) -> str | None:
        return (self.health() or {}).get("role")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._log.close()


def wait_until(
    condition: Callable[[], Any], what: str, limit: float = WAIT_LIMIT, *logs: Scheduler
) -> Any:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    tails = "\n".join(f"--- {s.log_path.name}:\n{s.output()[-3000:]}" for s in logs)
    raise AssertionError(f"timed out waiting for {what}\n{tails}")


def runs_of(database: Database, scheduler: Scheduler) -> list[JobRun]:
    with database.session() as session:
        return list(
            session.scalars(
                select(JobRun)
                .where(JobRun.worker.contains(scheduler.worker_marker))
                .order_by(JobRun.started_at)
            )
        )


def first_run_of(database: Database, scheduler: Scheduler) -> JobRun | None:
    return next((run for run in runs_of(database, scheduler) if run.status == "success"), None)


def slow_run_of(database: Database, scheduler: Scheduler) -> JobRun | None:
    return next((run for run in runs_of(database, scheduler) if run.job == "test.slow"), None)


def duplicates(database: Database) -> list:
    with database.session() as session:
        return list(
            session.execute(
                select(JobRun.job, JobRun.scheduled_for)
                .group_by(JobRun.job, JobRun.scheduled_for)
                .having(func.count() > 1)
            ).all()
        )


def session_runs(database: Database) -> list[JobRun]:
    with database.session() as session:
        return list(session.scalars(select(JobRun)))


def slow_progress(database: Database) -> datetime | None:
    """When the slow job last did a step of work (it writes this row each step)."""
    with database.session() as session:
        mark = session.get(Watermark, "test:slow")
        return mark.updated_at if mark is not None else None


def start_pair(url: str, tmp_path: Path) -> tuple[Database, Scheduler, Scheduler]:
    """A leader busy in its slow job, and a standby that knows it is one."""
    migrate.upgrade(url)
    database = Database.connect(url)
    leader = Scheduler(url, tmp_path / "leader.log", "--health-port", "0")
    try:
        wait_until(
            lambda: first_run_of(database, leader), "the leader's first run", WAIT_LIMIT, leader
        )
        wait_until(lambda: slow_progress(database), "the slow job to start working")
        standby = Scheduler(url, tmp_path / "standby.log", "--health-port", "0")
        wait_until(lambda: standby.role() == "standby", "the standby to stand by")
    except BaseException:
        leader.close()
        database.dispose()
        raise
    assert leader.role() == "leader"
    assert first_run_of(database, standby) is None
    return database, leader, standby


def assert_clean_log(database: Database) -> None:
    runs = session_runs(database)
    assert duplicates(database) == []
    assert not [run for run in runs if run.status == "running"]
    assert {run.status for run in runs} <= {"success", "failed", "abandoned"}


def leader_dies_standby_takes_over(url: str, tmp_path: Path) -> None:
    database, leader, standby = start_pair(url, tmp_path)
    try:
        os.kill(leader.process.pid, signal.SIGKILL)
        leader.process.wait(timeout=10)
        last_of_dead = max(run.started_at for run in runs_of(database, leader))

        taken_over = wait_until(lambda: first_run_of(database, standby), "the takeover")
        assert taken_over.started_at > last_of_dead
        assert wait_until(lambda: standby.role() == "leader", "leader role")
        # The dead leader's slow run was closed by the new leader, not left running.
        dead_slow = slow_run_of(database, leader)
        assert dead_slow is not None
        assert dead_slow.status == "abandoned"
        assert dead_slow.finished_at is not None
        assert dead_slow.finished_at <= taken_over.started_at
        wait_until(
            lambda: any(run.status == "failed" for run in runs_of(database, standby)),
            "the failing job to be logged by the new leader",
        )
        beats_before = len(session_runs(database))
        wait_until(lambda: len(session_runs(database)) > beats_before + 2, "more runs")

        standby.process.send_signal(signal.SIGTERM)
        assert standby.process.wait(timeout=WAIT_LIMIT) == 0
        assert_clean_log(database)
        failed = [run for run in session_runs(database) if run.job == "test.explode"]
        assert all("RuntimeError" in (run.error or "") for run in failed if run.status == "failed")
    finally:
        leader.close()
        standby.close()
        database.dispose()


def deposed_leader_stops_before_the_standby_starts(
    url: str, tmp_path: Path, depose: Callable[[], None]
) -> None:
    """The leader loses its lock while its slow job runs: the job is cancelled (logged
    abandoned, no more work after it) before the new leader's first run starts."""
    database, leader, standby = start_pair(url, tmp_path)
    try:
        depose()
        taken_over = wait_until(
            lambda: first_run_of(database, standby), "the takeover", WAIT_LIMIT, leader, standby
        )
        deposed = slow_run_of(database, leader)
        assert deposed is not None
        assert deposed.status == "abandoned", deposed.status
        assert deposed.finished_at is not None
        assert deposed.finished_at <= taken_over.started_at
        assert "leadership lost" in (deposed.error or "")
        last_step = slow_progress(database)
        assert last_step is not None
        assert last_step <= taken_over.started_at
        # The deposed process lives on as a standby; the job's window was never marked done.
        assert wait_until(lambda: leader.role() == "standby", "the deposed leader to stand by")
        assert leader.process.poll() is None
        with database.session() as session:
            assert session.get(Watermark, "job:test.slow") is None
        later = [run for run in runs_of(database, leader) if run.started_at > deposed.started_at]
        assert all(run.started_at <= taken_over.started_at for run in later)
        for process in (leader, standby):
            process.process.send_signal(signal.SIGTERM)
            assert process.process.wait(timeout=WAIT_LIMIT) == 0
        assert_clean_log(database)
    finally:
        leader.close()
        standby.close()
        database.dispose()


def test_sqlite_file_lock_standby_takes_over_after_kill_9(tmp_path: Path) -> None:
    leader_dies_standby_takes_over(f"sqlite:///{tmp_path / 'tracker.db'}", tmp_path)


@pytest.mark.postgres
def test_postgres_advisory_lock_standby_takes_over_after_kill_9(
    postgres_server, tmp_path: Path
) -> None:
    leader_dies_standby_takes_over(postgres_server.create_database(), tmp_path)


def test_sqlite_leader_whose_lock_file_is_removed_stops_its_job_first(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    lock_file = Path(f"{path}.leader.lock")
    deposed_leader_stops_before_the_standby_starts(
        f"sqlite:///{path}", tmp_path, lambda: lock_file.unlink()
    )


@pytest.mark.postgres
def test_postgres_leader_whose_backend_is_terminated_stops_its_job_first(
    postgres_server, tmp_path: Path
) -> None:
    url = postgres_server.create_database()
    name = make_url(url).database

    def terminate_the_lock_holder() -> None:
        engine = create_engine(postgres_server.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                terminated = connection.execute(
                    text(
                        "SELECT pg_terminate_backend(l.pid) FROM pg_locks l "
                        "JOIN pg_database d ON d.oid = l.database "
                        "WHERE l.locktype = 'advisory' AND l.objid = :key AND l.granted "
                        "AND d.datname = :name"
                    ),
                    {"key": ADVISORY_LOCK_KEY, "name": name},
                ).all()
        finally:
            engine.dispose()
        assert terminated == [(True,)]

    deposed_leader_stops_before_the_standby_starts(url, tmp_path, terminate_the_lock_holder)


def test_a_taken_default_health_port_falls_back_to_a_free_one(database: Database) -> None:
    """A standby on the same host as the leader starts, on a port of its own."""
    state = HealthState(worker="test:1:boot")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        server = start_health_server(
            state, database, "127.0.0.1", busy, origin="TRACKER_HEALTH_PORT", explicit=False
        )
        try:
            assert server.port not in (busy, 0)
        finally:
            server.stop()


def test_a_second_run_on_an_explicitly_taken_port_names_both_ways_out(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    migrate.upgrade(url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run_tracker(
            "run",
            "--db",
            url,
            "--jobs",
            "test",
            env={"TRACKER_HEALTH_PORT": port},
            timeout=WAIT_LIMIT,
        )
    assert result.returncode == 2
    assert "TRACKER_HEALTH_PORT" in result.stderr
    assert "--health-port 0" in result.stderr
    assert "Traceback" not in result.stderr


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
