"""Settings: one typed object, from ``TRACKER_*`` environment variables and an optional file.

Precedence (highest first): explicit overrides (e.g. ``--db``), environment variables,
the TOML file named by ``TRACKER_CONFIG``, defaults. Secrets (SMTP password) are read only
from the environment and never printed: ``repr`` of the settings hides them.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from tracker.errors import ConfigError

ENV_PREFIX = "TRACKER_"
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[IPNetwork, ...]:
    """``"127.0.0.0/8, ::1/128"`` -> networks; a bad entry is named in the error."""
    networks = []
    for part in value.split(","):
        text = part.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"not a network in CIDR form: {text!r} (e.g. 127.0.0.0/8)") from None
    return tuple(networks)


def default_home() -> Path:
    """Where the embedded database and local state live unless told otherwise."""
    return Path(os.environ.get("TRACKER_HOME", "var"))


class Settings(BaseSettings):
    """Every option of the tracker, its default and its validation in one place."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", validate_default=True, frozen=True
    )

    # storage
    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{default_home() / 'tracker.db'}",
        description="SQLAlchemy URL; sqlite (embedded, default) or postgresql.",
    )
    dashboard_database_url: str | None = Field(
        default=None,
        description="URL the dashboard reads with (a read-only role); default database_url.",
    )
    data_dir: Path | None = Field(
        default=None, description="Directory of recorded data (prices/, feeds/, events/)."
    )
    entities_file: Path | None = Field(
        default=None, description="YAML file extending the shipped entity dictionary."
    )
    commentary_file: Path | None = Field(
        default=None,
        description="YAML file replacing the shipped commentary rule "
        "(tracker/link/data/commentary.yaml).",
    )
    worthiness_file: Path | None = Field(
        default=None,
        description="YAML file replacing the shipped event-worthiness rule "
        "(tracker/link/data/worthiness.yaml).",
    )

    # markets and impact
    calendar: str = Field(default="XNYS", description="exchange_calendars code of the exchange")
    benchmark: str = "SPY"
    min_estimation_returns: int = Field(default=120, ge=10)
    fama_french_source: str | None = Field(
        default=None,
        description="Path or http(s) URL of Ken French's daily factors CSV (or its zip); "
        "read only by a study whose factors are named FF_* (FF_MKT-RF, FF_SMB, ...)",
    )
    clean_estimation_windows: bool = Field(
        default=True,
        description="Leave other events' windows, earnings, ex-dividend days, splits and "
        "FOMC/CPI days out of each ticker's estimation window.",
    )
    fdr_level: float = Field(
        default=0.05,
        gt=0,
        lt=1,
        description="A result is significant when its Benjamini-Hochberg q-value is below this.",
    )

    # news polling
    feed_interval_minutes: int = Field(default=10, ge=1, le=24 * 60)
    feed_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    feed_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    feed_allowed_networks: str = Field(
        default="",
        description=(
            "Comma-separated CIDRs (e.g. 127.0.0.0/8) that feed fetches may reach although "
            "they are loopback, private, link-local or otherwise non-public; empty = none."
        ),
    )
    user_agent: str = "ai-market-impact-tracker/0.1 (+https://github.com/; feed reader)"

    # digest e-mail
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Literal["starttls", "ssl", "none"] = "none"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_allow_plaintext_auth: bool = Field(
        default=False,
        description="Allow AUTH without TLS (TRACKER_SMTP_SECURITY=none): a local relay only.",
    )
    digest_from: str = "tracker@localhost"
    digest_to: str = ""
    digest_time: time = time(7, 0)
    digest_tz: str = "America/New_York"
    # movers ranked by |abnormal return| (percent) or by |market-value change| (dollars)
    digest_movers_by: Literal["percent", "dollars"] = "percent"
    dashboard_url: str = "http://localhost:8501"

    # dashboard access (README "Deployment": every setting and its safe default)
    dashboard_auth: Literal["auto", "oidc", "header", "off"] = Field(
        default="auto",
        description="auto: off on loopback only, OIDC otherwise; header: a trusted proxy's.",
    )
    dashboard_allowed_users: str = Field(
        default="",
        description="Comma-separated e-mails or @domains allowed in; '*' admits every user "
        "the provider signs in. Required when login is on.",
    )
    dashboard_auth_header: str = Field(
        default="X-Forwarded-Email", description="Header carrying the e-mail (header mode)."
    )
    dashboard_trusted_proxy: str = Field(
        default="",
        description="Comma-separated addresses/CIDRs of the authenticating proxy (header mode).",
    )
    oidc_server_metadata_url: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr | None = None
    oidc_cookie_secret: SecretStr | None = None
    oidc_redirect_uri: str = Field(
        default="", description="default: TRACKER_DASHBOARD_URL + /oauth2callback"
    )

    # scheduler
    health_port: int = Field(default=8502, ge=0, le=65535)
    health_token: SecretStr | None = Field(
        default=None,
        description="Bearer token that unlocks the health endpoint's worker (host:pid) field.",
    )
    article_retention_days: int = Field(default=0, ge=0, description="0 keeps articles forever")

    @field_validator("database_url", "dashboard_database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {value!r}") from exc
        if url.get_backend_name() not in SUPPORTED_BACKENDS:
            raise ValueError(
                f"unsupported database {url.get_backend_name()!r}; use sqlite:/// or postgresql://"
            )
        return value

    @field_validator("calendar")
    @classmethod
    def _check_calendar(cls, value: str) -> str:
        if value == "XNYS":  # the default; spares every command exchange_calendars' import
            return value
        import exchange_calendars

        names = exchange_calendars.get_calendar_names(include_aliases=True)
        if value not in names:
            raise ValueError(f"unknown exchange calendar {value!r} (e.g. XNYS, XNAS, XLON)")
        return value

    @field_validator("feed_allowed_networks")
    @classmethod
    def _check_networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    @field_validator("digest_tz")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def feed_networks(self) -> tuple[IPNetwork, ...]:
        """The parsed ``feed_allowed_networks``."""
        return parse_networks(self.feed_allowed_networks)

    @property
    def digest_recipients(self) -> list[str]:
        return [part.strip() for part in self.digest_to.split(",") if part.strip()]

    def require_data_dir(self) -> Path:
        """The recorded-data directory, or a clear error saying how to set it."""
        if self.data_dir is None:
            raise ConfigError(
                "TRACKER_DATA_DIR is not set: recorded mode needs the recorded-data directory"
            )
        if not self.data_dir.is_dir():
            raise ConfigError(f"TRACKER_DATA_DIR: {self.data_dir} is not a directory")
        return self.data_dir


def _file_values() -> dict[str, Any]:
    path = os.environ.get("TRACKER_CONFIG")
    if not path:
        return {}
    try:
        with open(path, "rb") as handle:
            values = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"TRACKER_CONFIG: cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"TRACKER_CONFIG: {path} is not valid TOML: {exc}") from exc
    section = values.get("tracker", values)
    if not isinstance(section, dict):
        raise ConfigError(f"TRACKER_CONFIG: {path}: [tracker] must be a table")
    return {
        key: value
        for key, value in section.items()
        if f"{ENV_PREFIX}{key.upper()}" not in os.environ
    }


def load_settings(**overrides: Any) -> Settings:
    """Build and validate the settings; raise ``ConfigError`` naming the first bad setting."""
    values = {**_file_values(), **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return Settings(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{ENV_PREFIX}{field.upper()}: {message}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests call ``get_settings.cache_clear()``)."""
    return load_settings()
