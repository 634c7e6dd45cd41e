"""Random operation sequences give identical results on the memory, SQLite, Redis and PostgreSQL
stores."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowengine._errors import StoreError
from flowengine.stores import (
    FlowStore,
    MemoryStore,
    PostgresStore,
    RedisStore,
    SQLiteStore,
    StoredFlow,
)

BASE = time.time() + 10**6  # far enough ahead that Redis TTLs never fire during a run

ids = st.sampled_from(["a", "b", "c"])
seqs = st.integers(0, 3)
tokens = st.sampled_from(["t1", "t2"])
states = st.sampled_from(["start", "otp_sent", "done"])
times = st.integers(0, 30).map(lambda k: BASE + k)
expiries = st.none() | st.integers(5, 25).map(lambda k: BASE + k)

ops = st.one_of(
    st.tuples(st.just("create"), ids, seqs, states, expiries, times),
    # Claims are timed by each store's own clock: leases far longer than a program runs
    # keep every claim live on all three, so they agree (the expiry is in test_contract).
    st.tuples(st.just("claim"), ids, seqs, tokens, times, st.sampled_from([600.0, 900.0])),
    st.tuples(
        st.just("save"),
        ids,
        seqs,
        st.none() | tokens,
        states,
        expiries,
        times,
        st.sampled_from([1, 1, 1, 0, 2]),
    ),
    st.tuples(st.just("release"), ids, tokens),
    st.tuples(st.just("delete"), ids),
    st.tuples(st.just("sweep"), times),
    st.tuples(st.just("list"), st.none() | states, st.integers(0, 4)),
    st.tuples(st.just("load"), ids),
)


def apply(store: FlowStore, op: tuple[Any, ...]) -> Any:
    """Run one operation and describe its result or its error in comparable terms."""
    name, *a = op
    try:
        if name == "create":
            fid, seq, state, expires, now = a
            return store.create(StoredFlow(fid, seq, state, expires, now, f"{fid}-{seq}-{now}"))
        if name == "claim":
            fid, seq, token, now, lease = a
            return store.claim(fid, seq, token, now=now, lease=lease)
        if name == "save":
            fid, expected, token, state, expires, now, step = a
            record = StoredFlow(fid, expected + step, state, expires, now, f"{fid}@{now}")
            return store.save(record, expected_seq=expected, token=token)
        if name == "release":
            return store.release(*a)
        if name == "delete":
            return store.delete(*a)
        if name == "sweep":
            return store.sweep_expired(a[0])
        if name == "list":
            return [(f, f.data) for f in store.list(state=a[0], limit=a[1])]
        return (lambda f: (f, f.data))(store.load(a[0]))
    except StoreError as exc:
        return (type(exc).__name__, sorted(vars(exc).items()))


@pytest.mark.redis
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(program=st.lists(ops, min_size=1, max_size=30))
def test_stores_agree_on_random_programs(redis_url: str, program: list[tuple[Any, ...]]) -> None:
    """Every operation of a random program returns or raises the same on all three stores."""
    redis_store = RedisStore(redis_url)
    redis_store.client.flushdb()
    stores: list[FlowStore] = [MemoryStore(), SQLiteStore(":memory:"), redis_store]
    try:
        for step, op in enumerate(program):
            results = [apply(s, op) for s in stores]
            assert results[1] == results[0], f"sqlite differs at step {step}: {op}"
            assert results[2] == results[0], f"redis differs at step {step}: {op}"
        final = [apply(s, ("list", None, 10)) for s in stores]
        assert final[0] == final[1] == final[2]
    finally:
        for s in stores:
            s.close()


@pytest.mark.postgres
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(program=st.lists(ops, min_size=1, max_size=30))
def test_postgres_agrees_with_memory_on_random_programs(
    postgres_url: str, program: list[tuple[Any, ...]]
) -> None:
    """Every operation of a random program returns or raises the same on PostgreSQL as in memory."""
    pg_store = PostgresStore(postgres_url)
    with pg_store.connection() as conn:
        conn.execute("DELETE FROM flowengine_flows")
    stores: list[FlowStore] = [MemoryStore(), pg_store]
    try:
        for step, op in enumerate(program):
            results = [apply(s, op) for s in stores]
            assert results[1] == results[0], f"postgres differs at step {step}: {op}"
        final = [apply(s, ("list", None, 10)) for s in stores]
        assert final[0] == final[1]
    finally:
        for s in stores:
            s.close()
