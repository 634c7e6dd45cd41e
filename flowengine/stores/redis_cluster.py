"""A flow store in Redis Cluster: every script names its keys, one flow lives in one hash slot.

Theory of operation
-------------------
Redis Cluster runs a script on the primary that serves its keys' slot and
refuses a script whose keys span slots, or that touches a key it did not
declare.  So every script here declares every key it touches in ``KEYS``
(none is computed from the prefix inside a script), and each write keeps one
flow and the index entries it changes in **one slot**.

The flows are spread over ``SHARDS`` fixed shards; a flow's shard is
``crc32(flow_id) % SHARDS`` and is the *hash tag* of every key that holds the
flow or indexes it, so a write updates the flow's hash and its index entries
atomically on one primary.  The shards' slots fall on every primary of the
cluster (the tags ``s00`` ... ``s31`` spread over the slot space), and a
flow's keys never move apart.  With ``P`` the prefix (``flowengine:``) and
``N`` the two-digit shard:

``P{sN}:flow:<id>``
    Hash with ``seq``, ``state``, ``updated_at``, ``data`` and, when set,
    ``expires_at``, ``claim_token``, ``claim_expires``, ``claim_intent``.  A
    flow with an ``expires_at`` carries a matching TTL, so Redis evicts it on
    its own, as in the single-server store.
``P{sN}:expiry`` / ``P{sN}:updated`` / ``P{sN}:state:<state>``
    The shard's sorted sets: ids by ``expires_at``, by ``updated_at``, and by
    ``updated_at`` per state.
``P{sN}:states``
    The shard's hash of id to state, so that index entries can be cleaned
    after Redis evicted a flow's hash.
``P{meta}:schema``
    The layout version (written by ``flowengine store migrate``).

A save moves a flow's id from the index of its old state to that of its new
one: the script must declare the old state's key, which the client names from
what it last saw of the flow (``load`` and every write remember it); the
script checks the guess against the ``states`` hash and, when it was wrong,
changes nothing and answers the right state, and the client runs it again
with that key.  The common path (load, claim, save) costs no extra round trip.

Listing and sweeping never run a cross-slot script: ``list`` reads the
top entries of every shard's index (pipelined: one round trip per primary),
merges them and reads the flows; a sweep reads each shard's expired ids and
deletes each flow with its own one-slot script.  Neither is atomic across
shards (a flow saved while a listing runs may show its old or new revision),
but every flow's own state is always consistent.

Claims are judged by the ``TIME`` of the primary that holds the flow: every
client agrees on it, since one flow is always served by one primary.  (After
a failover the replica's clock takes over: keep the cluster's clocks in sync
with NTP, as Redis Cluster itself expects.)  A primary that restarts without
persistence loses its flows: use ``appendonly yes`` (with ``appendfsync
always`` or ``everysec``, per how much a crash may lose).  While a primary is
down, calls for its flows raise ``StoreError``; redis-py refreshes the
slot map and retries, so calls work again once the cluster is back.

The single-server ``flowengine.stores.redis.RedisStore`` keeps its own
layout (version 1), unchanged: its data stays readable, and this store does
not read it (a single server's layout cannot be moved onto a cluster in
place; drain the old store while new flows go to the cluster).

``redis`` is imported when a store is built, not when this module is.
"""

from __future__ import annotations

import builtins
import contextlib
import zlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

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
    check_save,
    check_time,
    check_token,
)
from flowengine.stores.redis import (
    _CLAIM,
    _CLOCK,
    _FLOW_FIELDS,
    _RELEASE,
    _flow_from_fields,
    _num,
    _pexpireat,
    _text,
)

if TYPE_CHECKING:
    from redis.cluster import RedisCluster

__all__ = ["RedisClusterStore", "check_cluster_url"]

SCHEMA_VERSION = 1
"""The version of the cluster key layout described above."""

SHARDS = 32
"""Shards of the indexes (part of the layout: changing it would strand flows)."""

_OK, _NOT_FOUND, _STALE, _BUSY, _EXISTS, _RETRY = 0, 1, 2, 3, 4, 5

#: How often a write is retried with the state its script reported (a concurrent save
#: may move the flow again in between; each retry is one round trip).
_GUESSES = 8

