"""The snapshot codec: a flow envelope to one authenticated, partly encrypted JSON text and back.

A flow is persisted between HTTP requests as a *snapshot*. This module is pure: it reads no
clock (``now`` is an argument), does no I/O and logs nothing; its only randomness is the AEAD
nonce, drawn from an injectable ``nonce_source`` (``os.urandom`` by default).

The plain envelope
------------------
The flow layer hands ``encode`` a plain dict and gets the same dict back from
``decode``::

    {"schema": 1, "machine": "auth0-passwordless-mfa", "machine_hash": "<sha256 hex>",
     "flow_id": "fl_...", "seq": 3, "state": "mfa_required",
     "context": {...},                       # JSON object; some keys are secrets
     "history": [{"seq": 1, "state": "started", "trigger": "start_passwordless",
                  "at": 1.8e9, "context": {...}}, ...],
     "created_at": 1.8e9, "updated_at": 1.8e9, "expires_at": 1.8e9 | None,
     "audit": [{...}, ...]}                  # JSON objects, no secrets (flowengine._audit)

Every top-level key of ``context`` and of each ``history[i]["context"]`` that is in
``SECRET_FIELDS`` (tokens, codes, and personal data such as phone numbers and email
addresses) is moved out of the clear text into one AES-256-GCM sealed payload. Keys nested
deeper are not inspected: a secret must sit at the top level of a context.

The encoded text (format ``v`` 1)
---------------------------------
One line of ASCII-only compact JSON, members always in this order::

    {"v":1,"kid":"k2","env":{<clear envelope>},"sealed":"<base64url(nonce || ciphertext+tag)>"}

* ``env`` is the envelope with the secret keys removed (a context made only of secrets stays
  as ``{}``), its members in the fixed order listed above.
* ``sealed`` is unpadded base64url of a 12-byte random nonce followed by the AES-256-GCM
  ciphertext and 16-byte tag of the JSON *secret payload*::

      {"s": ["<distinct string secret>", ...],      # each distinct string value stored once
       "c": {"<secret key of context>": ref, ...},
       "h": [{"<secret key of history[i].context>": ref, ...}, ...]}   # one object per entry

  A ``ref`` is an ``int`` index into ``s`` for a string value, or a one-element list
  ``[value]`` holding any other JSON value literally. Interning matters because history
  entries usually repeat the current context's ``mfa_token`` and phone number, and an Auth0
  ``mfa_token`` alone is several hundred bytes. The payload is followed by 0-2 spaces so that
  nonce, ciphertext and tag together are a multiple of 3 bytes: the base64 then has neither
  padding nor spare bits, so exactly one spelling of ``sealed`` decodes to those bytes.
* The AAD is the exact bytes of the text with the ``,"sealed":"..."`` member cut out, that is
  ``{"v":1,"kid":"k2","env":{...}}``. One AEAD operation therefore encrypts the secrets *and*
  authenticates every other byte of the document. An empty payload is still sealed, so a
  snapshot without secrets is authenticated just the same.

Design choices (and how they differ from the first sketch)
----------------------------------------------------------
* **The AAD is the raw bytes, not a canonical re-serialization.** A canonical form accepts
  every re-spelling that parses to the same value (inserted whitespace, ``\\u`` escapes,
  ``1.0`` against ``1.00``, a duplicated key whose last value wins), so a changed snapshot
  could still load; raw bytes make the accepted text unique, and decoding does not have to
  re-serialize the envelope. Any changed, inserted or removed byte is refused.
* **Authenticate before parsing.** Before the tag is checked, only the fixed frame is read:
  ``{"v":<int>,`` then ``"kid":"<id>","env":`` at the start and ``,"sealed":"<b64>"}`` at the
  end, with plain string operations. The envelope JSON is parsed only once it is known to be
  bytes this module wrote (with ``allow_nan=False``, from dicts, so without ``NaN`` or
  duplicate keys). Untrusted input never reaches the JSON parser, and the costly strict
  parse (a Python hook per object to catch duplicate keys) is not needed: a duplicated key,
  a ``NaN`` or a stray value anywhere inside ``env`` is refused as tampering. What does not
  have the frame at all (not JSON, a JSON array, another top-level layout, bad UTF-8,
  truncated) is refused as malformed.
* **String interning** in the sealed payload, see above.

Decoding
--------
``decode`` checks, in order: the size (at most ``MAX_SNAPSHOT_BYTES``) and that the
text is ASCII; the frame and the format version ``v``; the key id; the canonical base64;
authentication and decryption; the envelope's ``schema`` (known, and with a migration path
to ``CURRENT_SCHEMA``); the envelope's strict shape (exact key set, types) and the
secret payload's; then it puts the secrets back, runs ``MIGRATIONS`` (validating the
result in full), checks the machine name and definition hash, and finally the expiry when
``now`` is given. Every failure raises a
``flowengine._errors.SnapshotError`` subclass and nothing partial is ever returned.
Messages never contain key material or secret values. Nothing is unpickled or evaluated.

Keys
----
A ``Keyring`` holds 32-byte AES-256-GCM keys by key id; the first key encrypts, all of
them decrypt, so keys rotate by putting a new key first and dropping the old one once the
longest-lived snapshot sealed with it has expired. Nonces are 96 random bits, so a key must
not seal more than about 2**32 snapshots (the collision bound NIST SP 800-38D asks for);
rotate long before that. One ``AESGCM`` object is cached per key; no key derivation runs per
call.

Schema versions
---------------
``v`` is the codec's format; ``env["schema"]`` is the envelope's content schema.
``MIGRATIONS`` maps a schema ``N`` to a function turning a plain schema-``N`` envelope
(secrets already restored) into a schema-``N+1`` one. A snapshot whose schema is newer than
``CURRENT_SCHEMA``, older than 1, or has no migration path raises
``flowengine._errors.SnapshotVersionError``. Files under ``tests/golden/`` hold one
snapshot per released schema and must keep loading forever.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import os
import re
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, Any, Final, NoReturn, TypeGuard

from flowengine._context import SECRET_FIELDS as CONTEXT_SECRET_FIELDS
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

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "CURRENT_SCHEMA",
    "FORMAT_VERSION",
    "KEY_SIZE",
    "MAX_SNAPSHOT_BYTES",
    "MIGRATIONS",
    "NONCE_SIZE",
    "SECRET_FIELDS",
    "Keyring",
    "Migration",
    "decode",
    "encode",
]

#: Version of the encoded text's layout (the ``v`` member).
FORMAT_VERSION: Final = 1
#: Version of the plain envelope's content (its ``schema`` member).
CURRENT_SCHEMA: int = 1
#: Encoded snapshots longer than this are refused (and never produced).
MAX_SNAPSHOT_BYTES: Final = 64 * 1024
#: AES-256-GCM key length in bytes.
KEY_SIZE: Final = 32
#: AES-GCM nonce length in bytes.
NONCE_SIZE: Final = 12
_TAG_SIZE: Final = 16
#: Nesting depth allowed inside context, history and audit values.
_MAX_DEPTH: Final = 64

#: Top-level keys of ``context`` / ``history[i]["context"]`` that never appear in clear text:
#: the fields ``flowengine._context.Context`` declares secret (derived, never listed by hand).
SECRET_FIELDS: Final[frozenset[str]] = CONTEXT_SECRET_FIELDS

Migration = Callable[[dict[str, Any]], dict[str, Any]]
#: ``N -> function`` upgrading a plain schema-N envelope to schema N+1.
MIGRATIONS: dict[int, Migration] = {}

_ENV_KEYS: Final = (
    "schema",
    "machine",
    "machine_hash",
    "flow_id",
    "seq",
    "state",
    "context",
    "history",
    "created_at",
    "updated_at",
    "expires_at",
    "audit",
)
_ENV_KEYSET: Final = frozenset(_ENV_KEYS)
_PAYLOAD_KEYSET: Final = frozenset({"s", "c", "h"})
_SEALED_OPEN: Final = ',"sealed":"'
# At most 32 characters: a key id can never be a whole base64url key (43 characters), so a
# "key:kid" typo is refused without echoing the key in the message.
_KID_RE: Final = re.compile(r"[A-Za-z0-9._-]{1,32}")
_B64URL_RE: Final = re.compile(r"[A-Za-z0-9_-]*={0,2}")


def _refuse_type(value: object) -> NoReturn:
    raise TypeError(f"a {type(value).__name__} is not a JSON value")


def _make_dumps() -> Callable[[object], str]:
    """Compact, ASCII-only, NaN-refusing ``json.dumps``; the C encoder is built only once.

    ``JSONEncoder.encode`` rebuilds its C encoder on every call (about 1 us each time); the
    encoder object is reusable, so it is made here once. Other Pythons fall back to ``json``.
    """
    options = {"ensure_ascii": True, "allow_nan": False, "check_circular": False}
    fallback = json.JSONEncoder(**options, separators=(",", ":"), default=_refuse_type).encode
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return fallback
    encoder = make(
        None, _refuse_type, json.encoder.encode_basestring_ascii, None, ":", ",",
        False, False, False,
    )  # fmt: skip

    def dumps(value: object) -> str:
        return "".join(encoder(value, 0))

    return dumps


_dumps: Final = _make_dumps()


# ------------------------------------------------------------------------------------ keys


class Keyring:
    """AES-256-GCM keys by key id: the first one seals, every one of them opens.

    ``Keyring([("k2", new_key), ("k1", old_key)])``. Key ids are 1-32 characters of
    ``[A-Za-z0-9._-]``; keys are exactly 32 bytes. Key material never appears in ``repr``
    or in an exception message.

    Refused, as a ``ConfigurationError``: a key that is one byte repeated (the all-zero
    placeholder of a template or a failed secret lookup), the same key bytes under two ids
    (one key, one id: otherwise retiring an id does not retire its key), and a rotation onto
    an id already in the ring (snapshots sealed under the old key would then read as
    tampered). Generated ids are random (``k_`` and 8 hex digits), never a date two hosts
    could both pick: a snapshot sealed elsewhere then fails as "no key with that id"
    (``SnapshotKeyError``), not as tampering.
    """

    __slots__ = ("_aeads", "_keys", "_primary", "_subkeys")

    def __init__(self, keys: Iterable[tuple[str, bytes]]) -> None:
        table: dict[str, bytes] = {}
        try:
            items = list(keys)
        except TypeError:
            raise ConfigurationError("Keyring needs an iterable of (kid, key) pairs") from None
        for item in items:
            if not isinstance(item, tuple) or len(item) != 2:
                raise ConfigurationError("Keyring needs (kid, key) pairs")
            kid, key = item
            if not isinstance(kid, str) or not _KID_RE.fullmatch(kid):
                raise ConfigurationError(
                    "a key id must be 1-32 characters of letters, digits, '.', '_', '-'"
                )
            if kid in table:
                raise ConfigurationError(f"key id {kid!r} appears twice in the keyring")
            if not isinstance(key, bytes | bytearray | memoryview):
                raise ConfigurationError(f"key {kid!r} must be bytes")
            raw = bytes(key)
            if len(raw) != KEY_SIZE:
                raise ConfigurationError(
                    f"key {kid!r} must be {KEY_SIZE} bytes for AES-256-GCM, not {len(raw)}"
                )
            if raw.count(raw[:1]) == KEY_SIZE:
                raise ConfigurationError(
                    f"key {kid!r} is one byte repeated (a placeholder?); use a random key"
                )
            twin = next((other for other, known in table.items() if known == raw), None)
            if twin is not None:
                raise ConfigurationError(
                    f"keys {twin!r} and {kid!r} are the same key; give each key one id"
                )
            table[kid] = raw
        if not table:
            raise ConfigurationError("a Keyring needs at least one key")
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._keys: dict[str, bytes] = table
        self._aeads: dict[str, AESGCM] = {kid: AESGCM(raw) for kid, raw in table.items()}
        first = next(iter(table))
        self._primary: tuple[str, AESGCM] = (first, self._aeads[first])
        self._subkeys: dict[tuple[str, bytes], bytes] = {}

    @staticmethod
    def new_kid() -> str:
        """A fresh random key id: ``k_`` and 8 hex digits (32 random bits)."""
        return "k_" + os.urandom(4).hex()

    @classmethod
    def generate(cls, kid: str | None = None) -> Keyring:
        """Return a keyring holding one fresh random key under ``kid`` (random if omitted)."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return cls([(kid or cls.new_kid(), AESGCM.generate_key(bit_length=256))])

    @classmethod
    def from_env_value(cls, value: str) -> Keyring:
        """Parse ``"k2:<base64url>,k1:<base64url>"`` (first entry seals; padding optional)."""
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError("the snapshot key setting is empty")
        pairs: list[tuple[str, bytes]] = []
        for position, entry in enumerate(value.split(","), start=1):
            kid, sep, encoded = entry.strip().partition(":")
            kid, encoded = kid.strip(), encoded.strip()
            if not sep or not kid or not encoded:
                raise ConfigurationError(
                    f"snapshot key entry {position} is not of the form kid:base64url-key"
                )
            if not _B64URL_RE.fullmatch(encoded):
                raise ConfigurationError(f"snapshot key entry {position} is not base64url")
            try:
                raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            except (binascii.Error, ValueError):
                raise ConfigurationError(
                    f"snapshot key entry {position} is not base64url"
                ) from None
            pairs.append((kid, raw))
        return cls(pairs)

    def to_env_value(self) -> str:
        """Return the keys as ``"kid:<unpadded base64url>,..."``, primary first."""
        return ",".join(
            f"{kid}:{base64.urlsafe_b64encode(raw).rstrip(b'=').decode('ascii')}"
            for kid, raw in self._keys.items()
        )

    def rotated(self, kid: str | None = None, key: bytes | None = None) -> Keyring:
        """Return a keyring sealing with a new ``kid`` (random id and key unless given).

        The other keys are kept for reading. An id already in the ring is refused: reusing
        it would replace the key that its snapshots were sealed with.
        """
        if kid is None:
            kid = self.new_kid()
            while kid in self._keys:  # 32 random bits: a repeat is rare, but not impossible
                kid = self.new_kid()
        elif kid in self._keys:
            raise ConfigurationError(
                f"key id {kid!r} is already in the keyring; rotate onto a new id"
            )
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        fresh = AESGCM.generate_key(bit_length=256) if key is None else key
        return Keyring([(kid, fresh), *self._keys.items()])

    @property
    def primary_kid(self) -> str:
        """The key id new snapshots are sealed with."""
        return self._primary[0]

    @property
    def kids(self) -> tuple[str, ...]:
        """Every configured key id, the sealing one first."""
        return tuple(self._keys)

    def __contains__(self, kid: object) -> bool:
        return kid in self._aeads

    def seal(self, plaintext: bytes, aad: bytes) -> str:
        """``plaintext`` sealed with the primary key, bound to ``aad``: ``kid.b64url``."""
        kid, aead = self._primary
        nonce = os.urandom(NONCE_SIZE)
        blob = nonce + aead.encrypt(nonce, plaintext, aad)
        return kid + "." + base64.urlsafe_b64encode(blob).decode("ascii").rstrip("=")

    def open_sealed(self, text: str, aad: bytes) -> bytes:
        """The plaintext of a ``seal`` text; ``SnapshotTamperedError``/``SnapshotKeyError``."""
        from cryptography.exceptions import InvalidTag

        kid, _, b64 = text.rpartition(".")  # a key id may hold dots; base64url never does
        aead = self._aeads.get(kid)
        if aead is None:
            raise SnapshotKeyError("the sealed text names no configured key")
        try:
            blob = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
            return aead.decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], aad)
        except (InvalidTag, ValueError, binascii.Error):
            raise SnapshotTamperedError("the sealed text failed authentication") from None

    def subkey(self, kid: str, purpose: bytes) -> bytes:
        """A 32-byte key for ``purpose`` derived from key ``kid`` (HMAC-SHA-256; never the key).

        Derived once per ``(kid, purpose)`` and kept (every handle checked or minted needs it).
        """
        found = self._subkeys.get((kid, purpose))
        if found is None:
            found = hmac.new(self._keys[kid], purpose, hashlib.sha256).digest()
            self._subkeys[(kid, purpose)] = found
        return found

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"Keyring(kids={self.kids!r})"


