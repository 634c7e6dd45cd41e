"""``flowengine web``: its first line, the embedded emulator's panel, and a configured tenant."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flowengine import Keyring
from flowengine.cli._emulator_cmd import serve_emulator
from flowengine.testing import Auth0Emulator

ROOT = Path(__file__).resolve().parents[2]


def _serve(env: dict[str, str], *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowengine", "web", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().rstrip("\n")
        match = re.fullmatch(r"flowengine web listening on (http://127\.0\.0\.1:(\d+))", first)
        assert match, first
        yield match.group(1), proc
    finally:
        proc.terminate()
        proc.wait(10)


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in (
        "AUTH0_DOMAIN",
        "AUTH0_CLIENT_ID",
        "AUTH0_CLIENT_SECRET",
        "FLOWENGINE_STORE",
        "FLOWENGINE_KEYS",
        "FLOWENGINE_KEY_FILE",
    ):
        env.pop(var, None)
    return env


def _start(url: str) -> tuple[httpx.Client, str]:
    c = httpx.Client(base_url=url, follow_redirects=True)
    page = c.get("/").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    r = c.post(
        "/start_passwordless",
        headers={"origin": url},
        data={"csrf_token": csrf.group(1), "connection": "sms", "phone_number": "+15550100"},
    )
    return c, r.text


def test_without_configuration_it_serves_the_emulator_and_its_panel() -> None:
    """No Auth0 settings: the first line is the URL and the page carries the dev panel."""
    gen = _serve(_clean_env())
    url, _ = next(gen)
    try:
        c, page = _start(url)
        assert 'data-flow-state="code_sent"' in page
        assert "data-dev-panel" in page and re.search(r'data-dev-code="\d{6}"', page)
        assert "Overview: the happy path of every factor" in page  # the readable view
        c.close()
    finally:
        next(gen, None)


def test_with_a_tenant_it_talks_to_it_and_shows_no_panel(tmp_path: Path) -> None:
    """AUTH0_DOMAIN/CLIENT_ID/CLIENT_SECRET plus the CLI's store and keys: no panel."""
    emu = Auth0Emulator()
    emu.add_client("web-app", client_secret="web-secret")
    server = serve_emulator(emu)
    env = {
        **_clean_env(),
        "AUTH0_DOMAIN": server.url,
        "AUTH0_CLIENT_ID": "web-app",
        "AUTH0_CLIENT_SECRET": "web-secret",
        "FLOWENGINE_STORE": f"sqlite:///{tmp_path}/flows.db",
        "FLOWENGINE_KEYS": Keyring.generate().to_env_value(),
    }
    gen = _serve(env)
    try:
        url, _ = next(gen)
        c, page = _start(url)
        assert 'data-flow-state="code_sent"' in page
        assert "data-dev-panel" not in page and "data-dev-code" not in page
        assert emu.last_code("+15550100")  # the tenant sent it
        assert emu.requests[-1].path == "/passwordless/start"
        c.close()
    finally:
        next(gen, None)
        server.stop()


def test_emulator_mode_refuses_a_public_host() -> None:
    """Without a tenant the page (and its fake codes) stays on loopback."""
    run = subprocess.run(
        [sys.executable, "-m", "flowengine", "web", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        env={**_clean_env(), "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert run.returncode == 2 and "loopback" in run.stderr


@pytest.mark.parametrize("factor", ["voice", "email"])
def test_every_enrollable_factor_through_the_page(
    factor: str, web: object, auth0_emulator: Auth0Emulator
) -> None:
    """Voice and email enrollments reach enrollment_pending and confirm with the sent code."""
    from tests.web.conftest import PHONE, Browserish, to_code_sent

    assert isinstance(web, Browserish)
    code = to_code_sent(web, auth0_emulator)
    assert web.post("verify_otp", {"code": code}).state == "mfa_required"
    fields = {"type": factor}
    if factor == "voice":
        fields["phone_number"] = PHONE
    else:
        fields["email"] = "ada@example.com"
    r = web.post("enroll", fields)
    assert r.state == "enrollment_pending", r.alert
    to = PHONE if factor == "voice" else "ada@example.com"
    r = web.post("confirm", {"code": auth0_emulator.last_code(to, purpose="mfa")})
    assert r.state == "authenticated", r.alert
