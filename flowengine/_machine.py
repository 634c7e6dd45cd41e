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
(state, trigger) pair has an edge (else ``IllegalTransitionError``) and that every
guard holds (else ``GuardRejectedError``) and only then builds the request; later
``apply`` parses the response into an outcome and fires the trigger on the one
static ``transitions.Machine``, whose conditions are the same guards plus
"the outcome is X". Nothing changes in between, so a failure on the wire leaves
the flow exactly as it was.

The machine is built once at import time with ``auto_transitions=False`` (the
default would add ``to_authenticated()``, which skips both factors) and with
``model=None``: flows are thin models passed to ``machine.events[t].trigger``,
never added to the machine, so no per-flow machine exists and none is retained.

Everything about a trigger lives in this module
-----------------------------------------------
A trigger is written in one record here (``TRIGGERS``: its Auth0 call, remote effect,
factor and secrets), its rows in ``EDGES``, its guards in ``GUARDS`` (each with the hint
shown when it says no), the context effect of every outcome it can have in ``EFFECTS``, the
deadline of every state in ``DEADLINES``, what a rollback restores in
``rollback_context`` and what may follow a request in doubt in ``DOUBT``.
Outside this module a trigger needs only its wire pair in ``_wire.WIRE``
(request builder and response parser) and its public method on the clients.
``tests/unit/test_records.py`` fails when any of these pieces is missing.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from transitions import EventData, Machine

from flowengine._context import DEFAULT_SETTINGS, Context

#: The machine's name, written into every snapshot (another machine's snapshot is refused).
MACHINE_NAME = "auth0-passwordless-mfa"

# ------------------------------------------------------------------ states


class State(enum.StrEnum):
    """The states of a flow (written into snapshots: never rename one without a migration)."""

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


class Trigger(enum.StrEnum):
    """The steps of a flow: one per Auth0 call, plus ``cancel`` and ``expire``."""

    START_PASSWORDLESS = "start_passwordless"
    RESEND_CODE = "resend_code"
    VERIFY_OTP = "verify_otp"
    LOGIN_PASSWORD = "login_password"
    LIST_AUTHENTICATORS = "list_authenticators"
    ENROLL = "enroll"
    CHALLENGE = "challenge"
    CONFIRM_OOB = "confirm_oob"
    CONFIRM_OTP = "confirm_otp"
    CONFIRM_RECOVERY_CODE = "confirm_recovery_code"
    POLL_PUSH = "poll_push"
    REFRESH = "refresh"
    CANCEL = "cancel"
    EXPIRE = "expire"


class Outcome(enum.StrEnum):
    """What Auth0's answer meant: each outcome selects one row of the machine."""

    CODE_SENT = "code_sent"
    WRONG_CODE = "wrong_code"
    WRONG_CREDENTIALS = "wrong_credentials"
    MFA_REQUIRED = "mfa_required"
    MFA_ACCESS_TOKEN = "mfa_access_token"
    TOKENS = "tokens"
    LOCKED = "locked"
    EXPIRED = "expired"
    REJECTED = "rejected"
    AUTHENTICATORS = "authenticators"
    ENROLLED = "enrolled"
    ALREADY_ENROLLED = "already_enrolled"
    CHALLENGED = "challenged"
    MUST_ENROLL = "must_enroll"
    PENDING = "pending"
    CODE_EXPIRED = "code_expired"
    SLOW_DOWN = "slow_down"
    CANCELLED = "cancelled"
    DEADLINE = "deadline"


# Plain-string names for the table: ``transitions`` reads an Enum state by its ``.name``.
STARTED: str = State.STARTED.value
CODE_SENT: str = State.CODE_SENT.value
MFA_REQUIRED: str = State.MFA_REQUIRED.value
ENROLLMENT_PENDING: str = State.ENROLLMENT_PENDING.value
CHALLENGE_PENDING: str = State.CHALLENGE_PENDING.value
AUTHENTICATED: str = State.AUTHENTICATED.value
EXPIRED: str = State.EXPIRED.value
REJECTED: str = State.REJECTED.value
LOCKED: str = State.LOCKED.value
CANCELLED: str = State.CANCELLED.value

#: Every state's name, in the table's order (``State`` is the same as an enum).
STATES: tuple[str, ...] = tuple(s.value for s in State)
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
class TriggerSpec:
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


