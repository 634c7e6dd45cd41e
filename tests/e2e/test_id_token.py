"""The id_token is verified against the tenant's JWKS before a flow may authenticate."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest

from flowengine import AsyncFlowClient, Auth0Config, FlowClient, IdTokenError
from flowengine._flow import Flow, StepResult
from flowengine._idtoken import JWKS_TTL
from flowengine.testing import Auth0Emulator, FakeClock, Fault
from tests.e2e.conftest import TENANT, Driver
from tests.keypairs import forge, key_pair

PHONE = "+15550100"
JWKS = "/.well-known/jwks.json"

#: Rewrites the claims and header of the id_token in a token answer; returns the new token.
Forger = Callable[[dict[str, Any], dict[str, Any]], "str | int"]


def _rewrite(body: bytes, forger: Forger) -> bytes:
    doc = json.loads(body)
    token = doc.get("id_token")
    if isinstance(token, str):
        claims = jwt.decode(token, options={"verify_signature": False})
        doc["id_token"] = forger(claims, jwt.get_unverified_header(token))
    return json.dumps(doc).encode()


class Tamper(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Sits between the client and the tenant; rewrites the id_token of token answers."""

    def __init__(self, emu: Auth0Emulator) -> None:
        self.sync = emu.transport()
        self.aio = emu.async_transport()
        self.forger: Forger | None = None

    def _spoil(self, resp: httpx.Response) -> httpx.Response:
        if self.forger is None or resp.status_code != 200 or b"id_token" not in resp.content:
            return resp
        headers = {k: v for k, v in resp.headers.items() if k.lower() != "content-length"}
        return httpx.Response(200, headers=headers, content=_rewrite(resp.content, self.forger))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        resp = self.sync.handle_request(request)
        resp.read()
        return self._spoil(resp)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        resp = await self.aio.handle_async_request(request)
        await resp.aread()
        return self._spoil(resp)


@pytest.fixture
def tamper(emu: Auth0Emulator) -> Tamper:
    """The tampering middle-man (off until a test sets ``forger``)."""
    return Tamper(emu)


@pytest.fixture(params=["sync", "async"])
def driver(request: pytest.FixtureRequest, tamper: Tamper, clock: FakeClock) -> Iterator[Driver]:
    """The confidential client, sync or async, talking to the tenant through ``tamper``."""
    config = Auth0Config(TENANT, "app-id", "app-secret")
    if request.param == "sync":
        client = FlowClient(config, transport=tamper, clock=clock.time, sleep=clock.sleep)
        yield Driver(client, None)
        client.close()
        return
    loop = asyncio.new_event_loop()

    async def asleep(seconds: float) -> None:
        clock.sleep(seconds)

    aclient = AsyncFlowClient(config, transport=tamper, clock=clock.time, sleep=asleep)
    yield Driver(aclient, loop)
    loop.run_until_complete(aclient.aclose())
    loop.close()


def to_confirm(driver: Driver, emu: Auth0Emulator, phone: str = PHONE) -> tuple[Flow, str]:
    """A flow of ``phone``'s (new) user up to the last step: code sent, verified, SMS enrolled."""
    flow = driver.new_flow()
    driver.start_passwordless(flow, connection="sms", phone_number=phone)
    driver.verify_otp(flow, emu.last_code(phone))
    driver.enroll(flow, "sms", phone_number=phone)
    return flow, phone


def confirm(driver: Driver, emu: Auth0Emulator, started: tuple[Flow, str]) -> StepResult:
    """The final step (it receives the tokens)."""
    flow, phone = started
    result = driver.confirm_oob(flow, emu.last_code(phone, purpose="mfa"))
    assert isinstance(result, StepResult)
    return result


def login(driver: Driver, emu: Auth0Emulator, n: int) -> StepResult:
    """A whole login of user number ``n`` (0 is PHONE)."""
    phone = PHONE if n == 0 else f"+1555020{n:04d}"
    return confirm(driver, emu, to_confirm(driver, emu, phone))


def jwks_fetches(emu: Auth0Emulator) -> int:
    """How many times the client fetched the tenant's JWKS."""
    return sum(1 for r in emu.requests if r.path == JWKS)


def test_claims_are_verified_and_exposed(driver: Driver, emu: Auth0Emulator) -> None:
    """The final result carries the id_token's verified claims: who logged in."""
    done = confirm(driver, emu, to_confirm(driver, emu))
    assert done.state == "authenticated"
    assert done.claims is not None
    assert done.claims["sub"] == emu.users[PHONE].user_id
    assert done.claims["phone_number"] == PHONE
    assert done.claims["iss"] == f"https://{TENANT}/"
    assert done.claims["aud"] == "app-id"
    assert jwks_fetches(emu) == 1


def test_the_jwks_is_cached_then_refreshed(
    driver: Driver, emu: Auth0Emulator, clock: FakeClock
) -> None:
    """A second login reuses the keys; past the TTL they are fetched again."""
    for n in range(2):
        login(driver, emu, n)
    assert jwks_fetches(emu) == 1
    clock.advance(JWKS_TTL + 1)
    login(driver, emu, 2)
    assert jwks_fetches(emu) == 2


def test_a_rotated_key_is_fetched_once(driver: Driver, emu: Auth0Emulator) -> None:
    """After the tenant rotates its key, the unknown kid triggers exactly one refresh."""
    login(driver, emu, 0)
    emu.rotate_signing_key(keep_old=False)
    done = login(driver, emu, 1)
    assert done.state == "authenticated" and done.claims is not None
    assert jwks_fetches(emu) == 2


