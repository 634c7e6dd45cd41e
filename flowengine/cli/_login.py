"""``flowengine login``: an interactive login against a tenant (or the emulator).

Every step is applied through the store (``repo.step(handle)``), like
``flowengine flow``, so Ctrl-C leaves a flow that ``flowengine flow ...`` can
resume. The session keeps the flow's current resume handle in memory (each
step block is followed by ``handle = flow.handle``, also when a failed step was
saved) and shows it only in the resume hint, where the user needs it to go on
(it is theirs, like the handle ``flow start`` prints). At any prompt, ``b`` (or
``back``) rolls the flow back one state change.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from flowengine import _machine as m
from flowengine._errors import (
    FlowEndedError,
    FlowEngineError,
    GuardRejectedError,
    InvalidInputError,
    RemoteError,
    TransportError,
)
from flowengine._flow import Flow, StepResult
from flowengine._repository import FlowRepository
from flowengine._sync import FlowClient
from flowengine._validate import escape_recipient
from flowengine.cli._output import (
    EXIT_ENDED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Style,
    countdown,
    emit_json,
    error_object,
    exit_code_for,
    use_colour,
)
from flowengine.cli._parser import Formatter
from flowengine.cli._settings import CONFIG_HELP, add_config_options, auth0_config, repository

_EPILOG = f"""\
Asks for a phone number or email address, then the code, then offers the
user's enrolled factors (or enrollment: sms, voice, email, TOTP app, Guardian
push, with a QR code in the terminal), waits on a push with a countdown.
Type b (back) at any prompt to roll back one step. Ctrl-C keeps the flow in the
store and prints how to resume it with `flowengine flow`.

examples:
  flowengine login --domain example.eu.auth0.com --client-id abc123
  flowengine login --password-realm Username-Password-Authentication
  flowengine emulator --port 8080 &   # then, against the emulator:
  flowengine login --domain http://127.0.0.1:8080 --client-id flowengine-demo

exit codes: 0 authenticated; 1 input ended; 2 configuration; 6 the flow was
rejected, locked or expired; 130 interrupted (the flow is kept).

