"""Feed entries -> storable articles: UTC times, canonical URLs, sanitised text, dedupe keys.

Feed content is untrusted. Titles become plain text (tags stripped, entities decoded);
summaries are cleaned by nh3 with a small allow-list, and a plain-text twin is kept for
search and e-mail. Plain text is *text*: whoever renders it into HTML must escape it
(Jinja's autoescape does).
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import nh3

# A feed clock a little ahead of ours is normal; more than this is a future-dated entry.
FUTURE_TOLERANCE = timedelta(minutes=15)

ALLOWED_TAGS = frozenset(
    {"a", "abbr", "b", "blockquote", "br", "code", "em", "i", "li", "ol", "p", "pre", "strong"}
    | {"ul", "h1", "h2", "h3", "h4", "h5", "h6", "q", "s", "sub", "sup", "u"}
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "q": {"cite"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Elements whose *content* goes too: script bodies and styles are never text.
DROPPED_CONTENT_TAGS = frozenset({"script", "style", "iframe", "object", "embed", "noscript"})

TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid"}
    | {"yclid", "_hsenc", "_hsmi", "mkt_tok", "cmpid", "ocid", "smid", "sr_share", "guccounter"}
    | {"ref", "ref_src", "ref_url", "taid", "spm", "vero_id", "oly_enc_id", "oly_anon_id"}
)
TRACKING_PREFIXES = ("utm_", "__hs", "pk_", "mtm_", "ga_")
MAX_URL_LENGTH = 2048  # the column's size; a longer link is kept out, not cut
DEFAULT_PORTS = {"http": 80, "https": 443}

_WHITESPACE = re.compile(r"\s+")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f]")  # control characters and any whitespace


def sanitize_html(fragment: str) -> str:
    """HTML safe to show in the dashboard or an e-mail: no scripts, handlers or odd URLs."""
    return nh3.clean(
        _XML_INVALID.sub("", fragment),
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_CONTENT_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


def plain_text(fragment: str) -> str:
    """The words of an HTML fragment: tags and script bodies dropped, entities decoded."""
    if "<" in fragment:
        fragment = nh3.clean(
            _XML_INVALID.sub("", fragment), tags=set(), clean_content_tags=set(DROPPED_CONTENT_TAGS)
        )
    # decode twice at most: feeds often double-escape (&amp;#8217;), never thrice on purpose
    text = html.unescape(html.unescape(fragment)) if "&" in fragment else fragment
    return _WHITESPACE.sub(" ", _XML_INVALID.sub("", text)).strip()


def canonical_url(url: str | None) -> str | None:
    """The link without tracking parameters, fragment, default port or case noise in the host.

    Two feeds that carry the same story with different ``utm_*`` tags then agree on one URL.
    Non-HTTP(S) links are refused (``None``): a ``javascript:`` link is no article.
    """
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if port is not None and port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in TRACKING_PARAMS and not key.lower().startswith(TRACKING_PREFIXES)
    ]
    path = parts.path or "/"
    canonical = urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))
    return canonical if len(canonical) <= MAX_URL_LENGTH else None


@dataclass(frozen=True)
class EntryTime:
    """When an entry was published, and how far to trust it."""

    published_at: datetime
    estimated: bool  # no usable date in the feed: first-seen time used instead
    future_dated: bool  # the feed claimed a time in the future: first-seen time used instead


def entry_time(claimed: datetime | None, first_seen: datetime) -> EntryTime:
    """The published time to store: the feed's, unless missing or in the future.

    A future date would move an event to a trading session that has not happened, so it
    is replaced by the first-seen time and flagged rather than trusted.
    """
    if claimed is None:
        return EntryTime(first_seen, estimated=True, future_dated=False)
    claimed = claimed.astimezone(UTC)
    if claimed > first_seen + FUTURE_TOLERANCE:
        return EntryTime(first_seen, estimated=True, future_dated=True)
    return EntryTime(claimed, estimated=False, future_dated=False)


def content_hash(title: str, link: str | None, summary_text: str) -> str:
    """A fingerprint of what the entry says (to spot a story re-sent with a new guid)."""
    digest = hashlib.sha256()
    for part in (title, link or "", summary_text):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def dedupe_key(guid: str | None, link: str | None, fingerprint: str) -> str:
    """Identity of an entry within its feed: guid, else canonical link, else content hash.

    Hashed so a 2,000-character guid still fits the column; the prefix says which rule won.
    """
    if guid and guid.strip():
        return "g:" + hashlib.sha256(guid.strip().encode("utf-8")).hexdigest()
    if link:
        return "u:" + hashlib.sha256(link.encode("utf-8")).hexdigest()
    return "h:" + fingerprint


@dataclass(frozen=True)
class NormalizedArticle:
    """Everything the articles table stores for one entry (feed id and first-seen aside)."""

    guid: str | None
    dedupe_key: str
    canonical_url: str | None
    title: str
    summary_html: str
    summary_text: str
    published_at: datetime
    published_estimated: bool
    future_dated: bool
    content_hash: str


def normalize_entry(
    *,
    guid: str | None,
    link: str | None,
    title: str | None,
    summary: str | None,
    published: datetime | None,
    first_seen: datetime,
) -> NormalizedArticle:
    """One raw entry -> the sanitised, timed, keyed article we store."""
    url = canonical_url(link)
    summary_html = sanitize_html(summary or "")
    summary_text = plain_text(summary or "")
    title_text = plain_text(title or "") or summary_text[:120] or (url or "(untitled)")
    timing = entry_time(published, first_seen)
    fingerprint = content_hash(title_text, url, summary_text)
    clean_guid = _XML_INVALID.sub("", guid).strip()[:2048] if guid else None
    return NormalizedArticle(
        guid=clean_guid or None,
        dedupe_key=dedupe_key(clean_guid, url, fingerprint),
        canonical_url=url,
        title=title_text,
        summary_html=summary_html,
        summary_text=summary_text,
        published_at=timing.published_at,
        published_estimated=timing.estimated,
        future_dated=timing.future_dated,
        content_hash=fingerprint,
    )


def safe_http_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL with no control character or whitespace.

    The one gate for links shown to users (dashboard, digest): no ``javascript:``, ``data:``
    or relative links, nothing that could split a header or an attribute.
    """
    if not url or _URL_UNSAFE.search(url):
        return None
    parts = urlsplit(url)
    return url if parts.scheme.lower() in {"http", "https"} and parts.netloc else None
