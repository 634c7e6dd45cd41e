"""The crash suite's harness: one served tenant, real worker processes, and the tally.

Theory of operation
-------------------
One ``Auth0Emulator`` is served on loopback in the test process, so every remote
effect of every worker is counted in one place: its request log (``emu.requests``),
its outbox (codes sent), its users' recovery codes. Each scenario gets its own
addresses on 127.0.0.0/8 (``127.B.S.1`` for the in-process set-up, ``.2`` for the
worker that is killed, ``.3`` for the worker that resumes, ``.4`` for a third) and
its own phone number, so the request log says exactly which process sent what.

A scenario brings a flow to the state before a step in-process (``prepare``), then
``tests/crash/worker.py`` processes run that one step (forked from a
``multiprocessing`` fork server that imported the worker once, so a process starts in
milliseconds; the Redis restart test runs them as ``python tests/crash/worker.py``
commands): the first dies at a kill
point, the lease (``LEASE``, one second) runs out on the store's own clock, and a
second process holding the SAME handle repeats the step as a user would.
``judge`` then counts, from the emulator and the store (never from the workers'
word alone), the three figures that must stay 0:

* repeats of a remote effect not preceded by an ``uncertain`` record: the first
  worker's request reached Auth0 and the second sent again without having seen
  the takeover's ``uncertain`` record (kept in the stored flow's audit trail);
* results lost by a worker that survived: a 2xx answer Auth0 gave a surviving
  worker that is in neither its saved flow nor the ``LostUpdateError`` it got;
* flows left unreadable: ``repo.view`` fails with the newest handle.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import multiprocessing
import multiprocessing.context
import multiprocessing.spawn
import os
import selectors
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import attrs
import httpx

from flowengine import Auth0Config, Flow, FlowClient, FlowRepository, Keyring
from flowengine._machine import PUSH_POLL_INTERVAL
from flowengine.stores import PostgresStore, RedisStore, SQLiteStore
from flowengine.testing import Auth0Emulator, EmulatorServer
from flowengine.testing._models import RequestRecord

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("worker.py")
#: The lease every worker (and the set-up repository) takes: short, so a test waits little.
LEASE = 1.0
#: How long a test sleeps for a dead worker's lease to run out (store clocks, not ours).
PAST_LEASE = LEASE + 0.3
#: No worker may run longer than this (a hung one is killed and the test fails).
WORKER_TIMEOUT = 60.0

#: Every Auth0-calling trigger the seed and the factors use.
TRIGGERS = (
    "start_passwordless",
    "resend_code",
    "verify_otp",
    "login_password",
    "list_authenticators",
    "enroll",
    "challenge",
    "confirm_oob",
    "confirm_otp",
    "confirm_recovery_code",
    "poll_push",
)
#: Kill points per backend. Redis saves with one atomic script: "during the save" (e)
#: cannot be told from "before the save" (d) there, so it is not run twice.
#: PostgreSQL's save is a transaction that a worker can die inside (e), like SQLite's.
POINTS = {
    "sqlite": ("a", "b", "c", "d", "e", "f"),
    "redis": ("a", "b", "c", "d", "f"),
    "postgres": ("a", "b", "c", "d", "e", "f"),
}
#: Points where the first worker's request has reached Auth0.
REACHED = frozenset("cdef")

PASSWORD = "correct horse battery staple"

# ------------------------------------------------------------------ the tally


class Tally:
    """The suite's figures, added up over the session and printed at its end."""

    MUST_BE_ZERO = (
        "repeats_without_uncertain",
        "results_lost",
        "flows_unreadable",
    )

    def __init__(self) -> None:
        self.figures: Counter[str] = Counter()
        self.started = time.monotonic()
        self.seconds = 0.0

    def add(self, **figures: int) -> None:
        """Add ``figures`` (numbers accumulate)."""
        self.figures.update(figures)

    def problems(self) -> list[str]:
        """The must-be-zero figures that are not."""
        return [
            f"{name.replace('_', ' ')}: {self.figures[name]} (must be 0)"
            for name in self.MUST_BE_ZERO
            if self.figures[name]
        ]

    def lines(self) -> list[str]:
        """The text of the summary section."""
        f = self.figures
        if not f["scenarios"]:
            return []
        killed = ", ".join(f"{p} {f['killed_' + p]}" for p in "abcdef")
        guards = (
            ", ".join(
                f"{key.removeprefix('guard_')} {value}"
                for key, value in sorted(f.items())
                if key.startswith("guard_")
            )
            or "-"
        )
        return [
            f"crash scenarios: {f['scenarios']} (kill matrix {f['matrix']}, store faults "
            f"{f['store_faults']}, redis restarts {f['redis_restarts']}); worker processes "
            f"{f['workers']}; steps killed {f['killed']} [{killed}; redis e counted as d]",
            f"repeats of a remote effect without an uncertain record: "
            f"{f['repeats_without_uncertain']} (must be 0); results lost by a surviving "
            f"worker: {f['results_lost']} (must be 0); flows left unreadable: "
            f"{f['flows_unreadable']} (must be 0)",
            *(
                [
                    f"  known library bugs (strict xfail tests): repeats without an uncertain "
                    f"record {f['known_bug_repeats_without_uncertain']}, results lost "
                    f"{f['known_bug_results_lost']}, flows unreadable "
                    f"{f['known_bug_flows_unreadable']}"
                ]
                if any(f[k] for k in f if k.startswith("known_bug_"))
                else []
            ),
            f"  killed requests that reached Auth0 {f['reached_by_killed']}; takeovers marked "
            f"uncertain {f['takeovers']}; repeats after an uncertain record "
            f"{f['repeats_after_uncertain']}; refused by a guard {f['guarded']} ({guards}); "
            f"stale handles refused {f['stale']}; LostUpdateError with its results "
            f"{f['lost_update_delivered']}",
            f"  remote effects: requests {f['requests']}, codes sent {f['codes_sent']}, tokens "
            f"issued {f['tokens_issued']}, recovery codes rotated {f['recovery_rotations']}; "
            f"wall time {self.seconds:.1f} s",
        ]


