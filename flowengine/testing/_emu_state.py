"""The emulated tenant's data: constants, records, the error answer and a few wire helpers.

Theory of operation: the tenant is plain data. Every record here is a mutable attrs
class without behaviour beyond small derived properties; the endpoint modules
(``_emu_*.py``) read and change them while ``flowengine.testing.Auth0Emulator``
holds its one lock, so nothing here locks anything. A handler refuses a request by
raising ``HttpError``; the dispatcher turns it into the JSON error answer.
Secrets (codes, passwords, tokens) are kept out of every record's ``repr``.
"""

from __future__ import annotations

import json
import math
import re
import string
from collections.abc import Mapping
from typing import Any, Final, Literal

from attrs import define, field

from flowengine.testing._models import AuthenticatorInfo

__all__ = [
    "ACCESS_TOKEN_TTL",
    "ALNUM",
    "AccessToken",
    "Api",
    "AuthKind",
    "Authenticator",
    "B32",
    "B64URL",
    "BRUTE_FORCE_LIMIT",
    "Bucket",
    "Client",
    "EMAIL_RE",
    "GRANT_MFA_OOB",
    "GRANT_MFA_OTP",
    "GRANT_MFA_RECOVERY_CODE",
    "GRANT_PASSWORD",
    "GRANT_PASSWORDLESS_OTP",
    "GRANT_PASSWORD_REALM",
    "GRANT_REFRESH_TOKEN",
    "HttpError",
    "JSON_CT",
    "LIST_TYPE",
    "MFA_ACCESS_TOKEN_TTL",
    "MFA_CODE_TTL",
    "MFA_SCOPES",
    "MFA_TOKEN_TTL",
    "MfaPolicy",
    "MfaSession",
    "Oob",
    "PASSWORDLESS_ATTEMPTS",
    "PASSWORDLESS_CODE_TTL",
    "PHONE_RE",
    "PendingCode",
    "RefreshToken",
    "Request",
    "SUPPORTED_GRANTS",
    "UNAUTHORIZED_CLIENT_URI",
    "UPPER_ALNUM",
    "User",
    "dumps",
    "invalid_request",
    "normalise_address",
    "totp",
]

GRANT_PASSWORDLESS_OTP: Final = "http://auth0.com/oauth/grant-type/passwordless/otp"
GRANT_PASSWORD_REALM: Final = "http://auth0.com/oauth/grant-type/password-realm"
GRANT_PASSWORD: Final = "password"
GRANT_MFA_OOB: Final = "http://auth0.com/oauth/grant-type/mfa-oob"
GRANT_MFA_OTP: Final = "http://auth0.com/oauth/grant-type/mfa-otp"
GRANT_MFA_RECOVERY_CODE: Final = "http://auth0.com/oauth/grant-type/mfa-recovery-code"
GRANT_REFRESH_TOKEN: Final = "refresh_token"
SUPPORTED_GRANTS: Final = frozenset(
    {
        GRANT_PASSWORDLESS_OTP,
        GRANT_PASSWORD_REALM,
        GRANT_PASSWORD,
        GRANT_MFA_OOB,
        GRANT_MFA_OTP,
        GRANT_MFA_RECOVERY_CODE,
        GRANT_REFRESH_TOKEN,
    }
)

PASSWORDLESS_CODE_TTL: Final = 180.0
PASSWORDLESS_ATTEMPTS: Final = 3
MFA_CODE_TTL: Final = 300.0
MFA_TOKEN_TTL: Final = 600.0
MFA_ACCESS_TOKEN_TTL: Final = 600
ACCESS_TOKEN_TTL: Final = 86400
BRUTE_FORCE_LIMIT: Final = 10
MFA_SCOPES: Final = "enroll read:authenticators remove:authenticators"
UNAUTHORIZED_CLIENT_URI: Final = "https://auth0.com/docs/clients/client-grant-types"

PHONE_RE: Final = re.compile(r"^\+[0-9]{1,15}$")
EMAIL_RE: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
B32: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
B64URL: Final = string.ascii_letters + string.digits + "-_"
ALNUM: Final = string.ascii_letters + string.digits
UPPER_ALNUM: Final = string.ascii_uppercase + string.digits
# Our authenticator kinds as Auth0 names them in ``mfa_requirements`` and list items.
LIST_TYPE: Final = {
    "sms": "phone",
    "voice": "phone",
    "email": "email",
    "push": "push-notification",
    "totp": "otp",
    "recovery-code": "recovery-code",
}
JSON_CT: Final = "application/json; charset=utf-8"

AuthKind = Literal["sms", "voice", "email", "push", "totp", "recovery-code"]
MfaPolicy = Literal["always", "never"]


# ----------------------------------------------------------------- records


