"""Real Chromium (Debian's ``chromium``, driven by Playwright) against the login page.

Two targets serve the page: ``flowengine web`` as a subprocess (Flask, embedded
emulator) and, in this process, the Starlette adapter under uvicorn talking over real
HTTP to the loopback emulator server. Both show the development panel, which is how a
test reads the codes the emulator sent and drives the emulated phone. Nothing is
downloaded: the browser is the system's.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Part of the `test` extra: a missing Playwright is a collection error, never a skip.
import playwright.sync_api as playwright_sync
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per module (each test gets fresh contexts).

    Playwright's sync API keeps an asyncio loop running in this thread while it is
    open: it must be closed before any other module's test calls ``asyncio.run``.
    """
    if CHROMIUM is None:
        pytest.fail(
            "chromium is not installed (apt-get install chromium): the browser suite needs it"
        )
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


class Target:
    """Where the page is served, and its emulator when the test owns it."""

    def __init__(self, name: str, url: str, emulator: Any = None) -> None:
        self.name = name
        self.url = url
        self.emulator = emulator


def _cli_target() -> Iterator[Target]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for var in ("AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"):
        env.pop(var, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowengine", "web", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        match = re.fullmatch(r"flowengine web listening on (http://127\.0\.0\.1:\d+)", first)
        assert match, (first, proc.stderr.read() if proc.poll() is not None else "")
        yield Target("cli", match.group(1))
    finally:
        proc.terminate()
        proc.wait(10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _loopback_target() -> Iterator[Target]:
    import uvicorn

    from flowengine import Auth0Config, FlowClient, FlowRepository, Keyring
    from flowengine.cli._emulator_cmd import serve_emulator
    from flowengine.stores.memory import MemoryStore
    from flowengine.testing import Auth0Emulator, PushScript
    from flowengine.web import DevClock, DevTenant, LoginApp
    from flowengine.web.starlette import login_app

    clock = DevClock()
    emu = Auth0Emulator(clock=clock.time, sleep=clock.sleep, push_poll_interval=1.0)
    emu.add_client("web-app", client_secret="web-secret")
    emu.push_script = PushScript(pending=0, outcome="never")
    server = serve_emulator(emu)
    store = MemoryStore()
    client = FlowClient(
        Auth0Config(server.url, "web-app", "web-secret"), clock=clock.time, sleep=clock.sleep
    )
    repo = FlowRepository(store, Keyring.generate(), clock=clock.time)
    login = LoginApp(
        client, repo, cookie_key=os.urandom(32), dev=DevTenant(emu, clock), clock=clock.time
    )
    from starlette.applications import Starlette
    from starlette.routing import Mount

    app = Starlette(routes=[Mount("/login", app=login_app(login))])
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield Target("loopback", f"http://127.0.0.1:{port}/login", emu)
    finally:
        uv.should_exit = True
        thread.join(10)
        client.close()
        server.stop()
        store.close()


@pytest.fixture(scope="session", params=["cli", "loopback"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The page, served by ``flowengine web`` or by Starlette over the loopback emulator."""
    gen = _cli_target() if request.param == "cli" else _loopback_target()
    yield next(gen)
    next(gen, None)


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser context (its own cookies), closed after the test."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page whose last view is saved as a screenshot under the test's tmp dir."""
    pg = context.new_page()
    yield pg
    shot = tmp_path / f"{request.node.name}.png".replace("/", "_")
    try:
        pg.screenshot(path=str(shot), full_page=True)
    except Exception:  # a closed page: nothing to show
        return
    print(f"screenshot: {shot}")
