"""Step orders: a hypothesis state machine drives real flows, through a driver, against the tenant.

Every rule fires one step with generated input (the right code, a wrong one, garbage),
in whatever state the flow is in, so most steps are out of order. Before each step the
independent reference model (``reference.py``) predicts exactly what must happen, and the
step is checked against it: an illegal step raises ``IllegalTransitionError``, changes nothing
and sends nothing; a legal one lands where the model's table says, with one request.
Snapshots are sealed and resumed (the resumed flow replaces the original and must go on
exactly like it), steps are rolled back, the clock jumps past Auth0's deadlines, pushes
are approved or rejected. ``SyncOrders`` runs the sync driver; ``AsyncOrders`` the async
one, each coroutine run on an event loop the machine owns. ``PersistedOrders`` takes every
step the way a web application does: inside ``repo.step(handle)``, each step resuming with
the handle the previous one left; the handle it replaced must then be refused, and what
the step left must be what the store holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from structlog.testing import capture_logs

from flowengine import (
    Auth0Error,
    FlowEngineError,
    FlowExpiredError,
    GuardRejectedError,
    IllegalTransitionError,
    InvalidInputError,
    SnapshotExpiredError,
    StaleHandleError,
    StepResult,
)
from flowengine._flow import Flow
from flowengine._repository import FlowRepository, dump_flow, load_flow
from flowengine.stores import MemoryStore
from flowengine.testing import PushScript
from tests import strategies as S
from tests.leaks.scanner import Scanner
from tests.summary import record

from .harness import EMAIL, EMAIL2, KEYRING, PASSWORD, PHONE, PHONE2, Rig
from .reference import (
    ALL_STATES,
    AUTHENTICATED,
    FINAL,
    FIRST_FACTOR,
    PENDING,
    SECOND_FACTOR,
    Bucket,
    Expect,
    RefLogin,
    RefUser,
    invalid,
)

PROFILE_ACTIVE = {
    "new": [],
    "sms": ["sms", "voice"],
    "voice": ["voice", "sms"],
    "email": ["email"],
    "otp": ["totp"],
    "push": ["push", "totp"],
}
UNKNOWN_AUTHENTICATOR = "sms|dev_NoSuchAuthenticator0"


class LoginOrders(RuleBasedStateMachine):
    """One flow against one tenant; every rule a step, every step checked against the model."""

    DRIVER: ClassVar[str] = "sync"
    #: Take every step inside ``repo.step(handle)`` (a stored flow), not on a flow in memory.
    PERSIST: ClassVar[bool] = False

    def __init__(self) -> None:
        super().__init__()
        self.rig = Rig(self.DRIVER)
        self._capture = capture_logs()
        self.logs = self._capture.__enter__()
        self.flow = self.rig.new_flow("fl_orders")
        # Tokens kept (an hour): the model compares the whole flow after every step, and
        # tokens delivered-not-kept is tested in tests/persistence/test_tokens.py.
        self.repo = FlowRepository(
            MemoryStore(clock=self.rig.clock.time),
            KEYRING,
            clock=self.rig.clock.time,
            keep_tokens=3600.0,
        )
        #: The current resume handle, and every one handed out (bearer secrets: never shown).
        self.handle = self.repo.add(self.flow) if self.PERSIST else ""
        self.handles = {self.handle} - {""}
        self.ref = RefLogin(created_at=self.rig.now)
        self.counts: Counter[str] = Counter()
        self.texts: list[str] = []
        self.typed: set[str] = set()
        self.last_seq = 0
        self.visited: set[str] = set()

    # ------------------------------------------------------------- set-up

    @initialize(
        profile=S.profiles,
        script=S.push_scripts,
        warmup=st.lists(st.integers(0, 99), max_size=6),
        wrong=S.code_digits,
    )
    def tenant(self, profile: str, script: tuple[int, str], warmup: list[int], wrong: str) -> None:
        """Seed the users' enrollment and the tenant's push behaviour, then take a few steps."""
        self.rig.seed_users(profile)
        self.rig.emu.push_script = PushScript(pending=script[0], outcome=script[1])  # type: ignore[arg-type]
        self.ref.push_script = script
        now = self.rig.now
        for user in (PHONE, EMAIL):
            self.ref.users[user] = RefUser(
                active=list(PROFILE_ACTIVE[profile]),
                has_totp=profile in ("otp", "push"),
                recovery_active=profile != "new",
                mfa_failures=Bucket(10, 3600.0, now),
                sms_sends=Bucket(10, 36000.0, now),
            )
        for choice in warmup:  # start some sequences deeper in the login
            self._advance(choice, wrong)

    # ------------------------------------------------------------- the check

    def step(
        self,
        trigger: str,
        invoke: Callable[[], Any],
        predict: Callable[[float], Expect],
        *,
        valid: bool = True,
        driver: bool = True,
        now: float | None = None,
    ) -> None:
        """Predict, take and check one step."""
        at = self.rig.now if now is None else now
        expect = self._expired_on_resume()
        if expect is None:
            expect = invalid() if not valid else self.ref.precheck(trigger, at, driver=driver)
        if expect is None:
            expect = predict(at)
        before = self.flow.to_envelope()
        sent = len(self.rig.emu.requests)
        if expect.kind == "illegal":
            self.counts["illegal_attempted"] += 1
            if self.ref.stale(at):
                self.counts["illegal_attempted_past_deadline"] += 1
        result: StepResult | None = None
        error: FlowEngineError | None = None
        try:
            result = self._run(invoke)
        except FlowEngineError as exc:
            error = exc
            self.texts += [str(exc), repr(exc)]
        if result is not None:
            self.texts.append(repr(result))
        self.check(trigger, expect, before, sent, result, error)

    # ------------------------------------------------------------- the repository

    def _expired_on_resume(self) -> Expect | None:
        """A stored flow past its deadline is expired by ``repo.step`` before any step runs."""
        if not (self.PERSIST and self.ref.stale(self.rig.now)):
            return None
        self.ref.expire_now()
        return Expect("expired_local", state="expired", raises="FlowExpiredError")

    def _run(self, invoke: Callable[[], Any]) -> Any:
        """Take the step on the flow in memory, or inside ``repo.step`` with the newest handle."""
        if not self.PERSIST:
            return invoke()
        old = self.handle
        lent: Flow | None = None
        try:
            with self.repo.step(old) as lent:
                self.flow = lent
                return invoke()
        finally:
            self._after_persisted_step(old, lent)

    def _after_persisted_step(self, old: str, lent: Flow | None) -> None:
        """Go on with the handle the step left; the one it replaced must resume nothing."""
        if lent is None:  # refused on resume: the repository expired the flow, and saved it
            lent = self.repo.view(old)
            handle = self.repo.handle(lent)
        else:
            assert lent.handle is not None
            handle = lent.handle
        self.flow = lent
        stored = self.repo.get(lent.flow_id)
        kept = lent.to_envelope()
        if lent.tokens is not None:  # kept an hour (keep_tokens): the stored expiry says so
            kept["expires_at"] = lent.updated_at + 3600.0
        assert stored.to_envelope() == kept, "the store holds another flow"
        self.handle = handle
        self.handles.add(handle)
        self.counts["persisted_steps"] += 1
        if handle == old:
            assert stored.seq == lent.seq  # nothing was saved: the same revision, the same handle
            return
        sent = len(self.rig.emu.requests)
        with pytest.raises(StaleHandleError), self.repo.step(old):
            raise AssertionError("a replaced handle resumed the flow")  # pragma: no cover
        assert len(self.rig.emu.requests) == sent
        self.counts["stale_handles_refused"] += 1

    def check(
        self,
        trigger: str,
        expect: Expect,
        before: dict[str, Any],
        sent: int,
        result: StepResult | None,
        error: FlowEngineError | None,
    ) -> None:
        """Compare what the step did with what the model predicted."""
        requests = len(self.rig.emu.requests) - sent
        got = f"{type(error).__name__}: {error}" if error else f"result {result!r}"
        where = f"{trigger} in {before['state']}: expected {expect}, got {got}"
        unchanged = self.flow.to_envelope() == before
        kind = expect.kind
        if kind in ("invalid_input", "illegal", "guard"):
            wanted = {
                "invalid_input": InvalidInputError,
                "illegal": IllegalTransitionError,
                "guard": GuardRejectedError,
            }[kind]
            assert isinstance(error, wanted), where
            assert unchanged and requests == 0, where
            if kind == "illegal":
                assert isinstance(error, IllegalTransitionError)
                assert (error.state, error.trigger) == (before["state"], trigger), where
                self.counts["illegal_rejected"] += 1
            elif kind == "guard":
                assert isinstance(error, GuardRejectedError) and error.guard == expect.guard, where
                self.counts["guard_rejected"] += 1
            else:
                self.counts["invalid_rejected"] += 1
            return
        if kind == "expired_local":
            assert isinstance(error, FlowExpiredError), where
            assert self.flow.state == "expired" and requests == 0, where
            assert self.flow.seq == before["seq"] + 1, where
            self.counts["local_expiries"] += 1
            return
        if kind == "remote_error":
            assert isinstance(error, Auth0Error), where
            assert unchanged and requests == 1, where
            self.counts["remote_errors"] += 1
            return
        assert kind == "move", where
        if expect.raises:
            assert error is not None and type(error).__name__ == expect.raises, where
            assert getattr(error, "state", None) == expect.state, where
        else:
            assert error is None and result is not None, where
            assert (result.state, result.outcome) == (expect.state, expect.outcome), where
        assert self.flow.state == expect.state, where
        assert self.flow.seq == before["seq"] + 1, where
        assert requests == (1 if expect.sends else 0), where
        self.counts["moves"] += 1

    # ------------------------------------------------------------- inputs

    def _user_secrets(self) -> list[str]:
        """The TOTP secrets of the user who passed the first factor."""
        user = self.ref.ctx.user
        if user is None:
            return []
        return [
            a.secret for a in self.rig.emu.authenticators_of(user) if a.type == "totp" and a.secret
        ]

    def _code(self, kind: str, right: str | None, wrong: str, garbage: str) -> tuple[str, bool]:
        """The typed code for ``kind`` and whether it is the right one."""
        if kind == "garbage":
            return garbage, False
        if kind == "right" and right is not None:
            self.typed.add(right)
            return right, True
        if wrong == right:
            wrong = wrong[:-1] + str((int(wrong[-1]) + 1) % 10)
        self.typed.add(wrong)
        return wrong, False

    def _last_code(self, to: str | None, purpose: str) -> str | None:
        """The newest code the tenant sent to ``to`` for ``purpose``, if any."""
        if to is None:
            return None
        try:
            return self.rig.emu.last_code(to, purpose=purpose)  # type: ignore[arg-type]
        except LookupError:
            return None

    # ------------------------------------------------------------- first factor

    @rule(
        conn=st.sampled_from(("sms", "email", "sms", "email", "fax")),
        valid=st.booleans(),
        bad_phone=S.bad_phones,
        bad_email=S.bad_emails,
    )
    def start_passwordless(self, conn: str, valid: bool, bad_phone: str, bad_email: str) -> None:
        """Start a passwordless login by SMS or email (or with a bad address or connection)."""
        address = (
            (PHONE if valid else bad_phone) if conn != "email" else (EMAIL if valid else bad_email)
        )
        kwargs = {"email": address} if conn == "email" else {"phone_number": address}
        self.step(
            "start_passwordless",
            lambda: self.rig.call("start_passwordless", self.flow, connection=conn, **kwargs),
            lambda now: self.ref.start(now, "start_passwordless", conn, address),
            valid=valid and conn != "fax",
        )

    @rule()
    def resend_code(self) -> None:
        """Ask for a new passwordless code."""
        self.step(
            "resend_code",
            lambda: self.rig.call("resend_code", self.flow),
            lambda now: self.ref.start(now, "resend_code", "", ""),
        )

    @rule(kind=S.code_kinds, wrong=S.code_digits, garbage=S.garbage_codes)
    def verify_otp(self, kind: str, wrong: str, garbage: str) -> None:
        """Type the passwordless code: right, wrong or garbage."""
        right = self._last_code(self.ref.ctx.address, "passwordless")
        code, is_right = self._code(kind, right, wrong, garbage)
        self.step(
            "verify_otp",
            lambda: self.rig.call("verify_otp", self.flow, code),
            lambda now: self.ref.verify(now, is_right),
            valid=kind != "garbage",
        )

    @rule(kind=st.sampled_from(("right", "wrong", "wrong", "garbage")))
    def login_password(self, kind: str) -> None:
        """Log in with the password (the other first factor)."""
        password = {"right": PASSWORD, "wrong": "not the password", "garbage": ""}[kind]
        self.step(
            "login_password",
            lambda: self.rig.call("login_password", self.flow, username=EMAIL, password=password),
            lambda now: self.ref.login(now, EMAIL, kind == "right"),
            valid=kind != "garbage",
        )

    # ------------------------------------------------------------- MFA

    @rule()
    def list_authenticators(self) -> None:
        """List the user's authenticators with the mfa_token."""
        self.step(
            "list_authenticators",
            lambda: self.rig.call("list_authenticators", self.flow),
            self.ref.list_authenticators,
        )

    @rule(factor=S.factors, how=S.address_kinds, bad_phone=S.bad_phones, bad_email=S.bad_emails)
    def enroll(self, factor: str, how: str, bad_phone: str, bad_email: str) -> None:
        """Enroll a factor, with its address given well, badly, not at all, or superfluously."""
        kwargs: dict[str, str] = {}
        to: str | None = None
        valid = True
        if factor in ("sms", "voice"):
            if how == "valid":
                kwargs, to = {"phone_number": PHONE2}, PHONE2
            elif how == "invalid":
                kwargs = {"phone_number": bad_phone}
            elif how == "extra":
                kwargs = {"phone_number": PHONE2, "email": EMAIL2}
            valid = how == "valid"
        elif factor == "email":
            if how == "valid":
                kwargs, to = {"email": EMAIL2}, EMAIL2
            elif how == "omitted":
                to = EMAIL if self.ref.ctx.user == EMAIL else None  # the user's own email
            elif how == "invalid":
                kwargs = {"email": bad_email}
            else:
                kwargs = {"email": EMAIL2, "phone_number": PHONE2}
            valid = how in ("valid", "omitted")
        elif how in ("invalid", "extra"):
            kwargs = {"phone_number": PHONE2}
            valid = False
        self.step(
            "enroll",
            lambda: self.rig.call("enroll", self.flow, factor, **kwargs),
            lambda now: self.ref.enroll(now, factor, to),
            valid=valid,
        )

    @rule(
        which=st.sampled_from(("none", "none", "active", "active", "unknown", "recovery", "bad")),
        index=st.integers(0, 3),
        ctype=st.sampled_from((None, None, "otp", "oob", "otp oob", "sms")),
        bad=st.sampled_from(S.BAD_AUTHENTICATOR_IDS),
    )
    def challenge(self, which: str, index: int, ctype: str | None, bad: str) -> None:
        """Challenge an authenticator: the default one, a given one, an unknown one..."""
        infos = self.rig.emu.authenticators_of(self.ref.ctx.user) if self.ref.ctx.user else []
        active = [
            (a.id, a.type, a.phone_number or a.email)
            for a in infos
            if a.active and a.type != "recovery-code"
        ]
        ident: str | None = None
        if which == "active" and active:
            ident = active[index % len(active)][0]
        elif which == "unknown":
            ident = UNKNOWN_AUTHENTICATOR
        elif which == "recovery":
            ident = next(
                (a.id for a in infos if a.type == "recovery-code"), "recovery-code|dev_none"
            )
        elif which == "bad":
            ident = bad
        kwargs: dict[str, str] = {}
        if ident is not None:
            kwargs["authenticator_id"] = ident
        if ctype is not None:
            kwargs["challenge_type"] = ctype
        self.step(
            "challenge",
            lambda: self.rig.call("challenge", self.flow, **kwargs),
            lambda now: self.ref.challenge(now, active, ident, ctype),
            valid=which != "bad" and ctype != "sms",
        )

    @rule(kind=S.code_kinds, wrong=S.code_digits, garbage=S.garbage_codes)
    def confirm_oob(self, kind: str, wrong: str, garbage: str) -> None:
        """Type the binding code the tenant sent: right, wrong or garbage."""
        right = self._last_code(self.ref.ctx.binding_to, "mfa")
        code, is_right = self._code(kind, right, wrong, garbage)
        self.step(
            "confirm_oob",
            lambda: self.rig.call("confirm_oob", self.flow, code),
            lambda now: self.ref.confirm_oob(now, is_right),
            valid=kind != "garbage",
        )

    @rule(kind=S.code_kinds, wrong=S.code_digits, garbage=S.garbage_codes)
    def confirm_otp(self, kind: str, wrong: str, garbage: str) -> None:
        """Type a TOTP code: right, wrong or garbage."""
        now = self.rig.now
        secrets = self._user_secrets()
        valid_codes = {self.rig.emu.totp_code(s, at) for s in secrets for at in (now, now - 30)}
        right = self.rig.emu.totp_code(secrets[0]) if secrets else None
        while wrong in valid_codes:
            wrong = f"{(int(wrong) + 1) % 1_000_000:06d}"
        code, is_right = self._code(kind, right, wrong, garbage)
        self.step(
            "confirm_otp",
            lambda: self.rig.call("confirm_otp", self.flow, code),
            lambda at: self.ref.confirm_otp(at, is_right),
            valid=kind != "garbage",
        )

    @rule(kind=S.code_kinds, garbage=S.garbage_codes)
    def confirm_recovery_code(self, kind: str, garbage: str) -> None:
        """Type a recovery code: the user's current one, a wrong one, or garbage."""
        user = self.ref.ctx.user
        right = self.rig.emu.recovery_code_of(user) if user else None
        wrong = "WRONG0RECOVERY0CODE00000"
        if wrong == right:
            wrong = "WRONG0RECOVERY0CODE00001"
        code, is_right = self._code(kind, right, wrong, garbage)
        self.step(
            "confirm_recovery_code",
            lambda: self.rig.call("confirm_recovery_code", self.flow, code),
            lambda now: self.ref.confirm_recovery_code(now, is_right),
            valid=kind != "garbage",
        )

    @rule(wait=st.booleans())
    def poll_push(self, wait: bool) -> None:
        """Poll the push, waiting out the interval (only where there is one) or not."""
        c = self.ref.ctx
        now = self.rig.now
        waits = wait and c.state in PENDING and c.factor == "push" and c.next_poll is not None
        at = max(now, c.next_poll) if waits and c.next_poll is not None else now
        self.step(
            "poll_push",
            lambda: self.rig.call("poll_push", self.flow, wait=waits),
            self.ref.poll_push,
            now=at,
        )

    @rule(approve=st.booleans())
    def user_answers_push(self, approve: bool) -> None:
        """The user approves or rejects the newest pending push on their phone."""
        expected = self.ref.settle_push(self.rig.now, approve)
        try:
            (self.rig.emu.approve_push if approve else self.rig.emu.reject_push)()
        except LookupError:
            assert not expected, "the tenant had no pending push, the model had one"
        else:
            assert expected, "the tenant settled a push the model does not know"

    # ------------------------------------------------------------- progress

    def _advance(self, choice: int, wrong: str) -> None:
        """Take the step a user would take next, with the right input (most of the time)."""
        c = self.ref.ctx
        if choice % 13 == 0 and self.ref.history and c.state not in FINAL:
            self.rollback(None if choice % 2 else self.ref.history[0].state)
        elif c.state == "started":
            if choice % 3 == 2:
                self.login_password("right")
            else:
                self.start_passwordless(("sms", "email")[choice % 2], True, "", "")
        elif c.state == "code_sent":
            self.verify_otp("right" if choice % 5 else "wrong", wrong, "")
        elif c.state == "mfa_required":
            if self.ref.users[c.user or PHONE].active and choice % 4:
                self.challenge("none" if choice % 2 else "active", choice, None, "")
            elif choice % 7 == 0:
                self.confirm_recovery_code("right", "")
            else:
                factor = ("sms", "voice", "email", "otp", "push")[choice % 5]
                self.enroll(factor, "valid", "", "")
        elif c.state in PENDING:
            kind = "right" if choice % 4 else "wrong"
            if c.factor == "push":
                if choice % 3 == 0 and self.ref.pending_push(self.rig.now) is not None:
                    self.user_answers_push(choice % 2 == 0)
                self.poll_push(True)
            elif c.factor == "otp":
                self.confirm_otp(kind, wrong, "")
            else:
                self.confirm_oob(kind, wrong, "")
        else:
            self.snapshot_and_resume()

    @rule(times=st.integers(1, 4), wrong=S.code_digits)
    def typos(self, times: int, wrong: str) -> None:
        """Type several wrong codes in a row where a code is expected (attempt limits, budgets)."""
        for _ in range(times):
            c = self.ref.ctx
            if c.state == "code_sent":
                self.verify_otp("wrong", wrong, "")
            elif c.state == "mfa_required" or (c.state in PENDING and c.factor == "otp"):
                self.confirm_otp("wrong", wrong, "")
            elif c.state in PENDING:
                self.confirm_oob("wrong", wrong, "")
            elif c.state == "started":
                self.login_password("wrong")

    @rule(choice=st.integers(0, 99), wrong=S.code_digits)
    def advance(self, choice: int, wrong: str) -> None:
        """Move the flow on (the other rules are mostly out of order)."""
        self._advance(choice, wrong)

    @rule(choice=st.integers(0, 99), wrong=S.code_digits)
    def advance_again(self, choice: int, wrong: str) -> None:
        """Move the flow on: a second copy, so progress is drawn about one step in five."""
        self._advance(choice, wrong)

    @rule(choice=st.integers(0, 99), wrong=S.code_digits)
    def advance_once_more(self, choice: int, wrong: str) -> None:
        """Move the flow on: a third copy."""
        self._advance(choice, wrong)

    # ------------------------------------------------------------- no-call steps

    @rule()
    def cancel(self) -> None:
        """Abandon the flow."""
        self.step(
            "cancel",
            lambda: self.rig.call("cancel", self.flow),
            lambda now: self.ref.no_call("cancel", now),
        )

    @rule()
    def expire_trigger(self) -> None:
        """Fire the expire trigger on the core (no driver method fires it)."""
        self.step(
            "expire",
            lambda: self.flow.expire(self.rig.now),
            lambda now: self.ref.no_call("expire", now),
            driver=False,
        )

    @rule(to=st.sampled_from((None, None, None, *ALL_STATES, "nowhere")))
    def rollback(self, to: str | None) -> None:
        """Undo the last state change, or go back to a named earlier state."""
        now = self.rig.now
        before = self.flow.to_envelope()
        sent = len(self.rig.emu.requests)
        expect = self._expired_on_resume() or self.ref.rollback(now, to)
        result: StepResult | None = None
        error: FlowEngineError | None = None
        try:
            result = self._run(lambda: self.rig.call("rollback", self.flow, to=to))
        except FlowEngineError as exc:
            error = exc
            self.texts += [str(exc), repr(exc)]
        self.counts["rollbacks_tried"] += 1
        if expect.kind == "illegal":
            self.counts["illegal_attempted"] += 1
        if expect.kind == "move":
            assert error is None and result is not None, (expect, error)
            assert result.state == expect.state == self.flow.state
            assert self.flow.seq == before["seq"] + 1
            assert len(self.rig.emu.requests) == sent
            self.counts["rollbacks"] += 1
            return
        self.check("rollback", expect, before, sent, result, error)

    @rule()
    def snapshot_and_resume(self) -> None:
        """Seal the flow, open the snapshot, and carry on with the resumed copy."""
        data = dump_flow(self.flow, KEYRING)
        self.texts.append(data)
        now = self.rig.now
        if self.ref.stale(now):
            with pytest.raises(SnapshotExpiredError):
                load_flow(data, KEYRING, now=now)
            shown = load_flow(data, KEYRING, now=None)
            assert shown.to_envelope() == self.flow.to_envelope()
            self.counts["resumes_refused_stale"] += 1
            return
        resumed = load_flow(data, KEYRING, now=now)
        assert resumed.to_envelope() == self.flow.to_envelope()
        assert resumed is not self.flow
        self.flow = resumed
        self.counts["resumes"] += 1

    @rule(seconds=S.clock_jumps)
    def time_passes(self, seconds: float) -> None:
        """Jump the shared clock (past Auth0's deadlines, or around the poll interval)."""
        self.rig.clock.advance(seconds)

    @rule(before=st.booleans())
    def deadline_arrives(self, before: bool) -> None:
        """Jump to just before or exactly onto the flow's tightest deadline (if it has one)."""
        limit = self.ref.deadline()
        if limit is not None and limit > self.rig.now:
            self.rig.clock.advance(limit - self.rig.now - (1.0 if before else 0.0))

    # ------------------------------------------------------------- invariants

    @invariant()
    def agrees_with_the_model(self) -> None:
        """The flow is where the model is, its seq never goes back, and final means final."""
        flow = self.flow
        assert flow.state == self.ref.state, (flow.state, self.ref.state)
        self.visited.add(flow.state)
        assert flow.seq >= self.last_seq
        self.last_seq = flow.seq
        assert flow.is_final == (flow.state in FINAL)
        if flow.state in FINAL:
            assert flow.legal_triggers() == ()

    @invariant()
    def authenticated_only_after_both_factors(self) -> None:
        """authenticated follows a first factor that asked for MFA, then a second factor."""
        if self.flow.state != AUTHENTICATED:
            return
        hist = self.flow.history
        firsts = [h for h in hist if h["trigger"] in FIRST_FACTOR and h["to"] == "mfa_required"]
        assert firsts, hist
        last = hist[-1]
        assert last["to"] == AUTHENTICATED and last["trigger"] in SECOND_FACTOR, last
        assert last["from"] in ("mfa_required", *PENDING)
        assert self.ref.ctx.first_factor in FIRST_FACTOR
        assert self.ref.ctx.second_factor in SECOND_FACTOR
        assert self.flow.tokens and self.flow.tokens.get("access_token")

    # ------------------------------------------------------------- the end

    def teardown(self) -> None:
        """Close the driver, scan what was captured for secrets, record the figures."""
        try:
            self.rig.close()
        finally:
            self._capture.__exit__(None, None, None)
        scanner = Scanner()
        for text in self.texts:
            scanner.add("step", text)
        for event in self.logs:
            scanner.add("log event", repr(event))
        scanner.add_repr(self.flow)
        secrets = self.rig.emu.issued_secrets() | self.typed | self.handles
        record(
            "step_orders",
            sequences=1,
            **{f"sequences_{self.DRIVER}": 1},
            sequences_persisted=int(self.PERSIST),
            steps=sum(
                self.counts[k]
                for k in (
                    "illegal_rejected",
                    "guard_rejected",
                    "invalid_rejected",
                    "moves",
                    "remote_errors",
                    "local_expiries",
                    "rollbacks",
                )
            ),
            requests=len(self.rig.emu.requests),
            **{f"reached_{state}": 1 for state in self.visited},
            **self.counts,
        )
        found = scanner.scan(secrets)
        assert not found, f"secret values appeared in: {found}"


class AsyncLoginOrders(LoginOrders):
    """The same machine through the async driver."""

    DRIVER = "async"


class PersistedLoginOrders(LoginOrders):
    """The same machine with every step taken inside ``repo.step``, resumed by its handle."""

    PERSIST = True


TestSyncStepOrders = LoginOrders.TestCase
TestAsyncStepOrders = AsyncLoginOrders.TestCase
TestPersistedStepOrders = PersistedLoginOrders.TestCase
