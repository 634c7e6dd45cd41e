"""Tests of every fault kind through the sync and the async in-process transports."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from flowengine.testing import Auth0Emulator, FakeClock, Fault

from .conftest import PHONE, Api

START = {
    "client_id": "app-id",
    "client_secret": "app-secret",
    "connection": "sms",
    "phone_number": PHONE,
}
TIMEOUT = httpx.Timeout(10.0)


def _send(emu: Auth0Emulator, mode: str, timeout: httpx.Timeout = TIMEOUT) -> httpx.Response:
    """POST /passwordless/start through the sync or the async transport."""
    if mode == "sync":
        with httpx.Client(
            base_url=emu.base_url, transport=emu.transport(), timeout=timeout
        ) as client:
            return client.post("/passwordless/start", json=START)

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(
            base_url=emu.base_url, transport=emu.async_transport(), timeout=timeout
        ) as client:
            return await client.post("/passwordless/start", json=START)

    return asyncio.run(run())


def _not_json(resp: httpx.Response) -> bool:
    try:
        json.loads(resp.content)
    except ValueError:
        return True
    return False


# kind -> (check of the response, whether the tenant processed the request)
RESPONSE_FAULTS: dict[str, tuple[Callable[[httpx.Response, float], bool], bool]] = {
    "status_500": (lambda r, now: r.status_code == 500, False),
    "status_502_html": (
        lambda r, now: r.status_code == 502 and r.headers["content-type"] == "text/html",
        False,
    ),
    "status_503": (
        lambda r, now: r.status_code == 503 and r.headers["retry-after"] == "3",
        False,
    ),
    "status_429": (
        lambda r, now: (
            r.status_code == 429
            and r.json()["error"] == "too_many_requests"
            and int(r.headers["x-ratelimit-reset"]) == int(now) + 60
        ),
        False,
    ),
    "empty_200": (lambda r, now: r.status_code == 200 and r.content == b"", True),
    "non_json_200": (
        lambda r, now: (
            r.status_code == 200
            and r.headers["content-type"].startswith("application/json")
            and _not_json(r)
        ),
        True,
    ),
    "truncated_json": (
        lambda r, now: r.status_code == 200 and _not_json(r) and r.content.startswith(b'{"_id"'),
        True,
    ),
    "json_array": (lambda r, now: r.status_code == 200 and r.json() == [], True),
    "missing_field": (
        lambda r, now: r.status_code == 200 and set(r.json()) == {"phone_number", "phone_verified"},
        True,
    ),
    "wrong_content_type": (
        lambda r, now: (
            r.status_code == 200
            and r.headers["content-type"].startswith("text/plain")
            and "_id" in r.json()
        ),
        True,
    ),
}


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("kind", sorted(RESPONSE_FAULTS))
def test_response_faults(emu: Auth0Emulator, clock: FakeClock, kind: str, mode: str) -> None:
    """Each response-spoiling fault answers as documented and changes state only if processed."""
    check, processed = RESPONSE_FAULTS[kind]
    emu.add_fault(Fault(endpoint="/passwordless/start", kind=kind))  # type: ignore[arg-type]
    resp = _send(emu, mode)
    assert check(resp, clock.time()), (resp.status_code, resp.headers, resp.content)
    assert (len(emu.outbox) == 1) is processed
    # times=1: the next request is normal again
    assert _send(emu, mode).json()["phone_number"] == PHONE


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    ("kind", "exc", "processed"),
    [
        ("connect_refused", httpx.ConnectError, False),
        ("connect_timeout", httpx.ConnectTimeout, False),
        ("read_timeout", httpx.ReadTimeout, True),
        ("reset", httpx.RemoteProtocolError, True),
    ],
)
def test_wire_faults(
    emu: Auth0Emulator, kind: str, exc: type[Exception], processed: bool, mode: str
) -> None:
    """Wire faults raise the matching httpx exception; only some reached the tenant."""
    emu.add_fault(Fault(endpoint="/passwordless/start", kind=kind))  # type: ignore[arg-type]
    with pytest.raises(exc):
        _send(emu, mode)
    assert (len(emu.outbox) == 1) is processed
    record = emu.requests[-1]
    assert record.fault == kind and record.status is None


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_timeouts_use_the_injected_clock(emu: Auth0Emulator, clock: FakeClock, mode: str) -> None:
    """A read timeout waits the request's read timeout on the fake clock, not real time."""
    emu.add_fault(Fault(endpoint="/passwordless/start", kind="read_timeout"))
    before = clock.time()
    with pytest.raises(httpx.ReadTimeout):
        _send(emu, mode, timeout=httpx.Timeout(7.0))
    assert clock.time() - before == pytest.approx(7.0)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_delay(emu: Auth0Emulator, clock: FakeClock, mode: str) -> None:
    """A delay fault answers after Fault.seconds on the fake clock, or times out past it."""
    emu.add_fault(Fault(endpoint="/passwordless/start", kind="delay", seconds=4.0))
    before = clock.time()
    assert _send(emu, mode).status_code == 200
    assert clock.time() - before == pytest.approx(4.0)
    emu.add_fault(Fault(endpoint="/passwordless/start", kind="delay", seconds=30.0))
    with pytest.raises(httpx.ReadTimeout):
        _send(emu, mode, timeout=httpx.Timeout(5.0))
    assert len(emu.outbox) == 2  # both delayed requests were processed


