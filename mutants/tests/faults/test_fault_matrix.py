"""Every Auth0 call times every fault, through both drivers: the flow survives.

For each trigger that calls Auth0 and each injected fault, the step either raises a typed
error (TransportError, ServerError, RateLimitedError, MalformedResponseError) and leaves
the flow as it was (an ambiguous failure adds only the ``uncertain`` marker), or, for the
few answers that are valid after all (listed in ``ABSORBED``), moves it legally. Either
way the flow then survives a snapshot round trip and, once the fault has cleared, the
same flow completes the login.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from flowengine import (
    FlowEngineError,
    MalformedResponseError,
    RateLimitedError,
    RemoteError,
    ServerError,
    TransportError,
)
from flowengine._repository import dump_flow, load_flow
from flowengine.testing import Fault
from tests.leaks.scanner import Scanner
from tests.property.harness import DRIVERS, KEYRING, SOURCES, Rig, source
from tests.summary import record

#: The faults of the issue, and ``wrong_content_type`` besides.
FAULTS = (
    "connect_refused",
    "connect_timeout",
    "read_timeout",
    "reset",
    "status_500",
    "status_502_html",
    "status_503",
    "status_429",
    "empty_200",
    "non_json_200",
    "truncated_json",
    "json_array",
    "missing_field",
    "wrong_content_type",
)
EXPECTED_ERROR: dict[str, type[FlowEngineError]] = {
    "connect_refused": TransportError,
    "connect_timeout": TransportError,
    "read_timeout": TransportError,
    "reset": TransportError,
    "status_500": ServerError,
    "status_502_html": ServerError,
    "status_503": ServerError,
    "status_429": RateLimitedError,
    "empty_200": MalformedResponseError,
    "non_json_200": MalformedResponseError,
    "truncated_json": MalformedResponseError,
    "json_array": MalformedResponseError,
    "missing_field": MalformedResponseError,
    "wrong_content_type": MalformedResponseError,
}
#: Answers that are valid despite the fault, and the state they lead to.
ABSORBED: dict[tuple[str, str], str] = {
    # /passwordless/start's body is not used: an empty 2xx (what SDK mocks send) or one
    # without ``_id`` still means "code sent".
    ("start_passwordless", "empty_200"): "code_sent",
    ("start_passwordless", "missing_field"): "code_sent",
    ("resend_code", "empty_200"): "code_sent",
    ("resend_code", "missing_field"): "code_sent",
    # The 403 mfa_required error body is read whatever content type it claims.
    ("verify_otp", "wrong_content_type"): "mfa_required",
    ("login_password", "wrong_content_type"): "mfa_required",
    # The authenticator list is an array: ``[]`` is a valid (empty) answer.
    ("list_authenticators", "json_array"): "mfa_required",
}
AMBIGUOUS = ("read_timeout", "reset")
# The doubt is recorded with the tenant it concerns (the flow is bound to it from then on).
MARKERS = ("uncertain", "send_unconfirmed", "tenant")
SENT_TO = ("connection", "phone_number", "email")


def _core(env: dict[str, Any]) -> dict[str, Any]:
    """The envelope without the uncertainty markers, seq and the audit trail.

    An unconfirmed passwordless start may also keep where it was sent (so that the
    explicit resend can go to the same address).
    """
    drop = (*MARKERS, *SENT_TO) if env["context"].get("send_unconfirmed") else MARKERS
    ctx = {k: v for k, v in env["context"].items() if k not in drop}
    return {**env, "context": ctx, "seq": None, "audit": None, "updated_at": None}


@pytest.fixture(params=DRIVERS)
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    """A fresh tenant and a driver of each kind."""
    made = Rig(str(request.param))
    yield made
    made.close()


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("trigger", list(SOURCES))
def test_fault_leaves_the_flow_intact(rig: Rig, trigger: str, fault: str) -> None:
    """The step fails typed (or is absorbed legally), the flow is intact, and completes later."""
    with capture_logs() as logs:
        error = _run_case(rig, trigger, fault)
    scanner = Scanner()
    for event in logs:
        scanner.add("log event", repr(event))
    if error is not None:
        scanner.add_error(error)
    found = scanner.scan(rig.emu.issued_secrets())
    assert not found, f"secret values appeared in: {found}"


def _run_case(rig: Rig, trigger: str, fault: str) -> FlowEngineError | None:
    """Inject ``fault`` into ``trigger``'s call, check the flow, finish it; return the error."""
    flow, user, step = source(rig, trigger)
    record("faults", injected=1)
    _profile, endpoint, grant = SOURCES[trigger]
    rig.emu.add_fault(Fault(endpoint, fault, times=1, grant_type=grant))  # type: ignore[arg-type]
    before = flow.to_envelope()
    sent = len(rig.emu.requests)
    at = rig.now
    try:
        result = step(flow)
    except FlowEngineError as exc:
        error: FlowEngineError | None = exc
        result = None
    else:
        error = None
    assert len(rig.emu.requests) == sent + 1, "exactly one request, no retry by default"
    if (trigger, fault) in ABSORBED:
        assert error is None, f"{trigger}/{fault}: expected a valid answer, got {error!r}"
        assert result is not None and flow.state == ABSORBED[(trigger, fault)]
        assert flow.seq == before["seq"] + 1
        record("faults", absorbed=1)
    else:
        expected = EXPECTED_ERROR[fault]
        assert type(error) is expected, f"{trigger}/{fault}: expected {expected}, got {error!r}"
        _check_error(error, trigger, fault, at, before["state"])
        posted = trigger != "list_authenticators"
        ambiguous = fault in AMBIGUOUS and posted
        # Auth0 acted on a POST it answered 2xx, even if we cannot read the answer: a
        # marker is allowed there (not required); after a lost answer it is required.
        # A 500/502/504 may hide a processed request too (a gateway timed out).
        processed = posted and (
            (isinstance(error, MalformedResponseError) and 200 <= error.status_code < 300)
            or (isinstance(error, ServerError) and error.status_code in (500, 502, 504))
        )
        assert _core(flow.to_envelope()) == _core(before), "only markers may change"
        if ambiguous or (processed and "uncertain" in flow.context):
            assert flow.context["uncertain"]["trigger"] == trigger
            assert flow.audit[-1]["event"] == "uncertain"
            assert flow.seq == before["seq"] + 1
            if trigger == "start_passwordless":
                assert flow.context["send_unconfirmed"] is True
            record("faults", marked_uncertain=1)
        else:
            assert flow.to_envelope() == before, "nothing at all may change"
        record("faults", typed_errors=1)
    # resumable: a sealed snapshot of the flow loads back equal, and the copy goes on
    resumed = load_flow(dump_flow(flow, KEYRING), KEYRING, now=rig.now)
    assert resumed.to_envelope() == flow.to_envelope()
    # the fault has cleared (it spoils one request): the same flow completes
    rig.finish(resumed, user)
    assert resumed.state == "authenticated" and resumed.tokens
    record("faults", completed=1, intact=1)
    return error


def _check_error(
    error: FlowEngineError | None, trigger: str, fault: str, at: float, state: str
) -> None:
    """The typed error says what failed, in which state, and when to retry."""
    if isinstance(error, TransportError):
        assert error.trigger == trigger
        posted = trigger != "list_authenticators"
        assert error.ambiguous is (fault in AMBIGUOUS and posted)
    elif isinstance(error, RemoteError):
        assert (error.trigger, error.state) == (trigger, state)
        if fault == "status_503":
            assert isinstance(error, ServerError) and error.retry_after == 3.0
        if fault == "status_429":
            assert isinstance(error, RateLimitedError)
            assert error.reset_at == math.ceil(at + 60)


def test_the_matrix_is_complete() -> None:
    """Eleven Auth0 calls times fourteen faults, every absorbed pair a real one."""
    assert len(SOURCES) == 11
    assert set(ABSORBED) <= {(t, f) for t in SOURCES for f in FAULTS}
    assert set(EXPECTED_ERROR) == set(FAULTS)
