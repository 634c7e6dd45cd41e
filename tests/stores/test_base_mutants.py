"""What the mutation run of ``stores/_base.py`` showed no test pinned down.

The argument checks every store shares (each message, each boundary), the automatic
sweep's timing and arguments, ``StoreBase``'s defaults, and every branch of
``open_store`` and of the Redis URL check, with the exact message each one gives.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import flowengine.stores._base as base
from flowengine._errors import ConfigurationError, StoreError
from flowengine.stores import MemoryStore, SQLiteStore, StoredFlow, open_store
from flowengine.stores._base import (
    StoreBase,
    StoreStats,
    check_claim,
    check_flow_id,
    check_intent,
    check_limit,
    check_record,
    check_redis_url,
    check_save,
    check_seq,
    check_time,
    check_token,
    sort_key,
)

T = 1_800_000_000.0
HIDDEN = "(the URL is not shown because it may contain a password)"
EXPECTED = (
    "expected memory:, sqlite:///abs/path.db, sqlite:relative/path.db, sqlite:///:memory:, "
    "redis://host:port/db, rediss://host:port/db, postgresql://user@host:port/db"
    " or redis+cluster://host:port,host:port"
)


def rec(
    fid: str = "f1",
    seq: int = 0,
    state: str = "s",
    expires: float | None = None,
    updated: float = T,
    data: Any = "d",
) -> StoredFlow:
    """A record; any field may be made bad."""
    return StoredFlow(fid, seq, state, expires, updated, data)


def refused(call: Callable[[], object], message: str, error: type[Exception] = StoreError) -> None:
    """``call`` raises ``error`` with exactly ``message``."""
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message


# ------------------------------------------------------------- records and stats


def test_a_record_repr_hides_the_snapshot() -> None:
    """``StoredFlow``'s repr shows the position, never the sealed data."""
    text = repr(rec(data="SEALED-SNAPSHOT"))
    assert "SEALED-SNAPSHOT" not in text and "f1" in text


def test_stats_to_json_is_every_field() -> None:
    """``StoreStats.to_json`` is the plain dict of its fields."""
    stats = StoreStats(1, {"s": 1}, 0, None, 2, 3, 4, T)
    assert stats.to_json() == {
        "flows": 1,
        "by_state": {"s": 1},
        "expired": 0,
        "oldest_live": None,
        "claims_held": 2,
        "claims_expired": 3,
        "schema_version": 4,
        "now": T,
    }


def test_the_defaults() -> None:
    """A 30 s lease, a sweep a minute of at most 100 flows, intents of at most 4096 chars."""
    assert (base.DEFAULT_LEASE, base.DEFAULT_AUTO_SWEEP, base.DEFAULT_AUTO_SWEEP_BATCH) == (
        30.0,
        60.0,
        100,
    )
    assert base.MAX_INTENT_CHARS == 4096


# ------------------------------------------------------------- argument checks


@pytest.mark.parametrize("bad", [None, 7, "", "a\x00b", "a\nb"])
def test_check_flow_id(bad: object) -> None:
    """A flow id is a non-empty string without control characters."""
    refused(
        lambda: check_flow_id(bad),
        "a flow id must be a non-empty string without control characters",
    )
    assert check_flow_id("fl_1") == "fl_1"


@pytest.mark.parametrize("bad", [True, False, 1.0, "1", -1])
def test_check_seq(bad: object) -> None:
    """A seq is a non-negative int, not a bool; the message names the argument."""
    refused(lambda: check_seq(bad), "seq must be a non-negative integer")
    refused(lambda: check_seq(bad, "expected_seq"), "expected_seq must be a non-negative integer")
    assert check_seq(0) == 0


@pytest.mark.parametrize("bad", [True, "1", None, float("nan"), float("inf"), -float("inf")])
def test_check_time(bad: object) -> None:
    """A time is a finite int or float, not a bool, and comes back as a float."""
    refused(lambda: check_time(bad, "when"), "when must be a finite number of seconds")
    value = check_time(5, "when")
    assert value == 5.0 and type(value) is float
    assert check_time(-2.5, "when") == -2.5