TRIGGERS: Mapping[str, TriggerSpec] = {
    t.name: t
    for t in (
        TriggerSpec(
            "start_passwordless",
            Auth0Call("POST", "/passwordless/start"),
            "send a one-time code by SMS or email",
            remote_effect="a one-time code was sent to the user",
            remote_undoable=False,
            secrets_in=("phone_number", "email"),
        ),
        TriggerSpec(
            "resend_code",
            Auth0Call("POST", "/passwordless/start"),
            "send a new code; it replaces the previous one",
            remote_effect="a new one-time code was sent; the previous one is dead",
            remote_undoable=False,
        ),
        TriggerSpec(
            "verify_otp",
            Auth0Call("POST", "/oauth/token", GRANT_PASSWORDLESS_OTP),
            "verify the one-time code (first factor)",
            remote_effect="the code was consumed",
            remote_undoable=False,
            factor="first",
            secrets_in=("otp",),
            secrets_out=("mfa_token", "tokens"),
        ),
        TriggerSpec(
            "login_password",
            Auth0Call("POST", "/oauth/token", GRANT_PASSWORD_REALM),
            "verify username and password (first factor)",
            factor="first",
            secrets_in=("username", "password"),
            secrets_out=("mfa_token", "tokens"),
        ),
        TriggerSpec(
            "list_authenticators",
            Auth0Call("GET", "/mfa/authenticators"),
            "list the user's enrolled authenticators",
            secrets_in=("mfa_token",),
        ),
        TriggerSpec(
            "enroll",
            Auth0Call("POST", "/mfa/associate"),
            "enroll an authenticator (otp, sms, voice, email, push)",
            remote_effect="an authenticator was associated but not confirmed (active: false)",
            remote_undoable=False,
            secrets_in=("mfa_token", "phone_number", "email"),
            secrets_out=("oob_code", "totp_secret", "barcode_uri", "recovery_codes"),
        ),
        TriggerSpec(
            "challenge",
            Auth0Call("POST", "/mfa/challenge"),
            "challenge an enrolled authenticator",
            remote_effect="a code was sent or a push was raised for the user",
            remote_undoable=False,
            secrets_in=("mfa_token",),
            secrets_out=("oob_code",),
        ),
        TriggerSpec(
            "confirm_oob",
            Auth0Call("POST", "/oauth/token", GRANT_MFA_OOB),
            "confirm with the out-of-band code (second factor)",
            remote_effect="the code was consumed",
            remote_undoable=False,
            factor="second",
            secrets_in=("mfa_token", "oob_code", "binding_code"),
            secrets_out=("tokens", "mfa_token"),
        ),
        TriggerSpec(
            "confirm_otp",
            Auth0Call("POST", "/oauth/token", GRANT_MFA_OTP),
            "confirm with a TOTP code (second factor)",
            factor="second",
            secrets_in=("mfa_token", "otp"),
            secrets_out=("tokens", "mfa_token"),
        ),
        TriggerSpec(
            "confirm_recovery_code",
            Auth0Call("POST", "/oauth/token", GRANT_MFA_RECOVERY),
            "confirm with a recovery code (second factor); a new code is returned",
            remote_effect="the recovery code was replaced by a new one",
            remote_undoable=False,
            factor="second",
            secrets_in=("mfa_token", "recovery_code"),
            secrets_out=("tokens", "recovery_code", "mfa_token"),
        ),
        TriggerSpec(
            "poll_push",
            Auth0Call("POST", "/oauth/token", GRANT_MFA_OOB),
            "poll a Guardian push (second factor once approved)",
            factor="second",
            secrets_in=("mfa_token", "oob_code"),
            secrets_out=("tokens", "mfa_token"),
        ),
        TriggerSpec(
            "refresh",
            Auth0Call("POST", "/oauth/token", GRANT_REFRESH),
            "exchange a refresh token (first factor); MFA on refresh answers mfa_required",
            remote_effect="a rotating refresh token may have been replaced by a new one",
            remote_undoable=False,
            factor="first",
            secrets_in=("refresh_token",),
            secrets_out=("mfa_token", "tokens"),
        ),
        TriggerSpec("cancel", None, "abandon the flow (no call)"),
        TriggerSpec("expire", None, "a deadline of Auth0's passed (no call)"),
    )
}

#: Secrets a trigger names that never enter the flow's context, and why (the context's
#: own secret fields declare how long they are kept: ``flowengine._context``).
TRANSIENT_SECRETS: Mapping[str, str] = {
    "otp": "typed by the user; sent in the request only",
    "binding_code": "typed by the user; sent in the request only",
    "password": "typed by the user; sent in the request only",
    "recovery_code": "typed by the user; the new code Auth0 returns is handed to the caller "
    "once (StepResult.data), not kept",
    "totp_secret": "handed to the caller once (StepResult.data), not kept",
    "barcode_uri": "handed to the caller once (StepResult.data), not kept",
    "recovery_codes": "handed to the caller once (StepResult.data), not kept",
    "refresh_token": "handed in by the caller; sent in the request only (the new one Auth0 "
    "returns is part of the tokens)",
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
    rows = {
        "tokens": AUTHENTICATED,
        "mfa_required": MFA_REQUIRED,
        "expired": EXPIRED,
        "rejected": REJECTED,
        **_self(source, "wrong_code", *extra),
    }
    if source in PENDING_STATES:
        # Auth0's expired_token on the oob_code (not the mfa_token): challenge again.
        rows["code_expired"] = MFA_REQUIRED
    return rows


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
        ("code_attempts_left", "code_alive"),
    ),
    Edge("login_password", STARTED, {**_FIRST_FACTOR_OUTCOMES, "wrong_credentials": STARTED}),
    Edge("refresh", STARTED, {"tokens": AUTHENTICATED, "mfa_required": MFA_REQUIRED}),
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
        ("has_mfa_token", "recovery_code_not_in_doubt"),
    ),
    *(
        Edge("poll_push", s, _confirm(s, "pending", "slow_down"), ("push_expected", "poll_due"))
        for s in (ENROLLMENT_PENDING, CHALLENGE_PENDING)
    ),
    *(Edge("cancel", s, {"cancelled": CANCELLED}) for s in LIVE_STATES),
    *(
        Edge("expire", s, {"deadline": EXPIRED})
        for s in LIVE_STATES
        if s not in (STARTED, *PENDING_STATES)
    ),
    # A binding code (or push) past its lifetime while the mfa_token lives: challenge again.
    *(
        Edge("expire", s, {"deadline": EXPIRED, "code_expired": MFA_REQUIRED})
        for s in PENDING_STATES
    ),
)

