"""End to end against the emulator: the seed and every other factor, through both drivers."""

from __future__ import annotations

import pytest

from flowengine import (
    FlowExpiredError,
    FlowRejectedError,
    GuardRejectedError,
    IllegalTransitionError,
    InvalidInputError,
)
from flowengine.testing import Auth0Emulator, FakeClock, PushScript

from .conftest import Driver

PHONE = "+15550100"
EMAIL = "ada@example.com"


def first_factor_sms(  # type: ignore[no-untyped-def]
    d: Driver, emu: Auth0Emulator, phone: str = PHONE, scope: str | None = None
):
    flow = d.new_flow()
    d.start_passwordless(flow, connection="sms", phone_number=phone)
    assert flow.state == "code_sent"
    result = d.verify_otp(flow, emu.last_code(phone), scope=scope)
    assert result.state == "mfa_required"
    return flow


def test_seed_sequence(driver: Driver, emu: Auth0Emulator) -> None:
    """The seed: passwordless SMS, verify, enroll SMS, confirm with the binding code."""
    flow = first_factor_sms(driver, emu)
    enrolled = driver.enroll(flow, "sms", phone_number=PHONE)
    assert flow.state == "enrollment_pending"
    assert len(enrolled.data["recovery_codes"][0]) == 24
    done = driver.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa"))
    assert done.state == "authenticated"
    assert done.data["tokens"]["access_token"]
    assert flow.path() == [
        "started",
        "code_sent",
        "mfa_required",
        "enrollment_pending",
        "authenticated",
    ]
    assert [a.active for a in emu.authenticators_of(PHONE) if a.type == "sms"] == [True]


@pytest.mark.parametrize("factor", ["email", "voice"])
def test_enroll_email_and_voice(driver: Driver, emu: Auth0Emulator, factor: str) -> None:
    """Email and voice enrollments confirm with the code the tenant sent."""
    flow = first_factor_sms(driver, emu)
    if factor == "email":
        driver.enroll(flow, "email", email=EMAIL)
        code = emu.last_code(EMAIL, purpose="mfa")
    else:
        driver.enroll(flow, "voice", phone_number="+15550111")
        code = emu.last_code("+15550111", purpose="mfa")
    assert driver.confirm_oob(flow, code).state == "authenticated"


def test_totp_enrollment_and_login(driver: Driver, emu: Auth0Emulator) -> None:
    """TOTP enrolls with a secret, confirms with mfa-otp, and later logs in with no challenge."""
    flow = first_factor_sms(driver, emu)
    enrolled = driver.enroll(flow, "otp")
    secret = enrolled.data["secret"]
    assert enrolled.data["barcode_uri"].startswith("otpauth://totp/")
    assert driver.confirm_otp(flow, emu.totp_code(secret)).state == "authenticated"
    second = first_factor_sms(driver, emu)
    assert driver.confirm_otp(second, emu.totp_code(secret)).state == "authenticated"


def test_wrong_totp_stays_and_counts(driver: Driver, emu: Auth0Emulator) -> None:
    """A wrong TOTP is an outcome: the flow stays and counts the attempt."""
    flow = first_factor_sms(driver, emu)
    secret = driver.enroll(flow, "otp").data["secret"]
    good = emu.totp_code(secret)
    bad = "000000" if good != "000000" else "111111"
    result = driver.confirm_otp(flow, bad)
    assert (result.outcome, result.state, result.data["attempts"]) == (
        "wrong_code",
        "enrollment_pending",
        1,
    )
    assert driver.confirm_otp(flow, good).state == "authenticated"


def test_push_approved_after_pending(driver: Driver, emu: Auth0Emulator) -> None:
    """A push answers pending, then approval yields tokens; polling waits out the interval."""
    emu.push_script = PushScript(pending=2, outcome="approve")
    flow = first_factor_sms(driver, emu)
    enrolled = driver.enroll(flow, "push")
    assert enrolled.data["retry_after"] == 5.0
    first = driver.poll_push(flow)
    assert first.data == {"pending": True, "retry_after": 5.0}
    assert driver.wait_for_push(flow).state == "authenticated"


def test_push_rejected_ends_the_flow(driver: Driver, emu: Auth0Emulator) -> None:
    """A rejected push raises FlowRejectedError and leaves the flow in rejected."""
    emu.push_script = PushScript(pending=1, outcome="reject")
    flow = first_factor_sms(driver, emu)
    driver.enroll(flow, "push")
    with pytest.raises(FlowRejectedError) as info:
        driver.wait_for_push(flow)
    assert info.value.state == "rejected" == flow.state
    assert "mfa_token" not in flow.context


