"""A driver harness: the same e2e test runs through FlowClient and AsyncFlowClient."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flowengine import AsyncFlowClient, Auth0Config, FlowClient
from flowengine.testing import Auth0Emulator, FakeClock

TENANT = "tenant.example.auth0.com"


class Driver:
    """Calls a sync or async client's methods alike; async ones run on a private loop."""

    def __init__(
        self, client: FlowClient | AsyncFlowClient, loop: asyncio.AbstractEventLoop | None
    ) -> None:
        self.client = client
        self._loop = loop

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._loop is None:
                return method(*args, **kwargs)

            # Build the coroutine inside the loop so eager validation errors surface there too.
            async def run() -> Any:
                value = method(*args, **kwargs)
                return await value if inspect.isawaitable(value) else value

            return self._loop.run_until_complete(run())

        return call


@pytest.fixture
def clock() -> FakeClock:
    """The clock shared by the emulator and the client."""
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Auth0Emulator:
    """A fresh emulated tenant with a confidential client."""
    e = Auth0Emulator(domain=TENANT, clock=clock.time, sleep=clock.sleep, seed=1)
    e.add_client("app-id", client_secret="app-secret")
    e.add_client("public-id", client_secret=None)
    return e


@pytest.fixture(params=["sync", "async"])
def make_driver(
    request: pytest.FixtureRequest, emu: Auth0Emulator, clock: FakeClock
) -> Iterator[Callable[..., Driver]]:
    """Build drivers over the emulator's in-process transport, sync or async."""
    made: list[Driver] = []
    loop = asyncio.new_event_loop() if request.param == "async" else None

    def make(client_id: str = "app-id", secret: str | None = "app-secret", **cfg: Any) -> Driver:
        config = Auth0Config(TENANT, client_id, secret, **cfg)
        client: FlowClient | AsyncFlowClient
        if loop is None:
            client = FlowClient(
                config, transport=emu.transport(), clock=clock.time, sleep=clock.sleep
            )
        else:

            async def asleep(seconds: float) -> None:
                clock.sleep(seconds)

            client = AsyncFlowClient(
                config, transport=emu.async_transport(), clock=clock.time, sleep=asleep
            )
        driver = Driver(client, loop)
        made.append(driver)
        return driver

    yield make
    for d in made:
        if loop is None:
            d.client.close()  # type: ignore[union-attr]
        else:
            loop.run_until_complete(d.client.aclose())  # type: ignore[union-attr]
    if loop is not None:
        loop.close()


@pytest.fixture
def driver(make_driver: Callable[..., Driver]) -> Driver:
    """A driver for the confidential client."""
    return make_driver()
