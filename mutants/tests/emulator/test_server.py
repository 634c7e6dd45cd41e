"""Tests of the loopback HTTP server (real sockets, real threads)."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from flowengine.testing import Auth0Emulator, EmulatorServer, Fault

from .conftest import PHONE, Api


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        try:
            probe.connect(("127.0.0.1", port))
        except OSError:
            pass
        else:
            return False
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
    return True


def test_serves_20_concurrent_requests_and_stops_cleanly(
    emu: Auth0Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty requests are in the handler at once; stop() leaves no thread and frees the port.

    Each request waits at a barrier of 20 inside the tenant: a server that
    served them one at a time would break the barrier (no timing threshold).
    """
    baseline = threading.active_count()
    barrier = threading.Barrier(20, timeout=30)
    handle = emu.handle

    def gathered(*args: Any, **kwargs: Any) -> Any:
        barrier.wait()
        return handle(*args, **kwargs)

    monkeypatch.setattr(emu, "handle", gathered)
    server = emu.serve()
    port = server.port
    assert server.url == f"http://127.0.0.1:{port}"

    def call(_: int) -> int:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            return client.get("/mfa/authenticators").status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(call, range(20)))
    assert statuses == [401] * 20
    assert not barrier.broken
    server.stop()
    server.stop()  # idempotent
    deadline = time.monotonic() + 10
    while threading.active_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == baseline
    assert _port_is_free(port)


def test_stop_with_open_keepalive_connection(emu: Auth0Emulator) -> None:
    """stop() closes connections a client keeps alive and joins their threads."""
    baseline = threading.active_count()
    with emu.serve() as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/nope").status_code == 404
        assert threading.active_count() > baseline
        server.stop()
        assert threading.active_count() == baseline
    assert not server.running


def test_full_login_over_http(emu: Auth0Emulator) -> None:
    """The whole passwordless + SMS MFA flow works over the real socket."""
    with emu.serve() as server, httpx.Client(base_url=server.url, timeout=5) as client:
        api = Api(emu, client)
        api.enroll_sms()
        token = api.login_sms()
        oob = api.challenge(token).json()["oob_code"]
        resp = api.oob(token, oob, emu.last_code(PHONE, purpose="mfa"))
        assert resp.status_code == 200
        assert api.delete(resp.json()["access_token"], "sms|dev_x").status_code == 401
        assert client.get("/oauth/token").status_code == 405
        assert emu.requests[-1].client_ip == "127.0.0.1"


def test_server_reset_fault(emu: Auth0Emulator) -> None:
    """A reset on the server cuts the body mid-way: httpx raises RemoteProtocolError."""
    emu.add_fault(Fault(endpoint="/passwordless/start", kind="reset"))
    with emu.serve() as server, httpx.Client(base_url=server.url, timeout=5) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            Api(emu, client).start_sms()
        assert len(emu.outbox) == 1  # processed
        assert Api(emu, client).start_sms().status_code == 200


def test_server_delay_really_sleeps(emu: Auth0Emulator) -> None:
    """A delay on the server really waits before answering."""
    emu.add_fault(Fault(endpoint="/passwordless/start", kind="delay", seconds=0.3))
    with emu.serve() as server, httpx.Client(base_url=server.url, timeout=5) as client:
        started = time.monotonic()
        assert Api(emu, client).start_sms().status_code == 200
        assert time.monotonic() - started >= 0.3


def test_server_read_timeout_and_refuse(emu: Auth0Emulator) -> None:
    """read_timeout stays silent (client times out); refuse closes without an answer."""
    emu.add_fault(Fault(endpoint="/passwordless/start", kind="read_timeout", seconds=120))
    emu.add_fault(Fault(endpoint="/mfa/challenge", kind="connect_refused"))
    baseline = threading.active_count()
    server = emu.serve()
    with httpx.Client(base_url=server.url, timeout=0.3) as client:
        with pytest.raises(httpx.ReadTimeout):
            Api(emu, client).start_sms()
        assert len(emu.outbox) == 1  # processed before the silence
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.post("/mfa/challenge", json={})
    started = time.monotonic()
    server.stop()  # wakes the handler still holding the read_timeout connection
    assert time.monotonic() - started < 60  # far less than the 120 s of silence
    assert threading.active_count() == baseline


def test_server_cannot_restart(emu: Auth0Emulator) -> None:
    """A stopped server refuses start()."""
    server = EmulatorServer(emu)
    server.start()
    server.stop()
    with pytest.raises(RuntimeError):
        server.start()


def test_auth0_server_fixture(auth0_server: EmulatorServer) -> None:
    """The auth0_server fixture serves the fixture emulator."""
    resp = httpx.post(
        auth0_server.url + "/passwordless/start",
        json={"client_id": "public-id", "connection": "sms", "phone_number": PHONE},
    )
    assert resp.status_code == 200
