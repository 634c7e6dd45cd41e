"""Tests of the snapshot codec ``flowengine._snapshot``.

Run ``python tests/unit/test_snapshot_codec.py --write-golden`` to write the golden file of a
*new* schema version; existing golden files are never overwritten (see tests/golden/README.md).
"""

from __future__ import annotations

import ast
import base64
import copy
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowengine import _snapshot as snapshot
from flowengine._errors import (
    ConfigurationError,
    SnapshotError,
    SnapshotExpiredError,
    SnapshotKeyError,
    SnapshotMachineError,
    SnapshotMalformedError,
    SnapshotTamperedError,
    SnapshotVersionError,
)
from flowengine._snapshot import SECRET_FIELDS, Keyring, decode, encode

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden"

# --------------------------------------------------------------------------- fixed material

#: The golden files' key. Test-only: it is public, it protects nothing.
GOLDEN_KID = "golden-1"
GOLDEN_KEY = bytes.fromhex("07657829855112d8517aed38a9d99c4404c13d177ef1f9dcd9afb071cdd24ecb")
GOLDEN_NONCE = bytes.fromhex("000102030405060708090a0b")
GOLDEN_NOW = 1800000100.0

MACHINE = "auth0-passwordless-mfa"
HASH = "3f2a81eab8682413b75946095838a6bb693a9cdc46a53a540f0fd80c39cb673e"
OTHER_HASH = "0" * 64
KEY_1 = bytes(range(32))
KEY_2 = bytes(range(32, 64))

MFA_TOKEN = "Fe26.2*SERVER_1800000000*" + "Zm9vYmFyYmF6cXV4" * 28 + "*~2"
PHONE = "+15555550123"
OOB_CODE = "Fe26.2*oob*" + "cXV1eGNvcmdlZ3Jh" * 4

#: Schema 1, frozen: ``tests/golden/snapshot_v1.json`` must decode to exactly this, forever
#: (after migration to the current schema, once there is a schema 2).
GOLDEN_V1_ENVELOPE: dict[str, Any] = {
    "schema": 1,
    "machine": "auth0-passwordless-mfa",
    "machine_hash": "3f2a81eab8682413b75946095838a6bb693a9cdc46a53a540f0fd80c39cb673e",
    "flow_id": "fl_golden00000000000000001",
    "seq": 3,
    "state": "mfa_required",
    "context": {
        "connection": "sms",
        "send": "code",
        "phone_number": "+15555550100",
        "mfa_token": "Fe26.2*golden*" + "Z29sZGVuLXRva2Vu" * 8,
        "mfa_requirements": {"challenge": [{"type": "otp"}, {"type": "push-notification"}]},
        "attempts": 1,
        "code_sent_at": 1800000010.5,
        "locale": "fr-CA",
        "note": "caf\u00e9 \u2603 \U0001f511",
    },
    "history": [
        {
            "seq": 1,
            "state": "started",
            "trigger": "start_passwordless",
            "at": 1800000000.0,
            "context": {"connection": "sms", "phone_number": "+15555550100"},
        },
        {
            "seq": 2,
            "state": "code_sent",
            "trigger": "verify_code",
            "at": 1800000030.25,
            "context": {"phone_number": "+15555550100", "tokens": None, "recovery_codes": [1]},
        },
        {"seq": 3, "state": "mfa_required", "trigger": None, "at": 1800000031},
    ],
    "created_at": 1800000000.0,
    "updated_at": 1800000031.0,
    "expires_at": 1800000600.0,
    "audit": [
        {"at": 1800000000.0, "event": "http", "endpoint": "/passwordless/start", "status": 200},
        {"at": 1800000031.0, "event": "http", "endpoint": "/oauth/token", "status": 403},
    ],
}


def golden_keyring() -> Keyring:
    """The golden files' keyring."""
    return Keyring([(GOLDEN_KID, GOLDEN_KEY)])


def fixed_nonce(size: int) -> bytes:
    """A nonce source that always answers the same nonce (tests only)."""
    assert size == len(GOLDEN_NONCE)
    return GOLDEN_NONCE


def mfa_required_envelope() -> dict[str, Any]:
    """A realistic envelope at ``mfa_required`` with two history entries."""
    return {
        "schema": 1,
        "machine": MACHINE,
        "machine_hash": HASH,
        "flow_id": "fl_3vQ9xZkP2mN7rT5wY8bC1d",
        "seq": 3,
        "state": "mfa_required",
        "context": {
            "connection": "sms",
            "send": "code",
            "phone_number": PHONE,
            "client_id": "AbCdEfGhIjKlMnOpQrStUvWxYz012345",
            "scope": "openid profile offline_access",
            "audience": "https://api.example.com/",
            "code_sent_at": 1800000000.25,
            "attempts": 1,
            "mfa_token": MFA_TOKEN,
            "oob_code": OOB_CODE,
            "mfa_requirements": {"challenge": [{"type": "otp"}, {"type": "push-notification"}]},
        },
        "history": [
            {
                "seq": 1,
                "state": "started",
                "trigger": "start_passwordless",
                "at": 1800000000.1,
                "context": {"connection": "sms", "phone_number": PHONE},
            },
            {
                "seq": 2,
                "state": "code_sent",
                "trigger": "verify_code",
                "at": 1800000030.7,
                "context": {"connection": "sms", "phone_number": PHONE, "attempts": 1},
            },
        ],
        "created_at": 1800000000.1,
        "updated_at": 1800000031.2,
        "expires_at": 1800000300.0,
        "audit": [
            {"at": 1800000000.1, "event": "http", "endpoint": "/passwordless/start", "ms": 143.2},
            {"at": 1800000030.7, "event": "http", "endpoint": "/oauth/token", "ms": 211.9},
        ],
    }


SECRET_VALUES = (MFA_TOKEN, PHONE, OOB_CODE)


