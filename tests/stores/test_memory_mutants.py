"""What the mutation run of ``MemoryStore`` showed the contract tests left open, on a fake clock.

Every boundary (a claim expiring at exactly ``claim_expires``, a flow expiring at
exactly ``expires_at``, a sweep batch filling up) and every error's text and fields.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flowengine import FlowBusyError, FlowNotFoundError, StaleSnapshotError, StoreError
from flowengine.stores import MemoryStore, StoredFlow
from flowengine.testing import FakeClock

T0 = 1_800_000_000.0


def rec(
    flow_id: str = "f1",
    seq: int = 0,
    *,
    state: str = "started",
    expires_at: float | None = T0 + 1000,
    updated_at: float = T0,
    data: str = "sealed",
) -> StoredFlow:
    """A record with defaults that never expire during a test."""
    return StoredFlow(flow_id, seq, state, expires_at, updated_at, data)


@pytest.fixture
def clock() -> FakeClock:
    """The store's clock."""
    return FakeClock(T0)


@pytest.fixture
def store(clock: FakeClock) -> MemoryStore:
    """A memory store on the fake clock, without automatic sweeping."""
    return MemoryStore(clock=clock.time, auto_sweep=None)


# ------------------------------------------------------------- create / load / repr


def test_repr_counts_flows_and_says_closed(store: MemoryStore) -> None:
    """The repr shows the flow count, then ``closed`` once closed, never a snapshot."""
    assert repr(store) == "<MemoryStore flows=0>"
    store.create(rec("a"))
    store.create(rec("b"))
    assert repr(store) == "<MemoryStore flows=2>"
    store.close()
    assert repr(store) == "<MemoryStore flows=0 closed>"


def test_create_refuses_a_duplicate_id_by_name(store: MemoryStore) -> None:
    """A second create of one id names that id and keeps the first record."""
    store.create(rec("dup", data="first"))
    with pytest.raises(StoreError) as info:
        store.create(rec("dup", data="second"))
    assert str(info.value) == "a flow with id 'dup' already exists"
    assert store.load("dup").data == "first"


def test_load_returns_the_record_and_names_a_missing_one(store: MemoryStore) -> None:
    """``load`` returns the stored record; a missing id is FlowNotFoundError with that id."""
    record = rec("here")
    store.create(record)
    assert store.load("here") == record
    with pytest.raises(FlowNotFoundError) as info:
        store.load("gone")
    assert info.value.flow_id == "gone"


def test_every_method_of_a_closed_store_says_so(store: MemoryStore) -> None:
    """After close, each method raises StoreError "the memory store is closed"."""
    store.create(rec("x"))
    store.close()
    store.close()  # idempotent
    calls: list[Callable[[], object]] = [
        lambda: store.create(rec("y")),
        lambda: store.load("x"),
        lambda: store.claim("x", 0, "t", now=T0),
        lambda: store.save(rec("x", 1), expected_seq=0, token=None),
        lambda: store.release("x", "t"),
        lambda: store.delete("x"),
        lambda: store.sweep_expired(T0),
        lambda: store.stats(),
        lambda: store.list(),
        lambda: store._sweep_some(cap=T0, keep="", batch=1),
    ]
    for call in calls:
        with pytest.raises(StoreError) as info:
            call()
        assert str(info.value) == "the memory store is closed"


# ------------------------------------------------------------- claims


def test_a_claim_lasts_exactly_its_lease_by_the_store_clock(
    store: MemoryStore, clock: FakeClock
) -> None:
    """A 10 s claim refuses another token until store time + 10, and no longer."""
    store.create(rec())
    assert store.claim("f1", 0, "a", now=0.0, lease=10) is None
    clock.advance(9.5)
    with pytest.raises(FlowBusyError) as info:
        store.claim("f1", 0, "b", now=T0 + 1e6)
    assert (info.value.flow_id, info.value.seq) == ("f1", 0)
    clock.advance(0.5)  # exactly at claim_expires: lapsed
    assert store.claim("f1", 0, "b", now=0.0) is None


def test_a_claim_of_a_moved_flow_is_stale_with_both_seqs(store: MemoryStore) -> None:
    """Claiming from an old seq raises StaleSnapshotError with the expected and actual seq."""
    store.create(rec("f1", 3))
    with pytest.raises(StaleSnapshotError) as info:
        store.claim("f1", 2, "a", now=T0)
    assert (info.value.flow_id, info.value.expected_seq, info.value.actual_seq) == ("f1", 2, 3)