def test_push_polled_too_early_is_refused_locally(driver: Driver, emu: Auth0Emulator) -> None:
    """Polling before the interval is a GuardRejectedError; no request is sent."""
    flow = first_factor_sms(driver, emu)
    driver.enroll(flow, "push")
    sent = len(emu.requests)
    with pytest.raises(GuardRejectedError) as info:
        driver.poll_push(flow, wait=False)
    assert info.value.guard == "poll_due"
    assert len(emu.requests) == sent


def test_slow_down_lengthens_the_interval(
    make_driver,
    emu: Auth0Emulator,  # type: ignore[no-untyped-def]
) -> None:
    """When the tenant says slow_down, the next poll waits five seconds more."""
    emu2 = emu
    emu2.push_script = PushScript(pending=5, outcome="approve")
    d = make_driver()
    flow = first_factor_sms(d, emu2)
    d.enroll(flow, "push")
    d.poll_push(flow)
    emu2.push_poll_interval = 60.0  # type: ignore[misc]
    result = d.poll_push(flow)
    assert result.outcome == "slow_down"
    assert result.data["retry_after"] == 10.0


def test_recovery_code_login_returns_a_new_code(driver: Driver, emu: Auth0Emulator) -> None:
    """A recovery-code login succeeds once and hands back a new code; the old one is dead."""
    flow = first_factor_sms(driver, emu)
    old = driver.enroll(flow, "sms", phone_number=PHONE).data["recovery_codes"][0]
    driver.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa"))
    second = first_factor_sms(driver, emu)
    result = driver.confirm_recovery_code(second, old)
    assert result.state == "authenticated"
    new = result.data["recovery_code"]
    assert len(new) == 24 and new != old
    third = first_factor_sms(driver, emu)
    assert driver.confirm_recovery_code(third, old).outcome == "wrong_code"
    assert driver.confirm_recovery_code(third, new).state == "authenticated"


def test_challenge_of_an_enrolled_user(driver: Driver, emu: Auth0Emulator) -> None:
    """A second login lists, challenges the enrolled SMS and confirms it."""
    flow = first_factor_sms(driver, emu)
    driver.enroll(flow, "sms", phone_number=PHONE)
    driver.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa"))
    second = first_factor_sms(driver, emu)
    listed = driver.list_authenticators(second).data["authenticators"]
    sms = next(a for a in listed if a.get("oob_channel") == "sms" and a["active"])
    assert second.state == "mfa_required"
    driver.challenge(second, authenticator_id=sms["id"])
    assert second.state == "challenge_pending"
    assert driver.confirm_oob(second, emu.last_code(PHONE, purpose="mfa")).state == (
        "authenticated"
    )


def test_second_enrollment_with_mfa_token_is_refused(driver: Driver, emu: Auth0Emulator) -> None:
    """An enrolled user's mfa_token cannot enroll again: the flow stays and says so."""
    flow = first_factor_sms(driver, emu)
    driver.enroll(flow, "sms", phone_number=PHONE)
    driver.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa"))
    second = first_factor_sms(driver, emu)
    result = driver.enroll(second, "otp")
    assert (result.outcome, result.state) == ("already_enrolled", "mfa_required")


def test_unenrolled_challenge_says_enroll(driver: Driver, emu: Auth0Emulator) -> None:
    """Challenging a user with no factor is the must_enroll outcome, not an error."""
    flow = first_factor_sms(driver, emu)
    result = driver.challenge(flow)
    assert (result.outcome, result.state) == ("must_enroll", "mfa_required")


def test_password_first_factor(driver: Driver, emu: Auth0Emulator) -> None:
    """password-realm is the other first factor: wrong password stays, right one asks MFA."""
    emu.add_password_user(EMAIL, "correct horse battery")
    flow = driver.new_flow()
    wrong = driver.login_password(flow, username=EMAIL, password="nope")
    assert (wrong.outcome, flow.state) == ("wrong_credentials", "started")
    driver.login_password(flow, username=EMAIL, password="correct horse battery")
    assert flow.state == "mfa_required"
    secret = driver.enroll(flow, "otp").data["secret"]
    assert driver.confirm_otp(flow, emu.totp_code(secret)).state == "authenticated"


def test_wrong_codes_then_resend(driver: Driver, emu: Auth0Emulator) -> None:
    """Three wrong codes spend the code; only a resend helps, and only the newest code works."""
    flow = driver.new_flow()
    driver.start_passwordless(flow, connection="email", email=EMAIL)
    old = emu.last_code(EMAIL)
    for attempt in (1, 2, 3):
        result = driver.verify_otp(flow, "000001")
        assert (result.outcome, result.data["attempts"]) == ("wrong_code", attempt)
    with pytest.raises(GuardRejectedError) as info:
        driver.verify_otp(flow, old)
    assert info.value.guard == "code_attempts_left"
    driver.resend_code(flow)
    new = emu.last_code(EMAIL)
    if new != old:
        assert driver.verify_otp(flow, old).outcome == "wrong_code"
    assert driver.verify_otp(flow, new).state == "mfa_required"