def load(text: str | bytes, keyring: Keyring, **overrides: Any) -> dict[str, Any]:
    """Decode with the test machine's defaults."""
    options: dict[str, Any] = {
        "machine": MACHINE,
        "accepted_hashes": {HASH},
        "now": 1800000100.0,
    }
    options.update(overrides)
    return decode(text, keyring, **options)


def forge(
    env_text: str,
    payload: Any,
    *,
    key: bytes = KEY_1,
    kid: str = "k1",
    version: int = 1,
    nonce: bytes = GOLDEN_NONCE,
) -> str:
    """Seal arbitrary clear JSON text and payload exactly as the documented format says.

    This is an independent implementation of the format, used to build *authentic*
    snapshots that ``encode`` would refuse to write.
    """
    head = f'{{"v":{version},"kid":"{kid}","env":{env_text}}}'
    plain = json.dumps(payload, separators=(",", ":")).encode()
    plain += b" " * (-(12 + len(plain) + 16) % 3)
    sealed = AESGCM(key).encrypt(nonce, plain, head.encode())
    b64 = base64.urlsafe_b64encode(nonce + sealed).decode()
    assert "=" not in b64
    return f'{head[:-1]},"sealed":"{b64}"}}'


def forge_env(env: dict[str, Any], payload: Any = None, **kw: Any) -> str:
    """Forge a snapshot whose clear envelope is ``env`` (no secrets unless ``payload``)."""
    history = env.get("history")
    n = len(history) if isinstance(history, list) else 0
    if payload is None:
        payload = {"s": [], "c": {}, "h": [{}] * n}
    return forge(json.dumps(env, separators=(",", ":")), payload, **kw)


def clear_part(text: str) -> dict[str, Any]:
    """The clear envelope of an encoded snapshot."""
    doc = json.loads(text)
    env = doc["env"]
    assert isinstance(env, dict)
    return env


def assert_no_secret_in(message: str) -> None:
    """Check an error message carries no secret value and no key material."""
    for secret in (*SECRET_VALUES, KEY_1.hex(), KEY_2.hex(), GOLDEN_KEY.hex()):
        assert secret not in message
    for key in (KEY_1, KEY_2, GOLDEN_KEY):
        assert base64.urlsafe_b64encode(key).rstrip(b"=").decode() not in message


@pytest.fixture
def keyring() -> Keyring:
    """The default test keyring: one key, ``k1``."""
    return Keyring([("k1", KEY_1)])


@pytest.fixture
def sample(keyring: Keyring) -> str:
    """A real encoded snapshot of the realistic envelope."""
    return encode(mfa_required_envelope(), keyring, nonce_source=fixed_nonce)


# ------------------------------------------------------------------------------ round trip


def test_round_trip_realistic(keyring: Keyring) -> None:
    """A realistic mfa_required envelope comes back equal."""
    envelope = mfa_required_envelope()
    assert load(encode(envelope, keyring), keyring) == envelope


def test_encode_does_not_modify_the_envelope(keyring: Keyring) -> None:
    """Encoding leaves the caller's envelope, contexts and history untouched."""
    envelope = mfa_required_envelope()
    before = copy.deepcopy(envelope)
    encode(envelope, keyring)
    assert envelope == before
    assert list(envelope["context"]) == list(before["context"])


def test_bytes_and_bytearray_input(keyring: Keyring, sample: str) -> None:
    """Decoding accepts the text as str, bytes or bytearray alike."""
    expected = mfa_required_envelope()
    assert load(sample.encode(), keyring) == expected
    assert load(bytearray(sample.encode()), keyring) == expected  # type: ignore[arg-type]


def test_output_layout(sample: str) -> None:
    """The text is one ASCII line of JSON with v, kid, env, sealed in this order."""
    assert sample.isascii()
    assert "\n" not in sample and " " not in sample.split('"sealed"')[1]
    doc = json.loads(sample)
    assert list(doc) == ["v", "kid", "env", "sealed"]
    assert doc["v"] == 1 and doc["kid"] == "k1"
    assert list(doc["env"]) == list(mfa_required_envelope())


def test_fixed_nonce_is_deterministic_and_random_nonces_differ(keyring: Keyring) -> None:
    """A fixed nonce gives a fixed text; the default nonce source gives a new text each time."""
    envelope = mfa_required_envelope()
    assert encode(envelope, keyring, nonce_source=fixed_nonce) == encode(
        envelope, keyring, nonce_source=fixed_nonce
    )
    first, second = encode(envelope, keyring), encode(envelope, keyring)
    assert first != second
    assert load(first, keyring) == load(second, keyring) == envelope


def test_forge_matches_encode(keyring: Keyring) -> None:
    """The documented format, implemented independently in ``forge``, is what encode writes."""
    envelope = mfa_required_envelope()
    clear = copy.deepcopy(envelope)
    for key in ("phone_number", "mfa_token", "oob_code"):
        del clear["context"][key]
    for entry in clear["history"]:
        del entry["context"]["phone_number"]
    payload = {
        "s": [MFA_TOKEN, OOB_CODE, PHONE],
        "c": {"mfa_token": 0, "oob_code": 1, "phone_number": 2},
        "h": [{"phone_number": 2}, {"phone_number": 2}],
    }
    expected = forge(json.dumps(clear, separators=(",", ":")), payload)
    assert encode(envelope, keyring, nonce_source=fixed_nonce) == expected


def test_pure_python_json_fallback_writes_the_same_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without CPython's C encoder the fallback JSON writer gives byte-identical output."""
    fast = snapshot._dumps
    monkeypatch.setattr(json.encoder, "c_make_encoder", None)
    slow = snapshot._make_dumps()
    assert slow is not fast
    envelope = mfa_required_envelope()
    envelope["context"]["note"] = "caf\u00e9 \u2603 \ud800"
    assert slow(envelope) == fast(envelope)
    with pytest.raises(TypeError):
        slow({"a": {1, 2}})
    with pytest.raises(ValueError):
        slow({"a": float("nan")})


