"""SQLiteStore behaviour pinned where mutation testing found it loose."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowengine._errors import FlowBusyError, FlowNotFoundError, StaleSnapshotError, StoreError
from flowengine.stores import SQLiteStore, StoredFlow

#: A base time a year ahead of the real present (claims and sweeps use SQLite's real clock).
T = time.time() + 365 * 86400


def rec(
    fid: str = "f1",
    seq: int = 0,
    state: str = "start",
    expires: float | None = 3600.0,
    updated: float = 0.0,
    data: str = "sealed",
) -> StoredFlow:
    """A record with times relative to ``T``."""
    return StoredFlow(fid, seq, state, None if expires is None else T + expires, T + updated, data)


def _row(path: str, fid: str = "f1") -> tuple[object, ...]:
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT seq, state, expires_at, updated_at, data, claim_token, claim_expires, "
            "claim_intent FROM flows WHERE flow_id = ?",
            (fid,),
        ).fetchone()
    assert row is not None
    return tuple(row)


def _pragma(store: SQLiteStore, name: str) -> object:
    with store._connection() as conn:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]


# ------------------------------------------------------------------ opening


@pytest.mark.parametrize("bad", ["", "a\x00b"])
def test_a_path_that_is_not_a_file_path_is_refused(bad: str) -> None:
    """An empty path or one with a NUL byte is refused with a reason."""
    with pytest.raises(StoreError) as info:
        SQLiteStore(bad)
    assert str(info.value) == "an SQLite store needs a file path (or ':memory:')"


def test_bad_settings_are_refused_with_the_allowed_values(tmp_path: Path) -> None:
    """synchronous, busy_timeout and scrub name what they accept."""
    with pytest.raises(StoreError) as info:
        SQLiteStore(tmp_path / "a.db", synchronous="SOMETIMES")
    assert str(info.value) == "synchronous must be one of OFF, NORMAL, FULL, EXTRA"
    with pytest.raises(StoreError) as info:
        SQLiteStore(tmp_path / "a.db", busy_timeout=-0.5)
    assert str(info.value) == "busy_timeout must not be negative"
    with pytest.raises(StoreError) as info:
        SQLiteStore(tmp_path / "a.db", scrub="some")
    assert str(info.value) == "scrub must be one of 'all', 'deletes', 'off'"
    assert not (tmp_path / "a.db").exists()


@pytest.mark.parametrize(
    ("setting", "value"), [("off", 0), ("normal", 1), ("FULL", 2), ("extra", 3)]
)
def test_every_connection_runs_with_the_configured_pragmas(
    tmp_path: Path, setting: str, value: int
) -> None:
    """synchronous (any case), busy_timeout in ms, secure_delete and the log size limit."""
    with SQLiteStore(tmp_path / "f.db", synchronous=setting, busy_timeout=2.5) as store:
        assert _pragma(store, "synchronous") == value
        assert _pragma(store, "busy_timeout") == 2500
        assert _pragma(store, "secure_delete") == 1
        assert _pragma(store, "journal_size_limit") == 0
        store.create(rec())
        store.save(rec(seq=1), expected_seq=0, token=None)  # scrubs: busy_timeout 0, then back
        store.delete("f1")
        assert _pragma(store, "busy_timeout") == 2500
    with SQLiteStore(tmp_path / "g.db", busy_timeout=0) as store:
        assert _pragma(store, "busy_timeout") == 0


def test_the_defaults_are_normal_durability_and_a_ten_second_wait(tmp_path: Path) -> None:
    """Without settings: synchronous NORMAL, busy_timeout 10 s, eight idle connections."""
    with SQLiteStore(tmp_path / "f.db") as store:
        assert _pragma(store, "synchronous") == 1
        assert _pragma(store, "busy_timeout") == 10000
        with store._connection() as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        held = [store._acquire() for _ in range(10)]
        for conn in held:
            store._give_back(conn)
        assert len(store._idle) == 8


def test_a_relative_path_is_made_absolute_and_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's path and repr name the absolute file; repr says when it is closed."""
    monkeypatch.chdir(tmp_path)
    store = SQLiteStore("rel/flows.db")
    expected = str(tmp_path / "rel" / "flows.db")
    assert store.path == expected
    assert repr(store) == f"<SQLiteStore {expected!r}>"
    assert stat.S_IMODE((tmp_path / "rel").stat().st_mode) == 0o700
    store.close()
    assert repr(store) == f"<SQLiteStore {expected!r} closed>"
    memory = SQLiteStore(":memory:")
    assert memory.path == ":memory:" and repr(memory) == "<SQLiteStore ':memory:'>"
    memory.close()
    assert repr(memory) == "<SQLiteStore ':memory:' closed>"


