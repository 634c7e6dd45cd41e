"""The seed over real HTTP on 127.0.0.1, with both drivers, against the served emulator."""

from __future__ import annotations

import asyncio

from flowengine import AsyncFlowClient, Auth0Config, FlowClient
from flowengine.testing import Auth0Emulator

PHONE = "+15550100"


def test_seed_over_loopback_sync() -> None:
    """The sync driver runs the seed against the emulator served on loopback."""
    emu = Auth0Emulator(seed=3)
    emu.add_client("app-id", client_secret="app-secret")
    with emu.serve() as server:
        config = Auth0Config(server.url, "app-id", "app-secret", tenant_domain=emu_domain(emu))
        with FlowClient(config) as client:
            flow = client.new_flow()
            client.start_passwordless(flow, connection="sms", phone_number=PHONE)
            client.verify_otp(flow, emu.last_code(PHONE))
            client.enroll(flow, "sms", phone_number=PHONE)
            result = client.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa"))
    assert result.state == "authenticated"
    assert server.url.startswith("http://127.0.0.1:")


def test_seed_over_loopback_async() -> None:
    """The async driver runs the seed against the emulator served on loopback."""
    emu = Auth0Emulator(seed=4)
    emu.add_client("app-id", client_secret="app-secret")

    async def run(url: str) -> str:
        config = Auth0Config(url, "app-id", "app-secret", tenant_domain=emu_domain(emu))
        async with AsyncFlowClient(config) as client:
            flow = client.new_flow()
            await client.start_passwordless(flow, connection="sms", phone_number=PHONE)
            await client.verify_otp(flow, emu.last_code(PHONE))
            await client.enroll(flow, "sms", phone_number=PHONE)
            result = await client.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa"))
            return result.state

    with emu.serve() as server:
        assert asyncio.run(run(server.url)) == "authenticated"


def emu_domain(emu: Auth0Emulator) -> str:
    """The tenant host the emulator names in its MFA audience."""
    return emu.mfa_audience.removeprefix("https://").removesuffix("/mfa/")
