"""Behaviour of ``flowengine._flow`` pinned down for mutation testing (issue #20)."""

from __future__ import annotations

import re
from typing import Any

import attrs
import pytest

from flowengine import _machine as m
from flowengine._config import Auth0Config
from flowengine._context import EMPTY, Context, TenantSettings
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
    SnapshotInvariantError,
    TenantMismatchError,
)
from flowengine._flow import (
    HISTORY_LIMIT,
    MAY_HAVE_ACTED_STATUSES,
    Flow,
    HistoryEntry,
    PreparedStep,
    StepResult,
    _ended,
    _Held,
    tenant_of,
)
from flowengine._machine import IDLE_FLOW_TTL, State, Trigger
from flowengine._wire import Answer, HttpRequest, HttpResponse

from .flowstates import NOW, OUTCOME_DATA, PARAMS, flow_in


def _exact(message: str) -> str:
    return f"^{re.escape(message)}$"


CONFIG = Auth0Config("tenant.example.auth0.com", "app-id", "app-secret")
OTHER = Auth0Config("other.example.auth0.com", "app-id", "app-secret")
START = PARAMS["start_passwordless"]


def _started() -> Flow:
    return Flow.new("fl_mut", NOW)


def _code_sent() -> Flow:
    flow = _started()
    step = flow.begin("start_passwordless", START, CONFIG, NOW)
    flow.apply_outcome(step, Answer("code_sent", {}, 200), NOW)
    return flow


def _step(flow: Flow, trigger: str, params: dict[str, Any] | None = None) -> PreparedStep:
    return flow.begin(trigger, params if params is not None else PARAMS[trigger], CONFIG, NOW)


# ---------------------------------------------------------------- PreparedStep / StepResult


def test_may_act_is_false_for_get_and_local_steps() -> None:
    """A GET or a step without request may not act; a POST may."""
    get = PreparedStep(
        Trigger.LIST_AUTHENTICATORS, State.MFA_REQUIRED, 0, HttpRequest("GET", "/x"), {}, NOW
    )
    post = PreparedStep(
        Trigger.START_PASSWORDLESS, State.STARTED, 0, HttpRequest("POST", "/x"), {}, NOW
    )
    local = PreparedStep(Trigger.CANCEL, State.STARTED, 0, None, {}, NOW)
    assert (get.may_act, post.may_act, local.may_act) == (False, True, False)


def test_step_result_properties_read_typed_data() -> None:
    """Each typed property returns its member when it has the right type."""
    data = {
        "tokens": {"access_token": "a"},
        "claims": {"sub": "u"},
        "authenticators": [{"id": "x"}],
        "recovery_code": "RC",
        "recovery_codes": ["a", "b"],
        "secret": "S",
        "barcode_uri": "otpauth://x",
        "pending": True,
        "retry_after": 5,
        "attempts": 2,
    }
    r = StepResult("f", "t", "o", "a", "b", 1, data=data)
    assert r.tokens == {"access_token": "a"}
    assert r.claims == {"sub": "u"}
    assert r.authenticators == [{"id": "x"}]
    assert r.recovery_code == "RC"
    assert r.recovery_codes == ["a", "b"]
    assert r.totp_secret == "S"
    assert r.barcode_uri == "otpauth://x"
    assert r.pending is True
    assert r.retry_after == 5.0 and isinstance(r.retry_after, float)
    assert r.attempts == 2
    assert r.changed_state is True
    assert r.status_code is None and r.error is None


def test_step_result_properties_refuse_wrong_types() -> None:
    """A member of the wrong type (or missing) reads as None / False."""
    data = {
        "tokens": "x",
        "claims": ["x"],
        "authenticators": {"a": 1},
        "recovery_code": 1,
        "recovery_codes": "abc",
        "secret": 2,
        "barcode_uri": None,
        "retry_after": "5",
        "attempts": "2",
    }
    r = StepResult("f", "t", "o", "a", "a", 1, data=data)
    assert r.tokens is None and r.claims is None and r.authenticators is None
    assert r.recovery_code is None and r.recovery_codes is None
    assert r.totp_secret is None and r.barcode_uri is None
    assert r.retry_after is None and r.attempts is None
    assert r.pending is False and r.changed_state is False
    assert StepResult("f", "t", "o", "a", "a", 1).data == {}
    assert StepResult("f", "t", "o", "a", "a", 1, data={"retry_after": 1.5}).retry_after == 1.5


# ---------------------------------------------------------------- HistoryEntry


def test_history_entry_reads_like_its_snapshot_object() -> None:
    """Known keys map to the slots; a None member is absent, except ``trigger``."""
    ctx = Context(connection="sms")
    e = HistoryEntry(3, "started", "code_sent", "start_passwordless", 7.5, ctx)
    assert e["seq"] == 3 and e["from"] == "started" and e["to"] == "code_sent"
    assert e["trigger"] == "start_passwordless" and e["at"] == 7.5 and e["context"] is ctx
    assert list(e) == ["seq", "from", "to", "trigger", "at", "context"]
    assert len(e) == 6
    assert e.extra is None
    with pytest.raises(KeyError):
        e["nope"]
    bare = HistoryEntry(None, "a", None, None, None)
    assert bare["trigger"] is None
    assert list(bare) == ["from", "trigger"]
    assert len(bare) == 2
    for key in ("seq", "to", "at", "context"):
        with pytest.raises(KeyError):
            bare[key]
    assert "context" not in bare and "trigger" in bare
    assert repr(e) == "HistoryEntry(seq=3, 'started' -'start_passwordless'-> 'code_sent')"


