"""A third driver, over ``urllib.request``, written with public imports only, runs the seed."""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

import pytest

# Public names only: a driver needs nothing private.
from flowengine import (
    Auth0Config,
    Flow,
    FlowSteps,
    HttpResponse,
    Outcome,
    State,
    StepResult,
    TransportError,
    Trigger,
)
from flowengine.testing import Auth0Emulator

PHONE = "+15550100"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect must never carry the flow's secrets away


class UrllibFlowClient(FlowSteps[StepResult]):
    """The whole driver: send ``step.request``, hand back what happened. No rule lives here."""

    def __init__(self, config: Auth0Config) -> None:
        self.config = config
        self._opener = urllib.request.build_opener(_NoRedirect)

    def run_step(self, flow: Flow, trigger: str, params: Mapping[str, Any]) -> StepResult:
        step = flow.begin(trigger, params, self.config, time.time())
        assert step.request is not None
        req = urllib.request.Request(
            self.config.base_url + step.request.path,
            data=step.request.body,
            headers=dict(step.request.headers),
            method=step.request.method,
        )
        try:
            with self._opener.open(req, timeout=10) as raw:
                response = _response(raw.status, raw.headers.items(), raw.read())
        except urllib.error.HTTPError as err:
            response = _response(err.code, err.headers.items(), err.read())
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            refused = isinstance(getattr(exc, "reason", exc), ConnectionRefusedError)
            flow.fail(step, sent=not refused, now=time.time())
            raise TransportError(f"{trigger}: no answer", trigger=trigger, ambiguous=True) from None
        return flow.finish(step, response, self.config, time.time())


def _response(status: int, headers: Any, body: bytes) -> HttpResponse:
    return HttpResponse(status, {k.lower(): v for k, v in headers}, body)


def _config(emu: Auth0Emulator, url: str) -> Auth0Config:
    domain = emu.mfa_audience.removeprefix("https://").removesuffix("/mfa/")
    return Auth0Config(url, "app-id", "app-secret", tenant_domain=domain)


def test_seed_flow_through_a_urllib_driver() -> None:
    """The seed's four calls reach authenticated through a driver made of public names."""
    emu = Auth0Emulator(seed=11)
    emu.add_client("app-id", client_secret="app-secret")
    with emu.serve() as server:
        client = UrllibFlowClient(_config(emu, server.url))
        flow = client.new_flow()
        assert client.start_passwordless(flow, connection="sms", phone_number=PHONE).state == (
            State.CODE_SENT
        )
        wrong = client.verify_otp(flow, "000000" if emu.last_code(PHONE) != "000000" else "111111")
        assert wrong.outcome == Outcome.WRONG_CODE and wrong.attempts == 1
        assert client.verify_otp(flow, emu.last_code(PHONE)).state == State.MFA_REQUIRED
        assert client.enroll(flow, "sms", phone_number=PHONE).trigger == Trigger.ENROLL
        result = client.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa"))
    assert result.state == "authenticated" and result.tokens is not None
    assert result.tokens["access_token"]


def test_the_driver_inherits_every_rule() -> None:
    """Illegal orders and a send that may have arrived are handled by the flow, not the driver."""
    from flowengine import GuardRejectedError, IllegalTransitionError
    from flowengine.testing import Fault

    emu = Auth0Emulator(seed=12)
    emu.add_client("app-id", client_secret="app-secret")
    with emu.serve() as server:
        client = UrllibFlowClient(_config(emu, server.url))
        flow = client.new_flow()
        with pytest.raises(IllegalTransitionError):
            client.confirm_oob(flow, "123456")
        emu.add_fault(Fault("/passwordless/start", "reset"))
        with pytest.raises(TransportError):
            client.start_passwordless(flow, connection="sms", phone_number=PHONE)
        assert flow.uncertain is not None and flow.uncertain.trigger == "start_passwordless"
        with pytest.raises(GuardRejectedError):
            client.start_passwordless(flow, connection="sms", phone_number=PHONE)
        assert client.resend_code(flow).state == State.CODE_SENT
