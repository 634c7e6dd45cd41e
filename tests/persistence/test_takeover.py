"""A worker that dies mid-step leaves an intent; whoever takes over never repeats it silently."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from flowengine import (
    Auth0Config,
    Flow,
    FlowBusyError,
    FlowClient,
    FlowClosedError,
    FlowRepository,
    GuardRejectedError,
    Keyring,
    LostUpdateError,
    StoreError,
)
from flowengine.stores import MemoryStore, SQLiteStore, StoredFlow
from flowengine.testing import Auth0Emulator, FakeClock

PHONE = "+15550100"
DOMAIN = "tenant.example.auth0.com"
LEASE = 120.0


class Rig:
    """One tenant, one store and two workers sharing a fake clock."""

    def __init__(
        self,
        store_path: Path | None = None,
        keys: Keyring | None = None,
        lease: float = LEASE,
        *,
        record_leases: bool = False,
    ) -> None:
        self.clock = FakeClock()
        self.emu = Auth0Emulator(domain=DOMAIN, seed=41, clock=self.clock)
        self.emu.add_client("app-id", client_secret="app-secret")
        self.store: MemoryStore | SQLiteStore = (
            SQLiteStore(store_path)
            if store_path is not None
            else (_Leases if record_leases else MemoryStore)(clock=self.clock)
        )
        keys = keys or Keyring.generate()
        self.lease = lease
        self.repo = FlowRepository(self.store, keys, clock=self.clock, lease=lease)
        config = Auth0Config(DOMAIN, "app-id", client_secret="app-secret")
        self.client = FlowClient(config, transport=self.emu.transport(), clock=self.clock)
        # Dead workers' open blocks: kept referenced, or garbage collection would run their
        # exit (a dead process runs nothing).
        self.dead: list[object] = []

    def die_during(self, handle: str, step: str, *args: object, **kwargs: object) -> Flow:
        """Start ``step`` in a repo.step block and vanish after Auth0 answered (no save)."""
        block = self.repo.step(handle)
        self.dead.append(block)
        flow = block.__enter__()
        getattr(self.client, step)(flow, *args, **kwargs)
        return flow  # the block is never exited: the claim and its intent stay behind

    def after_the_lease(self) -> None:
        """Let the dead worker's lease run out (on the store's clock too, for SQLite)."""
        self.clock.advance(self.lease + 1)


class _Leases(MemoryStore):
    """A memory store that records the lease of every claim made on it."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.leases: list[float] = []

    def claim(self, *args: Any, **kwargs: Any) -> str | None:
        self.leases.append(kwargs["lease"])
        return super().claim(*args, **kwargs)


@pytest.fixture
def rig() -> Iterator[Rig]:
    """A rig over the memory store."""
    made = Rig()
    yield made
    made.client.close()


def _sms_to(rig: Rig, to: str) -> int:
    return sum(1 for m in rig.emu.outbox if m.to == to)


def test_a_start_that_died_unsaved_is_not_sent_again_silently(rig: Rig) -> None:
    """After a takeover, start_passwordless is refused; only an explicit resend sends again."""
    flow = rig.client.new_flow()
    handle = rig.repo.add(flow)
    rig.die_during(handle, "start_passwordless", connection="sms", phone_number=PHONE)
    assert _sms_to(rig, PHONE) == 1
    rig.after_the_lease()
    with structlog.testing.capture_logs() as events, rig.repo.step(handle) as taken:
        assert taken.uncertain is not None and taken.uncertain.trigger == "start_passwordless"
        with pytest.raises(GuardRejectedError) as info:
            rig.client.start_passwordless(taken, connection="sms", phone_number=PHONE)
        assert info.value.guard == "no_unconfirmed_send"
        assert _sms_to(rig, PHONE) == 1, "no silent second SMS"
        rig.client.resend_code(taken)  # the explicit, informed resend
    assert [e["event"] for e in events if e["event"] == "flow_takeover"] == ["flow_takeover"]
    assert _sms_to(rig, PHONE) == 2
    assert taken.state == "code_sent" and taken.handle


def test_a_verify_that_died_unsaved_needs_a_new_code(rig: Rig) -> None:
    """After a takeover of a verify_otp, the code counts as spent: resend first."""
    handle = rig.repo.add(rig.client.new_flow())
    with rig.repo.step(handle) as f:
        rig.client.start_passwordless(f, connection="sms", phone_number=PHONE)
    rig.die_during(f.handle, "verify_otp", rig.emu.last_code(PHONE))
    rig.after_the_lease()
    sent = len(rig.emu.requests)
    with rig.repo.step(f.handle) as taken:
        assert taken.uncertain is not None and taken.uncertain.trigger == "verify_otp"
        with pytest.raises(GuardRejectedError) as info:
            rig.client.verify_otp(taken, rig.emu.last_code(PHONE))
        assert info.value.guard == "code_attempts_left"
    assert len(rig.emu.requests) == sent