def test_history_entry_json_round_trip_keeps_extra_members() -> None:
    """``to_json`` writes the context's JSON; ``from_json`` keeps unknown members, shares names."""
    ctx = Context(connection="sms")
    e = HistoryEntry(1, "started", "code_sent", "start_passwordless", 2.0, ctx)
    doc = e.to_json()
    assert doc == {
        "seq": 1,
        "from": "started",
        "to": "code_sent",
        "trigger": "start_passwordless",
        "at": 2.0,
        "context": ctx.to_json(),
    }
    back = HistoryEntry.from_json(doc)
    assert back.to_json() == doc and back.context == ctx
    assert back["from"] is m.STARTED and back["to"] is m.CODE_SENT
    assert back["trigger"] is Trigger.START_PASSWORDLESS.value
    plain = HistoryEntry.from_json({"seq": 1, "from": "nowhere", "to": 5, "trigger": None})
    assert plain.extra is None and plain["from"] == "nowhere" and plain["to"] == 5
    assert plain.context is None and "at" not in plain
    loaded = HistoryEntry.from_json({"seq": 2, "from": "started", "note": "kept", "trigger": "x"})
    assert loaded.extra == {"note": "kept"}
    assert loaded["note"] == "kept"
    assert list(loaded) == ["seq", "from", "trigger", "note"]
    assert loaded.to_json() == {"seq": 2, "from": "started", "trigger": "x", "note": "kept"}
    with pytest.raises(KeyError):
        loaded["other"]


# ---------------------------------------------------------------- repository-held state


def test_held_defaults_and_flow_without_repository() -> None:
    """A fresh ``_Held`` is empty and open; a flow no repository touched holds nothing."""
    held = _Held()
    assert (held.handle, held.secret, held.keeper, held.results, held.closed) == (
        None,
        None,
        None,
        None,
        False,
    )
    flow = _started()
    assert flow.results is None and flow.binding_secret is None and flow.lent is False
    assert flow.keep_claim("cancel") is None
    with pytest.raises(
        InvalidHandleError,
        match=_exact("handle: this flow has no handle: store it with repo.add first"),
    ):
        _ = flow.handle
    flow.set_handle("h1")
    assert flow.handle == "h1"
    assert flow.results is None and flow.lent is False


def test_bind_sets_the_binding_once() -> None:
    """``bind`` records the binding and secret; another binding or None is refused."""
    flow = _started()
    with pytest.raises(
        FlowClosedError, match=_exact("a flow's binding is set once, when it is first stored")
    ):
        flow.bind(None, b"s")
    flow.bind("b1", b"s1")
    assert flow.context.binding == "b1" and flow.binding_secret == b"s1"
    flow.bind("b1", b"s2")
    assert flow.binding_secret == b"s2" and flow.context.binding == "b1"
    with pytest.raises(FlowClosedError):
        flow.bind("b2", b"s3")
    assert flow.binding_secret == b"s2"


def test_lend_keep_claim_and_close() -> None:
    """A lent flow renews its claim with the intent; a closed one refuses every step."""
    flow = _started()
    calls: list[tuple[Any, Any]] = []

    def keeper(trigger: str | None, params: Any) -> float:
        calls.append((trigger, params))
        return 42.0

    flow.lend(keeper)
    assert flow.lent is True and flow.results == []
    assert flow.keep_claim() == 42.0
    assert calls == [(None, {})]
    step = flow.begin("start_passwordless", START, CONFIG, NOW)
    assert calls[-1] == ("start_passwordless", START)
    result = flow.apply_outcome(step, Answer("code_sent", {}, 200), NOW)
    assert flow.results == [result]
    flow.begin("cancel", {}, CONFIG, NOW)
    assert len(calls) == 2  # a local step renews nothing
    flow.begin("resend_code", {}, CONFIG, NOW, renew=False)
    assert len(calls) == 2
    flow.close()
    assert flow.lent is False and flow.results == [result]
    with pytest.raises(
        FlowClosedError,
        match=_exact("this Flow object was used after its repo.step block; resume the flow again"),
    ):
        flow.begin("cancel", {}, CONFIG, NOW)
    with pytest.raises(FlowClosedError):
        flow.note_uncertain("resend_code", NOW)


def test_hand_set_state_or_seq_is_refused() -> None:
    """Setting state or seq by hand makes the next step raise ``FlowClosedError``."""
    flow = _code_sent()
    flow.check_untouched()
    flow.seq += 1
    with pytest.raises(
        FlowClosedError, match=_exact("the flow's state or seq was set by hand, not by a step")
    ):
        flow.cancel(NOW)
    flow.seq -= 1
    flow.state = m.MFA_REQUIRED
    with pytest.raises(FlowClosedError):
        flow.check_untouched()


def test_wait_slices() -> None:
    """Delays are cut into thirds of the lease, with the rest as a last slice."""
    assert Flow.wait_slices(0, 9) == []
    assert Flow.wait_slices(-1, None) == []
    assert Flow.wait_slices(0.5, None) == [0.5]
    assert Flow.wait_slices(10, 9) == [3, 3, 3, 1]
    assert Flow.wait_slices(9, 9) == [3, 3, 3]
    assert Flow.wait_slices(2, 9) == [2]
    assert Flow.wait_slices(3 + 1e-10, 9) == [3]
    assert Flow.wait_slices(3 + 1e-6, 9) == pytest.approx([3, 1e-6])


# ---------------------------------------------------------------- construction and queries


def test_new_flow_fields() -> None:
    """``Flow.new`` starts with the idle TTL, the tenant settings and a checked id."""
    flow = Flow.new("fl_x", 100.0)
    assert (flow.state, flow.seq, flow.created_at, flow.updated_at) == (m.STARTED, 0, 100.0, 100.0)
    assert flow.expires_at == 100.0 + IDLE_FLOW_TTL
    assert flow.context == EMPTY and flow.history == [] and list(flow.audit) == []
    settings = TenantSettings(otp_length=8)
    with_settings = Flow.new("fl_x", 100.0, settings)
    assert with_settings.context.settings == settings.to_json()
    assert Flow.new("fl_x", 1.0, TenantSettings()).context == EMPTY
    with pytest.raises(InvalidInputError, match=r"^flow_id: "):
        Flow.new("fl\x00x", 1.0)
    with pytest.raises(InvalidInputError, match=r"^flow_id: "):
        Flow.new("f" * 129, 1.0)
    assert Flow.new("f" * 128, 1.0).flow_id == "f" * 128


