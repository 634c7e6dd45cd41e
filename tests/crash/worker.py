"""One crash-suite worker process: resume a stored flow by its handle, run ONE step, report.

Theory of operation
-------------------
The crash suite (``tests/crash``) runs this file as a real process::

    FLOWENGINE_KEYS=<Keyring.to_env_value()> python tests/crash/worker.py \\
        STORE HANDLE TRIGGER --kill POINT --lease 1.0 --base-url URL \\
        --tenant-domain HOST --ip 127.a.b.c [--pause-before-save] [--busy-timeout S] \\
        < params.json

``STORE`` is ``sqlite:/abs/path.db`` or a ``redis://`` URL. The first stdin line is
the step's parameters as JSON (codes travel there, not on argv). The worker opens
the store and a ``FlowRepository(lease=...)`` with the keyring from
``FLOWENGINE_KEYS``, enters ``repo.step(HANDLE)``, runs TRIGGER once through a
``FlowClient`` whose requests leave from ``--ip`` (the emulator logs the source
address, so the test can tell which process sent what), and prints one JSON line:
what the flow said before the step (``uncertain_before``), the step results (flags
only: never a secret), the error type, and the next handle.

``--kill`` makes the process SIGKILL itself at one point of the step, through
monkeypatches made here and nowhere else:

``a``  before the claim (the first ``store.claim``, in ``repo.step``);
``b``  after the claim (and its renewal with the intent), before the request leaves
       (the transport's entry);
``c``  after Auth0 processed the request, before the answer is read (the transport,
       once ``handle_request`` returned the response head);
``d``  after the answer was applied, before the save (``store.save`` entry);
``e``  during the save: SQLite only, after the save's ``UPDATE`` ran inside a write
       transaction and before its ``COMMIT`` (the store's autocommit ``UPDATE`` is
       run inside ``BEGIN IMMEDIATE`` here; SQLite's recovery rolls the write back).
       Redis saves with one atomic script: there is no "during", so ``e`` kills
       where ``d`` does (documented in the suite as counted with ``d``);
``f``  after the save returned, before the next handle is printed.

``--pause-before-save`` prints ``{"event": "paused"}`` at the ``store.save`` entry
and waits for a line on stdin: the test makes the store unreachable meanwhile
(holds SQLite's write lock, or stops redis-server), so the save fails and the
worker survives with a ``LostUpdateError`` that must carry the step's results.
``--pause-before-release`` likewise pauses at the ``store.release`` entry
(``{"event": "releasing"}``), so the test can bring the store back between the
failed save and the release that follows it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

import httpx

from flowengine import (
    Auth0Config,
    Flow,
    FlowClient,
    FlowEngineError,
    FlowRepository,
    Keyring,
    LostUpdateError,
    RemoteError,
    StepResult,
)
from flowengine.stores import FlowStore, PostgresStore, RedisStore, SQLiteStore

POINTS = ("none", "a", "b", "c", "d", "e", "f")


#: Where the report goes and the handshake comes from: the process's own streams, or a
#: pipe to the test when the worker was forked from the suite's fork server (``child``).
_STDIN: Any = sys.stdin
_STDOUT: Any = sys.stdout


def say(message: dict[str, Any]) -> None:
    """Print one JSON line for the test."""
    _STDOUT.write(json.dumps(message) + "\n")
    _STDOUT.flush()


def die() -> None:
    """Vanish at once: no exit handler, no ``finally``, no store release (a crash)."""
    _STDOUT.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class KillingTransport(httpx.HTTPTransport):
    """An ``HTTPTransport`` that dies before sending (``b``) or once Auth0 answered (``c``)."""

    def __init__(self, point: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.point = point

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.point == "b":
            die()
        response = super().handle_request(request)
        if self.point == "c":
            # The status line and headers are in: the emulator answers only after it
            # processed the request, so Auth0 has acted and nobody will read the body.
            die()
        return response


def open_worker_store(spec: str, busy_timeout: float) -> FlowStore:
    """``sqlite:/abs/path.db``, a ``redis://`` URL (short socket timeouts: a test waits) or a
    ``postgresql://`` URL."""
    if spec.startswith("sqlite:"):
        return SQLiteStore(spec.removeprefix("sqlite:"), busy_timeout=busy_timeout)
    if spec.startswith("postgresql:"):
        return PostgresStore(spec, connect_timeout=2.0)
    if spec.startswith("redis+cluster:"):
        from flowengine.stores.redis_cluster import RedisClusterStore

        return RedisClusterStore(spec + "?socket_timeout=2&socket_connect_timeout=1")
    import redis

    client = redis.Redis.from_url(spec, socket_timeout=2.0, socket_connect_timeout=1.0)
    return RedisStore(client)


