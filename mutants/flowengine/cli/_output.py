"""What the command line prints: allow-listed JSON objects, exit codes, terminal styling.

Secret hygiene lives here. A step's ``StepResult.data`` can hold secrets meant for
the user (tokens on ``authenticated``, recovery codes, a TOTP secret and its
``barcode_uri``, the new recovery code); only the fields named in this module
are ever copied into output, so an mfa_token, an oob_code, a typed code or the
client secret cannot reach stdout even if a future step starts producing one.

Resume handles are bearer secrets: ``flowengine flow`` prints one only as the
top-level ``"handle"`` member meant for the caller. Every error message leaving
this module goes through ``redact_handles`` first, so a handle quoted by
mistake (a usage error naming an extra argument, a future message) is masked.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from flowengine._errors import (
    FlowClosedError,
    FlowEndedError,
    FlowEngineError,
    FlowNotFoundError,
    GuardRejectedError,
    IllegalTransitionError,
    InvalidInputError,
    RateLimitedError,
    RemoteError,
    ServerError,
    SnapshotError,
    StaleSnapshotError,
    StoreError,
    TransportError,
)
from flowengine._flow import StepResult
from flowengine._validate import escape_recipient

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_STORE = 3
EXIT_REMOTE = 4
EXIT_TRANSPORT = 5
EXIT_ENDED = 6
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """\
exit codes:
  0    the step was applied (a pending push is a success: "pending": true)
  1    an unexpected internal error (run with -v for details)
  2    usage or local error: bad option or input, not a handle (InvalidHandleError:
       a bare flow id, a mistyped or forged handle), unknown flow, a step out of
       order (IllegalTransitionError), a guard said no (GuardRejectedError),
       configuration (TenantMismatchError: the flow is another tenant's)
  3    the stored flow cannot be trusted or used: a tampered, replayed
       (SnapshotReplayError) or unreadable snapshot (SnapshotError), a stale
       handle (StaleHandleError: another step already spent it; use the newest),
       another process holds the flow
  4    Auth0 said no: a wrong code or password (the attempt is counted), a
       rate limit (reset_at), a 5xx, a malformed answer, any other Auth0 error
  5    the network failed; the flow did not advance ("ambiguous": true when the
       request may have reached Auth0: a start is then only sent again by
       `flow resend`)
  6    Auth0's answer ended the flow: it is now rejected, locked or expired
  130  interrupted (Ctrl-C); the stored flow is kept"""

#: The token fields printed on ``authenticated``.
TOKEN_FIELDS = ("access_token", "id_token", "refresh_token", "expires_in", "token_type", "scope")
#: The authenticator fields printed by ``flow authenticators``.
AUTHENTICATOR_FIELDS = ("id", "authenticator_type", "active", "oob_channel", "name")
#: Produced fields copied as they are (none of them is an Auth0 credential of the flow).
_PLAIN_FIELDS = (
    "factor",
    "recovery_codes",
    "secret",
    "barcode_uri",
    "recovery_code",
    "pending",
    "retry_after",
    "attempts",
    "hint",
    "mfa_requirements",
)
#: Outcomes that mean "Auth0 refused what the user typed": the attempt is counted.
WRONG_INPUT_OUTCOMES = {
    "wrong_code": ("WrongCodeError", "Auth0 rejected the code; the attempt was counted"),
    "wrong_credentials": (
        "WrongCredentialsError",
        "Auth0 rejected the username or password; the attempt was counted",
    ),
}


#: A resume handle in free text (``fh1_`` and its base64url body).
_HANDLE_TEXT = re.compile(r"fh1_[A-Za-z0-9_\-]*")


def redact_handles(text: str) -> str:
    """``text`` with every resume handle in it masked (a handle is a bearer secret)."""
    return _HANDLE_TEXT.sub("fh1_<redacted>", text)


def exit_code_for(exc: BaseException) -> int:
    """The process exit code for an exception (see ``EXIT_CODES_HELP``).

    The handle errors fall in their families on purpose: ``InvalidHandleError``
    is bad input (2), ``StaleHandleError`` is a ``StaleSnapshotError`` and
    ``SnapshotReplayError``/``SnapshotInvariantError`` are snapshot errors
    (3: the stored flow cannot be used from this handle), ``TenantMismatchError``
    is configuration (2). ``FlowClosedError`` can only be a bug of this program
    (each process steps once), so it is internal (1).
    """
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, FlowClosedError):
        return EXIT_INTERNAL
    if isinstance(exc, FlowEndedError):
        return EXIT_ENDED
    if isinstance(exc, RemoteError):
        return EXIT_REMOTE
    if isinstance(exc, TransportError):
        return EXIT_TRANSPORT
    if isinstance(exc, FlowNotFoundError):
        return EXIT_USAGE
    if isinstance(exc, SnapshotError | StoreError):
        return EXIT_STORE
    if isinstance(exc, FlowEngineError):
        return EXIT_USAGE
    return EXIT_INTERNAL


def error_object(exc: BaseException) -> dict[str, Any]:
    """The ``error`` member for ``exc``: type, message, and the context that applies."""
    if not isinstance(exc, FlowEngineError):
        # An unexpected exception's text is not ours to vouch for: it is not printed.
        return {
            "type": type(exc).__name__,
            "message": "unexpected internal error; run with -v for details",
        }
    err: dict[str, Any] = {"type": type(exc).__name__, "message": redact_handles(str(exc))}
    if isinstance(exc, RemoteError):
        err["error"] = exc.error
        err["status_code"] = exc.status_code
        if exc.error_description:
            err["description"] = exc.error_description
        if exc.trigger:
            err["trigger"] = exc.trigger
    if isinstance(exc, RateLimitedError):
        err["reset_at"] = exc.reset_at
    if isinstance(exc, ServerError):
        err["retry_after"] = exc.retry_after
    if isinstance(exc, TransportError):
        err["trigger"] = exc.trigger
        err["ambiguous"] = exc.ambiguous
    if isinstance(exc, IllegalTransitionError | GuardRejectedError):
        err["trigger"] = exc.trigger
    if isinstance(exc, GuardRejectedError):
        err["guard"] = exc.guard
    if isinstance(exc, InvalidInputError):
        err["field"] = exc.field
    if isinstance(exc, StaleSnapshotError):
        err["expected_seq"] = exc.expected_seq
        err["actual_seq"] = exc.actual_seq
    return err


def result_object(result: StepResult) -> dict[str, Any]:
    """The JSON object for an applied step: ids, states, and the allow-listed products."""
    obj: dict[str, Any] = {
        "flow_id": result.flow_id,
        "state": result.state,
        "seq": result.seq,
        "trigger": result.trigger,
        "outcome": result.outcome,
        "from_state": result.source,
        "status_code": result.status_code,
    }
    data = result.data
    for key in _PLAIN_FIELDS:
        if key in data:
            obj[key] = data[key]
    if "authenticators" in data:
        obj["authenticators"] = [authenticator_object(a) for a in data["authenticators"]]
    tokens = data.get("tokens")
    if isinstance(tokens, Mapping):
        obj["tokens"] = {k: tokens[k] for k in TOKEN_FIELDS if k in tokens}
    if "not_undone" in data:
        obj["not_undone"] = [
            {"trigger": n.get("trigger"), "effect": n.get("effect")} for n in data["not_undone"]
        ]
    wrong = WRONG_INPUT_OUTCOMES.get(result.outcome)
    if wrong is not None:
        kind, message = wrong
        obj["error"] = {
            "type": kind,
            "message": message,
            "error": result.error,
            "status_code": result.status_code,
            "trigger": result.trigger,
        }
    return obj


def authenticator_object(item: Mapping[str, Any]) -> dict[str, Any]:
    """One authenticator with exactly the public fields (missing ones are null)."""
    return {key: item.get(key) for key in AUTHENTICATOR_FIELDS}


def emit_json(obj: Mapping[str, Any], stream: TextIO | None = None) -> None:
    """Print ``obj`` as one line of JSON and flush."""
    out = stream or sys.stdout
    out.write(json.dumps(obj, separators=(", ", ": ")) + "\n")
    out.flush()


# ------------------------------------------------------------------ terminal


def use_colour(stream: TextIO, *, disabled: bool = False) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set or it was disabled."""
    if disabled or os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Style:
    """Plain ANSI styling that turns into no-ops when colour is off."""

    _CODES = {
        "bold": "1",
        "dim": "2",
        "red": "31",
        "green": "32",
        "yellow": "33",
        "blue": "34",
        "magenta": "35",
        "cyan": "36",
    }

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *styles: str) -> str:
        """``text`` wrapped in the ANSI codes of ``styles`` (when enabled)."""
        if not self.enabled or not styles:
            return text
        codes = ";".join(self._CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def countdown(
    seconds: float,
    label: str,
    stream: TextIO,
    *,
    animate: bool,
    sleep: Callable[[float], None] = time.sleep,
    shown_as: float | None = None,
) -> None:
    """Wait ``seconds``, showing a spinner and the seconds left on a terminal.

    ``shown_as`` is the wait to display when it differs from the real one (the
    demo compresses time). Without ``animate`` one plain line is written instead.
    """
    total = shown_as if shown_as is not None else seconds
    if seconds <= 0:
        return
    if not animate:
        stream.write(f"{label} ({total:.1f} s)\n")
        stream.flush()
        sleep(seconds)
        return
    start = time.monotonic()
    frame = 0
    while True:
        elapsed = time.monotonic() - start
        if elapsed >= seconds:
            break
        left = total * (1.0 - elapsed / seconds)
        stream.write(f"\r{_SPINNER[frame % len(_SPINNER)]} {label} {left:4.1f} s ")
        stream.flush()
        frame += 1
        sleep(min(0.08, seconds - elapsed))
    stream.write("\r" + " " * (len(label) + 12) + "\r")
    stream.flush()


def mask_code(code: str) -> str:
    """A code with all but its last two characters hidden."""
    return "•" * max(len(code) - 2, 0) + code[-2:]


def mask_address(address: str) -> str:
    """A phone number or email address with the middle hidden."""
    address = escape_recipient(address)  # control characters shown, never sent to the terminal
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}•••@{domain}"
    if len(address) <= 6:
        return "•" * len(address)
    return f"{address[:3]}•••{address[-4:]}"
