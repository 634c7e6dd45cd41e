"""The machine's table as the diagrams and the security review read it.

Theory of operation
-------------------
``flowengine._machine.EDGES`` declares each edge once, with every outcome kind
it can end in. The diagrams and the review want it two other ways, both
computed here and nowhere else:

* ``table_rows``: one ``Row`` per (edge, outcome), the unit the
  review's path search walks; ``machine_rows`` reads the same rows back out
  of a built ``transitions`` machine (its conditions name the outcome and the
  guards), so the review can prove the running machine *is* the table.
* ``drawn_edges``: one ``DrawnEdge`` per distinct (source, trigger,
  destination), the unit the diagrams draw, with its label parts (the call,
  the outcomes, secrets going in and tokens coming out).

Only names are read: the trigger declarations in ``TRIGGERS`` say which
secrets a trigger takes and hands out, never what they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs
from transitions import Machine

from flowengine import _machine as m

__all__ = [
    "CODE_SECRETS",
    "DrawnEdge",
    "NO_CALL",
    "REGENERATE_COMMAND",
    "Row",
    "call_text",
    "declared_trigger",
    "drawn_edges",
    "machine_rows",
    "machine_transitions",
    "table_rows",
]

#: The command that regenerates the committed diagrams and review (stamped into each).
REGENERATE_COMMAND: Final = "python -m flowengine.diagram --write diagrams/"
#: Secrets the user types: marked "secret in" on the edges of the triggers that take them.
CODE_SECRETS: Final = frozenset({"otp", "binding_code", "recovery_code", "password"})
#: What a label says for a trigger that makes no Auth0 call (cancel, expire).
NO_CALL: Final = "no Auth0 call"


@attrs.frozen(order=True)
class Row:
    """One transition: ``trigger`` in ``source`` with ``outcome`` lands in ``dest``."""

    source: str
    trigger: str
    outcome: str
    dest: str
    guards: tuple[str, ...] = ()


def table_rows(edges: Sequence[m.Edge] = m.EDGES) -> tuple[Row, ...]:
    """The table's rows, one per (edge, outcome), in table order."""
    return tuple(
        Row(e.source, e.trigger, kind, dest, tuple(e.guards))
        for e in edges
        for kind, dest in e.outcomes.items()
    )


def machine_transitions(machine: Machine = m.MACHINE) -> frozenset[tuple[str, str, str]]:
    """The (source, trigger, dest) triples of a ``transitions`` machine, read from the machine."""
    return frozenset(
        (source, name, t.dest if t.dest is not None else source)
        for name, event in machine.events.items()
        for source, transitions in event.transitions.items()
        for t in transitions
    )


def machine_rows(machine: Machine = m.MACHINE) -> tuple[Row, ...]:
    """The machine's transitions as rows, the outcome and guards read from its conditions.

    A transition without an ``outcome_is_<kind>`` condition would fire on any
    answer; its outcome is reported as ``*any*`` so the review flags it.
    """
    rows: list[Row] = []
    for name, event in machine.events.items():
        for source, transitions in event.transitions.items():
            for t in transitions:
                guards: list[str] = []
                outcome = "*any*"
                for cond in t.conditions:
                    label = getattr(cond.func, "__name__", repr(cond.func))
                    if not cond.target:
                        label = f"not {label}"
                    if label.startswith("outcome_is_"):
                        outcome = label.removeprefix("outcome_is_")
                    else:
                        guards.append(label)
                dest = t.dest if t.dest is not None else source  # internal transition
                rows.append(Row(source, name, outcome, dest, tuple(guards)))
    return tuple(rows)


def declared_trigger(name: str) -> m.TriggerSpec:
    """The declared trigger, or a call-less stand-in for a name the table does not declare."""
    found = m.TRIGGERS.get(name)
    return found if found is not None else m.TriggerSpec(name, None, "undeclared trigger")


def call_text(call: m.Auth0Call | None) -> str:
    """``POST /oauth/token (passwordless/otp)`` (``Auth0Call.label``), or ``NO_CALL``."""
    return NO_CALL if call is None else call.label()


@attrs.frozen
class DrawnEdge:
    """One arrow of the diagrams: all rows sharing (source, trigger, dest)."""

    source: str
    trigger: str
    dest: str
    outcomes: tuple[str, ...]
    guards: tuple[str, ...]

    @property
    def call(self) -> m.Auth0Call | None:
        """The Auth0 call the trigger makes, if any."""
        return declared_trigger(self.trigger).call

    @property
    def secrets_in(self) -> tuple[str, ...]:
        """Codes the user types that this trigger sends to Auth0."""
        return tuple(s for s in declared_trigger(self.trigger).secrets_in if s in CODE_SECRETS)

    @property
    def releases_tokens(self) -> bool:
        """True when Auth0 hands out tokens on this arrow."""
        return "tokens" in self.outcomes and "tokens" in declared_trigger(self.trigger).secrets_out

    @property
    def no_call(self) -> bool:
        """True for triggers that make no Auth0 call (cancel, expire)."""
        return self.call is None

    @property
    def head(self) -> str:
        """``verify_otp [code_attempts_left]``: the trigger and its guards."""
        return f"{self.trigger} [{', '.join(self.guards)}]" if self.guards else self.trigger

    @property
    def route(self) -> str:
        """``code_sent → authenticated (tokens)``: where the arrow goes, on which outcomes."""
        kinds = " | ".join(self.outcomes)
        if self.source == self.dest:
            return f"stays in {self.source}\n({kinds})"
        return f"{self.source} → {self.dest} ({kinds})"

    @property
    def marks(self) -> str:
        """``[secret in: otp] [secret out: tokens]``, or empty."""
        marks = []
        if self.secrets_in:
            marks.append(f"[secret in: {', '.join(self.secrets_in)}]")
        if self.releases_tokens:
            marks.append("[secret out: tokens]")
        return " ".join(marks)

    def label_lines(self) -> list[str]:
        """The label: trigger and guards, the call, route and outcomes, secret markers."""
        lines = [self.head, call_text(self.call), *self.route.split("\n")]
        if self.marks:
            lines.append(self.marks)
        return lines


def drawn_edges(edges: Sequence[m.Edge] = m.EDGES) -> tuple[DrawnEdge, ...]:
    """The arrows to draw: one per distinct (source, trigger, dest), in table order."""
    outcomes: dict[tuple[str, str, str], list[str]] = {}
    guards: dict[tuple[str, str, str], list[str]] = {}
    for row in table_rows(edges):
        key = (row.source, row.trigger, row.dest)
        outcomes.setdefault(key, []).append(row.outcome)
        known = guards.setdefault(key, [])
        known.extend(g for g in row.guards if g not in known)
    return tuple(
        DrawnEdge(s, t, d, tuple(kinds), tuple(guards[(s, t, d)]))
        for (s, t, d), kinds in outcomes.items()
    )