def test_opening_failures_say_what_failed(tmp_path: Path) -> None:
    """A file that is no database and a path that cannot be created give distinct messages."""
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database, not at all" * 100)
    with pytest.raises(StoreError) as info:
        SQLiteStore(junk)
    assert str(info.value).startswith("cannot open SQLite flow store: ")
    assert isinstance(info.value.__cause__, sqlite3.Error)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError) as info:
        SQLiteStore(blocker / "flows.db")
    assert str(info.value) == "cannot create SQLite flow store file: File exists"
    assert isinstance(info.value.__cause__, OSError)


def test_an_unknown_schema_version_is_named(tmp_path: Path) -> None:
    """A newer schema version is refused with both versions in the message."""
    path = tmp_path / "flows.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 7")
    with pytest.raises(StoreError) as info:
        SQLiteStore(path)
    assert str(info.value) == (
        "the SQLite flow store has schema version 7; this flowengine knows version 2"
    )


def test_a_new_database_has_the_schema_and_its_indexes(tmp_path: Path) -> None:
    """Version 2, every column, and the expiry, update-time and state indexes."""
    path = tmp_path / "flows.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
        columns = [r[1] for r in db.execute("PRAGMA table_info(flows)")]
        indexes = {
            r[0]: r[1]
            for r in db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
        }
    assert columns == [
        "flow_id",
        "seq",
        "state",
        "expires_at",
        "updated_at",
        "data",
        "claim_token",
        "claim_expires",
        "claim_intent",
    ]
    assert indexes == {
        "flows_by_expiry": "CREATE INDEX flows_by_expiry ON flows (expires_at)",
        "flows_by_updated": "CREATE INDEX flows_by_updated ON flows (updated_at, flow_id)",
        "flows_by_state": "CREATE INDEX flows_by_state ON flows (state, updated_at, flow_id)",
    }