def arm(store: FlowStore, point: str, pause: bool, pause_release: bool = False) -> None:
    """Install the kill point (and the pauses) on this process's store object."""
    claim, save = store.claim, store.save

    def claim_then(*args: Any, **kwargs: Any) -> str | None:
        if point == "a":
            die()
        return claim(*args, **kwargs)

    saving = {"now": False}

    def save_then(*args: Any, **kwargs: Any) -> None:
        if pause:
            say({"event": "paused"})
            _STDIN.readline()  # the test made the store unreachable meanwhile
        if point == "d" or (point == "e" and not isinstance(store, SQLiteStore)):
            die()
        saving["now"] = True
        try:
            save(*args, **kwargs)
        finally:
            saving["now"] = False
        if point == "f":
            die()

    release = store.release

    def release_then(*args: Any, **kwargs: Any) -> None:
        if pause_release:
            say({"event": "releasing"})
            _STDIN.readline()  # the test made the store reachable again meanwhile
        release(*args, **kwargs)

    store.claim = claim_then  # type: ignore[method-assign]
    store.save = save_then  # type: ignore[method-assign]
    store.release = release_then  # type: ignore[method-assign]
    if point == "e" and isinstance(store, SQLiteStore):
        connection: Callable[[], contextlib.AbstractContextManager[Any]] = store._connection

        @contextlib.contextmanager
        def dying_connection() -> Iterator[Any]:
            with connection() as conn:
                yield _DyingConnection(conn) if saving["now"] else conn

        store._connection = dying_connection  # type: ignore[method-assign]


class _DyingConnection:
    """The save's connection: its ``UPDATE`` runs inside a write transaction, then we die.

    The store saves with one autocommit ``UPDATE`` (atomic: a kill in it leaves at most an
    uncommitted write); here the statement runs inside ``BEGIN IMMEDIATE`` whose
    ``COMMIT`` never comes, the uncommitted write SQLite's recovery must roll back.
    """

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, *args: Any) -> Any:
        if not sql.lstrip().upper().startswith("UPDATE"):
            return self._conn.execute(sql, *args)
        if not self._conn.in_transaction:
            self._conn.execute("BEGIN IMMEDIATE")
        self._conn.execute(sql, *args)
        die()  # the UPDATE ran in a write transaction; the COMMIT never comes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def run_step(client: FlowClient, flow: Flow, trigger: str, params: dict[str, Any]) -> StepResult:
    """Run ``trigger`` on ``flow`` with ``params`` through the public step methods."""
    if trigger == "start_passwordless":
        return client.start_passwordless(flow, **params)
    if trigger == "resend_code":
        return client.resend_code(flow)
    if trigger == "verify_otp":
        return client.verify_otp(flow, params["otp"])
    if trigger == "login_password":
        return client.login_password(flow, username=params["username"], password=params["password"])
    if trigger == "list_authenticators":
        return client.list_authenticators(flow)
    if trigger == "enroll":
        return client.enroll(flow, params["factor"], phone_number=params.get("phone_number"))
    if trigger == "challenge":
        return client.challenge(flow)
    if trigger == "confirm_oob":
        return client.confirm_oob(flow, params["binding_code"])
    if trigger == "confirm_otp":
        import pyotp

        # The code of the moment this worker runs (the emulator accepts a reuse in its window).
        return client.confirm_otp(flow, pyotp.TOTP(params["totp_secret"]).now())
    if trigger == "confirm_recovery_code":
        return client.confirm_recovery_code(flow, params["recovery_code"])
    if trigger == "poll_push":
        return client.poll_push(flow, wait=True)
    raise SystemExit(f"unknown trigger {trigger!r}")


