"""The declarative login machine: states, triggers, guards and outcomes.

Theory of operation
-------------------
Every Auth0 call of the login is a *trigger*. An ``Edge`` says that a trigger is
legal in a source state, which guards must hold before its request is built,
and, for every *outcome* the response can be parsed into, the state the flow
lands in. ``EDGES`` is the only place legal orders are written down; the
``transitions`` machine, the diagrams and the security review are all derived
from it.

A step runs in two halves (sans-I/O, as in h11): ``prepare`` checks that the
(state, trigger) pair has an edge (else ``IllegalTransition``) and that every
guard holds (else ``GuardRejected``) and only then builds the request; later
``apply`` parses the response into an outcome and fires the trigger on the one
static ``transitions.Machine``, whose conditions are the same guards plus
"the outcome is X". Nothing changes in between, so a failure on the wire leaves
the flow exactly as it was.

The machine is built once at import time with ``auto_transitions=False`` (the
default would add ``to_authenticated()``, which skips both factors) and with
``model=None``: flows are thin models passed to ``machine.events[t].trigger``,
never added to the machine, so no per-flow machine exists and none is retained.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from transitions import EventData, Machine

MACHINE_NAME = "auth0-passwordless-mfa"

# ------------------------------------------------------------------ states

STARTED = "started"
CODE_SENT = "code_sent"
MFA_REQUIRED = "mfa_required"
ENROLLMENT_PENDING = "enrollment_pending"
CHALLENGE_PENDING = "challenge_pending"
AUTHENTICATED = "authenticated"
EXPIRED = "expired"
REJECTED = "rejected"
LOCKED = "locked"
CANCELLED = "cancelled"

STATES: tuple[str, ...] = (
    STARTED,
    CODE_SENT,
    MFA_REQUIRED,
    ENROLLMENT_PENDING,
    CHALLENGE_PENDING,
    AUTHENTICATED,
    EXPIRED,
    REJECTED,
    LOCKED,
    CANCELLED,
)
#: States with no way out. ``authenticated`` is the one successful end.
FINAL_STATES = frozenset({AUTHENTICATED, EXPIRED, REJECTED, LOCKED, CANCELLED})
FAILURE_STATES = frozenset({EXPIRED, REJECTED, LOCKED, CANCELLED})
LIVE_STATES: tuple[str, ...] = tuple(s for s in STATES if s not in FINAL_STATES)
PENDING_STATES = (ENROLLMENT_PENDING, CHALLENGE_PENDING)

# --------------------------------------------------------------- the calls

GRANT_PREFIX = "http://auth0.com/oauth/grant-type/"
GRANT_PASSWORDLESS_OTP = "http://auth0.com/oauth/grant-type/passwordless/otp"
GRANT_PASSWORD_REALM = "http://auth0.com/oauth/grant-type/password-realm"
GRANT_MFA_OOB = "http://auth0.com/oauth/grant-type/mfa-oob"
GRANT_MFA_OTP = "http://auth0.com/oauth/grant-type/mfa-otp"
GRANT_MFA_RECOVERY = "http://auth0.com/oauth/grant-type/mfa-recovery-code"
GRANT_REFRESH = "refresh_token"


@attrs.frozen
class Auth0Call:
    """The Auth0 request a trigger makes."""

    method: str
    path: str
    grant_type: str | None = None

    def label(self) -> str:
        """``POST /oauth/token (mfa-oob)`` style text for diagrams and logs."""
        if self.grant_type is None:
            return f"{self.method} {self.path}"
        return f"{self.method} {self.path} ({self.grant_type.removeprefix(GRANT_PREFIX)})"


@attrs.frozen
class Trigger:
    """What one trigger does beyond moving the state: its call, effects and secrets."""

    name: str
    call: Auth0Call | None
    summary: str
    #: What Auth0 (or the user's phone) has done once the call succeeded.
    remote_effect: str = "none"
    #: Whether rolling back over this step also undoes its remote effect.
    remote_undoable: bool = True
    #: First or second factor verification performed by this trigger, if any.
    factor: str | None = None
    #: Secrets the caller hands in, and secrets the response hands out.
    secrets_in: tuple[str, ...] = ()
    secrets_out: tuple[str, ...] = ()


TRIGGERS: Mapping[str, Trigger] = {
    t.name: t
    for t in (
        Trigger(
            "start_passwordless",
            Auth0Call("POST", "/passwordless/start"),
            "send a one-time code by SMS or email",
            remote_effect="a one-time code was sent to the user",
            remote_undoable=False,
            secrets_in=("phone_number", "email"),
        ),
        Trigger(
            "resend_code",
            Auth0Call("POST", "/passwordless/start"),
            "send a new code; it replaces the previous one",
            remote_effect="a new one-time code was sent; the previous one is dead",
            remote_undoable=False,
        ),
        Trigger(
            "verify_otp",
            Auth0Call("POST", "/oauth/token", GRANT_PASSWORDLESS_OTP),
            "verify the one-time code (first factor)",
            remote_effect="the code was consumed",
            remote_undoable=False,
            factor="first",
            secrets_in=("otp",),
            secrets_out=("mfa_token", "tokens"),
        ),
        Trigger(
            "login_password",
            Auth0Call("POST", "/oauth/token", GRANT_PASSWORD_REALM),
            "verify username and password (first factor)",
            factor="first",
            secrets_in=("username", "password"),
            secrets_out=("mfa_token", "tokens"),
        ),
        Trigger(
            "list_authenticators",
            Auth0Call("GET", "/mfa/authenticators"),
            "list the user's enrolled authenticators",
            secrets_in=("mfa_token",),
        ),
        Trigger(
            "enroll",
            Auth0Call("POST", "/mfa/associate"),
            "enroll an authenticator (otp, sms, voice, email, push)",
            remote_effect="an authenticator was associated but not confirmed (active: false)",
            remote_undoable=False,
            secrets_in=("mfa_token", "phone_number", "email"),
            secrets_out=("oob_code", "totp_secret", "barcode_uri", "recovery_codes"),
        ),
        Trigger(
            "challenge",
            Auth0Call("POST", "/mfa/challenge"),
            "challenge an enrolled authenticator",
            remote_effect="a code was sent or a push was raised for the user",
            remote_undoable=False,
            secrets_in=("mfa_token",),
            secrets_out=("oob_code",),
        ),
        Trigger(
            "confirm_oob",
            Auth0Call("POST", "/oauth/token", GRANT_MFA_OOB),
            "confirm with the out-of-band code (second factor)",
            remote_effect="the code was consumed",
            remote_undoable=False,
            factor="second",
            secrets_in=("mfa_token", "oob_code", "binding_code"),
            secrets_out=("tokens", "mfa_token"),
        ),
        Trigger(
            "confirm_otp",
            Auth0Call("POST", "/oauth/token", GRANT_MFA_OTP),
            "confirm with a TOTP code (second factor)",
            factor="second",
            secrets_in=("mfa_token", "otp"),
            secrets_out=("tokens", "mfa_token"),
        ),
        Trigger(
            "confirm_recovery_code",
            Auth0Call("POST", "/oauth/token", GRANT_MFA_RECOVERY),
            "confirm with a recovery code (second factor); a new code is returned",
            remote_effect="the recovery code was replaced by a new one",
            remote_undoable=False,
            factor="second",
            secrets_in=("mfa_token", "recovery_code"),
            secrets_out=("tokens", "recovery_code", "mfa_token"),
        ),
        Trigger(
            "poll_push",
            Auth0Call("POST", "/oauth/token", GRANT_MFA_OOB),
            "poll a Guardian push (second factor once approved)",
            factor="second",
            secrets_in=("mfa_token", "oob_code"),
            secrets_out=("tokens", "mfa_token"),
        ),
        Trigger("cancel", None, "abandon the flow (no call)"),
        Trigger("expire", None, "a deadline of Auth0's passed (no call)"),
    )
}

# ---------------------------------------------------------------- the table


@attrs.frozen
class Edge:
    """``trigger`` is legal in ``source`` when ``guards`` hold; ``outcomes`` map to states."""

    trigger: str
    source: str
    outcomes: Mapping[str, str]
    guards: tuple[str, ...] = ()


def _self(state: str, *kinds: str) -> dict[str, str]:
    return dict.fromkeys(kinds, state)


def _confirm(source: str, *extra: str) -> dict[str, str]:
    return {
        "tokens": AUTHENTICATED,
        "mfa_required": MFA_REQUIRED,
        "expired": EXPIRED,
        "rejected": REJECTED,
        **_self(source, "wrong_code", *extra),
    }


_FIRST_FACTOR_OUTCOMES = {
    "mfa_required": MFA_REQUIRED,
    "mfa_access_token": MFA_REQUIRED,
    "tokens": AUTHENTICATED,
    "locked": LOCKED,
}

EDGES: tuple[Edge, ...] = (
    Edge("start_passwordless", STARTED, {"code_sent": CODE_SENT}, ("no_unconfirmed_send",)),
    Edge("resend_code", STARTED, {"code_sent": CODE_SENT}, ("send_unconfirmed",)),
    Edge("resend_code", CODE_SENT, {"code_sent": CODE_SENT}),
    Edge(
        "verify_otp",
        CODE_SENT,
        {**_FIRST_FACTOR_OUTCOMES, "wrong_code": CODE_SENT, "expired": EXPIRED},
        ("code_attempts_left",),
    ),
    Edge("login_password", STARTED, {**_FIRST_FACTOR_OUTCOMES, "wrong_credentials": STARTED}),
    Edge(
        "list_authenticators",
        MFA_REQUIRED,
        {"authenticators": MFA_REQUIRED, "expired": EXPIRED},
        ("has_mfa_credential",),
    ),
    Edge(
        "enroll",
        MFA_REQUIRED,
        {"enrolled": ENROLLMENT_PENDING, "already_enrolled": MFA_REQUIRED, "expired": EXPIRED},
        ("has_mfa_credential",),
    ),
    Edge(
        "challenge",
        MFA_REQUIRED,
        {"challenged": CHALLENGE_PENDING, "must_enroll": MFA_REQUIRED, "expired": EXPIRED},
        ("has_mfa_token",),
    ),
    *(
        Edge("confirm_oob", s, _confirm(s), ("binding_code_expected",))
        for s in (ENROLLMENT_PENDING, CHALLENGE_PENDING)
    ),
    Edge(
        "confirm_otp",
        MFA_REQUIRED,
        {**_confirm(MFA_REQUIRED), "must_enroll": MFA_REQUIRED},
        ("has_mfa_token",),
    ),
    *(
        Edge("confirm_otp", s, _confirm(s), ("otp_expected",))
        for s in (ENROLLMENT_PENDING, CHALLENGE_PENDING)
    ),
    Edge(
        "confirm_recovery_code",
        MFA_REQUIRED,
        {**_confirm(MFA_REQUIRED), "must_enroll": MFA_REQUIRED},
        ("has_mfa_token",),
    ),
    *(
        Edge("poll_push", s, _confirm(s, "pending", "slow_down"), ("push_expected", "poll_due"))
        for s in (ENROLLMENT_PENDING, CHALLENGE_PENDING)
    ),
    *(Edge("cancel", s, {"cancelled": CANCELLED}) for s in LIVE_STATES),
    *(Edge("expire", s, {"deadline": EXPIRED}) for s in LIVE_STATES if s != STARTED),
)

# ------------------------------------------------------------------- guards

GuardFn = Callable[[Any], bool]
"""A guard reads the flow model (``.state``, ``.context``, ``.now``) and says yes or no."""


def no_unconfirmed_send(m: Any) -> bool:
    """No earlier start may have reached Auth0 unconfirmed (use resend_code then)."""
    return not m.context.get("send_unconfirmed", False)


def send_unconfirmed(m: Any) -> bool:
    """An earlier start may have reached Auth0; only an explicit resend may send again."""
    return bool(m.context.get("send_unconfirmed", False))


def code_attempts_left(m: Any) -> bool:
    """Auth0 kills a passwordless code after 3 wrong tries; only a resend helps then."""
    return int(m.context.get("code_attempts", 0)) < 3


def has_mfa_credential(m: Any) -> bool:
    """An mfa_token (or an MFA-audience access token) is held."""
    return bool(m.context.get("mfa_token"))


def has_mfa_token(m: Any) -> bool:
    """A real mfa_token is held: the challenge and the mfa grants need one."""
    return bool(m.context.get("mfa_token")) and bool(
        m.context.get("mfa_token_kind") == "mfa_token"
    )


def binding_code_expected(m: Any) -> bool:
    """The pending factor sent a code to type (binding_method prompt)."""
    return m.context.get("binding_method") == "prompt" and bool(m.context.get("oob_code"))


def otp_expected(m: Any) -> bool:
    """The pending factor is a TOTP authenticator."""
    return bool(m.context.get("factor") == "otp")


def push_expected(m: Any) -> bool:
    """The pending factor is a Guardian push (an oob_code without a binding code)."""
    return m.context.get("factor") == "push" and bool(m.context.get("oob_code"))


def poll_due(m: Any) -> bool:
    """The poll interval since the previous poll has elapsed."""
    return float(m.now) >= float(m.context.get("next_poll_at") or 0.0)


GUARDS: Mapping[str, GuardFn] = {
    f.__name__: f
    for f in (
        no_unconfirmed_send,
        send_unconfirmed,
        code_attempts_left,
        has_mfa_credential,
        has_mfa_token,
        binding_code_expected,
        otp_expected,
        push_expected,
        poll_due,
    )
}

# ------------------------------------------------------------ the machine


def _outcome_is(kind: str) -> Callable[[EventData], bool]:
    def condition(event: EventData) -> bool:
        model: Any = event.model
        return bool(model.outcome == kind)

    condition.__name__ = f"outcome_is_{kind}"
    return condition


def _guard_condition(name: str) -> Callable[[EventData], bool]:
    guard = GUARDS[name]

    def condition(event: EventData) -> bool:
        return guard(event.model)

    condition.__name__ = name
    return condition


def transitions_table(edges: tuple[Edge, ...] = EDGES) -> list[dict[str, Any]]:
    """The edges as a ``transitions`` table: one transition per (edge, outcome)."""
    table: list[dict[str, Any]] = []
    for edge in edges:
        guards = [_guard_condition(g) for g in edge.guards]
        for kind, dest in edge.outcomes.items():
            table.append(
                {
                    "trigger": edge.trigger,
                    "source": edge.source,
                    "dest": dest,
                    "conditions": [*guards, _outcome_is(kind)],
                }
            )
    return table


def build_machine(edges: tuple[Edge, ...] = EDGES) -> Machine:
    """Build a model-less ``transitions`` machine for ``edges`` (done once per definition)."""
    return Machine(
        model=None,
        states=list(STATES),
        initial=STARTED,
        transitions=transitions_table(edges),
        auto_transitions=False,
        send_event=True,
        queued=False,
        ignore_invalid_triggers=False,
    )


def definition_hash(edges: tuple[Edge, ...] = EDGES) -> str:
    """SHA-256 of the machine definition: states, edges, guards, outcomes and calls."""
    doc = {
        "name": MACHINE_NAME,
        "states": list(STATES),
        "edges": [[e.trigger, e.source, sorted(e.outcomes.items()), list(e.guards)] for e in edges],
        "calls": {n: (t.call.label() if t.call else None) for n, t in sorted(TRIGGERS.items())},
    }
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(raw).hexdigest()


MACHINE: Machine = build_machine()
MACHINE_HASH: str = definition_hash()


def fire(trigger: str, model: Any, machine: Machine = MACHINE) -> bool:
    """Fire ``trigger`` on ``model``: the first of its rows whose conditions hold is taken.

    This is ``machine.events[trigger].trigger(model)`` without the event queue
    and the prepare/finalize/exception callback passes, none of which this
    machine uses: each row is still the machine's own ``Transition``, checked
    and executed by ``transitions`` (conditions, ``set_state``). Half the cost
    of a full trigger on the hot path; returns False when no row matched.
    """
    event = machine.events[trigger]
    rows = event.transitions.get(model.state)
    if not rows:
        return False
    data = EventData(machine.get_state(model.state), event, machine, model, (), {})
    return any(row.execute(data) for row in rows)

#: (trigger, source) -> Edge, for the O(1) legality and guard checks.
EDGE_INDEX: Mapping[tuple[str, str], Edge] = {(e.trigger, e.source): e for e in EDGES}


def legal_triggers(state: str) -> tuple[str, ...]:
    """The triggers that have an edge out of ``state``, in table order."""
    seen: dict[str, None] = {}
    for e in EDGES:
        if e.source == state:
            seen[e.trigger] = None
    return tuple(seen)