def test_a_failed_schema_setup_leaves_no_half_schema(tmp_path: Path) -> None:
    """A database whose setup fails (a foreign flows table) is left as it was."""
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE flows (x)")
    with pytest.raises(StoreError, match="already exists"):
        SQLiteStore(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        assert names == {"flows"}


def test_a_database_locked_while_it_is_opened_is_waited_for(tmp_path: Path) -> None:
    """Opening waits up to busy_timeout for another writer, then reports the lock."""
    path = tmp_path / "flows.db"
    SQLiteStore(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match="locked"):
            SQLiteStore(path, busy_timeout=0.3)
        assert time.monotonic() - started >= 0.25
    finally:
        other.execute("ROLLBACK")
        other.close()
    SQLiteStore(path, busy_timeout=0.3).close()


# ------------------------------------------------------------------ the pool


def test_the_pool_keeps_at_most_max_idle_and_never_an_open_transaction(tmp_path: Path) -> None:
    """Idle connections are bounded, a negative bound keeps none, a busy one is closed."""
    with SQLiteStore(tmp_path / "a.db", max_idle=2) as store:
        held = [store._acquire() for _ in range(4)]
        for conn in held:
            store._give_back(conn)
        assert store._idle == held[:2]
        busy = store._acquire()
        busy.execute("BEGIN")
        store._give_back(busy)
        assert busy not in store._idle
        with pytest.raises(sqlite3.ProgrammingError):
            busy.execute("SELECT 1")
    with SQLiteStore(tmp_path / "b.db", max_idle=-3) as store:
        store.create(rec())
        assert store._idle == []


def test_a_closed_store_refuses_and_closes_what_comes_back(tmp_path: Path) -> None:
    """After close every call says the store is closed; a connection given back is closed."""
    for path in (str(tmp_path / "f.db"), ":memory:"):
        store = SQLiteStore(path)
        store.create(rec())
        lent = store._acquire() if path != ":memory:" else None
        store.close()
        store.close()
        with pytest.raises(StoreError) as info:
            store.load("f1")
        assert str(info.value) == "the SQLite flow store is closed"
        with pytest.raises(StoreError) as info:
            store.create(rec("f2"))
        assert str(info.value) == "the SQLite flow store is closed"
        if lent is not None:
            store._give_back(lent)
            with pytest.raises(sqlite3.ProgrammingError):
                lent.execute("SELECT 1")
            assert store._idle == []


def test_sqlite_errors_become_store_errors(tmp_path: Path) -> None:
    """An SQLite failure inside an operation is a StoreError naming SQLite's message."""
    store = SQLiteStore(tmp_path / "f.db")
    with store._connection() as conn:
        conn.execute("DROP TABLE flows")
    with pytest.raises(StoreError) as info:
        store.load("f1")
    assert str(info.value) == "SQLite flow store error: no such table: flows"
    assert isinstance(info.value.__cause__, sqlite3.Error)
    store.close()


def test_a_forked_child_opens_its_own_connections(tmp_path: Path) -> None:
    """After fork the child neither reuses nor closes the parent's connections."""
    store = SQLiteStore(tmp_path / "f.db")
    store.create(rec())
    parents = list(store._idle)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            ok = store.load("f1").seq == 0 and not any(c in store._idle for c in parents)
            ok = ok and len(store._idle) == 1  # the child pools its own connection
            store.save(rec(seq=1), expected_seq=0, token=None)
            store.close()
            code = 0 if ok else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store._idle == parents
    assert store.load("f1").seq == 1
    store.close()


# ------------------------------------------------------------------ claims


def test_a_duplicate_create_names_the_flow(tmp_path: Path) -> None:
    """Creating an existing id is refused with its id in the message."""
    with SQLiteStore(tmp_path / "f.db") as store:
        store.create(rec())
        with pytest.raises(StoreError) as info:
            store.create(rec(data="other"))
        assert str(info.value) == "a flow with id 'f1' already exists"
        assert store.load("f1") == rec()


def test_the_claim_is_written_with_its_lease_and_intent(tmp_path: Path) -> None:
    """The row holds the token, SQLite's time plus the lease, and the intent."""
    with SQLiteStore(tmp_path / "f.db") as store:
        store.create(rec())
        before = time.time()
        assert store.claim("f1", 0, "t1", now=T, lease=50.0, intent="i1") is None
        row = _row(store.path)
        assert row[5:] == ("t1", pytest.approx(before + 50.0, abs=1.0), "i1")
        assert before + 50.0 - 0.01 <= float(row[6]) <= time.time() + 50.0 + 0.01  # type: ignore[arg-type]
        # The same token renews without an intent: the intent stays.
        assert store.claim("f1", 0, "t1", now=T, lease=80.0) is None
        assert _row(store.path)[5::2] == ("t1", "i1")
        # A new intent from the same token replaces it.
        assert store.claim("f1", 0, "t1", now=T, lease=80.0, intent="i2") is None
        assert _row(store.path)[7] == "i2"
        with pytest.raises(FlowBusyError) as info:
            store.claim("f1", 0, "t2", now=T, intent="i3")
        assert (info.value.flow_id, info.value.seq) == ("f1", 0)
        assert _row(store.path)[5::2] == ("t1", "i2")


def test_the_default_lease_is_thirty_seconds(tmp_path: Path) -> None:
    """A claim without a lease lasts 30 s by SQLite's clock."""
    with SQLiteStore(tmp_path / "f.db") as store:
        store.create(rec())
        before = time.time()
        store.claim("f1", 0, "t1", now=T)
        expires = float(_row(store.path)[6])  # type: ignore[arg-type]
        assert before + 30.0 - 0.01 <= expires <= time.time() + 30.0 + 0.01


def _lapse(path: str, fid: str = "f1") -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE flows SET claim_expires = claim_expires - 1000 WHERE flow_id = ?", (fid,)
        )


