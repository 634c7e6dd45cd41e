"""``flowengine flow poll``: a Guardian push approved after one pending poll, and one rejected.

Each ``flow poll`` waits out the client's 5 s poll interval itself, so the two
flows are polled side by side to keep the suite short.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flowengine.testing import Auth0Emulator, PushScript
from tests.cli.conftest import Cli


def _enroll_push(cli: Cli, emu: Auth0Emulator, email: str, script: PushScript) -> str:
    fid = cli.step("start", "--connection", "email", "--email", email)["flow_id"]
    cli.step("verify", fid, "--code", emu.last_code(email))
    emu.push_script = script
    enrolled = cli.step("enroll", fid, "--type", "push")
    assert enrolled["state"] == "enrollment_pending"
    assert enrolled["barcode_uri"].startswith("otpauth://")
    assert enrolled["retry_after"] > 0
    assert isinstance(fid, str)
    return fid


def test_push_pending_then_approved_and_a_rejected_push(cli: Cli, emu: Auth0Emulator) -> None:
    """Poll exits 0 pending then authenticated, a rejected push exits 6, a typed code exits 2."""
    approved = _enroll_push(cli, emu, "ann@example.com", PushScript(pending=1, outcome="approve"))
    rejected = _enroll_push(cli, emu, "bob@example.com", PushScript(pending=0, outcome="reject"))
    typed = cli.step("start", "--connection", "email", "--email", "cy@example.com")["flow_id"]
    cli.step("verify", typed, "--code", emu.last_code("cy@example.com"))
    cli.step("enroll", typed, "--type", "email")

    def approve_flow() -> list[dict[str, Any]]:
        first = cli.step("poll", approved)
        second = cli.step("poll", approved)
        return [first, second]

    with ThreadPoolExecutor(2) as pool:
        polls = pool.submit(approve_flow)
        ended = pool.submit(cli.run, "flow", "poll", rejected)
        # Meanwhile: polling a flow whose factor is a typed code is refused without waiting.
        not_push = cli.step("poll", typed, expect=2)
        first, second = polls.result(timeout=60)
        refused = ended.result(timeout=60)

    assert not_push["error"]["type"] == "GuardRejectedError"
    assert not_push["error"]["guard"] == "push_expected"

    assert (first["state"], first["pending"]) == ("enrollment_pending", True)
    assert first["retry_after"] >= 5
    assert second["state"] == "authenticated"
    assert "access_token" in second["tokens"]

    assert refused.code == 6
    assert refused.json["state"] == "rejected"
    assert refused.json["error"]["type"] == "FlowRejectedError"
    assert cli.step("show", rejected)["state"] == "rejected"
