"""An independent reference model of the login: a hand-written table, not the production one.

``TABLE`` maps ``(state, trigger, situation)`` to ``(next state, outcome)``. The
*situation* is what the emulated tenant will make of the request (the right code,
a wrong one, a user with no authenticator...), worked out by ``RefLogin`` from its
own record of the flow and of the tenant. Nothing here is imported from
``flowengine._machine``; the one test that compares the two tables is the only place
that reads the production table.

The model predicts, for every step a test is about to take, exactly one ``Expect``:
an ``InvalidInputError``, an ``IllegalTransitionError``, a ``GuardRejectedError`` naming its
guard, a local expiry, an error answer that changes nothing, or a move to a state
with an outcome (and the exception a move to a failure state raises).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

# ------------------------------------------------------------------ the table

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

ALL_STATES = (
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
FINAL = frozenset({AUTHENTICATED, EXPIRED, REJECTED, LOCKED, CANCELLED})
LIVE = tuple(s for s in ALL_STATES if s not in FINAL)
PENDING = (ENROLLMENT_PENDING, CHALLENGE_PENDING)

#: Every trigger of the login, and the one step that is not a trigger.
ALL_TRIGGERS = (
    "start_passwordless",
    "resend_code",
    "verify_otp",
    "login_password",
    "list_authenticators",
    "enroll",
    "challenge",
    "confirm_oob",
    "confirm_otp",
    "confirm_recovery_code",
    "poll_push",
    "cancel",
    "expire",
)
CALLS_AUTH0 = ALL_TRIGGERS[:11]
FIRST_FACTOR = frozenset({"verify_otp", "login_password"})
SECOND_FACTOR = frozenset({"confirm_oob", "confirm_otp", "confirm_recovery_code", "poll_push"})

_P = PENDING
TABLE: dict[tuple[str, str, str], tuple[str, str]] = {
    (STARTED, "start_passwordless", "sent"): (CODE_SENT, "code_sent"),
    (STARTED, "resend_code", "sent"): (CODE_SENT, "code_sent"),
    (STARTED, "login_password", "right"): (MFA_REQUIRED, "mfa_required"),
    (STARTED, "login_password", "wrong"): (STARTED, "wrong_credentials"),
    (STARTED, "login_password", "blocked"): (LOCKED, "locked"),
    (STARTED, "cancel", "-"): (CANCELLED, "cancelled"),
    (CODE_SENT, "resend_code", "sent"): (CODE_SENT, "code_sent"),
    (CODE_SENT, "verify_otp", "right"): (MFA_REQUIRED, "mfa_required"),
    (CODE_SENT, "verify_otp", "wrong"): (CODE_SENT, "wrong_code"),
    (CODE_SENT, "cancel", "-"): (CANCELLED, "cancelled"),
    (CODE_SENT, "expire", "-"): (EXPIRED, "deadline"),
    (MFA_REQUIRED, "list_authenticators", "listed"): (MFA_REQUIRED, "authenticators"),
    (MFA_REQUIRED, "enroll", "enrolled"): (ENROLLMENT_PENDING, "enrolled"),
    (MFA_REQUIRED, "enroll", "already_enrolled"): (MFA_REQUIRED, "already_enrolled"),
    (MFA_REQUIRED, "challenge", "challenged"): (CHALLENGE_PENDING, "challenged"),
    (MFA_REQUIRED, "challenge", "not_enrolled"): (MFA_REQUIRED, "must_enroll"),
    (MFA_REQUIRED, "confirm_otp", "right"): (AUTHENTICATED, "tokens"),
    (MFA_REQUIRED, "confirm_otp", "wrong"): (MFA_REQUIRED, "wrong_code"),
    (MFA_REQUIRED, "confirm_otp", "not_enrolled"): (MFA_REQUIRED, "must_enroll"),
    (MFA_REQUIRED, "confirm_recovery_code", "right"): (AUTHENTICATED, "tokens"),
    (MFA_REQUIRED, "confirm_recovery_code", "wrong"): (MFA_REQUIRED, "wrong_code"),
    (MFA_REQUIRED, "confirm_recovery_code", "not_enrolled"): (MFA_REQUIRED, "must_enroll"),
    (MFA_REQUIRED, "cancel", "-"): (CANCELLED, "cancelled"),
    (MFA_REQUIRED, "expire", "-"): (EXPIRED, "deadline"),
    (_P[0], "confirm_oob", "right"): (AUTHENTICATED, "tokens"),
    (_P[0], "confirm_oob", "wrong"): (_P[0], "wrong_code"),
    (_P[0], "confirm_otp", "right"): (AUTHENTICATED, "tokens"),
    (_P[0], "confirm_otp", "wrong"): (_P[0], "wrong_code"),
    (_P[0], "poll_push", "pending"): (_P[0], "pending"),
    (_P[0], "poll_push", "approved"): (AUTHENTICATED, "tokens"),
    (_P[0], "poll_push", "rejected"): (REJECTED, "rejected"),
    (_P[0], "cancel", "-"): (CANCELLED, "cancelled"),
    (_P[0], "expire", "-"): (EXPIRED, "deadline"),
    (_P[1], "confirm_oob", "right"): (AUTHENTICATED, "tokens"),
    (_P[1], "confirm_oob", "wrong"): (_P[1], "wrong_code"),
    (_P[1], "confirm_otp", "right"): (AUTHENTICATED, "tokens"),
    (_P[1], "confirm_otp", "wrong"): (_P[1], "wrong_code"),
    (_P[1], "poll_push", "pending"): (_P[1], "pending"),
    (_P[1], "poll_push", "approved"): (AUTHENTICATED, "tokens"),
    (_P[1], "poll_push", "rejected"): (REJECTED, "rejected"),
    (_P[1], "cancel", "-"): (CANCELLED, "cancelled"),
    (_P[1], "expire", "-"): (EXPIRED, "deadline"),
}
#: (state, trigger) pairs that have a row: every other pair is illegal.
LEGAL = frozenset((s, t) for s, t, _ in TABLE)

#: Auth0's deadlines (seconds) and the push poll interval.
CODE_TTL = 180.0
MFA_CODE_TTL = 300.0
MFA_TOKEN_TTL = 600.0
POLL_INTERVAL = 5.0

#: The shortest legal way into each state: (setup, steps). See ``tests/property``.
SHORTEST_PATHS: dict[str, tuple[str, tuple[str, ...]]] = {
    STARTED: ("new", ()),
    CODE_SENT: ("new", ("start_passwordless",)),
    MFA_REQUIRED: ("new", ("start_passwordless", "verify_otp")),
    ENROLLMENT_PENDING: ("new", ("start_passwordless", "verify_otp", "enroll")),
    CHALLENGE_PENDING: ("sms", ("start_passwordless", "verify_otp", "challenge")),
    AUTHENTICATED: ("otp", ("start_passwordless", "verify_otp", "confirm_otp")),
    EXPIRED: ("new", ("start_passwordless", "expire")),
    REJECTED: ("push-reject", ("start_passwordless", "verify_otp", "challenge", "poll_push")),
    LOCKED: ("blocked", ("login_password",)),
    CANCELLED: ("new", ("cancel",)),
}


def is_legal(state: str, trigger: str) -> bool:
    """Whether the reference table has a row for ``trigger`` out of ``state``."""
    return (state, trigger) in LEGAL


# ------------------------------------------------------------------ predictions


@dataclass(frozen=True)
class Expect:
    """What one step must do.

    ``kind`` is one of ``invalid_input``, ``illegal``, ``guard`` (with ``guard``),
    ``expired_local`` (the driver expires a flow past its deadline, no request),
    ``remote_error`` (Auth0 refuses; nothing changes), ``move`` (to ``state`` with
    ``outcome``; ``raises`` names the FlowEndedError subclass a failure raises).
    """

    kind: str
    state: str | None = None
    outcome: str | None = None
    guard: str | None = None
    raises: str | None = None
    situation: str | None = None

    @property
    def sends(self) -> bool:
        """Whether the step sends exactly one request."""
        return self.kind in ("move", "remote_error") and self.outcome not in (
            "cancelled",
            "deadline",
        )


def invalid() -> Expect:
    """The input is refused before anything else."""
    return Expect("invalid_input")


class Bucket:
    """The emulator's documented token bucket (capacity, refilled over ``per`` seconds)."""

    def __init__(self, capacity: int, per: float, now: float) -> None:
        self.capacity = capacity
        self.rate = capacity / per
        self.tokens = float(capacity)
        self.updated = now

    def refill(self, now: float) -> None:
        """Add what accrued since the last look, up to the capacity."""
        if now > self.updated:
            grown = self.tokens + (now - self.updated) * self.rate
            self.tokens = min(float(self.capacity), round(grown, 9))
            self.updated = now

    def has(self, now: float) -> bool:
        """At least one token is left."""
        self.refill(now)
        return self.tokens >= 1.0

    def take(self, now: float) -> bool:
        """Spend a token if there is one."""
        self.refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class RefUser:
    """What the tenant knows about one user, as far as the flow can tell."""

    active: list[str]  # active authenticator types, e.g. ["sms", "voice"]
    has_totp: bool
    recovery_active: bool
    mfa_failures: Bucket
    sms_sends: Bucket


