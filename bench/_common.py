"""The tenant, the application and the seed login every figure uses."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import jwt

from flowengine import Auth0Config
from flowengine.testing import Auth0Emulator

TENANT = "tenant.example.auth0.com"
CLIENT_ID = "bench-app"
CLIENT_SECRET = "bench-secret-0123456789"
PHONE = "+15550100"
#: What the library sends with the MFA audience: the caller's scope plus the MFA API's own.
SCOPE = "openid profile offline_access enroll read:authenticators remove:authenticators"
MFA_AUDIENCE = f"https://{TENANT}/mfa/"
BASE_URL = f"https://{TENANT}"

GRANT_PASSWORDLESS_OTP = "http://auth0.com/oauth/grant-type/passwordless/otp"
GRANT_MFA_OOB = "http://auth0.com/oauth/grant-type/mfa-oob"


def make_emulator(seed: int = 1, clock: Callable[[], float] | None = None) -> Auth0Emulator:
    """A fresh tenant with the bench application and no per-IP limit on code sends."""
    emu = (
        Auth0Emulator(TENANT, seed=seed)
        if clock is None
        else Auth0Emulator(TENANT, seed=seed, clock=clock)
    )
    emu.add_client(CLIENT_ID, client_secret=CLIENT_SECRET)
    emu.rate_limit("/passwordless/start", None)
    return emu


def make_config(domain: str = TENANT) -> Auth0Config:
    """The application's configuration (``domain`` may be a loopback base URL)."""
    return Auth0Config(domain, CLIENT_ID, CLIENT_SECRET, tenant_domain=TENANT)


def phone_for(n: int) -> str:
    """A distinct E.164 number per flow (so no per-user SMS bucket is ever shared)."""
    return f"+1555{n:07d}"


def dumps(fields: dict[str, object]) -> bytes:
    """Compact JSON, as a hand-written client (and the library) sends it."""
    return json.dumps(fields, separators=(",", ":")).encode()


#: Request headers of a hand-written JSON client.
JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}
ACCEPT_HEADERS = {"accept": "application/json"}


class RawSeedError(Exception):
    """The hand-written client got an answer it did not expect."""


def raw_bodies(phone: str) -> tuple[bytes, Callable[[str], bytes]]:
    """The start body, and a builder of the verify body from the code (hand-written)."""
    start = dumps(
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "connection": "sms",
            "send": "code",
            "phone_number": phone,
        }
    )

    def verify(code: str) -> bytes:
        return dumps(
            {
                "grant_type": GRANT_PASSWORDLESS_OTP,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "realm": "sms",
                "username": phone,
                "otp": code,
                "audience": MFA_AUDIENCE,
                "scope": SCOPE,
            }
        )

    return start, verify


def raw_enroll_body(phone: str) -> bytes:
    """The ``/mfa/associate`` body for an SMS authenticator (hand-written)."""
    return dumps(
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "authenticator_types": ["oob"],
            "oob_channels": ["sms"],
            "phone_number": phone,
        }
    )


def raw_confirm_body(mfa_token: str, oob_code: str, binding_code: str) -> bytes:
    """The mfa-oob grant body (hand-written)."""
    return dumps(
        {
            "grant_type": GRANT_MFA_OOB,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "mfa_token": mfa_token,
            "oob_code": oob_code,
            "binding_code": binding_code,
        }
    )


def expect(status: int, wanted: int, what: str) -> None:
    """The hand-written client's status check."""
    if status != wanted:
        raise RawSeedError(f"{what}: HTTP {status}, expected {wanted}")


# ------------------------------------------------- a careful hand-written id_token check

#: Where the tenant publishes its signing keys.
JWKS_URL = f"{BASE_URL}/.well-known/jwks.json"
ISSUER = f"https://{TENANT}/"


def issuer_for(base_url: str) -> str:
    """The ``iss`` the tenant signs with when reached at ``base_url`` (its host, https)."""
    return f"https://{urlsplit(base_url).netloc}/"


def raw_keys(body: bytes) -> dict[str, jwt.PyJWK]:
    """The signing keys of a JWKS document by ``kid`` (PyJWT), kept by a hand-written client."""
    return {k.key_id: k for k in jwt.PyJWKSet.from_json(body.decode()).keys if k.key_id}


def raw_verify(
    token: object, keys: dict[str, jwt.PyJWK], issuer: str, now: float | None = None
) -> dict[str, Any]:
    """What a careful hand-written client checks on an id_token, with PyJWT.

    RS256 only, the signature against the tenant's key named by ``kid``, ``iss``, ``aud``
    (the client id), ``exp`` and ``iat`` with 60 s of leeway (against ``now`` when given,
    e.g. the emulator's frozen clock; else PyJWT's wall clock), ``sub`` present.
    """
    if not isinstance(token, str):
        raise RawSeedError("confirm: no id_token")
    key = keys.get(jwt.get_unverified_header(token).get("kid", ""))
    if key is None:
        raise RawSeedError("confirm: id_token signed by an unknown key")
    timed = now is None
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        audience=CLIENT_ID,
        issuer=issuer,
        leeway=60,
        options={
            "require": ["exp", "iat", "iss", "aud", "sub"],
            "verify_exp": timed,
            "verify_iat": timed,
            "verify_nbf": timed,
        },
    )
    if now is not None and (claims["exp"] + 60 <= now or claims["iat"] - 60 > now):
        raise RawSeedError("id_token claims refused")
    return claims


def raw_verify_id_token(tokens: dict[str, Any], jwks_body: bytes, now: float) -> dict[str, Any]:
    """The in-process seed's check: the keys read from the JWKS just fetched, then
    ``raw_verify`` against the emulator's clock."""
    return raw_verify(tokens.get("id_token"), raw_keys(jwks_body), ISSUER, now)
