"""Pause, persist and resume flows: sealed snapshots in a store, one claim per step.

``FlowRepository.step(flow_id)`` is the unit of work of a web request that
advances a login::

    with repo.step(flow_id) as flow:      # load, check, claim seq N
        client.verify_otp(flow, code)     # the Auth0 call happens here
                                          # exit: save seq N+1 (compare-and-swap)

The claim (a lease, 120 s by default: keep it well above the longest Auth0
call, timeouts and retries included) is taken *before* the Auth0 request is
sent, so of two resumers of the same flow at the same sequence number (two
tabs, a double submit, two servers) exactly one sends anything; the other gets
``StaleSnapshotError`` or ``FlowBusyError``. When the step fails without
changing the flow, the claim is released and nothing is written. A step whose
answer ended the flow (rejected, locked, expired) is saved before its error
propagates.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from contextlib import asynccontextmanager, contextmanager

from flowengine._errors import (
    FlowClosedError,
    FlowExpiredError,
    SnapshotExpiredError,
    SnapshotTamperedError,
    StaleSnapshotError,
)
from flowengine._flow import Flow
from flowengine._machine import MACHINE_HASH, MACHINE_NAME
from flowengine._snapshot import Keyring, decode, encode
from flowengine.stores import FlowStore, StoredFlow


def dump_flow(flow: Flow, keyring: Keyring) -> str:
    """Seal ``flow`` into a snapshot: secrets encrypted, the whole envelope authenticated."""
    return encode(flow.to_envelope(), keyring)


def load_flow(
    data: str | bytes,
    keyring: Keyring,
    *,
    now: float | None,
    accepted_hashes: Collection[str] = (MACHINE_HASH,),
) -> Flow:
    """Open a snapshot. Any doubt about it raises a ``SnapshotError`` and loads nothing.

    With ``now``, a live flow past one of Auth0's deadlines raises
    ``SnapshotExpiredError``; pass ``now=None`` to read it anyway (to show it,
    or to record that it expired).
    """
    env = decode(data, keyring, machine=MACHINE_NAME, accepted_hashes=accepted_hashes, now=None)
    flow = Flow.from_envelope(env)
    if now is not None and flow.deadline_passed(now):
        raise SnapshotExpiredError(f"flow {flow.flow_id!r} passed one of Auth0's deadlines")
    return flow


class FlowRepository:
    """Flows kept in a ``FlowStore`` as sealed snapshots."""

    def __init__(
        self,
        store: FlowStore,
        keyring: Keyring,
        *,
        clock: Callable[[], float] = time.time,
        lease: float = 120.0,
        accepted_hashes: Collection[str] = (MACHINE_HASH,),
    ) -> None:
        self.store = store
        self.keyring = keyring
        self._clock = clock
        self._lease = lease
        self._hashes = tuple(accepted_hashes)

    def _record(self, flow: Flow) -> StoredFlow:
        flow.check_untouched()
        flow.check_invariants()
        return StoredFlow(
            flow_id=flow.flow_id,
            seq=flow.seq,
            state=flow.state,
            expires_at=flow.expires_at,
            updated_at=flow.updated_at,
            data=dump_flow(flow, self.keyring),
        )

    def add(self, flow: Flow) -> None:
        """Store a flow that is not stored yet (usually a new one at seq 0)."""
        self.store.create(self._record(flow))

    def _open(self, record: StoredFlow) -> Flow:
        """The flow in ``record``, refused unless the snapshot is this row's flow and revision."""
        flow = load_flow(record.data, self.keyring, now=None, accepted_hashes=self._hashes)
        if flow.flow_id != record.flow_id or flow.seq != record.seq:
            raise SnapshotTamperedError(
                f"the row of flow {record.flow_id!r} holds another flow's snapshot or another "
                "revision of it"
            )
        return flow

    def get(self, flow_id: str) -> Flow:
        """Read a flow without claiming it (to show it). Expired flows are returned as they are."""
        return self._open(self.store.load(flow_id))

    def delete(self, flow_id: str) -> None:
        """Forget a flow."""
        self.store.delete(flow_id)

    def sweep(self) -> int:
        """Delete every flow past its ``expires_at``; returns how many."""
        return self.store.sweep_expired(self._clock())

    @contextmanager
    def step(self, flow_id: str, *, expected_seq: int | None = None) -> Iterator[Flow]:
        """Load, claim and yield the flow; save it on exit if it advanced.

        ``expected_seq`` is the revision the caller last saw (a web form can
        carry it): if the stored flow has moved on, ``StaleSnapshotError`` is raised
        and nothing is sent. A live flow past its deadline is moved to
        ``expired``, saved, and ``FlowExpiredError`` is raised before the body
        runs (no request is sent).
        """
        flow, claim = self._begin(flow_id, expected_seq)
        try:
            yield flow
        except BaseException:
            self._finish(flow, claim, failed=True)
            raise
        self._finish(flow, claim, failed=False)

    def _begin(self, flow_id: str, expected_seq: int | None) -> tuple[Flow, tuple[str, int]]:
        record = self.store.load(flow_id)
        if expected_seq is not None and record.seq != expected_seq:
            raise StaleSnapshotError(flow_id, expected_seq, record.seq)
        flow = self._open(record)
        token = uuid.uuid4().hex
        self.store.claim(flow_id, record.seq, token, now=self._clock(), lease=self._lease)
        if flow.deadline_passed(self._clock()):
            try:
                flow.ensure_fresh(self._clock())
            except FlowExpiredError:
                self.store.save(self._record(flow), expected_seq=record.seq, token=token)
                raise
        return flow, (token, record.seq)

    def _finish(self, flow: Flow, claim: tuple[str, int], *, failed: bool) -> None:
        token, loaded_seq = claim
        flow.close()  # this object sends nothing more: the store holds the flow now
        try:
            flow.check_untouched()  # state/seq set by hand inside the block: never saved
        except FlowClosedError:
            self.store.release(flow.flow_id, token)
            raise
        if flow.seq == loaded_seq:
            self.store.release(flow.flow_id, token)
            return
        # Several changes under one claim (an uncertain send, then a step) are
        # folded into one stored revision: the store's CAS wants exactly seq + 1.
        flow.seq = loaded_seq + 1
        flow._moved()
        expected = loaded_seq
        try:
            self.store.save(self._record(flow), expected_seq=expected, token=token)
        except Exception:
            if not failed:
                raise


