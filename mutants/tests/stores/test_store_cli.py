"""``StoreStats`` on every backend, and ``flowengine store sweep`` / ``store stats``."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from flowengine.cli import main
from flowengine.cli._settings import sqlite_url
from flowengine.stores import MemoryStore, PostgresStore, RedisStore, SQLiteStore, StoredFlow
from flowengine.stores._base import StoreBase


def rec(fid: str, state: str, expires: float | None, updated: float) -> StoredFlow:
    """A record."""
    return StoredFlow(fid, 0, state, expires, updated, "sealed-" + fid)


@pytest.mark.parametrize(
    "backend",
    [
        "memory",
        "sqlite",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ],
)
def test_stats_counts_states_claims_and_finds_the_oldest_live_flow(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Counts by state, live and lapsed claims, the oldest live flow, the schema version."""
    store: StoreBase
    if backend == "memory":
        store = MemoryStore(auto_sweep=None)
    elif backend == "sqlite":
        store = SQLiteStore(tmp_path / "flows.db", auto_sweep=None)
    elif backend == "postgres":
        store = PostgresStore(request.getfixturevalue("postgres_url"), auto_sweep=None)
    else:
        store = RedisStore(request.getfixturevalue("redis_url"), auto_sweep=None)
    now = time.time()
    with store:
        empty = store.stats()
        assert (empty.flows, empty.by_state, empty.oldest_live) == (0, {}, None)
        store.create(rec("a", "code_sent", now + 3600, now - 50))  # type: ignore[attr-defined]
        store.create(rec("b", "code_sent", None, now - 10))  # type: ignore[attr-defined]
        store.create(rec("c", "mfa_required", now + 3600, now - 30))  # type: ignore[attr-defined]
        if backend != "redis":  # Redis evicts an expired flow by its TTL at once
            store.create(rec("old", "code_sent", now - 1, now - 99))  # type: ignore[attr-defined]
        store.claim("a", 0, "held", now=now, lease=120)  # type: ignore[attr-defined]
        store.claim("c", 0, "gone", now=now, lease=0.2)  # type: ignore[attr-defined]
        time.sleep(0.3)
        stats = store.stats()
    expired = 0 if backend == "redis" else 1
    assert stats.by_state == {"code_sent": 2 + expired, "mfa_required": 1}
    assert stats.flows == 3 + expired
    assert stats.expired == expired
    assert stats.oldest_live == {
        "flow_id": "a",
        "state": "code_sent",
        "updated_at": now - 50,
        "expires_at": now + 3600,
    }
    assert (stats.claims_held, stats.claims_expired) == (1, 1)
    assert stats.schema_version == {"memory": None, "sqlite": 2, "redis": 1, "postgres": 1}[backend]
    assert abs(stats.now - time.time()) < 5
    text = json.dumps(stats.to_json())
    assert "sealed-" not in text  # never a snapshot


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    """Run ``flowengine`` in this process; return its exit code and its one JSON object."""
    code = main(list(argv))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1, lines
    obj = json.loads(lines[0])
    assert isinstance(obj, dict)
    return code, obj


def test_store_sweep_and_stats_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`store stats` reports the expired flows, `store sweep` deletes exactly them."""
    path = tmp_path / "flows.db"
    now = time.time()
    with SQLiteStore(path, auto_sweep=None) as store:
        for i in range(7):
            store.create(rec(f"x{i}", "code_sent", now - 1 - i, now - 100))
        store.create(rec("live", "mfa_required", now + 3600, now))
    url = sqlite_url(path)
    code, stats = run_cli(capsys, "store", "stats", "--store", url)
    assert code == 0
    assert (stats["flows"], stats["expired"], stats["schema_version"]) == (8, 7, 2)
    assert stats["by_state"] == {"code_sent": 7, "mfa_required": 1}
    assert stats["oldest_live"]["flow_id"] == "live"
    code, swept = run_cli(capsys, "store", "sweep", "--store", url)
    assert code == 0 and swept["swept"] == 7
    code, stats = run_cli(capsys, "store", "stats", "--store", url)
    assert (stats["flows"], stats["expired"]) == (1, 0)
    with SQLiteStore(path) as store:
        assert [f.flow_id for f in store.list()] == ["live"]


def test_store_commands_take_the_store_from_the_environment_and_need_no_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """FLOWENGINE_STORE names the store; the default store gets no key file from these commands."""
    path = tmp_path / "env.db"
    with SQLiteStore(path) as store:
        store.create(rec("f", "code_sent", None, time.time()))
    monkeypatch.setenv("FLOWENGINE_STORE", sqlite_url(path))
    monkeypatch.delenv("FLOWENGINE_KEYS", raising=False)
    monkeypatch.delenv("FLOWENGINE_KEY_FILE", raising=False)
    code, stats = run_cli(capsys, "store", "stats")
    assert code == 0 and stats["flows"] == 1
    monkeypatch.delenv("FLOWENGINE_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    code, swept = run_cli(capsys, "store", "sweep")
    assert code == 0 and swept["swept"] == 0
    created = sorted(p.name for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert created and all(name.startswith("flows.db") for name in created)


def test_store_command_errors_are_json_and_hide_the_url(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An unreachable Redis gives exit 3 and an error object without the URL's password."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    url = f"redis://user:hunter2-secret@127.0.0.1:{port}/0?socket_connect_timeout=1"
    code, obj = run_cli(capsys, "store", "stats", "--store", url)
    assert code == 3 and obj["error"]["type"] == "StoreError"
    assert "hunter2" not in json.dumps(obj)
    code, obj = run_cli(capsys, "store", "sweep", "--store", "ftp://user:hunter2-secret@x/")
    assert code == 2 and obj["error"]["type"] == "ConfigurationError"
    assert "hunter2" not in json.dumps(obj)
    with pytest.raises(SystemExit) as info:
        main(["store", "vacuum"])
    assert info.value.code == 2
    assert json.loads(capsys.readouterr().out)["error"]["type"] == "UsageError"
