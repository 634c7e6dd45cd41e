"""One clock for claims: the store's clock times and judges every lease, never the caller's.

The attack: a worker whose clock runs fast by more than the lease (130 s against
the repository's 120 s) sees another worker's live claim as lapsed, claims the
step too, and sends a second request to Auth0.  Each store must refuse it.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from flowengine._errors import FlowBusyError, StaleSnapshotError
from flowengine._flow import Flow
from flowengine._repository import FlowRepository
from flowengine._snapshot import Keyring
from flowengine.stores import FlowStore, MemoryStore, RedisStore, SQLiteStore, StoredFlow
from flowengine.testing import FakeClock

KEYS = Keyring.generate("k1")
LEASE = 120.0
FAST = 130.0


def skewed(offset: float) -> Callable[[], float]:
    """A clock ``offset`` seconds off the real one."""
    return lambda: time.time() + offset


def test_a_client_130s_fast_cannot_take_a_flow_another_holds(store: FlowStore) -> None:
    """While one repository steps a flow, one whose clock runs 130 s fast gets FlowBusyError."""
    holder = FlowRepository(store, KEYS, clock=time.time, lease=LEASE)
    intruder = FlowRepository(store, KEYS, clock=skewed(FAST), lease=LEASE)
    handle = holder.add(Flow.new("fl_clock", time.time()))  # both hold the same handle
    with holder.step(handle) as flow:
        assert flow.seq == 0
        with pytest.raises(FlowBusyError), intruder.step(handle):
            pytest.fail("the intruder must not get the step")  # pragma: no cover
    with intruder.step(handle) as flow:  # released: now the intruder may step it
        assert flow.seq == 0


def test_a_client_130s_slow_cannot_keep_a_lapsed_claim_alive(store: FlowStore) -> None:
    """A claimant whose clock runs slow does not stretch its lease: the store's clock ends it."""
    store.create(StoredFlow("f1", 0, "start", None, time.time(), "sealed"))
    store.claim("f1", 0, "slow", now=time.time() - FAST, lease=0.3)
    time.sleep(0.4)
    store.claim("f1", 0, "other", now=time.time(), lease=LEASE)
    with pytest.raises(FlowBusyError):
        store.save(
            StoredFlow("f1", 1, "start", None, time.time() - FAST, "slow"),
            expected_seq=0,
            token="slow",
        )


def test_memory_store_judges_claims_by_its_own_clock() -> None:
    """MemoryStore's lease runs on its clock: the boundary is exact and the caller's now ignored."""
    clock = FakeClock()
    store = MemoryStore(clock=clock.time)
    store.create(StoredFlow("f1", 0, "start", None, clock.time(), "sealed"))
    store.claim("f1", 0, "alice", now=0.0, lease=5)
    clock.advance(4.999)
    with pytest.raises(FlowBusyError):
        store.claim("f1", 0, "bob", now=clock.time() + 10**6)
    clock.advance(0.001)
    store.claim("f1", 0, "bob", now=0.0)
    with pytest.raises(FlowBusyError):
        store.save(
            StoredFlow("f1", 1, "s", None, clock.time() + 10**6, "x"), expected_seq=0, token=None
        )


@pytest.mark.redis
def test_two_redis_clients_whose_clocks_are_130s_apart(redis_url: str) -> None:
    """Two clients (two connections, two repositories) of one Redis server: the one whose
    clock runs 130 s fast cannot claim, nor save over, the flow the other one holds."""
    with RedisStore(redis_url) as first, RedisStore(redis_url) as second:
        holder = FlowRepository(first, KEYS, clock=time.time, lease=LEASE)
        intruder = FlowRepository(second, KEYS, clock=skewed(FAST), lease=LEASE)
        handle = holder.add(Flow.new("fl_redis", time.time()))  # both hold the same handle
        with holder.step(handle):
            with pytest.raises(FlowBusyError), intruder.step(handle):
                pytest.fail("the intruder must not get the step")  # pragma: no cover
            record = second.load("fl_redis")
            with pytest.raises(FlowBusyError):
                second.save(
                    StoredFlow("fl_redis", 1, "x", None, time.time() + FAST, record.data),
                    expected_seq=0,
                    token="intruder",
                )
        assert second.load("fl_redis").seq == 0


@pytest.mark.redis
def test_redis_times_the_claim_by_the_server_clock(redis_url: str) -> None:
    """The stored claim_expires is the server's TIME plus the lease, whatever now says."""
    with RedisStore(redis_url) as store:
        store.create(StoredFlow("f1", 0, "start", None, time.time(), "sealed"))
        store.claim("f1", 0, "t", now=time.time() + 10**6, lease=50)
        sec, usec = store.client.time()
        server_now = int(sec) + int(usec) / 1e6
        stored = float(store.client.hget(store.flow_key("f1"), "claim_expires") or 0)
        assert server_now + 48 < stored <= server_now + 50.01


def test_sqlite_times_the_claim_by_its_own_clock(tmp_path: Path) -> None:
    """The stored claim_expires is SQLite's clock plus the lease, whatever now says."""
    path = tmp_path / "flows.db"
    with SQLiteStore(path) as store:
        store.create(StoredFlow("f1", 0, "start", None, time.time(), "sealed"))
        store.claim("f1", 0, "t", now=time.time() - 10**6, lease=50)
    conn = sqlite3.connect(path)
    try:
        (stored,) = conn.execute("SELECT claim_expires FROM flows").fetchone()
    finally:
        conn.close()
    assert time.time() + 48 < stored <= time.time() + 50.01


def _claim_in_process(path: str, flow_id: str, token: str, skew: float, lease: float) -> str:
    """In a fresh process: claim with a clock ``skew`` seconds off; return the outcome."""
    with SQLiteStore(path) as store:
        try:
            store.claim(flow_id, 0, token, now=time.time() + skew, lease=lease)
        except FlowBusyError:
            return "busy"
        except StaleSnapshotError:
            return "stale"
    return "claimed"


def test_two_processes_with_clocks_apart_by_more_than_the_lease(tmp_path: Path) -> None:
    """Two processes on one host whose injected clocks are 140 s apart (lease 120 s) cannot
    take each other's claims on SQLite: its own clock, in the SQL, decides."""
    path = str(tmp_path / "flows.db")
    with SQLiteStore(path) as store:
        store.create(StoredFlow("held", 0, "start", None, time.time(), "sealed"))
        store.create(StoredFlow("short", 0, "start", None, time.time(), "sealed"))
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        slow = pool.apply(_claim_in_process, (path, "held", "slow", -70.0, LEASE))
        fast = pool.apply(_claim_in_process, (path, "held", "fast", +70.0, LEASE))
        assert (slow, fast) == ("claimed", "busy")
        again = pool.apply(_claim_in_process, (path, "held", "slow", +70.0, LEASE))
        assert again == "claimed"  # the holder renews, whatever its clock says now
        taken = time.time()
        first = pool.apply(_claim_in_process, (path, "short", "fast", +70.0, 1.5))
        assert first == "claimed"
        assert pool.apply(_claim_in_process, (path, "short", "slow", -70.0, LEASE)) == "busy"
        time.sleep(max(0.0, taken + 1.6 - time.time()))
        assert pool.apply(_claim_in_process, (path, "short", "slow", -70.0, LEASE)) == "claimed"
