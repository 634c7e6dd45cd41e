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


from mutmut.mutation.trampoline import wrap_in_trampoline as _mutmut_mutated, MutantDict
mutants_x_flow_ref__mutmut: MutantDict = {}  # type: ignore


@_mutmut_mutated(mutants_x_flow_ref__mutmut)
def flow_ref(flow_id: str) -> str:
    """A short, non-reversible reference to a flow for logs and metrics (never the handle)."""
    return "fr_" + hashlib.sha256(b"flowengine flow ref\0" + flow_id.encode()).hexdigest()[:16]


def x_flow_ref__mutmut_orig(flow_id: str) -> str:
    """A short, non-reversible reference to a flow for logs and metrics (never the handle)."""
    return "fr_" + hashlib.sha256(b"flowengine flow ref\0" + flow_id.encode()).hexdigest()[:16]


def x_flow_ref__mutmut_1(flow_id: str) -> str:
    """A short, non-reversible reference to a flow for logs and metrics (never the handle)."""
    return "fr_" - hashlib.sha256(b"flowengine flow ref\0" + flow_id.encode()).hexdigest()[:16]


def x_flow_ref__mutmut_2(flow_id: str) -> str:
    """A short, non-reversible reference to a flow for logs and metrics (never the handle)."""
    return "XXfr_XX" + hashlib.sha256(b"flowengine flow ref\0" + flow_id.encode()).hexdigest()[:16]


def x_flow_ref__mutmut_3(flow_id: str) -> str:
    """A short, non-reversible reference to a flow for logs and metrics (never the handle)."""
    return "FR_" + hashlib.sha256(b"flowengine flow ref\0" + flow_id.encode()).hexdigest()[:16]


def x_flow_ref__mutmut_4(flow_id: str) -> str:
    """A short, non-reversible reference to a flow for logs and metrics (never the handle)."""
    return "fr_" + hashlib.sha256(None).hexdigest()[:16]


def x_flow_ref__mutmut_5(flow_id: str) -> str:
    """A short, non-reversible reference to a flow for logs and metrics (never the handle)."""
    return "fr_" + hashlib.sha256(b"flowengine flow ref\0" - flow_id.encode()).hexdigest()[:16]


def x_flow_ref__mutmut_6(flow_id: str) -> str:
    """A short, non-reversible reference to a flow for logs and metrics (never the handle)."""
    return "fr_" + hashlib.sha256(b"XXflowengine flow ref\0XX" + flow_id.encode()).hexdigest()[:16]


def x_flow_ref__mutmut_7(flow_id: str) -> str:
    """A short, non-reversible reference to a flow for logs and metrics (never the handle)."""
    return "fr_" + hashlib.sha256(b"FLOWENGINE FLOW REF\0" + flow_id.encode()).hexdigest()[:16]


def x_flow_ref__mutmut_8(flow_id: str) -> str:
    """A short, non-reversible reference to a flow for logs and metrics (never the handle)."""
    return "fr_" + hashlib.sha256(b"flowengine flow ref\0" + flow_id.encode()).hexdigest()[:17]

mutants_x_flow_ref__mutmut['_mutmut_orig'] = x_flow_ref__mutmut_orig # type: ignore # mutmut generated
mutants_x_flow_ref__mutmut['x_flow_ref__mutmut_1'] = x_flow_ref__mutmut_1 # type: ignore # mutmut generated
mutants_x_flow_ref__mutmut['x_flow_ref__mutmut_2'] = x_flow_ref__mutmut_2 # type: ignore # mutmut generated
mutants_x_flow_ref__mutmut['x_flow_ref__mutmut_3'] = x_flow_ref__mutmut_3 # type: ignore # mutmut generated
mutants_x_flow_ref__mutmut['x_flow_ref__mutmut_4'] = x_flow_ref__mutmut_4 # type: ignore # mutmut generated
mutants_x_flow_ref__mutmut['x_flow_ref__mutmut_5'] = x_flow_ref__mutmut_5 # type: ignore # mutmut generated
mutants_x_flow_ref__mutmut['x_flow_ref__mutmut_6'] = x_flow_ref__mutmut_6 # type: ignore # mutmut generated
mutants_x_flow_ref__mutmut['x_flow_ref__mutmut_7'] = x_flow_ref__mutmut_7 # type: ignore # mutmut generated
mutants_x_flow_ref__mutmut['x_flow_ref__mutmut_8'] = x_flow_ref__mutmut_8 # type: ignore # mutmut generated
mutants_x_new_secret__mutmut: MutantDict = {}  # type: ignore


@_mutmut_mutated(mutants_x_new_secret__mutmut)
def new_secret() -> bytes:
    """A fresh binding secret (256 random bits)."""
    return os.urandom(_SECRET_SIZE)


def x_new_secret__mutmut_orig() -> bytes:
    """A fresh binding secret (256 random bits)."""
    return os.urandom(_SECRET_SIZE)


def x_new_secret__mutmut_1() -> bytes:
    """A fresh binding secret (256 random bits)."""
    return os.urandom(None)

mutants_x_new_secret__mutmut['_mutmut_orig'] = x_new_secret__mutmut_orig # type: ignore # mutmut generated
mutants_x_new_secret__mutmut['x_new_secret__mutmut_1'] = x_new_secret__mutmut_1 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut: MutantDict = {}  # type: ignore


