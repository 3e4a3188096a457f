"""A digest sender as its own process, for the kill -9 and two-senders tests.

``python -m tests.digest.sender_process DB_URL SMTP_PORT GO_FILE RECIPIENT...`` says it is
ready (``GO_FILE.PID.ready``), waits until GO_FILE exists (so two senders start together),
sends the synthetic digest of ``DAY`` and prints one ``recipient<TAB>outcome<TAB>detail``
line per recipient.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tests.digest.conftest import DAY, SENDER, synthetic_content
from tracker.config import Settings
from tracker.db import Database
from tracker.digest.send import RetryPolicy, send_digest

GO_WAIT_SECONDS = 240.0


def main(url: str, port: str, go_file: str, *recipients: str) -> None:
    Path(f"{go_file}.{os.getpid()}.ready").touch()  # imported and waiting
    deadline = time.monotonic() + GO_WAIT_SECONDS
    while not Path(go_file).exists():
        if time.monotonic() > deadline:
            raise SystemExit("no go signal")
        time.sleep(0.01)
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=int(port),
        smtp_security="none",
        digest_from=SENDER,
        digest_to=",".join(recipients),
    )
    database = Database.connect(url)
    try:
        report = send_digest(
            database,
            settings,
            DAY,
            content=synthetic_content(),
            retry=RetryPolicy(attempts=1, first_delay=0.0),
        )
    finally:
        database.dispose()
    for result in report.results:
        print(f"{result.recipient}\t{result.outcome}\t{result.detail}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