# ------------------------------------------------------------------- guards


class GuardModel:
    """What a guard reads: the state, the context and the time of the step."""

    __slots__ = ("context", "now", "outcome", "state")

    def __init__(self, state: str, context: Context, now: float, outcome: str) -> None:
        self.state = str(state)  # a plain name: transitions reads an Enum's .name
        self.context = context
        self.now = now
        self.outcome = outcome


GuardFn = Callable[[GuardModel], bool]
"""A guard reads the flow model (``.state``, ``.context``, ``.now``) and says yes or no."""


@attrs.frozen
class Guard:
    """A named predicate on the flow, and the hint shown to the caller when it says no."""

    name: str
    check: GuardFn = attrs.field(repr=False)
    hint: str


def no_unconfirmed_send(m: GuardModel) -> bool:
    """No earlier start may have reached Auth0 unconfirmed (use resend_code then)."""
    return not m.context.send_unconfirmed


def send_unconfirmed(m: GuardModel) -> bool:
    """An earlier start may have reached Auth0; only an explicit resend may send again."""
    return m.context.send_unconfirmed


def code_attempts_left(m: GuardModel) -> bool:
    """Auth0 kills a passwordless code after 3 wrong tries; only a resend helps then."""
    return m.context.code_attempts < 3


def code_alive(m: GuardModel) -> bool:
    """The passwordless code is within its lifetime (a tenant setting); else resend."""
    return float(m.now) < float(m.context.code_expires_at or 0.0)


def has_mfa_credential(m: GuardModel) -> bool:
    """An mfa_token (or an MFA-audience access token) is held."""
    return bool(m.context.mfa_token)


def has_mfa_token(m: GuardModel) -> bool:
    """A real mfa_token is held: the challenge and the mfa grants need one."""
    return bool(m.context.mfa_token) and m.context.mfa_token_kind == "mfa_token"


def binding_code_expected(m: GuardModel) -> bool:
    """The pending factor sent a code to type (binding_method prompt)."""
    return m.context.binding_method == "prompt" and bool(m.context.oob_code)


def otp_expected(m: GuardModel) -> bool:
    """The pending factor is a TOTP authenticator."""
    return m.context.factor == "otp"


def push_expected(m: GuardModel) -> bool:
    """The pending factor is a Guardian push (an oob_code without a binding code)."""
    return m.context.factor == "push" and bool(m.context.oob_code)


def recovery_code_not_in_doubt(m: GuardModel) -> bool:
    """No earlier recovery-code grant is in doubt (Auth0 may have replaced the code)."""
    return not m.context.recovery_code_in_doubt


def poll_due(m: GuardModel) -> bool:
    """The poll interval since the previous poll has elapsed."""
    return float(m.now) >= float(m.context.next_poll_at or 0.0)


# ------------------------------------------------- the factors a step may use

#: The factors the flow enrolls and challenges, in the words of its public steps.
FACTOR_KINDS: tuple[str, ...] = ("otp", "sms", "voice", "email", "push")

#: ``mfa_requirements`` types (Auth0's docs; the SDK examples' older words too) -> factors.
REQUIREMENT_TYPES: Mapping[str, tuple[str, ...]] = {
    "otp": ("otp",),
    "phone": ("sms", "voice"),
    "sms": ("sms",),
    "voice": ("voice",),
    "email": ("email",),
    "push-notification": ("push",),
    "auth0": ("push",),
    "recovery-code": ("recovery-code",),
}

_ID_PREFIX_FACTORS: Mapping[str, str] = {
    "sms": "sms",
    "voice": "voice",
    "email": "email",
    "push": "push",
    "totp": "otp",
    "otp": "otp",
    "recovery-code": "recovery-code",
}


def requirement_factors(types: Any) -> set[str]:
    """The factor kinds a list of ``mfa_requirements`` types names (unknown types kept)."""
    out: set[str] = set()
    for t in types or ():
        out.update(REQUIREMENT_TYPES.get(str(t), (str(t),)))
    return out


def factor_of(item: Mapping[str, Any]) -> str:
    """The factor kind of an authenticator (list item or id): sms, voice, email, push, otp."""
    ident = str(item.get("id", ""))
    prefix = ident.split("|", 1)[0] if "|" in ident else ""
    if prefix in _ID_PREFIX_FACTORS:
        return _ID_PREFIX_FACTORS[prefix]
    channel = item.get("oob_channel")
    if channel:
        return "push" if channel == "auth0" else str(channel)
    return str(item.get("authenticator_type"))