#: Flow ids whose state this client remembers, for naming the old state's index key.
_KNOWN_MAX = 65536

_HIDDEN = "(the URL is not shown because it may contain a password)"

# Every key is a KEYS entry.  The writes share this layout:
#   KEYS: 1 flow hash, 2 updated, 3 expiry, 4 states, 5 state:<new>, 6 state:<old guess>
_PUT = r"""
-- write the record (claim dropped), its TTL and its index entries
local function put(id, seq, state, expires, updated, data, pexpireat)
  redis.call('HSET', KEYS[1], 'seq', seq, 'state', state, 'updated_at', updated, 'data', data)
  redis.call('HDEL', KEYS[1], 'claim_token', 'claim_expires', 'claim_intent')
  local old = redis.call('HGET', KEYS[4], id)
  if old and old ~= state then redis.call('ZREM', KEYS[6], id) end
  redis.call('HSET', KEYS[4], id, state)
  redis.call('ZADD', KEYS[5], updated, id)
  redis.call('ZADD', KEYS[2], updated, id)
  if expires ~= '' then
    redis.call('HSET', KEYS[1], 'expires_at', expires)
    redis.call('ZADD', KEYS[3], expires, id)
    redis.call('PEXPIREAT', KEYS[1], pexpireat)
  else
    redis.call('HDEL', KEYS[1], 'expires_at')
    redis.call('ZREM', KEYS[3], id)
    redis.call('PERSIST', KEYS[1])
  end
end

-- the indexed state if KEYS[6] does not name its index (the caller guessed wrong)
local function misnamed(id, state, guess)
  local old = redis.call('HGET', KEYS[4], id)
  if old and old ~= state and old ~= guess then return old end
  return false
end
"""

# ARGV: id seq state expires updated data pexpireat guess  -> {code, old state}
_CREATE = (
    _PUT
    + r"""
if redis.call('EXISTS', KEYS[1]) == 1 then return {4, ''} end
local old = misnamed(ARGV[1], ARGV[3], ARGV[8])
if old then return {5, old} end
put(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
return {0, ''}
"""
)

# ARGV: id expected token('' = none) seq state expires updated data pexpireat guess
# -> {code, stored seq, old state}   (the claim is judged by the server's clock)
_SAVE = (
    _CLOCK
    + _PUT
    + r"""
local cur = redis.call('HMGET', KEYS[1], 'seq', 'claim_token', 'claim_expires', 'claim_intent')
if not cur[1] then return {1, -1, ''} end
local s = tonumber(cur[1])
if s ~= tonumber(ARGV[2]) then return {2, s, ''} end
-- another token's claim bars the save while live, or lapsed with an intent to hand over
if cur[2] and cur[2] ~= ARGV[3] and (cur[4] or tonumber(cur[3]) > clock()) then
  return {3, s, ''}
end
local old = misnamed(ARGV[1], ARGV[5], ARGV[10])
if old then return {5, s, old} end
put(ARGV[1], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9])
return {0, s, ''}
"""
)

# KEYS: 1 flow hash, 2 updated, 3 expiry, 4 states, 5 state:<indexed state guess>
# ARGV: id guess mode cutoff capped keep  -> {code, deleted (0/1), indexed state}
#   mode 'delete': drop the flow.  mode 'sweep': drop it if expired by `cutoff` (lowered
#   to the server's clock when capped = '1'), or if its hash is gone (evicted by its TTL:
#   only its index entries are left, and they are not counted); `keep` is left alone.
_DROP = (
    _CLOCK
    + r"""
local id = ARGV[1]
local old = redis.call('HGET', KEYS[4], id)
if old and old ~= ARGV[2] then return {5, 0, old} end
local function drop()
  redis.call('HDEL', KEYS[4], id)
  redis.call('ZREM', KEYS[5], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  return redis.call('DEL', KEYS[1])
end
if ARGV[3] == 'delete' then return {0, drop(), ''} end
if id == ARGV[6] then return {0, 0, ''} end
local now = tonumber(ARGV[4])
if ARGV[5] == '1' then now = math.min(now, clock()) end
local e = redis.call('HGET', KEYS[1], 'expires_at')
if e then
  if tonumber(e) <= now then
    drop()
    return {0, 1, ''}
  end
  redis.call('ZADD', KEYS[3], e, id)
  return {0, 0, ''}
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('ZREM', KEYS[3], id)
  return {0, 0, ''}
end
drop()
return {0, 0, ''}
"""
)

