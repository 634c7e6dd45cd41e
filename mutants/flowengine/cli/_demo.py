"""``flowengine demo``: three logins against a local emulator, every step resumed from the store.

No network and no account: the Auth0 emulator serves on 127.0.0.1 in a
background thread, and the flows live in a SQLite file in a temporary directory.
Every step builds a fresh ``FlowClient``, ``FlowRepository`` and store
connection, so the only thing that carries a flow from one step to the next is
its sealed snapshot in the store, exactly as between two web requests. What
resumes it is the flow's resume handle: ``repo.add`` returns the first, every
``repo.step(handle)`` block leaves the next one on ``flow.handle``, and the demo
keeps it the way a web application keeps it in the user's session (in memory
here, never printed: a handle is a bearer secret; the flow id it prints is a
name only).

Time is real except while a push waits: the demo's clock skips the 5 s poll
interval (after a short spinner) so the whole demo takes a few seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from flowengine import _machine as m
from flowengine._config import Auth0Config
from flowengine._errors import FlowEngineError, LocalError
from flowengine._flow import Flow, StepResult
from flowengine._repository import FlowRepository
from flowengine._snapshot import Keyring
from flowengine._sync import FlowClient
from flowengine.cli._emulator_cmd import PUBLIC_CLIENT_ID, serve_emulator
from flowengine.cli._output import (
    EXIT_INTERNAL,
    EXIT_OK,
    Style,
    countdown,
    error_object,
    mask_address,
    mask_code,
    use_colour,
)
from flowengine.cli._parser import Formatter
from flowengine.cli._settings import ENV_KEYS, sqlite_url
from flowengine.stores import open_store

if TYPE_CHECKING:  # imported when the demo runs, not for every command
    from flowengine.testing import Auth0Emulator

PHONE = "+15550100"
EMAIL = "ada@example.com"
#: Real seconds a push wait is shown for; the rest of the interval is skipped.
PUSH_WAIT_SHOWN = 0.6

_EPILOG = """\
Starts the Auth0 emulator on 127.0.0.1 and runs, one fresh engine per step:
  1. the seed sequence: passwordless SMS, verify, enroll SMS (with one rollback
     and a step refused out of order), confirm;
  2. a second login of that user: a wrong code (only the attempt is counted),
     the right one, list authenticators, challenge SMS, confirm;
  3. an email login that enrolls a Guardian push and polls it.
Each transition is printed as it happens (state from → to, the Auth0 call, its
status), then the final state and the Mermaid text of the path taken.

examples:
  flowengine demo
  flowengine demo --no-color | less
  flowengine demo --store sqlite:///tmp/demo.db --diagram path.mmd"""


def add_parser(subparsers: Any) -> None:
    """Register ``demo``."""
    p = subparsers.add_parser(
        "demo",
        help="run a whole login against a local emulator (offline)",
        description="Show what flowengine does, offline, in one command.",
        epilog=_EPILOG,
        formatter_class=Formatter,
    )
    p.add_argument("--store", metavar="URL", help="default: SQLite in a temporary directory")
    p.add_argument("--no-color", action="store_true", help="plain text even on a terminal")
    p.add_argument(
        "--diagram",
        metavar="FILE",
        help="also write the machine with the first login's path lit "
        "(.mmd, .dot, .svg or .png; svg/png need Graphviz)",
    )


class DemoClock:
    """Wall-clock time, except that push-poll waits are skipped after a short spinner."""

    def __init__(self, stream: TextIO, *, animate: bool) -> None:
        self.skipped = 0.0
        self._stream = stream
        self._animate = animate

    def time(self) -> float:
        """Now, plus every second skipped so far."""
        return time.time() + self.skipped

    def sleep(self, seconds: float) -> None:
        """Show a spinner for a moment, then skip the rest of ``seconds``."""
        real = min(seconds, PUSH_WAIT_SHOWN)
        countdown(
            real,
            "    waiting out the push poll interval, mostly skipped by the demo's clock",
            self._stream,
            animate=self._animate,
            shown_as=seconds,
        )
        self.skipped += max(seconds - real, 0.0)