def test_deadline_passed_boundaries() -> None:
    """A live flow (not ``started``) is past its deadline at ``expires_at`` and after."""
    flow = _code_sent()
    assert flow.expires_at is not None
    assert flow.deadline_passed(flow.expires_at) is True
    assert flow.deadline_passed(flow.expires_at - 0.001) is False
    started = _started()
    assert started.deadline_passed(started.expires_at + 1) is False  # type: ignore[operator]
    flow.expires_at = None
    assert flow.deadline_passed(NOW + 10**9) is False
    done = flow_in(m.CANCELLED)
    done.expires_at = 0.0
    assert done.deadline_passed(NOW) is False


def test_path_and_queries() -> None:
    """``path`` lists the states visited; ``tokens`` and ``uncertain`` read the context."""
    flow = _code_sent()
    assert flow.path() == [m.STARTED, m.CODE_SENT]
    assert flow.is_final is False and flow.tokens is None and flow.uncertain is None
    flow.cancel(NOW)
    assert flow.path() == [m.STARTED, m.CODE_SENT, m.CANCELLED] and flow.is_final is True
    assert flow.legal_triggers() == ()


def test_next_steps_offer() -> None:
    """``next_steps`` leaves out ``expire`` and factors Auth0 did not offer."""
    steps = _started().next_steps()
    assert "expire" not in steps
    assert steps["start_passwordless"] == () and steps["cancel"] == ()
    mfa = flow_in(m.MFA_REQUIRED)
    offer = mfa.next_steps()
    assert "expire" not in offer
    assert offer["list_authenticators"] == ()
    for trigger in ("challenge", "enroll"):
        assert "recovery-code" not in offer.get(trigger, ())
    factors = m.offered_factors(mfa.context)
    for trigger in ("challenge", "enroll"):
        expected = tuple(f for f in factors[trigger] if f != "recovery-code")
        assert offer.get(trigger) == (expected or None)
    assert set(offer) == {
        t
        for t in mfa.legal_triggers()
        if t != "expire"
        and (t not in ("challenge", "enroll") or offer.get(t))
        and (
            t not in ("confirm_otp", "confirm_recovery_code")
            or m.factor_refusal(t, mfa.context, {}) is None
        )
    }
    assert all(v == () for k, v in offer.items() if k not in ("challenge", "enroll"))


# ---------------------------------------------------------------- begin / prepare / check


def test_guard_rejection_names_the_guard() -> None:
    """A failing guard raises ``GuardRejectedError`` with its name and hint."""
    flow = _code_sent()
    flow.context = flow.context.evolve(code_attempts=100)
    flow.seq = flow.seq  # untouched
    for trigger in ("verify_otp",):
        try:
            flow.check(trigger, NOW)
        except GuardRejectedError as exc:
            assert exc.guard in m.GUARD_HINTS and exc.reason == m.GUARD_HINTS[exc.guard]
            assert exc.state == m.CODE_SENT and exc.trigger == trigger


def test_prepare_binds_tenant_and_refuses_another() -> None:
    """The step carries the tenant; a flow made for another tenant sends nothing."""
    flow = _started()
    step = flow.begin("start_passwordless", START, CONFIG, NOW)
    assert step.tenant == tenant_of(CONFIG) == "https://tenant.example.auth0.com#app-id"
    assert (step.trigger, step.source, step.seq, step.now) == (
        Trigger.START_PASSWORDLESS,
        State.STARTED,
        0,
        NOW,
    )
    assert step.params == START and step.request is not None
    flow.apply_outcome(step, Answer("code_sent", {}, 200), NOW)
    assert flow.context.tenant == tenant_of(CONFIG)
    with pytest.raises(
        TenantMismatchError,
        match=_exact("this flow was made for another Auth0 tenant or client; nothing was sent"),
    ):
        flow.begin("resend_code", {}, OTHER, NOW)
    local = flow.begin("cancel", {}, OTHER, NOW)
    assert local.tenant is None and local.request is None


def test_illegal_trigger_refused_before_deadline() -> None:
    """An illegal step past the deadline raises ``IllegalTransitionError`` and changes nothing."""
    flow = _code_sent()
    late = flow.expires_at + 1  # type: ignore[operator]
    with pytest.raises(IllegalTransitionError):
        flow.begin("poll_push", {}, CONFIG, late)
    assert flow.state == m.CODE_SENT and flow.seq == 1


def test_factor_refusal() -> None:
    """A factor Auth0 did not offer is refused before a request is built."""
    flow = flow_in(m.MFA_REQUIRED, mfa_requirements={"challenge": [{"type": "otp"}]})
    with pytest.raises(FactorNotAllowedError) as info:
        flow.begin("challenge", {"factor": "sms"}, CONFIG, NOW)
    assert info.value.state == m.MFA_REQUIRED and info.value.trigger == "challenge"


# ---------------------------------------------------------------- finish / fail / apply


def _response(status: int, body: bytes = b"{}") -> HttpResponse:
    return HttpResponse(status, {"content-type": "application/json"}, body)


@pytest.mark.parametrize("status", [200, 299, 500, 502, 504])
def test_finish_records_doubt_when_auth0_may_have_acted(status: int) -> None:
    """A 2xx that cannot be read, or a 500/502/504, leaves the flow uncertain."""
    flow = _started()
    step = flow.begin("start_passwordless", START, CONFIG, NOW)
    with pytest.raises((MalformedResponseError, RemoteError)):
        flow.finish(step, _response(status, b"not json"), CONFIG, NOW + 1)
    assert flow.uncertain is not None
    assert flow.uncertain.trigger == "start_passwordless" and flow.uncertain.at == NOW + 1
    assert flow.state == m.STARTED and flow.seq == 1
    assert flow.context.tenant == tenant_of(CONFIG)


