"""A real loopback HTTP server in front of an ``Auth0Emulator``.

Built on ``http.server.ThreadingHTTPServer`` (one daemon thread per connection,
HTTP/1.1 keep-alive). ``stop()`` shuts the accept loop down, closes the listening
socket, force-closes every open connection and joins every thread it started, so
no thread or port outlives it.

Wire faults on the server:

* ``delay``: processed, then the handler really sleeps ``Fault.seconds`` before
  answering.
* ``read_timeout``: processed, then the handler stays silent for ``Fault.seconds``
  (default 30) and closes; a client with a shorter read timeout sees a read timeout.
* ``reset``: processed; the status line, headers (with the full ``Content-Length``)
  and the first half of the body are sent, then the connection is closed mid-body
  (``httpx.RemoteProtocolError``, as with the in-process transports).
* ``connect_refused`` can only be emulated in-process (the connection is already
  accepted when the path is known): the server closes the connection with an RST
  before answering, and the request is NOT processed. ``connect_timeout`` likewise
  becomes silence for ``Fault.seconds`` without processing, then a close.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowengine.testing._emulator import Auth0Emulator

__all__ = ["EmulatorServer"]

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _rst_close(sock: socket.socket) -> None:
    """Close ``sock`` abruptly (an RST, not a FIN)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class _Server(ThreadingHTTPServer):
    """A ThreadingHTTPServer that tracks its connections and threads for a clean stop."""

    daemon_threads = True
    allow_reuse_address = True
    # The default listen backlog of 5 drops connections under a burst of clients.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], emulator: Auth0Emulator) -> None:
        self.emulator = emulator
        self.stopping = threading.Event()
        self._track_lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve each connection in a tracked daemon thread."""
        thread = threading.Thread(
            target=self._work,
            args=(request, client_address),
            name=f"auth0-emulator-conn-{client_address[1]}",
            daemon=True,
        )
        with self._track_lock:
            self._conns.add(request)
            self._workers.add(thread)
        thread.start()

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._track_lock:
                self._conns.discard(request)
                self._workers.discard(threading.current_thread())

    def close_all(self, timeout: float) -> None:
        """Force-close every open connection and join the connection threads."""
        self.stopping.set()
        with self._track_lock:
            conns = list(self._conns)
            workers = list(self._workers)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for worker in workers:
            worker.join(timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about connections the client or a fault closed."""


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, asks the emulator, writes the answer (or the fault)."""

    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "flowengine-auth0-emulator"
    # Without TCP_NODELAY each answer on a kept-alive connection waits ~40 ms for
    # the client's delayed ACK (Nagle); with it a loopback request takes ~3 ms.
    disable_nagle_algorithm = True
    sys_version = ""
    timeout = 30.0

    def log_message(self, format: str, *args: Any) -> None:
        """Do not log to stderr."""

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        body = self._read_body()
        headers = {k: v for k, v in self.headers.items()}
        resp = self.server.emulator.handle(
            self.command, self.path, headers, body, self.client_address[0]
        )
        fault = resp.transport_fault
        stopping = self.server.stopping
        if fault == "connect_refused":
            self.close_connection = True
            _rst_close(self.connection)
            return
        if fault in ("connect_timeout", "read_timeout"):
            stopping.wait(resp.delay)
            self.close_connection = True
            _rst_close(self.connection)
            return
        if resp.delay > 0:
            stopping.wait(resp.delay)
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        if fault == "reset":
            self.end_headers()
            self.wfile.write(resp.body[: len(resp.body) // 2])
            self.wfile.flush()
            # Close mid-body (FIN). An RST here would race with the data in flight and
            # surface either as a ReadError or a RemoteProtocolError; a FIN short of
            # Content-Length is always httpx.RemoteProtocolError, as in-process.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)
        self.wfile.flush()

    def handle_one_request(self) -> None:
        """Route every method through ``_dispatch``; stop quietly on a closed socket."""
        try:
            super().handle_one_request()
        except OSError:
            self.close_connection = True

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_") and name[3:] in _METHODS:
            return self._dispatch
        raise AttributeError(name)


class EmulatorServer:
    """The emulator on a real socket: ``with emu.serve() as srv: httpx.get(srv.base_url + ...)``.

    The socket is bound in the constructor (so ``port`` is known at once);
    ``start()`` begins serving and ``stop()`` shuts everything down. Both are
    idempotent.
    """

    def __init__(self, emulator: Auth0Emulator, *, host: str = "127.0.0.1", port: int = 0) -> None:
        """Bind ``host:port`` (0 = any free port) for ``emulator``."""
        self._httpd = _Server((host, port), emulator)
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.host = host
        self.port: int = self._httpd.server_address[1]

    def __repr__(self) -> str:
        """Show where it listens."""
        return f"EmulatorServer(base_url={self.base_url!r}, running={self.running})"

    @property
    def base_url(self) -> str:
        """Where a client reaches the tenant, e.g. ``http://127.0.0.1:54321``.

        The same attribute as ``Auth0Emulator.base_url`` (``https://<domain>``,
        for its in-process transports), so code given either can build its client
        from it.
        """
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """Alias of ``base_url`` (its first name; ``Auth0Emulator.url`` matches it)."""
        return self.base_url

    @property
    def running(self) -> bool:
        """Whether the accept loop is running."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> EmulatorServer:
        """Start serving in a daemon thread (no-op when already started)."""
        if self._stopped:
            raise RuntimeError("a stopped EmulatorServer cannot be restarted")
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"auth0-emulator-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, close the socket and every connection, join every thread."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout)
        self._httpd.server_close()
        self._httpd.close_all(timeout)

    def __enter__(self) -> EmulatorServer:
        """Start (if needed) and return the server."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()
