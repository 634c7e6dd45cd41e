"""``flowengine flow ...``: one step per process, one JSON object on stdout.

Every subcommand after ``start`` takes the flow's resume HANDLE, loads the flow
from the store, applies one step under the repository's claim
(``with repo.step(handle) as flow``), saves it, and prints exactly one JSON
object carrying the NEXT handle: each step spends the handle it was given, so
the caller keeps the one printed last. A failed step leaves the stored flow as
it was (print no handle: the one given still resumes it), except where Auth0's
answer ended the flow (rejected, locked, expired): that is saved, its next
handle printed, and the command still fails with exit code 6.

A flow id is a name (it is in logs and in ``show``), not a capability: given in
place of a handle it is refused (``InvalidHandleError``, exit 2) before the store
is asked to claim anything or Auth0 is sent a byte. A handle is a bearer
secret, so it is printed in one place only, the top-level ``"handle"`` member
meant for the caller: never in an error message, never on stderr, never in
``show``'s facts.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from flowengine import _machine as m
from flowengine._context import SHOWN_FIELDS
from flowengine._errors import FlowClosedError, FlowEngineError, InvalidInputError
from flowengine._flow import Flow, StepResult
from flowengine._handle import Handle
from flowengine._repository import FlowRepository
from flowengine._sync import FlowClient
from flowengine.cli import _output as out
from flowengine.cli._parser import CliParser, Formatter
from flowengine.cli._settings import CONFIG_HELP, add_config_options, auth0_config, repository

FACTOR_TYPES = ("sms", "voice", "email", "otp", "push")

#: Context facts ``flow show`` prints: progress counters and kinds, never a secret
#: (declared on the context's fields: ``flowengine._context``).
SHOW_CONTEXT_FIELDS = SHOWN_FIELDS

FLOW_EPILOG = f"""\
examples (one process per step; each prints one JSON object and the next handle):
  export AUTH0_DOMAIN=example.eu.auth0.com AUTH0_CLIENT_ID=...
  h=$(flowengine flow start --connection sms --phone-number +15550100 | jq -r .handle)
  h=$(flowengine flow verify "$h" --code 123456 | jq -r .handle)
  h=$(flowengine flow authenticators "$h" | jq -r .handle)
  h=$(flowengine flow enroll "$h" --type sms --phone-number +15550100 | jq -r .handle)
  flowengine flow confirm "$h" --code 654321      # → "state": "authenticated", tokens
  flowengine flow show "$h"

Handles: every step takes the HANDLE printed by the previous command and prints
the next one ("handle"); the one it was given then resumes nothing
(StaleHandleError, exit 3). A handle is a secret: whoever holds it can take the
flow's next step, so keep it like a password (a shell variable, not a log). A
bare flow id resumes nothing (InvalidHandleError, exit 2).

Output: success is {{"flow_id", "state", "handle", ...}}; a failure is
{{"flow_id", "state", "error": {{"type", "message", ...}}}} with a non-zero exit,
plus "handle" when the failed step was saved (the flow ended, exit 6; an
uncertain send, exit 5): a failure without one left the flow as it was, and
the handle given still resumes it.
A wrong code is counted by the flow and reported as error.type "WrongCodeError"
(exit 4) with "attempts" and the next "handle". Never printed: mfa_token,
oob_code, typed codes, the client secret. Printed when a step produces them for
the user: tokens (on authenticated), recovery_codes, secret and barcode_uri
(enrollment), the new recovery_code.

{CONFIG_HELP}

{out.EXIT_CODES_HELP}"""

_NEXT = " | jq -r .handle)"

_EXAMPLES = {
    "start": """\
examples (keep the printed "handle": every later step takes it):
  h=$(flowengine flow start --connection sms --phone-number +15550100 | jq -r .handle)
  flowengine flow start --connection email --email ada@example.com
  printf '%s\\n' "$PW" | flowengine flow start --password-realm Username-Password-Authentication \\
      --username ada --password-stdin""",
    "resend": 'example:\n  h=$(flowengine flow resend "$h"' + _NEXT,
    "verify": 'example:\n  h=$(flowengine flow verify "$h" --code 123456' + _NEXT,
    "authenticators": 'example:\n  h=$(flowengine flow authenticators "$h"' + _NEXT,
    "enroll": """\
