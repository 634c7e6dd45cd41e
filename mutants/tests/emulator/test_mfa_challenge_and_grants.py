"""Tests of POST /mfa/challenge and the mfa-oob / mfa-otp / mfa-recovery-code grants."""

from __future__ import annotations

import pytest

from flowengine.testing import Auth0Emulator, FakeClock, PushScript

from .conftest import EMAIL, PHONE, Api


def test_challenge_not_enrolled(api: Api) -> None:
    """A user with no active authenticator gets 401 unsupported_challenge_type."""
    token = api.login_sms()
    api.associate(token, authenticator_types=["otp"])  # unconfirmed: still not enrolled
    resp = api.challenge(token)
    assert resp.status_code == 401
    assert resp.json() == {
        "error": "unsupported_challenge_type",
        "error_description": "User is not enrolled. You can use /mfa/associate endpoint to "
        "enroll the first authenticator.",
    }


def test_challenge_bearer_only_is_refused(api: Api) -> None:
    """The mfa_token must be in the body: a Bearer-only challenge answers 400 invalid_request."""
    token, _ = api.enroll_sms()
    resp = api.http.post(
        "/mfa/challenge",
        json={"client_id": "app-id", "client_secret": "app-secret", "challenge_type": "oob"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 400
    assert resp.json() == {
        "error": "invalid_request",
        "error_description": "Missing required parameter: mfa_token",
    }


def test_challenge_sms_and_verify(api: Api, emu: Auth0Emulator) -> None:
    """An SMS challenge answers oob_code + binding_method and the texted code verifies once."""
    api.enroll_sms()
    token = api.login_sms()
    body = api.challenge(token, challenge_type="oob").json()
    assert set(body) == {"challenge_type", "oob_code", "binding_method"}
    code = emu.last_code(PHONE, purpose="mfa")
    resp = api.oob(token, body["oob_code"], code)
    assert resp.status_code == 200 and resp.json()["token_type"] == "Bearer"
    again = api.oob(token, body["oob_code"], code)
    assert (again.status_code, again.json()["error"]) == (403, "invalid_grant")


def test_challenge_as_form_and_client_auth(api: Api) -> None:
    """Challenge accepts form bodies and needs the client's credentials."""
    api.enroll_sms()
    token = api.login_sms()
    assert api.challenge(token, as_form=True).status_code == 200
    api.secret = None
    assert api.challenge(token).status_code == 401


def test_binding_code_rules(api: Api, emu: Auth0Emulator, clock: FakeClock) -> None:
    """Wrong → 403 Invalid binding_code.; missing → 400; past 300 s → 403 expired_token."""
    api.enroll_sms()
    token = api.login_sms()
    oob = api.challenge(token).json()["oob_code"]
    code = emu.last_code(PHONE, purpose="mfa")
    wrong = "000000" if code != "000000" else "111111"
    resp = api.oob(token, oob, wrong)
    assert resp.status_code == 403
    assert resp.json() == {"error": "invalid_grant", "error_description": "Invalid binding_code."}
    resp = api.oob(token, oob)
    assert resp.status_code == 400
    assert resp.json()["error_description"] == "binding_code is required"
    clock.advance(300)
    resp = api.oob(token, oob, code)
    assert (resp.status_code, resp.json()["error"]) == (403, "expired_token")


def test_binding_code_valid_until_300s(api: Api, emu: Auth0Emulator, clock: FakeClock) -> None:
    """An MFA code still works at 299 s."""
    api.enroll_sms()
    token = api.login_sms()
    oob = api.challenge(token).json()["oob_code"]
    clock.advance(299)
    assert api.oob(token, oob, emu.last_code(PHONE, purpose="mfa")).status_code == 200


def test_oob_code_of_another_mfa_token(api: Api) -> None:
    """An oob_code used with another mfa_token answers 400 'doesn't match'."""
    api.enroll_sms()
    first = api.login_sms()
    oob = api.challenge(first).json()["oob_code"]
    second = api.login_sms()
    resp = api.oob(second, oob, api.emu.last_code(PHONE, purpose="mfa"))
    assert resp.status_code == 400
    assert resp.json()["error_description"] == "The oob_code doesn't match the mfa_token"


def test_mfa_token_bound_to_client(api: Api, emu: Auth0Emulator) -> None:
    """An mfa_token used by another client answers 400 'mfa_token not issued to this client'."""
    api.enroll_sms()
    token = api.login_sms()
    emu.add_client("other", client_secret=None)
    api.client_id, api.secret = "other", None
    resp = api.challenge(token)
    assert resp.status_code == 400
    assert resp.json()["error_description"] == "mfa_token not issued to this client"


def test_malformed_mfa_token(api: Api) -> None:
    """An unknown mfa_token answers 403 invalid_grant Malformed mfa_token."""
    resp = api.otp("Fe26.2*garbage", "123456")
    assert resp.status_code == 403
    assert resp.json() == {"error": "invalid_grant", "error_description": "Malformed mfa_token"}


def test_push_script_pending_then_approve(api: Api, emu: Auth0Emulator, clock: FakeClock) -> None:
    """A push answers authorization_pending N polls (400) and then tokens."""
    emu.add_passwordless_user(PHONE)
    emu.enroll(PHONE, "push")
    emu.push_script = PushScript(pending=2, outcome="approve")
    token = api.login_sms()
    body = api.challenge(token).json()
    assert set(body) == {"challenge_type", "oob_code"}
    for _ in range(2):
        resp = api.oob(token, body["oob_code"])
        assert resp.status_code == 400
        assert resp.json() == {
            "error": "authorization_pending",
            "error_description": "Authorization pending: please repeat the request in a few "
            "seconds.",
        }
        clock.advance(5)
    assert api.oob(token, body["oob_code"]).status_code == 200


def test_push_script_reject_is_terminal(api: Api, emu: Auth0Emulator, clock: FakeClock) -> None:
    """A rejected push answers 400 access_denied, and keeps doing so."""
    emu.add_passwordless_user(PHONE)
    emu.enroll(PHONE, "push")
    emu.push_script = PushScript(pending=0, outcome="reject")
    token = api.login_sms()
    oob = api.challenge(token).json()["oob_code"]
    for _ in range(2):
        resp = api.oob(token, oob)
        assert resp.status_code == 400
        assert resp.json() == {
            "error": "access_denied",
            "error_description": "MFA Authorization rejected.",
        }
        clock.advance(5)


def test_push_slow_down(api: Api, emu: Auth0Emulator, clock: FakeClock) -> None:
    """Polling the same oob_code sooner than push_poll_interval answers 400 slow_down."""
    emu.add_passwordless_user(PHONE)
    emu.enroll(PHONE, "push")
    emu.push_script = PushScript(pending=5, outcome="never")
    token = api.login_sms()
    oob = api.challenge(token).json()["oob_code"]
    assert api.oob(token, oob).json()["error"] == "authorization_pending"
    clock.advance(4.9)
    resp = api.oob(token, oob)
    assert (resp.status_code, resp.json()["error"]) == (400, "slow_down")
    clock.advance(5)
    assert api.oob(token, oob).json()["error"] == "authorization_pending"


def test_manual_approve_and_reject(api: Api, emu: Auth0Emulator, clock: FakeClock) -> None:
    """approve_push()/reject_push() settle the latest pending push at once."""
    emu.add_passwordless_user(PHONE)
    emu.enroll(PHONE, "push")
    emu.push_script = PushScript(pending=0, outcome="never")
    token = api.login_sms()
    oob = api.challenge(token).json()["oob_code"]
    assert api.oob(token, oob).json()["error"] == "authorization_pending"
    emu.approve_push()
    assert api.oob(token, oob).status_code == 200  # settled: no slow_down even when fast
    oob2 = api.challenge(token).json()["oob_code"]
    emu.reject_push(oob_code=oob2)
    assert api.oob(token, oob2).json()["error"] == "access_denied"
    with pytest.raises(LookupError):
        emu.approve_push()


def test_challenge_otp_and_selection(api: Api, emu: Auth0Emulator) -> None:
    """challenge_type and authenticator_id pick the factor; unknown ids answer 400."""
    emu.add_passwordless_user(PHONE)
    otp = emu.enroll(PHONE, "otp")
    sms = emu.enroll(PHONE, "sms", phone_number=PHONE)
    token = api.login_sms()
    assert api.challenge(token, challenge_type="otp").json() == {"challenge_type": "otp"}
    assert api.challenge(token).json() == {"challenge_type": "otp"}  # totp before sms
    body = api.challenge(token, challenge_type="oob").json()
    assert body["binding_method"] == "prompt"
    assert api.challenge(token, authenticator_id=otp.id).json() == {"challenge_type": "otp"}
    assert "oob_code" in api.challenge(token, authenticator_id=sms.id).json()
    resp = api.challenge(token, authenticator_id="sms|dev_nope")
    assert (resp.status_code, resp.json()["error"]) == (400, "invalid_request")
    resp = api.challenge(token, authenticator_id=otp.id, challenge_type="oob")
    assert (resp.status_code, resp.json()["error"]) == (400, "unsupported_challenge_type")
    resp = api.challenge(token, challenge_type="sms")
    assert resp.status_code == 400


def test_email_challenge(api: Api, emu: Auth0Emulator) -> None:
    """An email factor challenge mails the code to the enrolled address."""
    emu.add_passwordless_user(PHONE)
    emu.enroll(PHONE, "email", email=EMAIL)
    token = api.login_sms()
    body = api.challenge(token).json()
    assert body["binding_method"] == "prompt"
    assert emu.outbox[-1].channel == "email" and emu.outbox[-1].to == EMAIL
    assert api.oob(token, body["oob_code"], emu.last_code(EMAIL)).status_code == 200


def test_sms_throttle(api: Api, emu: Auth0Emulator) -> None:
    """The 11th SMS to a user within the hour answers 400 Too many SMS sent."""
    emu.add_passwordless_user(PHONE)
    emu.enroll(PHONE, "sms", phone_number=PHONE)
    token = api.login_sms()
    for _ in range(10):
        assert api.challenge(token).status_code == 200
    resp = api.challenge(token)
    assert resp.status_code == 400
    assert resp.json() == {
        "error": "invalid_request",
        "error_description": "Too many SMS sent by the user. Wait for some minutes before "
        "retrying.",
    }


def test_otp_previous_window_accepted(api: Api, emu: Auth0Emulator, clock: FakeClock) -> None:
    """mfa-otp accepts the current and the previous 30 s code, but not older ones."""
    emu.add_passwordless_user(PHONE)
    secret = emu.enroll(PHONE, "otp").secret
    assert secret is not None
    token = api.login_sms()
    now = clock.time()
    assert api.otp(token, emu.totp_code(secret, now - 30)).status_code == 200
    stale = emu.totp_code(secret, now - 60)
    if stale not in (emu.totp_code(secret, now), emu.totp_code(secret, now - 30)):
        assert api.otp(token, stale).status_code == 403


def test_otp_without_otp_authenticator(api: Api, emu: Auth0Emulator) -> None:
    """mfa-otp for a user without an otp authenticator answers 403 unsupported_challenge_type."""
    api.enroll_sms()
    token = api.login_sms()
    resp = api.otp(token, "123456")
    assert (resp.status_code, resp.json()["error"]) == (403, "unsupported_challenge_type")


def test_failed_code_budget(api: Api, emu: Auth0Emulator) -> None:
    """After 10 failed MFA codes the user must wait (400 Too many failed codes)."""
    emu.add_passwordless_user(PHONE)
    secret = emu.enroll(PHONE, "otp").secret
    assert secret is not None
    token = api.login_sms()
    right = emu.totp_code(secret)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(10):
        assert api.otp(token, wrong).status_code == 403
    resp = api.otp(token, right)
    assert resp.status_code == 400
    assert resp.json()["error_description"].startswith("Too many failed codes")


def test_recovery_code_rotation(api: Api, emu: Auth0Emulator) -> None:
    """A recovery code works once and the answer carries a NEW code that replaces it."""
    api.enroll_sms()
    old = emu.recovery_code_of(PHONE)
    assert old is not None
    token = api.login_sms()
    resp = api.recovery(token, old)
    assert resp.status_code == 200
    new = resp.json()["recovery_code"]
    assert new != old and len(new) == 24 and new.isalnum() and new.isupper()
    resp = api.recovery(token, old)
    assert resp.status_code == 403
    assert resp.json() == {
        "error": "invalid_grant",
        "error_description": "MFA Authorization rejected.",
    }
    assert api.recovery(token, new).status_code == 200


def test_recovery_code_none(api: Api) -> None:
    """A user without a recovery code gets 403 unsupported_challenge_type."""
    token = api.login_sms()
    resp = api.recovery(token, "A" * 24)
    assert resp.status_code == 403
    assert resp.json() == {
        "error": "unsupported_challenge_type",
        "error_description": "User does not have a recovery-code.",
    }


def test_push_expires_after_300s(api: Api, emu: Auth0Emulator, clock: FakeClock) -> None:
    """An unanswered push oob_code answers 403 expired_token after 300 s."""
    emu.add_passwordless_user(PHONE)
    emu.enroll(PHONE, "push")
    emu.push_script = PushScript(pending=0, outcome="never")
    token = api.login_sms()
    oob = api.challenge(token).json()["oob_code"]
    clock.advance(299)
    assert api.oob(token, oob).json()["error"] == "authorization_pending"
    clock.advance(1)
    resp = api.oob(token, oob)
    assert (resp.status_code, resp.json()["error"]) == (403, "expired_token")
