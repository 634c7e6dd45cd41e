"""``flowengine flow ...``: one step per process, one JSON object on stdout.

Every subcommand loads the flow from the store, applies one step under the
repository's claim (``with repo.step(flow_id) as flow``), saves it, and prints
exactly one JSON object. A failed step leaves the stored flow as it was, except
where Auth0's answer ended the flow (rejected, locked, expired): that is saved,
and the command still fails with exit code 6.
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
from flowengine._errors import FlowEngineError, InvalidInputError
from flowengine._flow import Flow, StepResult
from flowengine._sync import FlowClient
from flowengine.cli import _output as out
from flowengine.cli._parser import CliParser, Formatter
from flowengine.cli._settings import CONFIG_HELP, add_config_options, auth0_config, repository

FACTOR_TYPES = ("sms", "voice", "email", "otp", "push")

#: Context facts ``flow show`` prints: progress counters and kinds, never a secret
#: (declared on the context's fields: ``flowengine._context``).
SHOW_CONTEXT_FIELDS = SHOWN_FIELDS

FLOW_EPILOG = f"""\
examples (one process per step; each prints one JSON object):
  export AUTH0_DOMAIN=example.eu.auth0.com AUTH0_CLIENT_ID=...
  id=$(flowengine flow start --connection sms --phone-number +15550100 | jq -r .flow_id)
  flowengine flow verify "$id" --code 123456
  flowengine flow authenticators "$id"
  flowengine flow enroll "$id" --type sms --phone-number +15550100
  flowengine flow confirm "$id" --code 654321        # → "state": "authenticated", tokens
  flowengine flow show "$id"

Output: success is {{"flow_id", "state", ...}}; a failure is
{{"flow_id", "state", "error": {{"type", "message", ...}}}} with a non-zero exit.
A wrong code is counted by the flow and reported as error.type "WrongCodeError"
(exit 4) with "attempts". Never printed: mfa_token, oob_code, typed codes, the
client secret. Printed when a step produces them for the user: tokens (on
authenticated), recovery_codes, secret and barcode_uri (enrollment), the new
recovery_code.

{CONFIG_HELP}

{out.EXIT_CODES_HELP}"""

_EXAMPLES = {
    "start": """\
examples:
  flowengine flow start --connection sms --phone-number +15550100
  flowengine flow start --connection email --email ada@example.com
  printf '%s\\n' "$PW" | flowengine flow start --password-realm Username-Password-Authentication \\
      --username ada --password-stdin""",
    "resend": "example:\n  flowengine flow resend fl_0123...",
    "verify": "example:\n  flowengine flow verify fl_0123... --code 123456",
    "authenticators": "example:\n  flowengine flow authenticators fl_0123...",
    "enroll": """\
examples:
  flowengine flow enroll fl_0123... --type sms --phone-number +15550100
  flowengine flow enroll fl_0123... --type otp     # prints secret and barcode_uri
  flowengine flow enroll fl_0123... --type push    # then: flowengine flow poll fl_0123...""",
    "challenge": """\
examples:
  flowengine flow challenge fl_0123...
  flowengine flow challenge fl_0123... --authenticator-id 'sms|dev_abc'""",
    "confirm": """\
examples:
  flowengine flow confirm fl_0123... --code 654321        # SMS, voice or email code
  flowengine flow confirm fl_0123... --otp 123456         # TOTP app
  flowengine flow confirm fl_0123... --recovery-code -    # read it from stdin""",
    "poll": """\
Waits out what remains of the poll interval, then polls once. A push still
waiting exits 0 with "pending": true and "retry_after".
example:
  until flowengine flow poll fl_0123... | jq -e '.pending != true'; do :; done""",
    "rollback": """\
Undoes the last state change (or goes back to the latest visit of --to). What
Auth0 already did (a code sent, an authenticator half-enrolled) is listed in
"not_undone". No Auth0 call is made.
examples:
  flowengine flow rollback fl_0123...
  flowengine flow rollback fl_0123... --to started""",
    "show": """\
Prints the stored flow without changing it: state, seq, path, the next legal
triggers, deadlines and counters. Never tokens or any other secret.
example:
  flowengine flow show fl_0123...""",
    "cancel": "Abandons the flow (state cancelled); no Auth0 call.\n"
    "example:\n  flowengine flow cancel fl_0123...",
}


class _Run:
    """What the running subcommand knows, for the error object if it fails."""

    def __init__(self, flow_id: str | None) -> None:
        self.flow_id = flow_id
        self.flow: Flow | None = None

    def state_after(self, exc: BaseException) -> str | None:
        if self.flow is not None:
            return self.flow.state
        state = getattr(exc, "state", None)
        return state if isinstance(state, str) else None


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
        return p

    def with_id(p: CliParser) -> CliParser:
        p.add_argument("flow_id", metavar="FLOW_ID", help="the id printed by `flow start`")
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
    state = _Run(getattr(args, "flow_id", None))
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
    return {
        "flow_id": state.flow_id,
        "state": state.state_after(exc),
        "error": out.error_object(exc),
    }


def _applied(result: StepResult) -> tuple[dict[str, Any], int]:
    payload = out.result_object(result)
    return payload, out.EXIT_REMOTE if "error" in payload else out.EXIT_OK


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
        repo.step(args.flow_id) as flow,
    ):
        state.flow = flow
        result = action(client, flow)
    return _applied(result)


def _local_step(
    args: argparse.Namespace, state: _Run, action: Callable[[Flow, float], StepResult]
) -> tuple[dict[str, Any], int]:
    with repository(args) as repo, repo.step(args.flow_id) as flow:
        state.flow = flow
        result = action(flow, time.time())
    return _applied(result)


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
        repo.add(flow)
        state.flow_id = flow.flow_id
        try:
            with repo.step(flow.flow_id) as stepping:
                state.flow = stepping
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
    return _applied(result)


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
        flow = repo.get(args.flow_id)
    if flow.state in m.PENDING_STATES and flow.context.get("factor") == "push":
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
        flow = repo.get(args.flow_id)
    state.flow = flow
    return show_object(flow, time.time()), out.EXIT_OK


def show_object(flow: Flow, now: float) -> dict[str, Any]:
    """The non-secret facts of a stored flow."""
    context = {k: flow.context[k] for k in SHOW_CONTEXT_FIELDS if k in flow.context}
    context["has_mfa_token"] = bool(flow.context.get("mfa_token"))
    context["has_tokens"] = flow.tokens is not None
    return {
        "flow_id": flow.flow_id,
        "state": flow.state,
        "seq": flow.seq,
        "final": flow.is_final,
        "path": flow.path(),
        "next": [t for t in flow.legal_triggers() if t != "expire"],
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
