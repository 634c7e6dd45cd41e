"""Fixtures for the command-line tests: an emulator served in this process, a CLI runner.

The emulator runs in the test process (so a test can read its outbox, seed users
and settle pushes); every ``flowengine`` step runs as its own subprocess, with a
SQLite store and HOME/XDG directories in a temporary directory. When a test
ends, every byte the subprocesses printed is searched for the secrets the
emulator issued (mfa_tokens, oob_codes, codes, passwords, the client secret);
only the values a step prints on purpose (tokens on ``authenticated``, recovery
codes, a TOTP secret and its URI, the new recovery code) may appear. Resume
handles are searched for too: none may appear on stderr, and on stdout only as
the top-level ``"handle"`` member of a step's object (or on the ``h=`` line of
``flowengine login``'s resume hint).

``cli.start(...)`` runs ``flow start`` and returns a ``Resumed`` flow whose
``step(...)`` passes the current handle and keeps the next one it prints.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest

from flowengine._flow import Flow
from flowengine._repository import FlowRepository
from flowengine._snapshot import Keyring
from flowengine.cli import main
from flowengine.cli._emulator_cmd import serve_emulator
from flowengine.stores import open_store
from flowengine.testing import Auth0Emulator, EmulatorServer

PUBLIC_ID = "cli-public"
CONFIDENTIAL_ID = "cli-confidential"
CONFIDENTIAL_SECRET = "cli-secret-9f3b1c7e2d4a6b8c"
PHONE = "+15550100"
EMAIL = "ada@example.com"
#: Fields a step prints on purpose for the user: their values may hold issued secrets.
PRINTED_ON_PURPOSE = ("tokens", "recovery_codes", "secret", "barcode_uri", "recovery_code")
HANDLE_PREFIX = "fh1_"
#: A handle in text, except the mask the CLI prints in its place.
HANDLE_TEXT = re.compile(r"fh1_(?!<redacted>)")


@attrs.define
class Result:
    """One finished ``flowengine`` process."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> dict[str, Any]:
        """The one JSON object on stdout (asserts there is exactly one line)."""
        lines = self.stdout.splitlines()
        assert len(lines) == 1, f"expected one JSON line from {self.args}, got {self.stdout!r}"
        obj = json.loads(lines[0])
        assert isinstance(obj, dict)
        return obj


@attrs.define
class Cli:
    """Runs ``python -m flowengine.cli`` with a private store, keys and home directory."""

    env: dict[str, str]
    tmp: Path
    results: list[Result] = attrs.Factory(list)
    extra_output: list[str] = attrs.Factory(list)
    #: Values an interactive session showed the user on purpose (a recovery code...).
    shown_on_purpose: list[str] = attrs.Factory(list)
    sessions: list[Interactive] = attrs.Factory(list)

    @property
    def store_path(self) -> Path:
        """The SQLite file of the store."""
        return self.tmp / "flows.db"

    def run(
        self,
        *args: str,
        input: str | None = None,
        env: Mapping[str, str | None] | None = None,
        timeout: float = 30.0,
    ) -> Result:
        """Run one ``flowengine`` process to completion."""
        proc = subprocess.run(
            [sys.executable, "-m", "flowengine.cli", *args],
            input=input,
            capture_output=True,
            text=True,
            env=self.environment(env),
            timeout=timeout,
        )
        result = Result(tuple(args), proc.returncode, proc.stdout, proc.stderr)
        self.results.append(result)
        assert "Traceback" not in proc.stderr, proc.stderr
        return result

    def environment(self, overrides: Mapping[str, str | None] | None = None) -> dict[str, str]:
        """The subprocess environment with ``overrides`` applied (None removes a variable)."""
        env = dict(self.env)
        for key, value in (overrides or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def step(self, *args: str, input: str | None = None, expect: int = 0) -> dict[str, Any]:
        """Run a ``flow`` step, check its exit code, return its JSON object."""
        result = self.run("flow", *args, input=input)
        assert result.code == expect, (result.code, result.stdout, result.stderr)
        return result.json

    def start(self, *args: str, input: str | None = None, expect: int = 0) -> Resumed:
        """Run ``flow start``; return the flow to go on with by its printed handle."""
        started = self.step("start", *args, input=input, expect=expect)
        handle, flow_id = started.get("handle"), started.get("flow_id")
        assert isinstance(handle, str) and handle.startswith(HANDLE_PREFIX), started
        assert isinstance(flow_id, str)
        return Resumed(self, flow_id, handle, started)

    def stored(self, flow_id: str) -> Flow:
        """The stored flow, read by id the way the application itself may (never resumable)."""
        store = open_store(self.env["FLOWENGINE_STORE"])
        try:
            keys = Keyring.from_env_value(self.env["FLOWENGINE_KEYS"])
            return FlowRepository(store, keys).get(flow_id)
        finally:
            store.close()

    def printed_on_purpose(self) -> list[str]:
        """Every string value printed under a field meant for the user."""
        found: list[str] = []

        def walk(value: Any) -> None:
            if isinstance(value, str):
                found.append(value)
            elif isinstance(value, Mapping):
                for v in value.values():
                    walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)

        for result in self.results:
            for line in result.stdout.splitlines():
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    for key in PRINTED_ON_PURPOSE:
                        walk(obj.get(key))
        return found


