"""Deletion deletes: carve the SQLite files for a deleted flow or a replaced revision.

Each test reads the raw bytes of the database file, its ``-wal`` and its ``-shm``
while the store is open (what a copy of the directory would hold) and searches
them for the flow id and for distinctive chunks of every sealed revision the
store was given.  Revisions are random text, so a chunk found can only be a
left-over.  Big revisions (6,000 characters) spill into overflow pages, which
``secure_delete = FAST`` would leave behind when they are freed; small ones sit in
one b-tree page.  The last tests show what the lesser ``scrub`` settings leave behind
(and so that the carving finds it).
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from pathlib import Path

import pytest

from flowengine._errors import FlowNotFoundError, StoreError
from flowengine.stores import SQLiteStore, StoredFlow

SIZES = [600, 6000]
FILES = ("flows.db", "flows.db-wal", "flows.db-shm")


def sealed(size: int) -> str:
    """A stand-in for a sealed snapshot: ``size`` random base64url characters."""
    return secrets.token_urlsafe(size)[:size]


def chunks(data: str) -> list[bytes]:
    """32-character windows spread over the whole text (its start, middle and overflow)."""
    return [data[i : i + 32].encode() for i in range(0, len(data) - 32, max(64, len(data) // 12))]


def carve(directory: Path) -> dict[str, bytes]:
    """The raw bytes of the database and its side files (empty if a file is absent)."""
    return {
        name: (directory / name).read_bytes() if (directory / name).exists() else b""
        for name in FILES
    }


def holders(files: dict[str, bytes], data: str) -> list[str]:
    """The files in which any chunk of ``data`` survives."""
    return [name for name, raw in files.items() if any(c in raw for c in chunks(data))]


def id_holders(files: dict[str, bytes], flow_id: str) -> list[str]:
    """The files that still contain ``flow_id``."""
    return [name for name, raw in files.items() if flow_id.encode() in raw]


def new_id() -> str:
    """A distinctive flow id."""
    return "fl_" + secrets.token_hex(16)


def rec(fid: str, seq: int, data: str, expires: float | None = None) -> StoredFlow:
    """A record updated now."""
    return StoredFlow(fid, seq, "mfa_required", expires, time.time(), data)


def fill(store: SQLiteStore, n: int, size: int) -> list[str]:
    """``n`` other live flows sharing the pages; returns their data."""
    datas = [sealed(size) for _ in range(n)]
    for data in datas:
        store.create(rec(new_id(), 0, data))
    return datas


def history(store: SQLiteStore, fid: str, size: int, saves: int) -> list[str]:
    """Create ``fid`` and save it ``saves`` times under a claim; return every revision."""
    revisions = [sealed(size)]
    store.create(rec(fid, 0, revisions[0]))
    for seq in range(saves):
        store.claim(fid, seq, "worker", now=time.time())
        revisions.append(sealed(size))
        store.save(rec(fid, seq + 1, revisions[-1]), expected_seq=seq, token="worker")
    return revisions


@pytest.mark.parametrize("size", SIZES)
def test_save_leaves_only_the_current_revision(tmp_path: Path, size: int) -> None:
    """After every save the files hold the new revision and no earlier one."""
    with SQLiteStore(tmp_path / "flows.db") as store:
        others = fill(store, 30, size)
        fid = new_id()
        revisions = [sealed(size)]
        store.create(rec(fid, 0, revisions[0]))
        for seq in range(6):
            store.claim(fid, seq, "worker", now=time.time())
            revisions.append(sealed(size))
            store.save(rec(fid, seq + 1, revisions[-1]), expected_seq=seq, token="worker")
            files = carve(tmp_path)
            assert holders(files, revisions[-1]), "the carving must see the live revision"
            for n, old in enumerate(revisions[:-1]):
                assert holders(files, old) == [], f"revision {n} survives after save {seq + 1}"
        assert all(holders(carve(tmp_path), data) for data in others)


@pytest.mark.parametrize("size", SIZES)
def test_delete_leaves_no_revision_and_no_id(tmp_path: Path, size: int) -> None:
    """After delete no revision of the flow, nor its id, is in the database, WAL or shm."""
    with SQLiteStore(tmp_path / "flows.db") as store:
        others = fill(store, 30, size)
        fid = new_id()
        revisions = history(store, fid, size, saves=4)
        assert id_holders(carve(tmp_path), fid)
        store.delete(fid)
        files = carve(tmp_path)
        for n, data in enumerate(revisions):
            assert holders(files, data) == [], f"revision {n} survives the delete"
        assert id_holders(files, fid) == []
        assert all(holders(files, data) for data in others)
        with pytest.raises(FlowNotFoundError):
            store.load(fid)


@pytest.mark.parametrize("size", SIZES)
def test_sweep_leaves_no_revision_of_a_swept_flow(tmp_path: Path, size: int) -> None:
    """sweep_expired removes every revision and id of the flows it deletes from all three files."""
    with SQLiteStore(tmp_path / "flows.db", auto_sweep=None) as store:
        keep = fill(store, 20, size)
        doomed: dict[str, list[str]] = {}
        for _ in range(8):
            fid = new_id()
            doomed[fid] = history(store, fid, size, saves=2)
            doomed[fid].append(sealed(size))
            store.claim(fid, 2, "worker", now=time.time())
            store.save(
                rec(fid, 3, doomed[fid][-1], expires=time.time() - 1),
                expected_seq=2,
                token="worker",
            )
        assert store.sweep_expired(time.time()) == len(doomed)
        files = carve(tmp_path)
        for fid, revisions in doomed.items():
            assert id_holders(files, fid) == []
            for n, data in enumerate(revisions):
                assert holders(files, data) == [], f"revision {n} of a swept flow survives"
        assert all(holders(files, data) for data in keep)


def test_automatic_sweep_leaves_no_revision(tmp_path: Path) -> None:
    """A flow removed by the automatic sweep after another write is gone from every file."""
    with SQLiteStore(tmp_path / "flows.db", auto_sweep=0) as store:
        fid = new_id()
        revisions = history(store, fid, 6000, saves=2)
        store.claim(fid, 2, "worker", now=time.time())
        last = sealed(6000)
        revisions.append(last)
        store.save(rec(fid, 3, last, expires=time.time() - 1), expected_seq=2, token="worker")
        assert store.load(fid).seq == 3  # the write that expired it does not sweep it
        store.create(rec(new_id(), 0, sealed(600)))
        with pytest.raises(FlowNotFoundError):
            store.load(fid)
        files = carve(tmp_path)
        assert id_holders(files, fid) == []
        assert all(holders(files, data) == [] for data in revisions)


def test_a_long_reader_delays_the_scrub(tmp_path: Path) -> None:
    """While a reader holds an old snapshot the old revision stays (the scrub does not wait for
    it); the first save after the reader finished removes it from every file."""
    path = tmp_path / "flows.db"
    with SQLiteStore(path) as store:
        fid = new_id()
        revisions = [sealed(6000)]
        store.create(rec(fid, 0, revisions[0]))
        reader = sqlite3.connect(path, isolation_level=None)
        try:
            reader.execute("BEGIN")
            assert reader.execute("SELECT count(*) FROM flows").fetchone()[0] == 1
            revisions.append(sealed(6000))
            started = time.monotonic()
            store.save(rec(fid, 1, revisions[-1]), expected_seq=0, token=None)
            assert time.monotonic() - started < 1.0  # it did not wait for the reader
            assert holders(carve(tmp_path), revisions[0]), "the reader's snapshot is needed"
            reader.execute("COMMIT")
        finally:
            reader.close()
        store.claim(fid, 1, "worker", now=time.time())  # a write that replaces nothing
        revisions.append(sealed(6000))
        store.save(rec(fid, 2, revisions[-1]), expected_seq=1, token="worker")
        files = carve(tmp_path)
        assert all(holders(files, old) == [] for old in revisions[:-1])
        assert holders(files, revisions[-1])


def test_scrub_deletes_keeps_old_revisions_until_the_flow_is_deleted(tmp_path: Path) -> None:
    """With scrub="deletes" a live flow's old revisions stay in the WAL, and its delete removes
    every one of them."""
    with SQLiteStore(tmp_path / "flows.db", scrub="deletes") as store:
        fill(store, 10, 6000)
        fid = new_id()
        revisions = history(store, fid, 6000, saves=3)
        assert "flows.db-wal" in holders(carve(tmp_path), revisions[0])
        store.delete(fid)
        files = carve(tmp_path)
        assert id_holders(files, fid) == []
        assert all(holders(files, data) == [] for data in revisions)


def test_scrub_off_is_the_control(tmp_path: Path) -> None:
    """The control: with scrub="off" old revisions and a deleted flow stay in the WAL."""
    with SQLiteStore(tmp_path / "flows.db", scrub="off") as store:
        fid = new_id()
        revisions = history(store, fid, 6000, saves=3)
        assert "flows.db-wal" in holders(carve(tmp_path), revisions[0])
        store.delete(fid)
        files = carve(tmp_path)
        assert "flows.db-wal" in id_holders(files, fid)
        assert all("flows.db-wal" in holders(files, data) for data in revisions)


@pytest.mark.parametrize("scrub", [True, "ALL", "", "never"])
def test_an_unknown_scrub_setting_is_refused(tmp_path: Path, scrub: object) -> None:
    """scrub is one of "all", "deletes" and "off"."""
    with pytest.raises(StoreError, match="scrub"):
        SQLiteStore(tmp_path / "flows.db", scrub=scrub)  # type: ignore[arg-type]