# ------------------------------------------------------------------------------ validation


def _malformed(message: str) -> NoReturn:
    raise SnapshotMalformedError(message)


_PLAIN_TYPES: Final = frozenset({str, int, float, bool, type(None)})


def _check_json(value: object, where: str, depth: int = 0) -> None:
    """Refuse what ``json`` would not give back as it is: non-string keys, tuples, sets...

    Floats that are not finite are left to ``json`` (``allow_nan=False``); str, int and float
    subclasses (enums) are accepted, they are written as their plain value. Scalars are
    skipped inline: only containers cost a call.
    """
    kind = type(value)
    if kind is dict or (kind is not list and isinstance(value, dict)):
        for key in value:  # type: ignore[attr-defined]
            if type(key) is not str:
                _malformed(f"{where}: an object key is a {type(key).__name__}, not a string")
        members: Iterable[object] = value.values()  # type: ignore[attr-defined]
    elif kind is list or isinstance(value, list):
        members = value  # type: ignore[assignment]
    elif isinstance(value, str | int | float) or value is None:
        return
    else:
        _malformed(f"{where}: a {kind.__name__} is not a JSON value")
    if depth >= _MAX_DEPTH:
        _malformed(f"{where}: nested deeper than {_MAX_DEPTH} levels")
    for member in members:
        if type(member) not in _PLAIN_TYPES:
            _check_json(member, where, depth + 1)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    kind = type(value)
    if kind is float:
        return math.isfinite(value)  # type: ignore[arg-type]
    if kind is int:
        return True
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _check_layout(env: object) -> dict[str, Any]:
    """Check what the sealed payload relies on, in every schema: the contexts' containers."""
    if not isinstance(env, dict):
        _malformed("the envelope is not an object")
    if not isinstance(env.get("context"), dict):
        _malformed("envelope.context is not an object")
    history = env.get("history")
    if not isinstance(history, list):
        _malformed("envelope.history is not an array")
    for i, entry in enumerate(history):
        if not isinstance(entry, dict):
            _malformed(f"envelope.history[{i}] is not an object")
        if "context" in entry and not isinstance(entry["context"], dict):
            _malformed(f"envelope.history[{i}].context is not an object")
    return env


