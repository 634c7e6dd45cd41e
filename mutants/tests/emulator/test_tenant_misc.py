"""Tests of rate limits, routing, the request log, secrets and determinism."""

from __future__ import annotations

import threading

import httpx
import pytest

from flowengine.testing import Auth0Emulator, FakeClock, OutboxMessage

from .conftest import EMAIL, PHONE, Api


def test_rate_limit_headers_on_success(api: Api, clock: FakeClock) -> None:
    """Successful passwordless/start answers carry x-ratelimit-* with an epoch reset."""
    resp = api.start_sms()
    assert resp.headers["x-ratelimit-limit"] == "50"
    assert resp.headers["x-ratelimit-remaining"] == "49"
    reset = int(resp.headers["x-ratelimit-reset"])
    assert clock.time() < reset <= clock.time() + 72  # epoch seconds, 1 request per 72 s


def test_51st_start_is_429(api: Api, clock: FakeClock) -> None:
    """The 51st /passwordless/start in an hour from one IP answers 429 until the reset."""
    for _ in range(50):
        assert api.start_sms().status_code == 200
    resp = api.start_sms()
    assert resp.status_code == 429
    assert resp.json()["error"] == "too_many_requests"
    assert resp.headers["x-ratelimit-remaining"] == "0"
    reset = int(resp.headers["x-ratelimit-reset"])
    assert reset > clock.time()
    clock.advance(reset - clock.time() - 1)
    assert api.start_sms().status_code == 429
    clock.advance(1)
    assert api.start_sms().status_code == 200


def test_rate_limit_per_ip(emu: Auth0Emulator) -> None:
    """Buckets are per client IP."""
    emu.rate_limit("/passwordless/start", 1, 60)
    for ip in ("10.0.0.1", "10.0.0.2"):
        with httpx.Client(base_url=emu.base_url, transport=emu.transport(client_ip=ip)) as c:
            api = Api(emu, c)
            assert api.start_sms().status_code == 200
            assert api.start_sms().status_code == 429


def test_forwarded_for_honoured_only_when_trusted(emu: Auth0Emulator, http: httpx.Client) -> None:
    """auth0-forwarded-for picks the bucket only for a trusting client using its secret."""
    emu.rate_limit("/passwordless/start", 1, 60)
    emu.add_client("proxy", client_secret="proxy-secret", trust_forwarded_for=True)
    api = Api(emu, http, client_id="proxy", secret="proxy-secret")
    for ip in ("1.1.1.1", "2.2.2.2"):
        resp = http.post(
            "/passwordless/start",
            json={**api.creds(), "connection": "sms", "phone_number": PHONE},
            headers={"auth0-forwarded-for": ip},
        )
        assert resp.status_code == 200
    untrusted = Api(emu, http)  # app-id does not trust the header: all share 127.0.0.1
    assert untrusted.start_sms().status_code == 200
    assert untrusted.start_sms().status_code == 429


def test_configurable_rate_limit_on_token(api: Api, emu: Auth0Emulator) -> None:
    """rate_limit() can limit /oauth/token too, with headers on every answer."""
    emu.rate_limit("/oauth/token", 2, 1)
    for _ in range(2):
        resp = api.token(grant_type="refresh_token", refresh_token="x")
        assert resp.status_code == 403 and "x-ratelimit-limit" in resp.headers
    assert api.token(grant_type="refresh_token", refresh_token="x").status_code == 429


def test_not_found_and_method_not_allowed(http: httpx.Client) -> None:
    """An unknown path is 404; a wrong method is 405 method_not_allowed."""
    assert http.get("/nope").status_code == 404
    resp = http.get("/oauth/token")
    assert resp.status_code == 405
    assert resp.json()["error"] == "method_not_allowed"
    assert resp.headers["allow"] == "POST"
    assert http.post("/mfa/authenticators").status_code == 405


def test_request_log_redacts_secrets(api: Api, emu: Auth0Emulator) -> None:
    """emu.requests never holds a secret: bodies and Authorization are redacted."""
    token, _ = api.enroll_sms()
    api.list(token)
    code = emu.recovery_code_of(PHONE)
    assert code is not None
    api.recovery(api.login_sms(), code)
    log = repr(emu.requests)
    for secret in emu.issued_secrets():
        assert secret not in log
    assert any(r.body and r.body.get("mfa_token") == "[REDACTED]" for r in emu.requests)
    assert any(r.headers.get("authorization") == "[REDACTED]" for r in emu.requests)
    statuses = [r.status for r in emu.requests]
    assert 200 in statuses and 403 in statuses


