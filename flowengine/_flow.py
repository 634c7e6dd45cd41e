"""The flow façade: the only place a flow's state and context change.

Theory of operation
-------------------
A ``Flow`` is plain data: state, sequence number, a typed ``Context``, bounded
history and an audit trail. This module is the public sans-I/O protocol: a
driver is only the loop that sends the request and hands back what happened.

``begin(trigger, params, config, now) -> PreparedStep``
    refuses an illegal (state, trigger) pair with ``IllegalTransitionError``
    (even past a deadline: an illegal step changes nothing), moves a live flow
    past one of Auth0's deadlines to ``expired`` and raises
    ``FlowExpiredError``, refuses a failing guard with ``GuardRejectedError``,
    then builds the ``HttpRequest``. Nothing else changes.

``finish(step, response, config, now) -> StepResult``
    parses the response into an outcome and fires the trigger on the static
    machine with a throw-away model; only if a row matches are the new state,
    the context effect, ``seq + 1`` and a history entry written. An answer the
    flow cannot absorb raises ``RemoteError`` and changes nothing; an answer
    that ends the flow (rejected, locked, expired) is applied first and then
    raised as a ``FlowEndedError`` so the caller cannot miss it.

``fail(step, sent, now)``
    the request did not come back: ``sent`` says whether it may have reached
    Auth0 (anything but a failure to connect). The flow records the doubt when
    the call could have acted (any method but ``GET``).

The "Auth0 may have acted" rule lives here and nowhere else: a send that may
have arrived, a 2xx whose body cannot be read, and a 500, 502 or 504 to a call
that acts are recorded as ``uncertain`` (after an uncertain passwordless
start, only an explicit ``resend_code`` may send again).

Time comes in as ``now`` arguments; nothing here reads a clock or does I/O.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from flowengine import _machine as m
from flowengine._audit import AUDIT_LIMIT, AuditEntry, AuditTrail, request_id_of
from flowengine._config import Auth0Config
from flowengine._context import EMPTY, Context, TenantSettings, Uncertain
from flowengine._errors import (
    FactorNotAllowedError,
    FlowClosedError,
    FlowEndedError,
    FlowExpiredError,
    FlowLockedError,
    FlowRejectedError,
    GuardRejectedError,
    IllegalTransitionError,
    InvalidHandleError,
    InvalidInputError,
    MalformedResponseError,
    MfaCodeExpiredError,
    RemoteError,
    ServerError,
    SnapshotInvariantError,
    TenantMismatchError,
)
from flowengine._machine import (
    IDLE_FLOW_TTL,
    MAX_POLL_INTERVAL,
    MFA_CODE_TTL,
    MFA_TOKEN_TTL,
    PASSWORDLESS_CODE_TTL,
    PUSH_POLL_INTERVAL,
    SLOW_DOWN_STEP,
    Outcome,
    State,
    Trigger,
)
from flowengine._validate import plain_text
from flowengine._wire import Answer, HttpRequest, HttpResponse, build_request, parse_response

__all__ = [
    "AUDIT_LIMIT",
    "HISTORY_LIMIT",
    "IDLE_FLOW_TTL",
    "MAX_POLL_INTERVAL",
    "MFA_CODE_TTL",
    "MFA_TOKEN_TTL",
    "PASSWORDLESS_CODE_TTL",
    "PUSH_POLL_INTERVAL",
    "SLOW_DOWN_STEP",
    "Flow",
    "HistoryEntry",
    "PreparedStep",
    "StepResult",
]

HISTORY_LIMIT = 16
#: Statuses of an answer to a call that acts after which Auth0 may still have acted.
MAY_HAVE_ACTED_STATUSES = frozenset({500, 502, 504})

_STATE = {s.value: s for s in State}
_TRIGGER = {t.value: t for t in Trigger}
_OUTCOME = {o.value: o for o in Outcome}
#: The machine's state and trigger names, one string object each (loaded flows share them).
_NAMES: dict[str, str] = {x.value: x.value for x in (*State, *Trigger)}


@attrs.frozen
class PreparedStep:
    """A checked step and the request that performs it. Holds secrets: never logged."""

    trigger: Trigger
    source: State
    seq: int
    request: HttpRequest | None = attrs.field(repr=False)
    params: Mapping[str, Any] = attrs.field(repr=False)
    now: float = attrs.field(repr=False)
    #: The tenant and client the request goes to (``tenant_of``); None for local steps.
    tenant: str | None = attrs.field(default=None, repr=False)

    @property
    def may_act(self) -> bool:
        """True when the call can change something at Auth0 (any method but ``GET``)."""
        return self.request is not None and self.request.method != "GET"


@attrs.frozen
class StepResult:
    """What one applied step did, and what it produced for the user.

    ``data`` can hold secrets meant for the caller (tokens, a new recovery code,
    a TOTP secret to show as a QR code); it is left out of the repr. The typed
    properties read it.
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

    @property
    def tokens(self) -> Mapping[str, Any] | None:
        """The tokens Auth0 returned (access_token, id_token, refresh_token, ...)."""
        tokens = self.data.get("tokens")
        return tokens if isinstance(tokens, Mapping) else None

    @property
    def claims(self) -> Mapping[str, Any] | None:
        """The verified claims of the id_token that came with the tokens (sub, email, ...)."""
        claims = self.data.get("claims")
        return claims if isinstance(claims, Mapping) else None

    @property
    def authenticators(self) -> Sequence[Mapping[str, Any]] | None:
        """The user's authenticators, after ``list_authenticators``."""
        items = self.data.get("authenticators")
        return items if isinstance(items, list) else None

    @property
    def recovery_code(self) -> str | None:
        """The new recovery code Auth0 issued: show it to the user once."""
        return _str_or_none(self.data.get("recovery_code"))

    @property
    def recovery_codes(self) -> Sequence[str] | None:
        """Recovery codes issued by an enrollment: show them to the user once."""
        codes = self.data.get("recovery_codes")
        return codes if isinstance(codes, list) else None

    @property
    def totp_secret(self) -> str | None:
        """The TOTP secret of an ``otp`` enrollment (``data["secret"]``)."""
        return _str_or_none(self.data.get("secret"))

    @property
    def barcode_uri(self) -> str | None:
        """The ``otpauth://`` URI of an ``otp`` enrollment, for a QR code."""
        return _str_or_none(self.data.get("barcode_uri"))

    @property
    def pending(self) -> bool:
        """True while a push waits for the user (poll again after ``retry_after``)."""
        return bool(self.data.get("pending", False))

    @property
    def retry_after(self) -> float | None:
        """Seconds to wait before the next poll of a push."""
        value = self.data.get("retry_after")
        return float(value) if isinstance(value, int | float) else None

    @property
    def attempts(self) -> int | None:
        """Wrong codes so far, after a ``wrong_code`` outcome."""
        value = self.data.get("attempts")
        return value if isinstance(value, int) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


