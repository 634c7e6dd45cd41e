"""RedisClusterStore specifics: declared keys, one slot per flow, shards, URLs, eviction upkeep."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
import redis
from redis.cluster import RedisCluster

from flowengine._errors import ConfigurationError, FlowNotFoundError, StoreError
from flowengine.stores import RedisStore, StoredFlow, open_store
from flowengine.stores.redis_cluster import (
    SCRIPTS,
    SHARDS,
    RedisClusterStore,
    check_cluster_url,
    shard_of,
)

pytestmark = pytest.mark.redis

#: Redis commands whose first argument is a key.
_KEY_COMMANDS = {
    "DEL", "EXISTS", "HDEL", "HGET", "HMGET", "HSET", "PERSIST", "PEXPIREAT", "ZADD", "ZREM",
}  # fmt: skip


@pytest.fixture
def cstore(redis_cluster_url: str) -> Iterator[RedisClusterStore]:
    """A RedisClusterStore on the flushed test cluster."""
    with RedisClusterStore(redis_cluster_url) as store:
        yield store


def rec(fid: str, seq: int = 0, *, expires: float | None, state: str = "start") -> StoredFlow:
    """A record updated now, expiring at ``expires`` (absolute) or never."""
    return StoredFlow(fid, seq, state, expires, time.time(), f"sealed-{seq}")


def all_keys(store: RedisClusterStore) -> set[str]:
    """Every key on every primary."""
    found: set[str] = set()
    for key in store.client.scan_iter(match="*", target_nodes=RedisCluster.PRIMARIES):
        found.add(key.decode() if isinstance(key, bytes) else key)
    return found


def test_every_script_touches_only_keys_it_declares() -> None:
    """Each key argument of every redis.call in every script is a KEYS entry, never built."""
    calls = 0
    for name, body in SCRIPTS.items():
        assert "ARGV[1] .." not in body and "prefix" not in body, name
        for command, first in re.findall(r"redis\.call\('(\w+)',\s*([^,)]+)", body):
            if command.upper() in _KEY_COMMANDS:
                calls += 1
                assert re.fullmatch(r"KEYS\[\d\]", first.strip()), (name, command, first)
            else:
                assert command.upper() == "TIME", (name, command)
    assert calls > 30


def test_a_broken_script_touching_an_undeclared_key_is_refused_by_the_cluster(
    cstore: RedisClusterStore,
) -> None:
    """The cluster refuses what the single-server scripts did: a key built inside the script."""
    script = cstore.client.register_script(
        "return redis.call('GET', ARGV[1] .. 'flow:' .. ARGV[2])"
    )
    other = next(f"x{i}" for i in range(1000) if shard_of(f"x{i}") != shard_of("a"))
    with pytest.raises(redis.exceptions.RedisError, match=r"(?i)slot|non local"):
        script(keys=[cstore.flow_key("a")], args=[f"flowengine:{{s{shard_of(other):02d}}}:", other])


def test_all_keys_of_a_flow_share_one_slot(cstore: RedisClusterStore) -> None:
    """The flow's hash and every index key a write touches hash to the same slot."""
    cstore.create(rec("f1", expires=time.time() + 1000, state="code_sent"))
    cstore.save(rec("f1", 1, expires=time.time() + 1000, state="mfa"), expected_seq=0, token=None)
    keys = sorted(k for k in all_keys(cstore) if f"{{s{shard_of('f1'):02d}}}" in k)
    assert len(keys) >= 5
    slots = {cstore.client.keyslot(k) for k in keys}
    assert len(slots) == 1
    assert cstore.client.keyslot(cstore.flow_key("f1")) in slots


def test_flows_spread_over_every_primary(cstore: RedisClusterStore) -> None:
    """The shards' slots fall on all three primaries, so the flows do too."""
    for i in range(200):
        cstore.create(rec(f"f{i}", expires=None))
    per_node = [
        n.redis_connection.dbsize()  # type: ignore[union-attr]
        for n in cstore.client.get_primaries()
    ]
    assert len(per_node) == 3
    assert all(size > 20 for size in per_node), per_node
    assert len(cstore.list(limit=500)) == 200


