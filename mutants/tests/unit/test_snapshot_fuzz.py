"""Hypothesis fuzzing of the snapshot loader ``flowengine._snapshot.decode``.

Five families of inputs, more than 5,000 cases in all: arbitrary bytes, arbitrary JSON
values, JSON objects shaped like a snapshot, byte-level mutations of real snapshots
(insert, delete, flip, replace, splice), and JSON-level mutations of real snapshots (a value
replaced, a key dropped or added, re-serialized). Every case must either raise a
``SnapshotError`` subclass or, only when its bytes are exactly a real snapshot's, load.

Runs are derandomized when the ``CI`` environment variable is set. ``fuzz_summary()`` returns
the counters of this session (cases, refusals, loads, refusals by error class) for a
``pytest_terminal_summary`` hook to print.
"""

from __future__ import annotations

import base64
import json
import os
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowengine._errors import SnapshotError
from flowengine._snapshot import Keyring, decode, encode

CI = bool(os.environ.get("CI"))
KEY_1 = bytes(range(32))
KEY_2 = bytes(range(32, 64))
KEYRING = Keyring([("k1", KEY_1), ("k2", KEY_2)])
MACHINE = "auth0-passwordless-mfa"
HASH = "3f2a81eab8682413b75946095838a6bb693a9cdc46a53a540f0fd80c39cb673e"
NOW = 1800000100.0
MFA_TOKEN = "Fe26.2*SERVER_1800000000*" + "Zm9vYmFyYmF6cXV4" * 28 + "*~2"
PHONE = "+15555550123"
SECRETS = (MFA_TOKEN, PHONE, KEY_1.hex(), KEY_2.hex())

#: Examples per test; their sum is the session's minimum number of cases.
EXAMPLES = {
    "arbitrary_bytes": 1200,
    "arbitrary_json": 800,
    "snapshot_shaped_json": 800,
    "mutated_bytes": 1500,
    "mutated_json": 1000,
}
assert sum(EXAMPLES.values()) >= 5000


def fuzz_settings(name: str) -> settings:
    """Hypothesis settings for one fuzz test: its example count, derandomized on CI."""
    ci_only: dict[str, Any] = {"derandomize": True, "database": None} if CI else {}
    return settings(
        max_examples=EXAMPLES[name],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        **ci_only,
    )


def _envelope(secrets: bool, history: int) -> dict[str, Any]:
    """A realistic envelope, with or without secret fields."""
    context: dict[str, Any] = {"connection": "sms", "send": "code", "attempts": 1}
    if secrets:
        context |= {"phone_number": PHONE, "mfa_token": MFA_TOKEN, "tokens": None}
    return {
        "schema": 1,
        "machine": MACHINE,
        "machine_hash": HASH,
        "flow_id": "fl_fuzz",
        "seq": history + 1,
        "state": "mfa_required",
        "context": context,
        "history": [
            {
                "seq": i + 1,
                "state": f"s{i}",
                "trigger": "t",
                "at": 1800000000.5 + i,
                "context": {"phone_number": PHONE, "n": i} if secrets else {"n": i},
            }
            for i in range(history)
        ],
        "created_at": 1800000000.0,
        "updated_at": 1800000030.0,
        "expires_at": 1800000600.0,
        "audit": [{"at": 1800000000.0, "event": "http", "status": 200}],
    }


SAMPLES: tuple[bytes, ...] = tuple(
    encode(_envelope(secrets, history), ring).encode()
    for secrets, history, ring in [
        (True, 2, KEYRING),
        (False, 0, KEYRING),
        (True, 0, Keyring([("k2", KEY_2)])),
    ]
)

# ------------------------------------------------------------------------------- counters

_CASES: Counter[str] = Counter()
_REFUSED: Counter[str] = Counter()
_LOADED: Counter[str] = Counter()
_ERRORS: Counter[str] = Counter()


def fuzz_summary() -> dict[str, Any]:
    """Counters of this session: total cases, refusals, loads (of unchanged snapshots only)."""
    return {
        "cases": sum(_CASES.values()),
        "refused": sum(_REFUSED.values()),
        "loaded_unchanged": sum(_LOADED.values()),
        "by_test": {
            name: {"cases": _CASES[name], "refused": _REFUSED[name], "loaded": _LOADED[name]}
            for name in EXAMPLES
            if _CASES[name]
        },
        "by_error": dict(_ERRORS),
    }


def attempt(family: str, data: str | bytes) -> None:
    """Feed one input to the loader: refused with a SnapshotError, or loaded only if unchanged.

    Any other exception propagates and fails the test.
    """
    _CASES[family] += 1
    try:
        decode(data, KEYRING, machine=MACHINE, accepted_hashes={HASH}, now=NOW)
    except SnapshotError as exc:
        _REFUSED[family] += 1
        _ERRORS[type(exc).__name__] += 1
        message = str(exc)
        for secret in SECRETS:
            assert secret not in message
        return
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    assert raw in SAMPLES, "an input that is not an unchanged snapshot loaded"
    _LOADED[family] += 1


# ----------------------------------------------------------------------------- strategies

B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
HEAD = b'{"v":1,"kid":"k1","env":'

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=8,
)