examples:
  h=$(flowengine flow enroll "$h" --type sms --phone-number +15550100 | jq -r .handle)
  flowengine flow enroll "$h" --type otp     # prints secret, barcode_uri and the next handle
  flowengine flow enroll "$h" --type push    # then: flowengine flow poll with the next handle""",
    "challenge": """\
examples:
  h=$(flowengine flow challenge "$h" | jq -r .handle)
  h=$(flowengine flow challenge "$h" --authenticator-id 'sms|dev_abc' | jq -r .handle)""",
    "confirm": """\
examples:
  flowengine flow confirm "$h" --code 654321        # SMS, voice or email code
  flowengine flow confirm "$h" --otp 123456         # TOTP app
  flowengine flow confirm "$h" --recovery-code -    # read it from stdin""",
    "poll": """\
Waits out what remains of the poll interval, then polls once. A push still
waiting exits 0 with "pending": true, "retry_after" and the next handle.
example (again, with the new handle, while "pending" is true):
  out=$(flowengine flow poll "$h"); h=$(jq -r .handle <<<"$out")""",
    "rollback": """\
Undoes the last state change (or goes back to the latest visit of --to). What
Auth0 already did (a code sent, an authenticator half-enrolled) is listed in
"not_undone". No Auth0 call is made.
examples:
  h=$(flowengine flow rollback "$h" | jq -r .handle)
  h=$(flowengine flow rollback "$h" --to started | jq -r .handle)""",
    "show": """\
Prints the flow the handle names without changing it: state, seq, path, the
next legal triggers, deadlines and counters. Never tokens or any other secret.
An older handle may still look ("handle_current": false); "handle" is printed
back only when the one given is the current one.
example:
  flowengine flow show "$h\"""",
    "cancel": "Abandons the flow (state cancelled); no Auth0 call.\n"
    'example:\n  flowengine flow cancel "$h"',
}

#: The positional argument of every step after ``start``.
HANDLE_HELP = (
    "the handle printed by the previous command (a secret: it resumes the flow; keep it "
    "out of logs). A bare flow id is refused."
)


class _Run:
    """What the running subcommand knows, for the object it prints.

    ``given`` is the handle from the command line: it is never printed (not
    even echoed back on a failure), only compared with the handle the
    repository minted after the step.
    """

    def __init__(self, given: str | None) -> None:
        self.given = given
        self.flow_id: str | None = None
        self.flow: Flow | None = None
        self.loaded_seq: int | None = None

    def lend(self, flow: Flow) -> None:
        """Note the flow the repository lent for this step."""
        self.flow, self.flow_id, self.loaded_seq = flow, flow.flow_id, flow.seq

    def state_after(self, exc: BaseException) -> str | None:
        if self.flow is not None:
            return self.flow.state
        state = getattr(exc, "state", None)
        return state if isinstance(state, str) else None

    def saved_handle(self) -> str | None:
        """The next handle when the failed step was saved anyway (else None: the old one holds)."""
        flow = self.flow
        if flow is None or flow.handle is None or self.loaded_seq is None:
            return None
        if flow.seq <= self.loaded_seq or flow.handle == self.given:
            return None
        return flow.handle


# ----------------------------------------------------------------- parser


