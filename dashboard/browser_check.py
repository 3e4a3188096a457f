"""One-command browser check: start the dashboard on loopback, open every page in headless
Chromium, fail on any Streamlit exception box, save a screenshot of each page.

    python -m dashboard.browser_check --out screenshots/ [--db URL] [--chromium PATH]

Streamlit draws the page over a websocket after the load event, so Chromium's one-shot
``--screenshot`` would capture an empty skeleton. Instead this drives Chromium through the
DevTools protocol (the ``websockets`` client, already a Streamlit dependency): navigate,
wait until the app reports its script run finished (``data-test-script-state``) and
the page content is stable, then read the DOM for
``[data-testid="stException"]`` and capture the whole page. Chromium runs with no sandbox, no
GPU and no background networking; the dashboard listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--window-size=1400,1000",
)
READY_SCRIPT = """
(() => {
  const root = document.querySelector('[data-testid="stApp"]');
  const app = document.querySelector('[data-testid="stAppViewContainer"]');
  const state = root ? root.getAttribute('data-test-script-state') : null;
  const running = state !== 'notRunning'
    || document.querySelector('[data-testid="stStatusWidget"]');
  const skeleton = document.querySelector('[data-testid="stAppSkeleton"]');
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  return JSON.stringify({
    ready: !!app && !running && !skeleton && !!main && main.innerText.trim().length > 0,
    text: main ? main.innerText.length : 0,
    height: Math.max(
      document.documentElement.scrollHeight,
      ...Array.from(document.querySelectorAll(
        '[data-testid="stMain"], [data-testid="stAppViewContainer"]')).map(e => e.scrollHeight)),
  });
})()
"""
ERRORS_SCRIPT = """
JSON.stringify(Array.from(document.querySelectorAll('[data-testid="stException"]'))
  .map(e => e.innerText.slice(0, 500)))
"""


@dataclass(frozen=True)
class PageCheck:
    name: str
    path: str  # URL path and query after the host
    expect: str  # text that must be on the rendered page


@dataclass
class PageResult:
    name: str
    url: str
    seconds: float  # until the app finished its run and showed content (the user's wait)
    screenshot: Path
    exceptions: list[str]
    missing_text: bool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def find_chromium(explicit: str | None) -> str:
    for candidate in (explicit, "chromium", "chromium-browser", "google-chrome"):
        if candidate and (found := shutil.which(candidate)):
            return found
    raise SystemExit("Chromium not found: apt-get install -y chromium (or pass --chromium PATH)")


class DevTools:
    """The few DevTools-protocol calls the check needs, over one page target's websocket."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self.ids)
        await self.connection.send(
            json.dumps({"id": message_id, "method": method, "params": params})
        )
        while True:
            raw = await self.connection.recv()
            reply = json.loads(raw)
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        value = result.get("result", {}).get("value")
        if value is None:  # the page was replaced mid-evaluation (navigation, redirect)
            raise RuntimeError(f"no value from the page: {result.get('exceptionDetails')}")
        return json.loads(value)


async def check_page(
    tools: DevTools, base: str, page: PageCheck, out: Path, timeout: float
) -> PageResult:
    url = base + page.path
    started = time.monotonic()
    await tools.call("Page.navigate", url=url)
    await asyncio.sleep(0.2)  # let the old page go before polling the new one
    deadline = started + timeout
    stable_since, last_height, first_ready = None, -1, None
    while time.monotonic() < deadline:
        state = await tools.evaluate(READY_SCRIPT)
        if state["ready"] and first_ready is None:
            first_ready = time.monotonic() - started
        if state["ready"] and state["height"] == last_height:
            stable_since = stable_since or time.monotonic()
            if time.monotonic() - stable_since >= 1.5:  # charts settle after the script ends
                break
        else:
            stable_since = None
        last_height = state["height"]
        await asyncio.sleep(0.1)
    seconds = first_ready if first_ready is not None else time.monotonic() - started
    height = min(int((await tools.evaluate(READY_SCRIPT))["height"]), 6000)
    await tools.call(
        "Emulation.setDeviceMetricsOverride",
        width=1400,
        height=max(height, 1000),
        deviceScaleFactor=1,
        mobile=False,
    )
    await asyncio.sleep(0.8)  # let Plotly re-lay out for the taller viewport
    shot = await tools.call("Page.captureScreenshot", format="png")
    await tools.call(
        "Emulation.setDeviceMetricsOverride",
        width=1400,
        height=1000,
        deviceScaleFactor=1,
        mobile=False,
    )
    target = out / f"{page.name}.png"
    target.write_bytes(base64.b64decode(shot["data"]))
    exceptions = list(await tools.evaluate(ERRORS_SCRIPT))
    text = await tools.evaluate("JSON.stringify(document.body.innerText)")
    return PageResult(page.name, url, seconds, target, exceptions, page.expect not in text)


