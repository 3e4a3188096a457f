"""The pipeline's jobs: which stage runs when, and with what window.

The stages themselves live in their own packages (news, link, prices, measure, digest);
each is imported inside its job function, so the scheduler imports and its framework runs
whatever stages are installed. Every function here only decides arguments: the window
from the job's watermark, live or recorded sources, which tickers.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, select, text

from tracker.config import Settings
from tracker.db import Database
from tracker.db.models import (
    Article,
    DailyBar,
    Event,
    EventArticle,
    EventTicker,
    Instrument,
    JobRun,
    Watermark,
)
from tracker.scheduler.jobs import JobContext, JobResult, JobSpec, counts_of
from tracker.scheduler.runlog import RunStatus
from tracker.scheduler.schedules import AfterSessionClose, DailyAt, DuringSessions, Every

POLL_EVERY = timedelta(minutes=1)  # each feed keeps its own next-check time; this only looks
LINK_EVERY = timedelta(minutes=2)
IMPACTS_EVERY = timedelta(minutes=5)
DAILY_BARS_MARGIN = timedelta(minutes=20)  # let the data vendor settle the close
INTRADAY_EVERY = timedelta(minutes=30)
INTRADAY_INTERVAL = "1h"
INTRADAY_BAR = timedelta(hours=1)
FRESH_EVENTS = timedelta(days=2)
HOUSEKEEPING_AT = time(4, 30)
JOB_RUN_RETENTION = timedelta(days=90)
IMPACT_INPUTS_MARK = "impacts:inputs"


# --- news and events -----------------------------------------------------------------


def poll_feeds(ctx: JobContext) -> JobResult:
    """Poll the feeds that are due; in a replay, reveal recorded entries published by now."""
    from tracker.ingest import news

    if ctx.replay:
        return counts_of(news.poll_recorded(ctx.db, ctx.settings.require_data_dir(), until=ctx.now))
    return counts_of(news.poll_due_feeds(ctx.db, ctx.settings, now=ctx.now))


def link_articles(ctx: JobContext) -> JobResult:
    from tracker.link.events import link_new_articles
    from tracker.measure.importance import refresh_importance

    report = link_new_articles(ctx.db, now=ctx.now)
    refresh_importance(ctx.db)  # new events and stories take their place in the ranked lists
    return counts_of(report)


# --- prices --------------------------------------------------------------------------


def price_source(settings: Settings, *, replay: bool) -> Any:
    """Recorded prices in a replay, yfinance live. The replay's windows end at the simulated
    now (daily: the session just closed; intraday: the last complete bar), so nothing later
    is revealed."""
    if replay:
        from tracker.sources.prices_recorded import RecordedPriceSource

        return RecordedPriceSource(settings.require_data_dir())
    from tracker.sources.prices_yfinance import YFinancePriceSource

    return YFinancePriceSource(calendar=settings.calendar)


def active_tickers(db: Database) -> list[str]:
    with db.session() as session:
        return list(
            session.scalars(
                select(Instrument.ticker).where(Instrument.active).order_by(Instrument.ticker)
            )
        )


def daily_window(ctx: JobContext) -> tuple[date | None, date]:
    """Sessions to fetch: after the last one fetched (watermark) through the one just closed.

    Without a watermark the start is None: the ingest then resumes each ticker from its own
    last stored bar (or its default backfill), which is the right catch-up for a new service.
    """
    schedule = AfterSessionClose(DAILY_BARS_MARGIN, ctx.settings.calendar)
    end = schedule.session_of(ctx.scheduled_for)
    if ctx.since is None:
        return None, end
    return schedule.session_of(ctx.since) + timedelta(days=1), end


def daily_bars(ctx: JobContext) -> JobResult:
    from tracker.ingest.prices import ingest_daily_bars

    start, end = daily_window(ctx)
    source = price_source(ctx.settings, replay=ctx.replay)
    return counts_of(
        ingest_daily_bars(
            ctx.db, source, active_tickers(ctx.db), start, end, calendar=ctx.settings.calendar
        )
    )


def exposed_tickers(db: Database, now: datetime) -> list[str]:
    """Tickers linked to events first reported in the last two days."""
    with db.session() as session:
        rows = session.scalars(
            select(Instrument.ticker)
            .join(EventTicker, EventTicker.instrument_id == Instrument.id)
            .join(Event, Event.id == EventTicker.event_id)
            .where(Event.first_reported_at >= now - FRESH_EVENTS, Event.first_reported_at <= now)
            .distinct()
            .order_by(Instrument.ticker)
        )
        return list(rows)


def intraday_bars(ctx: JobContext) -> JobResult:
    from tracker.ingest.prices import ingest_intraday_bars

    tickers = exposed_tickers(ctx.db, ctx.now)
    if not tickers:
        return {"tickers": 0}
    tickers = sorted({*tickers, ctx.settings.benchmark})
    start = ctx.since - INTRADAY_BAR if ctx.since else ctx.now - timedelta(days=1)
    end = ctx.now - INTRADAY_BAR if ctx.replay else ctx.now  # only complete bars in a replay
    source = price_source(ctx.settings, replay=ctx.replay)
    return counts_of(
        ingest_intraday_bars(
            ctx.db, source, tickers, INTRADAY_INTERVAL, start, end, calendar=ctx.settings.calendar
        )
    )


# --- impacts -------------------------------------------------------------------------


def impact_inputs(db: Database) -> str:
    """A fingerprint of what impacts are computed from; it changes when bars or links land."""
    with db.session() as session:
        bars = session.execute(select(func.count(), func.max(DailyBar.updated_at))).one()
        events = session.execute(
            select(func.count(), func.max(Event.id), func.max(Event.updated_at))
        ).one()
        links = session.scalar(select(func.count()).select_from(EventTicker))
    return f"bars={bars[0]}@{bars[1]};events={events[0]}/{events[1]}@{events[2]};links={links}"


def recompute_impacts(ctx: JobContext) -> JobResult:
    """Recompute impacts (then confounds and attribution) only when bars or events changed."""
    from tracker.measure.attribution import refresh_attribution
    from tracker.measure.service import compute_impacts

    inputs = impact_inputs(ctx.db)
    with ctx.db.session() as session:
        mark = session.get(Watermark, IMPACT_INPUTS_MARK)
        if mark is not None and mark.value == inputs:
            return {"unchanged": 1}
    from tracker.link.attention import update_attention_day0
    from tracker.measure.anchored import compute_anchored

    report = compute_impacts(ctx.db, ctx.settings, now=ctx.now)
    attribution = refresh_attribution(ctx.db, ctx.settings)
    # attention needs the day 0s the impact step stores; the anchored study needs both
    attention = update_attention_day0(ctx.db, calendar=ctx.settings.calendar)
    anchored = compute_anchored(ctx.db, ctx.settings, now=ctx.now)
    with ctx.db.session() as session:
        mark = session.get(Watermark, IMPACT_INPUTS_MARK)
        if mark is None:
            session.add(Watermark(name=IMPACT_INPUTS_MARK, value=inputs, updated_at=ctx.now))
        else:
            mark.value, mark.updated_at = inputs, ctx.now
    return {
        **counts_of(report),
        **attribution,
        **{f"attention_{k}": v for k, v in attention.as_counts().items()},
        **{f"anchored_{k}": v for k, v in anchored.as_counts().items()},
    }


# --- digest and housekeeping ---------------------------------------------------------


def send_digest(ctx: JobContext) -> JobResult:
    """Missed sessions since the last successful run and recent unfinished deliveries too;
    a run that leaves any delivery undone fails, so its watermark stays where it was."""
    from tracker.digest.send import require_complete, send_scheduled_digest

    report = send_scheduled_digest(ctx.db, ctx.settings, ctx.now, ctx.since)
    return counts_of(require_complete(report))


def housekeeping(ctx: JobContext) -> JobResult:
    """Retention (old unlinked articles, old job runs), then the backend's maintenance."""
    counts: dict[str, int] = {}
    with ctx.db.session() as session:
        if ctx.settings.article_retention_days > 0:
            cutoff = ctx.now - timedelta(days=ctx.settings.article_retention_days)
            in_event = exists().where(EventArticle.article_id == Article.id)
            result = session.execute(
                delete(Article).where(Article.published_at < cutoff, ~in_event)
            )
            counts["articles_deleted"] = int(getattr(result, "rowcount", 0) or 0)
        result = session.execute(
            delete(JobRun).where(
                JobRun.scheduled_for < ctx.now - JOB_RUN_RETENTION,
                JobRun.status != RunStatus.running.value,
            )
        )
        counts["job_runs_deleted"] = int(getattr(result, "rowcount", 0) or 0)
    maintain_database(ctx.db)
    counts["maintenance"] = 1
    return counts