def offered_factors(ctx: Context) -> dict[str, tuple[str, ...]]:
    """The factors the next ``challenge`` and ``enroll`` may use, as far as the flow knows.

    Auth0's ``mfa_requirements`` decide when it sent them (only its ``challenge`` list may be
    challenged, only its ``enroll`` list enrolled); otherwise the enrolled factors a list
    showed may be challenged, and any factor enrolled.
    """
    req = ctx.mfa_requirements or {}
    if req.get("challenge") or req.get("enroll"):
        challenge = requirement_factors(req.get("challenge"))
        enroll = requirement_factors(req.get("enroll")) - {"recovery-code"}
    else:
        known = ctx.enrolled_factors
        challenge = set(known.split()) if known is not None else set(FACTOR_KINDS)
        enroll = set(FACTOR_KINDS)
    order = (*FACTOR_KINDS, "recovery-code")
    return {
        "challenge": tuple(k for k in order if k in challenge),
        "enroll": tuple(k for k in order if k in enroll),
    }


def _challenge_wants(params: Mapping[str, Any]) -> tuple[str, set[str]] | None:
    """What a challenge's parameters ask for: (the words the caller used, acceptable kinds)."""
    ident = params.get("authenticator_id")
    if ident:
        return str(ident).split("|", 1)[0] + "|…", {factor_of({"id": ident})}
    ctype = params.get("challenge_type")
    if ctype:
        kinds: set[str] = set()
        for part in str(ctype).split():
            kinds.update({"otp"} if part == "otp" else {"sms", "voice", "email", "push"})
        return f"challenge_type {ctype}", kinds
    return None


