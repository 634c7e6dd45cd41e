"""Fixtures for the flow store tests: Redis and PostgreSQL servers, a store per backend, races.

Redis: if ``FLOWENGINE_REDIS_URL`` is set, the tests use that server (always
its database 15, which they flush before each test).  Otherwise they start a
private ``redis-server`` on a free port of 127.0.0.1 for the session and stop
it at the end.  With neither available, every Redis test FAILS (it is not
skipped): CI installs redis-server.

PostgreSQL: if ``FLOWENGINE_TEST_POSTGRES_URL`` is set, the tests use that
database (they drop and recreate the store's tables before each test).
Otherwise they create a throwaway cluster with ``initdb`` (found on PATH or in
``/usr/lib/postgresql/*/bin``), start it with ``pg_ctl`` on a free port of
127.0.0.1 (trust authentication, loopback only) for the session and stop it
at the end.  PostgreSQL refuses to run as root, so as root the cluster runs
as the ``postgres`` user (created if missing).  If it cannot be started,
every PostgreSQL test FAILS with the server's log (it is not skipped): CI
installs the ``postgresql`` package.

Race figures recorded through the ``race_log`` fixture are printed in the
terminal summary, and also written as JSON lines to the file named by
``FLOWENGINE_RACE_REPORT`` when that is set, for a session-finish hook.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
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
POSTGRES_ENV = "FLOWENGINE_TEST_POSTGRES_URL"
POSTGRES_DB = "flowengine_test"


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


# ------------------------------------------------------------------ postgresql


def _pg_tool(name: str) -> str:
    """The path of a PostgreSQL server program (``initdb``, ``pg_ctl``), or fail."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: int(path.split("/")[4]) if path.split("/")[4].isdigit() else 0,
    )
    if candidates:
        return candidates[-1]
    pytest.fail(
        f"{name} is not on PATH nor in /usr/lib/postgresql/*/bin and {POSTGRES_ENV} is not "
        f"set: install postgresql (CI does: apt-get install postgresql) or set "
        f"{POSTGRES_ENV}=postgresql://user@host:port/db",
        pytrace=False,
    )


def _as_server_user() -> tuple[list[str], int | None, int | None]:
    """The command prefix that runs a PostgreSQL program as a non-root user, and its ids."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"],
            check=True,
        )
        entry = pwd.getpwnam("postgres")
    runuser = shutil.which("runuser")
    prefix = (
        [runuser, "-u", "postgres", "--"] if runuser else ["su", "postgres", "-s", "/bin/sh", "-c"]
    )
    return prefix, entry.pw_uid, entry.pw_gid


def _run_as(prefix: list[str], argv: list[str], log: Path) -> subprocess.CompletedProcess[bytes]:
    # `su -c` takes one shell command; runuser (or no prefix) takes the argv itself.
    argv = [*prefix, shlex.join(argv)] if prefix[:1] == ["su"] else [*prefix, *argv]
    with log.open("ab") as out:
        return subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=120, check=False)


def _pg_fail(what: str, log: Path) -> None:
    tail = log.read_text(errors="replace")[-4000:] if log.exists() else "(no log)"
    pytest.fail(f"could not start PostgreSQL ({what}); its log ends with:\n{tail}", pytrace=False)


def _pg_ready(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=1, autocommit=True) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL database the tests may use (created for the session)."""
    env = os.environ.get(POSTGRES_ENV)
    if env:
        yield env
        return
    initdb, pg_ctl = _pg_tool("initdb"), _pg_tool("pg_ctl")
    prefix, uid, gid = _as_server_user()
    # Not under pytest's tmp dir: that is private to root and the server user must own this.
    root = Path(tempfile.mkdtemp(prefix="flowengine-pg-"))
    if uid is not None and gid is not None:
        os.chown(root, uid, gid)
    data, log = root / "data", root / "server.log"
    log.touch()
    if uid is not None and gid is not None:
        os.chown(log, uid, gid)
    done = _run_as(
        prefix,
        [initdb, "-D", str(data), "-U", "flowengine", "-A", "trust", "-E", "UTF8",
         "--locale=C", "--no-sync"],
        log,
    )  # fmt: skip
    if done.returncode != 0:
        _pg_fail("initdb failed", log)
    # Loopback only, trust for 127.0.0.1 (initdb -A trust also covers local sockets).
    (data / "pg_hba.conf").write_text(
        "local all all trust\nhost all all 127.0.0.1/32 trust\n", encoding="utf-8"
    )
    started = False
    url = ""
    for _ in range(5):
        port = _free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        done = _run_as(
            prefix,
            [pg_ctl, "start", "-w", "-t", "60", "-D", str(data), "-l", str(log), "-o", options],
            log,
        )
        url = f"postgresql://flowengine@127.0.0.1:{port}"
        if done.returncode == 0 and _pg_ready(f"{url}/postgres"):
            started = True
            break
        _run_as(prefix, [pg_ctl, "stop", "-m", "immediate", "-D", str(data)], log)
    if not started:
        _pg_fail("pg_ctl start failed", log)
    try:
        import psycopg

        with psycopg.connect(f"{url}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {POSTGRES_DB}")
        yield f"{url}/{POSTGRES_DB}"
    finally:
        _run_as(prefix, [pg_ctl, "stop", "-m", "immediate", "-D", str(data)], log)
        shutil.rmtree(root, ignore_errors=True)


def reset_postgres(url: str) -> None:
    """Drop the store's tables, so the next store starts from an empty database."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS flowengine_flows, flowengine_schema")


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """The test database's URL, with the store's tables dropped before the test."""
    reset_postgres(postgres_server)
    return postgres_server


# ----------------------------------------------------------------------- stores

BACKENDS = [
    "memory",
    "sqlite",
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("postgres", marks=pytest.mark.postgres),
]


def make_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> FlowStore:
    """Build a fresh store of ``backend`` (Redis and PostgreSQL ones through ``open_store``)."""
    if backend == "memory":
        return MemoryStore()
    if backend == "sqlite":
        return SQLiteStore(tmp_path / "flows.db")
    if backend == "postgres":
        return open_store(request.getfixturevalue("postgres_url"))
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
