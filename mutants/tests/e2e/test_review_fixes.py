"""Regression tests for the independent review's findings."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from structlog.testing import capture_logs

from flowengine import (
    AsyncFlowClient,
    Auth0Config,
    Auth0Error,
    FlowClient,
    FlowRejectedError,
    GuardRejectedError,
)
from flowengine.testing import Auth0Emulator, FakeClock, PushScript

TENANT = "tenant.example.auth0.com"


def test_a_shared_client_that_follows_redirects_is_not_followed() -> None:
    """A 307 to another host is an error; the body with the client secret goes nowhere."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == TENANT:
            return httpx.Response(307, headers={"location": "http://evil.example.net/collect"})
        return httpx.Response(200, json={})

    shared = httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=True)
    client = FlowClient(Auth0Config(TENANT, "app-id", "S3CRET"), http=shared)
    flow = client.new_flow()
    with pytest.raises(Auth0Error):
        client.start_passwordless(flow, connection="sms", phone_number="+15550100")
    assert seen == [f"https://{TENANT}/passwordless/start"]
    assert flow.state == "started"


@pytest.mark.parametrize(
    "audience",
    [
        "https://tenant.example.auth0.com/mfa/",
        "https://tenant.example.auth0.com/mfa",
        "https://login.example.com/mfa/",
        "HTTPS://Tenant.Example.Auth0.com/MFA/",
    ],
)
def test_any_mfa_audience_spelling_is_an_mfa_credential(audience: str) -> None:
    """Tokens minted for any https://<host>/mfa/ audience never finish the login."""
    assert Auth0Config.is_mfa_audience(audience)


def test_default_port_does_not_change_the_audience() -> None:
    """https://tenant:443 names the same tenant and the same MFA audience."""
    config = Auth0Config(f"https://{TENANT}:443", "app-id")
    assert config.base_url == f"https://{TENANT}"
    assert config.mfa_audience == f"https://{TENANT}/mfa/"


def test_a_cancelled_send_is_recorded_as_uncertain() -> None:
    """A task cancelled while its passwordless start is in flight leaves the doubt recorded."""
    clock = FakeClock()
    emu = Auth0Emulator(domain=TENANT, clock=clock.time, seed=2)
    emu.add_client("app-id", client_secret="app-secret")
    inner = emu.async_transport()

    class Slow(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await inner.handle_async_request(request)  # the tenant acts...
            await asyncio.sleep(10)  # ...and the answer never comes back in time
            raise AssertionError("unreachable")

    async def run() -> None:
        client = AsyncFlowClient(Auth0Config(TENANT, "app-id", "app-secret"), transport=Slow())
        flow = client.new_flow()
        task = asyncio.ensure_future(
            client.start_passwordless(flow, connection="sms", phone_number="+15550100")
        )
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert flow.context["send_unconfirmed"] is True
        with pytest.raises(GuardRejectedError):
            await client.start_passwordless(flow, connection="sms", phone_number="+15550100")
        await client.aclose()

    asyncio.run(run())
    assert len([m for m in emu.outbox if m.purpose == "passwordless"]) == 1


def test_ended_and_local_transitions_are_logged() -> None:
    """A rejection, a rollback and a cancel each emit a flow_transition event."""
    clock = FakeClock()
    emu = Auth0Emulator(domain=TENANT, clock=clock.time, sleep=clock.sleep, seed=5)
    emu.add_client("app-id", client_secret="app-secret")
    emu.push_script = PushScript(pending=0, outcome="reject")
    config = Auth0Config(TENANT, "app-id", "app-secret")
    client = FlowClient(config, transport=emu.transport(), clock=clock.time, sleep=clock.sleep)
    with capture_logs() as logs:
        flow = client.new_flow()
        client.start_passwordless(flow, connection="sms", phone_number="+15550100")
        client.rollback(flow)
        client.start_passwordless(flow, connection="sms", phone_number="+15550100")
        client.verify_otp(flow, emu.last_code("+15550100"))
        client.enroll(flow, "push")
        with pytest.raises(FlowRejectedError):
            client.poll_push(flow)
        other = client.new_flow()
        client.cancel(other)
    moves = [(e["trigger"], e["to_state"]) for e in logs if e["event"] == "flow_transition"]
    assert ("rollback", "started") in moves
    assert ("poll_push", "rejected") in moves
    assert ("cancel", "cancelled") in moves
    assert "app-secret" not in json.dumps(logs, default=str)


def test_a_final_flow_keeps_no_old_secrets_in_its_history() -> None:
    """Once rejected, the history holds no context (no old mfa_token or oob_code)."""
    clock = FakeClock()
    emu = Auth0Emulator(domain=TENANT, clock=clock.time, sleep=clock.sleep, seed=6)
    emu.add_client("app-id", client_secret="app-secret")
    emu.push_script = PushScript(pending=0, outcome="reject")
    config = Auth0Config(TENANT, "app-id", "app-secret")
    client = FlowClient(config, transport=emu.transport(), clock=clock.time, sleep=clock.sleep)
    flow = client.new_flow()
    client.start_passwordless(flow, connection="sms", phone_number="+15550100")
    client.verify_otp(flow, emu.last_code("+15550100"))
    client.enroll(flow, "push")
    with pytest.raises(FlowRejectedError):
        client.poll_push(flow)
    assert all("context" not in h for h in flow.history)
    assert "mfa_token" not in flow.context and "oob_code" not in flow.context
