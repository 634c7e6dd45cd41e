"""The test-facing control surface: set the tenant up, inject faults, read what happened.

Theory of operation: these are the emulator's public methods a test calls around
the HTTP traffic (never through it): register clients and users, seed
authenticators, configure rate limits and faults, and read the outbox, the redacted
request log, users, codes and every issued secret. Each takes the tenant lock, so
a test may call them while a server thread is answering requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from flowengine._context import DEFAULT_SETTINGS, TenantSettings
from flowengine.testing._emu_base import TenantBase
from flowengine.testing._emu_state import Api, Client, normalise_address, totp
from flowengine.testing._models import (
    AuthenticatorInfo,
    Fault,
    OutboxMessage,
    RequestRecord,
    UserInfo,
)

__all__ = ["TenantControl"]


class TenantControl(TenantBase):
    """Configuration and inspection of the tenant (thread-safe)."""

    tenant_settings: TenantSettings = DEFAULT_SETTINGS

    # ------------------------------------------------------------- configuration

    @property
    def base_url(self) -> str:
        """Where a client reaches this tenant: ``https://<domain>``, through ``transport``.

        ``flowengine.testing.EmulatorServer`` has the same attribute (its
        ``http://host:port``), so code given either can build its client from it.
        """
        return f"https://{self.domain}"

    @property
    def url(self) -> str:
        """Alias of ``base_url``, the name ``flowengine.testing.EmulatorServer`` used."""
        return self.base_url

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
            self._clients[client_id] = Client(
                client_id,
                client_secret,
                frozenset(grant_types) if grant_types is not None else None,
                trust_forwarded_for,
            )
            if client_secret:
                self._issued.add(client_secret)

    def configure_tenant(self, settings: TenantSettings) -> None:
        """Set the tenant's passwordless code lifetime and OTP length, MFA code and
        mfa_token lifetimes (``flowengine.TenantSettings``; Auth0's defaults otherwise).

        Codes, oob_codes and mfa_tokens issued afterwards follow them.
        """
        with self._lock:
            self.tenant_settings = settings

    def add_api(self, identifier: str, *, allow_offline_access: bool = True) -> None:
        """Register an API (a resource server): its identifier is an audience the token
        endpoint accepts; ``allow_offline_access`` lets it issue refresh tokens.

        Unregistered audiences answer 403 ``access_denied`` "Service not found: <aud>". The
        MFA API (offline access allowed) and the Management API (not) are registered.
        """
        with self._lock:
            apis: dict[str, Api] = self._apis()  # type: ignore[attr-defined]  # TokenIssuer's
            apis[identifier] = Api(identifier, allow_offline_access)

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
            return self._user_info(self._ensure_user(normalise_address(address), conn))

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
        (read it with ``recovery_code_of``).
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
        wanted = normalise_address(to)
        with self._lock:
            for msg in reversed(self._outbox):
                if msg.to == wanted and (purpose is None or msg.purpose == purpose):
                    if msg.code is None:
                        raise LookupError(f"the latest message to {to} was a link, not a code")
                    return msg.code
        raise LookupError(f"no code was sent to {to}")

    def last_link(self, to: str) -> str:
        """Return the magic link of the latest link message to ``to`` (``LookupError`` if none)."""
        wanted = normalise_address(to)
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
        return str(totp(secret).at(int(when)))
