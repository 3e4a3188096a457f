"""``tracker run``: the scheduler service (or a replay of recorded weeks)."""

from __future__ import annotations

import logging
import math
import threading
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from tracker.cli.common import DbOption, open_database
from tracker.errors import ConfigError, UserInputError
from tracker.scheduler.timing import CANCEL_GRACE_SECONDS, HEARTBEAT_SECONDS, STANDBY_POLL_SECONDS

# The scheduler (APScheduler, the pipeline and its pandas) is imported inside the functions,
# so that every other ``tracker`` command starts without it.
if TYPE_CHECKING:
    from tracker.config import Settings
    from tracker.db import Database
    from tracker.scheduler.health import HealthServer, HealthState
    from tracker.scheduler.jobs import JobSpec

log = logging.getLogger(__name__)

app = typer.Typer(help="Run the scheduler: keep the tracker current, or replay recorded weeks.")


class JobSet(StrEnum):
    pipeline = "pipeline"
    test = "test"  # cheap jobs that exercise the scheduler itself (tests, smoke checks)


def jobs_for(job_set: JobSet, settings: Settings, *, replay: bool) -> list[JobSpec]:
    from tracker.scheduler.pipeline import pipeline_jobs
    from tracker.scheduler.testjobs import selfcheck_jobs

    if job_set is JobSet.test:
        return selfcheck_jobs(with_slow=not replay)
    return pipeline_jobs(settings, replay=replay)


def _bootstrap(db: Database) -> None:
    """Seed what the pipeline reads; a standby starting at the same moment may win the race."""
    from sqlalchemy.exc import IntegrityError

    from tracker.bootstrap import bootstrap

    try:
        bootstrap(db)
    except IntegrityError:
        bootstrap(db)


def require_current_schema(db: Database) -> None:
    from tracker.db import migrate

    if migrate.current_revision(db.engine) != migrate.head_revision():
        raise ConfigError("the database schema is not current: run `tracker db upgrade` first")


@app.callback(invoke_without_command=True)
def run(
    db: DbOption = None,
    replay: Annotated[
        str | None,
        typer.Option(
            "--replay",
            metavar="START..END",
            help="Replay recorded feeds and prices over these dates on a simulated clock.",
        ),
    ] = None,
    speed: Annotated[
        float, typer.Option("--speed", help="Replay speed: simulated seconds per real second.")
    ] = 3600.0,
    health_port: Annotated[
        int | None,
        typer.Option(
            "--health-port",
            min=0,
            max=65535,
            help="Health endpoint port (default TRACKER_HEALTH_PORT; 0 picks a free one).",
            show_default=False,
        ),
    ] = None,
    health_host: Annotated[
        str, typer.Option("--health-host", help="Health endpoint host.")
    ] = "127.0.0.1",
    job_set: Annotated[JobSet, typer.Option("--jobs", hidden=True)] = JobSet.pipeline,
    heartbeat: Annotated[float, typer.Option("--heartbeat", hidden=True, min=0.1)] = (
        HEARTBEAT_SECONDS
    ),
    standby_poll: Annotated[float, typer.Option("--standby-poll", hidden=True, min=0.1)] = (
        STANDBY_POLL_SECONDS
    ),
    cancel_grace: Annotated[float, typer.Option("--cancel-grace", hidden=True, min=0.1)] = (
        CANCEL_GRACE_SECONDS
    ),
) -> None:
    """Run the jobs until SIGTERM/SIGINT; a second process stands by and takes over."""
    from tracker.scheduler.health import HealthState
    from tracker.scheduler.leader import leader_lock_for
    from tracker.scheduler.replay import parse_range
    from tracker.scheduler.runner import worker_name
    from tracker.scheduler.service import SchedulerService, install_signal_handlers

    if not 0 < speed < math.inf:  # NaN fails too
        raise UserInputError(f"--speed must be a positive number, got {speed}")
    window = parse_range(replay) if replay else None
    settings, database = open_database(db)
    try:
        require_current_schema(database)
        if job_set is JobSet.pipeline:
            _bootstrap(database)
        jobs = jobs_for(job_set, settings, replay=window is not None)
        state = HealthState(worker=worker_name(), max_silence_seconds=max(30.0, 3 * heartbeat))
        server = start_health_server(
            state,
            database,
            health_host,
            settings.health_port if health_port is None else health_port,
            origin="TRACKER_HEALTH_PORT" if health_port is None else "--health-port",
            explicit=health_port is not None or "health_port" in settings.model_fields_set,
            token=settings.health_token.get_secret_value() if settings.health_token else None,
        )
        typer.echo(f"health: http://{health_host}:{server.port}/health", err=True)
        try:
            if window is None:
                service = SchedulerService(
                    database,
                    settings,
                    jobs,
                    leader_lock_for(database),
                    health=state,
                    heartbeat_seconds=heartbeat,
                    standby_poll_seconds=standby_poll,
                    cancel_grace_seconds=cancel_grace,
                )
                install_signal_handlers(service.request_stop)
                service.run()
            else:
                _replay(database, settings, jobs, window, speed, state)
        finally:
            server.stop()
    finally:
        database.dispose()


def start_health_server(
    state: HealthState,
    database: Database,
    host: str,
    port: int,
    *,
    origin: str,
    explicit: bool,
    token: str | None = None,
) -> HealthServer:
    """The health endpoint on the chosen port.

    A second ``tracker run`` on one host (the standby) finds the default port taken by the
    leader: when the port was not chosen explicitly it listens on a free one and says so in
    one line; an explicitly chosen port that is taken is an error naming both ways out.
    """
    from tracker.scheduler.health import HealthServer

    try:
        return HealthServer(state, database, host, port, origin=origin, token=token).start()
    except ConfigError as exc:
        if explicit or port == 0:
            raise ConfigError(
                f"{exc} (another `tracker run` on this host? give each its own "
                "TRACKER_HEALTH_PORT, or --health-port 0 for a free one)"
            ) from exc
    server = HealthServer(state, database, host, 0, origin=origin, token=token).start()
    typer.echo(
        f"health: port {port} is taken (another `tracker run` on this host?); listening on "
        f"{server.port} instead (set TRACKER_HEALTH_PORT or --health-port to choose)",
        err=True,
    )
    return server


def _replay(
    database: Database,
    settings: Settings,
    jobs: list[JobSpec],
    window: tuple[datetime, datetime],
    speed: float,
    state: HealthState,
) -> None:
    from tracker.scheduler.clock import SimulatedClock
    from tracker.scheduler.leader import leader_lock_for
    from tracker.scheduler.replay import ReplayDriver
    from tracker.scheduler.runner import JobRunner, Outcome
    from tracker.scheduler.service import install_signal_handlers

    start, end = window
    lock = leader_lock_for(database)
    if not lock.try_acquire():
        raise UserInputError(
            "another scheduler is running on this database; stop it before a replay"
        )
    stop = threading.Event()
    install_signal_handlers(stop.set)
    try:
        state.set_role("replay")
        runner = JobRunner(database, settings, SimulatedClock(start, speed), replay=True)
        summary = ReplayDriver(runner, jobs, start, end, health=state, stop=stop).run()
    finally:
        lock.release()
    typer.echo(
        f"replayed {start.date()}..{(end.date())} at x{speed:g}: {len(summary.runs)} runs, "
        f"{summary.count(Outcome.success)} succeeded, {summary.count(Outcome.failed)} failed, "
        f"{summary.count(Outcome.skipped)} already done"
    )
