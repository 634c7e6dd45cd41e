"""The security review of the machine, computed from the table the code runs.

Theory of operation
-------------------
``review_report`` checks the properties a security reviewer cares about
on ``flowengine._machine.EDGES`` (the declarative table) and on
``flowengine._machine.MACHINE`` (the ``transitions`` machine built from it,
which is what a flow actually fires on):

* **The path search** walks the table's rows (``flowengine._table.Row``)
  from ``started``, tracking per path its *configuration* (the state, whether a
  first factor was verified, whether Auth0 asked for MFA), and checks every
  entry into ``authenticated``: never without a verified first factor, never
  past an MFA demand without a second factor, only on tokens. The exact claim,
  and why it is exhaustive, is ``_PATH_DEFINITION`` (printed in the report). A
  second, breadth-first walk over the configurations decides the same
  properties independently and gives the shortest counterexamples.
* **The properties** add what a path cannot show: the running machine has
  exactly the table's transitions, every state is reachable and none is a dead
  end, final states are closed, every illegal (state, trigger) pair is refused
  by the machine when fired, there are no ``to_<state>`` shortcuts, and every
  secret a flow keeps is sealed in snapshots.
* **The secrets inventory** (``SECRET_HOMES`` and ``_secret_inventory``,
  in one section below) says which triggers take each secret in or hand it out
  and where it lives afterwards.
* **The repository properties** are not in the table at all: who may resume
  a flow, and whether the store may hand an older row back.
  ``repository_trials`` runs the real ``FlowRepository`` over a
  ``MemoryStore`` (fixed clock and keyring, two hand-made flows, no Auth0) and
  tries a bare flow id, forged and foreign handles, another binding, a handle
  older than the flow and earlier rows written back; each must be refused with
  its own error, and the current handle accepted. Nothing random is printed.

``ReviewReport.ok`` is false when any property fails;
``ReviewReport.to_markdown`` is the committed ``diagrams/review.md``.
Every function takes the table as an optional ``edges`` argument, so tests can
hand in a modified copy and watch a property fail.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

import attrs
from transitions import Machine, MachineError

from flowengine import _errors as err
from flowengine import _machine as m
from flowengine._context import SECRET_KEPT, Context
from flowengine._flow import Flow
from flowengine._handle import Handle
from flowengine._promela import SpinReport
from flowengine._repository import FlowRepository
from flowengine._snapshot import SECRET_FIELDS, Keyring
from flowengine._table import (
    REGENERATE_COMMAND,
    Row,
    call_text,
    declared_trigger,
    drawn_edges,
    machine_rows,
    machine_transitions,
    table_rows,
)
from flowengine._views import FACTORS
from flowengine.stores import MemoryStore, StoredFlow

__all__ = [
    "AUTH0_ASSUMPTIONS",
    "MFA_ASKED_OUTCOMES",
    "PATH_LIMIT",
    "PathFigures",
    "PropertyResult",
    "RepositoryTrial",
    "ReviewReport",
    "SECRET_HOMES",
    "SecretEntry",
    "VERIFIED_OUTCOMES",
    "repository_trials",
    "review_report",
    "signoff_markdown",
    "spin_markdown",
]

#: Outcome kinds meaning Auth0 accepted the credential the trigger presented.
VERIFIED_OUTCOMES: Final = frozenset({"tokens", "mfa_required", "mfa_access_token"})
#: Outcome kinds after which the flow needs a second factor to end in ``authenticated``.
MFA_ASKED_OUTCOMES: Final = frozenset({"mfa_required", "mfa_access_token"})
#: The path enumeration stops here; the configuration check still decides every property.
PATH_LIMIT: Final = 100_000


@attrs.frozen
class PropertyResult:
    """One checked property: whether it holds, why, and the figures behind it."""

    name: str
    title: str
    ok: bool
    detail: str
    figures: Mapping[str, int | str] = attrs.field(factory=dict)


@attrs.frozen
class PathFigures:
    """What the exhaustive path search saw."""

    paths: int = 0
    configurations: int = 0
    longest: int = 0
    with_self_loop: int = 0
    ends: Mapping[str, int] = attrs.field(factory=dict)
    arrivals: int = 0
    arrivals_after_mfa: int = 0
    arrivals_without_mfa: int = 0
    violations: Mapping[str, int] = attrs.field(factory=dict)
    truncated: bool = False
    no_first_factor: tuple[Row, ...] | None = None
    no_second_factor: tuple[Row, ...] | None = None
    not_tokens: tuple[Row, ...] | None = None


# ------------------------------------------------------- the secrets inventory
#
# Everything the review says about secrets comes from this section. SECRET_HOMES is
# derived from the typed context's field declarations and the machine's transient
# secrets; tests/diagrams/test_review.py runs every row with marked secrets and fails
# when one lands in a context key not listed here.


@attrs.frozen
class SecretEntry:
    """Where one secret goes: in with which triggers, out with which, kept where."""

    secret: str
    taken_by: tuple[str, ...]
    released_by: tuple[str, ...]
    context_keys: tuple[str, ...]
    kept: str

    @property
    def sealed(self) -> bool:
        """True when every context key holding this secret is sealed in a snapshot."""
        return all(k in SECRET_FIELDS for k in self.context_keys)

    def snapshot(self) -> str:
        """How a snapshot stores the secret."""
        if not self.context_keys:
            return "never stored"
        keys = ", ".join(f"`{k}`" for k in self.context_keys)
        if self.sealed:
            return f"{keys}: encrypted (AES-256-GCM sealed field)"
        clear = ", ".join(f"`{k}`" for k in self.context_keys if k not in SECRET_FIELDS)
        return f"{clear}: **CLEAR JSON** (not in SECRET_FIELDS)"


#: Where each secret named by a trigger ends up after a step: the context keys that keep
#: it, and how long. Derived, never listed by hand: the context's secret fields declare
#: their own ``kept`` sentence, and ``_machine.TRANSIENT_SECRETS`` the ones never stored.
SECRET_HOMES: Final[Mapping[str, tuple[tuple[str, ...], str]]] = {
    **{name: ((), why) for name, why in m.TRANSIENT_SECRETS.items()},
    **{name: ((name,), kept) for name, kept in SECRET_KEPT.items()},
}


def _secret_inventory(edges: Sequence[m.Edge]) -> tuple[SecretEntry, ...]:
    used = list(dict.fromkeys(e.trigger for e in edges))
    names: dict[str, None] = {}
    for t in used:
        trig = declared_trigger(t)
        names.update(dict.fromkeys((*trig.secrets_in, *trig.secrets_out)))
    entries = []
    for name in names:
        keys, kept = SECRET_HOMES.get(name, ((name,), "not in the inventory: assumed kept"))
        entries.append(
            SecretEntry(
                name,
                tuple(t for t in used if name in declared_trigger(t).secrets_in),
                tuple(t for t in used if name in declared_trigger(t).secrets_out),
                keys,
                kept,
            )
        )
    return tuple(entries)


# ------------------------------------------------------------- the path search


@attrs.frozen(order=True)
class _Config:
    state: str
    first: bool
    mfa: bool


class _PathLimitError(Exception):
    pass


def _step(c: _Config, r: Row) -> _Config:
    """The configuration after taking row ``r`` in configuration ``c``."""
    first = c.first or (
        declared_trigger(r.trigger).factor == "first" and r.outcome in VERIFIED_OUTCOMES
    )
    return _Config(r.dest, first, c.mfa or r.outcome in MFA_ASKED_OUTCOMES)


def _entry_faults(after: _Config, r: Row) -> list[str]:
    """What entering ``authenticated`` by row ``r`` (arriving in ``after``) breaks."""
    faults = []
    if not after.first:
        faults.append("no_first_factor")
    if after.mfa and not (declared_trigger(r.trigger).factor == "second" and r.outcome == "tokens"):
        faults.append("no_second_factor")
    if r.outcome != "tokens" or "tokens" not in declared_trigger(r.trigger).secrets_out:
        faults.append("not_tokens")
    return faults


def _configuration_check(rows: Sequence[Row]) -> tuple[int, dict[str, tuple[Row, ...]]]:
    """Breadth-first over every reachable configuration: the shortest run breaking each check."""
    out: dict[str, list[Row]] = {}
    for r in rows:
        out.setdefault(r.source, []).append(r)
    start = _Config(m.STARTED, False, False)
    parent: dict[_Config, tuple[_Config, Row] | None] = {start: None}
    queue = [start]
    found: dict[str, tuple[Row, ...]] = {}

    def run_to(c: _Config) -> list[Row]:
        rows_back: list[Row] = []
        link = parent[c]
        while link is not None:
            rows_back.append(link[1])
            link = parent[link[0]]
        return rows_back[::-1]

    for c in queue:  # the queue grows while it is walked
        for r in out.get(c.state, ()):
            nxt = _step(c, r)
            if r.dest == m.AUTHENTICATED:
                for fault in _entry_faults(nxt, r):
                    found.setdefault(fault, (*run_to(c), r))
            if nxt not in parent:
                parent[nxt] = (c, r)
                queue.append(nxt)
    return len(parent), found


def _search(rows: Sequence[Row], limit: int = PATH_LIMIT) -> PathFigures:
    """Enumerate the paths of ``_PATH_DEFINITION``, check every entry, then every configuration."""
    out: dict[str, list[Row]] = {}
    for r in rows:
        out.setdefault(r.source, []).append(r)
    tally: Counter[str] = Counter()
    ends: Counter[str] = Counter()
    longest = 0

    def walk(c: _Config, on_path: set[_Config], path: list[Row], stuttered: bool) -> None:
        nonlocal longest
        extended = False
        for r in out.get(c.state, ()):
            nxt = _step(c, r)
            if nxt == c:
                if stuttered:
                    continue
            elif nxt in on_path:
                continue
            extended = True
            path.append(r)
            if r.dest == m.AUTHENTICATED:
                tally["arrivals"] += 1
                tally["arrivals_after_mfa" if nxt.mfa else "arrivals_without_mfa"] += 1
                tally.update(_entry_faults(nxt, r))
            if nxt == c:
                walk(nxt, on_path, path, True)
            else:
                on_path.add(nxt)
                walk(nxt, on_path, path, False)
                on_path.discard(nxt)
            path.pop()
        if not extended:
            tally["paths"] += 1
            if any(r.source == r.dest for r in path):
                tally["with_self_loop"] += 1
            ends[c.state if c.state in m.FINAL_STATES else "cut (only revisits left)"] += 1
            longest = max(longest, len(path))
            if tally["paths"] >= limit:
                raise _PathLimitError

    start = _Config(m.STARTED, False, False)
    truncated = False
    try:
        walk(start, {start}, [], False)
    except _PathLimitError:
        truncated = True
    configurations, found = _configuration_check(rows)
    return PathFigures(
        paths=tally["paths"],
        configurations=configurations,
        longest=longest,
        with_self_loop=tally["with_self_loop"],
        ends=dict(sorted(ends.items())),
        arrivals=tally["arrivals"],
        arrivals_after_mfa=tally["arrivals_after_mfa"],
        arrivals_without_mfa=tally["arrivals_without_mfa"],
        violations={k: tally[k] for k in ("no_first_factor", "no_second_factor", "not_tokens")},
        truncated=truncated,
        no_first_factor=found.get("no_first_factor"),
        no_second_factor=found.get("no_second_factor"),
        not_tokens=found.get("not_tokens"),
    )


_PATH_DEFINITION = (
    "A *path* is a sequence of rows (source, trigger, outcome, destination) that starts in "
    "`started`. What a property can see along a path is its *configuration*: the state, "
    "whether a first-factor trigger has been verified (outcome `tokens`, `mfa_required` or "
    "`mfa_access_token`) and whether Auth0 has asked for MFA (outcome `mfa_required` or "
    "`mfa_access_token`). The search enumerates every path on which no configuration is "
    "entered twice, except that right after entering a configuration a path may take one "
    "row that leaves it unchanged (a self-loop: wrong code, resend, pending push, ...), "
    "and checks every entry into `authenticated` on every path, not only the paths' ends. "
    "A path is *complete* when it cannot be extended. This is exhaustive: any run of the "
    "machine, of any length, becomes such a path by cutting out the stretch between two "
    "visits of the same configuration, and the cut changes neither the configuration nor "
    "the row with which the run enters `authenticated`; so a run that breaks a property "
    "shortens to an examined path that breaks it too. The verdicts also come from a second, "
    f"independent check that visits every reachable configuration once (breadth first) and "
    "tries every row out of it; it stays small even when a changed table makes the paths "
    f"explode (the enumeration stops at {PATH_LIMIT:,} paths), and its counterexamples are "
    "the shortest runs."
)


# -------------------------------------------------------------- the properties


def _show_path(path: Sequence[Row] | None) -> str:
    if not path:
        return ""
    steps = [m.STARTED, *(f"--{r.trigger}/{r.outcome}--> {r.dest}" for r in path)]
    return " ".join(steps)


def _reachable(rows: Sequence[Row], start: Iterable[str], backwards: bool = False) -> set[str]:
    seen = set(start)
    todo = list(seen)
    while todo:
        s = todo.pop()
        for r in rows:
            a, b = (r.dest, r.source) if backwards else (r.source, r.dest)
            if a == s and b not in seen:
                seen.add(b)
                todo.append(b)
    return seen


class _Probe:
    """A stand-in model for firing a trigger on the machine: state only, no context values."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.context: dict[str, Any] = {}
        self.now = 0.0
        self.outcome = ""