#: Every script this module runs, by name (the tests check each declares all its keys).
SCRIPTS: dict[str, str] = {
    "create": _CREATE,
    "claim": _CLAIM,
    "save": _SAVE,
    "release": _RELEASE,
    "drop": _DROP,
}

_CLUSTER_OPTIONS = {
    # name: how the value is converted for redis-py
    "socket_timeout": float,
    "socket_connect_timeout": float,
    "max_connections": int,
    "client_name": str,
    "username": str,
    "password": str,
    "ssl_cert_reqs": str,
    "ssl_ca_certs": str,
    "ssl_certfile": str,
    "ssl_keyfile": str,
}


def check_cluster_url(url: str) -> tuple[list[tuple[str, int]], dict[str, Any]]:
    """Parse ``redis+cluster://[user:password@]host:port[,host:port...][?option=value]``.

    ``rediss+cluster://`` uses TLS.  Returns the startup nodes and redis-py keyword
    arguments; raises ``ConfigurationError`` whose message repeats nothing of
    the URL but, for an unknown option, its name.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("redis+cluster", "rediss+cluster"):
        raise ConfigurationError(
            f"a Redis Cluster store URL starts with redis+cluster:// {_HIDDEN}"
        )
    if "#" in rest:
        raise ConfigurationError(f"a Redis Cluster store URL takes no fragment {_HIDDEN}")
    where, _, query = rest.partition("?")
    userinfo, at, hosts = where.rpartition("@")
    hosts = hosts.rstrip("/")
    options: dict[str, Any] = {}
    if at:
        user, colon, password = userinfo.partition(":")
        if user:
            options["username"] = unquote(user)
        if colon and password:
            options["password"] = unquote(password)
    if scheme.lower() == "rediss+cluster":
        options["ssl"] = True
    nodes: list[tuple[str, int]] = []
    for item in hosts.split(","):
        host, colon, port = item.strip().rpartition(":")
        if not colon:
            host, port = item.strip(), "6379"
        host = host.strip("[]")
        if (
            not host
            or any(ch.isspace() or ch in "/@" for ch in host)
            or not (port.isascii() and port.isdigit())
            or not 0 < int(port) < 65536
        ):
            raise ConfigurationError(
                f"invalid Redis Cluster store URL: each node is host:port {_HIDDEN}"
            )
        nodes.append((host, int(port)))
    for name, values in parse_qs(query, keep_blank_values=True).items():
        convert = _CLUSTER_OPTIONS.get(name)
        if convert is None:
            shown = f" {name!r}" if name.isascii() and name.replace("_", "").isalpha() else ""
            raise ConfigurationError(f"unknown Redis Cluster store URL option{shown} {_HIDDEN}")
        try:
            options[name] = convert(values[-1])
        except ValueError:
            raise ConfigurationError(
                f"invalid value of the Redis Cluster store URL option {name!r} {_HIDDEN}"
            ) from None
    return nodes, options


def shard_of(flow_id: str) -> int:
    """The shard (and so the hash tag) of ``flow_id``."""
    return zlib.crc32(flow_id.encode("utf-8")) % SHARDS


class RedisClusterStore(StoreBase):
    """Flows in a Redis Cluster under ``prefix``; give it a URL or a ready ``RedisCluster``.

    A store built from a URL owns its client and closes it in ``close``; a
    client passed in is left open.  ``sweep_batch`` is how many expired ids of
    one shard a sweep reads at a time; ``auto_sweep`` and ``auto_sweep_batch``
    set the automatic sweep (at most ``auto_sweep_batch`` ids, the soonest expired
    over every shard).
    """

    def __init__(
        self,
        url_or_client: str | RedisCluster,
        prefix: str = "flowengine:",
        *,
        sweep_batch: int = 1000,
        auto_sweep: float | None = DEFAULT_AUTO_SWEEP,
        auto_sweep_batch: int = DEFAULT_AUTO_SWEEP_BATCH,
    ) -> None:
        """Connect (on first use) to the cluster at ``url_or_client``, or use that client."""
        try:
            import redis  # the [redis] extra: imported here so `import flowengine` never does
            from redis.cluster import ClusterNode, RedisCluster
        except ImportError:
            raise ConfigurationError(
                "the Redis Cluster store needs the redis package: pip install 'flowengine[redis]'"
            ) from None
        if not isinstance(prefix, str) or not prefix or "{" in prefix or "}" in prefix:
            raise ConfigurationError(
                "a Redis Cluster store prefix must be a non-empty string without braces"
            )
        if isinstance(sweep_batch, bool) or not isinstance(sweep_batch, int) or sweep_batch < 1:
            raise ConfigurationError("sweep_batch must be a positive integer")
        self._setup_auto_sweep(auto_sweep, auto_sweep_batch)
        self._errors: tuple[type[BaseException], ...] = (
            redis.exceptions.RedisError,
            redis.exceptions.RedisClusterException,
        )
        self._closed = False
        if isinstance(url_or_client, str):
            nodes, options = check_cluster_url(url_or_client)
            try:
                client = RedisCluster(
                    startup_nodes=[
                        ClusterNode(host, port)  # type: ignore[no-untyped-call]
                        for host, port in nodes
                    ],
                    **options,
                )
            except self._errors as exc:
                raise StoreError(
                    f"Redis Cluster flow store error: cannot reach the cluster "
                    f"({type(exc).__name__}) {_HIDDEN}"
                ) from None
            self._owns_client = True
        elif isinstance(url_or_client, RedisCluster):
            client = url_or_client
            self._owns_client = False
        else:
            raise ConfigurationError(
                "RedisClusterStore needs a redis+cluster:// URL or a RedisCluster client"
            )
        self._client: RedisCluster = client
        self._prefix = prefix
        self._sweep_batch = sweep_batch
        self._known: dict[str, str] = {}
        self._scripts = {name: client.register_script(body) for name, body in SCRIPTS.items()}

    # ------------------------------------------------------------ plumbing

    @property
    def prefix(self) -> str:
        """The prefix of every key this store writes."""
        return self._prefix

    @property
    def client(self) -> RedisCluster:
        """The redis-py cluster client in use (for tests and diagnostics)."""
        return self._client

    def _tag(self, shard: int) -> str:
        return f"{self._prefix}{{s{shard:02d}}}:"

    def flow_key(self, flow_id: str) -> str:
        """The key of the hash that holds ``flow_id``."""
        return f"{self._tag(shard_of(flow_id))}flow:{flow_id}"

    def index_keys(self, shard: int) -> tuple[str, str, str]:
        """The shard's ``updated``, ``expiry`` and ``states`` keys."""
        tag = self._tag(shard)
        return f"{tag}updated", f"{tag}expiry", f"{tag}states"

    def state_key(self, shard: int, state: str) -> str:
        """The key of the shard's index of ``state``."""
        return f"{self._tag(shard)}state:{state}"

    @property
    def schema_key(self) -> str:
        """The key holding the layout version (written by ``migrate``)."""
        return f"{self._prefix}{{meta}}:schema"

    def __repr__(self) -> str:
        """Show the prefix only: the URL may hold a password."""
        return f"<RedisClusterStore prefix={self._prefix!r}{' closed' if self._closed else ''}>"

    @contextlib.contextmanager
    def _calling(self) -> Iterator[None]:
        """Refuse calls after close and turn redis-py errors into ``StoreError``."""
        if self._closed:
            raise StoreError("the Redis Cluster flow store is closed")
        try:
            yield
        except self._errors as exc:
            raise StoreError(
                f"Redis Cluster flow store error: {type(exc).__name__}: {exc}"
            ) from exc

    def _pipeline(self) -> Any:
        """A cluster pipeline (commands grouped per primary: one round trip to each)."""
        return self._client.pipeline()  # type: ignore[no-untyped-call]

    def _remember(self, flow_id: str, state: str | None) -> None:
        if state is None:
            self._known.pop(flow_id, None)
            return
        if len(self._known) >= _KNOWN_MAX:
            self._known.clear()
        self._known[flow_id] = state

    def _write_keys(self, flow_id: str, state: str, guess: str) -> list[str]:
        shard = shard_of(flow_id)
        updated, expiry, states = self.index_keys(shard)
        return [
            self.flow_key(flow_id),
            updated,
            expiry,
            states,
            self.state_key(shard, state),
            self.state_key(shard, guess),
        ]

    def _drop_keys(self, flow_id: str, guess: str) -> list[str]:
        shard = shard_of(flow_id)
        updated, expiry, states = self.index_keys(shard)
        return [self.flow_key(flow_id), updated, expiry, states, self.state_key(shard, guess)]

    @staticmethod
    def _outcome(code: int, actual: int, flow_id: str, seq: int) -> None:
        if code == _OK:
            return
        if code == _NOT_FOUND:
            raise FlowNotFoundError(flow_id)
        if code == _STALE:
            raise StaleSnapshotError(flow_id, seq, actual)
        if code == _BUSY:
            raise FlowBusyError(flow_id, seq)
        raise StoreError(f"unexpected reply {code} from the Redis Cluster flow store")

    # ------------------------------------------------------------ the contract

    def create(self, record: StoredFlow) -> None:
        """Insert ``record``; ``StoreError`` if a flow with its id exists."""
        check_record(record)
        fid = record.flow_id
        expires = "" if record.expires_at is None else _num(record.expires_at)
        guess = record.state
        with self._calling():
            for _ in range(_GUESSES):
                reply = self._scripts["create"](
                    keys=self._write_keys(fid, record.state, guess),
                    args=[
                        fid,
                        record.seq,
                        record.state,
                        expires,
                        _num(record.updated_at),
                        record.data,
                        _pexpireat(record.expires_at),
                        guess,
                    ],
                )
                if int(reply[0]) != _RETRY:
                    break
                guess = _text(reply[1])
        code = int(reply[0])
        if code == _EXISTS:
            raise StoreError(f"a flow with id {fid!r} already exists")
        if code != _OK:
            raise StoreError("the Redis Cluster flow store kept changing under a create")
        self._remember(fid, record.state)
        self._after_write(record)

    def load(self, flow_id: str) -> StoredFlow:
        """Return the stored flow; ``FlowNotFoundError`` if there is none (or evicted)."""
        check_flow_id(flow_id)
        with self._calling():
            row = self._client.hmget(self.flow_key(flow_id), _FLOW_FIELDS)
        flow = _flow_from_fields(flow_id, row)
        if flow is None:
            raise FlowNotFoundError(flow_id)
        self._remember(flow_id, flow.state)
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
        """Reserve the step from ``seq`` for ``token`` until the primary's ``TIME`` + ``lease``."""
        span = check_claim(flow_id, seq, token, now, lease)
        note = check_intent(intent)
        with self._calling():
            reply = self._scripts["claim"](
                keys=[self.flow_key(flow_id)], args=[seq, token, _num(span), note or ""]
            )
        self._outcome(int(reply[0]), int(reply[1]), flow_id, seq)
        left = _text(reply[2]) if len(reply) > 2 else ""
        return left or None

    def save(self, record: StoredFlow, *, expected_seq: int, token: str | None) -> None:
        """Compare-and-swap ``record`` in place of the flow at ``expected_seq``; drop the claim."""
        check_save(record, expected_seq, token)
        fid = record.flow_id
        expires = "" if record.expires_at is None else _num(record.expires_at)
        guess = self._known.get(fid, record.state)
        with self._calling():
            for _ in range(_GUESSES):
                reply = self._scripts["save"](
                    keys=self._write_keys(fid, record.state, guess),
                    args=[
                        fid,
                        expected_seq,
                        token or "",
                        record.seq,
                        record.state,
                        expires,
                        _num(record.updated_at),
                        record.data,
                        _pexpireat(record.expires_at),
                        guess,
                    ],
                )
                if int(reply[0]) != _RETRY:
                    break
                guess = _text(reply[2])
        code = int(reply[0])
        if code == _RETRY:
            raise StoreError("the Redis Cluster flow store kept changing under a save")
        if code == _NOT_FOUND:
            self._remember(fid, None)
        self._outcome(code, int(reply[1]), fid, expected_seq)
        self._remember(fid, record.state)
        self._after_write(record)

    def release(self, flow_id: str, token: str) -> None:
        """Drop the claim if ``token`` holds it; otherwise do nothing."""
        check_flow_id(flow_id)
        check_token(token)
        with self._calling():
            self._scripts["release"](keys=[self.flow_key(flow_id)], args=[token])

    def delete(self, flow_id: str) -> None:
        """Delete the flow and its index entries if it exists (idempotent)."""
        check_flow_id(flow_id)
        _, _, states = self.index_keys(shard_of(flow_id))
        with self._calling():
            guess = _text(self._client.hget(states, flow_id) or "")
            for _ in range(_GUESSES):
                reply = self._scripts["drop"](
                    keys=self._drop_keys(flow_id, guess or "-"),
                    args=[flow_id, guess, "delete", "0", "0", ""],
                )
                if int(reply[0]) != _RETRY:
                    break
                guess = _text(reply[2])
        self._remember(flow_id, None)

    def _sweep_shard(self, shard: int, cutoff: str, batch: int, capped: str, keep: str) -> int:
        """Examine up to ``batch`` ids of one shard expired by ``cutoff``; count deletions."""
        _, expiry, states = self.index_keys(shard)
        ids = [
            _text(i) for i in self._client.zrangebyscore(expiry, "-inf", cutoff, start=0, num=batch)
        ]
        if not ids:
            return 0
        indexed = self._client.hmget(states, ids)
        return self._drop_many(
            [
                (fid, _text(st) if st is not None else "")
                for fid, st in zip(ids, indexed, strict=True)
            ],
            cutoff,
            capped,
            keep,
        )

    def _drop_many(
        self, items: Sequence[tuple[str, str]], cutoff: str, capped: str, keep: str
    ) -> int:
        """Run the sweep's drop script for each (id, indexed state), pipelined; count deletions."""
        deleted = 0
        todo = list(items)
        for _ in range(_GUESSES):
            if not todo:
                break
            pipe = self._pipeline()
            for fid, guess in todo:
                keys = self._drop_keys(fid, guess or "-")
                pipe.execute_command(
                    "EVAL", _DROP, len(keys), *keys, fid, guess, "sweep", cutoff, capped, keep
                )
            again = []
            for (fid, _), reply in zip(todo, pipe.execute(), strict=True):
                if int(reply[0]) == _RETRY:
                    again.append((fid, _text(reply[2])))
                else:
                    deleted += int(reply[1])
                    self._known.pop(fid, None)
            todo = again
        return deleted

    def sweep_expired(self, now: float) -> int:
        """Delete flows with ``expires_at <= now`` that Redis has not evicted yet; count them.

        Shard by shard, ``sweep_batch`` ids at a time; each flow is deleted by a script
        of its own slot.  Index entries of flows Redis already evicted are cleaned but
        not counted.
        """
        cutoff = _num(check_time(now, "now"))
        deleted = 0
        with self._calling():
            for shard in range(SHARDS):
                while True:
                    _, expiry, _ = self.index_keys(shard)
                    before = self._client.zcount(expiry, "-inf", cutoff)
                    if before == 0:
                        break
                    deleted += self._sweep_shard(shard, cutoff, self._sweep_batch, "0", "")
                    if self._client.zcount(expiry, "-inf", cutoff) >= before:
                        break  # nothing moved (a concurrent writer): leave it to the next sweep
        return deleted

    def _sweep_some(self, *, cap: float, keep: str, batch: int) -> int:
        """One bounded pass over at most ``batch`` ids expired by ``TIME`` and ``cap``."""
        cutoff = _num(cap)
        with self._calling():
            pipe = self._pipeline()
            for shard in range(SHARDS):
                _, expiry, _ = self.index_keys(shard)
                pipe.zrangebyscore(expiry, "-inf", cutoff, start=0, num=batch, withscores=True)
            # The `batch` soonest-expired ids over every shard: the bound is the store's.
            found = sorted(
                (float(score), shard, _text(fid))
                for shard, rows in enumerate(pipe.execute())
                for fid, score in rows
            )[:batch]
            if not found:
                return 0
            pipe = self._pipeline()
            for _, shard, fid in found:
                pipe.hget(self.index_keys(shard)[2], fid)
            items = [
                (fid, _text(st) if st is not None else "")
                for (_, _, fid), st in zip(found, pipe.execute(), strict=True)
            ]
            return self._drop_many(items, cutoff, "1", keep)

    def list(self, *, state: str | None = None, limit: int = 100) -> builtins.list[StoredFlow]:
        """Return up to ``limit`` flows, newest ``updated_at`` first (ties: greater id first).

        Reads the top ``limit`` entries of every shard's index and merges them; entries
        of flows Redis evicted are cleaned as they are met.
        """
        check_limit(limit)
        if limit == 0:
            return []
        with self._calling():
            for _ in range(_GUESSES):
                pipe = self._pipeline()
                for shard in range(SHARDS):
                    key = (
                        self.index_keys(shard)[0] if state is None else self.state_key(shard, state)
                    )
                    pipe.zrevrange(key, 0, limit - 1, withscores=True)
                entries = [
                    (float(score), _text(fid)) for rows in pipe.execute() for fid, score in rows
                ]
                entries.sort(reverse=True)
                chosen = [fid for _, fid in entries[:limit]]
                pipe = self._pipeline()
                for fid in chosen:
                    pipe.hmget(self.flow_key(fid), _FLOW_FIELDS)
                flows, orphans = [], []
                for fid, row in zip(chosen, pipe.execute(), strict=True):
                    flow = _flow_from_fields(fid, row)
                    if flow is None:
                        orphans.append(fid)
                    elif state is None or flow.state == state:
                        flows.append(flow)  # (else: saved into another state since read)
                if not orphans:
                    break
                pipe = self._pipeline()
                for fid in orphans:
                    pipe.hget(self.index_keys(shard_of(fid))[2], fid)
                indexed = [_text(st) if st is not None else "" for st in pipe.execute()]
                self._drop_many(list(zip(orphans, indexed, strict=True)), "-1e300", "0", "")
        flows.sort(key=lambda f: (f.updated_at, f.flow_id), reverse=True)
        return flows[:limit]

    # ------------------------------------------------------------ operations

    def _server_now(self) -> float:
        sec, usec = self._client.time()
        return int(sec) + int(usec) / 1e6

    def schema_version(self) -> int | None:
        """The layout version written by ``migrate``, or ``None`` if it never ran."""
        with self._calling():
            raw = self._client.get(self.schema_key)
        return None if raw is None else int(raw)

    def migrate(self) -> tuple[int | None, int]:
        """Record the layout version (there is no older cluster layout to convert).

        Returns the version before and after; idempotent.  A store written by a newer
        flowengine (a greater version) is refused with ``StoreError``.
        """
        before = self.schema_version()
        if before is not None and before > SCHEMA_VERSION:
            raise StoreError(
                f"the Redis Cluster flow store has layout version {before}; "
                f"this flowengine knows version {SCHEMA_VERSION}"
            )
        with self._calling():
            self._client.set(self.schema_key, SCHEMA_VERSION)
        return before, SCHEMA_VERSION

    def stats(self) -> StoreStats:
        """Counts by state, the oldest live flow, claims (by each flow's primary), the layout.

        Walks every shard's ``states`` hash with ``HSCAN`` and reads each flow's small
        fields in pipelined batches (never its ``data``): O(flows), without blocking a
        primary.  The clock is one primary's ``TIME``.
        """
        by_state: dict[str, int] = {}
        expired = held = lapsed = 0
        oldest: tuple[float, str, str, float | None] | None = None
        fields = ["state", "updated_at", "expires_at", "claim_token", "claim_expires"]
        with self._calling():
            now = self._server_now()
            for shard in range(SHARDS):
                states = self.index_keys(shard)[2]
                cursor: int = 0
                while True:
                    cursor, chunk = self._client.hscan(states, cursor, count=500)
                    ids = [_text(fid) for fid in chunk]
                    pipe = self._pipeline()
                    for fid in ids:
                        pipe.hmget(self.flow_key(fid), fields)
                    for fid, row in zip(ids, pipe.execute() if ids else [], strict=True):
                        st, updated, expires, token, claim_expires = row
                        if st is None or updated is None:
                            continue  # evicted by its TTL; the next sweep cleans the index
                        name = _text(st)
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
            version = self._client.get(self.schema_key)
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
            schema_version=SCHEMA_VERSION if version is None else int(version),
            now=now,
        )

    def close(self) -> None:
        """Close the client if this store created it; later calls raise.  Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._owns_client:
            with contextlib.suppress(*self._errors):
                self._client.close()
