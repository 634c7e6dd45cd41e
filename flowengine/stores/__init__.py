"""Flow stores: where resumable flows wait, as sealed snapshots, between HTTP requests.

Every store implements ``FlowStore`` (create, load, claim, save, release,
delete, sweep_expired, list, close) and is a context manager.  Pick one with
``open_store`` and a URL (``memory:``, ``sqlite:///abs/path.db``,
``sqlite:relative.db``, ``sqlite:///:memory:``, ``redis://host:port/db``,
``rediss://...``, ``postgresql://user@host:port/db``,
``redis+cluster://host:port,host:port``) or build one directly.
Importing this package imports neither ``redis`` nor ``psycopg``;
``RedisStore``, ``RedisClusterStore`` and ``PostgresStore`` do,
when they are built.

The bundled stores also report ``StoreStats`` (``store.stats()``, what
``flowengine store stats`` prints), judge claims by their own clock, and sweep
a small batch of expired flows on their own as flows are written (see
``flowengine.stores._base``).
"""

from __future__ import annotations

from flowengine.stores._base import FlowStore, StoredFlow, StoreStats, open_store
from flowengine.stores.memory import MemoryStore
from flowengine.stores.postgres import PostgresStore
from flowengine.stores.redis import RedisStore
from flowengine.stores.redis_cluster import RedisClusterStore
from flowengine.stores.sqlite import SQLiteStore

__all__ = [
    "FlowStore",
    "MemoryStore",
    "PostgresStore",
    "RedisClusterStore",
    "RedisStore",
    "SQLiteStore",
    "StoreStats",
    "StoredFlow",
    "open_store",
]
