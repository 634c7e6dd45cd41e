"""The step methods both drivers share: argument checking and parameter building.

``FlowClient`` and ``AsyncFlowClient`` inherit these methods; each supplies its
own ``run_step`` (a plain call in one, a coroutine in the other), so a method here
returns a ``StepResult`` on the sync client and an awaitable of one on the
async client. Every argument is validated here, before any request is built.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import attrs

from flowengine import _config as v
from flowengine._config import DEFAULT_REALM, Auth0Config
from flowengine._errors import ConfigurationError, InvalidInputError
from flowengine._flow import Flow

# The log helpers live in _log; re-exported because both drivers import them from here.
from flowengine._log import log_request as log_request
from flowengine._log import log_response as log_response
from flowengine._log import log_transition as log_transition
from flowengine._log import log_uncertain as log_uncertain
from flowengine._wire import HttpResponse

R = TypeVar("R")

FACTORS = ("otp", "sms", "voice", "email", "push")


@attrs.frozen
class RetryPolicy:
    """Bounded retries where they are safe.

    Retried: failures to connect (nothing was sent), and for idempotent reads
    (``GET``) also 429/5xx answers and read failures. The wait honours
    ``Retry-After`` and ``x-ratelimit-reset`` up to ``max_wait`` seconds. A
    one-time code is never sent twice: a request that may have reached Auth0 is
    not retried unless it is a read.
    """

    attempts: int = 3
    backoff: float = 0.2
    max_wait: float = 30.0

    def __attrs_post_init__(self) -> None:
        if self.attempts < 1 or self.backoff < 0 or self.max_wait < 0:
            raise ConfigurationError("RetryPolicy needs attempts >= 1, backoff >= 0, max_wait >= 0")

    def delay(self, attempt: int, hinted: float | None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        base = self.backoff * 2.0 ** (attempt - 1)
        return float(min(max(base, hinted or 0.0), self.max_wait))


NO_RETRY = RetryPolicy(attempts=1)


def new_flow_id() -> str:
    """A random, URL-safe flow id."""
    return "fl_" + uuid.uuid4().hex


def retry_hint(resp: HttpResponse, now: float) -> float | None:
    """Seconds Auth0 asked us to wait: ``Retry-After`` or ``x-ratelimit-reset`` (epoch)."""
    raw = resp.headers.get("retry-after")
    if raw is not None:
        try:
            return max(0.0, float(raw))
        except ValueError:
            pass
    reset = resp.headers.get("x-ratelimit-reset")
    if reset is not None:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            pass
    return None


class FlowSteps(Generic[R]):
    """Every flow step as a method, its arguments checked; a driver supplies ``run_step``.

    This is the public base of ``FlowClient`` and ``AsyncFlowClient``, and of any driver
    an application writes over another HTTP stack: set ``config`` and implement
    ``run_step`` as the I/O loop around the flow's sans-I/O protocol
    (``flow.begin`` -> send ``step.request`` -> ``flow.finish``, or ``flow.fail``
    when no answer came back). Every rule (legality, guards, deadlines, the
    "Auth0 may have acted" rule) lives in the flow, not in the driver.
    """

    config: Auth0Config
    _clock: Callable[[], float] = staticmethod(time.time)

    def run_step(self, flow: Flow, trigger: str, params: Mapping[str, Any]) -> R:
        """Run ``trigger`` on ``flow`` with ``params`` already checked by a step method."""
        raise NotImplementedError  # pragma: no cover - supplied by each driver

    def new_flow(self, flow_id: str | None = None) -> Flow:
        """A new flow in ``started``; no call is made."""
        return Flow.new(flow_id or new_flow_id(), self._clock())

    def start_passwordless(
        self,
        flow: Flow,
        *,
        connection: str,
        phone_number: str | None = None,
        email: str | None = None,
        forwarded_for: str | None = None,
    ) -> R:
        """``POST /passwordless/start``: send a one-time code (``send: "code"``).

        ``forwarded_for`` is the end user's IP, sent as ``auth0-forwarded-for``
        by a confidential client (see ``_wire._forwarded``); never stored.
        """
        if connection == "sms":
            if email is not None:
                raise InvalidInputError("email", "not used with the sms connection")
            params = {"connection": "sms", "phone_number": v.phone_number(phone_number)}
        elif connection == "email":
            if phone_number is not None:
                raise InvalidInputError("phone_number", "not used with the email connection")
            params = {"connection": "email", "email": v.email(email)}
        else:
            raise InvalidInputError("connection", "must be 'sms' or 'email'")
        return self.run_step(flow, "start_passwordless", _with_ip(params, forwarded_for))

    def resend_code(self, flow: Flow, *, forwarded_for: str | None = None) -> R:
        """``POST /passwordless/start`` again: a new code replaces the old one."""
        return self.run_step(flow, "resend_code", _with_ip({}, forwarded_for))

    def verify_otp(
        self,
        flow: Flow,
        code: str,
        *,
        audience: str | None = None,
        scope: str | None = None,
        forwarded_for: str | None = None,
    ) -> R:
        """Exchange the one-time code (passwordless OTP grant, MFA audience by default)."""
        params = {
            "otp": v.one_time_code(code),
            "audience": v.non_empty(audience or self.config.default_audience, "audience"),
            "scope": v.non_empty(scope or self.config.scope, "scope"),
        }
        return self.run_step(flow, "verify_otp", _with_ip(params, forwarded_for))

    def login_password(
        self,
        flow: Flow,
        *,
        username: str,
        password: str,
        realm: str = DEFAULT_REALM,
        audience: str | None = None,
        scope: str | None = None,
        forwarded_for: str | None = None,
    ) -> R:
        """The password-realm grant as the first factor."""
        params = {
            "username": v.non_empty(username, "username", max_len=320),
            "password": v.non_empty(password, "password", max_len=1024),
            "realm": v.non_empty(realm, "realm", max_len=128),
            "audience": v.non_empty(audience or self.config.default_audience, "audience"),
            "scope": v.non_empty(scope or self.config.scope, "scope"),
        }
        return self.run_step(flow, "login_password", _with_ip(params, forwarded_for))

    def list_authenticators(self, flow: Flow) -> R:
        """``GET /mfa/authenticators`` with the flow's mfa_token."""
        return self.run_step(flow, "list_authenticators", {})

    def enroll(
        self,
        flow: Flow,
        factor: str,
        *,
        phone_number: str | None = None,
        email: str | None = None,
    ) -> R:
        """``POST /mfa/associate``: enroll ``otp``, ``sms``, ``voice``, ``email`` or ``push``."""
        if factor not in FACTORS:
            raise InvalidInputError("factor", f"must be one of {', '.join(FACTORS)}")
        params: dict[str, Any] = {"factor": factor}
        if factor in ("sms", "voice"):
            params["phone_number"] = v.phone_number(phone_number)
        elif phone_number is not None:
            raise InvalidInputError("phone_number", f"not used when enrolling {factor}")
        if factor == "email":
            if email is not None:
                params["email"] = v.email(email)
        elif email is not None:
            raise InvalidInputError("email", f"not used when enrolling {factor}")
        return self.run_step(flow, "enroll", params)

    def challenge(
        self,
        flow: Flow,
        *,
        authenticator_id: str | None = None,
        challenge_type: str | None = None,
    ) -> R:
        """``POST /mfa/challenge`` for an enrolled authenticator (mfa_token in the body)."""
        params: dict[str, Any] = {}
        if authenticator_id is not None:
            params["authenticator_id"] = v.authenticator_id(authenticator_id)
        if challenge_type is not None:
            if challenge_type not in ("otp", "oob", "otp oob"):
                raise InvalidInputError("challenge_type", "must be 'otp', 'oob' or 'otp oob'")
            params["challenge_type"] = challenge_type
        return self.run_step(flow, "challenge", params)

    def confirm_oob(self, flow: Flow, binding_code: str) -> R:
        """The mfa-oob grant with the code the user received (SMS, voice, email)."""
        return self.run_step(
            flow, "confirm_oob", {"binding_code": v.one_time_code(binding_code, "binding_code")}
        )

    def confirm_otp(self, flow: Flow, otp: str) -> R:
        """The mfa-otp grant with a TOTP code."""
        return self.run_step(flow, "confirm_otp", {"otp": v.totp_code(otp)})

    def confirm_recovery_code(self, flow: Flow, recovery_code: str) -> R:
        """The mfa-recovery-code grant; the result carries the new ``recovery_code``."""
        return self.run_step(
            flow, "confirm_recovery_code", {"recovery_code": v.recovery_code(recovery_code)}
        )


def _with_ip(params: dict[str, Any], forwarded_for: str | None) -> dict[str, Any]:
    """``params`` plus the checked end-user IP, when one is given."""
    if forwarded_for is not None:
        params["forwarded_for"] = v.ip_address(forwarded_for)
    return params


def now_monotonic() -> float:
    """A monotonic clock for durations."""
    return time.perf_counter()
