"""The flow store contract: ``StoredFlow``, the ``FlowStore`` protocol, ``open_store``.

A flow store keeps one record per flow between HTTP requests.  The record's
``data`` is the sealed snapshot text, which a store never parses; ``seq``,
``state`` and ``expires_at`` sit next to it in the clear so that a store can
compare-and-swap, list and sweep without a key.

Concurrency protocol
--------------------
A worker that wants to advance a flow from sequence number ``seq``:

1. ``claim(flow_id, seq, token, now=now)`` reserves the step for ``lease``
   seconds.  The claim is refused with ``StaleSnapshotError`` when the stored
   flow is no longer at ``seq`` (someone advanced it, or the caller replays an
   old snapshot) and with ``FlowBusyError`` when another token holds an
   unexpired claim.  Re-claiming with the same token renews the lease (and
   proves the claim is still held: a worker that lost it is refused).
2. Before any request is built it re-claims with ``intent=`` (the *intent
   journal*: an opaque text, sealed by the repository, naming the trigger it
   is about to send), then performs the step.
3. ``save(record, expected_seq=seq, token=token)`` writes ``record`` (whose
   ``seq`` must be ``seq + 1``) and drops the claim and its intent, atomically,
   or ``release(flow_id, token)`` gives the step up.  A save is refused with
   ``FlowBusyError`` while another token holds a live claim, *or a lapsed one
   that left an intent*: dropping that intent would forget a request that may
   have reached Auth0, so the saver first takes the claim over (step 1, which
   hands it the intent) and records the doubt.  A lapsed claim without an
   intent is no obstacle.

A claim that takes over another token's *expired* claim returns the intent
that claim left (``None`` otherwise): its worker died or stalled after saying
what it would send and before saving, so the request may have reached Auth0.
The new worker must not repeat it silently; the repository marks the flow
``uncertain`` with that trigger (see ``_machine.DOUBT``).

One clock for claims
--------------------
Whether a claim is still live is judged by the *store's* clock, never the
caller's: a claim taken at store time ``t`` expires at ``t + lease``, and both
``claim`` and ``save`` compare against the store's time when they run (a claim
is expired once ``claim_expires <= store now``).  Callers' clocks disagree
(a worker with a clock running fast by more than the lease would otherwise
see every other worker's claim as lapsed and take the step too, sending a
second request to Auth0), and a caller's clock may be injected (a fake clock
in tests, a replayed request).  So:

* ``flowengine.stores.redis.RedisStore`` reads the server's ``TIME``
  inside its Lua scripts: every client of one Redis server shares one clock.
* ``flowengine.stores.sqlite.SQLiteStore`` computes the time in SQL
  (``julianday('now')``), so injected clocks cannot move it either.  It is
  still the clock of whichever host runs the statement: an SQLite store is
  for the processes of **one host** (one clock).  Several hosts sharing the
  file over a network file system would each judge claims by their own
  clock, and are not supported (nor is SQLite's locking over most of them).
* ``flowengine.stores.postgres.PostgresStore`` computes the time in
  SQL on the server (``statement_timestamp()``): every host sharing one
  PostgreSQL server shares its clock.
* ``flowengine.stores.memory.MemoryStore`` uses its own ``clock``
  (``time.time`` unless a test passes another).

The ``now`` argument of ``claim`` is validated and kept for the protocol's
sake, but it decides nothing; ``record.updated_at`` is the caller's clock and
is stored as it is (it orders ``FlowStore.list``), but no longer decides
whether a claim stands in the way of a ``save``.

Deletion
--------
``delete``, ``sweep_expired`` and the automatic sweep remove the flow's
sealed snapshot, and ``save`` removes the previous revision's, from what the
store keeps.  For SQLite that means the bytes in the database file and its
write-ahead log too (see the ``flowengine.stores.sqlite`` docstring:
``secure_delete=ON`` and a truncating checkpoint after every write that
replaces or deletes a snapshot); Redis frees the memory (an RDB or AOF file
on disk keeps what it holds until it is rewritten: configure persistence
accordingly).  PostgreSQL deletes with plain ``DELETE``/``UPDATE`` statements
and runs no ``VACUUM``: the old row versions stay in the table's pages as dead
tuples until (auto)vacuum reclaims them, and in the write-ahead log, its
archive and backups for as long as those are kept (see the
``flowengine.stores.postgres`` docstring).

Automatic sweeping
------------------
Expired flows go away without an operator: at most once every
``auto_sweep`` seconds (60 by default; ``0`` means on every write, ``None``
turns it off) a successful ``create`` or ``save`` is followed by a bounded
sweep of at most ``auto_sweep_batch`` (100) expired flows.  The first write of
a store sweeps, so short-lived processes (one CLI command per step) share the
work too.  It deletes a flow only once it is expired by both the store's
clock and the writer's (``record.updated_at``): a writer whose clock runs
fast cannot sweep a flow early, the store cannot sweep the flows of writers
whose clock is behind its own (a test's fake clock), and it never deletes
the flow just written.  Its cost is one
indexed query per interval (SQLite, Redis; the memory store scans its dict),
plus the deletes when there is something to delete; a failure of the sweep
is swallowed (the write itself succeeded) and retried an interval later.
``sweep_expired(now)`` and ``flowengine store sweep`` remain for a full sweep.

Store URLs accepted by ``open_store``
-----------------------------------------
``memory:`` (or ``memory://``)
    A fresh, process-local ``flowengine.stores.memory.MemoryStore``.
``sqlite:///abs/path/flows.db``
    An SQLite file at an absolute path (``sqlite:////abs/path`` means the same).
``sqlite:relative/path/flows.db``
    An SQLite file relative to the current directory, resolved when opened.
``sqlite:///:memory:`` (or ``sqlite::memory:``)
    A private in-memory SQLite database (one per store; useful in tests).
``redis://[[user]:password@]host[:port][/db][?option=value]``, ``rediss://...``
    A ``flowengine.stores.redis.RedisStore``; the options are a subset of
    redis-py's ``from_url`` options (``db``, ``socket_timeout``,
    ``socket_connect_timeout``, ``socket_keepalive``, ``retry_on_timeout``,
    ``max_connections``, ``health_check_interval``, ``protocol``, ``timeout``,
    ``client_name``, ``username``, ``password`` and the ``ssl_*`` ones).
    The connection is made on first use.
``postgresql://[user[:password]@]host[:port]/dbname[?param=value]``, ``postgres://...``
    A ``flowengine.stores.postgres.PostgresStore`` (the ``flowengine[postgres]``
    extra, psycopg 3); the query parameters are libpq's.  It connects and
    creates or migrates its schema when opened.
``redis+cluster://[[user]:password@]host:port[,host:port...][?option=value]``, ``rediss+cluster://...``
    A ``flowengine.stores.redis_cluster.RedisClusterStore`` on a Redis
    Cluster reached through any of the listed nodes (options:
    ``socket_timeout``, ``socket_connect_timeout``, ``max_connections``,
    ``client_name``, ``username``, ``password`` and the ``ssl_*`` ones).

SQLite paths are percent-decoded and take no query string.  Any other URL
raises ``ConfigurationError``; its message never repeats the URL's
userinfo (a password); for ``redis``/``rediss`` URLs it repeats none of the
URL except, for an unknown option, the option's name; for ``postgresql`` URLs,
none of it.
"""

