"""The snapshot codec and Keyring pinned refusal by refusal: error types and the words users see.

Written against the mutants ``scripts/mutation flowengine/_snapshot.py`` found surviving:
each test asserts the behaviour one family of mutants changes (an exact message, a boundary,
a sealed text's layout, a cache). Authentic snapshots that ``encode`` would refuse to write
are sealed here by an independent implementation of the documented format (``_forge``).
"""

from __future__ import annotations

import base64
import collections
import enum
import hashlib
import hmac
import json
import os
import re
import types
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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
from flowengine._snapshot import Keyring, decode, encode

KEY_1 = bytes(range(32))
KEY_2 = bytes(range(32, 64))
NONCE = bytes(range(12))
MACHINE = "auth0-passwordless-mfa"
HASH = "3f2a81eab8682413b75946095838a6bb693a9cdc46a53a540f0fd80c39cb673e"
NOW = 1_800_000_100.0
RING = Keyring([("k1", KEY_1)])

STRINGS = "envelope.machine, machine_hash, flow_id and state must be strings"
INSTANTS = "envelope.created_at and updated_at must be finite numbers"
EXPIRES = "envelope.expires_at is neither a finite number nor null"
SEQ = "envelope.seq is not a non-negative integer"
FORM = "is not of the form kid:base64url-key"
SHAPE = "the sealed payload has the wrong shape"
BAD_REF = "the sealed payload has a bad reference"
IN_CLEAR = "the sealed payload restores a key that is also in clear"
NO_CONTEXT = "the sealed payload has secrets for a history entry without a context"
NOT_AT_END = "the snapshot does not end with its sealed member"
NOT_B64 = "the sealed member is not unpadded base64url"
FRAME = '{"v":1,"kid":"k1","env":{}'
REPEATED = "key 'k1' is one byte repeated (a placeholder?); use a random key"
TWINS = "keys 'k1' and 'k2' are the same key; give each key one id"


def _b64(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _no_key_in(message: str) -> None:
    """Check a message carries none of the test keys in any spelling."""
    for key in (KEY_1, KEY_2):
        assert key.hex() not in message
        assert _b64(key) not in message
        assert repr(key) not in message


def _envelope(**changes: Any) -> dict[str, Any]:
    """A small valid schema-1 envelope, with ``changes`` applied."""
    env: dict[str, Any] = {
        "schema": 1,
        "machine": MACHINE,
        "machine_hash": HASH,
        "flow_id": "fl_mutants",
        "seq": 2,
        "state": "code_sent",
        "context": {"connection": "sms", "phone_number": "+15555550123"},
        "history": [
            {"seq": 1, "state": "started", "trigger": "start", "at": 1_800_000_000.5,
             "context": {"phone_number": "+15555550123"}},
            {"seq": 2, "state": "code_sent", "trigger": None, "at": 1_800_000_001},
        ],
        "created_at": 1_800_000_000.5,
        "updated_at": 1_800_000_001.0,
        "expires_at": 1_800_000_600.0,
        "audit": [{"event": "http"}],
    }  # fmt: skip
    env.update(changes)
    return env


def _load(text: str | bytes, ring: Keyring = RING, **overrides: Any) -> dict[str, Any]:
    """Decode with the test machine's defaults."""
    options: dict[str, Any] = {"machine": MACHINE, "accepted_hashes": {HASH}, "now": NOW}
    options.update(overrides)
    return decode(text, ring, **options)


def _forge(
    env_text: str,
    plaintext: bytes,
    *,
    kid: str = "k1",
    key: bytes = KEY_1,
    pad: bool = True,
) -> str:
    """Seal raw envelope text and raw payload bytes the way the format documents it."""
    head = f'{{"v":1,"kid":"{kid}","env":{env_text}}}'
    if pad:
        plaintext += b" " * (-(12 + len(plaintext) + 16) % 3)
    sealed = AESGCM(key).encrypt(NONCE, plaintext, head.encode())
    return f'{head[:-1]},"sealed":"{_b64(NONCE + sealed)}"}}'


def _forge_env(env: Any, payload: Any = None) -> str:
    """Seal ``env`` as clear JSON with ``payload`` (by default: no secrets) as the sealed part."""
    if payload is None:
        history = env.get("history") if isinstance(env, dict) else None
        payload = {"s": [], "c": {}, "h": [{}] * (len(history) if isinstance(history, list) else 0)}
    return _forge(json.dumps(env, separators=(",", ":")), json.dumps(payload).encode())


def _refusal(kind: type[Exception], call: Callable[[], object]) -> str:
    """Run ``call``, expect ``kind`` exactly, and return its message."""
    with pytest.raises(kind) as caught:
        call()
    assert type(caught.value) is kind
    return str(caught.value)


# ------------------------------------------------------------------------------------ _dumps


def test_the_c_encoder_is_built_once_and_writes_compact_ascii_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``_make_dumps`` builds the C encoder once; it writes compact ASCII, keys unsorted."""
    made: list[tuple[object, ...]] = []
    real = json.encoder.c_make_encoder
    assert real is not None

    def spy(*args: object) -> Any:
        made.append(args)
        return real(*args)

    monkeypatch.setattr(json.encoder, "c_make_encoder", spy)
    dumps = snapshot._make_dumps()
    assert len(made) == 1
    value = {"b": [1, 2.5, None, True, False], "a": "caf\u00e9 \U0001f511", "c": {}}
    expected = '{"b":[1,2.5,null,true,false],"a":"caf\\u00e9 \\ud83d\\udd11","c":{}}'
    assert dumps(value) == expected
    assert dumps(value) == expected
    assert len(made) == 1


def _circular() -> list[Any]:
    """A list that contains itself."""
    loop: list[Any] = []
    loop.append(loop)
    return loop


@pytest.mark.parametrize("c_encoder", [True, False], ids=["c-encoder", "fallback"])
def test_dumps_refuses_what_json_cannot_hold(
    monkeypatch: pytest.MonkeyPatch, c_encoder: bool
) -> None:
    """Both writers name the refused type, refuse NaN and odd keys, and never check for cycles."""
    if not c_encoder:
        monkeypatch.setattr(json.encoder, "c_make_encoder", None)
    dumps = snapshot._make_dumps()
    assert dumps({"a": "\u00e9"}) == '{"a":"\\u00e9"}'
    with pytest.raises(TypeError) as caught:
        dumps({"a": {1, 2}})
    assert str(caught.value) == "a set is not a JSON value"
    with pytest.raises(TypeError):
        dumps({(1, 2): "tuple key"})
    with pytest.raises(ValueError):
        dumps([float("nan")])
    with pytest.raises(RecursionError):  # check_circular=False: no "Circular reference" pass
        dumps(_circular())


def test_without_a_c_encoder_attribute_the_fallback_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A ``json`` module without any ``c_make_encoder`` attribute still gives a working writer."""
    bare = types.SimpleNamespace(JSONEncoder=json.JSONEncoder, encoder=types.SimpleNamespace())
    monkeypatch.setattr(snapshot, "json", bare)
    dumps = snapshot._make_dumps()
    assert dumps({"b": 1, "a": [None]}) == '{"b":1,"a":[null]}'


def test_refuse_type_names_the_type() -> None:
    """The JSON writers' ``default`` hook raises a TypeError naming the value's type."""
    with pytest.raises(TypeError) as caught:
        snapshot._refuse_type(b"raw")
    assert str(caught.value) == "a bytes is not a JSON value"


# ------------------------------------------------------------------------- Keyring(...)


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (5, "Keyring needs an iterable of (kid, key) pairs"),
        ([["k1", KEY_1]], "Keyring needs (kid, key) pairs"),
        ([("k1", KEY_1, "extra")], "Keyring needs (kid, key) pairs"),
        ([("k1",)], "Keyring needs (kid, key) pairs"),
        ([(1, KEY_1)], "a key id must be 1-32 characters of letters, digits, '.', '_', '-'"),
        ([("k 1", KEY_1)], "a key id must be 1-32 characters of letters, digits, '.', '_', '-'"),
        ([("k1", KEY_1), ("k1", KEY_2)], "key id 'k1' appears twice in the keyring"),
        ([("k1", _b64(KEY_1))], "key 'k1' must be bytes"),
        ([("k1", KEY_1[:16])], "key 'k1' must be 32 bytes for AES-256-GCM, not 16"),
        ([("k1", bytes([7]) * 32)], REPEATED),
        ([("k1", KEY_1), ("k2", KEY_1)], TWINS),
        ([], "a Keyring needs at least one key"),
    ],
)
def test_keyring_refusals_say_what_is_wrong(pairs: Any, message: str) -> None:
    """Each bad keyring is a ConfigurationError with its own message, never echoing the key."""
    text = _refusal(ConfigurationError, lambda: Keyring(pairs))
    assert text == message
    _no_key_in(text)


