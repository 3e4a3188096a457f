"""The SMTP transport against real servers: STARTTLS, implicit TLS, AUTH, refusals."""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.digest.conftest import SENDER, ScriptedHandler, StartServer
from tracker.digest.addresses import validate_digest_settings
from tracker.digest.transport import (
    PermanentSmtpError,
    SmtpTransport,
    TransientSmtpError,
    classify_reply,
)
from tracker.errors import ConfigError

PASSWORD = "s3cret-digest-password"  # a test credential for the loopback server only


class Authenticator:
    def __init__(self) -> None:
        self.logins: list[tuple[bytes, bytes]] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        # handled=False: let aiosmtpd answer 535 itself on failure
        return AuthResult(success=data.password == PASSWORD.encode(), handled=False)


def _message() -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "transport test"
    message.set_content("hello")
    return message


def _contexts(cert_and_key: tuple[Path, Path]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key = cert_and_key
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


def test_starttls_with_login(start_smtp: StartServer, self_signed_cert) -> None:
    server_ctx, client_ctx = _contexts(self_signed_cert)
    authenticator = Authenticator()
    server = start_smtp(
        ScriptedHandler(),
        tls_context=server_ctx,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    settings = server.settings(smtp_security="starttls", smtp_user="digest", smtp_password=PASSWORD)
    with SmtpTransport(settings, ssl_context=client_ctx) as transport:
        transport.deliver(_message(), SENDER, "alice@example.com")
        transport.deliver(_message(), SENDER, "bob@example.com")  # same connection reused
    assert [m.rcpt_tos for m in server.handler.received] == [
        ["alice@example.com"],
        ["bob@example.com"],
    ]
    assert authenticator.logins == [(b"digest", PASSWORD.encode())]


def test_implicit_tls(start_smtp: StartServer, self_signed_cert) -> None:
    server_ctx, client_ctx = _contexts(self_signed_cert)
    server = start_smtp(ScriptedHandler(), ssl_context=server_ctx)
    with SmtpTransport(server.settings(smtp_security="ssl"), ssl_context=client_ctx) as transport:
        transport.deliver(_message(), SENDER, "alice@example.com")
    assert len(server.handler.received) == 1


def test_untrusted_certificate_is_refused(start_smtp: StartServer, self_signed_cert) -> None:
    server_ctx, _ = _contexts(self_signed_cert)
    server = start_smtp(ScriptedHandler(), ssl_context=server_ctx)
    with (
        SmtpTransport(server.settings(smtp_security="ssl")) as transport,
        pytest.raises(PermanentSmtpError, match="TLS failed"),
    ):
        transport.deliver(_message(), SENDER, "alice@example.com")
    assert server.handler.received == []


def test_starttls_required_but_not_offered(start_smtp: StartServer) -> None:
    server = start_smtp()
    with (
        SmtpTransport(server.settings(smtp_security="starttls")) as transport,
        pytest.raises(PermanentSmtpError, match="does not offer STARTTLS"),
    ):
        transport.deliver(_message(), SENDER, "alice@example.com")
    assert server.handler.received == []


def test_wrong_password_is_permanent_and_never_echoed(
    start_smtp: StartServer, self_signed_cert
) -> None:
    server_ctx, client_ctx = _contexts(self_signed_cert)
    server = start_smtp(ScriptedHandler(), tls_context=server_ctx, authenticator=Authenticator())
    wrong = "wrong-" + PASSWORD
    settings = server.settings(smtp_security="starttls", smtp_user="digest", smtp_password=wrong)
    with (
        SmtpTransport(settings, ssl_context=client_ctx, timeout=5) as transport,
        pytest.raises(PermanentSmtpError) as failure,
    ):
        transport.deliver(_message(), SENDER, "alice@example.com")
    assert failure.value.code == 535
    assert wrong not in str(failure.value)
    assert PASSWORD not in repr(settings)


def test_reply_classes() -> None:
    assert isinstance(classify_reply(421, b"closing", "MAIL FROM"), TransientSmtpError)
    assert isinstance(classify_reply(452, b"full", "RCPT TO"), TransientSmtpError)
    refused = classify_reply(554, b"5.7.1 rejected\r\n  by policy", "DATA")
    assert isinstance(refused, PermanentSmtpError)
    assert str(refused) == "DATA: 554 5.7.1 rejected by policy"


def test_credentials_are_never_sent_without_tls_by_default(start_smtp: StartServer) -> None:
    """A relay that offers AUTH in the clear (a sink capturing it) gets no password."""
    authenticator = Authenticator()
    server = start_smtp(ScriptedHandler(), authenticator=authenticator, auth_require_tls=False)
    settings = server.settings(smtp_security="none", smtp_user="digest", smtp_password=PASSWORD)
    with (
        SmtpTransport(settings, timeout=5) as transport,
        pytest.raises(PermanentSmtpError, match="TRACKER_SMTP_ALLOW_PLAINTEXT_AUTH") as failure,
    ):
        transport.deliver(_message(), SENDER, "alice@example.com")
    assert authenticator.logins == []
    assert server.handler.received == []
    assert PASSWORD not in str(failure.value)
    with pytest.raises(ConfigError, match="TRACKER_SMTP_SECURITY=none"):
        validate_digest_settings(settings)


def test_plaintext_credentials_only_when_explicitly_allowed(start_smtp: StartServer) -> None:
    authenticator = Authenticator()
    server = start_smtp(ScriptedHandler(), authenticator=authenticator, auth_require_tls=False)
    settings = server.settings(
        smtp_security="none",
        smtp_user="digest",
        smtp_password=PASSWORD,
        smtp_allow_plaintext_auth=True,
    )
    validate_digest_settings(settings)
    with SmtpTransport(settings, timeout=5) as transport:
        transport.deliver(_message(), SENDER, "alice@example.com")
    assert authenticator.logins == [(b"digest", PASSWORD.encode())]
    assert len(server.handler.received) == 1