def test_claim_of_a_missing_flow_is_not_found(store: MemoryStore) -> None:
    """A claim on no flow raises FlowNotFoundError naming it."""
    with pytest.raises(FlowNotFoundError) as info:
        store.claim("nope", 0, "a", now=T0)
    assert info.value.flow_id == "nope"


def test_the_same_token_renews_and_keeps_its_intent(store: MemoryStore, clock: FakeClock) -> None:
    """A re-claim by the holder extends the lease from now and keeps the intent it gave."""
    store.create(rec())
    assert store.claim("f1", 0, "a", now=T0, lease=10, intent="J1") is None
    clock.advance(8)
    assert store.claim("f1", 0, "a", now=T0, lease=10) is None  # renewed to T0 + 18
    clock.advance(8)
    with pytest.raises(FlowBusyError):
        store.claim("f1", 0, "b", now=T0)
    clock.advance(2)
    assert store.claim("f1", 0, "b", now=T0) == "J1"  # the holder's intent survived the renewal


def test_a_takeover_returns_the_old_intent_once_and_keeps_the_new_one(
    store: MemoryStore, clock: FakeClock
) -> None:
    """Taking over a lapsed claim returns its intent; the taker's own intent replaces it."""
    store.create(rec())
    store.claim("f1", 0, "a", now=T0, lease=5, intent="J-a")
    clock.advance(5)
    assert store.claim("f1", 0, "b", now=T0, lease=5, intent="J-b") == "J-a"
    clock.advance(5)
    assert store.claim("f1", 0, "c", now=T0, lease=5) == "J-b"
    clock.advance(5)
    # c said nothing: its takeover cleared b's intent, so d inherits none.
    assert store.claim("f1", 0, "d", now=T0, lease=5) is None


def test_a_first_claim_returns_nothing_even_with_an_intent(store: MemoryStore) -> None:
    """No earlier claim, no inherited intent; the same token's re-claim inherits nothing."""
    store.create(rec())
    assert store.claim("f1", 0, "a", now=T0, intent="J") is None
    assert store.claim("f1", 0, "a", now=T0, intent="J2") is None


# ------------------------------------------------------------- save / release


def test_save_replaces_the_record_and_drops_the_claim(store: MemoryStore, clock: FakeClock) -> None:
    """A save by the holder writes the record; the next claimer inherits no intent."""
    store.create(rec())
    store.claim("f1", 0, "a", now=T0, intent="J")
    new = rec("f1", 1, state="code_sent", data="v2")
    store.save(new, expected_seq=0, token="a")
    assert store.load("f1") == new
    assert store.claim("f1", 1, "b", now=T0) is None


def test_save_against_a_live_claim_is_busy(store: MemoryStore, clock: FakeClock) -> None:
    """Another token's live claim blocks a save until exactly its expiry."""
    store.create(rec())
    store.claim("f1", 0, "a", now=T0, lease=4)
    with pytest.raises(FlowBusyError) as info:
        store.save(rec("f1", 1), expected_seq=0, token="b")
    assert (info.value.flow_id, info.value.seq) == ("f1", 0)
    with pytest.raises(FlowBusyError):
        store.save(rec("f1", 1), expected_seq=0, token=None)
    clock.advance(4)
    store.save(rec("f1", 1), expected_seq=0, token="b")
    assert store.load("f1").seq == 1


def test_a_stale_save_names_both_seqs(store: MemoryStore) -> None:
    """A save from an old seq raises StaleSnapshotError with the seqs and keeps the record."""
    store.create(rec("f1", 5))
    with pytest.raises(StaleSnapshotError) as info:
        store.save(rec("f1", 5), expected_seq=4, token=None)
    assert (info.value.flow_id, info.value.expected_seq, info.value.actual_seq) == ("f1", 4, 5)
    assert store.load("f1").seq == 5


def test_save_of_a_missing_flow_is_not_found(store: MemoryStore) -> None:
    """A save with nothing stored raises FlowNotFoundError naming it."""
    with pytest.raises(FlowNotFoundError) as info:
        store.save(rec("ghost", 1), expected_seq=0, token=None)
    assert info.value.flow_id == "ghost"


def test_release_by_the_holder_frees_the_flow_and_forgets_the_intent(
    store: MemoryStore,
) -> None:
    """After the holder's release another token claims at once and inherits nothing."""
    store.create(rec())
    store.claim("f1", 0, "a", now=T0, lease=100, intent="J")
    store.release("f1", "b")  # not the holder: nothing happens
    with pytest.raises(FlowBusyError):
        store.claim("f1", 0, "b", now=T0)
    store.release("f1", "a")
    assert store.claim("f1", 0, "b", now=T0) is None
    store.release("missing", "a")  # no flow: nothing happens