def add_flow_parser(subparsers: Any) -> CliParser:
    """Register ``flow`` and its subcommands (their usage errors print JSON)."""
    flow: CliParser = subparsers.add_parser(
        "flow",
        help="apply one step of a stored flow and print one JSON object",
        description="Apply one step of a stored login flow per process.",
        epilog=FLOW_EPILOG,
        formatter_class=Formatter,
    )
    flow.json_errors = True
    sub = flow.add_subparsers(dest="flow_command", metavar="STEP", required=True)

    def add(name: str, summary: str) -> CliParser:
        p: CliParser = sub.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=_EXAMPLES[name] + "\n\n" + out.EXIT_CODES_HELP,
            formatter_class=Formatter,
        )
        p.json_errors = True
        p.set_defaults(usage_parser=p)  # for an unrecognized argument: a JSON usage error
        return p

    def with_id(p: CliParser) -> CliParser:
        p.add_argument("handle", metavar="HANDLE", help=HANDLE_HELP)
        return p

    p = add("start", "create a flow and send the first factor (a code, or a password)")
    first = p.add_mutually_exclusive_group(required=True)
    first.add_argument("--connection", choices=("sms", "email"), help="passwordless connection")
    first.add_argument("--password-realm", metavar="REALM", help="database connection name")
    p.add_argument("--phone-number", metavar="E164", help="+ and 7-15 digits (sms)")
    p.add_argument("--email", metavar="ADDRESS", help="email address (email)")
    p.add_argument("--username", metavar="U", help="username (password realm)")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password's first line from stdin"
    )
    add_config_options(p)

    add_config_options(with_id(add("resend", "send a new one-time code (replaces the old one)")))

    p = with_id(add("verify", "verify the one-time code (first factor)"))
    p.add_argument("--code", required=True, metavar="CODE", help="the code; '-' reads stdin")
    add_config_options(p)

    add_config_options(with_id(add("authenticators", "list the user's enrolled authenticators")))

    p = with_id(add("enroll", "enroll a second factor"))
    p.add_argument("--type", required=True, choices=FACTOR_TYPES, dest="factor")
    p.add_argument("--phone-number", metavar="E164", help="for sms and voice")
    p.add_argument("--email", metavar="ADDRESS", help="for email (default: the user's)")
    add_config_options(p)

    p = with_id(add("challenge", "challenge an enrolled authenticator"))
    p.add_argument("--authenticator-id", metavar="ID", help="default: Auth0 picks one")
    add_config_options(p)

    p = with_id(add("confirm", "confirm the second factor"))
    code = p.add_mutually_exclusive_group(required=True)
    code.add_argument("--code", metavar="CODE", help="SMS/voice/email code ('-': stdin)")
    code.add_argument("--otp", metavar="CODE", help="TOTP code ('-': stdin)")
    code.add_argument("--recovery-code", metavar="CODE", help="recovery code ('-': stdin)")
    add_config_options(p)

    add_config_options(with_id(add("poll", "wait for the poll interval, then poll a push once")))

    p = with_id(add("rollback", "go back one state change (or to --to STATE)"))
    p.add_argument("--to", choices=m.STATES, metavar="STATE", help="a state in the flow's past")
    add_config_options(p, tenant=False)

    add_config_options(with_id(add("show", "print the stored flow (no secrets)")), tenant=False)
    add_config_options(with_id(add("cancel", "abandon the flow")), tenant=False)
    return flow


# --------------------------------------------------------------- running


def run(args: argparse.Namespace) -> int:
    """Run one ``flow`` subcommand; print one JSON object; return the exit code."""
    state = _Run(getattr(args, "handle", None))
    handler = _HANDLERS[args.flow_command]
    try:
        payload, code = handler(args, state)
    except KeyboardInterrupt as exc:
        payload = _failure(state, exc)
        payload["error"] = {"type": "Interrupted", "message": "interrupted; the flow is kept"}
        code = out.EXIT_INTERRUPTED
    except Exception as exc:
        if getattr(args, "verbose", False) and not isinstance(exc, FlowEngineError):
            traceback.print_exc(file=sys.stderr)
        payload, code = _failure(state, exc), out.exit_code_for(exc)
    out.emit_json(payload)
    return code


def _failure(state: _Run, exc: BaseException) -> dict[str, Any]:
    flow_id = state.flow_id
    if flow_id is None and isinstance(getattr(exc, "flow_id", None), str):
        flow_id = exc.flow_id  # type: ignore[attr-defined]
    payload: dict[str, Any] = {"flow_id": flow_id, "state": state.state_after(exc)}
    handle = state.saved_handle()
    if handle is not None:
        payload["handle"] = handle
    payload["error"] = out.error_object(exc)
    return payload


def _applied(result: StepResult, flow: Flow) -> tuple[dict[str, Any], int]:
    """The object for an applied step, with the next handle beside the flow id and state."""
    if flow.handle is None:  # the repository mints it on every saved or released step
        raise FlowClosedError("the step was applied but no handle was minted for it")
    body = out.result_object(result)
    payload = {"flow_id": body.pop("flow_id"), "state": body.pop("state"), "handle": flow.handle}
    payload.update(body)
    return payload, out.EXIT_REMOTE if "error" in payload else out.EXIT_OK