class Demo:
    """The demo's engine factory and printer."""

    def __init__(
        self,
        stream: TextIO,
        style: Style,
        *,
        store_url: str,
        keys: Keyring,
        config: Auth0Config,
        clock: DemoClock,
    ) -> None:
        self.out = stream
        self.s = style
        self.store_url = store_url
        self.keys = keys
        self.config = config
        self.clock = clock
        self.steps = 0
        self.transitions: dict[str, list[tuple[str, str, str]]] = {}
        #: The current resume handle of each flow, by flow id (kept, never printed).
        self.handles: dict[str, str] = {}

    def say(self, text: str = "") -> None:
        """Print one line and flush (so it shows as it happens)."""
        self.out.write(text + "\n")
        self.out.flush()

    @contextlib.contextmanager
    def engine(self) -> Iterator[tuple[FlowRepository, FlowClient]]:
        """A fresh store connection, repository and client: nothing survives but the store."""
        store = open_store(self.store_url)
        try:
            repo = FlowRepository(store, self.keys, clock=self.clock.time)
            with FlowClient(self.config, clock=self.clock.time, sleep=self.clock.sleep) as client:
                yield repo, client
        finally:
            store.close()

    def new_flow(self) -> str:
        """Create and store a flow at seq 0."""
        with self.engine() as (repo, client):
            flow = client.new_flow()
            self.handles[flow.flow_id] = repo.add(flow)
        self.transitions[flow.flow_id] = []
        self.say(f"  new flow {self.s(flow.flow_id, 'bold')} stored at seq 0")
        return flow.flow_id

    def step(
        self, flow_id: str, title: str, action: Callable[[FlowClient, Flow], StepResult]
    ) -> StepResult:
        """Resume ``flow_id`` in a fresh engine, apply ``action``, save, print the transition."""
        self.say(f"  {self.s('▸', 'blue')} {title}")
        with self.engine() as (repo, client):
            with repo.step(self.handles[flow_id]) as flow:
                where = f"at seq {flow.seq} from {self.store_url}"
                self.say(self.s(f"    resumed flow {_short(flow_id)} {where}", "dim"))
                result = action(client, flow)
            self.handles[flow_id] = _next_handle(flow)
            saved = repo.store.load(flow_id).seq
        self.steps += 1
        self.transitions[flow_id].append((result.source, result.trigger, result.state))
        self.say(self._transition_line(result, saved))
        return result

    def _transition_line(self, r: StepResult, saved: int) -> str:
        from flowengine._table import call_text

        trigger = m.TRIGGERS.get(r.trigger)
        what = call_text(trigger.call if trigger is not None else None)
        if r.status_code is None:
            status = self.s("local", "dim")
        else:
            text = f"{r.status_code} {r.error or 'OK'}"
            colour = "green" if r.status_code < 300 else "yellow"
            status = self.s(text, colour)
        moved = self.s(f"{r.source} → {r.state}", "cyan", "bold")
        pad = " " * max(2, 40 - len(f"{r.source} → {r.state}"))
        return f"    {moved}{pad}{what:<40} {status}  {self.s(f'(saved seq {saved})', 'dim')}"

    def refused(
        self, flow_id: str, title: str, action: Callable[[FlowClient, Flow], StepResult]
    ) -> None:
        """Try a step the machine must refuse, and show that the stored flow did not move."""
        self.say(f"  {self.s('▸', 'blue')} {title}")
        with self.engine() as (repo, client):
            before = repo.store.load(flow_id).seq
            try:
                # A refused step saves nothing: the handle held stays the current one.
                with repo.step(self.handles[flow_id]) as flow:
                    action(client, flow)
            except LocalError as exc:
                after = repo.store.load(flow_id).seq
                self.say(
                    f"    {self.s('refused', 'red', 'bold')} {type(exc).__name__}: {exc}; "
                    f"nothing sent, stored flow unchanged (seq {before} → {after})"
                )
                return
        raise RuntimeError("the machine accepted a step it must refuse")

    def note(self, text: str) -> None:
        """An indented remark under a step."""
        self.say(self.s(f"    {text}", "dim"))

    def check_sealed(self, flow_id: str, secrets: list[str]) -> None:
        """Show that the stored row does not hold ``secrets`` in clear text."""
        with self.engine() as (repo, _client):
            row = repo.store.load(flow_id).data
        leaked = [s for s in secrets if s and s in row]
        if leaked:
            raise RuntimeError("a secret is in the stored snapshot's clear text")
        self.note(
            f"stored row: {len(row)} bytes, authenticated; the mfa_token and the "
            "phone number are encrypted, not in its clear text"
        )