def test_release_clears_the_claim_from_the_stats(store: MemoryStore) -> None:
    """A released claim is neither held nor lapsed."""
    store.create(rec())
    store.claim("f1", 0, "a", now=T0)
    assert store.stats().claims_held == 1
    store.release("f1", "a")
    stats = store.stats()
    assert (stats.claims_held, stats.claims_expired) == (0, 0)


def test_delete_removes_and_is_idempotent(store: MemoryStore) -> None:
    """``delete`` drops the flow; deleting it again is fine."""
    store.create(rec("d"))
    store.create(rec("keep"))
    store.delete("d")
    store.delete("d")
    assert [r.flow_id for r in store.list()] == ["keep"]


# ------------------------------------------------------------- sweeping


def test_sweep_expired_deletes_at_and_before_now_only(store: MemoryStore) -> None:
    """``sweep_expired(now)`` deletes ``expires_at <= now``, keeps later and never-expiring."""
    store.create(rec("before", expires_at=T0 - 1))
    store.create(rec("at", expires_at=T0))
    store.create(rec("after", expires_at=T0 + 1))
    store.create(rec("never", expires_at=None))
    assert store.sweep_expired(T0) == 2
    assert sorted(r.flow_id for r in store.list()) == ["after", "never"]
    assert store.sweep_expired(T0) == 0


def test_sweep_some_takes_the_lower_clock_spares_keep_and_stops_at_batch(
    store: MemoryStore, clock: FakeClock
) -> None:
    """The bounded sweep uses min(store clock, cap), never deletes ``keep``, and stops at batch."""
    for i in range(5):
        store.create(rec(f"e{i}", expires_at=T0 - 10 + i))  # e0..e4 expire at T0-10 .. T0-6
    store.create(rec("late", expires_at=T0 + 5))
    store.create(rec("never", expires_at=None))
    # cap below the store clock: only e0 and e1 are expired by both.
    assert store._sweep_some(cap=T0 - 9, keep="", batch=10) == 2
    # keep is spared; the batch of 2 stops the sweep.
    assert store._sweep_some(cap=T0 + 100, keep="e2", batch=2) == 2
    assert sorted(r.flow_id for r in store.list()) == ["e2", "late", "never"]
    # the store clock is now the lower one: "late" stays until the store reaches it.
    assert store._sweep_some(cap=T0 + 100, keep="", batch=10) == 1
    clock.advance(5)
    assert store._sweep_some(cap=T0 + 100, keep="", batch=1) == 1
    assert [r.flow_id for r in store.list()] == ["never"]


def test_a_write_triggers_the_bounded_sweep(clock: FakeClock) -> None:
    """With ``auto_sweep=0`` each write sweeps expired flows (at most the batch) but itself."""
    store = MemoryStore(clock=clock.time, auto_sweep=0, auto_sweep_batch=2)
    for i in range(3):
        store.create(rec(f"old{i}", expires_at=T0 - 100, updated_at=T0 - 200))
    store.create(rec("new", expires_at=T0 - 1, updated_at=T0))
    names = {r.flow_id for r in store.list()}
    assert "new" in names and len(names) == 2
    store.save(rec("new", 1, expires_at=T0 - 1, updated_at=T0), expected_seq=0, token=None)
    assert [r.flow_id for r in store.list()] == ["new"]


# ------------------------------------------------------------- stats / list


def test_stats_counts_states_expiry_claims_and_the_oldest_live(
    store: MemoryStore, clock: FakeClock
) -> None:
    """Every figure of ``stats``: by state (sorted), expired at ``<= now``, held and lapsed."""
    store.create(rec("gone", state="started", expires_at=T0 + 5, updated_at=T0 - 500))
    store.create(rec("old", state="mfa_required", expires_at=T0 + 50, updated_at=T0 - 100))
    store.create(rec("new", state="code_sent", expires_at=None, updated_at=T0 - 10))
    store.create(rec("tie", state="code_sent", expires_at=T0 + 6, updated_at=T0 - 100))
    store.claim("new", 0, "a", now=T0, lease=10)
    store.claim("tie", 0, "a", now=T0, lease=5)
    store.claim("gone", 0, "a", now=T0, lease=6)
    clock.advance(5)  # "gone" expires and tie's claim lapses exactly now
    stats = store.stats()
    assert stats.flows == 4
    assert list(stats.by_state.items()) == [
        ("code_sent", 2),
        ("mfa_required", 1),
        ("started", 1),
    ]
    assert stats.expired == 1
    assert stats.oldest_live == {
        "flow_id": "old",
        "state": "mfa_required",
        "updated_at": T0 - 100,
        "expires_at": T0 + 50,
    }
    assert (stats.claims_held, stats.claims_expired) == (2, 1)
    assert stats.schema_version is None
    assert stats.now == T0 + 5