from __future__ import annotations

import builtins
import contextlib
import math
import re
import threading
import time
from types import TracebackType
from typing import Protocol, Self, runtime_checkable
from urllib.parse import parse_qs, unquote, urlsplit

import attrs

from flowengine._errors import ConfigurationError, StoreError
from flowengine._validate import is_plain_text

__all__ = ["FlowStore", "StoreStats", "StoredFlow", "open_store"]

DEFAULT_LEASE = 30.0
"""Seconds a claim lasts unless the caller asks otherwise."""

DEFAULT_AUTO_SWEEP = 60.0
"""Seconds between two automatic sweeps of one store (``None``: never)."""

DEFAULT_AUTO_SWEEP_BATCH = 100
"""Expired flows one automatic sweep deletes at most."""


@attrs.frozen
class StoredFlow:
    """One persisted flow: its position, its public state and its sealed snapshot."""

    flow_id: str
    """The flow's id, unique within a store."""
    seq: int
    """Grows by one per applied step (a rollback counts as a step)."""
    state: str
    """The machine state name, for listing and sweeping (not secret)."""
    expires_at: float | None
    """Epoch seconds after which the flow may be swept; ``None`` means never."""
    updated_at: float
    """Epoch seconds of the last write."""
    data: str = attrs.field(repr=False)
    """The opaque sealed snapshot text; stores never parse it."""


