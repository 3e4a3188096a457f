"""tracker/access.py: login modes, the allow-list, the trusted proxy, the secrets file."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from tracker.access import (
    AllowList,
    check_access_settings,
    peer_is_trusted,
    render_secrets,
    resolve_mode,
    trusted_networks,
    write_secrets,
)
from tracker.config import load_settings
from tracker.errors import ConfigError

OIDC = {
    "dashboard_allowed_users": "@example.com",
    "oidc_server_metadata_url": "https://id.example.com/.well-known/openid-configuration",
    "oidc_client_id": "tracker",
    "oidc_client_secret": 'se"cret\\with\nodd chars',
    "oidc_cookie_secret": "c" * 40,
}


@pytest.mark.parametrize(
    ("address", "mode"),
    [
        ("127.0.0.1", "off"),
        ("localhost", "off"),
        ("::1", "off"),
        ("127.0.0.5", "off"),
        ("0.0.0.0", "oidc"),
        ("192.168.1.4", "oidc"),
        (None, "oidc"),
        ("dash.example", "oidc"),
    ],
)
def test_auto_is_off_on_loopback_only(address, mode) -> None:
    assert resolve_mode(load_settings(), address) == mode


def test_off_beyond_loopback_is_refused() -> None:
    settings = load_settings(dashboard_auth="off")
    assert resolve_mode(settings, "127.0.0.1") == "off"
    with pytest.raises(ConfigError, match=r"TRACKER_DASHBOARD_AUTH.*only on loopback"):
        resolve_mode(settings, "0.0.0.0")


def test_allow_list_matches_exact_addresses_and_domains() -> None:
    allowed = AllowList.parse("Ana@Example.com, @research.example, team.example")
    assert allowed.allows("ana@example.com")
    assert allowed.allows("ANA@EXAMPLE.COM")
    assert allowed.allows("bob@research.example")
    assert allowed.allows("eve@team.example")
    assert not allowed.allows("bob@example.com")
    assert not allowed.allows("bob@evil-research.example")
    assert not allowed.allows("bob@research.example.evil")
    assert not allowed.allows(None)
    assert not allowed.allows("no-at-sign")
    assert AllowList.parse("*").allows("anyone@anywhere.example")
    assert AllowList.parse(" , ").empty


def test_trusted_proxy_is_matched_on_the_peer_address() -> None:
    networks = trusted_networks("10.0.0.0/24, 127.0.0.2")
    assert peer_is_trusted("10.0.0.7", networks)
    assert peer_is_trusted("127.0.0.2", networks)
    assert peer_is_trusted("::ffff:10.0.0.7", networks)
    assert not peer_is_trusted("10.0.1.7", networks)
    assert not peer_is_trusted(None, networks)  # Streamlit's None is 127.0.0.1
    assert peer_is_trusted(None, trusted_networks("127.0.0.1"))
    assert not peer_is_trusted("not-an-ip", networks)
    with pytest.raises(ConfigError, match="TRACKER_DASHBOARD_TRUSTED_PROXY"):
        trusted_networks("proxy.internal")


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"dashboard_allowed_users": ""}, "TRACKER_DASHBOARD_ALLOWED_USERS is empty"),
        ({"oidc_client_id": ""}, "TRACKER_OIDC_CLIENT_ID"),
        ({"oidc_client_secret": None}, "TRACKER_OIDC_CLIENT_SECRET"),
        ({"oidc_cookie_secret": "short"}, "at least 32"),
    ],
)
def test_oidc_refuses_to_start_half_configured(overrides, problem) -> None:
    settings = load_settings(**{**OIDC, **overrides})
    if overrides.get("oidc_client_secret", 1) is None:
        settings = settings.model_copy(update={"oidc_client_secret": None})
    with pytest.raises(ConfigError, match=problem):
        check_access_settings(settings, "oidc")


def test_header_mode_needs_the_proxy_address() -> None:
    settings = load_settings(dashboard_allowed_users="*")
    with pytest.raises(ConfigError, match="TRACKER_DASHBOARD_TRUSTED_PROXY is empty"):
        check_access_settings(settings, "header")
    check_access_settings(
        load_settings(dashboard_allowed_users="*", dashboard_trusted_proxy="172.18.0.5"), "header"
    )


def test_secrets_file_is_valid_private_and_complete(tmp_path: Path) -> None:
    settings = load_settings(**OIDC, dashboard_url="https://dash.example.com/")
    path = write_secrets(settings, tmp_path)
    assert path == tmp_path / ".streamlit" / "secrets.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    auth = tomllib.loads(path.read_text())["auth"]
    assert auth["client_secret"] == OIDC["oidc_client_secret"]
    assert auth["redirect_uri"] == "https://dash.example.com/oauth2callback"
    assert auth["cookie_secret"] == "c" * 40
    assert auth["server_metadata_url"] == OIDC["oidc_server_metadata_url"]
    assert "se" not in repr(settings.oidc_client_secret)
    assert render_secrets(settings) == path.read_text()
