"""A flow store in Redis: one hash per flow, every write a Lua script.

Keys (``P`` is the prefix, ``flowengine:`` by default)
------------------------------------------------------
``P flow:<id>``
    Hash with ``seq``, ``state``, ``updated_at``, ``data``, and when set
    ``expires_at``, ``claim_token``, ``claim_expires``.  A flow with an
    ``expires_at`` carries a matching TTL (``PEXPIREAT``, rounded up to the
    millisecond), so Redis evicts it on its own; a flow without has no TTL.
``P expiry``
    Sorted set of flow ids scored by ``expires_at`` (flows that expire only).
``P updated``
    Sorted set of every flow id scored by ``updated_at``, for ``list``.
``P state:<state>``
    Sorted set of the ids in that state scored by ``updated_at``.
``P states``
    Hash of flow id to state, so the indexes can be cleaned after Redis has
    evicted a flow's hash.
``P schema``
    The layout version, once ``flowengine store migrate`` wrote it.  This
    layout (version 1) is the only one the single-server store ever wrote, so
    a store without the key is read as version 1 too.

``create``, ``claim``, ``save``, ``release``, ``delete``, ``sweep_expired``
and ``list`` each run as one Lua script, so each is atomic against every
other client.  Index entries left behind by a TTL eviction are removed by
``sweep_expired`` (and by ``list`` as it meets them); ``sweep_expired``
counts only the flows it deleted itself, so it returns 0 when Redis evicted
them all first.

Claims are judged by the server's clock: the ``claim`` and ``save``
scripts read ``TIME`` and never use the caller's ``now`` or
``updated_at`` for it, so clients whose clocks disagree (by more than the
lease, even) cannot take each other's claims.  ``TIME`` in a script that
then writes needs effect replication: the default since Redis 5 (older
servers are asked for it with ``redis.replicate_commands``).  The automatic
sweep deletes a flow only once the server's clock and the writer's
``updated_at`` are both past its ``expires_at``.

The scripts touch keys they compute from the prefix, so the store needs a
single Redis server (or a primary with replicas), not Redis Cluster: for a
cluster use ``flowengine.stores.redis_cluster.RedisClusterStore``
(``redis+cluster://``), whose layout differs (this one is unchanged).  Use a
``maxmemory-policy`` of ``noeviction`` or ``volatile-*`` so that the
indexes, which have no TTL, are never evicted.

``redis`` is imported when a store is built, not when this module is.
"""

from __future__ import annotations

import builtins
import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from flowengine._errors import (
    ConfigurationError,
    FlowBusyError,
    FlowNotFoundError,
    StaleSnapshotError,
    StoreError,
)
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
    check_redis_url,
    check_save,
    check_time,
    check_token,
)

if TYPE_CHECKING:
    import redis as redis_lib

__all__ = ["RedisStore"]

SCHEMA_VERSION = 1
"""The version of the key layout described above."""

_OK, _NOT_FOUND, _STALE, _BUSY, _EXISTS = 0, 1, 2, 3, 4

# The server's clock in epoch seconds (microseconds), the one clock every claim is judged by.
_CLOCK = r"""
if redis.replicate_commands then pcall(redis.replicate_commands) end
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""

_LIB = (
    _CLOCK
    + r"""
local function drop(prefix, id)
  local st = redis.call('HGET', prefix .. 'states', id)
  if st then redis.call('ZREM', prefix .. 'state:' .. st, id) end
  redis.call('HDEL', prefix .. 'states', id)
  redis.call('ZREM', prefix .. 'updated', id)
  redis.call('ZREM', prefix .. 'expiry', id)
  return redis.call('DEL', prefix .. 'flow:' .. id)
end

-- write the record's fields (claim dropped), its TTL and its index entries
local function put(prefix, id, seq, state, expires, updated, data, pexpireat)
  local fk = prefix .. 'flow:' .. id
  redis.call('HSET', fk, 'seq', seq, 'state', state, 'updated_at', updated, 'data', data)
  redis.call('HDEL', fk, 'claim_token', 'claim_expires', 'claim_intent')
  local old = redis.call('HGET', prefix .. 'states', id)
  if old and old ~= state then redis.call('ZREM', prefix .. 'state:' .. old, id) end
  redis.call('HSET', prefix .. 'states', id, state)
  redis.call('ZADD', prefix .. 'state:' .. state, updated, id)
  redis.call('ZADD', prefix .. 'updated', updated, id)
  if expires ~= '' then
    redis.call('HSET', fk, 'expires_at', expires)
    redis.call('ZADD', prefix .. 'expiry', expires, id)
    redis.call('PEXPIREAT', fk, pexpireat)
  else
    redis.call('HDEL', fk, 'expires_at')
    redis.call('ZREM', prefix .. 'expiry', id)
    redis.call('PERSIST', fk)
  end