def test_an_envelope_without_secrets_is_still_authenticated(keyring: Keyring) -> None:
    """With no secret at all an (empty) payload is sealed and the envelope authenticated."""
    envelope = mfa_required_envelope()
    envelope["context"] = {"connection": "email"}
    envelope["history"] = []
    text = encode(envelope, keyring)
    assert load(text, keyring) == envelope
    with pytest.raises(SnapshotTamperedError):
        load(text.replace('"connection":"email"', '"connection":"sms!!"'), keyring)


def test_repeated_string_secrets_are_stored_once(keyring: Keyring) -> None:
    """The mfa_token repeated in three contexts costs its size about once, not three times."""
    once = mfa_required_envelope()
    thrice = mfa_required_envelope()
    for entry in thrice["history"]:
        entry["context"]["mfa_token"] = MFA_TOKEN
    grown = len(encode(thrice, keyring)) - len(encode(once, keyring))
    assert grown < 80  # two short references, not 2 x 4/3 x len(MFA_TOKEN)
    assert load(encode(thrice, keyring), keyring) == thrice


def test_realistic_size_under_2_kib(sample: str) -> None:
    """The realistic mfa_required snapshot stays under 2 KiB."""
    assert len(sample) <= 2048


def test_history_entries_with_and_without_context(keyring: Keyring) -> None:
    """Entries without a context, with an empty one, and with only secrets all round-trip."""
    envelope = mfa_required_envelope()
    envelope["history"] = [
        {"seq": 1, "state": "a", "trigger": None, "at": 1},
        {"seq": 2, "state": "b", "trigger": "t", "at": 2.5, "context": {}},
        {"seq": 3, "state": "c", "trigger": "t", "at": 3, "context": {"email": "a@b.c"}},
        {"seq": 4, "state": "d", "trigger": "t", "at": 4, "context": {"tokens": {"id": [1]}}},
        {"extra": {"free": ["json"]}},
    ]
    text = encode(envelope, keyring)
    assert load(text, keyring) == envelope
    clear = clear_part(text)["history"]
    assert "context" not in clear[0]
    assert clear[2]["context"] == {} and clear[3]["context"] == {}


