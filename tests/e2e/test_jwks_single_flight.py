"""Concurrent logins that miss the JWKS cache at once share one fetch (no thundering herd)."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from flowengine import AsyncFlowClient, Auth0Config, FlowClient, IdTokenError
from flowengine._flow import Flow
from flowengine.testing import Auth0Emulator, FakeClock, Fault
from tests.e2e.conftest import TENANT

JWKS = "/.well-known/jwks.json"
CONFIG = Auth0Config(TENANT, "app-id", "app-secret")


def phone(n: int) -> str:
    """A distinct user per login."""
    return f"+1555030{n:04d}"


def jwks_fetches(emu: Auth0Emulator) -> int:
    """How many times the tenant's JWKS was requested."""
    return sum(1 for r in emu.requests if r.path == JWKS)


def is_confirm(request: httpx.Request) -> bool:
    """The mfa-oob grant: the answer that carries the id_token."""
    return request.url.path == "/oauth/token" and b"mfa-oob" in request.content


class AsyncGate(httpx.AsyncBaseTransport):
    """The tenant answers a JWKS request at once, but the answer is held until ``open``.

    It opens by itself once ``release_after`` token answers have been handed out, so
    every login has its id_token in hand (and has missed the cache) before any JWKS
    answer arrives.
    """

    def __init__(self, emu: Auth0Emulator, release_after: int | None) -> None:
        self.inner = emu.async_transport()
        self.release_after = release_after
        self.confirms = 0
        self.open = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        if request.url.path == JWKS:
            await self.open.wait()
        elif is_confirm(request):
            self.confirms += 1
            if self.release_after is not None and self.confirms >= self.release_after:
                self.open.set()
        return response


class SyncGate(httpx.BaseTransport):
    """The threaded twin of :class:`AsyncGate`."""

    def __init__(self, emu: Auth0Emulator, release_after: int) -> None:
        self.inner = emu.transport()
        self.release_after = release_after
        self.confirms = 0
        self.lock = threading.Lock()
        self.open = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        if request.url.path == JWKS:
            self.open.wait(timeout=10)
        elif is_confirm(request):
            with self.lock:
                self.confirms += 1
                if self.confirms >= self.release_after:
                    self.open.set()
        return response


def ready_flows(client: FlowClient, emu: Auth0Emulator, n: int) -> list[Flow]:
    """``n`` flows driven to the last step (code sent, verified, SMS enrolled)."""
    flows = []
    for i in range(n):
        flow = client.new_flow()
        client.start_passwordless(flow, connection="sms", phone_number=phone(i))
        client.verify_otp(flow, emu.last_code(phone(i)))
        client.enroll(flow, "sms", phone_number=phone(i))
        flows.append(flow)
    return flows


@pytest.fixture
def prepared(emu: Auth0Emulator, clock: FakeClock) -> tuple[list[Flow], list[str]]:
    """50 flows at their last step (prepared by a client of their own), and their codes."""
    with FlowClient(CONFIG, transport=emu.transport(), clock=clock.time) as client:
        flows = ready_flows(client, emu, 50)
    return flows, [emu.last_code(phone(i), purpose="mfa") for i in range(len(flows))]


def test_concurrent_async_logins_fetch_the_jwks_once(
    emu: Auth0Emulator, clock: FakeClock, prepared: tuple[list[Flow], list[str]]
) -> None:
    """50 logins finishing at once on a fresh AsyncFlowClient send one JWKS request."""
    flows, codes = prepared

    async def main() -> list[str]:
        gate = AsyncGate(emu, release_after=len(flows))
        async with AsyncFlowClient(CONFIG, transport=gate, clock=clock.time) as client:
            results = await asyncio.gather(
                *(client.confirm_oob(f, c) for f, c in zip(flows, codes, strict=True))
            )
        return [r.state for r in results]

    assert asyncio.run(main()) == ["authenticated"] * len(flows)
    assert jwks_fetches(emu) == 1


