"""Attribution: why is this move credited to that event?

Every stored day-0 abnormal return of a ticker (the [0,0] result of an event whose day 0 is
that session) is a *move*. A move has *candidates*: the events linked to the ticker whose
window covers the session, i.e. whose day 0 is the session or one of the ``horizon``
sessions before it (default 5, the end of the widest stored window [0,+5]). An event
published after the session cannot have caused it, so later events are never candidates.

Each candidate gets a score in [0, 1], a weighted sum of four components (each in [0, 1]):

=============  ======  ==================================================================
component      weight  value
=============  ======  ==================================================================
link           0.35    how the event names the ticker: ``headline`` 1.0 (an issuer named in
                       a title), ``text`` 0.6 (named in the articles' text, the curated
                       timeline or by the user), ``exposure`` 0.35 (a private entity the
                       ticker is exposed to is named), ``theme`` 0.2 (only a theme basket)
timing         0.35    0.5 ** lag: 1.0 when day 0 is this session, 0.5 one session
                       earlier, 0.25 two sessions earlier ... (news is priced within a
                       day or two: a four-day-old headline about the firm should not beat
                       today's story that moved its whole sector)
coverage       0.15    mean of: first report (``events.is_novel``) 1/0; sources,
                       log(1+n)/log(11) capped at 1; the story's article volume that day
                       (articles of the story's events with day 0 on this session),
                       log(1+n)/log(51) capped at 1
importance     0.15    ``events.importance`` squashed to i / (1 + i)
=============  ======  ==================================================================

An event of kind ``market_move`` ("Nvidia falls about 17%") reports the move itself rather
than causing it: on its own its score is halved, so it leads only when no news does. In a
story (``events.story_id``) it is that story's happening of the day, carrying the reports
folded into it (the NYT, Verge and Ars pieces on the DeepSeek sell-off), so it is scored
like any other event of the story. Scores are rounded
to 6 decimals, so SQLite and PostgreSQL (and any platform) rank identically.

Ties are broken by, in order: the later day 0 (smaller lag), the stronger link, more
sources, then the lower event id, so the order is total and reproducible.

Roles: the first candidate is the move's ``primary`` catalyst (exactly one per move). The
other events of the primary's story (``events.story_id``; an event without a story is a
story of its own) are ``same_story``: they fold under the primary. Every other candidate is
a ``confound``: another story that could explain part of the same move. Each row carries
a one-line ``why`` built from the components.

The move's figures (``abnormal_return``, ``p_value``) are the engine's [0,0] numbers; the
``q_value`` is the Benjamini-Hochberg q of the primary's event when its day 0 is the session
(else of the lowest-id event measured on it). Storage is incremental: the ranking is
recomputed in memory for all moves (vectorised, see bench/bench_attribution.py) and only
the moves whose rows changed are rewritten, so new events, new stories or new impacts
update exactly the moves they touch. ``compute_attributions`` runs after the impacts in
``tracker demo``, ``tracker impact compute`` and the scheduler's impacts job.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.db import Database, utcnow
from tracker.db.models import Attribution, FirmImpact
from tracker.impact.study import USABLE_STATUSES
from tracker.measure.links import load_links, session_index, session_positions

WEIGHTS = {"link": 0.35, "timing": 0.35, "coverage": 0.15, "importance": 0.15}
LINK_STRENGTH = {"headline": 1.0, "text": 0.6, "exposure": 0.35, "theme": 0.2}
LINK_WORDS = {
    "headline": "named in a headline",
    "text": "named in the text",
    "exposure": "exposed through a named entity",
    "theme": "theme exposure only",
}
MOVE_REPORT_FACTOR = 0.5  # a market_move event reports the move, it does not cause it
HORIZON = 5  # sessions after day 0 an event stays a candidate (the widest window's end)
SOURCES_FULL = 10  # sources at which the sources part of coverage reaches 1
STORY_ARTICLES_FULL = 50  # articles that day at which the volume part reaches 1
DECIMALS = 6
ROLES = ("primary", "same_story", "confound")

#: what rank_candidates reads (one row per (move, candidate event))
CANDIDATE_COLUMNS = (
    "instrument_id",
    "session_date",
    "event_id",
    "story_id",  # nullable
    "lag",  # sessions from the event's day 0 to the move's session (0 = same session)
    "link",  # LINK_STRENGTH key
    "kind",
    "title",
    "source_count",
    "is_novel",
    "importance",
    "story_articles",  # articles of the candidate's story with day 0 on this session
)


def score_components(candidates: pd.DataFrame) -> pd.DataFrame:
    """The four components and the score of each candidate (vectorised, pure)."""
    link = candidates["link"].map(LINK_STRENGTH)
    if link.isna().any():
        bad = candidates.loc[link.isna(), "link"].iloc[0]
        raise ValueError(f"unknown link strength {bad!r} (one of {', '.join(LINK_STRENGTH)})")
    lag = candidates["lag"].to_numpy(dtype=np.float64)
    if (lag < 0).any():
        raise ValueError("a candidate's day 0 is after the move's session (negative lag)")
    timing = 0.5**lag
    sources = np.minimum(
        1.0,
        np.log1p(candidates["source_count"].to_numpy(dtype=np.float64)) / math.log1p(SOURCES_FULL),
    )
    volume = np.minimum(
        1.0,
        np.log1p(candidates["story_articles"].to_numpy(dtype=np.float64))
        / math.log1p(STORY_ARTICLES_FULL),
    )
    novel = candidates["is_novel"].to_numpy(dtype=bool).astype(np.float64)
    coverage = (novel + sources + volume) / 3.0
    raw_importance = np.maximum(candidates["importance"].to_numpy(dtype=np.float64), 0.0)
    importance = raw_importance / (1.0 + raw_importance)
    link_value = link.to_numpy(dtype=np.float64)
    score = (
        WEIGHTS["link"] * link_value
        + WEIGHTS["timing"] * timing
        + WEIGHTS["coverage"] * coverage
        + WEIGHTS["importance"] * importance
    )
    bare_report = (candidates["kind"].to_numpy() == "market_move") & candidates[
        "story_id"
    ].isna().to_numpy()
    score = np.where(bare_report, score * MOVE_REPORT_FACTOR, score)
    return pd.DataFrame(
        {
            "link_value": np.round(link_value, DECIMALS),
            "timing": np.round(timing, DECIMALS),
            "coverage": np.round(coverage, DECIMALS),
            "importance_value": np.round(importance, DECIMALS),
            "score": np.round(score, DECIMALS),
        },
        index=candidates.index,
    )


WHY_KEYS = ("role", "link", "lag", "source_count", "is_novel", "kind", "in_story")
ROLE_WORDS = {
    "primary": "highest score",
    "same_story": "same story as the primary",
    "confound": "another story than the primary's",
}


def _why_line(
    role: str, link: str, lag: int, sources: int, novel: bool, kind: str, in_story: bool
) -> str:
    when = "day 0 is this session" if lag == 0 else f"day 0 {int(lag)} session(s) earlier"
    line = f"{ROLE_WORDS[role]}: {LINK_WORDS[link]}; {when}; {int(sources)} source(s)" + (
        ", first report" if novel else ""
    )
    if kind == "market_move":
        line += (
            "; reports the move, for its story"
            if in_story
            else "; reports the move itself (score halved)"
        )
    return line


def _why(frame: pd.DataFrame) -> pd.Series:
    """One line per candidate: its role and the components that put it there.

    Built once per distinct combination (a few thousand at most), then joined back: the
    line is the same for every candidate sharing them.
    """
    keys = frame.assign(in_story=frame["story_id"].notna())[list(WHY_KEYS)]
    unique = keys.drop_duplicates()
    lines = [_why_line(*values) for values in unique.itertuples(index=False, name=None)]
    table = unique.assign(why=lines)
    return keys.merge(table, on=list(WHY_KEYS), how="left")["why"].set_axis(frame.index)


def rank_candidates(candidates: pd.DataFrame) -> pd.DataFrame:
    """Score, rank and give a role and a reason to every candidate of every move (pure).

    ``candidates``: CANDIDATE_COLUMNS. Returns them with the components, ``score``, ``rank``
    (1 = primary), ``role`` and ``why``, sorted by move then rank. Raises ValueError on an
    unknown link strength or a negative lag.
    """
    missing = [c for c in CANDIDATE_COLUMNS if c not in candidates.columns]
    if missing:
        raise ValueError(f"candidates lack column(s): {', '.join(missing)}")
    if candidates.empty:
        return candidates.assign(score=[], rank=[], role=[], why=[])
    frame = candidates.reset_index(drop=True)
    frame["session_date"] = pd.to_datetime(frame["session_date"])
    frame = pd.concat([frame, score_components(frame)], axis=1)
    frame["link_order"] = -frame["link_value"]
    frame["neg_score"] = -frame["score"]
    frame["neg_sources"] = -frame["source_count"]
    frame = frame.sort_values(
        [
            "instrument_id",
            "session_date",
            "neg_score",
            "lag",
            "link_order",
            "neg_sources",
            "event_id",
        ],
        kind="stable",
    )
    frame["rank"] = frame.groupby(["instrument_id", "session_date"], sort=False).cumcount() + 1
    story = frame["story_id"].astype("Int64")
    frame["story_key"] = np.where(story.isna(), -frame["event_id"], story.fillna(0)).astype(
        np.int64
    )
    first = frame["rank"].to_numpy() == 1
    primary_story = pd.Series(
        np.where(first, frame["story_key"].to_numpy(), 0), index=frame.index
    ).where(first)
    frame["primary_story"] = (
        primary_story.groupby([frame["instrument_id"], frame["session_date"]], sort=False)
        .transform("first")
        .astype(np.int64)
    )
    frame["role"] = np.where(
        first,
        "primary",
        np.where(frame["story_key"] == frame["primary_story"], "same_story", "confound"),
    )
    frame["why"] = _why(frame)
    return frame.drop(columns=["link_order", "neg_score", "neg_sources"]).reset_index(drop=True)


# ----------------------------------------------------------------------------- storage


@dataclass
class AttributionReport:
    moves: int = 0
    candidates: int = 0
    written: int = 0
    removed: int = 0

    def as_counts(self) -> dict[str, int]:
        return {
            "moves": self.moves,
            "candidates": self.candidates,
            "moves_written": self.written,
            "moves_removed": self.removed,
        }


def load_moves(session: Session, model: str) -> pd.DataFrame:
    """Stored day-0 results: instrument_id, session_date, event_id, ar, p, q (usable only)."""
    rows = session.execute(
        select(
            FirmImpact.instrument_id,
            FirmImpact.day0,
            FirmImpact.event_id,
            FirmImpact.car,
            FirmImpact.car_p,
            FirmImpact.q_value,
        ).where(
            FirmImpact.model == model,
            FirmImpact.window_start == 0,
            FirmImpact.window_end == 0,
            FirmImpact.status.in_([str(s) for s in USABLE_STATUSES]),
            FirmImpact.day0.is_not(None),
        )
    ).all()
    frame = pd.DataFrame(
        rows, columns=["instrument_id", "session_date", "event_id", "ar", "p", "q"]
    )
    frame["session_date"] = pd.to_datetime(frame["session_date"])
    return frame


def build_candidates(
    links: pd.DataFrame, moves: pd.DataFrame, index: pd.DatetimeIndex, horizon: int = HORIZON
) -> pd.DataFrame:
    """Every (move, event) pair where the event's window covers the move (pure).

    ``links``: tracker.measure.links.LINK_COLUMNS; ``moves``: load_moves' columns.
    """
    if links.empty or moves.empty:
        return pd.DataFrame({c: [] for c in CANDIDATE_COLUMNS})
    dates = pd.DatetimeIndex(index.to_numpy(dtype="datetime64[D]").astype("datetime64[ns]"))
    links = links.reset_index(drop=True)
    pos = session_positions(links["day0"], index)
    story = links["story_id"].astype("Int64")
    story_key = np.where(story.isna(), -links["event_id"], story.fillna(0)).astype(np.int64)
    volume = (
        pd.DataFrame({"key": story_key, "pos": pos, "event_id": links["event_id"],
                      "articles": links["article_count"]})
        .drop_duplicates(["key", "pos", "event_id"])
        .groupby(["key", "pos"])["articles"]
        .sum()
    )  # fmt: skip
    lags = np.arange(0, horizon + 1)
    expanded = links.loc[links.index.repeat(len(lags))].copy()
    expanded["lag"] = np.tile(lags, len(links))
    expanded["pos"] = np.repeat(pos, len(lags))
    expanded["story_key"] = np.repeat(story_key, len(lags))
    expanded["move_pos"] = expanded["pos"] + expanded["lag"]
    expanded = expanded[expanded["move_pos"] < len(dates)]
    expanded["session_date"] = dates[expanded["move_pos"].to_numpy()]
    keys = moves[["instrument_id", "session_date"]].drop_duplicates()
    keys = keys.assign(session_date=pd.to_datetime(keys["session_date"]))
    got = expanded.merge(keys, on=["instrument_id", "session_date"])
    articles = volume.reindex(pd.MultiIndex.from_arrays([got["story_key"], got["move_pos"]]))
    got["story_articles"] = articles.fillna(0).to_numpy(dtype=np.int64)
    return got[list(CANDIDATE_COLUMNS)].reset_index(drop=True)


MOVE_KEYS = ["instrument_id", "session_date"]
FINGERPRINT_COLUMNS = ("event_id", "story_id", "role", "rank", "score", "why", "ar", "p", "q")


def with_move_figures(ranked: pd.DataFrame, moves: pd.DataFrame) -> pd.DataFrame:
    """Each candidate with its move's ar, p and q (the primary's own row when it has one)."""
    moves = moves.assign(session_date=pd.to_datetime(moves["session_date"]))
    primary = ranked.loc[ranked["rank"] == 1, [*MOVE_KEYS, "event_id"]]
    own = primary.merge(moves, on=[*MOVE_KEYS, "event_id"], how="left")
    fallback = (
        moves.sort_values("event_id", kind="stable")
        .drop_duplicates(MOVE_KEYS)
        .drop(columns="event_id")
        .set_index(MOVE_KEYS)
    )
    figures = own.drop(columns="event_id").set_index(MOVE_KEYS)
    figures = figures.fillna(fallback.reindex(figures.index)) if len(figures) else figures
    return ranked.merge(figures.reset_index(), on=MOVE_KEYS, how="left")


def move_fingerprints(ranked: pd.DataFrame) -> pd.Series:
    """One fingerprint per move (indexed by MOVE_KEYS) over its ranked rows and figures.

    Rows are hashed vectorised (pandas' ``hash_pandas_object``), then each move's run of
    row hashes is digested: a change to any candidate, role, reason or figure of a move
    changes its fingerprint and nothing else's. (A pandas upgrade may change the row
    hashes; the next run then simply rewrites every move once.)
    """
    if ranked.empty:
        return pd.Series([], dtype=object)
    rows = ranked[list(FINGERPRINT_COLUMNS)].copy()
    rows["story_id"] = rows["story_id"].astype("Int64")
    hashes = pd.util.hash_pandas_object(rows, index=False).to_numpy(dtype=np.uint64)
    keys = ranked[MOVE_KEYS]
    change = np.ones(len(keys), dtype=bool)
    change[1:] = (keys["instrument_id"].to_numpy()[1:] != keys["instrument_id"].to_numpy()[:-1]) | (
        keys["session_date"].to_numpy()[1:] != keys["session_date"].to_numpy()[:-1]
    )
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], len(keys))
    digests = [
        hashlib.blake2b(hashes[a:b].tobytes(), digest_size=16).hexdigest()
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
    ]
    index = pd.MultiIndex.from_frame(keys.iloc[starts])
    return pd.Series(digests, index=index, dtype=object)


def attribute(
    links: pd.DataFrame, moves: pd.DataFrame, index: pd.DatetimeIndex, horizon: int = HORIZON
) -> tuple[pd.DataFrame, pd.Series]:
    """Every move's ranked candidates with its figures, and each move's fingerprint (pure)."""
    ranked = rank_candidates(build_candidates(links, moves, index, horizon))
    if ranked.empty:
        return ranked, pd.Series([], dtype=object)
    ranked = with_move_figures(ranked, moves)
    return ranked, move_fingerprints(ranked)


def _clean(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def compute_attributions(
    db: Database,
    calendar: str,
    *,
    model: str = "market",
    horizon: int = HORIZON,
    now: datetime | None = None,
) -> AttributionReport:
    """Rank the candidates of every stored move; rewrite only the moves that changed."""
    now = now or utcnow()
    report = AttributionReport()
    with db.session() as session:
        links = load_links(session, calendar)
        moves = load_moves(session, model)
        stored = {
            (i, d): fp
            for i, d, fp in session.execute(
                select(
                    Attribution.instrument_id,
                    Attribution.session_date,
                    Attribution.input_fingerprint,
                ).where(Attribution.model == model, Attribution.rank == 1)
            )
        }
    days = list(links["day0"]) + [d.date() for d in moves["session_date"]] if len(links) else []
    index = session_index(days, calendar, pad=horizon + 10)
    ranked, fingerprints = attribute(links, moves, index, horizon)
    current = {
        (int(i), pd.Timestamp(d).date()): str(fp)
        for i, d, fp in zip(
            fingerprints.index.get_level_values(0).tolist() if len(fingerprints) else [],
            fingerprints.index.get_level_values(1).tolist() if len(fingerprints) else [],
            fingerprints.tolist(),
            strict=True,
        )
    }
    report.moves, report.candidates = len(current), len(ranked)
    changed = {key for key, fp in current.items() if stored.get(key) != fp}
    removed = [key for key in stored if key not in current]
    if not changed and not removed:
        return report
    values = _rows(ranked, fingerprints, changed, model, now)
    with db.session() as session:
        for instrument_id, day in [key for key in [*changed, *removed] if key in stored]:
            session.execute(
                delete(Attribution).where(
                    Attribution.instrument_id == instrument_id,
                    Attribution.session_date == day,
                    Attribution.model == model,
                )
            )
        if values:
            session.execute(insert(Attribution), values)
    report.written, report.removed = len(changed), len(removed)
    return report


def _rows(
    ranked: pd.DataFrame,
    fingerprints: pd.Series,
    changed: set[tuple[int, date]],
    model: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """The stored rows of the changed moves (dicts for one bulk insert)."""
    keys = pd.MultiIndex.from_frame(ranked[MOVE_KEYS])
    wanted = pd.MultiIndex.from_tuples([(i, pd.Timestamp(d)) for i, d in changed], names=MOVE_KEYS)
    chosen = ranked[keys.isin(wanted)]
    fps = fingerprints.reindex(pd.MultiIndex.from_frame(chosen[MOVE_KEYS])).tolist()
    out = []
    for row, fp in zip(chosen.to_dict("records"), fps, strict=True):
        story = row["story_id"]
        out.append(
            {
                "instrument_id": int(row["instrument_id"]),
                "session_date": pd.Timestamp(row["session_date"]).date(),
                "event_id": int(row["event_id"]),
                "story_id": None if story is None or pd.isna(story) else int(story),
                "role": str(row["role"]),
                "rank": int(row["rank"]),
                "score": float(row["score"]),
                "components": {
                    "link": str(row["link"]),
                    "link_value": float(row["link_value"]),
                    "lag": int(row["lag"]),
                    "timing": float(row["timing"]),
                    "coverage": float(row["coverage"]),
                    "importance": float(row["importance_value"]),
                    "weights": WEIGHTS,
                },
                "why": str(row["why"]),
                "abnormal_return": _clean(row["ar"]),
                "p_value": _clean(row["p"]),
                "q_value": _clean(row["q"]),
                "model": model,
                "input_fingerprint": str(fp),
                "computed_at": now,
            }
        )
    return out


def primary_events(
    session: Session, keys: Sequence[tuple[int, date]], model: str = "market"
) -> dict[tuple[int, date], int]:
    """(instrument, session) -> the primary event id of that move, where one is stored."""
    if not keys:
        return {}
    days = sorted({d for _, d in keys})
    instruments = sorted({i for i, _ in keys})
    rows = session.execute(
        select(Attribution.instrument_id, Attribution.session_date, Attribution.event_id).where(
            Attribution.role == "primary",
            Attribution.model == model,
            Attribution.session_date.in_(days),
            Attribution.instrument_id.in_(instruments),
        )
    )
    wanted = set(keys)
    return {(i, d): e for i, d, e in rows if (i, d) in wanted}


def refresh_attribution(db: Database, settings: Settings) -> dict[str, int]:
    """The step after the impacts: the confound ledger, then the attribution of every move."""
    from tracker.measure.clean import event_span
    from tracker.measure.confounds import compute_confounds
    from tracker.measure.study import default_parameters

    params = default_parameters(settings)
    ledger = compute_confounds(db, settings.calendar, event_span(params))
    moves = compute_attributions(
        db, settings.calendar, model=str(params.model_name), horizon=event_span(params)[1]
    )
    return {**ledger.as_counts(), **moves.as_counts()}
