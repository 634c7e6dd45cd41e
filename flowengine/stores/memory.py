"""A process-local, thread-safe flow store kept in a dict (for tests and single workers)."""

from __future__ import annotations

import builtins
import threading

import attrs

from flowengine._errors import FlowBusyError, FlowNotFoundError, StaleSnapshotError, StoreError
from flowengine.stores._base import (
    DEFAULT_LEASE,
    StoreBase,
    StoredFlow,
    check_claim,
    check_flow_id,
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

    def busy_for(self, token: str | None, now: float) -> bool:
        """True if a token other than ``token`` holds a claim still live at ``now``."""
        return (
            self.claim_token is not None and self.claim_token != token and self.claim_expires > now
        )


class MemoryStore(StoreBase):
    """Flows in a dict guarded by one lock; nothing survives the process.

    Every method holds the lock for its whole run, so each is atomic with
    respect to the others.  After :meth:`close` every method raises
    :class:`StoreError`.
    """

    def __init__(self) -> None:
        """Create an empty store."""
        self._lock = threading.Lock()
        self._flows: dict[str, _Entry] = {}
        self._closed = False

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
        """Insert ``record``; :class:`StoreError` if a flow with its id exists."""
        check_record(record)
        with self._lock:
            self._check_open()
            if record.flow_id in self._flows:
                raise StoreError(f"a flow with id {record.flow_id!r} already exists")
            self._flows[record.flow_id] = _Entry(record)

    def load(self, flow_id: str) -> StoredFlow:
        """Return the stored flow; :class:`FlowNotFoundError` if there is none."""
        check_flow_id(flow_id)
        with self._lock:
            self._check_open()
            return self._get(flow_id).record

    def claim(
        self, flow_id: str, seq: int, token: str, *, now: float, lease: float = DEFAULT_LEASE
    ) -> None:
        """Reserve the step from ``seq`` for ``token`` until ``now + lease``."""
        expires = check_claim(flow_id, seq, token, now, lease)
        with self._lock:
            self._check_open()
            entry = self._get(flow_id)
            if entry.record.seq != seq:
                raise StaleSnapshotError(flow_id, seq, entry.record.seq)
            if entry.busy_for(token, now):
                raise FlowBusyError(flow_id, seq)
            entry.claim_token = token
            entry.claim_expires = expires

    def save(self, record: StoredFlow, *, expected_seq: int, token: str | None) -> None:
        """Compare-and-swap ``record`` in place of the flow at ``expected_seq``; drop the claim."""
        check_save(record, expected_seq, token)
        with self._lock:
            self._check_open()
            entry = self._get(record.flow_id)
            if entry.record.seq != expected_seq:
                raise StaleSnapshotError(record.flow_id, expected_seq, entry.record.seq)
            if entry.busy_for(token, record.updated_at):
                raise FlowBusyError(record.flow_id, expected_seq)
            self._flows[record.flow_id] = _Entry(record)

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
        """Drop every flow; later calls raise :class:`StoreError`.  Idempotent."""
        with self._lock:
            self._closed = True
            self._flows.clear()