def _rejects(machine: Machine, state: str, trigger: str) -> bool:
    """True when the machine refuses ``trigger`` in ``state`` (no event or MachineError)."""
    event = machine.events.get(trigger)
    if event is None:
        return True
    probe = _Probe(state)
    try:
        event.trigger(probe)
    except MachineError:
        return True
    return False


def _row_text(r: Row) -> str:
    return f"{r.source} --{r.trigger}/{r.outcome}--> {r.dest}"


@attrs.frozen
class _Subject:
    """What every property reads: the table, its rows, the machine and what the search saw."""

    edges: Sequence[m.Edge]
    rows: tuple[Row, ...]
    machine: Machine
    figures: PathFigures
    build_error: str | None

    @property
    def into_authenticated(self) -> list[Row]:
        """The rows that enter ``authenticated``."""
        return [r for r in self.rows if r.dest == m.AUTHENTICATED]

    @property
    def stopped(self) -> str:
        """A note for the path properties when the enumeration hit ``PATH_LIMIT``."""
        if not self.figures.truncated:
            return ""
        return (
            f" (path enumeration stopped at {self.figures.paths:,} paths; the configuration "
            "check still covers every run)"
        )


def _table_well_formed(s: _Subject) -> PropertyResult:
    rows = s.rows
    bad_states = sorted({x for r in rows for x in (r.source, r.dest)} - set(m.STATES))
    bad_triggers = sorted({r.trigger for r in rows} - set(m.TRIGGERS))
    bad_guards = sorted({g for r in rows for g in r.guards} - set(m.GUARDS))
    problems = [
        f"{what}: {', '.join(names)}"
        for what, names in (
            ("undeclared states", bad_states),
            ("undeclared triggers", bad_triggers),
            ("undeclared guards", bad_guards),
        )
        if names
    ]
    if s.build_error:
        problems.append(s.build_error)
    return PropertyResult(
        "table_well_formed",
        "Every state, trigger and guard in the table is declared, and the table builds",
        not problems,
        "; ".join(problems) or "all names declared in STATES, TRIGGERS and GUARDS",
        {
            "rows": len(rows),
            "edges": len(s.edges),
            "states": len(m.STATES),
            "triggers": len(m.TRIGGERS),
            "guards": len(m.GUARDS),
        },
    )


