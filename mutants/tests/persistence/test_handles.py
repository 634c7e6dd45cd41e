"""Only the holder of a flow's current handle can step it: the audit's attacks, reproduced."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator

import pytest
import structlog

from flowengine import (
    Auth0Config,
    FlowBusyError,
    FlowClient,
    FlowRepository,
    InvalidHandleError,
    Keyring,
    LostUpdateError,
    SnapshotReplayError,
    StaleHandleError,
    StepResult,
    StoreError,
)
from flowengine.stores import (
    FlowStore,
    MemoryStore,
    PostgresStore,
    RedisStore,
    SQLiteStore,
    StoredFlow,
)
from flowengine.testing import Auth0Emulator

PHONE = "+15550100"
ATTACKER_PHONE = "+15550199"
DOMAIN = "tenant.example.auth0.com"


@pytest.fixture
def emu() -> Auth0Emulator:
    """A tenant with one confidential client."""
    tenant = Auth0Emulator(domain=DOMAIN, seed=21)
    tenant.add_client("app-id", client_secret="app-secret")
    return tenant


@pytest.fixture
def client(emu: Auth0Emulator) -> Iterator[FlowClient]:
    """A sync client wired to the emulator."""
    config = Auth0Config(DOMAIN, "app-id", client_secret="app-secret")
    with FlowClient(config, transport=emu.transport()) as made:
        yield made


def _to_mfa(repo: FlowRepository, client: FlowClient, emu: Auth0Emulator) -> str:
    """The victim's first-time login up to mfa_required; returns the victim's handle."""
    flow = client.new_flow()
    handle = repo.add(flow)
    with repo.step(handle) as stepping:
        client.start_passwordless(stepping, connection="sms", phone_number=PHONE)
    with repo.step(stepping.handle) as stepping:
        client.verify_otp(stepping, emu.last_code(PHONE))
    assert stepping.state == "mfa_required" and stepping.handle
    return stepping.handle


def _write_back(store: FlowStore, row: StoredFlow) -> None:
    """Put an older row back the way someone with write access to the store would."""
    if isinstance(store, SQLiteStore):
        with sqlite3.connect(store.path) as db:
            db.execute(
                "UPDATE flows SET seq=?, state=?, expires_at=?, updated_at=?, data=?, "
                "claim_token=NULL, claim_expires=NULL WHERE flow_id=?",
                (row.seq, row.state, row.expires_at, row.updated_at, row.data, row.flow_id),
            )
    elif isinstance(store, PostgresStore):
        with store.connection() as db:
            db.execute(
                "UPDATE flowengine_flows SET seq=%s, state=%s, expires_at=%s, updated_at=%s, "
                "data=%s, claim_token=NULL, claim_expires=NULL WHERE flow_id=%s",
                (row.seq, row.state, row.expires_at, row.updated_at, row.data, row.flow_id),
            )
    else:
        assert isinstance(store, RedisStore)
        store.client.hset(
            store.flow_key(row.flow_id),
            mapping={"seq": row.seq, "state": row.state, "data": row.data},
        )
        store.client.hdel(store.flow_key(row.flow_id), "claim_token", "claim_expires")


def test_a_logged_flow_id_cannot_finish_someone_elses_login(
    emu: Auth0Emulator, client: FlowClient
) -> None:
    """An attacker holding only what the logs show cannot enroll a phone into the victim's flow."""
    repo = FlowRepository(SQLiteStore(":memory:"), Keyring.generate())
    with structlog.testing.capture_logs() as events:
        victim = _to_mfa(repo, client, emu)
    flow_id = repo.view(victim).flow_id
    logged = repr(events)
    assert flow_id not in logged and victim not in logged  # logs carry a flow_ref only
    sent = len(emu.requests)
    for stolen in (flow_id, events[-1]["flow_ref"], f"fh1_{flow_id}"):
        with pytest.raises(InvalidHandleError) as info, repo.step(stolen) as flow:
            client.enroll(flow, "sms", phone_number=ATTACKER_PHONE)
        assert victim not in str(info.value)
    assert len(emu.requests) == sent, "the attacker's enrollment never left"
    with repo.step(victim) as flow:  # the victim goes on
        client.enroll(flow, "sms", phone_number=PHONE)
    assert flow.state == "enrollment_pending"


def test_a_forged_or_foreign_handle_is_refused(emu: Auth0Emulator, client: FlowClient) -> None:
    """A handle under another key, with another binding or a flipped byte resumes nothing."""
    keys = Keyring.generate()
    repo = FlowRepository(SQLiteStore(":memory:"), keys)
    flow = client.new_flow()
    handle = repo.add(flow, binding="session-A")
    other = FlowRepository(repo.store, Keyring.generate())
    with pytest.raises(InvalidHandleError), other.step(handle):
        pass
    with pytest.raises(InvalidHandleError), repo.step(handle, binding="session-B"):
        pass
    with pytest.raises(InvalidHandleError), repo.step(handle):
        pass
    flipped = handle[:-3] + ("A" if handle[-3] != "A" else "B") + handle[-2:]
    with pytest.raises(InvalidHandleError), repo.step(flipped, binding="session-A"):
        pass
    with repo.step(handle, binding="session-A") as lent:
        assert lent.state == "started"
    assert "fh1_" not in repr(lent) and "fh1_" not in str(lent)