def test_keys_may_be_any_bytes_like_object() -> None:
    """bytes, bytearray and memoryview keys are accepted and seal the same way."""
    for key in (KEY_1, bytearray(KEY_1), memoryview(KEY_1)):
        ring = Keyring([("k1", key)])
        assert ring.to_env_value() == f"k1:{_b64(KEY_1)}"


def test_a_key_that_is_almost_one_repeated_byte_is_accepted() -> None:
    """Only a key made entirely of one byte is a placeholder; one differing byte is a key."""
    key = bytes([7]) * 31 + b"\x08"
    assert Keyring([("k1", key)]).kids == ("k1",)


def test_membership_length_and_repr() -> None:
    """``in``, ``len`` and ``repr`` report the key ids, the sealing one first, and nothing else."""
    ring = Keyring([("k2", KEY_2), ("k1", KEY_1)])
    assert "k1" in ring and "k2" in ring and "k3" not in ring
    assert len(ring) == 2
    assert ring.primary_kid == "k2" and ring.kids == ("k2", "k1")
    assert repr(ring) == "Keyring(kids=('k2', 'k1'))"


# ---------------------------------------------------------------------- env value parsing


def test_to_env_value_is_exact() -> None:
    """The setting is ``kid:<unpadded base64url>`` per key, comma-separated, primary first."""
    ring = Keyring([("k2", KEY_2), ("k1", KEY_1)])
    assert ring.to_env_value() == f"k2:{_b64(KEY_2)},k1:{_b64(KEY_1)}"


def test_from_env_value_reads_keys_in_order_with_spaces_and_padding() -> None:
    """Entries are split on commas, trimmed, padded or not, and read in order."""
    padded = base64.urlsafe_b64encode(KEY_1).decode()
    ring = Keyring.from_env_value(f" k2 : {_b64(KEY_2)} ,k1:{padded}")
    assert ring.kids == ("k2", "k1")
    assert ring.to_env_value() == f"k2:{_b64(KEY_2)},k1:{_b64(KEY_1)}"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "the snapshot key setting is empty"),
        ("", "the snapshot key setting is empty"),
        ("  ", "the snapshot key setting is empty"),
        ("k1", f"snapshot key entry 1 {FORM}"),
        (f":{_b64(KEY_1)}", f"snapshot key entry 1 {FORM}"),
        ("k1: ", f"snapshot key entry 1 {FORM}"),
        (f"k1:{_b64(KEY_1)},k2", f"snapshot key entry 2 {FORM}"),
        (f"k1:{_b64(KEY_1)},k2:{_b64(KEY_2)},", f"snapshot key entry 3 {FORM}"),
        (f"k1:{_b64(KEY_1)}:AAAA", "snapshot key entry 1 is not base64url"),
        (f"k1:{_b64(KEY_1)},k2:{_b64(KEY_2)}!", "snapshot key entry 2 is not base64url"),
        ("k1:AAAAA", "snapshot key entry 1 is not base64url"),  # a 1-mod-4 length
        (f"k1:{_b64(KEY_1)},k2:AAAAA", "snapshot key entry 2 is not base64url"),
    ],
)
def test_env_value_refusals_name_the_entry(value: Any, message: str) -> None:
    """A bad key setting names the entry (counted from 1) and the rule, never the key."""
    text = _refusal(ConfigurationError, lambda: Keyring.from_env_value(value))
    assert text == message
    _no_key_in(text)


def test_env_value_keys_of_any_base64_length_are_decoded_before_the_size_check() -> None:
    """Short keys of every unpadded length decode, and are then refused for their byte count."""
    for size in (16, 24, 25, 26, 31, 33):
        text = _refusal(
            ConfigurationError,
            lambda n=size: Keyring.from_env_value(f"k1:{_b64(KEY_2[:n] + bytes(n > 32))}"),
        )
        assert text == f"key 'k1' must be 32 bytes for AES-256-GCM, not {size}"