def _machine_is_table(s: _Subject) -> PropertyResult:
    table_set = Counter(s.rows)
    machine_set = Counter(machine_rows(s.machine))
    extra = sorted((machine_set - table_set).elements())
    missing = sorted((table_set - machine_set).elements())
    parts = [
        *(["in the machine only: " + ", ".join(_row_text(r) for r in extra)] if extra else []),
        *(["in the table only: " + ", ".join(_row_text(r) for r in missing)] if missing else []),
    ]
    return PropertyResult(
        "machine_is_table",
        "The running machine is the table: no hidden or missing transition",
        not extra and not missing,
        "; ".join(parts) or "the machine's transitions are exactly the table's rows",
        {
            "machine_transitions": sum(machine_set.values()),
            "table_rows": len(s.rows),
            "drawn_edges": len(drawn_edges(s.edges)),
        },
    )


def _first_factor(s: _Subject) -> PropertyResult:
    f, v = s.figures, s.figures.violations
    return PropertyResult(
        "first_factor",
        "Every path from `started` to `authenticated` passes a verified first factor",
        f.no_first_factor is None and not v.get("no_first_factor"),
        (
            "counterexample: " + _show_path(f.no_first_factor)
            if f.no_first_factor
            else "a verify_otp or login_password accepted by Auth0 precedes every entry"
        )
        + s.stopped,
        {
            "paths_examined": f.paths,
            "entries_into_authenticated": f.arrivals,
            "entries_without_first_factor": v.get("no_first_factor", 0),
            "configurations_checked": f.configurations,
        },
    )


def _second_factor_after_mfa(s: _Subject) -> PropertyResult:
    f, v = s.figures, s.figures.violations
    return PropertyResult(
        "second_factor_after_mfa",
        "Every path on which Auth0 asked for MFA enters `authenticated` only by a verified "
        "second factor",
        f.no_second_factor is None and not v.get("no_second_factor"),
        (
            "counterexample: " + _show_path(f.no_second_factor)
            if f.no_second_factor
            else "after mfa_required, only confirm_oob / confirm_otp / confirm_recovery_code / "
            "poll_push answered with tokens enter authenticated"
        )
        + s.stopped,
        {
            "paths_examined": f.paths,
            "entries_after_mfa": f.arrivals_after_mfa,
            "entries_without_mfa": f.arrivals_without_mfa,
            "entries_without_second_factor": v.get("no_second_factor", 0),
        },
    )


def _authenticated_only_on_tokens(s: _Subject) -> PropertyResult:
    into_auth = s.into_authenticated
    bad = [
        r
        for r in into_auth
        if r.outcome != "tokens" or "tokens" not in declared_trigger(r.trigger).secrets_out
    ]
    return PropertyResult(
        "authenticated_only_on_tokens",
        "`authenticated` is entered only when Auth0 answers with tokens",
        not bad and s.figures.not_tokens is None,
        ("rows: " + ", ".join(_row_text(r) for r in bad))
        if bad
        else "every row into authenticated has outcome `tokens` from a trigger that hands "
        "out tokens",
        {"rows_into_authenticated": len(into_auth)},
    )


def _no_callless_success(s: _Subject) -> PropertyResult:
    callless = sorted({r.trigger for r in s.rows if declared_trigger(r.trigger).call is None})
    bad = [r for r in s.into_authenticated if declared_trigger(r.trigger).call is None]
    return PropertyResult(
        "no_callless_success",
        "No trigger without an Auth0 call (cancel, expire) leads to `authenticated`",
        not bad,
        ("rows: " + ", ".join(_row_text(r) for r in bad))
        if bad
        else f"call-less triggers: {', '.join(callless) or 'none'}; none reaches authenticated",
        {"callless_rows": sum(1 for r in s.rows if declared_trigger(r.trigger).call is None)},
    )


def _all_reachable(s: _Subject) -> PropertyResult:
    reach = _reachable(s.rows, (m.STARTED,))
    unreachable = [x for x in m.STATES if x not in reach]
    return PropertyResult(
        "all_reachable",
        "Every state is reachable from `started`",
        not unreachable,
        ("unreachable: " + ", ".join(unreachable)) if unreachable else "all states reachable",
        {"reachable": len(reach & set(m.STATES)), "states": len(m.STATES)},
    )


def _no_dead_end(s: _Subject) -> PropertyResult:
    can_end = _reachable(s.rows, m.FINAL_STATES, backwards=True)
    dead = [x for x in m.STATES if x not in m.FINAL_STATES and x not in can_end]
    can_succeed = _reachable(s.rows, (m.AUTHENTICATED,), backwards=True)
    return PropertyResult(
        "no_dead_end",
        "No non-final state is a dead end: each can still reach a final state",
        not dead,
        ("dead ends: " + ", ".join(dead)) if dead else "every live state can reach a final state",
        {
            "live_states": len(m.LIVE_STATES),
            "dead_ends": len(dead),
            "live_states_that_can_still_succeed": sum(1 for x in m.LIVE_STATES if x in can_succeed),
        },
    )


