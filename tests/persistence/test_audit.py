"""The per-flow audit trail: complete, bounded, sealed with the flow, and free of secrets."""

from __future__ import annotations

import hashlib
import sys
import tracemalloc
from pathlib import Path

import pytest

from flowengine import Auth0Config, FlowClient, FlowRepository, Keyring
from flowengine._audit import AUDIT_LIMIT, AuditEntry, AuditTrail, request_id_of
from flowengine._flow import Flow
from flowengine._repository import dump_flow, load_flow
from flowengine._snapshot import decode, encode
from flowengine.stores import MemoryStore
from flowengine.testing import Auth0Emulator, FakeClock

KEYS = Keyring.generate("k1")
PHONE = "+15550100"
CONFIG = Auth0Config("tenant.example.auth0.com", "app-id", client_secret="app-secret")
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "snapshot_v1.json"


#: One fake clock for the emulator and the clients (id_tokens are checked against it).
CLOCK = FakeClock()


@pytest.fixture
def emu() -> Auth0Emulator:
    """A tenant with one client."""
    emu = Auth0Emulator(domain="tenant.example.auth0.com", clock=CLOCK.time)
    emu.add_client("app-id", client_secret="app-secret")
    return emu


def to_mfa(repo: FlowRepository, client: FlowClient, emu: Auth0Emulator) -> str:
    """start, a wrong code, the right code: three transitions; the handle after them."""
    handle = repo.add(client.new_flow())
    with repo.step(handle) as flow:
        client.start_passwordless(flow, connection="sms", phone_number=PHONE)
    with repo.step(flow.handle) as flow:
        client.verify_otp(flow, "000000")
    with repo.step(flow.handle) as flow:
        client.verify_otp(flow, emu.last_code(PHONE))
    return flow.handle


def test_every_transition_is_recorded_through_the_store(emu: Auth0Emulator) -> None:
    """Steps taken by three resumes of the flow are all in ``repo.audit(handle)``."""
    repo = FlowRepository(MemoryStore(), KEYS)
    with FlowClient(CONFIG, transport=emu.transport()) as client:
        handle = to_mfa(repo, client, emu)
    trail = FlowRepository(repo.store, KEYS).audit(handle)  # another repository: "process B"
    rows = [(e.trigger, e.outcome, e.source, e.dest, e.status, e.endpoint) for e in trail]
    assert rows == [
        (
            "start_passwordless",
            "code_sent",
            "started",
            "code_sent",
            200,
            "POST /passwordless/start",
        ),
        ("verify_otp", "wrong_code", "code_sent", "code_sent", 403, "POST /oauth/token"),
        ("verify_otp", "mfa_required", "code_sent", "mfa_required", 403, "POST /oauth/token"),
    ]
    # The emulator names its n-th answer sha256("<domain>\0<n>")[:20] (X-Auth0-RequestId).
    answered = [
        hashlib.sha256(f"tenant.example.auth0.com\0{n}".encode()).hexdigest()[:20]
        for n in (1, 2, 3)
    ]
    assert [e.request_id for e in trail] == answered
    assert [e.at for e in trail] == sorted(e.at for e in trail)


def test_the_trail_survives_rollback_and_resume(emu: Auth0Emulator) -> None:
    """A rollback appends (what it could not undo named); the entries before it stay."""
    repo = FlowRepository(MemoryStore(), KEYS)
    with FlowClient(CONFIG, transport=emu.transport()) as client:
        handle = repo.add(client.new_flow())
        with repo.step(handle) as flow:
            client.start_passwordless(flow, connection="sms", phone_number=PHONE)
        with repo.step(flow.handle) as flow:
            client.rollback(flow)
        with repo.step(flow.handle) as flow:
            client.start_passwordless(flow, connection="sms", phone_number=PHONE)
    trail = repo.audit(flow.handle)
    assert [e.event for e in trail] == ["step", "rollback", "step"]
    back = trail[1]
    assert (back.source, back.dest, back.undone) == (
        "code_sent",
        "started",
        ("start_passwordless",),
    )
    assert back["not_undone"][0]["effect"] == "a one-time code was sent to the user"
    assert back.endpoint is None and back.status is None


def test_a_request_in_doubt_is_recorded(emu: Auth0Emulator) -> None:
    """``note_uncertain`` adds an ``uncertain`` entry naming the trigger, taken over or not."""
    flow = Flow.new("fl_doubt", 1_800_000_000.0)
    flow.note_uncertain("start_passwordless", 1_800_000_001.0, {}, taken_over=True)
    (entry,) = flow.audit
    assert (entry.event, entry.trigger, entry.source, entry.taken_over) == (
        "uncertain",
        "start_passwordless",
        "started",
        True,
    )
    assert entry["event"] == "uncertain" and entry.get("taken_over") is True
    again = load_flow(dump_flow(flow, KEYS), KEYS, now=None)
    assert list(again.audit) == [entry]


def _poll_forever(flow: Flow, n: int) -> None:
    """``n`` wrong codes on one flow (each a transition that stays in code_sent)."""
    from flowengine._wire import Answer

    for i in range(n):
        step = flow.prepare("resend_code", {}, CONFIG, 1_800_000_000.0 + i)
        flow.apply_outcome(step, Answer("code_sent", {}, 200), 1_800_000_000.0 + i)


