"""The FlowStore contract, run against the memory, SQLite and Redis stores alike."""

from __future__ import annotations

import time

import pytest

from flowengine._errors import FlowBusyError, FlowNotFoundError, StaleSnapshotError, StoreError
from flowengine.stores import FlowStore, StoredFlow

# A base time a year ahead of the real present, so that Redis TTLs set from
# expires_at evict nothing while a test runs, however late in a long session it
# runs (the module is imported at collection).  Claims are judged by the store's
# own clock (the real one here), whatever ``now`` the caller passes.
T = time.time() + 365 * 86400

#: A short real lease for the expiry tests, and how far past a deadline they wait.
LEASE = 1.5
MARGIN = 0.05


def wait_until(deadline: float) -> None:
    """Sleep until the real clock (every store's clock in these tests) passes ``deadline``."""
    while (left := deadline + MARGIN - time.time()) > 0:
        time.sleep(left)


def flow(
    fid: str = "f1",
    seq: int = 0,
    state: str = "start",
    expires: float | None = 3600.0,
    updated: float = 0.0,
    data: str = "sealed",
) -> StoredFlow:
    """A record with times given relative to ``T``."""
    return StoredFlow(fid, seq, state, None if expires is None else T + expires, T + updated, data)


def test_store_satisfies_protocol(store: FlowStore) -> None:
    """Every bundled store is a runtime FlowStore."""
    assert isinstance(store, FlowStore)


def test_create_then_load_round_trips(store: FlowStore) -> None:
    """A created flow loads back with every field equal, with and without an expiry."""
    a = flow("a", seq=3, state="otp_sent", expires=123.456, updated=1.25, data="x" * 5000 + "é🙂")
    b = flow("b", expires=None)
    store.create(a)
    store.create(b)
    assert store.load("a") == a
    assert store.load("a").data == a.data
    assert store.load("b") == b
    assert store.load("b").expires_at is None


def test_create_refuses_an_existing_id(store: FlowStore) -> None:
    """Creating a flow whose id exists raises StoreError and leaves the stored one alone."""
    store.create(flow(data="first"))
    with pytest.raises(StoreError, match="already exists") as info:
        store.create(flow(seq=5, data="second"))
    assert type(info.value) is StoreError
    assert store.load("f1").data == "first"


def test_load_missing_raises_not_found(store: FlowStore) -> None:
    """Loading an unknown id raises FlowNotFoundError carrying the id."""
    with pytest.raises(FlowNotFoundError) as info:
        store.load("ghost")
    assert info.value.flow_id == "ghost"


def test_save_advances_and_replaces_the_record(store: FlowStore) -> None:
    """A save from the stored seq writes the new record in full."""
    store.create(flow())
    new = flow(seq=1, state="otp_sent", expires=None, updated=5.0, data="sealed-1")
    store.save(new, expected_seq=0, token=None)
    assert store.load("f1") == new
    assert store.load("f1").data == "sealed-1"


def test_stale_save_is_refused(store: FlowStore) -> None:
    """A save from a seq the flow has moved past raises StaleSnapshotError and changes nothing."""
    store.create(flow())
    store.save(flow(seq=1, data="one"), expected_seq=0, token=None)
    with pytest.raises(StaleSnapshotError) as info:
        store.save(flow(seq=1, data="rival"), expected_seq=0, token=None)
    assert (info.value.flow_id, info.value.expected_seq, info.value.actual_seq) == ("f1", 0, 1)
    assert store.load("f1").data == "one"


def test_replayed_old_snapshot_is_refused(store: FlowStore) -> None:
    """Claiming or saving from any earlier seq after the flow moved on raises StaleSnapshotError."""
    store.create(flow())
    store.save(flow(seq=1), expected_seq=0, token=None)
    store.save(flow(seq=2, data="two"), expected_seq=1, token=None)
    for old in (0, 1):
        with pytest.raises(StaleSnapshotError) as info:
            store.claim("f1", old, "replayer", now=T)
        assert info.value.actual_seq == 2
        with pytest.raises(StaleSnapshotError):
            store.save(flow(seq=old + 1, data="replay"), expected_seq=old, token="replayer")
    with pytest.raises(StaleSnapshotError):
        store.claim("f1", 3, "future", now=T)
    assert store.load("f1").data == "two"