@pytest.mark.parametrize("bad", [None, "", 3])
def test_check_token(bad: object) -> None:
    """A claim token is a non-empty string."""
    refused(lambda: check_token(bad), "a claim token must be a non-empty string")
    assert check_token("t") == "t"


def test_check_record_names_each_bad_field() -> None:
    """Each field of a record is checked, with its own message."""
    refused(lambda: check_record("f1"), "a store only accepts StoredFlow records")
    refused(
        lambda: check_record(rec(fid="")),
        "a flow id must be a non-empty string without control characters",
    )
    refused(lambda: check_record(rec(seq=-1)), "seq must be a non-negative integer")
    refused(lambda: check_record(rec(state="")), "a flow state must be a non-empty string")
    refused(lambda: check_record(rec(state=5)), "a flow state must be a non-empty string")  # type: ignore[arg-type]
    refused(
        lambda: check_record(rec(expires=float("nan"))),
        "expires_at must be a finite number of seconds",
    )
    refused(
        lambda: check_record(rec(updated=float("inf"))),
        "updated_at must be a finite number of seconds",
    )
    refused(lambda: check_record(rec(data=b"d")), "flow data must be a string")
    good = rec(expires=None)
    assert check_record(good) is good
    assert check_record(rec(expires=T + 1, data="")) == rec(expires=T + 1, data="")


def test_check_save() -> None:
    """A save writes ``expected_seq + 1``; the token may be None but not empty."""
    record = rec(seq=4)
    assert check_save(record, 3, None) is record
    assert check_save(record, 3, "t") is record
    refused(lambda: check_save(record, 3, ""), "a claim token must be a non-empty string")
    refused(lambda: check_save(record, -1, None), "expected_seq must be a non-negative integer")
    refused(
        lambda: check_save(record, 4, None),
        "flow 'f1': a save from seq 4 must write seq 5, not 4",
    )
    refused(
        lambda: check_save(record, 2, None),
        "flow 'f1': a save from seq 2 must write seq 3, not 4",
    )
    refused(lambda: check_save("x", 0, None), "a store only accepts StoredFlow records")


def test_check_claim() -> None:
    """A claim's arguments each have their message; the lease must be positive; it is returned."""
    assert check_claim("f1", 0, "t", T, 0.5) == 0.5
    assert check_claim("f1", 0, "t", 0, 30) == 30.0
    refused(lambda: check_claim("f1", 0, "t", T, 0), "a claim lease must be positive")
    refused(lambda: check_claim("f1", 0, "t", T, -1), "a claim lease must be positive")
    refused(lambda: check_claim("f1", 0, "t", T, None), "lease must be a finite number of seconds")
    refused(lambda: check_claim("f1", 0, "t", None, 1), "now must be a finite number of seconds")
    refused(lambda: check_claim("f1", 0, "", T, 1), "a claim token must be a non-empty string")
    refused(lambda: check_claim("f1", -1, "t", T, 1), "seq must be a non-negative integer")
    refused(
        lambda: check_claim("", 0, "t", T, 1),
        "a flow id must be a non-empty string without control characters",
    )


def test_check_intent() -> None:
    """An intent is None, or non-empty ASCII text of at most 4096 characters."""
    assert check_intent(None) is None
    assert check_intent("a" * 4096) == "a" * 4096
    too = "an intent is a non-empty text of at most 4096 characters"
    for bad in ("", "a" * 4097, 5, b"x"):
        refused(lambda bad=bad: check_intent(bad), too)  # type: ignore[misc]
    refused(lambda: check_intent("é"), "an intent is ASCII text")


@pytest.mark.parametrize("bad", [True, -1, 1.0, "3", None])
def test_check_limit(bad: object) -> None:
    """A limit is a non-negative int, not a bool."""
    refused(lambda: check_limit(bad), "limit must be a non-negative integer")
    assert check_limit(0) == 0
    assert check_limit(7) == 7


