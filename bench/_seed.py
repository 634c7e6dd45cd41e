"""The seed (start, verify, enroll SMS, confirm) through each driver against raw httpx.

Both contenders get a fresh, identically seeded emulator and a fresh HTTP client per
iteration, built outside the clock; the timed region is the four requests plus the two
code look-ups in the emulator's outbox. The hand-written client sends the same bodies
and headers (checked byte for byte before timing) and parses the way a hand-written
client would: a status check and ``json.loads``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import httpx

from bench._common import (
    BASE_URL,
    JSON_HEADERS,
    PHONE,
    RawSeedError,
    expect,
    make_config,
    make_emulator,
    raw_bodies,
    raw_confirm_body,
    raw_enroll_body,
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
)
from flowengine import AsyncFlowClient, FlowClient
from flowengine.testing import Auth0Emulator, FakeClock

SEED_TARGET = 1.15

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


def raw_seed_sync(emu: Auth0Emulator, http: httpx.Client) -> str:
    """The same four requests written by hand with ``httpx.Client``."""
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


async def raw_seed_async(emu: Auth0Emulator, http: httpx.AsyncClient) -> str:
    """The same four requests written by hand with ``httpx.AsyncClient``."""
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


#: The library verifies the id_token it receives against the tenant's JWKS, fetched once per
#: client (here: per login, since each round builds its client). The hand-written contenders
#: do not verify, so that fetch is left out of the comparison (and counted in the timing).
_JWKS_PATH = "/.well-known/jwks.json"


def _same(seen: list[list[tuple[str, str, list[tuple[str, str]], bytes]]], what: str) -> None:
    seen = [[r for r in rs if not (r[0] == "GET" and r[1].endswith(_JWKS_PATH))] for rs in seen]
    if seen[0] != seen[1]:
        for a, b in zip(seen[0], seen[1], strict=False):
            if a != b:
                raise RuntimeError(f"the {what} contenders sent different requests:\n{a}\n{b}")
        raise RuntimeError(f"the {what} contenders sent a different number of requests")


def check_same_requests() -> int:
    """Run every contender on frozen-clock emulators and compare the wire bytes."""
    seen = []
    for contender in (lib_seed_sync, raw_seed_sync):
        clock = FakeClock()
        emu = make_emulator(seed=7, clock=clock.time)
        rec = _Recorder(emu.transport())
        with httpx.Client(transport=rec) as http:
            run = (
                functools.partial(contender, clock=clock.time)
                if contender is lib_seed_sync
                else contender
            )
            if run(emu, http) != "authenticated":
                raise RuntimeError(f"{contender.__name__} did not authenticate")
        seen.append(rec.seen)
    _same(seen, "sync")

    async def record(contender: Callable[[Auth0Emulator, httpx.AsyncClient], Any]) -> Any:
        clock = FakeClock()
        emu = make_emulator(seed=7, clock=clock.time)
        rec = _AsyncRecorder(emu.async_transport())
        async with httpx.AsyncClient(transport=rec) as http:
            run = (
                functools.partial(contender, clock=clock.time)
                if contender is lib_seed_async
                else contender
            )
            if await run(emu, http) != "authenticated":
                raise RuntimeError(f"{contender.__name__} did not authenticate")
        return rec.seen

    async_seen = [asyncio.run(record(c)) for c in (lib_seed_async, raw_seed_async)]
    _same(async_seen, "async")
    if [r for r in async_seen[0] if not r[1].endswith(_JWKS_PATH)] != [
        r for r in seen[0] if not r[1].endswith(_JWKS_PATH)
    ]:
        raise RuntimeError("the async contenders sent other requests than the sync ones")
    return len(seen[0])


# --------------------------------------------------------------------------- figures


@contextmanager
def logging_filtered() -> Iterator[None]:
    """Filter INFO out for a while (the library checks its logger's level first)."""
    configure_logging(level=logging.WARNING)
    try:
        yield
    finally:
        configure_logging()


def _sync_runner(contender: Callable[[Auth0Emulator, httpx.Client], str]) -> Callable[[], float]:
    def run() -> float:
        emu = make_emulator()
        with httpx.Client(transport=emu.transport()) as http:
            t0 = cpu_now()
            state = contender(emu, http)
            elapsed = cpu_now() - t0
        if state != "authenticated":
            raise RuntimeError(f"{contender.__name__} ended in {state}")
        return elapsed

    return run


def _async_runner(
    loop: asyncio.AbstractEventLoop, contender: Callable[[Auth0Emulator, httpx.AsyncClient], Any]
) -> Callable[[], float]:
    async def timed() -> float:
        emu = make_emulator()
        async with httpx.AsyncClient(transport=emu.async_transport()) as http:
            t0 = cpu_now()
            state = await contender(emu, http)
            elapsed = cpu_now() - t0
        if state != "authenticated":
            raise RuntimeError(f"{contender.__name__} ended in {state}")
        return elapsed

    def run() -> float:
        return loop.run_until_complete(timed())

    return run


def _row(figure: str, baseline_name: str, lib: list[float], raw: list[float]) -> Row:
    m_lib, m_raw = median(lib), median(raw)
    ratio = m_lib / m_raw
    return Row(
        figure=figure,
        measured=fmt_time(m_lib),
        baseline=f"{baseline_name} {fmt_time(m_raw)}",
        compare=f"ratio {ratio:.3f} ({fmt_delta(m_lib - m_raw)})",
        target=f"ratio <= {SEED_TARGET}",
        ok=ratio <= SEED_TARGET,
        note=f"{len(lib)} rounds",
    )


def run(report: Report, rounds: int) -> None:
    """Measure the sync and async seed figures."""
    n = check_same_requests()
    report.note(
        f"seed fairness: all four contenders (library and raw, sync and async) sent the "
        f"same {n} requests, byte for byte (method, URL, headers, body)"
    )
    _sync_runner(lib_seed_sync)()  # warm-up: imports, caches, first structlog use
    _sync_runner(raw_seed_sync)()
    lib, raw = interleave([_sync_runner(lib_seed_sync), _sync_runner(raw_seed_sync)], rounds)
    report.add(_row("seed, sync driver, emulator in process", "raw httpx.Client", lib, raw))
    # The same pair with INFO filtered out: how much of the difference is the app's logging.
    with logging_filtered():
        lib, raw = interleave(
            [_sync_runner(lib_seed_sync), _sync_runner(raw_seed_sync)], max(20, rounds // 2)
        )
    row = _row("seed, sync driver, logging filtered out (WARNING)", "raw httpx.Client", lib, raw)
    report.add(attrs.evolve(row, target="-", ok=None))
    loop = asyncio.new_event_loop()
    try:
        runners = [_async_runner(loop, lib_seed_async), _async_runner(loop, raw_seed_async)]
        for r in runners:
            r()
        lib, raw = interleave(runners, rounds)
    finally:
        loop.close()
    report.add(_row("seed, async driver, emulator in process", "raw httpx.AsyncClient", lib, raw))