# hypothesis strategies ------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=()), max_size=12)  # lone surrogates too
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=10,
)
context_keys = st.sampled_from(sorted(SECRET_FIELDS)) | st.text(max_size=10)
contexts = st.dictionaries(context_keys, json_values, max_size=8)
finite = st.floats(min_value=0, max_value=4e9, allow_nan=False) | st.integers(0, 2**40)
history_entries = st.fixed_dictionaries(
    {"seq": st.integers(0, 1000), "state": st.text(max_size=12)},
    optional={
        "trigger": st.none() | st.text(max_size=12),
        "at": finite,
        "context": contexts,
        "note": json_values,
    },
)
envelopes = st.fixed_dictionaries(
    {
        "schema": st.just(1),
        "machine": st.just(MACHINE),
        "machine_hash": st.just(HASH),
        "flow_id": st.text(max_size=30),
        "seq": st.integers(0, 2**31),
        "state": st.text(max_size=20),
        "context": contexts,
        "history": st.lists(history_entries, max_size=4),
        "created_at": finite,
        "updated_at": finite,
        "expires_at": st.none() | finite,
        "audit": st.lists(
            st.dictionaries(st.text(max_size=8), json_values, max_size=4), max_size=3
        ),
    }
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(envelope=envelopes)
def test_round_trip_property(envelope: dict[str, Any]) -> None:
    """Any JSON-able envelope, with or without secret keys, decodes back equal."""
    keyring = Keyring([("k1", KEY_1)])
    text = encode(envelope, keyring)
    assert load(text, keyring, now=None) == envelope


secret_strings = st.binary(min_size=5, max_size=5).map(lambda raw: f"SeCrEt{raw.hex()}")
secret_values = (
    secret_strings
    | st.lists(secret_strings, min_size=1, max_size=3)
    | st.dictionaries(st.sampled_from(["access_token", "id_token"]), secret_strings, min_size=1)
)


@settings(max_examples=150, deadline=None)
@given(
    context_secrets=st.dictionaries(st.sampled_from(sorted(SECRET_FIELDS)), secret_values),
    history_secrets=st.lists(
        st.dictionaries(st.sampled_from(sorted(SECRET_FIELDS)), secret_values), max_size=3
    ),
)
def test_secrets_never_in_clear_text(
    context_secrets: dict[str, Any], history_secrets: list[dict[str, Any]]
) -> None:
    """No secret value appears anywhere in the encoded text, and no secret key in the clear."""
    keyring = Keyring([("k1", KEY_1)])
    envelope = mfa_required_envelope()
    envelope["context"].update(context_secrets)
    envelope["history"] = [
        {"seq": i, "state": "s", "trigger": "t", "at": 1.0, "context": {"keep": i, **secrets}}
        for i, secrets in enumerate(history_secrets)
    ]
    text = encode(envelope, keyring)
    for token in json.dumps([context_secrets, history_secrets]).split('"'):
        if token.startswith("SeCrEt"):
            assert token not in text
    for value in SECRET_VALUES:
        assert value not in text
    clear = clear_part(text)
    assert SECRET_FIELDS.isdisjoint(clear["context"])
    for entry in clear["history"]:
        assert SECRET_FIELDS.isdisjoint(entry["context"])
        assert "keep" in entry["context"]
    assert load(text, keyring) == envelope


def test_realistic_secrets_absent_from_text(sample: str) -> None:
    """The realistic snapshot holds neither the token, the phone number nor the oob_code."""
    for value in SECRET_VALUES:
        assert value not in sample
        assert json.dumps(value) not in sample
    assert "+1555" not in sample


# -------------------------------------------------------------------------------------- keys


def test_key_rotation() -> None:
    """After rotation the old kid still decrypts and the new kid encrypts."""
    old = Keyring([("k1", KEY_1)])
    rotated = Keyring([("k2", KEY_2), ("k1", KEY_1)])
    envelope = mfa_required_envelope()
    old_text = encode(envelope, old)
    new_text = encode(envelope, rotated)
    assert json.loads(new_text)["kid"] == "k2"
    assert load(old_text, rotated) == envelope
    assert load(new_text, rotated) == envelope
    with pytest.raises(SnapshotKeyError):
        load(new_text, old)


def test_rotated_helper_puts_a_new_key_first() -> None:
    """``Keyring.rotated`` seals with the new kid and keeps the old keys for decoding."""
    old = Keyring([("k1", KEY_1)])
    new = old.rotated("k2")
    assert new.kids == ("k2", "k1") and new.primary_kid == "k2"
    text = encode(mfa_required_envelope(), old)
    assert load(text, new) == mfa_required_envelope()
    with pytest.raises(ConfigurationError):
        old.rotated("k1", KEY_2)  # onto the current id: it would replace the key of k1


def test_unknown_kid_is_a_key_error(sample: str) -> None:
    """A snapshot sealed under a kid the keyring does not have raises SnapshotKeyError."""
    with pytest.raises(SnapshotKeyError) as caught:
        load(sample, Keyring([("k9", KEY_1)]))
    assert_no_secret_in(str(caught.value))


def test_same_kid_other_key_is_tampered(sample: str) -> None:
    """The same kid with different key bytes fails authentication: SnapshotTamperedError."""
    with pytest.raises(SnapshotTamperedError) as caught:
        load(sample, Keyring([("k1", KEY_2)]))
    assert_no_secret_in(str(caught.value))


@pytest.mark.parametrize("size", [0, 16, 24, 31, 33, 64])
def test_keys_must_be_32_bytes(size: int) -> None:
    """A key of any length but 32 bytes is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        Keyring([("k1", bytes(size))])


@pytest.mark.parametrize(
    "pairs",
    [
        [],
        [("k1", KEY_1), ("k1", KEY_2)],
        [("", KEY_1)],
        [("k:1", KEY_1)],
        [("k,1", KEY_1)],
        [("k" * 33, KEY_1)],
        [("k1", KEY_1.hex())],
        [("k1",)],
        [(1, KEY_1)],
    ],
)
def test_bad_keyrings(pairs: list[Any]) -> None:
    """Empty keyrings, duplicate or bad kids, and non-bytes keys are ConfigurationErrors."""
    with pytest.raises(ConfigurationError) as caught:
        Keyring(pairs)
    assert_no_secret_in(str(caught.value))


def test_keyring_repr_hides_key_material() -> None:
    """repr and str of a keyring show the kids and never the keys."""
    ring = Keyring([("k2", KEY_2), ("k1", KEY_1)])
    for shown in (repr(ring), str(ring)):
        assert "k2" in shown and "k1" in shown
        assert_no_secret_in(shown)
        assert repr(KEY_1) not in shown and repr(KEY_2) not in shown


def test_env_value_round_trip() -> None:
    """``to_env_value`` and ``from_env_value`` round-trip, primary first, padding optional."""
    ring = Keyring([("k2", KEY_2), ("k1", KEY_1)])
    value = ring.to_env_value()
    assert value.startswith("k2:") and "=" not in value
    again = Keyring.from_env_value(value)
    assert again.kids == ("k2", "k1")
    text = encode(mfa_required_envelope(), ring)
    assert load(text, again) == mfa_required_envelope()
    padded = f"k1:{base64.urlsafe_b64encode(KEY_1).decode()}"
    assert Keyring.from_env_value(f"  {padded} ").kids == ("k1",)


def test_generate_makes_a_working_random_key() -> None:
    """``Keyring.generate`` gives a usable one-key ring, a different key each time."""
    first, second = Keyring.generate(kid="g1"), Keyring.generate(kid="g1")
    assert first.kids == ("g1",) and len(first) == 1 and "g1" in first
    assert first.to_env_value() != second.to_env_value()
    assert load(encode(mfa_required_envelope(), first), first) == mfa_required_envelope()


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "k1",
        "k1:",
        ":" + base64.urlsafe_b64encode(KEY_1).decode(),
        "k1:" + base64.urlsafe_b64encode(KEY_1[:16]).decode(),
        "k1:" + base64.standard_b64encode(b"\xfb" * 32).decode(),  # '+' and '/' are not url
        "k1:" + base64.urlsafe_b64encode(KEY_1).decode() + ",",
        "k1:" + "A" * 43 + "!",
        base64.urlsafe_b64encode(KEY_1).decode().rstrip("=") + ":k1",  # reversed entry
        "k1:"
        + base64.urlsafe_b64encode(KEY_1).decode()
        + ",k1:"
        + base64.urlsafe_b64encode(KEY_2).decode(),
    ],
)
def test_bad_env_values(value: str) -> None:
    """Malformed key settings are ConfigurationErrors that do not echo the setting."""
    with pytest.raises(ConfigurationError) as caught:
        Keyring.from_env_value(value)
    assert_no_secret_in(str(caught.value))
    if len(value.strip()) > 8:
        assert value.strip() not in str(caught.value)


def test_bad_nonce_source_is_a_configuration_error(keyring: Keyring) -> None:
    """A nonce source that answers the wrong number of bytes is refused."""
    with pytest.raises(ConfigurationError):
        encode(mfa_required_envelope(), keyring, nonce_source=lambda n: b"\x00" * (n - 1))


# ------------------------------------------------------------------------- tamper, truncate


def test_truncated_at_every_length_is_refused(keyring: Keyring, sample: str) -> None:
    """Every proper prefix of a real snapshot raises a SnapshotError, never loads."""
    data = sample.encode()
    for length in range(len(data)):
        try:
            load(data[:length], keyring)
        except SnapshotError as exc:
            assert_no_secret_in(str(exc))
        else:
            pytest.fail(f"prefix of length {length} loaded")


REPLACEMENTS: tuple[Callable[[int], int], ...] = (
    lambda b: b ^ 0x01,
    lambda b: b ^ 0x20,
    lambda b: b ^ 0x80,
    lambda b: ord("0"),
    lambda b: ord("2"),
    lambda b: ord(" "),
    lambda b: ord('"'),
    lambda b: ord("\\"),
    lambda b: ord("}"),
)


def test_every_single_byte_change_is_refused(sample: str) -> None:
    """Changing any one byte, to any of nine values, is refused with a SnapshotError."""
    key_0 = bytes(range(64, 96))  # one key, one id: k0 gets its own key
    keyring = Keyring([("k1", KEY_1), ("k2", KEY_2), ("k0", key_0)])  # kid flips hit real keys
    data = sample.encode()
    seen: set[type[SnapshotError]] = set()
    tried = 0
    for position in range(len(data)):
        for replace in REPLACEMENTS:
            new = replace(data[position])
            if new == data[position]:
                continue
            tried += 1
            mutated = data[:position] + bytes([new]) + data[position + 1 :]
            try:
                load(mutated, keyring)
            except SnapshotError as exc:
                seen.add(type(exc))
                assert_no_secret_in(str(exc))
            else:
                pytest.fail(f"byte {position} changed to {new!r} still loaded")
    assert tried > 8 * len(data)
    assert {SnapshotMalformedError, SnapshotTamperedError, SnapshotKeyError} <= seen


def _in_sealed(text: str, change: Callable[[str], str]) -> str:
    """Apply ``change`` to the base64 of the sealed member only."""
    cut = text.rindex(',"sealed":"') + len(',"sealed":"')
    sealed = text[cut:-2]
    assert "-" in sealed and "_" in sealed
    return text[:cut] + change(sealed) + text[-2:]


@pytest.mark.parametrize(
    "change",
    [
        lambda t: " " + t,
        lambda t: t + " ",
        lambda t: t + "\n",
        lambda t: t.replace('"env":{', '"env": {', 1),
        lambda t: t.replace('"seq":3', '"seq":3.0', 1),
        lambda t: t.replace('"seq":3', '"seq":3,"seq":3', 1),
        lambda t: t.replace('"state":"mfa_required"', '"state":"mfa\\u005frequired"', 1),
        lambda t: t.replace('{"v":1,', '{"v":1,"v":1,', 1),
        lambda t: t.replace(',"sealed":', ',"x":1,"sealed":', 1),
        lambda t: t[:-2] + '=="}',
        lambda t: _in_sealed(t, lambda b64: b64.replace("-", "+").replace("_", "/")),
        lambda t: _in_sealed(t, lambda b64: b64 + "===="),
        lambda t: _in_sealed(t, lambda b64: b64[:4] + "\n" + b64[4:]),
        lambda t: t.replace('"kid":"k1"', '"kid":"k\\u0031"', 1),
        lambda t: "\ufeff" + t,
    ],
)
def test_respellings_are_refused(
    keyring: Keyring, sample: str, change: Callable[[str], str]
) -> None:
    """Whitespace, escapes, duplicate keys, number and base64 re-spellings do not load."""
    changed = change(sample)
    assert changed != sample
    with pytest.raises(SnapshotError):
        load(changed, keyring)


def test_swapped_sealed_part_is_tampered(keyring: Keyring) -> None:
    """Sealed secrets from one snapshot do not authenticate another snapshot's envelope."""
    first = mfa_required_envelope()
    second = mfa_required_envelope()
    second["state"] = "mfa_challenged"
    a, b = encode(first, keyring), encode(second, keyring)
    spliced = a[: a.rindex(',"sealed":"')] + b[b.rindex(',"sealed":"') :]
    with pytest.raises(SnapshotTamperedError):
        load(spliced, keyring)


# ------------------------------------------------------------------ machine, schema, expiry


def test_other_machine_is_refused(keyring: Keyring, sample: str) -> None:
    """A snapshot of another machine name raises SnapshotMachineError."""
    with pytest.raises(SnapshotMachineError):
        load(sample, keyring, machine="auth0-password-mfa")


def test_unknown_machine_hash_is_refused(keyring: Keyring, sample: str) -> None:
    """A machine_hash outside the accepted set raises SnapshotMachineError."""
    with pytest.raises(SnapshotMachineError):
        load(sample, keyring, accepted_hashes={OTHER_HASH})
    with pytest.raises(SnapshotMachineError):
        load(sample, keyring, accepted_hashes=())
    assert load(sample, keyring, accepted_hashes=[OTHER_HASH, HASH]) == mfa_required_envelope()


def test_future_schema_is_a_version_error(keyring: Keyring) -> None:
    """An authentic envelope of a schema newer than the library raises SnapshotVersionError."""
    envelope = mfa_required_envelope()
    envelope["context"] = {}
    envelope["schema"] = snapshot.CURRENT_SCHEMA + 1
    with pytest.raises(SnapshotVersionError):
        load(forge_env(envelope), keyring)


@pytest.mark.parametrize("schema", [0, -1])
def test_unknown_schema_is_a_version_error(keyring: Keyring, schema: int) -> None:
    """An authentic envelope of schema 0 or below raises SnapshotVersionError."""
    envelope = mfa_required_envelope()
    envelope["context"] = {}
    envelope["schema"] = schema
    with pytest.raises(SnapshotVersionError):
        load(forge_env(envelope), keyring)


@pytest.mark.parametrize("version", [0, 2, 99, -3])
def test_unknown_format_version_is_a_version_error(keyring: Keyring, version: int) -> None:
    """A text whose format ``v`` is not 1 raises SnapshotVersionError before anything else."""
    envelope = mfa_required_envelope()
    envelope["context"] = {}
    with pytest.raises(SnapshotVersionError):
        load(forge_env(envelope, version=version), keyring)
    with pytest.raises(SnapshotVersionError):
        load(f'{{"v":{version},"anything":[]}}', keyring)


def test_expiry(keyring: Keyring, sample: str) -> None:
    """now >= expires_at raises SnapshotExpiredError; earlier, None, or no deadline loads."""
    expires_at = mfa_required_envelope()["expires_at"]
    with pytest.raises(SnapshotExpiredError):
        load(sample, keyring, now=expires_at)
    with pytest.raises(SnapshotExpiredError):
        load(sample, keyring, now=expires_at + 3600)
    assert load(sample, keyring, now=expires_at - 0.001)["expires_at"] == expires_at
    assert load(sample, keyring, now=None)["expires_at"] == expires_at
    envelope = mfa_required_envelope()
    envelope["expires_at"] = None
    assert load(encode(envelope, keyring), keyring, now=4e9) == envelope


def test_machine_is_checked_before_expiry(keyring: Keyring, sample: str) -> None:
    """An expired snapshot of another machine is reported as the wrong machine."""
    with pytest.raises(SnapshotMachineError):
        load(sample, keyring, machine="other", now=4e9)


# ------------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "{",
        "[]",
        '[{"v":1}]',
        "null",
        "1",
        '"a string"',
        "{}",
        '{"v":"1","kid":"k1","env":{},"sealed":""}',
        '{"v":true,"kid":"k1","env":{},"sealed":""}',
        '{"v":1,"kid":"k1","env":[],"sealed":""}',
        '{"v":1,"kid":"k1","env":{}}',
        '{"v":1,"kid":"k1","env":{},"sealed":"AAAA"}',
        '{"v":1,"kid":"k1","env":{},"sealed":"' + "A" * 38 + '"}',
        '{"v":1,"kid":"k1","env":{},"sealed":"' + "A" * 39 + '!"}',
        '{"v":1,"kid":"k1","env":{},"sealed":""}',
        '{"kid":"k1","v":1,"env":{},"sealed":"' + "A" * 40 + '"}',
        '{"v":1,"kid":"k\u00e9","env":{},"sealed":""}',
        '{"v":1,"kid":"k1","env":NaN,"sealed":""}',
        b"\xff\xfe{}",
        b'{"v":1,"kid":"k1","env":{"a":"\xc3\x28"},"sealed":""}',
        "x" * (64 * 1024 + 1),
        b"x" * (64 * 1024 + 1),
        "[" * 50_000,
    ],
)
def test_malformed_inputs(keyring: Keyring, text: str | bytes) -> None:
    """Not JSON, arrays, scalars, wrong layout or types, bad UTF-8 or oversize are malformed."""
    with pytest.raises(SnapshotMalformedError):
        load(text, keyring)


