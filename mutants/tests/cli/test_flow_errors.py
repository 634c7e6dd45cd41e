"""``flowengine flow`` failures: one JSON error object, a non-zero exit, the stored flow intact."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from flowengine.testing import Auth0Emulator, Fault
from tests.cli.conftest import HANDLE_PREFIX, PHONE, Cli, Result, Resumed


def _read_row(cli: Cli, flow_id: str) -> tuple[int, str]:
    db = sqlite3.connect(cli.store_path)
    try:
        row = db.execute("SELECT seq, data FROM flows WHERE flow_id = ?", (flow_id,)).fetchone()
    finally:
        db.close()
    assert row is not None
    return int(row[0]), str(row[1])


def _write_data(cli: Cli, flow_id: str, data: str) -> None:
    db = sqlite3.connect(cli.store_path)
    try:
        with db:
            db.execute("UPDATE flows SET data = ? WHERE flow_id = ?", (data, flow_id))
    finally:
        db.close()


def _start(cli: Cli) -> Resumed:
    return cli.start("--connection", "sms", "--phone-number", PHONE)


def test_phone_number_without_plus_is_invalid_input(cli: Cli, emu: Auth0Emulator) -> None:
    """A phone number without ``+`` exits 2 with InvalidInputError; nothing is sent or kept."""
    out = cli.step("start", "--connection", "sms", "--phone-number", "15550100", expect=2)
    assert out["flow_id"] is None and out["state"] is None
    assert out["error"]["type"] == "InvalidInputError"
    assert out["error"]["field"] == "phone_number"
    assert emu.outbox == [] and emu.requests == []
    db = sqlite3.connect(cli.store_path)
    try:
        assert db.execute("SELECT count(*) FROM flows").fetchone() == (0,)
    finally:
        db.close()


def test_a_handle_of_a_deleted_flow(cli: Cli) -> None:
    """A genuine handle whose flow is no longer stored exits 2 with FlowNotFoundError."""
    flow = _start(cli)
    db = sqlite3.connect(cli.store_path)
    try:
        with db:
            db.execute("DELETE FROM flows WHERE flow_id = ?", (flow.flow_id,))
    finally:
        db.close()
    out = flow.step("verify", "--code", "123456", expect=2)
    assert (out["flow_id"], out["error"]["type"]) == (flow.flow_id, "FlowNotFoundError")
    assert "handle" not in out
    assert flow.step("show", expect=2)["error"]["type"] == "FlowNotFoundError"


def test_step_out_of_order_changes_nothing(cli: Cli, emu: Auth0Emulator) -> None:
    """Confirming before verifying is an IllegalTransition; ``show`` sees the same flow."""
    flow = _start(cli)
    before = flow.step("show")
    requests = len(emu.requests)
    out = flow.step("confirm", "--code", "123456", expect=2)
    assert out["state"] == "code_sent"
    assert out["error"]["type"] == "IllegalTransitionError"
    assert out["error"]["trigger"] == "confirm_oob"
    assert "handle" not in out  # nothing was saved: the handle given still resumes the flow
    assert len(emu.requests) == requests
    after = flow.step("show")
    assert (after["state"], after["seq"], after["path"]) == (
        before["state"],
        before["seq"],
        before["path"],
    )


def test_wrong_code_only_counts_the_attempt(cli: Cli, emu: Auth0Emulator) -> None:
    """A wrong code exits 4 (WrongCodeError) with attempts; the right one still works."""
    flow = _start(cli)
    right = emu.last_code(PHONE)
    wrong = str((int(right) + 1) % 10 ** len(right)).zfill(len(right))
    out = flow.step("verify", "--code", wrong, expect=4)
    assert (out["state"], out["outcome"], out["attempts"]) == ("code_sent", "wrong_code", 1)
    assert flow.spent and out["handle"] == flow.handle  # the counted attempt was saved
    assert out["error"] | {"message": ""} == {
        "type": "WrongCodeError",
        "message": "",
        "error": "invalid_grant",
        "status_code": 403,
        "trigger": "verify_otp",
    }
    shown = flow.step("show")
    assert (shown["state"], shown["seq"], shown["context"]["code_attempts"]) == ("code_sent", 2, 1)
    assert shown["path"] == ["started", "code_sent"]
    assert flow.step("verify", "--code", right)["state"] == "mfa_required"


def test_a_tampered_row_is_refused_and_not_overwritten(cli: Cli) -> None:
    """A flipped byte in the stored snapshot exits 3 with a SnapshotError; the row stays."""
    flow = _start(cli)
    fid = flow.flow_id
    seq, data = _read_row(cli, fid)
    at = data.index('"code_sent"') + 3
    tampered = data[:at] + chr(ord(data[at]) ^ 1) + data[at + 1 :]
    _write_data(cli, fid, tampered)

    for args in (("verify", "--code", "123456"), ("show",), ("cancel",)):
        out = flow.step(*args, expect=3)
        assert out["error"]["type"] == "SnapshotTamperedError", out
        assert out["flow_id"] == fid and out["state"] is None
        assert "handle" not in out
    assert _read_row(cli, fid) == (seq, tampered)


def test_usage_errors_are_json_too(in_process: Callable[..., Result]) -> None:
    """A missing argument or a bad choice prints a UsageError object and exits 2."""
    for args in (("verify",), ("enroll", "fh1_x", "--type", "fax"), ("confirm", "fh1_x")):
        result = in_process("flow", *args)
        assert result.code == 2
        assert result.json["error"]["type"] == "UsageError"
        assert result.json["error"]["usage"].startswith("usage: flowengine flow")


def test_missing_configuration_is_a_configuration_error(in_process: Callable[..., Result]) -> None:
    """Without AUTH0_DOMAIN a step exits 2 with ConfigurationError and names the variable."""
    start = ("flow", "start", "--connection", "sms", "--phone-number", PHONE)
    result = in_process(*start, env={"AUTH0_DOMAIN": None})
    assert result.code == 2
    assert result.json["error"]["type"] == "ConfigurationError"
    assert "AUTH0_DOMAIN" in result.json["error"]["message"]
    plain = in_process(*start, "--domain", "http://auth.example.com")
    assert plain.code == 2
    assert "loopback" in plain.json["error"]["message"]


def test_unreachable_tenant_is_a_transport_error(cli: Cli) -> None:
    """A refused connection exits 5 with TransportError, and no flow is left behind."""
    out = cli.run(
        "flow",
        "start",
        "--connection",
        "sms",
        "--phone-number",
        PHONE,
        "--domain",
        "http://127.0.0.1:9",
    )
    assert out.code == 5
    assert out.json["error"]["type"] == "TransportError"
    assert out.json["error"]["ambiguous"] is False
    assert out.json["flow_id"] is None


def test_rate_limit_reports_the_reset_time(cli: Cli, emu: Auth0Emulator) -> None:
    """A 429 exits 4 with RateLimitedError, Auth0's error code and reset_at; no flow is kept."""
    emu.rate_limit("/passwordless/start", 1)
    _start(cli)
    out = cli.step("start", "--connection", "sms", "--phone-number", PHONE, expect=4)
    assert out["flow_id"] is None
    assert out["error"]["type"] == "RateLimitedError"
    assert out["error"]["error"] == "too_many_requests"
    assert out["error"]["status_code"] == 429
    assert isinstance(out["error"]["reset_at"], int)


