"""Exhaustive negative paths: every state, reached by its shortest legal path, refuses every
trigger the reference table has no row for, through both drivers; nothing changes, nothing
is sent. Also: the reference table and the production table agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flowengine import FlowEndedError, IllegalTransitionError
from flowengine import _machine as production
from flowengine._flow import Flow
from flowengine.testing import PushScript
from tests.summary import record

from .harness import DRIVERS, EMAIL, PASSWORD, PHONE, PHONE2, Rig
from .reference import (
    ALL_STATES,
    ALL_TRIGGERS,
    FINAL,
    LEGAL,
    LIVE,
    SHORTEST_PATHS,
    STARTED,
    TABLE,
    is_legal,
)

#: Valid arguments for every trigger, so that the only thing wrong is the order.
ARGS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "start_passwordless": ((), {"connection": "sms", "phone_number": PHONE}),
    "resend_code": ((), {}),
    "verify_otp": (("123456",), {}),
    "login_password": ((), {"username": EMAIL, "password": PASSWORD}),
    "list_authenticators": ((), {}),
    "enroll": (("sms",), {"phone_number": PHONE2}),
    "challenge": ((), {}),
    "confirm_oob": (("123456",), {}),
    "confirm_otp": (("123456",), {}),
    "confirm_recovery_code": (("ABCDEFGHJKLMNPQRSTUVWXYZ",), {}),
    "poll_push": ((), {"wait": False}),
    "cancel": ((), {}),
}


def test_reference_table_agrees_with_the_production_table() -> None:
    """The hand-written rows are exactly the production (state, trigger) pairs, and every
    destination the reference expects is one the production row can reach."""
    prod_pairs = {(e.source, e.trigger) for e in production.EDGES}
    assert prod_pairs == set(LEGAL)
    for (state, trigger, _situation), (dest, _outcome) in TABLE.items():
        edge = production.EDGE_INDEX[(trigger, state)]
        assert dest in edge.outcomes.values(), (state, trigger, dest)
    assert set(production.STATES) == set(ALL_STATES)
    assert set(production.TRIGGERS) == set(ALL_TRIGGERS)


def reach(rig: Rig, state: str) -> Flow:
    """Walk the shortest legal path into ``state`` (``reference.SHORTEST_PATHS``)."""
    setup, steps = SHORTEST_PATHS[state]
    profile = {"push-reject": "push", "blocked": "new"}.get(setup, setup)
    rig.seed_users(profile)
    if setup == "push-reject":
        rig.emu.push_script = PushScript(pending=0, outcome="reject")
    if setup == "blocked":
        scratch = rig.new_flow("fl_scratch")
        for _ in range(9):
            rig.call("login_password", scratch, username=EMAIL, password="wrong")
        with pytest.raises(FlowEndedError):
            rig.call("login_password", scratch, username=EMAIL, password="wrong")
    flow = rig.new_flow("fl_negative")
    for trigger in steps:
        try:
            _take(rig, flow, trigger)
        except FlowEndedError:
            assert trigger == steps[-1] and flow.state in FINAL
    assert flow.state == state
    assert len(flow.history) == len(steps)
    return flow


def _take(rig: Rig, flow: Flow, trigger: str) -> None:
    """Take one step of a shortest path with the input that makes it succeed."""
    emu = rig.emu
    if trigger == "start_passwordless":
        rig.call(trigger, flow, connection="sms", phone_number=PHONE)
    elif trigger == "verify_otp":
        rig.call(trigger, flow, emu.last_code(PHONE, purpose="passwordless"))
    elif trigger == "enroll":
        rig.call(trigger, flow, "sms", phone_number=PHONE2)
    elif trigger == "confirm_otp":
        secret = rig.totp_secret(PHONE)
        assert secret
        rig.call(trigger, flow, emu.totp_code(secret))
    elif trigger == "poll_push":
        rig.call(trigger, flow, wait=True)
    elif trigger == "login_password":
        rig.call(trigger, flow, username=EMAIL, password=PASSWORD)
    elif trigger == "expire":
        flow.expire(rig.now)
    else:
        rig.call(trigger, flow)


def attempt(rig: Rig, flow: Flow, trigger: str) -> None:
    """Fire ``trigger`` (or a rollback) with valid arguments; it must be refused untouched."""
    before = flow.to_envelope()
    sent = len(rig.emu.requests)
    with pytest.raises(IllegalTransitionError) as info:
        if trigger == "expire":
            flow.expire(rig.now)
        elif trigger == "rollback":
            rig.call("rollback", flow)
        elif trigger == "poll_push_waiting":
            rig.call("poll_push", flow, wait=True)
        else:
            args, kwargs = ARGS[trigger]
            rig.call(trigger, flow, *args, **kwargs)
    assert (info.value.state, info.value.trigger) == (before["state"], trigger.split("_waiting")[0])
    assert flow.to_envelope() == before
    assert len(rig.emu.requests) == sent


def illegal_triggers(state: str) -> list[str]:
    """Every trigger the reference table refuses in ``state`` (and rollback, if final)."""
    found = [t for t in ALL_TRIGGERS if not is_legal(state, t)]
    return [*found, "rollback"] if state in FINAL else found


CASES = [(d, s, t) for d in DRIVERS for s in ALL_STATES for t in illegal_triggers(s)]


@pytest.fixture(params=DRIVERS)
def driver(request: pytest.FixtureRequest) -> str:
    """The driver kind."""
    return str(request.param)


@pytest.fixture
def rig(driver: str) -> Iterator[Rig]:
    """A fresh tenant and a driver of that kind."""
    made = Rig(driver)
    yield made
    made.close()


@pytest.mark.parametrize(
    ("state", "trigger"),
    [(s, t) for s in ALL_STATES for t in illegal_triggers(s)],
    ids=[f"{s}-{t}" for s in ALL_STATES for t in illegal_triggers(s)],
)
def test_every_illegal_trigger_is_refused(rig: Rig, state: str, trigger: str) -> None:
    """In ``state``, reached by its shortest path, ``trigger`` raises IllegalTransitionError."""
    flow = reach(rig, state)
    record("negative_paths", illegal_attempted=1)
    attempt(rig, flow, trigger)
    record("negative_paths", illegal_rejected=1)


def test_every_state_is_covered() -> None:
    """Each of the ten states has a shortest path and at least one illegal trigger."""
    assert set(SHORTEST_PATHS) == set(ALL_STATES)
    record("negative_paths", states=len(ALL_STATES))
    assert all(illegal_triggers(s) for s in ALL_STATES)
    assert len(CASES) == 2 * sum(len(illegal_triggers(s)) for s in ALL_STATES)


STALE_STATES = [s for s in LIVE if s != STARTED]


@pytest.mark.parametrize("state", STALE_STATES)
def test_illegal_step_on_a_flow_past_its_deadline_changes_nothing(driver: str, state: str) -> None:
    """Past Auth0's deadline an out-of-order step is still just refused (IllegalTransitionError).

    (It used to expire the flow and raise FlowExpiredError: the driver checked the
    deadline before the row.)
    """
    refused: list[str] = []
    for trigger in illegal_triggers(state):
        if trigger == "expire":
            continue  # the core trigger: no driver deadline check involved
        record("negative_paths", illegal_attempted=1)
        rig = Rig(driver)
        try:
            flow = reach(rig, state)
            rig.clock.advance(601)  # past every deadline: code 180 s, MFA code 300 s, token 600 s
            try:
                attempt(rig, flow, trigger)
            except BaseException as exc:  # collect every trigger before failing
                refused.append(f"{trigger}: {type(exc).__name__}: {exc}")
            else:
                record("negative_paths", illegal_rejected=1)
        finally:
            rig.close()
    assert not refused, "illegal steps past the deadline were not simply refused:\n" + "\n".join(
        refused
    )


@pytest.mark.parametrize("driver_kind", DRIVERS)
def test_illegal_poll_does_not_wait_first(driver_kind: str) -> None:
    """poll_push on a flow that is no longer pending is refused at once, without waiting.

    Fails today: ``poll_push(wait=True)`` sleeps out the poll interval still in the
    cancelled flow's context before ``_run`` refuses the step.
    """
    rig = Rig(driver_kind)
    try:
        rig.seed_users("new")
        flow = rig.to_mfa()
        rig.call("enroll", flow, "push")
        rig.call("cancel", flow)
        record("negative_paths", illegal_attempted=1)
        slept, at = len(rig.sleeps), rig.now
        attempt(rig, flow, "poll_push_waiting")
        assert rig.sleeps[slept:] == [] and rig.now == at, "the illegal poll waited first"
        record("negative_paths", illegal_rejected=1)
    finally:
        rig.close()
