"""auth0-forwarded-for: the end user's IP reaches Auth0 so per-IP limits apply to the user."""

from __future__ import annotations

import pytest

from flowengine import Auth0Config, FlowClient, InvalidInputError, RateLimitedError
from flowengine.testing import Auth0Emulator, FakeClock

TENANT = "tenant.example.auth0.com"


def tenant(clock: FakeClock) -> Auth0Emulator:
    emu = Auth0Emulator(domain=TENANT, clock=clock.time, seed=9)
    emu.add_client("app-id", client_secret="app-secret", trust_forwarded_for=True)
    emu.add_client("public-id", client_secret=None)
    return emu


def test_users_behind_one_server_get_their_own_start_budget() -> None:
    """51 users behind one app server each send a code when their IPs are forwarded."""
    clock = FakeClock()
    emu = tenant(clock)
    config = Auth0Config(TENANT, "app-id", "app-secret")
    with FlowClient(config, transport=emu.transport(), clock=clock.time) as client:
        for i in range(51):
            flow = client.new_flow()
            client.start_passwordless(
                flow,
                connection="sms",
                phone_number=f"+1555010{i:04d}",
                forwarded_for=f"198.51.100.{i}",
            )
        blocked = client.new_flow()
        with pytest.raises(RateLimitedError):  # without the header they share one budget
            for i in range(51):
                client.start_passwordless(
                    blocked, connection="sms", phone_number=f"+1555020{i:04d}"
                )
                blocked = client.new_flow()


def test_header_sent_only_by_a_confidential_client_and_never_stored() -> None:
    """A public client sends no header (Auth0 would ignore it); the IP is not in the flow."""
    clock = FakeClock()
    emu = tenant(clock)
    for client_id, secret in (("app-id", "app-secret"), ("public-id", None)):
        config = Auth0Config(TENANT, client_id, secret)
        with FlowClient(config, transport=emu.transport(), clock=clock.time) as client:
            flow = client.new_flow()
            client.start_passwordless(
                flow, connection="sms", phone_number="+15550100", forwarded_for="203.0.113.7"
            )
            client.verify_otp(flow, emu.last_code("+15550100"), forwarded_for="203.0.113.7")
            assert "203.0.113.7" not in repr(flow.to_envelope())
    sent = [r.headers.get("auth0-forwarded-for") for r in emu.requests]
    assert sent == ["203.0.113.7", "203.0.113.7", None, None]


def test_a_bad_ip_is_refused_before_any_request() -> None:
    """Anything but an IPv4 or IPv6 address is an InvalidInputError."""
    clock = FakeClock()
    emu = tenant(clock)
    config = Auth0Config(TENANT, "app-id", "app-secret")
    client = FlowClient(config, transport=emu.transport(), clock=clock.time)
    with pytest.raises(InvalidInputError):
        client.start_passwordless(
            client.new_flow(),
            connection="sms",
            phone_number="+15550100",
            forwarded_for="1.2.3.4\r\nx: y",
        )
    client.close()
    assert emu.requests == []