def _validate_envelope(env: dict[str, Any]) -> None:
    """Check the current schema's shape and scalar types (contexts and audit are free JSON).

    History entries must be objects; their ``seq`` (int), ``state``/``from``/``to`` (str),
    ``trigger`` (str or null), ``at`` (number) and ``context`` (object) members are
    type-checked when present; other members are free JSON, so the flow layer may record
    more per step without a schema change.
    """
    if env.keys() != _ENV_KEYSET:
        missing = sorted(_ENV_KEYSET - env.keys())
        extra = sorted(str(k)[:40] for k in env.keys() - _ENV_KEYSET)[:5]
        _malformed(f"envelope keys are wrong (missing {missing}, unexpected {extra})")
    if not _is_int(env["schema"]):
        _malformed("envelope.schema is not an integer")
    if not (
        isinstance(env["machine"], str)
        and isinstance(env["machine_hash"], str)
        and isinstance(env["flow_id"], str)
        and isinstance(env["state"], str)
    ):
        _malformed("envelope.machine, machine_hash, flow_id and state must be strings")
    seq = env["seq"]
    if not _is_int(seq) or seq < 0:
        _malformed("envelope.seq is not a non-negative integer")
    if not (_is_number(env["created_at"]) and _is_number(env["updated_at"])):
        _malformed("envelope.created_at and updated_at must be finite numbers")
    expires_at = env["expires_at"]
    if expires_at is not None and not _is_number(expires_at):
        _malformed("envelope.expires_at is neither a finite number nor null")
    if not isinstance(env["context"], dict):
        _malformed("envelope.context is not an object")
    history = env["history"]
    if not isinstance(history, list):
        _malformed("envelope.history is not an array")
    for i, entry in enumerate(history):
        if not isinstance(entry, dict):
            _malformed(f"envelope.history[{i}] is not an object")
        if "seq" in entry and not _is_int(entry["seq"]):
            _malformed(f"envelope.history[{i}].seq is not an integer")
        for name in ("state", "from", "to"):
            if name in entry and not isinstance(entry[name], str):
                _malformed(f"envelope.history[{i}].{name} is not a string")
        trigger = entry.get("trigger")
        if trigger is not None and not isinstance(trigger, str):
            _malformed(f"envelope.history[{i}].trigger is neither a string nor null")
        if "at" in entry and not _is_number(entry["at"]):
            _malformed(f"envelope.history[{i}].at is not a finite number")
        if "context" in entry and not isinstance(entry["context"], dict):
            _malformed(f"envelope.history[{i}].context is not an object")
    audit = env["audit"]
    if not isinstance(audit, list):
        _malformed("envelope.audit is not an array")
    for i, event in enumerate(audit):
        if not isinstance(event, dict):
            _malformed(f"envelope.audit[{i}] is not an object")


