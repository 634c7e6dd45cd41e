"""Pause, persist, resume, roll back: through FlowRepository against the emulator."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from flowengine import (
    Auth0Config,
    FlowBusyError,
    FlowClient,
    FlowExpiredError,
    FlowRepository,
    Keyring,
    SnapshotError,
    StaleSnapshotError,
    dump_flow,
    load_flow,
)
from flowengine._flow import Flow
from flowengine.stores import FlowStore, MemoryStore
from flowengine.testing import Auth0Emulator, FakeClock, PushScript

from .scripts import SCRIPTS, Step, run_step

TENANT = "tenant.example.auth0.com"
CONFIG = Auth0Config(TENANT, "app-id", "app-secret")
KEYS = Keyring.generate("k1")


def tenant(clock: FakeClock, seed: int = 7) -> Auth0Emulator:
    """A deterministic emulated tenant: the same seed gives the same codes and tokens."""
    emu = Auth0Emulator(domain=TENANT, clock=clock.time, sleep=clock.sleep, seed=seed)
    emu.add_client("app-id", client_secret="app-secret")
    emu.push_script = PushScript(pending=1, outcome="approve")
    return emu


def client_for(emu: Auth0Emulator, clock: FakeClock) -> FlowClient:
    return FlowClient(CONFIG, transport=emu.transport(), clock=clock.time, sleep=clock.sleep)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_resume_continues_exactly_like_the_original(name: str) -> None:
    """At every step of every script, a flow resumed from its snapshot continues identically.

    Two tenants with the same seed and clock answer identically; one run keeps
    its flow object, the other seals and reopens it before every step.
    """
    script = SCRIPTS[name]
    for cut in range(len(script) + 1):
        clocks = FakeClock(), FakeClock()
        emus = tenant(clocks[0]), tenant(clocks[1])
        clients = client_for(emus[0], clocks[0]), client_for(emus[1], clocks[1])
        flows = [Flow.new("fl_same", clocks[0].time()), Flow.new("fl_same", clocks[1].time())]
        for index, step in enumerate(script):
            if index >= cut:
                flows[1] = load_flow(dump_flow(flows[1], KEYS), KEYS, now=clocks[1].time())
            outcomes = [run_step(clients[i], emus[i], flows[i], step) for i in (0, 1)]
            assert outcomes[0] == outcomes[1], (name, cut, index, step)
            assert flows[0].to_envelope() == flows[1].to_envelope(), (name, cut, index)
        assert flows[1].state == script[-1].expect


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_rollback_then_redo_lands_in_an_equivalent_state(name: str) -> None:
    """Rolling back the last state change and redoing it reaches the same state again."""
    script = SCRIPTS[name]
    clock = FakeClock()
    emu = tenant(clock)
    client = client_for(emu, clock)
    flow = Flow.new("fl_rb", clock.time())
    checked = 0
    for step in script:
        before_state = flow.state
        run_step(client, emu, flow, step)
        redo_safe = step.redo_safe and flow.state != before_state and not flow.is_final
        if redo_safe:
            after = flow.state
            client.rollback(flow)
            assert flow.state == before_state
            run_step(client, emu, flow, step)
            assert flow.state == after
            checked += 1
    assert checked >= 1


def test_single_byte_changes_to_a_stored_row_are_refused(tmp_path: Any) -> None:
    """Every single-byte change of a stored snapshot is refused with a SnapshotError."""
    clock = FakeClock()
    emu = tenant(clock)
    client = client_for(emu, clock)
    flow = Flow.new("fl_bytes", clock.time())
    run_step(client, emu, flow, Step("start"))
    run_step(client, emu, flow, Step("verify"))
    data = dump_flow(flow, KEYS).encode()
    refused = 0
    for pos in range(len(data)):
        for delta in (1, 0x20):
            changed = bytearray(data)
            changed[pos] = (changed[pos] + delta) % 256
            with pytest.raises(SnapshotError):
                load_flow(bytes(changed), KEYS, now=None)
            refused += 1
    assert refused == 2 * len(data)


def test_expired_flow_is_expired_on_resume_and_sends_nothing() -> None:
    """Resuming past the code's deadline stores `expired` and raises before any request."""
    clock = FakeClock()
    emu = tenant(clock)
    repo = FlowRepository(MemoryStore(), KEYS, clock=clock.time)
    client = client_for(emu, clock)
    flow = client.new_flow()
    handle = repo.add(flow)
    with repo.step(handle) as f:
        client.start_passwordless(f, connection="sms", phone_number="+15550100")
    handle = f.handle
    clock.advance(181)
    sent = len(emu.requests)
    with pytest.raises(FlowExpiredError), repo.step(handle) as f:
        client.verify_otp(f, "123456")
    assert repo.get(flow.flow_id).state == "expired"
    assert len(emu.requests) == sent