def test_a_wrong_state_guess_is_corrected_and_leaves_no_stale_index_entry(
    cstore: RedisClusterStore, redis_cluster_url: str
) -> None:
    """A client that never saw the flow names the wrong old state: the save still moves it."""
    cstore.create(rec("f1", expires=None, state="code_sent"))
    with RedisClusterStore(redis_cluster_url) as other:  # knows nothing of f1
        other.save(rec("f1", 1, expires=None, state="mfa"), expected_seq=0, token=None)
    assert cstore.list(state="code_sent") == []
    assert [f.flow_id for f in cstore.list(state="mfa")] == ["f1"]
    cstore.save(rec("f1", 2, expires=None, state="done"), expected_seq=1, token=None)  # stale guess
    assert cstore.list(state="mfa") == []
    assert [f.state for f in cstore.list()] == ["done"]


def test_ttl_eviction_then_sweep_counts_zero_and_cleans_indexes(cstore: RedisClusterStore) -> None:
    """A flow Redis evicted by TTL is gone; the sweep returns 0 and leaves no index entry."""
    cstore.create(rec("short", expires=time.time() + 0.15, state="otp_sent"))
    cstore.create(rec("long", expires=time.time() + 1000))
    time.sleep(0.3)
    with pytest.raises(FlowNotFoundError):
        cstore.load("short")
    assert cstore.sweep_expired(time.time()) == 0
    assert not any("short" in k for k in all_keys(cstore))
    states = cstore.index_keys(shard_of("short"))[2]
    assert cstore.client.hget(states, "short") is None


def test_list_prunes_entries_of_evicted_flows(cstore: RedisClusterStore) -> None:
    """list skips a flow whose hash vanished, still fills its limit, and drops the stale entry."""
    for i in range(4):
        cstore.create(StoredFlow(f"f{i}", 0, "start", time.time() + 1000, float(i), "d"))
    cstore.client.delete(cstore.flow_key("f3"))  # what a TTL eviction does
    assert [f.flow_id for f in cstore.list(limit=3)] == ["f2", "f1", "f0"]
    assert [f.flow_id for f in cstore.list(state="start", limit=2)] == ["f2", "f1"]
    updated, expiry, states = cstore.index_keys(shard_of("f3"))
    assert cstore.client.zscore(updated, "f3") is None
    assert cstore.client.zscore(expiry, "f3") is None
    assert cstore.client.hget(states, "f3") is None


def test_delete_removes_every_key_of_the_flow(cstore: RedisClusterStore) -> None:
    """After deleting its only flow the cluster holds no key of the store."""
    cstore.create(rec("f1", expires=time.time() + 1000, state="mfa"))
    cstore.delete("f1")
    assert all_keys(cstore) == set()


def test_create_after_eviction_reuses_the_id_cleanly(cstore: RedisClusterStore) -> None:
    """An id whose flow was evicted can be created again, in a new state, without stale entries."""
    cstore.create(rec("f1", expires=time.time() + 1000, state="old"))
    cstore.client.delete(cstore.flow_key("f1"))
    with RedisClusterStore(cstore.client) as fresh:  # no remembered state
        fresh.create(rec("f1", expires=None, state="new"))
    assert cstore.list(state="old") == []
    assert [f.state for f in cstore.list()] == ["new"]


def test_sweep_in_small_batches_across_shards_counts_all(redis_cluster_url: str) -> None:
    """A sweep that needs many batches on every shard deletes and counts every expired flow."""
    with RedisClusterStore(redis_cluster_url, sweep_batch=3) as store:
        for i in range(120):
            store.create(rec(f"f{i}", expires=time.time() + 1000 + i))
        store.create(rec("keep", expires=time.time() + 10**6))
        assert store.sweep_expired(time.time() + 1200) == 120
        assert [f.flow_id for f in store.list()] == ["keep"]


def test_prefixes_isolate_stores(redis_cluster_url: str) -> None:
    """Two stores with different prefixes on one cluster never see each other's flows."""
    with (
        RedisClusterStore(redis_cluster_url, prefix="a:") as a,
        RedisClusterStore(redis_cluster_url, prefix="b:") as b,
    ):
        a.create(rec("f1", expires=time.time() + 1000))
        with pytest.raises(FlowNotFoundError):
            b.load("f1")
        assert b.list() == []
        assert b.sweep_expired(time.time() + 10**6) == 0
        assert a.load("f1").seq == 0


