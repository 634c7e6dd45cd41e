"""The handle format, byte for byte: handles issued by this version must decode in the next."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

import pytest

from flowengine import InvalidHandleError, Keyring
from flowengine._handle import Handle, _pack, _unpack, binding_hash, flow_ref

KEYRING = Keyring([("k1", bytes(range(32)))])
SECRET = bytes(range(100, 132))
#: A handle issued by flowengine 0.x for flow "flow-1" at seq 7 (the wire format of v1).
GOLDEN = "".join(
    [
        "fh1_AmsxAAZmbG93LTEAAAAAAAAAB2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn-",
        "AgYKDG9Jxpho-KxkO6xzwRthlcA",
    ]
)


def _independent_encoding(kid: str, flow_id: str, seq: int, secret: bytes) -> str:
    """The documented layout, written out again without the module's helpers."""
    body = (
        bytes([len(kid)])
        + kid.encode()
        + len(flow_id.encode()).to_bytes(2, "big")
        + flow_id.encode()
        + seq.to_bytes(8, "big")
        + secret
    )
    key = KEYRING.subkey(kid, b"flowengine resume handle v1")
    tag = hmac.new(key, b"fh1_" + body, hashlib.sha256).digest()[:16]
    return "fh1_" + base64.urlsafe_b64encode(body + tag).decode().rstrip("=")


def _forge(body: bytes) -> str:
    """A correctly tagged handle around an arbitrary body."""
    key = KEYRING.subkey("k1", b"flowengine resume handle v1")
    tag = hmac.new(key, b"fh1_" + body, hashlib.sha256).digest()[:16]
    return "fh1_" + base64.urlsafe_b64encode(body + tag).decode().rstrip("=")


def test_encoding_matches_the_documented_layout() -> None:
    """A handle is kid, flow id, seq and secret, tagged with the keyring's handle subkey."""
    handle = Handle("flow-1", 7, SECRET)
    assert handle.encode(KEYRING) == _independent_encoding("k1", "flow-1", 7, SECRET)
    assert handle.encode(KEYRING) == GOLDEN


def test_golden_handle_decodes() -> None:
    """The golden handle decodes to its flow, seq and secret."""
    assert Handle.decode(GOLDEN, KEYRING) == Handle("flow-1", 7, SECRET)


@pytest.mark.parametrize("seq", [0, 1, 2**31, 2**63 - 1, 2**64 - 1])
def test_every_seq_round_trips(seq: int) -> None:
    """Sequence numbers up to 64 bits survive encoding."""
    handle = Handle("f", seq, SECRET)
    assert Handle.decode(handle.encode(KEYRING), KEYRING).seq == seq


def test_long_non_ascii_flow_id_round_trips() -> None:
    """A flow id of 128 characters, some of them non-ASCII, survives encoding."""
    flow_id = "é" * 64 + "x" * 64
    handle = Handle(flow_id, 3, SECRET)
    assert Handle.decode(handle.encode(KEYRING), KEYRING).flow_id == flow_id


def test_binding_hash_is_the_documented_digest() -> None:
    """The flow keeps SHA-256 over a domain label, the secret, a separator and the binding."""
    expected = hashlib.sha256(
        b"flowengine binding v1\0" + SECRET + b"\0" + b"session-9"
    ).hexdigest()
    assert binding_hash(SECRET, "session-9") == expected
    assert (
        binding_hash(SECRET, None)
        == hashlib.sha256(b"flowengine binding v1\0" + SECRET + b"\0").hexdigest()
    )


def test_binding_with_a_lone_surrogate_is_hashed_not_raised() -> None:
    """A binding holding a lone surrogate (from a badly decoded header) still hashes."""
    value = binding_hash(SECRET, "\ud800x")
    assert (
        value
        == hashlib.sha256(
            b"flowengine binding v1\0" + SECRET + b"\0" + "\ud800x".encode("utf-8", "surrogatepass")
        ).hexdigest()
    )


def test_none_and_empty_binding_differ_from_any_text() -> None:
    """No binding hashes like the empty binding, and unlike every non-empty one."""
    assert binding_hash(SECRET, None) == binding_hash(SECRET, "")
    assert binding_hash(SECRET, None) != binding_hash(SECRET, "XXXX")


@pytest.mark.parametrize("stored", [None, ""])
def test_a_flow_without_a_binding_hash_matches_no_handle(stored: str | None) -> None:
    """A flow that stores no binding hash is bound to nobody: no handle matches it."""
    assert Handle("f", 1, SECRET).matches(stored, None) is False


def test_matches_only_the_right_secret_and_binding() -> None:
    """A handle matches the hash of its own secret and binding, nothing else."""
    stored = binding_hash(SECRET, "s")
    assert Handle("f", 1, SECRET).matches(stored, "s") is True
    assert Handle("f", 1, SECRET).matches(stored, "t") is False
    assert Handle("f", 1, bytes(32)).matches(stored, "s") is False


def test_flow_ref_is_the_documented_digest() -> None:
    """A flow reference is "fr_" and 16 hex digits of a labelled SHA-256 of the flow id."""
    digest = hashlib.sha256(b"flowengine flow ref\0" + b"flow-1").hexdigest()[:16]
    assert flow_ref("flow-1") == "fr_" + digest == "fr_871345650b354734"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("flow-1", "not a flow handle (a bare flow id resumes nothing)"),
        (12, "not a flow handle (a bare flow id resumes nothing)"),
        ("fh1_" + "A" * 600, "not a flow handle"),
        ("fh1_é", "not a flow handle"),
        ("fh1_A", "not a flow handle"),
        (GOLDEN + "A", "not a flow handle"),
        (
            GOLDEN[:-5] + ("B" if GOLDEN[-5] != "B" else "C") + GOLDEN[-4:],
            "the handle failed authentication",
        ),
    ],
)
def test_malformed_handles_get_their_exact_message(text: object, message: str) -> None:
    """Each way a handle can be malformed is refused with its own message."""
    with pytest.raises(InvalidHandleError) as caught:
        Handle.decode(text, KEYRING)
    assert str(caught.value) == "handle: " + message


