"""Real SMTP servers on loopback (aiosmtpd) and clearly synthetic digest content.

The servers are real: smtplib talks SMTP over a TCP socket to them, so every test exercises
the wire protocol the production relay will see. Handlers capture what was accepted and can
be scripted to answer 451 (transient) or 550 (permanent).
"""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tracker.config import Settings
from tracker.digest.content import BasketSummary, DigestContent, DigestEvent, Mover, TickerMove

SENDER = "digest@tracker.test"
RECIPIENTS = ["alice@example.com", "bob@example.com"]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class ScriptedHandler:
    """Accepts mail, unless told to answer a scripted reply to DATA or to refuse a recipient."""

    data_replies: list[str] = field(default_factory=list)  # consumed one per DATA, then 250
    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> RCPT reply
    received: list[Received] = field(default_factory=list)
    data_commands: int = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_commands += 1
        if self.data_replies:
            return self.data_replies.pop(0)
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 Message accepted for delivery"


class LoopbackController(Controller):  # type: ignore[misc]
    """aiosmtpd on 127.0.0.1, on a port the kernel picks while binding (no probe-then-bind
    race with parallel test workers); ``.port`` is the real one once started."""

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=0, **kwargs)

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = int(self.server.sockets[0].getsockname()[1])
        super()._trigger_server()


@contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that is bound but not listening: connecting is refused, and no other
    test can take it while the block runs."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


@dataclass
class SmtpServer:
    handler: ScriptedHandler
    port: int

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_security": "none",
            "digest_from": SENDER,
            "digest_to": ",".join(RECIPIENTS),
            "dashboard_url": "http://dashboard.tracker.test:8501",
        }
        values.update(overrides)
        return Settings(**values)


StartServer = Callable[..., SmtpServer]


@pytest.fixture
def start_smtp() -> Iterator[StartServer]:
    """Start an aiosmtpd server on 127.0.0.1 with a handler; stopped after the test."""
    controllers: list[Controller] = []

    def start(handler: ScriptedHandler | None = None, **server_kwargs: Any) -> SmtpServer:
        handler = handler or ScriptedHandler()
        controller = LoopbackController(handler, **server_kwargs)
        controller.start()
        controllers.append(controller)
        return SmtpServer(handler, controller.port)

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp_server(start_smtp: StartServer) -> SmtpServer:
    return start_smtp()


@pytest.fixture(scope="session")
def self_signed_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1, made with the openssl CLI."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


# ----------------------------------------------------------------- synthetic content
# Clearly synthetic: made-up tickers and headlines, used only to test formatting and delivery.

DAY = date(2030, 3, 4)


def synthetic_content(*, title: str = "Synthetic event: a lab releases a model") -> DigestContent:
    move_a = TickerMove("AAA", -0.12, -0.105, 0.0004, True, name="Alpha Synthetic Inc")
    move_b = TickerMove("BBB", 0.031, 0.02, 0.21, False)
    move_c = TickerMove("CCC", -0.05, None, None, False)
    event = DigestEvent(
        title=title,
        first_reported_at=datetime(2030, 3, 4, 13, 5, tzinfo=UTC),
        source_count=7,
        slug="synthetic-event",
        url="https://news.example.com/synthetic",
        tickers=[move_a, move_b, move_c],
    )
    second = DigestEvent(
        title="Synthetic second event",
        first_reported_at=datetime(2030, 3, 4, 15, 0, tzinfo=UTC),
        source_count=1,
        slug="synthetic-second",
        url=None,
        tickers=[move_b],
    )
    return DigestContent(
        date=DAY,
        events=[event, second],
        movers_with_event=[Mover(move_a, event.title, event.slug)],
        movers_without_catalyst=[Mover(TickerMove("DDD", 0.08, 0.07, 0.01, True))],
        baskets=[
            BasketSummary("synthetic-semis", "Synthetic semis", 3, -0.05, -0.04, move_b, move_a)
        ],
        dashboard_url="http://dashboard.tracker.test:8501",
        quiet=False,
    )


def quiet_content() -> DigestContent:
    return DigestContent(
        date=DAY,
        events=[],
        movers_with_event=[],
        movers_without_catalyst=[],
        baskets=[],
        dashboard_url="http://dashboard.tracker.test:8501",
        quiet=True,
    )


@pytest.fixture
def dropping_server() -> Iterator[int]:
    """A minimal real SMTP server that reads the message data, then hangs up without a reply.

    That is the one case where the sender cannot know whether the message was accepted.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(10)

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection, connection.makefile("rb") as reader:
            connection.sendall(b"220 dropping.test ESMTP\r\n")
            for line in reader:
                verb = line.split(b" ", 1)[0].strip().upper()
                if verb == b"EHLO":
                    connection.sendall(b"250 dropping.test\r\n")
                elif verb == b"DATA":
                    connection.sendall(b"354 go ahead\r\n")
                    for data_line in reader:
                        if data_line == b".\r\n":
                            return  # hang up instead of answering 250
                else:
                    connection.sendall(b"250 OK\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    listener.close()
    thread.join(timeout=5)
