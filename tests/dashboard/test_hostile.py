"""Every page over hostile stored content (issue 17 point 4): shown as text, never rendered.

AppTest gives the elements the page sends to the browser. Markdown-rendering elements
(titles, headers, captions, markdown, alerts, button and widget labels) must carry the hostile
text escaped; plain-text elements (``st.text``, tables) may carry it verbatim because the
browser never parses them. Links must be http(s). The browser check is in test_browser.py.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.dashboard.hostile import (
    HOSTILE_TITLES,
    RENDERED_MARKERS,
    HostileDatabase,
    build_hostile_database,
)

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGES = (
    "views/timeline.py",
    "views/event_detail.py",
    "views/events.py",
    "views/live.py",
    "views/health.py",
)
MARKDOWN_ELEMENTS = (
    "title",
    "header",
    "subheader",
    "caption",
    "markdown",
    "warning",
    "info",
    "error",
    "success",
    "exception",
)
UNESCAPED_LINK = re.compile(r"(?<!\\)\]\s*(?<!\\)\(|(?<!\\)!\s*(?<!\\)\[")


@pytest.fixture(scope="module")
def hostile(demo_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> HostileDatabase:
    return build_hostile_database(demo_database_url, tmp_path_factory.mktemp("hostile"))


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch, hostile: HostileDatabase) -> Iterator[object]:
    def run(path: str, **query: str) -> AppTest:
        monkeypatch.setenv("TRACKER_DATABASE_URL", hostile.url)
        monkeypatch.delenv("TRACKER_DASHBOARD_DATABASE_URL", raising=False)
        st.cache_data.clear()
        st.cache_resource.clear()
        app = AppTest.from_file(str(APP), default_timeout=120)
        app.run()
        app.switch_page(path)
        for key, value in query.items():
            app.query_params[key] = value
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        return app

    yield run
    st.cache_data.clear()
    st.cache_resource.clear()


def rendered_markdown(app: AppTest) -> list[str]:
    """Every string the browser will parse as markdown."""
    texts: list[str] = []
    for kind in MARKDOWN_ELEMENTS:
        texts += [str(element.value) for element in app.get(kind)]
    for kind in (
        "button",
        "download_button",
        "link_button",
        "selectbox",
        "multiselect",
        "text_input",
        "radio",
        "checkbox",
        "expander",
        "metric",
    ):
        texts += [str(getattr(e.proto, "label", "")) for e in app.get(kind)]
    return texts


def links(app: AppTest) -> list[str]:
    found = [str(e.proto.url) for e in app.get("link_button")]
    for element in app.dataframe:
        frame = element.value
        for column in frame.columns:
            if "link" in str(column).lower() or "url" in str(column).lower():
                found += [str(v) for v in frame[column].dropna()]
    return found


def assert_inert(app: AppTest) -> None:
    for text in rendered_markdown(app):
        for marker in RENDERED_MARKERS:
            assert marker not in text, f"rendered markup {marker!r} in {text!r}"
        assert not UNESCAPED_LINK.search(text), f"markdown link/image in {text!r}"
        assert not re.search(r"(?<!\\)javascript(?<!\\):", text.replace("\\:", "")) or (
            "javascript\\:" in text
        ), text
    for link in links(app):
        assert link.startswith(("http://", "https://")), link


@pytest.mark.parametrize("path", PAGES)
def test_every_page_shows_hostile_text_inert(page, hostile, path) -> None:
    app = page(path, **({"event": str(hostile.event_id)} if "event_detail" in path else {}))
    assert_inert(app)


def test_the_hostile_event_is_shown_as_text(page, hostile) -> None:
    app = page("views/event_detail.py", event=str(hostile.event_id))
    assert_inert(app)
    header = [h.value for h in app.header]
    assert header, "the event's title is shown"
    assert "javascript" in header[0]  # present, escaped: \[Click to read\]\(javascript\:...
    assert "\\[" in header[0]
    assert HOSTILE_TITLES[1] in [t.value for t in app.text]  # description: st.text, verbatim
    assert not app.get("link_button"), "a javascript: reference URL gets no link button"


def test_live_and_events_list_the_hostile_titles_as_data(page) -> None:
    events = page("views/events.py")
    titles = set(events.dataframe[0].value["title"])
    assert set(HOSTILE_TITLES) <= titles
    live = page("views/live.py")
    shown = {str(v) for frame in live.dataframe for v in frame.value.get("headline", [])}
    assert set(HOSTILE_TITLES) <= shown


@pytest.mark.parametrize("ref", ["99999999999999999999999", "²", "١٢", "-1", "x" * 500, "1\x00"])
def test_an_impossible_event_id_is_a_clear_message(page, ref) -> None:
    app = page("views/event_detail.py", event=ref)
    messages = [w.value for w in app.warning]
    assert messages, "a message explains the address"
    assert not app.exception


def test_the_open_button_never_carries_feed_text(page) -> None:
    """The events table's "open" button: its label is markdown, so the title stays out of it."""
    app = page("views/events.py")
    frame = app.dataframe[0].value
    hostile_rows = [i for i, title in enumerate(frame["title"]) if title in HOSTILE_TITLES]
    assert hostile_rows
    for row in hostile_rows:
        app.session_state["events_table"] = {"selection": {"rows": [row], "columns": []}}
        app.run()
        labels = [b.label for b in app.button]
        assert labels == [f"Open event #{frame['id'][row]}"]
        assert frame["title"][row] in [t.value for t in app.text]  # shown, as plain text
        assert_inert(app)


def test_the_csv_download_has_no_formula_cells(page, monkeypatch) -> None:
    """The bytes the download button serves: hostile titles starting with = are text."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    from tracker.export import FORMULA_PREFIXES

    served: list[bytes] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):  # type: ignore[no-untyped-def]
        if mimetype == "text/csv" and isinstance(path_or_data, bytes):
            served.append(path_or_data)
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    page("views/events.py")
    assert served, "the page offered a CSV"
    exported = pd.read_csv(io.BytesIO(served[-1]), dtype=str, keep_default_na=False)
    assert "'" + HOSTILE_TITLES[4] in set(exported["title"])
    for column in exported.columns:
        formulas = [
            v for v in exported[column] if v.startswith(FORMULA_PREFIXES) and not _number(v)
        ]
        assert not formulas, (column, formulas)


def _number(text: str) -> bool:
    """A negative CAR is a number, not a formula."""
    try:
        float(text)
    except ValueError:
        return False
    return True