def test_taking_over_a_lapsed_claim_hands_over_its_intent_once(tmp_path: Path) -> None:
    """The next token gets the lapsed claim's intent; its own claim starts without one."""
    with SQLiteStore(tmp_path / "f.db") as store:
        store.create(rec())
        store.claim("f1", 0, "t1", now=T, intent="journal")
        _lapse(store.path)
        assert store.claim("f1", 0, "t2", now=T) == "journal"
        assert _row(store.path)[5::2] == ("t2", None)
        _lapse(store.path)
        assert store.claim("f1", 0, "t3", now=T, intent="mine") is None
        assert _row(store.path)[5::2] == ("t3", "mine")
        _lapse(store.path)
        assert store.claim("f1", 0, "t3", now=T) is None  # our own lapsed claim: no takeover
        assert _row(store.path)[5::2] == ("t3", "mine")


def test_a_claim_or_save_that_fails_says_why(tmp_path: Path) -> None:
    """Missing, stale and busy are told apart, with the seqs; nothing is changed."""
    with SQLiteStore(tmp_path / "f.db") as store:
        store.create(rec())
        store.save(rec(seq=1), expected_seq=0, token=None)
        with pytest.raises(StaleSnapshotError) as stale:
            store.claim("f1", 0, "t1", now=T)
        assert (stale.value.flow_id, stale.value.expected_seq, stale.value.actual_seq) == (
            "f1",
            0,
            1,
        )
        with pytest.raises(FlowNotFoundError):
            store.claim("nope", 0, "t1", now=T)
        store.claim("f1", 1, "t1", now=T)
        with pytest.raises(FlowBusyError):
            store.save(rec(seq=2), expected_seq=1, token="t2")
        with pytest.raises(FlowBusyError):
            store.save(rec(seq=2), expected_seq=1, token=None)
        with pytest.raises(StaleSnapshotError) as stale:
            store.save(rec(seq=3), expected_seq=2, token="t1")
        assert (stale.value.expected_seq, stale.value.actual_seq) == (2, 1)
        assert _row(store.path)[:1] + _row(store.path)[5:6] == (1, "t1")


def test_a_save_writes_every_field_and_drops_the_claim(tmp_path: Path) -> None:
    """The saved row is the record, with no claim, token or intent left."""
    with SQLiteStore(tmp_path / "f.db") as store:
        store.create(rec())
        store.claim("f1", 0, "t1", now=T, intent="i")
        new = rec(seq=1, state="code_sent", expires=None, updated=5.0, data="sealed-1")
        store.save(new, expected_seq=0, token="t1")
        assert _row(store.path) == (1, "code_sent", None, T + 5.0, "sealed-1", None, None, None)
        assert store.load("f1") == new
        _lapse(store.path)
        store.claim("f1", 1, "t2", now=T)
        _lapse(store.path)
        store.save(rec(seq=2), expected_seq=1, token="t3")  # a lapsed claim does not block
        assert _row(store.path)[5:] == (None, None, None)
        store.claim("f1", 2, "t4", now=T, intent="j")
        _lapse(store.path)
        with pytest.raises(FlowBusyError):  # unless it left an intent: take it over first
            store.save(rec(seq=3), expected_seq=2, token="t5")
        assert _row(store.path)[5::2] == ("t4", "j")


def test_release_drops_token_lease_and_intent_of_its_holder_only(tmp_path: Path) -> None:
    """Release by the holder clears the claim; by anyone else, or on another flow, nothing."""
    with SQLiteStore(tmp_path / "f.db") as store:
        store.create(rec())
        store.create(rec("f2"))
        store.claim("f1", 0, "t1", now=T, intent="i")
        store.claim("f2", 0, "t1", now=T, intent="i")
        store.release("f1", "t2")
        assert _row(store.path)[5::2] == ("t1", "i")
        store.release("f1", "t1")
        assert _row(store.path)[5:] == (None, None, None)
        assert _row(store.path, "f2")[5::2] == ("t1", "i")


# ------------------------------------------------------------------ deleting