def test_env_value_base64_errors_hide_their_cause() -> None:
    """An undecodable key is reported without chaining the decoder's error (which quotes input)."""
    with pytest.raises(ConfigurationError) as caught:
        Keyring.from_env_value("k1:AAAAA")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


# ---------------------------------------------------------------------------- rotation


def test_rotated_onto_a_given_key_uses_that_key() -> None:
    """``rotated(kid, key)`` seals with exactly that key, and keeps the old keys behind it."""
    ring = Keyring([("k1", KEY_1)]).rotated("k2", KEY_2)
    assert ring.to_env_value() == f"k2:{_b64(KEY_2)},k1:{_b64(KEY_1)}"


def test_rotated_onto_a_used_id_names_it() -> None:
    """Rotating onto an id in the ring is refused with a message naming the id."""
    text = _refusal(ConfigurationError, lambda: Keyring([("k1", KEY_1)]).rotated("k1"))
    assert text == "key id 'k1' is already in the keyring; rotate onto a new id"


def test_rotated_draws_again_when_the_random_id_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """A random id that happens to be in the ring already is drawn again, not reused."""
    drawn = iter(["k1", "k2", "k_fresh"])
    monkeypatch.setattr(Keyring, "new_kid", staticmethod(lambda: next(drawn)))
    ring = Keyring([("k2", KEY_2), ("k1", KEY_1)]).rotated()
    assert ring.kids == ("k_fresh", "k2", "k1")
    assert ring.to_env_value().split(",")[1:] == [f"k2:{_b64(KEY_2)}", f"k1:{_b64(KEY_1)}"]


# ------------------------------------------------------------------------- seal / open


def _fixed_urandom(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``os.urandom`` answer the fixed test nonce (for 12 bytes)."""
    real = os.urandom

    def fixed(size: int) -> bytes:
        return NONCE if size == 12 else real(size)

    monkeypatch.setattr(os, "urandom", fixed)


def _expected_seal(plaintext: bytes, aad: bytes, key: bytes = KEY_1, kid: str = "k1") -> str:
    """The documented ``kid.b64url(nonce || ciphertext+tag)`` text, computed independently."""
    return kid + "." + _b64(NONCE + AESGCM(key).encrypt(NONCE, plaintext, aad))


def test_seal_writes_kid_dot_unpadded_base64url(monkeypatch: pytest.MonkeyPatch) -> None:
    """``seal`` is the primary kid, a dot, and unpadded base64url of nonce, ciphertext and tag."""
    _fixed_urandom(monkeypatch)
    ring = Keyring([("k2", KEY_2), ("k1", KEY_1)])
    for size in range(40):  # every residue of the blob length modulo 3 and 4
        plaintext = bytes(range(size))
        text = ring.seal(plaintext, b"aad")
        assert text == _expected_seal(plaintext, b"aad", KEY_2, "k2")
        assert re.fullmatch(r"k2\.[A-Za-z0-9_-]+", text)


def test_seal_keeps_a_trailing_x(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only padding is stripped from the sealed text: a base64 digit ``X`` at its end stays."""
    _fixed_urandom(monkeypatch)
    plaintext = next(
        p for p in (b"%d" % i for i in range(100_000)) if _expected_seal(p, b"").endswith("X")
    )
    assert RING.seal(plaintext, b"") == _expected_seal(plaintext, b"")


def test_seal_and_open_round_trip_bound_to_the_aad() -> None:
    """What ``seal`` wrote ``open_sealed`` gives back, with that AAD only."""
    ring = Keyring([("k2", KEY_2), ("k1", KEY_1)])
    for size in [*range(40), 100]:  # every residue of the base64 length modulo 4 and 5
        plaintext = os.urandom(size)
        text = ring.seal(plaintext, b"flow-1:3")
        assert ring.open_sealed(text, b"flow-1:3") == plaintext
        for aad in (b"flow-1:4", b""):
            message = _refusal(SnapshotTamperedError, lambda a=aad, t=text: ring.open_sealed(t, a))
            assert message == "the sealed text failed authentication"


def test_a_text_sealed_by_an_older_key_still_opens() -> None:
    """A text sealed before a rotation opens with the rotated ring (any key opens)."""
    old = Keyring([("k1", KEY_1)])
    text = old.seal(b"intent", b"aad")
    assert old.rotated("k2", KEY_2).open_sealed(text, b"aad") == b"intent"


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("k1.", "k9.", 1),
        lambda t: t.replace("k1.", "", 1),
        lambda t: "",
    ],
)
def test_open_sealed_without_a_known_key_is_a_key_error(change: Callable[[str], str]) -> None:
    """A text naming no configured key id is a SnapshotKeyError that names no key."""
    text = change(RING.seal(b"intent", b"aad"))
    message = _refusal(SnapshotKeyError, lambda: RING.open_sealed(text, b"aad"))
    assert message == "the sealed text names no configured key"


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the tag
        lambda t: t[:5] + ("A" if t[5] != "A" else "B") + t[6:],  # the nonce
        lambda t: t + "A",  # a 1-mod-4 length: not base64
        lambda t: t[:10],  # shorter than a nonce
        lambda t: t[:30],  # a nonce but no tag
        lambda t: "k1.",
    ],
)
def test_open_sealed_refuses_changed_texts_as_tampered(change: Callable[[str], str]) -> None:
    """Any change to the base64 part, or a truncation, is a SnapshotTamperedError."""
    text = change(RING.seal(b"the intent journal entry!!", b"aad"))  # 54-byte blob
    message = _refusal(SnapshotTamperedError, lambda: RING.open_sealed(text, b"aad"))
    assert message == "the sealed text failed authentication"


def test_open_sealed_with_another_key_under_the_same_id_is_tampered() -> None:
    """The same kid with other key bytes fails authentication."""
    text = RING.seal(b"intent", b"aad")
    message = _refusal(
        SnapshotTamperedError, lambda: Keyring([("k1", KEY_2)]).open_sealed(text, b"aad")
    )
    _no_key_in(message)


# ------------------------------------------------------------------------------ subkeys


