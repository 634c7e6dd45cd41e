"""No leak of the secrets of issue 14: private keys, client assertions, id_tokens.

A Private Key JWT client logs in through ``FlowRepository.step`` over a MemoryStore
and an SQLiteStore with both drivers, with logs captured; a second login is refused
because its id_token was forged; a wrong key is refused by the tenant; a bad key is
refused by the configuration. Then the private key (the PEM and each line of its
body), every assertion the tenant received, every token it issued and the forged
id_token are looked for in the logs, exception texts and reprs, reprs of the
config, client, flows, steps and requests, ``dump_flow`` texts and the raw store.
"""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

import jwt
import pytest
from structlog.testing import capture_logs

from flowengine import (
    AsyncFlowClient,
    Auth0Config,
    ConfigurationError,
    FlowClient,
    FlowEngineError,
    FlowRepository,
)
from flowengine._repository import dump_flow
from flowengine.stores import FlowStore, MemoryStore, SQLiteStore
from flowengine.testing import Auth0Emulator, FakeClock
from tests.keypairs import key_pair
from tests.leaks.scanner import Scanner
from tests.property.harness import DRIVERS, KEYRING

TENANT = "tenant.example.auth0.com"
PHONE = "+15550100"
PHONE2 = "+15550111"


class Client:
    """A sync or async client for one config, called alike."""

    def __init__(self, driver: str, config: Auth0Config, emu: Auth0Emulator, clock: FakeClock):
        self.loop = asyncio.new_event_loop() if driver == "async" else None
        self.client: FlowClient | AsyncFlowClient
        if self.loop is None:
            self.client = FlowClient(config, transport=emu.transport(), clock=clock.time)
        else:
            self.client = AsyncFlowClient(config, transport=emu.async_transport(), clock=clock.time)

    def __call__(self, name: str, *args: Any, **kwargs: Any) -> Any:
        value = getattr(self.client, name)(*args, **kwargs)
        if self.loop is not None and inspect.isawaitable(value):
            return self.loop.run_until_complete(value)
        return value

    def close(self) -> None:
        if isinstance(self.client, FlowClient):
            self.client.close()
        else:
            assert self.loop is not None
            self.loop.run_until_complete(self.client.aclose())
            self.loop.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("driver", DRIVERS)
def test_private_keys_assertions_and_id_tokens_do_not_leak(
    kind: str, driver: str, tmp_path: Path
) -> None:
    """Logins with a private key, a forged id_token and a wrong key leave nothing behind."""
    clock = FakeClock()
    emu = Auth0Emulator(TENANT, clock=clock.time, sleep=clock.sleep, seed=11)
    pair, wrong = key_pair("rsa"), key_pair("rsa", 1)
    emu.add_client("pkj-app")
    emu.add_client_key("pkj-app", pair.public_pem, key_id="cred-1")
    config = Auth0Config(TENANT, "pkj-app", private_key=pair.private_pem, key_id="cred-1")
    store: FlowStore = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "flows.db")
    repo = FlowRepository(store, KEYRING, clock=clock.time)
    client = Client(driver, config, emu, clock)
    scanner = Scanner()
    forged: set[str] = set()
    ids: list[str] = []

    def step(handle: str, name: str, *args: Any, **kwargs: Any) -> str:
        try:
            with repo.step(handle) as flow:
                result = client(name, flow, *args, **kwargs)
                scanner.add_repr(result)
        except FlowEngineError as exc:
            scanner.add_error(exc)
        scanner.add_repr(flow)
        assert flow.handle is not None
        return flow.handle

    def login(phone: str, spoil: bool = False) -> str:
        flow = client("new_flow")
        ids.append(flow.flow_id)
        h = repo.add(flow)
        h = step(h, "start_passwordless", connection="sms", phone_number=phone)
        h = step(h, "verify_otp", emu.last_code(phone))
        h = step(h, "enroll", "sms", phone_number=phone)
        if spoil:  # the tenant's next id_token is re-signed by an attacker's key
            real = emu._jwt

            def spoiled(claims: Any) -> str:
                token = real(claims)
                if "aud" in claims and claims["aud"] == "pkj-app":
                    body = jwt.decode(token, options={"verify_signature": False})
                    header = jwt.get_unverified_header(token)
                    token = jwt.encode(body, wrong.key, "RS256", headers=header)
                    forged.add(token)
                return token

            emu._jwt = spoiled  # type: ignore[method-assign]
        return step(h, "confirm_oob", emu.last_code(phone, purpose="mfa"))

    try:
        with capture_logs() as logs:
            login(PHONE)
            login(PHONE2, spoil=True)
            bad = Auth0Config(TENANT, "pkj-app", private_key=wrong.private_pem)
            other = Client(driver, bad, emu, clock)
            try:
                other("start_passwordless", other("new_flow"), connection="sms", phone_number=PHONE)
            except FlowEngineError as exc:
                scanner.add_error(exc)
            other.close()
            with pytest.raises(ConfigurationError) as info:
                Auth0Config(TENANT, "pkj-app", private_key=pair.private_pem[:-40])
            scanner.add_error(info.value)
    finally:
        client.close()
    flows = [repo.get(fid) for fid in ids]
    assert [f.state for f in flows] == ["authenticated", "enrollment_pending"]
    assert forged, "the forged id_token was not produced"
    for event in logs:
        scanner.add("log event", repr(event))
    for flow in flows:
        scanner.add_repr(flow)
        scanner.add("dump_flow", dump_flow(flow, KEYRING))
    scanner.add_repr(config)
    scanner.add_repr(client.client)
    if kind == "sqlite":
        for path in sorted(tmp_path.glob("flows.db*")):
            scanner.add(f"sqlite file {path.name}", path.read_bytes())
    for record in store.list(limit=100):
        scanner.add("stored record", repr(record) + record.data)
    store.close()
    issued = emu.issued_secrets()
    assertions = {
        s
        for s in issued
        if s.count(".") == 2 and jwt.get_unverified_header(s).get("kid") == "cred-1"
    }
    assert len(assertions) >= 8  # every POST of both logins carried its own
    secrets = pair.secrets() | wrong.secrets() | issued | forged
    found = scanner.scan(secrets)
    assert not found, f"secret values appeared in: {found}"
    control = Scanner()
    control.add("the PEM itself", pair.private_pem)
    assert control.scan(secrets, figures=False), "the scan cannot see the key"
