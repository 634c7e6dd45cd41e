"""Tests of /passwordless/start and the passwordless OTP grant."""

from __future__ import annotations

import httpx
import pytest

from flowengine.testing import Auth0Emulator, FakeClock

from .conftest import EMAIL, PHONE, Api


def test_sms_start_body_and_outbox(api: Api, emu: Auth0Emulator) -> None:
    """An SMS start answers the recorded {_id, phone_number, phone_verified} and sends a code."""
    resp = api.start_sms()
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"_id", "phone_number", "phone_verified"}
    assert body["phone_number"] == PHONE
    msg = emu.outbox[-1]
    assert (msg.channel, msg.to, msg.purpose) == ("sms", PHONE, "passwordless")
    assert msg.code is not None and len(msg.code) == 6 and msg.code.isdigit()


def test_email_send_code_and_link(api: Api, emu: Auth0Emulator) -> None:
    """Email with send:"code" sends a code; with send omitted it sends a link and no code."""
    resp = api.start_email(send="code")
    assert resp.status_code == 200
    assert set(resp.json()) == {"_id", "email", "email_verified"}
    assert len(emu.last_code(EMAIL)) == 6
    assert api.start_email().status_code == 200
    assert emu.outbox[-1].code is None
    assert "verification_code=" in emu.last_link(EMAIL)
    with pytest.raises(LookupError):
        emu.last_code(EMAIL)
    # the link superseded the code, and a link is not usable with the OTP grant
    resp = api.verify_otp(EMAIL, otp="000000", realm="email")
    assert resp.json()["error_description"] == "Wrong email or verification code."


def test_sms_without_send_is_a_code(api: Api, emu: Auth0Emulator) -> None:
    """An SMS start without "send" still sends a usable code (SDKs omit it for SMS)."""
    api.start_sms()
    assert emu.outbox[-1].code is not None


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"connection": "sms", "phone_number": "5555550100"}, "bad.phone_number"),
        ({"connection": "sms", "phone_number": "+1234567890123456"}, "bad.phone_number"),
        ({"connection": "sms"}, "bad.phone_number"),
        ({"connection": "email", "email": "not-an-email"}, "bad.email"),
        ({"connection": "email"}, "bad.email"),
        ({"connection": "whatsapp", "phone_number": PHONE}, "bad.connection"),
        ({"phone_number": PHONE}, "bad.connection"),
        ({"connection": "sms", "phone_number": PHONE, "extra": 1}, "bad.request"),
        ({"connection": "sms", "phone_number": PHONE, "authParams": "x"}, "bad.authParams"),
        ({"connection": "sms", "phone_number": PHONE, "send": "carrier-pigeon"}, "bad.request"),
    ],
)
def test_start_input_checks(api: Api, fields: dict[str, object], error: str) -> None:
    """Bad /passwordless/start bodies answer 400 with the documented bad.* codes."""
    resp = api.start(**fields)
    assert resp.status_code == 400
    assert resp.json()["error"] == error


def test_start_client_auth(api: Api, public_api: Api, http: httpx.Client) -> None:
    """A confidential client needs its secret (401); missing client_id is 400 bad.client_id."""
    api.secret = "wrong"
    assert api.start_sms().status_code == 401
    api.secret = None
    resp = api.start_sms()
    assert (resp.status_code, resp.json()["error"]) == (401, "invalid_client")
    assert public_api.start_sms().status_code == 200
    resp = http.post("/passwordless/start", json={"connection": "sms", "phone_number": PHONE})
    assert (resp.status_code, resp.json()["error"]) == (400, "bad.client_id")
    resp = http.post("/passwordless/start", data={"client_id": "public-id", "connection": "sms"})
    assert resp.status_code == 400  # JSON only


def test_verify_creates_user_then_mfa_required(api: Api, emu: Auth0Emulator) -> None:
    """The first verified code creates the user; policy "always" answers mfa_required."""
    api.start_sms()
    assert PHONE not in emu.users
    resp = api.verify_otp()
    assert resp.status_code == 403
    body = resp.json()
    assert body["error"] == "mfa_required"
    assert body["error_description"] == "Multifactor authentication required"
    assert body["mfa_token"].startswith("Fe26.2*")
    assert emu.users[PHONE].user_id.startswith("sms|")


