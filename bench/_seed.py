"""The seed (start, verify, enroll SMS, confirm) through each driver against raw httpx.

Both contenders get a fresh, identically seeded emulator and a fresh HTTP client per
iteration, built outside the clock; the timed region is the four requests plus the two
code look-ups in the emulator's outbox. The hand-written client sends the same bodies
and headers (checked byte for byte before timing) and parses the way a hand-written
client would: a status check and ``json.loads``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from bench._common import (
    ACCEPT_HEADERS,
    BASE_URL,
    JSON_HEADERS,
    JWKS_URL,
    PHONE,
    RawSeedError,
    expect,
    make_config,
    make_emulator,
    raw_bodies,
    raw_confirm_body,
    raw_enroll_body,
    raw_verify_id_token,
)
from bench._harness import (
    Report,
    Row,
    configure_logging,
    cpu_now,
    fmt_delta,
    fmt_time,
    interleave,
    median,
    unconfigure_logging,
)
from flowengine import AsyncFlowClient, FlowClient
from flowengine.testing import Auth0Emulator, FakeClock

SEED_TARGET = 1.15
SEED_JSON_TARGET = 1.30

# ----------------------------------------------------------------------------- sync


_CONFIG = make_config()


def lib_seed_sync(
    emu: Auth0Emulator, http: httpx.Client, clock: Callable[[], float] = time.time
) -> str:
    """The seed through ``FlowClient`` (a thin client around the shared ``http``).

    ``clock`` is the emulator's: the id_token the library verifies is issued at its time.
    """
    client = FlowClient(_CONFIG, http=http, clock=clock)
    flow = client.new_flow()
    client.start_passwordless(flow, connection="sms", phone_number=PHONE)
    client.verify_otp(flow, emu.last_code(PHONE))
    client.enroll(flow, "sms", phone_number=PHONE)
    result = client.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa"))
    return result.state


def raw_seed_sync(
    emu: Auth0Emulator,
    http: httpx.Client,
    clock: Callable[[], float] = time.time,
    *,
    verify: bool = True,
) -> str:
    """The same four requests written by hand with ``httpx.Client``; with ``verify``, the
    id_token checked as the library checks it (the JWKS fetched once per client)."""
    start, verify = raw_bodies(PHONE)
    r = http.request("POST", BASE_URL + "/passwordless/start", headers=JSON_HEADERS, content=start)
    expect(r.status_code, 200, "start")
    json.loads(r.content)
    code = emu.last_code(PHONE)
    r = http.request("POST", BASE_URL + "/oauth/token", headers=JSON_HEADERS, content=verify(code))
    expect(r.status_code, 403, "verify")
    doc = json.loads(r.content)
    if doc.get("error") != "mfa_required":
        raise RawSeedError("verify: no mfa_required")
    mfa_token = doc["mfa_token"]
    r = http.request(
        "POST",
        BASE_URL + "/mfa/associate",
        headers={**JSON_HEADERS, "authorization": f"Bearer {mfa_token}"},
        content=raw_enroll_body(PHONE),
    )
    expect(r.status_code, 200, "enroll")
    oob_code = json.loads(r.content)["oob_code"]
    binding = emu.last_code(PHONE, purpose="mfa")
    r = http.request(
        "POST",
        BASE_URL + "/oauth/token",
        headers=JSON_HEADERS,
        content=raw_confirm_body(mfa_token, oob_code, binding),
    )
    expect(r.status_code, 200, "confirm")
    tokens = json.loads(r.content)
    if verify:
        jwks = http.request("GET", JWKS_URL, headers=ACCEPT_HEADERS)
        expect(jwks.status_code, 200, "jwks")
        raw_verify_id_token(tokens, jwks.content, clock())
    return "authenticated" if tokens.get("access_token") else "failed"


# ---------------------------------------------------------------------------- async


async def lib_seed_async(
    emu: Auth0Emulator, http: httpx.AsyncClient, clock: Callable[[], float] = time.time
) -> str:
    """The seed through ``AsyncFlowClient`` (``clock``: the emulator's, as above)."""
    client = AsyncFlowClient(_CONFIG, http=http, clock=clock)
    flow = client.new_flow()
    await client.start_passwordless(flow, connection="sms", phone_number=PHONE)
    await client.verify_otp(flow, emu.last_code(PHONE))
    await client.enroll(flow, "sms", phone_number=PHONE)
    result = await client.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa"))
    return result.state


async def raw_seed_async(
    emu: Auth0Emulator,
    http: httpx.AsyncClient,
    clock: Callable[[], float] = time.time,
    *,
    verify: bool = True,
) -> str:
    """The same four requests written by hand with ``httpx.AsyncClient`` (``verify``: as
    the sync one)."""
    start, verify = raw_bodies(PHONE)
    r = await http.request(
        "POST", BASE_URL + "/passwordless/start", headers=JSON_HEADERS, content=start
    )
    expect(r.status_code, 200, "start")
    json.loads(r.content)
    code = emu.last_code(PHONE)
    r = await http.request(
        "POST", BASE_URL + "/oauth/token", headers=JSON_HEADERS, content=verify(code)
    )
    expect(r.status_code, 403, "verify")
    doc = json.loads(r.content)
    if doc.get("error") != "mfa_required":
        raise RawSeedError("verify: no mfa_required")
    mfa_token = doc["mfa_token"]
    r = await http.request(
        "POST",
        BASE_URL + "/mfa/associate",
        headers={**JSON_HEADERS, "authorization": f"Bearer {mfa_token}"},
        content=raw_enroll_body(PHONE),
    )
    expect(r.status_code, 200, "enroll")
    oob_code = json.loads(r.content)["oob_code"]
    binding = emu.last_code(PHONE, purpose="mfa")
    r = await http.request(
        "POST",
        BASE_URL + "/oauth/token",
        headers=JSON_HEADERS,
        content=raw_confirm_body(mfa_token, oob_code, binding),
    )
    expect(r.status_code, 200, "confirm")
    tokens = json.loads(r.content)
    if verify:
        jwks = await http.request("GET", JWKS_URL, headers=ACCEPT_HEADERS)
        expect(jwks.status_code, 200, "jwks")
        raw_verify_id_token(tokens, jwks.content, clock())
    return "authenticated" if tokens.get("access_token") else "failed"


# ------------------------------------------------------------------- fairness check


class _Recorder(httpx.BaseTransport):
    """Wraps a transport and records what goes on the wire."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.seen: list[tuple[str, str, list[tuple[str, str]], bytes]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        self.seen.append((request.method, str(request.url), sorted(request.headers.items()), body))
        return self.inner.handle_request(request)


class _AsyncRecorder(httpx.AsyncBaseTransport):
    """The async twin of :class:`_Recorder`."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seen: list[tuple[str, str, list[tuple[str, str]], bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.seen.append((request.method, str(request.url), sorted(request.headers.items()), body))
        return await self.inner.handle_async_request(request)


def _same(seen: list[list[tuple[str, str, list[tuple[str, str]], bytes]]], what: str) -> None:
    if seen[0] != seen[1]:
        for a, b in zip(seen[0], seen[1], strict=False):
            if a != b:
                raise RuntimeError(f"the {what} contenders sent different requests:\n{a}\n{b}")
        raise RuntimeError(f"the {what} contenders sent a different number of requests")


def check_same_requests() -> int:
    """Run every contender on frozen-clock emulators and compare the wire bytes.

    Both sides fetch the tenant's JWKS once (each round builds its client) and verify the
    id_token, so the whole exchange, that GET included, must be identical.
    """
    seen = []
    for sync_contender in (lib_seed_sync, raw_seed_sync):
        clock = FakeClock()
        emu = make_emulator(seed=7, clock=clock.time)
        rec = _Recorder(emu.transport())
        with httpx.Client(transport=rec) as http:
            if sync_contender(emu, http, clock.time) != "authenticated":
                raise RuntimeError(f"{sync_contender.__name__} did not authenticate")
        seen.append(rec.seen)
    _same(seen, "sync")

    async def record(contender: Callable[..., Any]) -> Any:
        clock = FakeClock()
        emu = make_emulator(seed=7, clock=clock.time)
        rec = _AsyncRecorder(emu.async_transport())
        async with httpx.AsyncClient(transport=rec) as http:
            if await contender(emu, http, clock.time) != "authenticated":
                raise RuntimeError(f"{contender.__name__} did not authenticate")
        return rec.seen

    async_seen = [asyncio.run(record(c)) for c in (lib_seed_async, raw_seed_async)]
    _same(async_seen, "async")
    if async_seen[0] != seen[0]:
        raise RuntimeError("the async contenders sent other requests than the sync ones")
    return len(seen[0])


# --------------------------------------------------------------------------- figures


@contextmanager
def app_logging(mode: str) -> Iterator[None]:
    """``quiet``: the application configured no logging (the library's default: its
    ``flowengine`` logger has only a NullHandler, so INFO is below the root's WARNING);
    ``json``: structlog rendering every ``flow_transition`` as a JSON line (the audit log
    on, see ``_harness.configure_logging``)."""
    if mode == "quiet":
        unconfigure_logging()
    else:
        configure_logging()
    try:
        yield
    finally:
        configure_logging()


def _sync_runner(contender: Callable[..., str], **kw: Any) -> Callable[[], float]:
    def run() -> float:
        emu = make_emulator()
        with httpx.Client(transport=emu.transport()) as http:
            t0 = cpu_now()
            state = contender(emu, http, **kw)
            elapsed = cpu_now() - t0
        if state != "authenticated":
            raise RuntimeError(f"{contender.__name__} ended in {state}")
        return elapsed

    return run


def _async_runner(
    loop: asyncio.AbstractEventLoop, contender: Callable[..., Any], **kw: Any
) -> Callable[[], float]:
    async def timed() -> float:
        emu = make_emulator()
        async with httpx.AsyncClient(transport=emu.async_transport()) as http:
            t0 = cpu_now()
            state = await contender(emu, http, **kw)
            elapsed = cpu_now() - t0
        if state != "authenticated":
            raise RuntimeError(f"{contender.__name__} ended in {state}")
        return elapsed

    def run() -> float:
        return loop.run_until_complete(timed())

    return run


def _row(
    figure: str, baseline_name: str, lib: list[float], raw: list[float], target: float | None
) -> Row:
    m_lib, m_raw = median(lib), median(raw)
    ratio = m_lib / m_raw
    return Row(
        figure=figure,
        measured=fmt_time(m_lib),
        baseline=f"{baseline_name} {fmt_time(m_raw)}",
        compare=f"ratio {ratio:.3f} ({fmt_delta(m_lib - m_raw)})",
        target=f"ratio <= {target}" if target is not None else "-",
        ok=ratio <= target if target is not None else None,
        note=f"{len(lib)} rounds",
        ratio=ratio,
    )


def run(report: Report, rounds: int) -> None:
    """Measure the sync and async seed figures, quiet and with the JSON audit log."""
    n = check_same_requests()
    report.note(
        f"seed fairness: all four contenders (library and hand-written, sync and async) sent "
        f"the same {n} requests, byte for byte (method, URL, headers, body), the JWKS GET "
        "included: both verify the id_token (RS256, iss, aud, exp)"
    )
    raw_name = "httpx.Client + PyJWT"
    for mode, target in (("quiet", SEED_TARGET), ("json", SEED_JSON_TARGET)):
        with app_logging(mode):
            runners = [_sync_runner(lib_seed_sync), _sync_runner(raw_seed_sync)]
            for r in runners:
                r()  # warm-up: imports, caches, first logging use
            lib, raw = interleave(runners, rounds)
            what = "quiet logging" if mode == "quiet" else "JSON audit log on"
            report.add(_row(f"seed, sync driver, in process, {what}", raw_name, lib, raw, target))
            loop = asyncio.new_event_loop()
            try:
                runners = [_async_runner(loop, lib_seed_async), _async_runner(loop, raw_seed_async)]
                for r in runners:
                    r()
                lib, raw = interleave(runners, rounds)
            finally:
                loop.close()
            report.add(
                _row(
                    f"seed, async driver, in process, {what}",
                    "httpx.AsyncClient + PyJWT",
                    lib,
                    raw,
                    target,
                )
            )
    # What verifying the id_token costs: against hand-written code that skips it.
    with app_logging("quiet"):
        lib, raw = interleave(
            [_sync_runner(lib_seed_sync), _sync_runner(raw_seed_sync, verify=False)],
            max(20, rounds // 2),
        )
    report.add(
        _row(
            "seed, sync driver, quiet, vs a client that skips the id_token check",
            "httpx.Client alone",
            lib,
            raw,
            None,
        )
    )
