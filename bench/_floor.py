"""Hand-written floors: the least a careful application could write for the same work.

* ``FloorCodec``: a flow envelope to sealed text and back with plain ``json`` and
  AES-256-GCM: the same fields, the secret fields (``SECRET_FIELDS``, at the top level of
  the context and of each history entry's context) moved into one sealed JSON payload,
  a 12-byte random nonce, the same 32-byte key, and the clear JSON as the AAD (so every
  clear byte is authenticated, as in the library). No shape validation, no string
  interning, no canonical base64 check, no migrations or machine check: what the ratio
  against ``encode``/``decode`` measures.
* ``SQLiteFloor``: resume + step + save on the library's SQLite table (same file, same
  rows, same pragmas): ``SELECT``, one conditional ``UPDATE`` that claims the row with a
  lease judged by SQLite's clock, unseal, step, seal, one compare-and-swap ``UPDATE``
  (sequence number and claim token) that drops the claim; optionally the library's
  scrubbing checkpoint after the save (``scrub=True``: the same bytes hit the disk).
* ``RedisFloor``: the same on the library's Redis hash (same key, same fields): ``HMGET``,
  a claim script (sequence number, the claim free or lapsed by the server's ``TIME``), a
  save script (compare-and-swap on sequence number and token, the fields, the claim
  dropped, the flow's ``PEXPIREAT`` TTL).

None of them checks a resume handle, journals an intent, keeps a state index or sweeps:
the library's ratio against them is the price of those.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bench._common import make_config
from flowengine._flow import Flow
from flowengine._snapshot import SECRET_FIELDS, Keyring

if TYPE_CHECKING:
    from bench._core import Canned

_CONFIG = make_config()
_SEALED = ',"sealed":"'
_HEAD = '{"v":1,"kid":"'
_SQLITE_NOW = "((julianday('now') - 2440587.5) * 86400.0)"
LEASE = 120.0


def _split(context: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    clear = {k: v for k, v in context.items() if k not in SECRET_FIELDS}
    secret = {k: v for k, v in context.items() if k in SECRET_FIELDS}
    return clear, secret


class FloorCodec:
    """Plain ``json`` + AES-256-GCM of the same fields (see the module docstring)."""

    def __init__(self, keyring: Keyring) -> None:
        keys = keyring._keys
        self.kid = next(iter(keys))
        self.aeads = {kid: AESGCM(raw) for kid, raw in keys.items()}

    def seal(self, env: Mapping[str, Any]) -> str:
        """The envelope as one JSON text: clear fields authenticated, secret fields sealed."""
        clear_ctx, secret_ctx = _split(env["context"])
        history, secret_history = [], []
        for entry in env["history"]:
            ctx = entry.get("context")
            if ctx:
                clear_entry, secret_entry = _split(ctx)
                entry = {**entry, "context": clear_entry}
            else:
                secret_entry = {}
            history.append(entry)
            secret_history.append(secret_entry)
        clear = {**env, "context": clear_ctx, "history": history}
        head = json.dumps({"v": 1, "kid": self.kid, "env": clear}, separators=(",", ":"))
        payload = json.dumps({"c": secret_ctx, "h": secret_history}, separators=(",", ":"))
        nonce = os.urandom(12)
        sealed = self.aeads[self.kid].encrypt(nonce, payload.encode(), head.encode())
        b64 = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{head[:-1]}{_SEALED}{b64}" + '"}'

    def open(self, text: str) -> dict[str, Any]:
        """Authenticate and decrypt, then ``json.loads`` and put the secrets back."""
        kid = text[len(_HEAD) : text.index('"', len(_HEAD))]
        cut = text.rindex(_SEALED)
        head = text[:cut] + "}"
        raw = base64.urlsafe_b64decode(text[cut + len(_SEALED) : -2])
        plain = self.aeads[kid].decrypt(raw[:12], raw[12:], head.encode())
        env: dict[str, Any] = json.loads(head)["env"]
        secrets = json.loads(plain)
        env["context"].update(secrets["c"])
        for entry, secret in zip(env["history"], secrets["h"], strict=True):
            if secret:
                entry["context"].update(secret)
        return env


def core_step(flow: Flow, c: Canned) -> None:
    """The step every contender runs: ``begin`` + ``finish`` on a canned answer."""
    step = flow.begin(c.trigger, c.params, _CONFIG, c.now)
    flow.finish(step, c.response, _CONFIG, c.now)


class SQLiteFloor:
    """Resume + step + save, by hand, on the library's SQLite table."""

    def __init__(self, path: str, keyring: Keyring, canned: Canned, *, scrub: bool) -> None:
        self.codec = FloorCodec(keyring)
        self.canned = canned
        self.scrub = scrub
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA journal_size_limit = 0")
        self.conn = conn

    def close(self) -> None:
        """Close the floor's connection."""
        self.conn.close()

    def add(self, flow: Flow) -> str:
        """Store ``flow`` sealed by the floor's codec (outside the clock); its id."""
        self.conn.execute(
            "INSERT INTO flows (flow_id, seq, state, expires_at, updated_at, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                flow.flow_id,
                flow.seq,
                str(flow.state),
                flow.expires_at,
                flow.updated_at,
                self.codec.seal(flow.to_envelope()),
            ),
        )
        return flow.flow_id

    def step(self, flow_id: str) -> str:
        """SELECT; claim (conditional UPDATE); unseal, step, seal; CAS UPDATE; returns the state."""
        conn, token = self.conn, uuid.uuid4().hex
        row = conn.execute("SELECT seq, data FROM flows WHERE flow_id = ?", (flow_id,)).fetchone()
        seq = int(row[0])
        got = conn.execute(
            f"UPDATE flows SET claim_token = ?, claim_expires = {_SQLITE_NOW} + ? "
            "WHERE flow_id = ? AND seq = ? "
            f"AND (claim_token IS NULL OR claim_expires <= {_SQLITE_NOW})",
            (token, LEASE, flow_id, seq),
        )
        if got.rowcount != 1:
            raise RuntimeError("the floor's claim failed")
        flow = Flow.from_envelope(self.codec.open(row[1]))
        if flow.flow_id != flow_id or flow.seq != seq:
            raise RuntimeError("the row holds another flow's snapshot")
        core_step(flow, self.canned)
        flow.seq = seq + 1
        data = self.codec.seal(flow.to_envelope())
        got = conn.execute(
            "UPDATE flows SET seq = ?, state = ?, expires_at = ?, updated_at = ?, data = ?, "
            "claim_token = NULL, claim_expires = NULL "
            "WHERE flow_id = ? AND seq = ? AND claim_token = ?",
            (seq + 1, flow.state, flow.expires_at, flow.updated_at, data, flow_id, seq, token),
        )
        if got.rowcount != 1:
            raise RuntimeError("the floor's save failed")
        if self.scrub:
            conn.execute("PRAGMA busy_timeout = 0")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            conn.execute("PRAGMA busy_timeout = 10000")
        return str(flow.state)