def test_subkey_is_hmac_sha256_of_the_purpose_and_cached() -> None:
    """``subkey`` is HMAC-SHA-256(key, purpose), derived once per (kid, purpose) and kept."""
    ring = Keyring([("k2", KEY_2), ("k1", KEY_1)])
    first = ring.subkey("k1", b"purpose A")
    assert first == hmac.new(KEY_1, b"purpose A", hashlib.sha256).digest()
    assert len(first) == 32 and first != KEY_1
    assert ring.subkey("k1", b"purpose A") is first
    other_purpose = ring.subkey("k1", b"purpose B")
    other_key = ring.subkey("k2", b"purpose A")
    assert other_purpose == hmac.new(KEY_1, b"purpose B", hashlib.sha256).digest()
    assert other_key == hmac.new(KEY_2, b"purpose A", hashlib.sha256).digest()
    assert len({first, other_purpose, other_key}) == 3
    assert ring.subkey("k1", b"purpose B") is other_purpose
    with pytest.raises(KeyError):
        ring.subkey("k3", b"purpose A")


# ------------------------------------------------------------------------------- encode


def test_encode_and_decode_need_a_keyring() -> None:
    """Anything but a Keyring is a ConfigurationError naming the function."""
    text = encode(_envelope(), RING)
    assert _refusal(ConfigurationError, lambda: encode(_envelope(), "k1:key")) == (  # type: ignore[arg-type]
        "encode needs a Keyring"
    )
    assert _refusal(ConfigurationError, lambda: _load(text, "k1:key")) == (  # type: ignore[arg-type]
        "decode needs a Keyring"
    )


def _without(key: str) -> dict[str, Any]:
    """A valid envelope without ``key``."""
    env = _envelope()
    del env[key]
    return env


def _entry(**member: Any) -> dict[str, Any]:
    """A valid envelope whose second history entry gets ``member``."""
    env = _envelope()
    env["history"][1].update(member)
    return env


class _Float(float):
    """A float subclass."""


class _Count(enum.IntEnum):
    """An int enum."""

    ONE = 1


ENVELOPE_REFUSALS: list[tuple[str, Any, str]] = [
    ("not-a-dict", [], "the envelope is not a dict"),
    ("schema-2", _envelope(schema=2), "only schema 1 envelopes can be encoded"),
    ("schema-str", _envelope(schema="1"), "envelope.schema is not an integer"),
    ("schema-bool", _envelope(schema=True), "envelope.schema is not an integer"),
    ("machine", _envelope(machine=None), STRINGS),
    ("hash", _envelope(machine_hash=1), STRINGS),
    ("flow-id", _envelope(flow_id=b"x"), STRINGS),
    ("state", _envelope(state=3), STRINGS),
    ("seq-negative", _envelope(seq=-1), SEQ),
    ("seq-bool", _envelope(seq=True), SEQ),
    ("seq-float", _envelope(seq=2.0), SEQ),
    ("created-bool", _envelope(created_at=True), INSTANTS),
    ("created-str", _envelope(created_at="1"), INSTANTS),
    ("created-inf", _envelope(created_at=float("inf")), INSTANTS),
    ("updated-nan", _envelope(updated_at=float("nan")), INSTANTS),
    ("updated-sub-inf", _envelope(updated_at=_Float("inf")), INSTANTS),
    ("updated-none", _envelope(updated_at=None), INSTANTS),
    ("expires-str", _envelope(expires_at="soon"), EXPIRES),
    ("expires-false", _envelope(expires_at=False), EXPIRES),
    ("context", _envelope(context=[]), "envelope.context is not an object"),
    ("history", _envelope(history={}), "envelope.history is not an array"),
    ("entry", _envelope(history=[{}, "x"]), "envelope.history[1] is not an object"),
    ("entry-seq", _entry(seq="2"), "envelope.history[1].seq is not an integer"),
    ("entry-seq-bool", _entry(seq=False), "envelope.history[1].seq is not an integer"),
    ("entry-state", _entry(state=None), "envelope.history[1].state is not a string"),
    ("entry-from", _entry(**{"from": 1}), "envelope.history[1].from is not a string"),
    ("entry-to", _entry(to=[]), "envelope.history[1].to is not a string"),
    (
        "entry-trigger",
        _entry(trigger=1),
        "envelope.history[1].trigger is neither a string nor null",
    ),
    ("entry-at", _entry(at="then"), "envelope.history[1].at is not a finite number"),
    ("entry-at-bool", _entry(at=True), "envelope.history[1].at is not a finite number"),
    ("entry-context", _entry(context=[]), "envelope.history[1].context is not an object"),
    ("audit", _envelope(audit={}), "envelope.audit is not an array"),
    ("audit-entry", _envelope(audit=[{}, []]), "envelope.audit[1] is not an object"),
    (
        "keys",
        {**_without("state"), **{k: 1 for k in ("b" * 50, "c1", "c2", "c3", "c4", "c5")}},
        "envelope keys are wrong (missing ['state'],"
        f" unexpected ['{'b' * 40}', 'c1', 'c2', 'c3', 'c4'])",
    ),
    (
        "keys-missing",
        _without("audit") | {"audit ": []},
        "envelope keys are wrong (missing ['audit'], unexpected ['audit '])",
    ),
]


@pytest.mark.parametrize(
    ("env", "message"),
    [(e, m) for _, e, m in ENVELOPE_REFUSALS],
    ids=[n for n, _, _ in ENVELOPE_REFUSALS],
)
def test_encode_refuses_bad_envelopes_with_their_message(env: Any, message: str) -> None:
    """Each wrongly shaped envelope is refused by encode, the message naming the member and rule."""
    assert _refusal(SnapshotMalformedError, lambda: encode(env, RING)) == message


#: The refused envelopes JSON can write as they are (so that someone else could seal them).
SEALABLE = [
    case
    for case in ENVELOPE_REFUSALS
    if case[0]
    not in {"not-a-dict", "schema-2", "flow-id", "created-inf", "updated-nan", "updated-sub-inf"}
]


@pytest.mark.parametrize(
    ("env", "message"), [(e, m) for _, e, m in SEALABLE], ids=[n for n, _, _ in SEALABLE]
)
def test_decode_refuses_authentic_bad_envelopes_with_their_message(env: Any, message: str) -> None:
    """The same shapes, sealed correctly by someone else, are refused by decode alike."""
    assert _refusal(SnapshotMalformedError, lambda: _load(_forge_env(env))) == message


