"""Push notifications (Guardian): the phone's side and the token endpoint's polling.

Theory of operation: a push oob_code starts ``pending``. The phone's answer comes
either from the test (``approve_push`` / ``reject_push``, at once) or from
``push_script``, copied into the oob_code when it is created: ``pending`` polls
answer ``authorization_pending`` before the scripted ``outcome`` settles it
(``never`` stays pending until the code expires). Polling faster than
``push_poll_interval`` answers ``slow_down``. An approved push is spent by the
poll that reports it.
"""

from __future__ import annotations

import math
from typing import Literal

from flowengine.testing._emu_state import HttpError, MfaSession, Oob, User
from flowengine.testing._emu_tokens import TokenIssuer
from flowengine.testing._models import EmulatorResponse

__all__ = ["PushDevice"]


class PushDevice(TokenIssuer):
    """The emulated Guardian app, and the mfa-oob grant's polling of a push."""

    # ------------------------------------------------------------- the phone (for tests)

    def approve_push(self, oob_code: str | None = None) -> None:
        """Approve the most recent pending push now (or the one with ``oob_code``)."""
        self._settle_push(oob_code, "approved")

    def reject_push(self, oob_code: str | None = None) -> None:
        """Reject the most recent pending push now (or the one with ``oob_code``)."""
        self._settle_push(oob_code, "rejected")

    def _settle_push(self, oob_code: str | None, state: Literal["approved", "rejected"]) -> None:
        with self._lock:
            now = self._clock()
            if oob_code is not None:
                oob = self._oobs.get(oob_code)
                if oob is None or oob.channel != "auth0":
                    raise LookupError("no push with that oob_code")
                oob.state = state
                return
            for oob in reversed(list(self._oobs.values())):
                if (
                    oob.channel == "auth0"
                    and oob.state == "pending"
                    and not oob.used
                    and oob.expires_at > now
                ):
                    oob.state = state
                    return
        raise LookupError("no pending push")

    # ------------------------------------------------------------- polling (mfa-oob grant)

    def _poll_push(self, oob: Oob, session: MfaSession, user: User, now: float) -> EmulatorResponse:
        rejected = HttpError(400, "access_denied", "MFA Authorization rejected.")
        if oob.state == "rejected":
            raise rejected
        if oob.state == "pending":
            if oob.expires_at <= now:
                raise HttpError(403, "expired_token", "oob_code is expired")
            previous, oob.last_poll = oob.last_poll, now
            if previous is not None and now - previous < self.push_poll_interval:
                raise HttpError(
                    400,
                    "slow_down",
                    f"You are polling faster than allowed. Try again in "
                    f"{math.ceil(self.push_poll_interval)} seconds.",
                )
            if oob.pending_left > 0 or oob.outcome == "never":
                oob.pending_left = max(0, oob.pending_left - 1)
                raise HttpError(
                    400,
                    "authorization_pending",
                    "Authorization pending: please repeat the request in a few seconds.",
                )
            oob.state = "approved" if oob.outcome == "approve" else "rejected"
            if oob.state == "rejected":
                raise rejected
        oob.used = True
        if oob.enrollment:
            self._activate_group(user, oob.authenticator_id)
        return self._mfa_success(session, now)