def test_failed_step_leaves_the_stored_flow_unchanged() -> None:
    """A step that raises without changing the flow releases the claim and writes nothing."""
    clock = FakeClock()
    emu = tenant(clock)
    store = MemoryStore()
    repo = FlowRepository(store, KEYS, clock=clock.time)
    client = client_for(emu, clock)
    flow = client.new_flow()
    handle = repo.add(flow)
    before = store.load(flow.flow_id)
    with pytest.raises(Exception, match="not allowed"), repo.step(handle) as f:
        client.verify_otp(f, "123456")
    assert store.load(flow.flow_id) == before
    assert f.handle == handle  # nothing was written: the same handle still resumes it
    with repo.step(handle) as f:  # the claim was released
        client.start_passwordless(f, connection="sms", phone_number="+15550100")
    assert repo.get(flow.flow_id).state == "code_sent"


def test_replaying_an_old_snapshot_is_refused() -> None:
    """Saving over a newer revision with an old one raises StaleSnapshotError."""
    clock = FakeClock()
    emu = tenant(clock)
    store = MemoryStore()
    repo = FlowRepository(store, KEYS, clock=clock.time)
    client = client_for(emu, clock)
    flow = client.new_flow()
    handle = repo.add(flow)
    old = store.load(flow.flow_id)
    with repo.step(handle) as f:
        client.start_passwordless(f, connection="sms", phone_number="+15550100")
    replay = type(old)(
        old.flow_id, old.seq + 1, old.state, old.expires_at, old.updated_at, old.data
    )
    with pytest.raises(StaleSnapshotError):
        store.save(replay, expected_seq=old.seq, token=None)


RACES = 1000
COMPETITORS = 4


def test_racing_resumers_exactly_one_advances_and_the_loser_sends_nothing(
    shared_store: FlowStore,
) -> None:
    """Of several engines resuming one flow at one seq, one sends and advances; the rest nothing.

    Each race: a stored flow in `started`; four threads, each with its own
    repository and client, resume it with the same handle (one revision, four
    holders) and call start_passwordless. The tenant must see exactly one
    request per race.
    """
    clock = FakeClock()
    emu = tenant(clock)
    emu.rate_limit("/passwordless/start", None)
    client = client_for(emu, clock)
    winners = losers = 0
    for race in range(RACES):
        flow = Flow.new(f"fl_race_{race}", clock.time())
        handle = FlowRepository(shared_store, KEYS, clock=clock.time).add(flow)
        sent_before = len(emu.requests)
        barrier = threading.Barrier(COMPETITORS)
        results: list[str] = []

        def compete(
            handle: str = handle,
            barrier: threading.Barrier = barrier,
            results: list[str] = results,
        ) -> None:
            repo = FlowRepository(shared_store, KEYS, clock=clock.time)
            barrier.wait()
            try:
                with repo.step(handle, expected_seq=0) as f:
                    client.start_passwordless(f, connection="sms", phone_number="+15550100")
                results.append("won")
            except (StaleSnapshotError, FlowBusyError):
                results.append("lost")

        threads = [threading.Thread(target=compete) for _ in range(COMPETITORS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results.count("won") == 1, (race, results)
        assert len(results) == COMPETITORS
        assert len(emu.requests) - sent_before == 1
        stored = shared_store.load(flow.flow_id)
        assert (stored.seq, stored.state) == (1, "code_sent")
        winners += 1
        losers += results.count("lost")
    assert (winners, losers) == (RACES, RACES * (COMPETITORS - 1))
    record_races(type(shared_store).__name__, winners, losers)


def record_races(store: str, winners: int, losers: int) -> None:
    """Add the figures to the end-of-run summary (tests/summary.py)."""
    from tests import summary

    summary.record(f"repository races ({store})", races=RACES, winners=winners, losers=losers)