def test_refresh_answers_are_verified_too(driver: Driver, emu: Auth0Emulator) -> None:
    """The refresh grant's id_token is verified and its claims returned."""
    done = confirm(driver, emu, to_confirm(driver, emu))
    assert done.tokens is not None
    fresh = driver.refresh(done.tokens["refresh_token"])
    assert fresh["claims"]["sub"] == emu.users[PHONE].user_id


def _tenant_sign(emu: Auth0Emulator) -> Callable[[dict[str, Any]], str]:
    def sign(claims: dict[str, Any]) -> str:
        return emu._signing_key().sign(claims)

    return sign


ATTACKS: dict[str, tuple[str, Callable[[Auth0Emulator], Forger]]] = {
    "bad signature": (
        "signature",
        lambda emu: lambda c, h: jwt.encode(c, key_pair("rsa").key, "RS256", headers=h),
    ),
    "wrong iss": (
        "issuer",
        lambda emu: lambda c, h: _tenant_sign(emu)({**c, "iss": "https://evil.example/"}),
    ),
    "another tenant's iss": (
        "issuer",
        lambda emu: lambda c, h: _tenant_sign(emu)({**c, "iss": "https://other.auth0.com/"}),
    ),
    "wrong aud": (
        "audience",
        lambda emu: lambda c, h: _tenant_sign(emu)({**c, "aud": "other-app"}),
    ),
    "aud array without azp": (
        "audience",
        lambda emu: lambda c, h: _tenant_sign(emu)({**c, "aud": ["app-id", "x"]}),
    ),
    "expired": (
        "expired",
        lambda emu: lambda c, h: _tenant_sign(emu)({**c, "exp": c["iat"] - 61}),
    ),
    "issued in the future": (
        "issued_at",
        lambda emu: lambda c, h: _tenant_sign(emu)({**c, "iat": c["iat"] + 120}),
    ),
    "no sub": (
        "claims",
        lambda emu: lambda c, h: _tenant_sign(emu)({k: v for k, v in c.items() if k != "sub"}),
    ),
    "unknown kid": (
        "unknown_kid",
        lambda emu: (
            lambda c, h: jwt.encode(c, key_pair("rsa").key, "RS256", headers={"kid": "attacker"})
        ),
    ),
    "alg none": ("algorithm", lambda emu: lambda c, h: forge(c, {**h, "alg": "none"}, None)),
    "HS256 with the public key": (
        "algorithm",
        lambda emu: lambda c, h: forge(c, {**h, "alg": "HS256"}, emu_public_pem(emu)),
    ),
    "not a JWT": ("malformed", lambda emu: lambda c, h: "not-a-jwt"),
    "not a string": ("malformed", lambda emu: lambda c, h: 12345),
}


def emu_public_pem(emu: Auth0Emulator) -> bytes:
    """The tenant's public key as PEM (what an attacker can read from the JWKS)."""
    from cryptography.hazmat.primitives import serialization

    return (
        emu._signing_key()
        .key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_bad_id_token_is_refused_and_the_flow_not_authenticated(
    attack: str, driver: Driver, emu: Auth0Emulator, tamper: Tamper
) -> None:
    """Each forged id_token raises IdTokenError; the flow keeps no tokens and records the doubt."""
    reason, make = ATTACKS[attack]
    login(driver, emu, 1)  # prime the JWKS cache with a good login
    before = jwks_fetches(emu)
    started = to_confirm(driver, emu)
    flow = started[0]
    tamper.forger = make(emu)
    with pytest.raises(IdTokenError) as info:
        confirm(driver, emu, started)
    assert info.value.reason == reason
    assert info.value.trigger == "confirm_oob"
    assert flow.state == "enrollment_pending"
    assert flow.tokens is None
    assert flow.uncertain is not None
    # At most one refresh of the keys, and only for a kid the cache lacks.
    assert jwks_fetches(emu) - before == (1 if reason == "unknown_kid" else 0)
    assert "eyJ" not in str(info.value) + repr(info.value)


def test_an_unreachable_jwks_refuses_the_login(driver: Driver, emu: Auth0Emulator) -> None:
    """No keys, no login: a JWKS the client cannot fetch is an IdTokenError."""
    emu.add_fault(Fault(JWKS, "status_500", times=1))
    started = to_confirm(driver, emu)
    flow = started[0]
    with pytest.raises(IdTokenError) as info:
        confirm(driver, emu, started)
    assert info.value.reason == "jwks_unavailable"
    assert flow.state != "authenticated" and flow.tokens is None


def test_a_loopback_server_without_tenant_domain_verifies(
    emu: Auth0Emulator, clock: FakeClock
) -> None:
    """Over real HTTP the tenant signs with the host it was reached by, which the client expects."""
    with emu.serve() as server:
        config = Auth0Config(server.base_url, "app-id", "app-secret")
        with FlowClient(config, clock=clock.time) as client:
            flow = client.new_flow()
            client.start_passwordless(flow, connection="sms", phone_number=PHONE)
            client.verify_otp(flow, emu.last_code(PHONE))
            client.enroll(flow, "sms", phone_number=PHONE)
            done = client.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa"))
    assert done.state == "authenticated"
    assert done.claims is not None and done.claims["iss"] == f"https://{config.host}/"
