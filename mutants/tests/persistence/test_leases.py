"""A claim lives as long as the work: waits renew it, and a worker that lost it sends nothing."""

from __future__ import annotations

import pytest

from flowengine import (
    Auth0Config,
    Flow,
    FlowBusyError,
    FlowClient,
    FlowRepository,
    Keyring,
    LostUpdateError,
)
from flowengine.stores import MemoryStore
from flowengine.testing import Auth0Emulator, FakeClock, PushScript

PHONE = "+15550100"
DOMAIN = "tenant.example.auth0.com"
LEASE = 120.0


def _push_wait(
    *, renew: bool, monkeypatch: pytest.MonkeyPatch, lease: float = LEASE, intrude_at: float = 200
) -> tuple[list[str], Flow, str]:
    """Wait 250 s for a push under a lease while a second worker tries the flow meanwhile."""
    clock = FakeClock()
    emu = Auth0Emulator(domain=DOMAIN, seed=31, clock=clock)
    emu.add_client("app-id", client_secret="app-secret")
    emu.push_script = PushScript(pending=50, outcome="approve")
    store = MemoryStore(clock=clock)
    keys = Keyring.generate()
    repo = FlowRepository(store, keys, clock=clock, lease=lease)
    intruder = FlowRepository(store, keys, clock=clock, lease=lease)
    seen: list[str] = []
    state = {"handle": "", "start": 0.0}

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if not seen and clock() - state["start"] > intrude_at:
            try:
                with intruder.step(state["handle"]) as other:
                    other.cancel(clock())  # a second tab abandons the login
                    seen.append("took over")
            except FlowBusyError:
                seen.append("busy")

    if not renew:
        monkeypatch.setattr(Flow, "keep_claim", lambda self, *args: None)
    config = Auth0Config(DOMAIN, "app-id", client_secret="app-secret")
    with FlowClient(config, transport=emu.transport(), clock=clock, sleep=sleep) as client:
        flow = client.new_flow()
        handle = repo.add(flow)
        with repo.step(handle) as f:
            client.start_passwordless(f, connection="sms", phone_number=PHONE)
        with repo.step(f.handle) as f:
            client.verify_otp(f, emu.last_code(PHONE))
        with repo.step(f.handle) as f:
            client.enroll(f, "push")
        state["handle"], state["start"] = f.handle, clock()
        with repo.step(f.handle) as f:
            client.wait_for_push(f, timeout=300)
    return seen, f, f.handle


def test_a_long_push_wait_keeps_its_claim(monkeypatch: pytest.MonkeyPatch) -> None:
    """Polls renew the lease: at 200 s a second worker is refused and the tokens are saved."""
    seen, flow, handle = _push_wait(renew=True, monkeypatch=monkeypatch)
    assert seen == ["busy"]
    assert flow.state == "authenticated" and flow.tokens is not None
    assert handle


def test_without_renewal_the_claim_is_lost_and_the_tokens_come_back_in_the_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The control: with renewal switched off, the intruder takes over and the save is lost."""
    with pytest.raises(LostUpdateError) as info:
        _push_wait(renew=False, monkeypatch=monkeypatch)
    assert info.value.result is not None


def test_a_worker_that_outlived_its_lease_sends_nothing() -> None:
    """Once its lease ran out and another worker claimed the flow, the first one sends nothing."""
    clock = FakeClock()
    emu = Auth0Emulator(domain=DOMAIN, seed=32, clock=clock)
    emu.add_client("app-id", client_secret="app-secret")
    store = MemoryStore(clock=clock)
    keys = Keyring.generate()
    slow = FlowRepository(store, keys, clock=clock, lease=LEASE)
    fast = FlowRepository(store, keys, clock=clock, lease=LEASE)
    config = Auth0Config(DOMAIN, "app-id", client_secret="app-secret")
    with FlowClient(config, transport=emu.transport(), clock=clock) as client:
        flow = client.new_flow()
        handle = slow.add(flow)
        with slow.step(handle) as f:
            client.start_passwordless(f, connection="sms", phone_number=PHONE)
        handle = f.handle
        with pytest.raises(FlowBusyError), slow.step(handle) as stalled:
            clock.advance(LEASE + 10)  # a stop-the-world pause longer than the lease
            with fast.step(handle) as other:  # the claim expired: another worker takes it
                sent = len(emu.requests)
                client.resend_code(stalled)  # the stalled worker wakes up and tries to send
        assert len(emu.requests) == sent, "the stalled worker sent nothing"
        assert other.state == "code_sent"


def test_a_lease_shorter_than_the_poll_interval_is_renewed_within_each_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under a 3 s lease, the 5 s waits between polls are sliced and renewed: no takeover."""
    seen, flow, _ = _push_wait(renew=True, monkeypatch=monkeypatch, lease=3.0, intrude_at=12.5)
    assert seen == ["busy"]
    assert flow.state == "authenticated"


def test_the_async_client_renews_its_claim_off_the_event_loop() -> None:
    """Under AsyncFlowRepository, every claim renewal runs in a worker thread, never the loop's."""
    import asyncio
    import threading

    from flowengine import AsyncFlowClient, AsyncFlowRepository

    emu = Auth0Emulator(domain=DOMAIN, seed=33)
    emu.add_client("app-id", client_secret="app-secret")
    store = MemoryStore()
    claims: list[int] = []
    original = store.claim

    def claim(*args: object, **kwargs: object) -> str | None:
        claims.append(threading.get_ident())
        return original(*args, **kwargs)  # type: ignore[arg-type]

    store.claim = claim  # type: ignore[method-assign]
    repo = AsyncFlowRepository(FlowRepository(store, Keyring.generate()))
    config = Auth0Config(DOMAIN, "app-id", client_secret="app-secret")

    async def login() -> int:
        loop_thread = threading.get_ident()
        async with AsyncFlowClient(config, transport=emu.async_transport()) as client:
            handle = await repo.add(client.new_flow())
            async with repo.step(handle) as f:
                await client.start_passwordless(f, connection="sms", phone_number=PHONE)
            async with repo.step(f.handle) as f:
                await client.verify_otp(f, emu.last_code(PHONE))
            assert f.state == "mfa_required"
        return loop_thread

    loop_thread = asyncio.run(login())
    assert len(claims) == 4  # a claim and a renewal with intent per step
    assert loop_thread not in claims
