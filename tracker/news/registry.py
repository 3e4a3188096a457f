"""The feed registry: the default feeds, and adding, removing and listing feeds.

The defaults are real, live feed URLs for AI, tech, markets and energy news (the evidence
that each was in use is in the recorded data's ``feeds/feeds.csv``). Seeding inserts only
the missing ones, so a feed a user disabled stays disabled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tracker.db.models import Article, Feed
from tracker.errors import NotFoundError, UserInputError
from tracker.news.normalize import canonical_url
from tracker.news.schedule import is_failing


@dataclass(frozen=True)
class FeedSpec:
    name: str
    url: str
    kind: str = "rss"  # rss | atom | recorded | search
    topics: str = ""


DEFAULT_FEEDS: tuple[FeedSpec, ...] = (
    FeedSpec(
        "TechCrunch - AI category",
        "https://techcrunch.com/category/artificial-intelligence/feed/",
        "rss",
        "ai",
    ),
    FeedSpec("TechCrunch - all", "https://techcrunch.com/feed/", "rss", "ai,tech"),
    FeedSpec("VentureBeat - AI", "https://venturebeat.com/category/ai/feed/", "rss", "ai"),
    FeedSpec("The Verge - all", "https://www.theverge.com/rss/index.xml", "atom", "ai,tech"),
    FeedSpec(
        "Ars Technica - all",
        "https://feeds.arstechnica.com/arstechnica/index",
        "rss",
        "ai,tech,policy",
    ),
    FeedSpec(
        "Ars Technica - AI tag",
        "https://arstechnica.com/tag/artificial-intelligence/feed/",
        "rss",
        "ai",
    ),
    FeedSpec(
        "MIT Technology Review - all", "https://www.technologyreview.com/feed/", "rss", "ai,tech"
    ),
    FeedSpec("Wired - all", "https://www.wired.com/feed/rss", "rss", "tech,ai"),
    FeedSpec("Wired - AI tag", "https://www.wired.com/feed/tag/ai/latest/rss", "rss", "ai"),
    FeedSpec(
        "IEEE Spectrum", "https://spectrum.ieee.org/feeds/feed.rss", "rss", "tech,semis,energy"
    ),
    FeedSpec(
        "The Register - headlines",
        "https://www.theregister.com/headlines.atom",
        "atom",
        "tech,semis",
    ),
    FeedSpec("Engadget", "https://www.engadget.com/rss.xml", "rss", "tech"),
    FeedSpec("ZDNet - news", "https://www.zdnet.com/news/rss.xml", "rss", "tech,ai"),
    FeedSpec(
        "AI News (artificialintelligence-news.com)",
        "https://www.artificialintelligence-news.com/feed/",
        "rss",
        "ai",
    ),
    FeedSpec(
        "Simon Willison - everything", "https://simonwillison.net/atom/everything/", "atom", "ai"
    ),
    FeedSpec("Hacker News - front page (hnrss)", "https://hnrss.org/frontpage", "rss", "ai,tech"),
    FeedSpec(
        "Hacker News - search DeepSeek (hnrss)", "https://hnrss.org/newest?q=DeepSeek", "rss", "ai"
    ),
    FeedSpec(
        "NYT - Technology",
        "https://rss.nytimes.com/services/xml/rss/nyt/Technology.xml",
        "rss",
        "tech,ai,markets",
    ),
    FeedSpec(
        "NYT - Home page",
        "https://rss.nytimes.com/services/xml/rss/nyt/HomePage.xml",
        "rss",
        "general,markets",
    ),
    FeedSpec(
        "WSJ - Technology (WSJD)", "https://feeds.a.dj.com/rss/RSSWSJD.xml", "rss", "tech,markets"
    ),
    FeedSpec("WSJ - Markets", "https://feeds.a.dj.com/rss/RSSMarketsMain.xml", "rss", "markets"),
    FeedSpec(
        "BBC News - Technology", "https://feeds.bbci.co.uk/news/technology/rss.xml", "rss", "tech"
    ),
    FeedSpec("NBC News - Tech", "https://feeds.nbcnews.com/nbcnews/public/tech", "rss", "tech"),
    FeedSpec("Financial Times - home", "https://www.ft.com/rss/home", "rss", "markets,general"),
    FeedSpec(
        "CNBC - Top News",
        "https://search.cnbc.com/rs/search/combinedcms/view.xml?partnerId=wrss01&id=100003114",
        "rss",
        "markets",
    ),
    FeedSpec(
        "CNBC - Technology",
        "https://www.cnbc.com/id/19854910/device/rss/rss.html",
        "rss",
        "tech,markets",
    ),
    FeedSpec(
        "CNBC - Investing",
        "https://search.cnbc.com/rs/search/combinedcms/view.xml?partnerId=wrss01&id=15839069",
        "rss",
        "markets",
    ),
    FeedSpec(
        "Nasdaq - original content",
        "https://www.nasdaq.com/feed/nasdaq-original/rss.xml",
        "rss",
        "markets",
    ),
    FeedSpec(
        "Yahoo Finance - NVDA headlines",
        "https://feeds.finance.yahoo.com/rss/2.0/headline?s=NVDA&region=US&lang=en-US",
        "rss",
        "markets,semis",
    ),
    FeedSpec(
        "Yahoo Finance - AVGO headlines",
        "https://feeds.finance.yahoo.com/rss/2.0/headline?s=AVGO&region=US&lang=en-US",
        "rss",
        "markets,semis",
    ),
    FeedSpec(
        "Yahoo Finance - VST headlines",
        "https://feeds.finance.yahoo.com/rss/2.0/headline?s=VST&region=US&lang=en-US",
        "rss",
        "markets,energy",
    ),
    FeedSpec(
        "Yahoo Finance - CEG headlines",
        "https://feeds.finance.yahoo.com/rss/2.0/headline?s=CEG&region=US&lang=en-US",
        "rss",
        "markets,energy",
    ),
    FeedSpec(
        "Yahoo Finance - TLN headlines",
        "https://feeds.finance.yahoo.com/rss/2.0/headline?s=TLN&region=US&lang=en-US",
        "rss",
        "markets,energy",
    ),
    FeedSpec(
        "Yahoo Finance - GEV headlines",
        "https://feeds.finance.yahoo.com/rss/2.0/headline?s=GEV&region=US&lang=en-US",
        "rss",
        "markets,energy",
    ),
    FeedSpec(
        "Google News search - DeepSeek",
        "https://news.google.com/rss/search?q=DeepSeek&hl=en-US&gl=US&ceid=US:en",
        "rss",
        "ai",
    ),
    FeedSpec(
        "Google News search - Nvidia",
        "https://news.google.com/rss/search?q=Nvidia&hl=en-US&gl=US&ceid=US:en",
        "rss",
        "markets,semis",
    ),
    FeedSpec(
        "Google News search - AI power stocks",
        "https://news.google.com/rss/search?q=Vistra+OR+%22Constellation+Energy%22+OR+%22Talen+Energy%22+OR+%22GE+Vernova%22&hl=en-US&gl=US&ceid=US:en",
        "rss",
        "markets,energy",
    ),
    FeedSpec(
        "Google News search - AI chip export controls",
        "https://news.google.com/rss/search?q=%22export+controls%22+AI+chips+China&hl=en-US&gl=US&ceid=US:en",
        "rss",
        "policy,semis",
    ),
    FeedSpec(
        "Google News search - Reuters on Nvidia",
        "https://news.google.com/rss/search?q=site:reuters.com+Nvidia&hl=en-US&gl=US&ceid=US:en",
        "rss",
        "markets,semis",
    ),
    FeedSpec("arXiv - cs.CL", "https://rss.arxiv.org/rss/cs.CL", "rss", "ai,research"),
    FeedSpec("arXiv - cs.AI", "https://rss.arxiv.org/rss/cs.AI", "rss", "ai,research"),
    FeedSpec("arXiv - cs.LG (Atom)", "https://rss.arxiv.org/atom/cs.LG", "atom", "ai,research"),
    FeedSpec("OpenAI - news", "https://openai.com/news/rss.xml", "rss", "ai"),
    FeedSpec("Google DeepMind - blog", "https://deepmind.google/blog/rss.xml", "rss", "ai"),
    FeedSpec("Google Research - blog", "https://research.google/blog/rss/", "rss", "ai"),
    FeedSpec("Hugging Face - blog", "https://huggingface.co/blog/feed.xml", "rss", "ai"),
    FeedSpec("Microsoft - AI blog", "https://blogs.microsoft.com/ai/feed/", "rss", "ai"),
    FeedSpec("NVIDIA blog - AI category", "https://blogs.nvidia.com/ai/feed/", "rss", "ai,semis"),
    FeedSpec(
        "NVIDIA Technical Blog - AI tag",
        "https://developer.nvidia.com/blog/tag/ai/feed/",
        "rss",
        "ai,semis",
    ),
    FeedSpec(
        "Anthropic news (third-party scraped feed)",
        "https://raw.githubusercontent.com/Olshansk/rss-feeds/main/feeds/feed_anthropic_news.xml",
        "rss",
        "ai",
    ),
    FeedSpec(
        "GitHub Trending - Python daily (third-party)",
        "https://mshibanami.github.io/GitHubTrendingRSS/daily/python.xml",
        "rss",
        "ai,dev",
    ),
    FeedSpec(
        "GitHub - deepseek-ai/DeepSeek-R1 commits",
        "https://github.com/deepseek-ai/DeepSeek-R1/commits/main.atom",
        "atom",
        "ai",
    ),
    FeedSpec(
        "GitHub - deepseek-ai/DeepSeek-V3 commits",
        "https://github.com/deepseek-ai/DeepSeek-V3/commits/main.atom",
        "atom",
        "ai",
    ),
    FeedSpec(
        "GitHub - deepseek-ai/Janus commits",
        "https://github.com/deepseek-ai/Janus/commits/main.atom",
        "atom",
        "ai",
    ),
    FeedSpec(
        "GitHub - deepseek-ai/DeepSeek-V3 releases",
        "https://github.com/deepseek-ai/DeepSeek-V3/releases.atom",
        "atom",
        "ai",
    ),
)

KNOWN_NAMES = {spec.url: spec.name for spec in DEFAULT_FEEDS}


def seed_default_feeds(session: Session) -> int:
    """Insert the default feeds that are not registered yet; return how many were added."""
    existing = set(session.scalars(select(Feed.url)))
    added = 0
    for spec in DEFAULT_FEEDS:
        if spec.url not in existing:
            session.add(Feed(url=spec.url, name=spec.name, kind=spec.kind, topics=spec.topics))
            added += 1
    session.flush()
    return added


def validate_feed_url(url: str) -> str:
    """An http(s) URL with a host, or a ``UserInputError`` saying what is wrong."""
    url = url.strip()
    if canonical_url(url) is None:
        raise UserInputError(f"not an http(s) feed URL: {url!r}")
    if len(url) > 2048:
        raise UserInputError("feed URL longer than 2048 characters")
    return url


def add_feed(
    session: Session, url: str, *, name: str | None = None, kind: str = "rss", topics: str = ""
) -> Feed:
    """Register ``url`` (or re-enable it if it was removed) and make it due now."""
    url = validate_feed_url(url)
    feed = session.scalar(select(Feed).where(Feed.url == url))
    if feed is None:
        feed = Feed(url=url, name=name or KNOWN_NAMES.get(url) or url, kind=kind, topics=topics)
        session.add(feed)
    else:
        feed.enabled = True
        if name:
            feed.name = name
    feed.next_check_at = None
    session.flush()
    return feed


def get_feed(session: Session, url: str) -> Feed:
    feed = session.scalar(select(Feed).where(Feed.url == url.strip()))
    if feed is None:
        raise NotFoundError(f"no feed registered with URL {url!r} (see `tracker feeds list`)")
    return feed


def remove_feed(session: Session, url: str, *, purge: bool = False) -> int:
    """Stop polling ``url``. Its articles stay (events may cite them) unless ``purge``;
    returns the number of articles deleted."""
    feed = get_feed(session, url)
    if not purge:
        feed.enabled = False
        return 0
    deleted = session.scalar(select(func.count()).where(Article.feed_id == feed.id)) or 0
    session.execute(delete(Article).where(Article.feed_id == feed.id))
    session.delete(feed)
    session.flush()
    return int(deleted)


def feed_health_rows(session: Session, now: datetime) -> list[dict[str, Any]]:
    """One row per feed with its polling health, for ``tracker feeds list`` and the dashboard."""
    counts: dict[int, int] = {}
    for feed_id, count in session.execute(
        select(Article.feed_id, func.count()).group_by(Article.feed_id)
    ):
        counts[feed_id] = count
    return [
        {
            "name": feed.name,
            "url": feed.url,
            "kind": feed.kind,
            "enabled": feed.enabled,
            "articles": counts.get(feed.id, 0),
            "last_status": feed.last_status,
            "last_success_at": feed.last_success_at,
            "error_count": feed.error_count,
            "next_check_at": feed.next_check_at,
            "failing": is_failing(feed.failing_since, now),
            "last_error": feed.last_error,
        }
        for feed in session.scalars(select(Feed).order_by(Feed.name, Feed.url))
    ]
