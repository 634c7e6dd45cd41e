"""The FlowRepository's contract, pinned where mutation testing found it loose."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from flowengine import (
    Auth0Config,
    ConfigurationError,
    FlowClient,
    FlowClosedError,
    FlowExpiredError,
    FlowRepository,
    InvalidHandleError,
    Keyring,
    LostUpdateError,
    SnapshotExpiredError,
    SnapshotMachineError,
    SnapshotReplayError,
    SnapshotTamperedError,
    StaleHandleError,
    StaleSnapshotError,
    StepResult,
)
from flowengine._errors import FlowNotFoundError
from flowengine._repository import AsyncFlowRepository, dump_flow, load_flow
from flowengine.stores import MemoryStore, SQLiteStore, StoredFlow
from flowengine.testing import Auth0Emulator, FakeClock

PHONE = "+15550100"
DOMAIN = "tenant.example.auth0.com"


class Rig:
    """A tenant, a client and a repository over one store, all on one fake clock."""

    def __init__(self, store: Any = None, **repo_options: Any) -> None:
        self.clock = FakeClock()
        self.emu = Auth0Emulator(domain=DOMAIN, seed=61, clock=self.clock)
        self.emu.add_client("app-id", client_secret="app-secret")
        self.store: Any = store if store is not None else MemoryStore(clock=self.clock)
        self.keys = Keyring.generate()
        self.repo = FlowRepository(self.store, self.keys, clock=self.clock, **repo_options)
        config = Auth0Config(DOMAIN, "app-id", client_secret="app-secret")
        self.client = FlowClient(config, transport=self.emu.transport(), clock=self.clock)
        self.dead: list[object] = []

    def started(self, *, binding: str | None = None) -> tuple[str, str]:
        """A flow stored and moved to code_sent; returns (flow_id, current handle)."""
        flow = self.client.new_flow()
        handle = self.repo.add(flow, binding=binding)
        with self.repo.step(handle, binding=binding) as f:
            self.client.start_passwordless(f, connection="sms", phone_number=PHONE)
        return f.flow_id, f.handle

    def die_during(self, handle: str, step: str, *args: Any, **kwargs: Any) -> None:
        """Run ``step`` in a block that is never exited (a worker that died unsaved)."""
        block = self.repo.step(handle)
        self.dead.append(block)
        flow = block.__enter__()
        getattr(self.client, step)(flow, *args, **kwargs)


@pytest.fixture
def rig() -> Iterator[Rig]:
    """A rig over the memory store."""
    made = Rig()
    yield made
    made.client.close()


@pytest.fixture
def sqlite_rig(tmp_path: Path) -> Iterator[Rig]:
    """A rig over an SQLite file (whose rows a test can read)."""
    made = Rig(SQLiteStore(tmp_path / "flows.db"))
    yield made
    made.client.close()
    made.store.close()


def _claim_row(store: SQLiteStore, flow_id: str) -> tuple[Any, ...]:
    with sqlite3.connect(store.path) as db:
        row = db.execute(
            "SELECT claim_token, claim_expires, claim_intent FROM flows WHERE flow_id = ?",
            (flow_id,),
        ).fetchone()
    assert row is not None
    return tuple(row)


# ------------------------------------------------------------------ construction


def test_the_retention_and_lease_bounds_are_inclusive_and_explained() -> None:
    """30 days of tokens and a 1-day lease are accepted; a hair more is refused with a reason."""
    keys = Keyring.generate()
    store = MemoryStore()
    ok = FlowRepository(store, keys, keep_tokens=86400 * 30, lease=86400)
    assert ok.store is store and ok.keyring is keys
    FlowRepository(store, keys, keep_tokens=0.001, lease=0.001)
    with pytest.raises(ConfigurationError) as info:
        FlowRepository(store, keys, keep_tokens=86400 * 30 + 0.5)
    assert str(info.value) == "keep_tokens must be None or 0 < seconds <= 30 days"
    for lease in (0, -1, 86400.5):
        with pytest.raises(ConfigurationError) as info:
            FlowRepository(store, keys, lease=lease)
        assert str(info.value) == "lease must be 0 < seconds <= 1 day"


@pytest.mark.parametrize("lease", [None, 300.0])
def test_the_claim_lasts_the_configured_lease(tmp_path: Path, lease: float | None) -> None:
    """The stored claim runs out a lease (120 s unless configured) after it was taken."""
    store = SQLiteStore(tmp_path / "flows.db")
    options = {} if lease is None else {"lease": lease}
    rig = Rig(store, **options)
    try:
        flow = rig.client.new_flow()
        handle = rig.repo.add(flow)
        span = lease or 120.0
        before = time.time()
        with rig.repo.step(handle):
            token, expires, intent = _claim_row(store, flow.flow_id)
            after = time.time()
            assert token and intent is None
            assert before + span - 0.01 <= expires <= after + span + 0.01
        assert _claim_row(store, flow.flow_id) == (None, None, None)
        # A renewal (the claim naming the request about to be sent) lasts a lease too.
        before = time.time()
        rig.die_during(handle, "start_passwordless", connection="sms", phone_number=PHONE)
        _, expires, intent = _claim_row(store, flow.flow_id)
        assert intent is not None
        assert before + span - 0.01 <= expires <= time.time() + span + 0.01
    finally:
        rig.client.close()
        store.close()


def test_accepted_hashes_decide_which_machine_definitions_load(rig: Rig) -> None:
    """A repository that accepts only another machine hash refuses the flows of this one."""
    flow_id, handle = rig.started()
    strict = FlowRepository(rig.store, rig.keys, accepted_hashes=["not-this-machine"])
    with pytest.raises(SnapshotMachineError):
        strict.get(flow_id)
    with pytest.raises(SnapshotMachineError):
        strict.view(handle)
    assert rig.repo.get(flow_id).state == "code_sent"


# ------------------------------------------------------------------ snapshots


def test_dump_and_load_flow_round_trip_and_check_the_deadline(rig: Rig) -> None:
    """load_flow gives back the dumped flow; with ``now`` past a deadline it refuses it."""
    flow_id, _ = rig.started()
    flow = rig.repo.get(flow_id)
    text = dump_flow(flow, rig.keys)
    again = load_flow(text, rig.keys, now=rig.clock())
    assert (again.flow_id, again.seq, again.state) == (flow.flow_id, flow.seq, "code_sent")
    assert load_flow(text, rig.keys, now=None).state == "code_sent"
    late = rig.clock() + 86400 * 365
    with pytest.raises(SnapshotExpiredError) as info:
        load_flow(text, rig.keys, now=late)
    assert str(info.value) == f"flow {flow_id!r} passed one of Auth0's deadlines"
    assert load_flow(text, rig.keys, now=None).deadline_passed(late)


def test_kept_tokens_set_the_stored_expiry(rig: Rig) -> None:
    """With keep_tokens the row and the stored flow expire that long after the last step."""
    keeping = FlowRepository(rig.store, rig.keys, clock=rig.clock, keep_tokens=60)
    flow = rig.client.new_flow()
    handle = keeping.add(flow)
    row = rig.store.load(flow.flow_id)
    assert row.expires_at is not None and row.expires_at == flow.expires_at
    with keeping.step(handle) as f:
        rig.client.start_passwordless(f, connection="sms", phone_number=PHONE)
    with keeping.step(f.handle) as f:
        rig.client.verify_otp(f, rig.emu.last_code(PHONE))
    assert rig.store.load(flow.flow_id).expires_at == f.expires_at
    with keeping.step(f.handle) as f:
        rig.client.enroll(f, "sms", phone_number=PHONE)
        result = rig.client.confirm_oob(f, rig.emu.last_code(PHONE, purpose="mfa"))
    assert result.tokens is not None and f.state == "authenticated"
    stored = keeping.view(f.handle)
    assert stored.tokens == result.tokens
    assert stored.expires_at == stored.updated_at + 60
    assert rig.store.load(flow.flow_id).expires_at == stored.updated_at + 60
    assert rig.repo.view(f.handle).tokens == result.tokens


# ------------------------------------------------------------------ handles


def test_adding_a_stored_flow_or_handing_out_an_unstored_one_is_refused(rig: Rig) -> None:
    """A flow is added once; a flow this repository never stored has no handle to give."""
    flow = rig.client.new_flow()
    with pytest.raises(InvalidHandleError) as info:
        rig.repo.handle(flow)
    assert str(info.value) == (
        "handle: this flow was not stored or resumed through this repository"
    )
    handle = rig.repo.add(flow)
    assert flow.handle == handle
    assert rig.repo.handle(flow) == handle
    with pytest.raises(InvalidHandleError) as info:
        rig.repo.add(flow)
    assert str(info.value) == "handle: this flow is stored already: resume it with its handle"


def test_a_binding_is_required_by_view_audit_and_step(rig: Rig) -> None:
    """A flow added with a binding is refused without it or with another one, everywhere."""
    flow_id, handle = rig.started(binding="session-1")
    for call in (
        lambda b: rig.repo.view(handle, binding=b),
        lambda b: rig.repo.audit(handle, binding=b),
        lambda b: rig.repo.step(handle, binding=b).__enter__(),
    ):
        for wrong in (None, "session-2"):
            with pytest.raises(InvalidHandleError) as info:
                call(wrong)
            assert str(info.value) == "handle: this handle does not resume this flow"
    seen = rig.repo.view(handle, binding="session-1")
    assert seen.state == "code_sent" and rig.repo.handle(seen) == handle
    trail = rig.repo.audit(handle, binding="session-1")
    assert [e.trigger for e in trail if e.trigger == "start_passwordless"]
    with rig.repo.step(handle, binding="session-1") as f:
        rig.client.resend_code(f)
    assert f.handle != handle
    assert rig.store.load(flow_id).seq == f.seq


def test_view_reads_with_an_older_handle_but_refuses_a_replayed_row(rig: Rig) -> None:
    """An older handle may look; a row older than the handle is a replay, for view and step."""
    flow = rig.client.new_flow()
    first = rig.repo.add(flow)
    old_row = rig.store.load(flow.flow_id)
    with rig.repo.step(first) as f:
        rig.client.start_passwordless(f, connection="sms", phone_number=PHONE)
    assert rig.repo.view(first).state == "code_sent"
    with pytest.raises(StaleHandleError) as stale:
        rig.repo.step(first).__enter__()
    assert (stale.value.flow_id, stale.value.expected_seq) == (flow.flow_id, flow.seq)
    assert stale.value.actual_seq == f.seq
    # Someone with write access puts the first row back.
    rig.store._flows[flow.flow_id].record = old_row
    with pytest.raises(SnapshotReplayError) as info:
        rig.repo.view(f.handle)
    assert str(info.value) == "the stored flow is older than the handle: a replayed row"
    with pytest.raises(SnapshotReplayError) as info:
        rig.repo.step(f.handle).__enter__()
    assert str(info.value) == (
        "the stored flow is older than the handle: an earlier row was written back"
    )
    assert rig.repo.view(first).state == "started"


def test_a_row_holding_another_flows_snapshot_is_refused(rig: Rig) -> None:
    """A row whose snapshot names another flow, or another revision, is tampering."""
    a = rig.client.new_flow()
    b = rig.client.new_flow()
    rig.repo.add(a)
    rig.repo.add(b)
    row_a, row_b = rig.store.load(a.flow_id), rig.store.load(b.flow_id)
    rig.store._flows[a.flow_id].record = StoredFlow(
        a.flow_id, row_a.seq, row_a.state, row_a.expires_at, row_a.updated_at, row_b.data
    )
    message = (
        f"the row of flow {a.flow_id!r} holds another flow's snapshot or another revision of it"
    )
    with pytest.raises(SnapshotTamperedError) as info:
        rig.repo.get(a.flow_id)
    assert str(info.value) == message
    rig.store._flows[a.flow_id].record = StoredFlow(
        a.flow_id, row_a.seq + 1, row_a.state, row_a.expires_at, row_a.updated_at, row_a.data
    )
    with pytest.raises(SnapshotTamperedError) as info:
        rig.repo.get(a.flow_id)
    assert str(info.value) == message


def test_get_delete_and_sweep(rig: Rig) -> None:
    """get reads by id, delete forgets, sweep deletes what is past its expiry by the clock."""
    flow_id, _ = rig.started()
    other, _ = rig.started()
    assert rig.repo.get(flow_id).flow_id == flow_id
    rig.repo.delete(flow_id)
    with pytest.raises(FlowNotFoundError):
        rig.repo.get(flow_id)
    assert rig.repo.sweep() == 0
    rig.clock.advance(86400 * 2)
    assert rig.repo.sweep() == 1
    with pytest.raises(FlowNotFoundError):
        rig.repo.get(other)


# ------------------------------------------------------------------ stepping


def test_expected_seq_must_be_the_stored_revision(rig: Rig) -> None:
    """A step naming another revision than the stored one is refused before anything is sent."""
    flow_id, handle = rig.started()
    seq = rig.store.load(flow_id).seq
    sent = len(rig.emu.requests)
    with pytest.raises(StaleSnapshotError) as info:
        rig.repo.step(handle, expected_seq=seq - 1).__enter__()
    assert not isinstance(info.value, StaleHandleError)
    assert info.value.flow_id == flow_id
    assert (info.value.expected_seq, info.value.actual_seq) == (seq - 1, seq)
    assert len(rig.emu.requests) == sent
    with rig.repo.step(handle, expected_seq=seq) as f:
        rig.client.resend_code(f)
    assert rig.store.load(flow_id).seq == seq + 1


class _AdvancesBeforeClaim(MemoryStore):
    """A store where another worker steps the flow between our load and our claim."""

    interloper: Any = None

    def load(self, flow_id: str) -> StoredFlow:
        row = super().load(flow_id)
        if self.interloper is not None:
            step, self.interloper = self.interloper, None
            step()
        return row


def test_a_flow_advanced_between_load_and_claim_is_a_stale_handle() -> None:
    """Losing the claim to a newer revision reports the handle stale, with the newer seq."""
    store = _AdvancesBeforeClaim()
    rig = Rig(store)
    flow_id, handle = rig.started()
    seq = store.load(flow_id).seq

    def other_worker() -> None:
        with rig.repo.step(handle) as f:
            rig.client.resend_code(f)

    store.interloper = other_worker
    with pytest.raises(StaleHandleError) as info:
        rig.repo.step(handle).__enter__()
    assert (info.value.expected_seq, info.value.actual_seq) == (seq, seq + 1)
    assert info.value.flow_id == flow_id
    rig.client.close()


def test_a_flow_past_its_deadline_is_saved_expired_with_a_new_handle(sqlite_rig: Rig) -> None:
    """Resuming past the deadline stores `expired` as a new revision and frees the claim."""
    rig = sqlite_rig
    flow_id, handle = rig.started()
    with rig.repo.step(handle) as f:
        rig.client.verify_otp(f, rig.emu.last_code(PHONE))
    handle = f.handle
    rig.clock.advance(601)
    with pytest.raises(FlowExpiredError), rig.repo.step(handle):
        pytest.fail("the body must not run")
    assert rig.repo.get(flow_id).state == "expired"
    assert rig.repo.view(handle).state == "expired"
    with pytest.raises(StaleHandleError):
        rig.repo.step(handle).__enter__()
    assert _claim_row(rig.store, flow_id) == (None, None, None)


def test_a_block_that_changes_nothing_frees_the_claim_at_once(rig: Rig) -> None:
    """After an unchanged block another worker claims the same revision with no wait."""
    flow_id, handle = rig.started()
    seq = rig.store.load(flow_id).seq
    with rig.repo.step(handle) as f:
        pass
    assert f.handle == handle
    assert rig.store.claim(flow_id, seq, "someone-else", now=rig.clock()) is None


def test_an_unchanged_block_that_raises_frees_the_claim_too(rig: Rig) -> None:
    """A body that raises without changing the flow releases its claim and re-raises."""
    flow_id, handle = rig.started()
    seq = rig.store.load(flow_id).seq
    with pytest.raises(KeyError), rig.repo.step(handle):
        raise KeyError("boom")
    assert rig.store.claim(flow_id, seq, "someone-else", now=rig.clock()) is None


def test_a_block_that_sets_the_state_by_hand_frees_the_claim(rig: Rig) -> None:
    """A hand-edited flow is never saved, and its claim is cut to a moment for the next worker."""
    flow_id, handle = rig.started()
    before = rig.store.load(flow_id)
    with pytest.raises(FlowClosedError), rig.repo.step(handle) as f:
        f.state = "authenticated"
    assert rig.store.load(flow_id) == before
    rig.clock.advance(1e-5)  # a moment later
    assert rig.store.claim(flow_id, before.seq, "someone-else", now=rig.clock()) is None


def test_several_changes_under_one_claim_are_one_revision(rig: Rig) -> None:
    """Two steps in one block store seq + 1, and the new handle resumes it."""
    flow_id, handle = rig.started()
    seq = rig.store.load(flow_id).seq
    with rig.repo.step(handle) as f:
        rig.client.resend_code(f)
        rig.client.resend_code(f)
    row = rig.store.load(flow_id)
    assert row.seq == seq + 1 == f.seq
    assert rig.repo.view(f.handle).seq == seq + 1
    with rig.repo.step(f.handle) as g:
        rig.client.verify_otp(g, rig.emu.last_code(PHONE))
    assert rig.store.load(flow_id).state == "mfa_required"


# ------------------------------------------------------------------ the intent journal


def test_the_intent_is_sealed_in_the_claim_with_the_trigger_time_and_destination(
    sqlite_rig: Rig,
) -> None:
    """The claim of a step in flight holds its trigger, time and where a code would go."""
    rig = sqlite_rig
    flow = rig.client.new_flow()
    handle = rig.repo.add(flow)
    seq = rig.store.load(flow.flow_id).seq
    at = rig.clock()
    rig.die_during(handle, "start_passwordless", connection="sms", phone_number=PHONE)
    _, _, intent = _claim_row(rig.store, flow.flow_id)
    assert PHONE not in intent and "start_passwordless" not in intent
    aad = b"flowengine intent v1\0" + flow.flow_id.encode() + b"\0" + str(seq).encode()
    plain = rig.keys.open_sealed(intent, aad)
    assert b" " not in plain  # compact: the journal entry rides on every claim
    entry = json.loads(plain)
    assert entry == {
        "t": "start_passwordless",
        "at": at,
        "p": {"connection": "sms", "phone_number": PHONE},
    }


def test_a_takeover_reads_the_intent_and_marks_the_doubt(rig: Rig) -> None:
    """The next worker sees what the dead one sent, when it took over, and logs the takeover."""
    handle = rig.repo.add(rig.client.new_flow())
    rig.die_during(handle, "start_passwordless", connection="sms", phone_number=PHONE)
    rig.clock.advance(121)
    with structlog.testing.capture_logs() as events, rig.repo.step(handle) as taken:
        assert taken.uncertain is not None
        assert taken.uncertain.trigger == "start_passwordless"
        assert taken.uncertain.at == rig.clock()
        assert taken.context.get("phone_number") == PHONE
        assert taken.context.get("connection") == "sms"
    takeovers = [e for e in events if e["event"] == "flow_takeover"]
    assert len(takeovers) == 1 and takeovers[0].get("trigger") == "start_passwordless"


def test_an_unreadable_intent_is_still_a_doubt(sqlite_rig: Rig) -> None:
    """A claim whose intent cannot be opened is taken over as an unknown request, not ignored."""
    rig = sqlite_rig
    flow = rig.client.new_flow()
    handle = rig.repo.add(flow)
    for garbage in ("not-a-sealed-text", rig.keys.seal(b"[1, 2]", b"wrong aad")):
        with sqlite3.connect(rig.store.path) as db:
            db.execute(
                "UPDATE flows SET claim_token = 'dead', claim_expires = 0, claim_intent = ? "
                "WHERE flow_id = ?",
                (garbage, flow.flow_id),
            )
        with rig.repo.step(handle) as taken:
            assert taken.uncertain is not None and taken.uncertain.trigger == "unknown"
        handle = taken.handle


@pytest.mark.parametrize(
    "entry",
    [[1, 2], {"p": {}}, {"t": "start_passwordless", "p": [1]}, "text"],
)
def test_an_intent_of_the_wrong_shape_is_an_unknown_doubt(sqlite_rig: Rig, entry: Any) -> None:
    """A well-sealed intent that is not a journal entry is taken over as an unknown request."""
    rig = sqlite_rig
    flow = rig.client.new_flow()
    handle = rig.repo.add(flow)
    seq = rig.store.load(flow.flow_id).seq
    aad = b"flowengine intent v1\0" + flow.flow_id.encode() + b"\0" + str(seq).encode()
    sealed = rig.keys.seal(json.dumps(entry).encode(), aad)
    with sqlite3.connect(rig.store.path) as db:
        db.execute(
            "UPDATE flows SET claim_token = 'dead', claim_expires = 0, claim_intent = ? "
            "WHERE flow_id = ?",
            (sealed, flow.flow_id),
        )
    with rig.repo.step(handle) as taken:
        assert taken.uncertain is not None and taken.uncertain.trigger == "unknown"


def test_an_intent_without_params_is_a_doubt_about_its_trigger(sqlite_rig: Rig) -> None:
    """A journal entry naming only its trigger is taken over as a doubt about that trigger."""
    rig = sqlite_rig
    flow = rig.client.new_flow()
    handle = rig.repo.add(flow)
    seq = rig.store.load(flow.flow_id).seq
    aad = b"flowengine intent v1\0" + flow.flow_id.encode() + b"\0" + str(seq).encode()
    sealed = rig.keys.seal(json.dumps({"t": "start_passwordless", "p": None}).encode(), aad)
    with sqlite3.connect(rig.store.path) as db:
        db.execute(
            "UPDATE flows SET claim_token = 'dead', claim_expires = 0, claim_intent = ? "
            "WHERE flow_id = ?",
            (sealed, flow.flow_id),
        )
    with rig.repo.step(handle) as taken:
        assert taken.uncertain is not None and taken.uncertain.trigger == "start_passwordless"


# ------------------------------------------------------------------ lost saves


class _SaveFails(MemoryStore):
    """A store whose saves fail (the database went away after Auth0 answered)."""

    failing = False

    def save(self, record: StoredFlow, *, expected_seq: int, token: str | None) -> None:
        if self.failing:
            raise OSError("disk gone")
        super().save(record, expected_seq=expected_seq, token=token)


def test_a_lost_save_cuts_the_claim_to_now_and_keeps_its_intent() -> None:
    """After a lost save the next worker may claim at once, and learns what went out."""
    store = _SaveFails(clock=FakeClock())
    rig = Rig(store)
    store._clock = rig.clock
    flow_id, handle = rig.started()
    seq = store.load(flow_id).seq
    store.failing = True
    with (
        structlog.testing.capture_logs() as events,
        pytest.raises(LostUpdateError) as info,
        rig.repo.step(handle) as f,
    ):
        rig.client.resend_code(f)
    failed = [e for e in events if e["event"] == "flow_save_failed"]
    assert len(failed) == 1 and failed[0]["cause"] == "OSError"
    assert info.value.flow_id == flow_id
    last = info.value.result
    assert isinstance(last, StepResult) and last.state == "code_sent"
    assert isinstance(info.value.__cause__, OSError)
    assert f.handle == handle
    store.failing = False
    rig.clock.advance(0.001)
    with rig.repo.step(handle) as taken:
        assert taken.uncertain is not None and taken.uncertain.trigger == "resend_code"
    assert store.load(flow_id).seq == seq + 1
    rig.client.close()


def test_a_lost_save_under_a_failing_block_raises_the_blocks_error() -> None:
    """When the block itself raised, its error (not LostUpdateError) reaches the caller."""
    store = _SaveFails(clock=FakeClock())
    rig = Rig(store)
    store._clock = rig.clock
    _, handle = rig.started()
    store.failing = True
    with pytest.raises(KeyError), rig.repo.step(handle) as f:
        rig.client.resend_code(f)
        raise KeyError("after the send")
    rig.client.close()


# ------------------------------------------------------------------ asyncio


def test_the_async_repository_does_what_the_sync_one_does() -> None:
    """add, view, audit, get and step through AsyncFlowRepository store the same flow."""
    rig = Rig()
    arepo = AsyncFlowRepository(rig.repo)
    assert arepo.sync is rig.repo

    async def main() -> None:
        flow = rig.client.new_flow()
        handle = await arepo.add(flow, binding="s")
        assert handle == flow.handle
        async with arepo.step(handle, binding="s", expected_seq=flow.seq) as f:
            rig.client.start_passwordless(f, connection="sms", phone_number=PHONE)
        assert (await arepo.view(f.handle, binding="s")).state == "code_sent"
        assert (await arepo.get(f.flow_id)).state == "code_sent"
        trail = await arepo.audit(f.handle, binding="s")
        assert any(e.trigger == "start_passwordless" for e in trail)
        with pytest.raises(InvalidHandleError):
            await arepo.view(f.handle)
        with pytest.raises(InvalidHandleError):
            await arepo.audit(f.handle, binding="t")
        with pytest.raises(KeyError):
            async with arepo.step(f.handle, binding="s"):
                raise KeyError("boom")
        seq = rig.store.load(f.flow_id).seq
        assert rig.store.claim(f.flow_id, seq, "other", now=rig.clock()) is None

    asyncio.run(main())
    rig.client.close()


class _SlowClaim(MemoryStore):
    """A store whose claim waits for a gate, so the caller can be cancelled meanwhile."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.claimed = threading.Event()
        self.slow = False

    def claim(self, *args: Any, **kwargs: Any) -> str | None:
        if not self.slow:
            return super().claim(*args, **kwargs)
        self.entered.set()
        self.gate.wait(10)
        try:
            return super().claim(*args, **kwargs)
        finally:
            self.claimed.set()