def test_non_text_input_is_malformed(keyring: Keyring) -> None:
    """Something that is neither str nor bytes is refused as malformed."""
    with pytest.raises(SnapshotMalformedError):
        load(12, keyring)  # type: ignore[arg-type]


def test_duplicate_keys_inside_env_are_refused(keyring: Keyring, sample: str) -> None:
    """A duplicated key inside the envelope is refused (as tampering: it was not sealed so)."""
    changed = sample.replace('"seq":3,', '"seq":4,"seq":3,', 1)
    with pytest.raises(SnapshotTamperedError):
        load(changed, keyring)


def envelope_variants() -> list[tuple[str, Callable[[dict[str, Any]], None]]]:
    """Ways to break an envelope's shape, each with a name."""

    def setter(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
        def apply(env: dict[str, Any]) -> None:
            env[key] = value

        return apply

    def drop(key: str) -> Callable[[dict[str, Any]], None]:
        return lambda env: env.pop(key)

    def entry(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
        def apply(env: dict[str, Any]) -> None:
            env["history"][0][key] = value

        return apply

    return [
        ("seq-string", setter("seq", "3")),
        ("seq-negative", setter("seq", -1)),
        ("seq-float", setter("seq", 3.0)),
        ("seq-bool", setter("seq", True)),
        ("schema-bool", setter("schema", True)),
        ("schema-string", setter("schema", "1")),
        ("machine-null", setter("machine", None)),
        ("hash-int", setter("machine_hash", 1)),
        ("flow-id-list", setter("flow_id", [])),
        ("state-int", setter("state", 5)),
        ("context-list", setter("context", [])),
        ("history-dict", setter("history", {})),
        ("audit-dict", setter("audit", {})),
        ("audit-entry-string", setter("audit", ["x"])),
        ("created-string", setter("created_at", "now")),
        ("updated-null", setter("updated_at", None)),
        ("updated-huge", setter("updated_at", 1e400)),
        ("expires-string", setter("expires_at", "soon")),
        ("extra-key", setter("extra", 1)),
        ("missing-audit", drop("audit")),
        ("missing-state", drop("state")),
        ("entry-seq-string", entry("seq", "1")),
        ("entry-state-null", entry("state", None)),
        ("entry-from-int", entry("from", 1)),
        ("entry-to-list", entry("to", [])),
        ("entry-trigger-int", entry("trigger", 1)),
        ("entry-at-string", entry("at", "then")),
        ("entry-context-list", entry("context", [])),
        ("entry-not-object", setter("history", [1])),
    ]


@pytest.mark.parametrize(("name", "breaks"), envelope_variants(), ids=lambda v: v)
def test_authentic_but_wrongly_shaped_envelopes_are_malformed(
    keyring: Keyring, name: str, breaks: Callable[[dict[str, Any]], None]
) -> None:
    """A correctly sealed envelope with a wrong key set or type is SnapshotMalformedError."""
    envelope = mfa_required_envelope()
    envelope["context"] = {"connection": "sms"}
    for item in envelope["history"]:
        item["context"] = {}
    breaks(envelope)
    if name == "updated-huge":  # json.dumps writes Infinity; spell it as a huge literal
        text = forge(
            json.dumps(envelope).replace("Infinity", "1e400"), {"s": [], "c": {}, "h": [{}, {}]}
        )
    else:
        text = forge_env(envelope)
    with pytest.raises(SnapshotMalformedError):
        load(text, keyring)
    with pytest.raises(SnapshotMalformedError):
        encode(envelope, keyring)


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"s": [], "c": {}},
        {"s": [], "c": {}, "h": [{}, {}], "x": 1},
        {"s": {}, "c": {}, "h": [{}, {}]},
        {"s": [], "c": [], "h": [{}, {}]},
        {"s": [], "c": {}, "h": [{}]},
        {"s": [], "c": {}, "h": [{}, []]},
        {"s": [], "c": {"mfa_token": 0}, "h": [{}, {}]},
        {"s": ["x"], "c": {"mfa_token": -1}, "h": [{}, {}]},
        {"s": ["x"], "c": {"mfa_token": True}, "h": [{}, {}]},
        {"s": ["x"], "c": {"mfa_token": [1, 2]}, "h": [{}, {}]},
        {"s": ["x"], "c": {"mfa_token": "x"}, "h": [{}, {}]},
        {"s": ["x"], "c": {"connection": 0}, "h": [{}, {}]},
        {"s": ["x"], "c": {}, "h": [{"connection": 0}, {}]},
    ],
)
def test_authentic_but_wrongly_shaped_payloads_are_malformed(
    keyring: Keyring, payload: Any
) -> None:
    """A correctly sealed payload of the wrong shape, or clashing with clear keys, is malformed."""
    envelope = mfa_required_envelope()
    envelope["context"] = {"connection": "sms"}
    envelope["history"][0]["context"] = {"connection": "sms"}
    envelope["history"][1].pop("context")
    with pytest.raises(SnapshotMalformedError):
        load(forge_env(envelope, payload), keyring)


