"""Key pairs for the Private Key JWT and id_token tests, made once per test session.

RSA key generation takes tens of milliseconds: each kind of key is generated on
first use and shared, which is safe because no test mutates a key.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

__all__ = ["KeyPair", "forge", "key_pair"]


class KeyPair:
    """A private key as PEM text and its public key as PEM text."""

    def __init__(self, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> None:
        self.key = key
        self.private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        self.public_pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )

    def __repr__(self) -> str:
        return f"KeyPair({type(self.key).__name__})"

    def secrets(self) -> set[str]:
        """The strings a leak scan must never find: the PEM and each line of its body."""
        lines = [ln for ln in self.private_pem.splitlines() if ln and not ln.startswith("-----")]
        return {self.private_pem, *lines}


@functools.cache
def key_pair(kind: str = "rsa", index: int = 0) -> KeyPair:
    """The shared key pair ``index`` of ``kind`` ("rsa" 2048-bit, "ec" P-256, "rsa1024")."""
    if kind == "ec":
        return KeyPair(ec.generate_private_key(ec.SECP256R1()))
    size = 1024 if kind == "rsa1024" else 2048
    return KeyPair(rsa.generate_private_key(public_exponent=65537, key_size=size))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forge(claims: Mapping[str, Any], header: Mapping[str, Any], secret: bytes | None) -> str:
    """A compact JWS built by hand: HMAC-SHA256 with ``secret``, or unsigned when None.

    PyJWT refuses to use a PEM public key as an HMAC secret and to emit
    ``alg: none`` tokens with a signature part, which is exactly what an attacker's
    algorithm-confusion token looks like; this builds them anyway.
    """
    signing_input = (
        _b64(json.dumps(dict(header), separators=(",", ":")).encode())
        + "."
        + _b64(json.dumps(dict(claims), separators=(",", ":")).encode())
    )
    if secret is None:
        return signing_input + "."
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(mac)
