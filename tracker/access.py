"""Who may open the dashboard: the login mode, the allow-list and the trusted proxy.

Pure decisions (no Streamlit) so the CLI can refuse an unsafe start before Streamlit runs and
the dashboard's gate (``dashboard/_auth.py``) applies the very same rules per session.

Modes (``TRACKER_DASHBOARD_AUTH``):
- ``oidc``: Streamlit's own login (``st.login``) against the OpenID provider whose discovery
  document is ``TRACKER_OIDC_SERVER_METADATA_URL``; its settings are written to a private
  ``secrets.toml`` for Streamlit when the dashboard starts.
- ``header``: an authenticating reverse proxy (oauth2-proxy, a corporate SSO gateway) puts the
  user's e-mail in ``TRACKER_DASHBOARD_AUTH_HEADER``. The header is believed only on connections
  whose TCP peer is one of ``TRACKER_DASHBOARD_TRUSTED_PROXY``; anyone else could forge it.
- ``off``: only when the dashboard listens on loopback alone.
- ``auto`` (default): ``off`` on loopback, ``oidc`` on any other address.
"""

from __future__ import annotations

import ipaddress
import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tracker.config import Settings
from tracker.errors import ConfigError

Mode = Literal["oidc", "header", "off"]
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
MIN_COOKIE_SECRET = 32
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def is_loopback(address: str) -> bool:
    """True when ``address`` (what the server binds) is reachable from this machine only."""
    if address in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def resolve_mode(settings: Settings, address: str | None) -> Mode:
    """The mode for a dashboard bound to ``address`` (None: Streamlit's default, all interfaces).

    ConfigError when login would be off on an address others can reach.
    """
    loopback = address is not None and is_loopback(address)
    if settings.dashboard_auth == "auto":
        return "off" if loopback else "oidc"
    if settings.dashboard_auth == "off" and not loopback:
        raise ConfigError(
            f"TRACKER_DASHBOARD_AUTH: 'off' is allowed only on loopback, but the dashboard "
            f"listens on {address or 'every interface'}; use oidc or header"
        )
    return settings.dashboard_auth


@dataclass(frozen=True)
class AllowList:
    """E-mail addresses and domains allowed in; ``everyone`` when configured as ``*``."""

    emails: frozenset[str]
    domains: frozenset[str]
    everyone: bool = False

    @classmethod
    def parse(cls, text: str) -> AllowList:
        emails: set[str] = set()
        domains: set[str] = set()
        everyone = False
        for raw in text.split(","):
            item = raw.strip().casefold()
            if not item:
                continue
            if item == "*":
                everyone = True
            elif item.startswith("@"):
                domains.add(item[1:])
            elif "@" in item:
                emails.add(item)
            else:
                domains.add(item)
        return cls(frozenset(emails), frozenset(domains), everyone)

    @property
    def empty(self) -> bool:
        return not (self.emails or self.domains or self.everyone)

    def allows(self, email: str | None) -> bool:
        """Exact address or exact domain (``@example.com`` does not admit ``evil-example.com``)."""
        if not email or "@" not in email:
            return False
        address = email.strip().casefold()
        if self.everyone:
            return True
        return address in self.emails or address.rsplit("@", 1)[1] in self.domains


def trusted_networks(text: str) -> list[Network]:
    """Parse ``TRACKER_DASHBOARD_TRUSTED_PROXY``: addresses or CIDRs, comma-separated."""
    networks: list[Network] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ConfigError(
                f"TRACKER_DASHBOARD_TRUSTED_PROXY: {item!r} is not an address or CIDR"
            ) from exc
    return networks


def peer_is_trusted(peer: str | None, networks: list[Network]) -> bool:
    """Whether the TCP peer ``peer`` is the proxy; None (Streamlit's loopback) is 127.0.0.1."""
    try:
        address = ipaddress.ip_address(peer or "127.0.0.1")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def check_access_settings(settings: Settings, mode: Mode) -> None:
    """Refuse to start a dashboard whose login cannot work or would admit anyone by accident."""
    if mode == "off":
        return
    if AllowList.parse(settings.dashboard_allowed_users).empty:
        raise ConfigError(
            "TRACKER_DASHBOARD_ALLOWED_USERS is empty: name the e-mails or @domains allowed in "
            "(or '*' for everyone the login admits)"
        )
    if mode == "header":
        if not trusted_networks(settings.dashboard_trusted_proxy):
            raise ConfigError(
                "TRACKER_DASHBOARD_TRUSTED_PROXY is empty: header mode needs the proxy's address"
            )
        if not settings.dashboard_auth_header.strip():
            raise ConfigError("TRACKER_DASHBOARD_AUTH_HEADER is empty")
        return
    missing = [
        name
        for name, value in (
            ("TRACKER_OIDC_SERVER_METADATA_URL", settings.oidc_server_metadata_url),
            ("TRACKER_OIDC_CLIENT_ID", settings.oidc_client_id),
            ("TRACKER_OIDC_CLIENT_SECRET", _secret(settings.oidc_client_secret)),
            ("TRACKER_OIDC_COOKIE_SECRET", _secret(settings.oidc_cookie_secret)),
        )
        if not value
    ]
    if missing:
        raise ConfigError(f"OIDC login needs {', '.join(missing)} (or TRACKER_DASHBOARD_AUTH)")
    if len(_secret(settings.oidc_cookie_secret)) < MIN_COOKIE_SECRET:
        raise ConfigError(
            f"TRACKER_OIDC_COOKIE_SECRET must be at least {MIN_COOKIE_SECRET} characters"
        )


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter is not None else ""


def _toml_string(value: str) -> str:
    """A TOML basic string (JSON's escaping is valid TOML for these values)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'


def redirect_uri(settings: Settings) -> str:
    return settings.oidc_redirect_uri or settings.dashboard_url.rstrip("/") + "/oauth2callback"


def render_secrets(settings: Settings) -> str:
    """Streamlit's ``[auth]`` section for ``st.login`` from the TRACKER_OIDC_* settings."""
    values = {
        "redirect_uri": redirect_uri(settings),
        "cookie_secret": _secret(settings.oidc_cookie_secret),
        "client_id": settings.oidc_client_id,
        "client_secret": _secret(settings.oidc_client_secret),
        "server_metadata_url": settings.oidc_server_metadata_url,
    }
    lines = ["# Written by `tracker dashboard` from TRACKER_OIDC_*; do not edit.", "[auth]"]
    lines += [f"{key} = {_toml_string(value)}" for key, value in values.items()]
    text = "\n".join(lines) + "\n"
    tomllib.loads(text)  # never hand Streamlit a file it cannot read
    return text


def write_secrets(settings: Settings, directory: Path) -> Path:
    """Write ``directory/.streamlit/secrets.toml`` readable by this user only; return its path."""
    folder = directory / ".streamlit"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / "secrets.toml"
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(render_secrets(settings))
    os.chmod(temporary, stat.S_IRUSR | stat.S_IWUSR)
    os.replace(temporary, path)
    return path
