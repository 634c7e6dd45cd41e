"""Build flows sitting in any state with a context that satisfies that state's guards."""

from __future__ import annotations

from typing import Any

from flowengine import _machine as m
from flowengine._context import Context
from flowengine._flow import Flow

NOW = 1_800_000_000.0

BASE_CONTEXT: dict[str, dict[str, Any]] = {
    m.STARTED: {},
    m.CODE_SENT: {
        "connection": "sms",
        "phone_number": "+15550100",
        "code_attempts": 0,
        "code_sent_at": NOW,
        "code_expires_at": NOW + 180,
    },
    m.MFA_REQUIRED: {
        "mfa_token": "Fe26.2*test-mfa-token",
        "mfa_token_kind": "mfa_token",
        "mfa_token_expires_at": NOW + 600,
    },
}


def pending_context(factor: str) -> dict[str, Any]:
    """The context of a pending enrollment or challenge for ``factor``."""
    ctx = dict(BASE_CONTEXT[m.MFA_REQUIRED], factor=factor, mfa_code_expires_at=NOW + 300)
    if factor in ("sms", "voice", "email", "oob"):
        ctx.update(oob_code="Fe26.2*test-oob", binding_method="prompt", authenticator_type="oob")
    elif factor == "push":
        ctx.update(
            oob_code="Fe26.2*test-oob",
            binding_method=None,
            next_poll_at=NOW,
            poll_interval=5.0,
            authenticator_type="oob",
        )
    else:
        ctx.update(authenticator_type="otp")
    return ctx


def flow_in(state: str, factor: str = "sms", **extra: Any) -> Flow:
    """A flow in ``state`` whose context satisfies the guards of ``factor``'s edges."""
    if state in m.PENDING_STATES:
        ctx = pending_context(factor)
    else:
        ctx = dict(BASE_CONTEXT.get(state, {}))
    ctx.update(extra)
    fresh = Flow.new("fl_test", NOW)
    # Built from data, as a snapshot load does: setting state or seq by hand is refused.
    return Flow(
        fresh.flow_id,
        state=state,
        seq=5,
        context=Context(**ctx),
        created_at=fresh.created_at,
        updated_at=fresh.updated_at,
        expires_at=fresh.expires_at,
    )


FACTOR_FOR_GUARD = {
    "binding_code_expected": "sms",
    "otp_expected": "otp",
    "push_expected": "push",
    "poll_due": "push",
}


def factor_for(edge: m.Edge) -> str:
    """The pending factor under which ``edge``'s guards hold."""
    for g in edge.guards:
        if g in FACTOR_FOR_GUARD:
            return FACTOR_FOR_GUARD[g]
    return "sms"


def context_for(edge: m.Edge) -> dict[str, Any]:
    """Extra context a guard needs beyond the state's base context."""
    return {"send_unconfirmed": True} if "send_unconfirmed" in edge.guards else {}


OUTCOME_DATA: dict[str, dict[str, Any]] = {
    "code_sent": {},
    "tokens": {"tokens": {"access_token": "at-1", "token_type": "Bearer", "expires_in": 600}},
    "mfa_required": {"mfa_token": "Fe26.2*new-token", "mfa_requirements": None},
    "mfa_access_token": {
        "tokens": {"access_token": "mfa-at", "token_type": "Bearer", "expires_in": 600}
    },
    "wrong_code": {"description": "Wrong phone number or verification code."},
    "wrong_credentials": {"description": "Wrong email or password."},
    "expired": {"description": "mfa_token is expired"},
    "locked": {"description": "blocked"},
    "rejected": {"description": "MFA Authorization rejected."},
    "authenticators": {"authenticators": []},
    "enrolled": {
        "authenticator_type": "oob",
        "factor": "sms",
        "oob_code": "Fe26.2*o",
        "oob_channel": "sms",
        "binding_method": "prompt",
    },
    "already_enrolled": {},
    "challenged": {
        "challenge_type": "oob",
        "factor": "oob",
        "oob_code": "Fe26.2*c",
        "binding_method": "prompt",
    },
    "must_enroll": {},
    "pending": {},
    "slow_down": {},
    "cancelled": {},
    "deadline": {},
}

PARAMS: dict[str, dict[str, Any]] = {
    "start_passwordless": {"connection": "sms", "phone_number": "+15550100"},
    "resend_code": {},
    "verify_otp": {"otp": "123456", "audience": "https://api.example.com/", "scope": "openid"},
    "login_password": {
        "username": "ada@example.com",
        "password": "pw",
        "realm": "Username-Password-Authentication",
        "audience": "https://api.example.com/",
        "scope": "openid",
    },
    "list_authenticators": {},
    "enroll": {"factor": "sms", "phone_number": "+15550100"},
    "challenge": {},
    "confirm_oob": {"binding_code": "123456"},
    "confirm_otp": {"otp": "123456"},
    "confirm_recovery_code": {"recovery_code": "A" * 24},
    "poll_push": {},
    "cancel": {},
    "expire": {},
}