class AsyncFlowRepository:
    """The same repository for asyncio code: store calls run in a worker thread."""

    def __init__(self, repository: FlowRepository) -> None:
        self.sync = repository

    async def add(self, flow: Flow) -> None:
        """Store a new flow."""
        await asyncio.to_thread(self.sync.add, flow)

    async def get(self, flow_id: str) -> Flow:
        """Read a flow without claiming it."""
        return await asyncio.to_thread(self.sync.get, flow_id)

    @asynccontextmanager
    async def step(self, flow_id: str, *, expected_seq: int | None = None) -> AsyncIterator[Flow]:
        """Load, claim and yield the flow; save it on exit if it advanced."""
        begin = asyncio.ensure_future(asyncio.to_thread(self.sync._begin, flow_id, expected_seq))
        try:
            flow, claim = await asyncio.shield(begin)
        except asyncio.CancelledError:
            # The worker thread may still take the claim: release it when it does.
            def release(done: asyncio.Future[tuple[Flow, tuple[str, int]]]) -> None:
                if not done.cancelled() and done.exception() is None:
                    taken, (token, _) = done.result()
                    self.sync.store.release(taken.flow_id, token)

            begin.add_done_callback(release)
            raise
        try:
            yield flow
        except BaseException:
            await asyncio.to_thread(self.sync._finish, flow, claim, failed=True)
            raise
        await asyncio.to_thread(self.sync._finish, flow, claim, failed=False)