def test_the_trail_is_bounded_and_the_oldest_are_summarised() -> None:
    """Past the limit the oldest entries are folded into counts; a snapshot keeps both."""
    flow = Flow.new("fl_long", 1_800_000_000.0)
    step = flow.prepare("start_passwordless", {"connection": "sms", "phone_number": PHONE},
                        CONFIG, 1_800_000_000.0)  # fmt: skip
    from flowengine._wire import Answer

    flow.apply_outcome(step, Answer("code_sent", {}, 200), 1_800_000_000.0)
    _poll_forever(flow, 100)
    assert len(flow.audit) == AUDIT_LIMIT
    summary = flow.audit.summary
    assert summary is not None and summary.dropped == 101 - AUDIT_LIMIT
    assert summary.counts == {"start_passwordless code_sent": 1, "resend_code code_sent": 36}
    assert flow.audit[0].at == 1_800_000_000.0 + 36  # the newest 64 are kept
    lines = flow.audit.lines()
    assert '"event":"summary"' in lines[0] and len(lines) == AUDIT_LIMIT + 1
    again = load_flow(dump_flow(flow, KEYS), KEYS, now=None)
    assert again.audit == flow.audit and again.audit.summary == summary
    assert len(dump_flow(flow, KEYS)) < 16_000


def test_no_secret_reaches_the_trail(emu: Auth0Emulator) -> None:
    """Codes, the mfa_token, the phone number and the client secret are in no entry."""
    repo = FlowRepository(MemoryStore(), KEYS)
    # The client reads the emulator's clock: the id_token it verifies is issued at that time.
    with FlowClient(CONFIG, transport=emu.transport(), clock=CLOCK.time) as client:
        handle = to_mfa(repo, client, emu)
        with repo.step(handle) as flow:
            client.enroll(flow, "sms", phone_number=PHONE)
            mfa_token, oob = flow.context.mfa_token, flow.context.oob_code
        with repo.step(flow.handle) as flow:
            client.confirm_oob(flow, emu.last_code(PHONE))
    text = "\n".join(repo.audit(flow.handle).lines()) + repr(list(repo.audit(flow.handle)))
    stored = repo.store.load(flow.flow_id).data
    for secret in (mfa_token, oob, PHONE, "app-secret", emu.last_code(PHONE)):
        assert secret and secret not in text
    audit_part = stored[stored.index('"audit"') : stored.index('"sealed"')]
    for secret in (mfa_token, oob, PHONE):
        assert secret not in audit_part
    assert repo.audit(flow.handle)[-1].outcome == "tokens"


@pytest.mark.parametrize(
    "value",
    [
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",  # a token-shaped value: dots are allowed,
        "a" * 65,  # but not more than 64 characters
        "id with spaces",
        "id\r\nset-cookie: x",
        "",
    ],
)
def test_a_request_id_is_taken_only_when_it_looks_like_one(value: str) -> None:
    """Only 1-64 characters of [A-Za-z0-9._:-] are recorded; anything else is absent."""
    expected = value if value.startswith("eyJ") else None
    assert request_id_of({"x-auth0-requestid": value}) == expected
    assert request_id_of({}) is None


def test_events_older_releases_wrote_are_read_back() -> None:
    """``{"event": "uncertain"|"rollback"|...}`` objects of schema 1 become entries."""
    flow = Flow.new("fl_legacy", 1_800_000_000.0)
    env = flow.to_envelope()
    env["audit"] = [
        {"at": 1.0, "event": "uncertain", "seq": 1, "trigger": "start_passwordless",
         "taken_over": True},
        {"at": 2.0, "event": "rollback", "seq": 2, "source": "code_sent", "to": "started",
         "not_undone": [{"trigger": "start_passwordless", "effect": "sent"}]},
        {"at": 3.0, "event": "http", "endpoint": "/passwordless/start", "status": 200,
         "token": "not-read"},
    ]  # fmt: skip
    loaded = load_flow(encode(env, KEYS), KEYS, now=None)
    trail = list(loaded.audit)
    assert [(e.event, e.trigger, e.outcome) for e in trail] == [
        ("uncertain", "start_passwordless", "taken_over"),
        ("rollback", "rollback", "rolled_back"),
        ("http", None, None),
    ]
    assert trail[1].undone == ("start_passwordless",) and trail[2].status == 200
    assert "not-read" not in "".join(loaded.audit.lines())


def test_golden_v1_audit_still_decodes() -> None:
    """The released schema-1 golden snapshot decodes, and its audit events load as entries."""
    from tests.unit.test_snapshot_codec import GOLDEN_KEY, GOLDEN_KID

    env = decode(
        GOLDEN.read_text(),
        Keyring([(GOLDEN_KID, GOLDEN_KEY)]),
        machine="auth0-passwordless-mfa",
        accepted_hashes={"3f2a81eab8682413b75946095838a6bb693a9cdc46a53a540f0fd80c39cb673e"},
        now=None,
    )
    trail = AuditTrail.from_stored(env["audit"])
    assert [(e.event, e.status) for e in trail] == [("http", 200), ("http", 403)]


def test_entries_are_compact() -> None:
    """An entry is a slotted object with interned names: no dict, names shared with the table."""
    entry = AuditEntry.step(1.0, "verify_otp", "tokens", "code_sent", "authenticated", 200, None)
    assert not hasattr(entry, "__dict__")
    loaded = AuditEntry.from_stored(
        {"at": 1.0, "t": "".join(["verify", "_otp"]), "o": "tokens", "s": "code_sent",
         "d": "authenticated"}
    )  # fmt: skip
    assert loaded is not None and loaded.trigger is entry.trigger  # the same str object
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [
            AuditEntry.step(float(i), "verify_otp", "wrong_code", "code_sent", "code_sent", 403,
                            None)
            for i in range(1000)
        ]  # fmt: skip
        per_entry = (tracemalloc.get_traced_memory()[0] - before - sys.getsizeof(kept)) / 1000
    finally:
        tracemalloc.stop()
    assert per_entry < 200, per_entry