def _authenticate(repo: FlowRepository, state: _Run, handle: str) -> str:
    """Refuse what is not a handle before the store is touched; note the flow it names.

    The repository checks the handle again (and its binding, its freshness) in
    ``step``; this early check only lets a failure name the flow (a tampered
    row, a stale handle) without ever echoing the handle itself.
    """
    state.flow_id = Handle.decode(handle, repo.keyring).flow_id
    return handle


def _read_secret(value: str) -> str:
    """``-`` means: read the first line of stdin (keeps a code out of ``ps``)."""
    if value != "-":
        return value
    return sys.stdin.readline().rstrip("\r\n")


def _step(
    args: argparse.Namespace,
    state: _Run,
    action: Callable[[FlowClient, Flow], StepResult],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[str, Any], int]:
    config = auth0_config(args)
    with (
        repository(args) as repo,
        FlowClient(config, sleep=sleep) as client,
        repo.step(_authenticate(repo, state, args.handle)) as flow,
    ):
        state.lend(flow)
        result = action(client, flow)
    return _applied(result, flow)


def _local_step(
    args: argparse.Namespace, state: _Run, action: Callable[[Flow, float], StepResult]
) -> tuple[dict[str, Any], int]:
    with repository(args) as repo, repo.step(_authenticate(repo, state, args.handle)) as flow:
        state.lend(flow)
        result = action(flow, time.time())
    return _applied(result, flow)


def _start(args: argparse.Namespace, state: _Run) -> tuple[dict[str, Any], int]:
    config = auth0_config(args)
    password = ""
    if args.connection == "sms" and args.phone_number is None:
        raise InvalidInputError("phone_number", "--phone-number is required with --connection sms")
    if args.connection == "email" and args.email is None:
        raise InvalidInputError("email", "--email is required with --connection email")
    if args.password_realm is not None:
        if not args.username:
            raise InvalidInputError("username", "--username is required with --password-realm")
        if not args.password_stdin:
            raise InvalidInputError(
                "password", "pass --password-stdin and the password on stdin (never as an option)"
            )
        password = sys.stdin.readline().rstrip("\r\n")
    with repository(args) as repo, FlowClient(config) as client:
        flow = client.new_flow()
        handle = repo.add(flow)
        state.flow_id = flow.flow_id
        try:
            with repo.step(handle) as stepping:
                state.lend(stepping)
                if args.password_realm is not None:
                    result = client.login_password(
                        stepping,
                        username=args.username,
                        password=password,
                        realm=args.password_realm,
                    )
                else:
                    result = client.start_passwordless(
                        stepping,
                        connection=args.connection,
                        phone_number=args.phone_number,
                        email=args.email,
                    )
        except BaseException:
            # Nothing happened (not even an uncertain send): leave no orphan behind.
            if state.flow is not None and state.flow.seq == 0:
                with contextlib.suppress(FlowEngineError):
                    repo.delete(flow.flow_id)
                state.flow_id, state.flow = None, None
            raise
    return _applied(result, stepping)


def _resend(args: argparse.Namespace, state: _Run) -> tuple[dict[str, Any], int]:
    return _step(args, state, lambda c, f: c.resend_code(f))


def _verify(args: argparse.Namespace, state: _Run) -> tuple[dict[str, Any], int]:
    code = _read_secret(args.code)
    return _step(args, state, lambda c, f: c.verify_otp(f, code))


def _authenticators(args: argparse.Namespace, state: _Run) -> tuple[dict[str, Any], int]:
    return _step(args, state, lambda c, f: c.list_authenticators(f))


def _enroll(args: argparse.Namespace, state: _Run) -> tuple[dict[str, Any], int]:
    return _step(
        args,
        state,
        lambda c, f: c.enroll(f, args.factor, phone_number=args.phone_number, email=args.email),
    )


def _challenge(args: argparse.Namespace, state: _Run) -> tuple[dict[str, Any], int]:
    return _step(args, state, lambda c, f: c.challenge(f, authenticator_id=args.authenticator_id))