# --------------------------------------------------------------------------------- encoding

_B64_ENCODE_TABLE: Final = bytes.maketrans(b"+/", b"-_")
# '-' '_' become '+' '/'; '+' '/' '=' become '!' so that a2b_base64(strict_mode=True) refuses
# them: the standard alphabet and padding must not give a second spelling of the same bytes.
_B64_DECODE_TABLE: Final = bytes.maketrans(b"-_+/=", b"+/!!!")


def _split(context: dict[str, Any], index: dict[str, int]) -> tuple[dict[str, Any], Any]:
    """Return ``context`` without its secrets, and the secrets as payload references.

    A string secret becomes its position in ``index`` (added on first use); any other value
    is wrapped as ``[value]``. Secrets are taken in sorted key order so that the output does
    not depend on set iteration order (a fixed nonce then gives a fixed text).
    """
    found = SECRET_FIELDS.intersection(context)
    if not found:
        return context, {}
    clear = context.copy()
    sealed: dict[str, Any] = {}
    for key in sorted(found):
        value = clear.pop(key)
        sealed[key] = index.setdefault(value, len(index)) if type(value) is str else [value]
    return clear, sealed


def encode(
    envelope: dict[str, Any],
    keyring: Keyring,
    *,
    nonce_source: Callable[[int], bytes] = os.urandom,
) -> str:
    """Seal ``envelope`` with the keyring's first key and return the snapshot text.

    The envelope is not modified. Raises ``SnapshotMalformedError`` when the envelope
    is not of the current schema's shape, holds a non-JSON value (a non-string key, a
    tuple, a set, ``NaN``...), or would encode to more than ``MAX_SNAPSHOT_BYTES``;
    ``ConfigurationError`` for a bad keyring or nonce source.
    """
    if not isinstance(keyring, Keyring):
        raise ConfigurationError("encode needs a Keyring")
    if not isinstance(envelope, dict):
        _malformed("the envelope is not a dict")
    _validate_envelope(envelope)
    if envelope["schema"] != CURRENT_SCHEMA:
        _malformed(f"only schema {CURRENT_SCHEMA} envelopes can be encoded")
    _check_json(envelope["context"], "envelope.context")
    _check_json(envelope["history"], "envelope.history")
    _check_json(envelope["audit"], "envelope.audit")

    index: dict[str, int] = {}  # distinct string secrets, in order of first use
    clear_context, sealed_context = _split(envelope["context"], index)
    clear_history: list[dict[str, Any]] = []
    sealed_history: list[dict[str, Any]] = []
    for entry in envelope["history"]:
        entry_context = entry.get("context")
        if entry_context is None:
            clear_history.append(entry)
            sealed_history.append({})
            continue
        clear_entry_context, entry_secrets = _split(entry_context, index)
        sealed_history.append(entry_secrets)
        if entry_secrets:
            entry = entry.copy()
            entry["context"] = clear_entry_context
        clear_history.append(entry)

    clear = {name: envelope[name] for name in _ENV_KEYS}
    clear["context"] = clear_context
    clear["history"] = clear_history
    try:
        env_text = _dumps(clear)
        payload = _dumps({"s": list(index), "c": sealed_context, "h": sealed_history})
    except (TypeError, ValueError, RecursionError):
        _malformed("the envelope holds a value JSON cannot represent (NaN, Infinity...)")

    kid, aead = keyring._primary
    head = f'{{"v":{FORMAT_VERSION},"kid":"{kid}","env":{env_text}}}'
    nonce = nonce_source(NONCE_SIZE)
    if not isinstance(nonce, bytes) or len(nonce) != NONCE_SIZE:
        raise ConfigurationError(f"nonce_source must return {NONCE_SIZE} bytes")
    # Trailing JSON whitespace makes nonce||ciphertext||tag a multiple of 3 bytes long, so
    # its base64 has no padding and no spare bits: exactly one spelling decodes to it.
    padding = " " * (-(NONCE_SIZE + len(payload) + _TAG_SIZE) % 3)
    sealed = aead.encrypt(nonce, f"{payload}{padding}".encode("ascii"), head.encode("ascii"))
    b64 = binascii.b2a_base64(nonce + sealed, newline=False).translate(_B64_ENCODE_TABLE)
    text = f'{head[:-1]}{_SEALED_OPEN}{b64.decode("ascii")}"}}'
    if len(text) > MAX_SNAPSHOT_BYTES:
        _malformed(f"the snapshot would be {len(text)} bytes, over {MAX_SNAPSHOT_BYTES}")
    return text


