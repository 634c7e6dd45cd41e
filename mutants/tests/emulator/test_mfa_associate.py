"""Tests of POST /mfa/associate and enrollment confirmation."""

from __future__ import annotations

import re
from typing import Any

import pytest

from flowengine.testing import Auth0Emulator, FakeClock, PushScript

from .conftest import EMAIL, PHONE, Api


def test_otp_associate_shape_and_first_recovery_code(api: Api) -> None:
    """An otp associate answers secret + barcode_uri, and the first one carries recovery_codes."""
    token = api.login_sms()
    resp = api.associate(token, authenticator_types=["otp"])
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"authenticator_type", "secret", "barcode_uri", "recovery_codes"}
    assert body["authenticator_type"] == "otp"
    assert re.fullmatch(r"[A-Z2-7]{32}", body["secret"])
    assert body["barcode_uri"].startswith("otpauth://totp/")
    assert f"secret={body['secret']}" in body["barcode_uri"]
    assert "algorithm=SHA1&digits=6&period=30" in body["barcode_uri"]
    assert len(body["recovery_codes"]) == 1
    assert re.fullmatch(r"[A-Z0-9]{24}", body["recovery_codes"][0])
    again = api.associate(token, authenticator_types=["otp"]).json()
    assert "recovery_codes" not in again


def test_sms_associate_shape_sends_code_and_pairs_voice(api: Api, emu: Auth0Emulator) -> None:
    """An sms associate answers the recorded oob shape, texts a code and enrolls sms+voice."""
    token = api.login_sms()
    resp = api.associate(
        token, authenticator_types=["oob"], oob_channels=["sms"], phone_number=PHONE
    )
    body = resp.json()
    assert set(body) == {
        "authenticator_type",
        "binding_method",
        "recovery_codes",
        "oob_channel",
        "oob_code",
    }
    assert (body["authenticator_type"], body["binding_method"], body["oob_channel"]) == (
        "oob",
        "prompt",
        "sms",
    )
    assert emu.outbox[-1].purpose == "mfa" and emu.outbox[-1].channel == "sms"
    kinds = [(a.type, a.active) for a in emu.authenticators_of(PHONE)]
    assert ("sms", False) in kinds and ("voice", False) in kinds


def test_voice_and_email_associate(api: Api, emu: Auth0Emulator) -> None:
    """Voice and email associates send their code on their own channel."""
    token = api.login_sms()
    resp = api.associate(
        token, authenticator_types=["oob"], oob_channels=["voice"], phone_number=PHONE
    )
    assert resp.json()["oob_channel"] == "voice"
    voice_msg = emu.outbox[-1]
    assert voice_msg.channel == "voice"
    resp = api.associate(token, authenticator_types=["oob"], oob_channels=["email"], email=EMAIL)
    assert resp.json()["oob_channel"] == "email"
    assert "recovery_codes" not in resp.json()
    email_msg = emu.outbox[-1]
    assert email_msg.channel == "email" and email_msg.to == EMAIL


def test_push_associate_shape_and_twin(api: Api, emu: Auth0Emulator) -> None:
    """A push associate has barcode_uri with enrollment_tx_id/base_url, no binding_method."""
    token = api.login_sms()
    body = api.associate(token, authenticator_types=["oob"], oob_channels=["auth0"]).json()
    assert "binding_method" not in body
    assert body["oob_channel"] == "auth0"
    assert "enrollment_tx_id=" in body["barcode_uri"] and "base_url=" in body["barcode_uri"]
    assert {a.type for a in emu.authenticators_of(PHONE)} >= {"push", "totp"}


def test_confirm_sms_enrollment_activates_pair(api: Api, emu: Auth0Emulator) -> None:
    """Confirming with the texted binding code returns tokens and activates sms and voice."""
    api.enroll_sms()
    active = {a.type for a in emu.authenticators_of(PHONE) if a.active}
    assert active == {"sms", "voice", "recovery-code"}


def test_confirm_otp_enrollment(api: Api, emu: Auth0Emulator) -> None:
    """The mfa-otp grant with the current TOTP confirms an otp enrollment."""
    token = api.login_sms()
    secret = api.associate(token, authenticator_types=["otp"]).json()["secret"]
    wrong = api.otp(token, "000000" if emu.totp_code(secret) != "000000" else "111111")
    assert wrong.json() == {"error": "invalid_grant", "error_description": "Invalid otp_code."}
    assert wrong.status_code == 403
    assert api.otp(token, emu.totp_code(secret)).status_code == 200
    assert all(a.active for a in emu.authenticators_of(PHONE))


