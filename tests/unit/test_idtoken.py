"""The pure id_token verifier and the client-assertion builder, without any network."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import jwt
import pytest

from flowengine import Auth0Config, IdTokenError
from flowengine._client_auth import JWT_BEARER, make_assertion, sign_request
from flowengine._idtoken import LEEWAY, id_token_in, parse_jwks, token_kid, verify_id_token
from flowengine._wire import HttpResponse, refresh_request
from tests.keypairs import forge, key_pair

TENANT = "tenant.example.auth0.com"
NOW = 1_800_000_000
CONFIG = Auth0Config(TENANT, "app-id", "app-secret")


def jwk(kid: str = "k1", **over: Any) -> dict[str, Any]:
    """The shared RSA key's public JWK."""
    doc = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key_pair("rsa").key.public_key()))
    return {**doc, "kid": kid, "use": "sig", **over}


def token(**over: Any) -> str:
    """An id_token for CONFIG signed with the shared key (kid k1); ``over`` edits claims."""
    claims: dict[str, Any] = {
        "iss": f"https://{TENANT}/",
        "sub": "sms|abc",
        "aud": "app-id",
        "iat": NOW,
        "exp": NOW + 3600,
    }
    claims.update(over)
    return jwt.encode(
        {k: v for k, v in claims.items() if v is not None},
        key_pair("rsa").key,
        "RS256",
        headers={"kid": "k1"},
    )


KEYS = parse_jwks(json.dumps({"keys": [jwk()]}).encode())


def reason(tok: str, **kw: Any) -> str:
    """The reason verify_id_token refuses ``tok``."""
    with pytest.raises(IdTokenError) as info:
        verify_id_token(tok, KEYS, CONFIG, kw.pop("now", NOW), **kw)
    assert tok not in str(info.value)
    return info.value.reason


def test_a_good_token_gives_its_claims() -> None:
    """A well-signed token for this tenant and client verifies."""
    assert verify_id_token(token(), KEYS, CONFIG, NOW)["sub"] == "sms|abc"


def test_leeway_bounds() -> None:
    """exp and iat allow LEEWAY seconds of skew, not one more."""
    assert verify_id_token(token(exp=NOW - LEEWAY + 1), KEYS, CONFIG, NOW)
    assert reason(token(exp=NOW - LEEWAY)) == "expired"
    assert verify_id_token(token(iat=NOW + LEEWAY), KEYS, CONFIG, NOW)
    assert reason(token(iat=NOW + LEEWAY + 1)) == "issued_at"
    assert reason(token(nbf=NOW + LEEWAY + 1)) == "issued_at"


def test_claim_refusals() -> None:
    """iss, aud (string or array with azp), exp, iat and sub are required and checked."""
    assert reason(token(iss=f"https://{TENANT}")) == "issuer"  # no trailing slash
    assert reason(token(aud="other")) == "audience"
    assert reason(token(aud=["other", "app-id"])) == "audience"  # no azp
    assert verify_id_token(token(aud=["other", "app-id"], azp="app-id"), KEYS, CONFIG, NOW)
    assert verify_id_token(token(aud=["app-id"]), KEYS, CONFIG, NOW)
    assert reason(token(exp=None)) == "claims"
    assert reason(token(iat="yesterday")) == "claims"
    assert reason(token(sub="")) == "claims"


def test_tenant_domain_is_an_accepted_issuer() -> None:
    """With a custom domain as host, the canonical tenant domain is an issuer too."""
    config = Auth0Config("login.example.com", "app-id", tenant_domain=TENANT)
    assert config.issuers == {"https://login.example.com/", f"https://{TENANT}/"}
    assert verify_id_token(token(), KEYS, config, NOW)


