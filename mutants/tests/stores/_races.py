"""Race harness: N competitors try claim(0) then save(1) on the same fresh flow, many times.

Competitors are threads sharing one store, or processes (``spawn``) each
opening their own store on the same database.  A barrier lines them up
before every race, so they really do start together.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from flowengine._errors import FlowBusyError, StaleSnapshotError
from flowengine.stores import FlowStore, PostgresStore, RedisStore, SQLiteStore, StoredFlow

WIN, STALE, BUSY = "win", "stale", "busy"


def make_flows(store: FlowStore, prefix: str, count: int) -> list[str]:
    """Create ``count`` flows at seq 0 and return their ids."""
    now = time.time()
    ids = [f"{prefix}-{i:05d}" for i in range(count)]
    for fid in ids:
        store.create(StoredFlow(fid, 0, "start", now + 3600, now, "sealed-0"))
    return ids


STEP_PAUSE = 0.0002
"""Seconds a claimant spends on its step (standing in for the request to Auth0)."""


def attempt(store: FlowStore, flow_id: str, token: str, *, claim: bool = True) -> str:
    """One competitor's try: claim seq 0, do the step, then save seq 1; return its outcome.

    With ``claim=False`` the competitor skips the claim and relies on the
    compare-and-swap of ``save`` alone (token None).
    """
    try:
        if claim:
            store.claim(flow_id, 0, token, now=time.time(), lease=30.0)
            time.sleep(STEP_PAUSE)
        store.save(
            StoredFlow(flow_id, 1, "won", time.time() + 3600, time.time(), f"winner={token}"),
            expected_seq=0,
            token=token if claim else None,
        )
    except StaleSnapshotError:
        return STALE
    except FlowBusyError:
        return BUSY
    return WIN


def _compete(
    store: FlowStore,
    flow_ids: Sequence[str],
    worker: int,
    wait: Callable[[], Any],
    claim: bool = True,
) -> list[str]:
    outcomes = []
    for fid in flow_ids:
        wait()
        outcomes.append(attempt(store, fid, f"w{worker}-{fid}", claim=claim))
    return outcomes


def run_thread_races(
    store: FlowStore, flow_ids: Sequence[str], competitors: int, *, claim: bool = True
) -> list[list[str]]:
    """Race ``competitors`` threads over every flow; return outcomes[worker][race]."""
    barrier = threading.Barrier(competitors, timeout=60)
    results: list[list[str]] = [[] for _ in range(competitors)]
    errors: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            results[worker] = _compete(store, flow_ids, worker, barrier.wait, claim)
        except BaseException as exc:  # reported below, after join
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(w,)) for w in range(competitors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def _open(spec: tuple[str, str]) -> FlowStore:
    kind, where = spec
    if kind == "sqlite":
        return SQLiteStore(where)
    if kind == "postgres":
        return PostgresStore(where)
    return RedisStore(where)


def _process_main(
    spec: tuple[str, str], flow_ids: list[str], worker: int, barrier: Any, queue: Any
) -> None:
    """Entry point of a competitor process: open its own store, race, report."""
    try:
        with _open(spec) as store:
            queue.put((worker, _compete(store, flow_ids, worker, barrier.wait)))
    except BaseException as exc:
        barrier.abort()
        queue.put((worker, f"error: {type(exc).__name__}: {exc}"))


def run_process_races(
    spec: tuple[str, str], flow_ids: Sequence[str], competitors: int
) -> list[list[str]]:
    """Race ``competitors`` spawned processes over every flow; return outcomes[worker][race]."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(competitors, timeout=60)
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_process_main, args=(spec, list(flow_ids), w, barrier, queue))
        for w in range(competitors)
    ]
    for proc in procs:
        proc.start()
    results: list[list[str]] = [[] for _ in range(competitors)]
    problems = []
    try:
        for _ in range(competitors):
            worker, outcome = queue.get(timeout=120)
            if isinstance(outcome, str):
                problems.append(outcome)
            else:
                results[worker] = outcome
    finally:
        for proc in procs:
            proc.join(30)
            if proc.is_alive():
                proc.kill()
                proc.join()
    if problems:
        raise AssertionError(f"competitor processes failed: {problems}")
    return results


def judge(
    store: FlowStore, flow_ids: Sequence[str], results: list[list[str]]
) -> tuple[int, int, int]:
    """Assert exactly one winner per race and a seq-1 record written by it; return tallies."""
    winners = stale = busy = 0
    for race, fid in enumerate(flow_ids):
        outcomes = [results[w][race] for w in range(len(results))]
        won = [w for w, o in enumerate(outcomes) if o == WIN]
        assert len(won) == 1, f"race {fid}: outcomes {outcomes}"
        assert all(o in (WIN, STALE, BUSY) for o in outcomes), outcomes
        stored = store.load(fid)
        assert stored.seq == 1, f"race {fid}: final seq {stored.seq}"
        assert stored.data == f"winner=w{won[0]}-{fid}", f"race {fid}: {stored.data}"
        winners += 1
        stale += outcomes.count(STALE)
        busy += outcomes.count(BUSY)
    return winners, stale, busy
