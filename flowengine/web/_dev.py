"""The development tenant behind ``flowengine web`` without Auth0 configuration.

Theory of operation
-------------------
``DevTenant`` owns an ``flowengine.testing.Auth0Emulator`` and a clock it can move
forward. The login page's development panel reads it (the codes the emulator "sent",
which it prints because they are fake codes of a local emulator) and drives it: approve
or reject the pending push, make the next passwordless start answer 429, skip an
minutes so the flow passes Auth0's deadlines. Nothing here exists in a page served
against a real tenant: the panel and its routes are only built with a ``DevTenant``.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowengine.testing import Auth0Emulator

__all__ = ["DEV_CLIENT_ID", "DevClock", "DevTenant"]

DEV_CLIENT_ID = "flowengine-web-dev"


class DevClock:
    """Wall-clock time plus the seconds skipped so far (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0

    def time(self) -> float:
        """Now, as the emulator and the flows see it."""
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward."""
        with self._lock:
            self._offset += seconds

    def sleep(self, seconds: float) -> None:
        """Sleeping is skipping, for the emulator's own waits."""
        self.advance(seconds)


class DevTenant:
    """An emulated tenant, its clock and the panel's controls."""

    def __init__(self, emulator: Auth0Emulator, clock: DevClock) -> None:
        self.emulator = emulator
        self.clock = clock

    @classmethod
    def create(cls, *, domain: str = "flowengine-web.local") -> DevTenant:
        """A tenant with one public client; pushes wait for the panel's buttons."""
        from flowengine.testing import Auth0Emulator, PushScript

        clock = DevClock()
        emu = Auth0Emulator(
            domain=domain, clock=clock.time, sleep=clock.sleep, push_poll_interval=1.0
        )
        emu.add_client(DEV_CLIENT_ID)
        emu.push_script = PushScript(pending=0, outcome="never")
        return cls(emu, clock)

    def messages(self) -> list[dict[str, Any]]:
        """The messages the emulator sent, newest first (with their fake codes)."""
        out = [
            {"channel": m.channel, "to": m.to, "code": m.code, "purpose": m.purpose}
            for m in self.emulator.outbox
        ]
        return out[::-1]

    def act(self, action: str) -> str:
        """Run one panel control; returns what happened, for the page's notice."""
        if action == "approve_push":
            try:
                self.emulator.approve_push()
            except LookupError:
                return "No push is waiting."
            return "The push was approved on the emulated phone."
        if action == "reject_push":
            try:
                self.emulator.reject_push()
            except LookupError:
                return "No push is waiting."
            return "The push was rejected on the emulated phone."
        if action == "rate_limit":
            from flowengine.testing import Fault

            self.emulator.add_fault(Fault("/passwordless/start", "status_429", seconds=30.0))
            return "The next passwordless start will be rate-limited (429)."
        if action == "advance":
            # Past every deadline a login can be left at: a code_sent flow lives an idle
            # hour after its latest code (an expired code alone allows a resend).
            self.clock.advance(3601.0)
            return "The clock moved an hour forward."
        raise KeyError(action)


#: The panel's controls: action -> button label.
DEV_ACTIONS = {
    "approve_push": "Approve push",
    "reject_push": "Reject push",
    "rate_limit": "Rate-limit next start",
    "advance": "Skip an hour",
}
