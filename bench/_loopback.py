"""Concurrent seed logins over real HTTP on 127.0.0.1, library against raw httpx.

Three figures share one served tenant: 1,000 logins at once over ``LaneTransport`` (below);
200 logins at once over httpx's default pool (``run_default_pool``: the library against
raw httpx that verifies the id_token as the library does, and against raw httpx that does
not); and one login at a time against raw httpx and the official SDK (``bench._sdk``).

The emulator is served by a separate process (``bench._emuserver``) so that the client
process measures only itself. Each round builds one shared ``httpx.AsyncClient`` (the same
limits and timeouts for both contenders) and runs every login at once with
``asyncio.gather``; the rounds alternate library / raw httpx (ABBA), every login has its
own phone number, and the code look-ups go over HTTP to the tenant's outbox for both.

The shared client's transport is :class:`LaneTransport`: ``POOL`` single-connection httpx
transports handed out one request at a time. httpx's own pool (httpcore 1.0) hands every
queued request the same idle connection when one frees up; all but one then fail with
``ConnectionNotAvailable`` and retry (encode/httpcore#822), which with 1,000 logins in
flight makes the client spend seconds of CPU in the pool's assignment loop (a raw-httpx
round took 78 s with ``max_connections=100``; see ``--stock-pool``). That cost is the
same for both contenders and would only drown the difference being measured.

Memory per in-flight flow is the tracemalloc peak above the baseline during one extra
round per contender, divided by the number of flows (tracemalloc is off while timing).
"""

from __future__ import annotations

import asyncio
import collections
import json
import subprocess
import sys
import time
import tracemalloc
import weakref
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt

from bench import _sdk
from bench._common import (
    JSON_HEADERS,
    RawSeedError,
    expect,
    issuer_for,
    make_config,
    phone_for,
    raw_bodies,
    raw_confirm_body,
    raw_enroll_body,
    raw_keys,
    raw_verify,
)
from bench._emuserver import CODE_PATH, REQUESTS_PATH
from bench._harness import Report, Row, fmt_bytes, fmt_delta, fmt_time, median, now
from flowengine import AsyncFlowClient

RATIO_TARGET = 1.2
#: The default-pool figure (issue #18): library / raw httpx verifying the id_token too.
DEFAULT_POOL_TARGET = 1.10
POOL = 50
LIMITS = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
TIMEOUT = httpx.Timeout(120.0)

Login = Callable[[httpx.AsyncClient, str, str], Awaitable[None]]