def test_delete_and_sweep_remove_only_their_flows(tmp_path: Path) -> None:
    """delete takes one id; sweep takes what expired at ``now`` (inclusive) and counts it."""
    with SQLiteStore(tmp_path / "f.db", auto_sweep=None) as store:
        store.create(rec("a", expires=10))
        store.create(rec("b", expires=20))
        store.create(rec("c", expires=None))
        store.create(rec("d", expires=30))
        store.delete("d")
        store.delete("d")
        assert store.sweep_expired(T + 9.5) == 0
        assert store.sweep_expired(T + 10) == 1
        assert [f.flow_id for f in store.list()] == ["c", "b"]
        assert store.sweep_expired(T + 10**6) == 1
        assert [f.flow_id for f in store.list()] == ["c"]
        assert _pragma(store, "cache_size") == -2000


def test_stats_count_states_claims_and_the_oldest_live_flow(tmp_path: Path) -> None:
    """Every figure of stats, judged by SQLite's clock."""
    now = time.time()
    with SQLiteStore(tmp_path / "f.db", auto_sweep=None) as store:
        empty = store.stats()
        assert (empty.flows, empty.by_state, empty.oldest_live) == (0, {}, None)
        assert empty.schema_version == 2
        assert abs(empty.now - now) < 5
        for fid, state, expires, updated in (
            ("a", "code_sent", now - 10, now - 100),  # expired
            ("b", "code_sent", now + 100, now - 50),  # the oldest live one
            ("c", "started", None, now - 20),
            ("d", "started", now + 200, now - 5),
        ):
            store.create(StoredFlow(fid, 0, state, expires, updated, "x"))
        store.claim("b", 0, "t1", now=now, lease=100)
        store.claim("c", 0, "t1", now=now, lease=100)
        _lapse(store.path, "c")
        stats = store.stats()
        assert stats.flows == 4
        assert stats.by_state == {"code_sent": 2, "started": 2}
        assert list(stats.by_state) == ["code_sent", "started"]
        assert stats.expired == 1
        assert (stats.claims_held, stats.claims_expired) == (1, 1)
        assert stats.oldest_live == {
            "flow_id": "b",
            "state": "code_sent",
            "updated_at": now - 50,
            "expires_at": now + 100,
        }
        assert stats.schema_version == 2
        assert now - 1 <= stats.now <= time.time() + 1
        store.delete("b")
        assert store.stats().oldest_live == {
            "flow_id": "c",
            "state": "started",
            "updated_at": now - 20,
            "expires_at": None,
        }


def test_list_filters_orders_and_limits(tmp_path: Path) -> None:
    """Newest first, ties by greater id, a state filter and a limit."""
    with SQLiteStore(tmp_path / "f.db") as store:
        store.create(rec("a", state="s1", updated=1))
        store.create(rec("b", state="s2", updated=3))
        store.create(rec("c", state="s1", updated=3))
        store.create(rec("d", state="s1", updated=2))
        assert [f.flow_id for f in store.list()] == ["c", "b", "d", "a"]
        assert [f.flow_id for f in store.list(limit=2)] == ["c", "b"]
        assert [f.flow_id for f in store.list(state="s1")] == ["c", "d", "a"]
        assert [f.flow_id for f in store.list(state="s1", limit=1)] == ["c"]
        assert store.list(state="none") == []
        assert store.list()[0] == rec("c", state="s1", updated=3)


def test_the_automatic_sweep_spares_the_written_flow_and_respects_both_clocks(
    tmp_path: Path,
) -> None:
    """A write sweeps flows expired by SQLite's clock and by its own time, never itself."""
    now = time.time()
    with SQLiteStore(tmp_path / "f.db", auto_sweep=0, auto_sweep_batch=2) as store:
        for fid, expires in (("a", now - 30), ("b", now - 20), ("c", now - 10), ("e", now + 50)):
            store.create(StoredFlow(fid, 0, "s", expires, now - 100, "x"))
        # The writer's own time is before b's expiry: only a may go (and not the writer, e).
        store.create(StoredFlow("w", 0, "s", now - 5, now - 25, "x"))
        assert sorted(f.flow_id for f in store.list()) == ["b", "c", "e", "w"]
        store.save(StoredFlow("w", 1, "s", now - 5, now, "x"), expected_seq=0, token=None)
        assert sorted(f.flow_id for f in store.list()) == ["e", "w"]
        store.save(StoredFlow("e", 1, "s", now + 50, now + 1000, "x"), expected_seq=0, token=None)
        assert sorted(f.flow_id for f in store.list()) == ["e"]