def test_stats_of_an_empty_or_all_expired_store(store: MemoryStore) -> None:
    """No live flow, no oldest; expired ones still count as flows."""
    stats = store.stats()
    assert (stats.flows, stats.expired, stats.oldest_live, stats.by_state) == (0, 0, None, {})
    store.create(rec("x", expires_at=T0 - 1))
    stats = store.stats()
    assert (stats.flows, stats.expired, stats.oldest_live) == (1, 1, None)


def test_stats_oldest_live_is_the_least_recent(store: MemoryStore) -> None:
    """Among live flows the least recently updated is the oldest, whatever the insert order."""
    store.create(rec("mid", updated_at=T0 - 50))
    store.create(rec("oldest", updated_at=T0 - 90))
    store.create(rec("newest", updated_at=T0 - 1))
    oldest = store.stats().oldest_live
    assert oldest is not None and oldest["flow_id"] == "oldest"


def test_list_filters_sorts_and_limits(store: MemoryStore) -> None:
    """Newest first, ties by greater id, the state filter, then the limit."""
    store.create(rec("a", state="s1", updated_at=T0 - 3))
    store.create(rec("b", state="s2", updated_at=T0 - 1))
    store.create(rec("c", state="s1", updated_at=T0 - 1))
    store.create(rec("d", state="s1", updated_at=T0 - 2))
    assert [r.flow_id for r in store.list()] == ["c", "b", "d", "a"]
    assert [r.flow_id for r in store.list(state="s1")] == ["c", "d", "a"]
    assert [r.flow_id for r in store.list(state="s1", limit=2)] == ["c", "d"]
    assert store.list(limit=0) == []
    assert [r.flow_id for r in store.list(state="none")] == []


def test_the_default_clock_is_wall_time() -> None:
    """Without a clock the store judges claims by ``time.time``."""
    import time

    store = MemoryStore(auto_sweep=None)
    before = time.time()
    assert before - 1 <= store.stats().now <= time.time() + 1


def test_a_bad_store_clock_is_refused(store: MemoryStore) -> None:
    """A clock returning a non-number is a StoreError naming the store clock."""
    bad = MemoryStore(clock=lambda: float("nan"), auto_sweep=None)
    bad.create(rec())
    with pytest.raises(StoreError) as info:
        bad.claim("f1", 0, "a", now=T0)
    assert str(info.value) == "the store clock's time must be a finite number of seconds"


def test_list_returns_at_most_100_by_default(store: MemoryStore) -> None:
    """Without a limit, ``list`` returns the 100 newest flows."""
    for i in range(101):
        store.create(rec(f"f{i:03}", updated_at=T0 + i))
    listed = store.list()
    assert len(listed) == 100
    assert listed[-1].flow_id == "f001"


def test_a_released_claim_leaves_no_intent_for_a_later_takeover(
    store: MemoryStore, clock: FakeClock
) -> None:
    """After a release, the holder's next silent claim, once lapsed, hands over no intent."""
    store.create(rec())
    store.claim("f1", 0, "a", now=T0, intent="J")
    store.release("f1", "a")
    store.claim("f1", 0, "a", now=T0, lease=5)
    clock.advance(5)
    assert store.claim("f1", 0, "b", now=T0) is None


def test_stats_count_every_expired_flow_and_lapsed_claim(
    store: MemoryStore, clock: FakeClock
) -> None:
    """Two expired flows and two lapsed claims are counted as two each."""
    for fid in ("x1", "x2"):
        store.create(rec(fid, expires_at=T0))
    for fid in ("l1", "l2"):
        store.create(rec(fid))
        store.claim(fid, 0, "a", now=T0, lease=1)
    clock.advance(1)
    stats = store.stats()
    assert (stats.flows, stats.expired, stats.claims_held, stats.claims_expired) == (4, 2, 0, 2)


def test_sweep_expired_names_a_bad_now(store: MemoryStore) -> None:
    """A non-finite ``now`` is refused by name."""
    with pytest.raises(StoreError) as info:
        store.sweep_expired(float("nan"))
    assert str(info.value) == "now must be a finite number of seconds"