@runtime_checkable
class FlowStore(Protocol):
    """Where flows wait between requests; every method is atomic on its own.

    A store is also a context manager that closes it on exit.
    """

    def create(self, record: StoredFlow) -> None:
        """Insert ``record``; ``StoreError`` if a flow with its id exists."""
        ...

    def load(self, flow_id: str) -> StoredFlow:
        """Return the stored flow; ``FlowNotFoundError`` if there is none."""
        ...

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
        """Reserve the step from ``seq`` for ``token`` for ``lease`` seconds of the store's clock.

        ``now`` is the caller's clock: validated, but the claim's expiry is the
        store's own time plus ``lease`` (see "One clock for claims"). ``intent``,
        when given, is kept with the claim (the intent journal); re-claiming with
        the same token keeps the previous intent otherwise. Returns the intent an
        expired claim of *another* token left behind, or None.
        Raises ``StaleSnapshotError`` if the stored seq differs,
        ``FlowBusyError`` if another token holds an unexpired claim and
        ``FlowNotFoundError`` if the flow is missing.
        """
        ...

    def save(self, record: StoredFlow, *, expected_seq: int, token: str | None) -> None:
        """Compare-and-swap ``record`` in place of the flow at ``expected_seq``; drop the claim.

        Raises ``StaleSnapshotError`` if the stored seq is not ``expected_seq``,
        ``StoreError`` if ``record.seq != expected_seq + 1``,
        ``FlowBusyError`` if another token holds a claim unexpired by the
        store's clock and ``FlowNotFoundError`` if it is missing.
        """
        ...

    def release(self, flow_id: str, token: str) -> None:
        """Drop the claim if ``token`` holds it; otherwise do nothing."""
        ...

    def delete(self, flow_id: str) -> None:
        """Delete the flow if it exists (idempotent)."""
        ...

    def sweep_expired(self, now: float) -> int:
        """Delete every flow with ``expires_at <= now``; return how many were deleted."""
        ...

    def list(self, *, state: str | None = None, limit: int = 100) -> builtins.list[StoredFlow]:
        """Return up to ``limit`` flows, newest ``updated_at`` first (ties: greater id first)."""
        ...

    def close(self) -> None:
        """Release the store's resources; idempotent."""
        ...

    def __enter__(self) -> Self:
        """Return the store itself."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the store."""
        ...


@attrs.frozen
class StoreStats:
    """What ``flowengine store stats`` reports: counts and times, never a snapshot."""

    flows: int
    """Flows stored (expired ones awaiting a sweep included)."""
    by_state: dict[str, int]
    """Flow count per state name."""
    expired: int
    """Flows past ``expires_at`` by the store's clock, waiting for a sweep."""
    oldest_live: dict[str, object] | None
    """The least recently updated unexpired flow (``flow_id``, ``state``, ``updated_at``,
    ``expires_at``), or ``None``."""
    claims_held: int
    """Claims still live by the store's clock (steps in progress)."""
    claims_expired: int
    """Claims whose lease lapsed without a save or release (a worker gave up or died)."""
    schema_version: int | None
    """The store's schema (SQLite ``user_version``, Redis key layout); ``None`` in memory."""
    now: float
    """The store's clock when the figures were taken (epoch seconds)."""

    def to_json(self) -> dict[str, object]:
        """The figures as a JSON-ready dict."""
        return attrs.asdict(self)


class StoreBase:
    """Shared argument checks, automatic sweeping and context-manager support."""

    _auto_interval: float | None = None
    _auto_batch: int = DEFAULT_AUTO_SWEEP_BATCH
    _auto_next: float = 0.0
    _auto_lock: threading.Lock | None = None

    def _setup_auto_sweep(self, interval: float | None, batch: int) -> None:
        """Validate and keep the automatic sweep's settings (see "Automatic sweeping")."""
        if interval is not None:
            interval = check_time(interval, "auto_sweep")
            if interval < 0:
                raise StoreError("auto_sweep must be None or a non-negative number of seconds")
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise StoreError("auto_sweep_batch must be a positive integer")
        self._auto_interval = interval
        self._auto_batch = batch
        self._auto_next = 0.0  # the first write sweeps
        self._auto_lock = threading.Lock()

    def _after_write(self, record: StoredFlow) -> None:
        """Run a bounded sweep if the interval has passed; never fail the write."""
        if self._auto_interval is None or self._auto_lock is None:
            return
        at = time.monotonic()
        with self._auto_lock:
            if at < self._auto_next:
                return
            self._auto_next = at + self._auto_interval
        # The write succeeded: a sweep that fails (a lock, a lost connection) must not
        # make it look failed.  The next interval tries again.
        with contextlib.suppress(StoreError):
            self._sweep_some(cap=record.updated_at, keep=record.flow_id, batch=self._auto_batch)

    def _sweep_some(self, *, cap: float, keep: str, batch: int) -> int:
        """Delete up to ``batch`` flows expired by the store's clock and by ``cap``, except
        ``keep``; return how many."""
        raise NotImplementedError

    def stats(self) -> StoreStats:
        """Counts by state, the oldest live flow, claims and the schema version."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the store's resources; idempotent."""

    def __enter__(self) -> Self:
        """Return the store itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the store."""
        self.close()