#: KEYS[1] the flow hash; ARGV: seq token lease  (the server's clock judges the lease)
_REDIS_CLAIM = r"""
local cur = redis.call('HMGET', KEYS[1], 'seq', 'claim_token', 'claim_expires')
if cur[1] ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
if cur[2] and tonumber(cur[3]) > now then return 0 end
redis.call('HSET', KEYS[1], 'claim_token', ARGV[2], 'claim_expires', now + tonumber(ARGV[3]))
return 1
"""
#: KEYS[1] the flow hash; ARGV: seq token new-seq state updated data expires pexpireat
_REDIS_SAVE = r"""
local cur = redis.call('HMGET', KEYS[1], 'seq', 'claim_token')
if cur[1] ~= ARGV[1] or cur[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'seq', ARGV[3], 'state', ARGV[4], 'updated_at', ARGV[5],
           'data', ARGV[6], 'expires_at', ARGV[7])
redis.call('HDEL', KEYS[1], 'claim_token', 'claim_expires')
redis.call('PEXPIREAT', KEYS[1], ARGV[8])
return 1
"""


class RedisFloor:
    """Resume + step + save, by hand with redis-py, on the library's Redis hash."""

    def __init__(self, client: Any, prefix: str, keyring: Keyring, canned: Canned) -> None:
        self.codec = FloorCodec(keyring)
        self.canned = canned
        self.client = client
        self.prefix = prefix
        self.claim = client.register_script(_REDIS_CLAIM)
        self.save = client.register_script(_REDIS_SAVE)

    def add(self, flow: Flow) -> str:
        """Store ``flow`` sealed by the floor's codec (outside the clock); its id."""
        key = f"{self.prefix}flow:{flow.flow_id}"
        expires = flow.expires_at
        assert expires is not None
        self.client.hset(
            key,
            mapping={
                "seq": flow.seq,
                "state": str(flow.state),
                "updated_at": repr(flow.updated_at),
                "expires_at": repr(expires),
                "data": self.codec.seal(flow.to_envelope()),
            },
        )
        self.client.pexpireat(key, int(expires * 1000) + 1)
        return flow.flow_id

    def step(self, flow_id: str) -> str:
        """HMGET; claim script; unseal, step, seal; CAS save script; returns the state."""
        key = f"{self.prefix}flow:{flow_id}"
        token = uuid.uuid4().hex
        seq_raw, data = self.client.hmget(key, ["seq", "data"])
        seq = int(seq_raw)
        if self.claim(keys=[key], args=[seq, token, LEASE]) != 1:
            raise RuntimeError("the floor's claim failed")
        text = data.decode() if isinstance(data, bytes) else data
        flow = Flow.from_envelope(self.codec.open(text))
        if flow.flow_id != flow_id or flow.seq != seq:
            raise RuntimeError("the hash holds another flow's snapshot")
        core_step(flow, self.canned)
        flow.seq = seq + 1
        sealed = self.codec.seal(flow.to_envelope())
        expires = flow.expires_at
        assert expires is not None
        done = self.save(
            keys=[key],
            args=[
                seq,
                token,
                seq + 1,
                str(flow.state),
                repr(flow.updated_at),
                sealed,
                repr(expires),
                int(expires * 1000) + 1,
            ],
        )
        if done != 1:
            raise RuntimeError("the floor's save failed")
        return str(flow.state)