def test_fault_matching_and_times(emu: Auth0Emulator, api: Api) -> None:
    """Faults match by grant_type and method, count down 'times', and None means forever."""
    emu.add_fault(
        Fault(endpoint="/oauth/token", kind="status_500", grant_type="refresh_token", times=2)
    )
    api.start_sms()
    assert api.verify_otp().status_code == 403  # another grant: untouched
    for _ in range(2):
        assert api.token(grant_type="refresh_token", refresh_token="x").status_code == 500
    assert api.token(grant_type="refresh_token", refresh_token="x").status_code == 403
    emu.add_fault(Fault(endpoint="/mfa", kind="status_503", times=None, method="GET"))
    for _ in range(3):
        assert api.list("x").status_code == 503
    assert api.challenge("x").status_code != 503
    emu.clear_faults()
    assert api.list("x").status_code == 401


def test_missing_field_on_token_errors(emu: Auth0Emulator, api: Api) -> None:
    """missing_field drops mfa_token from mfa_required (status kept), and a named field."""
    emu.add_fault(Fault(endpoint="/oauth/token", kind="missing_field"))
    api.start_sms()
    resp = api.verify_otp()
    assert resp.status_code == 403
    assert resp.json()["error"] == "mfa_required" and "mfa_token" not in resp.json()
    emu.add_fault(
        Fault(endpoint="/passwordless/start", kind="missing_field", drop_field="phone_number")
    )
    assert set(api.start_sms().json()) == {"_id", "phone_verified"}


def test_fault_validation() -> None:
    """Fault rejects unknown kinds and times < 1, and says whether it is processed."""
    with pytest.raises(ValueError):
        Fault(endpoint="/", kind="explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Fault(endpoint="/", kind="reset", times=0)
    assert Fault(endpoint="/", kind="reset").processed
    assert not Fault(endpoint="/", kind="connect_refused").processed


def test_reset_streaming_delivers_status_first(emu: Auth0Emulator) -> None:
    """With a reset the status arrives, then reading the body fails mid-way."""
    emu.add_fault(Fault(endpoint="/passwordless/start", kind="reset"))
    with (
        httpx.Client(base_url=emu.base_url, transport=emu.transport()) as client,
        client.stream("POST", "/passwordless/start", json=START) as resp,
    ):
        assert resp.status_code == 200
        got: list[Any] = []
        with pytest.raises(httpx.RemoteProtocolError):
            for chunk in resp.iter_bytes():
                got.append(chunk)
        assert got and len(b"".join(got)) < int(resp.headers["content-length"])