@pytest.mark.parametrize("bad_seq", [0, 2, 7])
def test_save_must_write_expected_seq_plus_one(store: FlowStore, bad_seq: int) -> None:
    """A save whose record.seq is not expected_seq + 1 raises a plain StoreError."""
    store.create(flow())
    with pytest.raises(StoreError, match="must write seq 1") as info:
        store.save(flow(seq=bad_seq), expected_seq=0, token=None)
    assert type(info.value) is StoreError
    assert store.load("f1").seq == 0


def test_save_and_claim_of_a_missing_flow_raise_not_found(store: FlowStore) -> None:
    """Saving or claiming an unknown id raises FlowNotFoundError."""
    with pytest.raises(FlowNotFoundError):
        store.save(flow(seq=1), expected_seq=0, token=None)
    with pytest.raises(FlowNotFoundError):
        store.claim("f1", 0, "t", now=T)


def test_claim_by_another_token_is_busy(store: FlowStore) -> None:
    """While one token's claim is live, another token's claim raises FlowBusyError."""
    store.create(flow())
    store.claim("f1", 0, "alice", now=T, lease=30)
    with pytest.raises(FlowBusyError) as info:
        store.claim("f1", 0, "bob", now=T + 29.9)
    assert (info.value.flow_id, info.value.seq) == ("f1", 0)


def test_stale_wins_over_busy(store: FlowStore) -> None:
    """A claim from the wrong seq is StaleSnapshotError even while another token holds a claim."""
    store.create(flow())
    store.claim("f1", 0, "alice", now=T)
    with pytest.raises(StaleSnapshotError):
        store.claim("f1", 4, "bob", now=T)
    with pytest.raises(StaleSnapshotError):
        store.save(flow(seq=5), expected_seq=4, token="bob")


def test_lease_expiry_lets_another_token_claim(store: FlowStore) -> None:
    """Once the lease has run out on the store's clock, another token takes the claim and the
    first can no longer save."""
    store.create(flow())
    start = time.time()
    store.claim("f1", 0, "alice", now=T, lease=LEASE)
    with pytest.raises(FlowBusyError):
        store.claim("f1", 0, "bob", now=T)
    wait_until(start + LEASE)
    store.claim("f1", 0, "bob", now=T)
    with pytest.raises(FlowBusyError):
        store.save(flow(seq=1, updated=6, data="alice"), expected_seq=0, token="alice")
    store.save(flow(seq=1, updated=6, data="bob"), expected_seq=0, token="bob")
    assert store.load("f1").data == "bob"


def test_same_token_reclaim_renews_the_lease(store: FlowStore) -> None:
    """Re-claiming with the same token succeeds and moves the claim's expiry forward."""
    store.create(flow())
    start = time.time()
    store.claim("f1", 0, "alice", now=T, lease=LEASE)
    wait_until(start + 0.6 * LEASE)
    renewed = time.time()
    store.claim("f1", 0, "alice", now=T, lease=LEASE)
    wait_until(start + LEASE)  # the first lease is over, the renewed one is not
    with pytest.raises(FlowBusyError):
        store.claim("f1", 0, "bob", now=T)
    wait_until(renewed + LEASE)
    store.claim("f1", 0, "bob", now=T)


@pytest.mark.parametrize("skew", [130.0, 10**6, -(10**6)])
def test_the_callers_clock_cannot_lapse_a_claim(store: FlowStore, skew: float) -> None:
    """A caller whose now (or updated_at) is far off the store's clock can neither claim nor
    save over another token's live claim; only the store's clock ends a lease."""
    store.create(flow())
    store.claim("f1", 0, "alice", now=time.time(), lease=120)
    with pytest.raises(FlowBusyError):
        store.claim("f1", 0, "mallory", now=time.time() + skew, lease=120)
    with pytest.raises(FlowBusyError):
        store.save(flow(seq=1, updated=skew, data="mallory"), expected_seq=0, token="mallory")
    with pytest.raises(FlowBusyError):
        store.save(flow(seq=1, updated=skew, data="none"), expected_seq=0, token=None)
    assert store.load("f1").data == "sealed"
    store.save(flow(seq=1, updated=-skew, data="alice"), expected_seq=0, token="alice")
    assert store.load("f1").data == "alice"


