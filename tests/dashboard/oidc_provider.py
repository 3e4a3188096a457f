"""A minimal OpenID Connect provider on loopback, for the dashboard's login tests.

It implements what Streamlit's login (Authlib underneath) uses, for real: discovery, an
authorization endpoint that signs the configured user in at once (no login form: the browser
is redirected straight back with a code), a token endpoint that checks the client secret, the
redirect URI and the PKCE verifier and returns an RS256-signed ID token carrying the nonce,
the JWKS, and userinfo. Nothing in Streamlit is mocked: the dashboard talks to this server
over HTTP like it would to Okta or Google.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

KEY_ID = "test-key"


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    nonce: str | None
    challenge: str | None


@dataclass
class OidcProvider:
    """Start with ``start()``; ``issuer`` is its base URL; ``email`` is who signs in."""

    client_id: str
    client_secret: str
    email: str
    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, {"kid": KEY_ID}, private=True)
    )
    grants: dict[str, Grant] = field(default_factory=dict)
    authorize_calls: int = 0
    token_calls: int = 0

    def start(self) -> OidcProvider:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "email", "profile"],
        }

    def claims(self) -> dict[str, Any]:
        return {"sub": "user-1", "email": self.email, "email_verified": True, "name": "Analyst"}

    def id_token(self, nonce: str | None) -> str:
        now = int(time.time())
        claims = {
            **self.claims(),
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 600,
        }
        if nonce:
            claims["nonce"] = nonce
        header = {"alg": "RS256", "kid": KEY_ID}
        return jwt.encode(header, claims, self.key)


def _handler(provider: OidcProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 10

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _json(self, body: dict[str, Any], status: HTTPStatus = HTTPStatus.OK) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/.well-known/openid-configuration":
                self._json(provider.metadata())
            elif parts.path == "/jwks":
                public = provider.key.as_dict(private=False)
                self._json({"keys": [{**public, "kid": KEY_ID, "use": "sig"}]})
            elif parts.path == "/authorize":
                self._authorize(query)
            elif parts.path == "/userinfo":
                self._json(provider.claims())
            else:
                self._json({"error": "not_found"}, HTTPStatus.NOT_FOUND)

        def _authorize(self, query: dict[str, str]) -> None:
            provider.authorize_calls += 1
            if query.get("client_id") != provider.client_id or "redirect_uri" not in query:
                self._json({"error": "invalid_request"}, HTTPStatus.BAD_REQUEST)
                return
            code = secrets.token_urlsafe(16)
            provider.grants[code] = Grant(
                provider.client_id,
                query["redirect_uri"],
                query.get("nonce"),
                query.get("code_challenge"),
            )
            target = (
                query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
            )
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/token":
                self._json({"error": "not_found"}, HTTPStatus.NOT_FOUND)
                return
            provider.token_calls += 1
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            client_id, secret = form.get("client_id"), form.get("client_secret")
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            grant = provider.grants.pop(form.get("code", ""), None)
            problems = [
                client_id != provider.client_id,
                secret != provider.client_secret,
                grant is None,
                grant is not None and grant.redirect_uri != form.get("redirect_uri"),
                grant is not None
                and grant.challenge is not None
                and _challenge(form.get("code_verifier", "")) != grant.challenge,
            ]
            if any(problems) or grant is None:
                self._json({"error": "invalid_grant"}, HTTPStatus.BAD_REQUEST)
                return
            self._json(
                {
                    "access_token": secrets.token_urlsafe(16),
                    "token_type": "Bearer",
                    "expires_in": 600,
                    "id_token": provider.id_token(grant.nonce),
                }
            )

    return Handler


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
