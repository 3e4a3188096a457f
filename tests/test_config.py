from __future__ import annotations

from pathlib import Path

import pytest

from tracker.config import load_settings
from tracker.errors import ConfigError


def test_defaults_to_an_embedded_sqlite_file(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("tracker.db")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    monkeypatch.setenv("TRACKER_FEED_INTERVAL_MINUTES", "15")
    settings = load_settings()
    assert settings.database_url.startswith("postgresql://")
    assert settings.feed_interval_minutes == 15


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("TRACKER_DATABASE_URL", "nonsense://", "TRACKER_DATABASE_URL"),
        ("TRACKER_DATABASE_URL", "not a url", "TRACKER_DATABASE_URL"),
        ("TRACKER_FEED_INTERVAL_MINUTES", "zero", "TRACKER_FEED_INTERVAL_MINUTES"),
        ("TRACKER_SMTP_SECURITY", "tls13", "TRACKER_SMTP_SECURITY"),
        ("TRACKER_DIGEST_TZ", "Mars/Olympus", "TRACKER_DIGEST_TZ"),
        ("TRACKER_CALENDAR", "BOGUS", "TRACKER_CALENDAR"),
    ],
)
def test_invalid_settings_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=expected):
        load_settings()


def test_config_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "tracker.toml"
    config.write_text('[tracker]\nbenchmark = "QQQ"\nfeed_interval_minutes = 30\n')
    monkeypatch.setenv("TRACKER_CONFIG", str(config))
    monkeypatch.setenv("TRACKER_FEED_INTERVAL_MINUTES", "5")
    settings = load_settings()
    assert settings.benchmark == "QQQ"
    assert settings.feed_interval_minutes == 5


def test_broken_config_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "tracker.toml"
    config.write_text("benchmark = \n")
    monkeypatch.setenv("TRACKER_CONFIG", str(config))
    with pytest.raises(ConfigError, match="TRACKER_CONFIG"):
        load_settings()


def test_secrets_are_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_SMTP_PASSWORD", "hunter2-secret")
    settings = load_settings()
    assert "hunter2-secret" not in repr(settings)
    assert settings.smtp_password is not None
    assert settings.smtp_password.get_secret_value() == "hunter2-secret"


def test_data_dir_is_required_only_where_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRACKER_DATA_DIR", raising=False)
    settings = load_settings()
    with pytest.raises(ConfigError, match="TRACKER_DATA_DIR"):
        settings.require_data_dir()
    assert load_settings(data_dir=tmp_path).require_data_dir() == tmp_path


def test_other_exchange_calendars_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_CALENDAR", "XLON")
    assert load_settings().calendar == "XLON"