def test_secrets_for_an_entry_without_context_are_malformed(keyring: Keyring) -> None:
    """Sealed secrets aimed at a history entry that has no context are refused."""
    envelope = mfa_required_envelope()
    envelope["context"] = {}
    envelope["history"][1].pop("context")
    envelope["history"][0]["context"] = {}
    payload = {"s": ["x"], "c": {}, "h": [{}, {"phone_number": 0}]}
    with pytest.raises(SnapshotMalformedError):
        load(forge_env(envelope, payload), keyring)
    payload = {"s": ["x"], "c": {}, "h": [{"phone_number": 0}, {}]}
    assert load(forge_env(envelope, payload), keyring)["history"][0]["context"] == {
        "phone_number": "x"
    }


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("context", (1, 2)),
        ("context", {1: "a"}),
        ("context", {"a": {None: 1}}),
        ("context", {"a", "b"}),
        ("context", b"bytes"),
        ("context", float("nan")),
        ("context", float("inf")),
        ("context", object()),
        ("history", [(1,)]),
        ("audit", {2.5: 1}),
    ],
)
def test_encode_refuses_values_json_would_change(keyring: Keyring, where: str, value: Any) -> None:
    """Tuples, non-string keys, sets, bytes, NaN and objects are refused by encode."""
    envelope = mfa_required_envelope()
    if where == "context":
        envelope["context"]["odd"] = value
    elif where == "history":
        envelope["history"][0]["context"]["odd"] = value
    else:
        envelope["audit"][0]["odd"] = value
    with pytest.raises(SnapshotMalformedError):
        encode(envelope, keyring)