def test_confirm_push_enrollment(api: Api, emu: Auth0Emulator, clock: FakeClock) -> None:
    """Polling a push enrollment answers pending then tokens, activating push and its twin."""
    emu.push_script = PushScript(pending=1, outcome="approve")
    token = api.login_sms()
    oob = api.associate(token, authenticator_types=["oob"], oob_channels=["auth0"]).json()
    assert api.oob(token, oob["oob_code"]).json()["error"] == "authorization_pending"
    clock.advance(5)
    assert api.oob(token, oob["oob_code"]).status_code == 200
    assert {a.type for a in emu.authenticators_of(PHONE) if a.active} == {
        "push",
        "totp",
        "recovery-code",
    }


def test_already_enrolled_with_mfa_token(api: Api) -> None:
    """An mfa_token associate after an active factor answers 403 User is already enrolled."""
    token, _ = api.enroll_sms()
    resp = api.associate(token, authenticator_types=["otp"])
    assert resp.status_code == 403
    assert resp.json() == {
        "error": "access_denied",
        "error_description": "User is already enrolled",
    }


def test_associate_with_mfa_access_token(api: Api, emu: Auth0Emulator) -> None:
    """An MFA-audience access token with the enroll scope can add a second factor."""
    token = api.login_sms(audience=emu.mfa_audience)
    _, tokens = api.enroll_sms(mfa_token=token)
    assert tokens["expires_in"] == 600
    access = tokens["access_token"]
    resp = api.associate(access, with_creds=False, authenticator_types=["otp"])
    assert resp.status_code == 200
    assert "recovery_codes" not in resp.json()


def test_unconfirmed_stay_inactive(api: Api, emu: Auth0Emulator) -> None:
    """Associating without confirming leaves the authenticators active:false."""
    token = api.login_sms()
    api.associate(token, authenticator_types=["otp"])
    listed = api.list(token).json()
    assert listed and all(item["active"] is False for item in listed)


@pytest.mark.parametrize(
    ("body", "description"),
    [
        (
            {"authenticator_types": ["oob"], "oob_channels": ["sms"], "phone_number": "555"},
            "The phone number is invalid.",
        ),
        (
            {"authenticator_types": ["oob"], "oob_channels": ["voice"]},
            "The phone number is invalid.",
        ),
        ({"authenticator_types": "otp"}, None),
        ({"authenticator_types": ["webauthn"]}, None),
        ({"authenticator_types": ["oob"], "oob_channels": "sms", "phone_number": PHONE}, None),
        ({"authenticator_types": ["oob"], "oob_channels": ["duo"]}, None),
    ],
)
def test_associate_input_checks(api: Api, body: dict[str, Any], description: str | None) -> None:
    """Bad associate bodies answer 400 invalid_request."""
    token = api.login_sms()
    resp = api.associate(token, **body)
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_request"
    if description is not None:
        assert resp.json()["error_description"] == description


def test_associate_auth_checks(api: Api, emu: Auth0Emulator) -> None:
    """Associate needs a good bearer, right client creds if sent, and a JSON body."""
    token = api.login_sms()
    assert api.associate("garbage", authenticator_types=["otp"]).status_code == 401
    api.secret = "wrong"
    assert api.associate(token, authenticator_types=["otp"]).status_code == 401
    api.secret = "app-secret"
    resp = api.associate(token, with_creds=False, authenticator_types=["otp"])
    assert resp.status_code == 200  # creds are optional
    emu.add_client("other", client_secret="other-secret")
    api.client_id, api.secret = "other", "other-secret"
    resp = api.associate(token, authenticator_types=["otp"])
    assert resp.json()["error_description"] == "mfa_token not issued to this client"
    resp = api.http.post(
        "/mfa/associate",
        data={"authenticator_types": "otp"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 400


def test_mfa_token_expires_after_600s(api: Api, clock: FakeClock) -> None:
    """After 600 s every MFA call with the mfa_token answers 403 expired_token."""
    token = api.login_sms()
    clock.advance(599)
    assert api.associate(token, authenticator_types=["otp"]).status_code == 200
    clock.advance(1)
    expired = {"error": "expired_token", "error_description": "mfa_token is expired"}
    for resp in (
        api.associate(token, authenticator_types=["otp"]),
        api.challenge(token),
        api.otp(token, "123456"),
        api.list(token),
    ):
        assert resp.status_code == 403
        assert resp.json() == expired
