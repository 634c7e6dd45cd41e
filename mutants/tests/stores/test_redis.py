"""RedisStore specifics: TTLs, index upkeep after eviction, clients, prefixes and errors."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from flowengine._errors import ConfigurationError, FlowNotFoundError, StoreError
from flowengine.stores import RedisStore, StoredFlow, open_store

pytestmark = pytest.mark.redis


@pytest.fixture
def rstore(redis_url: str) -> Iterator[RedisStore]:
    """A RedisStore on the flushed test database."""
    with RedisStore(redis_url) as store:
        yield store


def rec(fid: str, seq: int = 0, *, expires: float | None, state: str = "start") -> StoredFlow:
    """A record updated now, expiring at ``expires`` (absolute) or never."""
    return StoredFlow(fid, seq, state, expires, time.time(), f"sealed-{seq}")


def test_ttl_follows_expires_at(rstore: RedisStore) -> None:
    """The flow hash's PTTL matches expires_at, is cleared by a save without one, and comes back."""
    key = rstore.flow_key("f1")
    rstore.create(rec("f1", expires=time.time() + 1000))
    assert 995_000 < rstore.client.pttl(key) <= 1_000_001
    rstore.claim("f1", 0, "t", now=time.time())
    assert 995_000 < rstore.client.pttl(key) <= 1_000_001
    rstore.save(rec("f1", 1, expires=None), expected_seq=0, token="t")
    assert rstore.client.pttl(key) == -1
    rstore.save(rec("f1", 2, expires=time.time() + 50), expected_seq=1, token=None)
    assert 45_000 < rstore.client.pttl(key) <= 50_001
    rstore.create(rec("forever", expires=None))
    assert rstore.client.pttl(rstore.flow_key("forever")) == -1


def test_ttl_eviction_then_sweep_counts_zero_and_cleans_indexes(rstore: RedisStore) -> None:
    """A flow Redis evicted by TTL is gone, the sweep returns 0 and leaves no index entries."""
    rstore.create(rec("short", expires=time.time() + 0.15, state="otp_sent"))
    rstore.create(rec("long", expires=time.time() + 1000))
    time.sleep(0.3)
    with pytest.raises(FlowNotFoundError):
        rstore.load("short")
    assert rstore.sweep_expired(time.time()) == 0
    keys = {k.decode() if isinstance(k, bytes) else k for k in rstore.client.keys("*")}
    assert keys == {
        "flowengine:flow:long",
        "flowengine:expiry",
        "flowengine:updated",
        "flowengine:states",
        "flowengine:state:start",
    }
    assert rstore.client.zrange("flowengine:expiry", 0, -1) == [b"long"]
    assert rstore.client.hkeys("flowengine:states") == [b"long"]


def test_list_prunes_entries_of_evicted_flows(rstore: RedisStore) -> None:
    """list skips a flow whose hash vanished, still fills its limit, and drops the stale entry."""
    for i in range(4):
        rstore.create(StoredFlow(f"f{i}", 0, "start", time.time() + 1000, float(i), "d"))
    rstore.client.delete(rstore.flow_key("f3"))  # what a TTL eviction does
    assert [f.flow_id for f in rstore.list(limit=3)] == ["f2", "f1", "f0"]
    assert [f.flow_id for f in rstore.list(state="start", limit=2)] == ["f2", "f1"]
    assert rstore.client.zscore("flowengine:updated", "f3") is None
    assert rstore.client.zscore("flowengine:state:start", "f3") is None
    assert rstore.client.hget("flowengine:states", "f3") is None


def test_delete_removes_every_key_of_the_flow(rstore: RedisStore) -> None:
    """After deleting its only flow the database holds no key of the store."""
    rstore.create(rec("f1", expires=time.time() + 1000, state="mfa"))
    rstore.delete("f1")
    assert rstore.client.keys("*") == []


def test_create_after_eviction_reuses_the_id_cleanly(rstore: RedisStore) -> None:
    """An id whose flow was evicted can be created again, in a new state, without stale entries."""
    rstore.create(rec("f1", expires=time.time() + 1000, state="old"))
    rstore.client.delete(rstore.flow_key("f1"))
    rstore.create(rec("f1", expires=None, state="new"))
    assert rstore.list(state="old") == []
    assert [f.state for f in rstore.list()] == ["new"]
    assert rstore.client.zscore("flowengine:expiry", "f1") is None


def test_prefixes_isolate_stores(redis_url: str) -> None:
    """Two stores with different prefixes on one database never see each other's flows."""
    with RedisStore(redis_url, prefix="a:") as a, RedisStore(redis_url, prefix="b:") as b:
        a.create(rec("f1", expires=time.time() + 1000))
        with pytest.raises(FlowNotFoundError):
            b.load("f1")
        assert b.list() == []
        assert b.sweep_expired(time.time() + 10**6) == 0
        assert a.load("f1").seq == 0


def test_external_bytes_client_is_used_and_left_open(redis_url: str) -> None:
    """A client without decode_responses works, and closing the store leaves it open."""
    client = redis.Redis.from_url(redis_url, decode_responses=False)
    store = RedisStore(client, prefix="ext:")
    record = StoredFlow("f1", 0, "start", None, 1.5, "dätä")
    store.create(record)
    assert store.load("f1") == record
    assert store.load("f1").data == "dätä"
    assert store.list() == [record]
    store.close()
    assert client.ping()
    client.close()


def test_external_text_client_works(redis_url: str) -> None:
    """A client with decode_responses=True works too."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    with RedisStore(client) as store:
        store.create(StoredFlow("f1", 0, "start", None, 1.5, "d"))
        assert store.list()[0].flow_id == "f1"
        assert store.load("f1").updated_at == 1.5
    client.close()


def test_unreachable_server_raises_store_error_without_password() -> None:
    """A dead server surfaces as StoreError (not a redis-py error) and hides the URL's password."""
    url = "redis://:Pa55w0rdXYZ@127.0.0.1:1/0?socket_connect_timeout=0.5"
    store = open_store(url)
    with pytest.raises(StoreError) as info:
        store.load("f1")
    assert type(info.value) is StoreError
    assert "Pa55w0rdXYZ" not in str(info.value)
    assert "Pa55w0rdXYZ" not in repr(store)
    store.close()


def test_bad_constructor_arguments() -> None:
    """An empty prefix, a bad batch size or a non-client raise ConfigurationError."""
    with pytest.raises(ConfigurationError):
        RedisStore("redis://127.0.0.1:6379/0", prefix="")
    with pytest.raises(ConfigurationError):
        RedisStore("redis://127.0.0.1:6379/0", sweep_batch=0)
    with pytest.raises(ConfigurationError):
        RedisStore(42)  # type: ignore[arg-type]


def test_sweep_in_small_batches_counts_all(redis_url: str) -> None:
    """A sweep that needs many script batches still deletes and counts every expired flow."""
    with RedisStore(redis_url, sweep_batch=7) as store:
        for i in range(50):
            store.create(rec(f"f{i}", expires=time.time() + 1000 + i))
        store.create(rec("keep", expires=time.time() + 10**6))
        assert store.sweep_expired(time.time() + 1100) == 50
        assert [f.flow_id for f in store.list()] == ["keep"]