def test_code_expires_after_180s(api: Api, clock: FakeClock) -> None:
    """A passwordless code is valid for 180 s of the injected clock, not after."""
    api.start_sms()
    code = api.emu.last_code(PHONE)
    clock.advance(180)
    resp = api.verify_otp(otp=code)
    assert resp.status_code == 403
    assert resp.json() == {
        "error": "invalid_grant",
        "error_description": "Wrong phone number or verification code.",
    }
    api.start_sms()
    clock.advance(179)
    assert api.verify_otp().json()["error"] == "mfa_required"


def test_three_wrong_tries_kill_the_code(api: Api) -> None:
    """After 3 wrong tries even the right code is refused."""
    api.start_sms()
    code = api.emu.last_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(2):
        assert api.verify_otp(otp=wrong).status_code == 403
    assert api.verify_otp(otp=code).json()["error"] == "mfa_required"  # 2 wrong: still alive
    api.start_sms()
    code = api.emu.last_code(PHONE)
    for _ in range(3):
        assert api.verify_otp(otp=wrong).status_code == 403
    assert api.verify_otp(otp=code).json()["error"] == "invalid_grant"


def test_only_latest_code_and_single_use(api: Api) -> None:
    """A new start invalidates the previous code, and a code works once."""
    api.start_sms()
    old = api.emu.last_code(PHONE)
    api.start_sms()
    new = api.emu.last_code(PHONE)
    assert old != new  # seeded: deterministic, distinct
    assert api.verify_otp(otp=old).json()["error"] == "invalid_grant"
    assert api.verify_otp(otp=new).json()["error"] == "mfa_required"
    assert api.verify_otp(otp=new).json()["error"] == "invalid_grant"


def test_realm_must_match_connection(api: Api) -> None:
    """A code sent by SMS is not accepted with realm=email."""
    api.start_sms()
    resp = api.verify_otp(realm="email")
    assert resp.json()["error_description"] == "Wrong email or verification code."
    resp = api.verify_otp(realm="sms")
    assert resp.json()["error"] == "mfa_required"


def test_verify_accepts_json_body(api: Api) -> None:
    """The OTP grant accepts a JSON body as well as a form body."""
    api.start_sms()
    code = api.emu.last_code(PHONE)
    resp = api.verify_otp(otp=code, as_json=True)
    assert resp.json()["error"] == "mfa_required"


def test_policy_never_issues_tokens(emu: Auth0Emulator, api: Api) -> None:
    """With mfa_policy "never" the OTP grant answers tokens, with scope-driven extras."""
    emu.mfa_policy = "never"
    api.start_sms()
    resp = api.verify_otp(scope="openid offline_access", audience="https://api.example.com")
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86400
    assert body["scope"] == "openid offline_access"
    assert {"access_token", "id_token", "refresh_token"} <= set(body)
    api.start_sms()
    body = api.verify_otp().json()
    assert "id_token" not in body and "refresh_token" not in body and "scope" not in body


def test_policy_never_with_mfa_audience(emu: Auth0Emulator, api: Api) -> None:
    """Policy "never" + MFA audience: an MFA token without a factor, mfa_required with one."""
    emu.mfa_policy = "never"
    api.start_sms()
    resp = api.verify_otp(audience=emu.mfa_audience)
    assert resp.status_code == 200
    assert resp.json()["expires_in"] == 600
    assert resp.json()["scope"] == "enroll read:authenticators remove:authenticators"
    emu.enroll(PHONE, "sms", phone_number=PHONE)
    api.start_sms()
    assert api.verify_otp(audience=emu.mfa_audience).json()["error"] == "mfa_required"
    api.start_sms()
    assert api.verify_otp().status_code == 200  # another audience: no MFA


def test_unauthorized_client(emu: Auth0Emulator, api: Api) -> None:
    """A grant the client may not use answers 403 unauthorized_client with error_uri."""
    emu.add_client("spa", client_secret=None, grant_types=["refresh_token"])
    api.client_id, api.secret = "spa", None
    api.start_sms()
    resp = api.verify_otp()
    assert resp.status_code == 403
    assert resp.json() == {
        "error": "unauthorized_client",
        "error_description": "Grant type 'http://auth0.com/oauth/grant-type/passwordless/otp' "
        "not allowed for the client.",
        "error_uri": "https://auth0.com/docs/clients/client-grant-types",
    }