def test_migrate_records_the_layout_and_is_idempotent(cstore: RedisClusterStore) -> None:
    """migrate writes the layout version once; a newer layout is refused."""
    assert cstore.schema_version() is None
    assert cstore.migrate() == (None, 1)
    assert cstore.migrate() == (1, 1)
    assert cstore.stats().schema_version == 1
    cstore.client.set(cstore.schema_key, 9)
    with pytest.raises(StoreError, match="version 9"):
        cstore.migrate()


def test_the_single_server_layout_is_unchanged(redis_url: str) -> None:
    """RedisStore still writes its version-1 keys, and data written that way stays readable."""
    import redis as redis_lib

    client = redis_lib.Redis.from_url(redis_url)
    # What a flowengine 0.x RedisStore left behind, written by hand.
    client.hset(
        "flowengine:flow:old",
        mapping={"seq": 3, "state": "code_sent", "updated_at": "12.5", "data": "sealed"},
    )
    client.hset("flowengine:states", "old", "code_sent")
    client.zadd("flowengine:updated", {"old": 12.5})
    client.zadd("flowengine:state:code_sent", {"old": 12.5})
    with RedisStore(redis_url) as store:
        assert store.load("old") == StoredFlow("old", 3, "code_sent", None, 12.5, "sealed")
        assert [f.flow_id for f in store.list(state="code_sent")] == ["old"]
        store.save(StoredFlow("old", 4, "mfa", None, 13.0, "s2"), expected_seq=3, token=None)
        assert store.flow_key("old") == "flowengine:flow:old"
    client.close()


@pytest.mark.parametrize(
    ("url", "nodes", "options"),
    [
        ("redis+cluster://127.0.0.1:7000", [("127.0.0.1", 7000)], {}),
        (
            "redis+cluster://u:p%40ss@h1:7000,h2:7001/?socket_timeout=2.5&client_name=x",
            [("h1", 7000), ("h2", 7001)],
            {"username": "u", "password": "p@ss", "socket_timeout": 2.5, "client_name": "x"},
        ),
        ("rediss+cluster://h1", [("h1", 6379)], {"ssl": True}),
    ],
)
def test_cluster_urls_parse(
    url: str, nodes: list[tuple[str, int]], options: dict[str, object]
) -> None:
    """Hosts, ports, credentials, TLS and options come out of a cluster URL."""
    assert check_cluster_url(url) == (nodes, options)


@pytest.mark.parametrize(
    "url",
    [
        "redis+cluster://:S3cretPW@h1:notaport",
        "redis+cluster://:S3cretPW@h1:7000?bogus=1",
        "redis+cluster://:S3cretPW@h1:70000",
        "redis+cluster://:S3cretPW@h1:7000#frag",
        "redis+cluster://:S3cretPW@h1:7000?socket_timeout=soon",
        "redis+cluster://:S3cretPW@,",
    ],
)
def test_bad_cluster_urls_are_refused_without_the_password(url: str) -> None:
    """A malformed cluster URL raises ConfigurationError that never shows its password."""
    with pytest.raises(ConfigurationError) as info:
        open_store(url)
    assert "S3cretPW" not in str(info.value)


def test_an_unreachable_cluster_is_a_store_error_without_the_password() -> None:
    """No node answers: StoreError (typed), and the password appears nowhere."""
    with pytest.raises(StoreError) as info:
        open_store("redis+cluster://:S3cretPW@127.0.0.1:1?socket_connect_timeout=0.3")
    assert type(info.value) is StoreError
    assert "S3cretPW" not in str(info.value)


def test_bad_constructor_arguments(cstore: RedisClusterStore) -> None:
    """A prefix with braces (it would change the hash tag), a bad batch or a non-client."""
    with pytest.raises(ConfigurationError):
        RedisClusterStore(cstore.client, prefix="a{b}")
    with pytest.raises(ConfigurationError):
        RedisClusterStore(cstore.client, sweep_batch=0)
    with pytest.raises(ConfigurationError):
        RedisClusterStore(42)  # type: ignore[arg-type]
    assert "S3cret" not in repr(cstore)
    assert SHARDS == 32