def test_number_subclasses_and_edges_are_accepted() -> None:
    """seq 0, int and finite float subclasses, ints as instants and history without seq all load."""
    env = _envelope(seq=0, created_at=_Count.ONE, updated_at=_Float(2.5), expires_at=None)
    env["history"] = [{"state": "started", "at": 7}, {"at": _Float(1.5), "context": {}}]
    env["audit"] = []
    back = _load(encode(env, RING))
    assert back == env
    assert type(back["created_at"]) is int and type(back["updated_at"]) is float


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("context", {"odd": (1, 2)}, "envelope.context: a tuple is not a JSON value"),
        ("context", {"odd": {"a", "b"}}, "envelope.context: a set is not a JSON value"),
        ("context", {"odd": [b"x"]}, "envelope.context: a bytes is not a JSON value"),
        ("context", {3: "x"}, "envelope.context: an object key is a int, not a string"),
        (
            "context",
            {"a": {None: 1}},
            "envelope.context: an object key is a NoneType, not a string",
        ),
        (
            "history",
            [{"context": {"a": [{2.5: 1}]}}],
            "envelope.history: an object key is a float, not a string",
        ),
        ("history", [{"note": (1,)}], "envelope.history: a tuple is not a JSON value"),
        ("audit", [{"odd": object()}], "envelope.audit: a object is not a JSON value"),
        (
            "audit",
            [collections.OrderedDict([(1, 2)])],
            "envelope.audit: an object key is a int, not a string",
        ),
        (
            "context",
            {"nan": float("nan")},
            "the envelope holds a value JSON cannot represent (NaN, Infinity...)",
        ),
        (
            "audit",
            [{"inf": float("-inf")}],
            "the envelope holds a value JSON cannot represent (NaN, Infinity...)",
        ),
    ],
)
def test_encode_names_where_a_non_json_value_is(where: str, value: Any, message: str) -> None:
    """A value JSON would not give back is refused with its place and type in the message."""
    env = _envelope(**{where: value})
    assert _refusal(SnapshotMalformedError, lambda: encode(env, RING)) == message


def _nested(levels: int) -> Any:
    """``levels`` lists nested in one another."""
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


def test_nesting_limit_is_64_levels_below_a_context() -> None:
    """Containers nested 63 levels below a context are written; 64 levels are refused."""
    env = _envelope(context={"deep": _nested(63)})
    assert _load(encode(env, RING)) == env
    env = _envelope(context={"deep": _nested(64)})
    message = _refusal(SnapshotMalformedError, lambda: encode(env, RING))
    assert message == "envelope.context: nested deeper than 64 levels"
    env = _envelope(history=[{"context": {"deep": _nested(64)}}])
    message = _refusal(SnapshotMalformedError, lambda: encode(env, RING))
    assert message == "envelope.history: nested deeper than 64 levels"


def test_container_subclasses_and_enums_are_written_as_plain_json() -> None:
    """dict and list subclasses and str/int enums are accepted and come back as plain values."""

    class Mapping(dict):  # type: ignore[type-arg]
        """A dict subclass."""

    class Items(list):  # type: ignore[type-arg]
        """A list subclass."""

    class Word(enum.StrEnum):
        """A str enum."""

        SMS = "sms"

    context = Mapping(connection=Word.SMS, items=Items([1, Mapping(a=Items([None]))]))
    context["od"] = collections.OrderedDict(b=_Count.ONE, a=_Float(0.5))
    env = _envelope(context=context, audit=Items([Mapping(event="x")]))
    back = _load(encode(env, RING))
    assert back["context"] == {
        "connection": "sms",
        "items": [1, {"a": [None]}],
        "od": {"b": 1, "a": 0.5},
    }
    assert list(back["context"]["od"]) == ["b", "a"]
    assert back["audit"] == [{"event": "x"}]


def test_check_json_accepts_scalars_and_null_at_the_top() -> None:
    """``_check_json`` lets a top-level scalar or null through and refuses other objects there."""
    for value in (None, "s", 1, 2.5, True):
        assert snapshot._check_json(value, "where") is None
    message = _refusal(SnapshotMalformedError, lambda: snapshot._check_json(b"x", "where"))
    assert message == "where: a bytes is not a JSON value"


def test_nonce_source_must_answer_12_bytes() -> None:
    """A nonce source asked for 12 bytes that answers another length or type is refused."""
    asked: list[int] = []

    def recording(size: int) -> bytes:
        asked.append(size)
        return NONCE

    encode(_envelope(), RING, nonce_source=recording)
    assert asked == [12]
    for bad in (
        lambda n: NONCE[:11],
        lambda n: NONCE + b"x",
        lambda n: "0" * 12,
        lambda n: bytearray(NONCE),
    ):
        message = _refusal(
            ConfigurationError, lambda b=bad: encode(_envelope(), RING, nonce_source=b)
        )
        assert message == "nonce_source must return 12 bytes"


def _sealed_member(text: str) -> str:
    """The base64 of an encoded snapshot's sealed member."""
    return text[text.rindex(',"sealed":"') + len(',"sealed":"') : -2]


def test_the_sealed_member_is_padding_free_for_every_payload_length() -> None:
    """Whatever the payload's length modulo 3, the sealed member is unpadded and decodes back."""
    for n in range(6):  # six consecutive payload lengths: every residue modulo 3, twice
        env = _envelope(context={"mfa_token": "t" * (10 + n)})
        text = encode(env, RING)
        sealed = _sealed_member(text)
        assert re.fullmatch(r"[A-Za-z0-9_-]+", sealed) and len(sealed) % 4 == 0
        assert _load(text) == env


def test_encode_matches_the_documented_format_byte_for_byte() -> None:
    """With a fixed nonce, encode writes exactly what the format says (secrets interned, sorted)."""
    env = _envelope(
        context={"phone_number": "+1555", "tokens": {"id": 1}, "email": "a@b.c", "x": 1}
    )
    env["history"] = [
        {"seq": 1, "context": {"email": "a@b.c", "phone_number": "+1666"}},
        {"seq": 2},
        {"seq": 3, "context": {"y": 2}},
    ]
    text = encode(env, RING, nonce_source=lambda n: NONCE)
    clear = dict(env, context={"x": 1})
    clear["history"] = [{"seq": 1, "context": {}}, {"seq": 2}, {"seq": 3, "context": {"y": 2}}]
    payload = {
        "s": ["a@b.c", "+1555", "+1666"],
        "c": {"email": 0, "phone_number": 1, "tokens": [{"id": 1}]},
        "h": [{"email": 0, "phone_number": 2}, {}, {}],
    }
    expected = _forge(
        json.dumps(clear, separators=(",", ":")),
        json.dumps(payload, separators=(",", ":")).encode(),
    )
    assert text == expected
    assert _load(text) == env