def test_a_recovery_code_that_died_unsaved_is_not_offered_again(rig: Rig) -> None:
    """Auth0 may have rotated the recovery code: the flow refuses it and points elsewhere."""
    handle = rig.repo.add(rig.client.new_flow())
    with rig.repo.step(handle) as f:
        rig.client.start_passwordless(f, connection="sms", phone_number=PHONE)
    with rig.repo.step(f.handle) as f:
        rig.client.verify_otp(f, rig.emu.last_code(PHONE))
    with rig.repo.step(f.handle) as f:
        enrolled = rig.client.enroll(f, "sms", phone_number=PHONE)
        rig.client.confirm_oob(f, rig.emu.last_code(PHONE, purpose="mfa"))
    codes = enrolled.recovery_codes or [rig.emu.recovery_code_of(PHONE) or ""]
    second = rig.client.new_flow()
    handle = rig.repo.add(second)
    with rig.repo.step(handle) as g:
        rig.client.start_passwordless(g, connection="sms", phone_number=PHONE)
    with rig.repo.step(g.handle) as g:
        rig.client.verify_otp(g, rig.emu.last_code(PHONE))
    assert g.state == "mfa_required"
    rig.die_during(g.handle, "confirm_recovery_code", codes[0])
    rig.after_the_lease()
    with rig.repo.step(g.handle) as taken:
        assert taken.uncertain is not None
        assert taken.uncertain.trigger == "confirm_recovery_code"
        with pytest.raises(GuardRejectedError) as info:
            rig.client.confirm_recovery_code(taken, codes[0])
        assert info.value.guard == "recovery_code_not_in_doubt"
        assert "another factor" in info.value.reason


def test_a_stalled_worker_that_outlived_a_dead_takeover_sends_nothing(rig: Rig) -> None:
    """A renewal taking over a dead second worker's claim records the doubt and sends nothing."""
    handle = rig.repo.add(rig.client.new_flow())
    with pytest.raises(FlowBusyError) as busy, rig.repo.step(handle) as stalled:  # A stalls
        rig.after_the_lease()
        rig.die_during(handle, "start_passwordless", connection="sms", phone_number=PHONE)  # B
        assert _sms_to(rig, PHONE) == 1
        rig.after_the_lease()  # B's claim lapses too, its intent still in the store
        sent = len(rig.emu.requests)
        rig.client.start_passwordless(stalled, connection="sms", phone_number=PHONE)  # A wakes
    assert (busy.value.flow_id, busy.value.seq) == (stalled.flow_id, 0)
    assert len(rig.emu.requests) == sent and _sms_to(rig, PHONE) == 1, "no silent second SMS"
    with rig.repo.step(stalled.handle) as later:  # the doubt was saved: the next step knows
        assert later.uncertain is not None and later.uncertain.trigger == "start_passwordless"
        with pytest.raises(GuardRejectedError) as info:
            rig.client.start_passwordless(later, connection="sms", phone_number=PHONE)
        assert info.value.guard == "no_unconfirmed_send"
    assert _sms_to(rig, PHONE) == 1


def test_the_async_client_also_sends_nothing_after_a_dead_takeover(rig: Rig) -> None:
    """Under AsyncFlowRepository the renewal that meets a dead worker's intent stops the send."""
    import asyncio

    from flowengine import AsyncFlowClient, AsyncFlowRepository

    arepo = AsyncFlowRepository(rig.repo)
    config = Auth0Config(DOMAIN, "app-id", client_secret="app-secret")

    async def stalled_start() -> Flow:
        handle = await arepo.add(rig.client.new_flow())
        async with AsyncFlowClient(
            config, transport=rig.emu.async_transport(), clock=rig.clock
        ) as client:
            with pytest.raises(FlowBusyError):
                async with arepo.step(handle) as stalled:
                    rig.after_the_lease()
                    rig.die_during(
                        handle, "start_passwordless", connection="sms", phone_number=PHONE
                    )
                    rig.after_the_lease()
                    await client.start_passwordless(stalled, connection="sms", phone_number=PHONE)
        return stalled

    stalled = asyncio.run(stalled_start())
    assert _sms_to(rig, PHONE) == 1, "no silent second SMS"
    with rig.repo.step(stalled.handle) as later:
        assert later.uncertain is not None and later.uncertain.trigger == "start_passwordless"


