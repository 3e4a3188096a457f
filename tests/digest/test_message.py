"""The MIME message: multipart structure, inline image by Content-ID, safe headers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email import message_from_bytes, policy

import pytest

from tests.digest.conftest import SENDER, quiet_content, synthetic_content
from tracker.digest.message import build_message, digest_message_id, render_digest

NOW = datetime(2030, 3, 5, 12, 0, tzinfo=UTC)


def _build(content=None, recipient="alice@example.com"):
    rendered = render_digest(content or synthetic_content(), SENDER)
    message_id = digest_message_id(rendered.date, recipient, SENDER)
    return build_message(
        rendered, sender=SENDER, recipient=recipient, message_id=message_id, sent_at=NOW
    )


def test_structure_is_alternative_with_related_html_and_inline_png() -> None:
    message = message_from_bytes(_build().as_bytes(), policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    text, related = message.get_payload()
    assert text.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, png = related.get_payload()
    assert html.get_content_type() == "text/html"
    assert png.get_content_type() == "image/png"
    assert png.get_content_disposition() == "inline"
    assert png.get_payload(decode=True).startswith(b"\x89PNG")
    cid = png["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html.get_content()
    assert "Synthetic event" in text.get_content()


def test_quiet_day_has_no_image_part() -> None:
    message = message_from_bytes(_build(quiet_content()).as_bytes(), policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.get_payload()] == [
        "text/plain",
        "text/html",
    ]


def test_headers() -> None:
    message = _build()
    assert message["From"] == SENDER
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == (
        "AI market digest 2030-03-04: Synthetic event: a lab releases a model"
    )
    assert message["Message-ID"] == digest_message_id(date(2030, 3, 4), "alice@example.com", SENDER)
    assert message["Message-ID"].endswith("@tracker.test>")
    assert message["Date"] == "Tue, 05 Mar 2030 12:00:00 +0000"
    assert b"\r\n" in message.as_bytes()  # policy.SMTP line ends


def test_message_id_is_deterministic_per_day_and_recipient() -> None:
    day = date(2030, 3, 4)
    assert digest_message_id(day, "a@example.com", SENDER) == digest_message_id(
        day, "A@example.com", SENDER
    )
    assert digest_message_id(day, "a@example.com", SENDER) != digest_message_id(
        day, "b@example.com", SENDER
    )


def test_header_injection_through_a_headline_is_impossible() -> None:
    title = "Sell-off\r\nBcc: eve@example.com\r\n\r\n<b>body</b>"
    message = message_from_bytes(
        _build(synthetic_content(title=title)).as_bytes(), policy=policy.default
    )
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"]
    assert message["Subject"].strip().startswith("AI market digest 2030-03-04: Sell-off Bcc:")


def test_non_ascii_headline_is_encoded_not_smuggled() -> None:
    raw = _build(synthetic_content(title="Nvidia’s rout — 17 % ↓")).as_bytes()
    raw.decode("ascii")  # everything on the wire is 7-bit (RFC 2047 / quoted-printable)
    message = message_from_bytes(raw, policy=policy.default)
    assert "Nvidia’s rout — 17 % ↓" in message["Subject"]


@pytest.mark.parametrize(
    "recipient", ["alice@example.com\r\nBcc: eve@example.com", "alice@example.com, eve@example.com"]
)
def test_unsafe_recipient_is_refused(recipient: str) -> None:
    rendered = render_digest(synthetic_content(), SENDER)
    with pytest.raises(ValueError):
        build_message(rendered, sender=SENDER, recipient=recipient, message_id="<a@b>", sent_at=NOW)