class _CheckpointFails(sqlite3.Connection):
    """A connection whose checkpoints fail (a disk error while copying the log back)."""

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if "wal_checkpoint" in sql:
            raise sqlite3.OperationalError("disk I/O error")
        return super().execute(sql, *args)  # type: ignore[arg-type]


def test_a_failing_scrub_does_not_fail_the_committed_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write has committed: a checkpoint error is swallowed and the busy timeout restored."""
    connect = sqlite3.connect

    def failing_connect(*args: object, **kwargs: object) -> sqlite3.Connection:
        return connect(*args, factory=_CheckpointFails, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(sqlite3, "connect", failing_connect)
    with SQLiteStore(tmp_path / "f.db", busy_timeout=3, auto_sweep=None) as store:
        store.create(rec())
        store.create(rec("f2", expires=1))
        store.save(rec(seq=1), expected_seq=0, token=None)
        assert _pragma(store, "busy_timeout") == 3000
        store.delete("f1")
        assert store.sweep_expired(T + 10) == 1
        assert store.list() == []
        assert _pragma(store, "busy_timeout") == 3000


def test_missing_flows_are_named_in_claim_and_save_errors(tmp_path: Path) -> None:
    """A claim or save of an id that is not stored says which id."""
    with SQLiteStore(tmp_path / "f.db") as store:
        with pytest.raises(FlowNotFoundError) as info:
            store.claim("nope", 0, "t1", now=T)
        assert str(info.value) == "no stored flow with id 'nope'"
        with pytest.raises(FlowNotFoundError) as info:
            store.save(rec("nope", seq=1), expected_seq=0, token=None)
        assert str(info.value) == "no stored flow with id 'nope'"


@pytest.mark.parametrize("now", ["soon", float("nan"), True])
def test_a_sweep_needs_a_finite_now(tmp_path: Path, now: object) -> None:
    """sweep_expired refuses a now that is not a finite number, naming it."""
    with SQLiteStore(tmp_path / "f.db") as store:
        store.create(rec(expires=1))
        with pytest.raises(StoreError) as info:
            store.sweep_expired(now)  # type: ignore[arg-type]
        assert str(info.value) == "now must be a finite number of seconds"
        assert len(store.list()) == 1


def _wal_size(store: SQLiteStore) -> int:
    return os.path.getsize(store.path + "-wal")


def test_scrub_deletes_empties_the_log_after_a_sweep_but_not_after_a_save(
    tmp_path: Path,
) -> None:
    """With scrub="deletes" a sweep (like a delete) empties the log; a save leaves it."""
    with SQLiteStore(tmp_path / "f.db", scrub="deletes", auto_sweep=None) as store:
        store.create(rec())
        store.create(rec("f2", expires=1))
        store.save(rec(seq=1), expected_seq=0, token=None)
        assert _wal_size(store) > 0
        assert store.sweep_expired(T + 10) == 1
        assert _wal_size(store) == 0
        store.save(rec(seq=2), expected_seq=1, token=None)
        assert _wal_size(store) > 0
        assert store.sweep_expired(T + 10) == 0
        assert _wal_size(store) > 0
    with SQLiteStore(tmp_path / "g.db", scrub="all", auto_sweep=None) as store:
        store.create(rec())
        store.save(rec(seq=1), expected_seq=0, token=None)
        assert _wal_size(store) == 0


def test_list_returns_a_hundred_flows_by_default(tmp_path: Path) -> None:
    """Without a limit, list gives the newest 100."""
    with SQLiteStore(tmp_path / "f.db") as store:
        for i in range(101):
            store.create(rec(f"f{i:03d}", updated=i))
        listed = store.list()
        assert len(listed) == 100 and listed[0].flow_id == "f100"
        assert listed[-1].flow_id == "f001"


def test_scrub_deletes_empties_the_log_after_an_automatic_sweep(tmp_path: Path) -> None:
    """With scrub="deletes" a write whose automatic sweep deleted a flow leaves an empty log."""
    now = time.time()
    with SQLiteStore(tmp_path / "f.db", scrub="deletes", auto_sweep=None) as store:
        store.create(StoredFlow("old", 0, "s", now - 10, now - 100, "x"))
        store.create(StoredFlow("w", 0, "s", now + 100, now - 50, "x"))
    with SQLiteStore(tmp_path / "f.db", scrub="deletes", auto_sweep=0) as store:
        store.save(StoredFlow("w", 1, "s", now + 100, now, "y"), expected_seq=0, token=None)
        assert [f.flow_id for f in store.list()] == ["w"]
        assert _wal_size(store) == 0


def test_a_forked_child_that_only_closes_leaves_the_parents_connections_open(
    tmp_path: Path,
) -> None:
    """close() in a child abandons the inherited connections instead of closing them."""
    store = SQLiteStore(tmp_path / "f.db")
    store.create(rec())
    parents = list(store._idle)
    assert parents
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            store.close()
            parents[0].execute("SELECT 1")  # still open: abandoned, not closed
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.load("f1").seq == 0
    store.close()


def test_switching_a_locked_database_to_wal_waits_then_reports_the_lock(tmp_path: Path) -> None:
    """A rollback-journal file locked by another writer is retried until busy_timeout."""
    path = tmp_path / "old.db"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match="locked"):
            SQLiteStore(path, busy_timeout=0.3)
        assert 0.25 <= time.monotonic() - started < 5
    finally:
        other.execute("ROLLBACK")
        other.close()


# ------------------------------------------------- the WAL switch's retry loop


class _Clock:
    """A monotonic clock that moves only when slept on, recording each sleep."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class _Switching:
    """A connection whose WAL switch fails fast ``locked`` times, or reports ``mode``."""

    def __init__(self, real: sqlite3.Connection, locked: int, mode: str | None = None) -> None:
        self.real = real
        self.locked = locked
        self.mode = mode
        self.attempts = 0

    def execute(self, sql: str, *args: Any) -> object:
        if "journal_mode" in sql:
            self.attempts += 1
            if self.attempts <= self.locked:
                raise sqlite3.OperationalError("database is locked")
            if self.mode is not None:
                return self.real.execute("SELECT ?", (self.mode,))
        return self.real.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


