"""A stored flow resumes only with its own tenant, only through steps, and only while lent."""

from __future__ import annotations

import pytest

from flowengine import (
    Auth0Config,
    Flow,
    FlowClient,
    FlowClosedError,
    FlowRepository,
    Keyring,
    SnapshotInvariantError,
    TenantMismatchError,
)
from flowengine._context import Context
from flowengine._repository import dump_flow, load_flow
from flowengine.stores.memory import MemoryStore
from flowengine.testing import Auth0Emulator

PHONE = "+15550100"


def _tenant(domain: str) -> tuple[Auth0Emulator, Auth0Config]:
    emu = Auth0Emulator(domain=domain, seed=5)
    emu.add_client("app-id", client_secret="app-secret")
    return emu, Auth0Config(domain, "app-id", client_secret="app-secret")


def _started(repo: FlowRepository, emu: Auth0Emulator, config: Auth0Config) -> tuple[str, str]:
    """A stored flow past its first factor: its id and its current resume handle."""
    with FlowClient(config, transport=emu.transport()) as client:
        flow = client.new_flow()
        handle = repo.add(flow)
        with repo.step(handle) as stepping:
            client.start_passwordless(stepping, connection="sms", phone_number=PHONE)
        with repo.step(stepping.handle) as stepping:
            client.verify_otp(stepping, emu.last_code(PHONE))
        return flow.flow_id, stepping.handle


def test_a_flow_resumed_with_another_tenant_sends_nothing() -> None:
    """Tenant A's flow resumed with tenant B's config is refused before any request is built."""
    emu_a, config_a = _tenant("tenant-a.example.auth0.com")
    emu_b, config_b = _tenant("tenant-b.example.auth0.com")
    repo = FlowRepository(MemoryStore(), Keyring.generate())
    flow_id, handle = _started(repo, emu_a, config_a)
    before_a, before_b = len(emu_a.requests), len(emu_b.requests)
    with (
        FlowClient(config_b, transport=emu_b.transport()) as client,
        pytest.raises(TenantMismatchError),
        repo.step(handle) as flow,
    ):
        client.enroll(flow, "sms", phone_number=PHONE)
    assert (len(emu_a.requests), len(emu_b.requests)) == (before_a, before_b)
    assert repo.get(flow_id).state == "mfa_required"


def test_another_client_of_the_same_tenant_is_refused_too() -> None:
    """The binding covers the client id as well as the base URL."""
    emu, config = _tenant("tenant-a.example.auth0.com")
    emu.add_client("other-app", client_secret="other-secret")
    other = Auth0Config(config.base_url, "other-app", client_secret="other-secret")
    repo = FlowRepository(MemoryStore(), Keyring.generate())
    _, handle = _started(repo, emu, config)
    sent = len(emu.requests)
    with (
        FlowClient(other, transport=emu.transport()) as client,
        pytest.raises(TenantMismatchError),
        repo.step(handle) as flow,
    ):
        client.list_authenticators(flow)
    assert len(emu.requests) == sent


def test_state_set_by_hand_inside_a_step_is_never_saved() -> None:
    """Assigning flow.state inside repo.step raises and leaves the stored flow as it was."""
    emu, config = _tenant("tenant-a.example.auth0.com")
    repo = FlowRepository(MemoryStore(), Keyring.generate())
    flow_id, handle = _started(repo, emu, config)
    with pytest.raises(FlowClosedError), repo.step(handle) as flow:
        flow.state = "authenticated"
    stored = repo.get(flow_id)
    assert stored.state == "mfa_required" and stored.tokens is None
    with repo.step(handle) as again:  # the claim was released: the owner goes on
        assert again.state == "mfa_required"


def test_seq_set_by_hand_is_refused() -> None:
    """Raising flow.seq by hand cannot skip the compare-and-swap either."""
    emu, config = _tenant("tenant-a.example.auth0.com")
    repo = FlowRepository(MemoryStore(), Keyring.generate())
    flow_id, handle = _started(repo, emu, config)
    with pytest.raises(FlowClosedError), repo.step(handle) as flow:
        flow.seq += 5
    assert repo.get(flow_id).seq == 2


def test_a_flow_used_after_its_block_sends_nothing() -> None:
    """The Flow object lent by repo.step refuses every step once the block has ended."""
    emu, config = _tenant("tenant-a.example.auth0.com")
    repo = FlowRepository(MemoryStore(), Keyring.generate())
    _, handle = _started(repo, emu, config)
    with repo.step(handle) as flow:
        pass
    sent = len(emu.requests)
    with FlowClient(config, transport=emu.transport()) as client:
        with pytest.raises(FlowClosedError):
            client.enroll(flow, "sms", phone_number=PHONE)
        with pytest.raises(FlowClosedError):
            client.cancel(flow)
        with pytest.raises(FlowClosedError):
            client.rollback(flow)
    assert len(emu.requests) == sent


@pytest.mark.parametrize(
    "change",
    ["unknown_state", "authenticated_without_tokens", "authenticated_without_mfa", "no_expiry"],
)
def test_a_flow_no_step_could_produce_is_refused_on_load(change: str) -> None:
    """A sealed snapshot that breaks an invariant raises SnapshotInvariantError, no bare error."""
    keys = Keyring.generate()
    base = Flow.new("fl_invariant", 1_800_000_000.0)
    env = base.to_envelope()
    if change == "unknown_state":
        env["state"] = "superuser"
    elif change == "authenticated_without_tokens":
        env.update(state="authenticated")
        env["context"] = {"first_factor": "verify_otp"}
    elif change == "authenticated_without_mfa":
        env.update(state="authenticated")
        env["context"] = {
            "first_factor": "verify_otp",
            "mfa_requested": True,
            "tokens": {"access_token": "at"},
        }
    else:
        env.update(state="code_sent", expires_at=None)
    from flowengine._snapshot import encode

    with pytest.raises(SnapshotInvariantError):
        load_flow(encode(env, keys), keys, now=None)


def test_a_hand_built_authenticated_flow_cannot_be_stored() -> None:
    """repo.add refuses a flow claiming authenticated without the factors that lead there."""
    repo = FlowRepository(MemoryStore(), Keyring.generate())
    forged = Flow(
        "fl_forged",
        state="authenticated",
        context=Context(tokens={"access_token": "at"}),
        expires_at=1.0,
    )
    with pytest.raises(SnapshotInvariantError):
        repo.add(forged)
    assert dump_flow(Flow.new("fl_ok", 1.0), Keyring.generate())