class LaneTransport(httpx.AsyncBaseTransport):
    """``lanes`` one-connection transports; a request waits for a free lane (FIFO, O(1))."""

    def __init__(self, lanes: int) -> None:
        tls = httpx.create_ssl_context()  # one context for all lanes (plain http is used)
        self._lanes = [
            httpx.AsyncHTTPTransport(
                verify=tls, limits=httpx.Limits(max_connections=1, max_keepalive_connections=1)
            )
            for _ in range(lanes)
        ]
        self._free: asyncio.Queue[httpx.AsyncHTTPTransport] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` on a free lane; the body is read before the lane is handed on."""
        if self._free is None:
            self._free = asyncio.Queue()
            for lane in self._lanes:
                self._free.put_nowait(lane)
        lane = await self._free.get()
        try:
            response = await lane.handle_async_request(request)
            await response.aread()
        finally:
            self._free.put_nowait(lane)
        return response

    async def aclose(self) -> None:
        """Close every lane."""
        for lane in self._lanes:
            await lane.aclose()


def shared_client(stock_pool: bool, default_pool: bool = False) -> httpx.AsyncClient:
    """The one ``httpx.AsyncClient`` a round shares between all its logins.

    ``default_pool``: httpx's default limits (100 connections, 20 kept alive), as
    ``httpx.AsyncClient()`` builds them; only the timeout is raised (to ``TIMEOUT``), so that
    a loaded machine shows as time rather than as ``PoolTimeout`` errors.
    """
    if default_pool:
        return httpx.AsyncClient(timeout=TIMEOUT)
    if stock_pool:
        return httpx.AsyncClient(limits=LIMITS, timeout=TIMEOUT)
    return httpx.AsyncClient(transport=LaneTransport(POOL), timeout=TIMEOUT)


@contextmanager
def served_emulator() -> Iterator[str]:
    """Start ``bench._emuserver`` in a child process; yield its base URL; stop it."""
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._emuserver"],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the emulator server did not start (said {url!r})")
        yield url
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def lookup(http: httpx.AsyncClient, url: str, phone: str, purpose: str) -> str:
    """The latest code sent to ``phone`` (the tenant's outbox, over HTTP)."""
    r = await http.get(url + CODE_PATH, params={"to": phone, "purpose": purpose})
    expect(r.status_code, 200, "code look-up")
    return r.text


def library_login(url: str) -> Login:
    """The seed through ``AsyncFlowClient`` sharing the round's ``httpx.AsyncClient``."""
    config = make_config(url)
    clients: dict[int, AsyncFlowClient] = {}

    async def login(http: httpx.AsyncClient, base: str, phone: str) -> None:
        client = clients.get(id(http))
        if client is None:
            client = clients[id(http)] = AsyncFlowClient(config, http=http)
        flow = client.new_flow()
        await client.start_passwordless(flow, connection="sms", phone_number=phone)
        await client.verify_otp(flow, await lookup(http, base, phone, "passwordless"))
        await client.enroll(flow, "sms", phone_number=phone)
        result = await client.confirm_oob(flow, await lookup(http, base, phone, "mfa"))
        if result.state != "authenticated":
            raise RuntimeError(f"a library login ended in {result.state}")

    return login


async def raw_tokens(http: httpx.AsyncClient, base: str, phone: str) -> dict[str, Any]:
    """The same requests written by hand with ``httpx.AsyncClient``; the token answer."""
    start, verify = raw_bodies(phone)
    r = await http.post(base + "/passwordless/start", headers=JSON_HEADERS, content=start)
    expect(r.status_code, 200, "start")
    json.loads(r.content)
    code = await lookup(http, base, phone, "passwordless")
    r = await http.post(base + "/oauth/token", headers=JSON_HEADERS, content=verify(code))
    expect(r.status_code, 403, "verify")
    doc = json.loads(r.content)
    if doc.get("error") != "mfa_required":
        raise RawSeedError("verify: no mfa_required")
    mfa_token = doc["mfa_token"]
    r = await http.post(
        base + "/mfa/associate",
        headers={**JSON_HEADERS, "authorization": f"Bearer {mfa_token}"},
        content=raw_enroll_body(phone),
    )
    expect(r.status_code, 200, "enroll")
    oob_code = json.loads(r.content)["oob_code"]
    binding = await lookup(http, base, phone, "mfa")
    r = await http.post(
        base + "/oauth/token",
        headers=JSON_HEADERS,
        content=raw_confirm_body(mfa_token, oob_code, binding),
    )
    expect(r.status_code, 200, "confirm")
    tokens: dict[str, Any] = json.loads(r.content)
    if not tokens.get("access_token"):
        raise RawSeedError("confirm: no access_token")
    return tokens


async def raw_login(http: httpx.AsyncClient, base: str, phone: str) -> None:
    """The hand-written seed, the id_token left unverified."""
    await raw_tokens(http, base, phone)


#: The hand-written client's key cache: one JWKS fetch per ``AsyncClient`` (weak keys, so a
#: later round's client never inherits an earlier round's keys).
_RAW_JWKS: weakref.WeakKeyDictionary[httpx.AsyncClient, asyncio.Future[dict[str, jwt.PyJWK]]] = (
    weakref.WeakKeyDictionary()
)


async def _raw_fetch_keys(http: httpx.AsyncClient, base: str) -> dict[str, jwt.PyJWK]:
    r = await http.get(base + "/.well-known/jwks.json", headers={"accept": "application/json"})
    expect(r.status_code, 200, "jwks")
    return raw_keys(r.content)


async def raw_verified_login(http: httpx.AsyncClient, base: str, phone: str) -> None:
    """The hand-written seed plus a careful client's id_token check.

    The JWKS is fetched once per client (the first logins to need it wait for that one
    fetch) and the token is checked with PyJWT: RS256 signature, iss, aud, exp, iat, sub.
    """
    tokens = await raw_tokens(http, base, phone)
    keys = _RAW_JWKS.get(http)
    if keys is None:
        keys = _RAW_JWKS[http] = asyncio.ensure_future(_raw_fetch_keys(http, base))
    raw_verify(tokens.get("id_token"), await keys, issuer_for(base))


async def one_round(
    login: Login,
    url: str,
    flows: int,
    first: int,
    *,
    trace: bool = False,
    stock_pool: bool = False,
    default_pool: bool = False,
) -> tuple[float, int, float, float]:
    """Run ``flows`` logins at once.

    Returns (wall seconds, errors, peak bytes per flow when traced, client CPU seconds).
    """
    async with shared_client(stock_pool, default_pool) as http:
        if trace:
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
        t0 = now()
        c0 = time.process_time()
        results = await asyncio.gather(
            *(login(http, url, phone_for(first + i)) for i in range(flows)),
            return_exceptions=True,
        )
        elapsed = now() - t0
        cpu = time.process_time() - c0
        per_flow = 0.0
        if trace:
            per_flow = (tracemalloc.get_traced_memory()[1] - base) / flows
            tracemalloc.stop()
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        print(f"  {len(errors)} errors, first: {errors[0]!r}", flush=True)
    return elapsed, len(errors), per_flow, cpu


def wire_seen(url: str, since: int | None = None) -> tuple[int, collections.Counter[str]]:
    """The tenant's request count; with ``since``, its requests from there on by method + path."""
    r = httpx.get(url + REQUESTS_PATH, params={"since": 10**12 if since is None else since})
    expect(r.status_code, 200, "requests look-up")
    doc = r.json()
    seen = collections.Counter(f"{q['method']} {q['path']}" for q in doc["requests"])
    return int(doc["count"]), seen


#: The default-pool figure's contenders, in ABC...CBA order.
POOL_NAMES = ("library", "raw httpx + id_token check", "raw httpx, no id_token check")


def run_default_pool(
    report: Report, url: str, loop: asyncio.AbstractEventLoop, flows: int, rounds: int
) -> None:
    """``flows`` logins at once through one ``httpx.AsyncClient()`` with httpx's default pool.

    Three contenders, interleaved: the library, raw httpx with a careful client's id_token
    check (the JWKS fetched once per client, PyJWT), raw httpx without it (info). The
    tenant's requests are counted per round (``/_bench/requests``, outside the clock).
    """
    contenders: list[Login] = [library_login(url), raw_verified_login, raw_login]
    counter = 5_000_000

    def go(i: int, n: int) -> tuple[float, int, float, collections.Counter[str]]:
        nonlocal counter
        counter += n
        before, _ = wire_seen(url)
        elapsed, errs, _, cpu = loop.run_until_complete(
            one_round(contenders[i], url, n, counter, default_pool=True)
        )
        return elapsed, errs, cpu, wire_seen(url, before)[1]

    for i in range(len(contenders)):  # warm-up: imports, the JWK parsers, first connections
        go(i, min(flows, 10))
    times: list[list[float]] = [[] for _ in contenders]
    cpus: list[list[float]] = [[] for _ in contenders]
    errors = [0 for _ in contenders]
    wire: list[collections.Counter[str]] = [collections.Counter() for _ in contenders]
    jwks: list[list[int]] = [[] for _ in contenders]
    order = list(range(len(contenders)))
    for r in range(rounds):
        for i in order if r % 2 == 0 else reversed(order):
            elapsed, errs, cpu, seen = go(i, flows)
            times[i].append(elapsed)
            cpus[i].append(cpu)
            errors[i] += errs
            wire[i] += seen
            jwks[i].append(seen["GET /.well-known/jwks.json"])
    med = [median(t) for t in times]
    total = flows * rounds
    ratio = med[0] / med[1]
    report.add(
        Row(
            figure=f"{flows:,} concurrent async seed logins, httpx default pool, loopback HTTP",
            measured=f"{fmt_time(med[0])} wall, {errors[0]} errors / {total:,}",
            baseline=f"{POOL_NAMES[1]} {fmt_time(med[1])}, {errors[1]} errors",
            compare=f"ratio {ratio:.3f} ({fmt_delta((med[0] - med[1]) / flows)}/login)",
            target=f"0 errors, ratio <= {DEFAULT_POOL_TARGET}",
            ok=errors[0] == 0 and errors[1] == 0 and ratio <= DEFAULT_POOL_TARGET,
            ratio=ratio,
            note=f"median of {rounds} rounds each",
        )
    )
    report.add(
        Row(
            figure=f"the same {flows:,} logins against raw httpx without the id_token check",
            measured=fmt_time(med[0]),
            baseline=f"{POOL_NAMES[2]} {fmt_time(med[2])}, {errors[2]} errors",
            compare=f"ratio {med[0] / med[2]:.3f} (the check: raw {med[1] / med[2]:.3f})",
            target="-",
            ok=None,
        )
    )
    cpu = [median(c) for c in cpus]
    report.add(
        Row(
            figure=f"client CPU time of the {flows:,} default-pool logins",
            measured=fmt_time(cpu[0]),
            baseline=f"raw + check {fmt_time(cpu[1])}, no check {fmt_time(cpu[2])}",
            compare=f"ratio {cpu[0] / cpu[1]:.3f} ({fmt_delta((cpu[0] - cpu[1]) / flows)}/login)",
            target="-",
            ok=None,
        )
    )
    per_login = "; ".join(
        f"{name}: {sum(w.values()) / total:.2f} requests/login, JWKS GETs per round "
        f"{min(j)}-{max(j)}"
        for name, w, j in zip(POOL_NAMES, wire, jwks, strict=True)
    )
    spread = ", ".join(
        f"{name} {min(t):.2f}-{max(t):.2f} s" for name, t in zip(POOL_NAMES, times, strict=True)
    )
    report.note(
        f"default pool: one httpx.AsyncClient() per round (httpx's default limits: 100 "
        f"connections, 20 kept alive; timeout {TIMEOUT.read:.0f} s); {flows} logins at once, "
        f"each 4 Auth0 requests + 2 code look-ups over HTTP; rounds (min-max wall): {spread}; "
        f"requests the tenant received (look-ups not counted): {per_login}"
    )


def run(
    report: Report,
    flows: int,
    rounds: int,
    stock_pool: bool = False,
    *,
    pool_flows: int = 200,
    pool_rounds: int = 4,
    sdk_rounds: int = 100,
) -> None:
    """The concurrency figures, then the sequential one against the official SDK."""
    with served_emulator() as url:
        loop = asyncio.new_event_loop()
        try:
            _run_lanes(report, url, loop, flows, rounds, stock_pool)
            run_default_pool(report, url, loop, pool_flows, pool_rounds)
        finally:
            loop.close()
        _sdk.run(report, url, sdk_rounds)


def _run_lanes(
    report: Report,
    url: str,
    loop: asyncio.AbstractEventLoop,
    flows: int,
    rounds: int,
    stock_pool: bool,
) -> None:
    """The 1,000-login figure over ``LaneTransport`` (or httpx's pool with ``stock_pool``)."""
    contenders: list[Login] = [library_login(url), raw_login]
    counter = 1_000_000

    def go(i: int, trace: bool = False) -> tuple[float, int, float, float]:
        nonlocal counter
        counter += flows
        return loop.run_until_complete(
            one_round(contenders[i], url, flows, counter, trace=trace, stock_pool=stock_pool)
        )

    for i in (0, 1):  # warm-up: imports, caches, the tenant's first connections
        loop.run_until_complete(one_round(contenders[i], url, 50, 10 * flows + i * 50))
    times: list[list[float]] = [[], []]
    cpus: list[list[float]] = [[], []]
    errors = [0, 0]
    for r in range(rounds):
        for i in (0, 1) if r % 2 == 0 else (1, 0):
            elapsed, errs, _, cpu = go(i)
            times[i].append(elapsed)
            cpus[i].append(cpu)
            errors[i] += errs
    mem = [go(i, trace=True)[2] for i in (0, 1)]
    lib, raw = median(times[0]), median(times[1])
    ratio = lib / raw
    total = flows * rounds
    report.add(
        Row(
            figure=f"{flows:,} concurrent async seed logins, loopback HTTP",
            measured=f"{fmt_time(lib)} wall, {errors[0]} errors / {total:,}",
            baseline=f"raw httpx {fmt_time(raw)}, {errors[1]} errors",
            compare=f"ratio {ratio:.3f}",
            target=f"0 errors, ratio <= {RATIO_TARGET}",
            ok=errors[0] == 0 and errors[1] == 0 and ratio <= RATIO_TARGET,
            ratio=ratio,
            note=f"median of {rounds} rounds each",
        )
    )
    cpu_lib, cpu_raw = median(cpus[0]), median(cpus[1])
    per_login = fmt_delta((cpu_lib - cpu_raw) / flows)
    report.add(
        Row(
            figure=f"client CPU time of the {flows:,} concurrent logins",
            measured=fmt_time(cpu_lib),
            baseline=f"raw httpx {fmt_time(cpu_raw)}",
            compare=f"ratio {cpu_lib / cpu_raw:.3f} ({per_login}/login)",
            target="-",
            ok=None,
        )
    )
    report.add(
        Row(
            figure="memory per in-flight flow (tracemalloc peak / flows)",
            measured=fmt_bytes(mem[0]),
            baseline=f"raw httpx {fmt_bytes(mem[1])}",
            compare=f"{mem[0] - mem[1]:+,.0f} B per flow",
            target="reported",
            ok=None,
        )
    )
    spread = ", ".join(
        f"{name} {min(t):.2f}-{max(t):.2f} s"
        for name, t in zip(("library", "raw"), times, strict=True)
    )
    report.note(f"loopback rounds (min-max wall): {spread}")
    pool = (
        f"httpx's own pool, max_connections={POOL}"
        if stock_pool
        else f"{POOL} one-connection lanes (httpx's pool thrashes: encode/httpcore#822)"
    )
    report.note(
        "loopback: the tenant runs in its own process (ThreadingHTTPServer, one thread per "
        f"connection, TCP_NODELAY); one shared AsyncClient per round over {pool}; each login "
        "is 4 Auth0 requests + 2 code look-ups over HTTP, for both contenders"
    )