{CONFIG_HELP}"""

_FACTORS = (
    ("sms", "SMS code"),
    ("voice", "voice call code"),
    ("email", "email code"),
    ("otp", "authenticator app (TOTP)"),
    ("push", "Guardian push"),
)


def add_parser(subparsers: Any) -> None:
    """Register ``login``."""
    p = subparsers.add_parser(
        "login",
        help="log in interactively (passwordless + MFA)",
        description="Log in interactively against an Auth0 tenant or the emulator.",
        epilog=_EPILOG,
        formatter_class=Formatter,
    )
    p.add_argument("--password-realm", metavar="REALM", help="log in with a password instead")
    p.add_argument(
        "--show-tokens", action="store_true", help="print the tokens as JSON when authenticated"
    )
    p.add_argument("--no-color", action="store_true", help="plain text even on a terminal")
    p.add_argument(
        "--forwarded-for",
        metavar="IP",
        help="the end user's IP, sent as auth0-forwarded-for (confidential clients with a secret)",
    )
    add_config_options(p)


class _Back(Exception):
    """The user typed ``b``."""


class Session:
    """One interactive login over a repository and a client."""

    def __init__(
        self,
        repo: FlowRepository,
        client: FlowClient,
        args: argparse.Namespace,
        *,
        stdin: TextIO,
        stdout: TextIO,
    ) -> None:
        self.repo = repo
        self.client = client
        self.args = args
        self.stdin = stdin
        self.out = stdout
        self.s = Style(use_colour(stdout, disabled=args.no_color))
        self.flow_id: str | None = None
        #: The flow's current resume handle (a secret: only the resume hint shows it).
        self.handle: str | None = None
        self.listed: list[dict[str, Any]] | None = None
        self.phone: str | None = None
        #: The verified claims of the id_token, once a step returned one.
        self.claims: dict[str, Any] | None = None
        #: The tokens of the step that authenticated: the stored flow drops them once delivered.
        self.tokens: dict[str, Any] | None = None
        self.ip: str | None = getattr(args, "forwarded_for", None)

    # ------------------------------------------------------------- terminal

    def say(self, text: str = "") -> None:
        """Print a line and flush."""
        self.out.write(text + "\n")
        self.out.flush()

    def ask(self, prompt: str, *, default: str | None = None, back: bool = True) -> str:
        """Read one answer; ``b`` raises ``_Back``; end of input raises ``EOFError``."""
        shown = f"{prompt} [{default}]: " if default else f"{prompt}: "
        self.out.write(shown)
        self.out.flush()
        line = self.stdin.readline()
        if not line:
            raise EOFError
        answer = line.strip()
        if back and answer.lower() in ("b", "back"):
            raise _Back
        return answer or (default or "")

    def ask_secret(self, prompt: str) -> str:
        """A password: hidden on a terminal, one line of stdin otherwise."""
        if self.stdin.isatty():
            return getpass.getpass(f"{prompt}: ")
        return self.ask(prompt, back=False)

    def qr(self, uri: str) -> None:
        """Draw ``uri`` as a QR code in the terminal (needs segno, the [cli] extra)."""
        try:
            import segno
        except ImportError:
            self.say("  (no QR code drawn: segno is missing; pip install 'flowengine[cli]')")
            return
        segno.make(uri, error="m").terminal(out=self.out, compact=True)
        self.out.flush()

    # --------------------------------------------------------------- steps

    def flow(self) -> Flow:
        """The stored flow, as it is now (read through the handle; nothing is claimed)."""
        assert self.handle is not None
        return self.repo.view(self.handle)

    @contextlib.contextmanager
    def stepping(self) -> Iterator[Flow]:
        """``repo.step(handle)``, then keep the next handle, whether the step failed or not.

        A failed step that was saved anyway (an uncertain send, a flow Auth0
        ended) has a new handle; one that was not keeps the old one (the flow's
        ``handle`` is then the same text, or unset when the save failed).
        """
        assert self.handle is not None
        lent: Flow | None = None
        try:
            with self.repo.step(self.handle) as flow:
                lent = flow
                yield flow
        finally:
            if lent is not None and lent.handle is not None:
                self.handle = lent.handle

    def step(self, action: Callable[[Flow], StepResult]) -> StepResult | None:
        """Apply one step through the store; report recoverable errors and return None."""
        try:
            with self.stepping() as flow:
                result = action(flow)
            claims = result.data.get("claims")
            if isinstance(claims, dict):
                self.claims = claims
            if result.tokens:
                self.tokens = dict(result.tokens)
        except FlowEndedError:
            raise
        except (InvalidInputError, GuardRejectedError, RemoteError, TransportError) as exc:
            err = error_object(exc)
            self.say(self.s(f"  {err['message']}", "red"))
            return None
        if result.outcome == "wrong_code":
            self.say(self.s(f"  Wrong code (attempt {result.data.get('attempts')}).", "red"))
        elif result.outcome == "wrong_credentials":
            self.say(self.s("  Wrong username or password.", "red"))
        elif result.data.get("hint"):
            self.say(f"  {result.data['hint']}")
        return result

    def rollback(self) -> None:
        """Go back one state change and say what Auth0 keeps."""
        try:
            with self.stepping() as flow:
                result = self.client.rollback(flow)
        except GuardRejectedError:
            self.say("  Nothing to go back to.")
            return
        self.listed = None
        self.say(self.s(f"  back: {result.source} → {result.state}", "yellow"))
        for item in result.data.get("not_undone", []):
            self.say(self.s(f"  (not undone: {item['effect']})", "dim"))

    # ---------------------------------------------------------------- loop

    def run(self) -> int:
        """Drive the flow to a final state; return the exit code."""
        new = self.client.new_flow()
        self.handle = self.repo.add(new)
        self.flow_id = new.flow_id
        self.say(self.s(f"flow {self.flow_id}", "dim"))
        handlers: dict[str, Callable[[], None]] = {
            m.STARTED: self.first_factor,
            m.CODE_SENT: self.code,
            m.MFA_REQUIRED: self.second_factor,
            m.ENROLLMENT_PENDING: self.pending,
            m.CHALLENGE_PENDING: self.pending,
        }
        while True:
            flow = self.flow()
            if flow.state == m.AUTHENTICATED:
                return self.done(flow)
            if flow.is_final:
                self.say(self.s(f"The flow ended: {flow.state}.", "red", "bold"))
                return EXIT_ENDED
            try:
                handlers[flow.state]()
            except _Back:
                self.rollback()

    def first_factor(self) -> None:
        """Ask for the identifier (or username and password) and send the first factor."""
        if self.args.password_realm:
            username = self.ask("Username", back=False)
            password = self.ask_secret("Password")
            self.step(
                lambda f: self.client.login_password(
                    f,
                    username=username,
                    password=password,
                    realm=self.args.password_realm,
                    forwarded_for=self.ip,
                )
            )
            return
        who = self.ask("Phone number (like +15550100) or email", back=False)
        if "@" in who:
            self.step(
                lambda f: self.client.start_passwordless(
                    f, connection="email", email=who, forwarded_for=self.ip
                )
            )
        else:
            self.phone = who
            self.step(
                lambda f: self.client.start_passwordless(
                    f, connection="sms", phone_number=who, forwarded_for=self.ip
                )
            )

    def code(self) -> None:
        """Ask for the one-time code (r resends)."""
        answer = self.ask("Code you received (r: resend, b: back)")
        if answer.lower() in ("r", "resend"):
            if self.step(lambda f: self.client.resend_code(f, forwarded_for=self.ip)) is not None:
                self.say("  A new code was sent.")
            return
        self.step(lambda f: self.client.verify_otp(f, answer, forwarded_for=self.ip))

    def second_factor(self) -> None:
        """Offer the enrolled authenticators, or enrollment when there are none."""
        if self.listed is None:
            result = self.step(self.client.list_authenticators)
            if result is None:
                return
            self.listed = [a for a in result.data.get("authenticators", []) if a.get("active")]
        if not self.listed:
            self.enroll()
            return
        self.say("Second factor: your enrolled authenticators")
        for i, a in enumerate(self.listed, 1):
            kind = a.get("oob_channel") or a.get("authenticator_type")
            label = "recovery code" if kind == "recovery-code" else f"{kind} {a.get('name') or ''}"
            self.say(f"  {i}) {escape_recipient(label.strip())}")  # a name from the wire
        choice = self.ask("Choose (b: back)", default="1")
        try:
            picked = self.listed[int(choice) - 1]
        except (ValueError, IndexError):
            self.say("  Type one of the numbers shown.")
            return
        kind = str(picked.get("authenticator_type"))
        if kind == "recovery-code":
            code = self.ask("Recovery code")
            result = self.step(lambda f: self.client.confirm_recovery_code(f, code))
            if result is not None and result.data.get("recovery_code"):
                self.say(
                    self.s("  Your NEW recovery code (the old one is spent): ", "bold")
                    + str(result.data["recovery_code"])
                )
        elif kind == "otp":
            code = self.ask("Code from your authenticator app")
            self.step(lambda f: self.client.confirm_otp(f, code))
        else:
            self.step(lambda f: self.client.challenge(f, authenticator_id=str(picked["id"])))

    def enroll(self) -> None:
        """Offer the factors to enroll and enroll the chosen one."""
        self.say("Enroll a second factor:")
        for i, (_, label) in enumerate(_FACTORS, 1):
            self.say(f"  {i}) {label}")
        choice = self.ask("Choose (b: back)", default="1")
        try:
            factor = _FACTORS[int(choice) - 1][0]
        except (ValueError, IndexError):
            self.say("  Type one of the numbers shown.")
            return
        phone = email = None
        if factor in ("sms", "voice"):
            phone = self.ask("Phone number", default=self.phone)
        elif factor == "email":
            email = self.ask("Email address (empty: the account's)") or None
        result = self.step(lambda f: self.client.enroll(f, factor, phone_number=phone, email=email))
        if result is None or result.state != m.ENROLLMENT_PENDING:
            return
        if result.data.get("barcode_uri"):
            app = "Guardian" if factor == "push" else "authenticator"
            self.say(f"Scan this QR code with your {app} app:")
            self.qr(str(result.data["barcode_uri"]))
            if result.data.get("secret"):
                self.say(f"  or type this secret: {result.data['secret']}")
        for code in result.data.get("recovery_codes", []):
            self.say(self.s(f"  Save your recovery code: {code}", "bold"))

    def pending(self) -> None:
        """Confirm the pending factor: a typed code, a TOTP code, or waiting on a push."""
        flow = self.flow()
        factor = flow.context.get("factor")
        if factor == "push":
            self.wait_push(flow)
        elif factor == "otp":
            code = self.ask("Code from your authenticator app (b: back)")
            self.step(lambda f: self.client.confirm_otp(f, code))
        else:
            code = self.ask("Code we sent you (b: back)")
            self.step(lambda f: self.client.confirm_oob(f, code))

    def wait_push(self, flow: Flow) -> None:
        """Count down to the next poll, then poll once."""
        delay = float(flow.context.get("next_poll_at") or 0.0) - time.time()
        animate = self.out.isatty()
        if delay > 0:
            countdown(delay, "Approve the push on your phone…", self.out, animate=animate)
        result = self.step(lambda f: self.client.poll_push(f, wait=True))
        if result is not None and result.data.get("pending"):
            self.say(self.s("  still waiting for the push…", "dim"))

    def done(self, flow: Flow) -> int:
        """Report success (and the tokens with ``--show-tokens``)."""
        tokens = self.tokens or flow.tokens or {}
        names = ", ".join(k for k in ("access_token", "id_token", "refresh_token") if k in tokens)
        self.say(self.s("Authenticated.", "green", "bold") + f" Tokens received: {names}.")
        if self.claims is not None:
            who = self.claims.get("email") or self.claims.get("phone_number") or ""
            self.say(f"  Verified identity: {self.claims.get('sub')} {who}".rstrip())
        if self.args.show_tokens:
            shown: dict[str, Any] = {k: tokens[k] for k in tokens}
            if self.claims is not None:
                shown["claims"] = self.claims
            emit_json(shown, self.out)
        return EXIT_OK

    def resume_hint(self) -> None:
        """Say where the flow is and how to go on with ``flowengine flow``."""
        if self.flow_id is None or self.handle is None:
            return
        try:
            state = self.flow().state
        except FlowEngineError:
            state = "unknown"
        nxt = {
            m.CODE_SENT: 'flowengine flow verify "$h" --code CODE',
            m.MFA_REQUIRED: 'flowengine flow authenticators "$h"',
            m.ENROLLMENT_PENDING: 'flowengine flow confirm "$h" --code CODE  (push: flow poll)',
            m.CHALLENGE_PENDING: 'flowengine flow confirm "$h" --code CODE  (push: flow poll)',
        }.get(state)
        self.say(f"The flow is kept in the store: {self.flow_id} (state {state}).")
        # The one place the session shows a handle: without it the flow resumes nothing.
        self.say("  its handle (a secret: whoever holds it can take the next step):")
        self.say(f"  h={self.handle}")
        self.say('  see it:    flowengine flow show "$h"')
        if nxt:
            self.say(f"  resume it: {nxt}")


def run(args: argparse.Namespace) -> int:
    """Run an interactive login."""
    try:
        config = auth0_config(args)
        with repository(args) as repo, FlowClient(config) as client:
            session = Session(repo, client, args, stdin=sys.stdin, stdout=sys.stdout)
            try:
                return session.run()
            except KeyboardInterrupt:
                session.say("\nInterrupted.")
                session.resume_hint()
                return EXIT_INTERRUPTED
            except EOFError:
                session.say("\nInput ended.")
                session.resume_hint()
                return EXIT_INTERNAL
            except FlowEndedError as exc:
                session.say(session.s(f"The flow ended: {exc}", "red", "bold"))
                return EXIT_ENDED
    except FlowEngineError as exc:
        err = error_object(exc)
        print(f"flowengine login: {err['type']}: {err['message']}", file=sys.stderr)
        return exit_code_for(exc)
