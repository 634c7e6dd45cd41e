"""Retries only where safe, bounded, with backoff that honours Auth0's hints.

With ``RetryPolicy(attempts=3, backoff=0.01, max_wait=30)`` and a fake-clock sleep that
records every wait: connect failures (nothing sent) are retried on any call; a POST that
may have reached Auth0 (read timeout, reset, 5xx, 429) is never sent twice, so a one-time
code is never replayed; reads (``GET /mfa/authenticators``) are retried after 503 and 429,
waiting what ``Retry-After`` and ``x-ratelimit-reset`` ask, unless that is too long.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flowengine import (
    FlowEngineError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from flowengine._flow import Flow
from flowengine.testing import Fault
from tests.property.harness import DRIVERS, PHONE, PHONE2, SOURCES, Rig, source
from tests.summary import record

POLICY = RetryPolicy(attempts=3, backoff=0.01, max_wait=30)
LIST = "/mfa/authenticators"
#: Steps that carry a one-time code (or a recovery code) in their POST body.
CODE_STEPS = ("verify_otp", "confirm_oob", "confirm_otp", "confirm_recovery_code")
SENT_FAULTS = ("read_timeout", "reset", "status_500", "status_502_html", "status_503", "status_429")


@pytest.fixture(params=DRIVERS)
def driver(request: pytest.FixtureRequest) -> str:
    """The driver kind."""
    return str(request.param)


@pytest.fixture
def rig(driver: str) -> Iterator[Rig]:
    """A tenant and a driver with the retry policy under test."""
    made = Rig(driver, retry=POLICY)
    yield made
    made.close()


def hits(rig: Rig, path: str, since: int) -> list[Any]:
    """The requests to ``path`` since index ``since``."""
    return [r for r in rig.emu.requests[since:] if r.path == path]


def run(rig: Rig, step: Callable[[Flow], Any], flow: Flow) -> FlowEngineError | None:
    """Take ``step``; return the library error it raised, if any."""
    try:
        step(flow)
    except FlowEngineError as exc:
        return exc
    return None


@pytest.mark.parametrize("kind", ["connect_refused", "connect_timeout"])
@pytest.mark.parametrize("trigger", list(SOURCES))
def test_connect_failures_are_retried(rig: Rig, trigger: str, kind: str) -> None:
    """Two connect failures, then success: three attempts, backoff 0.01 then 0.02 seconds."""
    flow, _user, step = source(rig, trigger)
    _, endpoint, grant = SOURCES[trigger]
    rig.emu.add_fault(Fault(endpoint, kind, times=2, grant_type=grant))  # type: ignore[arg-type]
    since, slept = len(rig.emu.requests), len(rig.sleeps)
    assert run(rig, step, flow) is None
    tried = hits(rig, endpoint, since)
    assert [r.fault for r in tried] == [kind, kind, None]
    assert rig.sleeps[slept:] == [0.01, 0.02]
    record("retries", cases=1, requests=len(tried), sleeps=2)


@pytest.mark.parametrize("trigger", ["start_passwordless", "verify_otp", "list_authenticators"])
def test_connect_retries_are_bounded(rig: Rig, trigger: str) -> None:
    """A connection that never comes up: three attempts, then a non-ambiguous TransportError."""
    flow, _user, step = source(rig, trigger)
    _, endpoint, grant = SOURCES[trigger]
    rig.emu.add_fault(Fault(endpoint, "connect_refused", times=None, grant_type=grant))
    since = len(rig.emu.requests)
    before = flow.to_envelope()
    error = run(rig, step, flow)
    assert isinstance(error, TransportError) and error.ambiguous is False
    assert len(hits(rig, endpoint, since)) == 3
    assert flow.to_envelope() == before
    record("retries", cases=1, requests=3, sleeps=2)


@pytest.mark.parametrize("kind", SENT_FAULTS)
@pytest.mark.parametrize("trigger", CODE_STEPS)
def test_a_code_is_never_replayed(rig: Rig, trigger: str, kind: str) -> None:
    """A POST carrying a code that may have reached Auth0 goes out once, whatever the fault."""
    flow, _user, step = source(rig, trigger)
    _, endpoint, grant = SOURCES[trigger]
    rig.emu.add_fault(Fault(endpoint, kind, times=None, grant_type=grant))  # type: ignore[arg-type]
    since, slept = len(rig.emu.requests), len(rig.sleeps)
    error = run(rig, step, flow)
    assert isinstance(error, TransportError | ServerError | RateLimitedError), repr(error)
    tried = [r for r in hits(rig, endpoint, since) if (r.body or {}).get("grant_type") == grant]
    replayed = len(tried) - 1
    record("retries", cases=1, requests=len(tried), codes_replayed=replayed)
    assert replayed == 0, f"{trigger} was sent {len(tried)} times after {kind}"
    assert rig.sleeps[slept:] == []


@pytest.mark.parametrize("kind", SENT_FAULTS)
def test_passwordless_start_is_never_resent(rig: Rig, kind: str) -> None:
    """start_passwordless that may have sent a code is not retried: one code at most."""
    flow, _user, step = source(rig, "start_passwordless")
    rig.emu.add_fault(Fault("/passwordless/start", kind, times=None))  # type: ignore[arg-type]
    since = len(rig.emu.requests)
    assert run(rig, step, flow) is not None
    assert len(hits(rig, "/passwordless/start", since)) == 1
    assert sum(1 for m in rig.emu.outbox if m.purpose == "passwordless") <= 1
    record("retries", cases=1, requests=1)


def _to_list(rig: Rig) -> tuple[Flow, Callable[[Flow], Any]]:
    """A flow in mfa_required for a user with authenticators, and the list step."""
    flow, _user, step = source(rig, "list_authenticators")
    return flow, step


def test_read_honours_retry_after(rig: Rig) -> None:
    """GET after two 503s with Retry-After: 7: waits 7 s twice, then lists."""
    flow, step = _to_list(rig)
    rig.emu.add_fault(Fault(LIST, "status_503", times=2, seconds=7))
    since, slept = len(rig.emu.requests), len(rig.sleeps)
    assert run(rig, step, flow) is None
    assert len(hits(rig, LIST, since)) == 3
    assert rig.sleeps[slept:] == [7.0, 7.0]
    record("retries", cases=1, requests=3, sleeps=2)


def test_read_honours_ratelimit_reset(rig: Rig) -> None:
    """GET after a 429 whose x-ratelimit-reset is 12 s away: waits until then, then lists."""
    flow, step = _to_list(rig)
    rig.emu.add_fault(Fault(LIST, "status_429", times=1, seconds=12))
    since, slept = len(rig.emu.requests), len(rig.sleeps)
    reset_at = rig.now + 12
    assert run(rig, step, flow) is None
    assert len(hits(rig, LIST, since)) == 2
    assert rig.sleeps[slept:] == [12.0]
    assert rig.now >= reset_at
    record("retries", cases=1, requests=2, sleeps=1)


def test_read_does_not_wait_past_max_wait(rig: Rig) -> None:
    """A 429 asking for 120 s (more than max_wait) is raised at once, with its reset time."""
    flow, step = _to_list(rig)
    rig.emu.add_fault(Fault(LIST, "status_429", times=None, seconds=120))
    since, slept = len(rig.emu.requests), len(rig.sleeps)
    at = rig.now
    error = run(rig, step, flow)
    assert isinstance(error, RateLimitedError) and error.reset_at == at + 120
    assert len(hits(rig, LIST, since)) == 1
    assert rig.sleeps[slept:] == []
    record("retries", cases=1, requests=1)


@pytest.mark.parametrize("kind", ["status_500", "status_503", "read_timeout", "reset"])
def test_read_retries_are_bounded(rig: Rig, kind: str) -> None:
    """A read that keeps failing is tried three times, then the typed error is raised."""
    flow, step = _to_list(rig)
    rig.emu.add_fault(Fault(LIST, kind, times=None, seconds=1))  # type: ignore[arg-type]
    since = len(rig.emu.requests)
    before = flow.to_envelope()
    error = run(rig, step, flow)
    assert isinstance(error, ServerError | TransportError)
    if isinstance(error, TransportError):
        assert error.ambiguous is False  # a GET changes nothing at Auth0
    assert len(hits(rig, LIST, since)) == 3
    assert flow.to_envelope() == before
    record("retries", cases=1, requests=3, sleeps=2)


def test_backoff_grows_and_is_capped() -> None:
    """The policy's waits double from ``backoff``, honour a hint, and never pass max_wait."""
    assert [POLICY.delay(n, None) for n in (1, 2, 3)] == [0.01, 0.02, 0.04]
    assert POLICY.delay(1, 7.0) == 7.0
    assert POLICY.delay(1, 400.0) == 30.0
    assert RetryPolicy(attempts=9, backoff=10, max_wait=30).delay(8, None) == 30.0


def test_enroll_is_not_replayed_after_a_lost_answer(rig: Rig) -> None:
    """A lost answer to enroll (sms) is not retried: one association, one SMS."""
    flow, _user, _step = source(rig, "enroll")
    rig.emu.add_fault(Fault("/mfa/associate", "read_timeout", times=None))
    error = run(rig, lambda f: rig.call("enroll", f, "sms", phone_number=PHONE2), flow)
    assert isinstance(error, TransportError) and error.ambiguous
    assert len([m for m in rig.emu.outbox if m.purpose == "mfa"]) == 1
    assert len([a for a in rig.emu.authenticators_of(PHONE) if a.type == "sms"]) == 1
    record("retries", cases=1, requests=1)