def factor_refusal(trigger: str, ctx: Context, params: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(guard, hint)`` when a step names a factor Auth0 did not ask for or the user lacks.

    Checked before any request is built (``Flow.prepare``): the flow refuses locally what
    Auth0 would refuse, and says which factors are on offer instead.
    """
    req = ctx.mfa_requirements or {}
    asked = bool(req.get("challenge") or req.get("enroll"))
    offer = offered_factors(ctx)
    guard = "mfa_requirements" if asked else "enrolled_factors"
    if trigger == "enroll":
        if not asked:
            return None  # any factor may be enrolled; Auth0 says if one is already active
        factor = str(params.get("factor"))
        if factor in offer["enroll"]:
            return None
        if not offer["enroll"]:
            return guard, (
                "Auth0 asked for a challenge of one of: "
                f"{', '.join(offer['challenge'])}; not an enrollment"
            )
        return guard, f"Auth0 asked to enroll one of: {', '.join(offer['enroll'])}; not {factor}"
    if trigger == "challenge":
        if not asked and ctx.enrolled_factors is None:
            return None
        wants = _challenge_wants(params)
        usable = set(offer["challenge"]) - {"recovery-code"}
        if not usable:
            return guard, (
                f"Auth0 asked to enroll one of: {', '.join(offer['enroll'])}; "
                "there is nothing to challenge"
            )
        if wants is None or wants[1] & usable:
            return None
        if asked:
            return guard, (
                f"Auth0 asked for a challenge of one of: {', '.join(offer['challenge'])}; "
                f"not {wants[0]}"
            )
        return guard, (
            f"the user has no authenticator for {wants[0]}; enrolled: "
            f"{', '.join(offer['challenge'])}: challenge one of those"
        )
    if trigger in ("confirm_otp", "confirm_recovery_code") and asked:
        kind = "otp" if trigger == "confirm_otp" else "recovery-code"
        if kind not in offer["challenge"]:
            return guard, (
                f"Auth0 asked for one of: {', '.join(offer['challenge']) or 'an enrollment'}; "
                f"not {kind}"
            )
    return None


#: The refusals ``factor_refusal`` can give, with what each means (for the review and docs).
FACTOR_GUARDS: Mapping[str, str] = {
    "mfa_requirements": "the factor is not among those Auth0's mfa_requirements asked for",
    "enrolled_factors": "the user has no active authenticator of that kind (a list showed it)",
}


GUARD_RECORDS: Mapping[str, Guard] = {
    g.name: g
    for g in (
        Guard(
            "no_unconfirmed_send",
            no_unconfirmed_send,
            "an earlier start may have reached Auth0; call resend_code",
        ),
        Guard(
            "send_unconfirmed", send_unconfirmed, "no start is in doubt; call start_passwordless"
        ),
        Guard(
            "code_attempts_left",
            code_attempts_left,
            "three wrong codes spent this code; call resend_code",
        ),
        Guard(
            "code_alive",
            code_alive,
            "the code is past the connection's OTP expiry; call resend_code",
        ),
        Guard("has_mfa_credential", has_mfa_credential, "no mfa_token is held"),
        Guard(
            "has_mfa_token",
            has_mfa_token,
            "this needs an mfa_token, not an MFA-audience access token",
        ),
        Guard(
            "binding_code_expected",
            binding_code_expected,
            "the pending factor expects no typed code",
        ),
        Guard("otp_expected", otp_expected, "the pending factor is not a TOTP authenticator"),
        Guard(
            "recovery_code_not_in_doubt",
            recovery_code_not_in_doubt,
            "an earlier recovery-code grant may have replaced the code: use another factor",
        ),
        Guard("push_expected", push_expected, "the pending factor is not a push"),
        Guard(
            "poll_due",
            poll_due,
            "polled before the poll interval elapsed; wait and poll again",
        ),
    )
}
GUARDS: Mapping[str, GuardFn] = {name: g.check for name, g in GUARD_RECORDS.items()}
GUARD_HINTS: Mapping[str, str] = {name: g.hint for name, g in GUARD_RECORDS.items()}

# ---------------------------------------------------------- context effects

#: Auth0's clocks, in seconds: the defaults of ``TenantSettings`` (a flow reads its own
#: settings from its context; these names stay for the callers that import them).
PASSWORDLESS_CODE_TTL = DEFAULT_SETTINGS.passwordless_code_ttl
MFA_CODE_TTL = DEFAULT_SETTINGS.mfa_code_ttl
MFA_TOKEN_TTL = DEFAULT_SETTINGS.mfa_token_ttl
#: How long a flow that never started, or has ended, is kept before a sweep drops it.
IDLE_FLOW_TTL = 3600.0
PUSH_POLL_INTERVAL = 5.0
SLOW_DOWN_STEP = 5.0
MAX_POLL_INTERVAL = 30.0


@attrs.frozen
class StepInput:
    """What an effect reads besides the context: the trigger, Auth0's data, the caller's."""

    trigger: str
    data: Mapping[str, Any] = attrs.field(repr=False)
    params: Mapping[str, Any] = attrs.field(repr=False)
    now: float


Produced = dict[str, Any]
Effect = Callable[[Context, StepInput], tuple[Context, Produced]]
"""The context after an outcome, and what the step produced for the caller."""


def _first_factor_done(ctx: Context, s: StepInput, *also: str, **changes: Any) -> Context:
    """The first factor is done (if ``s`` was one): its fields cleared, then the groups
    ``also`` cleared and ``changes`` made, all in one new context."""
    if TRIGGERS[s.trigger].factor != "first":
        return ctx.cleared(*also, **changes)
    changes["first_factor"] = s.trigger
    if s.trigger == "login_password":
        changes["username"], changes["realm"] = s.params["username"], s.params["realm"]
    return ctx.cleared("first_factor", *also, **changes)


def _code_sent(ctx: Context, s: StepInput) -> tuple[Context, Produced]:
    where = {k: s.params[k] for k in ("connection", "phone_number", "email") if k in s.params}
    return ctx.evolve(
        **where,
        send_unconfirmed=False,
        code_attempts=0,
        code_sent_at=s.now,
        code_expires_at=s.now + ctx.tenant_settings.passwordless_code_ttl,
        sends=ctx.sends + 1,
    ), {}


def _wrong_code(ctx: Context, s: StepInput) -> tuple[Context, Produced]:
    if s.trigger == "verify_otp":
        ctx = ctx.evolve(code_attempts=ctx.code_attempts + 1)
        return ctx, {"attempts": ctx.code_attempts}
    ctx = ctx.evolve(mfa_attempts=ctx.mfa_attempts + 1)
    return ctx, {"attempts": ctx.mfa_attempts}


def _wrong_credentials(ctx: Context, s: StepInput) -> tuple[Context, Produced]:
    return ctx.evolve(password_attempts=ctx.password_attempts + 1), {}


def _mfa_required(ctx: Context, s: StepInput) -> tuple[Context, Produced]:
    produced: Produced = {}
    req = s.data.get("mfa_requirements")
    changes: dict[str, Any] = {
        "mfa_token": s.data["mfa_token"],
        "mfa_token_kind": "mfa_token",
        "mfa_token_expires_at": s.now + ctx.tenant_settings.mfa_token_ttl,
        "mfa_requested": True,
        "must_enroll": False,
        # Each mfa_required answer says afresh what Auth0 asks for: an older list is dropped.
        "mfa_requirements": req or None,
    }
    if TRIGGERS[s.trigger].factor == "second":
        changes["chained_mfa"] = ctx.chained_mfa + 1
    if req:
        produced["mfa_requirements"] = req
        if req.get("challenge"):
            kinds = requirement_factors(req["challenge"]) - {"recovery-code"}
            changes["enrolled_factors"] = " ".join(sorted(kinds)) or None
        elif req.get("enroll"):
            changes["must_enroll"] = True
    return _first_factor_done(ctx, s, "pending", **changes), produced


def _mfa_access_token(ctx: Context, s: StepInput) -> tuple[Context, Produced]:
    tokens = s.data["tokens"]
    # Auth0 minted an MFA-API access token without a challenge: the user has no factor
    # (or only email) and must enroll; the token's own expires_in is its lifetime.
    ttl = float(tokens.get("expires_in") or ctx.tenant_settings.mfa_token_ttl)
    return _first_factor_done(
        ctx,
        s,
        "pending",
        mfa_token=tokens["access_token"],
        mfa_token_kind="access_token",
        mfa_token_expires_at=s.now + ttl,
    ), {}


def _tokens(ctx: Context, s: StepInput) -> tuple[Context, Produced]:
    tokens = dict(s.data["tokens"])
    produced: Produced = {}
    if "recovery_code" in tokens:
        produced["recovery_code"] = tokens.pop("recovery_code")
    produced["tokens"] = dict(tokens)
    if TRIGGERS[s.trigger].factor == "first":
        return _first_factor_done(ctx, s, "pending", "mfa", tokens=tokens), produced
    return ctx.cleared("pending", "mfa", second_factor=s.trigger, tokens=tokens), produced


def _authenticators(ctx: Context, s: StepInput) -> tuple[Context, Produced]:
    kinds = sorted(
        {
            factor_of(a)
            for a in s.data["authenticators"]
            if a.get("active") and a.get("authenticator_type") != "recovery-code"
        }
    )
    return ctx.evolve(enrolled_factors=" ".join(kinds) or None), {
        "authenticators": s.data["authenticators"]
    }


def _pending_factor(ctx: Context, s: StepInput, oob: bool) -> tuple[Context, Produced]:
    """The shared part of an enrollment or a challenge that leaves a factor pending."""
    d = s.data
    produced: Produced = {"factor": d["factor"]}
    if oob:
        ctx = ctx.evolve(
            oob_code=d["oob_code"],
            binding_method=d.get("binding_method"),
            mfa_code_expires_at=s.now + ctx.tenant_settings.mfa_code_ttl,
        )
        if d["factor"] == "push":
            ctx = ctx.evolve(
                poll_interval=PUSH_POLL_INTERVAL, next_poll_at=s.now + PUSH_POLL_INTERVAL
            )
            produced["retry_after"] = PUSH_POLL_INTERVAL
    return ctx, produced


def _enrolled(ctx: Context, s: StepInput) -> tuple[Context, Produced]:
    d = s.data
    ctx = ctx.cleared("pending").evolve(
        factor=d["factor"], authenticator_type=d["authenticator_type"]
    )
    oob = d["authenticator_type"] == "oob"
    if oob:
        ctx = ctx.evolve(oob_channel=d.get("oob_channel"))
    ctx, produced = _pending_factor(ctx, s, oob)
    for key in ("totp_secret", "barcode_uri", "recovery_codes"):
        if key in d:
            produced["secret" if key == "totp_secret" else key] = d[key]
    return ctx, produced


def _already_enrolled(ctx: Context, s: StepInput) -> tuple[Context, Produced]:
    return ctx.evolve(enrolled=True), {
        "hint": "the user already has an active authenticator: challenge it"
    }


def _challenged(ctx: Context, s: StepInput) -> tuple[Context, Produced]:
    d = s.data
    ctx = ctx.cleared("pending").evolve(factor=d["factor"], challenge_type=d["challenge_type"])
    if s.params.get("authenticator_id"):
        ctx = ctx.evolve(authenticator_id=s.params["authenticator_id"])
    return _pending_factor(ctx, s, d["challenge_type"] == "oob")


def _must_enroll(ctx: Context, s: StepInput) -> tuple[Context, Produced]:
    asked = s.params.get("challenge_type") or s.params.get("authenticator_id")
    description = str(s.data.get("description") or "").lower()
    if asked and ("not enrolled" not in description or ctx.enrolled_factors):
        # The user has factors, just none of the kind asked for: never say "enroll one".
        known = ctx.enrolled_factors
        hint = f"the user has no authenticator for {asked!r}; " + (
            f"enrolled: {', '.join(known.split())}: challenge one of those"
            if known
            else "list_authenticators shows the enrolled ones"
        )
        return ctx, {"hint": hint}
    return ctx.evolve(must_enroll=True), {
        "hint": "the user has no usable authenticator: enroll one"
    }


def _code_expired(ctx: Context, s: StepInput) -> tuple[Context, Produced]:
    """The binding code (or push) expired but the mfa_token lives: challenge again."""
    return ctx.cleared("pending"), {
        "hint": "the MFA code expired; the mfa_token still lives: challenge (or enroll) again"
    }


def _still_pending(ctx: Context, s: StepInput) -> tuple[Context, Produced]:
    interval = float(ctx.poll_interval or PUSH_POLL_INTERVAL)
    if s.data.get("slow_down"):
        interval = min(interval + SLOW_DOWN_STEP, MAX_POLL_INTERVAL)
    ctx = ctx.evolve(poll_interval=interval, next_poll_at=s.now + interval, polls=ctx.polls + 1)
    return ctx, {"pending": True, "retry_after": interval}


def _slow_down(ctx: Context, s: StepInput) -> tuple[Context, Produced]:
    return _still_pending(ctx, attrs.evolve(s, data={**s.data, "slow_down": True}))


def _ends(ctx: Context, s: StepInput) -> tuple[Context, Produced]:
    """An outcome that ends the flow: the failure states drop the secrets (see ``Flow``)."""
    return ctx, {}


#: The context effect of every outcome (``uncertain`` is cleared by any answer).
EFFECTS: Mapping[str, Effect] = {
    Outcome.CODE_SENT: _code_sent,
    Outcome.WRONG_CODE: _wrong_code,
    Outcome.WRONG_CREDENTIALS: _wrong_credentials,
    Outcome.MFA_REQUIRED: _mfa_required,
    Outcome.MFA_ACCESS_TOKEN: _mfa_access_token,
    Outcome.TOKENS: _tokens,
    Outcome.AUTHENTICATORS: _authenticators,
    Outcome.ENROLLED: _enrolled,
    Outcome.ALREADY_ENROLLED: _already_enrolled,
    Outcome.CHALLENGED: _challenged,
    Outcome.MUST_ENROLL: _must_enroll,
    Outcome.PENDING: _still_pending,
    Outcome.CODE_EXPIRED: _code_expired,
    Outcome.SLOW_DOWN: _slow_down,
    Outcome.LOCKED: _ends,
    Outcome.EXPIRED: _ends,
    Outcome.REJECTED: _ends,
    Outcome.CANCELLED: _ends,
    Outcome.DEADLINE: _ends,
}

# ---------------------------------------------------------------- deadlines

Deadline = Callable[[Context, float, float], "float | None"]
"""``(context, now, created_at)`` -> the tightest of Auth0's deadlines in a state."""


def _pending_deadline(ctx: Context, now: float, created_at: float) -> float:
    limits = [float(ctx.mfa_token_expires_at or 0.0)]
    if ctx.mfa_code_expires_at is not None:
        limits.append(ctx.mfa_code_expires_at)
    return min(limits)


def _kept_a_while(ctx: Context, now: float, created_at: float) -> float:
    return now + IDLE_FLOW_TTL  # final states are kept a while for `show`, then swept


DEADLINES: Mapping[str, Deadline] = {
    State.STARTED: lambda ctx, now, created: created + IDLE_FLOW_TTL,
    # An expired passwordless code does not end the login (a resend helps, see code_alive):
    # the flow is kept an idle while after the latest code, then swept.
    State.CODE_SENT: lambda ctx, now, created: float(ctx.code_sent_at or now) + IDLE_FLOW_TTL,
    State.MFA_REQUIRED: lambda ctx, now, created: float(ctx.mfa_token_expires_at or 0.0),
    State.ENROLLMENT_PENDING: _pending_deadline,
    State.CHALLENGE_PENDING: _pending_deadline,
    **dict.fromkeys(
        (State.AUTHENTICATED, State.EXPIRED, State.REJECTED, State.LOCKED, State.CANCELLED),
        _kept_a_while,
    ),
}

# ------------------------------------------------------------------ rollback

#: States a rollback may return to while keeping the current MFA credential (it still lives).
ROLLBACK_KEEPS_MFA_CREDENTIAL = frozenset(
    {State.MFA_REQUIRED, State.ENROLLMENT_PENDING, State.CHALLENGE_PENDING}
)


def rollback_context(
    target: str, undone: tuple[str, ...], current: Context, restored: Context
) -> Context:
    """The context a rollback to ``target`` restores, over the triggers it ``undone``.

    What Auth0 already did stays done: the current mfa_token is kept when the target
    state still uses one, and a passwordless code consumed by ``verify_otp`` is spent (only
    a resend helps).
    """
    if target in ROLLBACK_KEEPS_MFA_CREDENTIAL and current.mfa_token is not None:
        restored = restored.evolve(
            mfa_token=current.mfa_token,
            mfa_token_kind=current.mfa_token_kind,
            mfa_token_expires_at=current.mfa_token_expires_at,
        )
    if target == State.CODE_SENT and "verify_otp" in undone:
        restored = restored.evolve(code_attempts=3)
    return restored


# ---------------------------------------------------------------- doubt

DoubtEffect = Callable[[Context, str, Mapping[str, Any]], Context]
"""``(context, state, params)`` -> the context once a request may have acted unanswered."""


@attrs.frozen
class Doubt:
    """What may happen next once a request of a trigger may have reached Auth0 unanswered.

    ``on_takeover`` is applied when a worker takes over an expired claim whose intent
    journal names the trigger (nobody saw the failure); ``on_answerless`` when the
    driver itself saw the request go out without an answer (the caller gets the
    error at once). ``next_step`` says what the user can do, for the review.
    """

    next_step: str
    on_takeover: DoubtEffect = attrs.field(repr=False)
    on_answerless: DoubtEffect = attrs.field(repr=False)
    #: The ways on, per state the trigger leaves: (trigger or "rollback", destination).
    #: Drawn in ``diagrams/doubt.mmd``; the review checks each is a legal move whose
    #: guards hold after the doubt, and that none reaches ``authenticated``.
    recovery: Mapping[str, tuple[tuple[str, str], ...]] = attrs.field(factory=dict)


def _unchanged(ctx: Context, state: str, params: Mapping[str, Any]) -> Context:
    return ctx


#: The rule of a doubt that narrows nothing (the review reports which rules narrow).
DOUBT_UNCHANGED: DoubtEffect = _unchanged


def _send_in_doubt(ctx: Context, state: str, params: Mapping[str, Any]) -> Context:
    """A code may be on its way: from ``started`` only an explicit resend may send again."""
    if state != STARTED:
        return ctx  # in code_sent a resend is always allowed and says so
    where = {k: params[k] for k in ("connection", "phone_number", "email") if k in params}
    return ctx.evolve(send_unconfirmed=True, **where)  # resend must know where it went


def _code_spent(ctx: Context, state: str, params: Mapping[str, Any]) -> Context:
    return ctx.evolve(code_attempts=3)


def _recovery_code_in_doubt(ctx: Context, state: str, params: Mapping[str, Any]) -> Context:
    return ctx.evolve(recovery_code_in_doubt=True)


_CONFIRM_RECOVERY: Mapping[str, tuple[tuple[str, str], ...]] = {
    ENROLLMENT_PENDING: (("rollback", MFA_REQUIRED),),
    CHALLENGE_PENDING: (("rollback", MFA_REQUIRED),),
    MFA_REQUIRED: (("challenge", CHALLENGE_PENDING),),
}


def _confirm_doubt(trigger: str) -> Doubt:
    """The doubt of a second-factor confirmation, for the states ``trigger`` leaves."""
    sources = {e.source for e in EDGES if e.trigger == trigger}
    return Doubt(
        "the code may have been consumed and tokens minted but lost: roll back to "
        "mfa_required (the mfa_token is kept) and challenge again while it lives",
        _unchanged,
        _unchanged,
        {s: moves for s, moves in _CONFIRM_RECOVERY.items() if s in sources},
    )


#: Per trigger that calls Auth0: what follows a request that may have acted unanswered.
DOUBT: Mapping[str, Doubt] = {
    "start_passwordless": Doubt(
        "a code may be on its way: only an explicit resend_code sends again",
        _send_in_doubt,
        _send_in_doubt,
        {STARTED: (("resend_code", CODE_SENT),)},
    ),
    "resend_code": Doubt(
        "a code may be on its way: only an explicit resend_code sends again",
        _send_in_doubt,
        _send_in_doubt,
        {STARTED: (("resend_code", CODE_SENT),), CODE_SENT: (("resend_code", CODE_SENT),)},
    ),
    "verify_otp": Doubt(
        "the code may have been consumed: a new code is needed (resend_code)",
        _code_spent,
        _unchanged,
        {CODE_SENT: (("resend_code", CODE_SENT),)},
    ),
    "login_password": Doubt(
        "may be tried again (a wrong password counts toward Auth0's limits)",
        _unchanged,
        _unchanged,
        {STARTED: (("login_password", MFA_REQUIRED),)},
    ),
    "list_authenticators": Doubt(
        "a read: may be repeated",
        _unchanged,
        _unchanged,
        {MFA_REQUIRED: (("list_authenticators", MFA_REQUIRED),)},
    ),
    "enroll": Doubt(
        "an authenticator may be half-associated (active: false): enroll again or "
        "challenge an active one",
        _unchanged,
        _unchanged,
        {MFA_REQUIRED: (("enroll", ENROLLMENT_PENDING), ("challenge", CHALLENGE_PENDING))},
    ),
    "challenge": Doubt(
        "a code or a push may be on its way: a new challenge may be issued",
        _unchanged,
        _unchanged,
        {MFA_REQUIRED: (("challenge", CHALLENGE_PENDING),)},
    ),
    "refresh": Doubt(
        "a rotating refresh token may have been spent with the answer lost: refresh again "
        "(Auth0 may refuse the reuse), else log in again",
        _unchanged,
        _unchanged,
        {STARTED: (("refresh", MFA_REQUIRED),)},
    ),
    "confirm_oob": _confirm_doubt("confirm_oob"),
    "confirm_otp": _confirm_doubt("confirm_otp"),
    "poll_push": _confirm_doubt("poll_push"),
    "confirm_recovery_code": Doubt(
        "Auth0 may have replaced the recovery code with one the user never saw: the "
        "code is not offered again; the user is told and uses another factor",
        _recovery_code_in_doubt,
        _unchanged,
        {MFA_REQUIRED: (("challenge", CHALLENGE_PENDING), ("enroll", ENROLLMENT_PENDING))},
    ),
}

# ------------------------------------------------------------ the machine


def _outcome_is(kind: str) -> Callable[[EventData], bool]:
    def condition(event: EventData) -> bool:
        model: Any = event.model
        return bool(model.outcome == kind)

    condition.__name__ = f"outcome_is_{kind}"
    return condition


def _guard_condition(name: str) -> Callable[[EventData], bool]:
    guard = GUARDS[name]  # looked up once: a test may swap a guard in a table of its own

    def condition(event: EventData) -> bool:
        model: Any = event.model
        return guard(model)

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
                    "trigger": str(edge.trigger),
                    "source": str(edge.source),  # plain names: transitions reads an Enum's .name
                    "dest": str(dest),
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
#: SHA-256 of the machine definition; a snapshot made under another definition is refused.
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