def test_save_without_the_claim_is_busy(store: FlowStore) -> None:
    """A save by another token, or with no token, while a claim is live raises FlowBusyError."""
    store.create(flow())
    store.claim("f1", 0, "alice", now=T, lease=30)
    with pytest.raises(FlowBusyError):
        store.save(flow(seq=1, updated=1), expected_seq=0, token="bob")
    with pytest.raises(FlowBusyError):
        store.save(flow(seq=1, updated=1), expected_seq=0, token=None)
    assert store.load("f1").seq == 0
    store.release("f1", "alice")
    start = time.time()
    store.claim("f1", 0, "alice", now=T, lease=LEASE)
    with pytest.raises(FlowBusyError):
        store.save(flow(seq=1, updated=10**6), expected_seq=0, token=None)
    wait_until(start + LEASE)
    store.save(flow(seq=1, updated=1, data="late"), expected_seq=0, token=None)
    assert store.load("f1").data == "late"


def test_save_clears_the_claim(store: FlowStore) -> None:
    """After the claimant saves, another token can claim the next step at once."""
    store.create(flow())
    store.claim("f1", 0, "alice", now=T, lease=30)
    store.save(flow(seq=1, updated=1), expected_seq=0, token="alice")
    store.claim("f1", 1, "bob", now=T + 1, lease=30)
    with pytest.raises(FlowBusyError):
        store.claim("f1", 1, "alice", now=T + 2)


def test_release_drops_only_the_holders_claim(store: FlowStore) -> None:
    """release by a non-holder does nothing; release by the holder frees the step."""
    store.create(flow())
    store.claim("f1", 0, "alice", now=T, lease=30)
    store.release("f1", "bob")
    with pytest.raises(FlowBusyError):
        store.claim("f1", 0, "bob", now=T + 1)
    store.release("f1", "alice")
    store.claim("f1", 0, "bob", now=T + 1)
    assert store.load("f1").seq == 0
    store.release("ghost", "alice")


def test_delete_is_idempotent(store: FlowStore) -> None:
    """Deleting twice, or deleting an unknown id, is fine; the id can then be created again."""
    store.create(flow(data="old"))
    store.delete("f1")
    store.delete("f1")
    store.delete("never-was")
    with pytest.raises(FlowNotFoundError):
        store.load("f1")
    assert store.list() == []
    store.create(flow(data="new"))
    assert store.load("f1").data == "new"


def test_sweep_deletes_and_counts_only_expired_flows(store: FlowStore) -> None:
    """sweep_expired(now) removes flows with expires_at <= now (inclusive) and counts them."""
    store.create(flow("a", expires=1000))
    store.create(flow("b", expires=2000))
    store.create(flow("c", expires=3000))
    store.create(flow("forever", expires=None))
    assert store.sweep_expired(T + 999) == 0
    assert store.sweep_expired(T + 2000) == 2
    assert sorted(f.flow_id for f in store.list()) == ["c", "forever"]
    with pytest.raises(FlowNotFoundError):
        store.load("a")
    assert store.sweep_expired(T + 2000) == 0
    assert store.sweep_expired(T + 10**7) == 1
    assert [f.flow_id for f in store.list()] == ["forever"]


def test_save_can_set_move_and_clear_the_expiry(store: FlowStore) -> None:
    """The sweep follows the expiry of the latest save, not the one the flow was created with."""
    store.create(flow("a", expires=None))
    store.create(flow("b", expires=1000))
    store.save(flow("a", seq=1, expires=1000), expected_seq=0, token=None)
    store.save(flow("b", seq=1, expires=None), expected_seq=0, token=None)
    assert store.sweep_expired(T + 5000) == 1
    assert [f.flow_id for f in store.list()] == ["b"]
    store.save(flow("b", seq=2, expires=6000), expected_seq=1, token=None)
    assert store.sweep_expired(T + 5999) == 0
    assert store.sweep_expired(T + 6000) == 1


