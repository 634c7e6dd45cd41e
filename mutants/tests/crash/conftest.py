"""Fixtures of the crash suite: the served tenant, the stores, a restartable redis-server.

The suite's figures (``rig.TALLY``) are printed in the section "flowengine crash
suite" at the end of the run, and ``pytest_sessionfinish`` fails an otherwise green
run if a figure that must be 0 is not.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowengine.testing import Auth0Emulator, PushScript
from tests.crash.rig import TALLY, Rig, Tenant
from tests.stores.conftest import (  # noqa: F401
    _free_port,
    _ping,
    postgres_server,
    postgres_url,
    redis_server,
    redis_url,
)


@pytest.fixture(scope="session")
def tenant() -> Iterator[Tenant]:
    """One emulated tenant served on loopback for the whole suite: every effect counted here."""
    emu = Auth0Emulator(seed=61, push_poll_interval=1.0)
    emu.add_client("app-id", client_secret="app-secret")
    # The first poll of a push settles it: the poll a worker dies in is the one that
    # mints the tokens (the riskiest to lose or to repeat).
    emu.push_script = PushScript(pending=0, outcome="approve")
    with emu.serve() as server:
        yield Tenant(emu, server)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def rig(request: pytest.FixtureRequest, tenant: Tenant, tmp_path: Path) -> Iterator[Rig]:
    """A store of each backend (a fresh SQLite file; the flushed Redis test database; the
    PostgreSQL test database without the store's tables)."""
    if request.param == "sqlite":
        spec = f"sqlite:{tmp_path / 'flows.db'}"
    elif request.param == "postgres":
        spec = request.getfixturevalue("postgres_url")
    else:
        spec = request.getfixturevalue("redis_url")
    made = Rig(tenant, request.param, spec)
    try:
        yield made
    finally:
        made.close()


class RedisProcess:
    """A redis-server of our own that keeps its data across restarts (AOF, fsync always)."""

    def __init__(self, workdir: Path) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.fail("redis-server is not on PATH: install it (CI does)", pytrace=False)
        self.exe = exe
        self.workdir = workdir
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def start(self) -> None:
        """Start the server on its port and directory; wait until it answers."""
        log = (self.workdir / "redis.log").open("ab")
        with log:
            self.proc = subprocess.Popen(
                [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.workdir),
                 "--protected-mode", "yes"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and self.proc.poll() is None:
            if _ping(self.url):
                return
            time.sleep(0.05)
        tail = (self.workdir / "redis.log").read_text(errors="replace")[-2000:]
        pytest.fail(f"could not start redis-server; its log ends with:\n{tail}", pytrace=False)

    def crash(self) -> None:
        """SIGKILL the server (no shutdown of its own: only what is on disk survives)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def shutdown(self) -> None:
        """Stop the server with ``SHUTDOWN NOSAVE`` (no RDB: the AOF alone must do)."""
        import redis

        client = redis.Redis.from_url(self.url, socket_timeout=5.0)
        with contextlib.suppress(redis.exceptions.ConnectionError):
            client.shutdown(nosave=True)
        client.close()
        if self.proc is not None:
            self.proc.wait(10)
        self.proc = None

    def restart(self, how: str) -> None:
        """Stop the server (``crash`` or ``shutdown``) and start it again on the same data."""
        if how == "crash":
            self.crash()
        else:
            self.shutdown()
        self.start()
        self.restarts += 1

    def stop(self) -> None:
        """Stop for good (the fixture's end)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


@pytest.fixture
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    """A dedicated redis-server (appendonly yes) a test may stop, crash and restart."""
    server = RedisProcess(tmp_path_factory.mktemp("crash-redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail an otherwise green run whose must-be-zero crash figures are not zero."""
    if TALLY.problems() and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    """Print the crash suite's figures."""
    text = TALLY.lines()
    if not text:
        return
    terminalreporter.section("flowengine crash suite")
    for line in text:
        terminalreporter.write_line(line)
    for problem in TALLY.problems():
        terminalreporter.write_line(f"!!! MISMATCH !!! {problem}", red=True, bold=True)