@fuzz_settings("arbitrary_bytes")
@given(
    data=st.one_of(
        st.binary(max_size=3000),
        st.binary(max_size=400).map(lambda tail: HEAD + tail),
        st.tuples(st.binary(max_size=200), st.text(B64_ALPHABET, max_size=80)).map(
            lambda parts: HEAD + parts[0] + b',"sealed":"' + parts[1].encode() + b'"}'
        ),
    )
)
def test_arbitrary_bytes(data: bytes) -> None:
    """Arbitrary bytes, bare or inside a snapshot's frame, only ever raise a SnapshotError."""
    attempt("arbitrary_bytes", data)


@fuzz_settings("arbitrary_json")
@given(value=json_values, compact=st.booleans())
def test_arbitrary_json(value: Any, compact: bool) -> None:
    """Arbitrary JSON documents (NaN included) only ever raise a SnapshotError."""
    separators = (",", ":") if compact else None
    attempt("arbitrary_json", json.dumps(value, separators=separators))


snapshot_shaped = st.fixed_dictionaries(
    {
        "v": st.sampled_from([1, 1, 1, 2, 0, -1, "1", True, None, 1.0]),
        "kid": st.sampled_from(["k1", "k2", "k3", "", "k1\u00e9", 1]) | st.text(max_size=5),
        "env": st.dictionaries(st.text(max_size=10), json_values, max_size=4) | json_values,
        "sealed": st.text(B64_ALPHABET, max_size=120)
        | st.binary(min_size=28, max_size=300).map(
            lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        )
        | st.none()
        | st.integers(),
    }
)


@fuzz_settings("snapshot_shaped_json")
@given(doc=snapshot_shaped, drop=st.sampled_from([None, "v", "kid", "env", "sealed"]))
def test_snapshot_shaped_json(doc: dict[str, Any], drop: str | None) -> None:
    """Objects with the snapshot's members but no valid seal only ever raise a SnapshotError."""
    if drop is not None:
        del doc[drop]
    attempt("snapshot_shaped_json", json.dumps(doc, separators=(",", ":")))


@st.composite
def mutated_bytes(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A real snapshot and a copy of it with 1-4 byte-level edits."""
    original = draw(st.sampled_from(SAMPLES))
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["insert", "delete", "flip", "replace", "splice", "cut"]))
        at = draw(st.integers(0, len(data)))
        if kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=4) | st.sampled_from([b" ", b"\n"]))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif kind == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "replace" and at < len(data):
            data[at] = draw(st.sampled_from(b'0129aAzZ-_+/="\\{}[], \x00\xff'))
        elif kind == "splice":
            donor = draw(st.sampled_from(SAMPLES))
            start = draw(st.integers(0, len(donor)))
            data[at:] = donor[start:]
        elif kind == "cut":
            del data[at:]
    return original, bytes(data)


@fuzz_settings("mutated_bytes")
@given(pair=mutated_bytes(), as_text=st.booleans())
def test_mutated_bytes(pair: tuple[bytes, bytes], as_text: bool) -> None:
    """Byte edits of a real snapshot are refused unless they gave back the very same bytes."""
    _original, data = pair
    if as_text:
        attempt("mutated_bytes", data.decode("utf-8", "surrogateescape"))
    else:
        attempt("mutated_bytes", data)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document (keys and list indexes)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def mutated_json(draw: st.DrawFn) -> tuple[bytes, str]:
    """A real snapshot, and its JSON with one value replaced, dropped or a key added."""
    original = draw(st.sampled_from(SAMPLES))
    doc = json.loads(original)
    paths = [p for p in _paths(doc) if p]
    path = draw(st.sampled_from(paths))
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    action = draw(st.sampled_from(["replace", "replace", "drop", "add", "same"]))
    if action == "replace":
        parent[last] = draw(json_values)
    elif action == "drop":
        del parent[last]
    elif action == "add" and isinstance(parent, dict):
        parent[draw(st.text(max_size=6))] = draw(json_values)
    elif action == "add":
        parent.insert(last, draw(json_values))
    style = draw(st.sampled_from(["compact", "default", "sorted", "ascii-off"]))
    if style == "compact":
        text = json.dumps(doc, separators=(",", ":"))
    elif style == "default":
        text = json.dumps(doc)
    elif style == "sorted":
        text = json.dumps(doc, separators=(",", ":"), sort_keys=True)
    else:
        text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    return original, text


@fuzz_settings("mutated_json")
@given(pair=mutated_json())
def test_mutated_json(pair: tuple[bytes, str]) -> None:
    """JSON-level edits and re-serializations of a real snapshot load only if byte-identical."""
    _original, text = pair
    attempt("mutated_json", text)


def test_fuzz_reached_5000_cases() -> None:
    """When every fuzz test ran, at least 5,000 cases went through the loader."""
    summary = fuzz_summary()
    if set(summary["by_test"]) != set(EXAMPLES):
        pytest.skip("not every fuzz test ran in this session")
    assert summary["cases"] >= 5000
    assert summary["refused"] > 0.9 * summary["cases"]


def test_samples_load() -> None:
    """The fuzzers' seed snapshots are valid, so the mutations start from real snapshots."""
    for sample in SAMPLES:
        assert decode(sample, KEYRING, machine=MACHINE, accepted_hashes={HASH}, now=NOW)
