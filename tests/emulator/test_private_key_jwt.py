"""The emulator verifies Private Key JWT client assertions the way Auth0 documents it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from flowengine.testing import Auth0Emulator, FakeClock
from tests.keypairs import forge, key_pair

TENANT = "tenant.example.auth0.com"
AUD = f"https://{TENANT}/"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PHONE = "+15550100"


@pytest.fixture
def clock() -> FakeClock:
    """The tenant's clock."""
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Auth0Emulator:
    """A tenant with an RS256 client (kid k1), an ES256 client and a secret client."""
    e = Auth0Emulator(domain=TENANT, clock=clock.time, seed=3)
    e.add_client("pkj-app")
    e.add_client_key("pkj-app", key_pair("rsa").public_pem, key_id="k1")
    e.add_client("pkj-ec")
    e.add_client_key("pkj-ec", key_pair("ec").public_pem, algorithm="ES256")
    e.add_client("app-id", client_secret="app-secret")
    return e


@pytest.fixture
def http(emu: Auth0Emulator) -> Iterator[httpx.Client]:
    """A plain HTTP client over the tenant's in-process transport."""
    with httpx.Client(base_url=emu.base_url, transport=emu.transport()) as c:
        yield c


def assertion(clock: FakeClock, **over: Any) -> str:
    """A client assertion for pkj-app; ``over`` replaces claims, ``key``/``alg``/``kid``."""
    now = int(clock.time())
    claims: dict[str, Any] = {
        "iss": "pkj-app",
        "sub": "pkj-app",
        "aud": AUD,
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
    }
    key = over.pop("key", key_pair("rsa").key)
    alg = over.pop("alg", "RS256")
    kid = over.pop("kid", "k1")
    headers = {"kid": kid} if kid is not None else None
    for name, value in over.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return jwt.encode(claims, key, alg, headers=headers)


def start(
    http: httpx.Client, client_id: str | None, token: str | None, **extra: Any
) -> httpx.Response:
    """``/passwordless/start`` authenticated with ``token`` as the client assertion."""
    body: dict[str, Any] = {"connection": "sms", "phone_number": PHONE, "send": "code"}
    if client_id is not None:
        body["client_id"] = client_id
    if token is not None:
        body["client_assertion"] = token
        body["client_assertion_type"] = JWT_BEARER
    body.update(extra)
    return http.post("/passwordless/start", json=body)


def refused(resp: httpx.Response, words: str) -> None:
    """Assert a 401 invalid_client whose description mentions ``words``."""
    assert resp.status_code == 401, resp.text
    assert resp.json()["error"] == "invalid_client"
    assert words in resp.json()["error_description"]


def test_a_valid_assertion_authenticates_the_client(http: httpx.Client, clock: FakeClock) -> None:
    """A well-formed RS256 assertion signed by the registered key is accepted."""
    assert start(http, "pkj-app", assertion(clock)).status_code == 200


def test_client_id_may_be_left_to_the_assertion(http: httpx.Client, clock: FakeClock) -> None:
    """Without client_id in the body, the assertion's iss names the client."""
    assert start(http, None, assertion(clock)).status_code == 200


def test_es256_credentials_work(http: httpx.Client, clock: FakeClock) -> None:
    """An ES256 client signs with its P-256 key."""
    token = assertion(
        clock, key=key_pair("ec").key, alg="ES256", kid=None, iss="pkj-ec", sub="pkj-ec"
    )
    assert start(http, "pkj-ec", token).status_code == 200


def test_a_forged_assertion_is_refused(http: httpx.Client, clock: FakeClock) -> None:
    """An assertion signed with another key (same kid) is refused: invalid_client."""
    refused(start(http, "pkj-app", assertion(clock, key=key_pair("rsa", 1).key)), "signature")


def test_a_replayed_jti_is_refused(http: httpx.Client, clock: FakeClock) -> None:
    """The same assertion (same jti) works once; its second use is refused."""
    token = assertion(clock)
    assert start(http, "pkj-app", token).status_code == 200
    refused(start(http, "pkj-app", token), "already been used")
    again = assertion(clock, jti=jwt.decode(token, options={"verify_signature": False})["jti"])
    refused(start(http, "pkj-app", again), "already been used")


def test_an_expired_assertion_is_refused(http: httpx.Client, clock: FakeClock) -> None:
    """An assertion past its exp is refused."""
    token = assertion(clock)
    clock.advance(61)
    refused(start(http, "pkj-app", token), "expired")


def test_a_wrong_audience_is_refused(http: httpx.Client, clock: FakeClock) -> None:
    """aud must be https://<tenant>/ exactly: an endpoint URL, another tenant or an array fail."""
    for aud in (
        f"https://{TENANT}/oauth/token",
        "https://other.auth0.com/",
        f"https://{TENANT}",
        [AUD],
    ):
        refused(start(http, "pkj-app", assertion(clock, aud=aud)), "aud")


