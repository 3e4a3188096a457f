"""Historical queries over events, articles, impacts and prices.

The one read path of the presentation layer: the CLI (``tracker query ...``), the
dashboard and the digest call these functions and compute no statistics of their own.
Every function takes an open ``Session`` and returns frozen dataclasses (``to_frame``
turns a list of them into a DataFrame) or a DataFrame where that is the natural shape.
Bad input raises ``UserInputError``; unknown names raise ``NotFoundError``.
"""

from tracker.query.analogs import AnalogRow, Analogs, CarDistribution, find_analogs
from tracker.query.attribution import (
    Candidate,
    ConfoundRow,
    EventRef,
    MoveAttribution,
    TickerAttribution,
    event_attribution,
    event_confounds,
    move_attribution,
    primary_catalysts,
)
from tracker.query.common import (
    ANALOG_WINDOW,
    DEFAULT_ALPHA,
    DEFAULT_MODEL,
    DEFAULT_WINDOW,
    MOVE_WINDOW,
    Window,
    as_record,
    parse_day,
    parse_window,
    to_frame,
)
from tracker.query.event_detail import (
    EventArticleRow,
    EventDetail,
    EventEntityRow,
    EventThemeRow,
    EventTickerRow,
    FirmImpactRow,
    GroupImpactRow,
    get_event_detail,
)
from tracker.query.events import EventFilter, EventSummary, events_frame, search_events
from tracker.query.health import (
    FailingFeed,
    Freshness,
    JobSummary,
    LatestBar,
    data_freshness,
    failing_feeds,
    job_runs_summary,
    latest_article_time,
    latest_bars,
)
from tracker.query.news import Headline, latest_headlines
from tracker.query.prices import price_history
from tracker.query.search import SearchTerm, parse_search_text
from tracker.query.stories import (
    StoryDetail,
    StoryEvent,
    StorySummary,
    get_story,
    list_stories,
    story_of_event,
)
from tracker.query.tickers import (
    AbnormalReturns,
    LinkedEvent,
    TickerMove,
    TickerMoves,
    UnexplainedMove,
    market_adjusted_returns,
    ticker_moves,
)

__all__ = [
    "ANALOG_WINDOW",
    "DEFAULT_ALPHA",
    "DEFAULT_MODEL",
    "DEFAULT_WINDOW",
    "MOVE_WINDOW",
    "AbnormalReturns",
    "AnalogRow",
    "Analogs",
    "Candidate",
    "CarDistribution",
    "ConfoundRow",
    "EventArticleRow",
    "EventDetail",
    "EventEntityRow",
    "EventFilter",
    "EventRef",
    "EventSummary",
    "EventThemeRow",
    "EventTickerRow",
    "FailingFeed",
    "FirmImpactRow",
    "Freshness",
    "GroupImpactRow",
    "Headline",
    "JobSummary",
    "LatestBar",
    "LinkedEvent",
    "MoveAttribution",
    "SearchTerm",
    "StoryDetail",
    "StoryEvent",
    "StorySummary",
    "TickerAttribution",
    "TickerMove",
    "TickerMoves",
    "UnexplainedMove",
    "Window",
    "as_record",
    "data_freshness",
    "event_attribution",
    "event_confounds",
    "events_frame",
    "failing_feeds",
    "find_analogs",
    "get_event_detail",
    "get_story",
    "job_runs_summary",
    "latest_article_time",
    "latest_bars",
    "latest_headlines",
    "list_stories",
    "market_adjusted_returns",
    "move_attribution",
    "parse_day",
    "parse_search_text",
    "parse_window",
    "price_history",
    "primary_catalysts",
    "search_events",
    "story_of_event",
    "ticker_moves",
    "to_frame",
]
