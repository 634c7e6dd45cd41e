"""PostgresStore specifics: schema versions, server-clock claims, the journal, secrets, imports."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from flowengine._errors import ConfigurationError, FlowBusyError, StoreError
from flowengine._flow import Flow
from flowengine._repository import FlowRepository
from flowengine._snapshot import Keyring
from flowengine.stores import PostgresStore, StoredFlow, open_store
from flowengine.stores import postgres as pg_module

pytestmark = pytest.mark.postgres

SECRET = "pw-Zq81-never-shown"
KEYS = Keyring.generate("k1")


@pytest.fixture
def pstore(postgres_url: str) -> Iterator[PostgresStore]:
    """A PostgresStore on a database without the store's tables."""
    with PostgresStore(postgres_url) as store:
        yield store


def rec(fid: str, seq: int = 0, *, expires: float | None = None) -> StoredFlow:
    """A record updated now."""
    return StoredFlow(fid, seq, "start", expires, time.time(), f"sealed-{seq}")


def with_password(url: str, password: str = SECRET) -> str:
    """``url`` with ``password`` added to its userinfo (the test server trusts loopback)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(
        (parts.scheme, f"{parts.username or 'flowengine'}:{password}@{host}", parts.path, "", "")
    )


def scalar(store: PostgresStore, sql: str, *args: object) -> object:
    """The first column of the first row of ``sql``."""
    with store.connection() as conn:
        row = conn.execute(sql, args).fetchone()
    assert row is not None
    return row[0]


# ------------------------------------------------------------------ schema


def test_a_new_database_gets_the_schema_and_its_version(pstore: PostgresStore) -> None:
    """Opening an empty database creates the flows table, its indexes and version row 1."""
    assert scalar(pstore, "SELECT version FROM flowengine_schema") == pg_module.SCHEMA_VERSION == 1
    assert scalar(pstore, "SELECT count(*) FROM flowengine_schema") == 1
    with pstore.connection() as conn:
        names = {
            row[0]
            for row in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'flowengine_flows'"
            )
        }
    assert names == {
        "flowengine_flows_pkey",
        "flowengine_flows_by_expiry",
        "flowengine_flows_by_updated",
        "flowengine_flows_by_state",
    }
    assert pstore.stats().schema_version == 1


def test_reopening_keeps_the_flows_and_runs_no_migration(postgres_url: str) -> None:
    """A second store on a current database finds its flows and leaves the version alone."""
    with PostgresStore(postgres_url) as first:
        first.create(rec("f1"))
    with PostgresStore(postgres_url) as second:
        assert second.load("f1").data == "sealed-0"
        assert scalar(second, "SELECT version FROM flowengine_schema") == 1


def test_an_older_schema_is_migrated_in_place(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that knows a version 2 migrates a version-1 database, keeping its flows."""
    with PostgresStore(postgres_url) as old:
        old.create(rec("f1"))
    step = ("ALTER TABLE flowengine_flows ADD COLUMN note text",)
    monkeypatch.setattr(pg_module, "_MIGRATIONS", (*pg_module._MIGRATIONS, step))
    with PostgresStore(postgres_url) as new:
        assert scalar(new, "SELECT version FROM flowengine_schema") == 2
        assert scalar(new, "SELECT count(note) FROM flowengine_flows") == 0  # the column exists
        assert new.load("f1").seq == 0


def test_a_newer_schema_is_refused(pstore: PostgresStore, postgres_url: str) -> None:
    """A database written by a newer flowengine is not touched by an older one."""
    with pstore.connection() as conn:
        conn.execute("UPDATE flowengine_schema SET version = 99")
    with pytest.raises(StoreError, match="schema version 99"):
        PostgresStore(postgres_url)


