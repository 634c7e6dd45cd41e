"""Concurrency: many competitors race to advance the same flow; exactly one may win each race."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from flowengine._errors import StaleSnapshotError
from flowengine.stores import (
    FlowStore,
    MemoryStore,
    PostgresStore,
    RedisStore,
    SQLiteStore,
    StoredFlow,
)

from ._races import judge, make_flows, run_process_races, run_thread_races
from .conftest import RaceTally

THREAD_RACES = 1000
PROCESS_RACES = 250
CAS_RACES = 250
COMPETITORS = 4

pytestmark = pytest.mark.slow


def _tally(
    backend: str, mode: str, store: FlowStore, ids: list[str], results: list[list[str]]
) -> RaceTally:
    winners, stale, busy = judge(store, ids, results)
    tally = RaceTally(backend, mode, len(ids), COMPETITORS, winners, stale, busy)
    assert tally.winners == tally.races
    assert tally.losers == tally.races * (COMPETITORS - 1)
    return tally


def test_sqlite_thread_races(tmp_path: Path, race_log: Callable[[RaceTally], None]) -> None:
    """Four threads sharing an SQLite store race 1,000 times; each race has exactly one winner."""
    with SQLiteStore(tmp_path / "races.db") as store:
        ids = make_flows(store, "thread", THREAD_RACES)
        results = run_thread_races(store, ids, COMPETITORS)
        race_log(_tally("sqlite", "threads", store, ids, results))


def test_sqlite_process_races(tmp_path: Path, race_log: Callable[[RaceTally], None]) -> None:
    """Four processes with their own SQLite connections race on one file; one winner each race."""
    path = str(tmp_path / "races.db")
    with SQLiteStore(path) as store:
        ids = make_flows(store, "proc", PROCESS_RACES)
        results = run_process_races(("sqlite", path), ids, COMPETITORS)
        race_log(_tally("sqlite", "processes", store, ids, results))


def test_sqlite_save_only_races(tmp_path: Path, race_log: Callable[[RaceTally], None]) -> None:
    """Four threads that skip the claim race on save's compare-and-swap alone; one wins each."""
    with SQLiteStore(tmp_path / "races.db") as store:
        ids = make_flows(store, "cas", CAS_RACES)
        results = run_thread_races(store, ids, COMPETITORS, claim=False)
        tally = _tally("sqlite", "save-only", store, ids, results)
        assert tally.busy == 0
        race_log(tally)


@pytest.mark.redis
def test_redis_thread_races(redis_url: str, race_log: Callable[[RaceTally], None]) -> None:
    """Four threads sharing a Redis store race 1,000 times; each race has exactly one winner."""
    with RedisStore(redis_url) as store:
        ids = make_flows(store, "thread", THREAD_RACES)
        results = run_thread_races(store, ids, COMPETITORS)
        race_log(_tally("redis", "threads", store, ids, results))


@pytest.mark.redis
def test_redis_process_races(redis_url: str, race_log: Callable[[RaceTally], None]) -> None:
    """Four processes, each with its own Redis client, race with exactly one winner per race."""
    with RedisStore(redis_url) as store:
        ids = make_flows(store, "proc", PROCESS_RACES)
        results = run_process_races(("redis", redis_url), ids, COMPETITORS)
        race_log(_tally("redis", "processes", store, ids, results))


@pytest.mark.redis
def test_redis_save_only_races(redis_url: str, race_log: Callable[[RaceTally], None]) -> None:
    """Four threads that skip the claim race on save's compare-and-swap alone; one wins each."""
    with RedisStore(redis_url) as store:
        ids = make_flows(store, "cas", CAS_RACES)
        results = run_thread_races(store, ids, COMPETITORS, claim=False)
        tally = _tally("redis", "save-only", store, ids, results)
        assert tally.busy == 0
        race_log(tally)


@pytest.mark.postgres
def test_postgres_thread_races(postgres_url: str, race_log: Callable[[RaceTally], None]) -> None:
    """Four threads sharing a PostgreSQL store race 1,000 times; each race has one winner."""
    with PostgresStore(postgres_url) as store:
        ids = make_flows(store, "thread", THREAD_RACES)
        results = run_thread_races(store, ids, COMPETITORS)
        race_log(_tally("postgres", "threads", store, ids, results))


@pytest.mark.postgres
def test_postgres_process_races(postgres_url: str, race_log: Callable[[RaceTally], None]) -> None:
    """Four processes, each with its own connections, race with exactly one winner per race."""
    with PostgresStore(postgres_url) as store:
        ids = make_flows(store, "proc", PROCESS_RACES)
        results = run_process_races(("postgres", postgres_url), ids, COMPETITORS)
        race_log(_tally("postgres", "processes", store, ids, results))


@pytest.mark.postgres
def test_postgres_save_only_races(postgres_url: str, race_log: Callable[[RaceTally], None]) -> None:
    """Four threads that skip the claim race on save's compare-and-swap alone; one wins each."""
    with PostgresStore(postgres_url) as store:
        ids = make_flows(store, "cas", CAS_RACES)
        results = run_thread_races(store, ids, COMPETITORS, claim=False)
        tally = _tally("postgres", "save-only", store, ids, results)
        assert tally.busy == 0
        race_log(tally)


class _NoCasStore(MemoryStore):
    """A broken store: claims always succeed and save ignores the sequence number."""

    def claim(self, flow_id: str, seq: int, token: str, *, now: float, lease: float = 30.0) -> None:
        """Accept every claim."""

    def save(self, record: StoredFlow, *, expected_seq: int, token: str | None) -> None:
        """Write without comparing, after letting the other threads in."""
        self.load(record.flow_id)
        time.sleep(0.001)
        with self._lock:
            self._flows[record.flow_id] = type(self._flows[record.flow_id])(record)


def test_harness_catches_a_store_without_cas() -> None:
    """The race judge reports a double winner when the store does not compare-and-swap."""
    store = _NoCasStore()
    ids = make_flows(store, "broken", 20)
    results = run_thread_races(store, ids, COMPETITORS)
    with pytest.raises(AssertionError, match="outcomes"):
        judge(store, ids, results)


def test_memory_store_thread_races(race_log: Callable[[RaceTally], None]) -> None:
    """Four threads sharing a MemoryStore race 200 times; each race has exactly one winner."""
    store = MemoryStore()
    ids = make_flows(store, "thread", 200)
    results = run_thread_races(store, ids, COMPETITORS)
    race_log(_tally("memory", "threads", store, ids, results))
    with pytest.raises(StaleSnapshotError):
        store.claim(ids[0], 0, "late", now=0.0)
