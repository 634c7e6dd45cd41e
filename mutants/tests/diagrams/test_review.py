"""The security review: its properties hold on the real table and fail on every bypass."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from transitions import Machine

from flowengine import _machine as m
from flowengine import _review, diagram
from flowengine._config import Auth0Config
from flowengine._errors import FlowEndedError
from flowengine._flow import Flow
from flowengine._snapshot import SECRET_FIELDS
from flowengine._wire import Answer as Outcome
from flowengine.cli import _diagram_cmd
from tests.unit.flowstates import OUTCOME_DATA, PARAMS, context_for, factor_for, flow_in

REPORT = diagram.review_report()
PROPERTIES = {p.name: p for p in REPORT.properties}


def test_every_property_holds_on_the_real_table() -> None:
    """The running machine passes every checked property."""
    assert REPORT.ok, [(p.name, p.detail) for p in REPORT.failed]
    assert set(PROPERTIES) == {
        "table_well_formed",
        "machine_is_table",
        "first_factor",
        "second_factor_after_mfa",
        "authenticated_only_on_tokens",
        "no_callless_success",
        "all_reachable",
        "no_dead_end",
        "final_states_closed",
        "illegal_pairs_rejected",
        "no_auto_transitions",
        "secrets_sealed",
        "doubt_never_advances",
        "resume_needs_current_handle",
        "stored_rows_not_replayed",
    }


def test_the_search_examined_every_path_it_claims() -> None:
    """The path figures are consistent and cover every way into every final state."""
    f = REPORT.paths
    assert not f.truncated
    assert f.paths > 1000
    assert f.arrivals == f.arrivals_after_mfa + f.arrivals_without_mfa > 0
    assert f.arrivals_after_mfa > 0 and f.arrivals_without_mfa > 0
    assert sum(f.ends.values()) == f.paths
    assert set(f.ends) == set(m.FINAL_STATES)  # every complete path ends in a final state
    assert f.with_self_loop > 0
    assert PROPERTIES["first_factor"].figures["paths_examined"] == f.paths
    assert PROPERTIES["second_factor_after_mfa"].figures["entries_after_mfa"] == (
        f.arrivals_after_mfa
    )


def test_illegal_pair_count_matches_the_table() -> None:
    """Illegal pairs = |STATES| x |TRIGGERS| - legal pairs, and the machine refused each."""
    figures = PROPERTIES["illegal_pairs_rejected"].figures
    legal = len({(e.source, e.trigger) for e in m.EDGES})
    assert figures["pairs"] == len(m.STATES) * len(m.TRIGGERS)
    assert figures["legal"] == legal
    assert figures["illegal_rejected"] == len(m.STATES) * len(m.TRIGGERS) - legal


def test_markdown_shows_the_figures_the_tables_and_the_hash() -> None:
    """The Markdown carries the hash, every figure, every state, transition and secret."""
    text = REPORT.to_markdown()
    assert m.MACHINE_HASH in text
    assert f"Complete paths examined: {REPORT.paths.paths}" in text
    assert "All 15 properties hold." in text
    for p in REPORT.properties:
        assert p.title.replace("|", "\\|") in text
        for value in p.figures.values():
            assert str(value) in text
    for s in m.STATES:
        assert f"| `{s}` |" in text
    rows = [line for line in text.splitlines() if line.startswith("| `") and "→ `" in line]
    assert len(rows) == sum(len(e.outcomes) for e in m.EDGES)
    for e in REPORT.inventory:
        assert f"| `{e.secret}` |" in text


def _replace(
    edges: tuple[m.Edge, ...], trigger: str, source: str, **changes: Any
) -> tuple[m.Edge, ...]:
    """A copy of ``edges`` with the (trigger, source) edge changed (or dropped if None)."""
    out = []
    for e in edges:
        if (e.trigger, e.source) == (trigger, source):
            if changes.get("outcomes", 1) is None:
                continue
            e = attrs.evolve(e, **changes)
        out.append(e)
    return tuple(out)


BYPASSES: dict[str, tuple[Callable[[], tuple[m.Edge, ...]], set[str]]] = {
    # the issue's own example: cancelling a code-sent flow lands in authenticated
    "cancel_into_authenticated": (
        lambda: _replace(m.EDGES, "cancel", m.CODE_SENT, outcomes={"cancelled": m.AUTHENTICATED}),
        {"first_factor", "no_callless_success", "authenticated_only_on_tokens"},
    ),
    # a resend that "succeeds" into authenticated
    "resend_into_authenticated": (
        lambda: _replace(
            m.EDGES, "resend_code", m.CODE_SENT, outcomes={"code_sent": m.AUTHENTICATED}
        ),
        {"first_factor", "authenticated_only_on_tokens"},
    ),
    # skip the first factor: challenge MFA straight from code_sent, then confirm with tokens
    "challenge_before_first_factor": (
        lambda: (*m.EDGES, m.Edge("challenge", m.CODE_SENT, {"challenged": m.CHALLENGE_PENDING})),
        {"first_factor"},
    ),
    # skip the second factor: after mfa_required, a password login hands out tokens
    "password_after_mfa_required": (
        lambda: (*m.EDGES, m.Edge("login_password", m.MFA_REQUIRED, {"tokens": m.AUTHENTICATED})),
        {"second_factor_after_mfa"},
    ),
    # skip the second factor: Auth0's MFA demand itself is taken as success
    "mfa_required_means_authenticated": (
        lambda: _replace(
            m.EDGES,
            "verify_otp",
            m.CODE_SENT,
            outcomes={
                **m.EDGE_INDEX[("verify_otp", m.CODE_SENT)].outcomes,
                "mfa_required": m.AUTHENTICATED,
            },
        ),
        {"second_factor_after_mfa", "authenticated_only_on_tokens"},
    ),
    # a way out of a final state
    "resend_out_of_expired": (
        lambda: (*m.EDGES, m.Edge("resend_code", m.EXPIRED, {"code_sent": m.CODE_SENT})),
        {"final_states_closed"},
    ),
    "leave_authenticated": (
        lambda: (*m.EDGES, m.Edge("enroll", m.AUTHENTICATED, {"enrolled": m.ENROLLMENT_PENDING})),
        {"final_states_closed"},
    ),
    # a removed edge leaves a state unreachable
    "no_challenge": (
        lambda: _replace(m.EDGES, "challenge", m.MFA_REQUIRED, outcomes=None),
        {"all_reachable"},
    ),
    # a live state with no way out
    "dead_end": (
        lambda: tuple(e for e in m.EDGES if e.source != m.ENROLLMENT_PENDING),
        {"no_dead_end"},
    ),
    # a name the table does not declare
    "undeclared_guard": (
        lambda: _replace(m.EDGES, "resend_code", m.CODE_SENT, guards=("always",)),
        {"table_well_formed"},
    ),
}


@pytest.mark.parametrize("name", list(BYPASSES))
def test_a_bypass_makes_the_review_fail(name: str, tmp_path: Path) -> None:
    """A changed copy of the table fails the properties it breaks, and the command exits 1."""
    make, expected = BYPASSES[name]
    edges = make()
    assert edges != m.EDGES
    report = diagram.review_report(edges, machine=_machine_for(edges))
    failed = {p.name for p in report.failed}
    assert not report.ok
    assert expected <= failed, failed
    assert _diagram_cmd.review_command(tmp_path / "review.md", edges) == 1
    assert "**FAILED: " in (tmp_path / "review.md").read_text()


def _machine_for(edges: tuple[m.Edge, ...]) -> Machine:
    """A machine for ``edges``; undeclared guards get a stand-in so the build succeeds."""
    guards = {g for e in edges for g in e.guards} - set(m.GUARDS)
    if not guards:
        return m.build_machine(edges)
    stripped = tuple(
        attrs.evolve(e, guards=tuple(g for g in e.guards if g in m.GUARDS)) for e in edges
    )
    return m.build_machine(stripped)


def test_a_bypass_counterexample_is_shown() -> None:
    """A failing path property names the shortest run from ``started`` that breaks it."""
    edges, _ = BYPASSES["challenge_before_first_factor"]
    report = diagram.review_report(edges())
    detail = next(p.detail for p in report.failed if p.name == "first_factor")
    assert detail.startswith(
        "counterexample: started --start_passwordless/code_sent--> code_sent "
        "--challenge/challenged--> challenge_pending --confirm_oob/tokens--> authenticated"
    )


def test_a_transition_added_straight_to_the_machine_fails_the_review() -> None:
    """The review reads the running machine: a transition the table lacks is caught."""
    machine = m.build_machine()
    machine.add_transition("verify_otp", m.STARTED, m.AUTHENTICATED)
    report = diagram.review_report(m.EDGES, machine=machine)
    failed = {p.name for p in report.failed}
    assert {"machine_is_table", "illegal_pairs_rejected"} <= failed


def test_auto_transitions_fail_the_review() -> None:
    """A machine built with ``to_<state>`` shortcuts fails ``no_auto_transitions``."""
    machine = Machine(
        model=None,
        states=list(m.STATES),
        initial=m.STARTED,
        transitions=m.transitions_table(),
        auto_transitions=True,
        send_event=True,
    )
    report = diagram.review_report(m.EDGES, machine=machine)
    assert "no_auto_transitions" in {p.name for p in report.failed}


def test_review_command_passes_on_the_real_table(tmp_path: Path) -> None:
    """``flowengine review`` exits 0 on the real table and writes the report."""
    assert _diagram_cmd.review_command(tmp_path / "r.md") == 0
    assert (tmp_path / "r.md").read_text() == REPORT.to_markdown()
    assert _diagram_cmd.main(["--review", "--output", str(tmp_path / "r2.md")]) == 0


# ------------------------------------------------------- secrets inventory

CFG = Auth0Config("tenant.example.auth0.com", "app-id", "app-secret")
NOW = 1_800_000_000.0
#: One recognisable value per secret, and the secret it stands for.
MARKERS = {
    "MARK-OTP-913572": "otp",
    "MARK-BIND-624801": "binding_code",
    "MARK-RECOVERY-IN": "recovery_code",
    "MARK-RECOVERY-OUT": "recovery_code",
    "MARK-PASSWORD": "password",
    "mark-user@example.com": "username",
    "+15550199": "phone_number",
    "MARK-MFA-TOKEN": "mfa_token",
    "MARK-MFA-AT": "mfa_token",
    "MARK-ACCESS-TOKEN": "tokens",
    "MARK-OOB-CODE": "oob_code",
    "MARK-TOTP-SECRET": "totp_secret",
    "otpauth://MARK-BARCODE": "barcode_uri",
    "MARK-RECOVERY-CODES": "recovery_codes",
}


def _params(trigger: str) -> dict[str, Any]:
    params = dict(PARAMS[trigger])
    for key, value in (
        ("otp", "MARK-OTP-913572"),
        ("binding_code", "MARK-BIND-624801"),
        ("recovery_code", "MARK-RECOVERY-IN"),
        ("password", "MARK-PASSWORD"),
        ("username", "mark-user@example.com"),
        ("phone_number", "+15550199"),
    ):
        if key in params:
            params[key] = value
    return params


def _outcomes(kind: str) -> list[dict[str, Any]]:
    data = json.loads(json.dumps(OUTCOME_DATA[kind]))
    if kind == "tokens":
        data["tokens"].update(access_token="MARK-ACCESS-TOKEN", recovery_code="MARK-RECOVERY-OUT")
    if kind == "mfa_required":
        data["mfa_token"] = "MARK-MFA-TOKEN"
    if kind == "mfa_access_token":
        data["tokens"]["access_token"] = "MARK-MFA-AT"
    if kind in ("enrolled", "challenged"):
        data["oob_code"] = "MARK-OOB-CODE"
    if kind == "enrolled":
        totp = {
            "authenticator_type": "otp",
            "factor": "otp",
            "totp_secret": "MARK-TOTP-SECRET",
            "barcode_uri": "otpauth://MARK-BARCODE",
            "recovery_codes": ["MARK-RECOVERY-CODES"],
        }
        return [data, totp]
    return [data]


def _where(context: dict[str, Any]) -> set[tuple[str, str]]:
    """(secret, top-level context key) for every marker found in ``context``."""
    return {
        (secret, key)
        for key, value in context.items()
        for marker, secret in MARKERS.items()
        if marker in json.dumps(value, default=str)
    }


def test_secrets_inventory_matches_what_flows_keep() -> None:
    """Running every row with marked secrets, each lands only in the context keys listed."""
    homes = {s: keys for s, (keys, _) in diagram.SECRET_HOMES.items()}
    seen: set[tuple[str, str]] = set()
    for edge in m.EDGES:
        for kind in edge.outcomes:
            for data in _outcomes(kind):
                flow: Flow = flow_in(edge.source, factor_for(edge), **context_for(edge))
                step = flow.prepare(edge.trigger, _params(edge.trigger), CFG, NOW)
                with contextlib.suppress(FlowEndedError):  # failures still change the flow
                    flow.apply_outcome(step, Outcome(kind, data, 200), NOW)
                for ctx in (flow.context, *(h.get("context") or {} for h in flow.history)):
                    seen |= _where(ctx)
    stray = {(s, k) for s, k in seen if k not in homes[s]}
    assert not stray, f"secrets kept where the inventory does not say: {stray}"
    kept = {(s, k) for s, keys in homes.items() for k in keys}
    assert {
        ("phone_number", "phone_number"),
        ("username", "username"),
        ("mfa_token", "mfa_token"),
        ("oob_code", "oob_code"),
        ("tokens", "tokens"),
    } <= seen
    assert seen <= kept
    assert {k for _, k in seen} <= SECRET_FIELDS


def test_inventory_lists_every_secret_a_trigger_names() -> None:
    """Each secret in any trigger's secrets_in/out has an inventory row and a known home."""
    named = {s for t in m.TRIGGERS.values() for s in (*t.secrets_in, *t.secrets_out)}
    assert {e.secret for e in REPORT.inventory} == named
    assert named <= set(diagram.SECRET_HOMES)
    for e in REPORT.inventory:
        assert e.sealed, e
        if e.secret in diagram.CODE_SECRETS - {"recovery_code"}:
            assert e.context_keys == () and e.snapshot() == "never stored"