@attrs.define
class Resumed:
    """A flow driven by its handle: each step passes the current one and keeps the next."""

    cli: Cli
    flow_id: str
    handle: str
    started: dict[str, Any]
    #: The handles already spent by a step (each resumes nothing any more).
    spent: list[str] = attrs.Factory(list)

    def step(
        self, command: str, *args: str, input: str | None = None, expect: int = 0
    ) -> dict[str, Any]:
        """Run ``flow COMMAND HANDLE ARGS...``; keep the handle it prints, if any."""
        obj = self.cli.step(command, self.handle, *args, input=input, expect=expect)
        new = obj.get("handle")
        if new is not None and new != self.handle:
            assert isinstance(new, str) and new.startswith(HANDLE_PREFIX), obj
            assert obj["flow_id"] == self.flow_id
            self.spent.append(self.handle)
            self.handle = new
        return obj


def free_environment(tmp: Path) -> dict[str, str]:
    """A minimal environment whose home and data directories are inside ``tmp``."""
    keep = ("PATH", "SYSTEMROOT", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k in keep}
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        NO_COLOR="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@pytest.fixture
def emu() -> Iterator[Auth0Emulator]:
    """A fresh emulated tenant with a public and a confidential client."""
    emulator = Auth0Emulator(push_poll_interval=0.5, tenant_name="cli-tests")
    emulator.add_client(PUBLIC_ID)
    emulator.add_client(CONFIDENTIAL_ID, client_secret=CONFIDENTIAL_SECRET)
    yield emulator


@pytest.fixture
def server(emu: Auth0Emulator) -> Iterator[EmulatorServer]:
    """``emu`` on 127.0.0.1, its domain matching the URL the CLI is given."""
    srv = serve_emulator(emu)
    yield srv
    srv.stop()


@pytest.fixture
def cli(tmp_path: Path, server: EmulatorServer, emu: Auth0Emulator) -> Iterator[Cli]:
    """A CLI runner configured for ``server``; checks for leaked secrets at the end."""
    env = free_environment(tmp_path)
    env.update(
        AUTH0_DOMAIN=server.url,
        AUTH0_CLIENT_ID=PUBLIC_ID,
        FLOWENGINE_STORE=f"sqlite://{tmp_path / 'flows.db'}",
        FLOWENGINE_KEYS=Keyring.generate(kid="test").to_env_value(),
    )
    runner = Cli(env, tmp_path)
    yield runner
    for session in runner.sessions:
        session.close()
    assert_no_leak(runner, emu.issued_secrets())
    assert_no_handle_leak(runner)


