"""The login gate end to end: a real dashboard, headless Chromium, a real OIDC provider.

- OIDC mode: a signed-out visitor sees the sign-in page only (on every page's address); the
  login button runs Streamlit's own flow against the loopback provider in oidc_provider.py;
  afterwards the app renders and the health page names the user. A user off the allow-list
  is refused after signing in.
- Header mode: the identity header through the proxy's address (127.0.0.2) opens the app; the
  very same header from another address (127.0.0.3), or a direct connection, is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

from dashboard.browser_check import chromium_page, open_and_wait, wait_until_rendered
from tests.dashboard.oidc_provider import OidcProvider
from tests.dashboard.proxy import HeaderProxy

ALLOWED = "analyst@example.com"
CLICK_LOGIN = """
(() => {
  const button = Array.from(document.querySelectorAll('button'))
    .find(b => b.innerText.trim() === 'Log in');
  if (button) { button.click(); }
  return JSON.stringify(!!button);
})()
"""
PAGE_TIMEOUT = 60.0


@pytest.fixture
def dashboard(
    start_dashboard: Callable[[dict[str, str], str], int], demo_database_url: str
) -> Callable[[dict[str, str]], int]:
    return lambda settings: start_dashboard(settings, demo_database_url)


@pytest.fixture
def provider() -> Iterator[Callable[[str], OidcProvider]]:
    started: list[OidcProvider] = []

    def start(email: str) -> OidcProvider:
        server = OidcProvider("tracker-dashboard", "client-secret-for-tests", email).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def oidc_settings(server: OidcProvider) -> dict[str, str]:
    return {
        "TRACKER_DASHBOARD_AUTH": "oidc",
        "TRACKER_DASHBOARD_ALLOWED_USERS": f"{ALLOWED}, @research.example",
        "TRACKER_OIDC_SERVER_METADATA_URL": server.metadata_url,
        "TRACKER_OIDC_CLIENT_ID": server.client_id,
        "TRACKER_OIDC_CLIENT_SECRET": server.client_secret,
        "TRACKER_OIDC_COOKIE_SECRET": "a-cookie-secret-of-at-least-32-characters",
        "TRACKER_DASHBOARD_URL": "http://127.0.0.1:{port}",
    }


async def _sign_in(chromium: str, base: str) -> tuple[list[str], str, str]:
    """Visit signed out (home and health), click "Log in"; texts before, after, and health."""
    async with chromium_page(chromium) as tools:
        before = [await open_and_wait(tools, base, PAGE_TIMEOUT)]
        before.append(await open_and_wait(tools, base + "health", PAGE_TIMEOUT))
        assert await tools.evaluate(CLICK_LOGIN), "no Log in button"
        await asyncio.sleep(2.0)  # the redirects: /auth/login -> provider -> /oauth2callback
        await wait_until_rendered(tools, PAGE_TIMEOUT)
        after = str(await tools.evaluate("JSON.stringify(document.body.innerText)"))
        health = await open_and_wait(tools, base + "health", PAGE_TIMEOUT)
    return before, after, health


def test_oidc_signed_out_sees_only_login_then_signs_in(chromium, dashboard, provider) -> None:
    server = provider(ALLOWED)
    port = dashboard(oidc_settings(server))
    before, after, health = asyncio.run(_sign_in(chromium, f"http://127.0.0.1:{port}/"))
    for text in before:
        assert "Sign in" in text
        assert "Log in" in text
        for hidden in ("Timeline", "Pipeline health", "Events", "Closes by session"):
            assert hidden not in text, f"{hidden!r} shown to a signed-out visitor"
    assert server.token_calls == 1, "the code was exchanged at the provider"
    assert "Closes by session" in after  # the timeline page rendered
    assert f"Signed in as {ALLOWED}" in health


def test_oidc_user_off_the_allow_list_is_refused(chromium, dashboard, provider) -> None:
    server = provider("intruder@example.org")
    port = dashboard(oidc_settings(server))
    _, after, health = asyncio.run(_sign_in(chromium, f"http://127.0.0.1:{port}/"))
    assert server.token_calls == 1
    for text in (after, health):
        assert "Access refused" in text
        assert "Closes by session" not in text
        assert "Pipeline health" not in text


async def _visit(chromium: str, bases: list[str]) -> list[tuple[str, str]]:
    async with chromium_page(chromium) as tools:
        return [
            (
                await open_and_wait(tools, base, PAGE_TIMEOUT),
                await open_and_wait(tools, base + "health", PAGE_TIMEOUT),
            )
            for base in bases
        ]


def test_trusted_header_only_from_the_proxy_address(chromium, dashboard) -> None:
    port = dashboard(
        {
            "TRACKER_DASHBOARD_AUTH": "header",
            "TRACKER_DASHBOARD_AUTH_HEADER": "X-Forwarded-Email",
            "TRACKER_DASHBOARD_TRUSTED_PROXY": "127.0.0.2",
            "TRACKER_DASHBOARD_ALLOWED_USERS": ALLOWED,
        }
    )
    proxy = HeaderProxy(port, "127.0.0.2", "X-Forwarded-Email", ALLOWED).start()
    elsewhere = HeaderProxy(port, "127.0.0.3", "X-Forwarded-Email", ALLOWED).start()
    try:
        (via_proxy, via_elsewhere, direct) = asyncio.run(
            _visit(chromium, [proxy.base, elsewhere.base, f"http://127.0.0.1:{port}/"])
        )
    finally:
        proxy.stop()
        elsewhere.stop()
    home, health = via_proxy
    assert "Closes by session" in home
    assert f"Signed in as {ALLOWED} (via the trusted sign-in proxy)" in health
    for home, health in (via_elsewhere, direct):
        for text in (home, health):
            assert "Access refused" in text
            assert "Closes by session" not in text
            assert "Pipeline health" not in text