def test_a_secret_kept_in_clear_fails_the_review(monkeypatch: pytest.MonkeyPatch) -> None:
    """If a kept secret's context key left SECRET_FIELDS, ``secrets_sealed`` would fail."""
    monkeypatch.setattr(_review, "SECRET_FIELDS", SECRET_FIELDS - {"mfa_token"})
    report = diagram.review_report()
    assert {p.name for p in report.failed} == {"secrets_sealed"}
    assert "**CLEAR JSON**" in report.to_markdown()


@pytest.mark.parametrize(
    ("trigger", "change"),
    [
        ("resend_code", {"second_factor": "confirm_oob"}),
        ("challenge", {"mfa_token": None}),
        ("verify_otp", {"code_attempts": 0}),
        ("start_passwordless", {"send_unconfirmed": False}),
    ],
)
def test_a_doubt_rule_that_advances_a_flow_fails_the_review(
    monkeypatch: pytest.MonkeyPatch, trigger: str, change: dict[str, object]
) -> None:
    """A DOUBT rule that sets a factor, drops a credential or widens a guard fails the review."""
    bad = attrs.evolve(
        m.DOUBT[trigger], on_takeover=lambda ctx, state, params: ctx.evolve(**change)
    )
    monkeypatch.setattr(m, "DOUBT", {**m.DOUBT, trigger: bad})
    report = diagram.review_report()
    assert {p.name for p in report.failed} == {"doubt_never_advances"}
    assert trigger in report.failed[0].detail


@pytest.mark.parametrize(
    ("trigger", "state", "moves"),
    [
        ("confirm_oob", "challenge_pending", (("confirm_otp", "authenticated"),)),
        ("verify_otp", "code_sent", (("verify_otp", "mfa_required"),)),
        ("enroll", "mfa_required", (("rollback", "started"),)),
        ("challenge", "mfa_required", ()),
    ],
)
def test_a_bad_way_on_after_a_doubt_fails_the_review(
    monkeypatch: pytest.MonkeyPatch, trigger: str, state: str, moves: tuple[tuple[str, str], ...]
) -> None:
    """A way on that wins, is refused by its guards, is no rollback, or is missing fails."""
    doubt = m.DOUBT[trigger]
    bad = attrs.evolve(doubt, recovery={**doubt.recovery, state: moves})
    monkeypatch.setattr(m, "DOUBT", {**m.DOUBT, trigger: bad})
    report = diagram.review_report()
    assert {p.name for p in report.failed} == {"doubt_never_advances"}
    assert f"{trigger} in {state}" in report.failed[0].detail