def _final_states_closed(s: _Subject) -> PropertyResult:
    ways_out = [r for r in s.rows if r.source in m.FINAL_STATES]
    machine_out = sorted(
        (src, t) for (src, t, _d) in machine_transitions(s.machine) if src in m.FINAL_STATES
    )
    if ways_out:
        detail = "ways out: " + ", ".join(_row_text(r) for r in ways_out)
    elif machine_out:
        detail = "machine events out of final states: " + ", ".join(
            f"{src}/{t}" for src, t in machine_out
        )
    else:
        detail = f"no row leaves {', '.join(x for x in m.STATES if x in m.FINAL_STATES)}"
    return PropertyResult(
        "final_states_closed",
        "Final states have no way out",
        not ways_out and not machine_out,
        detail,
        {"final_states": len(m.FINAL_STATES), "rows_out_of_final_states": len(ways_out)},
    )


def _illegal_pairs_rejected(s: _Subject) -> PropertyResult:
    legal = {(r.source, r.trigger) for r in s.rows}
    pairs = [(x, t) for x in m.STATES for t in m.TRIGGERS]
    illegal = [p for p in pairs if p not in legal]
    accepted = [p for p in illegal if not _rejects(s.machine, *p)]
    return PropertyResult(
        "illegal_pairs_rejected",
        "Every (state, trigger) pair outside the table is refused by the machine",
        not accepted,
        ("accepted by the machine: " + ", ".join(f"{x}/{t}" for x, t in accepted))
        if accepted
        else "each illegal pair was fired on the machine and raised MachineError",
        {
            "pairs": len(pairs),
            "legal": len(pairs) - len(illegal),
            "illegal_rejected": len(illegal) - len(accepted),
        },
    )


def _no_auto_transitions(s: _Subject) -> PropertyResult:
    machine = s.machine
    auto = sorted(n for n in machine.events if n.startswith("to_"))
    stray = sorted(set(machine.events) - set(m.TRIGGERS) - set(auto))
    parts = [
        f"auto_transitions={machine.auto_transitions}",
        ("shortcut events: " + ", ".join(auto)) if auto else "no to_<state> event",
        *(["undeclared events: " + ", ".join(stray)] if stray else []),
    ]
    return PropertyResult(
        "no_auto_transitions",
        "The machine was built with auto_transitions=False: no `to_<state>` shortcut",
        not auto and not stray and machine.auto_transitions is False,
        "; ".join(parts),
        {"machine_events": len(machine.events)},
    )


def _secrets_sealed(s: _Subject) -> PropertyResult:
    inventory = _secret_inventory(s.edges)
    clear = [e.secret for e in inventory if not e.sealed]
    return PropertyResult(
        "secrets_sealed",
        "Every secret a flow keeps in its context is encrypted in snapshots",
        not clear,
        ("kept in clear: " + ", ".join(clear))
        if clear
        else "every context key holding a secret is in SECRET_FIELDS",
        {
            "secrets": len(inventory),
            "kept_in_context": sum(1 for e in inventory if e.context_keys),
            "never_stored": sum(1 for e in inventory if not e.context_keys),
        },
    )


# ------------------------------------------------- the repository properties
#
# Two properties are not in the table at all but in ``FlowRepository``: who may resume
# a flow, and whether the store may hand back an older row. They are checked by running
# the real repository over a MemoryStore with a fixed clock and a fixed keyring, on two
# hand-made flows (no Auth0, no emulator), and trying every way in the brief names.
# Handles are random (a fresh binding secret per flow), so nothing random is printed:
# no handle, no flow id, only what was tried, what it raised and the counts.

#: The repository's fixed clock (any instant works; a fixed one keeps the run repeatable).
_TRIAL_NOW: Final = 1_767_225_600.0
_TRIAL_KID: Final = "review"


@attrs.frozen
class RepositoryTrial:
    """One attempt on the real repository: what was tried, what should happen, what did."""

    prop: str
    attempt: str
    expected: str
    got: str

    @property
    def ok(self) -> bool:
        """True when the repository did what the property needs."""
        return self.got == self.expected

    @property
    def control(self) -> bool:
        """True for the attempts that must be accepted (the current handle)."""
        return self.expected == "accepted"


def repository_trials() -> tuple[RepositoryTrial, ...]:
    """Run the real ``FlowRepository`` and try every way to resume a flow without its handle."""

    def key(label: str) -> bytes:
        return hashlib.sha256(b"flowengine review " + label.encode()).digest()

    keyring = Keyring([(_TRIAL_KID, key("keyring"))])
    attacker = Keyring([(_TRIAL_KID, key("attacker"))])
    stranger = Keyring([("other-key", key("stranger"))])
    store = MemoryStore(clock=lambda: _TRIAL_NOW, auto_sweep=None)
    repo = FlowRepository(store, keyring, clock=lambda: _TRIAL_NOW)
    out: list[RepositoryTrial] = []

    def attempt(
        prop: str, text: str, expected: type[Exception] | None, run: Callable[[], object]
    ) -> None:
        try:
            run()
        except Exception as exc:  # what it raised is the finding, whatever it is
            got = type(exc).__name__
            if expected is not None and isinstance(exc, expected):
                got = expected.__name__
        else:
            got = "accepted"
        out.append(RepositoryTrial(prop, text, expected.__name__ if expected else "accepted", got))

    def step(
        handle: str, binding: str | None, then: Callable[[Flow], object] | None = None
    ) -> Callable[[], None]:
        def run() -> None:
            with repo.step(handle, binding=binding) as flow:
                if then is not None:
                    then(flow)
            handles.append(flow.handle)

        return run

    flow = Flow.new("review-flow", _TRIAL_NOW)
    other = Flow.new("review-other", _TRIAL_NOW)
    first = repo.add(flow, binding="session-a")
    theirs = repo.add(other, binding="session-b")
    old_row = store.load(flow.flow_id)
    handles: list[str] = []
    tag_at = len(first) - 5  # inside the tag: any change fails authentication or parsing
    changed = first[:tag_at] + ("A" if first[tag_at] != "A" else "B") + first[tag_at + 1 :]
    guessed = Handle(flow.flow_id, flow.seq, bytes(range(32)))
    # The holder of a handle can read its binding secret: only the tag keeps its seq.
    raised = Handle(flow.flow_id, flow.seq + 1, Handle.decode(first, keyring).secret)
    inv, stale, replay = err.InvalidHandleError, err.StaleHandleError, err.SnapshotReplayError
    tampered = err.SnapshotTamperedError
    p = "resume_needs_current_handle"
    for text, handle, binding in (
        ("a bare flow id", flow.flow_id, "session-a"),
        ("the handle with one character of its tag changed", changed, "session-a"),
        ("a handle made with another key under the same key id", guessed.encode(attacker), None),
        ("a handle naming a key id the keyring does not have", guessed.encode(stranger), None),
        (
            "the right handle with its seq raised, tagged with another key",
            raised.encode(attacker),
            "session-a",
        ),
        (
            "a well-tagged handle (a leaked key) with a guessed binding secret",
            guessed.encode(keyring),
            "session-a",
        ),
        ("the right handle without the application's binding", first, None),
        ("the right handle with another session's binding", first, "session-b"),
        ("another flow's handle with this flow's binding", theirs, "session-a"),
    ):
        attempt(p, text, inv, step(handle, binding))
    attempt(
        p,
        "the current handle and binding (a local step: cancel)",
        None,
        step(first, "session-a", lambda f: f.cancel(_TRIAL_NOW)),
    )
    current = handles[-1] if handles else first
    attempt(p, "the previous handle after that step", stale, step(first, "session-a"))
    attempt(p, "the previous handle again (a second tab)", stale, step(first, "session-a"))
    attempt(p, "the new handle", None, step(current, "session-a"))

    p = "stored_rows_not_replayed"
    new_row = store.load(flow.flow_id)
    entry = store._flows[flow.flow_id]  # the store's internals: what a writer to it can do

    def write(row: StoredFlow) -> None:
        entry.record = row

    write(old_row)
    attempt(
        p,
        "a step with the current handle after the first row was written back",
        replay,
        step(current, "session-a"),
    )
    attempt(
        p,
        "a view with the current handle after the first row was written back",
        replay,
        lambda: repo.view(current, binding="session-a"),
    )
    write(attrs.evolve(old_row, seq=new_row.seq))
    attempt(
        p,
        "the first row's snapshot under the current row's revision",
        tampered,
        step(current, "session-a"),
    )
    write(attrs.evolve(store.load(other.flow_id), flow_id=flow.flow_id))
    attempt(
        p, "another flow's row written under this flow's id", tampered, step(current, "session-a")
    )
    write(new_row)
    attempt(p, "the current handle once the current row is back", None, step(current, "session-a"))
    store.close()
    return tuple(out)