def test_sort_key_is_time_then_id() -> None:
    """Records sort by ``updated_at``, then by id."""
    assert sort_key(rec("b", updated=2.0)) == (2.0, "b")


# ------------------------------------------------------------- automatic sweeping


class Spy(StoreBase):
    """A StoreBase that records the automatic sweeps it is asked for."""

    def __init__(self, interval: float | None, batch: int = 100, fail: Exception | None = None):
        self.sweeps: list[dict[str, Any]] = []
        self.fail = fail
        self._setup_auto_sweep(interval, batch)

    def _sweep_some(self, *, cap: float, keep: str, batch: int) -> int:
        self.sweeps.append({"cap": cap, "keep": keep, "batch": batch})
        if self.fail is not None:
            raise self.fail
        return 0


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The monotonic clock the automatic sweep reads, set by the test."""
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    return now


def test_the_automatic_sweep_runs_first_then_once_per_interval(monotonic: list[float]) -> None:
    """The first write sweeps; the next sweep waits exactly ``interval`` seconds."""
    spy = Spy(10.0, batch=7)
    spy._after_write(rec("w1", updated=T - 5))
    assert spy.sweeps == [{"cap": T - 5, "keep": "w1", "batch": 7}]
    monotonic[0] = 1009.5
    spy._after_write(rec("w2"))
    assert len(spy.sweeps) == 1
    monotonic[0] = 1010.0
    spy._after_write(rec("w3"))
    assert len(spy.sweeps) == 2


def test_an_interval_of_zero_sweeps_on_every_write(monotonic: list[float]) -> None:
    """``auto_sweep=0`` sweeps after each write, even at one instant."""
    spy = Spy(0)
    for _ in range(3):
        spy._after_write(rec())
    assert len(spy.sweeps) == 3


def test_no_interval_no_sweep(monotonic: list[float]) -> None:
    """``auto_sweep=None`` never sweeps; a store that never set it up does not either."""
    spy = Spy(None)
    spy._after_write(rec())
    assert spy.sweeps == []
    bare = Spy.__new__(Spy)
    bare.sweeps = []
    bare._after_write(rec())
    assert bare.sweeps == []


def test_a_store_error_in_the_sweep_is_swallowed_and_others_are_not(
    monotonic: list[float],
) -> None:
    """A failed sweep does not fail the write; a bug (not a StoreError) still surfaces."""
    Spy(0, fail=StoreError("locked"))._after_write(rec())
    with pytest.raises(RuntimeError):
        Spy(0, fail=RuntimeError("bug"))._after_write(rec())


def test_the_first_write_sweeps_even_early_in_the_monotonic_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sweep is due from monotonic time 0, whatever the interval."""
    monkeypatch.setattr(time, "monotonic", lambda: 0.0)
    spy = Spy(60.0)
    spy._after_write(rec())
    assert len(spy.sweeps) == 1


def test_auto_sweep_settings_are_checked() -> None:
    """The interval is None or a finite number >= 0; the batch a positive int, not a bool."""
    refused(lambda: Spy(-0.5), "auto_sweep must be None or a non-negative number of seconds")
    refused(lambda: Spy(float("nan")), "auto_sweep must be a finite number of seconds")
    for batch in (0, -1, True, 2.0):
        refused(
            lambda batch=batch: Spy(1, batch=batch),  # type: ignore[misc]
            "auto_sweep_batch must be a positive integer",
        )
    spy = Spy(0, batch=1)
    assert (spy._auto_interval, spy._auto_batch) == (0.0, 1)


def test_store_base_defaults() -> None:
    """The base refuses to sweep or count, closes as a no-op, and is its own context."""
    bare = StoreBase()
    with pytest.raises(NotImplementedError):
        bare._sweep_some(cap=T, keep="", batch=1)
    with pytest.raises(NotImplementedError):
        bare.stats()
    bare.close()  # a no-op: nothing to release
    closed: list[bool] = []

    class Closing(StoreBase):
        def close(self) -> None:
            closed.append(True)

    store = Closing()
    with store as entered:
        assert entered is store
        assert closed == []
    assert closed == [True]


