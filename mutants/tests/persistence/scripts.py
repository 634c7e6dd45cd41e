"""Scripted logins the persistence properties replay step by step."""

from __future__ import annotations

from typing import Any

import attrs

from flowengine import FlowClient, FlowEndedError
from flowengine._flow import Flow
from flowengine.testing import Auth0Emulator

PHONE = "+15550100"
EMAIL = "ada@example.com"


@attrs.frozen
class Step:
    """One scripted step: what to call, and the state it should end in."""

    action: str
    expect: str = ""
    redo_safe: bool = False


def run_step(client: FlowClient, emu: Auth0Emulator, flow: Flow, step: Step) -> Any:
    """Run ``step`` on ``flow``; returns a comparable summary of what happened."""
    a = step.action
    try:
        if a == "start":
            r = client.start_passwordless(flow, connection="sms", phone_number=PHONE)
        elif a == "start_email":
            r = client.start_passwordless(flow, connection="email", email=EMAIL)
        elif a == "resend":
            r = client.resend_code(flow)
        elif a == "verify":
            to = EMAIL if flow.context.get("connection") == "email" else PHONE
            r = client.verify_otp(flow, emu.last_code(to, purpose="passwordless"))
        elif a == "verify_wrong":
            r = client.verify_otp(flow, "000009")
        elif a.startswith("enroll_"):
            factor = a.removeprefix("enroll_")
            kw: dict[str, str] = {}
            if factor in ("sms", "voice"):
                kw["phone_number"] = PHONE
            r = client.enroll(flow, factor, **kw)
            if factor == "otp":
                flow_secrets[flow.flow_id] = r.data["secret"]
        elif a == "confirm_oob":
            to = EMAIL if flow.context.get("factor") == "email" else PHONE
            r = client.confirm_oob(flow, emu.last_code(to, purpose="mfa"))
        elif a == "confirm_wrong":
            r = client.confirm_oob(flow, "000009")
        elif a == "confirm_otp":
            r = client.confirm_otp(flow, emu.totp_code(flow_secrets[flow.flow_id]))
        elif a == "poll":
            r = client.poll_push(flow)
        elif a == "list":
            r = client.list_authenticators(flow)
        elif a == "cancel":
            r = client.cancel(flow)
        else:  # pragma: no cover - a typo in a script
            raise AssertionError(a)
    except FlowEndedError as exc:
        return ("ended", type(exc).__name__, flow.state)
    return (r.outcome, r.state, r.seq)


flow_secrets: dict[str, str] = {}

SCRIPTS: dict[str, list[Step]] = {
    "seed_sms": [
        Step("start", "code_sent", redo_safe=True),
        Step("verify_wrong", "code_sent"),
        Step("verify", "mfa_required"),
        Step("list", "mfa_required"),
        Step("enroll_sms", "enrollment_pending", redo_safe=True),
        Step("confirm_wrong", "enrollment_pending"),
        Step("confirm_oob", "authenticated"),
    ],
    "email_then_otp": [
        Step("start_email", "code_sent"),
        Step("resend", "code_sent"),
        Step("verify", "mfa_required"),
        Step("enroll_otp", "enrollment_pending", redo_safe=True),
        Step("confirm_otp", "authenticated"),
    ],
    "push": [
        Step("start", "code_sent"),
        Step("verify", "mfa_required"),
        Step("enroll_push", "enrollment_pending", redo_safe=True),
        Step("poll", "enrollment_pending"),
        Step("poll", "authenticated"),
    ],
    "cancelled": [
        Step("start", "code_sent", redo_safe=True),
        Step("cancel", "cancelled"),
    ],
}
