"""The flow façade: the only place a flow's state and context change.

Theory of operation
-------------------
A ``Flow`` is plain data: state, sequence number, context, bounded history and
an audit trail. Steps are two pure halves:

``prepare(trigger, params, config, now)``
    refuses an illegal (state, trigger) pair with ``IllegalTransition`` and a
    failing guard with ``GuardRejected``, then builds the ``HttpRequest``.
    The flow is not touched.

``apply(step, response, now)``
    parses the response into an ``Outcome`` and fires the trigger on the static
    machine with a throw-away model; only if a row matches are the new state,
    the context changes, ``seq + 1`` and a history entry written. An answer the
    flow cannot absorb raises ``RemoteError`` and changes nothing; an answer
    that ends the flow (rejected, locked, expired) is applied first and then
    raised as a ``FlowEndedError`` so the caller cannot miss it.

Time comes in as ``now`` arguments; nothing here reads a clock or does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from flowengine import _machine as m
from flowengine._config import Auth0Config
from flowengine._errors import (
    FlowEndedError,
    FlowExpiredError,
    FlowLockedError,
    FlowRejectedError,
    GuardRejected,
    IllegalTransition,
    InvalidInputError,
    RemoteError,
)
from flowengine._steps import REQUEST_BUILDERS, HttpRequest, HttpResponse, Outcome, parse_response
from flowengine._validate import plain_text

#: Auth0's clocks, in seconds.
PASSWORDLESS_CODE_TTL = 180.0
MFA_CODE_TTL = 300.0
MFA_TOKEN_TTL = 600.0
#: How long a flow that never started, or has ended, is kept before a sweep drops it.
IDLE_FLOW_TTL = 3600.0
PUSH_POLL_INTERVAL = 5.0
SLOW_DOWN_STEP = 5.0
MAX_POLL_INTERVAL = 30.0
HISTORY_LIMIT = 16
AUDIT_LIMIT = 64

#: Context keys cleared when the pending factor is settled.
_PENDING_KEYS = (
    "factor",
    "authenticator_type",
    "oob_channel",
    "oob_code",
    "binding_method",
    "challenge_type",
    "authenticator_id",
    "mfa_code_expires_at",
    "next_poll_at",
    "poll_interval",
    "mfa_attempts",
)
#: Secrets dropped when the flow ends in failure: a dead flow holds nothing worth stealing.
_DROP_ON_FAILURE = ("mfa_token", "oob_code", "tokens")


@attrs.frozen
class PreparedStep:
    """A checked step and the request that performs it. Holds secrets: never logged."""

    trigger: str
    source: str
    seq: int
    request: HttpRequest | None = attrs.field(repr=False)
    params: Mapping[str, Any] = attrs.field(repr=False)
    now: float = attrs.field(repr=False)


@attrs.frozen
class StepResult:
    """What one applied step did, and what it produced for the user.

    ``data`` can hold secrets meant for the caller (tokens, a new recovery code,
    a TOTP secret to show as a QR code); it is left out of the repr.
    """

    flow_id: str
    trigger: str
    outcome: str
    source: str
    state: str
    seq: int
    status_code: int | None = None
    error: str | None = None
    data: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def changed_state(self) -> bool:
        """True when the step moved the flow to another state."""
        return self.source != self.state


class _Model:
    """The thin object the static machine fires on: rebuilt for every step."""

    __slots__ = ("context", "now", "outcome", "state")

    def __init__(self, state: str, context: Mapping[str, Any], now: float, outcome: str) -> None:
        self.state = state
        self.context = context
        self.now = now
        self.outcome = outcome


@attrs.define
class Flow:
    """One login in progress. Mutated only by its own methods."""

    flow_id: str
    state: str = m.STARTED
    seq: int = 0
    context: dict[str, Any] = attrs.field(factory=dict, repr=False)
    history: list[dict[str, Any]] = attrs.field(factory=list, repr=False)
    audit: list[dict[str, Any]] = attrs.field(factory=list, repr=False)
    created_at: float = 0.0
    updated_at: float = 0.0
    expires_at: float | None = None

    @classmethod
    def new(cls, flow_id: str, now: float) -> Flow:
        """A flow in ``started`` that has made no call yet."""
        plain_text(flow_id, "flow_id", max_len=128)  # no control or invisible characters
        return cls(flow_id, created_at=now, updated_at=now, expires_at=now + IDLE_FLOW_TTL)

    # ------------------------------------------------------------ queries

    @property
    def is_final(self) -> bool:
        """True in ``authenticated`` and in the terminal failure states."""
        return self.state in m.FINAL_STATES

    @property
    def tokens(self) -> Mapping[str, Any] | None:
        """The tokens Auth0 returned, once ``authenticated``."""
        tokens = self.context.get("tokens")
        return tokens if isinstance(tokens, dict) else None

    def legal_triggers(self) -> tuple[str, ...]:
        """The triggers that have a row out of the current state."""
        return m.legal_triggers(self.state)

    def deadline_passed(self, now: float) -> bool:
        """True when a live flow is past one of Auth0's deadlines."""
        return (
            self.state not in m.FINAL_STATES
            and self.state != m.STARTED
            and self.expires_at is not None
            and now >= self.expires_at
        )

    def path(self) -> list[str]:
        """The states this flow has been through, oldest first, ending with the current one."""
        return [*(h["from"] for h in self.history), self.state]

    # ----------------------------------------------------------- stepping

    def require_legal(self, trigger: str) -> m.Edge:
        """Raise ``IllegalTransition`` unless the table has a row for ``trigger`` here."""
        edge = m.EDGE_INDEX.get((trigger, self.state))
        if edge is None:
            raise IllegalTransition(self.state, trigger)
        return edge

    def check(self, trigger: str, now: float) -> m.Edge:
        """Raise unless ``trigger`` is legal now and its guards hold; return its edge."""
        edge = self.require_legal(trigger)
        if edge.guards:
            model = _Model(self.state, self.context, now, "")
            for name in edge.guards:
                if not m.GUARDS[name](model):
                    raise GuardRejected(self.state, trigger, name, _GUARD_HINTS.get(name, ""))
        return edge

    def prepare(
        self, trigger: str, params: Mapping[str, Any], config: Auth0Config, now: float
    ) -> PreparedStep:
        """Check ``trigger`` and build its request. The flow is not changed."""
        self.check(trigger, now)
        builder = REQUEST_BUILDERS.get(trigger)
        request = builder(self.context, params, config) if builder else None
        return PreparedStep(trigger, self.state, self.seq, request, params, now)

    def apply(
        self, step: PreparedStep, response: HttpResponse, config: Auth0Config, now: float
    ) -> StepResult:
        """Apply Auth0's ``response`` to ``step``. Raises ``RemoteError`` with no change."""
        self._check_current(step)
        try:
            outcome = parse_response(step.trigger, response, step.params, config)
        except RemoteError as exc:
            exc.trigger, exc.state = step.trigger, self.state
            raise
        return self.apply_outcome(step, outcome, now)

    def apply_outcome(self, step: PreparedStep, outcome: Outcome, now: float) -> StepResult:
        """Fire ``step.trigger`` with ``outcome``; the machine's row decides the new state."""
        self._check_current(step)
        model = _Model(self.state, self.context, step.now, outcome.kind)
        if not m.fire(step.trigger, model):
            raise RemoteError(
                f"Auth0's answer ({outcome.kind}) to {step.trigger} has no row in state "
                f"{self.state!r}",
                status_code=outcome.status_code or 0,
                error=outcome.error,
                trigger=step.trigger,
                state=self.state,
            )
        source, dest = self.state, model.state
        previous = self.context
        context, produced = _update_context(dict(previous), step.trigger, outcome, step.params, now)
        if source != dest:
            self.history.append(
                {
                    "seq": self.seq + 1,
                    "from": source,
                    "to": dest,
                    "trigger": step.trigger,
                    "at": now,
                    "context": previous,
                }
            )
            del self.history[:-HISTORY_LIMIT]
        if dest in m.FAILURE_STATES:
            for key in _DROP_ON_FAILURE:
                context.pop(key, None)
        self.state = dest
        self.context = context
        self.seq += 1
        self.updated_at = now
        self.expires_at = _deadline(dest, context, now, self.created_at)
        result = StepResult(
            self.flow_id,
            step.trigger,
            outcome.kind,
            source,
            dest,
            self.seq,
            outcome.status_code,
            outcome.error,
            produced,
        )
        if dest in m.FINAL_STATES:
            # Nothing can roll back out of a final state: drop the old contexts
            # (and the secrets they hold) from the history.
            for entry in self.history:
                entry.pop("context", None)
        if dest in m.FAILURE_STATES and step.trigger not in ("cancel", "expire"):
            error = _ended(dest, step.trigger, outcome)
            error.result = result
            raise error
        return result

    def _check_current(self, step: PreparedStep) -> None:
        if step.seq != self.seq or step.source != self.state:
            raise IllegalTransition(self.state, step.trigger)

    # ---------------------------------------------------- no-call triggers

    def cancel(self, now: float) -> StepResult:
        """Abandon the flow (``cancelled``); no call is made."""
        step = self.prepare("cancel", {}, _NO_CONFIG, now)
        return self.apply_outcome(step, Outcome("cancelled"), now)

    def expire(self, now: float) -> StepResult:
        """Move a live flow past its deadline to ``expired``."""
        step = self.prepare("expire", {}, _NO_CONFIG, now)
        return self.apply_outcome(step, Outcome("deadline"), now)

    def ensure_fresh(self, now: float) -> None:
        """Expire the flow and raise ``FlowExpiredError`` if a deadline has passed."""
        if self.deadline_passed(now):
            result = self.expire(now)
            error = FlowExpiredError(
                "the flow passed one of Auth0's deadlines (code or mfa_token expired)",
                status_code=0,
                error="expired",
                state=self.state,
            )
            error.result = result
            raise error

    def note_uncertain(
        self, trigger: str, now: float, params: Mapping[str, Any] | None = None
    ) -> None:
        """Record that a request may have reached Auth0 without an answer.

        The state is unchanged. After an uncertain passwordless start, only an
        explicit ``resend_code`` may send again (the ``no_unconfirmed_send``
        guard), so a user is never sent two codes silently.
        """
        self.context = {**self.context, "uncertain": {"trigger": trigger, "at": now}}
        if trigger in ("start_passwordless", "resend_code") and self.state == m.STARTED:
            self.context["send_unconfirmed"] = True
            # resend_code from `started` must know where the doubtful code went.
            for key in ("connection", "phone_number", "email"):
                if params and key in params:
                    self.context[key] = params[key]
        self._audit(now, "uncertain", trigger=trigger)
        self.seq += 1
        self.updated_at = now

    # ------------------------------------------------------------ rollback

    def rollback(self, now: float, to: str | None = None) -> StepResult:
        """Undo the last state change, or go back to the latest visit of ``to``.

        State and context are restored from the history. What Auth0 already did
        (a code sent, an authenticator half-enrolled) cannot be undone: each
        such effect is written to the audit trail. The current mfa_token is kept
        when the target state still needs one. No rollback out of a final state.
        """
        if self.state in m.FINAL_STATES:
            raise IllegalTransition(self.state, "rollback")
        if not self.history:
            raise GuardRejected(self.state, "rollback", "has_history", "nothing to roll back")
        if to is not None and to not in m.STATES:
            raise InvalidInputError("to", f"unknown state {to!r}")
        index = len(self.history) - 1
        if to is not None:
            while index >= 0 and self.history[index]["from"] != to:
                index -= 1
            if index < 0:
                raise GuardRejected(
                    self.state, "rollback", "state_in_history", f"{to!r} is not in this flow's past"
                )
        undone = self.history[index:]
        target = undone[0]
        source = self.state
        context = dict(target["context"])
        if target["from"] in (m.MFA_REQUIRED, *m.PENDING_STATES):
            for key in ("mfa_token", "mfa_token_kind", "mfa_token_expires_at"):
                if key in self.context:
                    context[key] = self.context[key]
        if target["from"] == m.CODE_SENT and any(h["trigger"] == "verify_otp" for h in undone):
            context["code_attempts"] = 3  # the code was consumed; only a resend helps
        not_undone = [
            {"trigger": h["trigger"], "effect": m.TRIGGERS[h["trigger"]].remote_effect}
            for h in undone
            if not m.TRIGGERS[h["trigger"]].remote_undoable
        ]
        del self.history[index:]
        self.state = target["from"]
        self.context = context
        self.seq += 1
        self.updated_at = now
        self.expires_at = _deadline(self.state, context, now, self.created_at)
        self._audit(now, "rollback", source=source, to=self.state, not_undone=not_undone)
        return StepResult(
            self.flow_id,
            "rollback",
            "rolled_back",
            source,
            self.state,
            self.seq,
            data={"not_undone": not_undone},
        )

    def _audit(self, now: float, event: str, **fields: Any) -> None:
        self.audit.append({"at": now, "event": event, "seq": self.seq + 1, **fields})
        del self.audit[:-AUDIT_LIMIT]

    # ----------------------------------------------------------- envelope

    def to_envelope(self) -> dict[str, Any]:
        """The flow as the plain snapshot envelope (secrets still in clear)."""
        return {
            "schema": 1,
            "machine": m.MACHINE_NAME,
            "machine_hash": m.MACHINE_HASH,
            "flow_id": self.flow_id,
            "seq": self.seq,
            "state": self.state,
            "context": dict(self.context),
            "history": [dict(h) for h in self.history],
            "audit": list(self.audit),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_envelope(cls, env: Mapping[str, Any]) -> Flow:
        """Rebuild a flow from a checked envelope. Never re-runs a step."""
        return cls(
            flow_id=env["flow_id"],
            state=env["state"],
            seq=env["seq"],
            context=dict(env["context"]),
            history=[dict(h) for h in env["history"]],
            audit=list(env.get("audit", [])),
            created_at=env["created_at"],
            updated_at=env["updated_at"],
            expires_at=env["expires_at"],
        )


_NO_CONFIG: Any = None

_GUARD_HINTS = {
    "no_unconfirmed_send": "an earlier start may have reached Auth0; call resend_code",
    "send_unconfirmed": "no start is in doubt; call start_passwordless",
    "code_attempts_left": "three wrong codes spent this code; call resend_code",
    "has_mfa_credential": "no mfa_token is held",
    "has_mfa_token": "this needs an mfa_token, not an MFA-audience access token",
    "binding_code_expected": "the pending factor expects no typed code",
    "otp_expected": "the pending factor is not a TOTP authenticator",
    "push_expected": "the pending factor is not a push",
    "poll_due": "polled before the poll interval elapsed; wait and poll again",
}


def _ended(state: str, trigger: str, outcome: Outcome) -> FlowEndedError:
    cls: type[FlowEndedError] = {
        m.EXPIRED: FlowExpiredError,
        m.REJECTED: FlowRejectedError,
        m.LOCKED: FlowLockedError,
    }.get(state, FlowEndedError)
    desc = outcome.data.get("description")
    text = f"Auth0's answer to {trigger} ended the flow in {state!r}"
    if outcome.error:
        text += f" ({outcome.error})"
    return cls(
        text,
        status_code=outcome.status_code or 0,
        error=outcome.error,
        error_description=desc if isinstance(desc, str) else None,
        trigger=trigger,
        state=state,
    )


def _deadline(state: str, ctx: Mapping[str, Any], now: float, created_at: float) -> float | None:
    """The tightest of Auth0's deadlines that apply in ``state``."""
    if state == m.STARTED:
        return created_at + IDLE_FLOW_TTL
    if state == m.CODE_SENT:
        return float(ctx["code_expires_at"])
    if state == m.MFA_REQUIRED:
        return float(ctx["mfa_token_expires_at"])
    if state in m.PENDING_STATES:
        limits = [float(ctx["mfa_token_expires_at"])]
        if ctx.get("mfa_code_expires_at") is not None:
            limits.append(float(ctx["mfa_code_expires_at"]))
        return min(limits)
    return now + IDLE_FLOW_TTL  # final states are kept a while for `show`, then swept


def _update_context(
    ctx: dict[str, Any], trigger: str, outcome: Outcome, params: Mapping[str, Any], now: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The context after ``outcome``, and what the step produced for the caller."""
    kind = outcome.kind
    data = outcome.data
    produced: dict[str, Any] = {}
    ctx.pop("uncertain", None)
    if kind == "code_sent":
        for key in ("connection", "phone_number", "email"):
            if key in params:
                ctx[key] = params[key]
        ctx.update(
            send_unconfirmed=False,
            code_attempts=0,
            code_sent_at=now,
            code_expires_at=now + PASSWORDLESS_CODE_TTL,
            sends=int(ctx.get("sends", 0)) + 1,
        )
    elif kind == "wrong_code":
        key = "code_attempts" if trigger == "verify_otp" else "mfa_attempts"
        ctx[key] = int(ctx.get(key, 0)) + 1
        produced["attempts"] = ctx[key]
    elif kind == "wrong_credentials":
        ctx["password_attempts"] = int(ctx.get("password_attempts", 0)) + 1
    elif kind in ("mfa_required", "mfa_access_token"):
        _first_factor_done(ctx, trigger, params)
        for key in _PENDING_KEYS:
            ctx.pop(key, None)
        if kind == "mfa_required":
            ctx.update(
                mfa_token=data["mfa_token"],
                mfa_token_kind="mfa_token",
                mfa_token_expires_at=now + MFA_TOKEN_TTL,
                mfa_requested=True,
            )
            if m.TRIGGERS[trigger].factor == "second":
                ctx["chained_mfa"] = int(ctx.get("chained_mfa", 0)) + 1
            if data.get("mfa_requirements"):
                ctx["mfa_requirements"] = data["mfa_requirements"]
                produced["mfa_requirements"] = data["mfa_requirements"]
        else:
            tokens = data["tokens"]
            ttl = min(float(tokens.get("expires_in") or MFA_TOKEN_TTL), MFA_TOKEN_TTL)
            ctx.update(
                mfa_token=tokens["access_token"],
                mfa_token_kind="access_token",
                mfa_token_expires_at=now + ttl,
            )
    elif kind == "tokens":
        tokens = dict(data["tokens"])
        if m.TRIGGERS[trigger].factor == "first":
            _first_factor_done(ctx, trigger, params)
        else:
            ctx["second_factor"] = trigger
        if "recovery_code" in tokens:
            produced["recovery_code"] = tokens.pop("recovery_code")
        for key in (*_PENDING_KEYS, "mfa_token", "mfa_token_kind", "mfa_token_expires_at"):
            ctx.pop(key, None)
        ctx["tokens"] = tokens
        produced["tokens"] = dict(tokens)
    elif kind == "authenticators":
        produced["authenticators"] = data["authenticators"]
    elif kind == "enrolled":
        for key in _PENDING_KEYS:
            ctx.pop(key, None)
        ctx.update(factor=data["factor"], authenticator_type=data["authenticator_type"])
        if data["authenticator_type"] == "oob":
            ctx.update(
                oob_code=data["oob_code"],
                oob_channel=data.get("oob_channel"),
                binding_method=data.get("binding_method"),
                mfa_code_expires_at=now + MFA_CODE_TTL,
            )
            if data["factor"] == "push":
                ctx.update(poll_interval=PUSH_POLL_INTERVAL, next_poll_at=now + PUSH_POLL_INTERVAL)
                produced["retry_after"] = PUSH_POLL_INTERVAL
        for key in ("totp_secret", "barcode_uri", "recovery_codes"):
            if key in data:
                produced["secret" if key == "totp_secret" else key] = data[key]
        produced["factor"] = data["factor"]
    elif kind == "already_enrolled":
        ctx["enrolled"] = True
        produced["hint"] = "the user already has an active authenticator: challenge it"
    elif kind == "challenged":
        for key in _PENDING_KEYS:
            ctx.pop(key, None)
        ctx.update(factor=data["factor"], challenge_type=data["challenge_type"])
        if params.get("authenticator_id"):
            ctx["authenticator_id"] = params["authenticator_id"]
        if data["challenge_type"] == "oob":
            ctx.update(
                oob_code=data["oob_code"],
                binding_method=data.get("binding_method"),
                mfa_code_expires_at=now + MFA_CODE_TTL,
            )
            if data["factor"] == "push":
                ctx.update(poll_interval=PUSH_POLL_INTERVAL, next_poll_at=now + PUSH_POLL_INTERVAL)
                produced["retry_after"] = PUSH_POLL_INTERVAL
        produced["factor"] = data["factor"]
    elif kind == "must_enroll":
        ctx["must_enroll"] = True
        produced["hint"] = "the user has no usable authenticator: enroll one"
    elif kind in ("pending", "slow_down"):
        interval = float(ctx.get("poll_interval", PUSH_POLL_INTERVAL))
        if kind == "slow_down":
            interval = min(interval + SLOW_DOWN_STEP, MAX_POLL_INTERVAL)
        ctx.update(
            poll_interval=interval, next_poll_at=now + interval, polls=int(ctx.get("polls", 0)) + 1
        )
        produced.update(pending=True, retry_after=interval)
    return ctx, produced


def _first_factor_done(ctx: dict[str, Any], trigger: str, params: Mapping[str, Any]) -> None:
    if m.TRIGGERS[trigger].factor != "first":
        return
    ctx["first_factor"] = trigger
    for key in ("code_attempts", "code_sent_at", "code_expires_at", "send_unconfirmed"):
        ctx.pop(key, None)
    if trigger == "login_password":
        ctx["username"] = params["username"]
        ctx["realm"] = params["realm"]
