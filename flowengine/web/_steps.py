"""What a web page may offer next, one confirm for every second factor, and a one-call start.

Theory of operation
-------------------
A login page must show the steps the user can take *now*. The machine's table
(``_machine.EDGES``) says which triggers have a row out of the current state; the
guards on that row say whether it is open at this moment. ``next_steps`` evaluates
both, exactly as ``Flow.check`` does before a step, so a step it calls open is one the
flow will accept (apart from the arguments), and a closed one carries the guard's name
and hint (after three wrong codes ``verify_otp`` is closed by ``code_attempts_left``:
"three wrong codes spent this code; call resend_code").

``confirm`` is the one "type your code" action of a page: it reads which factor is
pending from the flow's context and calls ``confirm_oob``, ``confirm_otp`` or
``confirm_recovery_code``; ``start`` creates, stores and starts a flow in one call and
leaves nothing in the store when the start failed before reaching Auth0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from flowengine import _config as v
from flowengine import _machine as m
from flowengine._errors import IllegalTransitionError, InvalidInputError
from flowengine._flow import Flow, StepResult
from flowengine._repository import FlowRepository
from flowengine._sync import FlowClient

__all__ = ["STEP_FIELDS", "NextStep", "confirm", "next_steps", "pending_factor", "start"]

#: The form fields each step takes, named as the page's inputs (the library's argument
#: names; ``type`` is ``enroll``'s ``factor``, as in ``flowengine flow enroll --type``, and
#: every typed code is ``code``).
STEP_FIELDS: Mapping[str, tuple[str, ...]] = {
    "start_passwordless": ("connection", "phone_number", "email"),
    "resend_code": (),
    "verify_otp": ("code",),
    "login_password": ("username", "password", "realm"),
    "list_authenticators": (),
    "enroll": ("type", "phone_number", "email"),
    "challenge": ("authenticator_id",),
    "confirm_oob": ("code",),
    "confirm_otp": ("code",),
    "confirm_recovery_code": ("code",),
    "poll_push": (),
    "cancel": (),
    "rollback": (),
}

#: Triggers a page never offers: ``expire`` is the library's own move past a deadline.
_NOT_OFFERED = frozenset({"expire"})

_TOTP = re.compile(r"[0-9]{6}")


@attrs.frozen
class NextStep:
    """One step out of the current state: open now, or closed by a guard (and why)."""

    trigger: str
    open: bool
    fields: tuple[str, ...] = ()
    #: The guard that closes the step, and its hint; None when the step is open.
    guard: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The step as plain JSON."""
        out: dict[str, Any] = {"trigger": self.trigger, "open": self.open, "fields": self.fields}
        if not self.open:
            out["guard"] = self.guard
            out["reason"] = self.reason
        return out


def next_steps(flow: Flow, now: float) -> tuple[NextStep, ...]:
    """Every step the table allows out of ``flow``'s state, each open or closed by a guard.

    A live flow with history also offers ``rollback`` (no call: it undoes the last state
    change). A final state offers nothing.
    """
    if flow.state in m.FINAL_STATES:
        return ()
    model = m.GuardModel(flow.state, flow.context, now, "")
    out: list[NextStep] = []
    for trigger in m.legal_triggers(flow.state):
        if trigger in _NOT_OFFERED:
            continue
        edge = m.EDGE_INDEX[(trigger, flow.state)]
        failing = next((g for g in edge.guards if not m.GUARDS[g](model)), None)
        fields = STEP_FIELDS.get(trigger, ())
        if failing is None:
            out.append(NextStep(trigger, True, fields))
        else:
            out.append(NextStep(trigger, False, fields, failing, m.GUARD_HINTS[failing]))
    if flow.history:
        out.append(NextStep("rollback", True))
    return tuple(out)


def pending_factor(flow: Flow) -> str | None:
    """The second factor waiting for the user (``sms``, ``voice``, ``email``, ``otp``, ``push``)."""
    if flow.state in m.PENDING_STATES:
        return flow.context.factor
    return None


def confirm_trigger(flow: Flow, code: str) -> str:
    """Which confirmation a typed ``code`` is for, in ``flow``'s state."""
    if flow.state in m.PENDING_STATES:
        factor = flow.context.factor
        if factor == "push":
            raise InvalidInputError("code", "the pending factor is a push: approve it on the phone")
        return "confirm_otp" if factor == "otp" else "confirm_oob"
    if flow.state == m.MFA_REQUIRED:
        # No factor is pending: six digits are a TOTP code, anything else a recovery code.
        return "confirm_otp" if _TOTP.fullmatch(code) else "confirm_recovery_code"
    raise IllegalTransitionError(flow.state, "confirm")


def confirm(client: FlowClient, flow: Flow, code: object) -> StepResult:
    """Confirm the pending second factor with the code the user typed.

    An SMS, voice or email factor goes to ``confirm_oob``, a TOTP app to ``confirm_otp``;
    in ``mfa_required`` (nothing pending) six digits are a TOTP code and anything else is a
    recovery code. A bad code raises ``InvalidInputError`` naming the field ``code``.
    """
    text = v.non_empty(code, "code", max_len=64)
    trigger = confirm_trigger(flow, text)
    try:
        if trigger == "confirm_oob":
            return client.confirm_oob(flow, text)
        if trigger == "confirm_otp":
            return client.confirm_otp(flow, text)
        return client.confirm_recovery_code(flow, text)
    except InvalidInputError as exc:
        if exc.field in ("otp", "binding_code", "recovery_code"):
            raise InvalidInputError("code", str(exc).split(": ", 1)[-1]) from None
        raise


def check_start(
    connection: object, phone_number: object = None, email: object = None
) -> dict[str, str]:
    """The arguments of ``start_passwordless``, checked (``InvalidInputError`` otherwise)."""
    if connection == "sms":
        return {"connection": "sms", "phone_number": v.phone_number(phone_number)}
    if connection == "email":
        return {"connection": "email", "email": v.email(email)}
    raise InvalidInputError("connection", "must be 'sms' or 'email'")


def start(
    client: FlowClient,
    repo: FlowRepository,
    *,
    connection: str,
    phone_number: str | None = None,
    email: str | None = None,
    forwarded_for: str | None = None,
    binding: str | None = None,
) -> tuple[str, StepResult]:
    """Create, store and start a passwordless flow; return its resume handle and the result.

    The arguments are checked before anything is stored. When the start fails and the
    flow did not move (a rate limit, a refused request), the stored flow is deleted, so a
    failed start leaves nothing behind; a start that may have reached Auth0 (an ambiguous
    network failure) is kept, as the flow records the doubt.
    """
    args = check_start(connection, phone_number, email)
    flow = client.new_flow()
    handle = repo.add(flow, binding=binding)
    lent = flow
    try:
        with repo.step(handle, binding=binding) as lent:
            result = client.start_passwordless(lent, forwarded_for=forwarded_for, **args)
    except BaseException:
        if lent.seq == 0:
            repo.delete(flow.flow_id)
        raise
    return lent.handle, result