def _next_handle(flow: Flow) -> str:
    """The handle the repository left on ``flow`` after its step block."""
    if flow.handle is None:
        raise RuntimeError("the repository minted no handle after the step")
    return flow.handle


def _short(flow_id: str) -> str:
    return flow_id[:11] + "…"


def _wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


def path_mermaid(steps: list[tuple[str, str, str]]) -> str:
    """A small Mermaid ``stateDiagram-v2`` of the transitions one flow took, in order."""
    lines = ["stateDiagram-v2", "    direction LR", f"    [*] --> {m.STARTED}"]
    n = 0
    for source, trigger, dest in steps:
        if source == dest:
            continue
        n += 1
        lines.append(f"    {source} --> {dest} : {n} {trigger}")
    if steps and steps[-1][2] in m.FINAL_STATES:
        lines.append(f"    {steps[-1][2]} --> [*]")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Run the demo; 0 when every login ended ``authenticated``."""
    stream = sys.stdout
    style = Style(use_colour(stream, disabled=args.no_color))
    clock = DemoClock(stream, animate=stream.isatty())
    from flowengine.testing import Auth0Emulator, PushScript

    emu = Auth0Emulator(push_poll_interval=0.5, tenant_name="flowengine-demo")
    emu.add_client(PUBLIC_CLIENT_ID)
    emu.push_script = PushScript(pending=1, outcome="approve")
    try:
        # A key from the environment lets a --store outlive the demo; else a throw-away one.
        env_keys = os.environ.get(ENV_KEYS)
        keys = Keyring.from_env_value(env_keys) if env_keys is not None else Keyring.generate()
        with contextlib.ExitStack() as stack:
            server = serve_emulator(emu)
            stack.callback(server.stop)
            if args.store:
                url = args.store
            else:
                tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="flowengine-demo-"))
                url = sqlite_url(Path(tmp) / "flows.db")
            demo = Demo(
                stream,
                style,
                store_url=url,
                keys=keys,
                config=Auth0Config(domain=server.url, client_id=PUBLIC_CLIENT_ID),
                clock=clock,
            )
            first = _script(demo, emu, server.url)
            if args.diagram:
                _write_diagram(demo, first, Path(args.diagram))
        return EXIT_OK
    except Exception as exc:  # the demo reports any failure in one line, exit 1
        err = (
            error_object(exc)
            if isinstance(exc, FlowEngineError)
            else {"type": type(exc).__name__, "message": str(exc)}
        )
        stream.write(f"\n{style('demo failed', 'red', 'bold')}: {err['type']}: {err['message']}\n")
        stream.flush()
        return EXIT_INTERNAL


def _script(demo: Demo, emu: Auth0Emulator, url: str) -> str:
    """The three logins; returns the first login's flow id."""
    s, say, note = demo.s, demo.say, demo.note
    say(s("flowengine demo", "bold") + ": Auth0 passwordless + MFA as a resumable state machine")
    say(f"  emulator  {url}  (a local Auth0 tenant; public client {PUBLIC_CLIENT_ID})")
    say(f"  store     {demo.store_url}")
    say("  each step: a fresh client, repository and store connection resume the flow")
    say("  from its sealed snapshot, apply one step, and save it (compare-and-swap on seq)")

    say()
    say(s("Login 1", "bold") + ": passwordless SMS → verify → enroll SMS → confirm")
    first = demo.new_flow()
    demo.step(
        first,
        f"start_passwordless: send a code by SMS to {mask_address(PHONE)}",
        lambda c, f: c.start_passwordless(f, connection="sms", phone_number=PHONE),
    )
    code = emu.last_code(PHONE)
    note(f"(emulator outbox: code {mask_code(code)} delivered to {mask_address(PHONE)})")
    demo.refused(
        first,
        "enroll before the first factor is verified (out of order)",
        lambda c, f: c.enroll(f, "sms", phone_number=PHONE),
    )
    demo.step(first, "verify_otp: the code the user typed", lambda c, f: c.verify_otp(f, code))
    with demo.engine() as (repo, _client):
        mfa_token = str(repo.get(first).context.get("mfa_token", ""))
    demo.check_sealed(first, [mfa_token, PHONE])
    result = demo.step(
        first,
        f"enroll sms at {mask_address(PHONE)}",
        lambda c, f: c.enroll(f, "sms", phone_number=PHONE),
    )
    for rc in result.data.get("recovery_codes", []):
        note(f"recovery code for the user (shown once): {mask_code(str(rc))}")
    result = demo.step(first, "rollback: the user pressed back", lambda c, f: c.rollback(f))
    for item in result.data.get("not_undone", []):
        note(f"could not be undone: {item['trigger']}: {item['effect']}")
    demo.step(
        first,
        f"enroll sms at {mask_address(PHONE)} again",
        lambda c, f: c.enroll(f, "sms", phone_number=PHONE),
    )
    code = emu.last_code(PHONE, purpose="mfa")
    note(f"(emulator outbox: code {mask_code(code)} delivered to {mask_address(PHONE)})")
    demo.step(first, "confirm_oob: the SMS code", lambda c, f: c.confirm_oob(f, code))

    say()
    say(s("Login 2", "bold") + ": the same user; the enrolled authenticator is challenged")
    second = demo.new_flow()
    demo.step(
        second,
        f"start_passwordless: send a code by SMS to {mask_address(PHONE)}",
        lambda c, f: c.start_passwordless(f, connection="sms", phone_number=PHONE),
    )
    code = emu.last_code(PHONE, purpose="passwordless")
    result = demo.step(
        second, "verify_otp: a mistyped code", lambda c, f: c.verify_otp(f, _wrong(code))
    )
    note(f"wrong code: only the attempt is counted ({result.data.get('attempts')} of 3)")
    demo.step(second, "verify_otp: the right code", lambda c, f: c.verify_otp(f, code))
    result = demo.step(second, "list_authenticators", lambda c, f: c.list_authenticators(f))
    active = [a for a in result.data.get("authenticators", []) if a.get("active")]
    for a in active:
        note(f"enrolled: {a['id']} ({a.get('oob_channel') or a['authenticator_type']})")
    sms = next(a["id"] for a in active if a.get("oob_channel") == "sms")
    demo.step(
        second,
        f"challenge {sms}",
        lambda c, f: c.challenge(f, authenticator_id=sms),
    )
    code = emu.last_code(PHONE, purpose="mfa")
    note(f"(emulator outbox: code {mask_code(code)} delivered to {mask_address(PHONE)})")
    demo.step(second, "confirm_oob: the SMS code", lambda c, f: c.confirm_oob(f, code))

    say()
    say(s("Login 3", "bold") + ": passwordless email → verify → enroll a Guardian push → poll")
    third = demo.new_flow()
    demo.step(
        third,
        f"start_passwordless: send a code by email to {mask_address(EMAIL)}",
        lambda c, f: c.start_passwordless(f, connection="email", email=EMAIL),
    )
    code = emu.last_code(EMAIL)
    demo.step(third, "verify_otp: the emailed code", lambda c, f: c.verify_otp(f, code))
    demo.step(third, "enroll push", lambda c, f: c.enroll(f, "push"))
    note("(the barcode_uri goes to the Guardian app; `flowengine login` shows it as a QR code)")
    final = demo.step(third, "poll_push", lambda c, f: c.poll_push(f, wait=True))
    while final.state != m.AUTHENTICATED:
        if final.outcome not in ("pending", "slow_down"):
            raise RuntimeError(f"the push ended in {final.state}")
        final = demo.step(third, "poll_push", lambda c, f: c.poll_push(f, wait=True))

    say()
    states = []
    with demo.engine() as (repo, _client):
        states = [repo.get(fid).state for fid in (first, second, third)]
    if any(state != m.AUTHENTICATED for state in states):
        raise RuntimeError(f"the logins ended in {', '.join(states)}")
    say(
        f"{s('final state', 'bold')}: {s(m.AUTHENTICATED, 'green', 'bold')} "
        f"(3 logins, {demo.steps} steps, each in a fresh engine resumed from the store)"
    )
    say()
    say(s("Path taken by login 1 (Mermaid):", "bold"))
    demo.out.write(path_mermaid(demo.transitions[first]))
    demo.out.flush()
    return first


def _write_diagram(demo: Demo, flow_id: str, target: Path) -> None:
    from flowengine import diagram

    with demo.engine() as (repo, _client):
        flow = repo.get(flow_id)
    fmt = {".dot": "dot", ".svg": "svg", ".png": "png"}.get(target.suffix.lower(), "mermaid")
    data = diagram.flow_diagram(
        flow.path(),
        flow.state,
        fmt,  # type: ignore[arg-type]
        steps=diagram.history_steps(flow.history),
    )
    target.write_bytes(data)
    demo.say(f"diagram of the machine with this path lit: {target}")
