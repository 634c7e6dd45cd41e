"""In-process ``httpx`` transports that route requests to an ``Auth0Emulator``.

Wire faults become the matching ``httpx`` exceptions:

=================== ============================== ==========================================
fault               processed by the tenant?       what the client sees
=================== ============================== ==========================================
``connect_refused`` no                             ``httpx.ConnectError``
``connect_timeout`` no                             ``httpx.ConnectTimeout`` (after the
                                                   request's connect timeout, slept on the
                                                   emulator's ``sleep``)
``read_timeout``    YES (ambiguous)                ``httpx.ReadTimeout`` (after the read
                                                   timeout, or ``Fault.seconds``)
``reset``           YES (ambiguous)                status and headers arrive, then the body
                                                   read raises ``httpx.RemoteProtocolError``
``delay``           yes                            the answer after ``Fault.seconds`` on the
                                                   emulator's ``sleep``; ``httpx.ReadTimeout``
                                                   instead when the delay reaches the
                                                   request's read timeout
=================== ============================== ==========================================
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import httpx

from flowengine.testing._models import EmulatorResponse

if TYPE_CHECKING:
    from flowengine.testing._emulator import Auth0Emulator

__all__ = ["AsyncEmulatorTransport", "EmulatorTransport"]

_RESET_MESSAGE = "peer closed connection without sending complete message body (emulated reset)"


class _ResetStream(httpx.SyncByteStream):
    """A body that yields its first half and then fails like a reset connection."""

    def __init__(self, partial: bytes, request: httpx.Request) -> None:
        self._partial = partial
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        if self._partial:
            yield self._partial
        raise httpx.RemoteProtocolError(_RESET_MESSAGE, request=self._request)


class _AsyncResetStream(httpx.AsyncByteStream):
    """The async twin of ``_ResetStream``."""

    def __init__(self, partial: bytes, request: httpx.Request) -> None:
        self._partial = partial
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._partial:
            yield self._partial
        raise httpx.RemoteProtocolError(_RESET_MESSAGE, request=self._request)


def _call(emulator: Auth0Emulator, request: httpx.Request, client_ip: str) -> EmulatorResponse:
    headers = {k: v for k, v in request.headers.items()}
    return emulator.handle(
        request.method,
        request.url.raw_path.decode("ascii"),
        headers,
        request.content,
        client_ip,
    )


def _timeout(request: httpx.Request, which: str) -> float | None:
    timeouts = request.extensions.get("timeout") or {}
    value = timeouts.get(which)
    return float(value) if value is not None else None


def _plan(resp: EmulatorResponse, request: httpx.Request) -> tuple[float, Exception | None]:
    """How long to wait, and what to raise afterwards (None: deliver the response)."""
    kind = resp.transport_fault
    if kind == "connect_refused":
        return 0.0, httpx.ConnectError("[Errno 111] Connection refused (emulated)", request=request)
    if kind == "connect_timeout":
        wait = _timeout(request, "connect")
        return (resp.delay if wait is None else wait), httpx.ConnectTimeout(
            "timed out (emulated connect timeout)", request=request
        )
    if kind == "read_timeout":
        wait = _timeout(request, "read")
        return (resp.delay if wait is None else wait), httpx.ReadTimeout(
            "timed out (emulated read timeout)", request=request
        )
    if resp.delay > 0:
        read = _timeout(request, "read")
        if read is not None and resp.delay >= read:
            return read, httpx.ReadTimeout("timed out (emulated delay)", request=request)
        return resp.delay, None
    return 0.0, None


def _response(resp: EmulatorResponse, request: httpx.Request, *, sync: bool) -> httpx.Response:
    headers = list(resp.headers.items())
    if resp.transport_fault == "reset":
        partial = resp.body[: len(resp.body) // 2]
        headers.append(("content-length", str(len(resp.body))))
        stream: httpx.SyncByteStream | httpx.AsyncByteStream = (
            _ResetStream(partial, request) if sync else _AsyncResetStream(partial, request)
        )
        return httpx.Response(resp.status, headers=headers, stream=stream, request=request)
    return httpx.Response(resp.status, headers=headers, content=resp.body, request=request)


class EmulatorTransport(httpx.BaseTransport):
    """A synchronous in-process transport: ``httpx.Client(transport=emu.transport())``."""

    def __init__(self, emulator: Auth0Emulator, *, client_ip: str = "127.0.0.1") -> None:
        """Route every request to ``emulator`` as if it came from ``client_ip``."""
        self._emulator = emulator
        self._client_ip = client_ip

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` through the emulator, raising ``httpx`` errors for wire faults."""
        request.read()
        resp = _call(self._emulator, request, self._client_ip)
        wait, error = _plan(resp, request)
        if wait > 0:
            self._emulator._sleep(wait)
        if error is not None:
            raise error
        return _response(resp, request, sync=True)


class AsyncEmulatorTransport(httpx.AsyncBaseTransport):
    """An async in-process transport: ``httpx.AsyncClient(transport=emu.async_transport())``.

    Waits use the emulator's injected ``sleep`` (e.g. ``FakeClock.sleep``); with the
    default ``time.sleep`` they use ``asyncio.sleep`` instead, so the loop never blocks.
    """

    def __init__(self, emulator: Auth0Emulator, *, client_ip: str = "127.0.0.1") -> None:
        """Route every request to ``emulator`` as if it came from ``client_ip``."""
        self._emulator = emulator
        self._client_ip = client_ip

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` through the emulator, raising ``httpx`` errors for wire faults."""
        await request.aread()
        resp = _call(self._emulator, request, self._client_ip)
        wait, error = _plan(resp, request)
        if wait > 0:
            if self._emulator._sleep is time.sleep:
                await asyncio.sleep(wait)
            else:
                self._emulator._sleep(wait)
        if error is not None:
            raise error
        return _response(resp, request, sync=False)