def test_a_sealed_like_member_inside_the_envelope_is_not_the_frame() -> None:
    """A clear ``,"sealed":"`` inside the envelope does not cut the text: the last one does."""
    env = _envelope(context={"a": 1, "sealed": "x"})
    assert _load(encode(env, RING)) == env


def _filler_envelope(size: int) -> dict[str, Any]:
    """A secret-free envelope with a clear string of ``size`` characters."""
    return _envelope(context={"blob": "x" * size}, history=[])


def test_the_size_limit_is_64_kib_inclusive() -> None:
    """A snapshot of exactly 65536 bytes is written and read; one byte more is refused both ways."""
    base = len(encode(_filler_envelope(1000), RING))
    size = 1000 + 64 * 1024 - base
    env = _filler_envelope(size)
    text = encode(env, RING)
    assert len(text) == 64 * 1024
    assert _load(text) == env
    assert _load(text.encode()) == env
    message = _refusal(SnapshotMalformedError, lambda: encode(_filler_envelope(size + 1), RING))
    assert message == "the snapshot would be 65537 bytes, over 65536"
    longer = text + " "
    assert _refusal(SnapshotMalformedError, lambda: _load(longer)) == (
        "the snapshot is over 65536 bytes"
    )
    assert _refusal(SnapshotMalformedError, lambda: _load(longer.encode())) == (
        "the snapshot is over 65536 bytes"
    )


# ------------------------------------------------------------------------------- decode


def test_decode_accepts_a_memoryview() -> None:
    """Bytes-like input includes memoryview."""
    env = _envelope()
    assert _load(memoryview(encode(env, RING).encode())) == env


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (12, "a snapshot is str or bytes"),
        ('{"v":1,"kid":"k\u00e9"}', "the snapshot is not ASCII text"),
        (b'{"v":1,\xff}', "the snapshot is not ASCII text"),
        ("", "the snapshot does not start with a format version"),
        ('{"v": 1,', "the snapshot does not start with a format version"),
        ("x" * 65536, "the snapshot does not start with a format version"),
        (b"x" * 65536, "the snapshot does not start with a format version"),
        ('{"v":1,"x":1}', "the snapshot's kid or env member is missing or misplaced"),
        ('{"v":1,"kid":"k1","env":[]}', "the snapshot's kid or env member is missing or misplaced"),
        ('{"v":1,"kid":"k1","env":{"a":"b"}', NOT_AT_END),
        (FRAME + "}", NOT_AT_END),
        ('{"v":1,"kid":"k1","env":{},"sealed":"AAAA"} ', NOT_AT_END),
        ('{"v":1,"kid":"k1","env":{},"sealed":"AAAA"}}', NOT_AT_END),
        (FRAME + ',"sealed":"' + "A" * 39 + '"}', "the sealed member has a bad length"),
        (FRAME + ',"sealed":"' + "A" * 39 + '+"}', NOT_B64),
        (FRAME + ',"sealed":"' + "A" * 38 + '=="}', NOT_B64),
        (FRAME + ',"sealed":"' + "A" * 36 + '"}', "the sealed member is too short"),
        ('{"v":1,"kid":"k1","env":{},"sealed":""}', "the sealed member is too short"),
    ],
)
def test_frame_refusals_say_what_is_wrong(text: Any, message: str) -> None:
    """Input without the fixed frame is malformed, with a message naming the frame part at fault."""
    assert _refusal(SnapshotMalformedError, lambda: _load(text)) == message


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (2, "snapshot format 2 is newer than this library"),
        (10**17, f"snapshot format {10**17} is newer than this library"),
        (0, "snapshot format 0 is unknown"),
        (-1, "snapshot format -1 is unknown"),
    ],
)
def test_format_version_refusals(version: int, message: str) -> None:
    """A format ``v`` other than 1 is a SnapshotVersionError saying newer or unknown."""
    text = f'{{"v":{version},"kid":"k1","env":{{}},"sealed":"AAAA"}}'
    assert _refusal(SnapshotVersionError, lambda: _load(text)) == message


def test_unknown_kid_and_failed_authentication_name_the_kid_only() -> None:
    """A missing kid is a key error and a wrong key a tamper error, both naming only the kid."""
    text = encode(_envelope(), RING)
    message = _refusal(SnapshotKeyError, lambda: _load(text, Keyring([("k2", KEY_2)])))
    assert message == "no configured key has id 'k1'"
    message = _refusal(SnapshotTamperedError, lambda: _load(text, Keyring([("k1", KEY_2)])))
    assert message == "the snapshot failed authentication with key 'k1'"
    _no_key_in(message)


def test_a_respelled_sealed_member_is_malformed_not_tampered() -> None:
    """Standard-alphabet or padded spellings of the sealed bytes are refused before the tag."""
    text = encode(_envelope(), RING)
    sealed = _sealed_member(text)
    for respelled in (
        sealed.replace("-", "+").replace("_", "/"),
        sealed + "====",
        sealed[:-4] + "AA==",
    ):
        if respelled == sealed:
            continue
        changed = text.replace(sealed, respelled)
        message = _refusal(SnapshotMalformedError, lambda c=changed: _load(c))
        assert message == "the sealed member is not unpadded base64url"


def test_authentic_invalid_json_is_malformed_with_its_part_named() -> None:
    """Sealed but unparsable envelope or payload text is malformed, naming which part."""
    payload = b'{"s":[],"c":{},"h":[]}'
    assert _refusal(SnapshotMalformedError, lambda: _load(_forge("{]", payload))) == (
        "the envelope is not valid JSON"
    )
    env = json.dumps(_envelope(history=[]), separators=(",", ":"))
    for bad in (b"", b"{", b"\xff\xfe", b'{"s":[],"c":{},"h":[]}x'):
        message = _refusal(SnapshotMalformedError, lambda b=bad: _load(_forge(env, b)))
        assert message == "the sealed payload is not valid JSON"