@asynccontextmanager
async def chromium_page(chromium: str) -> AsyncIterator[DevTools]:
    """A headless Chromium with a fresh profile, and the DevTools session of its one page."""
    # Chromium's helpers may still write the profile while it exits: never fail on cleanup.
    with tempfile.TemporaryDirectory(
        prefix="dash-chromium-", ignore_cleanup_errors=True
    ) as profile:
        process = subprocess.Popen(  # noqa: S603
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 30
            while not port_file.exists() or not port_file.read_text().strip():
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("Chromium did not open its DevTools port")
                await asyncio.sleep(0.2)
            port = port_file.read_text().split()[0]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as response:
                targets = json.loads(response.read())
            ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            async with connect(ws_url, max_size=256 * 1024 * 1024) as connection:
                tools = DevTools(connection)
                await tools.call("Page.enable")
                yield tools
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


async def open_and_wait(tools: DevTools, url: str, timeout: float) -> str:
    """Navigate, wait until the app's run finished and the page is stable; its visible text."""
    await tools.call("Page.navigate", url=url)
    await wait_until_rendered(tools, timeout)
    text: str = await tools.evaluate("JSON.stringify(document.body.innerText)")
    return text


async def wait_until_rendered(tools: DevTools, timeout: float) -> None:
    await asyncio.sleep(0.2)
    deadline = time.monotonic() + timeout
    stable_since, last_height = None, -1
    while time.monotonic() < deadline:
        try:
            state = await tools.evaluate(READY_SCRIPT)
        except RuntimeError:  # the page navigated away mid-evaluation (redirects)
            await asyncio.sleep(0.2)
            continue
        if state["ready"] and state["height"] == last_height:
            stable_since = stable_since or time.monotonic()
            if time.monotonic() - stable_since >= 1.5:
                return
        else:
            stable_since = None
        last_height = state["height"]
        await asyncio.sleep(0.1)


async def run_checks(
    chromium: str, base: str, pages: list[PageCheck], out: Path, timeout: float
) -> list[PageResult]:
    async with chromium_page(chromium) as tools:
        return [await check_page(tools, base, page, out, timeout) for page in pages]


def event_for_detail(database_url: str) -> str | None:
    """The event to open on the detail page: the one with the largest stored |CAR|."""
    from tracker.db import Database
    from tracker.query import EventFilter, search_events

    database = Database.connect(database_url)
    try:
        with database.session() as session:
            found = search_events(session, EventFilter(sort="impact", limit=1))
    finally:
        database.engine.dispose()
    return str(found[0].id) if found else None


def dashboard_command(port: int, database_url: str) -> list[str]:
    """``tracker dashboard`` on loopback at ``port``, reading ``database_url``."""
    return [
        sys.executable,
        "-m",
        "tracker.cli.main",
        "dashboard",
        "--port",
        str(port),
        "--address",
        "127.0.0.1",
        "--db",
        database_url,
    ]


def pages_to_check(event: str | None) -> list[PageCheck]:
    detail = f"event?event={event}" if event else "event"
    return [
        PageCheck("timeline", "", "Timeline"),
        PageCheck("event_detail", detail, "Event detail"),
        PageCheck("events", "events", "Events"),
        PageCheck("story", "story", "Stories"),
        PageCheck("live", "live", "Live"),
        PageCheck("health", "health", "Pipeline health"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="screenshot folder")
    parser.add_argument("--db", help="database URL (default: TRACKER_DATABASE_URL / settings)")
    parser.add_argument("--chromium", help="Chromium executable (default: from PATH)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per page")
    args = parser.parse_args(argv)

    from tracker.config import load_settings

    database_url = args.db or load_settings().database_url
    chromium = find_chromium(args.chromium)
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    server = subprocess.Popen(  # noqa: S603
        dashboard_command(port, database_url),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}/"
        wait_for_http(base + "_stcore/health", timeout=60)
        pages = pages_to_check(event_for_detail(database_url))
        results = asyncio.run(run_checks(chromium, base, pages, args.out, args.timeout))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    failed = False
    for result in results:
        problems = [f"exception: {text!r}" for text in result.exceptions]
        if result.missing_text:
            problems.append("page did not render its title")
        status = "FAIL" if problems else "ok"
        failed = failed or bool(problems)
        print(
            f"{status:4} {result.name:13} {result.seconds:5.1f} s  "
            f"{result.screenshot}  {result.url}"
        )
        for problem in problems:
            print(f"     {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
