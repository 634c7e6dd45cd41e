"""A flow store in PostgreSQL (psycopg 3), shared by every process and host that reaches it.

Design
------
* One table, ``flowengine_flows``: one row per flow with ``seq``, ``state``,
  ``expires_at``, ``updated_at`` (epoch seconds as ``double precision``, so a
  Python float comes back exactly), the sealed ``data`` and the claim
  (``claim_token``, ``claim_expires``, ``claim_intent``).  ``flow_id`` and
  ``state`` use the ``"C"`` collation, so listing ties order by code point as
  in the other stores.
* Indexes keep a resume flat in the number of stored flows: the primary key
  (load, claim, save, release, delete), a partial index on ``expires_at``
  (sweeps) and ``(state, updated_at, flow_id)`` and ``(updated_at, flow_id)``
  (listing).
* The schema is created and migrated by the store: ``flowengine_schema``
  holds the version (one row).  Opening a store takes a transaction-scoped
  advisory lock, reads the version and runs the missing steps of
  ``_MIGRATIONS`` in that same transaction, so processes that open a store
  at once migrate it once.  A database whose version is newer than this
  flowengine knows is refused.
* Every compare-and-swap is one ``UPDATE`` statement in autocommit mode (one
  round trip): its ``WHERE`` names the expected sequence number and a claim
  free for the caller, and the row lock the ``UPDATE`` takes makes check and
  write atomic (under READ COMMITTED a writer that waited re-checks the
  ``WHERE`` against the row as the other committed it).  A claim reads the
  claim it replaces through a ``FOR UPDATE`` subquery on the same row, so a
  takeover learns the expired claim's intent.  Only when nothing was written
  does a second read say why (no flow, another seq, a live claim); the
  refusal itself was decided under the lock.
* Claims are judged by the **server's** clock, computed in the SQL itself
  (``statement_timestamp()``, the server's time when the statement began),
  never by the caller's ``now``: workers on hosts whose clocks disagree, or
  with an injected clock, cannot take each other's live claims.
* Connections come from a small pool (``max_idle``): a thread borrows one
  for one operation, in autocommit mode, and gives it back; a connection
  that broke is closed, not pooled.  A store used in a child after
  ``fork()`` abandons (never closes: that would end the parent's session on
  the shared socket) the connections it inherited and opens its own.
* The implementation is synchronous.  ``flowengine.AsyncFlowRepository``
  runs the synchronous repository's store calls in worker threads, which
  this store supports (any number of threads share it), so no separate
  async store is needed.
* ``psycopg`` (the ``flowengine[postgres]`` extra) is imported when a store
  is built, never when ``flowengine`` is.  The URL's password is kept only
  to connect: it is not in the store's ``repr`` nor in any error message.

Deletion
--------
``delete``, ``save`` (which replaces a revision), ``sweep_expired`` and the
automatic sweep are plain ``DELETE``/``UPDATE`` statements; they run no
``VACUUM``.  Like every MVCC write in PostgreSQL they leave the old row
version (a dead tuple holding the sealed snapshot) in the table's pages
until (auto)vacuum reclaims it and a later write reuses the space, and the
write-ahead log (and any WAL archive or base backup) keeps it for as long as
those are retained: as with Redis's RDB/AOF files, configure autovacuum, WAL
retention and backups accordingly.  The snapshots are sealed, so what
lingers is ciphertext.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import parse_qs, urlsplit, urlunsplit

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

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresStore"]

SCHEMA_VERSION = 1
"""The version of the schema this flowengine writes (``flowengine_schema.version``)."""

_HIDDEN = "(the URL is not shown because it may contain a password)"

#: The steps from each version to the next: ``_MIGRATIONS[v]`` turns version ``v`` into
#: ``v + 1``.  Version 0 is an empty database.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE flowengine_flows (
            flow_id       text COLLATE "C" PRIMARY KEY,
            seq           bigint NOT NULL,
            state         text COLLATE "C" NOT NULL,
            expires_at    double precision,
            updated_at    double precision NOT NULL,
            data          text NOT NULL,
            claim_token   text,
            claim_expires double precision,
            claim_intent  text
        )
        """,
        "CREATE INDEX flowengine_flows_by_expiry ON flowengine_flows (expires_at) "
        "WHERE expires_at IS NOT NULL",
        "CREATE INDEX flowengine_flows_by_updated ON flowengine_flows (updated_at, flow_id)",
        "CREATE INDEX flowengine_flows_by_state ON flowengine_flows (state, updated_at, flow_id)",
    ),
)