def _open_switching(
    monkeypatch: pytest.MonkeyPatch, path: Path, clock: object, conn: list[_Switching], **kw: object
) -> SQLiteStore:
    """Open a store whose first connection is a ``_Switching`` built from ``kw``."""
    import flowengine.stores.sqlite as module

    real_connect = SQLiteStore._connect

    def connect(self: SQLiteStore) -> object:
        if conn and conn[0].attempts:
            return real_connect(self)
        wrapped = _Switching(real_connect(self), **kw)  # type: ignore[arg-type]
        conn.append(wrapped)
        return wrapped

    monkeypatch.setattr(module, "time", clock)
    monkeypatch.setattr(SQLiteStore, "_connect", connect)
    return SQLiteStore(path, busy_timeout=0.5, auto_sweep=None)


def test_a_wal_switch_refused_at_once_is_retried_promptly_until_it_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A "database is locked" from the WAL switch is retried every few milliseconds."""
    clock, conns = _Clock(), []  # type: ignore[var-annotated]
    store = _open_switching(monkeypatch, tmp_path / "f.db", clock, conns, locked=3)
    monkeypatch.undo()
    with store:
        assert conns[0].attempts == 4
        assert len(clock.slept) == 3 and all(0 < s <= 0.05 for s in clock.slept)
        store.create(rec())
        assert store.load("f1").seq == 0


def test_a_wal_switch_still_locked_at_the_deadline_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Locked until busy_timeout has passed, opening fails with the lock named."""
    clock, conns = _Clock(), []  # type: ignore[var-annotated]
    with pytest.raises(StoreError) as info:
        _open_switching(monkeypatch, tmp_path / "f.db", clock, conns, locked=10**6)
    assert str(info.value) == "cannot open SQLite flow store: database is locked"
    assert 0.5 <= clock.now - 100.0 < 0.6
    assert 10 <= conns[0].attempts <= 60


