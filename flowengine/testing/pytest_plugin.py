"""pytest fixtures for applications that log in through Auth0 with flowengine.

Registered as the ``flowengine`` pytest plugin (entry point ``pytest11``), so the
fixtures are available in any test once flowengine is installed.

The tenant:

* ``auth0_clock``: a ``FakeClock`` shared by the emulator and your code.
* ``auth0_emulator``: a fresh in-process tenant (``tenant.example.auth0.com``) with a
  confidential client ``app-id``/``app-secret`` and a public client ``public-id``,
  driven by ``auth0_clock``, deterministic (seed 0).
* ``auth0_server``: that same tenant served on ``127.0.0.1`` (a free port), stopped
  after the test.

flowengine wired to that tenant (in-process, all on ``auth0_clock``, so codes,
tokens, flows and leases expire when the test advances the clock, never in real
time):

* ``flow_config``: an ``flowengine.Auth0Config`` for the confidential client
  at ``auth0_emulator.base_url``.
* ``flow_client`` / ``async_flow_client``: a ``flowengine.FlowClient`` /
  ``flowengine.AsyncFlowClient`` for ``flow_config`` over the emulator's
  in-process transport; their retry back-off sleeps on ``auth0_clock``. Closed
  after the test.
* ``flow_keyring``: a ``flowengine.Keyring`` with one freshly generated key.
* ``flow_store``: an empty ``flowengine.stores.MemoryStore``, closed
  after the test.
* ``flow_repository`` / ``async_flow_repository``: a
  ``flowengine.FlowRepository`` (and its asyncio twin) over ``flow_store``
  and ``flow_keyring``.

Override any of them in your ``conftest.py`` (e.g. ``flow_config`` for a public
client, or ``flow_store`` for SQLite) and the ones built on it follow.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, Final

import pytest

from flowengine import (
    AsyncFlowClient,
    AsyncFlowRepository,
    Auth0Config,
    FlowClient,
    FlowRepository,
    Keyring,
)
from flowengine.stores import MemoryStore
from flowengine.testing._clock import FakeClock
from flowengine.testing._emulator import Auth0Emulator
from flowengine.testing._server import EmulatorServer

__all__ = [
    "CONFIDENTIAL_CLIENT_ID",
    "CONFIDENTIAL_CLIENT_SECRET",
    "PUBLIC_CLIENT_ID",
    "TENANT_DOMAIN",
    "async_flow_client",
    "async_flow_repository",
    "auth0_clock",
    "auth0_emulator",
    "auth0_server",
    "flow_client",
    "flow_config",
    "flow_keyring",
    "flow_repository",
    "flow_store",
]

TENANT_DOMAIN: Final = "tenant.example.auth0.com"
CONFIDENTIAL_CLIENT_ID: Final = "app-id"
CONFIDENTIAL_CLIENT_SECRET: Final = "app-secret"
PUBLIC_CLIENT_ID: Final = "public-id"


def _run_to_end(coro: Coroutine[Any, Any, None]) -> None:
    """Run ``coro`` from synchronous teardown code, even under a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    # A loop runs in this thread (an async test framework's teardown): use another one.
    worker = threading.Thread(target=asyncio.run, args=(coro,), name="flowengine-aclose")
    worker.start()
    worker.join()


@pytest.fixture
def auth0_clock() -> FakeClock:
    """A fake clock starting at 1_800_000_000 (epoch seconds)."""
    return FakeClock()


@pytest.fixture
def auth0_emulator(auth0_clock: FakeClock) -> Auth0Emulator:
    """A fresh emulated tenant with a confidential and a public client."""
    emu = Auth0Emulator(
        domain=TENANT_DOMAIN, clock=auth0_clock.time, sleep=auth0_clock.sleep, seed=0
    )
    emu.add_client(CONFIDENTIAL_CLIENT_ID, client_secret=CONFIDENTIAL_CLIENT_SECRET)
    emu.add_client(PUBLIC_CLIENT_ID, client_secret=None)
    return emu


@pytest.fixture
def auth0_server(auth0_emulator: Auth0Emulator) -> Iterator[EmulatorServer]:
    """``auth0_emulator`` served over HTTP on 127.0.0.1, stopped after the test."""
    with auth0_emulator.serve() as server:
        yield server


@pytest.fixture
def flow_config(auth0_emulator: Auth0Emulator) -> Auth0Config:
    """The confidential client ``app-id`` of ``auth0_emulator``, at its ``base_url``."""
    return Auth0Config(auth0_emulator.base_url, CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET)


@pytest.fixture
def flow_client(
    flow_config: Auth0Config, auth0_emulator: Auth0Emulator, auth0_clock: FakeClock
) -> Iterator[FlowClient]:
    """A FlowClient for ``flow_config`` over the emulator's in-process transport."""
    with FlowClient(
        flow_config,
        transport=auth0_emulator.transport(),
        clock=auth0_clock.time,
        sleep=auth0_clock.sleep,
    ) as client:
        yield client


@pytest.fixture
def async_flow_client(
    flow_config: Auth0Config, auth0_emulator: Auth0Emulator, auth0_clock: FakeClock
) -> Iterator[AsyncFlowClient]:
    """An AsyncFlowClient for ``flow_config`` over the emulator's async in-process transport.

    The fixture is synchronous, so it works with any async test runner (or with
    ``asyncio.run`` inside a plain test); the client is closed after the test.
    """

    async def sleep(seconds: float) -> None:
        auth0_clock.sleep(seconds)

    client = AsyncFlowClient(
        flow_config,
        transport=auth0_emulator.async_transport(),
        clock=auth0_clock.time,
        sleep=sleep,
    )
    yield client
    _run_to_end(client.aclose())


@pytest.fixture
def flow_keyring() -> Keyring:
    """A keyring with one freshly generated AES-256-GCM key (``k1``)."""
    return Keyring.generate()


@pytest.fixture
def flow_store() -> Iterator[MemoryStore]:
    """An empty in-memory flow store, closed after the test."""
    store = MemoryStore()
    yield store
    store.close()


@pytest.fixture
def flow_repository(
    flow_store: MemoryStore, flow_keyring: Keyring, auth0_clock: FakeClock
) -> FlowRepository:
    """Flows sealed with ``flow_keyring`` in ``flow_store``, on ``auth0_clock``."""
    return FlowRepository(flow_store, flow_keyring, clock=auth0_clock.time)


@pytest.fixture
def async_flow_repository(flow_repository: FlowRepository) -> AsyncFlowRepository:
    """The asyncio face of ``flow_repository`` (the same store and keyring)."""
    return AsyncFlowRepository(flow_repository)
