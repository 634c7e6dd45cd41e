"""The login session cookie: the resume handle and the CSRF token, HMAC-signed.

Theory of operation
-------------------
The cookie carries a small JSON document: the flow's current resume handle (``h``,
absent before a start), the per-session CSRF token (``c``) that every form repeats, a
random session id (``s``) the flow is bound to (``repo.add(binding=...)``, so a handle
alone, without this cookie, resumes nothing), and a one-request notice (``n``) and the
listed authenticators (``a``: ids, kinds and masked names) carried across a
post/redirect/get. The document is base64url-encoded and followed by an HMAC-SHA-256
tag under the application's cookie key; a cookie with a bad tag, a bad shape or past
its age is treated as no cookie at all (a fresh session), and the page says so.

It is sent ``HttpOnly`` (no script reads the handle), ``SameSite=Lax`` by default
(``Strict`` on request) and ``Secure`` unless the page is served on a loopback host.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from typing import Any

import attrs

from flowengine._errors import ConfigurationError

__all__ = ["COOKIE_NAME", "CookieCodec", "Session"]

#: The default name of the login cookie (``CookieCodec.name``): HMAC-signed and HttpOnly,
#: it carries the handle, the CSRF token and the session id the flow is bound to.
COOKIE_NAME = "flowengine_login"
#: Longest cookie value accepted (browsers keep ~4 KiB per cookie).
MAX_COOKIE_CHARS = 3800


@attrs.define
class Session:
    """What the cookie holds for one browser."""

    sid: str = attrs.field(factory=lambda: secrets.token_urlsafe(18))
    csrf: str = attrs.field(factory=lambda: secrets.token_urlsafe(18), repr=False)
    handle: str | None = attrs.field(default=None, repr=False)
    notice: str | None = None
    authenticators: list[dict[str, Any]] | None = None
    issued_at: float = 0.0
    #: True when the browser sent a cookie that failed verification (a forged or old one).
    rejected: bool = attrs.field(default=False, eq=False)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"s": self.sid, "c": self.csrf, "t": int(self.issued_at)}
        if self.handle:
            doc["h"] = self.handle
        if self.notice:
            doc["n"] = self.notice
        if self.authenticators:
            doc["a"] = self.authenticators
        return doc


@attrs.frozen
class CookieCodec:
    """Signs and verifies the session cookie with an HMAC key."""

    key: bytes = attrs.field(repr=False)
    name: str = COOKIE_NAME
    samesite: str = "Lax"
    #: Longer than a flow can stay idle (an hour after its latest code), so that a login
    #: that expired is still recognised and said so once; the handle inside is useless
    #: once its flow ended, and every step re-issues the cookie.
    max_age: int = 7200

    def __attrs_post_init__(self) -> None:
        if len(self.key) < 32:
            raise ConfigurationError("the cookie key needs at least 32 bytes")
        if self.samesite not in ("Lax", "Strict"):
            raise ConfigurationError("samesite must be 'Lax' or 'Strict'")

    def _tag(self, body: bytes) -> str:
        mac = hmac.new(self.key, b"flowengine web cookie v1\0" + body, hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")

    def encode(self, session: Session) -> str:
        """The signed cookie value."""
        raw = json.dumps(session.to_json(), separators=(",", ":")).encode()
        body = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return f"{body}.{self._tag(body.encode())}"

    def decode(self, value: str | None, now: float) -> Session:
        """The session in ``value``; a fresh one (``rejected`` set) when it does not verify."""
        if not value:
            return Session(issued_at=now)
        try:
            if len(value) > MAX_COOKIE_CHARS or not value.isascii():
                raise ValueError("cookie too long")
            body, tag = value.split(".", 1)
            if not hmac.compare_digest(self._tag(body.encode()), tag):
                raise ValueError("bad tag")
            doc = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            if not isinstance(doc, dict):
                raise ValueError("not an object")
            issued = float(doc["t"])
            if now - issued > self.max_age:
                raise ValueError("expired")
            auths = doc.get("a")
            return Session(
                sid=_text(doc["s"]),
                csrf=_text(doc["c"]),
                handle=_text(doc["h"]) if "h" in doc else None,
                notice=_text(doc["n"]) if "n" in doc else None,
                authenticators=auths if isinstance(auths, list) else None,
                issued_at=issued,
            )
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
            return Session(issued_at=now, rejected=True)

    def header(self, session: Session, *, path: str, secure: bool) -> str:
        """The ``Set-Cookie`` header value for ``session``."""
        parts = [
            f"{self.name}={self.encode(session)}",
            f"Path={path}",
            f"Max-Age={self.max_age}",
            "HttpOnly",
            f"SameSite={self.samesite}",
        ]
        if secure:
            parts.append("Secure")
        return "; ".join(parts)


def _text(value: object) -> str:
    if not isinstance(value, str) or len(value) > 1024:
        raise TypeError("not a short string")
    return value