_ENTRY_KEYS: dict[str, str] = {
    "seq": "seq",
    "from": "source",
    "to": "dest",
    "trigger": "trigger",
    "at": "at",
    "context": "context",
}


@attrs.define(slots=True, weakref_slot=False, repr=False)
class HistoryEntry(Mapping[str, Any]):
    """One state change of a flow, kept so it can be rolled back.

    Reads like the snapshot's history object (``entry["from"]``, ``entry.get("context")``,
    ``"context" in entry``), but is a slotted record: a flow keeps up to ``HISTORY_LIMIT``
    of them, and a dict per entry cost four times the memory. The state and trigger names
    are the machine's own strings, shared by every flow. ``context`` (the context before
    the step, secrets included) is None once the flow is final; ``extra`` holds members a
    loaded snapshot's entry carried beyond these (the schema leaves them free).
    The repr names the step only.
    """

    seq: int | None
    source: str | None
    dest: str | None
    trigger: str | None
    at: float | None
    context: Context | None = None

    @property
    def extra(self) -> dict[str, Any] | None:
        """Members beyond the known ones (only a loaded entry can have them)."""
        return None

    def __getitem__(self, key: str) -> Any:
        name = _ENTRY_KEYS.get(key)
        if name is None:
            if self.extra is not None and key in self.extra:
                return self.extra[key]
            raise KeyError(key)
        value = getattr(self, name)
        if value is None and key != "trigger":
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        for key, name in _ENTRY_KEYS.items():
            if key == "trigger" or getattr(self, name) is not None:
                yield key
        if self.extra is not None:
            yield from self.extra

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"HistoryEntry(seq={self.seq!r}, {self.source!r} -{self.trigger!r}-> {self.dest!r})"

    def to_json(self) -> dict[str, Any]:
        """The snapshot form (the context as its JSON form, secrets still in clear)."""
        out = {key: self[key] for key in self}
        if self.context is not None:
            out["context"] = self.context.to_json()
        return out

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> HistoryEntry:
        """From a checked snapshot entry; known state and trigger names become shared ones."""
        source, dest, trigger = doc.get("from"), doc.get("to"), doc.get("trigger")
        context = doc.get("context")
        fields = (
            doc.get("seq"),
            _NAMES.get(source, source) if isinstance(source, str) else source,
            _NAMES.get(dest, dest) if isinstance(dest, str) else dest,
            _NAMES.get(trigger, trigger) if isinstance(trigger, str) else trigger,
            doc.get("at"),
            Context.from_json(context) if context is not None else None,
        )
        extra = {k: v for k, v in doc.items() if k not in _ENTRY_KEYS}
        if extra:
            return _HistoryEntryExtra(*fields, extra)
        return cls(*fields)


