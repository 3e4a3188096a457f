"""``tracker digest preview|send`` as a user runs them, against a real loopback SMTP server."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from tests.cli.runner import run_tracker
from tests.digest.conftest import LoopbackController, ScriptedHandler
from tracker.db import Database, migrate
from tracker.digest import ledger


def test_preview_and_send_a_quiet_day(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    migrate.upgrade(url)
    handler = ScriptedHandler(refuse={"gone@example.com": "550 5.1.1 No such user"})
    controller = LoopbackController(handler)
    controller.start()
    port = controller.port
    password = "cli-test-password-not-printed"
    env = {
        "TRACKER_DATABASE_URL": url,
        "TRACKER_SMTP_HOST": "127.0.0.1",
        "TRACKER_SMTP_PORT": str(port),
        "TRACKER_SMTP_SECURITY": "none",
        "TRACKER_DIGEST_FROM": "digest@tracker.test",
        "TRACKER_DIGEST_TO": "alice@example.com,gone@example.com",
        "TRACKER_SMTP_PASSWORD": password,
    }
    try:
        out = tmp_path / "digest.html"
        preview = run_tracker(
            "digest", "preview", "--date", "2025-01-27", "--out", str(out), env=env
        )
        assert preview.returncode == 0, preview.stderr
        assert "Nothing material" in out.read_text()
        sent = run_tracker("digest", "send", "--date", "2025-01-27", env=env)
        assert sent.returncode == 1  # one recipient failed
        lines = sent.stdout.splitlines()
        assert lines[0] == "alice@example.com: sent"
        assert lines[1].startswith("gone@example.com: failed (RCPT TO: 550 5.1.1 No such user")
        again = run_tracker(
            "digest", "send", "--date", "2025-01-27", "--to", "alice@example.com", env=env
        )
        assert again.returncode == 0
        assert again.stdout.startswith("alice@example.com: already sent")
        assert len(handler.received) == 1
        for result in (preview, sent, again):
            assert password not in result.stdout + result.stderr

        bad = run_tracker(
            "digest",
            "send",
            "--date",
            "2025-01-27",
            env={**env, "TRACKER_DIGEST_TO": "x\r\nBcc: e@example.com"},
        )
        assert bad.returncode == 2
        assert bad.stderr.startswith("error: TRACKER_DIGEST_TO")
    finally:
        controller.stop()


def test_retry_resends_an_unknown_delivery_only_when_asked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    migrate.upgrade(url)
    database = Database.connect(url)
    day = date(2025, 1, 27)
    long_ago = datetime(2025, 1, 28, 12, tzinfo=UTC)  # an attempt that never recorded its end
    row = ledger.claim(database, day, "alice@example.com", "<old@tracker.test>", long_ago)
    assert ledger.start_attempt(database, row, long_ago) is not None
    database.dispose()
    handler = ScriptedHandler()
    controller = LoopbackController(handler)
    controller.start()
    env = {
        "TRACKER_DATABASE_URL": url,
        "TRACKER_SMTP_HOST": "127.0.0.1",
        "TRACKER_SMTP_PORT": str(controller.port),
        "TRACKER_DIGEST_FROM": "digest@tracker.test",
        "TRACKER_DIGEST_TO": "alice@example.com",
    }
    try:
        sent = run_tracker("digest", "send", "--date", "2025-01-27", env=env)
        assert sent.returncode == 1
        assert sent.stdout.startswith("alice@example.com: unknown")
        assert handler.received == []
        retried = run_tracker("digest", "retry", "--date", "2025-01-27", env=env)
        assert retried.returncode == 0, retried.stderr
        assert retried.stdout == "alice@example.com: sent\n"
        assert len(handler.received) == 1
        again = run_tracker("digest", "retry", "--date", "2025-01-27", env=env)
        assert again.returncode == 0
        assert again.stdout.startswith("nothing to retry for 2025-01-27")
        assert len(handler.received) == 1
    finally:
        controller.stop()