# ------------------------------------------------------------------ validation


def check_flow_id(flow_id: object) -> str:
    """Return ``flow_id`` if it is a non-empty plain string, else raise ``StoreError``."""
    if not isinstance(flow_id, str) or not flow_id or not is_plain_text(flow_id):
        raise StoreError("a flow id must be a non-empty string without control characters")
    return flow_id


def check_seq(seq: object, what: str = "seq") -> int:
    """Return ``seq`` if it is a non-negative int (not a bool), else raise ``StoreError``."""
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise StoreError(f"{what} must be a non-negative integer")
    return seq


def check_time(value: object, what: str) -> float:
    """Return ``value`` as a float if it is a finite number, else raise ``StoreError``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise StoreError(f"{what} must be a finite number of seconds")
    return float(value)


def check_token(token: object) -> str:
    """Return ``token`` if it is a non-empty string, else raise ``StoreError``."""
    if not isinstance(token, str) or not token:
        raise StoreError("a claim token must be a non-empty string")
    return token


def check_record(record: object) -> StoredFlow:
    """Validate every field a store relies on; raise ``StoreError`` on the first bad one."""
    if not isinstance(record, StoredFlow):
        raise StoreError("a store only accepts StoredFlow records")
    check_flow_id(record.flow_id)
    check_seq(record.seq)
    if not isinstance(record.state, str) or not record.state:
        raise StoreError("a flow state must be a non-empty string")
    if record.expires_at is not None:
        check_time(record.expires_at, "expires_at")
    check_time(record.updated_at, "updated_at")
    if not isinstance(record.data, str):
        raise StoreError("flow data must be a string")
    return record


def check_save(record: object, expected_seq: object, token: object) -> StoredFlow:
    """Validate ``save`` arguments, including ``record.seq == expected_seq + 1``."""
    rec = check_record(record)
    expected = check_seq(expected_seq, "expected_seq")
    if token is not None:
        check_token(token)
    if rec.seq != expected + 1:
        raise StoreError(
            f"flow {rec.flow_id!r}: a save from seq {expected} must write seq "
            f"{expected + 1}, not {rec.seq}"
        )
    return rec


def check_claim(flow_id: object, seq: object, token: object, now: object, lease: object) -> float:
    """Validate ``claim`` arguments and return the lease (the store adds its own time)."""
    check_flow_id(flow_id)
    check_seq(seq)
    check_token(token)
    check_time(now, "now")
    span = check_time(lease, "lease")
    if span <= 0:
        raise StoreError("a claim lease must be positive")
    return span


#: Longest intent text a store keeps (a sealed journal entry is a few hundred bytes).
MAX_INTENT_CHARS = 4096


def check_intent(intent: object) -> str | None:
    """``intent`` if it is None or a non-empty ASCII text of bounded length."""
    if intent is None:
        return None
    if not isinstance(intent, str) or not intent or len(intent) > MAX_INTENT_CHARS:
        raise StoreError("an intent is a non-empty text of at most 4096 characters")
    if not intent.isascii():
        raise StoreError("an intent is ASCII text")
    return intent


def check_limit(limit: object) -> int:
    """Return ``limit`` if it is a non-negative int, else raise ``StoreError``."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise StoreError("limit must be a non-negative integer")
    return limit


def sort_key(record: StoredFlow) -> tuple[float, str]:
    """The listing order's key: sort by it with ``reverse=True`` (newest, then greatest id)."""
    return (record.updated_at, record.flow_id)


# --------------------------------------------------------------------- open_store

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,31}")
_EXPECTED = (
    "expected memory:, sqlite:///abs/path.db, sqlite:relative/path.db, sqlite:///:memory:, "
    "redis://host:port/db, rediss://host:port/db, postgresql://user@host:port/db"
    " or redis+cluster://host:port,host:port"
)
_HIDDEN = "(the URL is not shown because it may contain a password)"
_OPTION_NAME = re.compile(r"[A-Za-z_]{1,40}")
_REDIS_OPTIONS = frozenset(
    {
        # parsed by redis-py
        "db",
        "health_check_interval",
        "max_connections",
        "protocol",
        "retry_on_timeout",
        "socket_connect_timeout",
        "socket_keepalive",
        "socket_timeout",
        "ssl_check_hostname",
        "timeout",
        # passed through as text
        "client_name",
        "password",
        "ssl_ca_certs",
        "ssl_ca_path",
        "ssl_cert_reqs",
        "ssl_certfile",
        "ssl_keyfile",
        "username",
    }
)