def test_an_empty_sealed_payload_is_not_too_short() -> None:
    """A sealed member of exactly nonce and tag (no payload byte) passes the length check."""
    env = json.dumps(_envelope(history=[]), separators=(",", ":"))
    # 12 + 0 + 16 = 28 bytes cannot be unpadded base64; 30 bytes (2 payload bytes) can.
    text = _forge(env, b"{}", pad=False)
    assert _refusal(SnapshotMalformedError, lambda: _load(text)) == (
        "the sealed payload has the wrong shape"
    )


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_authentic_nan_is_refused_by_name(constant: str) -> None:
    """Even sealed, a NaN or Infinity in the envelope is refused, the constant named."""
    env = json.dumps(_envelope(history=[], audit=[{"x": 0}]), separators=(",", ":"))
    env = env.replace('"x":0', f'"x":{constant}')
    text = _forge(env, b'{"s":[],"c":{},"h":[]}')
    assert _refusal(SnapshotMalformedError, lambda: _load(text)) == (
        f"{constant} is not allowed in a snapshot"
    )


@pytest.mark.parametrize(
    ("schema", "error", "message"),
    [
        ("1", SnapshotMalformedError, "envelope.schema is not an integer"),
        (None, SnapshotMalformedError, "envelope.schema is not an integer"),
        (True, SnapshotMalformedError, "envelope.schema is not an integer"),
        (2, SnapshotVersionError, "snapshot schema 2 is newer than this library"),
        (0, SnapshotVersionError, "snapshot schema 0 is unknown"),
        (-5, SnapshotVersionError, "snapshot schema -5 is unknown"),
    ],
)
def test_schema_refusals(schema: Any, error: type[SnapshotError], message: str) -> None:
    """A sealed envelope of a non-integer, newer or unknown schema is refused with its number."""
    env = _envelope(schema=schema, history=[])
    assert _refusal(error, lambda: _load(_forge_env(env))) == message


PAYLOAD_ENV = _envelope(
    context={"connection": "sms"},
    history=[{"seq": 1, "context": {"connection": "sms"}}, {"seq": 2}],
)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], SHAPE),
        ({"s": [], "c": {}}, SHAPE),
        ({"s": [], "c": {}, "h": [{}, {}], "x": 0}, SHAPE),
        ({"s": {}, "c": {}, "h": [{}, {}]}, SHAPE),
        ({"s": [], "c": {}, "h": {}}, SHAPE),
        ({"s": [], "c": [], "h": [{}, {}]}, SHAPE),
        ({"s": [], "c": {}, "h": [{}, None]}, SHAPE),
        ({"s": [], "c": {}, "h": [{}]}, "the sealed payload does not match the history"),
        ({"s": [], "c": {}, "h": [{}, {}, {}]}, "the sealed payload does not match the history"),
        ({"s": ["x"], "c": {}, "h": [{}, {"email": 0}]}, NO_CONTEXT),
        ({"s": ["x"], "c": {"connection": 0}, "h": [{}, {}]}, IN_CLEAR),
        ({"s": ["x"], "c": {}, "h": [{"connection": [1]}, {}]}, IN_CLEAR),
        ({"s": ["x"], "c": {"email": 1}, "h": [{}, {}]}, BAD_REF),
        ({"s": ["x"], "c": {"email": -1}, "h": [{}, {}]}, BAD_REF),
        ({"s": ["x"], "c": {"email": True}, "h": [{}, {}]}, BAD_REF),
        ({"s": ["x"], "c": {"email": 0.0}, "h": [{}, {}]}, BAD_REF),
        ({"s": ["x"], "c": {"email": []}, "h": [{}, {}]}, BAD_REF),
        ({"s": ["x"], "c": {"email": [1, 2]}, "h": [{}, {}]}, BAD_REF),
        ({"s": ["x"], "c": {"email": "x"}, "h": [{}, {}]}, BAD_REF),
        ({"s": ["x"], "c": {"email": None}, "h": [{}, {}]}, BAD_REF),
    ],
)
def test_payload_refusals_say_what_is_wrong(payload: Any, message: str) -> None:
    """An authentic payload of the wrong shape or with a bad reference is refused, saying so."""
    assert (
        _refusal(SnapshotMalformedError, lambda: _load(_forge_env(PAYLOAD_ENV, payload))) == message
    )


def test_payload_references_restore_strings_and_literals() -> None:
    """Index 0 and the last index name strings; a one-element list holds any literal value."""
    payload = {
        "s": ["first", "last"],
        "c": {"email": 0, "phone_number": 1, "tokens": [{"id": [1]}], "username": [None]},
        "h": [{"email": 1, "binding": ["b"]}, {}],
    }
    back = _load(_forge_env(PAYLOAD_ENV, payload))
    assert back["context"] == {
        "connection": "sms",
        "email": "first",
        "phone_number": "last",
        "tokens": {"id": [1]},
        "username": None,
    }
    assert back["history"][0]["context"] == {"connection": "sms", "email": "last", "binding": "b"}
    assert "context" not in back["history"][1]


def test_an_entry_without_context_and_no_secrets_loads() -> None:
    """Empty secrets for a history entry without a context are fine."""
    env = _envelope(history=[{"seq": 1}], context={})
    assert _load(_forge_env(env, {"s": [], "c": {}, "h": [{}]})) == env


def test_equal_numbers_load_as_one_float_object() -> None:
    """Instants repeated in a snapshot come back as one float object each."""
    env = _envelope()
    env["history"][0]["at"] = env["created_at"] = 1_800_000_123.25
    back = _load(encode(env, RING))
    assert back == env
    assert back["created_at"] is back["history"][0]["at"]


def test_the_float_memo_is_cleared_at_4096_entries() -> None:
    """The float memo holds at most 4096 entries: the next new number starts it afresh."""
    snapshot._FLOATS.clear()
    for i in range(4096):
        assert snapshot._parse_float(f"{i}.5") == i + 0.5
    assert len(snapshot._FLOATS) == 4096
    assert snapshot._parse_float("0.5") == 0.5 and len(snapshot._FLOATS) == 4096
    assert snapshot._parse_float("-7.25") == -7.25
    assert snapshot._FLOATS == {"-7.25": -7.25}
    snapshot._FLOATS.clear()


# ----------------------------------------------------------------------- machine, expiry