def _trial_result(
    trials: Sequence[RepositoryTrial], name: str, title: str, holds: str
) -> PropertyResult:
    mine = [t for t in trials if t.prop == name]
    bad = [t for t in mine if not t.ok]
    return PropertyResult(
        name,
        title,
        bool(mine) and not bad,
        ("; ".join(f"{t.attempt}: expected {t.expected}, got {t.got}" for t in bad))
        if bad
        else holds,
        {
            "attempts": sum(1 for t in mine if not t.control),
            "refusals": sum(1 for t in mine if not t.control and t.ok),
            "current_handle_accepted": sum(1 for t in mine if t.control and t.ok),
        },
    )


def _repository_properties(trials: Sequence[RepositoryTrial]) -> tuple[PropertyResult, ...]:
    return (
        _trial_result(
            trials,
            "resume_needs_current_handle",
            "A flow resumes only with its current handle",
            "the real FlowRepository refused a bare flow id, forged and foreign handles, another "
            "binding (InvalidHandleError) and every handle older than the stored flow "
            "(StaleHandleError), and accepted the current one",
        ),
        _trial_result(
            trials,
            "stored_rows_not_replayed",
            "Stored rows cannot be replayed",
            "a row older than the handle was refused for steps and views "
            "(SnapshotReplayError), a row relabelled or moved from another flow failed "
            "authentication (SnapshotTamperedError), and the current row was accepted again",
        ),
    )


# ------------------------------------------------------------ requests in doubt

#: Context fields a doubt rule must never set, clear or change: the factors done, the
#: credentials held and the bindings. A doubt only ever narrows what may follow.
_DOUBT_KEEPS: Final = (
    "first_factor",
    "second_factor",
    "tokens",
    "mfa_token",
    "mfa_token_kind",
    "mfa_requested",
    "binding",
    "tenant",
)


def _doubt_sample(state: str) -> Flow:
    """A flow in ``state`` with a context that has something for a doubt rule to touch."""
    ctx = Context(connection="sms", phone_number="+15550100", sends=1, tenant="t#c")
    if state == m.STARTED:
        ctx = ctx.evolve(send_unconfirmed=True)  # an earlier start already in doubt
    if state == m.CODE_SENT:
        ctx = ctx.evolve(code_attempts=1, code_sent_at=_TRIAL_NOW, code_expires_at=_TRIAL_NOW + 180)
    if state in (m.MFA_REQUIRED, *m.PENDING_STATES):
        ctx = ctx.evolve(
            first_factor="verify_otp",
            mfa_token="review-mfa-token",
            mfa_token_kind="mfa_token",
            mfa_token_expires_at=_TRIAL_NOW + 600,
            mfa_requested=True,
        )
    if state in m.PENDING_STATES:
        ctx = ctx.evolve(factor="sms", oob_code="review-oob", binding_method="prompt")
    return Flow("fl_review_doubt", state=state, context=ctx, expires_at=_TRIAL_NOW + 600)


def _doubt_faults(trigger: str, state: str, taken_over: bool) -> list[str]:
    """What a DOUBT rule changes that it must not, for ``trigger`` left from ``state``."""
    flow = _doubt_sample(state)
    before = flow.context
    flow.note_uncertain(trigger, _TRIAL_NOW, {"connection": "sms"}, taken_over=taken_over)
    after = flow.context
    changed = [f for f in _DOUBT_KEEPS if getattr(before, f) != getattr(after, f)]
    if flow.state != state:
        changed.append("state")
    if after.code_attempts < before.code_attempts:
        changed.append("code_attempts lowered")
    if before.send_unconfirmed and not after.send_unconfirmed:
        changed.append("send_unconfirmed cleared")
    return changed


def _recovery_faults(s: _Subject, trigger: str, state: str) -> list[str]:
    """Each declared way on after ``trigger`` in doubt from ``state``: legal, guarded, not a win."""
    moves = m.DOUBT[trigger].recovery.get(state, ())
    if not moves:
        return [f"no way on is declared from {state}"]
    flow = _doubt_sample(state)
    flow.note_uncertain(trigger, _TRIAL_NOW, {"connection": "sms"}, taken_over=True)
    model = m.GuardModel(state, flow.context, _TRIAL_NOW, "")
    faults = []
    for way, dest in moves:
        if dest == m.AUTHENTICATED:
            faults.append(f"{way} reaches authenticated")
        elif way == "rollback":
            if state not in m.PENDING_STATES or dest != m.MFA_REQUIRED:
                faults.append(f"rollback from {state} to {dest} is not a rollback this flow has")
        else:
            edge = next((e for e in s.edges if (e.trigger, e.source) == (way, state)), None)
            if edge is None or dest not in edge.outcomes.values():
                faults.append(f"{way} from {state} to {dest} is not in the table")
            elif not all(
                m.GUARDS[g](model) for g in edge.guards if g in m.GUARDS and g != "poll_due"
            ):  # an undeclared guard is the table_well_formed property's finding
                faults.append(f"{way} from {state} is refused by its guards after the doubt")
    return faults