def _ambiguous_start(cli: Cli, emu: Auth0Emulator) -> Resumed:
    emu.add_fault(Fault("/passwordless/start", "reset"))
    flow = cli.start("--connection", "sms", "--phone-number", PHONE, expect=5)
    out = flow.started
    assert out["error"]["type"] == "TransportError"
    assert out["error"]["ambiguous"] is True
    assert out["state"] == "started"
    return flow


def test_an_ambiguous_send_is_kept_in_doubt(cli: Cli, emu: Auth0Emulator) -> None:
    """A start cut off mid-answer exits 5 with ambiguous true, keeps the flow and its handle."""
    flow = _ambiguous_start(cli, emu)
    assert flow.handle.startswith(HANDLE_PREFIX)
    shown = flow.step("show")
    assert (shown["state"], shown["seq"]) == ("started", 1)
    assert shown["context"]["send_unconfirmed"] is True
    assert shown["next"] == ["start_passwordless", "resend_code", "login_password", "cancel"]


def test_an_ambiguous_send_resumes_by_resend(cli: Cli, emu: Auth0Emulator) -> None:
    """After an ambiguous start, ``flow resend`` sends the code and the login goes on."""
    flow = _ambiguous_start(cli, emu)
    assert flow.step("resend")["state"] == "code_sent"
    assert flow.step("verify", "--code", emu.last_code(PHONE))["state"] == "mfa_required"
