"""The emulator served on loopback in its own process, for the concurrency figure.

``python -m bench._emuserver`` prints the base URL on its first line of output and serves
until its standard input closes. Running the tenant in another process keeps its CPU,
its threads and its memory out of the client's measurements (tracemalloc included), as a
real Auth0 would be.

Besides Auth0's endpoints it answers ``GET /_bench/code?to=...&purpose=...`` with the code
of the latest message sent to ``to`` (the emulator's outbox look-up, over HTTP), which both
contenders use alike, and ``GET /_bench/requests?since=N`` with the requests the tenant
received from the N-th on (method, path, headers, the parsed body with its secrets
redacted; JSON), so that the wire of a contender that does not go through httpx (the
official SDK uses ``requests``) can be compared.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from bench._common import CLIENT_ID, CLIENT_SECRET, TENANT
from flowengine.testing import Auth0Emulator, EmulatorResponse, EmulatorServer

CODE_PATH = "/_bench/code"
REQUESTS_PATH = "/_bench/requests"

#: The listen backlog of the served tenant. ``socketserver``'s default of 5 drops SYNs when
#: a client opens a pool of connections at once, and each dropped SYN costs a one-second
#: retransmit: raised here so that neither contender measures the kernel's backoff.
LISTEN_BACKLOG = 1024


#: The tenant's handler writes the status line and headers, then the body, in two
#: ``send`` calls; without TCP_NODELAY the body waits for the client's delayed ACK (40 ms
#: on Linux) on every response. Set here (``--nagle`` keeps the default, to show it).
NODELAY = "--nagle" not in sys.argv


class BenchEmulator(Auth0Emulator):
    """The emulator plus a code look-up endpoint."""

    def handle(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        client_ip: str = "127.0.0.1",
    ) -> EmulatorResponse:
        """Answer the look-up endpoint here and everything else as the tenant."""
        if path.startswith(REQUESTS_PATH):
            since = int(parse_qs(urlsplit(path).query).get("since", ["0"])[0])
            seen = [
                {
                    "method": r.method,
                    "path": r.path,
                    "headers": dict(r.headers),
                    "body": r.body,
                }
                for r in self.requests[since:]
            ]
            doc = {"count": len(self.requests), "requests": seen}
            return EmulatorResponse(
                200, {"content-type": "application/json"}, json.dumps(doc).encode()
            )
        if not path.startswith(CODE_PATH):
            return super().handle(method, path, headers, body, client_ip)
        query = parse_qs(urlsplit(path).query)
        purpose: Literal["passwordless", "mfa"] | None = None
        wanted = query.get("purpose", [""])[0]
        if wanted == "mfa":
            purpose = "mfa"
        elif wanted == "passwordless":
            purpose = "passwordless"
        try:
            code = self.last_code(query["to"][0], purpose=purpose)
        except (LookupError, KeyError):
            return EmulatorResponse(404, {"content-type": "text/plain"}, b"no code")
        return EmulatorResponse(200, {"content-type": "text/plain"}, code.encode())


def main() -> int:
    """Serve until stdin closes."""
    from flowengine.testing import _server

    _server._Server.request_queue_size = LISTEN_BACKLOG
    if NODELAY:
        _server._Handler.disable_nagle_algorithm = True
    emu = BenchEmulator(TENANT, seed=3)
    emu.add_client(CLIENT_ID, client_secret=CLIENT_SECRET)
    emu.rate_limit("/passwordless/start", None)
    server = EmulatorServer(emu)
    server.start()
    print(server.url, flush=True)
    try:
        sys.stdin.read()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