def _cancel_while_claiming(rig: Rig, store: _SlowClaim, handle: str, settled: Any) -> None:
    """Cancel an async step while its thread is claiming; wait until ``settled()`` holds."""
    arepo = AsyncFlowRepository(rig.repo)

    async def main() -> None:
        async def stepper() -> None:
            async with arepo.step(handle):
                pytest.fail("the body must not run")

        store.slow = True
        task = asyncio.ensure_future(stepper())
        while not store.entered.is_set():
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        store.gate.set()
        while not store.claimed.is_set():
            await asyncio.sleep(0.005)
        store.slow = False
        for _ in range(400):
            if settled():
                break
            await asyncio.sleep(0.005)

    asyncio.run(main())


def test_a_cancelled_async_step_releases_the_claim_its_thread_took() -> None:
    """Cancelling while the claim is being taken leaves no claim behind once it is taken."""
    store = _SlowClaim()
    rig = Rig(store)
    store._clock = rig.clock
    flow_id, handle = rig.started()
    seq = store.load(flow_id).seq
    _cancel_while_claiming(rig, store, handle, lambda: store._flows[flow_id].claim_token is None)
    assert store.claim(flow_id, seq, "someone-else", now=rig.clock()) is None
    rig.client.close()


def test_a_cancelled_async_step_saves_the_doubt_its_thread_took_over() -> None:
    """Cancelled while its claim takes over a dead worker's intent, the step saves the doubt."""
    store = _SlowClaim()
    rig = Rig(store)
    store._clock = rig.clock
    flow_id, handle = rig.started()
    rig.die_during(handle, "resend_code")
    rig.clock.advance(121)  # past the default lease of 120 s
    _cancel_while_claiming(rig, store, handle, lambda: store._flows[flow_id].record.seq == 2)
    saved = rig.repo.get(flow_id)
    assert saved.seq == 2 and saved.uncertain is not None
    assert saved.uncertain.trigger == "resend_code"
    rig.client.close()