def test_concurrent_threaded_logins_fetch_the_jwks_once(
    emu: Auth0Emulator, clock: FakeClock, prepared: tuple[list[Flow], list[str]]
) -> None:
    """20 threads finishing logins at once on one FlowClient send one JWKS request."""
    flows, codes = prepared
    flows, codes = flows[:20], codes[:20]
    gate = SyncGate(emu, release_after=len(flows))
    with (
        FlowClient(CONFIG, transport=gate, clock=clock.time) as client,
        ThreadPoolExecutor(len(flows) - 1) as pool,
    ):
        # 19 logins in the pool and the 20th in this thread, at the same time.
        pending = [
            pool.submit(client.confirm_oob, f, c) for f, c in zip(flows[1:], codes[1:], strict=True)
        ]
        states = [client.confirm_oob(flows[0], codes[0]), *(p.result() for p in pending)]
    assert [s.state for s in states] == ["authenticated"] * len(flows)
    assert jwks_fetches(emu) == 1


def test_a_shared_failed_fetch_fails_each_waiter_with_its_own_error(
    emu: Auth0Emulator, clock: FakeClock, prepared: tuple[list[Flow], list[str]]
) -> None:
    """An unreachable JWKS refuses every waiting login once, each with its own IdTokenError."""
    flows, codes = prepared
    flows, codes = flows[:10], codes[:10]
    emu.add_fault(Fault(JWKS, "status_500", times=1))

    async def main() -> list[BaseException | object]:
        gate = AsyncGate(emu, release_after=len(flows))
        async with AsyncFlowClient(CONFIG, transport=gate, clock=clock.time) as client:
            return await asyncio.gather(
                *(client.confirm_oob(f, c) for f, c in zip(flows, codes, strict=True)),
                return_exceptions=True,
            )

    errors = asyncio.run(main())
    assert all(isinstance(e, IdTokenError) for e in errors)
    assert len({id(e) for e in errors}) == len(errors)
    assert all(
        isinstance(e, IdTokenError)
        and e.reason == "jwks_unavailable"
        and e.trigger == "confirm_oob"
        and e.state == f.state
        for e, f in zip(errors, flows, strict=True)
    )
    assert all(f.state != "authenticated" and f.tokens is None for f in flows)
    assert jwks_fetches(emu) == 1


def test_a_joined_fetch_without_the_kid_is_followed_by_a_fresh_one(
    emu: Auth0Emulator, clock: FakeClock, prepared: tuple[list[Flow], list[str]]
) -> None:
    """A login that joined a fetch answered before a key rotation fetches once more itself."""
    (old, new), (old_code, new_code) = prepared[0][:2], prepared[1][:2]

    async def main() -> list[str]:
        gate = AsyncGate(emu, release_after=None)
        async with AsyncFlowClient(CONFIG, transport=gate, clock=clock.time) as client:
            first = asyncio.ensure_future(client.confirm_oob(old, old_code))
            while jwks_fetches(emu) == 0:  # the first JWKS is answered (old key), and held
                await asyncio.sleep(0)
            emu.rotate_signing_key(keep_old=False)
            second = asyncio.ensure_future(client.confirm_oob(new, new_code))
            while gate.confirms < 2:  # the new-key token is in hand: it joins the held fetch
                await asyncio.sleep(0)
            for _ in range(10):
                await asyncio.sleep(0)
            gate.open.set()
            results = await asyncio.gather(first, second)
        return [r.state for r in results]

    assert asyncio.run(main()) == ["authenticated", "authenticated"]
    assert jwks_fetches(emu) == 2