def _sqlite_path(rest: str) -> str:
    """Turn what follows ``sqlite:`` into a file path, or ``":memory:"``."""
    if "?" in rest or "#" in rest:
        raise ConfigurationError(
            "sqlite store URLs take no query string or fragment "
            "(percent-encode '?' and '#' in file names)"
        )
    if rest.startswith("//"):
        after = rest[2:]
        if not after.startswith("/"):
            raise ConfigurationError(
                "a sqlite store URL names no host: use sqlite:///absolute/path.db "
                "or sqlite:relative/path.db"
            )
        path = "/" + after.lstrip("/")
    else:
        path = rest
    path = unquote(path)
    if path in ("/:memory:", ":memory:"):
        return ":memory:"
    if path in ("", "/") or path.endswith("/"):
        raise ConfigurationError("a sqlite store URL must name a database file")
    if "\x00" in path:
        raise ConfigurationError("a sqlite database path cannot contain a NUL character")
    return path


def check_redis_url(url: str) -> None:
    """Raise ``ConfigurationError`` if ``url`` is not a usable redis/rediss URL.

    The messages never include any part of the URL: a password may be anywhere
    in a malformed one.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
        hostname = parts.hostname
    except ValueError:
        raise ConfigurationError(
            f"invalid redis store URL: bad host or port (must be 0-65535) {_HIDDEN}"
        ) from None
    if parts.scheme.lower() not in ("redis", "rediss"):
        raise ConfigurationError(
            f"a redis store URL must start with redis:// or rediss:// {_HIDDEN}"
        )
    if not url[len(parts.scheme) + 1 :].startswith("//"):
        raise ConfigurationError(f"a redis store URL needs '//' after the scheme {_HIDDEN}")
    if parts.fragment:
        raise ConfigurationError(f"a redis store URL takes no fragment {_HIDDEN}")
    if port == 0:
        raise ConfigurationError(f"invalid redis store URL: port 0 {_HIDDEN}")
    if hostname is not None and any(ch.isspace() for ch in hostname):
        raise ConfigurationError(f"invalid redis store URL: bad host name {_HIDDEN}")
    for name in parse_qs(parts.query, keep_blank_values=True):
        if name not in _REDIS_OPTIONS:
            shown = f" {name!r}" if _OPTION_NAME.fullmatch(name) else ""
            raise ConfigurationError(f"unknown redis store URL option{shown} {_HIDDEN}")
    db = parts.path[1:] if parts.path.startswith("/") else parts.path
    if db and not (db.isascii() and db.isdigit()):
        raise ConfigurationError(
            f"invalid redis store URL: the path must be a database number {_HIDDEN}"
        )


def open_store(url: str) -> FlowStore:
    """Open the flow store that ``url`` names (see this module's docstring for the forms).

    Raises ``ConfigurationError`` for anything else, without echoing a password.
    """
    if not isinstance(url, str):
        raise ConfigurationError(f"a store URL must be a string; {_EXPECTED}")
    url = url.strip()
    scheme, sep, rest = url.partition(":")
    if not sep or not _SCHEME.fullmatch(scheme):
        raise ConfigurationError(f"a store URL must start with a scheme; {_EXPECTED}")
    kind = scheme.lower()
    if kind == "memory":
        if rest not in ("", "//"):
            raise ConfigurationError("a memory store URL is just 'memory:'")
        from flowengine.stores.memory import MemoryStore

        return MemoryStore()
    if kind == "sqlite":
        from flowengine.stores.sqlite import SQLiteStore

        return SQLiteStore(_sqlite_path(rest))
    if kind in ("redis", "rediss"):
        check_redis_url(url)
        from flowengine.stores.redis import RedisStore

        return RedisStore(url)
    if kind in ("postgresql", "postgres"):
        from flowengine.stores.postgres import PostgresStore

        return PostgresStore(url)
    if kind in ("redis+cluster", "rediss+cluster"):
        from flowengine.stores.redis_cluster import RedisClusterStore, check_cluster_url

        check_cluster_url(url)
        return RedisClusterStore(url)
    raise ConfigurationError(f"unsupported store URL scheme {scheme!r}; {_EXPECTED}")