def _doubt_never_advances(s: _Subject) -> PropertyResult:
    faults: list[str] = []
    checked = moves = 0
    for trigger in sorted(m.DOUBT):
        for state in sorted({e.source for e in s.edges if e.trigger == trigger}):
            for taken_over in (False, True):
                checked += 1
                changed = _doubt_faults(trigger, state, taken_over)
                if changed:
                    how = "takeover" if taken_over else "answerless"
                    faults.append(f"{trigger} in {state} ({how}): {', '.join(changed)}")
            moves += len(m.DOUBT[trigger].recovery.get(state, ()))
            faults += [f"{trigger} in {state}: {f}" for f in _recovery_faults(s, trigger, state)]
    return PropertyResult(
        "doubt_never_advances",
        "A request in doubt never advances a flow",
        not faults and checked > 0,
        "; ".join(faults)
        if faults
        else "every trigger's DOUBT rule, applied in every state the trigger leaves, keeps the "
        "state, the factors done, the credentials and the bindings, and only narrows what may "
        "follow; every declared way on is a legal move whose guards hold after the doubt, and "
        "none reaches authenticated",
        {"rules": len(m.DOUBT), "cases_checked": checked, "ways_on_checked": moves},
    )


#: The checked properties, in the order the report numbers them.
_PROPERTIES: Final[tuple[Callable[[_Subject], PropertyResult], ...]] = (
    _table_well_formed,
    _machine_is_table,
    _first_factor,
    _second_factor_after_mfa,
    _authenticated_only_on_tokens,
    _no_callless_success,
    _all_reachable,
    _no_dead_end,
    _final_states_closed,
    _illegal_pairs_rejected,
    _no_auto_transitions,
    _secrets_sealed,
    _doubt_never_advances,
)


def _properties(
    edges: Sequence[m.Edge], machine: Machine, figures: PathFigures, build_error: str | None
) -> tuple[PropertyResult, ...]:
    subject = _Subject(edges, table_rows(edges), machine, figures, build_error)
    return tuple(check(subject) for check in _PROPERTIES)


# ------------------------------------------------------------------ the report