TALLY = Tally()

# ------------------------------------------------------------------ addresses

_NUMBERS = itertools.count(1)


@attrs.frozen
class Addresses:
    """A scenario's own source addresses and phone number."""

    n: int

    def ip(self, who: int) -> str:
        """``who``: 1 set-up, 2 the killed worker, 3 the resuming worker, 4 a third."""
        return f"127.{20 + self.n // 250}.{self.n % 250 + 1}.{who}"

    @property
    def phone(self) -> str:
        """A phone number nobody else in the session uses."""
        return f"+1555{self.n:07d}"


def addresses() -> Addresses:
    """Fresh addresses for one scenario."""
    return Addresses(next(_NUMBERS))


# ------------------------------------------------------------------ the tenant


@attrs.define
class Tenant:
    """The served emulator and how clients reach it."""

    emu: Auth0Emulator
    server: EmulatorServer

    @property
    def domain(self) -> str:
        """The tenant host the emulator names in its MFA audience."""
        return self.emu.mfa_audience.removeprefix("https://").removesuffix("/mfa/")

    def config(self) -> Auth0Config:
        """The application's configuration for the served tenant."""
        return Auth0Config(self.server.base_url, "app-id", "app-secret", tenant_domain=self.domain)

    def client(self, ip: str, clock: Callable[[], float] = time.time) -> FlowClient:
        """A client whose requests leave from ``ip``."""
        transport = httpx.HTTPTransport(local_address=ip)
        return FlowClient(self.config(), transport=transport, clock=clock)

    def requests_from(self, ip: str) -> list[RequestRecord]:
        """The requests the tenant processed from ``ip`` (answered or not read)."""
        return [r for r in self.emu.requests if r.client_ip == ip and r.status is not None]

    def outbox_to(self, phone: str) -> int:
        """How many messages went to ``phone``."""
        return sum(1 for m in self.emu.outbox if m.to == phone)


# ------------------------------------------------------------------ the rig


