"""The machine table: every row lands where it says, every other pair is refused."""

from __future__ import annotations

import itertools

import pytest

from flowengine import _machine as m
from flowengine._config import Auth0Config
from flowengine._errors import FlowEndedError, GuardRejectedError, IllegalTransitionError
from flowengine._flow import Flow, PreparedStep
from flowengine._wire import Answer as Outcome

from .flowstates import NOW, OUTCOME_DATA, PARAMS, context_for, factor_for, flow_in

CONFIG = Auth0Config("tenant.example.auth0.com", "app-id", "app-secret")

ROWS = [(e, kind, dest) for e in m.EDGES for kind, dest in e.outcomes.items()]
ILLEGAL = [(s, t) for s, t in itertools.product(m.STATES, m.TRIGGERS) if (t, s) not in m.EDGE_INDEX]


def _row_id(row: tuple[m.Edge, str, str]) -> str:
    edge, kind, dest = row
    return f"{edge.source}-{edge.trigger}-{kind}->{dest}"


def test_table_is_not_trivial() -> None:
    """The table has rows and refuses most (state, trigger) pairs."""
    assert len(ROWS) >= 70
    assert len(ILLEGAL) >= 80


@pytest.mark.parametrize("row", ROWS, ids=[_row_id(r) for r in ROWS])
def test_every_row_lands_where_the_table_says(row: tuple[m.Edge, str, str]) -> None:
    """Applying the row's outcome moves the flow to the row's destination and bumps seq."""
    edge, kind, dest = row
    flow = flow_in(edge.source, factor_for(edge), **context_for(edge))
    step = flow.prepare(edge.trigger, PARAMS[edge.trigger], CONFIG, NOW)
    seq = flow.seq
    try:
        result = flow.apply_outcome(step, Outcome(kind, OUTCOME_DATA[kind], 200), NOW)
    except FlowEndedError as exc:
        assert dest in m.FAILURE_STATES
        assert exc.state == dest
    else:
        assert result.state == dest
        assert result.outcome == kind
    assert flow.state == dest
    assert flow.seq == seq + 1


@pytest.mark.parametrize(("state", "trigger"), ILLEGAL)
def test_every_pair_outside_the_table_is_refused(state: str, trigger: str) -> None:
    """An illegal step raises IllegalTransitionError naming state and trigger, builds nothing."""
    flow = flow_in(state)
    before = flow.to_envelope()
    with pytest.raises(IllegalTransitionError) as info:
        flow.prepare(trigger, PARAMS[trigger], CONFIG, NOW)
    assert (info.value.state, info.value.trigger) == (state, trigger)
    assert flow.to_envelope() == before


GUARDED = [e for e in m.EDGES if e.guards]


@pytest.mark.parametrize(
    ("edge", "guard"),
    [(e, g) for e in GUARDED for g in e.guards],
    ids=[f"{e.source}-{e.trigger}-{g}" for e in GUARDED for g in e.guards],
)
def test_failing_guard_raises_guard_rejected(edge: m.Edge, guard: str) -> None:
    """When a guard says no, GuardRejectedError names it and the flow is unchanged."""
    breakers = {
        "no_unconfirmed_send": {"send_unconfirmed": True},
        "send_unconfirmed": {"send_unconfirmed": False},
        "code_attempts_left": {"code_attempts": 3},
        "has_mfa_credential": {"mfa_token": None},
        "has_mfa_token": {"mfa_token_kind": "access_token"},
        "binding_code_expected": {"binding_method": None},
        "otp_expected": {"factor": "sms"},
        "push_expected": {"factor": "sms"},
        "poll_due": {"next_poll_at": NOW + 5},
        "recovery_code_not_in_doubt": {"recovery_code_in_doubt": True},
    }
    flow = flow_in(edge.source, factor_for(edge), **context_for(edge))
    flow.context = flow.context.evolve(**breakers[guard])
    before = flow.to_envelope()
    with pytest.raises(GuardRejectedError) as info:
        flow.prepare(edge.trigger, PARAMS[edge.trigger], CONFIG, NOW)
    assert info.value.guard == guard
    assert flow.to_envelope() == before


def test_unknown_outcome_changes_nothing() -> None:
    """An outcome with no row raises and leaves the flow as it was."""
    flow = flow_in(m.CODE_SENT)
    step = flow.prepare("verify_otp", PARAMS["verify_otp"], CONFIG, NOW)
    before = flow.to_envelope()
    with pytest.raises(Exception, match="no row"):
        flow.apply_outcome(step, Outcome("pending"), NOW)
    assert flow.to_envelope() == before


def test_stale_prepared_step_is_refused() -> None:
    """A step prepared at another seq cannot be applied."""
    flow = flow_in(m.CODE_SENT)
    step = flow.prepare("resend_code", {}, CONFIG, NOW)
    flow.apply_outcome(step, Outcome("code_sent"), NOW)
    with pytest.raises(IllegalTransitionError):
        flow.apply_outcome(step, Outcome("code_sent"), NOW)


def test_machine_is_static_and_model_free() -> None:
    """One machine for all flows: no model is ever added to it."""
    flow = flow_in(m.CODE_SENT)
    flow.apply_outcome(flow.prepare("resend_code", {}, CONFIG, NOW), Outcome("code_sent"), NOW)
    assert m.MACHINE.models == []
    assert "to_authenticated" not in m.MACHINE.events


def test_no_row_enters_authenticated_without_a_factor() -> None:
    """Only triggers that verify a factor have a row into authenticated."""
    for edge in m.EDGES:
        if m.AUTHENTICATED in edge.outcomes.values():
            assert m.TRIGGERS[edge.trigger].factor is not None, edge


def test_final_states_have_no_rows_out() -> None:
    """Nothing leaves authenticated or a failure state."""
    assert not [e for e in m.EDGES if e.source in m.FINAL_STATES]


def test_definition_hash_changes_with_the_table() -> None:
    """Adding an edge changes the machine hash (snapshots of the old one are refused)."""
    extra = (*m.EDGES, m.Edge("cancel", m.AUTHENTICATED, {"cancelled": m.CANCELLED}))
    assert m.definition_hash(extra) != m.MACHINE_HASH


def test_prepared_step_repr_hides_secrets() -> None:
    """A prepared step's repr holds neither the code nor the request body."""
    flow = flow_in(m.CODE_SENT)
    step = flow.prepare("verify_otp", {**PARAMS["verify_otp"], "otp": "987654"}, CONFIG, NOW)
    assert isinstance(step, PreparedStep)
    assert "987654" not in repr(step)
    assert "app-secret" not in repr(step) and "app-secret" not in repr(CONFIG)


def test_new_flow_starts_in_started() -> None:
    """A new flow is in started at seq 0 with an idle deadline."""
    flow = Flow.new("fl_x", NOW)
    assert (flow.state, flow.seq) == (m.STARTED, 0)
    assert flow.expires_at is not None and flow.expires_at > NOW
