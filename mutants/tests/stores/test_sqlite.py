"""SQLiteStore specifics: the file, its mode, WAL, the schema, locking and threads."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from flowengine._errors import FlowNotFoundError, StaleSnapshotError, StoreError
from flowengine.stores import SQLiteStore, StoredFlow


def rec(fid: str = "f1", seq: int = 0, expires: float | None = None) -> StoredFlow:
    """A small record."""
    return StoredFlow(fid, seq, "start", expires, 10.0 + seq, f"sealed-{seq}")


def test_new_file_is_private_and_parent_is_created(tmp_path: Path) -> None:
    """A new database gets mode 0600 (so do its WAL files) inside a newly made parent directory."""
    path = tmp_path / "deep" / "er" / "flows.db"
    with SQLiteStore(path) as store:
        store.create(rec())
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        for side in ("flows.db-wal", "flows.db-shm"):
            assert stat.S_IMODE((path.parent / side).stat().st_mode) == 0o600
        assert store.path == str(path)


def test_existing_file_mode_is_left_alone(tmp_path: Path) -> None:
    """Opening an existing database does not change its permissions."""
    path = tmp_path / "flows.db"
    SQLiteStore(path).close()
    path.chmod(0o640)
    SQLiteStore(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_database_is_in_wal_mode_with_expiry_index(tmp_path: Path) -> None:
    """The file is in WAL mode and the sweep's DELETE is served by the expires_at index."""
    path = tmp_path / "flows.db"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        plan = " ".join(
            str(row[-1])
            for row in conn.execute("EXPLAIN QUERY PLAN DELETE FROM flows WHERE expires_at <= 1")
        )
        assert "flows_by_expiry" in plan
    finally:
        conn.close()


def test_flows_survive_reopening(tmp_path: Path) -> None:
    """A flow written by one store is read by another opened on the same file later."""
    path = tmp_path / "flows.db"
    with SQLiteStore(path) as first:
        first.create(rec())
        first.save(rec(seq=1), expected_seq=0, token=None)
    with SQLiteStore(path) as second:
        assert second.load("f1") == rec(seq=1)


def test_two_stores_on_one_file_see_each_others_writes(tmp_path: Path) -> None:
    """Two stores on one file share the flow and its compare-and-swap."""
    path = tmp_path / "flows.db"
    with SQLiteStore(path) as a, SQLiteStore(path) as b:
        a.create(rec())
        b.save(rec(seq=1), expected_seq=0, token=None)
        with pytest.raises(StaleSnapshotError):
            a.save(rec(seq=1), expected_seq=0, token=None)


def test_newer_schema_version_is_refused(tmp_path: Path) -> None:
    """A database stamped with an unknown schema version raises StoreError on open."""
    path = tmp_path / "flows.db"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="schema version 99"):
        SQLiteStore(path)


def test_a_version_1_store_is_migrated_and_keeps_its_flows(tmp_path: Path) -> None:
    """A 0.1 database (schema 1, no intent column) gains the journal's column on open."""
    path = tmp_path / "flows.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE flows (flow_id TEXT PRIMARY KEY NOT NULL, seq INTEGER NOT NULL, "
        "state TEXT NOT NULL, expires_at REAL, updated_at REAL NOT NULL, data TEXT NOT NULL, "
        "claim_token TEXT, claim_expires REAL)"
    )
    conn.execute("INSERT INTO flows VALUES ('old', 3, 'code_sent', NULL, 1.0, 'x', NULL, NULL)")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with SQLiteStore(path) as store:
        assert store.load("old").seq == 3
        assert store.claim("old", 3, "t1", now=1.0, intent="journal") is None
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert conn.execute("SELECT claim_intent FROM flows").fetchone()[0] == "journal"
    conn.close()


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    """A file that is not an SQLite database, or has its own flows table, raises StoreError."""
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database, not at all" * 100)
    with pytest.raises(StoreError):
        SQLiteStore(junk)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE flows (x)")
    conn.close()
    with pytest.raises(StoreError, match="already exists"):
        SQLiteStore(other)


def test_unwritable_location_raises_store_error(tmp_path: Path) -> None:
    """A path under a regular file cannot be created and raises StoreError."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError):
        SQLiteStore(blocker / "flows.db")


def test_lock_held_elsewhere_times_out_as_store_error(tmp_path: Path) -> None:
    """When another connection holds the write lock past busy_timeout, a write raises StoreError."""
    path = tmp_path / "flows.db"
    with SQLiteStore(path, busy_timeout=0.1) as store:
        store.create(rec())
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreError, match="locked") as info:
                store.save(rec(seq=1), expected_seq=0, token=None)
            assert type(info.value) is StoreError
            assert store.load("f1").seq == 0  # WAL readers are not blocked
        finally:
            other.execute("ROLLBACK")
            other.close()
        store.save(rec(seq=1), expected_seq=0, token=None)


def test_memory_databases_are_private(tmp_path: Path) -> None:
    """Each ':memory:' store is its own database, usable from several threads."""
    with SQLiteStore(":memory:") as a, SQLiteStore(":memory:") as b:
        a.create(rec())
        with pytest.raises(FlowNotFoundError):
            b.load("f1")
        errors: list[BaseException] = []

        def work(i: int) -> None:
            try:
                a.create(rec(f"t{i}"))
                a.save(rec(f"t{i}", 1), expected_seq=0, token=None)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(a.list()) == 9
        assert a.path == ":memory:"


def test_bad_constructor_arguments(tmp_path: Path) -> None:
    """An empty path, an unknown synchronous mode or a negative timeout raise StoreError."""
    with pytest.raises(StoreError):
        SQLiteStore("")
    with pytest.raises(StoreError):
        SQLiteStore(tmp_path / "a.db", synchronous="SOMETIMES")
    with pytest.raises(StoreError):
        SQLiteStore(tmp_path / "b.db", busy_timeout=-1)


def test_connections_are_pooled_not_leaked(tmp_path: Path) -> None:
    """Hundreds of short-lived threads reuse a bounded pool of connections."""
    with SQLiteStore(tmp_path / "flows.db", max_idle=2) as store:
        store.create(rec())

        def read() -> None:
            store.load("f1")

        for _ in range(300):
            t = threading.Thread(target=read)
            t.start()
            t.join()
        assert len(store._idle) <= 2
        fds = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0
        assert fds < 200
