"""A process-local, thread-safe flow store kept in a dict (for tests and single workers).

Claims are judged by the store's own ``clock`` (``time.time`` unless given),
never by the ``now`` a caller passes: see "One clock for claims" in
``flowengine.stores._base``.
"""

from __future__ import annotations

import builtins
import threading
import time
from collections.abc import Callable

import attrs

from flowengine._errors import FlowBusyError, FlowNotFoundError, StaleSnapshotError, StoreError
from flowengine.stores._base import (
    DEFAULT_AUTO_SWEEP,
    DEFAULT_AUTO_SWEEP_BATCH,
    DEFAULT_LEASE,
    StoreBase,
    StoredFlow,
    StoreStats,
    check_claim,
    check_flow_id,
    check_intent,
    check_limit,
    check_record,
    check_save,
    check_time,
    check_token,
    sort_key,
)

__all__ = ["MemoryStore"]


@attrs.define
class _Entry:
    """A stored flow and the claim on its next step, if any."""

    record: StoredFlow
    claim_token: str | None = None
    claim_expires: float = 0.0
    #: What the claim holder said it was about to do (sealed by the repository).
    claim_intent: str | None = None

    def busy_for(self, token: str | None, now: float) -> bool:
        """True if a token other than ``token`` holds a claim still live at ``now``."""
        return (
            self.claim_token is not None and self.claim_token != token and self.claim_expires > now
        )

    def bars_save(self, token: str | None, now: float) -> bool:
        """True if another token's claim stands in a save's way: live, or lapsed with an intent.

        A lapsed claim that named a request is a worker that may have sent it and died: a
        save would drop its intent, so the saver must take the claim over first.
        """
        return self.busy_for(token, now) or (
            self.claim_intent is not None and self.claim_token != token
        )


