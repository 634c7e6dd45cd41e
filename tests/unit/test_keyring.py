"""Keyring refuses keys that look configured but protect nothing, and ids that collide.

An all-zero (or any one-byte-repeated) key is a placeholder; one key under two ids makes
retiring an id meaningless; a rotation onto an id already in the ring silently replaces the
key its snapshots were sealed with. Generated ids are random, so two hosts that each made a
key never share an id: a foreign snapshot reads as "no key with that id", not as tampering.
"""

from __future__ import annotations

import base64
import re

import pytest

from flowengine import dump_flow, load_flow
from flowengine._errors import ConfigurationError, SnapshotKeyError, SnapshotTamperedError
from flowengine._flow import Flow
from flowengine._snapshot import KEY_SIZE, Keyring

KEY_1 = bytes(range(32))
KEY_2 = bytes(range(32, 64))


def _b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


@pytest.mark.parametrize("byte", [0x00, 0x01, 0xFF, ord("k")])
def test_a_key_of_one_repeated_byte_is_refused(byte: int) -> None:
    """``bytes(32)`` and its kin are placeholders, refused with the kid named, not the key."""
    key = bytes([byte]) * KEY_SIZE
    for make in (
        lambda: Keyring([("k1", key)]),
        lambda: Keyring.from_env_value(f"k1:{_b64(key)}"),
        lambda: Keyring([("k1", KEY_1)]).rotated("k2", key),
    ):
        with pytest.raises(ConfigurationError) as caught:
            make()
        assert "'k" in str(caught.value) and _b64(key) not in str(caught.value)


def test_the_same_key_under_two_ids_is_refused() -> None:
    """One key, one id: the same bytes under a second id are refused, in any order."""
    for pairs in ([("k1", KEY_1), ("k2", KEY_1)], [("k2", KEY_2), ("k1", KEY_1), ("k0", KEY_2)]):
        with pytest.raises(ConfigurationError) as caught:
            Keyring(pairs)
        assert "same key" in str(caught.value)
    with pytest.raises(ConfigurationError):
        Keyring.from_env_value(f"k2:{_b64(KEY_1)},k1:{_b64(KEY_1)}")
    with pytest.raises(ConfigurationError):
        Keyring([("k1", KEY_1)]).rotated("k2", KEY_1)


def test_rotation_onto_an_id_in_the_ring_is_refused() -> None:
    """``rotated`` onto the current id, or an older one, would replace a live key: refused."""
    ring = Keyring([("k2", KEY_2), ("k1", KEY_1)])
    for kid in ("k2", "k1"):
        with pytest.raises(ConfigurationError) as caught:
            ring.rotated(kid)
        assert "already in the keyring" in str(caught.value)
    assert ring.kids == ("k2", "k1")


def test_rotation_without_an_id_picks_a_random_new_one() -> None:
    """``rotated()`` seals with a fresh random id and keeps every old key for reading."""
    ring = Keyring([("k1", KEY_1)])
    new = ring.rotated()
    assert re.fullmatch(r"k_[0-9a-f]{8}", new.primary_kid)
    assert new.kids[1:] == ("k1",)


def test_generated_key_ids_are_random() -> None:
    """``generate()`` ids are ``k_`` and 8 random hex digits, different each time."""
    kids = {Keyring.generate().primary_kid for _ in range(50)}
    assert len(kids) == 50
    assert all(re.fullmatch(r"k_[0-9a-f]{8}", kid) for kid in kids)


def test_a_foreign_generated_key_reads_as_no_such_key() -> None:
    """A snapshot sealed by another host's generated key is a SnapshotKeyError (not tampered)."""
    flow = Flow.new("fl_foreign", 1_800_000_000.0)
    text = dump_flow(flow, Keyring.generate())
    with pytest.raises(SnapshotKeyError):
        load_flow(text, Keyring.generate(), now=1_800_000_001.0)


@pytest.mark.parametrize("kid", ["2026.12", "a.b.c", ".", "k1."])
def test_a_sealed_text_under_a_dotted_key_id_opens(kid: str) -> None:
    """A key id may hold dots: what seal wrote under it opens again, and only with its aad."""
    ring = Keyring([(kid, KEY_1), ("k2", KEY_2)])
    sealed = ring.seal(b"journal entry", b"aad")
    assert sealed.startswith(kid + ".")
    assert ring.open_sealed(sealed, b"aad") == b"journal entry"
    with pytest.raises(SnapshotTamperedError):
        ring.open_sealed(sealed, b"other aad")
    with pytest.raises(SnapshotKeyError):
        Keyring([("k2", KEY_2)]).open_sealed(sealed, b"aad")