end
"""
)

# KEYS[1]=flow key; ARGV: prefix id seq state expires updated data pexpireat
_CREATE = (
    _LIB
    + r"""
if redis.call('EXISTS', KEYS[1]) == 1 then return 4 end
put(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
return 0
"""
)

# KEYS[1]=flow key; ARGV: seq token lease intent('' = keep)   (judged by the server's clock)
# -> {code, seq, intent left by an expired claim of another token ('' = none)}
_CLAIM = (
    _CLOCK
    + r"""
local cur = redis.call('HMGET', KEYS[1], 'seq', 'claim_token', 'claim_expires', 'claim_intent')
if not cur[1] then return {1, -1, ''} end
local s = tonumber(cur[1])
if s ~= tonumber(ARGV[1]) then return {2, s, ''} end
local now = clock()
if cur[2] and cur[2] ~= ARGV[2] and tonumber(cur[3]) > now then return {3, s, ''} end
local left = ''
if cur[2] and cur[2] ~= ARGV[2] and cur[4] then left = cur[4] end
redis.call('HSET', KEYS[1], 'claim_token', ARGV[2],
           'claim_expires', string.format('%.6f', now + tonumber(ARGV[3])))
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'claim_intent', ARGV[4])
elseif cur[2] ~= ARGV[2] then
  redis.call('HDEL', KEYS[1], 'claim_intent')
end
return {0, s, left}
"""
)

# KEYS[1]=flow key; ARGV: prefix id expected token('' = none) seq state expires updated data
#                         pexpireat   (the claim is judged by the server's clock)
_SAVE = (
    _LIB
    + r"""
local cur = redis.call('HMGET', KEYS[1], 'seq', 'claim_token', 'claim_expires', 'claim_intent')
if not cur[1] then return {1, -1} end
local s = tonumber(cur[1])
if s ~= tonumber(ARGV[3]) then return {2, s} end
-- another token's claim bars the save while live, or lapsed with an intent to hand over
if cur[2] and cur[2] ~= ARGV[4] and (cur[4] or tonumber(cur[3]) > clock()) then return {3, s} end
put(ARGV[1], ARGV[2], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10])
return {0, s}
"""
)

# KEYS[1]=flow key; ARGV: token
_RELEASE = r"""
if redis.call('HGET', KEYS[1], 'claim_token') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'claim_token', 'claim_expires', 'claim_intent')
end
return 0
"""

# ARGV: prefix id
_DELETE = _LIB + "\nreturn drop(ARGV[1], ARGV[2])\n"

# ARGV: prefix now batch [capped keep]  -> {deleted, examined}
# With capped = '1', `now` is lowered to the server's clock if that is earlier, and the
# flow `keep` is left alone (the automatic sweep after a write).
_SWEEP = (
    _LIB
    + r"""
local prefix, now, keep = ARGV[1], tonumber(ARGV[2]), ARGV[5]
if ARGV[4] == '1' then now = math.min(now, clock()) end
local ids = redis.call('ZRANGEBYSCORE', prefix .. 'expiry', '-inf', string.format('%.17g', now),
                       'LIMIT', 0, ARGV[3])
local n = 0
for _, id in ipairs(ids) do
  local fk = prefix .. 'flow:' .. id
  local e = redis.call('HGET', fk, 'expires_at')
  if id == keep then
    -- left for a later sweep
  elseif e then
    if tonumber(e) <= now then
      drop(prefix, id)
      n = n + 1
    else
      redis.call('ZADD', prefix .. 'expiry', e, id)
    end
  elseif redis.call('EXISTS', fk) == 1 then
    redis.call('ZREM', prefix .. 'expiry', id)
  else
    drop(prefix, id)
  end
