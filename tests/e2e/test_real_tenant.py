"""Real-tenant paths of issue 14 end to end, through both drivers against the emulator.

Users with no factor yet (the MFA-audience token minted without a challenge), tenant
settings (code lifetimes, OTP length), ``mfa_requirements``, MFA on refresh, the hint
for a challenge type the user lacks, and the stricter emulator.
"""

from __future__ import annotations

from typing import Any

import pytest

from flowengine import (
    Auth0Error,
    FactorNotAllowedError,
    FlowExpiredError,
    GuardRejectedError,
    InvalidInputError,
    Keyring,
    MfaCodeExpiredError,
    MfaRequiredError,
    TenantSettings,
    dump_flow,
    load_flow,
)
from flowengine.testing import Auth0Emulator, FakeClock

from .conftest import TENANT, Driver

PHONE = "+15550100"
MFA_SCOPES = ("enroll", "read:authenticators", "remove:authenticators")


def sent(emu: Auth0Emulator) -> int:
    """How many requests the tenant has seen."""
    return len(emu.requests)


def code_sent(d: Driver, emu: Auth0Emulator, phone: str = PHONE) -> Any:
    flow = d.new_flow()
    d.start_passwordless(flow, connection="sms", phone_number=phone)
    assert flow.state == "code_sent"
    return flow


def logged_in(d: Driver, emu: Auth0Emulator, phone: str = PHONE, **kw: Any) -> Any:
    flow = code_sent(d, emu, phone)
    d.verify_otp(flow, emu.last_code(phone), **kw)
    return flow


# ------------------------------------------------- 1. users with no factor yet


@pytest.mark.parametrize("factor", ["sms", "otp"])
def test_unenrolled_user_enrolls_with_the_mfa_access_token(
    make_driver: Any, emu: Auth0Emulator, factor: str
) -> None:
    """Policy never, no factor: the minted MFA-API token enrolls and confirms to authenticated."""
    emu.mfa_policy = "never"
    d = make_driver()
    flow = logged_in(d, emu)
    assert flow.state == "mfa_required"
    assert flow.context.mfa_token_kind == "access_token"
    grant = [r for r in emu.requests if r.path == "/oauth/token"][-1]
    assert grant.body is not None
    scope = str(grant.body["scope"]).split()
    assert scope[:3] == ["openid", "profile", "offline_access"]  # the caller's scope first
    assert set(MFA_SCOPES) <= set(scope)
    if factor == "sms":
        d.enroll(flow, "sms", phone_number=PHONE)
        assert flow.state == "enrollment_pending"
        done = d.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa"))
    else:
        enrolled = d.enroll(flow, "otp")
        assert flow.state == "enrollment_pending"
        done = d.confirm_otp(flow, emu.totp_code(enrolled.totp_secret))
    assert done.state == "authenticated"
    assert done.tokens is not None and done.tokens["access_token"]
    associate = [r for r in emu.requests if r.path == "/mfa/associate"][-1]
    assert associate.status == 200  # the access token was the bearer, with the enroll scope
    assert any(a.active for a in emu.authenticators_of(PHONE))


def test_caller_scope_is_kept_with_the_mfa_scopes(make_driver: Any, emu: Auth0Emulator) -> None:
    """A caller's own scope is sent as given, followed by the MFA API's scopes, none twice."""
    emu.mfa_policy = "never"
    d = make_driver()
    logged_in(d, emu, scope="openid email enroll")
    grant = [r for r in emu.requests if r.path == "/oauth/token"][-1]
    assert grant.body is not None
    assert grant.body["scope"] == "openid email enroll read:authenticators remove:authenticators"


def test_api_audience_gets_no_mfa_scopes(make_driver: Any, emu: Auth0Emulator) -> None:
    """Another audience is sent with the caller's scope only."""
    emu.mfa_policy = "never"
    emu.add_api("https://api.example.com/")
    d = make_driver(audience="https://api.example.com/")
    flow = logged_in(d, emu)
    assert flow.state == "authenticated"
    grant = [r for r in emu.requests if r.path == "/oauth/token"][-1]
    assert grant.body is not None and "enroll" not in str(grant.body["scope"])