@pytest.fixture
def in_process(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Result]:
    """Run ``flowengine`` in this process with the runner's environment (for quick checks)."""
    for key in ("AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "FLOWENGINE_KEY_FILE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in cli.env.items():
        monkeypatch.setenv(key, value)

    def run(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
        with monkeypatch.context() as patch:
            for key, value in (env or {}).items():
                if value is None:
                    patch.delenv(key, raising=False)
                else:
                    patch.setenv(key, value)
            capsys.readouterr()
            try:
                code = main(list(args))
            except SystemExit as exc:
                code = int(exc.code or 0)
        captured = capsys.readouterr()
        result = Result(tuple(args), code, captured.out, captured.err)
        cli.results.append(result)
        return result

    return run


def assert_no_leak(runner: Cli, issued: set[str]) -> None:
    """No issued secret appears in any output, except values printed on purpose."""
    allowed = runner.printed_on_purpose() + runner.shown_on_purpose
    texts = [t for r in runner.results for t in (r.stdout, r.stderr)] + runner.extra_output
    for secret in issued:
        if not secret or any(secret in value for value in allowed):
            continue
        pattern = re.compile(r"(?<![A-Za-z0-9])" + re.escape(secret) + r"(?![A-Za-z0-9])")
        if any(pattern.search(text) for text in texts):
            # pytest.fail, not assert: the assertion report would print the secret itself.
            pytest.fail("an issued secret was printed", pytrace=False)


def _without_handle_member(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` less its top-level handle and the fields printed on purpose (tokens...)."""
    return {k: v for k, v in obj.items() if k != "handle" and k not in PRINTED_ON_PURPOSE}


def assert_no_handle_leak(runner: Cli) -> None:
    """Handles appear only as a step object's top-level ``handle`` (or login's ``h=`` line)."""
    for result in runner.results:
        if HANDLE_TEXT.search(result.stderr):
            pytest.fail(f"a handle was printed on stderr by {result.args[:2]}", pytrace=False)
        for line in result.stdout.splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            rest = json.dumps(_without_handle_member(obj)) if isinstance(obj, dict) else line
            if HANDLE_TEXT.search(rest):
                pytest.fail(
                    f"a handle was printed outside 'handle' by {result.args[:2]}", pytrace=False
                )
    for text in runner.extra_output:
        for line in text.splitlines():
            if HANDLE_TEXT.search(line) and not line.startswith("  h=" + HANDLE_PREFIX):
                pytest.fail(
                    "an interactive session printed a handle outside its hint", pytrace=False
                )


class Interactive:
    """A ``flowengine`` process driven through pipes, prompt by prompt."""

    def __init__(self, cli: Cli, *args: str) -> None:
        self.cli = cli
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flowengine.cli", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=cli.env,
        )
        self.seen = ""
        self._pos = 0
        cli.sessions.append(self)

    def expect(self, text: str, timeout: float = 15.0) -> str:
        """Read stdout until ``text`` appears after what was already matched; return it all."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while text not in self.seen[self._pos :]:
            left = deadline - time.monotonic()
            assert left > 0, f"timed out waiting for {text!r}; got {self.seen[self._pos :]!r}"
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                assert chunk, f"stdout closed waiting for {text!r}; got {self.seen!r}"
                self.seen += chunk.decode("utf-8", "replace")
        self._pos = self.seen.index(text, self._pos) + len(text)
        return self.seen

    def send(self, line: str) -> None:
        """Type one line."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def interrupt(self) -> None:
        """Press Ctrl-C."""
        self.proc.send_signal(signal.SIGINT)

    def finish(self, timeout: float = 15.0) -> int:
        """Close stdin, wait, record the output for the leak check; return the exit code."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        code = self.proc.wait(timeout)
        self.seen += self.proc.stdout.read().decode("utf-8", "replace")
        assert self.proc.stderr is not None
        err = self.proc.stderr.read().decode("utf-8", "replace")
        self.cli.extra_output.extend([self.seen, err])
        self.close()
        assert "Traceback" not in err, err
        return code

    def close(self) -> None:
        """Kill the process if it still runs and close its pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None and not pipe.closed:
                pipe.close()
