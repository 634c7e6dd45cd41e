"""Verifying the id_token Auth0 returns: signature against the tenant's JWKS, then claims.

Theory of operation
-------------------
An id_token is the tenant's signed statement of who logged in. The flow trusts
it only after checking, in this order (OpenID Connect Core 3.1.3.7, as Auth0's
SDKs do it):

1. the header: ``alg`` must be ``RS256`` exactly. ``none``, ``HS256`` (which
   would let anyone holding the client secret, or a confused verifier using the
   public key as an HMAC secret, mint tokens) and every other value are refused
   before any key is looked at;
2. the ``kid`` must name a key of the tenant's JWKS (``/.well-known/jwks.json``).
   The drivers cache the JWKS per client and fetch it again, once, when a token
   names a ``kid`` the cache lacks (a rotated signing key); still unknown after
   that is a refusal;
3. the signature (PyJWT over a ``cryptography`` RSA key);
4. the claims: ``iss`` is a name of the configured tenant (``https://<host>/``,
   or ``https://<tenant_domain>/``); ``aud`` is the client id (or an array holding
   it, with ``azp`` the client id); ``exp`` is in the future and ``iat`` not in the
   future, each with ``LEEWAY`` seconds for clock skew; ``sub`` is present.
   There is no ``nonce``: these grants have no authorization request to bind.

Pure: the JWKS document and ``now`` come in as arguments; nothing here does I/O
or reads a clock. A failure raises ``flowengine._errors.IdTokenError`` whose
``reason`` is a short code and whose message never contains the token.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from flowengine._errors import IdTokenError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from flowengine._config import Auth0Config
    from flowengine._wire import HttpResponse

__all__ = [
    "ID_TOKEN_ALGORITHM",
    "JWKS_PATH",
    "JWKS_TTL",
    "LEEWAY",
    "Jwks",
    "id_token_in",
    "parse_jwks",
    "token_kid",
    "verify_id_token",
]

#: The one algorithm accepted on an id_token (Auth0's default and its SDKs' expectation).
ID_TOKEN_ALGORITHM: Final = "RS256"
#: Where an Auth0 tenant publishes its signing keys.
JWKS_PATH: Final = "/.well-known/jwks.json"
#: Seconds of clock skew allowed on ``exp`` and ``iat``.
LEEWAY: Final = 60
#: Seconds a fetched JWKS is reused before it is fetched again (auth0-python: 600).
JWKS_TTL: Final = 600.0
#: Bounds on what is parsed from the wire: a JWKS of a few keys, a token of a few KiB.
_MAX_KEYS: Final = 32
_MAX_TOKEN: Final = 16384
#: A JWT segment: unpadded base64url (RFC 7515, section 2).
_B64URL: Final = re.compile(r"[A-Za-z0-9_-]+")


@attrs.frozen
class Jwks:
    """The tenant's RSA signing keys by ``kid``, and when they were fetched."""

    keys: Mapping[str, rsa.RSAPublicKey] = attrs.field(repr=False)
    fetched_at: float

    def fresh(self, now: float) -> bool:
        """True while the keys are younger than ``JWKS_TTL``."""
        return 0 <= now - self.fetched_at < JWKS_TTL


def parse_jwks(body: bytes) -> dict[str, rsa.RSAPublicKey]:
    """The RSA signing keys of a JWKS document; ``IdTokenError`` when it is unusable.

    Keys that are not RSA, are marked for encryption (``use`` other than ``sig``)
    or have no ``kid`` are skipped; a document with no usable key is an error.
    """
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise IdTokenError("the tenant's JWKS is not JSON", reason="jwks_invalid") from None
    items = doc.get("keys") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise IdTokenError("the tenant's JWKS has no keys array", reason="jwks_invalid")
    keys: dict[str, rsa.RSAPublicKey] = {}
    for item in items[:_MAX_KEYS]:
        if not isinstance(item, dict) or item.get("kty") != "RSA":
            continue
        kid = item.get("kid")
        if not isinstance(kid, str) or not kid or item.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.algorithms.RSAAlgorithm.from_jwk(item)
        except (jwt.InvalidKeyError, ValueError, TypeError, KeyError):
            continue
        if isinstance(key, rsa.RSAPublicKey):
            keys[kid] = key
    if not keys:
        raise IdTokenError("the tenant's JWKS holds no RSA signing key", reason="jwks_invalid")
    return keys