# ------------------------------------------------------------ 2. tenant settings


def test_expired_passwordless_code_allows_a_resend(
    make_driver: Any, emu: Auth0Emulator, clock: FakeClock
) -> None:
    """Past the configured code lifetime verify is refused unsent; a resend goes on."""
    settings = TenantSettings(passwordless_code_ttl=60)
    emu.configure_tenant(settings)
    d = make_driver()
    d.client.tenant_settings = settings
    flow = code_sent(d, emu)
    clock.advance(61)
    before = sent(emu)
    with pytest.raises(GuardRejectedError) as info:
        d.verify_otp(flow, emu.last_code(PHONE))
    assert info.value.guard == "code_alive"
    assert sent(emu) == before and flow.state == "code_sent"
    d.resend_code(flow)
    assert d.verify_otp(flow, emu.last_code(PHONE)).state == "mfa_required"


def test_otp_length_is_a_setting(make_driver: Any, emu: Auth0Emulator) -> None:
    """An 8-digit tenant sends 8 digits; a 6-digit code is refused before any request."""
    settings = TenantSettings(otp_length=8)
    emu.configure_tenant(settings)
    d = make_driver()
    flow = d.new_flow(settings=settings)
    d.start_passwordless(flow, connection="sms", phone_number=PHONE)
    code = emu.last_code(PHONE)
    assert len(code) == 8
    before = sent(emu)
    with pytest.raises(InvalidInputError):
        d.verify_otp(flow, "123456")
    assert sent(emu) == before
    assert d.verify_otp(flow, code).state == "mfa_required"


def test_settings_survive_a_snapshot(make_driver: Any, emu: Auth0Emulator) -> None:
    """A flow keeps the settings it began with through dump_flow and load_flow."""
    settings = TenantSettings(passwordless_code_ttl=90, otp_length=8)
    d = make_driver()
    flow = d.new_flow(settings=settings)
    keyring = Keyring.generate()
    back = load_flow(dump_flow(flow, keyring), keyring, now=None)
    assert back.context.tenant_settings == settings


def enrolled_sms_login(d: Driver, emu: Auth0Emulator) -> Any:
    emu.add_passwordless_user(PHONE)
    emu.enroll(PHONE, "sms", phone_number=PHONE)
    flow = logged_in(d, emu)
    assert flow.state == "mfa_required" and flow.context.mfa_token_kind == "mfa_token"
    return flow


def test_expired_binding_code_returns_to_mfa_required(
    make_driver: Any, emu: Auth0Emulator, clock: FakeClock
) -> None:
    """A binding code past its lifetime with a live mfa_token: back to mfa_required, unsent."""
    d = make_driver()
    flow = enrolled_sms_login(d, emu)
    d.challenge(flow, challenge_type="oob")
    assert flow.state == "challenge_pending"
    clock.advance(301)
    before = sent(emu)
    with pytest.raises(MfaCodeExpiredError) as info:
        d.confirm_oob(flow, "123456")
    assert info.value.guard == "mfa_code_alive"
    assert flow.state == "mfa_required" and sent(emu) == before
    d.challenge(flow, challenge_type="oob")
    done = d.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa"))
    assert done.state == "authenticated"


def test_auth0_expired_oob_code_returns_to_mfa_required(
    make_driver: Any, emu: Auth0Emulator, clock: FakeClock
) -> None:
    """Auth0's expired_token "oob_code is expired" (the mfa_token lives) is not the end."""
    d = make_driver()
    d.client.tenant_settings = TenantSettings(mfa_code_ttl=900)  # the app thinks it lives longer
    flow = enrolled_sms_login(d, emu)
    d.challenge(flow)
    clock.advance(301)
    result = d.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa"))
    assert result.outcome == "code_expired" and result.error == "expired_token"
    assert flow.state == "mfa_required"
    d.challenge(flow)
    assert d.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa")).state == "authenticated"


