"""The emulated tenant's keys: signed tokens, its JWKS, Private Key JWT, and revocation.

Theory of operation: every emulator holds an RSA signing key (2048 bits, ``kid``
the RFC 7638 thumbprint) and signs its id_tokens and access tokens with RS256,
as an Auth0 tenant does; ``/.well-known/jwks.json`` publishes the public half and
``/.well-known/openid-configuration`` the discovery document. A seeded emulator
takes the key cached for its seed (RSA key generation cannot be seeded, and two
runs with one seed must issue the same tokens); an unseeded one generates its
own on first use. ``rotate_signing_key`` (on the emulator) starts a new key (the
old one stays published unless ``keep_old=False``), as a tenant's key rotation does.

A client registered with the emulator's ``add_client_key`` authenticates with
Private Key JWT only. ``check_assertion`` applies Auth0's documented rules
("Authenticate with Private Key JWT"): ``alg`` as registered, ``kid`` optional
but when present it must name the credential, ``iss`` = ``sub`` = the client
id (at most 64 characters), ``aud`` exactly ``https://<tenant or custom
domain>/`` as a single string, ``exp`` required, at most 300 s of lifetime,
10 s of skew for ``iat``/``nbf``, ``jti`` required (at most 64 characters) and
single-use. Every refusal is 401 ``invalid_client``; the descriptions are the
emulator's own (Auth0's exact texts are not recorded anywhere we found).

``/oauth/revoke`` (on the emulator) revokes a refresh token, and with the tenant
setting "Refresh Token Revocation Deletes Grant" (``revocation_deletes_grant``, off
by default as for tenants created since 13 January 2021) every refresh token of the
same user, application and audience, as Auth0's "Revoke Refresh Tokens" page says; an
unknown token answers 200 as RFC 7009 section 2.2 says (inferred for Auth0).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from flowengine.testing._emu_state import HttpError, Request, invalid_request

__all__ = [
    "ASSERTION_MAX_LIFETIME",
    "ASSERTION_SKEW",
    "JWT_BEARER",
    "ClientKey",
    "SigningKey",
    "check_assertion",
    "signing_key_for",
]

JWT_BEARER: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: Auth0: "a maximum of 5 minutes for the lifetime" of a client assertion.
ASSERTION_MAX_LIFETIME: Final = 300
#: Auth0: "A clock skew of up to 10 seconds is allowed for iat and nbf".
ASSERTION_SKEW: Final = 10
#: Auth0's documented limits on claim lengths for Private Key JWT.
_MAX_CLAIM: Final = 64

_SEEDED: dict[int, rsa.RSAPrivateKey] = {}
_SEEDED_LOCK = threading.Lock()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def signing_key_for(seed: int | None) -> rsa.RSAPrivateKey:
    """The tenant signing key: the one cached for ``seed``, or a new one when unseeded."""
    if seed is None:
        return _new_rsa_key()
    with _SEEDED_LOCK:
        key = _SEEDED.get(seed)
        if key is None:
            key = _SEEDED[seed] = _new_rsa_key()
        return key


@attrs.frozen
class SigningKey:
    """One RSA signing key of the tenant and its ``kid`` (the RFC 7638 thumbprint)."""

    key: rsa.RSAPrivateKey = attrs.field(repr=False)
    kid: str

    @classmethod
    def of(cls, key: rsa.RSAPrivateKey) -> SigningKey:
        """Wrap ``key`` with its thumbprint as ``kid``."""
        return cls(key, _thumbprint(key.public_key()))

    def jwk(self) -> dict[str, str]:
        """The public key as a JWK (``kty``, ``use``, ``alg``, ``kid``, ``n``, ``e``)."""
        numbers = self.key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": _b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": _b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
        }

    def sign(self, claims: Mapping[str, object]) -> str:
        """A compact RS256 JWS of ``claims`` with this key's ``kid``."""
        return jwt.encode(dict(claims), self.key, "RS256", headers={"kid": self.kid})


def _thumbprint(public: rsa.RSAPublicKey) -> str:
    numbers = public.public_numbers()
    n = _b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big"))
    e = _b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big"))
    canonical = json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode()).digest())


ClientPublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


@attrs.frozen
class ClientKey:
    """A Private Key JWT credential of a client: its public key, algorithm and ``kid``."""

    public_key: ClientPublicKey = attrs.field(repr=False)
    algorithm: str
    kid: str | None