@attrs.frozen
class ReviewReport:
    """The security review of one table: properties, tables and the secrets inventory."""

    machine_hash: str
    edges: tuple[m.Edge, ...] = attrs.field(repr=False)
    properties: tuple[PropertyResult, ...]
    paths: PathFigures
    inventory: tuple[SecretEntry, ...]
    trials: tuple[RepositoryTrial, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every property holds."""
        return all(p.ok for p in self.properties)

    @property
    def failed(self) -> tuple[PropertyResult, ...]:
        """The properties that do not hold."""
        return tuple(p for p in self.properties if not p.ok)

    def to_markdown(self, *, heading: bool = True) -> str:
        """The review as Markdown (``diagrams/review.md``, after the sign-off summary).

        ``heading=False`` leaves out the title and the generated-file note (the
        committed file has them above the sign-off summary instead).
        """
        return _markdown(self, heading=heading)


def _build(table: tuple[m.Edge, ...]) -> tuple[Machine, str | None]:
    """A machine for ``table``, and why the table itself does not build one, if it does not."""
    try:
        return m.build_machine(table), None
    except Exception as exc:  # any failure to build is a finding of the review
        problem = f"the table does not build a machine ({exc!r})"
    declared = tuple(
        attrs.evolve(e, guards=tuple(g for g in e.guards if g in m.GUARDS)) for e in table
    )
    try:
        return m.build_machine(declared), problem
    except Exception:
        return m.build_machine(()), problem


def review_report(
    edges: Sequence[m.Edge] = m.EDGES, *, machine: Machine | None = None
) -> ReviewReport:
    """Check the properties of ``edges`` against ``machine`` (default: the running one).

    With the real table the running ``MACHINE`` is checked; with any other table
    a machine is built from it by ``build_machine`` unless one is given.
    """
    table = tuple(edges)
    build_error = None
    if machine is None:
        machine, build_error = (m.MACHINE, None) if table == m.EDGES else _build(table)
    figures = _search(table_rows(table))
    trials = repository_trials()
    return ReviewReport(
        m.definition_hash(table),
        table,
        _properties(table, machine, figures, build_error) + _repository_properties(trials),
        figures,
        _secret_inventory(table),
        trials,
    )


# -------------------------------------------------------------------- Markdown


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(rep: ReviewReport, *, heading: bool = True) -> str:
    rows = table_rows(rep.edges)
    head = _md_head(rep, rows)
    sections = (
        head if heading else ["## Details", "", *head[4:]],
        _md_properties(rep),
        _md_path_search(rep.paths),
        _md_trials(rep.trials),
        _md_doubt(),
        _md_states(rep),
        _md_transitions(rows),
        _md_pairs(rows),
        _md_secrets(rep),
        _md_irreversible(),
    )
    out: list[str] = []
    for section in sections:  # one blank line between sections
        if out:
            out.append("")
        out += section
    return "\n".join(out) + "\n"


def _md_head(rep: ReviewReport, rows: Sequence[Row]) -> list[str]:
    return [
        f"# Security review: {m.MACHINE_NAME}",
        "",
        "<!-- Generated from flowengine/_machine.py; do not edit. "
        f"Regenerate with `{REGENERATE_COMMAND}`. -->",
        "",
        "Generated from the table the code runs (`flowengine/_machine.py`) by "
        f"`{REGENERATE_COMMAND}`; a test fails when this file drifts from the machine. "
        "Check it any time with `python -m flowengine.diagram --review` "
        "(exit status 1 when a property fails).",
        "",
        f"- Machine definition sha256: `{rep.machine_hash}`",
        f"- States: {len(m.STATES)}, triggers: {len(m.TRIGGERS)}, table edges: "
        f"{len(rep.edges)}, rows (transitions): {len(rows)}, drawn arrows: "
        f"{len(drawn_edges(rep.edges))}",
        "- Diagram: [flow.svg](flow.svg) (Graphviz), [flow.dot](flow.dot), "
        "[flow.mmd](flow.mmd) (Mermaid)",
        "- Views: [overview.svg](overview.svg); one per factor: "
        + ", ".join(f"[{v}](view-{v}.svg)" for v in FACTOR_VIEWS),
    ]


def _md_properties(rep: ReviewReport) -> list[str]:
    verdict = (
        f"**All {len(rep.properties)} properties hold.**"
        if rep.ok
        else "**FAILED: " + ", ".join(p.name for p in rep.failed) + "**"
    )
    out = [verdict, "", "## Checked properties", ""]
    out += ["| # | Property | Holds | Figures |", "|---|---|---|---|"]
    for i, p in enumerate(rep.properties, 1):
        figs = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in p.figures.items())
        out.append(f"| {i} | {_cell(p.title)} | {'yes' if p.ok else '**NO**'} | {_cell(figs)} |")
    out.append("")
    for i, p in enumerate(rep.properties, 1):
        out.append(f"{i}. `{p.name}`: {'holds' if p.ok else '**FAILS**'}. {_cell(p.detail)}")
    return out


def _md_doubt() -> list[str]:
    out = [
        "## Requests in doubt",
        "",
        "A request may reach Auth0 without its answer reaching us (a timeout, a crash, a "
        "worker that outlived its lease). The flow then records `uncertain` (which trigger, "
        "when) and never repeats the request silently; `_machine.DOUBT` declares what may "
        "follow, applied when a worker takes over a claim whose intent journal names the "
        "trigger (and, where marked, when the driver itself saw the request go unanswered).",
        "",
        "| Trigger | What may follow | Narrowed on takeover | Narrowed when seen |",
        "|---|---|---|---|",
    ]
    for trigger, doubt in m.DOUBT.items():
        taken = "no" if doubt.on_takeover is m.DOUBT_UNCHANGED else "yes"
        seen = "no" if doubt.on_answerless is m.DOUBT_UNCHANGED else "yes"
        out.append(f"| `{trigger}` | {_cell(doubt.next_step)} | {taken} | {seen} |")
    return out


def _md_path_search(f: PathFigures) -> list[str]:
    return [
        "### The path search",
        "",
        _PATH_DEFINITION,
        "",
        f"- Complete paths examined: {f.paths}"
        + (" (**enumeration stopped at the limit**)" if f.truncated else ""),
        f"- Of which take at least one self-loop: {f.with_self_loop}",
        f"- Distinct configurations reached: {f.configurations}",
        f"- Longest path: {f.longest} rows",
        f"- Entries into `authenticated` checked: {f.arrivals} "
        f"({f.arrivals_after_mfa} after Auth0 asked for MFA, "
        f"{f.arrivals_without_mfa} without MFA)",
        "- Entries that break a check: "
        + ", ".join(f"{k.replace('_', ' ')}: {n}" for k, n in f.violations.items()),
        "- Complete paths by last state: " + ", ".join(f"{k}: {v}" for k, v in f.ends.items()),
    ]


def _md_trials(trials: Sequence[RepositoryTrial]) -> list[str]:
    return [
        "### The repository checks",
        "",
        "`resume_needs_current_handle` and `stored_rows_not_replayed` are properties of "
        "the repository, not of the table: the real "
        "`FlowRepository` runs over a `MemoryStore` with a fixed clock and keyring on two "
        "hand-made flows stored with `repo.add` (no Auth0), and each attempt below is made "
        "through `repo.step` (or `repo.view`). Earlier rows are written back through the "
        "store's internals, as anyone able to write to the store could. A row is judged "
        "against the handle presented: the newest handle is the high-water mark the store "
        "cannot forge, so an earlier row together with the earlier handle that matches it "
        "cannot be told from the real thing (keep the store writable by the application "
        "only). Handles and ids are random or private and are never printed.",
        "",
        "| Property | Attempt | Expected | Result |",
        "|---|---|---|---|",
        *(
            f"| `{t.prop}` | {_cell(t.attempt)} | {t.expected} | "
            f"{t.got if t.ok else f'**{t.got}**'} |"
            for t in trials
        ),
    ]


def _state_kind(s: str) -> str:
    if s == m.STARTED:
        return "initial"
    if s == m.AUTHENTICATED:
        return "final: success"
    if s in m.FAILURE_STATES:
        return "final: failure"
    if s in m.FINAL_STATES:
        return "final"
    return "live"


def _md_states(rep: ReviewReport) -> list[str]:
    out = ["## States", "", "| State | Kind | Legal triggers |", "|---|---|---|"]
    for s in m.STATES:
        legal = list(dict.fromkeys(e.trigger for e in rep.edges if e.source == s))
        out.append(f"| `{s}` | {_state_kind(s)} | {', '.join(legal) or '(none)'} |")
    return out


def _rollback_undoes(r: Row, trig: m.TriggerSpec) -> str:
    """Whether ``Flow.rollback`` over row ``r`` also undoes its call's effect at Auth0."""
    if r.dest in m.FINAL_STATES:
        return "no: no rollback out of a final state"
    if r.source == r.dest:
        return "n/a: state unchanged, no history entry"
    if trig.remote_effect == "none":
        return "nothing to undo"
    if trig.remote_undoable:
        return "yes"
    return "no (audited)"


def _md_transitions(rows: Sequence[Row]) -> list[str]:
    out = [
        "## Transitions",
        "",
        "One row per transition of the machine. *Remote effect* is what the trigger's call "
        "does at Auth0 when Auth0 accepts it (declared per trigger in `TRIGGERS`; an answer "
        "that refuses the call may not have had it). *Rollback* says whether `Flow.rollback` "
        "over this step also undoes that effect; rollback restores state and context from "
        "the flow's history, never leaves a final state, and writes every effect it cannot "
        "undo to the audit trail.",
        "",
        "| Source | Trigger | Auth0 call | Guards | Outcome → destination | Remote effect "
        "| Rollback undoes it |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        trig = declared_trigger(r.trigger)
        out.append(
            f"| `{r.source}` | `{r.trigger}` | {_cell(call_text(trig.call))} | "
            f"{', '.join(r.guards) or '-'} | {r.outcome} → `{r.dest}` | "
            f"{_cell(trig.remote_effect)} | {_rollback_undoes(r, trig)} |"
        )
    return out


def _md_pairs(rows: Sequence[Row]) -> list[str]:
    legal_pairs = {(r.source, r.trigger) for r in rows}
    triggers = list(m.TRIGGERS)
    illegal = sum(1 for s in m.STATES for t in triggers if (s, t) not in legal_pairs)
    out = [
        "## Legal and illegal (state, trigger) pairs",
        "",
        f"{len(m.STATES)} states \u00d7 {len(triggers)} triggers = "
        f"{len(m.STATES) * len(triggers)} pairs: {len(m.STATES) * len(triggers) - illegal} legal "
        f"(✓), {illegal} illegal (·). An illegal pair raises `IllegalTransitionError` before any "
        "request is built, and the machine itself refuses it (`MachineError`).",
        "",
        "| State | " + " | ".join(triggers) + " |",
        "|---|" + "---|" * len(triggers),
    ]
    for s in m.STATES:
        marks = ["✓" if (s, t) in legal_pairs else "·" for t in triggers]
        out.append(f"| `{s}` | " + " | ".join(marks) + " |")
    return out


def _md_secrets(rep: ReviewReport) -> list[str]:
    out = [
        "## Secrets inventory",
        "",
        "Which triggers take each secret in, which hand it out, and where it lives "
        "afterwards. A snapshot moves the context keys in `SECRET_FIELDS` ("
        + ", ".join(f"`{k}`" for k in sorted(SECRET_FIELDS))
        + ") of the context and of every history entry into one AES-256-GCM sealed field; "
        "the rest of the context is clear JSON. Codes the user types are never stored. "
        "The diagrams are rendered from the table only and never see a value.",
        "",
        "| Secret | Taken in by | Handed out by | Afterwards | In a snapshot |",
        "|---|---|---|---|---|",
    ]
    for e in rep.inventory:
        out.append(
            f"| `{e.secret}` | {', '.join(e.taken_by) or '-'} | "
            f"{', '.join(e.released_by) or '-'} | {_cell(e.kept)} | {_cell(e.snapshot())} |"
        )
    return out


def _md_irreversible() -> list[str]:
    not_undoable = [
        t.name for t in m.TRIGGERS.values() if t.remote_effect != "none" and not t.remote_undoable
    ]
    return [
        "## Remote effects rollback cannot undo",
        "",
        *(f"- `{n}`: {m.TRIGGERS[n].remote_effect}" for n in not_undoable),
    ]


# ------------------------------------------------------------------ sign-off

#: The factor views committed beside the review (``view-<name>.svg``).
FACTOR_VIEWS: Final = tuple(f.name for f in FACTORS)

#: What the review takes for granted about Auth0 (printed in the sign-off summary).
AUTH0_ASSUMPTIONS: Final = (
    "Auth0 answers a request with one of the outcomes the wire parser maps its answers "
    "to, or not at all (a lost answer is a request in doubt); it hands out tokens only "
    "for a credential it verified; it enforces its own code, mfa_token and rate limits; "
    "and an answer that reaches the flow is Auth0's (TLS, the configured tenant)"
)


def signoff_markdown(rep: ReviewReport, spin: SpinReport) -> str:
    """The head of ``review.md``: the summary a reviewer signs, then the sign-off table."""
    import flowengine  # the package is loaded by now; a module-level import would be a cycle

    rows = table_rows(rep.edges)
    holds = sum(p.ok for p in rep.properties)
    spin_verdict = "hold" if spin.ok else "FAIL"
    verdict = "hold" if rep.ok else "FAIL"
    summary = (
        f"**What is proven.** On every run of the login machine, `authenticated` is entered "
        "only after Auth0 verified a first factor, and only after a second factor whenever "
        "Auth0 asked for MFA, only on tokens, never by cancel or expire; final states have "
        "no way out and every other (state, trigger) pair is refused; a request in doubt "
        "never advances a flow; a flow resumes only with its current handle and stored "
        "rows cannot be replayed; every secret a flow keeps is encrypted in snapshots. "
        f"**By which engines.** This project's exhaustive path search ({holds} of "
        f"{len(rep.properties)} properties {verdict}) and, independently, the SPIN model "
        f"checker (version {spin.version}: {spin.errors} errors, {spin.states_stored} "
        f"states stored; its five checks {spin_verdict}). **Over which model.** The table "
        f"the code runs (`flowengine/_machine.py`, definition sha256 `{rep.machine_hash}`: "
        f"{len(m.STATES)} states, {len(m.TRIGGERS)} triggers, {len(rows)} rows), which "
        "property 2 checks is exactly the running `transitions` machine; for SPIN, a "
        "Promela model generated from the same table plus the store protocol (two workers, "
        "claims, leases, crashes). **What is assumed about Auth0.** "
        f"{AUTH0_ASSUMPTIONS}."
    )
    return "\n".join(
        [
            f"# Security review: {m.MACHINE_NAME}",
            "",
            "<!-- Generated from flowengine/_machine.py; do not edit. "
            f"Regenerate with `{REGENERATE_COMMAND}`. -->",
            "",
            "## Sign-off",
            "",
            summary,
            "",
            "| Item | Value |",
            "|---|---|",
            f"| Machine | `{m.MACHINE_NAME}`, definition sha256 `{rep.machine_hash}` |",
            f"| Path search (flowengine {flowengine.__version__}) | {holds} of "
            f"{len(rep.properties)} properties {verdict} |",
            f"| SPIN {spin.version} | errors {spin.errors}, states stored "
            f"{spin.states_stored}, depth {spin.depth}: P1-P5 {spin_verdict} |",
            f"| Regenerate and check | `{REGENERATE_COMMAND}`, then "
            "`python -m flowengine.diagram --check diagrams/` |",
            "",
            "Reviewed by: ____________________ Date: ____________ "
            "Verdict (accept / reject): ____________",
            "",
            "![Overview of the login machine](overview.svg)",
            "",
            "The overview (above), one view per factor (`view-<factor>.svg`) and every "
            "transition ([flow.svg](flow.svg)) are drawn from the same table.",
            "",
        ]
    )


# ------------------------------------------------------------ model check (SPIN)


def spin_markdown(report: SpinReport) -> str:
    """The "Model check (SPIN)" section: what SPIN checked on the generated model, its figures.

    It is printed by ``flowengine review --spin`` and appended to the committed
    ``review.md`` (writing or checking that file needs SPIN and gcc; its figures
    depend on SPIN's version, Debian's 6.5.2 here).
    """
    verdict = (
        "**All SPIN checks hold.**"
        if report.ok
        else f"**FAILED: {report.violation or 'rows never taken'}**"
    )
    out = [
        "## Model check (SPIN)",
        "",
        "A Promela model generated from the table (`flowengine._promela`): the states, "
        "the triggers, each guard as a tracked condition (code attempts bounded by 3, "
        "mfa_token held, send_unconfirmed, recovery code in doubt; the pending factor's "
        "kind and the poll clock abstracted to true), Auth0's answer as a nondeterministic "
        "choice among the row's outcomes or no answer; two workers sharing the flow through "
        "claim, intent, send, save and lease expiry, either of which may crash at any step; "
        "the re-claim before a send succeeds where the store lets it (the worker's own "
        "claim, or another's lapsed one), and one that takes over a lapsed claim naming a "
        "request records the doubt and sends nothing. A claim lapses at any moment when no "
        "request of its holder is in flight (the one "
        "timing assumption: the HTTP timeout and each push-wait slice are shorter than the "
        "lease). SPIN explored every interleaving (safety mode, exhaustive) for:",
        "",
        "- P1 `authenticated` is entered only after a verified first factor, and after a "
        "verified second factor whenever MFA was asked;",
        "- P2 no Auth0 request (nor any row) out of a final state, nor without the claim;",
        "- P3 a remote effect is never repeated without an uncertain record;",
        "- P4 at most one request per flow is in flight;",
        "- P5 every live state has a way on, and every row is taken in some run.",
        "",
        "| SPIN | States stored | Depth | Errors |",
        "|---|---|---|---|",
        f"| {report.version} | {report.states_stored} | {report.depth} | {report.errors} |",
        "",
        verdict,
    ]
    if report.counterexample:
        out += ["", "Counterexample: `" + " ".join(report.counterexample) + "`"]
    if report.unreached_rows:
        out += [
            "",
            "Rows never taken in any run (unreachable source or guards that never hold): "
            + ", ".join(f"`{r}`" for r in report.unreached_rows),
        ]
    return "\n".join(out) + "\n"