end
return {n, #ids}
"""
)

# ARGV: prefix index-key limit  -> flat {id, seq, state, expires|false, updated, data, ...}
_LIST = (
    _LIB
    + r"""
local prefix, key, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out, orphans, n, start = {}, {}, 0, 0
while n < limit do
  local ids = redis.call('ZREVRANGE', key, start, start + limit - 1)
  if #ids == 0 then break end
  start = start + #ids
  for _, id in ipairs(ids) do
    local h = redis.call('HMGET', prefix .. 'flow:' .. id,
                         'seq', 'state', 'expires_at', 'updated_at', 'data')
    if not h[1] then
      orphans[#orphans + 1] = id
    elseif n < limit then
      n = n + 1
      out[#out + 1] = id
      for i = 1, 5 do out[#out + 1] = h[i] end
    end
  end
end
for _, id in ipairs(orphans) do drop(prefix, id) end
return out
"""
)


def _text(value: Any) -> str:
    """Decode a reply value that may be bytes (a client without decode_responses)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


#: The hash fields of a stored flow, in the order ``_flow_from_fields`` reads them.
_FLOW_FIELDS = ["seq", "state", "expires_at", "updated_at", "data"]


def _flow_from_fields(flow_id: str, row: Sequence[Any]) -> StoredFlow | None:
    """The flow in an ``HMGET`` of ``_FLOW_FIELDS``, or None when Redis has no such flow."""
    seq, state, expires, updated, data = row
    if seq is None or updated is None:
        return None
    return StoredFlow(
        flow_id=flow_id,
        seq=int(seq),
        state=_text(state),
        expires_at=None if expires is None else float(expires),
        updated_at=float(updated),
        data=_text(data),
    )


def _num(value: float) -> str:
    """Format a float so that Redis and Lua parse back exactly the same double."""
    return repr(float(value))


def _pexpireat(expires_at: float | None) -> str:
    """The TTL deadline in epoch milliseconds, rounded up so the flow outlives ``expires_at``."""
    return "" if expires_at is None else str(math.ceil(expires_at * 1000))


class RedisStore(StoreBase):
    """Flows in Redis under ``prefix``; give it a URL or a ready ``redis.Redis`` client.

    A store built from a URL owns its client and closes it in ``close``;
    a client passed in is left open.  Replies may be bytes or text (either
    ``decode_responses`` setting works).  ``sweep_batch`` is how many expired
    ids one sweep script examines before it yields the server to others;
    ``auto_sweep`` and ``auto_sweep_batch`` set the automatic sweep (one
    script run examining at most ``auto_sweep_batch`` ids).
    """

    def __init__(
        self,
        url_or_client: str | redis_lib.Redis,
        prefix: str = "flowengine:",
        *,
        sweep_batch: int = 1000,
        auto_sweep: float | None = DEFAULT_AUTO_SWEEP,
        auto_sweep_batch: int = DEFAULT_AUTO_SWEEP_BATCH,
    ) -> None:
        """Connect lazily to the Redis server at ``url_or_client`` (or use that client)."""
        try:
            import redis  # the [redis] extra: imported here so `import flowengine` never does
        except ImportError:
            raise ConfigurationError(
                "the Redis store needs the redis package: pip install 'flowengine[redis]'"
            ) from None

        if not isinstance(prefix, str) or not prefix:
            raise ConfigurationError("a Redis store prefix must be a non-empty string")
        if isinstance(sweep_batch, bool) or not isinstance(sweep_batch, int) or sweep_batch < 1:
            raise ConfigurationError("sweep_batch must be a positive integer")
        self._setup_auto_sweep(auto_sweep, auto_sweep_batch)
        self._errors: tuple[type[BaseException], ...] = (redis.exceptions.RedisError,)
        if isinstance(url_or_client, str):
            check_redis_url(url_or_client)
            try:
                client = redis.Redis.from_url(url_or_client)
            except (ValueError, TypeError):
                raise ConfigurationError(
                    "invalid redis store URL options "
                    "(the URL is not shown because it may contain a password)"
                ) from None
            self._owns_client = True
        elif isinstance(url_or_client, redis.Redis):
            client = url_or_client
            self._owns_client = False
        else:
            raise ConfigurationError("RedisStore needs a redis:// URL or a redis.Redis client")
        self._client: redis_lib.Redis = client
        self._prefix = prefix
        self._sweep_batch = sweep_batch
        self._closed = False
        self._create = client.register_script(_CREATE)
        self._claim = client.register_script(_CLAIM)
        self._save = client.register_script(_SAVE)
        self._release = client.register_script(_RELEASE)
        self._delete = client.register_script(_DELETE)
        self._sweep = client.register_script(_SWEEP)
        self._list = client.register_script(_LIST)

    # ------------------------------------------------------------ plumbing

    @property
    def prefix(self) -> str:
        """The prefix of every key this store writes."""
        return self._prefix

    @property
    def client(self) -> redis_lib.Redis:
        """The redis-py client in use (for tests and diagnostics)."""
        return self._client

    def flow_key(self, flow_id: str) -> str:
        """The Redis key of the hash that holds ``flow_id``."""
        return f"{self._prefix}flow:{flow_id}"

    def __repr__(self) -> str:
        """Show the prefix only: the URL may hold a password."""
        return f"<RedisStore prefix={self._prefix!r}{' closed' if self._closed else ''}>"

    @contextlib.contextmanager
    def _calling(self) -> Iterator[None]:
        """Refuse calls after close and turn redis-py errors into ``StoreError``."""
        if self._closed:
            raise StoreError("the Redis flow store is closed")
        try:
            yield
        except self._errors as exc:
            raise StoreError(f"Redis flow store error: {type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _outcome(reply: Any, flow_id: str, seq: int) -> None:
        code, actual = int(reply[0]), int(reply[1])
        if code == _OK:
            return
        if code == _NOT_FOUND:
            raise FlowNotFoundError(flow_id)
        if code == _STALE:
            raise StaleSnapshotError(flow_id, seq, actual)
        if code == _BUSY:
            raise FlowBusyError(flow_id, seq)
        raise StoreError(f"unexpected reply {code} from the Redis flow store")

    # ------------------------------------------------------------ the contract

    def create(self, record: StoredFlow) -> None:
        """Insert ``record``; ``StoreError`` if a flow with its id exists."""
        check_record(record)
        expires = "" if record.expires_at is None else _num(record.expires_at)
        with self._calling():
            reply = self._create(
                keys=[self.flow_key(record.flow_id)],
                args=[
                    self._prefix,
                    record.flow_id,
                    record.seq,
                    record.state,
                    expires,
                    _num(record.updated_at),
                    record.data,
                    _pexpireat(record.expires_at),
                ],
            )
        if int(reply) == _EXISTS:
            raise StoreError(f"a flow with id {record.flow_id!r} already exists")
        self._after_write(record)

    def load(self, flow_id: str) -> StoredFlow:
        """Return the stored flow; ``FlowNotFoundError`` if there is none (or evicted)."""
        check_flow_id(flow_id)
        with self._calling():
            row = self._client.hmget(self.flow_key(flow_id), _FLOW_FIELDS)
        flow = _flow_from_fields(flow_id, row)
        if flow is None:
            raise FlowNotFoundError(flow_id)
        return flow

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
        """Reserve the step from ``seq`` for ``token`` until the server's ``TIME`` + ``lease``."""
        span = check_claim(flow_id, seq, token, now, lease)
        note = check_intent(intent)
        with self._calling():
            reply = self._claim(
                keys=[self.flow_key(flow_id)], args=[seq, token, _num(span), note or ""]
            )
        self._outcome(reply, flow_id, seq)
        left = _text(reply[2]) if len(reply) > 2 else ""
        return left or None

    def save(self, record: StoredFlow, *, expected_seq: int, token: str | None) -> None:
        """Compare-and-swap ``record`` in place of the flow at ``expected_seq``; drop the claim."""
        check_save(record, expected_seq, token)
        expires = "" if record.expires_at is None else _num(record.expires_at)
        with self._calling():
            reply = self._save(
                keys=[self.flow_key(record.flow_id)],
                args=[
                    self._prefix,
                    record.flow_id,
                    expected_seq,
                    token or "",
                    record.seq,
                    record.state,
                    expires,
                    _num(record.updated_at),
                    record.data,
                    _pexpireat(record.expires_at),
                ],
            )
        self._outcome(reply, record.flow_id, expected_seq)
        self._after_write(record)

    def release(self, flow_id: str, token: str) -> None:
        """Drop the claim if ``token`` holds it; otherwise do nothing."""
        check_flow_id(flow_id)
        check_token(token)
        with self._calling():
            self._release(keys=[self.flow_key(flow_id)], args=[token])

    def delete(self, flow_id: str) -> None:
        """Delete the flow and its index entries if it exists (idempotent)."""
        check_flow_id(flow_id)
        with self._calling():
            self._delete(args=[self._prefix, flow_id])

    def sweep_expired(self, now: float) -> int:
        """Delete flows with ``expires_at <= now`` that Redis has not evicted yet; count them.

        Index entries of flows Redis already evicted are cleaned but not counted.
        """
        cutoff = _num(check_time(now, "now"))
        deleted = 0
        with self._calling():
            while True:
                reply = self._sweep(args=[self._prefix, cutoff, self._sweep_batch])
                deleted += int(reply[0])
                if int(reply[1]) < self._sweep_batch:
                    return deleted

    def _sweep_some(self, *, cap: float, keep: str, batch: int) -> int:
        """One sweep script over at most ``batch`` ids expired by ``TIME`` and by ``cap``."""
        with self._calling():
            reply = self._sweep(args=[self._prefix, _num(cap), batch, "1", keep])
        return int(reply[0])

    @property
    def schema_key(self) -> str:
        """The key holding the layout version (written by ``migrate``)."""
        return f"{self._prefix}schema"

    def schema_version(self) -> int | None:
        """The layout version written by ``migrate``, or ``None`` if it never ran."""
        with self._calling():
            raw = self._client.get(self.schema_key)
        return None if raw is None else int(raw)

    def migrate(self) -> tuple[int | None, int]:
        """Record the layout version (version 1 is the only one there is: nothing to convert).

        Returns the version before (``None``: never recorded) and after; idempotent.
        A store marked with a newer version is refused with ``StoreError``.
        """
        before = self.schema_version()
        if before is not None and before > SCHEMA_VERSION:
            raise StoreError(
                f"the Redis flow store has layout version {before}; "
                f"this flowengine knows version {SCHEMA_VERSION}"
            )
        with self._calling():
            self._client.set(self.schema_key, SCHEMA_VERSION)
        return before, SCHEMA_VERSION

    def stats(self) -> StoreStats:
        """Counts by state, the oldest live flow, claims (by the server's clock), the layout.

        Walks the ``states`` index with ``HSCAN`` and reads each flow's small fields in
        pipelined batches (never its ``data``): O(flows), without blocking the server.
        """
        by_state: dict[str, int] = {}
        expired = held = lapsed = 0
        oldest: tuple[float, str, str, float | None] | None = None
        fields = ["state", "updated_at", "expires_at", "claim_token", "claim_expires"]
        with self._calling():
            sec, usec = self._client.time()
            now = int(sec) + int(usec) / 1e6
            cursor: int = 0
            while True:
                cursor, chunk = self._client.hscan(f"{self._prefix}states", cursor, count=500)
                ids = [_text(fid) for fid in chunk]
                pipe = self._client.pipeline(transaction=False)
                for fid in ids:
                    pipe.hmget(self.flow_key(fid), fields)
                for fid, row in zip(ids, pipe.execute(), strict=True):
                    state, updated, expires, token, claim_expires = row
                    if state is None or updated is None:
                        continue  # evicted by its TTL; the next sweep cleans the index
                    name = _text(state)
                    by_state[name] = by_state.get(name, 0) + 1
                    exp = None if expires is None else float(expires)
                    if exp is not None and exp <= now:
                        expired += 1
                    else:
                        key = (float(updated), fid, name, exp)
                        if oldest is None or key[:2] < oldest[:2]:
                            oldest = key
                    if token is not None:
                        if claim_expires is not None and float(claim_expires) > now:
                            held += 1
                        else:
                            lapsed += 1
                if int(cursor) == 0:
                    break
        return StoreStats(
            flows=sum(by_state.values()),
            by_state=dict(sorted(by_state.items())),
            expired=expired,
            oldest_live=None
            if oldest is None
            else {
                "flow_id": oldest[1],
                "state": oldest[2],
                "updated_at": oldest[0],
                "expires_at": oldest[3],
            },
            claims_held=held,
            claims_expired=lapsed,
            schema_version=SCHEMA_VERSION,
            now=now,
        )

    def list(self, *, state: str | None = None, limit: int = 100) -> builtins.list[StoredFlow]:
        """Return up to ``limit`` flows, newest ``updated_at`` first (ties: greater id first)."""
        check_limit(limit)
        if limit == 0:
            return []
        index = f"{self._prefix}updated" if state is None else f"{self._prefix}state:{state}"
        with self._calling():
            flat = self._list(args=[self._prefix, index, limit])
        flows = []
        for i in range(0, len(flat), 6):
            fid, seq, st, expires, updated, data = flat[i : i + 6]
            flows.append(
                StoredFlow(
                    flow_id=_text(fid),
                    seq=int(seq),
                    state=_text(st),
                    expires_at=None if expires is None else float(expires),
                    updated_at=float(updated),
                    data=_text(data),
                )
            )
        return flows

    def close(self) -> None:
        """Close the client if this store created it; later calls raise.  Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._owns_client:
            with contextlib.suppress(*self._errors):
                self._client.close()