def test_stores_opened_at_once_create_the_schema_once(postgres_url: str) -> None:
    """Six threads opening stores on an empty database together all succeed (advisory lock)."""
    barrier = threading.Barrier(6, timeout=30)
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            barrier.wait()
            PostgresStore(postgres_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with PostgresStore(postgres_url) as store:
        assert scalar(store, "SELECT count(*) FROM flowengine_schema") == 1


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        ("SELECT data FROM flowengine_flows WHERE flow_id = 'x'", "flowengine_flows_pkey"),
        (
            "SELECT flow_id FROM flowengine_flows WHERE expires_at <= 5",
            "flowengine_flows_by_expiry",
        ),
        (
            "SELECT flow_id FROM flowengine_flows WHERE state = 's' "
            "ORDER BY updated_at DESC, flow_id DESC LIMIT 10",
            "flowengine_flows_by_state",
        ),
        (
            "SELECT flow_id FROM flowengine_flows ORDER BY updated_at DESC, flow_id DESC LIMIT 10",
            "flowengine_flows_by_updated",
        ),
    ],
)
def test_resume_sweep_and_list_are_served_by_an_index(
    pstore: PostgresStore, sql: str, index: str
) -> None:
    """Load (and claim, save), the sweep and both listings have an index (no table scan)."""
    with pstore.connection() as conn:
        conn.execute("SET enable_seqscan = off")
        try:
            plan = "\n".join(str(row[0]) for row in conn.execute(f"EXPLAIN {sql}"))
        finally:
            conn.execute("RESET enable_seqscan")
    assert index in plan, plan
    assert "Seq Scan" not in plan, plan


# ------------------------------------------------------------------ one clock


def test_the_claim_is_timed_by_the_server_clock(pstore: PostgresStore) -> None:
    """A caller's ``now`` a million seconds off does not move the claim's expiry."""
    pstore.create(rec("f1"))
    pstore.claim("f1", 0, "t", now=time.time() + 10**6, lease=50)
    left = scalar(
        pstore,
        "SELECT claim_expires - extract(epoch from clock_timestamp())::float8 "
        "FROM flowengine_flows WHERE flow_id = 'f1'",
    )
    assert isinstance(left, float) and 45 < left <= 50


def test_a_client_130s_fast_cannot_take_a_live_claim(postgres_url: str) -> None:
    """Two stores (two connection pools) of one server: the one whose clock runs 130 s fast
    can neither claim nor save over the flow the other holds under a 120 s lease."""
    with PostgresStore(postgres_url) as first, PostgresStore(postgres_url) as second:
        holder = FlowRepository(first, KEYS, clock=time.time, lease=120.0)
        intruder = FlowRepository(second, KEYS, clock=lambda: time.time() + 130, lease=120.0)
        handle = holder.add(Flow.new("fl_pg", time.time()))
        with holder.step(handle):
            with pytest.raises(FlowBusyError), intruder.step(handle):
                pytest.fail("the intruder must not get the step")  # pragma: no cover
            with pytest.raises(FlowBusyError):
                second.claim("fl_pg", 0, "intruder", now=time.time() + 130, lease=120)
            record = second.load("fl_pg")
            with pytest.raises(FlowBusyError):
                second.save(
                    StoredFlow("fl_pg", 1, "x", None, time.time() + 130, record.data),
                    expected_seq=0,
                    token="intruder",
                )
        assert second.load("fl_pg").seq == 0


def test_a_slow_caller_cannot_stretch_its_lease(pstore: PostgresStore) -> None:
    """A claimant whose ``now`` is 130 s behind still loses its claim when the server says so."""
    pstore.create(rec("f1"))
    pstore.claim("f1", 0, "slow", now=time.time() - 130, lease=0.2)
    time.sleep(0.3)
    pstore.claim("f1", 0, "other", now=time.time() - 130, lease=60)
    with pytest.raises(FlowBusyError):
        pstore.save(rec("f1", 1), expected_seq=0, token="slow")


# ------------------------------------------------------------------ intent journal


def test_the_intent_journal_across_two_stores(postgres_url: str) -> None:
    """Renewal keeps the intent, another worker's takeover of the expired claim gets it once,
    and a save drops it."""
    with PostgresStore(postgres_url) as alice, PostgresStore(postgres_url) as bob:
        alice.create(rec("f1"))
        assert alice.claim("f1", 0, "a", now=time.time(), lease=0.3, intent="sealed-1") is None
        assert alice.claim("f1", 0, "a", now=time.time(), lease=0.3) is None  # renewal
        assert scalar(alice, "SELECT claim_intent FROM flowengine_flows") == "sealed-1"
        with pytest.raises(FlowBusyError):
            bob.claim("f1", 0, "b", now=time.time() + 10**6, lease=30)
        time.sleep(0.4)
        assert bob.claim("f1", 0, "b", now=time.time(), lease=30) == "sealed-1"
        assert scalar(bob, "SELECT claim_intent FROM flowengine_flows") is None
        bob.claim("f1", 0, "b", now=time.time(), lease=30, intent="sealed-2")
        bob.save(rec("f1", 1), expected_seq=0, token="b")
        assert scalar(bob, "SELECT claim_intent FROM flowengine_flows") is None