def test_a_takeover_under_a_dotted_key_id_reads_the_intent() -> None:
    """With a key id holding a dot, the taker-over still reads which request went out."""
    made = Rig(keys=Keyring([("2026.12", bytes(range(32)))]))
    try:
        handle = made.repo.add(made.client.new_flow())
        made.die_during(handle, "start_passwordless", connection="sms", phone_number=PHONE)
        made.after_the_lease()
        with made.repo.step(handle) as taken:
            assert taken.uncertain is not None
            assert taken.uncertain.trigger == "start_passwordless"  # not "unknown"
    finally:
        made.client.close()


def test_the_intent_is_sealed_in_the_store(tmp_path: Path) -> None:
    """The journal names where a code went, but the store never holds it in clear text."""
    made = Rig(tmp_path / "flows.db")
    try:
        handle = made.repo.add(made.client.new_flow())
        made.die_during(handle, "start_passwordless", connection="sms", phone_number=PHONE)
        with sqlite3.connect(tmp_path / "flows.db") as db:
            (intent,) = db.execute("SELECT claim_intent FROM flows").fetchone()
        assert intent and PHONE not in intent and "start_passwordless" not in intent
    finally:
        made.client.close()


def _stalled_save_over_a_dead_resend(rig: Rig, handle: str) -> Flow:
    """A sends a code and stalls; B takes over, resends and dies; A's block then saves."""
    with rig.repo.step(handle) as stalled:  # A
        rig.client.start_passwordless(stalled, connection="sms", phone_number=PHONE)
        rig.after_the_lease()
        rig.die_during(handle, "resend_code")  # B: takes A's doubt over, resends, dies
        assert _sms_to(rig, PHONE) == 2
        rig.after_the_lease()  # B's claim lapses, its intent still in the store
    return stalled  # A's block exited: its save met B's lapsed claim and intent


def test_a_stalled_worker_saving_over_a_dead_takeover_keeps_its_doubt(rig: Rig) -> None:
    """A save over a dead worker's lapsed claim records that worker's request as a doubt."""
    handle = rig.repo.add(rig.client.new_flow())
    with structlog.testing.capture_logs() as events:
        stalled = _stalled_save_over_a_dead_resend(rig, handle)
    assert stalled.state == "code_sent" and stalled.handle  # A's own result is saved too
    taken = [e["trigger"] for e in events if e["event"] == "flow_takeover"]
    assert taken == ["start_passwordless", "resend_code"]  # B took A's over, then A took B's
    with rig.repo.step(stalled.handle) as later:
        assert later.uncertain is not None and later.uncertain.trigger == "resend_code"
        assert later.seq == 1  # A's step and B's doubt: one stored revision
    assert _sms_to(rig, PHONE) == 2
    with pytest.raises(FlowClosedError):  # A's object is closed again after the takeover
        rig.client.resend_code(stalled)


def test_a_renewal_that_took_over_and_died_hands_the_intent_on(rig: Rig) -> None:
    """A worker whose renewal took a dead worker's intent over, then died, leaves it behind."""
    import json

    from flowengine._repository import _intent_aad

    handle = rig.repo.add(rig.client.new_flow())
    block = rig.repo.step(handle)
    rig.dead.append(block)
    stalled = block.__enter__()  # A claims and stalls
    rig.after_the_lease()
    rig.die_during(handle, "start_passwordless", connection="sms", phone_number=PHONE)  # B
    rig.after_the_lease()
    with pytest.raises(FlowBusyError) as busy:  # A's renewal (another number) takes B's over
        rig.client.start_passwordless(stalled, connection="sms", phone_number="+15550199")
    assert (busy.value.flow_id, busy.value.seq) == (stalled.flow_id, 0)
    entry = rig.store._flows[stalled.flow_id]  # A dies here, before its block saves
    left = json.loads(
        rig.repo.keyring.open_sealed(entry.claim_intent, _intent_aad(entry.record.flow_id, 0))
    )
    assert left["t"] == "start_passwordless" and left["p"]["phone_number"] == PHONE  # B's
    rig.after_the_lease()
    with rig.repo.step(handle) as later:
        assert later.uncertain is not None and later.uncertain.trigger == "start_passwordless"
    assert _sms_to(rig, PHONE) == 1 and _sms_to(rig, "+15550199") == 0


