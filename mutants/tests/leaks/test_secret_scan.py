"""No secret leaks: complete logins for every factor, with faults, through every store.

Each scenario runs through ``FlowRepository.step`` over a MemoryStore, an SQLiteStore
and (with the stores' Redis fixture) a RedisStore, with both drivers, with structlog
captured, resuming each flow with its handle as an application would. Then every secret
the tenant issued or the test typed (codes, mfa_tokens, oob_codes, tokens, the client
secret, the password, recovery codes, TOTP secrets), every resume handle the repository
handed out (from ``repo.add`` and each ``flow.handle``) and each flow's ``binding`` hash is
looked for in: the log events, every exception's str and repr, the repr of every Flow,
StepResult, PreparedStep, HttpRequest and Auth0Config, the rendered flow diagrams (and
any text file under ``diagrams/``), the raw store (SQLite file, WAL and SHM bytes, Redis
hash dumps, memory records) and every ``dump_flow`` text. The tokens a StepResult hands
to the caller (``.data``) and the handles the application keeps are the one place
secrets are meant to be; they are not scanned, but a control scan checks that they are
seen when they are there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from flowengine import FlowEngineError, InvalidHandleError, StaleHandleError, StepResult
from flowengine._flow import Flow, PreparedStep
from flowengine._repository import FlowRepository, dump_flow
from flowengine.diagram import flow_diagram, history_steps
from flowengine.stores import FlowStore, MemoryStore, SQLiteStore, open_store
from flowengine.testing import Fault, PushScript
from tests.leaks.scanner import Scanner
from tests.property.harness import (
    CLIENT_SECRET,
    DRIVERS,
    EMAIL,
    KEYRING,
    PASSWORD,
    PHONE,
    PHONE2,
    Rig,
)
from tests.stores.conftest import (  # noqa: F401  (fixtures)
    postgres_server,
    postgres_url,
    redis_server,
    redis_url,
)
from tests.summary import record

DIAGRAMS = Path(__file__).resolve().parents[2] / "diagrams"
GRANT = "http://auth0.com/oauth/grant-type/"


class Login:
    """One scenario: a rig, a repository, and everything to scan afterwards."""

    def __init__(self, rig: Rig, store: FlowStore, scanner: Scanner) -> None:
        self.rig = rig
        self.store = store
        self.repo = FlowRepository(store, KEYRING, clock=rig.clock.time)
        self.scanner = scanner
        self.typed: set[str] = set()
        self.ids: list[str] = []
        self.handed_out: list[StepResult] = []
        #: The current handle of each flow (what the application keeps in the session).
        self.handles: dict[str, str] = {}
        #: Every handle the repository handed out, current or not: all are secrets.
        self.seen_handles: set[str] = set()
        self.first_handles: dict[str, str] = {}

    def new(self, flow_id: str) -> str:
        """Store a new flow; keep its handle."""
        flow = self.rig.new_flow(flow_id)
        handle = self.repo.add(flow)
        assert handle == flow.handle
        self.keep(flow_id, handle)
        self.first_handles[flow_id] = handle
        self.ids.append(flow_id)
        return flow_id

    def keep(self, flow_id: str, handle: str) -> None:
        """Remember ``handle`` as the flow's current one."""
        assert handle.startswith("fh1_")
        self.handles[flow_id] = handle
        self.seen_handles.add(handle)

    def refresh(self, flow_id: str, old: str) -> str:
        """The flow's current handle after a step, whatever happened (``view`` takes an old one)."""
        current = self.repo.handle(self.repo.view(old))
        self.keep(flow_id, current)
        return current

    def refused(self) -> int:
        """Resume each flow with its first (stale) handle, a changed one and its bare id.

        Each must be refused; the errors (and their logs) join the scan, and the changed
        handles join the secrets: a refusal must not echo what it was given.
        """
        refusals = 0
        for fid in self.ids:
            current = self.handles[fid]
            changed = current[:-3] + ("AAA" if current[-3:] != "AAA" else "BBB")
            self.seen_handles.add(changed)
            for bad in (self.first_handles[fid], changed, fid):
                try:
                    with self.repo.step(bad):
                        pass
                except (InvalidHandleError, StaleHandleError) as exc:
                    self.scanner.add_error(exc)
                    refusals += 1
        return refusals

    def step(self, flow_id: str, name: str, *args: Any, **kwargs: Any) -> StepResult | None:
        """Run one driver step inside ``repo.step``; keep its result, error and flow repr."""
        if name in ("verify_otp", "confirm_oob", "confirm_otp", "confirm_recovery_code"):
            self.typed.add(args[0])
        if name == "login_password":
            self.typed.add(kwargs["password"])
        handle = self.handles[flow_id]
        lent: Flow | None = None
        try:
            with self.repo.step(handle) as lent:
                result: StepResult = self.rig.call(name, lent, *args, **kwargs)
                self.scanner.add_repr(lent)
        except FlowEngineError as exc:
            self.scanner.add_error(exc)
            if lent is not None and lent.handle is not None:
                self.seen_handles.add(lent.handle)
            self.refresh(flow_id, handle)
            return None
        assert lent is not None and lent.handle is not None
        self.scanner.add_repr(lent)
        self.keep(flow_id, lent.handle)
        assert self.refresh(flow_id, handle) == lent.handle
        self.scanner.add_repr(result)
        self.handed_out.append(result)
        self.scanner.add("dump_flow", dump_flow(self.repo.get(flow_id), KEYRING))
        return result

    def flow(self, flow_id: str) -> Flow:
        """The stored flow."""
        return self.repo.get(flow_id)

    def code(self, to: str, purpose: str = "passwordless") -> str:
        """The newest code the tenant sent to ``to``."""
        return self.rig.emu.last_code(to, purpose=purpose)  # type: ignore[arg-type]

    def totp(self, user: str = PHONE) -> str:
        """A current TOTP code of the user's authenticator."""
        secret = self.rig.totp_secret(user)
        assert secret is not None
        return self.rig.emu.totp_code(secret)