# --------------------------------------------------------------------------------- decoding

_VERSION_RE: Final = re.compile(r'\{"v":(-?[0-9]{1,18}),')
_V1_HEAD_RE: Final = re.compile(r'\{"v":1,"kid":"([A-Za-z0-9._-]{1,32})","env":(?=\{)')


def _reject_constant(name: str) -> NoReturn:
    _malformed(f"{name} is not allowed in a snapshot")


# Applied to authenticated bytes only, which this module wrote with allow_nan=False and from
# dicts (no duplicate keys); refusing NaN/Infinity here is defence in depth.
#: A snapshot repeats the same instants (created, updated, each step's time): equal
#: numbers parse to one float object, so a loaded flow holds no more floats than one
#: built by steps. Floats are immutable and no secret; the memo is trimmed when large.
_FLOATS: dict[str, float] = {}


def _parse_float(text: str) -> float:
    value = _FLOATS.get(text)
    if value is None:
        if len(_FLOATS) >= 4096:
            _FLOATS.clear()
        value = _FLOATS[text] = float(text)
    return value


_loads = json.JSONDecoder(
    parse_constant=_reject_constant, parse_float=_parse_float, strict=True
).decode


def _parse(text: str, what: str) -> Any:
    try:
        return _loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError, huge ints, deep nesting
        _malformed(f"{what} is not valid JSON")