def test_the_wal_switch_gives_up_at_the_deadline_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the clock reads exactly the deadline after a refusal, no further attempt is made."""

    class AtDeadline(_Clock):
        def monotonic(self) -> float:
            value = self.now
            self.now = 100.0 + 0.5  # every later reading is the deadline itself
            return value

    clock, conns = AtDeadline(), []  # type: ignore[var-annotated]
    with pytest.raises(StoreError, match="database is locked"):
        _open_switching(monkeypatch, tmp_path / "f.db", clock, conns, locked=1)
    assert conns[0].attempts == 1 and clock.slept == []


def test_a_database_that_will_not_switch_to_wal_is_refused_naming_its_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journal mode other than WAL after the switch is refused, naming the mode."""
    clock, conns = _Clock(), []  # type: ignore[var-annotated]
    with pytest.raises(StoreError) as info:
        _open_switching(monkeypatch, tmp_path / "f.db", clock, conns, locked=0, mode="delete")
    assert str(info.value) == "cannot switch the SQLite flow store to WAL (got 'delete')"


# ------------------------------------------------------- the one-statement paths


def _traced(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SQL statement the store's connections run from now on, in order."""
    seen: list[str] = []
    for conn in store._idle:
        conn.set_trace_callback(seen.append)
    real_connect = SQLiteStore._connect

    def connect(self: SQLiteStore) -> sqlite3.Connection:
        conn = real_connect(self)
        conn.set_trace_callback(seen.append)
        return conn

    monkeypatch.setattr(SQLiteStore, "_connect", connect)
    return seen


def test_an_uncontested_claim_and_save_are_one_statement_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claiming a free flow and saving it by the holder take no BEGIN IMMEDIATE transaction."""
    with SQLiteStore(tmp_path / "f.db", scrub="off", auto_sweep=None) as store:
        store.create(rec())
        seen = _traced(store, monkeypatch)
        assert store.claim("f1", 0, "t1", now=T, intent="i1") is None
        assert [s.split()[0] for s in seen] == ["UPDATE"]
        seen.clear()
        store.save(rec(seq=1), expected_seq=0, token="t1")
        assert [s.split()[0] for s in seen] == ["UPDATE"]
        assert _row(store.path)[:2] == (1, "start")


def test_a_save_that_meets_a_claim_released_in_the_window_swaps_and_scrubs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim released between the save's fast swap and its transaction does not stop it."""
    with SQLiteStore(tmp_path / "f.db", scrub="all", auto_sweep=None) as store:
        store.create(rec())
        store.claim("f1", 0, "other", now=T, lease=60.0)
        original = store._transaction

        @contextlib.contextmanager
        def released_first() -> Iterator[sqlite3.Connection]:
            store.release("f1", "other")
            with original() as conn:
                yield conn

        monkeypatch.setattr(store, "_transaction", released_first)
        store.save(rec(seq=1, data="new"), expected_seq=0, token="mine")
        assert _row(store.path)[:1] + _row(store.path)[4:] == (1, "new", None, None, None)
        assert _wal_size(store) == 0


def test_a_claim_renewed_by_its_own_token_in_the_window_reports_no_takeover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the token itself holds the claim when the slow path reads it, no intent is handed over."""
    with SQLiteStore(tmp_path / "f.db", auto_sweep=None) as store:
        store.create(rec())
        store.claim("f1", 0, "other", now=T, lease=60.0, intent="theirs")
        original = store._transaction

        @contextlib.contextmanager
        def renewed_first() -> Iterator[sqlite3.Connection]:
            store.release("f1", "other")
            assert store.claim("f1", 0, "mine", now=T, intent="mine-intent") is None
            with original() as conn:
                yield conn

        monkeypatch.setattr(store, "_transaction", renewed_first)
        assert store.claim("f1", 0, "mine", now=T) is None
        assert _row(store.path)[5::2] == ("mine", "mine-intent")


def test_a_connection_given_back_in_a_forked_child_is_kept_open_and_referenced(
    tmp_path: Path,
) -> None:
    """In a child, a connection lent before fork is parked in _ABANDONED, never pooled or closed."""
    import flowengine.stores.sqlite as module

    store = SQLiteStore(tmp_path / "f.db", auto_sweep=None)
    store.create(rec())
    lent = store._acquire()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            store._give_back(lent)
            kept = any(c is lent for c in module._ABANDONED)
            pooled = any(c is lent for c in store._idle)
            lent.execute("SELECT 1")  # still open
            code = 0 if kept and not pooled else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    store._give_back(lent)
    assert store.load("f1").seq == 0
    store.close()
