"""The one browser check of hostile content: what Chromium actually builds from the pages.

AppTest (test_hostile.py) sees what the server sends; this looks at the DOM after Streamlit's
frontend rendered it: no element or link came out of feed text, and the text is still shown.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from dashboard.browser_check import chromium_page, open_and_wait
from tests.dashboard.hostile import BEACON, HOSTILE_TITLES, HostileDatabase, build_hostile_database

DOM_PROBE = """
JSON.stringify({
  javascriptLinks: Array.from(document.querySelectorAll('a[href]'))
    .map(a => a.getAttribute('href')).filter(h => /^\\s*javascript:/i.test(h)),
  beacons: Array.from(document.querySelectorAll('img'))
    .map(i => i.getAttribute('src') || '').filter(s => s.includes('beacon')),
  injectedScripts: Array.from(document.querySelectorAll('script'))
    .filter(s => (s.textContent || '').includes('alert(')).length,
  injectedImages: document.querySelectorAll('img[onerror]').length,
  boldFromFeed: Array.from(document.querySelectorAll('b, strong'))
    .filter(b => ['bold', 'loud'].includes(b.textContent.trim())).length,
  exceptions: document.querySelectorAll('[data-testid="stException"]').length,
})
"""


@pytest.fixture(scope="module")
def hostile(demo_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> HostileDatabase:
    return build_hostile_database(demo_database_url, tmp_path_factory.mktemp("hostile-browser"))


async def _probe(chromium: str, base: str, paths: list[str]) -> list[tuple[str, dict]]:
    async with chromium_page(chromium) as tools:
        results = []
        for path in paths:
            text = await open_and_wait(tools, base + path, 60.0)
            results.append((text, await tools.evaluate(DOM_PROBE)))
        return results


def test_chromium_renders_hostile_content_as_text(chromium, start_dashboard, hostile) -> None:
    port = start_dashboard({}, hostile.url)
    paths = ["", f"event?event={hostile.event_id}", "events", "live", "health"]
    results = asyncio.run(_probe(chromium, f"http://127.0.0.1:{port}/", paths))
    for path, (_, dom) in zip(paths, results, strict=True):
        assert dom == {
            "javascriptLinks": [],
            "beacons": [],
            "injectedScripts": 0,
            "injectedImages": 0,
            "boldFromFeed": 0,
            "exceptions": 0,
        }, (path, dom)
    event_text = json.loads(json.dumps(results[1][0]))
    assert "[Click to read](javascript:alert(document.cookie))" in event_text  # shown as text
    assert HOSTILE_TITLES[1].replace(BEACON, "").split(")")[-1].strip() in event_text
