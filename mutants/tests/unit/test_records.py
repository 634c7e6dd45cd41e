"""Every trigger is written completely, in one place; every context field declares its secrecy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import pytest

from flowengine import _context, _machine, _snapshot, _wire
from flowengine._async import AsyncFlowClient
from flowengine._context import Context
from flowengine._step_methods import FlowSteps
from flowengine._sync import FlowClient


def missing_pieces(
    triggers: Mapping[str, _machine.TriggerSpec] = _machine.TRIGGERS,
    edges: tuple[_machine.Edge, ...] = _machine.EDGES,
    wire: Mapping[str, _wire.Wire] = _wire.WIRE,
    effects: Mapping[str, Any] = _machine.EFFECTS,
    guards: Mapping[str, _machine.Guard] = _machine.GUARD_RECORDS,
    deadlines: Mapping[str, Any] = _machine.DEADLINES,
) -> list[str]:
    """Every piece a trigger needs that is absent, as readable lines (empty when complete)."""
    out: list[str] = []
    for t in _machine.Trigger:
        spec = triggers.get(t)
        if spec is None:
            out.append(f"{t}: no TriggerSpec record in TRIGGERS")
            continue
        if not spec.summary:
            out.append(f"{t}: no summary")
        if not any(e.trigger == t for e in edges):
            out.append(f"{t}: no edge in EDGES")
        if spec.call is not None:
            if t not in _machine.DOUBT:
                out.append(f"{t}: calls Auth0 but declares no DOUBT rule")
            w = wire.get(t)
            if w is None or not (w.build and w.success and w.errors):
                out.append(f"{t}: no complete Wire record (builder, parser, error map)")
            if not spec.remote_undoable and spec.remote_effect == "none":
                out.append(f"{t}: says rollback cannot undo it but names no remote effect")
        elif t in wire:
            out.append(f"{t}: makes no call but has a Wire record")
    for e in edges:
        for g in e.guards:
            rec = guards.get(g)
            if rec is None or not rec.hint:
                out.append(f"{e.trigger}: guard {g} has no record with a hint")
        for outcome in e.outcomes:
            if outcome not in effects:
                out.append(f"{e.trigger}: outcome {outcome} has no context effect")
    for s in _machine.State:
        if s not in deadlines:
            out.append(f"state {s}: no deadline rule")
    return out


def test_every_trigger_is_complete() -> None:
    """Each trigger has its record, edges, wire pair, guard hints, outcome effects and deadlines."""
    assert missing_pieces() == []


@pytest.mark.parametrize(
    "remove",
    ["trigger", "wire", "effect", "guard", "deadline"],
)
def test_an_incomplete_trigger_is_reported(remove: str) -> None:
    """Taking away any one piece of a trigger makes the completeness check fail."""
    triggers = dict(_machine.TRIGGERS)
    wire = dict(_wire.WIRE)
    effects = dict(_machine.EFFECTS)
    guards = dict(_machine.GUARD_RECORDS)
    deadlines = dict(_machine.DEADLINES)
    if remove == "trigger":
        del triggers["enroll"]
    elif remove == "wire":
        del wire["confirm_oob"]
    elif remove == "effect":
        del effects["challenged"]
    elif remove == "guard":
        guards["poll_due"] = attrs.evolve(guards["poll_due"], hint="")
    else:
        del deadlines["code_sent"]
    found = missing_pieces(triggers, _machine.EDGES, wire, effects, guards, deadlines)
    assert len(found) >= 1


def test_enums_match_the_table() -> None:
    """The State, Trigger and Outcome enums name exactly what the table uses."""
    assert {str(s) for s in _machine.State} == set(_machine.STATES)
    assert {str(t) for t in _machine.Trigger} == set(_machine.TRIGGERS)
    used = {o for e in _machine.EDGES for o in e.outcomes}
    assert used == {str(o) for o in _machine.Outcome}
    assert set(_machine.EFFECTS) == used


def test_every_calling_trigger_has_a_method_on_both_clients() -> None:
    """A trigger that calls Auth0 is a public step method of the sync and async clients."""
    for name, spec in _machine.TRIGGERS.items():
        if spec.call is None:
            continue
        assert callable(getattr(FlowSteps, name, None)) or callable(getattr(FlowClient, name))
        assert callable(getattr(AsyncFlowClient, name))


def test_every_context_field_declares_its_secrecy() -> None:
    """Each Context field carries the metadata; a secret says how long it is kept."""
    for f in attrs.fields(Context):
        meta = f.metadata.get("flowengine")
        assert meta is not None, f"{f.name}: declare it with _field(secret=...)"
        assert isinstance(meta["secret"], bool)
        if meta["secret"]:
            assert meta["kept"], f"{f.name}: a secret field must say how long it is kept"
            assert not meta["shown"], f"{f.name}: a secret is never shown"
            assert f.repr is False, f"{f.name}: a secret stays out of the repr"


def test_a_field_without_metadata_is_refused() -> None:
    """A context class with a field added the plain attrs way fails the declaration check."""

    @attrs.frozen
    class Widened(Context):
        extra: str | None = None

    fields = [f for f in attrs.fields(Widened) if "flowengine" not in f.metadata]
    assert [f.name for f in fields] == ["extra"]


def test_secret_lists_are_derived_from_the_context() -> None:
    """The codec's SECRET_FIELDS and the CLI's shown fields come from the field metadata."""
    secret = {f.name for f in attrs.fields(Context) if f.metadata["flowengine"]["secret"]}
    assert secret == _snapshot.SECRET_FIELDS == _context.SECRET_FIELDS
    assert {
        "binding",
        "mfa_token",
        "oob_code",
        "tokens",
        "phone_number",
        "email",
        "username",
    } == secret
    assert not set(_context.SHOWN_FIELDS) & secret
    from flowengine.cli import _flowcmd

    assert _flowcmd.SHOW_CONTEXT_FIELDS == _context.SHOWN_FIELDS


def test_context_round_trips_through_its_snapshot_form() -> None:
    """to_json then from_json gives the same context; unknown or mistyped fields are refused."""
    from flowengine._errors import SnapshotMalformedError

    ctx = Context(
        connection="sms",
        phone_number="+15550100",
        code_attempts=2,
        code_expires_at=1.5,
        tokens={"access_token": "at"},
        uncertain=_context.Uncertain("resend_code", 3.0),
    )
    assert Context.from_json(ctx.to_json()) == ctx
    with pytest.raises(SnapshotMalformedError):
        Context.from_json({"no_such_field": 1})
    with pytest.raises(SnapshotMalformedError):
        Context.from_json({"code_attempts": "2"})
    with pytest.raises(SnapshotMalformedError):
        Context.from_json({"send_unconfirmed": 1})


def test_secret_fields_stay_out_of_the_repr() -> None:
    """repr(Context) names no secret value."""
    ctx = Context(mfa_token="Fe26.SECRET-mfa", oob_code="SECRET-oob", email="a@b.example")
    text = repr(ctx)
    assert "SECRET" not in text and "a@b.example" not in text
