"""flowengine.testing: an offline, deterministic emulator of an Auth0 tenant.

Use it to test code that drives Auth0's passwordless + MFA API without a network::

    from flowengine.testing import Auth0Emulator, FakeClock

    clock = FakeClock()
    emu = Auth0Emulator(clock=clock.time, sleep=clock.sleep, seed=1)
    emu.add_client("app-id", client_secret="app-secret")
    client = httpx.Client(base_url=emu.base_url, transport=emu.transport())

or over real HTTP with ``emu.serve()`` (the server's ``base_url`` is where to point a
client, as the emulator's is in-process). The pytest fixtures (``auth0_emulator``,
``auth0_server``, and ``flow_config``, ``flow_client``, ``async_flow_client``,
``flow_repository`` already wired to the emulator) live in
``flowengine.testing.pytest_plugin``.
"""

from __future__ import annotations

from flowengine.testing._clock import FakeClock
from flowengine.testing._emulator import Auth0Emulator
from flowengine.testing._models import (
    AuthenticatorInfo,
    EmulatorResponse,
    Fault,
    OutboxMessage,
    PushScript,
    RequestRecord,
    UserInfo,
)
from flowengine.testing._server import EmulatorServer
from flowengine.testing._transport import AsyncEmulatorTransport, EmulatorTransport

__all__ = [
    "AsyncEmulatorTransport",
    "Auth0Emulator",
    "AuthenticatorInfo",
    "EmulatorResponse",
    "EmulatorServer",
    "EmulatorTransport",
    "FakeClock",
    "Fault",
    "OutboxMessage",
    "PushScript",
    "RequestRecord",
    "UserInfo",
]
