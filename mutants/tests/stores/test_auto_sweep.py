"""Stores sweep expired flows on their own, a bounded batch at most once per interval."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowengine._errors import FlowNotFoundError, StoreError
from flowengine.stores import MemoryStore, PostgresStore, RedisStore, SQLiteStore, StoredFlow
from flowengine.stores._base import StoreBase

Backend = Any


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def build(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A factory of stores of one backend taking auto_sweep settings (all closed at the end)."""
    made: list[StoreBase] = []

    def factory(**options: Any) -> StoreBase:
        store: StoreBase
        if request.param == "memory":
            store = MemoryStore(**options)
        elif request.param == "sqlite":
            store = SQLiteStore(tmp_path / "flows.db", **options)
        elif request.param == "postgres":
            store = PostgresStore(request.getfixturevalue("postgres_url"), **options)
        else:
            store = RedisStore(request.getfixturevalue("redis_url"), **options)
        made.append(store)
        return store

    yield factory
    for store in made:
        store.close()


def rec(fid: str, expires: float | None, updated: float | None = None, seq: int = 0) -> StoredFlow:
    """A record (times absolute; updated now unless given)."""
    return StoredFlow(
        fid, seq, "code_sent", expires, time.time() if updated is None else updated, "d"
    )


def present(store: StoreBase, fid: str) -> bool:
    """Whether ``fid`` still loads."""
    try:
        store.load(fid)  # type: ignore[attr-defined]
    except FlowNotFoundError:
        return False
    return True


def test_a_write_sweeps_expired_flows_but_never_itself(build: Backend) -> None:
    """With auto_sweep=0 every create or save sweeps the expired flows, except the one written."""
    store = build(auto_sweep=0)
    store.create(rec("a", time.time() - 5))
    if not isinstance(store, RedisStore):  # Redis's TTL evicted it at once
        assert present(store, "a")
    store.create(rec("live", time.time() + 3600))
    assert not present(store, "a")
    if isinstance(store, RedisStore):
        assert store.client.zscore(f"{store.prefix}expiry", "a") is None
    store.save(rec("live", time.time() - 1, seq=1), expected_seq=0, token=None)
    if not isinstance(store, RedisStore):
        assert present(store, "live")


def test_the_sweep_is_bounded_and_at_most_once_per_interval(build: Backend) -> None:
    """One automatic sweep deletes at most auto_sweep_batch flows; the next waits an interval."""
    store = build(auto_sweep=3600, auto_sweep_batch=2)
    ids = [f"old{i}" for i in range(5)]
    for fid in ids:  # the first create sweeps (nothing yet expired), the rest do not
        store.create(rec(fid, time.time() + 0.2))
    time.sleep(0.3)  # expired by every clock now (Redis evicts them by its TTL too)
    store.create(rec("live1", time.time() + 3600))  # within the interval: no sweep
    assert sum(present(store, fid) for fid in ids) == (0 if isinstance(store, RedisStore) else 5)
    expiry = f"{store.prefix}expiry" if isinstance(store, RedisStore) else ""
    if isinstance(store, RedisStore):
        assert store.client.zcard(expiry) == 6  # five stale index entries and live1

    store._auto_next = 0.0  # the interval has passed
    store.save(rec("live1", time.time() + 3600, seq=1), expected_seq=0, token=None)
    if isinstance(store, RedisStore):
        assert store.client.zcard(expiry) == 4  # two stale entries cleaned
    else:
        assert sum(present(store, fid) for fid in ids) == 3
    store.create(rec("live2", time.time() + 3600))  # within the interval again: no sweep
    if isinstance(store, RedisStore):
        assert store.client.zcard(expiry) == 5
    else:
        assert sum(present(store, fid) for fid in ids) == 3
    store._auto_next = 0.0
    store.create(rec("live3", time.time() + 3600))
    if isinstance(store, RedisStore):
        assert store.client.zcard(expiry) == 4
    else:
        assert sum(present(store, fid) for fid in ids) == 1
    assert all(present(store, fid) for fid in ("live1", "live2", "live3"))


def test_a_flow_is_swept_only_when_both_clocks_say_so(build: Backend) -> None:
    """A writer whose clock runs fast sweeps no live flow; one far behind sweeps nothing."""
    store = build(auto_sweep=0)
    store.create(rec("soon", time.time() + 100))
    store.create(rec("ahead", time.time() + 3600, updated=time.time() + 10**6))
    assert present(store, "soon")
    if isinstance(store, RedisStore):
        return  # Redis's own TTL removes expired hashes: the rest is about the others
    store.create(rec("late", time.time() - 1))
    store.create(rec("behind", time.time() + 3600, updated=1_000.0))
    assert present(store, "late")  # expired by the store's clock, not by the writer's
    store.create(rec("now", time.time() + 3600))
    assert not present(store, "late")


def test_auto_sweep_none_never_sweeps(build: Backend) -> None:
    """auto_sweep=None turns the automatic sweep off."""
    store = build(auto_sweep=None)
    if isinstance(store, RedisStore):
        store.create(rec("x", time.time() - 1))
        store.create(rec("y", time.time() + 3600))
        assert store.client.zscore(f"{store.prefix}expiry", "x") is not None
        return
    store.create(rec("x", time.time() - 1))
    store.create(rec("y", time.time() + 3600))
    assert present(store, "x")


def test_a_failing_sweep_does_not_fail_the_write(
    build: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A StoreError in the automatic sweep is swallowed: the write it follows succeeded."""
    store = build(auto_sweep=0)

    def broken(**_: object) -> int:
        raise StoreError("the sweep failed")

    monkeypatch.setattr(store, "_sweep_some", broken)
    store.create(rec("w", time.time() + 3600))
    store.save(rec("w", time.time() + 3600, seq=1), expected_seq=0, token=None)
    assert store.load("w").seq == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "options", [{"auto_sweep": -1}, {"auto_sweep": float("nan")}, {"auto_sweep_batch": 0}]
)
def test_bad_auto_sweep_settings_are_refused(options: dict[str, Any], tmp_path: Path) -> None:
    """A negative or non-finite interval or a batch below 1 raises StoreError."""
    with pytest.raises(StoreError):
        MemoryStore(**options)
    with pytest.raises(StoreError):
        SQLiteStore(tmp_path / "x.db", **options)
