"""SMTP transport: connect (STARTTLS, implicit TLS or plain), authenticate, hand over one message.

Every failure is classified by what it means for a retry:

- ``TransientSmtpError``: a 4xx reply, or no connection before the message data was sent.
  The message was surely not accepted, so it is safe to try again.
- ``PermanentSmtpError``: a 5xx reply. Trying again would get the same answer.
- ``AmbiguousSmtpError``: the connection broke after the message data went out and before the
  server's final reply. It may have been accepted; never retried (at-most-once).

The password is taken from the settings' ``SecretStr`` only at login, only over TLS unless
``TRACKER_SMTP_ALLOW_PLAINTEXT_AUTH`` allows a local relay, and never appears in an error
message (server replies do not echo it, and smtplib's debug output stays off).
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from email import policy
from email.message import EmailMessage
from types import TracebackType

from tracker.config import Settings
from tracker.digest.addresses import PLAINTEXT_AUTH_REFUSED, plaintext_auth_refused

DEFAULT_TIMEOUT_SECONDS = 30.0


class SmtpDeliveryError(Exception):
    """Base of the classified delivery failures; ``str()`` is safe to record and show."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.code = code


class TransientSmtpError(SmtpDeliveryError):
    """Surely not delivered; worth retrying."""


class PermanentSmtpError(SmtpDeliveryError):
    """Refused for good."""


class AmbiguousSmtpError(SmtpDeliveryError):
    """Possibly delivered; must not be retried."""


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


def classify_reply(code: int, reply: bytes | str, during: str) -> SmtpDeliveryError:
    """A 4xx reply is transient, anything else unexpected is permanent."""
    reason = f"{during}: {code} {_reply_text(reply)}".rstrip()
    if 400 <= code < 500:
        return TransientSmtpError(reason, code)
    return PermanentSmtpError(reason, code)


class SmtpTransport:
    """One lazily opened SMTP connection, reused for every recipient of a digest run."""

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._settings = settings
        self._timeout = timeout
        self._ssl_context = ssl_context
        self._connection: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def _open(self) -> smtplib.SMTP:
        settings = self._settings
        host, port = settings.smtp_host, settings.smtp_port
        connection: smtplib.SMTP
        if settings.smtp_security == "ssl":
            connection = smtplib.SMTP_SSL(
                host, port, timeout=self._timeout, context=self._context()
            )
        else:
            connection = smtplib.SMTP(host, port, timeout=self._timeout)
        try:
            connection.ehlo()
            if settings.smtp_security == "starttls":
                if not connection.has_extn("starttls"):
                    raise PermanentSmtpError(
                        f"{host}:{port} does not offer STARTTLS (TRACKER_SMTP_SECURITY=starttls)"
                    )
                connection.starttls(context=self._context())
                connection.ehlo()
            if settings.smtp_user:
                if plaintext_auth_refused(settings):  # checked again at the wire
                    raise PermanentSmtpError(PLAINTEXT_AUTH_REFUSED)
                password = settings.smtp_password
                connection.login(
                    settings.smtp_user, password.get_secret_value() if password else ""
                )
        except BaseException:
            connection.close()
            raise
        return connection

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        where = f"connect to {self._settings.smtp_host}:{self._settings.smtp_port}"
        try:
            self._connection = self._open()
        except SmtpDeliveryError:
            raise
        except smtplib.SMTPResponseException as exc:
            raise classify_reply(exc.smtp_code, exc.smtp_error, where) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentSmtpError(f"{where}: {exc}") from None
        except ssl.SSLError as exc:
            raise PermanentSmtpError(f"{where}: TLS failed: {exc.reason or exc}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientSmtpError(f"{where}: {_describe(exc)}") from None
        return self._connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _reset(self, connection: smtplib.SMTP) -> None:
        try:
            connection.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def deliver(self, message: EmailMessage, sender: str, recipient: str) -> None:
        """Hand ``message`` to the server for one recipient, or raise a classified error."""
        connection = self._connect()
        payload = message.as_bytes(policy=policy.SMTP)
        phase = "MAIL FROM"
        try:
            code, reply = connection.mail(sender)
            if code != 250:
                self._reset(connection)
                raise classify_reply(code, reply, phase)
            phase = "RCPT TO"
            code, reply = connection.rcpt(recipient)
            if code not in (250, 251):
                self._reset(connection)
                raise classify_reply(code, reply, phase)
            phase = "DATA"
            code, reply = connection.data(payload)  # returns the final reply, even a 4xx/5xx
            if code != 250:
                self._reset(connection)
                raise classify_reply(code, reply, phase)
        except smtplib.SMTPResponseException as exc:
            # A reply, even to DATA, means the server did not take the message.
            self._reset(connection)
            raise classify_reply(exc.smtp_code, exc.smtp_error, phase) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            if phase == "DATA":
                raise AmbiguousSmtpError(
                    f"connection lost during DATA ({_describe(exc)}): the server may have "
                    "accepted the message; not resent"
                ) from None
            raise TransientSmtpError(f"{phase}: {_describe(exc)}") from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())