def maintain_database(db: Database) -> None:
    """SQLite: checkpoint the WAL and refresh planner stats; PostgreSQL: ANALYZE."""
    with db.engine.connect() as connection:
        if db.backend == "sqlite":
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            connection.execute(text("PRAGMA optimize"))
        else:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


# --- the job set ---------------------------------------------------------------------


def pipeline_jobs(settings: Settings, *, replay: bool = False) -> list[JobSpec]:
    """The whole pipeline's schedule. A replay leaves out the digest (it must not e-mail
    anyone about a simulated day) and housekeeping (retention is about real time)."""
    calendar = settings.calendar
    jobs = [
        JobSpec(
            "news.poll",
            Every(POLL_EVERY),
            poll_feeds,
            misfire_grace=timedelta(minutes=5),
            description="poll the feeds that are due",
        ),
        JobSpec(
            "events.link",
            Every(LINK_EVERY),
            link_articles,
            misfire_grace=timedelta(minutes=10),
            description="link new articles into events",
        ),
        JobSpec(
            "prices.daily",
            AfterSessionClose(DAILY_BARS_MARGIN, calendar),
            daily_bars,
            misfire_grace=timedelta(hours=12),
            description="daily bars after each session's close",
        ),
        JobSpec(
            "prices.intraday",
            DuringSessions(INTRADAY_EVERY, calendar),
            intraday_bars,
            misfire_grace=timedelta(minutes=20),
            description="intraday bars for tickers exposed to fresh events",
        ),
        JobSpec(
            "impacts.compute",
            Every(IMPACTS_EVERY),
            recompute_impacts,
            misfire_grace=timedelta(minutes=30),
            description="recompute impacts when bars or events land",
        ),
    ]
    if not replay:
        jobs += [
            JobSpec(
                "digest.send",
                DailyAt(settings.digest_time, settings.digest_tz),
                send_digest,
                misfire_grace=timedelta(hours=6),
                description="the daily digest",
            ),
            JobSpec(
                "housekeeping",
                DailyAt(HOUSEKEEPING_AT, "America/New_York"),
                housekeeping,
                misfire_grace=timedelta(hours=12),
                description="retention and database maintenance",
            ),
        ]
    return jobs
