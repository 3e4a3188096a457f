"""The storage schema of the whole pipeline, as SQLAlchemy 2 typed models.

Sources -> ingest -> store -> link -> measure -> present: every stage reads what the
previous one stored here. Times are aware UTC (``UTCDateTime``); trading dates are plain
``date`` values of the exchange's calendar.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db.base import Base, utcnow
from tracker.db.types import UTCDateTime

JSONDict = dict[str, Any]


# --------------------------------------------------------------------------- news


class Feed(Base):
    """A news feed we poll, with its HTTP validators and its polling health."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="rss")  # rss | atom | recorded
    topics: Mapped[str] = mapped_column(String(200), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str | None] = mapped_column(String(40))
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    articles: Mapped[list[Article]] = relationship(back_populates="feed")


class Article(Base):
    """One feed entry, sanitised; unique per feed by its dedupe key."""

    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("feed_id", "dedupe_key"),
        Index("ix_articles_published_at", "published_at"),
        Index("ix_articles_canonical_url", "canonical_url"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    guid: Mapped[str | None] = mapped_column(String(2048))
    dedupe_key: Mapped[str] = mapped_column(String(128))
    canonical_url: Mapped[str | None] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(Text)  # plain text (tags stripped, entities decoded)
    summary_html: Mapped[str] = mapped_column(Text, default="")  # sanitised by nh3
    summary_text: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    future_dated: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    feed: Mapped[Feed] = relationship(back_populates="articles")


# ------------------------------------------------------------------------ markets


class Instrument(Base):
    """A listed security (equity or ETF) we keep prices for."""

    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticker: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    exchange: Mapped[str] = mapped_column(String(20), default="XNYS")
    kind: Mapped[str] = mapped_column(String(20), default="equity")  # equity | etf | index
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    shares_outstanding: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SharesOutstanding(Base):
    """A count of shares outstanding as of a date: the value change uses the one in force.

    ``share_class`` says which security the count is for (``common``, ``ADR``, ``Class A +
    Class B``): the count must be the listed security's, never a mix of classes unless the
    listing's price applies to all of them (stated here, so no mixing is silent).
    """

    __tablename__ = "shares_outstanding"
    __table_args__ = (UniqueConstraint("instrument_id", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    as_of: Mapped[date] = mapped_column(Date)
    shares: Mapped[int] = mapped_column(BigInteger)
    share_class: Mapped[str] = mapped_column(String(80), default="")
    source: Mapped[str] = mapped_column(String(20), default="")  # recorded | yfinance
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Basket(Base):
    """A named group of instruments: a watchlist, a sector basket or a theme's exposure."""

    __tablename__ = "baskets"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    is_watchlist: Mapped[bool] = mapped_column(Boolean, default=True)

    members: Mapped[list[BasketMember]] = relationship(
        back_populates="basket", cascade="all, delete-orphan"
    )


class BasketMember(Base):
    __tablename__ = "basket_members"

    basket_id: Mapped[int] = mapped_column(
        ForeignKey("baskets.id", ondelete="CASCADE"), primary_key=True
    )
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )

    basket: Mapped[Basket] = relationship(back_populates="members")
    instrument: Mapped[Instrument] = relationship()


class DailyBar(Base):
    """One session's OHLCV: ``close`` raw (split-adjusted), ``adj_close`` dividend-adjusted too."""

    __tablename__ = "daily_bars"

    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    open: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    close: Mapped[float] = mapped_column(Float)
    adj_close: Mapped[float | None] = mapped_column(Float)
    volume: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(20), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IntradayBar(Base):
    """One intraday bar; ``ts`` is the bar's start in UTC."""

    __tablename__ = "intraday_bars"

    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    interval: Mapped[str] = mapped_column(String(8), primary_key=True)  # 1m 5m 1h ...
    ts: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    open: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    close: Mapped[float] = mapped_column(Float)
    volume: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(20), default="")


class CorporateAction(Base):
    """A dividend (cash per share) or a split (new shares per old share) on its ex-date."""

    __tablename__ = "corporate_actions"
    __table_args__ = (
        UniqueConstraint("instrument_id", "kind", "ex_date"),
        CheckConstraint("kind IN ('dividend', 'split')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    ex_date: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20), default="")


# --------------------------------------------------------------------------- link


class Entity(Base):
    """A company, lab, product, regulator or policy that news talks about."""

    __tablename__ = "entities"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # company | lab | product | regulator | policy
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    user_defined: Mapped[bool] = mapped_column(Boolean, default=False)

    aliases: Mapped[list[EntityAlias]] = relationship(
        back_populates="entity", cascade="all, delete-orphan"
    )


class EntityAlias(Base):
    __tablename__ = "entity_aliases"
    __table_args__ = (UniqueConstraint("entity_id", "alias"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(200))
    case_sensitive: Mapped[bool] = mapped_column(Boolean, default=False)

    entity: Mapped[Entity] = relationship(back_populates="aliases")


class EntityTicker(Base):
    """An entity's listed security (``issuer``) or a private entity's exposure (``exposure``)."""

    __tablename__ = "entity_tickers"

    entity_id: Mapped[int] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True
    )
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    relation: Mapped[str] = mapped_column(String(20), default="issuer")


class ArticleEntity(Base):
    """An entity found in an article, with how strongly (title beats summary, repeats count)."""

    __tablename__ = "article_entities"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    entity_id: Mapped[int] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    relevance: Mapped[float] = mapped_column(Float)
    in_title: Mapped[bool] = mapped_column(Boolean, default=False)
    mentions: Mapped[int] = mapped_column(Integer, default=1)


class Theme(Base):
    """A market theme (AI efficiency shock, AI capex, export controls ...)."""

    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class ThemeBasket(Base):
    """A basket exposed to a theme, and why."""

    __tablename__ = "theme_baskets"

    theme_id: Mapped[int] = mapped_column(
        ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True
    )
    basket_id: Mapped[int] = mapped_column(
        ForeignKey("baskets.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")


class Story(Base):
    """A thread of events (the DeepSeek story, Stargate, US chip export controls).

    An event is one happening; a story ties the happenings that follow from each other.
    Built incrementally by ``tracker.link`` from stored events; ``user_edited`` stories keep
    their title and membership when the automatic pass runs again.
    """

    __tablename__ = "stories"
    __table_args__ = (
        CheckConstraint("origin IN ('curated', 'detected')", name="origin"),
        Index("ix_stories_first_reported_at", "first_reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(10), default="detected")  # curated | detected
    first_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    article_count: Mapped[int] = mapped_column(Integer, default=0)
    source_count: Mapped[int] = mapped_column(Integer, default=0)
    importance: Mapped[float] = mapped_column(Float, default=0.0)
    user_edited: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Event(Base):
    """Something that happened: curated from a timeline or detected from clustered articles."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("origin IN ('curated', 'detected')", name="origin"),
        Index("ix_events_first_reported_at", "first_reported_at"),
        # the earlier events of a kind with what analogs filter on, read from the index alone
        Index(
            "ix_events_kind_first_reported_at_id_parent",
            "kind",
            "first_reported_at",
            "id",
            "parent_id",
        ),
        # the lists' default order (importance, newest, id), walked instead of sorted
        Index("ix_events_importance_first_reported_at", "importance", "first_reported_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    title: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40), default="news", index=True)
    origin: Mapped[str] = mapped_column(String(10), default="detected")  # curated | detected
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    day0: Mapped[date | None] = mapped_column(Date, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    reference_url: Mapped[str | None] = mapped_column(String(2048))
    article_count: Mapped[int] = mapped_column(Integer, default=0)
    source_count: Mapped[int] = mapped_column(Integer, default=0)
    is_novel: Mapped[bool] = mapped_column(Boolean, default=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), index=True
    )
    # a person chose the story (or none): the automatic story pass leaves it alone
    story_locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # ranking of the default lists: coverage, novelty, link strength, significant moves;
    # ``importance_detail`` holds the components so a page can say why
    importance: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    importance_detail: Mapped[JSONDict] = mapped_column(JSON, default=dict, server_default="{}")
    # the session attention first surged (tracker.link.attention, tracker.impact.onset), set
    # where it differs from ``day0``; ``attention_detail`` holds the method's parameters, the
    # counts behind the choice and the lag in sessions, also when no surge was found
    attention_day0: Mapped[date | None] = mapped_column(Date)
    attention_detail: Mapped[JSONDict] = mapped_column(JSON, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class EventArticle(Base):
    __tablename__ = "event_articles"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    relevance: Mapped[float] = mapped_column(Float, default=1.0)
    reason: Mapped[str] = mapped_column(Text, default="")


class EventEntity(Base):
    __tablename__ = "event_entities"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    entity_id: Mapped[int] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    relevance: Mapped[float] = mapped_column(Float, default=1.0)


class EventTheme(Base):
    __tablename__ = "event_themes"
    # a theme's events read from the index alone (analogs, theme filters)
    __table_args__ = (Index("ix_event_themes_theme_id_event_id", "theme_id", "event_id"),)

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    theme_id: Mapped[int] = mapped_column(
        ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")


class EventTicker(Base):
    """A ticker exposed to an event, and the reason ("named in 12 articles", "theme: ...")."""

    __tablename__ = "event_tickers"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    relevance: Mapped[float] = mapped_column(Float, default=1.0)
    reason: Mapped[str] = mapped_column(Text, default="")


# ------------------------------------------------------------------------- impact


class FirmImpact(Base):
    """One (event, ticker, model, window) result of the event study, with its provenance."""

    __tablename__ = "firm_impacts"
    __table_args__ = (
        UniqueConstraint("event_id", "instrument_id", "model", "window_start", "window_end"),
        # day0 too: a ticker's event days come from the index alone (tracker.query.tickers)
        Index("ix_firm_impacts_instrument_car_day0", "instrument_id", "car", "day0"),
        # the largest |CAR| of one window, read from both ends of the index, and the few
        # events past a |CAR| / q threshold, collected from it (tracker.query)
        Index(
            "ix_firm_impacts_model_window_car_q_event",
            "model",
            "window_start",
            "window_end",
            "car",
            "car_p",
            "q_value",
            "event_id",
        ),
        # one event's results of a window: probed per event when many qualify (tracker.query)
        Index(
            "ix_firm_impacts_event_model_window_q",
            "event_id",
            "model",
            "window_start",
            "window_end",
            "car",
            "car_p",
            "q_value",
            "instrument_id",
        ),
        Index(
            "ix_firm_impacts_instrument_model_window_car",
            "instrument_id",
            "model",
            "window_start",
            "window_end",
            "car",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(20))
    window_start: Mapped[int] = mapped_column(Integer)
    window_end: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(30))
    day0: Mapped[date | None] = mapped_column(Date)
    car: Mapped[float | None] = mapped_column(Float)
    car_t: Mapped[float | None] = mapped_column(Float)
    car_p: Mapped[float | None] = mapped_column(Float)
    raw_return: Mapped[float | None] = mapped_column(Float)
    statistics: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    parameters: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    calendar_rule: Mapped[str] = mapped_column(String(200), default="")
    input_fingerprint: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Benjamini-Hochberg q-value of car_p across the event's tickers (same model and window)
    q_value: Mapped[float | None] = mapped_column(Float)


class GroupImpact(Base):
    """One (event, basket, model, window) group result: CAAR and its tests."""

    __tablename__ = "group_impacts"
    __table_args__ = (
        UniqueConstraint("event_id", "basket_id", "model", "window_start", "window_end"),
        Index(
            "ix_group_impacts_basket_model_window",
            "basket_id",
            "model",
            "window_start",
            "window_end",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    basket_id: Mapped[int] = mapped_column(ForeignKey("baskets.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(20))
    window_start: Mapped[int] = mapped_column(Integer)
    window_end: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(30))
    n: Mapped[int] = mapped_column(Integer, default=0)
    caar: Mapped[float | None] = mapped_column(Float)
    statistics: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    parameters: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    calendar_rule: Mapped[str] = mapped_column(String(200), default="")
    input_fingerprint: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attribution(Base):
    """One candidate catalyst of a (ticker, session) move, ranked (``tracker.measure.attribution``).

    Exactly one row of each (instrument, session) has role ``primary``; events of the
    primary's story are ``same_story``, the rest ``confound``. ``abnormal_return``, ``p_value``
    and ``q_value`` are the move's day-0 figures, repeated on each row of the move.
    """

    __tablename__ = "attributions"
    __table_args__ = (
        UniqueConstraint("instrument_id", "session_date", "event_id"),
        CheckConstraint("role IN ('primary', 'same_story', 'confound')", name="role"),
        Index("ix_attributions_session_date_role", "session_date", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    session_date: Mapped[date] = mapped_column(Date)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), index=True
    )
    role: Mapped[str] = mapped_column(String(12))
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    components: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    why: Mapped[str] = mapped_column(Text, default="")
    abnormal_return: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    q_value: Mapped[float | None] = mapped_column(Float)
    model: Mapped[str] = mapped_column(String(20))
    input_fingerprint: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnchoredImpact(Base):
    """An event-study result at another day 0 than the publication one.

    ``anchor`` is ``attention`` (day 0 = ``events.attention_day0``, every stored window) or
    ``shift`` (the sensitivity strip: day 0 = publication day 0 moved by ``shift`` sessions,
    window [0,0]). ``subject`` is the ticker or ``basket:<slug>``; exactly one of
    ``instrument_id`` / ``basket_id`` is set. Kept apart from ``firm_impacts`` and
    ``group_impacts`` so their keys, indexes and readers stay as they are.
    """

    __tablename__ = "anchored_impacts"
    __table_args__ = (
        UniqueConstraint(
            "event_id",
            "anchor",
            "shift",
            "subject",
            "model",
            "window_start",
            "window_end",
            name="uq_anchored_impacts_key",
        ),
        CheckConstraint("anchor IN ('attention', 'shift')", name="anchor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    anchor: Mapped[str] = mapped_column(String(20))
    shift: Mapped[int] = mapped_column(Integer, default=0)
    subject: Mapped[str] = mapped_column(String(100))
    instrument_id: Mapped[int | None] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE")
    )
    basket_id: Mapped[int | None] = mapped_column(ForeignKey("baskets.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(20))
    window_start: Mapped[int] = mapped_column(Integer)
    window_end: Mapped[int] = mapped_column(Integer)
    day0: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(30))
    car: Mapped[float | None] = mapped_column(Float)
    car_t: Mapped[float | None] = mapped_column(Float)
    car_p: Mapped[float | None] = mapped_column(Float)
    statistics: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    parameters: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    input_fingerprint: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Confound(Base):
    """Something else that touched an (event, ticker) around day 0 (``tracker.measure.confounds``).

    ``relative_day`` is the session offset from the event's day 0; a window [t1, t2] of the
    event's study is confounded by the rows with t1 <= relative_day <= t2. ``kind`` is
    ``event`` (another event linked to the ticker), ``earnings``, ``macro``, ``dividend`` or
    ``split``.
    """

    __tablename__ = "confounds"
    __table_args__ = (
        CheckConstraint("kind IN ('event', 'earnings', 'macro', 'dividend', 'split')", name="kind"),
        Index("ix_confounds_event_instrument", "event_id", "instrument_id", "relative_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    session_date: Mapped[date] = mapped_column(Date)
    relative_day: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    other_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(Text, default="")
    input_fingerprint: Mapped[str] = mapped_column(String(64))


# ------------------------------------------------------------------- operations


class JobRun(Base):
    """Every scheduled run of a job; unique per (job, scheduled_for) so none runs twice."""

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job", "scheduled_for"),
        Index("ix_job_runs_job_started_at", "job", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(80))
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="running")
    counts: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str] = mapped_column(String(200), default="")


class Watermark(Base):
    """How far a job has got (last bar date, last linked article ...), for catch-up."""

    __tablename__ = "watermarks"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DigestDelivery(Base):
    """The delivery ledger: one row per (digest date, recipient), so none is sent twice."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (UniqueConstraint("digest_date", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_date: Mapped[date] = mapped_column(Date)
    recipient: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|sent|failed
    message_id: Mapped[str] = mapped_column(String(320))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