@pytest.mark.parametrize("status", [503, 501, 300, 199])
def test_finish_other_statuses_leave_no_doubt(status: int) -> None:
    """Other failing statuses change nothing."""
    flow = _started()
    step = flow.begin("start_passwordless", START, CONFIG, NOW)
    with pytest.raises(RemoteError):
        flow.finish(step, _response(status, b"not json"), CONFIG, NOW)
    assert flow.uncertain is None and flow.seq == 0


def test_may_have_acted_statuses() -> None:
    """The uncertain rule names exactly 500, 502 and 504."""
    assert frozenset({500, 502, 504}) == MAY_HAVE_ACTED_STATUSES


def test_finish_get_leaves_no_doubt() -> None:
    """An unreadable answer to a GET cannot mean Auth0 acted."""
    flow = flow_in(m.MFA_REQUIRED)
    step = flow.begin("list_authenticators", {}, CONFIG, NOW)
    with pytest.raises(RemoteError):
        flow.finish(step, _response(500, b"x"), CONFIG, NOW)
    assert flow.uncertain is None and flow.seq == 5


def test_fail_records_doubt_only_for_a_sent_call_that_acts() -> None:
    """``fail`` is True and sets ``uncertain`` only when sent and the call may act."""
    flow = _started()
    step = flow.begin("start_passwordless", START, CONFIG, NOW)
    assert flow.fail(step, sent=False, now=NOW) is False
    assert flow.uncertain is None and flow.seq == 0
    assert flow.fail(step, sent=True, now=NOW + 2) is True
    assert flow.uncertain is not None and flow.uncertain.at == NOW + 2
    assert flow.context.tenant == tenant_of(CONFIG)
    with pytest.raises(IllegalTransitionError):
        flow.fail(step, sent=True, now=NOW)
    mfa = flow_in(m.MFA_REQUIRED)
    get = mfa.begin("list_authenticators", {}, CONFIG, NOW)
    assert mfa.fail(get, sent=True, now=NOW) is False and mfa.uncertain is None


def test_apply_names_trigger_and_state_on_remote_error() -> None:
    """A refused answer carries the step's trigger and the flow's state."""
    flow = _started()
    step = flow.begin("start_passwordless", START, CONFIG, NOW)
    with pytest.raises(RemoteError) as info:
        flow.apply(step, _response(503, b"x"), CONFIG, NOW)
    assert info.value.trigger == "start_passwordless" and info.value.state == m.STARTED
    ok = flow.apply(step, _response(200, b"{}"), CONFIG, NOW)
    assert ok.state == m.CODE_SENT


def test_apply_outcome_without_row_names_the_answer() -> None:
    """An outcome with no row raises ``RemoteError`` with a precise message and changes nothing."""
    flow = _started()
    step = flow.begin("start_passwordless", START, CONFIG, NOW)
    with pytest.raises(RemoteError) as info:
        flow.apply_outcome(step, Answer("pending", {}, 202, "err"), NOW)
    exc = info.value
    assert str(exc).startswith(
        "Auth0's answer (pending) to start_passwordless has no row in state 'started'"
    )
    assert exc.status_code == 202 and exc.error == "err"
    assert exc.trigger == "start_passwordless" and exc.state == m.STARTED
    with pytest.raises(RemoteError) as info:
        flow.apply_outcome(step, Answer("pending"), NOW)
    assert info.value.status_code == 0
    assert flow.seq == 0 and flow.history == []


def test_apply_outcome_writes_state_history_audit_and_result() -> None:
    """A transition writes every field: state, seq, history, audit, deadline and result."""
    flow = _started()
    step = flow.begin("start_passwordless", START, CONFIG, NOW)
    before = flow.context
    result = flow.apply_outcome(step, Answer("code_sent", {}, 200), NOW + 3, request_id="rq-1")
    assert (flow.state, flow.seq, flow.updated_at) == (m.CODE_SENT, 1, NOW + 3)
    assert flow.expires_at == m.DEADLINES[m.CODE_SENT](flow.context, NOW + 3, flow.created_at)
    [entry] = flow.history
    assert (entry.seq, entry.source, entry.dest, entry.trigger, entry.at) == (
        1,
        "started",
        "code_sent",
        "start_passwordless",
        NOW + 3,
    )
    assert entry.context == before
    [audit] = list(flow.audit)
    assert (audit.event, audit.trigger, audit.outcome, audit.source, audit.dest) == (
        "step",
        "start_passwordless",
        "code_sent",
        "started",
        "code_sent",
    )
    assert audit.status == 200 and audit.request_id == "rq-1" and audit.at == NOW + 3
    assert result == StepResult(
        "fl_mut", "start_passwordless", "code_sent", "started", "code_sent", 1, 200, None, {}
    )
    # a self-loop writes no history entry, clears the doubt
    flow.note_uncertain("resend_code", NOW)
    assert flow.uncertain is not None
    step = flow.begin("resend_code", {}, CONFIG, NOW)
    flow.apply_outcome(step, Answer("code_sent", {}, 200), NOW)
    assert len(flow.history) == 1 and flow.uncertain is None and flow.seq == 3


def test_history_limit_is_sixteen() -> None:
    """A flow keeps exactly 16 history entries, dropping the oldest."""
    assert HISTORY_LIMIT == 16
    flow = flow_in(m.MFA_REQUIRED)
    for i in range(HISTORY_LIMIT + 3):
        step = flow.begin("challenge", {"factor": "sms"}, CONFIG, NOW)
        flow.apply_outcome(step, Answer("challenged", OUTCOME_DATA["challenged"], 200), NOW + i)
        step = flow.begin("expire", {}, CONFIG, NOW)
        flow.apply_outcome(step, Answer("code_expired", {}, None), NOW + i)
    assert len(flow.history) == HISTORY_LIMIT
    assert flow.history[0]["seq"] == flow.seq - HISTORY_LIMIT + 1
    assert flow.history[-1]["seq"] == flow.seq


