"""Sweeping 100,000 expired flows deletes exactly those and reports the right count."""

from __future__ import annotations

import sqlite3
import time

import pytest

from flowengine._errors import FlowNotFoundError
from flowengine.stores import FlowStore, RedisStore, SQLiteStore, StoredFlow

EXPIRED = 100_000
LATER = 1_000
FOREVER = 500

pytestmark = pytest.mark.slow


def bulk_create(store: FlowStore, records: list[StoredFlow]) -> None:
    """Insert many records fast: one SQLite transaction, or pipelined Redis create scripts."""
    if isinstance(store, SQLiteStore):
        conn = sqlite3.connect(store.path)
        try:
            with conn:
                conn.executemany(
                    "INSERT INTO flows (flow_id, seq, state, expires_at, updated_at, data) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (r.flow_id, r.seq, r.state, r.expires_at, r.updated_at, r.data)
                        for r in records
                    ],
                )
        finally:
            conn.close()
    elif isinstance(store, RedisStore):
        pipe = store.client.pipeline(transaction=False)
        for i, r in enumerate(records, 1):
            expires = "" if r.expires_at is None else repr(r.expires_at)
            pexpireat = "" if r.expires_at is None else str(int(r.expires_at * 1000) + 1)
            args: list[str | int] = [
                store.prefix,
                r.flow_id,
                r.seq,
                r.state,
                expires,
                repr(r.updated_at),
                r.data,
            ]
            store._create(keys=[store.flow_key(r.flow_id)], args=[*args, pexpireat], client=pipe)
            if i % 5000 == 0:
                pipe.execute()
        pipe.execute()
    else:
        for r in records:
            store.create(r)


def test_sweep_of_100k_expired_flows(store: FlowStore) -> None:
    """100,000 expired flows are swept in one call; later-expiring and endless flows remain."""
    now = time.time()
    cutoff = now + 7200  # in the future, so Redis has evicted nothing by itself
    records = [
        StoredFlow(f"x{i:06d}", 0, "otp_sent", now + 3600 + i * 0.01, now, "s" * 64)
        for i in range(EXPIRED)
    ]
    records += [StoredFlow(f"l{i:04d}", 0, "mfa", now + 10**6, now, "s") for i in range(LATER)]
    records += [StoredFlow(f"n{i:04d}", 0, "start", None, now, "s") for i in range(FOREVER)]
    bulk_create(store, records)
    assert len(store.list(limit=EXPIRED + LATER + FOREVER)) == EXPIRED + LATER + FOREVER

    assert store.sweep_expired(cutoff) == EXPIRED
    assert store.sweep_expired(cutoff) == 0
    remaining = store.list(limit=EXPIRED)
    assert len(remaining) == LATER + FOREVER
    assert {r.flow_id[0] for r in remaining} == {"l", "n"}
    for fid in ("x000000", "x050000", f"x{EXPIRED - 1:06d}"):
        with pytest.raises(FlowNotFoundError):
            store.load(fid)
    assert store.list(state="otp_sent") == []
    assert store.sweep_expired(now + 2 * 10**6) == LATER