@dataclass
class RefPush:
    """One push notification the tenant raised."""

    pending_left: int
    outcome: str
    expires_at: float
    state: str = "pending"
    used: bool = False


@dataclass
class RefCtx:
    """The model's view of the flow's own data (what a rollback restores)."""

    state: str = STARTED
    conn: str | None = None
    address: str | None = None
    code_attempts: int = 0
    code_exp: float | None = None
    user: str | None = None
    mfa_exp: float | None = None
    factor: str | None = None  # sms voice email otp push (enroll) or otp oob push (challenge)
    binding_to: str | None = None
    oob_exp: float | None = None
    next_poll: float | None = None
    push: int | None = None
    first_factor: str | None = None
    second_factor: str | None = None


@dataclass
class RefLogin:
    """The reference model of one flow and of the tenant it talks to."""

    created_at: float
    users: dict[str, RefUser] = field(default_factory=dict)
    pushes: list[RefPush] = field(default_factory=list)
    push_script: tuple[int, str] = (2, "approve")
    password_failures: int = 0
    blocked: bool = False
    ctx: RefCtx = field(default_factory=RefCtx)
    history: list[RefCtx] = field(default_factory=list)

    # -------------------------------------------------------------- queries

    @property
    def state(self) -> str:
        """The state the flow must be in."""
        return self.ctx.state

    def deadline(self) -> float | None:
        """The tightest of Auth0's deadlines in the current state (None: not live)."""
        c = self.ctx
        if c.state == CODE_SENT:
            return c.code_exp
        if c.state == MFA_REQUIRED:
            return c.mfa_exp
        if c.state in PENDING:
            assert c.mfa_exp is not None
            return min(c.mfa_exp, c.oob_exp) if c.oob_exp is not None else c.mfa_exp
        return None

    def stale(self, now: float) -> bool:
        """A live flow past a deadline: the next driver step expires it locally."""
        limit = self.deadline()
        return limit is not None and now >= limit

    def pending_push(self, now: float) -> int | None:
        """The push the tenant's approve/reject would settle now, if any."""
        for i in range(len(self.pushes) - 1, -1, -1):
            p = self.pushes[i]
            if p.state == "pending" and not p.used and p.expires_at > now:
                return i
        return None

    # -------------------------------------------------------------- changes

    def move(self, expect: Expect, now: float, **changes: Any) -> None:
        """Apply a predicted move: new state, context changes, history for a state change."""
        assert expect.kind == "move" and expect.state is not None
        before = copy.copy(self.ctx)
        new = copy.copy(self.ctx)
        for key, value in changes.items():
            setattr(new, key, value)
        new.state = expect.state
        if expect.state in FINAL:
            new.factor = new.binding_to = None
        if expect.state != before.state:
            self.history.append(before)
        self.ctx = new

    def expire_now(self) -> None:
        """The flow was expired (locally, or by the expire trigger)."""
        self.history.append(copy.copy(self.ctx))
        self.ctx = copy.copy(self.ctx)
        self.ctx.state = EXPIRED

    def rollback(self, now: float, to: str | None) -> Expect:
        """Predict (and apply, when it succeeds) a rollback."""
        if self.state in FINAL:
            return Expect("illegal")
        if not self.history:
            return Expect("guard", guard="has_history")
        if to is not None and to not in ALL_STATES:
            return Expect("invalid_input")
        index = len(self.history) - 1
        if to is not None:
            while index >= 0 and self.history[index].state != to:
                index -= 1
            if index < 0:
                return Expect("guard", guard="state_in_history")
        undone_verify = any(
            h.state == CODE_SENT for h in self.history[index:]
        )  # leaving code_sent forward is only ever verify_otp
        target = copy.copy(self.history[index])
        if target.state in (MFA_REQUIRED, *PENDING):
            target.mfa_exp = self.ctx.mfa_exp
        if target.state == CODE_SENT and undone_verify:
            target.code_attempts = 3  # the tenant consumed that code
        del self.history[index:]
        self.ctx = target
        return Expect("move", state=target.state, outcome="rolled_back")

    # ---------------------------------------------------------- predictions

    def _user(self) -> RefUser:
        """The tenant's record of the user who passed the first factor."""
        assert self.ctx.user is not None
        return self.users[self.ctx.user]

    def precheck(self, trigger: str, now: float, *, driver: bool = True) -> Expect | None:
        """The checks every step makes before its own: row, deadline, guards.

        Returns the expectation when one of them decides the step, else None. An
        illegal step is refused whatever the time; a legal driver step on a flow past
        its deadline expires it instead of running.
        """
        state = self.state
        if not is_legal(state, trigger):
            return Expect("illegal")
        if driver and trigger in CALLS_AUTH0 and self.stale(now):
            self.expire_now()
            return Expect("expired_local", state=EXPIRED, raises="FlowExpiredError")
        c = self.ctx
        guard: str | None = None
        if trigger == "resend_code" and state == STARTED:
            guard = "send_unconfirmed"  # no send is ever in doubt here: faults are elsewhere
        elif trigger == "verify_otp" and c.code_attempts >= 3:
            guard = "code_attempts_left"
        elif trigger == "confirm_oob" and c.binding_to is None:
            guard = "binding_code_expected"
        elif trigger == "confirm_otp" and state in PENDING and c.factor != "otp":
            guard = "otp_expected"
        elif trigger == "poll_push":
            if c.factor != "push":
                guard = "push_expected"
            elif c.next_poll is not None and now < c.next_poll:
                guard = "poll_due"
        return Expect("guard", guard=guard) if guard else None

    def _row(self, trigger: str, situation: str) -> Expect:
        """The table's move for ``trigger`` in the current state and ``situation``."""
        state, outcome = TABLE[(self.state, trigger, situation)]
        raises = {REJECTED: "FlowRejectedError", LOCKED: "FlowLockedError"}.get(state)
        return Expect("move", state=state, outcome=outcome, raises=raises, situation=situation)

    def start(self, now: float, trigger: str, conn: str, address: str) -> Expect:
        """start_passwordless (a fresh code to ``address``) or resend_code."""
        if trigger == "resend_code":
            conn, address = self.ctx.conn or conn, self.ctx.address or address
        e = self._row(trigger, "sent")
        self.move(e, now, conn=conn, address=address, code_attempts=0, code_exp=now + CODE_TTL)
        return e

    def verify(self, now: float, right: bool) -> Expect:
        """verify_otp with the right code or a wrong one."""
        if right:
            e = self._row("verify_otp", "right")
            self.move(
                e,
                now,
                user=self.ctx.address,
                mfa_exp=now + MFA_TOKEN_TTL,
                first_factor="verify_otp",
                code_attempts=0,
                code_exp=None,
            )
            return e
        e = self._row("verify_otp", "wrong")
        self.move(e, now, code_attempts=self.ctx.code_attempts + 1)
        return e

    def login(self, now: float, user: str, right: bool) -> Expect:
        """login_password for ``user`` (the only password user)."""
        if not self.blocked:
            if right:
                self.password_failures = 0
                e = self._row("login_password", "right")
                self.move(
                    e, now, user=user, mfa_exp=now + MFA_TOKEN_TTL, first_factor="login_password"
                )
                return e
            self.password_failures += 1
            if self.password_failures < 10:
                e = self._row("login_password", "wrong")
                self.move(e, now)
                return e
            self.blocked = True
        e = self._row("login_password", "blocked")
        self.move(e, now)
        return e

    def list_authenticators(self, now: float) -> Expect:
        """list_authenticators: always listed while the mfa_token is fresh."""
        e = self._row("list_authenticators", "listed")
        self.move(e, now)
        return e

    def enroll(self, now: float, factor: str, to: str | None) -> Expect:
        """enroll ``factor``; ``to`` is where a binding code goes (None: none given)."""
        user = self._user()
        if user.active:
            e = self._row("enroll", "already_enrolled")
            self.move(e, now)
            return e
        if factor in ("sms", "voice") and not user.sms_sends.take(now):
            return Expect("remote_error", situation="too_many_sms")
        if factor == "email" and to is None:
            return Expect("remote_error", situation="no_email")
        e = self._row("enroll", "enrolled")
        changes: dict[str, Any] = {
            "factor": factor,
            "binding_to": None,
            "oob_exp": None,
            "next_poll": None,
            "push": None,
        }
        if factor in ("sms", "voice", "email"):
            changes.update(binding_to=to, oob_exp=now + MFA_CODE_TTL)
        elif factor == "push":
            changes.update(
                oob_exp=now + MFA_CODE_TTL, next_poll=now + POLL_INTERVAL, push=self._new_push(now)
            )
        if factor in ("otp", "push"):
            user.has_totp = True
        self.move(e, now, **changes)
        return e

    def _new_push(self, now: float) -> int:
        """Record a push the tenant raises now; return its index."""
        pending, outcome = self.push_script
        self.pushes.append(RefPush(pending, outcome, now + MFA_CODE_TTL))
        return len(self.pushes) - 1

    def challenge(
        self,
        now: float,
        active: list[tuple[str, str, str | None]],
        authenticator_id: str | None,
        challenge_type: str | None,
    ) -> Expect:
        """challenge; ``active`` lists the user's active (id, type, address) as the tenant has."""
        user = self._user()
        assert sorted(user.active) == sorted(t for _, t, _ in active), (user.active, active)
        kinds = {"totp": "otp", "sms": "oob", "voice": "oob", "email": "oob", "push": "oob"}
        allowed = set((challenge_type or "otp oob").split())
        if not active:
            return self._stay("challenge", "not_enrolled", now)
        if authenticator_id is not None:
            if authenticator_id.startswith("recovery-code|"):
                return self._stay("challenge", "not_enrolled", now)
            found = [a for a in active if a[0] == authenticator_id]
            if not found:
                return Expect("remote_error", situation="unknown_authenticator")
            target = found[0]
            if kinds[target[1]] not in allowed:
                return self._stay("challenge", "not_enrolled", now)
        else:
            order = ("push", "totp", "sms", "email", "voice")
            candidates = sorted(
                (a for a in active if kinds[a[1]] in allowed), key=lambda a: order.index(a[1])
            )
            if not candidates:
                return self._stay("challenge", "not_enrolled", now)
            target = candidates[0]
        _, kind, address = target
        changes: dict[str, Any] = {
            "binding_to": None,
            "oob_exp": None,
            "next_poll": None,
            "push": None,
        }
        if kind == "totp":
            changes["factor"] = "otp"
        elif kind == "push":
            changes.update(
                factor="push",
                oob_exp=now + MFA_CODE_TTL,
                next_poll=now + POLL_INTERVAL,
                push=self._new_push(now),
            )
        else:
            if kind in ("sms", "voice") and not user.sms_sends.take(now):
                return Expect("remote_error", situation="too_many_sms")
            changes.update(factor="oob", binding_to=address, oob_exp=now + MFA_CODE_TTL)
        e = self._row("challenge", "challenged")
        self.move(e, now, **changes)
        return e

    def _stay(self, trigger: str, situation: str, now: float) -> Expect:
        """Predict and apply a row that keeps (or moves) the flow per the table."""
        e = self._row(trigger, situation)
        self.move(e, now)
        return e

    def _second_factor(self, now: float, trigger: str, right: bool, available: bool) -> Expect:
        """The shared tail of the MFA grants: availability, the failure budget, the code."""
        user = self._user()
        if not available:
            return self._stay(trigger, "not_enrolled", now)
        if not user.mfa_failures.has(now):
            return Expect("remote_error", situation="failure_budget_spent")
        if right:
            e = self._row(trigger, "right")
            self.move(e, now, second_factor=trigger, mfa_exp=None)
            return e
        user.mfa_failures.take(now)
        return self._stay(trigger, "wrong", now)

    def confirm_oob(self, now: float, right: bool) -> Expect:
        """confirm_oob with the binding code the tenant sent, or a wrong one."""
        return self._second_factor(now, "confirm_oob", right, True)

    def confirm_otp(self, now: float, right: bool) -> Expect:
        """confirm_otp with a TOTP code of one of the user's authenticators, or a wrong one."""
        return self._second_factor(now, "confirm_otp", right, self._user().has_totp)

    def confirm_recovery_code(self, now: float, right: bool) -> Expect:
        """confirm_recovery_code with the user's current recovery code, or a wrong one."""
        available = self._user().recovery_active
        return self._second_factor(now, "confirm_recovery_code", right, available)

    def poll_push(self, now: float) -> Expect:
        """poll_push once its guards hold."""
        assert self.ctx.push is not None
        push = self.pushes[self.ctx.push]
        if push.state == "pending":
            if push.pending_left > 0 or push.outcome == "never":
                push.pending_left = max(0, push.pending_left - 1)
                e = self._row("poll_push", "pending")
                self.move(e, now, next_poll=now + POLL_INTERVAL)
                return e
            push.state = "approved" if push.outcome == "approve" else "rejected"
        if push.state == "rejected":
            e = self._row("poll_push", "rejected")
            self.move(e, now)
            return e
        push.used = True
        e = self._row("poll_push", "approved")
        self.move(e, now, second_factor="poll_push", mfa_exp=None)
        return e

    def settle_push(self, now: float, approve: bool) -> bool:
        """The user answers the newest pending push; False when there is none."""
        index = self.pending_push(now)
        if index is None:
            return False
        self.pushes[index].state = "approved" if approve else "rejected"
        return True

    def no_call(self, trigger: str, now: float) -> Expect:
        """cancel, or the expire trigger fired on the core."""
        e = self._row(trigger, "-")
        self.move(e, now)
        return e