@pytest.mark.parametrize(
    ("kind", "error_cls", "state", "trigger"),
    [
        ("rejected", FlowRejectedError, m.REJECTED, "poll_push"),
        ("locked", FlowLockedError, m.LOCKED, "verify_otp"),
        ("expired", FlowExpiredError, m.EXPIRED, "poll_push"),
    ],
)
def test_ending_answer_is_applied_then_raised(
    kind: str, error_cls: type, state: str, trigger: str
) -> None:
    """An ending answer clears secrets, drops history contexts and raises with the result."""
    if trigger == "poll_push":
        flow = flow_in(m.CHALLENGE_PENDING, factor="push")
    else:
        flow = flow_in(m.CODE_SENT, mfa_token="Fe26.2*t")
    flow.history = [HistoryEntry(5, "started", str(flow.state), "x", NOW, flow.context)]
    flow.lend(lambda t, p: 1.0)
    step = flow.begin(trigger, PARAMS[trigger], CONFIG, NOW)
    data = {"description": "why"}
    with pytest.raises(FlowEndedError) as info:
        flow.apply_outcome(step, Answer(kind, data, 400, "code_x"), NOW)
    exc = info.value
    assert type(exc) is error_cls
    assert str(exc).startswith(f"Auth0's answer to {trigger} ended the flow in '{state}' (code_x)")
    assert exc.error_description == "why" and exc.status_code == 400 and exc.error == "code_x"
    assert exc.trigger == trigger and exc.state == state
    assert (
        isinstance(exc.result, StepResult)
        and exc.result.state == state
        and flow.results == [exc.result]
    )
    assert flow.state == state and flow.context.mfa_token is None
    assert all(h.context is None for h in flow.history)


def test_ended_message_without_error() -> None:
    """``_ended`` picks the class by state and leaves out a missing error."""
    e = _ended(m.CANCELLED, "cancel", Answer("cancelled", {"description": 5}))
    assert type(e) is FlowEndedError
    assert str(e).startswith("Auth0's answer to cancel ended the flow in 'cancelled'")
    assert "(" not in str(e).split("'cancelled'")[1].split(":")[0]
    assert e.error_description is None and e.status_code == 0 and e.error is None
    assert e.trigger == "cancel" and e.state == m.CANCELLED


def test_cancel_does_not_raise_and_clears_secrets() -> None:
    """``cancel`` ends the flow quietly; the secrets of the context are cleared."""
    flow = flow_in(m.MFA_REQUIRED)
    flow.history = [HistoryEntry(5, "started", "mfa_required", "login_password", NOW, EMPTY)]
    result = flow.cancel(NOW + 1)
    assert result.state == m.CANCELLED and result.outcome == "cancelled"
    assert result.status_code is None and flow.context.mfa_token is None
    assert flow.history[0].context is None


def test_authenticated_drops_history_contexts() -> None:
    """Reaching ``authenticated`` forgets the contexts kept for rollback."""
    flow = _code_sent()
    step = flow.begin("verify_otp", PARAMS["verify_otp"], CONFIG, NOW)
    flow.apply_outcome(step, Answer("tokens", OUTCOME_DATA["tokens"], 200), NOW)
    assert flow.state == m.AUTHENTICATED
    assert [h.context for h in flow.history] == [None, None]
    assert flow.tokens is not None


# ---------------------------------------------------------------- expiry


def test_expire_pending_with_live_token_goes_back_to_mfa_required() -> None:
    """A pending factor whose token still lives goes back to ``mfa_required``."""
    flow = flow_in(m.CHALLENGE_PENDING, mfa_token_expires_at=NOW + 10)
    assert flow.expire(NOW + 9.9).state == m.MFA_REQUIRED
    flow = flow_in(m.CHALLENGE_PENDING, mfa_token_expires_at=NOW + 10)
    assert flow.expire(NOW + 10).state == m.EXPIRED
    flow = flow_in(m.CHALLENGE_PENDING, mfa_token_expires_at=None)
    assert flow.expire(NOW).state == m.EXPIRED
    flow = flow_in(m.MFA_REQUIRED, mfa_token_expires_at=NOW + 10)
    assert flow.expire(NOW).state == m.EXPIRED


def test_ensure_fresh_raises_expired_with_result() -> None:
    """Past a deadline ``begin`` moves the flow to ``expired`` and raises with the step."""
    flow = _code_sent()
    late = flow.expires_at + 1  # type: ignore[operator]
    with pytest.raises(FlowExpiredError) as info:
        flow.begin("resend_code", {}, CONFIG, late)
    exc = info.value
    assert str(exc).startswith(
        "the flow passed one of Auth0's deadlines (code or mfa_token expired)"
    )
    assert exc.status_code == 0 and exc.error == "expired" and exc.state == m.EXPIRED
    assert isinstance(exc.result, StepResult) and exc.result.state == m.EXPIRED
    assert exc.result.trigger == "expire" and flow.state == m.EXPIRED
    flow.ensure_fresh(late)  # final: nothing more


def test_ensure_fresh_code_expired_back_to_mfa_required() -> None:
    """A pending code past its lifetime with a live token raises ``MfaCodeExpiredError``."""
    flow = flow_in(m.CHALLENGE_PENDING, mfa_code_expires_at=NOW + 1)
    flow.expires_at = NOW + 1
    with pytest.raises(MfaCodeExpiredError) as info:
        flow.begin("confirm_oob", PARAMS["confirm_oob"], CONFIG, NOW + 2)
    exc = info.value
    assert exc.state == m.MFA_REQUIRED and exc.trigger == "confirm_oob"
    assert exc.guard == "mfa_code_alive"
    assert exc.reason == "the MFA code expired; the flow is back in mfa_required: challenge again"
    assert isinstance(exc.result, StepResult) and exc.result.state == m.MFA_REQUIRED
    flow = flow_in(m.CHALLENGE_PENDING, mfa_code_expires_at=NOW + 1)
    flow.expires_at = NOW + 1
    with pytest.raises(MfaCodeExpiredError) as info:
        flow.ensure_fresh(NOW + 2)
    assert info.value.trigger == "expire"


