"""Readable event titles and short, stable slugs.

Some feeds title an entry with its URL (GitHub Trending lists "https://github.com/owner/repo"),
and a list of events titled with URLs cannot be read. An event's title is therefore always a
headline: the article's title when it is one, else the first sentence of its summary, else the
words of its URL path. Slugs are made once, when an event is created, from the date, the first
few significant words of that headline and the first article's id (unique without a lookup),
and never change afterwards, so links to an event keep working while its title is refreshed.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from tracker.link.cluster import STOPWORDS

MAX_TITLE = 160
SLUG_WORDS = 6
SLUG_CHARS = 48

_URLISH = re.compile(r"^(?:https?://|www\.)\S+$|^[\w.-]+\.[a-z]{2,}/\S*$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_WORD = re.compile(r"[a-z0-9]+")


def looks_like_url(text: str) -> bool:
    """A title that is only a URL ("https://github.com/deepseek-ai/DeepSeek-VL")."""
    return bool(_URLISH.match(text.strip()))


def _clip(text: str, limit: int = MAX_TITLE) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:-–—")
    return f"{cut}…"


def _url_words(url: str) -> str:
    parts = urlsplit(url if "://" in url else f"https://{url}")
    path = [p for p in parts.path.split("/") if p]
    if parts.netloc.endswith("github.com") and len(path) >= 2:
        return f"{path[0]}/{path[1]} on GitHub"
    if path:
        words = re.sub(r"[-_+]+", " ", re.sub(r"\.\w{2,5}$", "", path[-1])).strip()
        if words:
            return words[0].upper() + words[1:]
    return parts.netloc or url


def readable_title(title: str, summary: str = "", url: str = "") -> str:
    """A headline a person can read: the title unless it is empty or a URL."""
    title = " ".join((title or "").split())
    if title and not looks_like_url(title):
        return _clip(title)
    first = _SENTENCE_END.split(" ".join((summary or "").split()), maxsplit=1)[0]
    if first and not looks_like_url(first):
        source = _url_words(url or title) if (url or title) else ""
        if source.endswith(" on GitHub"):
            return _clip(f"{source.removesuffix(' on GitHub')}: {first}")
        return _clip(first)
    if url or title:
        return _clip(_url_words(url or title))
    return "(untitled)"


def event_slug(at: datetime, title: str, key: int) -> str:
    """``YYYY-MM-DD-few-significant-words-KEY``: short, unique by the first article's id."""
    words = [w for w in _WORD.findall(title.casefold()) if w not in STOPWORDS]
    core = ""
    for word in words[:SLUG_WORDS]:
        candidate = f"{core}-{word}" if core else word
        if len(candidate) > SLUG_CHARS:
            break
        core = candidate
    return f"{at:%Y-%m-%d}-{core or 'event'}-{key}"