def test_an_older_handle_is_stale_after_a_step(emu: Auth0Emulator, client: FlowClient) -> None:
    """A double submit with the previous handle is refused before any request."""
    repo = FlowRepository(SQLiteStore(":memory:"), Keyring.generate())
    flow = client.new_flow()
    first = repo.add(flow)
    with repo.step(first) as stepping:
        client.start_passwordless(stepping, connection="sms", phone_number=PHONE)
    sent = len(emu.requests)
    with pytest.raises(StaleHandleError), repo.step(first) as again:
        client.resend_code(again)
    assert len(emu.requests) == sent


def test_an_older_row_written_back_is_refused(
    shared_store: FlowStore, emu: Auth0Emulator, client: FlowClient
) -> None:
    """After the third wrong code, the row of the second is put back: no fourth attempt is sent."""
    repo = FlowRepository(shared_store, Keyring.generate())
    flow = client.new_flow()
    handle = repo.add(flow)
    with repo.step(handle) as stepping:
        client.start_passwordless(stepping, connection="sms", phone_number=PHONE)
    handle = stepping.handle
    code = emu.last_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    old_row = None
    for attempt in range(3):
        if attempt == 2:
            old_row = shared_store.load(flow.flow_id)
        with repo.step(handle) as stepping:
            client.verify_otp(stepping, wrong)
        handle = stepping.handle
    assert old_row is not None
    _write_back(shared_store, old_row)
    sent = len(emu.requests)
    with pytest.raises(SnapshotReplayError), repo.step(handle) as stepping:
        client.verify_otp(stepping, wrong)
    assert len(emu.requests) == sent, "the replayed row earned no extra attempt"


def test_a_cancelled_flow_cannot_be_brought_back(
    shared_store: FlowStore, emu: Auth0Emulator, client: FlowClient
) -> None:
    """Writing back the row from before a cancel does not revive the flow or its mfa_token."""
    repo = FlowRepository(shared_store, Keyring.generate())
    handle = _to_mfa(repo, client, emu)
    flow_id = repo.view(handle).flow_id
    before_cancel = shared_store.load(flow_id)
    with repo.step(handle) as stepping:
        client.cancel(stepping)
    _write_back(shared_store, before_cancel)
    with pytest.raises(SnapshotReplayError), repo.step(stepping.handle):
        pass
    with pytest.raises(SnapshotReplayError):
        repo.view(stepping.handle)


@pytest.mark.slow
def test_concurrent_resends_with_one_handle_send_once(tmp_path: object) -> None:
    """Two requests resending with the same handle, 200 times: exactly one SMS each round."""
    emu = Auth0Emulator(domain=DOMAIN, seed=22)
    emu.add_client("app-id", client_secret="app-secret")
    emu.rate_limit("/passwordless/start", None)  # 400 sends from one test IP
    config = Auth0Config(DOMAIN, "app-id", client_secret="app-secret")
    repo = FlowRepository(SQLiteStore(f"{tmp_path}/flows.db"), Keyring.generate())
    rounds, double_sends, refused = 200, 0, 0
    with FlowClient(config, transport=emu.transport()) as client:
        for i in range(rounds):
            phone = f"+1555{i:07d}"
            flow = client.new_flow()
            handle = repo.add(flow)
            with repo.step(handle) as stepping:
                client.start_passwordless(stepping, connection="sms", phone_number=phone)
            handle = stepping.handle
            before = len(emu.outbox)
            barrier = threading.Barrier(2)
            errors: list[BaseException] = []

            def resend(
                h: str = handle,
                barrier: threading.Barrier = barrier,
                errors: list[BaseException] = errors,
            ) -> None:
                barrier.wait()
                try:
                    with repo.step(h) as lent:
                        client.resend_code(lent)
                except (StaleHandleError, FlowBusyError) as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=resend) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            sent = len(emu.outbox) - before
            double_sends += sent > 1
            refused += len(errors)
            assert sent == 1, f"round {i}: {sent} codes sent"
            assert len(errors) == 1
    print(f"concurrent resends: rounds {rounds}, double sends {double_sends}, refused {refused}")
    assert double_sends == 0 and refused == rounds


class _SaveFails(MemoryStore):
    """A store whose saves fail once armed (a full disk, a lost connection)."""

    armed = False

    def save(self, record: StoredFlow, *, expected_seq: int, token: str | None) -> None:
        if self.armed:
            raise StoreError("the store is unreachable")
        super().save(record, expected_seq=expected_seq, token=token)


def test_a_failed_save_hands_over_the_tokens_and_frees_the_claim(
    emu: Auth0Emulator, client: FlowClient
) -> None:
    """When the save after confirm_oob fails, the error carries the tokens and nobody waits."""
    store = _SaveFails()
    repo = FlowRepository(store, Keyring.generate())
    handle = _to_mfa(repo, client, emu)
    with repo.step(handle) as flow:
        client.enroll(flow, "sms", phone_number=PHONE)
    handle = flow.handle
    store.armed = True
    with (
        structlog.testing.capture_logs() as events,
        pytest.raises(LostUpdateError) as info,
        repo.step(handle) as flow,
    ):
        client.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa"))
    result = info.value.result
    assert isinstance(result, StepResult) and result.state == "authenticated"
    assert result.tokens is not None and result.tokens["access_token"]
    assert isinstance(info.value.__cause__, StoreError)
    assert result.tokens["access_token"] not in str(info.value) + repr(events)
    assert [e["event"] for e in events if e["log_level"] == "warning"] == ["flow_save_failed"]
    store.armed = False
    with repo.step(handle) as again:  # the claim was released: no FlowBusyError for the lease
        assert again.state == "enrollment_pending"