def _fork_context() -> multiprocessing.context.ForkServerContext:
    """The suite's fork server: a fresh interpreter that imported the worker module once."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["tests.crash.worker"])
    return ctx


_FORKS = _fork_context()


@contextlib.contextmanager
def _no_main_module() -> Iterator[None]:
    """Start a forked worker without re-running the test runner's ``__main__`` in it.

    ``multiprocessing`` re-imports the parent's main module in every child it starts
    (for functions defined there); the worker needs none, and under the ``pytest``
    console script that would import pytest again in each worker.
    """
    original = multiprocessing.spawn.get_preparation_data

    def prepared(name: str) -> dict[str, Any]:
        data: dict[str, Any] = original(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    multiprocessing.spawn.get_preparation_data = prepared
    try:
        yield
    finally:
        multiprocessing.spawn.get_preparation_data = original


class Worker:
    """One worker process (forked from the fork server, or run as a command) and its end."""

    def __init__(self, ip: str) -> None:
        self.ip = ip
        self.rc: int | None = None
        self.report: dict[str, Any] | None = None
        self.stderr = ""
        self._lines: list[str] = []

    # what each kind of process provides
    def _next_line(self, timeout: float) -> str | None:
        raise NotImplementedError

    def _end(self, timeout: float) -> None:
        raise NotImplementedError

    def kill(self) -> None:
        """Kill the process if it still runs."""
        raise NotImplementedError

    def say(self, text: str) -> None:
        """Send a line to the worker (the pause handshake)."""
        raise NotImplementedError

    def read_event(self, timeout: float = WORKER_TIMEOUT) -> dict[str, Any]:
        """Read the next event line (``{"event": ...}``) the worker printed while it runs."""
        line = self._next_line(timeout)
        if line is None:
            raise AssertionError(f"worker {self.ip} sent no event in {timeout} s: {self.stderr}")
        event: dict[str, Any] = json.loads(line)
        return event

    def keep(self, message: dict[str, Any]) -> None:
        """Keep a message read early (the final report) for ``wait``."""
        self._lines.append(json.dumps(message))

    def wait(self, timeout: float = WORKER_TIMEOUT) -> Worker:
        """Wait for the end (killing the process past ``timeout``), read its report."""
        deadline = time.monotonic() + timeout
        while (line := self._next_line(max(0.0, deadline - time.monotonic()))) is not None:
            self._lines.append(line)
        self._end(max(0.1, deadline - time.monotonic()))
        finals = [json.loads(x) for x in self._lines if x.startswith("{")]
        finals = [r for r in finals if "event" not in r]
        self.report = finals[-1] if finals else None
        return self


class ForkedWorker(Worker):
    """A worker forked from the fork server; its streams are a pipe."""

    def __init__(self, ip: str, argv: list[str], env: dict[str, str], params: str) -> None:
        super().__init__(ip)
        from tests.crash import worker

        self.conn, theirs = _FORKS.Pipe()
        self.proc = _FORKS.Process(target=worker.child, args=(argv, env, params, theirs))
        with _no_main_module():
            self.proc.start()
        theirs.close()  # ours is the only other end: EOF once the worker is gone

    def _next_line(self, timeout: float) -> str | None:
        try:
            if not self.conn.poll(timeout):
                return None
            return str(self.conn.recv())
        except (EOFError, OSError):
            return None

    def _end(self, timeout: float) -> None:
        self.proc.join(timeout)
        if self.proc.is_alive():
            self.kill()
            self.stderr += f"[killed by the test after {WORKER_TIMEOUT} s]"
        self.rc = self.proc.exitcode
        self.conn.close()

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(10)

    def say(self, text: str) -> None:
        self.conn.send(text + "\n")


class CommandWorker(Worker):
    """A worker run as ``python tests/crash/worker.py ...``; JSON lines on its stdout."""

    def __init__(self, ip: str, argv: list[str], env: dict[str, str], params: str) -> None:
        super().__init__(ip)
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **env},
            cwd=ROOT,
        )
        self.say(params)

    def _next_line(self, timeout: float) -> str | None:
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                return None
        line = self.proc.stdout.readline()
        return line.rstrip("\n") if line else None

    def _end(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.stderr += f"[killed by the test after {WORKER_TIMEOUT} s]"
        assert self.proc.stderr is not None
        self.stderr += self.proc.stderr.read()
        self.rc = self.proc.returncode
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def say(self, text: str) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.write(text + "\n")
            self.proc.stdin.flush()


class Rig:
    """One store (SQLite file or Redis database), a keyring, and the processes started."""

    def __init__(self, tenant: Tenant, backend: str, spec: str) -> None:
        self.tenant = tenant
        self.backend = backend
        #: What a worker gets on argv: ``sqlite:/abs/path.db`` or a ``redis://`` URL.
        self.spec = spec
        self.keys = Keyring.generate()
        self.store = self.open_store()
        self.repo = FlowRepository(self.store, self.keys, lease=LEASE)
        self.workers: list[Worker] = []

    def open_store(self) -> SQLiteStore | RedisStore | PostgresStore:
        """A store object of this process on the rig's store."""
        if self.spec.startswith("sqlite:"):
            return SQLiteStore(self.spec.removeprefix("sqlite:"))
        if self.spec.startswith("postgresql:"):
            return PostgresStore(self.spec)
        import redis

        return RedisStore(redis.Redis.from_url(self.spec, socket_timeout=5.0))

    def close(self) -> None:
        """Kill every worker still running (ours only, by process) and close the store."""
        for worker in self.workers:
            worker.kill()
        with contextlib.suppress(Exception):
            self.store.close()

    def launch(
        self,
        handle: str,
        trigger: str,
        params: dict[str, Any],
        ip: str,
        *,
        kill: str = "none",
        pause: bool = False,
        pause_release: bool = False,
        busy_timeout: float = 5.0,
        command: bool = False,
    ) -> Worker:
        """Start a worker process on ``handle`` (it runs ``trigger`` once).

        Forked from the fork server by default; ``command`` runs it as
        ``python tests/crash/worker.py`` instead (slower to start, same code).
        """
        argv = [
            self.spec,
            handle,
            trigger,
            "--kill",
            kill,
            "--lease",
            str(LEASE),
            "--base-url",
            self.tenant.server.base_url,
            "--tenant-domain",
            self.tenant.domain,
            "--ip",
            ip,
            "--busy-timeout",
            str(busy_timeout),
        ]
        if pause:
            argv.append("--pause-before-save")
        if pause_release:
            argv.append("--pause-before-release")
        env = {
            "FLOWENGINE_KEYS": self.keys.to_env_value(),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        kind = CommandWorker if command else ForkedWorker
        worker = kind(ip, argv, env, json.dumps(params))
        self.workers.append(worker)
        TALLY.add(workers=1)
        return worker

    # ------------------------------------------------------------ set-up

    def prepare(self, trigger: str, addr: Addresses) -> Scenario:
        """Bring a new flow, in-process, to the state just before ``trigger``."""
        emu = self.tenant.emu
        phone = addr.phone
        scenario = Scenario(self, trigger, addr)
        factors: dict[str, Literal["sms", "otp", "push"]] = {
            "challenge": "sms",
            "confirm_oob": "sms",
            "confirm_recovery_code": "sms",
            "confirm_otp": "otp",
            "poll_push": "push",
        }
        factor = factors.get(trigger)
        if factor is not None:  # an enrolled, active factor the second step will use
            user = emu.add_passwordless_user(phone).username
            enrolled = emu.enroll(
                user,
                factor,
                phone_number=phone if factor == "sms" else None,
            )
            scenario.username = user
            scenario.totp_secret = enrolled.secret
        with self.tenant.client(addr.ip(1)) as client:
            scenario.handle = self.repo.add(client.new_flow())
            if trigger == "start_passwordless":
                scenario.params = {"connection": "sms", "phone_number": phone}
                return scenario.ready()
            if trigger == "login_password":
                username = f"user{addr.n}@example.com"
                emu.add_password_user(username, PASSWORD)
                scenario.params = {"username": username, "password": PASSWORD}
                return scenario.ready()
            scenario.step(
                lambda f: client.start_passwordless(f, connection="sms", phone_number=phone)
            )
            code = emu.last_code(phone, purpose="passwordless")
            if trigger in ("resend_code", "verify_otp"):
                scenario.params = {"otp": code} if trigger == "verify_otp" else {}
                return scenario.ready()
            scenario.step(lambda f: client.verify_otp(f, code))
            if trigger == "enroll":
                scenario.params = {"factor": "sms", "phone_number": phone}
            elif trigger == "confirm_otp":
                scenario.params = {"totp_secret": scenario.totp_secret}
            elif trigger == "confirm_recovery_code":
                scenario.username = scenario.username or phone
                scenario.params = {"recovery_code": emu.recovery_code_of(scenario.username)}
            elif trigger == "confirm_oob":
                scenario.step(lambda f: client.challenge(f))
                scenario.params = {"binding_code": emu.last_code(phone, purpose="mfa")}
            elif trigger == "poll_push":
                # The flow waits PUSH_POLL_INTERVAL after a push challenge before it polls.
                # Set-up's clock runs that much behind, so the poll is due at once and no
                # worker sleeps 5 s (the emulator's own interval is shorter).
                with self.tenant.client(
                    addr.ip(1), clock=lambda: time.time() - PUSH_POLL_INTERVAL
                ) as late:
                    scenario.step(lambda f: late.challenge(f))
        return scenario.ready()


@attrs.define
class Scenario:
    """One flow brought to the state before ``trigger``, and the workers that step it."""

    rig: Rig
    trigger: str
    addr: Addresses
    handle: str = ""
    params: dict[str, Any] = attrs.field(factory=dict)
    username: str | None = None
    totp_secret: str | None = None
    flow_id: str = ""
    # what the tenant had done for this scenario when the workers started
    outbox_before: int = 0
    recovery_before: str | None = None

    def step(self, action: Callable[[Flow], object]) -> None:
        """One in-process set-up step under ``repo.step``."""
        with self.rig.repo.step(self.handle) as flow:
            action(flow)
        assert flow.handle is not None
        self.handle = flow.handle

    def ready(self) -> Scenario:
        """Note what the tenant has done so far for this scenario."""
        emu = self.rig.tenant.emu
        self.flow_id = self.rig.repo.view(self.handle).flow_id
        self.outbox_before = self.rig.tenant.outbox_to(self.addr.phone)
        if self.username is not None:
            self.recovery_before = emu.recovery_code_of(self.username)
        return self

    def launch(self, who: int, **kwargs: Any) -> Worker:
        """Start worker ``who`` (2, 3, 4) on the scenario's handle as it was set up."""
        return self.rig.launch(self.handle, self.trigger, self.params, self.addr.ip(who), **kwargs)


# ------------------------------------------------------------------ judging


def audit_takeover(flow: Flow, trigger: str) -> bool:
    """True when the stored flow's audit records a takeover's doubt about ``trigger``."""
    return any(
        e.get("event") == "uncertain" and e.get("trigger") == trigger and e.get("taken_over")
        for e in flow.audit
    )


def newest_view(rig: Rig, handle: str, flow_id: str) -> tuple[Flow | None, str]:
    """View the flow with the newest handle; (None, why) if it cannot be read."""
    try:
        seen = rig.repo.view(handle)
        newest = rig.repo.handle(seen)
        flow = rig.repo.view(newest)
        stored = rig.store.load(flow_id)
    except Exception as exc:  # any failure to read is what this figure counts
        return None, f"{type(exc).__name__}: {exc}"
    if flow.seq != stored.seq or flow.flow_id != flow_id:
        return None, f"viewed seq {flow.seq} but the store holds {stored.seq}"
    return flow, ""


def lost_results(tenant: Tenant, worker: Worker) -> int:
    """Answers Auth0 gave a surviving worker that its report carries no step result of.

    Every answer a flow step gets becomes a ``StepResult`` (tokens, an mfa_token, a new
    recovery code, "wrong code", "rejected"): in the saved flow's results, or in the
    ``LostUpdateError`` when the save failed; an answer the flow cannot absorb is
    raised to the caller as a ``RemoteError``. Counted per status, so a 2xx cannot stand
    in for a lost 403 ``mfa_required``.
    """
    report = worker.report or {}
    answered = Counter(r.status for r in tenant.requests_from(worker.ip))
    carried = Counter(r.get("status") for r in report.get("results", []))
    if report.get("answered") is not None:  # an answer the flow refused, raised to the caller
        carried[report["answered"]] += 1
    return sum(max(0, n - carried[status]) for status, n in answered.items())


def count_effects(tenant: Tenant, scenario: Scenario, ips: list[str]) -> None:
    """Add the scenario's remote effects (after set-up) to the tally."""
    emu = tenant.emu
    reqs = [r for ip in ips for r in tenant.requests_from(ip)]
    tokens = sum(1 for r in reqs if r.path == "/oauth/token" and r.status == 200)
    rotated = 0
    if scenario.username is not None and scenario.recovery_before is not None:
        rotated = int(emu.recovery_code_of(scenario.username) != scenario.recovery_before)
    TALLY.add(
        requests=len(reqs),
        tokens_issued=tokens,
        codes_sent=tenant.outbox_to(scenario.addr.phone) - scenario.outbox_before,
        recovery_rotations=rotated,
    )


def judge_resume(
    scenario: Scenario, where: str, first: Worker, second: Worker
) -> tuple[list[str], dict[str, Any]]:
    """Count what the worker that resumed after ``first`` did; (problems, facts)."""
    rig, tenant, trigger = scenario.rig, scenario.rig.tenant, scenario.trigger
    problems: list[str] = []
    if second.rc != 0 or second.report is None:
        problems.append(f"{where}: the resuming worker failed (rc {second.rc}): {second.stderr}")
        return problems, {}
    report = second.report
    reached = len(tenant.requests_from(first.ip))
    sent = len(tenant.requests_from(second.ip))
    flow, why = newest_view(rig, report.get("handle") or scenario.handle, scenario.flow_id)
    if flow is None:
        TALLY.add(flows_unreadable=1)
        problems.append(f"{where}: the flow is unreadable: {why}")
    saw = report.get("uncertain_before") == trigger
    recorded = flow is not None and audit_takeover(flow, trigger)
    if saw and recorded:
        TALLY.add(takeovers=1)
    if reached and sent:
        if saw and recorded:
            TALLY.add(repeats_after_uncertain=1)
        else:
            TALLY.add(repeats_without_uncertain=1)
            problems.append(
                f"{where}: the request reached Auth0 and was sent again without an "
                f"uncertain record (seen {report.get('uncertain_before')!r}, recorded {recorded})"
            )
    if report.get("error") == "GuardRejectedError":
        TALLY.add(guarded=1, **{f"guard_{report.get('guard')}": 1})
    if report.get("error") == "StaleHandleError":
        TALLY.add(stale=1)
    lost = lost_results(tenant, second)
    if lost:
        TALLY.add(results_lost=lost)
        problems.append(f"{where}: {lost} answer(s) to the resuming worker are lost")
    count_effects(tenant, scenario, [first.ip, second.ip])
    facts = {"reached": reached, "sent": sent, "uncertain": saw and recorded, "flow": flow}
    return problems, facts


def judge_kill(scenario: Scenario, point: str, first: Worker, second: Worker) -> list[str]:
    """Count one kill scenario; return what went wrong (empty when all is well)."""
    where = f"{scenario.rig.backend}/{scenario.trigger}/{point}"
    problems: list[str] = []
    TALLY.add(scenarios=1, matrix=1)
    if first.rc != -9:
        problems.append(f"{where}: the first worker was not killed (rc {first.rc}): {first.stderr}")
    else:
        TALLY.add(killed=1, **{f"killed_{point}": 1})
    found, facts = judge_resume(scenario, where, first, second)
    problems += found
    if not facts:
        return problems
    report = second.report or {}
    TALLY.add(reached_by_killed=int(facts["reached"] > 0))
    # What each kill point must lead to (the suite's own check that it hit the point).
    expected_reach = 1 if point in REACHED else 0
    if facts["reached"] != expected_reach:
        problems.append(
            f"{where}: {facts['reached']} request(s) reached Auth0, expected {expected_reach}"
        )
    if point == "a" and report.get("uncertain_before") is not None:
        problems.append(f"{where}: no claim was taken, yet the flow is uncertain")
    if point in "bcde" and not facts["uncertain"]:
        problems.append(f"{where}: the takeover did not mark the flow uncertain")
    if point == "f" and (report.get("error") != "StaleHandleError" or facts["sent"]):
        problems.append(f"{where}: the saved step was not refused as stale ({report})")
    return problems


def judge_lost_save(scenario: Scenario, survivor: Worker, second: Worker) -> list[str]:
    """Count a step whose save failed in a worker that survived, and the resume after it."""
    where = f"{scenario.rig.backend}/{scenario.trigger}/store unreachable"
    problems: list[str] = []
    TALLY.add(scenarios=1, store_faults=1)
    report = survivor.report or {}
    if survivor.rc != 0 or report.get("error") != "LostUpdateError":
        problems.append(f"{where}: expected LostUpdateError, got rc {survivor.rc} {report}")
    lost = lost_results(scenario.rig.tenant, survivor)
    if lost:
        TALLY.add(results_lost=lost)
        problems.append(f"{where}: {lost} answer(s) are in neither the store nor the error")
    elif report.get("error") == "LostUpdateError":
        TALLY.add(lost_update_delivered=1)
    found, facts = judge_resume(scenario, where, survivor, second)
    problems += found
    if facts and not facts["uncertain"]:
        problems.append(f"{where}: the resume did not mark the unsaved step uncertain")
    return problems


@contextlib.contextmanager
def known_bug() -> Iterator[None]:
    """Count the body's must-be-zero figures apart, as a known library bug (an xfail test).

    The figures still show in the summary (``known library bugs``), but they do not
    fail the session the way an unexpected one does.
    """
    before = {name: TALLY.figures[name] for name in TALLY.MUST_BE_ZERO}
    try:
        yield
    finally:
        for name, was in before.items():
            delta = TALLY.figures[name] - was
            if delta:
                TALLY.figures[name] = was
                TALLY.add(**{f"known_bug_{name}": delta})


@contextlib.contextmanager
def timed() -> Iterator[None]:
    """Add the body's wall time to the tally."""
    started = time.monotonic()
    try:
        yield
    finally:
        TALLY.seconds += time.monotonic() - started