def test_encode_refuses_deep_nesting_and_oversize(keyring: Keyring) -> None:
    """Nesting beyond the limit and a text over 64 KiB are refused at encode time."""
    envelope = mfa_required_envelope()
    deep: Any = []
    for _ in range(200):
        deep = [deep]
    envelope["context"]["deep"] = deep
    with pytest.raises(SnapshotMalformedError):
        encode(envelope, keyring)
    envelope = mfa_required_envelope()
    envelope["context"]["blob"] = "x" * (64 * 1024)
    with pytest.raises(SnapshotMalformedError):
        encode(envelope, keyring)


def test_encode_refuses_other_schemas_and_non_dicts(keyring: Keyring) -> None:
    """Only a dict of the current schema can be encoded."""
    envelope = mfa_required_envelope()
    envelope["schema"] = 2
    with pytest.raises(SnapshotMalformedError):
        encode(envelope, keyring)
    with pytest.raises(SnapshotMalformedError):
        encode([], keyring)  # type: ignore[arg-type]


def test_enum_like_subclasses_are_written_as_plain_values(keyring: Keyring) -> None:
    """str and int subclasses (enums) are accepted and come back as their plain value."""
    import enum

    class State(enum.StrEnum):
        MFA = "mfa_required"

    class Count(enum.IntEnum):
        ONE = 1

    envelope = mfa_required_envelope()
    envelope["state"] = State.MFA
    envelope["context"]["attempts"] = Count.ONE
    decoded = load(encode(envelope, keyring), keyring)
    assert type(decoded["state"]) is str and decoded["state"] == "mfa_required"
    assert type(decoded["context"]["attempts"]) is int


def test_messages_never_contain_secrets(keyring: Keyring, sample: str) -> None:
    """Error messages of machine, expiry, key and tamper refusals carry no secret."""
    failures: list[SnapshotError] = []
    calls: tuple[Callable[[], object], ...] = (
        lambda: load(sample, keyring, machine="x"),
        lambda: load(sample, keyring, accepted_hashes=set()),
        lambda: load(sample, keyring, now=4e9),
        lambda: load(sample, Keyring([("k1", KEY_2)])),
        lambda: load(sample, Keyring([("k2", KEY_2)])),
        lambda: load(sample[:-5], keyring),
    )
    for call in calls:
        with pytest.raises(SnapshotError) as caught:
            call()
        failures.append(caught.value)
    for failure in failures:
        assert_no_secret_in(str(failure))
        assert_no_secret_in(repr(failure))


# -------------------------------------------------------------------------------- migrations


def test_golden_v1_loads_to_the_expected_envelope() -> None:
    """tests/golden/snapshot_v1.json decodes to exactly the frozen schema-1 envelope."""
    data = (GOLDEN_DIR / "snapshot_v1.json").read_bytes()
    decoded = decode(
        data,
        golden_keyring(),
        machine=GOLDEN_V1_ENVELOPE["machine"],
        accepted_hashes={GOLDEN_V1_ENVELOPE["machine_hash"]},
        now=GOLDEN_NOW,
    )
    assert decoded == GOLDEN_V1_ENVELOPE