def test_header_refusals() -> None:
    """Only RS256 with a known kid: none, HS256, a missing or unknown kid are refused."""
    claims = jwt.decode(token(), options={"verify_signature": False})
    public = key_pair("rsa").public_pem.encode()
    assert reason(forge(claims, {"alg": "none", "kid": "k1"}, None)) == "algorithm"
    assert reason(forge(claims, {"alg": "HS256", "kid": "k1"}, public)) == "algorithm"
    assert reason(forge(claims, {"alg": "RS256"}, b"x")) == "unknown_kid"
    other = jwt.encode(claims, key_pair("rsa", 1).key, "RS256", headers={"kid": "k2"})
    assert reason(other) == "unknown_kid"
    swapped = jwt.encode(claims, key_pair("rsa", 1).key, "RS256", headers={"kid": "k1"})
    assert reason(swapped) == "signature"
    for bad in ("", "a.b", "a.b.c", "x" * 20000):
        with pytest.raises(IdTokenError):
            token_kid(bad)


def test_jwks_parsing() -> None:
    """Non-JSON, no keys array or no usable RSA signing key are errors; others are skipped."""
    for body in (b"<html>", b"[]", b'{"keys": {}}', b'{"keys": []}'):
        with pytest.raises(IdTokenError):
            parse_jwks(body)
    mixed = {"keys": [jwk("enc", use="enc"), {"kty": "EC", "kid": "e"}, jwk(""), jwk()]}
    assert set(parse_jwks(json.dumps(mixed).encode())) == {"k1"}


def test_id_token_in() -> None:
    """Only a usable 2xx JSON token answer's id_token is returned; a non-string one is an error."""
    json_ct = {"content-type": "application/json; charset=utf-8"}

    def answer(status: int, body: bytes, headers: dict[str, str] = json_ct) -> str | None:
        return id_token_in(HttpResponse(status, headers, body))

    good = b'{"access_token": "at", "id_token": "a.b.c"}'
    assert answer(200, good) == "a.b.c"
    assert answer(403, good) is None
    assert answer(200, good, {"content-type": "text/plain"}) is None
    assert answer(200, b'{"id_token": "a.b.c"}') is None  # no access_token: refused by the flow
    assert answer(200, b'{"access_token": "x"}') is None
    assert answer(200, b"id_token not json") is None
    with pytest.raises(IdTokenError):
        answer(200, b'{"access_token": "at", "id_token": 1}')


def test_the_assertion_is_built_and_placed() -> None:
    """sign_request adds a fresh assertion after client_assertion_type; others are untouched."""
    config = Auth0Config(TENANT, "pkj", private_key=key_pair("ec").private_pem, algorithm="ES256")
    req = refresh_request(config, "rt", None)
    signed = sign_request(req, config, NOW, "jti-1")
    body = json.loads(signed.body or b"")
    assert list(body)[:4] == [
        "grant_type",
        "client_id",
        "client_assertion_type",
        "client_assertion",
    ]
    assert body["client_assertion_type"] == JWT_BEARER
    claims = jwt.decode(
        body["client_assertion"],
        key_pair("ec").key.public_key(),
        algorithms=["ES256"],
        audience=f"https://{TENANT}/",
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims == {
        "iss": "pkj",
        "sub": "pkj",
        "aud": f"https://{TENANT}/",
        "iat": NOW,
        "exp": NOW + 60,
        "jti": "jti-1",
    }
    assert sign_request(refresh_request(CONFIG, "rt", None), CONFIG, NOW, "j") == refresh_request(
        CONFIG, "rt", None
    )
    assert make_assertion(config, NOW, str(uuid.uuid4())) != make_assertion(config, NOW, "other")


def test_header_segment_refusals() -> None:
    """A header that is not base64url JSON of an object, or nests too deep, is malformed."""
    deep = base64.urlsafe_b64encode(b"[" * 12000).rstrip(b"=").decode()
    for header in (
        "@@@@",
        "e30=",
        "W10",
        "_w",
        deep,
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ):
        with pytest.raises(IdTokenError) as caught:
            token_kid(f"{header}.e30.c2ln")
        assert caught.value.reason == "malformed"
    # A well-formed header is read without touching the other segments.
    head = base64.urlsafe_b64encode(b'{"alg":"RS256","kid":"k9"}').rstrip(b"=").decode()
    assert token_kid(f"{head}.!.!") == "k9"
