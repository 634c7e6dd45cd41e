"""Tokens are delivered to the caller, not kept at rest, unless the application asks."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowengine import Auth0Config, ConfigurationError, FlowClient, FlowRepository, Keyring
from flowengine.stores import SQLiteStore
from flowengine.testing import Auth0Emulator

PHONE = "+15550100"
DOMAIN = "tenant.example.auth0.com"


def _login(repo: FlowRepository) -> tuple[str, str, str]:
    """The seed through the repository; returns (handle, flow_id, access_token)."""
    emu = Auth0Emulator(domain=DOMAIN, seed=51)
    emu.add_client("app-id", client_secret="app-secret")
    config = Auth0Config(DOMAIN, "app-id", client_secret="app-secret")
    with FlowClient(config, transport=emu.transport()) as client:
        handle = repo.add(client.new_flow())
        with repo.step(handle) as f:
            client.start_passwordless(f, connection="sms", phone_number=PHONE)
        with repo.step(f.handle) as f:
            client.verify_otp(f, emu.last_code(PHONE))
        with repo.step(f.handle) as f:
            client.enroll(f, "sms", phone_number=PHONE)
            result = client.confirm_oob(f, emu.last_code(PHONE, purpose="mfa"))
    assert result.tokens is not None and f.tokens == result.tokens
    return f.handle, f.flow_id, str(result.tokens["access_token"])


def test_tokens_leave_with_the_step_that_produced_them(tmp_path: Path) -> None:
    """By default the stored authenticated flow holds no token, sealed or not."""
    db = tmp_path / "flows.db"
    repo = FlowRepository(SQLiteStore(db), Keyring.generate())
    handle, _, access_token = _login(repo)
    stored = repo.view(handle)
    assert stored.state == "authenticated" and stored.tokens is None
    assert stored.context.tokens_delivered is True
    repo.store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert access_token.encode() not in raw


def test_keeping_tokens_is_an_explicit_option_with_its_own_expiry(tmp_path: Path) -> None:
    """With keep_tokens=60 the tokens stay (sealed) and the flow expires 60 s after the step."""
    repo = FlowRepository(SQLiteStore(tmp_path / "flows.db"), Keyring.generate(), keep_tokens=60)
    handle, flow_id, access_token = _login(repo)
    stored = repo.view(handle)
    assert stored.tokens is not None and stored.tokens["access_token"] == access_token
    row = repo.store.load(flow_id)
    assert row.expires_at == pytest.approx(stored.updated_at + 60)
    assert access_token not in row.data


@pytest.mark.parametrize("bad", [0, -1, 10**9])
def test_a_nonsense_retention_is_refused(bad: float) -> None:
    """keep_tokens outside (0, 30 days] is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        FlowRepository(SQLiteStore(":memory:"), Keyring.generate(), keep_tokens=bad)
