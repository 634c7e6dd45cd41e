"""``flowengine emulator``: the Auth0 tenant emulator on a loopback port, until a signal."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING, Any

from flowengine._config import is_loopback_host
from flowengine._validate import escape_recipient
from flowengine.cli._output import EXIT_OK, EXIT_USAGE
from flowengine.cli._parser import Formatter

if TYPE_CHECKING:  # the emulator is imported only by the commands that serve it
    from flowengine.testing import Auth0Emulator, EmulatorServer, OutboxMessage

PUBLIC_CLIENT_ID = "flowengine-demo"
CONFIDENTIAL_CLIENT_ID = "flowengine-demo-confidential"
ENV_EMULATOR_SECRET = "FLOWENGINE_EMULATOR_CLIENT_SECRET"

_EPILOG = f"""\
A local, in-memory Auth0 tenant for development and tests: no network, no
account. Its first stdout line is the URL:

  flowengine emulator listening on http://127.0.0.1:54321

Clients: "{PUBLIC_CLIENT_ID}" (public, no secret) always; and
"{CONFIDENTIAL_CLIENT_ID}" when a secret is given with --client-secret or
${ENV_EMULATOR_SECRET} (never printed). Passwordless users are created
on their first login.

The codes the emulator "sends" by SMS, voice or email are printed as they are
sent: they are fake codes of a local emulator, and printing them is its point.
Pushes are answered by the script (--push-pending polls of
authorization_pending, then --push-outcome). Runs until Ctrl-C or SIGTERM.

examples:
  flowengine emulator --port 8080
  AUTH0_DOMAIN=http://127.0.0.1:8080 AUTH0_CLIENT_ID={PUBLIC_CLIENT_ID} \\
      flowengine flow start --connection sms --phone-number +15550100
  flowengine emulator --port 0 --mfa-policy never --push-outcome reject"""


def add_parser(subparsers: Any) -> None:
    """Register ``emulator``."""
    p = subparsers.add_parser(
        "emulator",
        help="serve the Auth0 emulator on a loopback port",
        description="Serve the Auth0 tenant emulator on a loopback address.",
        epilog=_EPILOG,
        formatter_class=Formatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    p.add_argument(
        "--mfa-policy",
        choices=("always", "never"),
        default="always",
        help="always: every first factor answers mfa_required (default); never: only "
        "users with a second factor get it",
    )
    p.add_argument(
        "--push-poll-interval",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="minimum seconds between push polls (default 5)",
    )
    p.add_argument(
        "--push-pending",
        type=int,
        default=2,
        metavar="N",
        help="polls answered authorization_pending before the outcome (default 2)",
    )
    p.add_argument(
        "--push-outcome",
        choices=("approve", "reject"),
        default="approve",
        help="how every push ends after the pending polls (default approve)",
    )
    p.add_argument(
        "--client-secret",
        metavar="SECRET",
        help=f"register {CONFIDENTIAL_CLIENT_ID} with it (${ENV_EMULATOR_SECRET})",
    )
    p.add_argument("--seed", type=int, help="make codes and tokens deterministic")


def serve_emulator(emu: Auth0Emulator, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
    """Serve ``emu`` with its domain set to the bound ``host:port``, so audiences match.

    The client derives its MFA audience (``https://<host:port>/mfa/``) from the
    URL it is given, so the emulator must call itself by the same name.
    """
    from flowengine.testing import EmulatorServer

    server = EmulatorServer(emu, host=host, port=port)
    emu.domain = f"{host}:{server.port}"
    return server.start()


def describe(message: OutboxMessage) -> str:
    """One line for a message the emulator sent (its fake code included)."""
    when = time.strftime("%H:%M:%S", time.localtime(message.sent_at))
    what = f"code {message.code}" if message.code is not None else "a magic link"
    to = escape_recipient(message.to)  # a control character in an address stays visible
    return f"[{when}] {message.channel} to {to} ({message.purpose}): {what}"


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; print the outbox as it fills."""
    if not is_loopback_host(args.host) or ":" in args.host:
        print(
            f"flowengine emulator: --host must be a loopback IPv4 address or localhost, "
            f"not {args.host!r}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not 0 <= args.port <= 65535 or args.push_pending < 0 or args.push_poll_interval < 0:
        print(
            "flowengine emulator: bad --port, --push-pending or --push-poll-interval",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from flowengine.testing import Auth0Emulator, PushScript

    emu = Auth0Emulator(
        mfa_policy=args.mfa_policy,
        push_poll_interval=args.push_poll_interval,
        seed=args.seed,
        tenant_name="flowengine-emulator",
    )
    emu.push_script = PushScript(pending=args.push_pending, outcome=args.push_outcome)
    emu.add_client(PUBLIC_CLIENT_ID)
    secret = args.client_secret or os.environ.get(ENV_EMULATOR_SECRET)
    if secret:
        emu.add_client(CONFIDENTIAL_CLIENT_ID, client_secret=secret)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            server = serve_emulator(emu, args.host, args.port)
        except OSError as exc:
            print(
                f"flowengine emulator: cannot listen on {args.host}:{args.port}: {exc.strerror}",
                file=sys.stderr,
            )
            return EXIT_USAGE
        seen = 0
        try:
            _announce(server, confidential=bool(secret))
            while not stop.wait(0.1):
                seen = _print_outbox(emu, seen)
        finally:
            server.stop()
        _print_outbox(emu, seen)
        print("flowengine emulator stopped", flush=True)
        return EXIT_OK
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _print_outbox(emu: Auth0Emulator, seen: int) -> int:
    """Print the messages sent since the first ``seen``; return how many there are now."""
    outbox = emu.outbox
    for message in outbox[seen:]:
        print(describe(message), flush=True)
    return len(outbox)


def _announce(server: EmulatorServer, *, confidential: bool) -> None:
    print(f"flowengine emulator listening on {server.url}", flush=True)
    print(f"  public client:       {PUBLIC_CLIENT_ID} (no secret)")
    if confidential:
        print(f"  confidential client: {CONFIDENTIAL_CLIENT_ID} (secret as configured)")
    print(f"  try: AUTH0_DOMAIN={server.url} AUTH0_CLIENT_ID={PUBLIC_CLIENT_ID} \\")
    print("         flowengine flow start --connection sms --phone-number +15550100")
    print(
        "  sent messages (fake codes of this local emulator) appear below; Ctrl-C stops it",
        flush=True,
    )
