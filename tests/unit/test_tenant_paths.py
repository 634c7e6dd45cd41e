"""Sans-I/O checks of the real-tenant pieces: requirements, factor refusals, settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowengine import Auth0Config, FactorNotAllowedError, TenantSettings
from flowengine import _machine as m
from flowengine._context import Context
from flowengine._errors import SnapshotMalformedError
from flowengine._flow import Flow
from flowengine._step_methods import with_mfa_scopes
from flowengine._wire import HttpResponse, parse_mfa_requirements, parse_response

from .flowstates import NOW, PARAMS, flow_in

CONFIG = Auth0Config("tenant.example.auth0.com", "app-id", client_secret="app-secret")
DOCS_SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "auth0_tenant"
    / "token_mfa_required_requirements_403.json"
)


def mfa_required_body(requirements: object) -> bytes:
    return json.dumps(
        {
            "error": "mfa_required",
            "error_description": "Multifactor authentication required",
            "mfa_token": "Fe26.2*t",
            "mfa_requirements": requirements,
        }
    ).encode()


def test_requirements_shapes_are_parsed() -> None:
    """The documented shapes, the older challenge_types one, and junk (dropped) all parse."""
    assert parse_mfa_requirements({"challenge": [{"type": "otp"}, {"type": "phone"}]}) == {
        "challenge": ["otp", "phone"]
    }
    assert parse_mfa_requirements({"enroll": [{"type": "email"}, "otp", 3, {}]}) == {
        "enroll": ["email", "otp"]
    }
    assert parse_mfa_requirements({"challenge_types": ["otp"]}) == {"challenge": ["otp"]}
    assert parse_mfa_requirements({"challenge": "otp"}) is None
    assert parse_mfa_requirements(None) is None


def test_docs_sample_is_kept_and_enforced() -> None:
    """The docs' mfa_required sample lands in the context; an email challenge is refused."""
    doc = json.loads(DOCS_SAMPLE.read_text())
    flow = flow_in(m.CODE_SENT)
    step = flow.prepare("verify_otp", PARAMS["verify_otp"], CONFIG, NOW)
    resp = HttpResponse(
        doc["status"], {"content-type": "application/json"}, json.dumps(doc["body"]).encode()
    )
    flow.apply(step, resp, CONFIG, NOW)
    assert flow.state == "mfa_required"
    assert flow.context.mfa_requirements == {"challenge": ["phone", "recovery-code"]}
    assert flow.next_steps()["challenge"] == ("sms", "voice")
    before = flow.to_envelope()
    with pytest.raises(FactorNotAllowedError) as info:
        flow.prepare("challenge", {"authenticator_id": "email|dev_1"}, CONFIG, NOW)
    assert "sms, voice" in info.value.reason
    assert flow.to_envelope() == before  # nothing built, nothing changed
    flow.prepare("challenge", {"authenticator_id": "voice|dev_1"}, CONFIG, NOW)
    flow.prepare("confirm_recovery_code", PARAMS["confirm_recovery_code"], CONFIG, NOW)


@pytest.mark.parametrize(
    ("requirements", "trigger", "params", "allowed"),
    [
        ({"enroll": ["otp"]}, "enroll", {"factor": "otp"}, True),
        ({"enroll": ["otp"]}, "enroll", {"factor": "sms"}, False),
        ({"enroll": ["phone"]}, "enroll", {"factor": "voice"}, True),
        ({"enroll": ["otp"]}, "challenge", {}, False),
        ({"challenge": ["otp"]}, "enroll", {"factor": "otp"}, False),
        ({"challenge": ["otp"]}, "challenge", {"challenge_type": "otp"}, True),
        ({"challenge": ["otp"]}, "challenge", {"challenge_type": "oob"}, False),
        ({"challenge": ["otp"]}, "challenge", {"challenge_type": "otp oob"}, True),
        ({"challenge": ["push-notification"]}, "challenge", {"authenticator_id": "push|x"}, True),
        ({"challenge": ["otp"]}, "confirm_otp", {"otp": "123456"}, True),
        ({"challenge": ["otp"]}, "confirm_recovery_code", {}, False),
    ],
)
def test_factor_refusal_table(
    requirements: dict[str, list[str]], trigger: str, params: dict[str, str], allowed: bool
) -> None:
    """Only what Auth0 asked for passes; the rest names a guard and what is on offer."""
    ctx = Context(mfa_requirements=requirements)
    refusal = m.factor_refusal(trigger, ctx, params)
    assert (refusal is None) is allowed
    if refusal is not None:
        assert refusal[0] == "mfa_requirements" and refusal[1]


