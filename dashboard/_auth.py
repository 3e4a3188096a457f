"""The dashboard's gate: every page runs only for a signed-in, allowed user (tracker/access.py).

It runs first in ``app.py``, before navigation, so no page (and no query) is reached by a
visitor the gate has not admitted: a signed-out visitor sees the sign-in page only, a
connection that is not from the trusted proxy sees a refusal only.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard import _data
from tracker.access import AllowList, Mode, peer_is_trusted, resolve_mode, trusted_networks
from tracker.errors import ConfigError

SESSION_KEY = "signed_in_user"


@dataclass(frozen=True)
class SignedIn:
    """Who this session belongs to, for the health page."""

    mode: Mode
    email: str | None  # None with login off


def current_mode() -> Mode:
    """The configured mode for the address Streamlit listens on (ConfigError when unsafe)."""
    address = st.get_option("server.address")
    return resolve_mode(_data.settings(), str(address) if address else None)


def _refuse(title: str, message: str) -> None:
    st.title(title)
    st.error(message, icon=":material/block:")
    st.stop()


def _oidc_user() -> str | None:
    user = st.user
    if not user.is_logged_in:
        st.title("Sign in")
        st.write("The AI market-impact tracker is for signed-in users only.")
        st.button("Log in", type="primary", on_click=st.login)
        st.stop()
    email = user.get("email")
    if user.get("email_verified") is False:
        return None
    return str(email) if email else None


def _header_user(header: str, proxy: str) -> str | None:
    peer = st.context.ip_address
    if not peer_is_trusted(peer, trusted_networks(proxy)):
        _refuse(
            "Access refused",
            "This dashboard is served through its sign-in proxy only; "
            "direct connections are refused.",
        )
    value = st.context.headers.get(header)
    return value.strip() if value else None


def require_user() -> SignedIn:
    """The admitted user of this session; otherwise show the login or refusal page and stop."""
    settings = _data.settings()
    try:
        mode = current_mode()
    except ConfigError as exc:
        _refuse("Login is not configured", str(exc))
        raise  # unreachable: st.stop() raises
    if mode == "off":
        return SignedIn("off", None)
    if mode == "oidc":
        email = _oidc_user()
    else:
        email = _header_user(settings.dashboard_auth_header, settings.dashboard_trusted_proxy)
    if not AllowList.parse(settings.dashboard_allowed_users).allows(email):
        if mode == "oidc":
            st.button("Log out", on_click=st.logout)
        _refuse("Access refused", "Your account is not on this dashboard's allow-list.")
    signed = SignedIn(mode, email)
    st.session_state[SESSION_KEY] = signed
    return signed


def signed_in() -> SignedIn | None:
    value = st.session_state.get(SESSION_KEY)
    return value if isinstance(value, SignedIn) else None