def test_handle_of_512_characters_is_parsed_and_513_refused_before_parsing() -> None:
    """The length limit is inclusive: 512 characters are judged on content, 513 refused outright."""
    for length, message in ((512, "not a flow handle"), (513, "not a flow handle")):
        with pytest.raises(InvalidHandleError) as caught:
            Handle.decode("fh1_" + "A" * (length - 4), KEYRING)
        assert str(caught.value) == "handle: " + message


def test_handle_under_an_unknown_key_id_says_so() -> None:
    """A handle tagged under a key id the keyring lacks is refused as such."""
    other = Keyring([("k9", bytes(range(1, 33)))])
    text = Handle("flow-1", 7, SECRET).encode(other)
    with pytest.raises(InvalidHandleError) as caught:
        Handle.decode(text, KEYRING)
    assert str(caught.value) == "handle: the handle names no configured key"


@pytest.mark.parametrize(
    "body",
    [
        # no key id, a flow id and a full secret
        struct.pack(">B", 0) + struct.pack(">H", 1) + b"f" + struct.pack(">Q", 1) + SECRET,
        # a key id, no flow id
        struct.pack(">B", 2) + b"k1" + struct.pack(">H", 0) + struct.pack(">Q", 1) + SECRET,
        # a secret one byte short
        struct.pack(">B", 2)
        + b"k1"
        + struct.pack(">H", 1)
        + b"f"
        + struct.pack(">Q", 1)
        + SECRET[1:],
        # a body that ends inside the seq
        struct.pack(">B", 2) + b"k1" + struct.pack(">H", 1) + b"f" + b"\0\0",
        # a flow id that is not UTF-8
        struct.pack(">B", 2)
        + b"k1"
        + struct.pack(">H", 1)
        + b"\xff"
        + struct.pack(">Q", 1)
        + SECRET,
    ],
)
def test_tagged_but_malformed_bodies_are_not_handles(body: bytes) -> None:
    """A body with a valid tag but a missing part is still not a handle."""
    with pytest.raises(InvalidHandleError) as caught:
        Handle.decode(_forge(body), KEYRING)
    assert str(caught.value) == "handle: not a flow handle"


def test_handle_repr_hides_the_secret() -> None:
    """The repr names the flow and seq and never the secret."""
    text = repr(Handle("flow-1", 7, SECRET))
    assert text == "Handle(flow_id='flow-1', seq=7, secret=<redacted>)"


def test_handle_of_exactly_512_characters_decodes() -> None:
    """The longest accepted handle (512 characters) decodes; one a byte longer is refused."""
    longest = Handle("x" * 320, 1, SECRET).encode(KEYRING)
    assert len(longest) == 512
    assert Handle.decode(longest, KEYRING).flow_id == "x" * 320
    too_long = Handle("x" * 321, 1, SECRET).encode(KEYRING)
    with pytest.raises(InvalidHandleError):
        Handle.decode(too_long, KEYRING)


def test_handle_spelled_with_a_trailing_x_round_trips() -> None:
    """Stripping base64 padding removes only "=": a handle ending in "X" still decodes."""
    text = Handle("flow5", 100, SECRET).encode(KEYRING)
    assert text.endswith("X")
    assert Handle.decode(text, KEYRING) == Handle("flow5", 100, SECRET)


def test_second_spelling_of_a_handle_is_refused() -> None:
    """Base64 admits two spellings of some texts; only the canonical one is a handle."""
    assert GOLDEN.endswith("A")  # the last character carries four zero padding bits
    with pytest.raises(InvalidHandleError) as caught:
        Handle.decode(GOLDEN[:-1] + "B", KEYRING)
    assert str(caught.value) == "handle: not a flow handle"


def test_length_fields_are_unsigned() -> None:
    """Key id lengths up to 255 and flow id lengths up to 65,535 bytes read as such."""
    body = bytes([0x80]) + b"a" * 128 + struct.pack(">H", 1) + b"f" + struct.pack(">Q", 1) + SECRET
    assert _unpack(body) == ("a" * 128, "f", 1, SECRET)
    flow_id = "y" * 40_000
    packed = _pack("k1", flow_id, 1, SECRET)
    assert packed[3:5] == (40_000).to_bytes(2, "big")
    assert _unpack(packed) == ("k1", flow_id, 1, SECRET)


def test_subkeys_are_derived_per_key_and_purpose_and_kept() -> None:
    """A subkey is HMAC-SHA-256(key, purpose) of the named key, per kid and purpose, every call."""
    ring = Keyring([("k2", bytes(range(1, 33))), ("k1", bytes(range(32)))])
    purpose = b"flowengine resume handle v1"
    for kid, raw in (("k2", bytes(range(1, 33))), ("k1", bytes(range(32)))):
        expected = hmac.new(raw, purpose, hashlib.sha256).digest()
        assert ring.subkey(kid, purpose) == expected
        assert ring.subkey(kid, purpose) == expected  # the kept one is the same key
        assert ring.subkey(kid, b"another purpose") != expected
    with pytest.raises(KeyError):
        ring.subkey("k3", purpose)
