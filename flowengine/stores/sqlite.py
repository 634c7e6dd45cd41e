"""A flow store in one SQLite file, safe across threads and processes.

Design
------
* WAL journal, ``busy_timeout`` and ``synchronous=NORMAL``: readers never
  block the writer, and a writer waits (up to ``busy_timeout``) for another.
* Connections come from a small pool: a thread borrows one for one operation
  and gives it back, so any number of threads can share a store and none
  holds a connection while it is idle.  ``sqlite:///:memory:`` databases use
  a single connection behind a lock (a second connection would see another
  database).
* Every compare-and-swap is one conditional ``UPDATE`` (atomic on its own).
  The usual case swaps at the first try: a ``save`` by the claim's holder, a
  ``claim`` of a free row or a renewal by its own token.  Otherwise the
  general path runs inside ``BEGIN IMMEDIATE``: the ``UPDATE`` again (a claim
  first reads the claim it may take over, to hand on its intent), and when it
  changes no row, a re-read in the same transaction tells a stale sequence
  number from a busy claim from a missing flow.  ``BEGIN IMMEDIATE`` takes the
  write lock first, so two processes cannot interleave between the
  ``UPDATE`` and the re-read.
* ``sweep_expired`` is one ``DELETE`` served by the index on ``expires_at``;
  the automatic sweep (see ``flowengine.stores._base``) selects at most a
  batch of ids through the same index, then deletes those still expired.
* Claims are judged by SQLite's clock, computed in the SQL itself
  (``julianday('now')``), never by the caller's ``now``: processes whose
  injected clocks disagree cannot take each other's claims.  It is the clock
  of the host running the statement, so a store file serves **one host**.
* Deletion deletes.  Every connection runs with ``secure_delete = ON``: a
  deleted or replaced row's bytes are zeroed in its page, and freed pages
  (overflow pages of a big snapshot, emptied b-tree pages) are zeroed too
  (``FAST`` leaves freed pages as they were).  That is not enough in WAL
  mode: every earlier image of a page (holding an earlier revision of a
  flow, or a deleted one) stays in the ``-wal`` file, and in the database
  file until a checkpoint overwrites it.  So writes that delete or replace
  a snapshot are followed by ``PRAGMA wal_checkpoint(TRUNCATE)``: the
  database file gets the zeroed pages and the log is cut to nothing.
  ``scrub`` says which writes:

  ``"all"`` (the default)
      ``save`` as well as ``delete``, ``sweep_expired`` and the automatic
      sweep.  Once any of them has returned, neither file holds a deleted
      flow or a replaced revision (``tests/stores/test_sqlite_carving.py``
      carves both).  Writes that replace no snapshot (``claim``,
      ``release``, ``create``) only add images of current data to the log,
      which the next scrubbing write empties.
  ``"deletes"``
      Only the deleting writes: a deleted or swept flow leaves nothing
      behind, every earlier revision included (the checkpoint empties the
      whole log), but the replaced revisions of a live flow stay in the log
      until an ordinary checkpoint (every 1,000 pages) has run and the log
      restarts, or the next deleting write.
  ``"off"``
      No checkpoint of its own: deleted flows and old revisions stay in the
      log until an ordinary checkpoint and a restart of the log.

  ``journal_size_limit = 0`` also cuts the log whenever SQLite restarts it.
  A reader still reading an older snapshot keeps the checkpoint from
  emptying the log; the checkpoint does not wait for it (it runs with no
  busy timeout, so it never stalls other writers), and the first scrubbing
  write after the reader has finished cleans up.
* What it costs: ``fsync`` calls.  The scrubbing checkpoint syncs the log
  and the database file, and the first write after it (with ``"all"``,
  usually the next step's ``claim``) syncs the new log's header.  In
  ``python -m bench`` a stored step (resume, claim, step, save) cost about
  0.2 ms more than the same step without a store with ``"off"`` or
  ``"deletes"``, and 1.1-1.2 ms more with ``"all"`` (10 ms and more while
  other processes keep the disk busy).  ``secure_delete = ON`` makes a sweep write every
  freed page once more: sweeping 100,000 expired flows of 1.6 kB wrote 452
  MB instead of 40 MB and took 1.2 s instead of 0.62 s (medians of 5).  The
  automatic sweep keeps such backlogs from forming.
* A new database file is created with mode 0600 (SQLite gives its ``-wal``
  and ``-shm`` files the same mode) in a parent directory created with 0700
  if it is missing.
* A store used in a child after ``fork()`` abandons (never closes) the
  connections it inherited and opens its own.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator

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
)

__all__ = ["SQLiteStore"]

SCHEMA_VERSION = 2

_SCHEMA = (
    """
    CREATE TABLE flows (
        flow_id       TEXT PRIMARY KEY NOT NULL,
        seq           INTEGER NOT NULL,
        state         TEXT NOT NULL,
        expires_at    REAL,
        updated_at    REAL NOT NULL,
        data          TEXT NOT NULL,
        claim_token   TEXT,
        claim_expires REAL,
        claim_intent  TEXT
    )
    """,
    "CREATE INDEX flows_by_expiry ON flows (expires_at)",
    "CREATE INDEX flows_by_updated ON flows (updated_at, flow_id)",
    "CREATE INDEX flows_by_state ON flows (state, updated_at, flow_id)",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)

_COLUMNS = "flow_id, seq, state, expires_at, updated_at, data"

_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")

#: The ``scrub`` settings: after which writes the log is checkpointed and emptied.
_SCRUB = ("all", "deletes", "off")

#: The page cache of a sweep, in KiB (negative: SQLite's "KiB" form of cache_size).
_SWEEP_CACHE_KIB = -32768

# Connections inherited across fork(): never used or closed again in the child.
_ABANDONED: list[sqlite3.Connection] = []

#: SQLite's clock in epoch seconds (julianday('now') has millisecond resolution and is the
#: same for every use within one statement).
_NOW = "((julianday('now') - 2440587.5) * 86400.0)"


#: The save's compare-and-swap: the new revision, the claim dropped, if ``seq`` still matches
#: and no other token holds a live claim (judged by SQLite's clock).
_SAVE = (
    "UPDATE flows SET seq = ?, state = ?, expires_at = ?, updated_at = ?, data = ?, "
    "claim_token = NULL, claim_expires = NULL, claim_intent = NULL "
    "WHERE flow_id = ? AND seq = ? "
    f"AND (claim_token IS NULL OR claim_token = ? OR (claim_expires <= {_NOW} "
    "AND claim_intent IS NULL))"
)


def _row_to_flow(row: tuple[str, int, str, float | None, float, str]) -> StoredFlow:
    return StoredFlow(
        flow_id=row[0],
        seq=row[1],
        state=row[2],
        expires_at=row[3],
        updated_at=row[4],
        data=row[5],
    )


class SQLiteStore(StoreBase):
    """Flows in an SQLite database file (or a private ``":memory:"`` database).

    ``busy_timeout`` is how many seconds a writer waits for another process's
    write lock before the operation fails with ``StoreError``;
    ``synchronous`` is SQLite's durability setting (``NORMAL`` survives an
    application crash; ``FULL`` also a power cut, at some cost per write);
    ``max_idle`` bounds the pool of idle connections; ``scrub`` (``"all"``,
    ``"deletes"`` or ``"off"``) says after which writes a checkpoint empties
    the log, so that deleted flows and replaced revisions leave the files at
    once (see the module docstring); ``auto_sweep`` and ``auto_sweep_batch``
    set the automatic sweep.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 10.0,
        synchronous: str = "NORMAL",
        max_idle: int = 8,
        scrub: str = "all",
        auto_sweep: float | None = DEFAULT_AUTO_SWEEP,
        auto_sweep_batch: int = DEFAULT_AUTO_SWEEP_BATCH,
    ) -> None:
        """Open (creating if needed) the database at ``path`` and its schema."""
        raw = os.fspath(path)
        if not isinstance(raw, str) or not raw or "\x00" in raw:
            raise StoreError("an SQLite store needs a file path (or ':memory:')")
        if synchronous.upper() not in _SYNCHRONOUS:
            raise StoreError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}")
        if busy_timeout < 0:
            raise StoreError("busy_timeout must not be negative")
        if scrub not in _SCRUB:
            raise StoreError(f"scrub must be one of {', '.join(map(repr, _SCRUB))}")
        self._memory = raw == ":memory:"
        self._path = raw if self._memory else os.path.abspath(raw)
        self._busy_timeout = float(busy_timeout)
        self._synchronous = synchronous.upper()
        self._max_idle = max(0, int(max_idle))
        self._scrub_saves = scrub == "all"
        self._scrub_deletes = scrub != "off"
        self._setup_auto_sweep(auto_sweep, auto_sweep_batch)
        self._pool_lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self._closed = False
        self._mem_lock = threading.Lock()
        self._mem_conn: sqlite3.Connection | None = None
        try:
            if not self._memory:
                self._create_file()
            conn = self._connect()
            try:
                self._init_schema(conn)
            except BaseException:
                conn.close()
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite flow store: {exc}") from exc
        except OSError as exc:
            raise StoreError(
                f"cannot create SQLite flow store file: {exc.strerror or exc}"
            ) from exc
        if self._memory:
            self._mem_conn = conn
        else:
            self._idle.append(conn)

    # ------------------------------------------------------------ plumbing

    @property
    def path(self) -> str:
        """The absolute database path, or ``":memory:"``."""
        return self._path

    def __repr__(self) -> str:
        """Show the database path."""
        return f"<SQLiteStore {self._path!r}{' closed' if self._closed else ''}>"

    def _create_file(self) -> None:
        parent = os.path.dirname(self._path)
        os.makedirs(parent, mode=0o700, exist_ok=True)
        try:
            fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        os.close(fd)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path,
            timeout=self._busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
            # ON, not FAST: FAST leaves freed pages (the overflow pages of a big snapshot)
            # as they were, and the carving test finds old revisions in them.
            conn.execute("PRAGMA secure_delete = ON")
            # Truncate the log to the frames of the write that restarts it (no old tail).
            conn.execute("PRAGMA journal_size_limit = 0")
        except BaseException:
            conn.close()
            raise
        return conn

    def _init_schema(self, conn: sqlite3.Connection) -> None:
        if not self._memory:
            deadline = time.monotonic() + self._busy_timeout
            while True:  # another process may hold a lock while it initialises
                try:
                    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                    break
                except sqlite3.OperationalError:
                    if time.monotonic() >= deadline:
                        raise
                    time.sleep(0.01)
            if str(mode).lower() != "wal":
                raise StoreError(f"cannot switch the SQLite flow store to WAL (got {mode!r})")
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                for stmt in _SCHEMA:
                    conn.execute(stmt)
            elif version == 1:  # 0.1 stores: add the intent journal's column
                conn.execute("ALTER TABLE flows ADD COLUMN claim_intent TEXT")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif version != SCHEMA_VERSION:
                raise StoreError(
                    f"the SQLite flow store has schema version {version}; "
                    f"this flowengine knows version {SCHEMA_VERSION}"
                )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _scrub_log(self, conn: sqlite3.Connection, *, deleted: bool) -> None:
        """After a write that deleted (or replaced) a snapshot: checkpoint and empty the log.

        Runs with no busy timeout, so it never waits for (nor blocks) anyone: when a
        reader still needs old frames it checkpoints what it can and the next scrub
        finishes the job.  The write has committed, so a failure here is not reported.
        """
        if self._memory or not (self._scrub_deletes if deleted else self._scrub_saves):
            return
        with contextlib.suppress(sqlite3.Error):
            conn.execute("PRAGMA busy_timeout = 0")
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            finally:
                conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")

    def _acquire(self) -> sqlite3.Connection:
        with self._pool_lock:
            if self._closed:
                raise StoreError("the SQLite flow store is closed")
            if self._pid != os.getpid():
                _ABANDONED.extend(self._idle)
                self._idle = []
                self._pid = os.getpid()
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _give_back(self, conn: sqlite3.Connection) -> None:
        with self._pool_lock:
            if self._pid != os.getpid():
                _ABANDONED.append(conn)
                return
            if not self._closed and not conn.in_transaction and len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        conn.close()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """Lend a connection for one operation, mapping sqlite3 errors to StoreError."""
        try:
            if self._memory:
                with self._mem_lock:
                    if self._closed or self._mem_conn is None:
                        raise StoreError("the SQLite flow store is closed")
                    yield self._mem_conn
                    return
            conn = self._acquire()
            try:
                yield conn
            finally:
                self._give_back(conn)
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite flow store error: {exc}") from exc

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the body inside ``BEGIN IMMEDIATE``; commit on success, roll back on error."""
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # ------------------------------------------------------------ the contract

    def create(self, record: StoredFlow) -> None:
        """Insert ``record``; ``StoreError`` if a flow with its id exists."""
        check_record(record)
        with self._connection() as conn:
            try:
                conn.execute(
                    f"INSERT INTO flows ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        record.flow_id,
                        record.seq,
                        record.state,
                        record.expires_at,
                        record.updated_at,
                        record.data,
                    ),
                )
            except sqlite3.IntegrityError:
                raise StoreError(f"a flow with id {record.flow_id!r} already exists") from None
        self._after_write(record)

    def load(self, flow_id: str) -> StoredFlow:
        """Return the stored flow; ``FlowNotFoundError`` if there is none."""
        check_flow_id(flow_id)
        with self._connection() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM flows WHERE flow_id = ?", (flow_id,)
            ).fetchone()
        if row is None:
            raise FlowNotFoundError(flow_id)
        return _row_to_flow(row)

    @staticmethod
    def _why_not(
        conn: sqlite3.Connection, flow_id: str, seq: int
    ) -> FlowNotFoundError | StaleSnapshotError | FlowBusyError:
        """After a CAS changed no row, say why (same transaction, so the answer is exact)."""
        row = conn.execute("SELECT seq FROM flows WHERE flow_id = ?", (flow_id,)).fetchone()
        if row is None:
            return FlowNotFoundError(flow_id)
        if row[0] != seq:
            return StaleSnapshotError(flow_id, seq, row[0])
        return FlowBusyError(flow_id, seq)

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
        """Reserve the step from ``seq`` for ``token`` until SQLite's clock + ``lease``."""
        span = check_claim(flow_id, seq, token, now, lease)
        note = check_intent(intent)
        # The usual claim finds the row free, or held by this very token (a renewal): the
        # general statement below would then return None whatever the SELECT read, so one
        # conditional UPDATE does it alone (a single statement is atomic). It changes no row
        # only when another token holds a claim (live, or expired with an intent to hand
        # over), the seq moved or the flow is gone: the general path decides those, exactly
        # as before, in its own transaction.
        with self._connection() as conn:
            taken = conn.execute(
                f"UPDATE flows SET claim_token = ?, claim_expires = {_NOW} + ?, "
                "claim_intent = CASE WHEN ? IS NOT NULL THEN ? "
                "WHEN claim_token = ? THEN claim_intent ELSE NULL END "
                "WHERE flow_id = ? AND seq = ? AND (claim_token IS NULL OR claim_token = ?)",
                (token, span, note, note, token, flow_id, seq, token),
            ).rowcount
        if taken == 1:
            return None
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT claim_token, claim_intent FROM flows WHERE flow_id = ? AND seq = ?",
                (flow_id, seq),
            ).fetchone()
            cur = conn.execute(
                f"UPDATE flows SET claim_token = ?, claim_expires = {_NOW} + ?, "
                "claim_intent = CASE WHEN ? IS NOT NULL THEN ? "
                "WHEN claim_token = ? THEN claim_intent ELSE NULL END "
                "WHERE flow_id = ? AND seq = ? "
                f"AND (claim_token IS NULL OR claim_token = ? OR claim_expires <= {_NOW})",
                (token, span, note, note, token, flow_id, seq, token),
            )
            if cur.rowcount != 1:
                raise self._why_not(conn, flow_id, seq)
        if row is not None and row[0] is not None and row[0] != token and row[1]:
            return str(row[1])  # took over an expired claim that had an intent
        return None

    def save(self, record: StoredFlow, *, expected_seq: int, token: str | None) -> None:
        """Compare-and-swap ``record`` in place of the flow at ``expected_seq``; drop the claim."""
        check_save(record, expected_seq, token)
        params = (
            record.seq,
            record.state,
            record.expires_at,
            record.updated_at,
            record.data,
            record.flow_id,
            expected_seq,
            token,
        )
        # The compare-and-swap is one conditional UPDATE, atomic on its own: when it swaps,
        # that is all. Only when it changes no row is it run again inside BEGIN IMMEDIATE,
        # where a re-read in the same transaction says exactly why (or it swaps after all,
        # the claim in its way having lapsed or been released in between).
        with self._connection() as conn:
            swapped = conn.execute(_SAVE, params).rowcount == 1
            if swapped:
                self._scrub_log(conn, deleted=False)
        if not swapped:
            with self._transaction() as conn:
                if conn.execute(_SAVE, params).rowcount != 1:
                    raise self._why_not(conn, record.flow_id, expected_seq)
            with self._connection() as conn:
                self._scrub_log(conn, deleted=False)
        self._after_write(record)

    def release(self, flow_id: str, token: str) -> None:
        """Drop the claim if ``token`` holds it; otherwise do nothing."""
        check_flow_id(flow_id)
        check_token(token)
        with self._connection() as conn:
            conn.execute(
                "UPDATE flows SET claim_token = NULL, claim_expires = NULL, claim_intent = NULL "
                "WHERE flow_id = ? AND claim_token = ?",
                (flow_id, token),
            )

    def delete(self, flow_id: str) -> None:
        """Delete the flow if it exists (idempotent)."""
        check_flow_id(flow_id)
        with self._connection() as conn:
            cur = conn.execute("DELETE FROM flows WHERE flow_id = ?", (flow_id,))
            if cur.rowcount:
                self._scrub_log(conn, deleted=True)

    def sweep_expired(self, now: float) -> int:
        """Delete every flow with ``expires_at <= now`` in one statement; return the count."""
        cutoff = check_time(now, "now")
        with self._connection() as conn:
            # A big sweep touches every page of the table and its four indexes: give this
            # one statement a 32 MiB page cache instead of the default 2 MiB, then shrink.
            conn.execute(f"PRAGMA cache_size = {_SWEEP_CACHE_KIB}")
            try:
                cur = conn.execute("DELETE FROM flows WHERE expires_at <= ?", (cutoff,))
            finally:
                conn.execute("PRAGMA cache_size = -2000")
            if cur.rowcount:
                self._scrub_log(conn, deleted=True)
            return cur.rowcount

    def _sweep_some(self, *, cap: float, keep: str, batch: int) -> int:
        """Delete up to ``batch`` flows expired by SQLite's clock and ``cap``, except ``keep``."""
        with self._connection() as conn:
            ids = [
                row[0]
                for row in conn.execute(
                    f"SELECT flow_id FROM flows WHERE expires_at <= min(?, {_NOW}) "
                    "AND flow_id != ? ORDER BY expires_at LIMIT ?",
                    (cap, keep, batch),
                )
            ]
            if not ids:  # the usual case: one indexed read, no write lock
                return 0
            marks = ", ".join("?" * len(ids))
            # Re-checked in the DELETE: a save may have moved an expiry since the SELECT.
            cur = conn.execute(
                f"DELETE FROM flows WHERE flow_id IN ({marks}) AND expires_at <= min(?, {_NOW})",
                (*ids, cap),
            )
            if cur.rowcount:
                self._scrub_log(conn, deleted=True)
            return cur.rowcount

    def stats(self) -> StoreStats:
        """Counts by state, the oldest live flow, claims (by SQLite's clock), the schema."""
        with self._connection() as conn:
            conn.execute("BEGIN")  # one consistent snapshot for every figure
            try:
                now = float(conn.execute(f"SELECT {_NOW}").fetchone()[0])
                by_state = {
                    str(state): int(n)
                    for state, n in conn.execute(
                        "SELECT state, count(*) FROM flows GROUP BY state ORDER BY state"
                    )
                }
                expired, held, lapsed = conn.execute(
                    "SELECT count(expires_at <= ?1 OR NULL), "
                    "count(claim_token IS NOT NULL AND claim_expires > ?1 OR NULL), "
                    "count(claim_token IS NOT NULL AND claim_expires <= ?1 OR NULL) FROM flows",
                    (now,),
                ).fetchone()
                oldest = conn.execute(
                    "SELECT flow_id, state, updated_at, expires_at FROM flows "
                    "WHERE expires_at IS NULL OR expires_at > ? "
                    "ORDER BY updated_at, flow_id LIMIT 1",
                    (now,),
                ).fetchone()
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            finally:
                conn.execute("COMMIT")
        return StoreStats(
            flows=sum(by_state.values()),
            by_state=by_state,
            expired=int(expired),
            oldest_live=None
            if oldest is None
            else {
                "flow_id": oldest[0],
                "state": oldest[1],
                "updated_at": oldest[2],
                "expires_at": oldest[3],
            },
            claims_held=int(held),
            claims_expired=int(lapsed),
            schema_version=version,
            now=now,
        )

    def list(self, *, state: str | None = None, limit: int = 100) -> builtins.list[StoredFlow]:
        """Return up to ``limit`` flows, newest ``updated_at`` first (ties: greater id first)."""
        check_limit(limit)
        where, params = ("WHERE state = ? ", (state,)) if state is not None else ("", ())
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM flows {where}"
                "ORDER BY updated_at DESC, flow_id DESC LIMIT ?",
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
        with self._mem_lock:
            if self._mem_conn is not None:
                self._mem_conn.close()
                self._mem_conn = None