@_mutmut_mutated(mutants_x_binding_hash__mutmut)
def binding_hash(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"flowengine binding v1\0")
    h.update(secret)
    h.update(b"\0")
    h.update((binding or "").encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def x_binding_hash__mutmut_orig(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"flowengine binding v1\0")
    h.update(secret)
    h.update(b"\0")
    h.update((binding or "").encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def x_binding_hash__mutmut_1(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = None
    h.update(secret)
    h.update(b"\0")
    h.update((binding or "").encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def x_binding_hash__mutmut_2(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(None)
    h.update(secret)
    h.update(b"\0")
    h.update((binding or "").encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def x_binding_hash__mutmut_3(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"XXflowengine binding v1\0XX")
    h.update(secret)
    h.update(b"\0")
    h.update((binding or "").encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def x_binding_hash__mutmut_4(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"FLOWENGINE BINDING V1\0")
    h.update(secret)
    h.update(b"\0")
    h.update((binding or "").encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def x_binding_hash__mutmut_5(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"flowengine binding v1\0")
    h.update(None)
    h.update(b"\0")
    h.update((binding or "").encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def x_binding_hash__mutmut_6(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"flowengine binding v1\0")
    h.update(secret)
    h.update(None)
    h.update((binding or "").encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def x_binding_hash__mutmut_7(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"flowengine binding v1\0")
    h.update(secret)
    h.update(b"XX\0XX")
    h.update((binding or "").encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def x_binding_hash__mutmut_8(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"flowengine binding v1\0")
    h.update(secret)
    h.update(b"\0")
    h.update(None)
    return h.hexdigest()


def x_binding_hash__mutmut_9(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"flowengine binding v1\0")
    h.update(secret)
    h.update(b"\0")
    h.update((binding or "").encode(None, "surrogatepass"))
    return h.hexdigest()


def x_binding_hash__mutmut_10(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"flowengine binding v1\0")
    h.update(secret)
    h.update(b"\0")
    h.update((binding or "").encode("utf-8", None))
    return h.hexdigest()


def x_binding_hash__mutmut_11(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"flowengine binding v1\0")
    h.update(secret)
    h.update(b"\0")
    h.update((binding or "").encode("surrogatepass"))
    return h.hexdigest()


def x_binding_hash__mutmut_12(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"flowengine binding v1\0")
    h.update(secret)
    h.update(b"\0")
    h.update((binding or "").encode("utf-8", ))
    return h.hexdigest()


def x_binding_hash__mutmut_13(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"flowengine binding v1\0")
    h.update(secret)
    h.update(b"\0")
    h.update((binding and "").encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def x_binding_hash__mutmut_14(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"flowengine binding v1\0")
    h.update(secret)
    h.update(b"\0")
    h.update((binding or "XXXX").encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def x_binding_hash__mutmut_15(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"flowengine binding v1\0")
    h.update(secret)
    h.update(b"\0")
    h.update((binding or "").encode("XXutf-8XX", "surrogatepass"))
    return h.hexdigest()


def x_binding_hash__mutmut_16(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"flowengine binding v1\0")
    h.update(secret)
    h.update(b"\0")
    h.update((binding or "").encode("UTF-8", "surrogatepass"))
    return h.hexdigest()


def x_binding_hash__mutmut_17(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"flowengine binding v1\0")
    h.update(secret)
    h.update(b"\0")
    h.update((binding or "").encode("utf-8", "XXsurrogatepassXX"))
    return h.hexdigest()


def x_binding_hash__mutmut_18(secret: bytes, binding: str | None) -> str:
    """What the flow keeps of its binding secret and the application's own binding."""
    h = hashlib.sha256(b"flowengine binding v1\0")
    h.update(secret)
    h.update(b"\0")
    h.update((binding or "").encode("utf-8", "SURROGATEPASS"))
    return h.hexdigest()

mutants_x_binding_hash__mutmut['_mutmut_orig'] = x_binding_hash__mutmut_orig # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_1'] = x_binding_hash__mutmut_1 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_2'] = x_binding_hash__mutmut_2 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_3'] = x_binding_hash__mutmut_3 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_4'] = x_binding_hash__mutmut_4 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_5'] = x_binding_hash__mutmut_5 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_6'] = x_binding_hash__mutmut_6 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_7'] = x_binding_hash__mutmut_7 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_8'] = x_binding_hash__mutmut_8 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_9'] = x_binding_hash__mutmut_9 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_10'] = x_binding_hash__mutmut_10 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_11'] = x_binding_hash__mutmut_11 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_12'] = x_binding_hash__mutmut_12 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_13'] = x_binding_hash__mutmut_13 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_14'] = x_binding_hash__mutmut_14 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_15'] = x_binding_hash__mutmut_15 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_16'] = x_binding_hash__mutmut_16 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_17'] = x_binding_hash__mutmut_17 # type: ignore # mutmut generated
mutants_x_binding_hash__mutmut['x_binding_hash__mutmut_18'] = x_binding_hash__mutmut_18 # type: ignore # mutmut generated
mutants_xǁHandleǁmatches__mutmut: MutantDict = {}  # type: ignore
mutants_xǁHandleǁencode__mutmut: MutantDict = {}  # type: ignore
mutants_xǁHandleǁdecode__mutmut: MutantDict = {}  # type: ignore


@attrs.frozen(repr=False)
class Handle:
    """A parsed handle: which flow, at which revision, with which binding secret."""

    flow_id: str
    seq: int
    secret: bytes

    def __repr__(self) -> str:
        return f"Handle(flow_id={self.flow_id!r}, seq={self.seq}, secret=<redacted>)"

    @_mutmut_mutated(mutants_xǁHandleǁmatches__mutmut)
    def matches(self, stored_hash: str | None, binding: str | None) -> bool:
        """True when this handle's secret (and ``binding``) are the ones the flow was bound to."""
        if not stored_hash:
            return False
        return hmac.compare_digest(binding_hash(self.secret, binding), stored_hash)

    def xǁHandleǁmatches__mutmut_orig(self, stored_hash: str | None, binding: str | None) -> bool:
        """True when this handle's secret (and ``binding``) are the ones the flow was bound to."""
        if not stored_hash:
            return False
        return hmac.compare_digest(binding_hash(self.secret, binding), stored_hash)

    def xǁHandleǁmatches__mutmut_1(self, stored_hash: str | None, binding: str | None) -> bool:
        """True when this handle's secret (and ``binding``) are the ones the flow was bound to."""
        if stored_hash:
            return False
        return hmac.compare_digest(binding_hash(self.secret, binding), stored_hash)

    def xǁHandleǁmatches__mutmut_2(self, stored_hash: str | None, binding: str | None) -> bool:
        """True when this handle's secret (and ``binding``) are the ones the flow was bound to."""
        if not stored_hash:
            return True
        return hmac.compare_digest(binding_hash(self.secret, binding), stored_hash)

    def xǁHandleǁmatches__mutmut_3(self, stored_hash: str | None, binding: str | None) -> bool:
        """True when this handle's secret (and ``binding``) are the ones the flow was bound to."""
        if not stored_hash:
            return False
        return hmac.compare_digest(None, stored_hash)

    def xǁHandleǁmatches__mutmut_4(self, stored_hash: str | None, binding: str | None) -> bool:
        """True when this handle's secret (and ``binding``) are the ones the flow was bound to."""
        if not stored_hash:
            return False
        return hmac.compare_digest(binding_hash(self.secret, binding), None)

    def xǁHandleǁmatches__mutmut_5(self, stored_hash: str | None, binding: str | None) -> bool:
        """True when this handle's secret (and ``binding``) are the ones the flow was bound to."""
        if not stored_hash:
            return False
        return hmac.compare_digest(stored_hash)

    def xǁHandleǁmatches__mutmut_6(self, stored_hash: str | None, binding: str | None) -> bool:
        """True when this handle's secret (and ``binding``) are the ones the flow was bound to."""
        if not stored_hash:
            return False
        return hmac.compare_digest(binding_hash(self.secret, binding), )

    def xǁHandleǁmatches__mutmut_7(self, stored_hash: str | None, binding: str | None) -> bool:
        """True when this handle's secret (and ``binding``) are the ones the flow was bound to."""
        if not stored_hash:
            return False
        return hmac.compare_digest(binding_hash(None, binding), stored_hash)

    def xǁHandleǁmatches__mutmut_8(self, stored_hash: str | None, binding: str | None) -> bool:
        """True when this handle's secret (and ``binding``) are the ones the flow was bound to."""
        if not stored_hash:
            return False
        return hmac.compare_digest(binding_hash(self.secret, None), stored_hash)

    def xǁHandleǁmatches__mutmut_9(self, stored_hash: str | None, binding: str | None) -> bool:
        """True when this handle's secret (and ``binding``) are the ones the flow was bound to."""
        if not stored_hash:
            return False
        return hmac.compare_digest(binding_hash(binding), stored_hash)

    def xǁHandleǁmatches__mutmut_10(self, stored_hash: str | None, binding: str | None) -> bool:
        """True when this handle's secret (and ``binding``) are the ones the flow was bound to."""
        if not stored_hash:
            return False
        return hmac.compare_digest(binding_hash(self.secret, ), stored_hash)

    @_mutmut_mutated(mutants_xǁHandleǁencode__mutmut)
    def encode(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_orig(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_1(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = None
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_2(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = None
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_3(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(None, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_4(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, None, self.seq, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_5(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, None, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_6(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, None)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_7(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_8(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.seq, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_9(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_10(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, )
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_11(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = None
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_12(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(None, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_13(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, None, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_14(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, kid, None)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_15(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_16(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_17(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, kid, )
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_18(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX - base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_19(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip(None)

    def xǁHandleǁencode__mutmut_20(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").lstrip("=")

    def xǁHandleǁencode__mutmut_21(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode(None).rstrip("=")

    def xǁHandleǁencode__mutmut_22(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(None).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_23(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body - tag).decode("ascii").rstrip("=")

    def xǁHandleǁencode__mutmut_24(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("XXasciiXX").rstrip("=")

    def xǁHandleǁencode__mutmut_25(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ASCII").rstrip("=")

    def xǁHandleǁencode__mutmut_26(self, keyring: Keyring) -> str:
        """The handle as text, tagged with the keyring's primary key."""
        kid = keyring.primary_kid
        body = _pack(kid, self.flow_id, self.seq, self.secret)
        tag = _tag(keyring, kid, body)
        return _PREFIX + base64.urlsafe_b64encode(body + tag).decode("ascii").rstrip("XX=XX")

    @classmethod
    @_mutmut_mutated(mutants_xǁHandleǁdecode__mutmut, is_classmethod = True)
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

    @classmethod
    def xǁHandleǁdecode__mutmut_orig(cls, text: object, keyring: Keyring) -> Handle:
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

    @classmethod
    def xǁHandleǁdecode__mutmut_1(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) and not text.startswith(_PREFIX):
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

    @classmethod
    def xǁHandleǁdecode__mutmut_2(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if isinstance(text, str) or not text.startswith(_PREFIX):
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

    @classmethod
    def xǁHandleǁdecode__mutmut_3(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or text.startswith(_PREFIX):
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

    @classmethod
    def xǁHandleǁdecode__mutmut_4(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(None):
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

    @classmethod
    def xǁHandleǁdecode__mutmut_5(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError(None)
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

    @classmethod
    def xǁHandleǁdecode__mutmut_6(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("XXnot a flow handle (a bare flow id resumes nothing)XX")
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

    @classmethod
    def xǁHandleǁdecode__mutmut_7(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("NOT A FLOW HANDLE (A BARE FLOW ID RESUMES NOTHING)")
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

    @classmethod
    def xǁHandleǁdecode__mutmut_8(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS and not text.isascii():
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

    @classmethod
    def xǁHandleǁdecode__mutmut_9(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) >= MAX_HANDLE_CHARS or not text.isascii():
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

    @classmethod
    def xǁHandleǁdecode__mutmut_10(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS or text.isascii():
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

    @classmethod
    def xǁHandleǁdecode__mutmut_11(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS or not text.isascii():
            raise InvalidHandleError(None)
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

    @classmethod
    def xǁHandleǁdecode__mutmut_12(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS or not text.isascii():
            raise InvalidHandleError("XXnot a flow handleXX")
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

    @classmethod
    def xǁHandleǁdecode__mutmut_13(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS or not text.isascii():
            raise InvalidHandleError("NOT A FLOW HANDLE")
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

    @classmethod
    def xǁHandleǁdecode__mutmut_14(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS or not text.isascii():
            raise InvalidHandleError("not a flow handle")
        raw = None
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

    @classmethod
    def xǁHandleǁdecode__mutmut_15(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS or not text.isascii():
            raise InvalidHandleError("not a flow handle")
        raw = text[len(_PREFIX) :]
        try:
            blob = None
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

    @classmethod
    def xǁHandleǁdecode__mutmut_16(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS or not text.isascii():
            raise InvalidHandleError("not a flow handle")
        raw = text[len(_PREFIX) :]
        try:
            blob = base64.urlsafe_b64decode(None)
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

    @classmethod
    def xǁHandleǁdecode__mutmut_17(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS or not text.isascii():
            raise InvalidHandleError("not a flow handle")
        raw = text[len(_PREFIX) :]
        try:
            blob = base64.urlsafe_b64decode(raw - "=" * (-len(raw) % 4))
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

    @classmethod
    def xǁHandleǁdecode__mutmut_18(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS or not text.isascii():
            raise InvalidHandleError("not a flow handle")
        raw = text[len(_PREFIX) :]
        try:
            blob = base64.urlsafe_b64decode(raw + "=" / (-len(raw) % 4))
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

    @classmethod
    def xǁHandleǁdecode__mutmut_19(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS or not text.isascii():
            raise InvalidHandleError("not a flow handle")
        raw = text[len(_PREFIX) :]
        try:
            blob = base64.urlsafe_b64decode(raw + "XX=XX" * (-len(raw) % 4))
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

    @classmethod
    def xǁHandleǁdecode__mutmut_20(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS or not text.isascii():
            raise InvalidHandleError("not a flow handle")
        raw = text[len(_PREFIX) :]
        try:
            blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) / 4))
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

    @classmethod
    def xǁHandleǁdecode__mutmut_21(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS or not text.isascii():
            raise InvalidHandleError("not a flow handle")
        raw = text[len(_PREFIX) :]
        try:
            blob = base64.urlsafe_b64decode(raw + "=" * (+len(raw) % 4))
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

    @classmethod
    def xǁHandleǁdecode__mutmut_22(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS or not text.isascii():
            raise InvalidHandleError("not a flow handle")
        raw = text[len(_PREFIX) :]
        try:
            blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 5))
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

    @classmethod
    def xǁHandleǁdecode__mutmut_23(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS or not text.isascii():
            raise InvalidHandleError("not a flow handle")
        raw = text[len(_PREFIX) :]
        try:
            blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        except (binascii.Error, ValueError):
            raise InvalidHandleError(None) from None
        if base64.urlsafe_b64encode(blob).decode("ascii").rstrip("=") != raw:
            raise InvalidHandleError("not a flow handle")  # one spelling per handle
        body, tag = blob[:-_TAG_SIZE], blob[-_TAG_SIZE:]
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_24(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS or not text.isascii():
            raise InvalidHandleError("not a flow handle")
        raw = text[len(_PREFIX) :]
        try:
            blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        except (binascii.Error, ValueError):
            raise InvalidHandleError("XXnot a flow handleXX") from None
        if base64.urlsafe_b64encode(blob).decode("ascii").rstrip("=") != raw:
            raise InvalidHandleError("not a flow handle")  # one spelling per handle
        body, tag = blob[:-_TAG_SIZE], blob[-_TAG_SIZE:]
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_25(cls, text: object, keyring: Keyring) -> Handle:
        """Parse and authenticate ``text``; anything else raises ``InvalidHandleError``."""
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise InvalidHandleError("not a flow handle (a bare flow id resumes nothing)")
        if len(text) > MAX_HANDLE_CHARS or not text.isascii():
            raise InvalidHandleError("not a flow handle")
        raw = text[len(_PREFIX) :]
        try:
            blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        except (binascii.Error, ValueError):
            raise InvalidHandleError("NOT A FLOW HANDLE") from None
        if base64.urlsafe_b64encode(blob).decode("ascii").rstrip("=") != raw:
            raise InvalidHandleError("not a flow handle")  # one spelling per handle
        body, tag = blob[:-_TAG_SIZE], blob[-_TAG_SIZE:]
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_26(cls, text: object, keyring: Keyring) -> Handle:
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
        if base64.urlsafe_b64encode(blob).decode("ascii").rstrip(None) != raw:
            raise InvalidHandleError("not a flow handle")  # one spelling per handle
        body, tag = blob[:-_TAG_SIZE], blob[-_TAG_SIZE:]
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_27(cls, text: object, keyring: Keyring) -> Handle:
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
        if base64.urlsafe_b64encode(blob).decode("ascii").lstrip("=") != raw:
            raise InvalidHandleError("not a flow handle")  # one spelling per handle
        body, tag = blob[:-_TAG_SIZE], blob[-_TAG_SIZE:]
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_28(cls, text: object, keyring: Keyring) -> Handle:
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
        if base64.urlsafe_b64encode(blob).decode(None).rstrip("=") != raw:
            raise InvalidHandleError("not a flow handle")  # one spelling per handle
        body, tag = blob[:-_TAG_SIZE], blob[-_TAG_SIZE:]
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_29(cls, text: object, keyring: Keyring) -> Handle:
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
        if base64.urlsafe_b64encode(None).decode("ascii").rstrip("=") != raw:
            raise InvalidHandleError("not a flow handle")  # one spelling per handle
        body, tag = blob[:-_TAG_SIZE], blob[-_TAG_SIZE:]
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_30(cls, text: object, keyring: Keyring) -> Handle:
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
        if base64.urlsafe_b64encode(blob).decode("XXasciiXX").rstrip("=") != raw:
            raise InvalidHandleError("not a flow handle")  # one spelling per handle
        body, tag = blob[:-_TAG_SIZE], blob[-_TAG_SIZE:]
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_31(cls, text: object, keyring: Keyring) -> Handle:
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
        if base64.urlsafe_b64encode(blob).decode("ASCII").rstrip("=") != raw:
            raise InvalidHandleError("not a flow handle")  # one spelling per handle
        body, tag = blob[:-_TAG_SIZE], blob[-_TAG_SIZE:]
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_32(cls, text: object, keyring: Keyring) -> Handle:
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
        if base64.urlsafe_b64encode(blob).decode("ascii").rstrip("XX=XX") != raw:
            raise InvalidHandleError("not a flow handle")  # one spelling per handle
        body, tag = blob[:-_TAG_SIZE], blob[-_TAG_SIZE:]
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_33(cls, text: object, keyring: Keyring) -> Handle:
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
        if base64.urlsafe_b64encode(blob).decode("ascii").rstrip("=") == raw:
            raise InvalidHandleError("not a flow handle")  # one spelling per handle
        body, tag = blob[:-_TAG_SIZE], blob[-_TAG_SIZE:]
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_34(cls, text: object, keyring: Keyring) -> Handle:
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
            raise InvalidHandleError(None)  # one spelling per handle
        body, tag = blob[:-_TAG_SIZE], blob[-_TAG_SIZE:]
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_35(cls, text: object, keyring: Keyring) -> Handle:
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
            raise InvalidHandleError("XXnot a flow handleXX")  # one spelling per handle
        body, tag = blob[:-_TAG_SIZE], blob[-_TAG_SIZE:]
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_36(cls, text: object, keyring: Keyring) -> Handle:
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
            raise InvalidHandleError("NOT A FLOW HANDLE")  # one spelling per handle
        body, tag = blob[:-_TAG_SIZE], blob[-_TAG_SIZE:]
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_37(cls, text: object, keyring: Keyring) -> Handle:
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
        body, tag = None
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_38(cls, text: object, keyring: Keyring) -> Handle:
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
        body, tag = blob[:+_TAG_SIZE], blob[-_TAG_SIZE:]
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_39(cls, text: object, keyring: Keyring) -> Handle:
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
        body, tag = blob[:-_TAG_SIZE], blob[+_TAG_SIZE:]
        kid, flow_id, seq, secret = _unpack(body)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_40(cls, text: object, keyring: Keyring) -> Handle:
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
        kid, flow_id, seq, secret = None
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_41(cls, text: object, keyring: Keyring) -> Handle:
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
        kid, flow_id, seq, secret = _unpack(None)
        if kid not in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_42(cls, text: object, keyring: Keyring) -> Handle:
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
        if kid in keyring:
            raise InvalidHandleError("the handle names no configured key")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_43(cls, text: object, keyring: Keyring) -> Handle:
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
            raise InvalidHandleError(None)
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_44(cls, text: object, keyring: Keyring) -> Handle:
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
            raise InvalidHandleError("XXthe handle names no configured keyXX")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_45(cls, text: object, keyring: Keyring) -> Handle:
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
            raise InvalidHandleError("THE HANDLE NAMES NO CONFIGURED KEY")
        if not hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_46(cls, text: object, keyring: Keyring) -> Handle:
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
        if hmac.compare_digest(_tag(keyring, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_47(cls, text: object, keyring: Keyring) -> Handle:
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
        if not hmac.compare_digest(None, tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_48(cls, text: object, keyring: Keyring) -> Handle:
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
        if not hmac.compare_digest(_tag(keyring, kid, body), None):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_49(cls, text: object, keyring: Keyring) -> Handle:
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
        if not hmac.compare_digest(tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_50(cls, text: object, keyring: Keyring) -> Handle:
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
        if not hmac.compare_digest(_tag(keyring, kid, body), ):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_51(cls, text: object, keyring: Keyring) -> Handle:
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
        if not hmac.compare_digest(_tag(None, kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_52(cls, text: object, keyring: Keyring) -> Handle:
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
        if not hmac.compare_digest(_tag(keyring, None, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_53(cls, text: object, keyring: Keyring) -> Handle:
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
        if not hmac.compare_digest(_tag(keyring, kid, None), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_54(cls, text: object, keyring: Keyring) -> Handle:
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
        if not hmac.compare_digest(_tag(kid, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_55(cls, text: object, keyring: Keyring) -> Handle:
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
        if not hmac.compare_digest(_tag(keyring, body), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_56(cls, text: object, keyring: Keyring) -> Handle:
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
        if not hmac.compare_digest(_tag(keyring, kid, ), tag):
            raise InvalidHandleError("the handle failed authentication")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_57(cls, text: object, keyring: Keyring) -> Handle:
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
            raise InvalidHandleError(None)
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_58(cls, text: object, keyring: Keyring) -> Handle:
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
            raise InvalidHandleError("XXthe handle failed authenticationXX")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_59(cls, text: object, keyring: Keyring) -> Handle:
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
            raise InvalidHandleError("THE HANDLE FAILED AUTHENTICATION")
        return cls(flow_id, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_60(cls, text: object, keyring: Keyring) -> Handle:
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
        return cls(None, seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_61(cls, text: object, keyring: Keyring) -> Handle:
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
        return cls(flow_id, None, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_62(cls, text: object, keyring: Keyring) -> Handle:
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
        return cls(flow_id, seq, None)

    @classmethod
    def xǁHandleǁdecode__mutmut_63(cls, text: object, keyring: Keyring) -> Handle:
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
        return cls(seq, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_64(cls, text: object, keyring: Keyring) -> Handle:
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
        return cls(flow_id, secret)

    @classmethod
    def xǁHandleǁdecode__mutmut_65(cls, text: object, keyring: Keyring) -> Handle:
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
        return cls(flow_id, seq, )

mutants_xǁHandleǁmatches__mutmut['_mutmut_orig'] = Handle.xǁHandleǁmatches__mutmut_orig # type: ignore # mutmut generated
mutants_xǁHandleǁmatches__mutmut['xǁHandleǁmatches__mutmut_1'] = Handle.xǁHandleǁmatches__mutmut_1 # type: ignore # mutmut generated
mutants_xǁHandleǁmatches__mutmut['xǁHandleǁmatches__mutmut_2'] = Handle.xǁHandleǁmatches__mutmut_2 # type: ignore # mutmut generated
mutants_xǁHandleǁmatches__mutmut['xǁHandleǁmatches__mutmut_3'] = Handle.xǁHandleǁmatches__mutmut_3 # type: ignore # mutmut generated
mutants_xǁHandleǁmatches__mutmut['xǁHandleǁmatches__mutmut_4'] = Handle.xǁHandleǁmatches__mutmut_4 # type: ignore # mutmut generated
mutants_xǁHandleǁmatches__mutmut['xǁHandleǁmatches__mutmut_5'] = Handle.xǁHandleǁmatches__mutmut_5 # type: ignore # mutmut generated
mutants_xǁHandleǁmatches__mutmut['xǁHandleǁmatches__mutmut_6'] = Handle.xǁHandleǁmatches__mutmut_6 # type: ignore # mutmut generated
mutants_xǁHandleǁmatches__mutmut['xǁHandleǁmatches__mutmut_7'] = Handle.xǁHandleǁmatches__mutmut_7 # type: ignore # mutmut generated
mutants_xǁHandleǁmatches__mutmut['xǁHandleǁmatches__mutmut_8'] = Handle.xǁHandleǁmatches__mutmut_8 # type: ignore # mutmut generated
mutants_xǁHandleǁmatches__mutmut['xǁHandleǁmatches__mutmut_9'] = Handle.xǁHandleǁmatches__mutmut_9 # type: ignore # mutmut generated
mutants_xǁHandleǁmatches__mutmut['xǁHandleǁmatches__mutmut_10'] = Handle.xǁHandleǁmatches__mutmut_10 # type: ignore # mutmut generated

mutants_xǁHandleǁencode__mutmut['_mutmut_orig'] = Handle.xǁHandleǁencode__mutmut_orig # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_1'] = Handle.xǁHandleǁencode__mutmut_1 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_2'] = Handle.xǁHandleǁencode__mutmut_2 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_3'] = Handle.xǁHandleǁencode__mutmut_3 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_4'] = Handle.xǁHandleǁencode__mutmut_4 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_5'] = Handle.xǁHandleǁencode__mutmut_5 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_6'] = Handle.xǁHandleǁencode__mutmut_6 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_7'] = Handle.xǁHandleǁencode__mutmut_7 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_8'] = Handle.xǁHandleǁencode__mutmut_8 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_9'] = Handle.xǁHandleǁencode__mutmut_9 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_10'] = Handle.xǁHandleǁencode__mutmut_10 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_11'] = Handle.xǁHandleǁencode__mutmut_11 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_12'] = Handle.xǁHandleǁencode__mutmut_12 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_13'] = Handle.xǁHandleǁencode__mutmut_13 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_14'] = Handle.xǁHandleǁencode__mutmut_14 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_15'] = Handle.xǁHandleǁencode__mutmut_15 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_16'] = Handle.xǁHandleǁencode__mutmut_16 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_17'] = Handle.xǁHandleǁencode__mutmut_17 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_18'] = Handle.xǁHandleǁencode__mutmut_18 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_19'] = Handle.xǁHandleǁencode__mutmut_19 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_20'] = Handle.xǁHandleǁencode__mutmut_20 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_21'] = Handle.xǁHandleǁencode__mutmut_21 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_22'] = Handle.xǁHandleǁencode__mutmut_22 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_23'] = Handle.xǁHandleǁencode__mutmut_23 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_24'] = Handle.xǁHandleǁencode__mutmut_24 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_25'] = Handle.xǁHandleǁencode__mutmut_25 # type: ignore # mutmut generated
mutants_xǁHandleǁencode__mutmut['xǁHandleǁencode__mutmut_26'] = Handle.xǁHandleǁencode__mutmut_26 # type: ignore # mutmut generated

mutants_xǁHandleǁdecode__mutmut['_mutmut_orig'] = Handle.xǁHandleǁdecode__mutmut_orig # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_1'] = Handle.xǁHandleǁdecode__mutmut_1 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_2'] = Handle.xǁHandleǁdecode__mutmut_2 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_3'] = Handle.xǁHandleǁdecode__mutmut_3 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_4'] = Handle.xǁHandleǁdecode__mutmut_4 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_5'] = Handle.xǁHandleǁdecode__mutmut_5 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_6'] = Handle.xǁHandleǁdecode__mutmut_6 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_7'] = Handle.xǁHandleǁdecode__mutmut_7 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_8'] = Handle.xǁHandleǁdecode__mutmut_8 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_9'] = Handle.xǁHandleǁdecode__mutmut_9 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_10'] = Handle.xǁHandleǁdecode__mutmut_10 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_11'] = Handle.xǁHandleǁdecode__mutmut_11 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_12'] = Handle.xǁHandleǁdecode__mutmut_12 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_13'] = Handle.xǁHandleǁdecode__mutmut_13 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_14'] = Handle.xǁHandleǁdecode__mutmut_14 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_15'] = Handle.xǁHandleǁdecode__mutmut_15 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_16'] = Handle.xǁHandleǁdecode__mutmut_16 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_17'] = Handle.xǁHandleǁdecode__mutmut_17 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_18'] = Handle.xǁHandleǁdecode__mutmut_18 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_19'] = Handle.xǁHandleǁdecode__mutmut_19 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_20'] = Handle.xǁHandleǁdecode__mutmut_20 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_21'] = Handle.xǁHandleǁdecode__mutmut_21 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_22'] = Handle.xǁHandleǁdecode__mutmut_22 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_23'] = Handle.xǁHandleǁdecode__mutmut_23 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_24'] = Handle.xǁHandleǁdecode__mutmut_24 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_25'] = Handle.xǁHandleǁdecode__mutmut_25 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_26'] = Handle.xǁHandleǁdecode__mutmut_26 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_27'] = Handle.xǁHandleǁdecode__mutmut_27 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_28'] = Handle.xǁHandleǁdecode__mutmut_28 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_29'] = Handle.xǁHandleǁdecode__mutmut_29 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_30'] = Handle.xǁHandleǁdecode__mutmut_30 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_31'] = Handle.xǁHandleǁdecode__mutmut_31 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_32'] = Handle.xǁHandleǁdecode__mutmut_32 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_33'] = Handle.xǁHandleǁdecode__mutmut_33 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_34'] = Handle.xǁHandleǁdecode__mutmut_34 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_35'] = Handle.xǁHandleǁdecode__mutmut_35 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_36'] = Handle.xǁHandleǁdecode__mutmut_36 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_37'] = Handle.xǁHandleǁdecode__mutmut_37 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_38'] = Handle.xǁHandleǁdecode__mutmut_38 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_39'] = Handle.xǁHandleǁdecode__mutmut_39 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_40'] = Handle.xǁHandleǁdecode__mutmut_40 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_41'] = Handle.xǁHandleǁdecode__mutmut_41 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_42'] = Handle.xǁHandleǁdecode__mutmut_42 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_43'] = Handle.xǁHandleǁdecode__mutmut_43 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_44'] = Handle.xǁHandleǁdecode__mutmut_44 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_45'] = Handle.xǁHandleǁdecode__mutmut_45 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_46'] = Handle.xǁHandleǁdecode__mutmut_46 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_47'] = Handle.xǁHandleǁdecode__mutmut_47 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_48'] = Handle.xǁHandleǁdecode__mutmut_48 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_49'] = Handle.xǁHandleǁdecode__mutmut_49 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_50'] = Handle.xǁHandleǁdecode__mutmut_50 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_51'] = Handle.xǁHandleǁdecode__mutmut_51 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_52'] = Handle.xǁHandleǁdecode__mutmut_52 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_53'] = Handle.xǁHandleǁdecode__mutmut_53 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_54'] = Handle.xǁHandleǁdecode__mutmut_54 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_55'] = Handle.xǁHandleǁdecode__mutmut_55 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_56'] = Handle.xǁHandleǁdecode__mutmut_56 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_57'] = Handle.xǁHandleǁdecode__mutmut_57 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_58'] = Handle.xǁHandleǁdecode__mutmut_58 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_59'] = Handle.xǁHandleǁdecode__mutmut_59 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_60'] = Handle.xǁHandleǁdecode__mutmut_60 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_61'] = Handle.xǁHandleǁdecode__mutmut_61 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_62'] = Handle.xǁHandleǁdecode__mutmut_62 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_63'] = Handle.xǁHandleǁdecode__mutmut_63 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_64'] = Handle.xǁHandleǁdecode__mutmut_64 # type: ignore # mutmut generated
mutants_xǁHandleǁdecode__mutmut['xǁHandleǁdecode__mutmut_65'] = Handle.xǁHandleǁdecode__mutmut_65 # type: ignore # mutmut generated
mutants_x__pack__mutmut: MutantDict = {}  # type: ignore


@_mutmut_mutated(mutants_x__pack__mutmut)
def _pack(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_orig(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_1(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = None
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_2(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode(None)
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_3(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("XXasciiXX")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_4(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ASCII")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_5(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = None
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_6(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode(None)
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_7(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("XXutf-8XX")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_8(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("UTF-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_9(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) - secret


def x__pack__mutmut_10(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f - struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_11(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) - f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_12(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k - struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_13(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) - k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_14(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(None, len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_15(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", None) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_16(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_17(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", ) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_18(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack("XX>BXX", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_19(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">b", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_20(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(None, len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_21(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", None) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_22(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_23(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", ) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_24(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack("XX>HXX", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_25(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">h", len(f)) + f + struct.pack(">Q", seq)
    ) + secret


def x__pack__mutmut_26(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(None, seq)
    ) + secret


def x__pack__mutmut_27(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", None)
    ) + secret


def x__pack__mutmut_28(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(seq)
    ) + secret


def x__pack__mutmut_29(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">Q", )
    ) + secret


def x__pack__mutmut_30(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack("XX>QXX", seq)
    ) + secret


def x__pack__mutmut_31(kid: str, flow_id: str, seq: int, secret: bytes) -> bytes:
    k = kid.encode("ascii")
    f = flow_id.encode("utf-8")
    return (
        struct.pack(">B", len(k)) + k + struct.pack(">H", len(f)) + f + struct.pack(">q", seq)
    ) + secret

mutants_x__pack__mutmut['_mutmut_orig'] = x__pack__mutmut_orig # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_1'] = x__pack__mutmut_1 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_2'] = x__pack__mutmut_2 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_3'] = x__pack__mutmut_3 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_4'] = x__pack__mutmut_4 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_5'] = x__pack__mutmut_5 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_6'] = x__pack__mutmut_6 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_7'] = x__pack__mutmut_7 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_8'] = x__pack__mutmut_8 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_9'] = x__pack__mutmut_9 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_10'] = x__pack__mutmut_10 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_11'] = x__pack__mutmut_11 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_12'] = x__pack__mutmut_12 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_13'] = x__pack__mutmut_13 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_14'] = x__pack__mutmut_14 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_15'] = x__pack__mutmut_15 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_16'] = x__pack__mutmut_16 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_17'] = x__pack__mutmut_17 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_18'] = x__pack__mutmut_18 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_19'] = x__pack__mutmut_19 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_20'] = x__pack__mutmut_20 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_21'] = x__pack__mutmut_21 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_22'] = x__pack__mutmut_22 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_23'] = x__pack__mutmut_23 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_24'] = x__pack__mutmut_24 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_25'] = x__pack__mutmut_25 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_26'] = x__pack__mutmut_26 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_27'] = x__pack__mutmut_27 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_28'] = x__pack__mutmut_28 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_29'] = x__pack__mutmut_29 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_30'] = x__pack__mutmut_30 # type: ignore # mutmut generated
mutants_x__pack__mutmut['x__pack__mutmut_31'] = x__pack__mutmut_31 # type: ignore # mutmut generated
mutants_x__unpack__mutmut: MutantDict = {}  # type: ignore


@_mutmut_mutated(mutants_x__unpack__mutmut)
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


def x__unpack__mutmut_orig(body: bytes) -> tuple[str, str, int, bytes]:
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


def x__unpack__mutmut_1(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = None
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


def x__unpack__mutmut_2(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(None, body, 0)
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


def x__unpack__mutmut_3(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", None, 0)
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


def x__unpack__mutmut_4(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, None)
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


def x__unpack__mutmut_5(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(body, 0)
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


def x__unpack__mutmut_6(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", 0)
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


def x__unpack__mutmut_7(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, )
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


def x__unpack__mutmut_8(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from("XX>BXX", body, 0)
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


def x__unpack__mutmut_9(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">b", body, 0)
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


def x__unpack__mutmut_10(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 1)
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


def x__unpack__mutmut_11(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = None
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


def x__unpack__mutmut_12(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode(None)
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


def x__unpack__mutmut_13(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[2 : 1 + klen].decode("ascii")
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


def x__unpack__mutmut_14(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 - klen].decode("ascii")
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


def x__unpack__mutmut_15(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 2 + klen].decode("ascii")
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


def x__unpack__mutmut_16(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("XXasciiXX")
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


def x__unpack__mutmut_17(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ASCII")
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


def x__unpack__mutmut_18(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = None
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


def x__unpack__mutmut_19(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 - klen
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


def x__unpack__mutmut_20(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 2 + klen
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


def x__unpack__mutmut_21(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = None
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_22(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(None, body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_23(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", None, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_24(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, None)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_25(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_26(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_27(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, )
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_28(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from("XX>HXX", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_29(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">h", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_30(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = None
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_31(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode(None)
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_32(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at - 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_33(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 3 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_34(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 - flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_35(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at - 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_36(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 3 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_37(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("XXutf-8XX")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_38(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("UTF-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_39(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at = 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_40(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at -= 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_41(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 - flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_42(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 3 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_43(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = None
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_44(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(None, body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_45(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", None, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_46(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, None)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_47(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_48(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_49(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, )
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_50(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from("XX>QXX", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_51(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">q", body, at)
        secret = body[at + 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_52(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = None
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_53(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at - 8 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_54(body: bytes) -> tuple[str, str, int, bytes]:
    try:
        (klen,) = struct.unpack_from(">B", body, 0)
        kid = body[1 : 1 + klen].decode("ascii")
        at = 1 + klen
        (flen,) = struct.unpack_from(">H", body, at)
        flow_id = body[at + 2 : at + 2 + flen].decode("utf-8")
        at += 2 + flen
        (seq,) = struct.unpack_from(">Q", body, at)
        secret = body[at + 9 :]
    except (struct.error, UnicodeDecodeError):
        raise InvalidHandleError("not a flow handle") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_55(body: bytes) -> tuple[str, str, int, bytes]:
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
        raise InvalidHandleError(None) from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_56(body: bytes) -> tuple[str, str, int, bytes]:
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
        raise InvalidHandleError("XXnot a flow handleXX") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_57(body: bytes) -> tuple[str, str, int, bytes]:
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
        raise InvalidHandleError("NOT A FLOW HANDLE") from None
    if len(secret) != _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_58(body: bytes) -> tuple[str, str, int, bytes]:
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
    if len(secret) != _SECRET_SIZE or not kid and not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_59(body: bytes) -> tuple[str, str, int, bytes]:
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
    if len(secret) != _SECRET_SIZE and not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_60(body: bytes) -> tuple[str, str, int, bytes]:
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
    if len(secret) == _SECRET_SIZE or not kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_61(body: bytes) -> tuple[str, str, int, bytes]:
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
    if len(secret) != _SECRET_SIZE or kid or not flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_62(body: bytes) -> tuple[str, str, int, bytes]:
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
    if len(secret) != _SECRET_SIZE or not kid or flow_id:
        raise InvalidHandleError("not a flow handle")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_63(body: bytes) -> tuple[str, str, int, bytes]:
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
        raise InvalidHandleError(None)
    return kid, flow_id, seq, secret


def x__unpack__mutmut_64(body: bytes) -> tuple[str, str, int, bytes]:
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
        raise InvalidHandleError("XXnot a flow handleXX")
    return kid, flow_id, seq, secret


def x__unpack__mutmut_65(body: bytes) -> tuple[str, str, int, bytes]:
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
        raise InvalidHandleError("NOT A FLOW HANDLE")
    return kid, flow_id, seq, secret

mutants_x__unpack__mutmut['_mutmut_orig'] = x__unpack__mutmut_orig # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_1'] = x__unpack__mutmut_1 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_2'] = x__unpack__mutmut_2 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_3'] = x__unpack__mutmut_3 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_4'] = x__unpack__mutmut_4 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_5'] = x__unpack__mutmut_5 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_6'] = x__unpack__mutmut_6 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_7'] = x__unpack__mutmut_7 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_8'] = x__unpack__mutmut_8 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_9'] = x__unpack__mutmut_9 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_10'] = x__unpack__mutmut_10 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_11'] = x__unpack__mutmut_11 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_12'] = x__unpack__mutmut_12 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_13'] = x__unpack__mutmut_13 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_14'] = x__unpack__mutmut_14 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_15'] = x__unpack__mutmut_15 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_16'] = x__unpack__mutmut_16 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_17'] = x__unpack__mutmut_17 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_18'] = x__unpack__mutmut_18 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_19'] = x__unpack__mutmut_19 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_20'] = x__unpack__mutmut_20 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_21'] = x__unpack__mutmut_21 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_22'] = x__unpack__mutmut_22 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_23'] = x__unpack__mutmut_23 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_24'] = x__unpack__mutmut_24 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_25'] = x__unpack__mutmut_25 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_26'] = x__unpack__mutmut_26 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_27'] = x__unpack__mutmut_27 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_28'] = x__unpack__mutmut_28 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_29'] = x__unpack__mutmut_29 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_30'] = x__unpack__mutmut_30 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_31'] = x__unpack__mutmut_31 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_32'] = x__unpack__mutmut_32 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_33'] = x__unpack__mutmut_33 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_34'] = x__unpack__mutmut_34 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_35'] = x__unpack__mutmut_35 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_36'] = x__unpack__mutmut_36 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_37'] = x__unpack__mutmut_37 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_38'] = x__unpack__mutmut_38 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_39'] = x__unpack__mutmut_39 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_40'] = x__unpack__mutmut_40 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_41'] = x__unpack__mutmut_41 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_42'] = x__unpack__mutmut_42 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_43'] = x__unpack__mutmut_43 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_44'] = x__unpack__mutmut_44 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_45'] = x__unpack__mutmut_45 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_46'] = x__unpack__mutmut_46 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_47'] = x__unpack__mutmut_47 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_48'] = x__unpack__mutmut_48 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_49'] = x__unpack__mutmut_49 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_50'] = x__unpack__mutmut_50 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_51'] = x__unpack__mutmut_51 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_52'] = x__unpack__mutmut_52 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_53'] = x__unpack__mutmut_53 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_54'] = x__unpack__mutmut_54 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_55'] = x__unpack__mutmut_55 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_56'] = x__unpack__mutmut_56 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_57'] = x__unpack__mutmut_57 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_58'] = x__unpack__mutmut_58 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_59'] = x__unpack__mutmut_59 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_60'] = x__unpack__mutmut_60 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_61'] = x__unpack__mutmut_61 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_62'] = x__unpack__mutmut_62 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_63'] = x__unpack__mutmut_63 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_64'] = x__unpack__mutmut_64 # type: ignore # mutmut generated
mutants_x__unpack__mutmut['x__unpack__mutmut_65'] = x__unpack__mutmut_65 # type: ignore # mutmut generated
mutants_x__tag__mutmut: MutantDict = {}  # type: ignore


@_mutmut_mutated(mutants_x__tag__mutmut)
def _tag(keyring: Keyring, kid: str, body: bytes) -> bytes:
    key = keyring.subkey(kid, _PURPOSE)
    return hmac.new(key, _PREFIX.encode() + body, hashlib.sha256).digest()[:_TAG_SIZE]


def x__tag__mutmut_orig(keyring: Keyring, kid: str, body: bytes) -> bytes:
    key = keyring.subkey(kid, _PURPOSE)
    return hmac.new(key, _PREFIX.encode() + body, hashlib.sha256).digest()[:_TAG_SIZE]


def x__tag__mutmut_1(keyring: Keyring, kid: str, body: bytes) -> bytes:
    key = None
    return hmac.new(key, _PREFIX.encode() + body, hashlib.sha256).digest()[:_TAG_SIZE]


def x__tag__mutmut_2(keyring: Keyring, kid: str, body: bytes) -> bytes:
    key = keyring.subkey(None, _PURPOSE)
    return hmac.new(key, _PREFIX.encode() + body, hashlib.sha256).digest()[:_TAG_SIZE]


def x__tag__mutmut_3(keyring: Keyring, kid: str, body: bytes) -> bytes:
    key = keyring.subkey(kid, None)
    return hmac.new(key, _PREFIX.encode() + body, hashlib.sha256).digest()[:_TAG_SIZE]


def x__tag__mutmut_4(keyring: Keyring, kid: str, body: bytes) -> bytes:
    key = keyring.subkey(_PURPOSE)
    return hmac.new(key, _PREFIX.encode() + body, hashlib.sha256).digest()[:_TAG_SIZE]


def x__tag__mutmut_5(keyring: Keyring, kid: str, body: bytes) -> bytes:
    key = keyring.subkey(kid, )
    return hmac.new(key, _PREFIX.encode() + body, hashlib.sha256).digest()[:_TAG_SIZE]


def x__tag__mutmut_6(keyring: Keyring, kid: str, body: bytes) -> bytes:
    key = keyring.subkey(kid, _PURPOSE)
    return hmac.new(None, _PREFIX.encode() + body, hashlib.sha256).digest()[:_TAG_SIZE]


def x__tag__mutmut_7(keyring: Keyring, kid: str, body: bytes) -> bytes:
    key = keyring.subkey(kid, _PURPOSE)
    return hmac.new(key, None, hashlib.sha256).digest()[:_TAG_SIZE]


def x__tag__mutmut_8(keyring: Keyring, kid: str, body: bytes) -> bytes:
    key = keyring.subkey(kid, _PURPOSE)
    return hmac.new(key, _PREFIX.encode() + body, None).digest()[:_TAG_SIZE]


def x__tag__mutmut_9(keyring: Keyring, kid: str, body: bytes) -> bytes:
    key = keyring.subkey(kid, _PURPOSE)
    return hmac.new(_PREFIX.encode() + body, hashlib.sha256).digest()[:_TAG_SIZE]


def x__tag__mutmut_10(keyring: Keyring, kid: str, body: bytes) -> bytes:
    key = keyring.subkey(kid, _PURPOSE)
    return hmac.new(key, hashlib.sha256).digest()[:_TAG_SIZE]


def x__tag__mutmut_11(keyring: Keyring, kid: str, body: bytes) -> bytes:
    key = keyring.subkey(kid, _PURPOSE)
    return hmac.new(key, _PREFIX.encode() + body, ).digest()[:_TAG_SIZE]


def x__tag__mutmut_12(keyring: Keyring, kid: str, body: bytes) -> bytes:
    key = keyring.subkey(kid, _PURPOSE)
    return hmac.new(key, _PREFIX.encode() - body, hashlib.sha256).digest()[:_TAG_SIZE]

mutants_x__tag__mutmut['_mutmut_orig'] = x__tag__mutmut_orig # type: ignore # mutmut generated
mutants_x__tag__mutmut['x__tag__mutmut_1'] = x__tag__mutmut_1 # type: ignore # mutmut generated
mutants_x__tag__mutmut['x__tag__mutmut_2'] = x__tag__mutmut_2 # type: ignore # mutmut generated
mutants_x__tag__mutmut['x__tag__mutmut_3'] = x__tag__mutmut_3 # type: ignore # mutmut generated
mutants_x__tag__mutmut['x__tag__mutmut_4'] = x__tag__mutmut_4 # type: ignore # mutmut generated
mutants_x__tag__mutmut['x__tag__mutmut_5'] = x__tag__mutmut_5 # type: ignore # mutmut generated
mutants_x__tag__mutmut['x__tag__mutmut_6'] = x__tag__mutmut_6 # type: ignore # mutmut generated
mutants_x__tag__mutmut['x__tag__mutmut_7'] = x__tag__mutmut_7 # type: ignore # mutmut generated
mutants_x__tag__mutmut['x__tag__mutmut_8'] = x__tag__mutmut_8 # type: ignore # mutmut generated
mutants_x__tag__mutmut['x__tag__mutmut_9'] = x__tag__mutmut_9 # type: ignore # mutmut generated
mutants_x__tag__mutmut['x__tag__mutmut_10'] = x__tag__mutmut_10 # type: ignore # mutmut generated
mutants_x__tag__mutmut['x__tag__mutmut_11'] = x__tag__mutmut_11 # type: ignore # mutmut generated
mutants_x__tag__mutmut['x__tag__mutmut_12'] = x__tag__mutmut_12 # type: ignore # mutmut generated
