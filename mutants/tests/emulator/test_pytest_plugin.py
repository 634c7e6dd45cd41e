"""The pytest plugin's fixtures: a config, clients and a repository wired to the emulator."""

from __future__ import annotations

import asyncio
import threading

import pytest

from flowengine import (
    AsyncFlowClient,
    AsyncFlowRepository,
    Auth0Config,
    Flow,
    FlowClient,
    FlowExpiredError,
    FlowRepository,
    Keyring,
    SnapshotError,
    dump_flow,
    load_flow,
)
from flowengine.stores import MemoryStore
from flowengine.testing import Auth0Emulator, FakeClock
from flowengine.testing.pytest_plugin import _run_to_end

from .conftest import PHONE

pytest_plugins = ["pytester"]


def test_flow_config_is_the_confidential_client_at_the_emulator(
    flow_config: Auth0Config, auth0_emulator: Auth0Emulator
) -> None:
    """flow_config names app-id/app-secret at the emulator's base_url and MFA audience."""
    assert flow_config.base_url == auth0_emulator.base_url
    assert (flow_config.client_id, flow_config.client_secret) == ("app-id", "app-secret")
    assert flow_config.mfa_audience == auth0_emulator.mfa_audience


def test_flow_client_runs_the_seed(flow_client: FlowClient, auth0_emulator: Auth0Emulator) -> None:
    """flow_client logs in through the emulator in-process: SMS code, enroll SMS, confirm."""
    flow = flow_client.new_flow()
    flow_client.start_passwordless(flow, connection="sms", phone_number=PHONE)
    assert flow_client.verify_otp(flow, auth0_emulator.last_code(PHONE)).state == "mfa_required"
    flow_client.enroll(flow, "sms", phone_number=PHONE)
    done = flow_client.confirm_oob(flow, auth0_emulator.last_code(PHONE, purpose="mfa"))
    assert done.state == "authenticated"
    assert len(auth0_emulator.requests) == 4


def test_async_flow_client_runs_the_seed(
    async_flow_client: AsyncFlowClient, auth0_emulator: Auth0Emulator
) -> None:
    """async_flow_client runs the same seed under asyncio.run."""

    async def login() -> str:
        flow = async_flow_client.new_flow()
        await async_flow_client.start_passwordless(flow, connection="sms", phone_number=PHONE)
        await async_flow_client.verify_otp(flow, auth0_emulator.last_code(PHONE))
        await async_flow_client.enroll(flow, "sms", phone_number=PHONE)
        code = auth0_emulator.last_code(PHONE, purpose="mfa")
        return (await async_flow_client.confirm_oob(flow, code)).state

    assert asyncio.run(login()) == "authenticated"


def test_clients_run_on_the_emulators_fake_clock(
    flow_client: FlowClient, auth0_emulator: Auth0Emulator, auth0_clock: FakeClock
) -> None:
    """Advancing auth0_clock past the code's 3 minutes expires the flow, with no request sent."""
    flow = flow_client.new_flow()
    assert flow.created_at == auth0_clock.time()
    flow_client.start_passwordless(flow, connection="sms", phone_number=PHONE)
    auth0_clock.advance(181)
    with pytest.raises(FlowExpiredError):
        flow_client.verify_otp(flow, auth0_emulator.last_code(PHONE))
    assert len(auth0_emulator.requests) == 1


def test_flow_repository_resumes_a_login_step_by_step(
    flow_repository: FlowRepository,
    flow_store: MemoryStore,
    flow_keyring: Keyring,
    flow_client: FlowClient,
    auth0_emulator: Auth0Emulator,
) -> None:
    """flow_repository seals flows into flow_store with flow_keyring; each step resumes one."""
    assert (flow_repository.store, flow_repository.keyring) == (flow_store, flow_keyring)
    flow = flow_client.new_flow()
    handle = flow_repository.add(flow)
    with flow_repository.step(handle) as resumed:
        flow_client.start_passwordless(resumed, connection="sms", phone_number=PHONE)
    code = auth0_emulator.last_code(PHONE)
    with flow_repository.step(resumed.handle) as resumed:
        flow_client.verify_otp(resumed, code)
    stored = flow_store.load(flow.flow_id)
    assert (stored.state, stored.seq) == ("mfa_required", 2)
    assert code not in stored.data  # sealed, not plain JSON
    assert flow_repository.get(flow.flow_id).state == "mfa_required"


def test_async_flow_repository_shares_the_store(
    async_flow_repository: AsyncFlowRepository,
    flow_repository: FlowRepository,
    flow_client: FlowClient,
) -> None:
    """async_flow_repository is the asyncio face of flow_repository: one store between them."""
    flow = flow_client.new_flow()
    handle = asyncio.run(async_flow_repository.add(flow))
    assert async_flow_repository.sync is flow_repository
    assert flow_repository.get(flow.flow_id).state == "started"
    assert flow_repository.view(handle).flow_id == flow.flow_id  # its handle resumes it here too


def test_each_test_gets_a_fresh_keyring(flow_keyring: Keyring) -> None:
    """flow_keyring is generated per test: a snapshot sealed by another keyring is refused."""
    sealed = dump_flow(Flow.new("fl_other", 1_800_000_000.0), Keyring.generate())
    with pytest.raises(SnapshotError):
        load_flow(sealed, flow_keyring, now=None)


def test_installed_plugin_offers_and_tears_down_the_fixtures(pytester: pytest.Pytester) -> None:
    """In a fresh project the entry-point plugin offers every fixture and closes what it opened."""
    pytester.makepyfile(
        """
        import asyncio

        import pytest

        from flowengine import StoreError

        PHONE = "+15555550100"
        seen = {}


        def test_use(flow_client, async_flow_client, flow_store, flow_repository,
                     async_flow_repository, flow_config, flow_keyring, auth0_emulator,
                     auth0_server):
            assert flow_config.base_url == auth0_emulator.base_url
            assert auth0_server.base_url.startswith("http://127.0.0.1:")
            seen.update(sync=flow_client, aio=async_flow_client, store=flow_store)


        def test_closed_after_use():
            flow = seen["sync"].new_flow()
            with pytest.raises(RuntimeError, match="closed"):
                seen["sync"].start_passwordless(flow, connection="sms", phone_number=PHONE)
            flow = seen["aio"].new_flow()
            coro = seen["aio"].start_passwordless(flow, connection="sms", phone_number=PHONE)
            with pytest.raises(RuntimeError, match="closed"):
                asyncio.run(coro)
            with pytest.raises(StoreError):
                seen["store"].load("fl_any")
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_async_teardown_also_works_under_a_running_event_loop() -> None:
    """The async client's close runs on a helper thread when a loop already runs in this one."""

    ran_on: list[str] = []

    async def close() -> None:
        ran_on.append(threading.current_thread().name)

    async def teardown_inside_a_loop() -> None:
        _run_to_end(close())

    _run_to_end(close())
    asyncio.run(teardown_inside_a_loop())
    assert ran_on == [threading.current_thread().name, "flowengine-aclose"]
