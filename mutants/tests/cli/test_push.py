"""``flowengine flow poll``: a Guardian push approved after one pending poll, and one rejected.

Each ``flow poll`` waits out the client's 5 s poll interval itself, so the two
flows are polled side by side to keep the suite short.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flowengine.testing import Auth0Emulator, PushScript
from tests.cli.conftest import HANDLE_PREFIX, Cli, Resumed


def _enroll_push(cli: Cli, emu: Auth0Emulator, email: str, script: PushScript) -> Resumed:
    flow = cli.start("--connection", "email", "--email", email)
    flow.step("verify", "--code", emu.last_code(email))
    emu.push_script = script
    enrolled = flow.step("enroll", "--type", "push")
    assert enrolled["state"] == "enrollment_pending"
    assert enrolled["barcode_uri"].startswith("otpauth://")
    assert enrolled["retry_after"] > 0
    return flow


def test_push_pending_then_approved_and_a_rejected_push(cli: Cli, emu: Auth0Emulator) -> None:
    """Poll exits 0 pending then authenticated, a rejected push exits 6, a typed code exits 2."""
    approved = _enroll_push(cli, emu, "ann@example.com", PushScript(pending=1, outcome="approve"))
    rejected = _enroll_push(cli, emu, "bob@example.com", PushScript(pending=0, outcome="reject"))
    typed = cli.start("--connection", "email", "--email", "cy@example.com")
    typed.step("verify", "--code", emu.last_code("cy@example.com"))
    typed.step("enroll", "--type", "email")

    def approve_flow() -> list[dict[str, Any]]:
        first = approved.step("poll")
        second = approved.step("poll")
        return [first, second]

    with ThreadPoolExecutor(2) as pool:
        polls = pool.submit(approve_flow)
        ended = pool.submit(cli.run, "flow", "poll", rejected.handle)
        # Meanwhile: polling a flow whose factor is a typed code is refused without waiting.
        not_push = typed.step("poll", expect=2)
        first, second = polls.result(timeout=60)
        refused = ended.result(timeout=60)

    assert not_push["error"]["type"] == "GuardRejectedError"
    assert not_push["error"]["guard"] == "push_expected"

    assert (first["state"], first["pending"]) == ("enrollment_pending", True)
    assert first["retry_after"] >= 5
    assert first["handle"] != second["handle"]  # a pending poll is a step: a new handle
    assert second["state"] == "authenticated"
    assert "access_token" in second["tokens"]

    assert refused.code == 6
    assert refused.json["state"] == "rejected"
    assert refused.json["error"]["type"] == "FlowRejectedError"
    # The ended flow was saved: the failure carries its next handle, and the old one is spent.
    after = refused.json["handle"]
    assert after.startswith(HANDLE_PREFIX) and after != rejected.handle
    stale = rejected.step("cancel", expect=3)
    assert stale["error"]["type"] == "StaleHandleError"
    rejected.handle = after
    assert rejected.step("show")["state"] == "rejected"