def _restore(target: Any, secrets: Any, strings: list[Any]) -> None:
    """Put sealed secrets back into a context (``target`` is None for an entry without one)."""
    if type(secrets) is not dict:
        _malformed("the sealed payload has the wrong shape")
    if not secrets:
        return
    if type(target) is not dict:
        _malformed("the sealed payload has secrets for a history entry without a context")
    for key, reference in secrets.items():
        if key in target:
            _malformed("the sealed payload restores a key that is also in clear")
        if type(reference) is int and 0 <= reference < len(strings):
            target[key] = strings[reference]
        elif type(reference) is list and len(reference) == 1:
            target[key] = reference[0]
        else:
            _malformed("the sealed payload has a bad reference")


def decode(
    text: str | bytes,
    keyring: Keyring,
    *,
    machine: str,
    accepted_hashes: Collection[str],
    now: float | None,
    migrations: dict[int, Migration] = MIGRATIONS,
) -> dict[str, Any]:
    """Authenticate, decrypt, migrate and check a snapshot; return the plain envelope.

    Nothing but the fixed frame (``{"v":N,"kid":"...","env":`` ... ``,"sealed":"..."}``) is
    looked at before the tag is verified; the envelope is parsed only once authentic. Raises
    a ``SnapshotError`` subclass (see the module docstring) and returns nothing
    partial. ``now`` is epoch seconds; with ``None`` the expiry is not checked.
    """
    if not isinstance(keyring, Keyring):
        raise ConfigurationError("decode needs a Keyring")
    # -- size and encoding
    if isinstance(text, bytes | bytearray | memoryview):
        if len(text) > MAX_SNAPSHOT_BYTES:
            _malformed(f"the snapshot is over {MAX_SNAPSHOT_BYTES} bytes")
        try:
            text = bytes(text).decode("ascii")
        except UnicodeDecodeError:
            _malformed("the snapshot is not ASCII text")
    elif isinstance(text, str):
        if len(text) > MAX_SNAPSHOT_BYTES:
            _malformed(f"the snapshot is over {MAX_SNAPSHOT_BYTES} bytes")
        if not text.isascii():
            _malformed("the snapshot is not ASCII text")
    else:
        _malformed("a snapshot is str or bytes")

    # -- the frame: format version, key id, the sealed member closing the text
    head = _V1_HEAD_RE.match(text)
    if head is None:
        found = _VERSION_RE.match(text)
        if found is None:
            _malformed("the snapshot does not start with a format version")
        version = int(found[1])
        if version != FORMAT_VERSION:
            word = "newer than this library" if version > FORMAT_VERSION else "unknown"
            raise SnapshotVersionError(f"snapshot format {version} is {word}")
        _malformed("the snapshot's kid or env member is missing or misplaced")
    cut = text.rfind(_SEALED_OPEN)
    if cut < head.end() or not text.endswith('"}'):
        _malformed("the snapshot does not end with its sealed member")
    kid = head[1]
    aead = keyring._aeads.get(kid)
    if aead is None:
        raise SnapshotKeyError(f"no configured key has id {kid!r}")
    sealed = text[cut + len(_SEALED_OPEN) : -2].encode("ascii")
    if len(sealed) % 4:
        _malformed("the sealed member has a bad length")
    try:
        raw = binascii.a2b_base64(sealed.translate(_B64_DECODE_TABLE), strict_mode=True)
    except binascii.Error:
        _malformed("the sealed member is not unpadded base64url")
    if len(raw) < NONCE_SIZE + _TAG_SIZE:
        _malformed("the sealed member is too short")

    # -- authenticate every byte before the sealed member, decrypt the secrets
    from cryptography.exceptions import InvalidTag  # loaded by the Keyring: a look-up

    try:
        plaintext = aead.decrypt(raw[:NONCE_SIZE], raw[NONCE_SIZE:], f"{text[:cut]}}}".encode())
    except InvalidTag:
        raise SnapshotTamperedError(
            f"the snapshot failed authentication with key {kid!r}"
        ) from None

    # -- authentic from here on: the schema version, then the secrets back in place
    # (the frame puts a "{" first, so what parses is an object: JSON has no other reading)
    env: dict[str, Any] = _parse(text[head.end() : cut], "the envelope")
    target = CURRENT_SCHEMA
    schema = env.get("schema")
    if not _is_int(schema):
        _malformed("envelope.schema is not an integer")
    if schema > target:
        raise SnapshotVersionError(f"snapshot schema {schema} is newer than this library")
    if schema < 1:
        raise SnapshotVersionError(f"snapshot schema {schema} is unknown")
    missing = [n for n in range(schema, target) if n not in migrations]
    if missing:
        raise SnapshotVersionError(f"no migration from snapshot schema {missing[0]}")
    # The current schema is validated in full once, up front; an older one is checked for
    # the layout the secrets need now and validated in full after its migrations.
    current = schema == target
    if current:
        _validate_envelope(env)
    else:
        env = _check_layout(env)
    payload = _parse(plaintext.decode("ascii", "replace"), "the sealed payload")
    if type(payload) is not dict or payload.keys() != _PAYLOAD_KEYSET:
        _malformed("the sealed payload has the wrong shape")
    strings, sealed_history = payload["s"], payload["h"]
    if type(strings) is not list or type(sealed_history) is not list:
        _malformed("the sealed payload has the wrong shape")
    history: list[dict[str, Any]] = env["history"]
    if len(sealed_history) != len(history):
        _malformed("the sealed payload does not match the history")
    _restore(env["context"], payload["c"], strings)
    for entry, secrets in zip(history, sealed_history, strict=True):
        _restore(entry.get("context"), secrets, strings)

    # -- migrate to the current schema
    while schema < target:
        try:
            env = migrations[schema](env)
        except SnapshotError:
            raise
        except Exception as exc:
            raise SnapshotVersionError(
                f"migration from schema {schema} failed ({type(exc).__name__})"
            ) from None
        if not isinstance(env, dict) or env.get("schema") != schema + 1:
            raise SnapshotVersionError(f"migration from schema {schema} did not reach {schema + 1}")
        schema += 1

    # -- strict shape, machine, expiry
    if not current:
        _validate_envelope(env)
    if env["machine"] != machine:
        raise SnapshotMachineError(
            f"snapshot belongs to machine {env['machine'][:100]!r}, not {machine!r}"
        )
    if env["machine_hash"] not in accepted_hashes:
        raise SnapshotMachineError(
            f"snapshot machine definition {env['machine_hash'][:16]!r}... is not accepted"
        )
    expires_at = env["expires_at"]
    if now is not None and expires_at is not None and now >= expires_at:
        raise SnapshotExpiredError(f"flow {env['flow_id'][:100]!r} expired at {expires_at}")
    return env