def first_factor(lg: Login, fid: str, via: str = "sms") -> None:
    """Passwordless SMS or email, or the password, up to mfa_required."""
    lg.new(fid)
    if via == "password":
        lg.step(fid, "login_password", username=EMAIL, password="wrong password!")
        lg.step(fid, "login_password", username=EMAIL, password=PASSWORD)
    elif via == "email":
        lg.step(fid, "start_passwordless", connection="email", email=EMAIL)
        lg.step(fid, "verify_otp", lg.code(EMAIL))
    else:
        lg.step(fid, "start_passwordless", connection="sms", phone_number=PHONE)
        lg.step(fid, "verify_otp", "000000" if lg.code(PHONE) != "000000" else "111111")
        lg.step(fid, "verify_otp", lg.code(PHONE))
    assert lg.flow(fid).state == "mfa_required"


def enroll_sms(lg: Login) -> None:
    """SMS first factor, enroll SMS, a wrong binding code, then the right one."""
    first_factor(lg, "fl_sms")
    lg.step("fl_sms", "enroll", "sms", phone_number=PHONE2)
    lg.step("fl_sms", "confirm_oob", "999999" if lg.code(PHONE2, "mfa") != "999999" else "888888")
    lg.step("fl_sms", "confirm_oob", lg.code(PHONE2, "mfa"))


def enroll_voice_by_email(lg: Login) -> None:
    """Email first factor, enroll voice."""
    first_factor(lg, "fl_voice", via="email")
    lg.step("fl_voice", "enroll", "voice", phone_number=PHONE2)
    lg.step("fl_voice", "confirm_oob", lg.code(PHONE2, "mfa"))


def enroll_email_after_password(lg: Login) -> None:
    """Password first factor, enroll email."""
    first_factor(lg, "fl_email", via="password")
    lg.step("fl_email", "enroll", "email", email="second@example.org")
    lg.step("fl_email", "confirm_oob", lg.code("second@example.org", "mfa"))


def enroll_otp(lg: Login) -> None:
    """Enroll TOTP, then log in again with a TOTP code straight from mfa_required."""
    first_factor(lg, "fl_otp")
    lg.step("fl_otp", "enroll", "otp")
    lg.step("fl_otp", "confirm_otp", lg.totp())
    first_factor(lg, "fl_otp2")
    lg.step("fl_otp2", "list_authenticators")
    lg.step("fl_otp2", "confirm_otp", lg.totp())


def push_approved_and_rejected(lg: Login) -> None:
    """Enroll push (pending, then approved); a second login's push is rejected."""
    lg.rig.emu.push_script = PushScript(pending=1, outcome="approve")
    first_factor(lg, "fl_push")
    lg.step("fl_push", "enroll", "push")
    lg.step("fl_push", "poll_push")
    lg.step("fl_push", "poll_push")
    lg.rig.emu.push_script = PushScript(pending=5, outcome="never")
    first_factor(lg, "fl_push2")
    lg.step("fl_push2", "challenge")
    lg.rig.emu.reject_push()
    lg.step("fl_push2", "poll_push")
    assert lg.flow("fl_push2").state == "rejected"