def test_current_encoder_round_trips_the_golden_envelope() -> None:
    """Encoding the golden envelope with the fixed key and nonce decodes back to it exactly."""
    # The file itself is frozen (see tests/golden/README.md). Since SECRET_FIELDS is derived
    # from the typed context, `recovery_codes` (a key no flow ever writes, present in the
    # golden history) is no longer sealed, so today's bytes differ from the file's; both
    # decode to the same envelope, and the file keeps loading (test above).
    data = (GOLDEN_DIR / "snapshot_v1.json").read_text(encoding="ascii")
    again = encode(GOLDEN_V1_ENVELOPE, golden_keyring(), nonce_source=fixed_nonce)
    assert again.startswith('{"v":1,"kid":"golden-1","env":{')
    args: dict[str, Any] = {
        "machine": GOLDEN_V1_ENVELOPE["machine"],
        "accepted_hashes": {GOLDEN_V1_ENVELOPE["machine_hash"]},
        "now": GOLDEN_NOW,
    }
    assert decode(again, golden_keyring(), **args) == decode(data, golden_keyring(), **args)
    assert decode(again, golden_keyring(), **args) == GOLDEN_V1_ENVELOPE


def test_golden_file_hides_its_secrets() -> None:
    """The golden file does not hold the golden envelope's secret values in clear."""
    data = (GOLDEN_DIR / "snapshot_v1.json").read_text(encoding="ascii")
    assert GOLDEN_V1_ENVELOPE["context"]["mfa_token"] not in data
    assert "+15555550100" not in data


def _v1_to_fake_v2(envelope: dict[str, Any]) -> dict[str, Any]:
    """A fake migration: rename ``send`` to ``delivery`` and bump the schema."""
    upgraded = dict(envelope)
    upgraded["context"] = dict(envelope["context"])
    upgraded["context"]["delivery"] = upgraded["context"].pop("send")
    upgraded["schema"] = 2
    return upgraded


def golden_decode(**kw: Any) -> dict[str, Any]:
    """Decode the v1 golden file with the golden keyring."""
    return decode(
        (GOLDEN_DIR / "snapshot_v1.json").read_bytes(),
        golden_keyring(),
        machine=GOLDEN_V1_ENVELOPE["machine"],
        accepted_hashes={GOLDEN_V1_ENVELOPE["machine_hash"]},
        now=GOLDEN_NOW,
        **kw,
    )


def test_v1_golden_upgrades_through_a_registered_migration(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a fake 1->2 migration registered and schema 2 current, v1 loads as v2."""
    monkeypatch.setattr(snapshot, "CURRENT_SCHEMA", 2)
    migrations = dict(snapshot.MIGRATIONS)
    migrations[1] = _v1_to_fake_v2
    decoded = golden_decode(migrations=migrations)
    expected = _v1_to_fake_v2(copy.deepcopy(GOLDEN_V1_ENVELOPE))
    assert decoded == expected
    assert decoded["context"]["delivery"] == "code" and "send" not in decoded["context"]
    assert decoded["context"]["mfa_token"] == GOLDEN_V1_ENVELOPE["context"]["mfa_token"]
    assert 1 not in snapshot.MIGRATIONS  # the real registry was not touched


def test_no_migration_path_is_a_version_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A schema with no chain of migrations up to the current one raises SnapshotVersionError."""
    monkeypatch.setattr(snapshot, "CURRENT_SCHEMA", 2)
    with pytest.raises(SnapshotVersionError):
        golden_decode(migrations={})
    monkeypatch.setattr(snapshot, "CURRENT_SCHEMA", 3)
    with pytest.raises(SnapshotVersionError):
        golden_decode(migrations={1: _v1_to_fake_v2})


@pytest.mark.parametrize(
    "migration",
    [
        lambda env: 1 / 0,
        lambda env: [],
        lambda env: {**env, "schema": 3},
        lambda env: {**env, "schema": 2, "surprise": 1},
        lambda env: {**env, "schema": 2, "seq": "x"},
    ],
)
def test_broken_migrations_are_refused(monkeypatch: pytest.MonkeyPatch, migration: Any) -> None:
    """A migration that raises, returns garbage or a wrong shape yields a SnapshotError."""
    monkeypatch.setattr(snapshot, "CURRENT_SCHEMA", 2)
    with pytest.raises(SnapshotError) as caught:
        golden_decode(migrations={1: migration})
    assert isinstance(caught.value, SnapshotVersionError | SnapshotMalformedError)


def test_the_registry_starts_empty_at_schema_1() -> None:
    """Schema 1 is current and needs no migration yet."""
    assert snapshot.CURRENT_SCHEMA == 1
    assert snapshot.MIGRATIONS == {}


# ------------------------------------------------------------------------------- purity


def test_module_is_pure() -> None:
    """The codec imports no HTTP, logging or clock module and never unpickles or evaluates."""
    source = Path(snapshot.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in {"eval", "exec", "compile", "__import__"}
    assert imported <= {"__future__", "base64", "binascii", "collections", "cryptography",
                        "hashlib", "hmac", "flowengine", "json", "math", "os", "re",
                        "typing"}  # fmt: skip


# ------------------------------------------------------------------------------ golden writer


def write_golden() -> None:
    """Write the current schema's golden file if it does not exist yet; never overwrite."""
    path = GOLDEN_DIR / f"snapshot_v{snapshot.CURRENT_SCHEMA}.json"
    if path.exists():
        sys.exit(f"{path} exists; golden files are never rewritten")
    if snapshot.CURRENT_SCHEMA != 1:
        sys.exit("add a GOLDEN_V<N>_ENVELOPE literal for the new schema first")
    text = encode(GOLDEN_V1_ENVELOPE, golden_keyring(), nonce_source=fixed_nonce)
    path.write_text(text, encoding="ascii")  # no trailing newline: the file is the snapshot
    print(f"wrote {path} ({len(text)} bytes)")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-golden"]:
        write_golden()
    else:
        sys.exit(__doc__)
