"""Pause, persist and resume flows: sealed snapshots in a store, one claim per step.

``FlowRepository.step(handle)`` is the unit of work of a web request that
advances a login::

    handle = repo.add(client.new_flow())  # keep it in the user's session, never in a log
    with repo.step(handle) as flow:       # check the handle, load, claim seq N
        client.verify_otp(flow, code)     # the Auth0 call happens here
    handle = flow.handle                  # exit: saved seq N+1 (compare-and-swap); new handle

The flow id is a name, not a credential: it resumes nothing. Only the current
resume handle does (see ``_handle``): a handle older than the stored flow is
refused (``StaleHandleError``: a double submit, a second tab), and a stored row
older than the handle is refused too (``SnapshotReplayError``: someone wrote an
earlier row back into the store).

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

import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

from flowengine._audit import AuditTrail
from flowengine._errors import (
    ConfigurationError,
    FlowBusyError,
    FlowClosedError,
    FlowExpiredError,
    InvalidHandleError,
    LostUpdateError,
    MfaCodeExpiredError,
    SnapshotError,
    SnapshotExpiredError,
    SnapshotReplayError,
    SnapshotTamperedError,
    StaleHandleError,
    StaleSnapshotError,
)
from flowengine._flow import Flow
from flowengine._handle import Handle, binding_hash, new_secret
from flowengine._log import log_lost_update, log_takeover
from flowengine._machine import MACHINE_HASH, MACHINE_NAME
from flowengine._snapshot import Keyring, decode, encode

if TYPE_CHECKING:  # the stores package is imported with the store the repository is given
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
        keep_tokens: float | None = None,
    ) -> None:
        """``keep_tokens``: seconds an authenticated flow keeps its tokens in the store.

        By default (None) tokens are delivered, not kept: the step that produced them
        returns them (``StepResult.tokens``, and ``flow.tokens`` on the object in hand),
        and the stored flow records only that they were delivered.
        """
        if keep_tokens is not None and not 0 < keep_tokens <= 86400 * 30:
            raise ConfigurationError("keep_tokens must be None or 0 < seconds <= 30 days")
        if not 0 < lease <= 86400:
            raise ConfigurationError("lease must be 0 < seconds <= 1 day")
        self._keep_tokens = keep_tokens
        self.store = store
        self.keyring = keyring
        self._clock = clock
        self._lease = lease
        self._hashes = tuple(accepted_hashes)

    def _record(self, flow: Flow) -> StoredFlow:
        flow.check_untouched()
        flow.check_invariants()
        env = flow.to_envelope()
        expires_at = flow.expires_at
        if "tokens" in env["context"]:
            if self._keep_tokens is None:
                # Delivered, not kept: the caller has them from the step's result.
                del env["context"]["tokens"]
                env["context"]["tokens_delivered"] = True
            else:
                expires_at = flow.updated_at + self._keep_tokens
                env["expires_at"] = expires_at
        from flowengine.stores._base import StoredFlow  # loaded with the store: a look-up

        return StoredFlow(
            flow_id=flow.flow_id,
            seq=flow.seq,
            state=flow.state,
            expires_at=expires_at,
            updated_at=flow.updated_at,
            data=encode(env, self.keyring),
        )

    def add(self, flow: Flow, *, binding: str | None = None) -> str:
        """Store a new flow; return its resume handle (also left on ``flow.handle``).

        ``binding`` ties the flow to the application's own session id as well:
        every later ``step`` must then name the same binding.
        """
        if flow.context.binding is not None:
            raise InvalidHandleError("this flow is stored already: resume it with its handle")
        secret = new_secret()
        flow.bind(binding_hash(secret, binding), secret)
        self.store.create(self._record(flow))
        return self._hand_out(flow)

    def _hand_out(self, flow: Flow) -> str:
        """Mint the handle for ``flow``'s current revision and leave it on the flow."""
        secret = flow.binding_secret
        if secret is None:
            raise InvalidHandleError("this flow was not stored or resumed through this repository")
        handle = Handle(flow.flow_id, flow.seq, secret).encode(self.keyring)
        flow.set_handle(handle)
        return handle

    def handle(self, flow: Flow) -> str:
        """The current resume handle of a flow this repository stored or lent."""
        return self._hand_out(flow)

    def view(self, handle: str, *, binding: str | None = None) -> Flow:
        """Read the flow ``handle`` names without claiming it (to show it); nothing is sent.

        An older handle may still look (it is refused only for steps).
        """
        h = Handle.decode(handle, self.keyring)
        flow = self._open(self.store.load(h.flow_id))
        self._check_binding(h, flow, binding)
        if flow.seq < h.seq:
            raise SnapshotReplayError("the stored flow is older than the handle: a replayed row")
        flow.bind(flow.context.binding, h.secret)
        return flow

    def audit(self, handle: str, *, binding: str | None = None) -> AuditTrail:
        """The audit trail of the flow ``handle`` names (as ``view`` reads it; nothing is sent).

        Every transition with its time, trigger, outcome, states, Auth0 endpoint, status
        and request id; ``.lines()`` gives JSON Lines. No secret is ever in it.
        """
        return self.view(handle, binding=binding).audit

    @staticmethod
    def _check_binding(h: Handle, flow: Flow, binding: str | None) -> None:
        if not h.matches(flow.context.binding, binding):
            raise InvalidHandleError("this handle does not resume this flow")

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
        """Read a flow by id, for the application's own operations (never resumable from it).

        Expired flows are returned as they are. To show a user their flow, use ``view``.
        """
        return self._open(self.store.load(flow_id))

    def delete(self, flow_id: str) -> None:
        """Forget a flow."""
        self.store.delete(flow_id)

    def sweep(self) -> int:
        """Delete every flow past its ``expires_at``; returns how many."""
        return self.store.sweep_expired(self._clock())

    @contextmanager
    def step(
        self, handle: str, *, binding: str | None = None, expected_seq: int | None = None
    ) -> Iterator[Flow]:
        """Check ``handle``, load, claim and yield the flow; save it on exit if it advanced.

        A bare flow id, a forged handle or another binding raise
        ``InvalidHandleError``; a handle older than the stored flow raises
        ``StaleHandleError`` and a stored row older than the handle
        ``SnapshotReplayError``: nothing is sent in any of these cases. After the
        block, ``flow.handle`` is the next handle (the old one resumes nothing).
        ``expected_seq``, when given, must equal the stored revision too. A live
        flow past its deadline is moved to ``expired``, saved, and
        ``FlowExpiredError`` is raised before the body runs (no request is sent).
        """
        flow, claim = self._begin(handle, binding, expected_seq)
        try:
            yield flow
        except BaseException:
            self._finish(flow, claim, failed=True)
            raise
        self._finish(flow, claim, failed=False)

    def _begin(
        self, handle: str, binding: str | None, expected_seq: int | None
    ) -> tuple[Flow, tuple[str, int]]:
        h = Handle.decode(handle, self.keyring)
        flow_id = h.flow_id
        record = self.store.load(flow_id)
        flow = self._open(record)
        self._check_binding(h, flow, binding)
        if record.seq < h.seq:
            raise SnapshotReplayError(
                "the stored flow is older than the handle: an earlier row was written back"
            )
        if record.seq > h.seq:
            raise StaleHandleError(flow_id, h.seq, record.seq)
        if expected_seq is not None and record.seq != expected_seq:
            raise StaleSnapshotError(flow_id, expected_seq, record.seq)
        flow.bind(flow.context.binding, h.secret)
        flow.set_handle(handle)  # until the block saves a new revision, this one stands
        token = uuid.uuid4().hex
        try:
            taken = self.store.claim(
                flow_id, record.seq, token, now=self._clock(), lease=self._lease
            )
        except StaleHandleError:
            raise
        except StaleSnapshotError as exc:  # advanced between our load and our claim
            raise StaleHandleError(flow_id, h.seq, exc.actual_seq) from None
        if taken is not None:
            self._keep_intent(flow_id, record.seq, token, taken)
            self._note_takeover(flow, record.seq, taken)
        flow.lend(lambda trigger, params: self._renew(flow, record.seq, token, trigger, params))
        if flow.deadline_passed(self._clock()):
            try:
                flow.ensure_fresh(self._clock())
            except (FlowExpiredError, MfaCodeExpiredError):  # moved on: saved, then raised
                self.store.save(self._record(flow), expected_seq=record.seq, token=token)
                self._hand_out(flow)
                raise
        return flow, (token, record.seq)

    def _renew(
        self,
        flow: Flow,
        seq: int,
        token: str,
        trigger: str | None,
        params: Mapping[str, Any],
    ) -> float:
        """Extend our claim by a lease (returned); FlowBusyError/StaleSnapshotError if lost.

        With ``trigger``, the claim also records the intent journal entry: the
        trigger about to be sent and where a code would go (sealed: never clear text
        in the store), so a worker that takes over after we die knows what we sent.

        If our lease ran out meanwhile and the renewal takes over the lapsed claim of
        another worker whose journal names a request (it took the flow from us, sent,
        and died), that request may have reached Auth0: the doubt is recorded on the
        flow (saved when the block ends) and ``FlowBusyError`` is raised, so this
        step sends nothing.
        """
        flow_id = flow.flow_id
        intent = None
        if trigger is not None:
            entry = {
                "t": str(trigger),
                "at": self._clock(),
                "p": {k: params[k] for k in _INTENT_PARAMS if k in params},
            }
            intent = self.keyring.seal(
                json.dumps(entry, separators=(",", ":")).encode(), _intent_aad(flow_id, seq)
            )
        taken = self.store.claim(
            flow_id, seq, token, now=self._clock(), lease=self._lease, intent=intent
        )
        if taken is not None:
            self._keep_intent(flow_id, seq, token, taken)
            self._note_takeover(flow, seq, taken)
            raise FlowBusyError(flow_id, seq)
        return self._lease

    def _keep_intent(self, flow_id: str, seq: int, token: str, intent: str) -> None:
        """Hold a taken-over intent in the store under our claim until our save records it.

        The doubt it names lives only in this process until the block saves; should this
        worker die first, whoever takes over next learns of the request all the same.
        """
        self.store.claim(flow_id, seq, token, now=self._clock(), lease=self._lease, intent=intent)

    def _note_takeover(self, flow: Flow, seq: int, intent: str) -> None:
        """We took over a dead or stalled worker's claim that named a request: mark the doubt."""
        try:
            entry = json.loads(self.keyring.open_sealed(intent, _intent_aad(flow.flow_id, seq)))
            trigger = str(entry["t"])
            params = dict(entry.get("p") or {})
        except (SnapshotError, ValueError, KeyError, TypeError):
            trigger, params = "unknown", {}  # unreadable: still a doubt, never a silent repeat
        flow.note_uncertain(trigger, self._clock(), params, taken_over=True)
        log_takeover(flow.flow_id, trigger)

    def _finish(self, flow: Flow, claim: tuple[str, int], *, failed: bool) -> None:
        token, loaded_seq = claim
        flow.close()  # this object sends nothing more: the store holds the flow now
        try:
            flow.check_untouched()  # state/seq set by hand inside the block: never saved
        except FlowClosedError:
            # Nothing of the block is saved, yet it may have sent a request first: its
            # intent is kept for the next worker, as after a failed save.
            self._cut(flow.flow_id, loaded_seq, token)
            raise
        if flow.seq == loaded_seq:
            self.store.release(flow.flow_id, token)
            self._hand_out(flow)
            return
        # Several changes under one claim (an uncertain send, then a step) are
        # folded into one stored revision: the store's CAS wants exactly seq + 1.
        flow.seq = loaded_seq + 1
        flow._moved()
        try:
            self._save_over(flow, loaded_seq, token)
        except Exception as exc:
            # Auth0 acted and the flow advanced, but nothing of it is stored: give the
            # caller every result (tokens, a new recovery code) and free the claim, but
            # keep its intent.
            self._cut(flow.flow_id, loaded_seq, token)
            log_lost_update(flow.flow_id, type(exc).__name__)
            if not failed:
                raise LostUpdateError(flow.flow_id, tuple(flow.results or ())) from exc
        else:
            self._hand_out(flow)

    def _cut(self, flow_id: str, seq: int, token: str) -> None:
        """Free a claim whose block saved nothing, keeping its intent for the next worker.

        The claim is cut to a moment, not released, so whoever comes next takes it over
        and learns that a request went out (a release would drop the intent and let the
        step be repeated silently). Should the claim have lapsed to a dead worker's, its
        intent is carried over the same way. Best effort: a store error is swallowed
        (the claim then lapses with its lease, the intent still in place).
        """
        with contextlib.suppress(Exception):
            left = self.store.claim(flow_id, seq, token, now=self._clock(), lease=self._lease)
            self.store.claim(flow_id, seq, token, now=self._clock(), lease=_EXPIRE_NOW, intent=left)

    def _save_over(self, flow: Flow, seq: int, token: str) -> None:
        """Save the block's revision, taking over first a dead worker's claim in its way.

        The store refuses the save while another token's claim is live, or lapsed with an
        intent: our lease ran out, a worker took the step over, said what it would send,
        and died before saving. Its request may have reached Auth0, so the claim is taken
        over with that intent kept in the store (should this save fail too, the next
        worker still learns of it), the doubt is recorded on the flow, and the flow is
        saved with both our result and the doubt: the intent is never silently dropped.
        A live claim of another worker stays ``FlowBusyError``.
        """
        try:
            self.store.save(self._record(flow), expected_seq=seq, token=token)
            return
        except FlowBusyError:
            left = self.store.claim(flow.flow_id, seq, token, now=self._clock(), lease=self._lease)
        if left is not None:
            self._keep_intent(flow.flow_id, seq, token, left)
            held = flow._holder()  # closed by _finish; sends nothing: its keeper is gone
            held.closed = False
            try:
                self._note_takeover(flow, seq, left)
            finally:
                held.closed = True
            flow.seq = seq + 1  # still one stored revision: the doubt folds into it
            flow._moved()
        self.store.save(self._record(flow), expected_seq=seq, token=token)