def recovery_code(lg: Login) -> None:
    """Seeded SMS user: a wrong recovery code, the right one (a new one comes back)."""
    lg.rig.seed_users("sms")
    first_factor(lg, "fl_rc")
    lg.step("fl_rc", "confirm_recovery_code", "WRONGWRONGWRONGWRONG0000")
    code = lg.rig.emu.recovery_code_of(PHONE)
    assert code
    lg.step("fl_rc", "confirm_recovery_code", code)


def challenge_with_faults(lg: Login) -> None:
    """Seeded SMS user; faults on the way: a lost verify, a 500 challenge, a reset confirm."""
    lg.rig.seed_users("sms")
    emu = lg.rig.emu
    lg.new("fl_f")
    lg.step("fl_f", "start_passwordless", connection="sms", phone_number=PHONE)
    emu.add_fault(Fault("/oauth/token", "read_timeout", grant_type=GRANT + "passwordless/otp"))
    lg.step("fl_f", "verify_otp", lg.code(PHONE))  # consumed, answer lost
    lg.step("fl_f", "verify_otp", lg.code(PHONE))  # now a wrong code
    lg.step("fl_f", "resend_code")
    emu.add_fault(Fault("/oauth/token", "truncated_json", grant_type=GRANT + "passwordless/otp"))
    lg.step("fl_f", "verify_otp", lg.code(PHONE))
    lg.step("fl_f", "resend_code")
    lg.step("fl_f", "verify_otp", lg.code(PHONE))
    emu.add_fault(Fault("/mfa/challenge", "status_500"))
    lg.step("fl_f", "challenge")
    emu.add_fault(Fault("/mfa/challenge", "missing_field"))
    lg.step("fl_f", "challenge")
    lg.step("fl_f", "challenge")
    emu.add_fault(Fault("/oauth/token", "reset", grant_type=GRANT + "mfa-oob"))
    lg.step("fl_f", "confirm_oob", lg.code(PHONE, "mfa"))
    lg.step("fl_f", "confirm_oob", lg.code(PHONE, "mfa"))  # the oob_code is spent
    lg.step("fl_f", "rollback", to="mfa_required")
    emu.add_fault(Fault("/mfa/authenticators", "status_503"))
    lg.step("fl_f", "list_authenticators")
    lg.step("fl_f", "challenge")
    lg.step("fl_f", "confirm_oob", lg.code(PHONE, "mfa"))
    assert lg.flow("fl_f").state == "authenticated"


def lockout_and_expiry(lg: Login) -> None:
    """Ten wrong passwords lock the user; a code left for three minutes expires the flow."""
    lg.rig.seed_users("new")
    lg.new("fl_lock")
    for _ in range(10):
        lg.step("fl_lock", "login_password", username=EMAIL, password="wrong password!")
    assert lg.flow("fl_lock").state == "locked"
    lg.new("fl_exp")
    lg.step("fl_exp", "start_passwordless", connection="sms", phone_number=PHONE)
    lg.rig.clock.advance(181)
    lg.step("fl_exp", "verify_otp", lg.code(PHONE))
    assert lg.flow("fl_exp").state == "expired"


SCENARIOS: dict[str, Callable[[Login], None]] = {
    f.__name__: f
    for f in (
        enroll_sms,
        enroll_voice_by_email,
        enroll_email_after_password,
        enroll_otp,
        push_approved_and_rejected,
        recovery_code,
        challenge_with_faults,
        lockout_and_expiry,
    )
}


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, FlowStore]]:
    """A fresh store of each kind."""
    kind = str(request.param)
    store: FlowStore
    if kind == "memory":
        store = MemoryStore()
    elif kind == "sqlite":
        store = SQLiteStore(tmp_path / "flows.db")
    elif kind == "postgres":
        store = open_store(request.getfixturevalue("postgres_url"))
    else:
        store = open_store(request.getfixturevalue("redis_url"))
    yield kind, store
    store.close()


