"""pytest fixtures for applications that log in through Auth0 with flowengine.

Registered as the ``flowengine`` pytest plugin (entry point ``pytest11``), so the
fixtures are available in any test once flowengine is installed:

* ``auth0_clock``: a :class:`FakeClock` shared by the emulator and your code.
* ``auth0_emulator``: a fresh in-process tenant (``tenant.example.auth0.com``) with a
  confidential client ``app-id``/``app-secret`` and a public client ``public-id``,
  driven by ``auth0_clock``, deterministic (seed 0).
* ``auth0_server``: that same tenant served on ``127.0.0.1`` (a free port), stopped
  after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import pytest

from flowengine.testing._clock import FakeClock
from flowengine.testing._emulator import Auth0Emulator
from flowengine.testing._server import EmulatorServer

__all__ = [
    "CONFIDENTIAL_CLIENT_ID",
    "CONFIDENTIAL_CLIENT_SECRET",
    "PUBLIC_CLIENT_ID",
    "TENANT_DOMAIN",
    "auth0_clock",
    "auth0_emulator",
    "auth0_server",
]

TENANT_DOMAIN: Final = "tenant.example.auth0.com"
CONFIDENTIAL_CLIENT_ID: Final = "app-id"
CONFIDENTIAL_CLIENT_SECRET: Final = "app-secret"
PUBLIC_CLIENT_ID: Final = "public-id"


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
