"""A tenant, a fake clock and one driver (sync or async) for the reliability suite.

``Rig`` owns an ``Auth0Emulator`` on a ``FakeClock`` and a ``FlowClient`` or an
``AsyncFlowClient`` over the emulator's in-process transport. ``rig.call(name, ...)``
runs a client method the same way for both drivers: async ones run on an event loop
the rig owns (hypothesis cannot run async rules, so the loop is driven from sync code).
The rig records every sleep the client asked for, and ``finish`` drives any flow to
``authenticated`` whatever state a fault left it in.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable
from typing import Any

from flowengine import (
    AsyncFlowClient,
    Auth0Config,
    Auth0Error,
    Flow,
    FlowClient,
    GuardRejectedError,
    RetryPolicy,
    StepResult,
)
from flowengine._snapshot import Keyring
from flowengine._step_methods import NO_RETRY
from flowengine.testing import Auth0Emulator, FakeClock, PushScript

TENANT = "tenant.example.auth0.com"
CLIENT_ID = "app-id"
#: Long and distinctive, so a leak scan cannot miss it or match it by chance.
CLIENT_SECRET = "cs-Q7vXk2LmZp9RtW4yNb8HcJd3FgS6aEu1"
PHONE = "+15550100"
PHONE2 = "+15550111"
EMAIL = "ada@example.com"
EMAIL2 = "phone.owner@example.net"
PASSWORD = "correct horse battery staple 42"
KEYRING = Keyring([("k1", bytes(range(32)))])
DRIVERS = ("sync", "async")


class Rig:
    """An emulated tenant plus one driver of kind ``sync`` or ``async``."""

    def __init__(
        self,
        driver: str = "sync",
        *,
        retry: RetryPolicy = NO_RETRY,
        seed: int = 7,
    ) -> None:
        self.driver = driver
        self.clock = FakeClock()
        self.emu = Auth0Emulator(TENANT, clock=self.clock.time, sleep=self.clock.sleep, seed=seed)
        self.emu.add_client(CLIENT_ID, client_secret=CLIENT_SECRET)
        self.config = Auth0Config(TENANT, CLIENT_ID, CLIENT_SECRET)
        #: Every sleep the client asked for (retry backoff, push waits), in seconds.
        self.sleeps: list[float] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.client: FlowClient | AsyncFlowClient
        if driver == "sync":
            self.client = FlowClient(
                self.config,
                transport=self.emu.transport(),
                clock=self.clock.time,
                sleep=self._sleep,
                retry=retry,
            )
        elif driver == "async":
            self.loop = asyncio.new_event_loop()
            self.client = AsyncFlowClient(
                self.config,
                transport=self.emu.async_transport(),
                clock=self.clock.time,
                sleep=self._asleep,
                retry=retry,
            )
        else:
            raise ValueError(f"unknown driver {driver!r}")

    def _sleep(self, seconds: float) -> None:
        """Record a wait and move the fake clock by it."""
        self.sleeps.append(seconds)
        self.clock.sleep(seconds)

    async def _asleep(self, seconds: float) -> None:
        self._sleep(seconds)

    @property
    def now(self) -> float:
        """The fake time shared by the tenant and the client."""
        return self.clock.time()

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Run the client's method ``name``; an async one runs to completion on our loop."""
        method: Callable[..., Any] = getattr(self.client, name)
        if self.loop is None:
            return method(*args, **kwargs)

        async def run() -> Any:
            value = method(*args, **kwargs)
            return await value if inspect.isawaitable(value) else value

        return self.loop.run_until_complete(run())

    def new_flow(self, flow_id: str | None = None) -> Flow:
        """A new flow in ``started``."""
        return self.client.new_flow(flow_id)

    def close(self) -> None:
        """Close the client and the loop."""
        if self.loop is None:
            self.client.close()  # type: ignore[union-attr]
            return
        self.loop.run_until_complete(self.client.aclose())  # type: ignore[union-attr]
        self.loop.close()

    # ------------------------------------------------------------ scenarios

    def seed_users(self, profile: str = "new") -> None:
        """Create the SMS user and the password/email user, enrolled per ``profile``."""
        self.emu.add_passwordless_user(PHONE)
        self.emu.add_password_user(EMAIL, PASSWORD, email=EMAIL)
        if profile == "new":
            return
        for user, phone, email in ((PHONE, PHONE, EMAIL2), (EMAIL, PHONE2, EMAIL)):
            kind = "otp" if profile == "otp" else profile
            self.emu.enroll(
                user,
                kind,  # type: ignore[arg-type]
                phone_number=phone if kind in ("sms", "voice") else None,
                email=email if kind == "email" else None,
            )

    def to_mfa(self, flow: Flow | None = None) -> Flow:
        """A flow past the SMS first factor, in ``mfa_required``."""
        flow = flow or self.new_flow()
        self.call("start_passwordless", flow, connection="sms", phone_number=PHONE)
        self.call("verify_otp", flow, self.emu.last_code(PHONE, purpose="passwordless"))
        assert flow.state == "mfa_required"
        return flow

    def totp_secret(self, user: str = PHONE) -> str | None:
        """The secret of one of ``user``'s TOTP authenticators (any accepts mfa-otp)."""
        for a in self.emu.authenticators_of(user):
            if a.type == "totp" and a.secret:
                return a.secret
        return None

    def finish(self, flow: Flow, user: str = PHONE, *, limit: int = 24) -> StepResult | None:
        """Drive ``flow`` to ``authenticated`` from any live state a fault may have left it in.

        Uses only legal steps and what a real user would have at hand (the codes the
        tenant sent, the TOTP app, the push approval). Raises AssertionError if the
        flow cannot be completed within ``limit`` steps.
        """
        result: StepResult | None = None
        for _ in range(limit):
            state = flow.state
            if state == "authenticated":
                return result
            assert state not in ("expired", "rejected", "locked", "cancelled"), state
            try:
                result = self._advance(flow, user)
            except Auth0Error as exc:
                # e.g. an oob_code consumed by a request whose answer was lost: go back.
                if state not in ("enrollment_pending", "challenge_pending"):
                    raise AssertionError(f"cannot complete the flow from {state}: {exc}") from exc
                self.call("rollback", flow, to="mfa_required")
            except GuardRejectedError as exc:
                if exc.guard in ("no_unconfirmed_send", "code_attempts_left"):
                    self.call("resend_code", flow)
                else:
                    raise
        raise AssertionError(f"flow stuck in {flow.state} after {limit} steps")

    def _advance(self, flow: Flow, user: str) -> StepResult | None:
        """Take the one natural next step for the flow's state."""
        ctx = flow.context
        state = flow.state
        if state == "started":
            if ctx.get("send_unconfirmed"):
                return self.call("resend_code", flow)  # type: ignore[no-any-return]
            if user == EMAIL:
                return self.call(  # type: ignore[no-any-return]
                    "login_password", flow, username=EMAIL, password=PASSWORD
                )
            return self.call(  # type: ignore[no-any-return]
                "start_passwordless", flow, connection="sms", phone_number=user
            )
        if state == "code_sent":
            result: StepResult = self.call(
                "verify_otp", flow, self.emu.last_code(ctx["phone_number"], purpose="passwordless")
            )
            if result.outcome == "wrong_code":  # the code was spent by a lost answer
                self.call("resend_code", flow)
            return result
        if state == "mfa_required":
            active = [
                a
                for a in self.emu.authenticators_of(user)
                if a.active and a.type != "recovery-code"
            ]
            if not active:
                self.call("enroll", flow, "otp")
                secret = self.totp_secret(user)
                assert secret is not None
                return self.call(  # type: ignore[no-any-return]
                    "confirm_otp", flow, self.emu.totp_code(secret)
                )
            return self.call("challenge", flow)  # type: ignore[no-any-return]
        factor = ctx.get("factor")
        if factor == "otp":
            secret = self.totp_secret(user)
            assert secret is not None
            return self.call("confirm_otp", flow, self.emu.totp_code(secret))  # type: ignore[no-any-return]
        if factor == "push":
            self.emu.push_script = PushScript(pending=0, outcome="approve")
            with contextlib.suppress(LookupError):
                self.emu.approve_push(ctx["oob_code"])
            return self.call("poll_push", flow)  # type: ignore[no-any-return]
        to = self._binding_target(flow, user)
        return self.call(  # type: ignore[no-any-return]
            "confirm_oob", flow, self.emu.last_code(to, purpose="mfa")
        )

    def _binding_target(self, flow: Flow, user: str) -> str:
        """Where the pending factor's binding code went (the newest MFA message)."""
        for msg in reversed(self.emu.outbox):
            if msg.purpose == "mfa":
                return msg.to
        raise AssertionError("no MFA code was sent")