# ------------------------------------------------------------- open_store


def test_a_store_url_must_be_a_string() -> None:
    """A non-string URL names what is accepted."""
    refused(
        lambda: open_store(b"memory:"),  # type: ignore[arg-type]
        f"a store URL must be a string; {EXPECTED}",
        ConfigurationError,
    )


@pytest.mark.parametrize("url", ["", "memory", "1x:y", "-a:b", "a" * 33 + ":x", ":memory:"])
def test_a_store_url_must_start_with_a_scheme(url: str) -> None:
    """No colon, or no scheme of a letter then up to 31 letters, digits, ``+.-`` before it."""
    refused(
        lambda: open_store(url),
        f"a store URL must start with a scheme; {EXPECTED}",
        ConfigurationError,
    )


@pytest.mark.parametrize("scheme", ["mysql", "a" * 32, "x+y.z-1"])
def test_an_unknown_scheme_is_named(scheme: str) -> None:
    """A well-formed scheme that is not a store's is named in the message."""
    refused(
        lambda: open_store(f"{scheme}://h/x"),
        f"unsupported store URL scheme {scheme!r}; {EXPECTED}",
        ConfigurationError,
    )


@pytest.mark.parametrize("url", ["memory:x", "memory:/", "memory:///"])
def test_a_memory_url_takes_nothing_after_the_colon(url: str) -> None:
    """``memory:`` and ``memory://`` only."""
    refused(lambda: open_store(url), "a memory store URL is just 'memory:'", ConfigurationError)


@pytest.mark.parametrize(
    ("rest", "path"),
    [
        ("///abs/x.db", "/abs/x.db"),
        ("////abs/x.db", "/abs/x.db"),
        ("////Xabs/x.db", "/Xabs/x.db"),
        ("rel/x.db", "rel/x.db"),
        ("/abs/a%20b.db", "/abs/a b.db"),
        ("///:memory:", ":memory:"),
        (":memory:", ":memory:"),
        ("/:memory:", ":memory:"),
        ("%3Amemory%3A", ":memory:"),
    ],
)
def test_sqlite_paths(rest: str, path: str) -> None:
    """What follows ``sqlite:`` becomes a decoded path, or ``:memory:``."""
    assert base._sqlite_path(rest) == path


@pytest.mark.parametrize(
    ("rest", "message"),
    [
        (
            "/x.db?mode=ro",
            "sqlite store URLs take no query string or fragment "
            "(percent-encode '?' and '#' in file names)",
        ),
        (
            "/x.db#f",
            "sqlite store URLs take no query string or fragment "
            "(percent-encode '?' and '#' in file names)",
        ),
        (
            "//host/x.db",
            "a sqlite store URL names no host: use sqlite:///absolute/path.db "
            "or sqlite:relative/path.db",
        ),
        (
            "//",
            "a sqlite store URL names no host: use sqlite:///absolute/path.db "
            "or sqlite:relative/path.db",
        ),
        ("", "a sqlite store URL must name a database file"),
        ("///", "a sqlite store URL must name a database file"),
        ("/", "a sqlite store URL must name a database file"),
        ("dir/", "a sqlite store URL must name a database file"),
        ("/a%00b.db", "a sqlite database path cannot contain a NUL character"),
    ],
)
def test_bad_sqlite_paths(rest: str, message: str) -> None:
    """Each malformed sqlite URL gets its own message."""
    refused(lambda: base._sqlite_path(rest), message, ConfigurationError)


