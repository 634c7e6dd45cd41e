"""``flowengine web``: the reference login page, served until a signal.

With no Auth0 configuration the page runs against an embedded emulator (in memory,
in this process) and shows a development panel: the codes the emulator "sent", the
flow's path on the state diagram, and controls (approve or reject a push, rate-limit
the next start, skip ten minutes). With ``AUTH0_DOMAIN``, ``AUTH0_CLIENT_ID`` and
``AUTH0_CLIENT_SECRET`` (and the store and key settings of ``flowengine flow``) it
talks to that tenant and there is no panel. The first stdout line is the URL.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import os
import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any

from flowengine._config import is_loopback_host
from flowengine._errors import ConfigurationError
from flowengine.cli._output import EXIT_OK, EXIT_USAGE
from flowengine.cli._parser import Formatter
from flowengine.cli._settings import (
    CONFIG_HELP,
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    ENV_DOMAIN,
    add_config_options,
    auth0_config,
    repository,
)

if TYPE_CHECKING:  # the web extra is imported only when the page is served
    from flowengine.web import LoginApp

ENV_COOKIE_KEY = "FLOWENGINE_WEB_COOKIE_KEY"

_EPILOG = f"""\
The page's first stdout line is its URL:

  flowengine web listening on http://127.0.0.1:8000

Without {ENV_DOMAIN}/{ENV_CLIENT_ID}/{ENV_CLIENT_SECRET} it runs against an embedded
Auth0 emulator and shows a development panel with the codes the emulator sent (fake
codes) and the flow's path on the state diagram. With them it talks to that tenant
(store and keys as for `flowengine flow`) and shows no panel.

The session cookie is signed with ${ENV_COOKIE_KEY} (base64url, at least 32 bytes),
or with a key drawn at start-up (sessions then end when the process does).

examples:
  flowengine web                        # http://127.0.0.1:8000, emulator and panel
  flowengine web --port 0               # any free port (printed)
  AUTH0_DOMAIN=example.eu.auth0.com AUTH0_CLIENT_ID=... AUTH0_CLIENT_SECRET=... \\
      FLOWENGINE_STORE=sqlite:///var/lib/app/flows.db FLOWENGINE_KEY_FILE=/etc/app/keys \\
      flowengine web --host 127.0.0.1 --port 8080

{CONFIG_HELP}"""


def add_parser(subparsers: Any) -> None:
    """Register ``web``."""
    p = subparsers.add_parser(
        "web",
        help="serve the reference login page (an embedded emulator without configuration)",
        description="Serve the reference login page.",
        epilog=_EPILOG,
        formatter_class=Formatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="0 picks a free port (default 8000)")
    p.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="IP",
        help="a reverse proxy whose X-Forwarded-For names the user (repeatable)",
    )
    add_config_options(p)


def _cookie_key() -> bytes:
    raw = os.environ.get(ENV_COOKIE_KEY)
    if raw is None:
        return os.urandom(32)
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{ENV_COOKIE_KEY} is not base64url") from None
    if len(key) < 32:
        raise ConfigurationError(f"{ENV_COOKIE_KEY} must hold at least 32 bytes")
    return key


def _configured(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "domain", None) or os.environ.get(ENV_DOMAIN))


def _engine(args: argparse.Namespace, stack: contextlib.ExitStack) -> LoginApp:
    """The login app: against the configured tenant, or an embedded emulator."""
    from flowengine._sync import FlowClient
    from flowengine.web import LoginApp

    key = _cookie_key()
    if _configured(args):
        config = auth0_config(args)
        repo = stack.enter_context(repository(args))
        client = stack.enter_context(FlowClient(config))
        return LoginApp(client, repo, cookie_key=key, trusted_proxies=args.trusted_proxy)
    from flowengine._config import Auth0Config
    from flowengine._repository import FlowRepository
    from flowengine._snapshot import Keyring
    from flowengine.stores.memory import MemoryStore
    from flowengine.web._dev import DEV_CLIENT_ID, DevTenant

    dev = DevTenant.create()
    store = MemoryStore()
    stack.callback(store.close)
    repo = FlowRepository(store, Keyring.generate(), clock=dev.clock.time)
    client = stack.enter_context(
        FlowClient(
            Auth0Config(dev.emulator.base_url, DEV_CLIENT_ID),
            transport=dev.emulator.transport(),
            clock=dev.clock.time,
            sleep=dev.clock.sleep,
        )
    )
    return LoginApp(
        client,
        repo,
        cookie_key=key,
        trusted_proxies=args.trusted_proxy,
        dev=dev,
        clock=dev.clock.time,
    )


def run(args: argparse.Namespace) -> int:
    """Serve the page until SIGINT or SIGTERM."""
    try:
        import flask
        from werkzeug.serving import make_server

        from flowengine.web.flask import login_blueprint
    except ImportError:
        print("flowengine web needs the web extra: pip install 'flowengine[web]'", file=sys.stderr)
        return EXIT_USAGE

    if not 0 <= args.port <= 65535:
        print("flowengine web: bad --port", file=sys.stderr)
        return EXIT_USAGE
    if not _configured(args) and not is_loopback_host(args.host):
        print(
            "flowengine web: without an Auth0 configuration the page serves an emulator and "
            "its codes: --host must be a loopback address",
            file=sys.stderr,
        )
        return EXIT_USAGE
    with contextlib.ExitStack() as stack:
        try:
            login = _engine(args, stack)
        except ConfigurationError as exc:
            print(f"flowengine web: {exc}", file=sys.stderr)
            return EXIT_USAGE
        app = flask.Flask("flowengine.web")
        app.register_blueprint(login_blueprint(login))
        try:
            server = make_server(args.host, args.port, app, threaded=True)
        except OSError as exc:
            print(
                f"flowengine web: cannot listen on {args.host}:{args.port}: {exc.strerror}",
                file=sys.stderr,
            )
            return EXIT_USAGE
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        worker = threading.Thread(target=server.serve_forever, name="flowengine-web", daemon=True)
        worker.start()
        try:
            print(f"flowengine web listening on http://{args.host}:{server.port}", flush=True)
            against = "embedded emulator (development panel on)"
            if login.dev is None:
                against = "tenant " + login.client.config.domain
            print(f"  against: {against}; Ctrl-C stops it", flush=True)
            while not stop.wait(0.2):
                pass
        finally:
            server.shutdown()
            worker.join(5)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        print("flowengine web stopped", flush=True)
    return EXIT_OK
