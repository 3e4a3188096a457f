"""Addresses and header values: strictly parsed, line breaks refused, settings named."""

from __future__ import annotations

import pytest

from tracker.config import Settings
from tracker.digest.addresses import (
    parse_address,
    safe_header_text,
    validate_digest_settings,
    validate_recipients,
)
from tracker.errors import ConfigError, UserInputError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("alice@example.com", "alice@example.com"),
        ("Alice <alice@example.com>", "alice@example.com"),
        ("first.last+digest@mail.example.org", "first.last+digest@mail.example.org"),
    ],
)
def test_valid_addresses_reduce_to_the_bare_address(value: str, expected: str) -> None:
    assert parse_address(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "alice@example.com\r\nBcc: eve@example.com",
        "alice@example.com\nBcc: eve@example.com",
        "alice@example.com, eve@example.com",
        "not an address",
        "alice@",
        "@example.com",
        "alice@exa mple.com",
        "alice@-example.com",
        "",
    ],
)
def test_unsafe_or_invalid_addresses_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r"control character|not a valid"):
        parse_address(value)


def test_header_text_is_one_line() -> None:
    assert safe_header_text("Sell-off\r\nBcc: eve@example.com\t now") == (
        "Sell-off Bcc: eve@example.com now"
    )
    assert len(safe_header_text("x" * 500)) == 200


def test_settings_validation_names_the_setting() -> None:
    good = Settings(digest_from="digest@tracker.test", digest_to="a@example.com, A@example.com")
    assert validate_digest_settings(good) == ["a@example.com"]
    with pytest.raises(ConfigError, match=r"^TRACKER_DIGEST_FROM"):
        validate_digest_settings(Settings(digest_from="tracker\r\nBcc: eve@example.com"))
    with pytest.raises(ConfigError, match=r"^TRACKER_DIGEST_TO: 'nobody'"):
        validate_digest_settings(Settings(digest_to="a@example.com, nobody"))
    with pytest.raises(ConfigError, match=r"^TRACKER_SMTP_PASSWORD"):
        validate_digest_settings(Settings(smtp_user="digest"))


def test_command_line_recipients_are_user_input() -> None:
    assert validate_recipients(["b@example.com", " b@example.com "]) == ["b@example.com"]
    with pytest.raises(UserInputError, match=r"^--to"):
        validate_recipients(["b@example.com\r\nBcc: eve@example.com"])
