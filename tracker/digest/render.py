"""Turn a ``DigestContent`` into the e-mail's HTML and plain-text bodies (Jinja2).

HTML is rendered with autoescaping on, so feed text (titles, names) can never become markup;
URLs are only linked when they are ``http``/``https``. The plain-text body drops control
characters instead. Layout is tables and inline CSS only, with no external resource, because
that is what common mail clients (Outlook, Gmail, Apple Mail) render alike.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tracker.digest.content import DigestContent, DigestEvent
from tracker.news.normalize import safe_http_url as safe_url
from tracker.text import date_only, one_line

NEGATIVE_COLOUR = "#b42318"
POSITIVE_COLOUR = "#067647"
NEUTRAL_COLOUR = "#344054"


def percent(value: float | None) -> str:
    """``-0.1697`` -> ``-16.97%``; a missing value is ``n/a``, never ``0``."""
    return "n/a" if value is None else f"{value * 100:+.2f}%"


def dollars(value: float | None) -> str:
    """``-5.9266e11`` -> ``-$592.7bn``; no share count is ``n/a``, never ``$0``."""
    if value is None:
        return "n/a"
    sign = "-" if value < 0 else "+"
    size = abs(value)
    if size >= 1e9:
        return f"{sign}${size / 1e9:,.1f}bn"
    return f"{sign}${size / 1e6:,.1f}m"


def p_value(value: float | None, name: str = "p") -> str:
    """``p<0.001`` / ``p=0.004``; ``name="q"`` for a q-value; a missing value is ``n/a``."""
    if value is None:
        return "n/a"
    return f"{name}<0.001" if value < 0.001 else f"{name}={value:.3f}"


def q_value(value: float | None) -> str:
    """The Benjamini-Hochberg q-value as the p-value is shown; nothing when there is none."""
    return "" if value is None else " " + p_value(value, "q")


def detectable(move: object) -> str:
    """`` (detectable from ±6.50%)`` beside a move that is not significant and has an MDE:
    "not significant" then reads "too noisy to tell", not "no effect"."""
    mde = getattr(move, "mde", None)
    if getattr(move, "significant", False) or not mde:
        return ""
    return f" (detectable from ±{mde * 100:.2f}%)"


def colour(value: float | None) -> str:
    if value is None or value == 0:
        return NEUTRAL_COLOUR
    return NEGATIVE_COLOUR if value < 0 else POSITIVE_COLOUR


def local_time(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


def reported_time(event: DigestEvent, timezone: str) -> str:
    """When the event was first reported; a curated row with only a date shows that date."""
    day = date_only(event.first_reported_at, event.origin)
    if day is not None:
        return f"{day.isoformat()} (date only)"
    return local_time(event.first_reported_at, timezone)


def plain(value: object) -> str:
    """Text for the plain-text body: one line, no control or bidi-override characters."""
    return one_line(str(value))


def event_link(dashboard_url: str, slug: str) -> str | None:
    """Where the dashboard shows this event: its event page, ``/event?event=<slug>``."""
    base = safe_url(dashboard_url)
    if base is None:
        return None
    parts = urlsplit(base)
    path = parts.path.rstrip("/") + "/event"
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode({"event": slug}), ""))


def _environment() -> Environment:
    """HTML templates (``*.html.j2``) autoescape; plain-text ones use the ``plain`` filter."""
    env = Environment(
        loader=PackageLoader("tracker.digest", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        percent=percent,
        dollars=dollars,
        p_value=p_value,
        q_value=q_value,
        detectable=detectable,
        colour=colour,
        local_time=local_time,
        reported_time=reported_time,
        safe_url=safe_url,
        plain=plain,
    )
    env.globals.update(event_link=event_link)
    return env


_TEMPLATES = _environment()


def subject(content: DigestContent) -> str:
    """The subject line: the date and what moved (feed text, so it is made one safe line later)."""
    day = content.date.isoformat()
    headline = content.headline_event
    if content.quiet or headline is None:
        return f"AI market digest {day}: nothing material"
    return f"AI market digest {day}: {headline.title}"


def render_html(content: DigestContent, chart_cid: str | None = None) -> str:
    """The HTML body; ``chart_cid`` (without angle brackets) references the inline chart."""
    return _TEMPLATES.get_template("digest.html.j2").render(
        content=content, chart_cid=chart_cid, subject=subject(content)
    )


def render_text(content: DigestContent) -> str:
    """The plain-text alternative, readable in any client and in a terminal."""
    return _TEMPLATES.get_template("digest.txt.j2").render(
        content=content, subject=subject(content)
    )
