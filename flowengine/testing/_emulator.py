"""The framework-free core of the Auth0 tenant emulator.

:class:`Auth0Emulator` answers ``handle(method, path, headers, body)`` exactly like
the parts of an Auth0 tenant the flow uses (``/passwordless/start``,
``/oauth/token``, ``/mfa/associate``, ``/mfa/challenge``, ``/mfa/authenticators``),
with no network. All state lives here, behind one ``threading.Lock``; time comes
only from the injected ``clock``.

Facts come from ``auth0-api.md`` (built to the *recorded* behaviour where docs
disagree). Where the facts are silent the emulator chooses, as listed here:

* 401 ``invalid_client`` for a missing/unknown client, a wrong or missing secret of
  a confidential client, a secret sent by a public client, or a ``client_assertion``
  (Private Key JWT is not emulated). ``/passwordless/start`` without ``client_id``
  answers 400 ``bad.client_id`` (D1).
* The 4th try of a passwordless code, an expired, spent, superseded or link-only
  code all answer 403 ``invalid_grant`` "Wrong … verification code.".
* Brute force: the 10th consecutive wrong password of a user answers 429
  ``too_many_attempts`` and blocks the user (later tries, right or wrong, get 429).
* An MFA binding code past its 300 s answers 403 ``expired_token`` "oob_code is
  expired"; an unknown or spent oob_code answers 403 ``invalid_grant`` "Malformed
  oob_code". Push oob_codes also live 300 s.
* Failed MFA codes (binding codes, TOTP, recovery codes) draw on a per-user bucket
  of 10 refilled one per 6 minutes; when it is empty every MFA code answers 400
  ``invalid_request`` "Too many failed codes. Wait for some minutes before retrying.".
  A wrong binding code does not kill the oob_code (only the bucket limits guessing).
* A TOTP code may be reused within its window (no replay cache). Any of the user's
  TOTP authenticators (active or not) is accepted by ``mfa-otp``; an inactive one is
  thereby confirmed. A recovery code works only once some factor was confirmed.
* ``/passwordless/start`` with ``send`` omitted sends an email LINK but an SMS CODE;
  an explicit ``send:"link"`` (or ``link_android``/``link_ios``) sends a link on either
  connection. A link carries no code usable with the OTP grant, and supersedes any
  earlier code.
* Recovery codes: the FIRST ``/mfa/associate`` of a user answers ``recovery_codes``
  and creates the (inactive) ``recovery-code`` authenticator; it turns active when
  any enrollment is confirmed.
* SMS and voice sends (associate and challenge) draw on a per-user bucket of 10
  refilled one per hour: 400 ``invalid_request`` "Too many SMS sent by the user…".
* Bearer endpoints: a missing/garbled/unknown bearer → 401 ``invalid_token``; an
  expired MFA access token → 401 ``invalid_token`` "The access token is expired.";
  an access token of another audience → 401 ``invalid_token``; a recognised but
  expired mfa_token → 403 ``expired_token`` "mfa_token is expired" (as on every
  other MFA call); a token without the needed scope, or an mfa_token on DELETE →
  403 ``insufficient_scope``.
* ``/mfa/challenge``: an ``authenticator_id`` that is not an ACTIVE authenticator of
  the user → 400 ``invalid_request`` "Invalid authenticator_id."; one whose type
  the ``challenge_type`` excludes (or a recovery-code id) → 400
  ``unsupported_challenge_type``; no authenticator_id → the first active one in the
  order push, totp, sms, email, voice.
* ``DELETE`` of an unknown id → 404 ``not_found`` "Authenticator not found."; of the
  recovery-code authenticator → 400 ``invalid_request`` (regenerated only by the
  Management API).
* Unknown path → 404 ``not_found``; wrong method → 405 ``method_not_allowed`` with
  ``Allow``.
* ``x-ratelimit-reset`` is the epoch second at which the next request is added back
  (now, rounded up, when the bucket is full).
* The refresh grant does not rotate: the same ``refresh_token`` stays valid and is
  echoed back when the scope still has ``offline_access``; a wider ``scope`` than
  the original grant → 403 ``invalid_scope``.
* A user's verified email does NOT show up by itself as an ``email|`` authenticator;
  seed one with :meth:`Auth0Emulator.enroll` when a test needs it.
* Passwordless and password users share one namespace keyed by username: a
  passwordless email login for an existing password user logs into that user.
* Unknown body properties are ignored everywhere except ``/passwordless/start``
  (400 ``bad.request``, as documented).

Faults (see :class:`~flowengine.testing.Fault`): ``status_500``, ``status_502_html``,
``status_503``, ``status_429``, ``connect_refused`` and ``connect_timeout`` answer
instead of the tenant (NOT processed, no state change). ``empty_200``,
``non_json_200`` (JSON content type, non-JSON body), ``truncated_json`` (first half,
status 200), ``json_array`` (``[]``, status 200), ``missing_field`` (real status, a
required field dropped), ``wrong_content_type`` (real status and body, text/plain),
``delay``, ``read_timeout`` and ``reset`` are applied AFTER the tenant processed the
request (state changed: an ambiguous failure for the client).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import random
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from attrs import define, field

from flowengine.testing._models import (
    PRE_PROCESSING_FAULTS,
    AuthenticatorInfo,
    EmulatorResponse,
    Fault,
    OutboxMessage,
    PushScript,
    RequestRecord,
    UserInfo,
)

if TYPE_CHECKING:
    import httpx

    from flowengine.testing._server import EmulatorServer

__all__ = [
    "ACCESS_TOKEN_TTL",
    "GRANT_MFA_OOB",
    "GRANT_MFA_OTP",
    "GRANT_MFA_RECOVERY_CODE",
    "GRANT_PASSWORD",
    "GRANT_PASSWORDLESS_OTP",
    "GRANT_PASSWORD_REALM",
    "GRANT_REFRESH_TOKEN",
    "MFA_ACCESS_TOKEN_TTL",
    "MFA_CODE_TTL",
    "MFA_SCOPES",
    "MFA_TOKEN_TTL",
    "PASSWORDLESS_CODE_TTL",
    "Auth0Emulator",
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

_PHONE_RE: Final = re.compile(r"^\+[0-9]{1,15}$")
_EMAIL_RE: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_B32: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B64URL: Final = string.ascii_letters + string.digits + "-_"
_ALNUM: Final = string.ascii_letters + string.digits
_UPPER_ALNUM: Final = string.ascii_uppercase + string.digits
_REDACTED: Final = "[REDACTED]"
_SECRET_KEYS: Final = frozenset(
    {
        "otp",
        "binding_code",
        "mfa_token",
        "oob_code",
        "recovery_code",
        "client_secret",
        "client_assertion",
        "password",
        "refresh_token",
        "access_token",
        "id_token",
    }
)
_SECRET_HEADERS: Final = frozenset({"authorization", "proxy-authorization", "cookie"})
_PASSWORDLESS_KEYS: Final = frozenset(
    {
        "client_id",
        "client_secret",
        "client_assertion",
        "client_assertion_type",
        "connection",
        "email",
        "phone_number",
        "send",
        "authParams",
    }
)
_SEND_VALUES: Final = ("link", "code", "link_android", "link_ios")
_CHALLENGE_ORDER: Final = ("push", "totp", "sms", "email", "voice")
_LIST_TYPE: Final = {
    "sms": "phone",
    "voice": "phone",
    "email": "email",
    "push": "push-notification",
    "totp": "otp",
    "recovery-code": "recovery-code",
}
_JSON_CT: Final = "application/json; charset=utf-8"

AuthKind = Literal["sms", "voice", "email", "push", "totp", "recovery-code"]
MfaPolicy = Literal["always", "never"]


# ----------------------------------------------------------------- internal state


class _HttpError(Exception):
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


def _invalid_request(description: str) -> _HttpError:
    return _HttpError(400, "invalid_request", description)


@define
class _Bucket:
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
class _Client:
    client_id: str
    secret: str | None = field(repr=False)
    grant_types: frozenset[str] | None
    trust_forwarded_for: bool


@define
class _Authenticator:
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
class _User:
    username: str
    user_id: str
    connections: set[str]
    password: str | None = field(repr=False)
    email: str | None
    phone_number: str | None
    mfa_failures: _Bucket
    sms_sends: _Bucket
    blocked: bool = False
    failures: int = 0
    authenticators: list[_Authenticator] = field(factory=list)
    recovery_code: str | None = field(default=None, repr=False)
    associated_once: bool = False

    def active(self) -> list[_Authenticator]:
        return [a for a in self.authenticators if a.active and a.type != "recovery-code"]


@define
class _PendingCode:
    connection: str
    code: str | None = field(repr=False)
    expires_at: float
    attempts_left: int


@define
class _MfaSession:
    token: str = field(repr=False)
    username: str
    client_id: str
    audience: str | None
    scope: str | None
    expires_at: float


@define
class _Oob:
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
class _AccessToken:
    username: str
    client_id: str
    audience: str | None
    scopes: frozenset[str]
    expires_at: float


@define
class _RefreshToken:
    username: str
    client_id: str
    audience: str | None
    scope: str | None


@define
class _Request:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes = field(repr=False)
    client_ip: str
    now: float


# ----------------------------------------------------------------- helpers


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _loose_parse(headers: Mapping[str, str], raw: bytes) -> dict[str, object] | None:
    """Parse a JSON or form body leniently, for fault matching and the request log."""
    ctype = headers.get("content-type", "").lower()
    if not raw:
        return None
    if ctype.startswith("application/x-www-form-urlencoded"):
        try:
            return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except (UnicodeDecodeError, ValueError):
            return None
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _redact(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): (_REDACTED if k in _SECRET_KEYS else _redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def _normalise_address(address: str) -> str:
    return address.strip().lower() if "@" in address else address.strip()


class Auth0Emulator:
    """An in-memory, deterministic Auth0 tenant for the passwordless + MFA endpoints.

    See the module docstring for the choices made where Auth0's behaviour is not
    documented. Every public method is thread-safe.
    """

    def __init__(
        self,
        domain: str = "tenant.example.auth0.com",
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        mfa_policy: MfaPolicy = "always",
        push_poll_interval: float = 5.0,
        seed: int | None = None,
        tenant_name: str | None = None,
        mfa_requirements: bool = False,
        list_type_field: bool = False,
    ) -> None:
        """Create an empty tenant.

        ``mfa_policy`` "always" answers every first factor with ``mfa_required``;
        "never" issues tokens unless the audience is the MFA API and the user has an
        active non-email factor. ``seed`` makes every code and token deterministic.
        ``tenant_name`` is the issuer shown in ``otpauth://`` URIs (default: the first
        label of ``domain``). ``mfa_requirements`` adds the (early-access)
        ``mfa_requirements`` object to ``mfa_required``; ``list_type_field`` adds the
        newer ``type`` field to ``GET /mfa/authenticators`` items.
        """
        if mfa_policy not in ("always", "never"):
            raise ValueError("mfa_policy must be 'always' or 'never'")
        self.domain = domain
        self.mfa_policy: MfaPolicy = mfa_policy
        self.push_poll_interval = float(push_poll_interval)
        self.push_script = PushScript()
        self.tenant_name = tenant_name or domain.split(".", 1)[0]
        self.mfa_requirements = mfa_requirements
        self.list_type_field = list_type_field
        self._clock = clock
        self._sleep = sleep
        self._rng: random.Random | None = random.Random(seed) if seed is not None else None
        self._lock = threading.Lock()
        self._clients: dict[str, _Client] = {}
        self._users: dict[str, _User] = {}
        self._pending_ids: dict[str, str] = {}
        self._codes: dict[tuple[str, str], _PendingCode] = {}
        self._sessions: dict[str, _MfaSession] = {}
        self._oobs: dict[str, _Oob] = {}
        self._access: dict[str, _AccessToken] = {}
        self._refresh: dict[str, _RefreshToken] = {}
        self._outbox: list[OutboxMessage] = []
        self._requests: list[RequestRecord] = []
        self._issued: set[str] = set()
        self._faults: list[list[Any]] = []  # [Fault, remaining: int | None]
        self._limits: dict[str, tuple[int, float]] = {"/passwordless/start": (50, 3600.0)}
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def __repr__(self) -> str:
        """Summarise the tenant without any secret."""
        return (
            f"Auth0Emulator(domain={self.domain!r}, mfa_policy={self.mfa_policy!r}, "
            f"clients={len(self._clients)}, users={len(self._users)})"
        )

    # ------------------------------------------------------------- configuration

    @property
    def mfa_audience(self) -> str:
        """The MFA API audience, ``https://<domain>/mfa/``."""
        return f"https://{self.domain}/mfa/"

    @property
    def base_url(self) -> str:
        """The tenant's nominal base URL, ``https://<domain>`` (for in-process clients)."""
        return f"https://{self.domain}"

    def add_client(
        self,
        client_id: str,
        client_secret: str | None = None,
        *,
        grant_types: Iterable[str] | None = None,
        trust_forwarded_for: bool = False,
    ) -> None:
        """Register an application: confidential with a secret, public without one.

        ``grant_types`` limits the grants it may use (default: all supported);
        ``trust_forwarded_for`` honours ``auth0-forwarded-for`` when the secret is used.
        """
        with self._lock:
            self._clients[client_id] = _Client(
                client_id,
                client_secret,
                frozenset(grant_types) if grant_types is not None else None,
                trust_forwarded_for,
            )
            if client_secret:
                self._issued.add(client_secret)

    def add_password_user(
        self,
        username: str,
        password: str,
        *,
        realm: str = "Username-Password-Authentication",
        email: str | None = None,
    ) -> UserInfo:
        """Create a database-connection user that can log in with the password grants."""
        with self._lock:
            user = self._ensure_user(username, realm, prefix="auth0")
            user.password = password
            if email is not None:
                user.email = email
            self._issued.add(password)
            return self._user_info(user)

    def add_passwordless_user(self, address: str, *, connection: str | None = None) -> UserInfo:
        """Create a passwordless user (``sms`` for a phone number, ``email`` otherwise)."""
        conn = connection or ("email" if "@" in address else "sms")
        with self._lock:
            return self._user_info(self._ensure_user(_normalise_address(address), conn))

    def enroll(
        self,
        username: str,
        kind: Literal["sms", "voice", "email", "push", "otp"],
        *,
        phone_number: str | None = None,
        email: str | None = None,
        active: bool = True,
        recovery_code: bool = True,
    ) -> AuthenticatorInfo:
        """Seed an authenticator directly, as if associated (and confirmed when ``active``).

        sms/voice create the pair, push its totp twin, otp a TOTP with a secret.
        With ``recovery_code`` the user also gets a recovery code if it has none
        (read it with :meth:`recovery_code_of`).
        """
        with self._lock:
            user = self._get_user(username)
            now = self._clock()
            created = self._create_authenticators(
                user,
                "totp" if kind == "otp" else kind,
                now,
                phone_number=phone_number,
                email=email or (user.email if kind == "email" else None),
            )
            for a in created:
                a.active = active
            if recovery_code and user.recovery_code is None:
                self._give_recovery_code(user, now)
                user.associated_once = True
            if active:
                self._activate_recovery(user)
            return created[0].info()

    def rate_limit(self, endpoint: str, limit: int | None, per_seconds: float = 3600.0) -> None:
        """Configure the per-IP token bucket of ``endpoint`` (``None`` disables it).

        ``/passwordless/start`` defaults to 50 per 3600 s (burst 50).
        """
        with self._lock:
            if limit is None:
                self._limits.pop(endpoint, None)
            else:
                if limit < 1 or per_seconds <= 0:
                    raise ValueError("limit must be >= 1 and per_seconds > 0")
                self._limits[endpoint] = (limit, float(per_seconds))
            for key in [k for k in self._buckets if k[0] == endpoint]:
                del self._buckets[key]

    def add_fault(self, fault: Fault) -> None:
        """Inject a fault; faults are matched in the order they were added."""
        with self._lock:
            self._faults.append([fault, fault.times])

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self._lock:
            self._faults.clear()

    # ------------------------------------------------------------- inspection

    @property
    def outbox(self) -> list[OutboxMessage]:
        """Every message sent so far, oldest first (a copy)."""
        with self._lock:
            return list(self._outbox)

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request handled so far, oldest first, secrets redacted (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def users(self) -> dict[str, UserInfo]:
        """A snapshot of the tenant's users, keyed by username."""
        with self._lock:
            return {name: self._user_info(u) for name, u in self._users.items()}

    def last_code(self, to: str, *, purpose: Literal["passwordless", "mfa"] | None = None) -> str:
        """Return the code of the latest message sent to ``to`` (optionally of one purpose).

        Raises ``LookupError`` when nothing was sent, or when that latest message
        was a magic link (which carries no usable code).
        """
        wanted = _normalise_address(to)
        with self._lock:
            for msg in reversed(self._outbox):
                if msg.to == wanted and (purpose is None or msg.purpose == purpose):
                    if msg.code is None:
                        raise LookupError(f"the latest message to {to} was a link, not a code")
                    return msg.code
        raise LookupError(f"no code was sent to {to}")

    def last_link(self, to: str) -> str:
        """Return the magic link of the latest link message to ``to`` (``LookupError`` if none)."""
        wanted = _normalise_address(to)
        with self._lock:
            for msg in reversed(self._outbox):
                if msg.to == wanted and msg.link is not None:
                    return msg.link
        raise LookupError(f"no link was sent to {to}")

    def authenticators_of(self, username: str) -> list[AuthenticatorInfo]:
        """Snapshot of a user's authenticators, in enrollment order (``KeyError`` if unknown)."""
        with self._lock:
            return [a.info() for a in self._get_user(username).authenticators]

    def recovery_code_of(self, username: str) -> str | None:
        """The user's current recovery code (None when it has none)."""
        with self._lock:
            return self._get_user(username).recovery_code

    def issued_secrets(self) -> set[str]:
        """Every secret value the tenant issued or was configured with.

        Codes, magic-link tokens, mfa_tokens, oob_codes, access/id/refresh tokens,
        recovery codes, TOTP secrets, plus client secrets and user passwords, so
        that a test can assert none of them leaked into logs or reprs.
        """
        with self._lock:
            return set(self._issued)

    def totp_code(self, secret: str, at: float | None = None) -> str:
        """The RFC 6238 code (SHA1, 6 digits, 30 s) of ``secret`` at ``at`` (default: now)."""
        when = self._clock() if at is None else at
        return str(_totp(secret).at(int(when)))

    # ------------------------------------------------------------- pushes

    def approve_push(self, oob_code: str | None = None) -> None:
        """Approve the most recent pending push now (or the one with ``oob_code``)."""
        self._settle_push(oob_code, "approved")

    def reject_push(self, oob_code: str | None = None) -> None:
        """Reject the most recent pending push now (or the one with ``oob_code``)."""
        self._settle_push(oob_code, "rejected")

    def _settle_push(self, oob_code: str | None, state: Literal["approved", "rejected"]) -> None:
        with self._lock:
            now = self._clock()
            if oob_code is not None:
                oob = self._oobs.get(oob_code)
                if oob is None or oob.channel != "auth0":
                    raise LookupError("no push with that oob_code")
                oob.state = state
                return
            for oob in reversed(list(self._oobs.values())):
                if (
                    oob.channel == "auth0"
                    and oob.state == "pending"
                    and not oob.used
                    and oob.expires_at > now
                ):
                    oob.state = state
                    return
        raise LookupError("no pending push")

    # ------------------------------------------------------------- adapters

    def transport(self, client_ip: str = "127.0.0.1") -> httpx.BaseTransport:
        """An in-process ``httpx`` transport that calls :meth:`handle`."""
        from flowengine.testing._transport import EmulatorTransport

        return EmulatorTransport(self, client_ip=client_ip)

    def async_transport(self, client_ip: str = "127.0.0.1") -> httpx.AsyncBaseTransport:
        """An in-process async ``httpx`` transport that calls :meth:`handle`."""
        from flowengine.testing._transport import AsyncEmulatorTransport

        return AsyncEmulatorTransport(self, client_ip=client_ip)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
        """Serve this tenant over real HTTP on ``host:port`` (started; stop it or use ``with``)."""
        from flowengine.testing._server import EmulatorServer

        server = EmulatorServer(self, host=host, port=port)
        server.start()
        return server

    # ------------------------------------------------------------- entry point

    def handle(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        client_ip: str = "127.0.0.1",
    ) -> EmulatorResponse:
        """Answer one HTTP request like the tenant would (faults included)."""
        hdrs = {k.lower(): v for k, v in headers.items()}
        route = urlsplit(path).path or "/"
        with self._lock:
            req = _Request(method.upper(), route, hdrs, bytes(body), client_ip, self._clock())
            fault = self._take_fault(req)
            if fault is not None and fault.kind in PRE_PROCESSING_FAULTS:
                resp = self._pre_fault(fault, req.now)
            else:
                resp = self._dispatch(req)
                if fault is not None:
                    resp = self._post_fault(fault, resp)
            self._record(req, resp)
            return resp

    # ------------------------------------------------------------- faults

    def _take_fault(self, req: _Request) -> Fault | None:
        parsed: dict[str, object] | None = None
        for entry in self._faults:
            fault: Fault = entry[0]
            if not req.path.startswith(fault.endpoint):
                continue
            if fault.method is not None and fault.method.upper() != req.method:
                continue
            if fault.grant_type is not None:
                if parsed is None:
                    parsed = _loose_parse(req.headers, req.raw) or {}
                if parsed.get("grant_type") != fault.grant_type:
                    continue
            if entry[1] is not None:
                entry[1] -= 1
                if entry[1] <= 0:
                    self._faults.remove(entry)
            return fault
        return None

    def _pre_fault(self, fault: Fault, now: float) -> EmulatorResponse:
        kind = fault.kind
        if kind == "status_500":
            body = {"error": "server_error", "error_description": "Internal Server Error"}
            return EmulatorResponse(500, {"content-type": _JSON_CT}, _dumps(body))
        if kind == "status_502_html":
            html = (
                b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
            )
            return EmulatorResponse(502, {"content-type": "text/html"}, html)
        if kind == "status_503":
            retry = fault.seconds if fault.seconds is not None else 3
            body = {
                "error": "temporarily_unavailable",
                "error_description": "The service is temporarily unavailable.",
            }
            headers = {"content-type": _JSON_CT, "retry-after": str(math.ceil(retry))}
            return EmulatorResponse(503, headers, _dumps(body))
        if kind == "status_429":
            wait = fault.seconds if fault.seconds is not None else 60.0
            headers = {
                "content-type": _JSON_CT,
                "x-ratelimit-limit": "50",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(math.ceil(now + wait)),
            }
            return EmulatorResponse(429, headers, _dumps(_too_many_requests()))
        seconds = fault.seconds if fault.seconds is not None else 30.0
        # connect_refused / connect_timeout: nothing reached the tenant.
        return EmulatorResponse(0, {}, b"", transport_fault=kind, delay=seconds)

    def _post_fault(self, fault: Fault, resp: EmulatorResponse) -> EmulatorResponse:
        kind = fault.kind
        json_headers = {**resp.headers, "content-type": _JSON_CT}
        if kind == "empty_200":
            return EmulatorResponse(200, json_headers, b"")
        if kind == "non_json_200":
            return EmulatorResponse(200, json_headers, b"upstream answered: OK")
        if kind == "truncated_json":
            return EmulatorResponse(200, json_headers, resp.body[: len(resp.body) // 2])
        if kind == "json_array":
            return EmulatorResponse(200, json_headers, b"[]")
        if kind == "missing_field":
            return EmulatorResponse(resp.status, resp.headers, _drop_field(resp.body, fault))
        if kind == "wrong_content_type":
            headers = {**resp.headers, "content-type": "text/plain; charset=utf-8"}
            return EmulatorResponse(resp.status, headers, resp.body)
        if kind == "delay":
            seconds = fault.seconds if fault.seconds is not None else 1.0
            return EmulatorResponse(resp.status, resp.headers, resp.body, delay=seconds)
        # read_timeout / reset: processed, then the wire fails (silence, or a cut body).
        seconds = fault.seconds if fault.seconds is not None else 30.0
        return EmulatorResponse(
            resp.status,
            resp.headers,
            resp.body,
            transport_fault=kind,
            delay=seconds if kind == "read_timeout" else 0.0,
        )

    # ------------------------------------------------------------- logging

    def _record(self, req: _Request, resp: EmulatorResponse) -> None:
        headers = {k: (_REDACTED if k in _SECRET_HEADERS else v) for k, v in req.headers.items()}
        parsed = _loose_parse(req.headers, req.raw)
        body = _redact(parsed) if parsed is not None else None
        self._requests.append(
            RequestRecord(
                method=req.method,
                path=req.path,
                headers=headers,
                body=body if isinstance(body, dict) else None,
                status=None if resp.transport_fault else resp.status,
                client_ip=req.client_ip,
                at=req.now,
                fault=resp.transport_fault,
            )
        )

    # ------------------------------------------------------------- routing

    def _dispatch(self, req: _Request) -> EmulatorResponse:
        routes: dict[str, dict[str, Callable[[_Request], EmulatorResponse]]] = {
            "/passwordless/start": {"POST": self._passwordless_start},
            "/oauth/token": {"POST": self._oauth_token},
            "/mfa/associate": {"POST": self._mfa_associate},
            "/mfa/challenge": {"POST": self._mfa_challenge},
            "/mfa/authenticators": {"GET": self._mfa_list},
        }
        methods = routes.get(req.path)
        if methods is None and req.path.startswith("/mfa/authenticators/"):
            methods = {"DELETE": self._mfa_delete}
        if methods is None:
            return self._error(_HttpError(404, "not_found", "Not Found"))
        handler = methods.get(req.method)
        if handler is None:
            err = _HttpError(
                405,
                "method_not_allowed",
                f"Method {req.method} is not allowed on {req.path}.",
                headers={"allow": ", ".join(sorted(methods))},
            )
            return self._error(err)
        rl_headers: dict[str, str] = {}
        try:
            rl_headers = self._rate_check(req)
            resp = handler(req)
        except _HttpError as exc:
            exc.headers = {**rl_headers, **exc.headers}
            return self._error(exc)
        if rl_headers:
            resp = EmulatorResponse(resp.status, {**resp.headers, **rl_headers}, resp.body)
        return resp

    @staticmethod
    def _json(
        status: int, payload: object, headers: Mapping[str, str] | None = None
    ) -> EmulatorResponse:
        return EmulatorResponse(
            status, {"content-type": _JSON_CT, **(headers or {})}, _dumps(payload)
        )

    def _error(self, exc: _HttpError) -> EmulatorResponse:
        return self._json(exc.status, exc.payload, exc.headers)

    # ------------------------------------------------------------- rate limits

    def _effective_ip(self, req: _Request) -> str:
        forwarded = req.headers.get("auth0-forwarded-for")
        if not forwarded:
            return req.client_ip
        body = _loose_parse(req.headers, req.raw) or {}
        client = self._clients.get(str(body.get("client_id", "")))
        secret = body.get("client_secret")
        if (
            client is not None
            and client.trust_forwarded_for
            and client.secret is not None
            and isinstance(secret, str)
            and hmac.compare_digest(secret, client.secret)
        ):
            return forwarded.split(",")[0].strip()
        return req.client_ip

    def _rate_check(self, req: _Request) -> dict[str, str]:
        limit = self._limits.get(req.path)
        if limit is None:
            return {}
        ip = self._effective_ip(req)
        bucket = self._buckets.get((req.path, ip))
        if bucket is None:
            bucket = _Bucket(limit[0], limit[1], float(limit[0]), req.now)
            self._buckets[(req.path, ip)] = bucket
        if not bucket.take(req.now):
            raise _HttpError(
                429,
                "too_many_requests",
                str(_too_many_requests()["error_description"]),
                headers=bucket.headers(req.now),
            )
        return bucket.headers(req.now)

    # ------------------------------------------------------------- randomness

    def _rand(self, alphabet: str, n: int) -> str:
        if self._rng is not None:
            return "".join(self._rng.choices(alphabet, k=n))
        return "".join(secrets.choice(alphabet) for _ in range(n))

    def _secret(self, value: str) -> str:
        self._issued.add(value)
        return value

    def _digits(self) -> str:
        return self._secret(self._rand(string.digits, 6))

    def _iron(self, now: float, ttl: float) -> str:
        """An opaque ``Fe26.2*...`` sealed-looking string (mfa_token, oob_code)."""
        hexd = "0123456789abcdef"
        return self._secret(
            f"Fe26.2*SERVER_{int(now)}*{self._rand(hexd, 64)}*{self._rand(_B64URL, 22)}*"
            f"{self._rand(_B64URL, 214)}*{int((now + ttl) * 1000)}*{self._rand(hexd, 64)}*"
            f"{self._rand(_B64URL, 43)}"
        )

    def _jwt(self, claims: Mapping[str, object]) -> str:
        header = _b64url(_dumps({"alg": "RS256", "typ": "JWT", "kid": "flowengine-emulator"}))
        payload = _b64url(_dumps({**claims, "jti": self._rand(_ALNUM, 16)}))
        return self._secret(f"{header}.{payload}.{self._rand(_B64URL, 342)}")

    def _dev_id(self) -> str:
        return "dev_" + self._rand(_ALNUM, 16)

    # ------------------------------------------------------------- users

    def _ensure_user(self, username: str, connection: str, *, prefix: str | None = None) -> _User:
        user = self._users.get(username)
        now = self._clock()
        if user is None:
            hex_id = self._pending_ids.pop(username, None) or self._rand("0123456789abcdef", 24)
            user = _User(
                username=username,
                user_id=f"{prefix or connection}|{hex_id}",
                connections={connection},
                password=None,
                email=username if "@" in username else None,
                phone_number=username if _PHONE_RE.match(username) else None,
                mfa_failures=_Bucket(10, 3600.0, 10.0, now),
                sms_sends=_Bucket(10, 36000.0, 10.0, now),
            )
            self._users[username] = user
        user.connections.add(connection)
        return user

    def _get_user(self, username: str) -> _User:
        user = self._users.get(_normalise_address(username)) or self._users.get(username)
        if user is None:
            raise KeyError(username)
        return user

    @staticmethod
    def _user_info(user: _User) -> UserInfo:
        return UserInfo(
            username=user.username,
            user_id=user.user_id,
            connections=frozenset(user.connections),
            email=user.email,
            phone_number=user.phone_number,
            blocked=user.blocked,
            has_recovery_code=user.recovery_code is not None,
        )

    def _give_recovery_code(self, user: _User, now: float) -> str:
        code = self._secret(self._rand(_UPPER_ALNUM, 24))
        user.recovery_code = code
        if not any(a.type == "recovery-code" for a in user.authenticators):
            user.authenticators.append(
                _Authenticator(
                    id=f"recovery-code|{self._dev_id()}",
                    type="recovery-code",
                    group="recovery-code",
                    active=False,
                    created_at=now,
                )
            )
        return code

    @staticmethod
    def _activate_recovery(user: _User) -> None:
        for a in user.authenticators:
            if a.type == "recovery-code":
                a.active = True

    def _create_authenticators(
        self,
        user: _User,
        kind: AuthKind,
        now: float,
        *,
        phone_number: str | None = None,
        email: str | None = None,
    ) -> list[_Authenticator]:
        created: list[_Authenticator] = []
        group = self._dev_id()
        if kind in ("sms", "voice"):
            if phone_number is None or not _PHONE_RE.match(phone_number):
                raise ValueError("sms/voice need an E.164 phone_number")
            first, second = (kind, "voice" if kind == "sms" else "sms")
            for k in (first, second):
                created.append(
                    _Authenticator(
                        id=f"{k}|{group}",
                        type=k,  # type: ignore[arg-type]
                        group=group,
                        active=False,
                        created_at=now,
                        phone_number=phone_number,
                    )
                )
        elif kind == "email":
            if email is None:
                raise ValueError("email authenticators need an email")
            created.append(
                _Authenticator(
                    id=f"email|{group}",
                    type="email",
                    group=group,
                    active=False,
                    created_at=now,
                    email=email,
                )
            )
        elif kind == "push":
            created.append(
                _Authenticator(
                    id=f"push|{group}", type="push", group=group, active=False, created_at=now
                )
            )
            created.append(
                _Authenticator(
                    id=f"totp|{self._dev_id()}",
                    type="totp",
                    group=group,
                    active=False,
                    created_at=now,
                    secret=self._secret(self._rand(_B32, 32)),
                )
            )
        elif kind == "totp":
            created.append(
                _Authenticator(
                    id=f"totp|{group}",
                    type="totp",
                    group=group,
                    active=False,
                    created_at=now,
                    secret=self._secret(self._rand(_B32, 32)),
                )
            )
        else:
            raise ValueError(f"cannot enroll {kind!r}")
        user.authenticators.extend(created)
        return created

    def _send(
        self,
        channel: Literal["sms", "voice", "email"],
        to: str,
        code: str | None,
        purpose: Literal["passwordless", "mfa"],
        now: float,
        link: str | None = None,
    ) -> None:
        self._outbox.append(
            OutboxMessage(channel, _normalise_address(to), code, purpose, now, link)
        )

    # ------------------------------------------------------------- body parsing

    @staticmethod
    def _parse_body(
        req: _Request, *, allow_form: bool, err: Callable[[str], _HttpError]
    ) -> dict[str, object]:
        ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/json":
            try:
                value = json.loads(req.raw)
            except (ValueError, UnicodeDecodeError):
                raise err("The request body is not valid JSON.") from None
            if not isinstance(value, dict):
                raise err("The request body must be a JSON object.")
            return value
        if ctype == "application/x-www-form-urlencoded" and allow_form:
            try:
                pairs = parse_qsl(
                    req.raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(req.raw)
                )
            except (UnicodeDecodeError, ValueError):
                raise err("The request body is not valid form data.") from None
            out: dict[str, object] = {}
            for key, value in pairs:
                if key in out:
                    raise err(f"Duplicate parameter: {key}")
                out[key] = value
            return out
        allowed = "application/json" + (
            " or application/x-www-form-urlencoded" if allow_form else ""
        )
        raise err(f"Unsupported Content-Type; expected {allowed}.")

    @staticmethod
    def _str(
        body: Mapping[str, object],
        name: str,
        *,
        required: bool = True,
        err: Callable[[str], _HttpError] = _invalid_request,
    ) -> str | None:
        value = body.get(name)
        if value is None or value == "":
            if required:
                raise err(f"Missing required parameter: {name}")
            return None
        if not isinstance(value, str):
            raise err(f"Invalid parameter type: {name} must be a string")
        return value

    def _req_str(self, body: Mapping[str, object], name: str) -> str:
        value = self._str(body, name)
        assert value is not None
        return value

    @staticmethod
    def _scope(body: Mapping[str, object]) -> str | None:
        value = body.get("scope")
        if value is None or value == "":
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return " ".join(str(v) for v in value)
        if not isinstance(value, str):
            raise _HttpError(400, "invalid_scope", "Scope must be an array or a string")
        return value

    # ------------------------------------------------------------- client auth

    def _client(
        self,
        req: _Request,
        body: Mapping[str, object],
        *,
        basic: bool = True,
        missing: Callable[[], _HttpError] | None = None,
    ) -> _Client:
        basic_id: str | None = None
        basic_secret: str | None = None
        auth = req.headers.get("authorization", "")
        if basic and auth[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
                basic_id, _, basic_secret = decoded.partition(":")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise _HttpError(401, "invalid_client", "Malformed Basic authorization.") from None
        client_id = body.get("client_id")
        if client_id is not None and not isinstance(client_id, str):
            raise _HttpError(401, "invalid_client", "Invalid client_id.")
        if basic_id is not None and client_id and client_id != basic_id:
            raise _HttpError(
                401, "invalid_client", "client_id does not match the Basic credentials."
            )
        client_id = client_id or basic_id
        if not client_id:
            raise (
                missing()
                if missing
                else _HttpError(401, "invalid_client", "Missing required parameter: client_id")
            )
        if "client_assertion" in body:
            raise _HttpError(
                401, "invalid_client", "client_assertion is not supported by the emulator."
            )
        client = self._clients.get(client_id)
        if client is None:
            raise _HttpError(401, "invalid_client", "Unknown client.")
        secret = body.get("client_secret", basic_secret)
        if client.secret is None:
            if secret:
                raise _HttpError(
                    401, "invalid_client", "This client is public: do not send a client_secret."
                )
            return client
        if not isinstance(secret, str) or not secret:
            raise _HttpError(401, "invalid_client", "Client authentication is required.")
        if not hmac.compare_digest(secret.encode(), client.secret.encode()):
            raise _HttpError(401, "invalid_client", "Unauthorized")
        return client

    # ------------------------------------------------------------- /passwordless/start

    def _passwordless_start(self, req: _Request) -> EmulatorResponse:
        def bad(code: str) -> Callable[[str], _HttpError]:
            return lambda msg: _HttpError(400, f"bad.{code}", msg)

        body = self._parse_body(req, allow_form=False, err=bad("request"))
        self._client(
            req,
            body,
            missing=lambda: _HttpError(
                400, "bad.client_id", "Missing required property: client_id"
            ),
        )
        extra = sorted(k for k in body if k not in _PASSWORDLESS_KEYS)
        if extra:
            raise _HttpError(
                400, "bad.request", "the following properties are not allowed: " + ", ".join(extra)
            )
        connection = body.get("connection")
        if connection is None or connection == "":
            raise _HttpError(400, "bad.connection", "Missing required property: connection")
        if connection not in ("sms", "email"):
            raise _HttpError(400, "bad.connection", "Connection does not exist")
        auth_params = body.get("authParams")
        if auth_params is not None and not isinstance(auth_params, dict):
            raise _HttpError(400, "bad.authParams", "authParams must be an object")
        send = body.get("send")
        if send is not None and send not in _SEND_VALUES:
            raise _HttpError(400, "bad.request", "send must be one of: " + ", ".join(_SEND_VALUES))
        now = req.now
        if connection == "sms":
            phone = body.get("phone_number")
            if phone is None or phone == "":
                raise _HttpError(400, "bad.phone_number", "Missing required property: phone_number")
            if not isinstance(phone, str) or not _PHONE_RE.match(phone):
                raise _HttpError(
                    400,
                    "bad.phone_number",
                    "Object didn't pass validation for format phone_number: "
                    "String does not match pattern ^\\+[0-9]{1,15}$",
                )
            address = phone
            link = send is not None and send != "code"  # omitted send → a code for SMS
        else:
            email = body.get("email")
            if email is None or email == "":
                raise _HttpError(400, "bad.email", "Missing required property: email")
            if not isinstance(email, str) or not _EMAIL_RE.match(email):
                raise _HttpError(400, "bad.email", "Invalid email address.")
            address = _normalise_address(email)
            link = send != "code"  # omitted send → a LINK for email
        code = self._digits()
        key = (connection, address)
        channel: Literal["sms", "email"] = "sms" if connection == "sms" else "email"
        if link:
            client_id = str(body.get("client_id"))
            url = (
                f"https://{self.domain}/passwordless/verify_redirect?scope=openid"
                f"&response_type=code&connection={connection}&client_id={quote(client_id)}"
                f"&{'email' if connection == 'email' else 'phone_number'}={quote(address)}"
                f"&verification_code={code}"
            )
            # A link's code is only usable through the browser redirect, never the OTP grant.
            self._codes[key] = _PendingCode(connection, None, now + PASSWORDLESS_CODE_TTL, 0)
            self._send(channel, address, None, "passwordless", now, link=url)
        else:
            self._codes[key] = _PendingCode(
                connection, code, now + PASSWORDLESS_CODE_TTL, PASSWORDLESS_ATTEMPTS
            )
            self._send(channel, address, code, "passwordless", now)
        user = self._users.get(address)
        if user is not None:
            hex_id = user.user_id.split("|", 1)[1]
        else:
            hex_id = self._pending_ids.setdefault(address, self._rand("0123456789abcdef", 24))
        if connection == "sms":
            payload = {"_id": hex_id, "phone_number": address, "phone_verified": user is not None}
        else:
            payload = {"_id": hex_id, "email": address, "email_verified": user is not None}
        return self._json(200, payload)

    # ------------------------------------------------------------- /oauth/token

    def _oauth_token(self, req: _Request) -> EmulatorResponse:
        body = self._parse_body(req, allow_form=True, err=_invalid_request)
        grant = self._req_str(body, "grant_type")
        client = self._client(req, body)
        if grant not in SUPPORTED_GRANTS or (
            client.grant_types is not None and grant not in client.grant_types
        ):
            raise _HttpError(
                403,
                "unauthorized_client",
                f"Grant type '{grant}' not allowed for the client.",
                extra={"error_uri": UNAUTHORIZED_CLIENT_URI},
            )
        if grant == GRANT_PASSWORDLESS_OTP:
            return self._grant_passwordless(req, body, client)
        if grant in (GRANT_PASSWORD, GRANT_PASSWORD_REALM):
            return self._grant_password(req, body, client, realm_required=grant != GRANT_PASSWORD)
        if grant == GRANT_REFRESH_TOKEN:
            return self._grant_refresh(req, body, client)
        session = self._session(body, client, req.now)
        if grant == GRANT_MFA_OOB:
            return self._grant_mfa_oob(req, body, session)
        if grant == GRANT_MFA_OTP:
            return self._grant_mfa_otp(req, body, session)
        return self._grant_mfa_recovery(req, body, session)

    def _grant_passwordless(
        self, req: _Request, body: Mapping[str, object], client: _Client
    ) -> EmulatorResponse:
        realm = self._req_str(body, "realm")
        if realm not in ("sms", "email"):
            raise _invalid_request("Unknown realm: use 'sms' or 'email'.")
        username = _normalise_address(self._req_str(body, "username"))
        otp = self._req_str(body, "otp")
        wrong = _HttpError(
            403,
            "invalid_grant",
            "Wrong phone number or verification code."
            if realm == "sms"
            else "Wrong email or verification code.",
        )
        pending = self._codes.get((realm, username))
        if pending is None or pending.code is None or pending.expires_at <= req.now:
            raise wrong
        if not hmac.compare_digest(otp.encode(), pending.code.encode()):
            pending.attempts_left -= 1
            if pending.attempts_left <= 0:
                del self._codes[(realm, username)]
            raise wrong
        del self._codes[(realm, username)]
        user = self._ensure_user(username, realm)
        return self._first_factor_done(req, body, client, user)

    def _grant_password(
        self, req: _Request, body: Mapping[str, object], client: _Client, *, realm_required: bool
    ) -> EmulatorResponse:
        username = self._req_str(body, "username")
        password = self._req_str(body, "password")
        realm = self._str(body, "realm", required=realm_required)
        user = self._users.get(username) or self._users.get(_normalise_address(username))
        blocked = _HttpError(
            429,
            "too_many_attempts",
            "Your account has been blocked after multiple consecutive login attempts.",
        )
        if user is not None and user.blocked:
            raise blocked
        ok = (
            user is not None
            and user.password is not None
            and (realm is None or realm in user.connections)
            and hmac.compare_digest(password.encode(), user.password.encode())
        )
        if not ok:
            if user is not None:
                user.failures += 1
                if user.failures >= BRUTE_FORCE_LIMIT:
                    user.blocked = True
                    raise blocked
            raise _HttpError(403, "invalid_grant", "Wrong email or password.")
        assert user is not None
        user.failures = 0
        return self._first_factor_done(req, body, client, user)

    def _first_factor_done(
        self, req: _Request, body: Mapping[str, object], client: _Client, user: _User
    ) -> EmulatorResponse:
        audience = self._str(body, "audience", required=False)
        scope = self._scope(body)
        now = req.now
        needs_mfa = self.mfa_policy == "always" or (
            audience == self.mfa_audience and any(a.type != "email" for a in user.active())
        )
        if not needs_mfa:
            return self._json(200, self._tokens(client.client_id, user, audience, scope, now))
        token = self._iron(now, MFA_TOKEN_TTL)
        self._sessions[token] = _MfaSession(
            token, user.username, client.client_id, audience, scope, now + MFA_TOKEN_TTL
        )
        payload: dict[str, object] = {
            "error": "mfa_required",
            "error_description": "Multifactor authentication required",
            "mfa_token": token,
        }
        if self.mfa_requirements:
            active = sorted({_LIST_TYPE[a.type] for a in user.active()})
            if active:
                if user.recovery_code is not None:
                    active.append("recovery-code")
                payload["mfa_requirements"] = {"challenge": [{"type": t} for t in active]}
            else:
                kinds = ("otp", "push-notification", "phone", "email")
                payload["mfa_requirements"] = {"enroll": [{"type": t} for t in kinds]}
        return self._json(403, payload)

    def _tokens(
        self,
        client_id: str,
        user: _User,
        audience: str | None,
        scope: str | None,
        now: float,
        *,
        refresh_token: str | None = None,
    ) -> dict[str, object]:
        mfa = audience == self.mfa_audience
        if mfa and scope is None:
            scope = MFA_SCOPES
        scopes = frozenset((scope or "").split())
        ttl = MFA_ACCESS_TOKEN_TTL if mfa else ACCESS_TOKEN_TTL
        iss = f"https://{self.domain}/"
        access = self._jwt(
            {
                "iss": iss,
                "sub": user.user_id,
                "aud": audience or f"https://{self.domain}/userinfo",
                "azp": client_id,
                "iat": int(now),
                "exp": int(now) + ttl,
                "scope": scope or "",
            }
        )
        self._access[access] = _AccessToken(user.username, client_id, audience, scopes, now + ttl)
        out: dict[str, object] = {"access_token": access}
        if "openid" in scopes:
            claims: dict[str, object] = {
                "iss": iss,
                "sub": user.user_id,
                "aud": client_id,
                "iat": int(now),
                "exp": int(now) + 36000,
            }
            if user.email:
                claims["email"] = user.email
            if user.phone_number:
                claims["phone_number"] = user.phone_number
            out["id_token"] = self._jwt(claims)
        if "offline_access" in scopes:
            if refresh_token is None:
                refresh_token = self._secret("v1." + self._rand(_B64URL, 64))
                self._refresh[refresh_token] = _RefreshToken(
                    user.username, client_id, audience, scope
                )
            out["refresh_token"] = refresh_token
        if scope is not None:
            out["scope"] = scope
        out["expires_in"] = ttl
        out["token_type"] = "Bearer"
        return out

    def _grant_refresh(
        self, req: _Request, body: Mapping[str, object], client: _Client
    ) -> EmulatorResponse:
        token = self._req_str(body, "refresh_token")
        record = self._refresh.get(token)
        if record is None or record.client_id != client.client_id:
            raise _HttpError(403, "invalid_grant", "Unknown or invalid refresh token.")
        user = self._users.get(record.username)
        if user is None:
            raise _HttpError(
                403,
                "invalid_grant",
                "The refresh_token was generated for a user who doesn't exist anymore.",
            )
        scope = self._scope(body)
        if scope is not None:
            if not set(scope.split()) <= set((record.scope or "").split()):
                raise _HttpError(
                    403,
                    "invalid_scope",
                    "The requested scope exceeds the scope granted by the resource owner.",
                )
        else:
            scope = record.scope
        payload = self._tokens(
            client.client_id, user, record.audience, scope, req.now, refresh_token=token
        )
        return self._json(200, payload)

    # ------------------------------------------------------------- MFA grants

    def _session(self, body: Mapping[str, object], client: _Client, now: float) -> _MfaSession:
        token = self._req_str(body, "mfa_token")
        session = self._sessions.get(token)
        if session is None:
            raise _HttpError(403, "invalid_grant", "Malformed mfa_token")
        if session.expires_at <= now:
            raise _HttpError(403, "expired_token", "mfa_token is expired")
        if session.client_id != client.client_id:
            raise _invalid_request("mfa_token not issued to this client")
        return session

    def _mfa_success(self, session: _MfaSession, now: float, **extra: object) -> EmulatorResponse:
        user = self._users[session.username]
        payload = self._tokens(session.client_id, user, session.audience, session.scope, now)
        payload.update(extra)
        return self._json(200, payload)

    def _check_failure_budget(self, user: _User, now: float) -> None:
        if not user.mfa_failures.has(now):
            raise _invalid_request("Too many failed codes. Wait for some minutes before retrying.")

    def _activate_group(self, user: _User, authenticator_id: str) -> None:
        target = next((a for a in user.authenticators if a.id == authenticator_id), None)
        if target is None:
            return
        for a in user.authenticators:
            if a.group == target.group:
                a.active = True
        self._activate_recovery(user)

    def _grant_mfa_oob(
        self, req: _Request, body: Mapping[str, object], session: _MfaSession
    ) -> EmulatorResponse:
        now = req.now
        code = self._req_str(body, "oob_code")
        oob = self._oobs.get(code)
        if oob is None or oob.used:
            raise _HttpError(403, "invalid_grant", "Malformed oob_code")
        if oob.mfa_token is not None and oob.mfa_token != session.token:
            raise _invalid_request("The oob_code doesn't match the mfa_token")
        if oob.mfa_token is None and oob.username != session.username:
            raise _invalid_request("The oob_code doesn't match the mfa_token")
        user = self._users[oob.username]
        if oob.channel == "auth0":
            return self._poll_push(oob, session, user, now)
        if oob.expires_at <= now:
            raise _HttpError(403, "expired_token", "oob_code is expired")
        binding = self._str(body, "binding_code", required=False)
        if binding is None:
            raise _invalid_request("binding_code is required")
        self._check_failure_budget(user, now)
        assert oob.binding_code is not None
        if not hmac.compare_digest(binding.encode(), oob.binding_code.encode()):
            user.mfa_failures.take(now)
            raise _HttpError(403, "invalid_grant", "Invalid binding_code.")
        oob.used = True
        if oob.enrollment:
            self._activate_group(user, oob.authenticator_id)
        return self._mfa_success(session, now)

    def _poll_push(
        self, oob: _Oob, session: _MfaSession, user: _User, now: float
    ) -> EmulatorResponse:
        rejected = _HttpError(400, "access_denied", "MFA Authorization rejected.")
        if oob.state == "rejected":
            raise rejected
        if oob.state == "pending":
            if oob.expires_at <= now:
                raise _HttpError(403, "expired_token", "oob_code is expired")
            previous, oob.last_poll = oob.last_poll, now
            if previous is not None and now - previous < self.push_poll_interval:
                raise _HttpError(
                    400,
                    "slow_down",
                    f"You are polling faster than allowed. Try again in "
                    f"{math.ceil(self.push_poll_interval)} seconds.",
                )
            if oob.pending_left > 0 or oob.outcome == "never":
                oob.pending_left = max(0, oob.pending_left - 1)
                raise _HttpError(
                    400,
                    "authorization_pending",
                    "Authorization pending: please repeat the request in a few seconds.",
                )
            oob.state = "approved" if oob.outcome == "approve" else "rejected"
            if oob.state == "rejected":
                raise rejected
        oob.used = True
        if oob.enrollment:
            self._activate_group(user, oob.authenticator_id)
        return self._mfa_success(session, now)

    def _grant_mfa_otp(
        self, req: _Request, body: Mapping[str, object], session: _MfaSession
    ) -> EmulatorResponse:
        now = req.now
        otp = self._req_str(body, "otp")
        user = self._users[session.username]
        totps = [a for a in user.authenticators if a.type == "totp" and a.secret]
        if not totps:
            raise _HttpError(
                403, "unsupported_challenge_type", "User is not enrolled with an otp authenticator."
            )
        self._check_failure_budget(user, now)
        for a in totps:
            assert a.secret is not None
            totp = _totp(a.secret)
            for when in (now, now - 30):
                if hmac.compare_digest(otp.encode(), str(totp.at(int(when))).encode()):
                    if not a.active:
                        a.active = True
                        self._activate_recovery(user)
                    return self._mfa_success(session, now)
        user.mfa_failures.take(now)
        raise _HttpError(403, "invalid_grant", "Invalid otp_code.")

    def _grant_mfa_recovery(
        self, req: _Request, body: Mapping[str, object], session: _MfaSession
    ) -> EmulatorResponse:
        now = req.now
        code = self._req_str(body, "recovery_code")
        user = self._users[session.username]
        has_active = any(a.type == "recovery-code" and a.active for a in user.authenticators)
        if user.recovery_code is None or not has_active:
            raise _HttpError(
                403, "unsupported_challenge_type", "User does not have a recovery-code."
            )
        self._check_failure_budget(user, now)
        if not hmac.compare_digest(code.encode(), user.recovery_code.encode()):
            user.mfa_failures.take(now)
            raise _HttpError(403, "invalid_grant", "MFA Authorization rejected.")
        new_code = self._give_recovery_code(user, now)
        return self._mfa_success(session, now, recovery_code=new_code)

    # ------------------------------------------------------------- bearer endpoints

    def _bearer(
        self, req: _Request, need_scope: str, *, allow_mfa_token: bool
    ) -> tuple[_User, _MfaSession | None, _AccessToken | None]:
        auth = req.headers.get("authorization", "")
        if auth[:7].lower() != "bearer " or not auth[7:].strip():
            raise _HttpError(
                401,
                "invalid_token",
                "Missing or malformed Authorization header: expected 'Bearer <token>'.",
                headers={"www-authenticate": 'Bearer error="invalid_token"'},
            )
        token = auth[7:].strip()
        session = self._sessions.get(token)
        if session is not None:
            if session.expires_at <= req.now:
                raise _HttpError(403, "expired_token", "mfa_token is expired")
            if not allow_mfa_token:
                raise _HttpError(
                    403,
                    "insufficient_scope",
                    f"An mfa_token is not enough: use an access token for {self.mfa_audience} "
                    f"with the {need_scope} scope.",
                )
            return self._users[session.username], session, None
        access = self._access.get(token)
        invalid = {"www-authenticate": 'Bearer error="invalid_token"'}
        if access is None:
            raise _HttpError(401, "invalid_token", "Invalid token.", headers=invalid)
        if access.expires_at <= req.now:
            raise _HttpError(401, "invalid_token", "The access token is expired.", headers=invalid)
        if access.audience != self.mfa_audience:
            raise _HttpError(
                401,
                "invalid_token",
                f"The access token's audience is not {self.mfa_audience}.",
                headers=invalid,
            )
        if need_scope not in access.scopes:
            raise _HttpError(
                403, "insufficient_scope", f"Insufficient scope, expected: {need_scope}"
            )
        return self._users[access.username], None, access

    def _mfa_list(self, req: _Request) -> EmulatorResponse:
        user, _, _ = self._bearer(req, "read:authenticators", allow_mfa_token=True)
        items: list[dict[str, object]] = []
        for a in user.authenticators:
            item: dict[str, object] = {
                "id": a.id,
                "authenticator_type": a.authenticator_type,
                "active": a.active,
            }
            if a.oob_channel is not None:
                item["oob_channel"] = a.oob_channel
            if a.name is not None:
                item["name"] = a.name
            if self.list_type_field:
                item["type"] = _LIST_TYPE[a.type]
            items.append(item)
        return self._json(200, items)

    def _mfa_delete(self, req: _Request) -> EmulatorResponse:
        user, _, _ = self._bearer(req, "remove:authenticators", allow_mfa_token=False)
        auth_id = unquote(req.path[len("/mfa/authenticators/") :])
        target = next((a for a in user.authenticators if a.id == auth_id), None)
        if target is None:
            raise _HttpError(404, "not_found", "Authenticator not found.")
        if target.type == "recovery-code":
            raise _invalid_request(
                "Recovery codes cannot be deleted with the MFA API; regenerate them instead."
            )
        user.authenticators = [a for a in user.authenticators if a.group != target.group]
        return EmulatorResponse(204, {"content-type": "application/json"}, b"")

    def _mfa_associate(self, req: _Request) -> EmulatorResponse:
        body = self._parse_body(req, allow_form=False, err=_invalid_request)
        user, session, _ = self._bearer(req, "enroll", allow_mfa_token=True)
        if any(k in body for k in ("client_id", "client_secret", "client_assertion")):
            client = self._client(req, body, basic=False)
            if session is not None and client.client_id != session.client_id:
                raise _invalid_request("mfa_token not issued to this client")
        if session is not None and user.active():
            raise _HttpError(403, "access_denied", "User is already enrolled")
        types = body.get("authenticator_types")
        if not isinstance(types, list) or len(types) != 1 or types[0] not in ("otp", "oob"):
            raise _invalid_request("authenticator_types must be an array with one of: otp, oob")
        now = req.now
        if types[0] == "otp":
            created = self._create_authenticators(user, "totp", now)
            secret = created[0].secret
            assert secret is not None
            label = quote(f"{self.tenant_name}:{user.username}", safe=":")
            issuer = quote(self.tenant_name, safe="")
            payload: dict[str, object] = {
                "authenticator_type": "otp",
                "secret": secret,
                "barcode_uri": (
                    f"otpauth://totp/{label}?secret={secret}&issuer={issuer}"
                    "&algorithm=SHA1&digits=6&period=30"
                ),
            }
            return self._json(200, self._with_recovery(user, payload, now))
        channels = body.get("oob_channels")
        if (
            not isinstance(channels, list)
            or len(channels) != 1
            or channels[0] not in ("sms", "voice", "email", "auth0")
        ):
            raise _invalid_request(
                "oob_channels must be an array with one of: sms, voice, email, auth0"
            )
        channel: str = channels[0]
        if channel in ("sms", "voice"):
            phone = body.get("phone_number")
            if not isinstance(phone, str) or not _PHONE_RE.match(phone):
                raise _invalid_request("The phone number is invalid.")
            if not user.sms_sends.take(now):
                raise _invalid_request(
                    "Too many SMS sent by the user. Wait for some minutes before retrying."
                )
            created = self._create_authenticators(
                user, "sms" if channel == "sms" else "voice", now, phone_number=phone
            )
            return self._json(200, self._enroll_oob(user, session, created[0], now))
        if channel == "email":
            email = body.get("email", user.email)
            if not isinstance(email, str) or not _EMAIL_RE.match(email):
                raise _invalid_request("The email is invalid.")
            created = self._create_authenticators(user, "email", now, email=email.lower())
            return self._json(200, self._enroll_oob(user, session, created[0], now))
        created = self._create_authenticators(user, "push", now)
        oob = self._new_oob(user, session, created[0], now, enrollment=True)
        tx = self._rand(_ALNUM, 32)
        guardian = quote(f"https://{self.domain}.guardian.auth0.com", safe="")
        label = quote(f"{self.tenant_name}:{user.username}", safe=":")
        payload = {
            "authenticator_type": "oob",
            "barcode_uri": f"otpauth://totp/{label}?enrollment_tx_id={tx}&base_url={guardian}",
            "oob_channel": "auth0",
            "oob_code": oob.code,
        }
        return self._json(200, self._with_recovery(user, payload, now))

    def _with_recovery(
        self, user: _User, payload: dict[str, object], now: float
    ) -> dict[str, object]:
        if user.associated_once:
            return payload
        user.associated_once = True
        code = self._give_recovery_code(user, now)
        out = dict(payload)
        items = list(out.items())
        # keep the recorded key order: recovery_codes after binding_method / barcode data
        out = dict(items[:2])
        out["recovery_codes"] = [code]
        out.update(items[2:])
        return out

    def _new_oob(
        self,
        user: _User,
        session: _MfaSession | None,
        authenticator: _Authenticator,
        now: float,
        *,
        enrollment: bool,
    ) -> _Oob:
        code = self._iron(now, MFA_CODE_TTL)
        channel = authenticator.oob_channel
        assert channel is not None
        oob = _Oob(
            code=code,
            mfa_token=session.token if session is not None else None,
            username=user.username,
            authenticator_id=authenticator.id,
            channel=channel,
            binding_code=None,
            expires_at=now + MFA_CODE_TTL,
            created_at=now,
            enrollment=enrollment,
        )
        if channel == "auth0":
            oob.pending_left = self.push_script.pending
            oob.outcome = self.push_script.outcome
        else:
            oob.binding_code = self._digits()
            to = authenticator.email if channel == "email" else authenticator.phone_number
            assert to is not None
            self._send(channel, to, oob.binding_code, "mfa", now)  # type: ignore[arg-type]
        self._oobs[code] = oob
        return oob

    def _enroll_oob(
        self, user: _User, session: _MfaSession | None, authenticator: _Authenticator, now: float
    ) -> dict[str, object]:
        oob = self._new_oob(user, session, authenticator, now, enrollment=True)
        payload: dict[str, object] = {
            "authenticator_type": "oob",
            "binding_method": "prompt",
            "oob_channel": authenticator.oob_channel,
            "oob_code": oob.code,
        }
        return self._with_recovery(user, payload, now)

    # ------------------------------------------------------------- /mfa/challenge

    def _mfa_challenge(self, req: _Request) -> EmulatorResponse:
        body = self._parse_body(req, allow_form=True, err=_invalid_request)
        self._req_str(body, "mfa_token")  # the token goes in the BODY, never as Bearer
        client = self._client(req, body)
        session = self._session(body, client, req.now)
        user = self._users[session.username]
        now = req.now
        raw_types = self._str(body, "challenge_type", required=False)
        allowed = {"otp", "oob"}
        if raw_types is not None:
            requested = set(raw_types.split())
            if not requested or not requested <= {"otp", "oob"}:
                raise _invalid_request("challenge_type must be a space-separated list of: otp, oob")
            allowed = requested
        active = user.active()
        if not active:
            raise _HttpError(
                401,
                "unsupported_challenge_type",
                "User is not enrolled. You can use /mfa/associate endpoint to enroll the first "
                "authenticator.",
            )
        auth_id = self._str(body, "authenticator_id", required=False)
        if auth_id is not None:
            if auth_id.startswith("recovery-code|"):
                raise _HttpError(
                    400, "unsupported_challenge_type", "Recovery codes cannot be challenged."
                )
            target = next((a for a in active if a.id == auth_id), None)
            if target is None:
                raise _invalid_request("Invalid authenticator_id.")
            if target.authenticator_type not in allowed:
                raise _HttpError(
                    400,
                    "unsupported_challenge_type",
                    "The authenticator does not support the requested challenge_type.",
                )
        else:
            candidates = [a for a in active if a.authenticator_type in allowed]
            candidates.sort(key=lambda a: _CHALLENGE_ORDER.index(a.type))
            if not candidates:
                raise _HttpError(
                    400,
                    "unsupported_challenge_type",
                    "None of the user's authenticators supports the requested challenge_type.",
                )
            target = candidates[0]
        if target.type == "totp":
            return self._json(200, {"challenge_type": "otp"})
        if target.type in ("sms", "voice") and not user.sms_sends.take(now):
            raise _invalid_request(
                "Too many SMS sent by the user. Wait for some minutes before retrying."
            )
        oob = self._new_oob(user, session, target, now, enrollment=False)
        if target.type == "push":
            return self._json(200, {"challenge_type": "oob", "oob_code": oob.code})
        return self._json(
            200, {"challenge_type": "oob", "binding_method": "prompt", "oob_code": oob.code}
        )


def _too_many_requests() -> dict[str, object]:
    return {
        "error": "too_many_requests",
        "error_description": (
            "Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and "
            "X-RateLimit-Reset headers."
        ),
    }


_DROP_ORDER: Final = (
    "access_token",
    "mfa_token",
    "oob_code",
    "secret",
    "challenge_type",
    "_id",
    "error",
)


def _drop_field(raw: bytes, fault: Fault) -> bytes:
    """Remove one required field from a JSON body (for the ``missing_field`` fault)."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            value[0].pop(fault.drop_field or "id", None)
        return _dumps(value)
    if not isinstance(value, dict):
        return raw
    names = (fault.drop_field,) if fault.drop_field else _DROP_ORDER
    for name in names:
        if name in value:
            del value[name]
            break
    return _dumps(value)


def _totp(secret: str) -> Any:
    """A ``pyotp.TOTP`` for ``secret``; pyotp (the [cli] extra) is imported on first use."""
    try:
        import pyotp
    except ImportError:
        raise ModuleNotFoundError(
            "the emulator's TOTP factor needs pyotp: pip install 'flowengine[cli]'", name="pyotp"
        ) from None
    return pyotp.TOTP(secret)