# ---------------------------------------------------------------- note_uncertain


def test_note_uncertain_records_doubt_and_audit() -> None:
    """The doubt is in the context and the audit trail; the state is kept and seq moves."""
    flow = _code_sent()
    flow.note_uncertain("resend_code", NOW + 4, {}, "t#c")
    assert flow.uncertain is not None and flow.uncertain.trigger == "resend_code"
    assert flow.uncertain.at == NOW + 4 and flow.state == m.CODE_SENT and flow.seq == 2
    assert flow.context.tenant == tenant_of(CONFIG)  # already bound: kept
    entry = list(flow.audit)[-1]
    assert (entry.event, entry.trigger, entry.taken_over, entry.at) == (
        "uncertain",
        "resend_code",
        False,
        NOW + 4,
    )
    assert entry.source == m.CODE_SENT or entry.get("state", m.CODE_SENT) == m.CODE_SENT
    flow.check_untouched()
    fresh = _started()
    fresh.note_uncertain("start_passwordless", NOW, None, "t#c", taken_over=True)
    assert fresh.context.tenant == "t#c"
    assert list(fresh.audit)[-1].taken_over is True
    assert fresh.context.send_unconfirmed is False or fresh.context.send_unconfirmed is True


# ---------------------------------------------------------------- rollback


def test_rollback_refusals() -> None:
    """Rollback is refused out of a final state, without history, or to an unknown state."""
    flow = _started()
    with pytest.raises(GuardRejectedError) as info:
        flow.rollback(NOW)
    assert info.value.guard == "has_history" and info.value.reason == "nothing to roll back"
    assert info.value.state == m.STARTED and info.value.trigger == "rollback"
    flow = _code_sent()
    with pytest.raises(InvalidInputError, match=r"^to: unknown state$"):
        flow.rollback(NOW, to="nowhere")
    with pytest.raises(GuardRejectedError) as info:
        flow.rollback(NOW, to=m.MFA_REQUIRED)
    assert info.value.guard == "state_in_history"
    assert info.value.reason == "'mfa_required' is not in this flow's past"
    flow.cancel(NOW)
    with pytest.raises(IllegalTransitionError) as illegal:
        flow.rollback(NOW)
    assert illegal.value.trigger == "rollback"


def test_rollback_restores_and_audits() -> None:
    """Rollback restores the state, writes the audit entry and returns what it could not undo."""
    flow = _code_sent()
    step = flow.begin("verify_otp", PARAMS["verify_otp"], CONFIG, NOW)
    flow.apply_outcome(step, Answer("mfa_required", OUTCOME_DATA["mfa_required"], 403), NOW)
    assert flow.path() == [m.STARTED, m.CODE_SENT, m.MFA_REQUIRED]
    flow.lend(lambda t, p: 1.0)
    result = flow.rollback(NOW + 5, to=m.STARTED)
    assert flow.state == m.STARTED and flow.history == [] and flow.seq == 3
    assert flow.updated_at == NOW + 5
    assert flow.expires_at == m.DEADLINES[m.STARTED](flow.context, NOW + 5, flow.created_at)
    not_undone = [
        {"trigger": t, "effect": m.TRIGGERS[t].remote_effect}
        for t in ("start_passwordless", "verify_otp")
        if not m.TRIGGERS[t].remote_undoable
    ]
    assert not_undone  # a code sent cannot be unsent
    assert result == StepResult(
        "fl_mut",
        "rollback",
        "rolled_back",
        m.MFA_REQUIRED,
        m.STARTED,
        3,
        data={"not_undone": not_undone},
    )
    assert flow.results == [result]
    entry = list(flow.audit)[-1]
    assert entry.event == "rollback" and entry.source == m.MFA_REQUIRED and entry.dest == m.STARTED
    assert entry.undone == tuple(u["trigger"] for u in not_undone)
    flow.check_untouched()


def test_rollback_one_step_and_latest_visit() -> None:
    """Without ``to`` only the last change is undone; with ``to`` the latest visit is the target."""
    flow = _code_sent()
    step = flow.begin("verify_otp", PARAMS["verify_otp"], CONFIG, NOW)
    flow.apply_outcome(step, Answer("mfa_required", OUTCOME_DATA["mfa_required"], 403), NOW)
    flow.rollback(NOW)
    assert flow.state == m.CODE_SENT and len(flow.history) == 1
    flow = flow_in(m.MFA_REQUIRED)
    for _ in range(2):
        step = flow.begin("challenge", {"factor": "sms"}, CONFIG, NOW)
        flow.apply_outcome(step, Answer("challenged", OUTCOME_DATA["challenged"], 200), NOW)
        if flow.seq < 8:
            step = flow.begin("expire", {}, CONFIG, NOW)
            flow.apply_outcome(step, Answer("code_expired", {}, None), NOW)
    assert len(flow.history) == 3
    flow.rollback(NOW, to=m.MFA_REQUIRED)
    assert flow.state == m.MFA_REQUIRED and len(flow.history) == 2


# ---------------------------------------------------------------- envelope


def test_envelope_round_trip() -> None:
    """``to_envelope`` writes every member; ``from_envelope`` rebuilds an equal flow."""
    flow = _code_sent()
    env = flow.to_envelope()
    assert list(env) == [
        "schema",
        "machine",
        "machine_hash",
        "flow_id",
        "seq",
        "state",
        "context",
        "history",
        "audit",
        "created_at",
        "updated_at",
        "expires_at",
    ]
    assert env["schema"] == 1 and env["machine"] == m.MACHINE_NAME
    assert env["machine_hash"] == m.MACHINE_HASH and env["flow_id"] == "fl_mut"
    assert env["seq"] == 1 and env["state"] == "code_sent"
    assert env["context"] == flow.context.to_json()
    assert env["history"] == [h.to_json() for h in flow.history]
    assert env["audit"] == flow.audit.to_stored()
    assert (env["created_at"], env["updated_at"], env["expires_at"]) == (
        flow.created_at,
        flow.updated_at,
        flow.expires_at,
    )
    back = Flow.from_envelope(env)
    assert back == flow and back.to_envelope() == env
    assert back.state is State.CODE_SENT
    back.check_untouched()
    no_audit = dict(env)
    del no_audit["audit"]
    assert list(Flow.from_envelope(no_audit).audit) == []


