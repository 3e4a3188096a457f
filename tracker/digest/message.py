"""Assemble the digest as one MIME message per recipient.

Structure (what every common client understands)::

    multipart/alternative
    ├── text/plain                 the plain-text body
    └── multipart/related
        ├── text/html              the HTML body, referencing the chart as cid:...
        └── image/png (inline)     the chart

Headers are set only through ``EmailMessage``'s API under ``policy.SMTP`` (CRLF line ends,
refuses header values with line breaks), after ``addresses`` has validated every value.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from tracker.digest.addresses import parse_address, safe_header_text
from tracker.digest.chart import render_chart
from tracker.digest.content import DigestContent
from tracker.digest.render import render_html, render_text, subject

CHART_FILENAME = "digest-chart.png"


@dataclass(frozen=True)
class RenderedDigest:
    """A day's digest rendered once and reused for every recipient."""

    date: date
    subject: str
    text: str
    html: str
    chart_png: bytes | None
    chart_cid: str | None  # without angle brackets


def render_digest(content: DigestContent, sender: str) -> RenderedDigest:
    """Render bodies and chart; the chart's Content-ID lives in the sender's domain."""
    png = render_chart(content)
    cid = make_msgid("chart", domain=_domain(sender))[1:-1] if png else None
    return RenderedDigest(
        date=content.date,
        subject=safe_header_text(subject(content)),
        text=render_text(content),
        html=render_html(content, chart_cid=cid),
        chart_png=png,
        chart_cid=cid,
    )


def digest_message_id(day: date, recipient: str, sender: str) -> str:
    """The deterministic Message-ID of ``day``'s digest to ``recipient``.

    Deterministic so that the ledger can store it before sending, and so that a copy sent
    twice in spite of the ledger would carry the same id (clients and servers de-duplicate).
    """
    token = hashlib.sha256(f"{day.isoformat()}\n{recipient.lower()}".encode()).hexdigest()[:20]
    return f"<digest.{day.isoformat()}.{token}@{_domain(sender)}>"


def build_message(
    rendered: RenderedDigest,
    *,
    sender: str,
    recipient: str,
    message_id: str,
    sent_at: datetime,
) -> EmailMessage:
    """The complete message for one recipient; raises ``ValueError`` on any unsafe value."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = parse_address(sender)
    message["To"] = parse_address(recipient)
    message["Subject"] = safe_header_text(rendered.subject)
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = _checked_message_id(message_id)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    if rendered.chart_png is not None and rendered.chart_cid is not None:
        html_part = next(
            part for part in message.iter_parts() if part.get_content_subtype() == "html"
        )
        assert isinstance(html_part, EmailMessage)
        html_part.add_related(
            rendered.chart_png,
            maintype="image",
            subtype="png",
            cid=f"<{rendered.chart_cid}>",
            disposition="inline",
            filename=CHART_FILENAME,
        )
    return message


def _checked_message_id(value: str) -> str:
    if safe_header_text(value) != value or not (value.startswith("<") and value.endswith(">")):
        raise ValueError(f"unsafe Message-ID {value!r}")
    return value


def _domain(sender: str) -> str:
    return parse_address(sender).rsplit("@", 1)[1]