def test_a_joined_threaded_fetch_without_the_kid_is_followed_by_a_fresh_one(
    emu: Auth0Emulator, clock: FakeClock, prepared: tuple[list[Flow], list[str]]
) -> None:
    """A thread that joined a fetch answered before a key rotation fetches once more itself."""
    (old, new), (old_code, new_code) = prepared[0][:2], prepared[1][:2]
    gate = SyncGate(emu, release_after=10**9)  # opened by hand below

    def release() -> None:
        while gate.confirms < 2:  # the new-key token is in hand: it joins the held fetch
            time.sleep(0.001)
        time.sleep(0.05)
        gate.open.set()

    with (
        FlowClient(CONFIG, transport=gate, clock=clock.time) as client,
        ThreadPoolExecutor(1) as pool,
    ):
        first = pool.submit(client.confirm_oob, old, old_code)
        while jwks_fetches(emu) == 0:  # the first JWKS is answered (old key), and held
            time.sleep(0.001)
        emu.rotate_signing_key(keep_old=False)
        threading.Thread(target=release, daemon=True).start()
        second = client.confirm_oob(new, new_code)
        assert [first.result().state, second.state] == ["authenticated", "authenticated"]
    assert jwks_fetches(emu) == 2


class TwoAtTheDoor:
    """A lock both threads reach before either takes it; ``both_left`` once both released it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.barrier = threading.Barrier(2)
        self.count = threading.Lock()
        self.left = 0
        self.both_left = threading.Event()

    def __enter__(self) -> None:
        self.barrier.wait(timeout=10)
        self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()
        with self.count:
            self.left += 1
            if self.left == 2:
                self.both_left.set()


class HeldJwks(httpx.BaseTransport):
    """The tenant, with every JWKS answer held until ``door.both_left``."""

    def __init__(self, emu: Auth0Emulator, door: TwoAtTheDoor) -> None:
        self.inner = emu.transport()
        self.door = door

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == JWKS:
            self.door.both_left.wait(timeout=10)
        return self.inner.handle_request(request)


def test_two_threads_missing_at_the_same_instant_fetch_once(
    emu: Auth0Emulator, clock: FakeClock, prepared: tuple[list[Flow], list[str]]
) -> None:
    """Two threads that both found no fetch in flight still send one JWKS request between them."""
    (a, b), (code_a, code_b) = prepared[0][:2], prepared[1][:2]
    door = TwoAtTheDoor()
    with (
        FlowClient(CONFIG, transport=HeldJwks(emu, door), clock=clock.time) as client,
        ThreadPoolExecutor(1) as pool,
    ):
        client._jwks_lock = door  # type: ignore[assignment]
        other = pool.submit(client.confirm_oob, b, code_b)
        mine = client.confirm_oob(a, code_a)
        assert [mine.state, other.result().state] == ["authenticated", "authenticated"]
    assert jwks_fetches(emu) == 1


def test_two_logins_missing_a_rotated_kid_share_the_second_fetch(
    emu: Auth0Emulator, clock: FakeClock, prepared: tuple[list[Flow], list[str]]
) -> None:
    """Two logins that joined a fetch answered before a key rotation share one fresh fetch."""
    flows, codes = prepared[0][:3], prepared[1][:3]

    async def main() -> list[str]:
        gate = AsyncGate(emu, release_after=None)
        async with AsyncFlowClient(CONFIG, transport=gate, clock=clock.time) as client:
            first = asyncio.ensure_future(client.confirm_oob(flows[0], codes[0]))
            while jwks_fetches(emu) == 0:  # the first JWKS is answered (old key), and held
                await asyncio.sleep(0)
            emu.rotate_signing_key(keep_old=False)
            later = [
                asyncio.ensure_future(client.confirm_oob(f, c))
                for f, c in zip(flows[1:], codes[1:], strict=True)
            ]
            while gate.confirms < 3:  # both new-key tokens are in hand: they join the held fetch
                await asyncio.sleep(0)
            for _ in range(10):
                await asyncio.sleep(0)
            gate.open.set()
            results = await asyncio.gather(first, *later)
        return [r.state for r in results]

    assert asyncio.run(main()) == ["authenticated"] * 3
    assert jwks_fetches(emu) == 2