def test_machine_and_expiry_messages_are_bounded() -> None:
    """Machine, definition and expiry messages quote at most 100, 16 and 100 characters."""
    long_machine = "m" * 150
    long_flow = "f" * 150
    env = _envelope(machine=long_machine, flow_id=long_flow)
    text = encode(env, RING)
    message = _refusal(SnapshotMachineError, lambda: _load(text, machine="other"))
    assert message == f"snapshot belongs to machine {'m' * 100!r}, not 'other'"
    message = _refusal(
        SnapshotMachineError, lambda: _load(text, machine=long_machine, accepted_hashes=())
    )
    assert message == f"snapshot machine definition {HASH[:16]!r}... is not accepted"
    message = _refusal(
        SnapshotExpiredError, lambda: _load(text, machine=long_machine, now=1_800_000_600.0)
    )
    assert message == f"flow {'f' * 100!r} expired at 1800000600.0"
    assert _load(text, machine=long_machine, now=1_800_000_599.5) == env


# -------------------------------------------------------------------------- migrations


def _to_v2(env: dict[str, Any]) -> dict[str, Any]:
    """A fake migration 1 -> 2 that only bumps the schema."""
    return dict(env, schema=2)


def test_an_older_schema_is_migrated_with_its_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """A schema-1 snapshot loads through a registered migration, secrets restored before it runs."""
    monkeypatch.setattr(snapshot, "CURRENT_SCHEMA", 2)
    seen: list[dict[str, Any]] = []

    def upgrade(env: dict[str, Any]) -> dict[str, Any]:
        seen.append(env)
        return _to_v2(env)

    env = _envelope()
    text = _forge_env(
        dict(env, context={"connection": "sms"}, history=[{"seq": 1, "context": {}}, {"seq": 2}]),
        {"s": ["+1555"], "c": {"phone_number": 0}, "h": [{"email": 0}, {}]},
    )
    back = _load(text, migrations={1: upgrade})
    assert seen[0]["context"]["phone_number"] == "+1555" and seen[0]["schema"] == 1
    assert back["schema"] == 2 and back["history"][0]["context"] == {"email": "+1555"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"context": []}, "envelope.context is not an object"),
        ({"context": None}, "envelope.context is not an object"),
        ({"history": {}}, "envelope.history is not an array"),
        ({"history": [{}, 3]}, "envelope.history[1] is not an object"),
        ({"history": [{}, {"context": [1]}]}, "envelope.history[1].context is not an object"),
    ],
)
def test_an_older_schema_needs_the_layout_the_secrets_use(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, Any], message: str
) -> None:
    """Before its migrations run, an older envelope must still have object contexts in an array."""
    monkeypatch.setattr(snapshot, "CURRENT_SCHEMA", 2)
    env = dict(_envelope(), **change)
    # Secrets for the context and the second entry: without the layout check they would be
    # refused later, for another reason.
    text = _forge_env(env, {"s": ["x"], "c": {"email": 0}, "h": [{}, {"email": 0}]})
    message_seen = _refusal(SnapshotMalformedError, lambda: _load(text, migrations={1: _to_v2}))
    assert message_seen == message


def test_a_current_envelope_is_validated_before_its_payload_is_read() -> None:
    """A current-schema envelope of the wrong shape is refused for it, whatever its payload."""
    env = json.dumps(_envelope(seq=-1), separators=(",", ":"))
    for payload in (
        b"not json",
        b'{"s":[],"c":{},"h":[]}',
        b'{"s":[],"c":{"email":0},"h":[{},{}]}',
    ):
        message = _refusal(SnapshotMalformedError, lambda p=payload: _load(_forge(env, p)))
        assert message == SEQ


def test_check_layout_refuses_a_non_object() -> None:
    """``_check_layout`` refuses anything but an object as an envelope."""
    message = _refusal(SnapshotMalformedError, lambda: snapshot._check_layout([]))
    assert message == "the envelope is not an object"


def test_missing_migrations_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first schema without a migration on the path is named."""
    monkeypatch.setattr(snapshot, "CURRENT_SCHEMA", 3)
    text = _forge_env(_envelope(history=[]))
    assert _refusal(SnapshotVersionError, lambda: _load(text, migrations={})) == (
        "no migration from snapshot schema 1"
    )
    assert _refusal(SnapshotVersionError, lambda: _load(text, migrations={1: _to_v2})) == (
        "no migration from snapshot schema 2"
    )


def test_migration_failures_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """A migration that raises or does not reach the next schema is named in the error."""
    monkeypatch.setattr(snapshot, "CURRENT_SCHEMA", 2)
    text = _forge_env(_envelope(history=[]))

    def broken(env: dict[str, Any]) -> dict[str, Any]:
        raise LookupError("detail " + _b64(KEY_1))

    message = _refusal(SnapshotVersionError, lambda: _load(text, migrations={1: broken}))
    assert message == "migration from schema 1 failed (LookupError)"
    for result in ([], {"schema": 1}, {"schema": 3}, {"schema": "2"}):
        message = _refusal(
            SnapshotVersionError, lambda r=result: _load(text, migrations={1: lambda env: r})
        )
        assert message == "migration from schema 1 did not reach 2"


def test_a_migration_may_raise_its_own_snapshot_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A SnapshotError raised by a migration reaches the caller as it is."""
    monkeypatch.setattr(snapshot, "CURRENT_SCHEMA", 2)
    text = _forge_env(_envelope(history=[]))
    own = SnapshotMachineError("this flow cannot be upgraded")

    def refuse(env: dict[str, Any]) -> dict[str, Any]:
        raise own

    with pytest.raises(SnapshotMachineError) as caught:
        _load(text, migrations={1: refuse})
    assert caught.value is own


def test_a_migrated_envelope_is_validated_in_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a migration returns must have the current shape."""
    monkeypatch.setattr(snapshot, "CURRENT_SCHEMA", 2)
    text = _forge_env(_envelope(history=[]))
    message = _refusal(
        SnapshotMalformedError,
        lambda: _load(text, migrations={1: lambda env: dict(env, schema=2, seq=-1)}),
    )
    assert message == "envelope.seq is not a non-negative integer"


def test_two_migrations_run_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """A schema-1 snapshot passes through 1 -> 2 and 2 -> 3, each seeing the previous result."""
    monkeypatch.setattr(snapshot, "CURRENT_SCHEMA", 3)
    text = _forge_env(_envelope(history=[]))
    steps: list[int] = []

    def step(env: dict[str, Any]) -> dict[str, Any]:
        steps.append(env["schema"])
        return dict(env, schema=env["schema"] + 1)

    assert _load(text, migrations={1: step, 2: step})["schema"] == 3
    assert steps == [1, 2]
