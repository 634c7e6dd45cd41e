"""The review's repository properties: they hold on the real repository, fail without a check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from flowengine import _handle, _review, diagram
from flowengine._flow import Flow
from flowengine._handle import Handle
from flowengine._repository import FlowRepository
from flowengine.cli import _diagram_cmd
from flowengine.cli import main as cli_main

REPOSITORY_PROPERTIES = ("resume_needs_current_handle", "stored_rows_not_replayed")


def _properties() -> dict[str, _review.PropertyResult]:
    return {p.name: p for p in diagram.review_report().properties}


def test_both_repository_properties_hold_with_their_figures() -> None:
    """Every attempt was refused with its own error and the current handle was accepted."""
    props = _properties()
    resume, replay = (props[n] for n in REPOSITORY_PROPERTIES)
    assert resume.ok and replay.ok, (resume.detail, replay.detail)
    assert resume.title == "A flow resumes only with its current handle"
    assert replay.title == "Stored rows cannot be replayed"
    assert dict(resume.figures) == {"attempts": 11, "refusals": 11, "current_handle_accepted": 2}
    assert dict(replay.figures) == {"attempts": 4, "refusals": 4, "current_handle_accepted": 1}
    trials = _review.repository_trials()
    assert all(t.ok for t in trials)
    assert {t.expected for t in trials} == {
        "InvalidHandleError",
        "StaleHandleError",
        "SnapshotReplayError",
        "SnapshotTamperedError",
        "accepted",
    }


def test_the_review_is_deterministic_and_prints_no_handle_or_id() -> None:
    """Two runs give the same Markdown, and it holds no handle, flow id or session binding."""
    first = diagram.review_report().to_markdown()
    assert first == diagram.review_report().to_markdown()
    assert "### The repository checks" in first
    for t in _review.repository_trials():
        assert t.attempt in first
    for private in ("fh1_", "review-flow", "review-other", "session-a", "session-b"):
        assert private not in first


def _lenient_begin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop both seq checks: every handle is treated as naming the stored revision."""
    real = FlowRepository._begin

    def begin(
        self: FlowRepository, handle: str, binding: str | None, expected_seq: int | None
    ) -> tuple[Flow, tuple[str, int]]:
        h = Handle.decode(handle, self.keyring)
        seq = self.store.load(h.flow_id).seq
        return real(self, Handle(h.flow_id, seq, h.secret).encode(self.keyring), binding, None)

    monkeypatch.setattr(FlowRepository, "_begin", begin)


def _matches_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop the binding check: any handle's secret and any binding resume any flow."""
    monkeypatch.setattr(Handle, "matches", lambda self, stored, binding: True)


def _untagged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop the key from the tag: anyone can re-tag a handle (and raise its seq)."""
    import hashlib

    monkeypatch.setattr(
        _handle, "_tag", lambda keyring, kid, body: hashlib.sha256(body).digest()[:16]
    )


BYPASSES: dict[str, tuple[Callable[[pytest.MonkeyPatch], None], set[str], set[str]]] = {
    # the check removed, the properties that must fail, attempts that must then be let in
    "no_seq_checks": (
        _lenient_begin,
        {"resume_needs_current_handle", "stored_rows_not_replayed"},
        {
            "the previous handle after that step",
            "a step with the current handle after the first row was written back",
        },
    ),
    "handle_matches_everything": (
        _matches_everything,
        {"resume_needs_current_handle"},
        {"another flow's handle with this flow's binding"},
    ),
    "tag_without_key": (
        _untagged,
        {"resume_needs_current_handle"},
        {"the right handle with its seq raised, tagged with another key"},
    ),
}


@pytest.mark.parametrize("name", list(BYPASSES))
def test_a_removed_repository_check_fails_the_review(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the check the review reports the property failed, and `flowengine review` exits 1."""
    patch, broken, let_in = BYPASSES[name]
    patch(monkeypatch)
    report = diagram.review_report()
    assert not report.ok
    assert {p.name for p in report.failed} == broken
    missed = {t.attempt for t in report.trials if not t.ok}
    assert let_in <= missed, missed
    assert _diagram_cmd.review_command(tmp_path / "review.md") == 1
    text = (tmp_path / "review.md").read_text()
    assert "**FAILED: " in text and all(n in text for n in broken)
    assert cli_main(["review", "--output", str(tmp_path / "again.md")]) == 1
    assert "fh1_" not in text


def test_a_failing_trial_is_reported_with_what_it_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refusal of the wrong kind (or an acceptance) is named in the property's detail."""
    _lenient_begin(monkeypatch)
    detail = {p.name: p for p in diagram.review_report().failed}["stored_rows_not_replayed"].detail
    assert (
        "a step with the current handle after the first row was written back: "
        "expected SnapshotReplayError, got accepted"
    ) in detail