def test_expired_mfa_token_ends_the_flow(
    make_driver: Any, emu: Auth0Emulator, clock: FakeClock
) -> None:
    """Only the mfa_token's own expiry ends the login."""
    d = make_driver()
    flow = enrolled_sms_login(d, emu)
    d.challenge(flow)
    clock.advance(601)
    before = sent(emu)
    with pytest.raises(FlowExpiredError):
        d.confirm_oob(flow, "123456")
    assert flow.state == "expired" and sent(emu) == before


def test_auth0_expired_mfa_token_ends_the_flow(
    make_driver: Any, emu: Auth0Emulator, clock: FakeClock
) -> None:
    """Auth0's expired_token on the mfa_token itself ends the flow."""
    d = make_driver()
    d.client.tenant_settings = TenantSettings(mfa_token_ttl=3600, mfa_code_ttl=3600)
    flow = enrolled_sms_login(d, emu)
    clock.advance(601)
    with pytest.raises(FlowExpiredError) as info:
        d.challenge(flow)
    assert info.value.error == "expired_token" and flow.state == "expired"


# ------------------------------------------------------- 3. mfa_requirements


@pytest.fixture
def emu_req(emu: Auth0Emulator) -> Auth0Emulator:
    """The tenant sends the (early-access) mfa_requirements with mfa_required."""
    emu.mfa_requirements = True
    return emu


def test_requirements_narrow_the_next_steps(make_driver: Any, emu_req: Auth0Emulator) -> None:
    """A challenge list offers only its factors; anything else is refused unsent."""
    d = make_driver()
    flow = enrolled_sms_login(d, emu_req)
    assert flow.context.mfa_requirements == {"challenge": ["phone", "recovery-code"]}
    steps = flow.next_steps()
    assert steps["challenge"] == ("sms", "voice")
    assert "enroll" not in steps and "confirm_otp" not in steps
    before = sent(emu_req)
    for call in (
        lambda: d.challenge(flow, challenge_type="otp"),
        lambda: d.enroll(flow, "otp"),
        lambda: d.confirm_otp(flow, "123456"),
    ):
        with pytest.raises(FactorNotAllowedError) as info:
            call()
        assert info.value.guard == "mfa_requirements"
        assert "phone" not in info.value.reason or "sms" in info.value.reason
    assert sent(emu_req) == before and flow.state == "mfa_required"
    d.challenge(flow, challenge_type="oob")
    assert d.confirm_oob(flow, emu_req.last_code(PHONE, purpose="mfa")).state == "authenticated"


def test_enroll_requirements_refuse_a_challenge(make_driver: Any, emu_req: Auth0Emulator) -> None:
    """An enroll list: a challenge is refused unsent, an enrollment of a listed factor works."""
    d = make_driver()
    flow = logged_in(d, emu_req)
    assert "enroll" in (flow.context.mfa_requirements or {})
    assert "challenge" not in flow.next_steps()
    before = sent(emu_req)
    with pytest.raises(FactorNotAllowedError):
        d.challenge(flow)
    assert sent(emu_req) == before
    d.enroll(flow, "sms", phone_number=PHONE)
    done = d.confirm_oob(flow, emu_req.last_code(PHONE, purpose="mfa"))
    assert done.state == "authenticated"


# -------------------------------------------------------- 4. MFA on refresh


def refresh_token_of(d: Driver, emu: Auth0Emulator) -> str:
    flow = enrolled_sms_login(d, emu)
    d.challenge(flow)
    done = d.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa"))
    assert done.tokens is not None
    return str(done.tokens["refresh_token"])