def _invariant(env_changes: dict[str, Any], message: str, base: Flow | None = None) -> None:
    env = (base or _code_sent()).to_envelope()
    env.update(env_changes)
    with pytest.raises(SnapshotInvariantError, match=f"^{re.escape(message)}$"):
        Flow.from_envelope(env)


def test_check_invariants_messages() -> None:
    """Each invariant a snapshot breaks is refused with its own message."""
    _invariant({"state": "nowhere"}, "the flow's state is not a state of the machine")
    for seq in (-1, True, 1.0, "1"):
        _invariant({"seq": seq}, "the flow's seq is not a non-negative integer")
    _invariant({"expires_at": None}, "a live flow has no expiry")
    ok = _code_sent().to_envelope()
    ok["seq"] = 0
    assert Flow.from_envelope(ok).seq == 0
    done = flow_in(m.CANCELLED)
    done.expires_at = None
    Flow.from_envelope(done.to_envelope())


def test_check_invariants_authenticated() -> None:
    """``authenticated`` needs tokens (or their delivery) and the factors that lead there."""
    message = "an authenticated flow lacks its tokens or the factors that lead there"
    tokens = OUTCOME_DATA["tokens"]["tokens"]
    good = {"tokens": tokens, "first_factor": "sms"}
    Flow("f", state=m.AUTHENTICATED, context=Context(**good), expires_at=None).check_invariants()
    Flow(
        "f",
        state=m.AUTHENTICATED,
        context=Context(tokens_delivered=True, first_factor="sms"),
    ).check_invariants()
    Flow(
        "f",
        state=m.AUTHENTICATED,
        context=Context(**good, mfa_requested=True, second_factor="otp"),
    ).check_invariants()
    for ctx in (
        {"first_factor": "sms"},
        {"tokens": tokens},
        {**good, "mfa_requested": True},
    ):
        with pytest.raises(SnapshotInvariantError, match=f"^{re.escape(message)}$"):
            Flow("f", state=m.AUTHENTICATED, context=Context(**ctx)).check_invariants()


def test_flow_defaults() -> None:
    """A flow built from data alone starts in ``started`` at seq 0 with no times."""
    flow = Flow("f")
    assert (flow.state, flow.seq, flow.context, flow.history) == (m.STARTED, 0, EMPTY, [])
    assert (flow.created_at, flow.updated_at, flow.expires_at) == (0.0, 0.0, None)
    flow.check_untouched()


def test_expire_without_token_expiry_at_time_zero() -> None:
    """A missing mfa_token expiry reads as 0: a pending flow expires even at time 0.5."""
    flow = flow_in(m.CHALLENGE_PENDING, mfa_token_expires_at=None)
    assert flow.expire(0.5).state == m.EXPIRED


def test_wait_slices_edges() -> None:
    """No delay means no wait; a rest of exactly 1e-9 s is dropped; the last slice is the rest."""
    assert Flow.wait_slices(0, None) == []
    assert Flow.wait_slices(1e-9, 3) == []
    assert Flow.wait_slices(2e-9, 3) == [2e-9]
    slices = Flow.wait_slices(4.1, 0.3)
    step = 0.3 / 3
    assert len(slices) == 41 and slices[:-1] == [step] * 40
    assert slices[-1] == 4.1 - step * 40


def test_next_steps_leave_out_refused_confirmations() -> None:
    """A confirmation Auth0 did not ask for is left out; the later triggers stay."""
    flow = flow_in(m.MFA_REQUIRED, mfa_requirements={"challenge": ["phone"]})
    assert flow.next_steps() == {
        "list_authenticators": (),
        "challenge": ("sms", "voice"),
        "cancel": (),
    }
    otp = flow_in(m.MFA_REQUIRED, mfa_requirements={"challenge": ["otp"]})
    assert otp.next_steps() == {
        "list_authenticators": (),
        "challenge": ("otp",),
        "confirm_otp": (),
        "cancel": (),
    }
    recovery = flow_in(m.MFA_REQUIRED, mfa_requirements={"challenge": ["recovery-code"]})
    assert recovery.next_steps() == {
        "list_authenticators": (),
        "confirm_recovery_code": (),
        "cancel": (),
    }
    enroll = flow_in(m.MFA_REQUIRED, mfa_requirements={"enroll": ["phone"]})
    assert enroll.next_steps() == {
        "list_authenticators": (),
        "enroll": ("sms", "voice"),
        "cancel": (),
    }


def test_expire_writes_its_time() -> None:
    """Both ways out of ``expire`` write ``now`` to the flow and its history."""
    flow = flow_in(m.CHALLENGE_PENDING, mfa_token_expires_at=NOW + 10)
    flow.expire(NOW + 2)
    assert flow.updated_at == NOW + 2 and flow.history[-1]["at"] == NOW + 2
    flow = flow_in(m.CODE_SENT)
    flow.expire(NOW + 3)
    assert flow.updated_at == NOW + 3 and flow.history[-1]["at"] == NOW + 3


def test_rollback_out_of_final_state_names_it() -> None:
    """Rollback out of a final state names that state in the error."""
    flow = flow_in(m.CANCELLED)
    with pytest.raises(
        IllegalTransitionError,
        match=_exact("trigger 'rollback' is not allowed in state 'cancelled'"),
    ) as info:
        flow.rollback(NOW)
    assert info.value.state == m.CANCELLED


