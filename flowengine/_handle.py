"""Resume handles: the capability that lets the owner of a flow, and only them, take its next step.

Theory of operation
-------------------
A flow id is a name, not a secret: it is logged, listed and shown. What resumes a
flow is its *handle*, an opaque string the application keeps where the user's
session is (an HttpOnly cookie, a server-side session)::

    fh1_<base64url( kid | flow id | seq | binding secret | tag )>

* the **binding secret** is 32 random bytes drawn when the flow is stored; the
  flow keeps only ``SHA-256(secret, application binding)`` in a sealed context
  field, so neither the store nor a stolen snapshot gives it back;
* **seq** is the revision the holder last saw. The repository refuses a handle
  older than the stored flow (``StaleHandleError``: a double submit or a second
  tab) and a stored row older than the handle (``SnapshotReplayError``: someone
  wrote an earlier row back into the store). The handle is the high-water mark
  the store cannot forge;
* the **tag** is HMAC-SHA-256 (truncated to 128 bits) over everything before it,
  keyed with a subkey of the snapshot keyring (``kid`` names the key), so the
  seq cannot be raised and a handle cannot be made for another flow.

Every step returns the next handle; the previous one then resumes nothing.
A handle is a bearer secret: it never appears in a log, an exception message or a
repr (``Handle`` keeps it out of both).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

import attrs

from flowengine._errors import InvalidHandleError
from flowengine._snapshot import Keyring

__all__ = ["Handle", "binding_hash", "flow_ref", "new_secret"]

_PREFIX = "fh1_"
_SECRET_SIZE = 32
_TAG_SIZE = 16
_PURPOSE = b"flowengine resume handle v1"
#: Longest handle text accepted (a 128-character flow id and a 32-character key id fit).
MAX_HANDLE_CHARS = 512


def flow_ref(flow_id: str) -> str:
    """A short, non-reversible reference to a flow for logs and metrics (never the handle)."""
    return "fr_" + hashlib.sha256(b"flowengine flow ref\0" + flow_id.encode()).hexdigest()[:16]


def new_secret() -> bytes:
    """A fresh binding secret (256 random bits)."""
    return os.urandom(_SECRET_SIZE)


def binding_hash(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"flowengine binding v1\0")
    h.update(secret)
    h.update(b"\0")
    h.update((binding or "").encode("utf-8", "surrogatepass"))
    return h.hexdigest()


@attrs.frozen(repr=False)
class Handle:
    """A parsed handle: which flow, at which revision, with which binding secret."""

    flow_id: str
    seq: int
    secret: bytes

    def __repr__(self) -> str:
        return f"Handle(flow_id={self.flow_id!r}, seq={self.seq}, secret=<redacted>)"

    def matches(self, stored_hash: str | None, binding: str | None) -> bool:
        """True when this handle's secret (and ``binding``) are the ones the flow was bound to."""
        if not stored_hash:
            return False
        return hmac.compare_digest(binding_hash(self.secret, binding), stored_hash)

    def encode(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS or not text.isascii():
            raise InvalidHandleError("not a flow handle")
        raw = text[len(_PREFIX) :]
        try:
            blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        except (binascii.Error, ValueError):
            raise InvalidHandleError("not a flow handle") from None
        if base64.urlsafe_b64encode(blob).decode("ascii").rstrip("=") != raw:
            raise InvalidHandleError("not a flow handle")  # one spelling per handle
        body, tag = blob[:-_TAG_SIZE], blob[-_TAG_SIZE:]
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)


def _pack(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def _unpack(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def _tag(keyring: Keyring, kid: str, body: bytes) -> bytes:
    key = keyring.subkey(kid, _PURPOSE)
    return hmac.new(key, _PREFIX.encode() + body, hashlib.sha256).digest()[:_TAG_SIZE]