def load_client_key(public_key: object, algorithm: str, kid: str | None) -> ClientKey:
    """A ``ClientKey`` from a PEM public key (or a ``cryptography`` public key object)."""
    if algorithm not in ("RS256", "PS256", "ES256"):
        raise ValueError("algorithm must be RS256, PS256 or ES256")
    key: object = public_key
    if isinstance(public_key, str | bytes):
        data = public_key.encode() if isinstance(public_key, str) else public_key
        key = serialization.load_pem_public_key(data)
    if algorithm == "ES256":
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise ValueError("ES256 needs an EC P-256 public key")
    elif not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(f"{algorithm} needs an RSA public key")
    return ClientKey(key, algorithm, kid)


def _refuse(description: str) -> HttpError:
    return HttpError(401, "invalid_client", description)


def check_assertion(
    assertion: object,
    keys: Iterable[ClientKey],
    client_id: str | None,
    audiences: frozenset[str],
    now: float,
    seen: dict[tuple[str, str], float],
) -> str:
    """Verify a client assertion as Auth0 does; return the client id it authenticates.

    ``seen`` maps ``(client_id, jti)`` to the assertion's expiry: a jti is refused
    while its assertion could still be valid. Raises 401 ``invalid_client``.
    """
    if not isinstance(assertion, str) or assertion.count(".") != 2:
        raise _refuse("client_assertion must be a signed JWT.")
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise _refuse("client_assertion must be a signed JWT.") from None
    iss = unverified.get("iss")
    if not isinstance(iss, str) or not iss or len(iss) > _MAX_CLAIM:
        raise _refuse("The client_assertion iss claim must be the client_id.")
    if client_id is not None and client_id != iss:
        raise _refuse("The client_assertion iss claim must match client_id.")
    candidates = list(keys)
    if not candidates:
        raise _refuse("The client has no Private Key JWT credential.")
    alg = header.get("alg")
    kid = header.get("kid")
    if kid is not None:
        candidates = [k for k in candidates if k.kid == kid]
        if not candidates:
            raise _refuse("The client_assertion kid does not name a credential of the client.")
    candidates = [k for k in candidates if k.algorithm == alg]
    if not candidates:
        raise _refuse("The client_assertion alg does not match the credential's algorithm.")
    claims: dict[str, Any] | None = None
    for key in candidates:
        try:
            claims = jwt.decode(
                assertion,
                key.public_key,
                algorithms=[key.algorithm],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                },
            )
            break
        except jwt.PyJWTError:
            continue
    if claims is None:
        raise _refuse("Invalid client_assertion signature.")
    if claims.get("sub") != iss:
        raise _refuse("The client_assertion sub claim must be the client_id.")
    aud = claims.get("aud")
    if not isinstance(aud, str) or aud not in audiences:
        raise _refuse(
            "The client_assertion aud claim must be the tenant's URL, e.g. https://<tenant>/."
        )
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise _refuse("The client_assertion must have an exp claim.")
    if exp <= now:
        raise _refuse("The client_assertion has expired.")
    for name in ("iat", "nbf"):
        value = claims.get(name)
        if value is not None and (not isinstance(value, int) or value > now + ASSERTION_SKEW):
            raise _refuse(f"The client_assertion {name} claim is in the future.")
    iat = claims.get("iat")
    start = iat if isinstance(iat, int) else now
    if exp - start > ASSERTION_MAX_LIFETIME:
        raise _refuse("The client_assertion lifetime must not exceed 5 minutes.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > _MAX_CLAIM:
        raise _refuse("The client_assertion must have a jti claim of at most 64 characters.")
    for entry in [k for k, until in seen.items() if until <= now - ASSERTION_SKEW]:
        del seen[entry]
    if (iss, jti) in seen:
        raise _refuse("The client_assertion jti has already been used.")
    seen[(iss, jti)] = float(exp)
    return iss


def assertion_fields(body: Mapping[str, object]) -> tuple[object, object] | None:
    """``(client_assertion, client_assertion_type)`` when the body uses Private Key JWT."""
    if "client_assertion" not in body and "client_assertion_type" not in body:
        return None
    return body.get("client_assertion"), body.get("client_assertion_type")


def check_assertion_type(value: object) -> None:
    """Refuse a missing or foreign ``client_assertion_type``."""
    if value != JWT_BEARER:
        raise _refuse(f"client_assertion_type must be {JWT_BEARER}.")


def revoke_token_field(body: Mapping[str, object]) -> str:
    """The ``token`` of a revocation request, or 400 ``invalid_request``."""
    token = body.get("token")
    if not isinstance(token, str) or not token:
        raise invalid_request("Missing required parameter: token")
    return token


def request_host(req: Request) -> str | None:
    """The ``Host`` the request was sent to (a custom domain, or a loopback server)."""
    host = req.headers.get("host")
    return host.strip().lower() if host and host.strip() else None