def test_list_is_newest_first_with_limit_and_state_filter(store: FlowStore) -> None:
    """list orders by updated_at descending, honours limit and filters by state."""
    for i, state in enumerate(["start", "otp_sent", "start", "mfa", "start"]):
        store.create(flow(f"f{i}", state=state, updated=float(i)))
    assert [f.flow_id for f in store.list()] == ["f4", "f3", "f2", "f1", "f0"]
    assert [f.flow_id for f in store.list(limit=2)] == ["f4", "f3"]
    assert [f.flow_id for f in store.list(state="start")] == ["f4", "f2", "f0"]
    assert [f.flow_id for f in store.list(state="start", limit=1)] == ["f4"]
    assert store.list(state="nope") == []
    assert store.list(limit=0) == []
    assert store.list(state="mfa")[0] == flow("f3", state="mfa", updated=3.0)


def test_list_breaks_ties_by_greater_id_first(store: FlowStore) -> None:
    """Flows updated at the same instant are listed by id, greatest first."""
    for fid in ["b", "c", "a"]:
        store.create(flow(fid, updated=7.0))
    assert [f.flow_id for f in store.list()] == ["c", "b", "a"]


def test_list_follows_state_and_time_of_the_latest_save(store: FlowStore) -> None:
    """After a save changes state and updated_at, listing and filtering reflect it."""
    store.create(flow("a", state="start", updated=1))
    store.create(flow("b", state="start", updated=2))
    store.save(flow("a", seq=1, state="done", updated=3), expected_seq=0, token=None)
    assert [f.flow_id for f in store.list()] == ["a", "b"]
    assert [f.flow_id for f in store.list(state="start")] == ["b"]
    assert [f.flow_id for f in store.list(state="done")] == ["a"]
    store.delete("a")
    assert store.list(state="done") == []


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.load(""),
        lambda s: s.claim("f1", -1, "t", now=T),
        lambda s: s.claim("f1", 0, "", now=T),
        lambda s: s.claim("f1", 0, "t", now=T, lease=0),
        lambda s: s.claim("f1", 0, "t", now=float("nan")),
        lambda s: s.claim("f1", True, "t", now=T),
        lambda s: s.save(flow(seq=1), expected_seq=0, token=""),
        lambda s: s.create(flow(fid="")),
        lambda s: s.create(flow(state="")),
        lambda s: s.create(StoredFlow("f2", 0, "s", float("inf"), T, "d")),
        lambda s: s.list(limit=-1),
        lambda s: s.sweep_expired(float("nan")),
    ],
)
def test_bad_arguments_raise_store_error(store: FlowStore, call: object) -> None:
    """Malformed arguments raise a plain StoreError before anything is written."""
    store.create(flow())
    with pytest.raises(StoreError) as info:
        call(store)  # type: ignore[operator]
    assert type(info.value) is StoreError
    assert [f.flow_id for f in store.list()] == ["f1"]


def test_closed_store_refuses_calls(store: FlowStore) -> None:
    """After close (here via the context manager), calls raise StoreError; close is idempotent."""
    store.create(flow())
    with store as same:
        assert same is store
    with pytest.raises(StoreError):
        store.load("f1")
    store.close()


def test_stored_flow_repr_hides_the_snapshot() -> None:
    """A StoredFlow's repr shows its id and state but never its sealed data."""
    text = repr(flow(data="TOP-SECRET-SNAPSHOT"))
    assert "TOP-SECRET-SNAPSHOT" not in text
    assert "f1" in text and "start" in text


