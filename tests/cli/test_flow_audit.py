"""``flowengine flow audit HANDLE``: the trail as JSON Lines, or the path on the overview."""

from __future__ import annotations

import json

from flowengine.testing import Auth0Emulator
from tests.cli.conftest import PHONE, Cli


def test_audit_prints_every_transition_as_json_lines(cli: Cli, emu: Auth0Emulator) -> None:
    """Each step is one line: time, trigger, outcome, states, endpoint, status, request id."""
    flow = cli.start("--connection", "sms", "--phone-number", PHONE)
    flow.step("verify", "--code", "000000", expect=4)  # a wrong code: a step that stays
    flow.step("verify", "--code", emu.last_code(PHONE))
    result = cli.run("flow", "audit", flow.handle)
    assert result.code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(x["trigger"], x["outcome"], x["from"], x["to"]) for x in lines] == [
        ("start_passwordless", "code_sent", "started", "code_sent"),
        ("verify_otp", "wrong_code", "code_sent", "code_sent"),
        ("verify_otp", "mfa_required", "code_sent", "mfa_required"),
    ]
    assert [x["endpoint"] for x in lines] == [
        "POST /passwordless/start",
        "POST /oauth/token",
        "POST /oauth/token",
    ]
    assert [x["status"] for x in lines] == [200, 403, 403]
    assert all(len(x["request_id"]) == 20 for x in lines)
    assert len({x["request_id"] for x in lines}) == 3
    assert all(x["time"].endswith("Z") and x["at"] > 1e9 for x in lines)
    assert flow.handle not in result.stdout + result.stderr  # the handle is never echoed


def test_audit_does_not_spend_the_handle(cli: Cli, emu: Auth0Emulator) -> None:
    """Reading the trail changes nothing: the same handle still takes the next step."""
    flow = cli.start("--connection", "sms", "--phone-number", PHONE)
    before = cli.stored(flow.flow_id).seq
    assert cli.run("flow", "audit", flow.handle).code == 0
    assert cli.stored(flow.flow_id).seq == before
    assert flow.step("verify", "--code", emu.last_code(PHONE))["state"] == "mfa_required"


def test_audit_svg_draws_the_path_on_the_overview(cli: Cli, emu: Auth0Emulator) -> None:
    """``--format svg``: the overview with the flow's arrows marked taken and its state current."""
    flow = cli.start("--connection", "sms", "--phone-number", PHONE)
    flow.step("verify", "--code", emu.last_code(PHONE))
    out = cli.tmp / "path.svg"
    result = cli.run("flow", "audit", flow.handle, "--format", "svg", "--output", str(out))
    assert result.code == 0, result.stderr
    svg = out.read_text()
    assert svg.startswith("<?xml") and "<svg" in svg
    assert "Overview" in svg and "(current)" in svg
    assert svg.count("▶") >= 2  # start_passwordless and verify_otp, lit on the overview
    dot = cli.run("flow", "audit", flow.handle, "--format", "dot").stdout
    assert "cluster_live" in dot and "#1f5fd6" in dot


def test_audit_refuses_a_flow_id(cli: Cli) -> None:
    """A bare flow id is no handle: one JSON error, exit 2, nothing printed of the flow."""
    flow = cli.start("--connection", "sms", "--phone-number", PHONE)
    result = cli.run("flow", "audit", flow.flow_id)
    assert result.code == 2
    assert json.loads(result.stdout)["error"]["type"] == "InvalidHandleError"
