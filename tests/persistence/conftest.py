"""Stores for the persistence tests: SQLite on disk and a real Redis server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flowengine.stores import FlowStore, SQLiteStore, open_store
from tests.stores.conftest import redis_server, redis_url  # noqa: F401  (fixtures)


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FlowStore]:
    """A store that several engines (threads or processes) can share."""
    if request.param == "sqlite":
        store: FlowStore = SQLiteStore(tmp_path / "flows.db")
    else:
        store = open_store(request.getfixturevalue("redis_url"))
    try:
        yield store
    finally:
        store.close()
