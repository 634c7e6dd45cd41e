"""Stores for the persistence tests: SQLite on disk and real Redis and PostgreSQL servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flowengine.stores import FlowStore, SQLiteStore, open_store
from tests.stores.conftest import (  # noqa: F401  (fixtures)
    postgres_server,
    postgres_url,
    redis_server,
    redis_url,
)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FlowStore]:
    """A store that several engines (threads or processes) can share."""
    if request.param == "sqlite":
        store: FlowStore = SQLiteStore(tmp_path / "flows.db")
    elif request.param == "postgres":
        store = open_store(request.getfixturevalue("postgres_url"))
    else:
        store = open_store(request.getfixturevalue("redis_url"))
    try:
        yield store
    finally:
        store.close()