def test_refresh_answered_mfa_required_keeps_the_mfa_token(
    make_driver: Any, emu: Auth0Emulator
) -> None:
    """refresh() raises MfaRequiredError whose flow holds the mfa_token and finishes MFA."""
    d = make_driver()
    rt = refresh_token_of(d, emu)
    assert d.refresh(rt)["access_token"]  # no MFA on refresh: plain tokens
    emu.mfa_on_refresh = True
    with pytest.raises(MfaRequiredError) as info:
        d.refresh(rt)
    flow = info.value.flow
    assert flow is not None
    assert flow.state == "mfa_required"  # type: ignore[attr-defined]
    assert flow.context.mfa_token  # type: ignore[attr-defined]
    d.challenge(flow)
    done = d.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa"))
    assert done.state == "authenticated" and done.tokens is not None


def test_refresh_flow_starts_in_mfa_required(make_driver: Any, emu: Auth0Emulator) -> None:
    """refresh_flow: a flow's first step; mfa_required leaves it there, tokens authenticate."""
    d = make_driver()
    rt = refresh_token_of(d, emu)
    plain = d.new_flow()
    assert d.refresh_flow(plain, rt).state == "authenticated"
    emu.mfa_on_refresh = True
    flow = d.new_flow()
    result = d.refresh_flow(flow, rt)
    assert result.state == "mfa_required" and flow.context.first_factor == "refresh"


def test_refused_refresh_raises_auth0_error(make_driver: Any, emu: Auth0Emulator) -> None:
    """An unknown refresh token is still Auth0's invalid_grant, and no flow is left behind."""
    d = make_driver()
    with pytest.raises(Auth0Error) as info:
        d.refresh("v1.not-a-refresh-token")
    assert info.value.error == "invalid_grant"
    assert not isinstance(info.value, MfaRequiredError)


# ---------------------------------------------- 8c. the hint for a missing type


def test_otp_challenge_of_an_sms_user_names_the_enrolled_factors(
    make_driver: Any, emu: Auth0Emulator
) -> None:
    """After a list, challenge_type=otp is refused unsent with the enrolled factors named."""
    d = make_driver()
    flow = enrolled_sms_login(d, emu)
    d.list_authenticators(flow)
    before = sent(emu)
    with pytest.raises(FactorNotAllowedError) as info:
        d.challenge(flow, challenge_type="otp")
    assert info.value.guard == "enrolled_factors"
    assert "sms, voice" in info.value.reason and "enroll one" not in info.value.reason
    assert sent(emu) == before


def test_otp_challenge_without_a_list_does_not_say_enroll(
    make_driver: Any, emu: Auth0Emulator
) -> None:
    """Auth0's unsupported_challenge_type for an enrolled user is not "enroll one"."""
    d = make_driver()
    flow = enrolled_sms_login(d, emu)
    result = d.challenge(flow, challenge_type="otp")
    assert result.outcome == "must_enroll" and flow.state == "mfa_required"
    assert "enroll one" not in result.data["hint"]
    assert not flow.context.must_enroll


# ------------------------------------------------------ 9. the stricter tenant


def test_unknown_audience_is_refused(make_driver: Any, emu: Auth0Emulator) -> None:
    """An audience that names no API: access_denied "Service not found: <aud>"."""
    d = make_driver(audience="https://no-such-api.example.com/")
    flow = code_sent(d, emu)
    with pytest.raises(Auth0Error) as info:
        d.verify_otp(flow, emu.last_code(PHONE))
    assert info.value.error == "access_denied"
    assert info.value.error_description == "Service not found: https://no-such-api.example.com/"


@pytest.mark.parametrize("offline", [True, False])
def test_refresh_token_only_where_offline_access_is_allowed(
    make_driver: Any, emu: Auth0Emulator, offline: bool
) -> None:
    """offline_access yields a refresh token only on an API that allows offline access."""
    emu.mfa_policy = "never"
    emu.add_api("https://api.example.com/", allow_offline_access=offline)
    d = make_driver(audience="https://api.example.com/")
    flow = logged_in(d, emu)
    assert flow.tokens is not None
    assert ("refresh_token" in flow.tokens) is offline


def test_mfa_audience_default_is_the_tenant() -> None:
    """The e2e tenant's MFA audience is the one the emulator registers."""
    assert Auth0Emulator(domain=TENANT).mfa_audience == f"https://{TENANT}/mfa/"