def token_kid(token: object) -> str:
    """The ``kid`` of an id_token's header, after checking its shape and ``alg``.

    Only the header segment is decoded here (PyJWT's own header reader decodes and
    checks all three segments, character by character, and ``jwt.decode`` does that
    again); the whole token is checked by ``jwt.decode`` in ``verify_id_token``.
    """
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN:
        raise IdTokenError("the id_token is not a compact JWT", reason="malformed")
    parts = token.split(".")
    if len(parts) != 3 or not _B64URL.fullmatch(parts[0]):
        raise IdTokenError("the id_token is not a compact JWT", reason="malformed")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, binascii.Error, RecursionError):  # bad base64, UTF-8, JSON, depth
        raise IdTokenError("the id_token is not a compact JWT", reason="malformed") from None
    if not isinstance(header, dict):
        raise IdTokenError("the id_token is not a compact JWT", reason="malformed")
    alg = header.get("alg")
    if alg != ID_TOKEN_ALGORITHM:
        shown = alg if isinstance(alg, str) and alg.isalnum() and len(alg) <= 16 else "?"
        raise IdTokenError(
            f"the id_token is signed with {shown!r}; only {ID_TOKEN_ALGORITHM} is accepted",
            reason="algorithm",
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise IdTokenError("the id_token names no signing key (kid)", reason="unknown_kid")
    return kid


def _int_claim(claims: Mapping[str, Any], name: str) -> int:
    value = claims.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise IdTokenError(f"the id_token has no numeric {name!r} claim", reason="claims")
    return value


def verify_id_token(
    token: str,
    keys: Mapping[str, rsa.RSAPublicKey],
    config: Auth0Config,
    now: float,
    *,
    leeway: float = LEEWAY,
) -> dict[str, Any]:
    """The verified claims of ``token``, or ``IdTokenError`` (see the module docstring)."""
    import jwt

    kid = token_kid(token)
    key = keys.get(kid)
    if key is None:
        raise IdTokenError(
            "the id_token is signed by a key the tenant does not publish", reason="unknown_kid"
        )
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ID_TOKEN_ALGORITHM],
            # Time and audience are checked below, against the injected clock.
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise IdTokenError("the id_token's signature does not verify", reason="signature") from None
    except jwt.PyJWTError:
        raise IdTokenError("the id_token cannot be decoded", reason="malformed") from None
    if not isinstance(claims, dict):
        raise IdTokenError("the id_token's payload is not an object", reason="malformed")
    if claims.get("iss") not in config.issuers:
        raise IdTokenError("the id_token was issued by another tenant (iss)", reason="issuer")
    aud = claims.get("aud")
    if isinstance(aud, list):
        if config.client_id not in aud or (len(aud) > 1 and claims.get("azp") != config.client_id):
            raise IdTokenError("the id_token is meant for another client (aud)", reason="audience")
    elif aud != config.client_id:
        raise IdTokenError("the id_token is meant for another client (aud)", reason="audience")
    if _int_claim(claims, "exp") + leeway <= now:
        raise IdTokenError("the id_token has expired (exp)", reason="expired")
    if _int_claim(claims, "iat") - leeway > now:
        raise IdTokenError("the id_token was issued in the future (iat)", reason="issued_at")
    nbf = claims.get("nbf")
    if isinstance(nbf, int) and nbf - leeway > now:
        raise IdTokenError("the id_token is not valid yet (nbf)", reason="issued_at")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise IdTokenError("the id_token names no subject (sub)", reason="claims")
    return claims


def id_token_in(resp: HttpResponse) -> str | None:
    """The ``id_token`` of a usable token answer, None when there is none to verify.

    Only an answer the flow would accept is looked at: a 2xx with a JSON content
    type whose body is an object holding an ``access_token`` string. Anything
    else (an error, a body the flow's parser refuses as malformed) gives None and
    is left to the flow, so no key is fetched for an answer that is refused anyway.
    An ``id_token`` that is present but not a string is an ``IdTokenError``.
    """
    if not 200 <= resp.status_code < 300 or b"id_token" not in resp.body:
        return None
    if "json" not in resp.headers.get("content-type", "").lower():
        return None
    try:
        doc = json.loads(resp.body)
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(doc, dict) or "id_token" not in doc:
        return None
    if not isinstance(doc.get("access_token"), str) or not doc["access_token"]:
        return None
    token = doc["id_token"]
    if not isinstance(token, str):
        raise IdTokenError("the id_token is not a compact JWT", reason="malformed")
    return token