def raw_store(kind: str, store: FlowStore, ids: list[str], scanner: Scanner, tmp: Path) -> None:
    """Add the store's raw contents: database files, Redis dumps, memory records."""
    if kind == "sqlite":
        for path in sorted(tmp.glob("flows.db*")):
            scanner.add(f"sqlite file {path.name}", path.read_bytes())
    elif kind == "redis":
        client = store.client  # type: ignore[attr-defined]
        for key in client.scan_iter("flowengine:*"):
            kind_of = client.type(key)
            if kind_of == b"hash":
                scanner.add("redis hash", repr(client.hgetall(key)))
            elif kind_of == b"zset":
                scanner.add("redis zset", repr(client.zrange(key, 0, -1, withscores=True)))
    elif kind == "postgres":
        with store.connection() as conn:  # type: ignore[attr-defined]
            for row in conn.execute("SELECT * FROM flowengine_flows"):
                scanner.add("postgres row", repr(row))
    for record_ in store.list(limit=1000):
        scanner.add("stored record", repr(record_) + record_.data)
    scanner.add_repr(store)
    assert {r.flow_id for r in store.list(limit=1000)} >= set(ids)


def diagrams(flows: list[Flow], scanner: Scanner) -> None:
    """Add each flow's rendered diagrams, and any text file under diagrams/."""
    for flow in flows:
        steps = history_steps(flow.history)
        for fmt in ("mermaid", "dot"):
            scanner.add(f"diagram {fmt}", flow_diagram(flow.path(), flow.state, fmt, steps=steps))
    if DIAGRAMS.is_dir():
        for path in sorted(DIAGRAMS.rglob("*")):
            if path.is_file() and path.suffix in (".md", ".mmd", ".dot", ".svg", ".txt"):
                scanner.add(f"diagrams/{path.name}", path.read_bytes())


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("driver", DRIVERS)
def test_no_secret_leaks(
    backend: tuple[str, FlowStore],
    driver: str,
    scenario: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A complete scenario leaves no secret outside the sealed fields and the caller's tokens."""
    kind, store = backend
    rig = Rig(driver)
    scanner = Scanner()
    prepared: list[PreparedStep] = []
    real_prepare = Flow.prepare

    def prepare(self: Flow, *args: Any, **kwargs: Any) -> PreparedStep:
        step = real_prepare(self, *args, **kwargs)
        prepared.append(step)
        return step

    monkeypatch.setattr(Flow, "prepare", prepare)
    login = Login(rig, store, scanner)
    if scenario not in ("recovery_code", "challenge_with_faults", "lockout_and_expiry"):
        rig.seed_users("new")
    try:
        with capture_logs() as logs:
            SCENARIOS[scenario](login)
            assert login.refused() == 3 * len(login.ids)
    finally:
        rig.close()
    assert logs, "nothing was logged: the capture is not working"
    flows = [login.flow(fid) for fid in login.ids]
    for event in logs:
        scanner.add("log event", repr(event))
    for step in prepared:
        scanner.add_repr(step)
        scanner.add_repr(step.request)
    for flow in flows:
        scanner.add_repr(flow)
        scanner.add("dump_flow", dump_flow(flow, KEYRING))
    scanner.add_repr(rig.config)
    scanner.add_repr(rig.client)
    scanner.add_repr(KEYRING)
    scanner.add_repr(login.repo)
    diagrams(flows, scanner)
    raw_store(kind, store, login.ids, scanner, tmp_path)
    handles = login.seen_handles
    bindings = {f.context.binding for f in flows if f.context.binding is not None}
    assert len(bindings) == len(flows) == len(set(login.handles))
    assert len(handles) > len(flows)  # each step handed out a new one
    tenant = rig.emu.issued_secrets() | login.typed | {CLIENT_SECRET, PASSWORD}
    secrets = tenant | handles | bindings
    assert CLIENT_SECRET in rig.emu.issued_secrets()
    record("secrets", secret_values=len(secrets))
    record("resume_handles", handles_scanned=len(handles), binding_hashes_scanned=len(bindings))
    found = scanner.scan(secrets)
    assert not found, f"secret values (handles or binding hashes included) appeared in: {found}"
    # the control: what is handed to the caller does hold secrets, and the scan sees them
    control = Scanner()
    for result in login.handed_out:
        control.add("StepResult.data", repr(dict(result.data)))
    if any(r.state == "authenticated" for r in login.handed_out):
        assert control.scan(secrets, figures=False), "the scan cannot see the tokens"
    # the handles the application keeps, and each flow's binding hash once opened, are seen
    for fid in login.ids:
        handle_control = Scanner()
        handle_control.add("the application's session", login.handles[fid])
        assert handle_control.scan(handles, figures=False), "the scan cannot see handles"
    opened = Scanner()
    opened.add("opened context", repr([f.context.binding for f in flows]))
    assert opened.scan(bindings, figures=False) == [
        f"opened context: a 64-character secret x{len(bindings)}"
    ], "the scan cannot see binding hashes"
