"""Private Key JWT end to end: every call with client credentials carries a fresh assertion."""

from __future__ import annotations

from collections.abc import Callable

import jwt
import pytest

from flowengine import Auth0Config, Auth0Error, ConfigurationError
from flowengine.testing import Auth0Emulator, FakeClock
from tests.e2e.conftest import TENANT, Driver
from tests.keypairs import key_pair

PHONE = "+15550100"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(params=["RS256", "PS256", "ES256"])
def pkj(request: pytest.FixtureRequest, emu: Auth0Emulator) -> tuple[str, str]:
    """A client registered with a public key; returns (algorithm, its private PEM)."""
    alg = request.param
    pair = key_pair("ec" if alg == "ES256" else "rsa")
    emu.add_client("pkj-app")
    emu.add_client_key("pkj-app", pair.public_pem, algorithm=alg, key_id="cred-1")
    return alg, pair.private_pem


def login(driver: Driver, emu: Auth0Emulator) -> object:
    """SMS code, enroll SMS, confirm: the whole login."""
    flow = driver.new_flow()
    driver.start_passwordless(flow, connection="sms", phone_number=PHONE)
    driver.verify_otp(flow, emu.last_code(PHONE))
    driver.enroll(flow, "sms", phone_number=PHONE)
    return driver.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa"))


def test_login_refresh_and_revoke_with_a_private_key(
    make_driver: Callable[..., Driver], emu: Auth0Emulator, pkj: tuple[str, str]
) -> None:
    """A private_key_jwt client logs in, refreshes and revokes; no secret ever travels."""
    alg, pem = pkj
    driver = make_driver("pkj-app", None, private_key=pem, key_id="cred-1", algorithm=alg)
    done = login(driver, emu)
    assert done.state == "authenticated"  # type: ignore[attr-defined]
    tokens = done.tokens  # type: ignore[attr-defined]
    assert driver.refresh(tokens["refresh_token"])["access_token"]
    driver.revoke(tokens["refresh_token"])
    calls = [r for r in emu.requests if r.method == "POST"]
    assert [r.path for r in calls] == [
        "/passwordless/start",
        "/oauth/token",
        "/mfa/associate",
        "/oauth/token",
        "/oauth/token",
        "/oauth/revoke",
    ]
    for r in calls:
        assert r.status == 200 or r.path == "/oauth/token", r
        assert r.body is not None
        assert r.body["client_assertion_type"] == JWT_BEARER
        assert r.body["client_assertion"] == "[REDACTED]"
        assert "client_secret" not in r.body


def test_each_request_gets_its_own_assertion(
    make_driver: Callable[..., Driver], emu: Auth0Emulator, clock: FakeClock
) -> None:
    """Assertions carry iss=sub=client, aud=https://tenant/, 60 s of life and a fresh jti."""
    pair = key_pair("rsa")
    emu.add_client("pkj-app")
    emu.add_client_key("pkj-app", pair.public_pem)
    driver = make_driver("pkj-app", None, private_key=pair.private_pem)
    login(driver, emu)
    seen = [s for s in emu.issued_secrets() if s.count(".") == 2]
    claims = []
    for token in seen:
        try:
            claims.append(
                jwt.decode(
                    token,
                    pair.key.public_key(),
                    algorithms=["RS256"],
                    audience=f"https://{TENANT}/",
                    options={"verify_exp": False, "verify_iat": False},
                )
            )
        except jwt.InvalidSignatureError:
            continue  # a token the tenant signed
    assert len(claims) == 4
    assert len({c["jti"] for c in claims}) == 4
    for c in claims:
        assert c["iss"] == c["sub"] == "pkj-app"
        assert c["exp"] - c["iat"] == 60
        assert c["iat"] == int(clock.time())
        assert set(c) == {"iss", "sub", "aud", "iat", "exp", "jti"}


def test_a_wrong_key_is_refused_and_the_flow_is_untouched(
    make_driver: Callable[..., Driver], emu: Auth0Emulator
) -> None:
    """Signing with a key Auth0 does not know gives invalid_client; the flow stays put."""
    emu.add_client("pkj-app")
    emu.add_client_key("pkj-app", key_pair("rsa").public_pem)
    driver = make_driver("pkj-app", None, private_key=key_pair("rsa", 1).private_pem)
    flow = driver.new_flow()
    with pytest.raises(Auth0Error) as info:
        driver.start_passwordless(flow, connection="sms", phone_number=PHONE)
    assert info.value.status_code == 401
    assert info.value.error == "invalid_client"
    assert flow.state == "started" and flow.seq == 0
    assert key_pair("rsa", 1).private_pem not in str(info.value) + repr(info.value)


def test_a_resend_after_a_lost_answer_signs_a_new_assertion(
    make_driver: Callable[..., Driver], emu: Auth0Emulator
) -> None:
    """The tenant spent the first jti before the answer was lost; the resend still passes."""
    from flowengine import TransportError
    from flowengine.testing import Fault

    pair = key_pair("rsa")
    emu.add_client("pkj-app")
    emu.add_client_key("pkj-app", pair.public_pem)
    driver = make_driver("pkj-app", None, private_key=pair.private_pem)
    emu.add_fault(Fault("/passwordless/start", "reset", times=1))
    flow = driver.new_flow()
    with pytest.raises(TransportError):
        driver.start_passwordless(flow, connection="sms", phone_number=PHONE)
    assert flow.uncertain is not None
    assert driver.resend_code(flow).state == "code_sent"
    assert [r.status for r in emu.requests] == [None, 200]


def test_configuration_checks_the_key() -> None:
    """Garbage, a short RSA key, a key for the wrong algorithm or a secret beside it are refused."""
    rsa_pem = key_pair("rsa").private_pem
    cases = [
        {"private_key": "not a key"},
        {"private_key": key_pair("rsa1024").private_pem},
        {"private_key": rsa_pem, "algorithm": "ES256"},
        {"private_key": key_pair("ec").private_pem, "algorithm": "RS256"},
        {"private_key": rsa_pem, "algorithm": "HS256"},
        {"private_key": rsa_pem, "client_secret": "s"},
        {"key_id": "k1"},
        {"private_key": rsa_pem, "key_id": "bad kid"},
    ]
    for kw in cases:
        with pytest.raises(ConfigurationError) as info:
            Auth0Config(TENANT, "pkj-app", **kw)  # type: ignore[arg-type]
        text = str(info.value) + repr(info.value)
        assert "PRIVATE KEY" not in text and rsa_pem not in text


def test_the_private_key_never_shows(emu: Auth0Emulator) -> None:
    """The key is not in the config's repr and does not take part in equality."""
    pem = key_pair("rsa").private_pem
    config = Auth0Config(TENANT, "pkj-app", private_key=pem, key_id="k1")
    text = repr(config) + str(config)
    for line in key_pair("rsa").secrets():
        assert line not in text
    other = Auth0Config(TENANT, "pkj-app", private_key=key_pair("rsa", 1).private_pem, key_id="k1")
    assert config == other
    assert config.client_auth() == {"client_id": "pkj-app", "client_assertion_type": JWT_BEARER}
