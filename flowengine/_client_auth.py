"""Private Key JWT client authentication: the signed ``client_assertion`` Auth0 accepts.

Theory of operation
-------------------
A confidential application can prove who it is with a JWT signed by its private
key instead of a shared secret (RFC 7523 section 2.2, Auth0's "Authenticate with
Private Key JWT"). The assertion carries ``iss`` = ``sub`` = the client id,
``aud`` = ``https://<tenant or custom domain>/`` (trailing slash), ``iat``, a
short ``exp`` and a unique ``jti``; Auth0 treats it as one-time use and accepts
at most five minutes of lifetime.

The pure core builds request bodies without a clock or randomness, so it writes
only ``client_id`` and ``client_assertion_type`` (see
``Auth0Config.client_auth <flowengine._config.Auth0Config.client_auth>``).
Just before each send (each retry too, since a ``jti`` is single-use) the driver
calls ``sign_request`` with the time and a fresh UUID, which adds the signed
``client_assertion`` to the body. Signing is PyJWT's (``jwt.encode`` over a
``cryptography`` key object), the library Auth0's own auth0-python uses for this.

The private key never leaves the key object built by ``load_private_key``;
messages name the problem, never the key or an assertion. PyJWT and ``cryptography``
are imported when a key is loaded or an assertion signed, not with the package: an
application on a client secret never loads them for this.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

import attrs

from flowengine._errors import ConfigurationError

if TYPE_CHECKING:
    from typing import TypeAlias

    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from flowengine._config import Auth0Config
    from flowengine._wire import HttpRequest

    SigningKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

__all__ = [
    "ASSERTION_ALGORITHMS",
    "ASSERTION_LIFETIME",
    "JWT_BEARER",
    "assertion_audience",
    "load_private_key",
    "make_assertion",
    "sign_request",
]

#: ``client_assertion_type`` of a JWT assertion (RFC 7523 section 2.2).
JWT_BEARER: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: The signing algorithms Auth0 offers for Private Key JWT credentials.
ASSERTION_ALGORITHMS: Final = ("RS256", "PS256", "ES256")
#: Seconds an assertion lives: one request, so short (Auth0 allows at most 300).
ASSERTION_LIFETIME: Final = 60


def load_private_key(pem: object, algorithm: str) -> SigningKey:
    """Parse a PEM private key and check it fits ``algorithm``; ``ConfigurationError`` if not.

    RS256/PS256 need an RSA key of at least 2048 bits, ES256 a P-256 key. An
    encrypted PEM is refused (decrypt it where the secret is managed).
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if isinstance(pem, str):
        data = pem.encode("utf-8", "replace")
    elif isinstance(pem, bytes):
        data = pem
    else:
        raise ConfigurationError("private_key: PEM text (str or bytes)")
    try:
        key = load_pem_private_key(data, password=None)
    except TypeError:
        raise ConfigurationError("private_key: an encrypted PEM is not supported") from None
    except (ValueError, UnsupportedAlgorithm):  # never echo the key
        raise ConfigurationError("private_key: not a PEM private key") from None
    if algorithm in ("RS256", "PS256"):
        if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
            raise ConfigurationError(f"private_key: {algorithm} needs an RSA key of 2048+ bits")
        return key
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigurationError("private_key: ES256 needs a P-256 (secp256r1) EC key")
    return key


def assertion_audience(config: Auth0Config) -> str:
    """``https://<host>/``: the tenant (or custom domain) the requests go to, with a slash."""
    return f"https://{config.host}/"


def make_assertion(config: Auth0Config, now: float, jti: str) -> str:
    """A signed client assertion for ``config`` issued at ``now`` with id ``jti``."""
    import jwt

    if config.signing_key is None:
        raise ConfigurationError("no private_key configured")
    issued = int(now)
    claims: dict[str, Any] = {
        "iss": config.client_id,
        "sub": config.client_id,
        "aud": assertion_audience(config),
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME,
        "jti": jti,
    }
    headers = {"kid": config.key_id} if config.key_id else None
    return jwt.encode(claims, config.signing_key, config.algorithm, headers=headers)  # type: ignore[arg-type]


def sign_request(req: HttpRequest, config: Auth0Config, now: float, jti: str) -> HttpRequest:
    """``req`` with a fresh ``client_assertion`` in its body when it asks for one.

    A body asks when it holds ``client_assertion_type`` (written by
    ``Auth0Config.client_auth``) and no assertion yet; any other request is
    returned unchanged.
    """
    if config.signing_key is None or not req.body:
        return req
    try:
        doc = json.loads(req.body)
    except ValueError:
        return req
    if not isinstance(doc, dict) or doc.get("client_assertion_type") != JWT_BEARER:
        return req
    signed: dict[str, Any] = {}
    for name, value in doc.items():
        if name == "client_assertion":
            continue
        signed[name] = value
        if name == "client_assertion_type":
            signed["client_assertion"] = make_assertion(config, now, jti)
    body = json.dumps(signed, separators=(",", ":")).encode()
    return attrs.evolve(req, body=body)
