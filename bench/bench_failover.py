"""Benchmark: how long a standby takes to run its first job after the leader goes away.

Two real ``tracker run --jobs test`` processes on one SQLite file; the leader is busy in its
slow job when it is either killed (SIGKILL) or deposed (its lock file removed). The figure is
the time from that moment to the first successful run the standby logs in the job-run log,
with the production timings (heartbeat 5 s, standby poll 3 s, cancel grace 10 s) unless told
otherwise. After a kill the dead leader's slow run stays open, so the standby also waits out
the fence (two heartbeats plus the grace) before it starts: that is the price of never
running beside a deposed leader.

    python bench/bench_failover.py [--runs 5] [--mode kill|depose] [--heartbeat 5] ...
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.runs import DEFAULT_RUNS, Spread, load_average  # noqa: E402
from tracker.db import Database, migrate, utcnow  # noqa: E402
from tracker.db.models import JobRun, Watermark  # noqa: E402

WAIT_LIMIT = 120.0
T = TypeVar("T")


def start(url: str, log: Path, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tracker.cli.main",
            "run",
            "--db",
            url,
            "--jobs",
            "test",
            "--health-port",
            "0",
            "--heartbeat",
            str(args.heartbeat),
            "--standby-poll",
            str(args.standby_poll),
            "--cancel-grace",
            str(args.cancel_grace),
        ],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def wait_for(condition: Callable[[], T | bool | None], what: str) -> T:
    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value  # type: ignore[return-value]
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def first_success(database: Database, pid: int, after: datetime | None = None) -> datetime | None:
    with database.session() as session:
        query = select(JobRun.started_at).where(
            JobRun.worker.contains(f":{pid}:"), JobRun.status == "success"
        )
        if after is not None:
            query = query.where(JobRun.started_at >= after)
        return session.scalars(query.order_by(JobRun.started_at).limit(1)).first()


def slow_started(database: Database) -> bool:
    with database.session() as session:
        return session.get(Watermark, "test:slow") is not None


def one_takeover(directory: Path, args: argparse.Namespace) -> float:
    path = directory / "tracker.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    database = Database.connect(url)
    leader = start(url, directory / "leader.log", args)
    wait_for(lambda: first_success(database, leader.pid), "the leader's first run")
    standby = start(url, directory / "standby.log", args)
    try:
        wait_for(lambda: slow_started(database), "the slow job")
        standby_log = directory / "standby.log"
        wait_for(lambda: "standby: another scheduler leads" in standby_log.read_text(), "standby")
        if first_success(database, standby.pid) is not None:
            raise SystemExit("the standby ran a job while the leader held the lock")
        gone = utcnow()
        if args.mode == "kill":
            leader.send_signal(signal.SIGKILL)
        else:
            Path(f"{path}.leader.lock").unlink()
        taken = wait_for(lambda: first_success(database, standby.pid, gone), "the takeover")
        return float((taken - gone).total_seconds())
    finally:
        for process in (leader, standby):
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
        database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="takeovers (each 10-60 s)")
    parser.add_argument("--mode", choices=("kill", "depose"), default="kill")
    parser.add_argument("--heartbeat", type=float, default=5.0)
    parser.add_argument("--standby-poll", type=float, default=3.0)
    parser.add_argument("--cancel-grace", type=float, default=10.0)
    args = parser.parse_args()
    print(f"before: {load_average()}")
    times = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="bench-failover-") as directory:
            times.append(one_takeover(Path(directory), args))
        print(f"run {run + 1}: {times[-1]:.2f} s", flush=True)
    print(
        f"takeover after {args.mode} (heartbeat {args.heartbeat:g} s, standby poll "
        f"{args.standby_poll:g} s, cancel grace {args.cancel_grace:g} s): "
        f"{Spread.of(times).seconds()}"
    )
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
