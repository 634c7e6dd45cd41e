"""``flowengine flow`` and resume handles: only the newest handle resumes a flow, and none leaks.

The attacks are the ones a command line invites: someone who read a flow id in a
log line (or in ``show``) types it in place of the handle; a script or a second
terminal re-runs a step with the handle an earlier step already spent; a row
copied out of the store earlier is written back. Each is refused with one JSON
error object and a non-zero exit, before any request reaches Auth0 and without
changing the stored flow. The handle itself is never echoed: not in an error
message, not on stderr (``-v`` logs included), not in a usage error.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

import pytest

from flowengine._errors import InvalidHandleError
from flowengine.cli._flowcmd import _HANDLERS
from flowengine.cli._output import error_object, redact_handles
from flowengine.testing import Auth0Emulator, PushScript
from tests.cli.conftest import HANDLE_PREFIX, PHONE, Cli, Result, Resumed

#: Every command after ``start``, with the options it needs to get as far as the handle check.
LATER_COMMANDS: dict[str, tuple[str, ...]] = {
    "resend": (),
    "verify": ("--code", "123456"),
    "authenticators": (),
    "enroll": ("--type", "sms", "--phone-number", PHONE),
    "challenge": (),
    "confirm": ("--code", "123456"),
    "poll": (),
    "rollback": (),
    "show": (),
    "cancel": (),
}


def _started(cli: Cli) -> Resumed:
    return cli.start("--connection", "sms", "--phone-number", PHONE)


def _row(cli: Cli, flow_id: str) -> tuple[int, str, str]:
    db = sqlite3.connect(cli.store_path)
    try:
        row = db.execute(
            "SELECT seq, state, data FROM flows WHERE flow_id = ?", (flow_id,)
        ).fetchone()
    finally:
        db.close()
    assert row is not None
    return int(row[0]), str(row[1]), str(row[2])


def test_the_table_covers_every_later_command() -> None:
    """Every ``flow`` command but ``start`` is exercised below (a new one must be added)."""
    assert set(LATER_COMMANDS) == set(_HANDLERS) - {"start"}


@pytest.mark.parametrize("command", sorted(LATER_COMMANDS))
def test_a_bare_flow_id_is_refused(cli: Cli, emu: Auth0Emulator, command: str) -> None:
    """A flow id read from a log resumes nothing: InvalidHandleError, exit 2, no Auth0 request."""
    flow = _started(cli)
    requests, row = len(emu.requests), _row(cli, flow.flow_id)

    out = cli.step(command, flow.flow_id, *LATER_COMMANDS[command], expect=2)

    assert out["error"]["type"] == "InvalidHandleError"
    assert out["error"]["field"] == "handle"
    assert (out["flow_id"], out["state"]) == (None, None)  # nothing about the flow is told
    assert "handle" not in out
    assert flow.flow_id not in out["error"]["message"]
    assert len(emu.requests) == requests
    assert _row(cli, flow.flow_id) == row
    # The owner's handle still resumes the flow.
    assert flow.step("show")["handle_current"] is True


def test_a_mistyped_or_forged_handle_is_refused_without_echo(cli: Cli, emu: Auth0Emulator) -> None:
    """A handle with one character changed fails authentication; the text given is not echoed."""
    flow = _started(cli)
    last = flow.handle[-1]
    forged = flow.handle[:-1] + ("A" if last != "A" else "B")
    requests = len(emu.requests)
    for command in ("verify", "show"):
        result = cli.run("flow", command, forged, *LATER_COMMANDS[command])
        assert result.code == 2
        assert result.json["error"]["type"] == "InvalidHandleError"
        assert HANDLE_PREFIX not in result.stdout + result.stderr
        assert forged[8:40] not in result.stdout + result.stderr
    assert len(emu.requests) == requests


@pytest.mark.parametrize("command", sorted(set(LATER_COMMANDS) - {"show"}))
def test_a_spent_handle_is_refused_after_a_step(cli: Cli, emu: Auth0Emulator, command: str) -> None:
    """The handle a step already spent gives StaleHandleError (exit 3) and sends nothing."""
    flow = _started(cli)
    spent = flow.handle
    assert flow.step("verify", "--code", emu.last_code(PHONE))["state"] == "mfa_required"
    assert flow.handle != spent
    requests, row = len(emu.requests), _row(cli, flow.flow_id)

    result = cli.run("flow", command, spent, *LATER_COMMANDS[command])

    assert result.code == 3
    out = result.json
    assert out["error"]["type"] == "StaleHandleError"
    assert (out["error"]["expected_seq"], out["error"]["actual_seq"]) == (1, 2)
    assert out["flow_id"] == flow.flow_id and "handle" not in out
    assert spent not in result.stdout + result.stderr
    assert len(emu.requests) == requests
    assert _row(cli, flow.flow_id) == row
    assert flow.step("authenticators")["state"] == "mfa_required"  # the newest one goes on


def test_show_with_a_spent_handle_looks_but_hands_out_nothing(cli: Cli, emu: Auth0Emulator) -> None:
    """``show`` reads with an old handle but never turns it into the current one."""
    flow = _started(cli)
    spent = flow.handle
    flow.step("verify", "--code", emu.last_code(PHONE))
    shown = cli.step("show", spent)
    assert (shown["state"], shown["handle_current"]) == ("mfa_required", False)
    assert "handle" not in shown and flow.handle not in str(shown)
    current = cli.step("show", flow.handle)
    assert (current["handle"], current["handle_current"]) == (flow.handle, True)


def test_a_spent_handle_does_not_wait_out_a_push_interval(cli: Cli, emu: Auth0Emulator) -> None:
    """``flow poll`` with a spent handle is refused at once, not after the poll interval."""
    flow = cli.start("--connection", "email", "--email", "dee@example.com")
    flow.step("verify", "--code", emu.last_code("dee@example.com"))
    emu.push_script = PushScript(pending=5, outcome="approve")
    flow.step("enroll", "--type", "push")
    pending = flow.step("poll")  # waits the interval once, then Auth0 says: still pending
    assert pending["pending"] is True and pending["retry_after"] >= 4
    began = time.monotonic()
    result = cli.run("flow", "poll", flow.spent[-1])
    assert result.code == 3 and result.json["error"]["type"] == "StaleHandleError"
    assert time.monotonic() - began < pending["retry_after"] - 1


def test_a_row_written_back_is_refused_as_a_replay(cli: Cli, emu: Auth0Emulator) -> None:
    """An earlier row copied back into the store gives SnapshotReplayError (exit 3), no request."""
    flow = _started(cli)
    old_seq, old_state, old_data = _row(cli, flow.flow_id)
    flow.step("verify", "--code", emu.last_code(PHONE))
    db = sqlite3.connect(cli.store_path)
    try:
        with db:
            db.execute(
                "UPDATE flows SET seq = ?, state = ?, data = ? WHERE flow_id = ?",
                (old_seq, old_state, old_data, flow.flow_id),
            )
    finally:
        db.close()
    requests = len(emu.requests)
    for command in ("resend", "show"):
        out = flow.step(command, expect=3)
        assert out["error"]["type"] == "SnapshotReplayError"
        assert out["flow_id"] == flow.flow_id and "handle" not in out
    assert len(emu.requests) == requests


def test_verbose_logs_and_errors_never_carry_the_handle(cli: Cli, emu: Auth0Emulator) -> None:
    """With ``-v`` the library logs every step on stderr, and no handle is among them."""
    flow = _started(cli)
    spent = flow.handle
    ok = cli.run("flow", "verify", spent, "--code", emu.last_code(PHONE), "-v")
    assert ok.code == 0 and "flow_transition" in ok.stderr
    stale = cli.run("flow", "verify", spent, "--code", "123456", "-v")
    assert stale.code == 3 and stale.json["error"]["type"] == "StaleHandleError"
    new = ok.json["handle"]
    for result in (ok, stale):
        assert HANDLE_PREFIX not in result.stderr
        assert spent not in result.stderr and new not in result.stderr
    assert HANDLE_PREFIX not in stale.stdout


def test_a_usage_error_never_quotes_a_handle(in_process: Callable[..., Result]) -> None:
    """argparse quotes a stray argument; a second handle pasted by mistake is masked."""
    handle = HANDLE_PREFIX + "A" * 60
    for args in (("show", handle, handle), (handle,), ("verify", handle, "--code")):
        result = in_process("flow", *args)
        assert result.code == 2
        assert result.json["error"]["type"] == "UsageError"
        assert handle not in result.stdout + result.stderr


def test_error_messages_mask_any_handle() -> None:
    """``redact_handles`` masks every handle in a text; error objects go through it."""
    handle = HANDLE_PREFIX + "AbC-_9" * 10
    assert redact_handles(f"x {handle}, and {handle}.") == "x fh1_<redacted>, and fh1_<redacted>."
    err = error_object(InvalidHandleError(f"bad {handle}"))
    assert handle not in err["message"] and "fh1_<redacted>" in err["message"]