def test_a_failed_save_after_a_takeover_leaves_the_dead_workers_intent(rig: Rig) -> None:
    """If the save after that takeover fails too, the next worker still learns of B's send."""
    handle = rig.repo.add(rig.client.new_flow())
    real_save = rig.store.save
    calls: list[int] = []

    def flaky_save(record: StoredFlow, *, expected_seq: int, token: str | None) -> None:
        calls.append(expected_seq)
        if len(calls) == 2:  # the save after the takeover
            raise StoreError("disk full")
        real_save(record, expected_seq=expected_seq, token=token)

    rig.store.save = flaky_save  # type: ignore[method-assign]
    with pytest.raises(LostUpdateError) as info:
        _stalled_save_over_a_dead_resend(rig, handle)
    rig.store.save = real_save  # type: ignore[method-assign]
    assert calls == [0, 0] and info.value.results  # A's caller still gets A's result
    rig.clock.advance(1)  # the cut claim is over
    with rig.repo.step(handle) as later:  # nothing was stored: B's intent was kept
        assert later.uncertain is not None and later.uncertain.trigger == "resend_code"


def test_a_live_worker_that_took_over_keeps_the_first_workers_intent(rig: Rig) -> None:
    """B takes A's lapsed claim and stalls: A's save is lost, and A's send stays on record."""
    handle = rig.repo.add(rig.client.new_flow())
    with pytest.raises(LostUpdateError), rig.repo.step(handle) as stalled:  # A
        rig.client.start_passwordless(stalled, connection="sms", phone_number=PHONE)
        rig.after_the_lease()
        alive = rig.repo.step(handle)
        rig.dead.append(alive)
        alive.__enter__()  # B holds a live claim, having learnt of A's send
    with pytest.raises(FlowBusyError), rig.repo.step(handle):
        pass
    rig.after_the_lease()  # B dies before saving: its claim still names A's send
    with rig.repo.step(handle) as later:
        assert later.uncertain is not None and later.uncertain.trigger == "start_passwordless"
        with pytest.raises(GuardRejectedError):
            rig.client.start_passwordless(later, connection="sms", phone_number=PHONE)
    assert _sms_to(rig, PHONE) == 1, "no silent second SMS"


def test_a_save_failing_outright_over_a_dead_takeover_hands_its_intent_on() -> None:
    """A save that fails (not refused) where a dead worker's intent lies still leaves it."""
    made = Rig(lease=30.0, record_leases=True)
    try:
        handle = made.repo.add(made.client.new_flow())
        real_save = made.store.save

        def failing_save(record: StoredFlow, *, expected_seq: int, token: str | None) -> None:
            raise StoreError("connection reset")

        with pytest.raises(LostUpdateError), made.repo.step(handle) as stalled:  # A
            made.client.start_passwordless(stalled, connection="sms", phone_number=PHONE)
            made.after_the_lease()
            made.die_during(handle, "resend_code")  # B takes over, resends, dies
            made.after_the_lease()
            made.store.save = failing_save  # type: ignore[method-assign]
        made.store.save = real_save  # type: ignore[method-assign]
        made.clock.advance(1)  # A cut its claim to a moment: it is over
        with made.repo.step(handle) as later:
            assert later.uncertain is not None and later.uncertain.trigger == "resend_code"
        assert isinstance(made.store, _Leases)
        assert set(made.store.leases) == {30.0, 1e-6}  # the repository's lease, or the cut
    finally:
        made.client.close()


def test_every_takeover_claim_lasts_the_repositorys_lease() -> None:
    """The claims a takeover makes (kept intent, save-over) last the repository's lease."""
    made = Rig(lease=30.0, record_leases=True)
    try:
        handle = made.repo.add(made.client.new_flow())
        stalled = _stalled_save_over_a_dead_resend(made, handle)
        assert stalled.state == "code_sent"
        assert isinstance(made.store, _Leases)
        assert made.store.leases and set(made.store.leases) == {30.0}
    finally:
        made.client.close()


def test_a_block_that_sent_then_set_its_state_by_hand_leaves_its_intent(rig: Rig) -> None:
    """A send followed by a hand-set state is never saved, and never repeated silently."""
    handle = rig.repo.add(rig.client.new_flow())
    with pytest.raises(FlowClosedError), rig.repo.step(handle) as f:
        rig.client.start_passwordless(f, connection="sms", phone_number=PHONE)
        f.state = "authenticated"  # type: ignore[assignment]
    rig.clock.advance(1)  # the claim was cut to a moment
    with rig.repo.step(handle) as later:
        assert later.state == "started"  # nothing of the block was saved...
        assert later.uncertain is not None  # ...but its request is on record
        assert later.uncertain.trigger == "start_passwordless"
        with pytest.raises(GuardRejectedError):
            rig.client.start_passwordless(later, connection="sms", phone_number=PHONE)
    assert _sms_to(rig, PHONE) == 1, "no silent second SMS"