def _confirm(args: argparse.Namespace, state: _Run) -> tuple[dict[str, Any], int]:
    if args.code is not None:
        code = _read_secret(args.code)
        return _step(args, state, lambda c, f: c.confirm_oob(f, code))
    if args.otp is not None:
        otp = _read_secret(args.otp)
        return _step(args, state, lambda c, f: c.confirm_otp(f, otp))
    recovery = _read_secret(args.recovery_code)
    return _step(args, state, lambda c, f: c.confirm_recovery_code(f, recovery))


def _poll(args: argparse.Namespace, state: _Run) -> tuple[dict[str, Any], int]:
    auth0_config(args)  # a configuration error fails now, not after the wait
    # Wait before claiming the flow, so no claim is held through the interval.
    with repository(args) as repo:
        given = Handle.decode(args.handle, repo.keyring)
        state.flow_id = given.flow_id
        flow = repo.view(args.handle)
    # A spent handle is refused by the step at once: no reason to wait for it first.
    current = given.seq == flow.seq
    if current and flow.state in m.PENDING_STATES and flow.context.get("factor") == "push":
        delay = float(flow.context.get("next_poll_at") or 0.0) - time.time()
        if delay > 0 and sys.stderr.isatty():
            out.countdown(delay, "waiting for the push", sys.stderr, animate=True)
        elif delay > 0:
            time.sleep(delay)
    return _step(args, state, lambda c, f: c.poll_push(f, wait=True))


def _rollback(args: argparse.Namespace, state: _Run) -> tuple[dict[str, Any], int]:
    return _local_step(args, state, lambda f, now: f.rollback(now, to=args.to))


def _cancel(args: argparse.Namespace, state: _Run) -> tuple[dict[str, Any], int]:
    return _local_step(args, state, lambda f, now: f.cancel(now))


def _show(args: argparse.Namespace, state: _Run) -> tuple[dict[str, Any], int]:
    with repository(args) as repo:
        given = Handle.decode(args.handle, repo.keyring)
        state.flow_id = given.flow_id
        flow = repo.view(args.handle)
    state.flow = flow
    payload = show_object(flow, time.time())
    # ``view`` lets an older handle look; only a current one is printed back (the
    # same text, so a script may reassign it after any command), and a stale one
    # is never turned into the current one here.
    current = given.seq == flow.seq
    shown: dict[str, Any] = {"flow_id": payload.pop("flow_id"), "state": payload.pop("state")}
    if current:
        shown["handle"] = args.handle
    shown["handle_current"] = current
    shown.update(payload)
    return shown, out.EXIT_OK


def show_object(flow: Flow, now: float) -> dict[str, Any]:
    """The non-secret facts of a stored flow."""
    context = {k: flow.context[k] for k in SHOW_CONTEXT_FIELDS if k in flow.context}
    context["has_mfa_token"] = bool(flow.context.get("mfa_token"))
    context["has_tokens"] = flow.tokens is not None
    uncertain = flow.uncertain
    return {
        "flow_id": flow.flow_id,
        "state": flow.state,
        "seq": flow.seq,
        "final": flow.is_final,
        "path": flow.path(),
        "next": [t for t in flow.legal_triggers() if t != "expire"],
        # A request that may have reached Auth0 unanswered (null when none is in doubt).
        "uncertain": uncertain.to_json() if uncertain is not None else None,
        "created_at": flow.created_at,
        "updated_at": flow.updated_at,
        "expires_at": flow.expires_at,
        "deadline_passed": flow.deadline_passed(now),
        "context": context,
        "history": [{k: h.get(k) for k in ("seq", "from", "to", "trigger")} for h in flow.history],
        "audit": flow.audit,
    }


_HANDLERS: dict[str, Callable[[argparse.Namespace, _Run], tuple[dict[str, Any], int]]] = {
    "start": _start,
    "resend": _resend,
    "verify": _verify,
    "authenticators": _authenticators,
    "enroll": _enroll,
    "challenge": _challenge,
    "confirm": _confirm,
    "poll": _poll,
    "rollback": _rollback,
    "show": _show,
    "cancel": _cancel,
}