def test_the_registered_algorithm_is_enforced(http: httpx.Client, clock: FakeClock) -> None:
    """A PS256 assertion for an RS256 credential, or HS256 with the public key, is refused."""
    refused(start(http, "pkj-app", assertion(clock, alg="PS256")), "alg")
    claims = jwt.decode(assertion(clock), options={"verify_signature": False})
    public = key_pair("rsa").public_pem.encode()
    forged = forge(claims, {"alg": "HS256", "typ": "JWT", "kid": "k1"}, public)
    refused(start(http, "pkj-app", forged), "alg")
    unsigned = forge(claims, {"alg": "none", "typ": "JWT", "kid": "k1"}, None)
    refused(start(http, "pkj-app", unsigned), "alg")


def test_a_foreign_kid_is_refused(http: httpx.Client, clock: FakeClock) -> None:
    """A kid that names no credential of the client is refused."""
    refused(start(http, "pkj-app", assertion(clock, kid="other")), "kid")


def test_claims_rules(http: httpx.Client, clock: FakeClock) -> None:
    """iss/sub, exp, jti, lifetime and iat are checked as Auth0 documents them."""
    now = int(clock.time())
    cases = [
        ({"iss": "app-id"}, "iss"),
        ({"sub": "someone"}, "sub"),
        ({"exp": None}, "exp"),
        ({"jti": None}, "jti"),
        ({"jti": "j" * 65}, "jti"),
        ({"exp": now + 301}, "5 minutes"),
        ({"iat": now + 11, "exp": now + 70}, "iat"),
        ({"nbf": now + 11}, "nbf"),
    ]
    for over, words in cases:
        refused(start(http, "pkj-app", assertion(clock, **over)), words)
    # 10 s of skew on iat is allowed; a lifetime of exactly 300 s too.
    assert start(http, "pkj-app", assertion(clock, iat=now + 10, exp=now + 70)).status_code == 200
    assert start(http, "pkj-app", assertion(clock, exp=now + 300)).status_code == 200


def test_the_body_client_id_must_match_the_assertion(http: httpx.Client, clock: FakeClock) -> None:
    """client_id and the assertion's iss must name the same client."""
    refused(start(http, "app-id", assertion(clock)), "iss")


def test_assertion_type_and_secret_rules(http: httpx.Client, clock: FakeClock) -> None:
    """A wrong assertion type, a secret beside the assertion, or no assertion are refused."""
    resp = http.post(
        "/passwordless/start",
        json={
            "client_id": "pkj-app",
            "client_assertion": assertion(clock),
            "client_assertion_type": "urn:other",
            "connection": "sms",
            "phone_number": PHONE,
        },
    )
    refused(resp, "client_assertion_type")
    refused(start(http, "pkj-app", assertion(clock), client_secret="x"), "either")
    refused(start(http, "pkj-app", None), "client_assertion")
    refused(start(http, "pkj-app", None, client_secret="x"), "client_assertion")
    refused(start(http, "pkj-app", "not-a-jwt"), "signed JWT")


def test_a_client_without_credentials_cannot_use_assertions(
    http: httpx.Client, clock: FakeClock
) -> None:
    """A secret client sending an assertion is refused: it has no registered key."""
    token = assertion(clock, iss="app-id", sub="app-id")
    refused(start(http, "app-id", token), "no Private Key JWT credential")


def test_a_custom_domain_audience_is_accepted(emu: Auth0Emulator, clock: FakeClock) -> None:
    """aud may name the host the request was sent to (a custom domain), with a slash."""
    with httpx.Client(base_url="https://login.example.com", transport=emu.transport()) as c:
        token = assertion(clock, aud="https://login.example.com/")
        assert start(c, "pkj-app", token).status_code == 200


def test_assertions_are_redacted_from_the_log_and_listed_as_issued(
    emu: Auth0Emulator, http: httpx.Client, clock: FakeClock
) -> None:
    """The request log never holds an assertion; issued_secrets lists each one it saw."""
    token = assertion(clock)
    start(http, "pkj-app", token)
    assert token not in repr(emu.requests)
    assert emu.requests[-1].body is not None
    assert emu.requests[-1].body["client_assertion"] == "[REDACTED]"
    assert token in emu.issued_secrets()


def test_add_client_key_checks_its_arguments(emu: Auth0Emulator) -> None:
    """An unknown client, a wrong key type or algorithm raise."""
    with pytest.raises(KeyError):
        emu.add_client_key("nobody", key_pair("rsa").public_pem)
    with pytest.raises(ValueError, match="EC"):
        emu.add_client_key("pkj-app", key_pair("rsa").public_pem, algorithm="ES256")
    with pytest.raises(ValueError, match="algorithm"):
        emu.add_client_key("pkj-app", key_pair("rsa").public_pem, algorithm="HS256")