#: Key of the advisory lock that serialises schema set-up across processes ("flowengn").
_SCHEMA_LOCK = 0x666C6F77656E676E

_COLUMNS = "flow_id, seq, state, expires_at, updated_at, data"

#: The server's clock in epoch seconds: the same for every use within one statement.
_NOW = "extract(epoch from statement_timestamp())::float8"


def _row_to_flow(row: tuple[Any, ...]) -> StoredFlow:
    return StoredFlow(
        flow_id=row[0],
        seq=int(row[1]),
        state=row[2],
        expires_at=None if row[3] is None else float(row[3]),
        updated_at=float(row[4]),
        data=row[5],
    )


def check_postgres_url(url: str) -> str:
    """Return ``url`` without its password and query if it is a postgresql:// or postgres:// URL.

    Raises ``ConfigurationError`` otherwise; no message repeats any part of the URL.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
        hostname = parts.hostname
    except ValueError:
        raise ConfigurationError(
            f"invalid PostgreSQL store URL: bad host or port {_HIDDEN}"
        ) from None
    if parts.scheme.lower() not in ("postgresql", "postgres"):
        raise ConfigurationError(
            f"a PostgreSQL store URL must start with postgresql:// or postgres:// {_HIDDEN}"
        )
    if not url[len(parts.scheme) + 1 :].startswith("//"):
        raise ConfigurationError(f"a PostgreSQL store URL needs '//' after the scheme {_HIDDEN}")
    if parts.fragment:
        raise ConfigurationError(f"a PostgreSQL store URL takes no fragment {_HIDDEN}")
    if hostname is not None and any(ch.isspace() for ch in hostname):
        raise ConfigurationError(f"invalid PostgreSQL store URL: bad host name {_HIDDEN}")
    netloc = parts.netloc.rpartition("@")[2]
    if parts.username is not None:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class PostgresStore(StoreBase):
    """Flows in a PostgreSQL database reached through a ``postgresql://`` URL.

    ``connect_timeout`` bounds each connection attempt (seconds); ``max_idle``
    bounds the pool of idle connections; ``auto_sweep`` and
    ``auto_sweep_batch`` set the automatic sweep.  The store creates (or
    migrates) its tables when it is built.  Synchronous: the async repository
    calls it from worker threads.
    """

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = 10.0,
        max_idle: int = 8,
        auto_sweep: float | None = DEFAULT_AUTO_SWEEP,
        auto_sweep_batch: int = DEFAULT_AUTO_SWEEP_BATCH,
    ) -> None:
        """Connect to the database at ``url`` and create or migrate the schema."""
        try:
            import psycopg  # the [postgres] extra: imported here so `import flowengine` never is
        except ImportError:
            raise ConfigurationError(
                "the PostgreSQL store needs psycopg 3: pip install 'flowengine[postgres]'"
            ) from None
        if not isinstance(url, str):
            raise ConfigurationError("PostgresStore needs a postgresql:// URL")
        self._shown = check_postgres_url(url)
        # libpq knows only the lower-case schemes; the scheme is case-insensitive for us.
        url = "postgresql" + url[url.index(":") :]
        parts = urlsplit(url)
        passwords = [parts.password, *parse_qs(parts.query).get("password", [])]
        self._secrets = tuple(p for p in passwords if p)
        try:
            psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.Error:
            raise ConfigurationError(f"invalid PostgreSQL store URL {_HIDDEN}") from None
        if connect_timeout <= 0:
            raise ConfigurationError("connect_timeout must be positive")
        self._psycopg = psycopg
        self._url = url
        self._connect_timeout = max(1, round(connect_timeout))
        self._max_idle = max(0, int(max_idle))
        self._setup_auto_sweep(auto_sweep, auto_sweep_batch)
        self._pool_lock = threading.Lock()
        self._idle: list[psycopg.Connection[Any]] = []
        self._pid = os.getpid()
        self._closed = False
        with self._connection() as conn:
            self._migrate(conn)

    # ------------------------------------------------------------ plumbing

    def __repr__(self) -> str:
        """Show the URL without its password."""
        return f"<PostgresStore {self._shown!r}{' closed' if self._closed else ''}>"

    def connection(self) -> contextlib.AbstractContextManager[psycopg.Connection[Any]]:
        """Borrow a pooled autocommit connection (for tests and diagnostics)."""
        return self._connection()

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _error(self, exc: BaseException) -> StoreError:
        name = type(exc).__name__
        return StoreError(self._scrub(f"PostgreSQL flow store error: {name}: {exc}".strip()))

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return self._psycopg.connect(
                self._url,
                autocommit=True,
                connect_timeout=self._connect_timeout,
                application_name="flowengine",
            )
        except self._psycopg.Error as exc:
            # `from None`: the chained exception could carry connection details.
            raise self._error(exc) from None

    def _acquire(self) -> psycopg.Connection[Any]:
        with self._pool_lock:
            if self._closed:
                raise StoreError("the PostgreSQL flow store is closed")
            if self._pid != os.getpid():
                _ABANDONED.extend(self._idle)
                self._idle = []
                self._pid = os.getpid()
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _give_back(self, conn: psycopg.Connection[Any]) -> None:
        idle = self._psycopg.pq.TransactionStatus.IDLE
        with self._pool_lock:
            if self._pid != os.getpid():
                _ABANDONED.append(conn)
                return
            if (
                not self._closed
                and not conn.closed
                and conn.info.transaction_status == idle
                and len(self._idle) < self._max_idle
            ):
                self._idle.append(conn)
                return
        conn.close()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """Lend a pooled connection for one operation, mapping psycopg errors to StoreError."""
        conn = self._acquire()
        try:
            yield conn
        except self._psycopg.Error as exc:
            raise self._error(exc) from exc
        finally:
            self._give_back(conn)

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        """Create the schema, or bring an older one up to ``SCHEMA_VERSION``."""
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s::bigint)", (_SCHEMA_LOCK,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS flowengine_schema ("
                "one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT NULL)"
            )
            row = conn.execute("SELECT version FROM flowengine_schema").fetchone()
            version = 0 if row is None else int(row[0])
            target = len(_MIGRATIONS)
            if version > target:
                raise StoreError(
                    f"the PostgreSQL flow store has schema version {version}; "
                    f"this flowengine knows version {target}"
                )
            for step in _MIGRATIONS[version:]:
                for stmt in step:
                    conn.execute(stmt)
            if version != target:
                conn.execute(
                    "INSERT INTO flowengine_schema (one, version) VALUES (true, %s) "
                    "ON CONFLICT (one) DO UPDATE SET version = excluded.version",
                    (target,),
                )

    @staticmethod
    def _locked(
        conn: psycopg.Connection[Any], flow_id: str, token: str | None
    ) -> tuple[int, str | None, bool, str | None] | None:
        """Lock the flow's row; its seq, claim token, whether it is free for ``token``, intent."""
        row = conn.execute(
            "SELECT seq, claim_token, "
            f"(claim_token IS NULL OR claim_token = %s OR claim_expires <= {_NOW}), "
            "claim_intent FROM flowengine_flows WHERE flow_id = %s FOR UPDATE",
            (token, flow_id),
        ).fetchone()
        if row is None:
            return None
        return int(row[0]), row[1], bool(row[2]), row[3]

    # ------------------------------------------------------------ the contract

    def create(self, record: StoredFlow) -> None:
        """Insert ``record``; ``StoreError`` if a flow with its id exists."""
        check_record(record)
        with self._connection() as conn:
            cur = conn.execute(
                f"INSERT INTO flowengine_flows ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (flow_id) DO NOTHING",
                (
                    record.flow_id,
                    record.seq,
                    record.state,
                    record.expires_at,
                    record.updated_at,
                    record.data,
                ),
            )
            if cur.rowcount != 1:
                raise StoreError(f"a flow with id {record.flow_id!r} already exists")
        self._after_write(record)

    def load(self, flow_id: str) -> StoredFlow:
        """Return the stored flow; ``FlowNotFoundError`` if there is none."""
        check_flow_id(flow_id)
        with self._connection() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM flowengine_flows WHERE flow_id = %s", (flow_id,)
            ).fetchone()
        if row is None:
            raise FlowNotFoundError(flow_id)
        return _row_to_flow(row)

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
        """Reserve the step from ``seq`` for ``token`` until the server's clock + ``lease``."""
        span = check_claim(flow_id, seq, token, now, lease)
        note = check_intent(intent)
        with self._connection() as conn:
            # One statement: the subquery locks the row and hands back its claim as it was
            # (the intent a takeover must learn); the UPDATE writes only if the seq matches
            # and the claim is free for ``token``. Same token: renewal keeps the intent
            # unless a new one is given; another token's (expired) claim: its intent is
            # returned and replaced.
            row = conn.execute(
                "UPDATE flowengine_flows AS f SET claim_token = %(tok)s, "
                f"claim_expires = {_NOW} + %(span)s, "
                "claim_intent = COALESCE(%(note)s::text, "
                "CASE WHEN old.claim_token = %(tok)s THEN old.claim_intent END) "
                "FROM (SELECT flow_id, claim_token, claim_intent FROM flowengine_flows "
                "WHERE flow_id = %(id)s FOR UPDATE) AS old "
                "WHERE f.flow_id = old.flow_id AND f.seq = %(seq)s AND (f.claim_token IS NULL "
                f"OR f.claim_token = %(tok)s OR f.claim_expires <= {_NOW}) "
                "RETURNING old.claim_token, old.claim_intent",
                {"tok": token, "span": span, "note": note, "id": flow_id, "seq": seq},
            ).fetchone()
            if row is None:
                self._refused(conn, flow_id, seq, token)
        holder, left = row
        if holder is not None and holder != token and left:
            return str(left)  # took over an expired claim that had an intent
        return None

    def _refused(
        self, conn: psycopg.Connection[Any], flow_id: str, seq: int, token: str | None
    ) -> NoReturn:
        """Say why a compare-and-swap wrote nothing: no flow, another seq, or a live claim.

        Read after the fact, so a race may change the reason (a flow saved a moment later
        reads as stale rather than busy); the refusal itself was decided under the row lock.
        """
        found = self._locked(conn, flow_id, token)
        if found is None:
            raise FlowNotFoundError(flow_id)
        if found[0] != seq:
            raise StaleSnapshotError(flow_id, seq, found[0])
        raise FlowBusyError(flow_id, seq)

    def save(self, record: StoredFlow, *, expected_seq: int, token: str | None) -> None:
        """Compare-and-swap ``record`` in place of the flow at ``expected_seq``; drop the claim."""
        check_save(record, expected_seq, token)
        with self._connection() as conn:
            # One statement: the row lock taken by the UPDATE makes the check and the write
            # atomic; nothing written means the flow is gone, moved on, or claimed by another.
            cur = conn.execute(
                "UPDATE flowengine_flows SET seq = %s, state = %s, expires_at = %s, "
                "updated_at = %s, data = %s, claim_token = NULL, claim_expires = NULL, "
                "claim_intent = NULL WHERE flow_id = %s AND seq = %s AND (claim_token IS NULL "
                f"OR claim_token = %s OR (claim_expires <= {_NOW} AND claim_intent IS NULL))",
                (
                    record.seq,
                    record.state,
                    record.expires_at,
                    record.updated_at,
                    record.data,
                    record.flow_id,
                    expected_seq,
                    token,
                ),
            )
            if cur.rowcount != 1:
                self._refused(conn, record.flow_id, expected_seq, token)
        self._after_write(record)

    def release(self, flow_id: str, token: str) -> None:
        """Drop the claim if ``token`` holds it; otherwise do nothing."""
        check_flow_id(flow_id)
        check_token(token)
        with self._connection() as conn:
            conn.execute(
                "UPDATE flowengine_flows SET claim_token = NULL, claim_expires = NULL, "
                "claim_intent = NULL WHERE flow_id = %s AND claim_token = %s",
                (flow_id, token),
            )

    def delete(self, flow_id: str) -> None:
        """Delete the flow if it exists (idempotent)."""
        check_flow_id(flow_id)
        with self._connection() as conn:
            conn.execute("DELETE FROM flowengine_flows WHERE flow_id = %s", (flow_id,))

    def sweep_expired(self, now: float) -> int:
        """Delete every flow with ``expires_at <= now`` in one statement; return the count.

        A plain ``DELETE`` (no ``VACUUM``): see "Deletion" in the module docstring.
        """
        cutoff = check_time(now, "now")
        with self._connection() as conn:
            cur = conn.execute("DELETE FROM flowengine_flows WHERE expires_at <= %s", (cutoff,))
            return max(0, cur.rowcount)

    def _sweep_some(self, *, cap: float, keep: str, batch: int) -> int:
        """Delete up to ``batch`` flows expired by the server's clock and ``cap``, except ``keep``.

        One statement; ``SKIP LOCKED`` leaves a flow another transaction is saving alone
        (the next sweep sees it), so the sweep never waits for a worker.
        """
        with self._connection() as conn:
            cur = conn.execute(
                "DELETE FROM flowengine_flows WHERE flow_id IN ("
                "SELECT flow_id FROM flowengine_flows "
                f"WHERE expires_at <= least(%s, {_NOW}) AND flow_id <> %s "
                "ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED)",
                (cap, keep, batch),
            )
            return max(0, cur.rowcount)

    def stats(self) -> StoreStats:
        """Counts by state, the oldest live flow, claims (by the server's clock), the schema."""
        with self._connection() as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:  # one consistent snapshot for every figure
                now = float(conn.execute(f"SELECT {_NOW}").fetchone()[0])  # type: ignore[index]
                by_state = {
                    str(state): int(n)
                    for state, n in conn.execute(
                        "SELECT state, count(*) FROM flowengine_flows GROUP BY state ORDER BY state"
                    )
                }
                counts = conn.execute(
                    "SELECT count(*) FILTER (WHERE expires_at <= %(now)s), "
                    "count(*) FILTER (WHERE claim_token IS NOT NULL AND claim_expires > %(now)s), "
                    "count(*) FILTER (WHERE claim_token IS NOT NULL "
                    "AND claim_expires <= %(now)s) FROM flowengine_flows",
                    {"now": now},
                ).fetchone()
                oldest = conn.execute(
                    "SELECT flow_id, state, updated_at, expires_at FROM flowengine_flows "
                    "WHERE expires_at IS NULL OR expires_at > %s "
                    "ORDER BY updated_at, flow_id LIMIT 1",
                    (now,),
                ).fetchone()
                version_row = conn.execute("SELECT version FROM flowengine_schema").fetchone()
            finally:
                conn.execute("COMMIT")
        expired, held, lapsed = counts if counts is not None else (0, 0, 0)
        return StoreStats(
            flows=sum(by_state.values()),
            by_state=by_state,
            expired=int(expired),
            oldest_live=None
            if oldest is None
            else {
                "flow_id": oldest[0],
                "state": oldest[1],
                "updated_at": float(oldest[2]),
                "expires_at": None if oldest[3] is None else float(oldest[3]),
            },
            claims_held=int(held),
            claims_expired=int(lapsed),
            schema_version=None if version_row is None else int(version_row[0]),
            now=now,
        )

    def list(self, *, state: str | None = None, limit: int = 100) -> builtins.list[StoredFlow]:
        """Return up to ``limit`` flows, newest ``updated_at`` first (ties: greater id first)."""
        check_limit(limit)
        where, params = ("WHERE state = %s ", (state,)) if state is not None else ("", ())
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM flowengine_flows {where}"
                "ORDER BY updated_at DESC, flow_id DESC LIMIT %s",
                (*params, limit),
            ).fetchall()
        return [_row_to_flow(row) for row in rows]

    def close(self) -> None:
        """Close every idle connection (borrowed ones close when returned).  Idempotent."""
        with self._pool_lock:
            self._closed = True
            idle, self._idle = self._idle, []
            same_process = self._pid == os.getpid()
        if same_process:
            for conn in idle:
                conn.close()
        else:
            _ABANDONED.extend(idle)


# Connections inherited across fork(): never used or closed again in the child.
_ABANDONED: builtins.list[Any] = []