def describe(result: object) -> dict[str, Any]:
    """A step result as flags and names only (what the test counts; never a secret)."""
    assert isinstance(result, StepResult)
    return {
        "trigger": result.trigger,
        "outcome": str(result.outcome),
        "state": str(result.state),
        "seq": result.seq,
        "status": result.status_code,
        "tokens": result.tokens is not None,
        "recovery_code": result.recovery_code is not None,
    }


def main(argv: list[str] | None = None, *, stdin: Any = None, stdout: Any = None) -> int:
    """Parse the arguments, run the step, print the report line (on ``stdout``)."""
    global _STDIN, _STDOUT
    _STDIN, _STDOUT = stdin or sys.stdin, stdout or sys.stdout
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("handle")
    parser.add_argument("trigger")
    parser.add_argument("--kill", choices=POINTS, default="none")
    parser.add_argument("--lease", type=float, required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--tenant-domain", required=True)
    parser.add_argument("--ip", required=True)
    parser.add_argument("--pause-before-save", action="store_true")
    parser.add_argument("--pause-before-release", action="store_true")
    parser.add_argument("--busy-timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    params = json.loads(_STDIN.readline() or "{}")

    keyring = Keyring.from_env_value(os.environ["FLOWENGINE_KEYS"])
    store = open_worker_store(args.store, args.busy_timeout)
    arm(store, args.kill, args.pause_before_save, args.pause_before_release)
    repo = FlowRepository(store, keyring, lease=args.lease)
    config = Auth0Config(args.base_url, "app-id", "app-secret", tenant_domain=args.tenant_domain)
    transport = KillingTransport(args.kill, local_address=args.ip)
    report: dict[str, Any] = {"uncertain_before": None, "results": [], "error": None}
    lent: list[Flow] = []
    try:
        with FlowClient(config, transport=transport) as client, repo.step(args.handle) as flow:
            lent.append(flow)
            report["uncertain_before"] = flow.uncertain.trigger if flow.uncertain else None
            report["state_before"] = str(flow.state)
            run_step(client, flow, args.trigger, params)
    except LostUpdateError as exc:
        report["error"] = type(exc).__name__
        report["results"] = [describe(r) for r in exc.results]
    except FlowEngineError as exc:
        report["error"] = type(exc).__name__
        report["guard"] = getattr(exc, "guard", None)
        if isinstance(exc, RemoteError):  # Auth0's answer, handed over as a typed error
            report["answered"] = exc.status_code
    finally:
        store.close()
    if lent:
        flow = lent[0]
        if not report["results"]:
            report["results"] = [describe(r) for r in flow.results]
        report["state_after"] = str(flow.state)
        report["seq_after"] = flow.seq
        report["handle"] = flow.handle
    say(report)
    return 0


class PipeLines:
    """stdin and stdout of a forked worker: lines over a ``multiprocessing`` connection."""

    def __init__(self, conn: Connection, first: str) -> None:
        self.conn = conn
        self.pending = [first]
        self.buffer = ""

    def readline(self) -> str:
        if self.pending:
            return self.pending.pop(0)
        try:
            return str(self.conn.recv())
        except EOFError:
            return ""

    def write(self, text: str) -> None:
        self.buffer += text
        while "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            self.conn.send(line)

    def flush(self) -> None:
        """Lines are sent as they are completed."""


def child(argv: list[str], env: dict[str, str], params: str, conn: Connection) -> None:
    """The ``multiprocessing`` entry point (forkserver): ``main`` with pipe streams.

    The suite forks most workers from a fork server that imported this module once
    (a worker then starts in milliseconds instead of a third of a second); each is
    still its own process, killed with SIGKILL like the command-line one.
    """
    os.environ.update(env)
    stream = PipeLines(conn, params)
    code = main(argv, stdin=stream, stdout=stream)
    conn.close()
    sys.exit(code)


if __name__ == "__main__":
    sys.exit(main())