def test_expired_code_expires_the_flow_before_any_request(
    driver: Driver, emu: Auth0Emulator, clock: FakeClock
) -> None:
    """Past the 3-minute code deadline the flow expires locally and sends nothing."""
    flow = driver.new_flow()
    driver.start_passwordless(flow, connection="sms", phone_number=PHONE)
    clock.advance(181)
    sent = len(emu.requests)
    with pytest.raises(FlowExpiredError):
        driver.verify_otp(flow, emu.last_code(PHONE))
    assert flow.state == "expired" and len(emu.requests) == sent


def test_mfa_token_expiry(driver: Driver, emu: Auth0Emulator, clock: FakeClock) -> None:
    """The mfa_token's 10 minutes are enforced locally before Auth0 is asked."""
    flow = first_factor_sms(driver, emu)
    clock.advance(601)
    with pytest.raises(FlowExpiredError):
        driver.enroll(flow, "otp")
    assert flow.state == "expired"


def test_no_mfa_policy_authenticates_with_first_factor(
    make_driver,
    emu: Auth0Emulator,  # type: ignore[no-untyped-def]
) -> None:
    """With MFA off and an API audience, the first factor alone yields tokens."""
    emu.mfa_policy = "never"
    d = make_driver(audience="https://api.example.com/")
    flow = d.new_flow()
    d.start_passwordless(flow, connection="sms", phone_number=PHONE)
    result = d.verify_otp(flow, emu.last_code(PHONE))
    assert result.state == "authenticated" and result.data["tokens"]["refresh_token"]


def test_account_operations(driver: Driver, emu: Auth0Emulator) -> None:
    """With an MFA-audience access token: list and delete authenticators; refresh tokens."""
    scope = "openid offline_access read:authenticators remove:authenticators"
    flow = first_factor_sms(driver, emu, scope=scope)
    driver.enroll(flow, "sms", phone_number=PHONE)
    tokens = driver.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa")).data["tokens"]
    listed = driver.list_authenticators_with_token(tokens["access_token"])
    sms = next(a for a in listed if a.get("oob_channel") == "sms")
    driver.delete_authenticator(tokens["access_token"], sms["id"])
    remaining = driver.list_authenticators_with_token(tokens["access_token"])
    assert not [a for a in remaining if a.get("oob_channel") in ("sms", "voice")]
    refreshed = driver.refresh(tokens["refresh_token"])
    assert refreshed["access_token"]


def test_public_client(make_driver, emu: Auth0Emulator) -> None:  # type: ignore[no-untyped-def]
    """A public client (no secret) runs the seed too."""
    d = make_driver("public-id", None)
    flow = first_factor_sms(d, emu)
    d.enroll(flow, "sms", phone_number=PHONE)
    assert d.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa")).state == "authenticated"


def test_illegal_step_sends_nothing(driver: Driver, emu: Auth0Emulator) -> None:
    """An out-of-order step raises IllegalTransitionError and no request leaves."""
    flow = driver.new_flow()
    with pytest.raises(IllegalTransitionError):
        driver.confirm_oob(flow, "123456")
    with pytest.raises(InvalidInputError):
        driver.start_passwordless(flow, connection="sms", phone_number="15550100")
    assert emu.requests == [] and flow.seq == 0


def test_rollback_wrong_number_then_redo(driver: Driver, emu: Auth0Emulator) -> None:
    """The user typed the wrong number: roll back to started and start again."""
    flow = driver.new_flow()
    driver.start_passwordless(flow, connection="sms", phone_number="+15550199")
    back = driver.rollback(flow)
    assert back.state == "started"
    assert back.data["not_undone"][0]["trigger"] == "start_passwordless"
    driver.start_passwordless(flow, connection="sms", phone_number=PHONE)
    assert driver.verify_otp(flow, emu.last_code(PHONE)).state == "mfa_required"


def test_rollback_to_pick_another_factor(driver: Driver, emu: Auth0Emulator) -> None:
    """From enrollment_pending back to mfa_required, then enroll another factor."""
    flow = first_factor_sms(driver, emu)
    driver.enroll(flow, "push")
    driver.rollback(flow, to="mfa_required")
    assert flow.state == "mfa_required"
    assert flow.audit[-1]["not_undone"]
    secret = driver.enroll(flow, "otp").data["secret"]
    assert driver.confirm_otp(flow, emu.totp_code(secret)).state == "authenticated"
