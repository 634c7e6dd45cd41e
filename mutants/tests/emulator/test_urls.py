"""Auth0Emulator and EmulatorServer agree on ``base_url`` (and its alias ``url``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from flowengine.testing import Auth0Emulator, EmulatorServer

from .conftest import PHONE


@contextmanager
def client_for(target: Auth0Emulator | EmulatorServer) -> Iterator[httpx.Client]:
    """An httpx client built from ``target.base_url`` alone (plus the transport in-process)."""
    if isinstance(target, Auth0Emulator):
        with httpx.Client(base_url=target.base_url, transport=target.transport()) as client:
            yield client
    else:
        with httpx.Client(base_url=target.base_url, timeout=30) as client:
            yield client


def start_sms(target: Auth0Emulator | EmulatorServer) -> httpx.Response:
    with client_for(target) as client:
        return client.post(
            "/passwordless/start",
            json={
                "client_id": "app-id",
                "client_secret": "app-secret",
                "connection": "sms",
                "phone_number": PHONE,
            },
        )


def test_emulator_base_url_and_its_url_alias(emu: Auth0Emulator) -> None:
    """The emulator's base_url is https://<domain>, and url is the same string."""
    assert emu.base_url == f"https://{emu.domain}"
    assert emu.url == emu.base_url


def test_server_base_url_and_its_url_alias(emu: Auth0Emulator) -> None:
    """The server's base_url is http://host:port, url is the same string, and repr shows it."""
    with emu.serve() as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert server.url == server.base_url
        assert repr(server) == f"EmulatorServer(base_url={server.base_url!r}, running=True)"


def test_either_base_url_reaches_the_same_tenant(emu: Auth0Emulator) -> None:
    """A client built from either object's base_url reaches the tenant: one code per send."""
    assert start_sms(emu).status_code == 200
    with emu.serve() as server:
        assert start_sms(server).status_code == 200
    assert [m.to for m in emu.outbox] == [PHONE, PHONE]
    assert [r.path for r in emu.requests] == ["/passwordless/start"] * 2
