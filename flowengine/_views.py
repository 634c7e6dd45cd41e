"""The diagram views: which rows of the table each picture shows, and how it groups them.

Theory of operation
-------------------
The full diagram draws every row of ``flowengine._machine.EDGES``; at overview
size that is unreadable. A *view* is a selection of the same rows, computed here
from the table and nowhere else, that ``flowengine._render`` draws:

* **the overview** (``overview``): every state; every row that moves the
  flow forward (source and destination differ, the destination is no failure)
  merged into one arrow per (source, destination) that names its triggers and
  the factors using them; and every row into a failure state folded into one
  arrow per failure state, drawn from the box of live states and labelled with
  where it comes from and why ("any live state but started → expired: a deadline
  passed or Auth0 said expired"). Rows that stay in their state (a wrong code, a
  pending push) are left to the factor views.
* **one view per factor** (``FACTORS``, ``factor_view``): the rows of the
  triggers a first factor (SMS, email, password) or a second factor (SMS/voice,
  email, TOTP, push, recovery code) uses, every outcome included, plus the
  call-less rows (cancel, expire) out of the states those rows leave; each row
  is drawn in full detail, except that the rows into one failure state from one
  state are merged into one arrow naming each trigger and outcome. SMS and
  email use the same triggers (they differ in the connection and where the code
  goes), and so do the SMS/voice and email second factors.
* **the full view** (``full_view``): every row.

Each view carries the rows it accounts for (``View.rows``), taken from the
same arrows that are drawn; a test checks that the overview and the factor
views together account for every row of the table, so a new trigger cannot be
missed by all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

import attrs

from flowengine import _machine as m
from flowengine._table import DrawnEdge, Row, drawn_edges, table_rows

__all__ = [
    "FACTORS",
    "FAILURE_REASONS",
    "VIEW_NAMES",
    "Factor",
    "MergedArrow",
    "View",
    "factor_view",
    "full_view",
    "overview",
    "view",
]


@attrs.frozen
class Factor:
    """One factor of the login: the triggers it uses, and how it is chosen."""

    name: str
    stage: str  # "first" or "second"
    title: str
    short: str
    triggers: tuple[str, ...]
    how: str


#: The factors, in the order the views are listed (first factors, then second factors).
FACTORS: Final[tuple[Factor, ...]] = (
    Factor(
        "sms",
        "first",
        "SMS one-time code",
        "SMS",
        ("start_passwordless", "resend_code", "verify_otp"),
        "start_passwordless(connection=sms, phone_number), then verify_otp",
    ),
    Factor(
        "email",
        "first",
        "email one-time code",
        "email",
        ("start_passwordless", "resend_code", "verify_otp"),
        "start_passwordless(connection=email, email), then verify_otp",
    ),
    Factor(
        "password",
        "first",
        "username and password",
        "password",
        ("login_password",),
        "login_password(username, password, realm)",
    ),
    Factor(
        "mfa-sms",
        "second",
        "SMS or voice code",
        "SMS/voice",
        ("list_authenticators", "enroll", "challenge", "confirm_oob"),
        "enroll(sms|voice) or challenge, then confirm_oob with the code",
    ),
    Factor(
        "mfa-email",
        "second",
        "email code",
        "email",
        ("list_authenticators", "enroll", "challenge", "confirm_oob"),
        "enroll(email) or challenge, then confirm_oob with the code",
    ),
    Factor(
        "totp",
        "second",
        "TOTP app",
        "TOTP",
        ("list_authenticators", "enroll", "challenge", "confirm_otp"),
        "confirm_otp (after enroll(otp) when the user has none yet)",
    ),
    Factor(
        "push",
        "second",
        "Guardian push",
        "push",
        ("list_authenticators", "enroll", "challenge", "poll_push"),
        "enroll(push) or challenge, then poll_push until approved",
    ),
    Factor(
        "recovery-code",
        "second",
        "recovery code",
        "recovery code",
        ("confirm_recovery_code",),
        "confirm_recovery_code (Auth0 returns a new code)",
    ),
)

_FACTOR_INDEX: Final = {f.name: f for f in FACTORS}
#: Every ``--view`` name: the overview, each factor, the full table.
VIEW_NAMES: Final[tuple[str, ...]] = ("overview", *(f.name for f in FACTORS), "full")

#: Why a row ends in a failure state, per outcome kind (what the overview's failure arrows say).
FAILURE_REASONS: Final = {
    "deadline": "a deadline passed",
    "expired": "Auth0 said expired",
    "rejected": "Auth0 rejected the factor",
    "locked": "Auth0 locked the user out",
    "cancelled": "the caller cancelled",
}


_REASON_ORDER: Final = {k: i for i, k in enumerate(FAILURE_REASONS)}


@attrs.frozen
class MergedArrow:
    """Rows drawn as one arrow (overview, factor views' failures): its label's lines, its rows."""

    source: str  # a state, or "live" for a failure arrow drawn from the box of live states
    dest: str
    kind: str  # "step", "tokens", "collapsed", "ends" or "no_call"
    lines: tuple[str, ...]
    rows: tuple[Row, ...]


@attrs.frozen
class View:
    """A picture's selection of the table: its title, states and arrows."""

    name: str
    title: str
    states: tuple[str, ...]
    #: The full-detail arrows (factor and full views); empty for the overview.
    edges: tuple[DrawnEdge, ...] = ()
    #: Merged arrows: all of the overview's, a factor view's arrows into failure states.
    arrows: tuple[MergedArrow, ...] = ()
    note: str = ""

    @property
    def rows(self) -> frozenset[Row]:
        """Every row of the table this view draws (as its own arrow, merged or collapsed)."""
        rows: set[Row] = set()
        for a in self.arrows:
            rows.update(a.rows)
        for e in self.edges:
            rows.update(Row(e.source, e.trigger, kind, e.dest, e.guards) for kind in e.outcomes)
        return frozenset(rows)


def _factors_of(trigger: str) -> list[Factor]:
    return [f for f in FACTORS if trigger in f.triggers]


def _factor_note(trigger: str) -> str:
    """``" (SMS, email)"``: the factors using ``trigger``, unless most of its stage do."""
    users = _factors_of(trigger)
    if not users:
        return ""
    stage = [f for f in FACTORS if f.stage == users[0].stage]
    if len(users) >= 3 and len(users) >= len(stage) - 1:
        return ""  # setup shared by (almost) every factor of the stage: naming them adds noise
    return " (" + ", ".join(f.short for f in users) + ")"


def _from_text(sources: set[str]) -> str:
    live = set(m.LIVE_STATES)
    if sources == live:
        return "any live state"
    missing = [s for s in m.LIVE_STATES if s not in sources]
    if sources < live and len(missing) == 1:
        return f"any live state but {missing[0]}"
    # Two states a line: the label stays narrow enough for the overview's 1,600 px.
    return "\n".join(_pairs([s for s in m.STATES if s in sources], ", "))


def _pairs(names: Sequence[str], sep: str) -> list[str]:
    """``names`` two a line, each line but the last ending with ``sep`` (stripped)."""
    lines = [sep.join(names[i : i + 2]) for i in range(0, len(names), 2)]
    return [x + sep.rstrip() for x in lines[:-1]] + lines[-1:]


def overview(edges: Sequence[m.Edge] = m.EDGES) -> View:
    """The overview: forward rows merged per (source, destination), failures collapsed."""
    forward: dict[tuple[str, str], list[Row]] = {}
    failing: dict[str, list[Row]] = {}
    for r in table_rows(edges):
        if r.dest in m.FAILURE_STATES:
            failing.setdefault(r.dest, []).append(r)
        elif r.source != r.dest:
            forward.setdefault((r.source, r.dest), []).append(r)
    arrows: list[MergedArrow] = []
    for (source, dest), rows in forward.items():
        triggers = list(dict.fromkeys(r.trigger for r in rows))
        kinds = {r.outcome for r in rows}
        notes = {_factor_note(t) for t in triggers}
        if kinds == {"mfa_required"} and source != m.STARTED:
            # Back to mfa_required: Auth0 asked for one more factor (the factors are
            # named on the arrows forward).
            lines = (*_pairs(triggers, ", "), "Auth0 asks for one more factor")
        elif len(notes) == 1:
            lines = (*triggers, *(n.strip() for n in notes if n))
        else:
            lines = tuple(f"{t}{_factor_note(t)}" for t in triggers)
        kind = "tokens" if any(r.outcome == "tokens" for r in rows) else "step"
        arrows.append(MergedArrow(source, dest, kind, lines, tuple(rows)))
    for dest in (s for s in m.STATES if s in failing):
        rows = failing[dest]
        reasons = sorted(
            {r.outcome for r in rows}, key=lambda k: _REASON_ORDER.get(k, len(_REASON_ORDER))
        )
        why = [FAILURE_REASONS.get(k, k) for k in reasons]
        head = f"{_from_text({r.source for r in rows})} → {dest}:"
        lines = (*head.split("\n"), why[0], *(f"or {x}" for x in why[1:]))
        arrows.append(MergedArrow("live", dest, "collapsed", lines, tuple(rows)))
    return View(
        "overview",
        "Overview: the happy path of every factor; each failure state is one arrow",
        m.STATES,
        arrows=tuple(arrows),
        note="retries and waits that keep the state (a wrong code, a pending push) are in "
        "the factor views",
    )


def factor_view(name: str, edges: Sequence[m.Edge] = m.EDGES) -> View:
    """One factor's rows, and the cancel/expire rows out of the states they leave."""
    factor = _FACTOR_INDEX[name]
    drawn = drawn_edges(edges)
    own = [e for e in drawn if e.trigger in factor.triggers]
    sources = {e.source for e in own}
    callless = [e for e in drawn if e.no_call and e.source in sources]
    chosen = [e for e in drawn if e in own or e in callless]  # table order
    states = {s for e in chosen for s in (e.source, e.dest)}
    stage = "First" if factor.stage == "first" else "Second"
    return View(
        name,
        f"{stage} factor: {factor.title}",
        tuple(s for s in m.STATES if s in states),
        edges=tuple(e for e in chosen if e.dest not in m.FAILURE_STATES),
        arrows=_endings(e for e in chosen if e.dest in m.FAILURE_STATES),
        note=factor.how,
    )


def _endings(edges: Iterable[DrawnEdge]) -> tuple[MergedArrow, ...]:
    """Arrows into failure states merged per (source, destination): one line per trigger."""
    merged: dict[tuple[str, str], list[DrawnEdge]] = {}
    for e in edges:
        merged.setdefault((e.source, e.dest), []).append(e)
    out = []
    for (source, dest), group in merged.items():
        lines = tuple(
            f"{e.trigger} ({' | '.join(e.outcomes)}{', no Auth0 call' if e.no_call else ''})"
            for e in group
        )
        kind = "no_call" if all(e.no_call for e in group) else "ends"
        rows = tuple(
            Row(e.source, e.trigger, k, e.dest, e.guards) for e in group for k in e.outcomes
        )
        out.append(MergedArrow(source, dest, kind, lines, rows))
    return tuple(out)


def full_view(edges: Sequence[m.Edge] = m.EDGES) -> View:
    """Every row: one arrow per (source, trigger, destination)."""
    return View(
        "full",
        "Every transition of the machine",
        m.STATES,
        edges=drawn_edges(edges),
    )


def view(name: str, edges: Sequence[m.Edge] = m.EDGES) -> View:
    """The view called ``name`` (one of ``VIEW_NAMES``)."""
    if name == "overview":
        return overview(edges)
    if name == "full":
        return full_view(edges)
    if name in _FACTOR_INDEX:
        return factor_view(name, edges)
    raise KeyError(name)