@attrs.define(slots=True, weakref_slot=False, repr=False)
class _HistoryEntryExtra(HistoryEntry):
    """A loaded entry that carried members beyond the known ones (kept as they were)."""

    _extra: dict[str, Any] | None = None

    @property
    def extra(self) -> dict[str, Any] | None:
        """Members beyond the known ones, as the snapshot held them."""
        return self._extra


@attrs.define(slots=True, weakref_slot=False)
class _Held:
    """What a repository gives a ``Flow`` object; allocated only once one does.

    ``handle`` is the current resume handle and ``secret`` the handle's binding secret
    (bearer secrets: never in a repr, a log or a snapshot); ``keeper`` renews the store
    claim the flow is stepped under (and proves it still holds it) before every call
    and wait; ``results`` are the steps applied in a lent block; ``closed`` is set once
    that block has ended.
    """

    handle: str | None = attrs.field(default=None, repr=False)
    secret: bytes | None = attrs.field(default=None, repr=False)
    keeper: Callable[[str | None, Mapping[str, Any]], float] | None = attrs.field(
        default=None, repr=False
    )
    results: list[StepResult] | None = attrs.field(default=None, repr=False)
    closed: bool = False


@attrs.define(weakref_slot=False)
class Flow:
    """One login in progress. Mutated only by its own methods."""

    flow_id: str
    state: str = m.STARTED
    seq: int = 0
    context: Context = attrs.field(default=EMPTY, repr=False)
    history: list[HistoryEntry] = attrs.field(factory=list, repr=False)
    #: Every transition, request in doubt and rollback (``flowengine._audit``; no secret).
    audit: AuditTrail = attrs.field(factory=AuditTrail, repr=False)
    created_at: float = 0.0
    updated_at: float = 0.0
    expires_at: float | None = None
    #: (state, seq) as the flow's own methods last left them: a save refuses anything else.
    _stamp_state: str = attrs.field(default="", init=False, repr=False, eq=False)
    _stamp_seq: int = attrs.field(default=-1, init=False, repr=False, eq=False)
    #: What a repository gave this object (its handle, binding secret, claim keeper, the
    #: results of a lent block), or None: a flow no repository touched carries nothing.
    _held: _Held | None = attrs.field(default=None, init=False, repr=False, eq=False)

    @property
    def results(self) -> list[StepResult] | None:
        """Every StepResult applied while a repository lent this object (what a lost
        save returns); None otherwise (no secrets linger)."""
        return self._held.results if self._held is not None else None

    def _holder(self) -> _Held:
        if self._held is None:
            self._held = _Held()
        return self._held

    @property
    def handle(self) -> str:
        """The current resume handle (a bearer secret: keep it, never log it).

        Raises ``InvalidHandleError`` on a flow no repository has stored or lent.
        """
        handle = self._held.handle if self._held is not None else None
        if handle is None:
            raise InvalidHandleError("this flow has no handle: store it with repo.add first")
        return handle

    def set_handle(self, handle: str) -> None:
        """Called by the repository that stored or lent this flow."""
        self._holder().handle = handle

    @property
    def binding_secret(self) -> bytes | None:
        """The handle's binding secret, in memory only while a repository holds this flow."""
        return self._held.secret if self._held is not None else None

    def bind(self, binding: str | None, secret: bytes) -> None:
        """Record who may resume this flow (a hash only) and keep the secret in memory."""
        if binding is None or (self.context.binding not in (None, binding)):
            raise FlowClosedError("a flow's binding is set once, when it is first stored")
        if self.context.binding is None:
            self.context = self.context.evolve(binding=binding)
        self._holder().secret = secret

    def __attrs_post_init__(self) -> None:
        self._stamp_state, self._stamp_seq = self.state, self.seq

    def _moved(self) -> None:
        self._stamp_state, self._stamp_seq = self.state, self.seq

    def check_untouched(self) -> None:
        """Raise ``FlowClosedError`` if ``state`` or ``seq`` were set other than by a step."""
        if self.state != self._stamp_state or self.seq != self._stamp_seq:
            raise FlowClosedError("the flow's state or seq was set by hand, not by a step")

    def close(self) -> None:
        """Refuse every later step on this object (the store holds the flow now)."""
        held = self._holder()
        held.closed = True
        held.keeper = None

    def lend(self, keeper: Callable[[str | None, Mapping[str, Any]], float]) -> None:
        """Called by a repository: ``keeper`` renews the claim this flow is stepped under."""
        held = self._holder()
        held.keeper = keeper
        held.results = []

    @property
    def lent(self) -> bool:
        """True while a repository's ``step`` block holds this flow's claim."""
        return self._held is not None and self._held.keeper is not None

    def keep_claim(
        self, trigger: str | None = None, params: Mapping[str, Any] | None = None
    ) -> float | None:
        """Renew the store claim (if a repository lent this flow); raises if it was lost.

        Drivers call it before every wait; ``begin`` calls it before every request
        with the trigger about to be sent (the intent journal), so a worker that
        outlived its lease sends nothing and one that dies leaves word of what it sent.
        """
        keeper = self._held.keeper if self._held is not None else None
        if keeper is not None:
            return keeper(trigger, params or {})
        return None

    @staticmethod
    def wait_slices(delay: float, lease: float | None) -> list[float]:
        """``delay`` cut into waits of at most a third of ``lease`` (one wait without a lease).

        No wait may outlast the claim: a driver renews the claim (``keep_claim``, which
        returns the lease) before each slice it sleeps.
        """
        if delay <= 0:
            return []
        if lease is None:
            return [delay]
        step = lease / 3
        slices = [step] * int(delay // step)
        rest = delay - step * len(slices)
        return [*slices, rest] if rest > 1e-9 else slices

    def _check_open(self) -> None:
        if self._held is not None and self._held.closed:
            raise FlowClosedError(
                "this Flow object was used after its repo.step block; resume the flow again"
            )
        self.check_untouched()

    @classmethod
    def new(cls, flow_id: str, now: float, settings: TenantSettings | None = None) -> Flow:
        """A flow in ``started`` that has made no call yet.

        ``settings`` are the tenant's code lifetimes and OTP length (Auth0's defaults when
        None); the flow keeps them in its context, so a resumed flow runs under the same.
        """
        plain_text(flow_id, "flow_id", max_len=128)  # no control or invisible characters
        context = EMPTY
        if settings is not None and settings.to_json():
            context = EMPTY.evolve(settings=settings.to_json())
        return cls(
            flow_id,
            context=context,
            created_at=now,
            updated_at=now,
            expires_at=now + IDLE_FLOW_TTL,
        )

    # ------------------------------------------------------------ queries

    @property
    def is_final(self) -> bool:
        """True in ``authenticated`` and in the terminal failure states."""
        return self.state in m.FINAL_STATES

    @property
    def tokens(self) -> Mapping[str, Any] | None:
        """The tokens Auth0 returned, once ``authenticated``."""
        return self.context.tokens

    @property
    def uncertain(self) -> Uncertain | None:
        """The request that may have reached Auth0 unanswered, if any (trigger and when)."""
        return self.context.uncertain

    def legal_triggers(self) -> tuple[str, ...]:
        """The triggers that have a row out of the current state."""
        return m.legal_triggers(self.state)

    def next_steps(self) -> dict[str, tuple[str, ...]]:
        """The legal triggers, each with the factors it may use now (empty: no factor).

        ``challenge`` and ``enroll`` offer only what Auth0's ``mfa_requirements`` asked
        for (or, for a challenge, what a list showed the user has); anything else is
        refused before a request is built (``FactorNotAllowedError``).
        """
        offer = m.offered_factors(self.context)
        out: dict[str, tuple[str, ...]] = {}
        for trigger in self.legal_triggers():
            if trigger == "expire":
                continue
            if trigger in ("challenge", "enroll"):
                factors = tuple(f for f in offer[trigger] if f != "recovery-code")
                if not factors:
                    continue
                out[trigger] = factors
            elif trigger in ("confirm_otp", "confirm_recovery_code") and (
                m.factor_refusal(trigger, self.context, {}) is not None
            ):
                continue
            else:
                out[trigger] = ()
        return out

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

    # ------------------------------------------------------ the protocol

    def require_legal(self, trigger: str) -> m.Edge:
        """Raise ``IllegalTransitionError`` unless the table has a row for ``trigger`` here."""
        edge = m.EDGE_INDEX.get((trigger, self.state))
        if edge is None:
            raise IllegalTransitionError(self.state, trigger)
        return edge

    def check(self, trigger: str, now: float) -> m.Edge:
        """Raise unless ``trigger`` is legal now and its guards hold; return its edge."""
        edge = self.require_legal(trigger)
        if edge.guards:
            model = m.GuardModel(self.state, self.context, now, "")
            for name in edge.guards:
                if not m.GUARDS[name](model):
                    raise GuardRejectedError(self.state, trigger, name, m.GUARD_HINTS[name])
        return edge

    def begin(
        self,
        trigger: str,
        params: Mapping[str, Any],
        config: Auth0Config,
        now: float,
        *,
        renew: bool = True,
    ) -> PreparedStep:
        """Check ``trigger`` (legal, in time, guards) and build its request.

        Past a deadline the flow is moved to ``expired`` and ``FlowExpiredError``
        (carrying that step's ``StepResult``) is raised; otherwise nothing changes.
        With ``renew`` (the default) a flow lent by a repository renews its claim with
        the step's intent before returning; an asyncio driver passes ``renew=False``
        and calls ``keep_claim(step.trigger, params)`` in a worker thread instead, so
        the store's I/O never blocks the event loop.
        """
        self.require_legal(trigger)  # an illegal step changes nothing, even past a deadline
        self.ensure_fresh(now, trigger)
        step = self.prepare(trigger, params, config, now)
        if renew and step.request is not None:
            # The claim is still ours, for another lease, and says what we are sending.
            self.keep_claim(step.trigger, params)
        return step

    def prepare(
        self, trigger: str, params: Mapping[str, Any], config: Auth0Config, now: float
    ) -> PreparedStep:
        """Check ``trigger`` and build its request, without the deadline check of ``begin``."""
        self._check_open()
        self.check(trigger, now)
        refusal = m.factor_refusal(trigger, self.context, params)
        if refusal is not None:
            raise FactorNotAllowedError(self.state, trigger, *refusal)
        t = _TRIGGER[trigger]
        spec = m.TRIGGERS[t]
        tenant = None
        request = None
        if spec.call:
            tenant = tenant_of(config)
            if self.context.tenant is not None and self.context.tenant != tenant:
                raise TenantMismatchError(
                    "this flow was made for another Auth0 tenant or client; nothing was sent"
                )
            request = build_request(t, self.context, params, config)
        return PreparedStep(t, _STATE[self.state], self.seq, request, params, now, tenant)

    def finish(
        self, step: PreparedStep, response: HttpResponse, config: Auth0Config, now: float
    ) -> StepResult:
        """Apply Auth0's ``response`` to ``step`` (see the module docstring)."""
        try:
            return self.apply(step, response, config, now)
        except (MalformedResponseError, ServerError) as exc:
            # A 2xx we cannot read, or a 500/502/504, may still mean Auth0 acted
            # (a code may have gone out): record the doubt.
            status = exc.status_code
            if step.may_act and (200 <= status < 300 or status in MAY_HAVE_ACTED_STATUSES):
                self.note_uncertain(step.trigger, now, step.params, step.tenant)
            raise

    def fail(self, step: PreparedStep, *, sent: bool, now: float) -> bool:
        """The request of ``step`` got no answer; ``sent``: it may have reached Auth0.

        Returns True when the doubt was recorded (the flow's ``uncertain`` is set).
        """
        self._check_current(step)
        if sent and step.may_act:
            self.note_uncertain(step.trigger, now, step.params, step.tenant)
            return True
        return False

    def apply(
        self, step: PreparedStep, response: HttpResponse, config: Auth0Config, now: float
    ) -> StepResult:
        """Apply Auth0's ``response`` to ``step``. Raises ``RemoteError`` with no change."""
        self._check_current(step)
        try:
            answer = parse_response(step.trigger, response, step.params, config)
        except RemoteError as exc:
            exc.trigger, exc.state = step.trigger, self.state
            raise
        return self.apply_outcome(step, answer, now, request_id=request_id_of(response.headers))

    def apply_outcome(
        self, step: PreparedStep, answer: Answer, now: float, *, request_id: str | None = None
    ) -> StepResult:
        """Fire ``step.trigger`` with ``answer``; the machine's row decides the new state.

        ``request_id`` is Auth0's id for the answer, written to the audit trail.
        """
        self._check_current(step)
        model = m.GuardModel(self.state, self.context, step.now, answer.kind)
        if not m.fire(step.trigger, model):
            raise RemoteError(
                f"Auth0's answer ({answer.kind}) to {step.trigger} has no row in state "
                f"{self.state!r}",
                status_code=answer.status_code or 0,
                error=answer.error,
                trigger=step.trigger,
                state=self.state,
            )
        source, dest = _STATE[self.state], _STATE[model.state]
        previous = self.context
        effect = m.EFFECTS[answer.kind]
        context, produced = effect(
            previous.evolve(uncertain=None) if previous.uncertain else previous,
            m.StepInput(step.trigger, answer.data, step.params, now),
        )
        if source != dest:
            # The enums' own value strings: shared by every flow, not copied.
            # A new list of exactly the entries (an append would leave spare room).
            self.history = [
                *self.history,
                HistoryEntry(
                    self.seq + 1, source.value, dest.value, step.trigger.value, now, previous
                ),
            ]
            del self.history[:-HISTORY_LIMIT]
        if dest in m.FAILURE_STATES:
            context = context.cleared("failure")
        if step.tenant is not None and context.tenant is None:
            context = context.evolve(tenant=step.tenant)
        self.state = dest
        self.context = context
        self.seq += 1
        self._moved()
        self.updated_at = now
        self.expires_at = m.DEADLINES[dest](context, now, self.created_at)
        self.audit.add(
            AuditEntry.step(
                now, step.trigger, answer.kind, source, dest, answer.status_code, request_id
            )
        )
        result = StepResult(
            self.flow_id,
            step.trigger,
            _OUTCOME[answer.kind],
            source,
            dest,
            self.seq,
            answer.status_code,
            answer.error,
            produced,
        )
        results = self.results
        if results is not None:
            results.append(result)
        if dest in m.FINAL_STATES:
            # Nothing can roll back out of a final state: drop the old contexts
            # (and the secrets they hold) from the history.
            for entry in self.history:
                entry.context = None
        if dest in m.FAILURE_STATES and step.trigger not in ("cancel", "expire"):
            error = _ended(dest, step.trigger, answer)
            error.result = result
            raise error
        return result

    def _check_current(self, step: PreparedStep) -> None:
        if step.seq != self.seq or step.source != self.state:
            raise IllegalTransitionError(self.state, step.trigger)

    # ---------------------------------------------------- no-call triggers

    def cancel(self, now: float) -> StepResult:
        """Abandon the flow (``cancelled``); no call is made."""
        step = self.prepare("cancel", {}, _NO_CONFIG, now)
        return self.apply_outcome(step, Answer("cancelled"), now)

    def expire(self, now: float) -> StepResult:
        """Move a live flow past its deadline to ``expired``.

        A pending factor whose code (or push) expired while the mfa_token still lives
        goes back to ``mfa_required`` instead: the login goes on with a new challenge.
        """
        step = self.prepare("expire", {}, _NO_CONFIG, now)
        token_alive = now < float(self.context.mfa_token_expires_at or 0.0)
        if self.state in m.PENDING_STATES and token_alive:
            return self.apply_outcome(step, Answer("code_expired"), now)
        return self.apply_outcome(step, Answer("deadline"), now)

    def ensure_fresh(self, now: float, trigger: str = "expire") -> None:
        """Expire the flow and raise ``FlowExpiredError`` if a deadline has passed.

        A binding code (or push) past its lifetime with a live mfa_token takes the flow
        back to ``mfa_required`` instead and raises ``MfaCodeExpiredError`` (a
        ``GuardRejectedError``): nothing is sent, and a new challenge may follow.
        """
        if self.deadline_passed(now):
            result = self.expire(now)
            if self.state == m.MFA_REQUIRED:
                code_error = MfaCodeExpiredError(
                    self.state,
                    trigger,
                    "mfa_code_alive",
                    "the MFA code expired; the flow is back in mfa_required: challenge again",
                )
                code_error.result = result
                raise code_error
            error = FlowExpiredError(
                "the flow passed one of Auth0's deadlines (code or mfa_token expired)",
                status_code=0,
                error="expired",
                state=self.state,
            )
            error.result = result
            raise error

    def note_uncertain(
        self,
        trigger: str,
        now: float,
        params: Mapping[str, Any] | None = None,
        tenant: str | None = None,
        *,
        taken_over: bool = False,
    ) -> None:
        """Record that a request may have reached Auth0 without an answer.

        The state is unchanged; the trigger's ``_machine.DOUBT`` rule says what may
        happen next (``on_answerless`` when the driver saw it, ``on_takeover`` when a
        worker took over a claim whose journal named it). After an uncertain
        passwordless start only an explicit ``resend_code`` may send again, so a
        user is never sent two codes silently.
        """
        self._check_open()
        ctx = self.context.evolve(uncertain=Uncertain(str(trigger), now))
        if tenant is not None and ctx.tenant is None:
            ctx = ctx.evolve(tenant=tenant)
        doubt = m.DOUBT.get(trigger)
        if doubt is not None:
            rule = doubt.on_takeover if taken_over else doubt.on_answerless
            ctx = rule(ctx, str(self.state), params or {})
        self.context = ctx
        self._audit(now, "uncertain", trigger=str(trigger), taken_over=taken_over)
        self.seq += 1
        self._moved()

    # ------------------------------------------------------------ rollback

    def rollback(self, now: float, to: str | None = None) -> StepResult:
        """Undo the last state change, or go back to the latest visit of ``to``.

        State and context are restored from the history. What Auth0 already did
        (a code sent, an authenticator half-enrolled) cannot be undone: each
        such effect is written to the audit trail, and ``_machine.rollback_context``
        keeps what still holds (the current mfa_token, a spent code).
        No rollback out of a final state.
        """
        self._check_open()
        if self.state in m.FINAL_STATES:
            raise IllegalTransitionError(self.state, "rollback")
        if not self.history:
            raise GuardRejectedError(self.state, "rollback", "has_history", "nothing to roll back")
        if to is not None and to not in m.STATES:
            raise InvalidInputError("to", "unknown state")
        index = len(self.history) - 1
        if to is not None:
            while index >= 0 and self.history[index]["from"] != to:
                index -= 1
            if index < 0:
                raise GuardRejectedError(
                    self.state, "rollback", "state_in_history", f"{to!r} is not in this flow's past"
                )
        undone = self.history[index:]
        target = undone[0]
        source = self.state
        context = m.rollback_context(
            target["from"],
            tuple(h["trigger"] for h in undone),
            self.context,
            target["context"],
        )
        not_undone = [
            {"trigger": h["trigger"], "effect": m.TRIGGERS[h["trigger"]].remote_effect}
            for h in undone
            if not m.TRIGGERS[h["trigger"]].remote_undoable
        ]
        del self.history[index:]
        self.state = _STATE[target["from"]]
        self.context = context
        self.seq += 1
        self._moved()
        self.updated_at = now
        self.expires_at = m.DEADLINES[self.state](context, now, self.created_at)
        self._audit(now, "rollback", source=source, to=self.state, not_undone=not_undone)
        result = StepResult(
            self.flow_id,
            "rollback",
            "rolled_back",
            source,
            self.state,
            self.seq,
            data={"not_undone": not_undone},
        )
        results = self.results
        if results is not None:
            results.append(result)
        return result

    def _audit(self, now: float, event: str, **fields: Any) -> None:
        self.audit.add(AuditEntry.event_of(now, event, str(self.state), fields))

    # ----------------------------------------------------------- envelope

    def to_envelope(self) -> dict[str, Any]:
        """The flow as the plain snapshot envelope (secrets still in clear)."""
        return {
            "schema": 1,
            "machine": m.MACHINE_NAME,
            "machine_hash": m.MACHINE_HASH,
            "flow_id": self.flow_id,
            "seq": self.seq,
            "state": str(self.state),
            "context": self.context.to_json(),
            "history": [h.to_json() for h in self.history],
            "audit": self.audit.to_stored(),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_envelope(cls, env: Mapping[str, Any]) -> Flow:
        """Rebuild a flow from a checked envelope. Never re-runs a step.

        A flow no sequence of steps could have produced is refused with
        ``SnapshotInvariantError``: a state outside the machine, a live flow without
        an expiry, ``authenticated`` without its tokens or the factors that lead there.
        """
        flow = cls._from_envelope(env)
        flow.check_invariants()
        return flow

    def check_invariants(self) -> None:
        """Raise ``SnapshotInvariantError`` if no sequence of steps could have left this flow."""
        if self.state not in _STATE:
            raise SnapshotInvariantError("the flow's state is not a state of the machine")
        if isinstance(self.seq, bool) or not isinstance(self.seq, int) or self.seq < 0:
            raise SnapshotInvariantError("the flow's seq is not a non-negative integer")
        if self.expires_at is None and self.state not in m.FINAL_STATES:
            raise SnapshotInvariantError("a live flow has no expiry")
        ctx = self.context
        if self.state == m.AUTHENTICATED and (
            (ctx.tokens is None and not ctx.tokens_delivered)
            or ctx.first_factor is None
            or (ctx.mfa_requested and ctx.second_factor is None)
        ):
            raise SnapshotInvariantError(
                "an authenticated flow lacks its tokens or the factors that lead there"
            )

    @classmethod
    def _from_envelope(cls, env: Mapping[str, Any]) -> Flow:
        return cls(
            flow_id=env["flow_id"],
            state=_STATE.get(env["state"], env["state"]),
            seq=env["seq"],
            context=Context.from_json(env["context"]),
            history=[HistoryEntry.from_json(h) for h in env["history"]],
            audit=AuditTrail.from_stored(env.get("audit", [])),
            created_at=env["created_at"],
            updated_at=env["updated_at"],
            expires_at=env["expires_at"],
        )


_NO_CONFIG: Any = None


def _ended(state: str, trigger: str, answer: Answer) -> FlowEndedError:
    cls: type[FlowEndedError] = {
        m.EXPIRED: FlowExpiredError,
        m.REJECTED: FlowRejectedError,
        m.LOCKED: FlowLockedError,
    }.get(state, FlowEndedError)
    desc = answer.data.get("description")
    text = f"Auth0's answer to {trigger} ended the flow in {str(state)!r}"
    if answer.error:
        text += f" ({answer.error})"
    return cls(
        text,
        status_code=answer.status_code or 0,
        error=answer.error,
        error_description=desc if isinstance(desc, str) else None,
        trigger=trigger,
        state=state,
    )


def tenant_of(config: Auth0Config) -> str:
    """The tenant and client a flow is bound to: its base URL and client id."""
    return sys.intern(f"{config.base_url}#{config.client_id}")  # one object for all flows
