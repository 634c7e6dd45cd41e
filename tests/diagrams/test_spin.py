"""SPIN verifies the generated model of the real table and finds every bypass (needs spin, gcc)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from flowengine import _machine as m
from flowengine import _promela, cli
from flowengine._promela import SpinUnavailableError, promela_model, spin_check
from flowengine._review import spin_markdown
from flowengine.cli import _diagram_cmd
from tests.diagrams.test_review import BYPASSES

P1 = "P1 authenticated only after the first factor, and the second whenever MFA was asked"
P2_FINAL = "P2 no Auth0 request (no row) out of a final state"

#: What SPIN reports for each bypass: the violated property and the counterexample's text.
EXPECTED: dict[str, tuple[str | None, str]] = {
    "cancel_into_authenticated": (
        P1,
        "started --start_passwordless/code_sent--> code_sent --cancel/cancelled--> authenticated",
    ),
    "resend_into_authenticated": (
        P1,
        "started --start_passwordless/code_sent--> code_sent "
        "--resend_code/code_sent--> authenticated",
    ),
    "challenge_before_first_factor": (
        P1,
        "started --start_passwordless/code_sent--> code_sent --challenge/challenged--> "
        "challenge_pending --confirm_oob/tokens--> authenticated",
    ),
    "password_after_mfa_required": (
        P1,
        # SPIN's first trail: any first factor that answered mfa_required (login_password
        # or refresh), then the bypassing row
        "/mfa_required--> mfa_required --login_password/tokens--> authenticated",
    ),
    "mfa_required_means_authenticated": (
        P1,
        "started --start_passwordless/code_sent--> code_sent "
        "--verify_otp/mfa_required--> authenticated",
    ),
    "resend_out_of_expired": (P2_FINAL, "--> expired [then resend_code from expired]"),
    "leave_authenticated": (
        P2_FINAL,
        "/tokens--> authenticated [then enroll from authenticated]",
    ),
    # an unreachable state has no trail: SPIN's exhaustive search names the rows never taken
    "no_challenge": (None, "confirm_oob from challenge_pending"),
    "dead_end": (
        "P5 every live state has a way on",
        "--enroll/enrolled--> enrollment_pending",
    ),
    "undeclared_guard": ("P0 guard always is declared", "[then resend_code from code_sent]"),
}


def test_every_bypass_has_an_expected_spin_finding() -> None:
    """Each of the review's ten bypasses is checked by SPIN below."""
    assert set(EXPECTED) == set(BYPASSES)
    assert len(BYPASSES) == 10


def test_spin_verifies_the_real_table(tmp_path: Path) -> None:
    """SPIN explores the whole model of the real table and finds no error and no dead row."""
    report = spin_check()
    assert report.ok, report.summary()
    assert report.errors == 0 and not report.unreached_rows
    assert report.states_stored > 100_000  # two workers, crashes and lapses: not a toy
    assert report.depth > 0
    assert re.match(r"\d+\.\d+\.\d+", report.version)
    assert _diagram_cmd.spin_command(tmp_path / "spin.md") == 0
    text = (tmp_path / "spin.md").read_text()
    assert text == spin_markdown(report)
    assert f"| {report.version} | {report.states_stored} | {report.depth} | 0 |" in text
    assert "**All SPIN checks hold.**" in text


@pytest.mark.parametrize("name", list(BYPASSES))
def test_a_bypass_gives_a_spin_counterexample(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``review --spin`` exits 1 on each bypass and prints SPIN's finding as a machine path."""
    make, _ = BYPASSES[name]
    violation, shown = EXPECTED[name]
    assert _diagram_cmd.spin_command(tmp_path / "spin.md", make()) == 1
    err = capsys.readouterr().err
    assert "FAILED" in err and shown in err, err
    text = (tmp_path / "spin.md").read_text()
    assert "**FAILED: " in text and shown in text
    if violation is not None:
        assert f"violated: {violation}" in err
        assert "counterexample: started " in err
    else:
        assert "rows never taken in any run" in err


def test_a_store_without_the_intent_journal_repeats_a_send() -> None:
    """Without the intent journal, a takeover sends start_passwordless again, unrecorded."""
    report = spin_check(journal=False)
    assert report.violation == "P3 no remote effect repeated without an uncertain record"
    path = " ".join(report.counterexample)
    assert "sent start_passwordless" in path
    assert path.endswith("[then start_passwordless from started]")


def test_a_renewal_that_drops_a_dead_workers_intent_repeats_a_send() -> None:
    """If a renewal took over a lapsed claim without reading its intent, a send would repeat."""
    report = spin_check(renewal_keeps_intent=False)
    assert report.violation == "P3 no remote effect repeated without an uncertain record"
    path = " ".join(report.counterexample)
    assert "took over a lapsed claim" in path and "sent start_passwordless" in path
    assert path.endswith("[then start_passwordless from started]")


def test_a_claim_lapsing_during_a_request_allows_two_in_flight() -> None:
    """If a lease could lapse while its request is in flight, two requests would be in flight."""
    report = spin_check(lapse_in_flight=True)
    assert report.violation == "P4 at most one request in flight"
    assert "took over" in " ".join(report.counterexample)


def test_the_model_is_generated_from_the_table() -> None:
    """Every row, guard and doubt rule of the table has its part in the model."""
    model, rows = promela_model()
    assert sorted(rows.values()) == sorted(f"{e.trigger} from {e.source}" for e in m.EDGES)
    assert set(_promela._GUARD_EXPR) == set(m.GUARDS)
    for d in m.DOUBT.values():
        assert d.on_takeover.__name__ in _promela._DOUBT_STMT
        assert d.on_answerless.__name__ in _promela._DOUBT_STMT
    for s in m.STATES:
        assert f"#define S_{s} " in model
    assert promela_model()[0] == model  # deterministic text


def test_a_missing_spin_is_an_error_never_a_pass(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without spin the check raises and ``review --spin`` exits 2."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SpinUnavailableError, match="apt-get install spin gcc"):
        spin_check()
    assert _diagram_cmd.spin_command() == 2
    assert "not installed" in capsys.readouterr().err


def test_the_review_command_line_takes_spin(tmp_path: Path) -> None:
    """``flowengine review --spin --output FILE`` runs SPIN through the real parser."""
    assert cli.main(["review", "--spin", "--output", str(tmp_path / "s.md")]) == 0
    assert "## Model check (SPIN)" in (tmp_path / "s.md").read_text()
