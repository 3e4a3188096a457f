"""E-mail addresses and header values we are willing to put on the wire.

Header injection is made impossible in two layers: every address and header value is checked
here (no CR, LF or other control characters, one plain ``local@domain`` address), and the
message is built with ``email.policy.SMTP`` whose header API refuses line breaks again.
"""

from __future__ import annotations

import re
from email.utils import getaddresses

from tracker.config import Settings
from tracker.errors import ConfigError, UserInputError
from tracker.text import one_line

# A deliberately strict subset of RFC 5321: dot-atom local part, dotted domain of LDH labels.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"{_LOCAL}@{_LABEL}(?:\.{_LABEL})*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_ADDRESS_LENGTH = 254


def parse_address(value: str) -> str:
    """The bare ``local@domain`` address in ``value``; ``ValueError`` saying why if it is unsafe.

    ``"Name <a@b.c>"`` is accepted and reduced to ``a@b.c``: a display name is something we
    would have to re-encode, and the digest never needs one for a recipient.
    """
    if _CONTROL.search(value):
        raise ValueError(f"{value!r} contains a line break or control character")
    parsed = getaddresses([value])
    address = parsed[0][1] if len(parsed) == 1 else ""
    well_formed = bool(address) and address in value and _ADDRESS.fullmatch(address) is not None
    if not well_formed or len(address) > MAX_ADDRESS_LENGTH:
        raise ValueError(f"{value!r} is not a valid e-mail address")
    return address


def safe_header_text(value: str, max_length: int = 200) -> str:
    """A one-line header value: control (C0, C1) and bidi-override characters become
    spaces, runs of space collapse."""
    text = one_line(value)
    return text if len(text) <= max_length else text[: max_length - 1].rstrip() + "…"


def validate_digest_settings(settings: Settings) -> list[str]:
    """Check the digest's sender and recipients at start-up; return the recipient addresses.

    Raises ``ConfigError`` naming the setting, so a scheduler refuses to start instead of
    failing at 07:00 the next morning.
    """
    try:
        parse_address(settings.digest_from)
    except ValueError as exc:
        raise ConfigError(f"TRACKER_DIGEST_FROM: {exc}") from None
    if _CONTROL.search(settings.smtp_host) or not settings.smtp_host.strip():
        raise ConfigError("TRACKER_SMTP_HOST: must be a host name without control characters")
    if settings.smtp_user is not None and _CONTROL.search(settings.smtp_user):
        raise ConfigError("TRACKER_SMTP_USER: contains a line break or control character")
    if settings.smtp_user and settings.smtp_password is None:
        raise ConfigError("TRACKER_SMTP_PASSWORD: required when TRACKER_SMTP_USER is set")
    if plaintext_auth_refused(settings):
        raise ConfigError(PLAINTEXT_AUTH_REFUSED)
    recipients = []
    for part in settings.digest_recipients:
        try:
            recipients.append(parse_address(part))
        except ValueError as exc:
            raise ConfigError(f"TRACKER_DIGEST_TO: {exc}") from None
    return _unique(recipients)


PLAINTEXT_AUTH_REFUSED = (
    "TRACKER_SMTP_SECURITY=none with TRACKER_SMTP_USER set would send the SMTP password in "
    "cleartext: use starttls or ssl, or set TRACKER_SMTP_ALLOW_PLAINTEXT_AUTH=true for a "
    "relay on this host"
)


def plaintext_auth_refused(settings: Settings) -> bool:
    """Credentials never cross an unencrypted connection unless explicitly allowed."""
    return bool(
        settings.smtp_user
        and settings.smtp_security == "none"
        and not settings.smtp_allow_plaintext_auth
    )


def validate_recipients(values: list[str]) -> list[str]:
    """Recipients given on the command line (``--to``), checked like the configured ones."""
    recipients = []
    for value in values:
        try:
            recipients.append(parse_address(value.strip()))
        except ValueError as exc:
            raise UserInputError(f"--to: {exc}") from None
    return _unique(recipients)


def _unique(addresses: list[str]) -> list[str]:
    """Addresses in order, each once (case-insensitively), so nobody gets two copies."""
    seen: set[str] = set()
    unique = []
    for address in addresses:
        if address.lower() not in seen:
            seen.add(address.lower())
            unique.append(address)
    return unique