def test_note_uncertain_taken_over_uses_the_takeover_rule() -> None:
    """A ``verify_otp`` found by a takeover counts as spent; one the driver saw fail does not."""
    seen = flow_in(m.CODE_SENT)
    seen.note_uncertain("verify_otp", NOW)
    assert seen.context.code_attempts == 0
    taken = flow_in(m.CODE_SENT)
    taken.note_uncertain("verify_otp", NOW, taken_over=True)
    assert taken.context.code_attempts == 3
    assert list(taken.audit)[-1].outcome == "taken_over"


def test_rollback_to_missing_state_names_flow_state() -> None:
    """A rollback target outside the history names the state and the rollback trigger."""
    flow = _code_sent()
    with pytest.raises(
        GuardRejectedError,
        match=_exact(
            "guard 'state_in_history' rejected trigger 'rollback' in state 'code_sent':"
            " 'mfa_required' is not in this flow's past"
        ),
    ) as info:
        flow.rollback(NOW, to=m.MFA_REQUIRED)
    assert info.value.state == m.CODE_SENT and info.value.trigger == "rollback"


def test_rollback_spends_a_verified_code_and_renews_the_deadline() -> None:
    """Rolling back over ``verify_otp`` keeps the code spent; the deadline counts from now."""
    flow = flow_in(m.CODE_SENT, code_sent_at=None)
    step = flow.begin("verify_otp", PARAMS["verify_otp"], CONFIG, NOW)
    flow.apply_outcome(step, Answer("mfa_required", OUTCOME_DATA["mfa_required"], 403), NOW)
    flow.rollback(NOW + 7)
    assert flow.state == m.CODE_SENT and flow.context.code_attempts == 3
    assert flow.expires_at == NOW + 7 + IDLE_FLOW_TTL


def test_history_entry_from_json_shares_names_and_keeps_others() -> None:
    """Loaded names become the machine's own strings; unknown names and non-strings are kept."""
    doc = {
        "seq": 1,
        "from": "".join(["star", "ted"]),
        "to": "".join(["code_", "sent"]),
        "trigger": "".join(["start_", "passwordless"]),
    }
    e = HistoryEntry.from_json(doc)
    assert e["from"] is m.STARTED and e["to"] is m.CODE_SENT
    assert e["trigger"] is Trigger.START_PASSWORDLESS.value
    odd = HistoryEntry.from_json({"from": ["a"], "to": ["b"], "trigger": ["c"]})
    assert (odd["from"], odd["to"], odd["trigger"]) == (["a"], ["b"], ["c"])
    unknown = HistoryEntry.from_json({"from": "x1", "to": "x2", "trigger": "x3"})
    assert (unknown["from"], unknown["to"], unknown["trigger"]) == ("x1", "x2", "x3")


def test_history_entry_key_error_names_the_key() -> None:
    """A missing member raises ``KeyError`` carrying the key asked for."""
    bare = HistoryEntry(None, "a", None, None, None)
    with pytest.raises(KeyError) as info:
        bare["seq"]
    assert info.value.args == ("seq",)
    with pytest.raises(KeyError) as info:
        bare["nope"]
    assert info.value.args == ("nope",)


@pytest.mark.parametrize(("status", "doubt"), [(299, True), (300, False), (301, False)])
def test_finish_doubt_rule_is_two_hundreds_only(
    status: int, doubt: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unreadable answer leaves doubt only for a 2xx status, never for a 3xx."""

    def unreadable(*args: object) -> object:
        raise MalformedResponseError("unreadable", status_code=status)

    monkeypatch.setattr("flowengine._flow.parse_response", unreadable)
    flow = _started()
    step = flow.begin("start_passwordless", START, CONFIG, NOW)
    with pytest.raises(MalformedResponseError):
        flow.finish(step, _response(status), CONFIG, NOW)
    assert (flow.uncertain is not None) is doubt


def test_apply_writes_auth0_request_id_to_the_audit() -> None:
    """The answer's ``x-auth0-requestid`` lands in the step's audit entry."""
    flow = _started()
    step = flow.begin("start_passwordless", START, CONFIG, NOW)
    headers = {"content-type": "application/json", "x-auth0-requestid": "rq-42"}
    flow.apply(step, HttpResponse(200, headers, b"{}"), CONFIG, NOW)
    assert list(flow.audit)[-1].request_id == "rq-42"


def test_apply_outcome_keeps_the_bound_tenant() -> None:
    """A flow bound to a tenant keeps it, whatever tenant a step claims."""
    flow = _code_sent()
    step = flow.begin("resend_code", {}, CONFIG, NOW)
    other = attrs.evolve(step, tenant="https://other#x")
    flow.apply_outcome(other, Answer("code_sent", {}, 200), NOW)
    assert flow.context.tenant == tenant_of(CONFIG)


def test_step_result_carries_the_answer_error() -> None:
    """An absorbed error answer gives its error code and status to the ``StepResult``."""
    flow = _code_sent()
    step = flow.begin("verify_otp", PARAMS["verify_otp"], CONFIG, NOW)
    answer = Answer("wrong_code", OUTCOME_DATA["wrong_code"], 403, "invalid_grant")
    result = flow.apply_outcome(step, answer, NOW)
    assert (result.outcome, result.status_code, result.error) == (
        "wrong_code",
        403,
        "invalid_grant",
    )


def test_stale_step_names_state_and_trigger() -> None:
    """A step prepared before the flow moved is refused naming the current state and its trigger."""
    flow = _started()
    step = flow.begin("start_passwordless", START, CONFIG, NOW)
    flow.apply_outcome(step, Answer("code_sent", {}, 200), NOW)
    with pytest.raises(
        IllegalTransitionError,
        match=_exact("trigger 'start_passwordless' is not allowed in state 'code_sent'"),
    ) as info:
        flow.apply_outcome(step, Answer("code_sent", {}, 200), NOW)
    assert info.value.state == m.CODE_SENT and info.value.trigger == "start_passwordless"
