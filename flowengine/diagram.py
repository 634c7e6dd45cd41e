"""State diagrams and the security review, rendered from the table the code runs.

Theory of operation
-------------------
Nothing here is drawn by hand. Every picture and every figure is computed from
``flowengine._machine.EDGES`` (the declarative table) and checked against
``flowengine._machine.MACHINE`` (the ``transitions`` machine built from it,
which is what a flow actually fires on):

* :func:`to_mermaid` and :func:`to_dot` draw one edge per distinct
  (source, trigger, destination) of the table, labelled with the trigger, its
  guards, the Auth0 call it makes, the outcome kinds that lead there and
  markers for secrets going in (codes the user types) or out (tokens).
  :func:`render` turns DOT text into SVG or PNG with Graphviz's ``dot``.
* :func:`review_report` runs an exhaustive search over the table's rows and
  checks the properties a security reviewer cares about (no way to
  ``authenticated`` without a verified first factor, no way past an MFA demand
  without a second factor, no hidden edge, no dead end, ...). It also lists the
  states, every transition, the illegal (state, trigger) pairs and an inventory
  of the secrets. :attr:`ReviewReport.ok` is false when any property fails.
* :func:`write_committed` writes ``flow.mmd``, ``flow.dot``, ``flow.svg`` and
  ``review.md``; :func:`check_committed` says which committed files drifted.

Every function takes the table as an optional ``edges`` argument (default:
the real one), so tests can hand in a modified copy and watch a property fail.

The renderers only ever read the table and, for a flow's own diagram, state and
trigger *names* from its history (validated against ``STATES`` and
``TRIGGERS``); no context value can reach a diagram.

Command line: ``python -m flowengine.diagram --write diagrams/`` regenerates the
committed files, ``--check diagrams/`` fails on drift, ``--review`` prints the
review and exits 1 when a property fails, ``--format mermaid|dot|svg|png
[--output FILE]`` prints or writes a diagram.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal, cast

import attrs
from transitions import Machine, MachineError

from flowengine import _machine as m
from flowengine._snapshot import SECRET_FIELDS

__all__ = [
    "CODE_SECRETS",
    "COMMITTED_FILES",
    "DiagramError",
    "DrawnEdge",
    "PathFigures",
    "PropertyResult",
    "REGENERATE_COMMAND",
    "ReviewReport",
    "Row",
    "SecretEntry",
    "call_label",
    "check_committed",
    "diagram_bytes",
    "diagram_command",
    "drawn_edges",
    "flow_diagram",
    "history_steps",
    "machine_rows",
    "machine_transitions",
    "main",
    "render",
    "review_command",
    "review_report",
    "table_rows",
    "to_dot",
    "to_mermaid",
    "write_committed",
]

#: The command that regenerates the committed diagrams and review.
REGENERATE_COMMAND: Final = "python -m flowengine.diagram --write diagrams/"
#: The files :func:`write_committed` writes, in this order.
COMMITTED_FILES: Final = ("flow.mmd", "flow.dot", "flow.svg", "review.md")

Format = Literal["mermaid", "dot", "svg", "png"]
FORMATS: Final[tuple[str, ...]] = ("mermaid", "dot", "svg", "png")

#: Secrets the user types: marked "secret in" on the edges of the triggers that take them.
CODE_SECRETS: Final = frozenset({"otp", "binding_code", "recovery_code", "password"})
#: Outcome kinds meaning Auth0 accepted the credential the trigger presented.
VERIFIED_OUTCOMES: Final = frozenset({"tokens", "mfa_required", "mfa_access_token"})
#: Outcome kinds after which the flow needs a second factor to end in ``authenticated``.
MFA_ASKED_OUTCOMES: Final = frozenset({"mfa_required", "mfa_access_token"})
#: The path enumeration stops here; the configuration check still decides every property.
PATH_LIMIT: Final = 100_000

_GRANT_PREFIX = "http://auth0.com/oauth/grant-type/"
_INITIAL_NODE = "__initial__"


class DiagramError(Exception):
    """A diagram could not be produced (``dot`` missing or failing, bad input)."""


# ------------------------------------------------------------------ the table


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


def _trigger(name: str) -> m.TriggerSpec:
    """The declared trigger, or a call-less stand-in for a name the table does not declare."""
    found = m.TRIGGERS.get(name)
    return found if found is not None else m.TriggerSpec(name, None, "undeclared trigger")


def call_label(call: m.Auth0Call | None) -> str:
    """``POST /oauth/token (passwordless/otp)``: the call and grant type, or "no Auth0 call"."""
    if call is None:
        return "no Auth0 call"
    if call.grant_type is None:
        return f"{call.method} {call.path}"
    return f"{call.method} {call.path} ({call.grant_type.removeprefix(_GRANT_PREFIX)})"


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
        return _trigger(self.trigger).call

    @property
    def secrets_in(self) -> tuple[str, ...]:
        """Codes the user types that this trigger sends to Auth0."""
        return tuple(s for s in _trigger(self.trigger).secrets_in if s in CODE_SECRETS)

    @property
    def releases_tokens(self) -> bool:
        """True when Auth0 hands out tokens on this arrow."""
        return "tokens" in self.outcomes and "tokens" in _trigger(self.trigger).secrets_out

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
        lines = [self.head, call_label(self.call), *self.route.split("\n")]
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


# ---------------------------------------------------------- highlighting


def history_steps(history: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """(source, trigger, dest) of a flow's history entries; only the names are read.

    The entries' ``context`` (which holds secrets) is never looked at. Unknown
    names raise ``DiagramError``.
    """
    steps: list[tuple[str, str, str]] = []
    for entry in history:
        step = (str(entry["from"]), str(entry["trigger"]), str(entry["to"]))
        _check_states((step[0], step[2]))
        if step[1] not in m.TRIGGERS:
            raise DiagramError(f"unknown trigger {step[1]!r} in a flow's history")
        steps.append(step)
    return steps


def _check_states(states: Iterable[str]) -> None:
    for s in states:
        if s not in m.STATES:
            raise DiagramError(f"unknown state {s!r}: a diagram takes state names only")


@attrs.frozen
class _Highlight:
    visited: frozenset[str]
    taken: frozenset[tuple[str, str, str]]
    taken_pairs: frozenset[tuple[str, str]]
    current: str | None

    def edge_taken(self, e: DrawnEdge) -> bool:
        return (e.source, e.trigger, e.dest) in self.taken or (e.source, e.dest) in self.taken_pairs


def _highlight(
    highlight_path: Sequence[str] | None,
    current: str | None,
    steps: Sequence[tuple[str, str, str]] | None,
) -> _Highlight:
    path = list(highlight_path or ())
    _check_states(path)
    if current is not None:
        _check_states((current,))
    taken: set[tuple[str, str, str]] = set()
    for step in steps or ():
        _check_states((step[0], step[2]))
        if step[1] not in m.TRIGGERS:
            raise DiagramError(f"unknown trigger {step[1]!r}")
        taken.add((step[0], step[1], step[2]))
    pairs: set[tuple[str, str]] = set()
    if steps is None:
        pairs = {(a, b) for a, b in itertools.pairwise(path) if a != b}
    visited = set(path) | {s for step in taken for s in (step[0], step[2])}
    if current is not None:
        visited.add(current)
    return _Highlight(frozenset(visited), frozenset(taken), frozenset(pairs), current)


# ------------------------------------------------------------------- mermaid

#: Characters that end or break a stateDiagram label, and look-alikes that do not.
_MERMAID_FORBIDDEN = str.maketrans(
    {":": "\u2236", ";": ",", "#": "\u266f", "%": "\uff05", "\n": " "}
)


_MERMAID_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _mermaid_text(text: str) -> str:
    """Text safe inside a stateDiagram transition label (no ``:``, ``;``, ``#``, ``%``)."""
    return text.translate(_MERMAID_FORBIDDEN)


def to_mermaid(
    edges: Sequence[m.Edge] = m.EDGES,
    *,
    highlight_path: Sequence[str] | None = None,
    current: str | None = None,
    steps: Sequence[tuple[str, str, str]] | None = None,
) -> str:
    """The machine as a Mermaid ``stateDiagram-v2``.

    ``[*] -->`` marks the initial state and ``--> [*]`` every final state;
    ``authenticated`` has the ``success`` class, failures the ``failure`` class.
    With ``highlight_path`` (states, oldest first) the visited states get the
    ``visited`` class, taken arrows start with "▶" and ``current`` gets the
    ``current`` class.
    """
    hl = _highlight(highlight_path, current, steps)
    for s in m.STATES:
        if not _MERMAID_ID.fullmatch(s):
            raise DiagramError(f"state name {s!r} is not a plain Mermaid identifier")
    out = [
        "stateDiagram-v2",
        f"    %% {m.MACHINE_NAME}: generated from flowengine/_machine.py, do not edit",
        f"    %% regenerate with {REGENERATE_COMMAND}",
        f"    %% definition sha256 {m.definition_hash(tuple(edges))}",
        "    direction LR",
        "    classDef success fill:#b9f0c0,stroke:#1e7b34,stroke-width:3px,color:#0b3d17",
        "    classDef failure fill:#f8d7da,stroke:#a61b29,color:#5c0a12",
        "    classDef visited stroke:#1f5fd6,stroke-width:3px",
        "    classDef current fill:#ffe58a,stroke:#1f5fd6,stroke-width:4px",
        f"    [*] --> {m.STARTED}",
    ]
    for e in drawn_edges(edges):
        lines = e.label_lines()
        if hl.edge_taken(e):
            lines[0] = "▶ " + lines[0]
        label = "<br/>".join(_mermaid_text(x) for x in lines)
        out.append(f"    {e.source} --> {e.dest} : {label}")
    out.extend(f"    {s} --> [*]" for s in m.STATES if s in m.FINAL_STATES)
    out.append(f"    class {m.AUTHENTICATED} success")
    failures = [s for s in m.STATES if s in m.FAILURE_STATES]
    out.append(f"    class {','.join(failures)} failure")
    visited = [s for s in m.STATES if s in hl.visited and s != hl.current]
    if visited:
        out.append(f"    class {','.join(visited)} visited")
    if hl.current is not None:
        out.append(f"    class {hl.current} current")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------- DOT


def _dot_str(text: str) -> str:
    """A DOT double-quoted string (also used for every node id); newlines become ``\\n``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n") + '"'


class _Raw(str):
    """An attribute value written as is: an HTML-like label or a pre-escaped string."""

    __slots__ = ()


def _html(text: str) -> str:
    """Text escaped for a Graphviz HTML-like label."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attrs(**kv: str | float) -> str:
    parts = []
    for k, v in kv.items():
        if isinstance(v, _Raw):
            parts.append(f"{k}={v}")
        elif isinstance(v, str):
            parts.append(f"{k}={_dot_str(v)}")
        else:
            parts.append(f"{k}={v:g}")
    return "[" + ", ".join(parts) + "]"


def _dot_label(e: DrawnEdge, taken: bool) -> _Raw:
    """The arrow's HTML-like label: the trigger in bold, then guards, call, route, markers."""
    head = f"<B>{'▶ ' if taken else ''}{_html(e.trigger)}</B>"
    if e.guards:
        head += " " + _html(f"[{', '.join(e.guards)}]")
    lines = [head, _html(call_label(e.call)), *(_html(x) for x in e.route.split("\n"))]
    if e.marks:
        lines.append(_html(e.marks))
    return _Raw("<" + "<BR/>".join(lines) + ">")


_LEGEND = (
    "Green double circle: authenticated, the one success. Red double circles: failures. "
    "A final state has no way out.",
    "Each arrow: trigger [guards] / the Auth0 call (grant type) / source → destination "
    "(outcome kinds).",
    "Bold green arrow: Auth0 hands out tokens [secret out: tokens]. [secret in: ...]: "
    "the user's code or password is sent.",
    "Thin red arrow: Auth0 ends the flow. Dashed grey arrow: no Auth0 call (cancel, "
    "expire). Light blue loop: the flow stays in its state.",
)


def _ranks(edges: Sequence[m.Edge]) -> dict[str, int]:
    """Columns of the picture: a live state's longest simple path from ``started``; finals last."""
    out: dict[str, list[str]] = {}
    for r in table_rows(edges):
        if r.source != r.dest and r.dest not in m.FINAL_STATES:
            out.setdefault(r.source, []).append(r.dest)
    rank: dict[str, int] = {}

    def walk(state: str, depth: int, on_path: frozenset[str]) -> None:
        rank[state] = max(rank.get(state, 0), depth)
        for nxt in out.get(state, ()):
            if nxt not in on_path:
                walk(nxt, depth + 1, on_path | {nxt})

    walk(m.STARTED, 0, frozenset({m.STARTED}))
    last = max(rank.values()) + 1
    for s in m.STATES:
        if s in m.FINAL_STATES:
            rank[s] = last
        else:
            rank.setdefault(s, last - 1)
    return rank


def to_dot(
    edges: Sequence[m.Edge] = m.EDGES,
    *,
    highlight_path: Sequence[str] | None = None,
    current: str | None = None,
    steps: Sequence[tuple[str, str, str]] | None = None,
) -> str:
    """The machine as Graphviz DOT text (no Graphviz needed to produce it).

    States are laid out in columns (``started`` left, final states right).
    Final states are double circles, ``authenticated`` is filled green and
    failures red; arrows releasing tokens are bold green, arrows of call-less
    triggers dashed grey, self-loops light blue. With ``highlight_path`` the
    visited states get a blue border, taken arrows are blue and start with "▶", and
    ``current`` is filled yellow.
    """
    hl = _highlight(highlight_path, current, steps)
    digest = m.definition_hash(tuple(edges))
    title = (
        f"flowengine: Auth0 passwordless + MFA login ({m.MACHINE_NAME}, "
        f"definition sha256 {digest[:16]})"
    )
    out = [
        "// Generated from flowengine/_machine.py; do not edit.",
        f"// Regenerate with {REGENERATE_COMMAND}",
        f"// definition sha256 {digest}",
        "digraph flowengine {",
        "    graph "
        + _attrs(
            rankdir="LR",
            fontname="DejaVu Sans",
            fontsize=18,
            label=_Raw(_dot_str("\n".join((title, *_LEGEND)) + "\n").replace("\\n", "\\l")),
            labelloc="t",
            labeljust="l",
            nodesep=0.3,
            ranksep=1.1,
            pad=0.4,
        )
        + ";",
        "    node "
        + _attrs(
            fontname="DejaVu Sans",
            fontsize=18,
            shape="box",
            style="rounded,filled",
            fillcolor="#f1f4f8",
            color="#44546a",
            penwidth=1.5,
            margin="0.25,0.12",
        )
        + ";",
        "    edge "
        + _attrs(
            fontname="DejaVu Sans",
            fontsize=12,
            color="#3b4452",
            fontcolor="#1f2630",
            arrowsize=0.8,
        )
        + ";",
        f"    {_INITIAL_NODE} {_attrs(shape='point', width=0.2, label='')};",
    ]
    for s in m.STATES:
        node: dict[str, str | float] = {}
        label = s
        if s in m.FINAL_STATES:
            node.update(shape="doublecircle", margin="0.05")
        if s == m.AUTHENTICATED:
            node.update(fillcolor="#b9f0c0", color="#1e7b34", penwidth=3.0, fontcolor="#0b3d17")
            node.update(fontname="DejaVu Sans Bold")
        elif s in m.FAILURE_STATES:
            node.update(fillcolor="#f8d7da", color="#a61b29", fontcolor="#5c0a12")
        if s in hl.visited:
            node.update(color="#1f5fd6", penwidth=4.0)
        if s == hl.current:
            node.update(fillcolor="#ffe58a", penwidth=5.0)
            label += "\n(current)"
        node["label"] = label
        out.append(f"    {_dot_str(s)} {_attrs(**node)};")
    ranks = _ranks(edges)
    for r in sorted(set(ranks.values())):
        same = [s for s in m.STATES if ranks[s] == r]
        out.append("    { rank=same; " + " ".join(f"{_dot_str(s)};" for s in same) + " }")
    out.append(f"    {_INITIAL_NODE} -> {_dot_str(m.STARTED)} {_attrs(penwidth=1.5)};")
    for e in drawn_edges(edges):
        taken = hl.edge_taken(e)
        edge: dict[str, str | float] = {"label": _dot_label(e, taken)}
        # Arrows leave a state on its right and enter on its left (back edges the other
        # way round), so the self-loops drawn above a state are never crossed by them.
        if ranks[e.dest] > ranks[e.source]:
            edge.update(tailport="e", headport="w")
        elif ranks[e.dest] < ranks[e.source]:
            edge.update(tailport="w", headport="e")
        if e.source == e.dest:
            edge.update(color="#8fa9cf", penwidth=0.9)
        elif e.no_call:
            edge.update(style="dashed", color="#9aa0a6", fontcolor="#5f6670")
        elif e.releases_tokens:
            edge.update(style="bold", color="#1e7b34", fontcolor="#14532d", penwidth=3.0)
        elif e.dest in m.FAILURE_STATES:
            edge.update(color="#c0504d", fontcolor="#8a1c2b", penwidth=0.9)
        if taken:
            edge.update(color="#1f5fd6", fontcolor="#1f5fd6", penwidth=4.0, style="bold")
        out.append(f"    {_dot_str(e.source)} -> {_dot_str(e.dest)} {_attrs(**edge)};")
    out.append("}")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ rendering


def _dot_program() -> str:
    found = shutil.which("dot")
    if found is None:
        raise DiagramError(
            "Graphviz's `dot` program is not on PATH; install it (Debian: apt-get install "
            "graphviz, as .ci/run does) to render SVG or PNG. Mermaid and DOT text need nothing."
        )
    return found


def render(fmt: Literal["svg", "png"], dot_text: str) -> bytes:
    """Render DOT text to SVG or PNG bytes with ``dot``; ``DiagramError`` if it is missing."""
    if fmt not in ("svg", "png"):
        raise DiagramError(f"render makes svg or png, not {fmt!r}")
    try:
        done = subprocess.run(
            [_dot_program(), "-T" + fmt],
            input=dot_text.encode(),
            capture_output=True,
            check=True,
            timeout=60,
        )
    except subprocess.CalledProcessError as exc:
        err = exc.stderr.decode(errors="replace").strip()
        raise DiagramError(f"dot -T{fmt} failed: {err}") from exc
    except subprocess.TimeoutExpired as exc:
        raise DiagramError(f"dot -T{fmt} did not finish within 60 seconds") from exc
    return done.stdout if fmt == "png" else _normalise_svg(done.stdout, dot_text)


def graphviz_version() -> str:
    """``2.43.0 (0)``: the version of the ``dot`` on PATH."""
    done = subprocess.run(
        [_dot_program(), "-V"], capture_output=True, check=True, timeout=60, text=True
    )
    text = (done.stderr or done.stdout).strip()
    return text.split("version", 1)[-1].strip()


_SVG_GENERATOR = re.compile(rb"<!-- Generated by graphviz version [^>]*?-->\n?")


def _normalise_svg(svg: bytes, dot_text: str) -> bytes:
    """Drop Graphviz's version comment; record the DOT text's digest instead."""
    # No double hyphen may appear inside an XML comment, so the command is not quoted here.
    stamp = (
        "<!-- flowengine: rendered with Graphviz dot from flow.dot "
        f"sha256={hashlib.sha256(dot_text.encode()).hexdigest()}; "
        "regenerate with python -m flowengine.diagram (see review.md) -->\n"
    ).encode()
    body, count = _SVG_GENERATOR.subn(stamp, svg, count=1)
    return body if count else stamp + svg


def diagram_bytes(
    fmt: Format,
    edges: Sequence[m.Edge] = m.EDGES,
    *,
    highlight_path: Sequence[str] | None = None,
    current: str | None = None,
    steps: Sequence[tuple[str, str, str]] | None = None,
) -> bytes:
    """The diagram in ``fmt``: UTF-8 text for mermaid and dot, image bytes for svg and png."""
    if fmt == "mermaid":
        return to_mermaid(
            edges, highlight_path=highlight_path, current=current, steps=steps
        ).encode()
    dot_text = to_dot(edges, highlight_path=highlight_path, current=current, steps=steps)
    if fmt == "dot":
        return dot_text.encode()
    if fmt in ("svg", "png"):
        return render(fmt, dot_text)
    raise DiagramError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def flow_diagram(
    flow_path: Sequence[str],
    current: str,
    fmt: Format = "svg",
    *,
    steps: Sequence[tuple[str, str, str]] | None = None,
    edges: Sequence[m.Edge] = m.EDGES,
) -> bytes:
    """One flow's diagram: ``flow_path`` (``Flow.path()``) highlighted, ``current`` marked.

    ``steps`` (from :func:`history_steps`) pins the exact arrows taken;
    without it every arrow between consecutive states of the path is lit.
    Only state and trigger names are accepted, never a context.
    """
    return diagram_bytes(fmt, edges, highlight_path=flow_path, current=current, steps=steps)


# --------------------------------------------------------------- the review


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


#: Where each secret named by a trigger ends up after a step (``_flow._update_context``):
#: the context keys that keep it, and what happens otherwise.
SECRET_HOMES: Final[Mapping[str, tuple[tuple[str, ...], str]]] = {
    "otp": ((), "typed by the user; sent in the request only"),
    "binding_code": ((), "typed by the user; sent in the request only"),
    "password": ((), "typed by the user; sent in the request only"),
    "recovery_code": (
        (),
        "typed by the user; the new code Auth0 returns is handed to the caller once "
        "(StepResult.data), not kept",
    ),
    "phone_number": (
        ("phone_number",),
        "kept after start_passwordless (resend needs it); an enrolled number is not kept",
    ),
    "email": (
        ("email",),
        "kept after start_passwordless (resend needs it); an enrolled address is not kept",
    ),
    "username": (("username",), "kept after login_password"),
    "mfa_token": (("mfa_token",), "kept while MFA is pending; dropped on tokens or failure"),
    "oob_code": (("oob_code",), "kept while a factor is pending; dropped on tokens or failure"),
    "tokens": (("tokens",), "kept in authenticated for the caller; dropped on failure"),
    "totp_secret": ((), "handed to the caller once (StepResult.data), not kept"),
    "barcode_uri": ((), "handed to the caller once (StepResult.data), not kept"),
    "recovery_codes": ((), "handed to the caller once (StepResult.data), not kept"),
}


def _secret_inventory(edges: Sequence[m.Edge]) -> tuple[SecretEntry, ...]:
    used = list(dict.fromkeys(e.trigger for e in edges))
    names: dict[str, None] = {}
    for t in used:
        trig = _trigger(t)
        names.update(dict.fromkeys((*trig.secrets_in, *trig.secrets_out)))
    entries = []
    for name in names:
        keys, kept = SECRET_HOMES.get(name, ((name,), "not in the inventory: assumed kept"))
        entries.append(
            SecretEntry(
                name,
                tuple(t for t in used if name in _trigger(t).secrets_in),
                tuple(t for t in used if name in _trigger(t).secrets_out),
                keys,
                kept,
            )
        )
    return tuple(entries)


@attrs.frozen(order=True)
class _Config:
    state: str
    first: bool
    mfa: bool


class _PathLimitError(Exception):
    pass


def _step(c: _Config, r: Row) -> _Config:
    """The configuration after taking row ``r`` in configuration ``c``."""
    first = c.first or (_trigger(r.trigger).factor == "first" and r.outcome in VERIFIED_OUTCOMES)
    return _Config(r.dest, first, c.mfa or r.outcome in MFA_ASKED_OUTCOMES)


def _entry_faults(after: _Config, r: Row) -> list[str]:
    """What entering ``authenticated`` by row ``r`` (arriving in ``after``) breaks."""
    faults = []
    if not after.first:
        faults.append("no_first_factor")
    if after.mfa and not (_trigger(r.trigger).factor == "second" and r.outcome == "tokens"):
        faults.append("no_second_factor")
    if r.outcome != "tokens" or "tokens" not in _trigger(r.trigger).secrets_out:
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


def _properties(
    edges: Sequence[m.Edge], machine: Machine, figures: PathFigures, build_error: str | None
) -> tuple[PropertyResult, ...]:
    rows = table_rows(edges)
    results: list[PropertyResult] = []

    def add(name: str, title: str, ok: bool, detail: str, **fig: int | str) -> None:
        results.append(PropertyResult(name, title, ok, detail, fig))

    # 1. well formed
    bad_states = sorted({s for r in rows for s in (r.source, r.dest)} - set(m.STATES))
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
    if build_error:
        problems.append(build_error)
    add(
        "table_well_formed",
        "Every state, trigger and guard in the table is declared, and the table builds",
        not problems,
        "; ".join(problems) or "all names declared in STATES, TRIGGERS and GUARDS",
        rows=len(rows),
        edges=len(edges),
        states=len(m.STATES),
        triggers=len(m.TRIGGERS),
        guards=len(m.GUARDS),
    )

    # 2. machine == table
    table_set = Counter(rows)
    machine_set = Counter(machine_rows(machine))
    extra = sorted((machine_set - table_set).elements())
    missing = sorted((table_set - machine_set).elements())
    detail = "the machine's transitions are exactly the table's rows"
    if extra or missing:
        detail = "; ".join(
            part
            for part in (
                "in the machine only: " + ", ".join(_row_text(r) for r in extra) if extra else "",
                "in the table only: " + ", ".join(_row_text(r) for r in missing) if missing else "",
            )
            if part
        )
    add(
        "machine_is_table",
        "The running machine is the table: no hidden or missing transition",
        not extra and not missing,
        detail,
        machine_transitions=sum(machine_set.values()),
        table_rows=len(rows),
        drawn_edges=len(drawn_edges(edges)),
    )

    stopped = (
        f" (path enumeration stopped at {figures.paths:,} paths; the configuration check "
        "still covers every run)"
        if figures.truncated
        else ""
    )
    v = figures.violations
    # 3. first factor
    add(
        "first_factor",
        "Every path from `started` to `authenticated` passes a verified first factor",
        figures.no_first_factor is None and not v.get("no_first_factor"),
        (
            "counterexample: " + _show_path(figures.no_first_factor)
            if figures.no_first_factor
            else "a verify_otp or login_password accepted by Auth0 precedes every entry"
        )
        + stopped,
        paths_examined=figures.paths,
        entries_into_authenticated=figures.arrivals,
        entries_without_first_factor=v.get("no_first_factor", 0),
        configurations_checked=figures.configurations,
    )
    # 4. second factor
    add(
        "second_factor_after_mfa",
        "Every path on which Auth0 asked for MFA enters `authenticated` only by a verified "
        "second factor",
        figures.no_second_factor is None and not v.get("no_second_factor"),
        (
            "counterexample: " + _show_path(figures.no_second_factor)
            if figures.no_second_factor
            else "after mfa_required, only confirm_oob / confirm_otp / confirm_recovery_code / "
            "poll_push answered with tokens enter authenticated"
        )
        + stopped,
        paths_examined=figures.paths,
        entries_after_mfa=figures.arrivals_after_mfa,
        entries_without_mfa=figures.arrivals_without_mfa,
        entries_without_second_factor=v.get("no_second_factor", 0),
    )
    # 5. tokens only
    into_auth = [r for r in rows if r.dest == m.AUTHENTICATED]
    bad = [
        r
        for r in into_auth
        if r.outcome != "tokens" or "tokens" not in _trigger(r.trigger).secrets_out
    ]
    add(
        "authenticated_only_on_tokens",
        "`authenticated` is entered only when Auth0 answers with tokens",
        not bad and figures.not_tokens is None,
        ("rows: " + ", ".join(_row_text(r) for r in bad))
        if bad
        else "every row into authenticated has outcome `tokens` from a trigger that hands "
        "out tokens",
        rows_into_authenticated=len(into_auth),
    )
    # 6. no call, no success
    callless = sorted({r.trigger for r in rows if _trigger(r.trigger).call is None})
    bad = [r for r in into_auth if _trigger(r.trigger).call is None]
    add(
        "no_callless_success",
        "No trigger without an Auth0 call (cancel, expire) leads to `authenticated`",
        not bad,
        ("rows: " + ", ".join(_row_text(r) for r in bad))
        if bad
        else f"call-less triggers: {', '.join(callless) or 'none'}; none reaches authenticated",
        callless_rows=sum(1 for r in rows if _trigger(r.trigger).call is None),
    )
    # 7. reachability
    reach = _reachable(rows, (m.STARTED,))
    unreachable = [s for s in m.STATES if s not in reach]
    add(
        "all_reachable",
        "Every state is reachable from `started`",
        not unreachable,
        ("unreachable: " + ", ".join(unreachable)) if unreachable else "all states reachable",
        reachable=len(reach & set(m.STATES)),
        states=len(m.STATES),
    )
    # 8. no dead end
    can_end = _reachable(rows, m.FINAL_STATES, backwards=True)
    dead = [s for s in m.STATES if s not in m.FINAL_STATES and s not in can_end]
    can_succeed = _reachable(rows, (m.AUTHENTICATED,), backwards=True)
    add(
        "no_dead_end",
        "No non-final state is a dead end: each can still reach a final state",
        not dead,
        ("dead ends: " + ", ".join(dead)) if dead else "every live state can reach a final state",
        live_states=len(m.LIVE_STATES),
        dead_ends=len(dead),
        live_states_that_can_still_succeed=sum(1 for s in m.LIVE_STATES if s in can_succeed),
    )
    # 9. final states closed
    ways_out = [r for r in rows if r.source in m.FINAL_STATES]
    machine_out = sorted(
        (s, t) for (s, t, _d) in machine_transitions(machine) if s in m.FINAL_STATES
    )
    add(
        "final_states_closed",
        "Final states have no way out",
        not ways_out and not machine_out,
        ("ways out: " + ", ".join(_row_text(r) for r in ways_out))
        if ways_out
        else (
            "machine events out of final states: " + ", ".join(f"{s}/{t}" for s, t in machine_out)
            if machine_out
            else f"no row leaves {', '.join(s for s in m.STATES if s in m.FINAL_STATES)}"
        ),
        final_states=len(m.FINAL_STATES),
        rows_out_of_final_states=len(ways_out),
    )
    # 10. illegal pairs rejected
    legal = {(r.source, r.trigger) for r in rows}
    pairs = [(s, t) for s in m.STATES for t in m.TRIGGERS]
    illegal = [p for p in pairs if p not in legal]
    accepted = [p for p in illegal if not _rejects(machine, *p)]
    add(
        "illegal_pairs_rejected",
        "Every (state, trigger) pair outside the table is refused by the machine",
        not accepted,
        ("accepted by the machine: " + ", ".join(f"{s}/{t}" for s, t in accepted))
        if accepted
        else "each illegal pair was fired on the machine and raised MachineError",
        pairs=len(pairs),
        legal=len(pairs) - len(illegal),
        illegal_rejected=len(illegal) - len(accepted),
    )
    # 11. no auto transitions
    auto = sorted(n for n in machine.events if n.startswith("to_"))
    stray = sorted(set(machine.events) - set(m.TRIGGERS) - set(auto))
    add(
        "no_auto_transitions",
        "The machine was built with auto_transitions=False: no `to_<state>` shortcut",
        not auto and not stray and machine.auto_transitions is False,
        "; ".join(
            p
            for p in (
                f"auto_transitions={machine.auto_transitions}",
                ("shortcut events: " + ", ".join(auto)) if auto else "no to_<state> event",
                ("undeclared events: " + ", ".join(stray)) if stray else "",
            )
            if p
        ),
        machine_events=len(machine.events),
    )
    # 12. secrets sealed
    inventory = _secret_inventory(edges)
    clear = [e.secret for e in inventory if not e.sealed]
    add(
        "secrets_sealed",
        "Every secret a flow keeps in its context is encrypted in snapshots",
        not clear,
        ("kept in clear: " + ", ".join(clear))
        if clear
        else "every context key holding a secret is in SECRET_FIELDS",
        secrets=len(inventory),
        kept_in_context=sum(1 for e in inventory if e.context_keys),
        never_stored=sum(1 for e in inventory if not e.context_keys),
    )
    return tuple(results)


def _row_text(r: Row) -> str:
    return f"{r.source} --{r.trigger}/{r.outcome}--> {r.dest}"


@attrs.frozen
class ReviewReport:
    """The security review of one table: properties, tables and the secrets inventory."""

    machine_hash: str
    edges: tuple[m.Edge, ...] = attrs.field(repr=False)
    properties: tuple[PropertyResult, ...]
    paths: PathFigures
    inventory: tuple[SecretEntry, ...]

    @property
    def ok(self) -> bool:
        """True when every property holds."""
        return all(p.ok for p in self.properties)

    @property
    def failed(self) -> tuple[PropertyResult, ...]:
        """The properties that do not hold."""
        return tuple(p for p in self.properties if not p.ok)

    def to_markdown(self) -> str:
        """The review as Markdown (committed as ``diagrams/review.md``)."""
        return _markdown(self)


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
    return ReviewReport(
        m.definition_hash(table),
        table,
        _properties(table, machine, figures, build_error),
        figures,
        _secret_inventory(table),
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(rep: ReviewReport) -> str:
    rows = table_rows(rep.edges)
    out: list[str] = [
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
        "",
    ]
    verdict = (
        f"**All {len(rep.properties)} properties hold.**"
        if rep.ok
        else "**FAILED: " + ", ".join(p.name for p in rep.failed) + "**"
    )
    out += [verdict, "", "## Checked properties", ""]
    out += ["| # | Property | Holds | Figures |", "|---|---|---|---|"]
    for i, p in enumerate(rep.properties, 1):
        figs = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in p.figures.items())
        out.append(f"| {i} | {_cell(p.title)} | {'yes' if p.ok else '**NO**'} | {_cell(figs)} |")
    out.append("")
    for i, p in enumerate(rep.properties, 1):
        out.append(f"{i}. `{p.name}`: {'holds' if p.ok else '**FAILS**'}. {_cell(p.detail)}")
    f = rep.paths
    out += [
        "",
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
        "",
        "## States",
        "",
        "| State | Kind | Legal triggers |",
        "|---|---|---|",
    ]
    for s in m.STATES:
        if s == m.STARTED:
            kind = "initial"
        elif s == m.AUTHENTICATED:
            kind = "final: success"
        elif s in m.FAILURE_STATES:
            kind = "final: failure"
        elif s in m.FINAL_STATES:
            kind = "final"
        else:
            kind = "live"
        legal = list(dict.fromkeys(e.trigger for e in rep.edges if e.source == s))
        out.append(f"| `{s}` | {kind} | {', '.join(legal) or '(none)'} |")
    out += [
        "",
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
        trig = _trigger(r.trigger)
        if r.dest in m.FINAL_STATES:
            undo = "no: no rollback out of a final state"
        elif r.source == r.dest:
            undo = "n/a: state unchanged, no history entry"
        elif trig.remote_effect == "none":
            undo = "nothing to undo"
        elif trig.remote_undoable:
            undo = "yes"
        else:
            undo = "no (audited)"
        out.append(
            f"| `{r.source}` | `{r.trigger}` | {_cell(call_label(trig.call))} | "
            f"{', '.join(r.guards) or '-'} | {r.outcome} → `{r.dest}` | "
            f"{_cell(trig.remote_effect)} | {undo} |"
        )
    legal_pairs = {(r.source, r.trigger) for r in rows}
    triggers = list(m.TRIGGERS)
    illegal = sum(1 for s in m.STATES for t in triggers if (s, t) not in legal_pairs)
    out += [
        "",
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
    out += [
        "",
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
    not_undoable = [
        t.name for t in m.TRIGGERS.values() if t.remote_effect != "none" and not t.remote_undoable
    ]
    out += [
        "",
        "## Remote effects rollback cannot undo",
        "",
        *(f"- `{n}`: {m.TRIGGERS[n].remote_effect}" for n in not_undoable),
        "",
    ]
    return "\n".join(out)


# ------------------------------------------------------------ committed files


def _committed_contents(edges: Sequence[m.Edge] = m.EDGES, *, svg: bool = True) -> dict[str, bytes]:
    """The committed files' fresh contents (``flow.svg`` only with ``svg``, which needs dot)."""
    dot_text = to_dot(edges)
    contents = {"flow.mmd": to_mermaid(edges).encode(), "flow.dot": dot_text.encode()}
    if svg:
        contents["flow.svg"] = render("svg", dot_text)
    contents["review.md"] = review_report(edges).to_markdown().encode()
    return contents


def write_committed(directory: Path) -> list[Path]:
    """Write ``flow.mmd``, ``flow.dot``, ``flow.svg`` and ``review.md`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in _committed_contents().items():
        path = directory / name
        path.write_bytes(data)
        written.append(path)
    return written


_SVG_TEXT = re.compile(rb"<(title|text)\b[^>]*>([^<]*)</\1>")


def svg_content(svg: bytes) -> list[bytes]:
    """The ``<title>`` and ``<text>`` contents of an SVG: its states and labels, layout aside."""
    return sorted(match.group(2) for match in _SVG_TEXT.finditer(svg))


def check_committed(directory: Path, *, svg: bool = True) -> list[str]:
    """The committed files that differ from a fresh rendering (empty when none drifted).

    Text files are compared byte for byte. ``flow.svg`` must carry the digest of
    the fresh DOT text, and hold exactly the states and labels a fresh rendering
    holds (the layout may differ between Graphviz versions). ``svg=False`` skips
    ``flow.svg`` (no ``dot`` needed).
    """
    fresh = _committed_contents(svg=svg)
    problems = []
    for name, data in fresh.items():
        path = directory / name
        if not path.exists():
            problems.append(f"{name} is missing")
            continue
        committed = path.read_bytes()
        if name != "flow.svg":
            if committed != data:
                problems.append(f"{name} differs from the machine")
            continue
        digest = hashlib.sha256(fresh["flow.dot"]).hexdigest()
        if f"sha256={digest}".encode() not in committed:
            problems.append("flow.svg was not rendered from the current flow.dot")
        elif svg_content(committed) != svg_content(data):
            problems.append("flow.svg does not show the current states and labels")
    return problems


# ------------------------------------------------------------------ commands


def _emit(data: bytes, output: Path | str | None) -> None:
    if output is None or str(output) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        Path(output).write_bytes(data)


def diagram_command(
    fmt: str = "svg",
    output: Path | str | None = None,
    path: Sequence[str] | None = None,
    current: str | None = None,
    steps: Sequence[tuple[str, str, str]] | None = None,
) -> int:
    """``flowengine diagram``: write the diagram (or one flow's) to ``output`` or stdout.

    Returns 0, or 2 with a message on stderr when the diagram cannot be made.
    """
    if fmt not in FORMATS:
        print(f"flowengine diagram: unknown format {fmt!r}", file=sys.stderr)
        return 2
    try:
        data = diagram_bytes(
            cast(Format, fmt),
            highlight_path=path,
            current=current,
            steps=steps,
        )
    except DiagramError as exc:
        print(f"flowengine diagram: {exc}", file=sys.stderr)
        return 2
    _emit(data, output)
    return 0


def review_command(output: Path | str | None = None, edges: Sequence[m.Edge] = m.EDGES) -> int:
    """``flowengine review``: write the review; 1 when a property fails, else 0."""
    report = review_report(edges)
    _emit(report.to_markdown().encode(), output)
    if not report.ok:
        names = ", ".join(p.name for p in report.failed)
        print(f"flowengine review: properties FAILED: {names}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m flowengine.diagram``: write, check, review or print the diagrams."""
    parser = argparse.ArgumentParser(
        prog="python -m flowengine.diagram",
        description="Diagrams and security review rendered from flowengine's machine table.",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="DIR", type=Path, help="regenerate the committed files")
    group.add_argument("--check", metavar="DIR", type=Path, help="exit 1 if DIR drifted")
    group.add_argument("--review", action="store_true", help="print the review (exit 1 on fail)")
    parser.add_argument("--format", choices=FORMATS, default="mermaid", help="diagram format")
    parser.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    args = parser.parse_args(argv)
    try:
        if args.write is not None:
            for p in write_committed(args.write):
                print(p)
            return 0
        if args.check is not None:
            problems = check_committed(args.check)
            for problem in problems:
                print(f"{args.check}/{problem}", file=sys.stderr)
            if problems:
                print(f"regenerate with: {REGENERATE_COMMAND}", file=sys.stderr)
            return 1 if problems else 0
    except DiagramError as exc:
        print(f"flowengine diagram: {exc}", file=sys.stderr)
        return 2
    if args.review:
        return review_command(args.output)
    return diagram_command(args.format, args.output)


if __name__ == "__main__":
    sys.exit(main())