def test_an_expired_claims_intent_is_handed_to_the_next_claimer(store: FlowStore) -> None:
    """The intent journal: a takeover of an expired claim returns the intent it left, once."""
    store.create(flow())
    start = time.time()
    assert store.claim("f1", 0, "alice", now=T, lease=LEASE) is None
    assert store.claim("f1", 0, "alice", now=T, lease=LEASE, intent="sealed-1") is None
    assert store.claim("f1", 0, "alice", now=T, lease=LEASE) is None  # a renewal keeps it
    wait_until(start + LEASE)
    assert store.claim("f1", 0, "bob", now=T, lease=LEASE) == "sealed-1"
    assert store.claim("f1", 0, "bob", now=T, lease=LEASE) is None  # handed over once
    store.release("f1", "bob")
    assert store.claim("f1", 0, "carol", now=T, lease=LEASE) is None


def test_a_claim_with_an_intent_renews_only_its_own_claim(store: FlowStore) -> None:
    """An intent claim renews its own token's claim (newest intent kept), never another's."""
    store.create(flow())
    assert store.claim("f1", 0, "alice", now=T, lease=LEASE) is None
    assert store.claim("f1", 0, "alice", now=T, lease=LEASE, intent="sealed-1") is None
    with pytest.raises(FlowBusyError):
        store.claim("f1", 0, "bob", now=T, lease=LEASE, intent="sealed-b")
    with pytest.raises(StaleSnapshotError):
        store.claim("f1", 1, "alice", now=T, lease=LEASE, intent="sealed-x")
    with pytest.raises(FlowNotFoundError):
        store.claim("nope", 0, "alice", now=T, lease=LEASE, intent="sealed-x")
    assert store.claim("f1", 0, "alice", now=T, lease=LEASE, intent="sealed-2") is None
    renewed = time.time()
    wait_until(renewed + LEASE)
    assert store.claim("f1", 0, "bob", now=T, lease=LEASE, intent="sealed-b") == "sealed-2"
    assert store.claim("f1", 0, "bob", now=T, lease=LEASE) is None  # bob's own now, kept
    with pytest.raises(FlowBusyError):
        store.claim("f1", 0, "alice", now=T, lease=LEASE, intent="sealed-3")


def test_a_lapsed_claims_intent_bars_a_save_until_taken_over(store: FlowStore) -> None:
    """A save over another token's lapsed claim that left an intent is refused, the intent
    kept; the saver takes the claim over (receiving the intent), and then saves."""
    store.create(flow())
    start = time.time()
    store.claim("f1", 0, "alice", now=T, lease=LEASE, intent="sealed-a")
    wait_until(start + LEASE)
    for token in ("bob", None):
        with pytest.raises(FlowBusyError):
            store.save(flow(seq=1, updated=6, data="bob"), expected_seq=0, token=token)
    assert store.load("f1").data == "sealed"
    assert store.claim("f1", 0, "bob", now=T, lease=LEASE) == "sealed-a"
    store.save(flow(seq=1, updated=6, data="bob"), expected_seq=0, token="bob")
    assert store.load("f1").data == "bob"
    store.claim("f1", 1, "carol", now=T, lease=LEASE)  # no intent: a lapse frees the save
    wait_until(time.time() + LEASE)
    store.save(flow(seq=2, updated=7, data="dave"), expected_seq=1, token="dave")
    assert store.load("f1").data == "dave"


def test_save_and_release_drop_the_intent(store: FlowStore) -> None:
    """A claim whose step was saved or given up leaves no intent for the next worker."""
    store.create(flow())
    start = time.time()
    store.claim("f1", 0, "alice", now=T, lease=LEASE, intent="sealed-1")
    store.release("f1", "alice")
    assert store.claim("f1", 0, "bob", now=T, lease=LEASE, intent="sealed-2") is None
    store.save(flow(seq=1, updated=6), expected_seq=0, token="bob")
    store.claim("f1", 1, "carol", now=T, lease=LEASE, intent="sealed-3")
    wait_until(start + LEASE)
    wait_until(time.time() + LEASE)
    assert store.claim("f1", 1, "dave", now=T, lease=LEASE) == "sealed-3"
    with pytest.raises(StoreError):
        store.claim("f1", 1, "dave", now=T, lease=LEASE, intent="x" * 5000)
