"""The machine's diagrams, and the committed files, drawn from the table the code runs.

Theory of operation
-------------------
Nothing here is drawn by hand. :func:`to_mermaid` and :func:`to_dot` draw one
arrow per :class:`~flowengine._table.DrawnEdge` (a distinct (source, trigger,
destination) of ``flowengine._machine.EDGES``), labelled with the trigger, its
guards, the Auth0 call it makes, the outcome kinds that lead there and markers
for secrets going in (codes the user types) or out (tokens). Both are plain
text and need nothing installed; :func:`diagram_bytes` hands DOT text to
``flowengine._graphviz.render`` for SVG or PNG.

A flow's own diagram (:func:`flow_diagram`) lights up the path it took. It is
given state and trigger *names* only (``Flow.path()``, and :func:`history_steps`,
which reads the names out of a history and never its ``context``); each name is
checked against ``STATES`` and ``TRIGGERS`` before anything is drawn, so no
context value can reach a diagram.

:func:`write_committed` writes ``diagrams/``: ``flow.mmd``, ``flow.dot``,
``flow.svg`` and the security review ``review.md``
(``flowengine._review``); :func:`check_committed` says which of them drifted
from the table (the drift check CI runs).

Every function takes the table as an optional ``edges`` argument (default: the
real one), so tests can hand in a modified copy.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import attrs

from flowengine import _machine as m
from flowengine._errors import DiagramError
from flowengine._graphviz import render, svg_content
from flowengine._promela import spin_check
from flowengine._review import review_report, spin_markdown
from flowengine._table import REGENERATE_COMMAND, DrawnEdge, call_text, drawn_edges, table_rows

__all__ = [
    "COMMITTED_FILES",
    "FORMATS",
    "Format",
    "check_committed",
    "diagram_bytes",
    "flow_diagram",
    "history_steps",
    "to_doubt_mermaid",
    "to_dot",
    "to_mermaid",
    "write_committed",
]

#: The files :func:`write_committed` writes, in this order.
COMMITTED_FILES: Final = ("flow.mmd", "flow.dot", "flow.svg", "doubt.mmd", "review.md")

Format = Literal["mermaid", "dot", "svg", "png"]
FORMATS: Final[tuple[str, ...]] = ("mermaid", "dot", "svg", "png")

_INITIAL_NODE = "__initial__"


# ---------------------------------------------------------- highlighting


def history_steps(history: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """(source, trigger, dest) of a flow's history entries; only the names are read.

    The entries' ``context`` (which holds secrets) is never looked at. Unknown
    names raise ``DiagramError``.
    """
    steps: list[tuple[str, str, str]] = []
    for entry in history:
        step = (str(entry["from"]), str(entry["trigger"]), str(entry["to"]))
        _check_step(step)
        steps.append(step)
    return steps


# A refused value is never quoted in the error: whatever was handed over in place of a
# name (a phone number, a code, a token) may be a secret, and messages never hold one.


def _check_states(states: Iterable[str]) -> None:
    for s in states:
        if s not in m.STATES:
            raise DiagramError(
                "a diagram takes state names only: refused a value not in STATES (not shown)"
            )


def _check_step(step: tuple[str, str, str]) -> None:
    _check_states((step[0], step[2]))
    if step[1] not in m.TRIGGERS:
        raise DiagramError(
            "a diagram takes trigger names only: refused a value not in TRIGGERS (not shown)"
        )


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
        _check_step(step)
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


# ------------------------------------------------------- requests in doubt


def doubt_node(trigger: str, state: str) -> str:
    """The Mermaid id of "``trigger`` sent from ``state``, answer lost"."""
    return f"{state}__{trigger}__in_doubt"


def to_doubt_mermaid(edges: Sequence[m.Edge] = m.EDGES) -> str:
    """Requests in doubt as a Mermaid ``stateDiagram-v2``, from ``_machine.DOUBT``.

    For every trigger that calls Auth0 and every state it leaves: an arrow from the
    state to a dashed "in doubt" state (the request went out, its answer was lost:
    the flow records ``uncertain`` and stays where it was), and from there the ways
    on the table declares. None reaches ``authenticated`` (the review checks it).
    """
    out = [
        "stateDiagram-v2",
        f"    %% {m.MACHINE_NAME}: requests in doubt, generated from flowengine/_machine.py "
        "(DOUBT), do not edit",
        f"    %% regenerate with {REGENERATE_COMMAND}",
        "    direction LR",
        "    classDef doubt fill:#fff3cd,stroke:#a67c00,color:#4d3800",
    ]
    nodes = []
    for trigger, doubt in m.DOUBT.items():
        for state in sorted({e.source for e in edges if e.trigger == trigger}):
            node = doubt_node(trigger, state)
            nodes.append(node)
            out.append(f'    state "{trigger} in doubt" as {node}')
            out.append(f"    {state} --> {node} : {trigger} sent, answer lost")
            for way, dest in doubt.recovery.get(state, ()):
                out.append(f"    {node} --> {dest} : {way}")
    out.append(f"    class {','.join(nodes)} doubt")
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
    lines = [head, _html(call_text(e.call)), *(_html(x) for x in e.route.split("\n"))]
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
    ranks = _ranks(edges)
    out = [*_dot_preamble(digest), *(_dot_node(s, hl) for s in m.STATES)]
    for r in sorted(set(ranks.values())):
        same = [s for s in m.STATES if ranks[s] == r]
        out.append("    { rank=same; " + " ".join(f"{_dot_str(s)};" for s in same) + " }")
    out.append(f"    {_INITIAL_NODE} -> {_dot_str(m.STARTED)} {_attrs(penwidth=1.5)};")
    out.extend(_dot_edge(e, hl.edge_taken(e), ranks) for e in drawn_edges(edges))
    out.append("}")
    return "\n".join(out) + "\n"


def _dot_preamble(digest: str) -> list[str]:
    """The header comments, the graph's title and legend, the defaults, the initial dot."""
    title = (
        f"flowengine: Auth0 passwordless + MFA login ({m.MACHINE_NAME}, "
        f"definition sha256 {digest[:16]})"
    )
    return [
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


def _dot_node(s: str, hl: _Highlight) -> str:
    """One state: its shape and colours by kind, then the highlight on top."""
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
    return f"    {_dot_str(s)} {_attrs(**node)};"


def _dot_edge(e: DrawnEdge, taken: bool, ranks: Mapping[str, int]) -> str:
    """One arrow: its ports by column, its style by kind, then the highlight on top."""
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
    return f"    {_dot_str(e.source)} -> {_dot_str(e.dest)} {_attrs(**edge)};"


# ------------------------------------------------------------------- formats


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


# ------------------------------------------------------------ committed files


def _committed_contents(edges: Sequence[m.Edge] = m.EDGES, *, svg: bool = True) -> dict[str, bytes]:
    """The committed files' fresh contents (``flow.svg`` only with ``svg``, which needs dot)."""
    dot_text = to_dot(edges)
    contents = {"flow.mmd": to_mermaid(edges).encode(), "flow.dot": dot_text.encode()}
    if svg:
        contents["flow.svg"] = render("svg", dot_text)
    contents["doubt.mmd"] = to_doubt_mermaid(edges).encode()
    # The committed review also carries SPIN's independent verdict on the same table
    # (SPIN and gcc are needed to write or check it: scripts/test and .ci/run install them).
    spin = spin_markdown(spin_check(edges))
    contents["review.md"] = (review_report(edges).to_markdown() + "\n" + spin).encode()
    return contents


def write_committed(directory: Path) -> list[Path]:
    """Write ``flow.mmd``, ``flow.dot``, ``flow.svg``, ``doubt.mmd`` and ``review.md``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in _committed_contents().items():
        path = directory / name
        path.write_bytes(data)
        written.append(path)
    return written


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
