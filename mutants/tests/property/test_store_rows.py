"""Tampered store rows: what the repository loads from SQLite is what it saved, or nothing.

The snapshot loader itself is fuzzed in ``tests/unit/test_snapshot_fuzz.py``; this adds
the store around it: the ``data`` of a real SQLite row is edited in the database file
(characters inserted, deleted, replaced, cut, spliced from another flow's row), and both
``FlowRepository.get`` and ``FlowRepository.step`` must refuse it with a SnapshotError,
before any claim or request. Editing only the listing columns (state, expires_at,
updated_at) changes nothing that is loaded. A row holding another flow's (or an older)
genuine snapshot must be refused too.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowengine import SnapshotError, StoreError
from flowengine._flow import Flow
from flowengine._repository import FlowRepository
from flowengine.stores import SQLiteStore
from tests.summary import record

from .harness import KEYRING, PHONE, PHONE2, Rig


class Tenant:
    """A SQLite-backed repository with two real flows: A in enrollment_pending, B in code_sent."""

    def __init__(self, directory: Path) -> None:
        self.rig = Rig("sync")
        self.rig.seed_users("new")
        self.path = directory / "flows.db"
        self.store = SQLiteStore(self.path)
        self.repo = FlowRepository(self.store, KEYRING, clock=self.rig.clock.time)
        a = self.rig.new_flow("fl_a")
        handle = self.repo.add(a)
        self.older_a = self.store.load("fl_a").data
        with self.repo.step(handle) as flow:
            self.rig.call("start_passwordless", flow, connection="sms", phone_number=PHONE)
        with self.repo.step(flow.handle) as flow:
            self.rig.call("verify_otp", flow, self.rig.emu.last_code(PHONE))
        with self.repo.step(flow.handle) as flow:
            self.rig.call("enroll", flow, "sms", phone_number=PHONE2)
        b = self.rig.new_flow("fl_b")
        self.rig.call("start_passwordless", b, connection="email", email="bob@example.org")
        #: The current resume handle of each flow: every refusal below is about the row,
        #: never about the handle.
        self.handles = {"fl_a": flow.handle, "fl_b": self.repo.add(b)}
        self.rows = {fid: self.store.load(fid) for fid in ("fl_a", "fl_b")}
        self.flows = {fid: self.repo.get(fid).to_envelope() for fid in ("fl_a", "fl_b")}

    def write(self, flow_id: str, **columns: object) -> None:
        """Overwrite columns of a row directly in the database file."""
        sets = ", ".join(f"{name} = ?" for name in columns)
        with sqlite3.connect(self.path) as conn:
            conn.execute(f"UPDATE flows SET {sets} WHERE flow_id = ?", (*columns.values(), flow_id))
        conn.close()

    def restore(self) -> None:
        """Put both rows back as they were saved."""
        for fid, row in self.rows.items():
            self.write(
                fid,
                seq=row.seq,
                state=row.state,
                expires_at=row.expires_at,
                updated_at=row.updated_at,
                data=row.data,
                claim_token=None,
                claim_expires=None,
            )

    def refuses(self, flow_id: str) -> None:
        """get and step both raise a SnapshotError; no request leaves, no claim is left."""
        sent = len(self.rig.emu.requests)
        with pytest.raises(SnapshotError):
            self.repo.get(flow_id)
        with pytest.raises(SnapshotError), self.repo.step(self.handles[flow_id]) as flow:
            self.rig.call("resend_code", flow)
        assert len(self.rig.emu.requests) == sent


@pytest.fixture(scope="module")
def tenant() -> Iterator[Tenant]:
    """One repository for the module (hypothesis reuses it; each example restores the rows)."""
    with tempfile.TemporaryDirectory() as tmp:
        made = Tenant(Path(tmp))
        yield made
        made.store.close()
        made.rig.close()


ALPHABET = '{}[]",:0123456789abcdefABCDEF-_=+/ \\\x00\x7f\u00e9\u2028'


@st.composite
def edited(draw: st.DrawFn, data: str, donor: str) -> str:
    """``data`` with 1-3 edits: insert, delete, replace, cut, splice from ``donor``, swap case."""
    text = data
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "cut", "splice", "case"]))
        if kind == "insert":
            text = text[:at] + draw(st.text(ALPHABET, min_size=1, max_size=3)) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 6)) :]
        elif kind == "replace" and at < len(text):
            text = text[:at] + draw(st.sampled_from(ALPHABET)) + text[at + 1 :]
        elif kind == "cut":
            text = text[:at]
        elif kind == "splice":
            start = draw(st.integers(0, len(donor)))
            text = text[:at] + donor[start:]
        elif kind == "case" and at < len(text):
            text = text[:at] + text[at].swapcase() + text[at + 1 :]
    return text


ROW_FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@ROW_FUZZ
@given(data=st.data(), which=st.sampled_from(["fl_a", "fl_b"]))
def test_tampered_row_data_is_refused(tenant: Tenant, data: st.DataObject, which: str) -> None:
    """An edited snapshot in a row is refused by get and step; an unedited one loads as saved."""
    other = "fl_b" if which == "fl_a" else "fl_a"
    original = tenant.rows[which].data
    text = data.draw(edited(original, tenant.rows[other].data))
    try:
        tenant.write(which, data=text)
        if text == original:
            assert tenant.repo.get(which).to_envelope() == tenant.flows[which]
            return
        record("store_rows", cases=1)
        tenant.refuses(which)
        record("store_rows", refused=1)
    finally:
        tenant.restore()


@settings(max_examples=60, deadline=None)
@given(
    which=st.sampled_from(["fl_a", "fl_b"]),
    state=st.sampled_from(["authenticated", "started", "expired", "x"]),
    shift=st.floats(-1e6, 1e6, allow_nan=False),
)
def test_listing_columns_do_not_change_what_loads(
    tenant: Tenant, which: str, state: str, shift: float
) -> None:
    """The state and time columns are for listing and sweeping: the snapshot decides the flow."""
    row = tenant.rows[which]
    try:
        tenant.write(which, state=state, updated_at=row.updated_at + shift, expires_at=None)
        loaded = tenant.repo.get(which)
        assert loaded.to_envelope() == tenant.flows[which]
    finally:
        tenant.restore()


def test_a_row_holding_another_flows_snapshot_is_refused(tenant: Tenant) -> None:
    """B's row with A's genuine snapshot: loading it as B must fail, and nothing is sent.

    (It used to load flow A for id "fl_b", and a step on it called Auth0 for the wrong flow.)
    """
    try:
        tenant.write("fl_b", data=tenant.rows["fl_a"].data)
        record("store_rows", cases=1)
        tenant.refuses("fl_b")
        record("store_rows", refused=1)
    finally:
        tenant.restore()


def test_a_row_holding_an_older_snapshot_is_refused(tenant: Tenant) -> None:
    """A's row with A's own snapshot from seq 0 under the current seq: refused.

    (It used to load, and its step was sent to Auth0 before the save noticed.)
    """
    try:
        tenant.write("fl_a", data=tenant.older_a)
        record("store_rows", cases=1)
        sent = len(tenant.rig.emu.requests)
        with (
            pytest.raises((SnapshotError, StoreError)),
            tenant.repo.step(tenant.handles["fl_a"]) as flow,
        ):
            assert flow.seq == tenant.rows["fl_a"].seq, "an older snapshot was loaded"
            tenant.rig.call("start_passwordless", flow, connection="sms", phone_number=PHONE)
        assert len(tenant.rig.emu.requests) == sent
        record("store_rows", refused=1)
    finally:
        tenant.restore()


def test_loads_from_the_database_file_match_what_was_saved(tenant: Tenant) -> None:
    """Sanity: untouched rows load back exactly (so the refusals above are about the edits)."""
    for fid in ("fl_a", "fl_b"):
        loaded: Flow = tenant.repo.get(fid)
        assert loaded.to_envelope() == tenant.flows[fid]
    assert tenant.flows["fl_a"]["state"] == "enrollment_pending"