def test_issued_secrets_cover_everything(api: Api, emu: Auth0Emulator) -> None:
    """issued_secrets() contains codes, mfa_tokens, oob_codes, tokens and recovery codes."""
    token = api.login_sms()
    secrets = emu.issued_secrets()
    assert token in secrets and "app-secret" in secrets
    assert all(m.code in secrets for m in emu.outbox if m.code)
    body = api.associate(
        token, authenticator_types=["oob"], oob_channels=["sms"], phone_number=PHONE
    ).json()
    assert body["oob_code"] in emu.issued_secrets()
    assert body["recovery_codes"][0] in emu.issued_secrets()
    tokens = api.oob(token, body["oob_code"], emu.last_code(PHONE, purpose="mfa")).json()
    assert tokens["access_token"] in emu.issued_secrets()


def test_reprs_hold_no_secrets(api: Api, emu: Auth0Emulator) -> None:
    """Reprs of outbox messages, authenticators and the emulator show no secret."""
    emu.add_passwordless_user(PHONE)
    info = emu.enroll(PHONE, "otp")
    api.start_sms()
    text = repr(emu.outbox) + repr(info) + repr(emu) + repr(emu.authenticators_of(PHONE))
    for secret in emu.issued_secrets():
        assert secret not in text
    assert isinstance(emu.outbox[0], OutboxMessage)


def test_seed_makes_runs_identical() -> None:
    """Two emulators with the same seed and clock issue identical codes and tokens."""

    def run() -> list[object]:
        clock = FakeClock()
        emu = Auth0Emulator(clock=clock.time, sleep=clock.sleep, seed=42)
        emu.add_client("app-id", client_secret="app-secret")
        with httpx.Client(base_url=emu.base_url, transport=emu.transport()) as http:
            api = Api(emu, http)
            token = api.login_sms()
            return [token, emu.last_code(PHONE), api.start_email(send="code").json()]

    assert run() == run()


def test_unseeded_codes_differ() -> None:
    """Without a seed, two tenants issue different mfa_tokens."""
    tokens = set()
    for _ in range(2):
        clock = FakeClock()
        emu = Auth0Emulator(clock=clock.time)
        emu.add_client("app-id", client_secret="app-secret")
        with httpx.Client(base_url=emu.base_url, transport=emu.transport()) as http:
            tokens.add(Api(emu, http).login_sms())
    assert len(tokens) == 2


def test_last_code_lookup_errors(emu: Auth0Emulator, api: Api) -> None:
    """last_code raises LookupError for an address that got nothing."""
    with pytest.raises(LookupError):
        emu.last_code(EMAIL)
    api.start_email(send="code")
    assert emu.last_code(EMAIL.upper()) == emu.outbox[-1].code


def test_totp_helper_matches_pyotp(emu: Auth0Emulator, clock: FakeClock) -> None:
    """totp_code follows the injected clock and RFC 6238."""
    import pyotp

    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # RFC 6238 SHA1 seed "12345678901234567890"
    assert emu.totp_code(secret) == pyotp.TOTP(secret).at(int(clock.time()))
    assert emu.totp_code(secret, at=59) == "287082"  # RFC 6238 vector 94287082, 6 digits


def test_fake_clock() -> None:
    """FakeClock only moves forward when told."""
    clock = FakeClock(start=100.0)
    assert clock() == clock.time() == 100.0
    clock.sleep(2.5)
    assert clock.advance(1) == 103.5
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_handle_is_thread_safe(emu: Auth0Emulator) -> None:
    """Concurrent logins from 20 threads each get their own code and mfa_token."""
    emu.rate_limit("/passwordless/start", None)
    errors: list[BaseException] = []
    tokens: list[str] = []

    def login(i: int) -> None:
        phone = f"+1555555{i:04d}"
        try:
            with httpx.Client(base_url=emu.base_url, transport=emu.transport()) as http:
                tokens.append(Api(emu, http).login_sms(phone))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=login, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(tokens)) == 20
    assert len(emu.users) == 20