def test_enrolled_factors_from_a_list() -> None:
    """A list's active factors (not recovery codes, not inactive ones) name the hint."""
    flow = flow_in(m.MFA_REQUIRED)
    step = flow.prepare("list_authenticators", {}, CONFIG, NOW)
    items = [
        {"id": "sms|dev_1", "authenticator_type": "oob", "active": True, "oob_channel": "sms"},
        {"id": "voice|dev_1", "authenticator_type": "oob", "active": True},
        {"id": "totp|dev_2", "authenticator_type": "otp", "active": False},
        {"id": "recovery-code|dev_3", "authenticator_type": "recovery-code", "active": True},
    ]
    resp = HttpResponse(200, {"content-type": "application/json"}, json.dumps(items).encode())
    flow.apply(step, resp, CONFIG, NOW)
    assert flow.context.enrolled_factors == "sms voice"
    refusal = m.factor_refusal("challenge", flow.context, {"challenge_type": "otp"})
    assert refusal is not None and refusal[0] == "enrolled_factors"
    assert "enrolled: sms, voice" in refusal[1] and "enroll one" not in refusal[1]


def test_mfa_scopes_are_added_once_after_the_callers() -> None:
    """The caller's words come first; the MFA scopes follow, none twice."""
    assert with_mfa_scopes("openid") == "openid enroll read:authenticators remove:authenticators"
    assert with_mfa_scopes("enroll openid") == (
        "enroll openid read:authenticators remove:authenticators"
    )


def test_settings_live_in_the_context_and_are_checked() -> None:
    """Non-default settings ride in the context; defaults add nothing; bad ones are refused."""
    assert Flow.new("fl_a", NOW).context.to_json() == {}
    assert Flow.new("fl_b", NOW, TenantSettings()).context.to_json() == {}
    flow = Flow.new("fl_c", NOW, TenantSettings(otp_length=8, mfa_code_ttl=120))
    assert flow.context.to_json() == {"settings": {"otp_length": 8, "mfa_code_ttl": 120}}
    assert Context.from_json(flow.context.to_json()).tenant_settings.otp_length == 8
    for bad in ({"otp_length": 3}, {"mfa_token_ttl": -1}, {"no_such": 1}, {"otp_length": True}):
        with pytest.raises(SnapshotMalformedError):
            Context.from_json({"settings": bad})
    with pytest.raises(ValueError):
        TenantSettings(passwordless_code_ttl=0)


def test_settings_drive_the_deadlines() -> None:
    """The code and mfa_token lifetimes come from the flow's settings."""
    flow = Flow("fl_s", context=Context(settings={"passwordless_code_ttl": 60.0}))
    step = flow.prepare("start_passwordless", PARAMS["start_passwordless"], CONFIG, NOW)
    resp = HttpResponse(200, {"content-type": "application/json"}, b"{}")
    flow.apply(step, resp, CONFIG, NOW)
    assert flow.context.code_expires_at == NOW + 60


def test_oob_code_expiry_answer_is_code_expired() -> None:
    """expired_token "oob_code is expired" is code_expired; "mfa_token is expired" is expired."""
    for description, kind in (
        ("oob_code is expired", "code_expired"),
        ("mfa_token is expired", "expired"),
    ):
        body = json.dumps({"error": "expired_token", "error_description": description}).encode()
        resp = HttpResponse(403, {"content-type": "application/json"}, body)
        assert parse_response("confirm_oob", resp, {}, CONFIG).kind == kind


def test_refresh_mfa_required_lands_in_mfa_required() -> None:
    """A refresh answered mfa_required keeps the mfa_token and the requirements."""
    flow = Flow.new("fl_r", NOW)
    step = flow.prepare("refresh", PARAMS["refresh"], CONFIG, NOW)
    body = mfa_required_body({"challenge": [{"type": "otp"}]})
    flow.apply(step, HttpResponse(403, {"content-type": "application/json"}, body), CONFIG, NOW)
    assert flow.state == "mfa_required" and flow.context.mfa_token == "Fe26.2*t"
    assert flow.context.first_factor == "refresh"
    assert flow.next_steps()["challenge"] == ("otp",)