class HttpError(Exception):
    """An error answer, raised inside a handler and turned into a response."""

    def __init__(
        self,
        status: int,
        error: str,
        description: str,
        *,
        extra: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.payload: dict[str, object] = {"error": error, "error_description": description}
        if extra:
            self.payload.update(extra)
        self.headers = dict(headers or {})


def invalid_request(description: str) -> HttpError:
    return HttpError(400, "invalid_request", description)


@define
class Bucket:
    """A token bucket: ``capacity`` tokens, refilled at ``capacity / per_seconds``."""

    capacity: int
    per_seconds: float
    tokens: float
    updated: float

    @property
    def rate(self) -> float:
        return self.capacity / self.per_seconds

    def refill(self, now: float) -> None:
        if now > self.updated:
            refilled = self.tokens + (now - self.updated) * self.rate
            # round away float noise, so that waiting until x-ratelimit-reset always works
            self.tokens = min(float(self.capacity), round(refilled, 9))
            self.updated = now

    def take(self, now: float) -> bool:
        self.refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def has(self, now: float) -> bool:
        self.refill(now)
        return self.tokens >= 1.0

    def reset_at(self, now: float) -> int:
        if self.tokens >= self.capacity:
            return math.ceil(now)
        missing = 1.0 - (self.tokens - math.floor(self.tokens))
        return math.ceil(now + missing / self.rate)

    def headers(self, now: float) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.capacity),
            "x-ratelimit-remaining": str(max(0, math.floor(self.tokens))),
            "x-ratelimit-reset": str(self.reset_at(now)),
        }


@define
class Client:
    """A registered application; ``secret`` None makes it public."""

    client_id: str
    secret: str | None = field(repr=False)
    grant_types: frozenset[str] | None
    trust_forwarded_for: bool


@define
class Authenticator:
    """One enrolled factor; ``group`` ties twins (sms+voice, push+totp) together."""

    id: str
    type: AuthKind
    group: str
    active: bool
    created_at: float
    secret: str | None = field(default=None, repr=False)
    phone_number: str | None = None
    email: str | None = None

    @property
    def authenticator_type(self) -> Literal["otp", "oob", "recovery-code"]:
        if self.type == "totp":
            return "otp"
        if self.type == "recovery-code":
            return "recovery-code"
        return "oob"

    @property
    def oob_channel(self) -> str | None:
        return {"sms": "sms", "voice": "voice", "email": "email", "push": "auth0"}.get(self.type)

    @property
    def name(self) -> str | None:
        if self.type in ("sms", "voice") and self.phone_number:
            return "X" * 9 + self.phone_number[-4:]
        if self.type == "email" and self.email:
            domain = self.email.split("@", 1)[1]
            return "****@" + domain[:4] + "*" * max(0, len(domain) - 4)
        return None

    def info(self) -> AuthenticatorInfo:
        return AuthenticatorInfo(
            id=self.id,
            type=self.type,
            authenticator_type=self.authenticator_type,
            oob_channel=self.oob_channel,
            active=self.active,
            name=self.name,
            secret=self.secret,
            phone_number=self.phone_number,
            email=self.email,
        )


@define
class User:
    """A user of any connection, keyed by username (phone number or lowercased email)."""

    username: str
    user_id: str
    connections: set[str]
    password: str | None = field(repr=False)
    email: str | None
    phone_number: str | None
    mfa_failures: Bucket
    sms_sends: Bucket
    blocked: bool = False
    failures: int = 0
    authenticators: list[Authenticator] = field(factory=list)
    recovery_code: str | None = field(default=None, repr=False)
    associated_once: bool = False

    def active(self) -> list[Authenticator]:
        return [a for a in self.authenticators if a.active and a.type != "recovery-code"]


@define
class PendingCode:
    """The live passwordless code of one (connection, address); ``code`` None for a link."""

    connection: str
    code: str | None = field(repr=False)
    expires_at: float
    attempts_left: int


@define
class MfaSession:
    """What an ``mfa_token`` stands for: whose login, by which client, for what."""

    token: str = field(repr=False)
    username: str
    client_id: str
    audience: str | None
    scope: str | None
    expires_at: float


@define
class Oob:
    """An oob_code: a binding code sent by SMS/voice/email, or a push to the device."""

    code: str = field(repr=False)
    mfa_token: str | None = field(repr=False)
    username: str
    authenticator_id: str
    channel: str
    binding_code: str | None = field(repr=False)
    expires_at: float
    created_at: float
    enrollment: bool
    pending_left: int = 0
    outcome: str = "approve"
    state: Literal["pending", "approved", "rejected"] = "pending"
    last_poll: float | None = None
    used: bool = False


@define
class AccessToken:
    """What an issued access token grants (the token itself is the key)."""

    username: str
    client_id: str
    audience: str | None
    scopes: frozenset[str]
    expires_at: float


@define
class Api:
    """A registered API (resource server): an audience, and whether it allows offline access."""

    identifier: str
    allow_offline_access: bool


@define
class RefreshToken:
    """What an issued refresh token re-issues (the token itself is the key)."""

    username: str
    client_id: str
    audience: str | None
    scope: str | None


@define
class Request:
    """One request as the handlers see it: lowercased headers, the path only, a timestamp."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes = field(repr=False)
    client_ip: str
    now: float


# ----------------------------------------------------------------- helpers


def dumps(obj: object) -> bytes:
    """Compact JSON, as Auth0 sends it."""
    return json.dumps(obj, separators=(",", ":")).encode()


def normalise_address(address: str) -> str:
    """An email lowercased, a phone number as typed (both stripped)."""
    return address.strip().lower() if "@" in address else address.strip()


def totp(secret: str) -> Any:
    """A ``pyotp.TOTP`` for ``secret``; pyotp (the [cli] extra) is imported on first use."""
    try:
        import pyotp
    except ImportError:
        raise ModuleNotFoundError(
            "the emulator's TOTP factor needs pyotp: pip install 'flowengine[cli]'", name="pyotp"
        ) from None
    return pyotp.TOTP(secret)
