"""Fixtures for the flow store tests: a Redis server, a store per backend, a race tally.

Redis: if ``FLOWENGINE_REDIS_URL`` is set, the tests use that server (always
its database 15, which they flush before each test).  Otherwise they start a
private ``redis-server`` on a free port of 127.0.0.1 for the session and stop
it at the end.  With neither available, every Redis test FAILS (it is not
skipped): CI installs redis-server.

Race figures recorded through the ``race_log`` fixture are printed in the
terminal summary, and also written as JSON lines to the file named by
``FLOWENGINE_RACE_REPORT`` when that is set, for a session-finish hook.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs
import pytest

from flowengine.stores import FlowStore, MemoryStore, SQLiteStore, open_store

REDIS_DB = 15
REDIS_ENV = "FLOWENGINE_REDIS_URL"
REPORT_ENV = "FLOWENGINE_RACE_REPORT"


@attrs.define
class RaceTally:
    """The outcome of one batch of races on one backend."""

    backend: str
    mode: str
    races: int
    competitors: int
    winners: int
    stale: int
    busy: int

    @property
    def losers(self) -> int:
        """Competitors that did not win."""
        return self.stale + self.busy

    def line(self) -> str:
        """A one-line human summary."""
        return (
            f"{self.backend:6} {self.mode:9} races={self.races} competitors={self.competitors} "
            f"winners={self.winners} losers={self.losers} (stale={self.stale} busy={self.busy})"
        )


_TALLIES: list[RaceTally] = []


# ----------------------------------------------------------------------- redis


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ping(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.exceptions.RedisError:
        return False
    finally:
        client.close()


def _start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail(
            f"redis-server is not on PATH and {REDIS_ENV} is not set: install redis-server "
            f"(CI does) or set {REDIS_ENV}=redis://host:port to use a running server",
            pytrace=False,
        )
    log = workdir / "redis.log"
    for _ in range(5):
        port = _free_port()
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(workdir), "--protected-mode", "yes"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        url = f"redis://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if _ping(url):
                return proc, url
            time.sleep(0.05)
        proc.terminate()
        proc.wait(5)
    tail = log.read_text(errors="replace")[-2000:]
    pytest.fail(f"could not start redis-server; its log ends with:\n{tail}", pytrace=False)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL (no database) of the Redis server the tests may use."""
    env = os.environ.get(REDIS_ENV)
    if env:
        yield env
        return
    proc, url = _start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """A URL of the test database (15), flushed before the test."""
    import redis

    parts = urlsplit(redis_server)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{REDIS_DB}", parts.query, ""))
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url


# ----------------------------------------------------------------------- stores

BACKENDS = ["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)]


def make_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> FlowStore:
    """Build a fresh store of ``backend`` (Redis ones through ``open_store``)."""
    if backend == "memory":
        return MemoryStore()
    if backend == "sqlite":
        return SQLiteStore(tmp_path / "flows.db")
    url: str = request.getfixturevalue("redis_url")
    return open_store(url)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FlowStore]:
    """A fresh, empty store of each backend in turn."""
    backend: str = request.param
    made = make_store(backend, request, tmp_path)
    try:
        yield made
    finally:
        made.close()


# ----------------------------------------------------------------------- races


@pytest.fixture
def race_log() -> Callable[[RaceTally], None]:
    """Record a race tally for the terminal summary (and print its line)."""

    def record(tally: RaceTally) -> None:
        _TALLIES.append(tally)
        print("races:", tally.line())

    return record


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    """Print the race figures, and write them as JSON lines if asked to."""
    if not _TALLIES:
        return
    terminalreporter.section("flowengine store races")
    for tally in _TALLIES:
        terminalreporter.write_line(tally.line())
    races = sum(t.races for t in _TALLIES)
    winners = sum(t.winners for t in _TALLIES)
    losers = sum(t.losers for t in _TALLIES)
    terminalreporter.write_line(f"total  races={races} winners={winners} losers={losers}")
    report = os.environ.get(REPORT_ENV)
    if report:
        with open(report, "a", encoding="utf-8") as out:
            for tally in _TALLIES:
                out.write(json.dumps({**attrs.asdict(tally), "losers": tally.losers}) + "\n")