# ------------------------------------------------------------------ secrets, imports, URLs


def test_the_password_is_not_in_the_repr(postgres_url: str) -> None:
    """A store opened with a password in its URL shows the URL without it."""
    with open_store(with_password(postgres_url)) as store:
        assert isinstance(store, PostgresStore)
        shown = repr(store)
        assert SECRET not in shown and "postgresql://" in shown
        store.create(rec("f1"))
    assert SECRET not in repr(store) and "closed" in repr(store)
    joiner = "&" if "?" in postgres_url else "?"
    with open_store(f"{postgres_url}{joiner}password={SECRET}&connect_timeout=5") as store:
        assert SECRET not in repr(store) and "connect_timeout" not in repr(store)


def test_the_password_is_not_in_connection_errors(postgres_url: str) -> None:
    """A connection that fails (no such database, no server) names neither the password nor
    chains libpq's error, which could carry connection details."""
    parts = urlsplit(with_password(postgres_url))
    bad_db = urlunsplit((parts.scheme, parts.netloc, f"/{SECRET}", "", ""))
    host = parts.netloc.rpartition("@")[2].rpartition(":")[0]
    no_server = f"postgresql://u:{SECRET}@{host}:1/db?connect_timeout=2"
    in_query = f"postgresql://{host}:1/db?password={SECRET}"
    for url in (bad_db, no_server, in_query):
        with pytest.raises(StoreError) as info:
            PostgresStore(url)
        assert SECRET not in str(info.value)
        assert info.value.__cause__ is None
        assert SECRET not in repr(info.value)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:{SECRET}@host:99999/db",
        f"postgresql://u:{SECRET}@host:notaport/db",
        f"postgresql:u:{SECRET}@host/db",
        f"postgres://u:{SECRET}@host/db#{SECRET}",
        f"postgresql://u:{SECRET}@host/db?{SECRET}=1",
    ],
)
def test_bad_urls_are_refused_without_the_password(url: str) -> None:
    """A malformed postgresql URL is a ConfigurationError that repeats none of it."""
    with pytest.raises(ConfigurationError) as info:
        open_store(url)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "POSTGRESQL"])
def test_both_schemes_open_a_postgres_store(postgres_url: str, scheme: str) -> None:
    """postgresql:// and postgres:// URLs open a PostgresStore."""
    url = scheme + postgres_url[postgres_url.index(":") :]
    with open_store(url) as store:
        assert isinstance(store, PostgresStore)
        store.create(rec("f1"))
        assert store.load("f1").seq == 0


def test_importing_flowengine_does_not_import_psycopg() -> None:
    """psycopg is imported when a PostgresStore is built, not by ``import flowengine``."""
    code = (
        "import sys, flowengine, flowengine.stores, flowengine.stores.postgres\n"
        "assert 'psycopg' not in sys.modules, 'psycopg imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_missing_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without psycopg, opening a postgresql URL says which extra to install."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ConfigurationError, match=r"flowengine\[postgres\]") as info:
        open_store(f"postgresql://u:{SECRET}@127.0.0.1:5432/db")
    assert SECRET not in str(info.value)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX-only")
def test_a_forked_child_leaves_the_parents_connections_alone(pstore: PostgresStore) -> None:
    """A child after fork() opens its own connections and closing its store does not end the
    parent's sessions on the shared sockets."""
    pstore.create(rec("f1"))
    assert pstore.load("f1").seq == 0  # a pooled connection the child inherits
    pid = os.fork()
    if pid == 0:  # pragma: no cover  (the child)
        code = 1
        try:
            pstore.claim("f1", 0, "child", now=time.time())
            pstore.release("f1", "child")
            pstore.close()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    for _ in range(3):  # every pooled connection of the parent still works
        assert pstore.load("f1").seq == 0
    pstore.claim("f1", 0, "parent", now=time.time())