# ------------------------------------------------------------------ one step per Auth0 call

GRANT = "http://auth0.com/oauth/grant-type/"
#: For each trigger that calls Auth0: the user profile, and the endpoint and grant a fault
#: must match to hit exactly that call.
SOURCES: dict[str, tuple[str, str, str | None]] = {
    "start_passwordless": ("new", "/passwordless/start", None),
    "resend_code": ("new", "/passwordless/start", None),
    "verify_otp": ("new", "/oauth/token", GRANT + "passwordless/otp"),
    "login_password": ("new", "/oauth/token", GRANT + "password-realm"),
    "list_authenticators": ("sms", "/mfa/authenticators", None),
    "enroll": ("new", "/mfa/associate", None),
    "challenge": ("sms", "/mfa/challenge", None),
    "confirm_oob": ("new", "/oauth/token", GRANT + "mfa-oob"),
    "confirm_otp": ("new", "/oauth/token", GRANT + "mfa-otp"),
    "confirm_recovery_code": ("sms", "/oauth/token", GRANT + "mfa-recovery-code"),
    "poll_push": ("new", "/oauth/token", GRANT + "mfa-oob"),
}


def source(rig: Rig, trigger: str) -> tuple[Flow, str, Callable[[Flow], Any]]:
    """A flow in the state ``trigger`` leaves, its user, and the step with the right input.

    The returned step reads what it needs (codes, secrets) when it is called, so it can
    be called again on a resumed copy of the flow.
    """
    profile = SOURCES[trigger][0]
    rig.seed_users(profile)
    rig.emu.push_script = PushScript(pending=0, outcome="approve")
    flow = rig.new_flow()
    user = EMAIL if trigger == "login_password" else PHONE
    emu = rig.emu
    if trigger == "start_passwordless":
        return flow, user, lambda f: rig.call(trigger, f, connection="sms", phone_number=PHONE)
    if trigger == "login_password":
        return flow, user, lambda f: rig.call(trigger, f, username=EMAIL, password=PASSWORD)
    rig.call("start_passwordless", flow, connection="sms", phone_number=PHONE)
    if trigger == "resend_code":
        return flow, user, lambda f: rig.call(trigger, f)
    if trigger == "verify_otp":
        return flow, user, lambda f: rig.call(trigger, f, emu.last_code(PHONE))
    rig.call("verify_otp", flow, emu.last_code(PHONE, purpose="passwordless"))
    if trigger in ("list_authenticators", "challenge"):
        return flow, user, lambda f: rig.call(trigger, f)
    if trigger == "enroll":
        return flow, user, lambda f: rig.call(trigger, f, "otp")
    if trigger == "confirm_recovery_code":
        return flow, user, lambda f: rig.call(trigger, f, emu.recovery_code_of(PHONE))
    if trigger == "confirm_oob":
        rig.call("enroll", flow, "sms", phone_number=PHONE2)
        return flow, user, lambda f: rig.call(trigger, f, emu.last_code(PHONE2, purpose="mfa"))
    if trigger == "confirm_otp":
        rig.call("enroll", flow, "otp")
        secret = rig.totp_secret(PHONE)
        assert secret is not None
        return flow, user, lambda f: rig.call(trigger, f, emu.totp_code(secret))
    assert trigger == "poll_push"
    rig.call("enroll", flow, "push")
    rig.clock.advance(5.0)
    return flow, user, lambda f: rig.call(trigger, f, wait=False)