#: The lease a lost save cuts its claim to: over at once, its intent left for the next worker.
_EXPIRE_NOW = 1e-6

#: What an intent journal entry keeps of a step's parameters: where a code would go.
_INTENT_PARAMS = ("connection", "phone_number", "email")


def _intent_aad(flow_id: str, seq: int) -> bytes:
    return b"flowengine intent v1\0" + flow_id.encode() + b"\0" + str(seq).encode()


class AsyncFlowRepository:
    """The same repository for asyncio code: store calls run in a worker thread.

    Its methods import ``asyncio`` where they run (by then an event loop has loaded it),
    so ``import flowengine`` does not.
    """

    def __init__(self, repository: FlowRepository) -> None:
        self.sync = repository

    async def add(self, flow: Flow, *, binding: str | None = None) -> str:
        """Store a new flow; return its resume handle."""
        import asyncio

        return await asyncio.to_thread(self.sync.add, flow, binding=binding)

    async def view(self, handle: str, *, binding: str | None = None) -> Flow:
        """Read the flow ``handle`` names without claiming it."""
        import asyncio

        return await asyncio.to_thread(self.sync.view, handle, binding=binding)

    async def audit(self, handle: str, *, binding: str | None = None) -> AuditTrail:
        """The audit trail of the flow ``handle`` names."""
        import asyncio

        return await asyncio.to_thread(self.sync.audit, handle, binding=binding)

    async def get(self, flow_id: str) -> Flow:
        """Read a flow without claiming it."""
        import asyncio

        return await asyncio.to_thread(self.sync.get, flow_id)

    @asynccontextmanager
    async def step(
        self, handle: str, *, binding: str | None = None, expected_seq: int | None = None
    ) -> AsyncIterator[Flow]:
        """Check the handle, load, claim and yield the flow; save it on exit if it advanced."""
        import asyncio

        begin = asyncio.ensure_future(
            asyncio.to_thread(self.sync._begin, handle, binding, expected_seq)
        )
        try:
            flow, claim = await asyncio.shield(begin)
        except asyncio.CancelledError:
            # The worker thread may still take the claim: give it up when it does, as a
            # block that sent nothing would (a doubt taken over from a dead worker is
            # saved, not dropped with the claim).
            def release(done: asyncio.Future[tuple[Flow, tuple[str, int]]]) -> None:
                if not done.cancelled() and done.exception() is None:
                    taken, claim = done.result()
                    self.sync._finish(taken, claim, failed=True)

            begin.add_done_callback(release)
            raise
        try:
            yield flow
        except BaseException:
            await asyncio.to_thread(self.sync._finish, flow, claim, failed=True)
            raise
        await asyncio.to_thread(self.sync._finish, flow, claim, failed=False)