class MemoryStore(StoreBase):
    """Flows in a dict guarded by one lock; nothing survives the process.

    Every method holds the lock for its whole run, so each is atomic with
    respect to the others.  After ``close`` every method raises
    ``StoreError``.  ``clock`` is the store's clock (claims are judged by
    it); ``auto_sweep`` and ``auto_sweep_batch`` set the automatic sweep (a scan
    of the dict, at most once per ``auto_sweep`` seconds).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        auto_sweep: float | None = DEFAULT_AUTO_SWEEP,
        auto_sweep_batch: int = DEFAULT_AUTO_SWEEP_BATCH,
    ) -> None:
        """Create an empty store."""
        self._lock = threading.Lock()
        self._flows: dict[str, _Entry] = {}
        self._closed = False
        self._clock = clock
        self._setup_auto_sweep(auto_sweep, auto_sweep_batch)

    def _now(self) -> float:
        return check_time(self._clock(), "the store clock's time")

    def __repr__(self) -> str:
        """Show the number of flows, never their data."""
        return f"<MemoryStore flows={len(self._flows)}{' closed' if self._closed else ''}>"

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the memory store is closed")

    def _get(self, flow_id: str) -> _Entry:
        entry = self._flows.get(flow_id)
        if entry is None:
            raise FlowNotFoundError(flow_id)
        return entry

    def create(self, record: StoredFlow) -> None:
        """Insert ``record``; ``StoreError`` if a flow with its id exists."""
        check_record(record)
        with self._lock:
            self._check_open()
            if record.flow_id in self._flows:
                raise StoreError(f"a flow with id {record.flow_id!r} already exists")
            self._flows[record.flow_id] = _Entry(record)
        self._after_write(record)

    def load(self, flow_id: str) -> StoredFlow:
        """Return the stored flow; ``FlowNotFoundError`` if there is none."""
        check_flow_id(flow_id)
        with self._lock:
            self._check_open()
            return self._get(flow_id).record

    def claim(
        self,
        flow_id: str,
        seq: int,
        token: str,
        *,
        now: float,
        lease: float = DEFAULT_LEASE,
        intent: str | None = None,
    ) -> str | None:
        """Reserve the step from ``seq`` for ``token`` until the store's clock + ``lease``."""
        span = check_claim(flow_id, seq, token, now, lease)
        note = check_intent(intent)
        with self._lock:
            self._check_open()
            entry = self._get(flow_id)
            if entry.record.seq != seq:
                raise StaleSnapshotError(flow_id, seq, entry.record.seq)
            at = self._now()
            if entry.busy_for(token, at):
                raise FlowBusyError(flow_id, seq)
            taken_over = entry.claim_token is not None and entry.claim_token != token
            left = entry.claim_intent if taken_over else None
            if taken_over:
                entry.claim_intent = None
            entry.claim_token = token
            entry.claim_expires = at + span
            if note is not None:
                entry.claim_intent = note
            return left

    def save(self, record: StoredFlow, *, expected_seq: int, token: str | None) -> None:
        """Compare-and-swap ``record`` in place of the flow at ``expected_seq``; drop the claim."""
        check_save(record, expected_seq, token)
        with self._lock:
            self._check_open()
            entry = self._get(record.flow_id)
            if entry.record.seq != expected_seq:
                raise StaleSnapshotError(record.flow_id, expected_seq, entry.record.seq)
            if entry.bars_save(token, self._now()):
                raise FlowBusyError(record.flow_id, expected_seq)
            self._flows[record.flow_id] = _Entry(record)
        self._after_write(record)

    def release(self, flow_id: str, token: str) -> None:
        """Drop the claim if ``token`` holds it; otherwise do nothing."""
        check_flow_id(flow_id)
        check_token(token)
        with self._lock:
            self._check_open()
            entry = self._flows.get(flow_id)
            if entry is not None and entry.claim_token == token:
                entry.claim_token = None
                entry.claim_expires = 0.0
                entry.claim_intent = None

    def delete(self, flow_id: str) -> None:
        """Delete the flow if it exists (idempotent)."""
        check_flow_id(flow_id)
        with self._lock:
            self._check_open()
            self._flows.pop(flow_id, None)

    def sweep_expired(self, now: float) -> int:
        """Delete every flow with ``expires_at <= now``; return how many were deleted."""
        cutoff = check_time(now, "now")
        with self._lock:
            self._check_open()
            doomed = [
                fid
                for fid, entry in self._flows.items()
                if entry.record.expires_at is not None and entry.record.expires_at <= cutoff
            ]
            for fid in doomed:
                del self._flows[fid]
            return len(doomed)

    def _sweep_some(self, *, cap: float, keep: str, batch: int) -> int:
        """Delete up to ``batch`` flows expired by the store's clock and by ``cap``."""
        with self._lock:
            self._check_open()
            cutoff = min(self._now(), cap)
            doomed: builtins.list[str] = []
            for fid, entry in self._flows.items():
                expires = entry.record.expires_at
                if expires is not None and expires <= cutoff and fid != keep:
                    doomed.append(fid)
                    if len(doomed) >= batch:
                        break
            for fid in doomed:
                del self._flows[fid]
            return len(doomed)

    def stats(self) -> StoreStats:
        """Counts by state, the oldest live flow, claims (by the store's clock)."""
        with self._lock:
            self._check_open()
            now = self._now()
            entries = builtins.list(self._flows.values())
        by_state: dict[str, int] = {}
        expired = held = lapsed = 0
        oldest: StoredFlow | None = None
        for entry in entries:
            rec = entry.record
            by_state[rec.state] = by_state.get(rec.state, 0) + 1
            if rec.expires_at is not None and rec.expires_at <= now:
                expired += 1
            elif oldest is None or sort_key(rec) < sort_key(oldest):
                oldest = rec
            if entry.claim_token is not None:
                if entry.claim_expires > now:
                    held += 1
                else:
                    lapsed += 1
        return StoreStats(
            flows=len(entries),
            by_state=dict(sorted(by_state.items())),
            expired=expired,
            oldest_live=None
            if oldest is None
            else {
                "flow_id": oldest.flow_id,
                "state": oldest.state,
                "updated_at": oldest.updated_at,
                "expires_at": oldest.expires_at,
            },
            claims_held=held,
            claims_expired=lapsed,
            schema_version=None,
            now=now,
        )

    def list(self, *, state: str | None = None, limit: int = 100) -> builtins.list[StoredFlow]:
        """Return up to ``limit`` flows, newest ``updated_at`` first (ties: greater id first)."""
        check_limit(limit)
        with self._lock:
            self._check_open()
            records = [
                e.record for e in self._flows.values() if state is None or e.record.state == state
            ]
        records.sort(key=sort_key, reverse=True)
        return records[:limit]

    def close(self) -> None:
        """Drop every flow; later calls raise ``StoreError``.  Idempotent."""
        with self._lock:
            self._closed = True
            self._flows.clear()