def test_open_store_builds_each_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each scheme (any case) opens its store with the URL or path it was given."""
    memory = open_store(" MeMoRy:// ")
    assert isinstance(memory, MemoryStore)
    with open_store(f"SQLite:{tmp_path}/f.db") as sqlite:
        assert isinstance(sqlite, SQLiteStore) and sqlite.path == f"{tmp_path}/f.db"

    made: list[tuple[str, str]] = []

    def fake(kind: str) -> Callable[[str], object]:
        def build(url: str) -> object:
            made.append((kind, url))
            return kind

        return build

    import flowengine.stores.postgres as pg
    import flowengine.stores.redis as rd
    import flowengine.stores.redis_cluster as rc

    monkeypatch.setattr(rd, "RedisStore", fake("redis"))
    monkeypatch.setattr(pg, "PostgresStore", fake("postgres"))
    monkeypatch.setattr(rc, "RedisClusterStore", fake("cluster"))
    urls = [
        "redis://h:1/0",
        "REDISS://h:1/0",
        "postgresql://u@h/db",
        "Postgres://u@h/db",
        "redis+cluster://h:1,h:2",
        "rediss+cluster://h:1",
    ]
    assert [open_store(u) for u in urls] == [  # type: ignore[comparison-overlap]
        "redis",
        "redis",
        "postgres",
        "postgres",
        "cluster",
        "cluster",
    ]
    assert [u for _, u in made] == urls
    with pytest.raises(ConfigurationError):
        open_store("redis+cluster://")  # the cluster URL is checked before building


# ------------------------------------------------------------- redis URLs


@pytest.mark.parametrize("option", sorted(base._REDIS_OPTIONS))
def test_every_listed_redis_option_is_accepted(option: str) -> None:
    """Each option of the list passes the check."""
    check_redis_url(f"redis://h:6379/0?{option}=1")


def test_the_redis_options_are_exactly_these() -> None:
    """The accepted options: redis-py's parsed ones and the text ones passed through."""
    assert (
        frozenset(
            {
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
        == base._REDIS_OPTIONS
    )


@pytest.mark.parametrize(
    "url",
    [
        "redis://h",
        "REDIS://h:6379",
        "rediss://h:6380/12",
        "redis://h/",
        "redis://:pw@h:1/3?db=2&client_name=x",
        "redis:///0",
    ],
)
def test_good_redis_urls(url: str) -> None:
    """These pass the check."""
    check_redis_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://h:99999/0", "invalid redis store URL: bad host or port (must be 0-65535)"),
        ("redis://h:port/0", "invalid redis store URL: bad host or port (must be 0-65535)"),
        ("http://h:1/0", "a redis store URL must start with redis:// or rediss://"),
        ("redis:h:1/0", "a redis store URL needs '//' after the scheme"),
        ("redis:/h/0", "a redis store URL needs '//' after the scheme"),
        ("redis://h:1/0#x", "a redis store URL takes no fragment"),
        ("redis://h:0/0", "invalid redis store URL: port 0"),
        ("redis://h x:1/0", "invalid redis store URL: bad host name"),
        ("redis://h\x0bx:1/0", "invalid redis store URL: bad host name"),
        ("redis://h:1/0?bogus=1", "unknown redis store URL option 'bogus'"),
        ("redis://h:1/0?bogus", "unknown redis store URL option 'bogus'"),
        ("redis://h:1/0?db=0&bogus=", "unknown redis store URL option 'bogus'"),
        ("redis://h:1/0?" + "a" * 40 + "=1", "unknown redis store URL option '" + "a" * 40 + "'"),
        ("redis://h:1/0?" + "a" * 41 + "=1", "unknown redis store URL option"),
        ("redis://h:1/0?b-1=1", "unknown redis store URL option"),
        ("redis://h:1/x1", "invalid redis store URL: the path must be a database number"),
        ("redis://h:1/1x", "invalid redis store URL: the path must be a database number"),
        ("redis://h:1/\u0663", "invalid redis store URL: the path must be a database number"),
        ("redis://h:1/0/1", "invalid redis store URL: the path must be a database number"),
    ],
)
def test_bad_redis_urls(url: str, message: str) -> None:
    """Each malformed Redis URL gets its own message, ending with the URL-hidden note."""
    refused(lambda: check_redis_url(url), f"{message} {HIDDEN}", ConfigurationError)
