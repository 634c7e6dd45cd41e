"""The machine's diagrams, and the committed files, drawn from the table the code runs.

Theory of operation
-------------------
Nothing here is drawn by hand. ``to_mermaid`` and ``to_dot`` draw one
arrow per ``flowengine._table.DrawnEdge`` (a distinct (source, trigger,
destination) of ``flowengine._machine.EDGES``), labelled with the trigger, its
guards, the Auth0 call it makes, the outcome kinds that lead there and markers
for secrets going in (codes the user types) or out (tokens). Both are plain
text and need nothing installed; ``diagram_bytes`` hands DOT text to
``flowengine._graphviz.render`` for SVG or PNG.

``to_dot(view=...)`` draws one of the views ``flowengine._views`` selects from
the table: the overview (laid out for a screen 1,600 px wide: the live states in
one box, forward rows merged per pair of states, one arrow per failure state),
one view per factor, or the full table. Every state and arrow is drawn in the
style of its *kind* (``_NODE_STYLES``, ``_EDGE_STYLES``), and the legend in the
picture's title is drawn from the same styles, listing only the kinds drawn.

A flow's own diagram (``flow_diagram``) lights up the path it took. It is
given state and trigger *names* only (``Flow.path()``, and ``history_steps``,
which reads the names out of a history and never its ``context``); each name is
checked against ``STATES`` and ``TRIGGERS`` before anything is drawn, so no
context value can reach a diagram.

``write_committed`` writes ``diagrams/``: ``flow.mmd``, ``flow.dot``,
``flow.svg``, ``doubt.mmd``, the views (``overview.dot``/``.svg`` and
``view-<factor>.dot``/``.svg``) and the security review ``review.md``
(``flowengine._review``, opening with its sign-off summary);
``check_committed`` says which of them drifted from the table (the drift
check CI runs). After the machine changes, ``python -m flowengine.diagram
--write diagrams/`` regenerates them all.

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
from flowengine import _views
from flowengine._errors import DiagramError
from flowengine._graphviz import render, svg_content
from flowengine._promela import spin_check
from flowengine._review import review_report, signoff_markdown, spin_markdown
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

#: The views committed besides the full diagram (``flow.*``), as ``<name>.dot``/``.svg``.
COMMITTED_VIEWS: Final = tuple(
    ("overview" if v == "overview" else f"view-{v}") for v in _views.VIEW_NAMES if v != "full"
)
#: The files ``write_committed`` writes, in this order.
COMMITTED_FILES: Final = (
    "flow.mmd",
    "flow.dot",
    "flow.svg",
    "doubt.mmd",
    "review.md",
    *(f"{name}.{ext}" for name in COMMITTED_VIEWS for ext in ("dot", "svg")),
)

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


# ------------------------------------------------------------- styles and legend
#
# Every state and every arrow is drawn in the style of its *kind*; the legend is drawn
# from the same table, and lists exactly the kinds a picture uses, so it cannot
# describe something that is not drawn (tests/diagrams/test_views.py checks it).


@attrs.frozen
class _Style:
    """How one kind of state or arrow is drawn, and what the legend says about it."""

    attributes: Mapping[str, str | float]
    meaning: str


_NODE_STYLES: Final[Mapping[str, _Style]] = {
    "live": _Style({}, "a live state: the login goes on from here"),
    "success": _Style(
        {
            "shape": "doublecircle",
            "margin": "0.05",
            "fillcolor": "#b9f0c0",
            "color": "#1e7b34",
            "penwidth": 3.0,
            "fontcolor": "#0b3d17",
            "fontname": "DejaVu Sans Bold",
        },
        "authenticated, the one success (final: no way out)",
    ),
    "failure": _Style(
        {
            "shape": "doublecircle",
            "margin": "0.05",
            "fillcolor": "#f8d7da",
            "color": "#a61b29",
            "fontcolor": "#5c0a12",
        },
        "a failure (final: no way out)",
    ),
    "visited": _Style({"color": "#1f5fd6", "penwidth": 4.0}, "a state this flow went through"),
    "current": _Style({"fillcolor": "#ffe58a", "penwidth": 5.0}, "where this flow is now"),
}
#: The attributes every state starts from (the ``node`` defaults of the DOT text).
_NODE_DEFAULTS: Final[Mapping[str, str | float]] = {
    "fillcolor": "#f1f4f8",
    "color": "#44546a",
    "penwidth": 1.5,
}

_EDGE_STYLES: Final[Mapping[str, _Style]] = {
    "step": _Style({"color": "#3b4452"}, "a step: Auth0 answered and the flow moved on"),
    "tokens": _Style(
        {"style": "bold", "color": "#1e7b34", "fontcolor": "#14532d", "penwidth": 3.0},
        "Auth0 hands out tokens [secret out: tokens]",
    ),
    "failure": _Style(
        {"color": "#c0504d", "fontcolor": "#8a1c2b", "penwidth": 0.9},
        "Auth0's answer ends the flow",
    ),
    "collapsed": _Style(
        {"color": "#c0504d", "fontcolor": "#8a1c2b", "penwidth": 2.0},
        "every row into this failure state, from the states named (the box: live states)",
    ),
    "ends": _Style(
        {"color": "#c0504d", "fontcolor": "#8a1c2b", "penwidth": 1.4},
        "the triggers named end the flow here (each with its outcomes)",
    ),
    "no_call": _Style(
        {"style": "dashed", "color": "#9aa0a6", "fontcolor": "#5f6670"},
        "no Auth0 call (cancel, expire)",
    ),
    "loop": _Style({"color": "#8fa9cf", "penwidth": 0.9}, "the flow stays in its state"),
    "taken": _Style(
        {"color": "#1f5fd6", "fontcolor": "#1f5fd6", "penwidth": 4.0, "style": "bold"},
        "a step this flow took (▶)",
    ),
}


def _edge_kind(e: DrawnEdge) -> str:
    """The kind an arrow of the full or a factor view is drawn as."""
    if e.source == e.dest:
        return "loop"
    if e.no_call:
        return "no_call"
    if e.releases_tokens:
        return "tokens"
    if e.dest in m.FAILURE_STATES:
        return "failure"
    return "step"


def _node_kinds(s: str, hl: _Highlight) -> list[str]:
    """The kinds a state is drawn as, in the order their styles apply."""
    kinds = ["success" if s == m.AUTHENTICATED else "failure" if s in m.FAILURE_STATES else "live"]
    if s in hl.visited:
        kinds.append("visited")
    if s == hl.current:
        kinds.append("current")
    return kinds


def _swatch(style: _Style, edge: bool) -> str:
    """The legend's picture of a kind: a line in its colour and dash, or a filled cell."""
    a = {**(_NODE_DEFAULTS if not edge else {"color": "#3b4452"}), **style.attributes}
    if edge:
        glyph = {"bold": "━━━━▶", "dashed": "╌╌╌╌▶"}.get(str(a.get("style", "")), "────▶")
        return f'<TD {_CELL}><FONT POINT-SIZE="12" COLOR="{a["color"]}">{glyph}</FONT></TD>'
    shape = "◎" if a.get("shape") == "doublecircle" else "▢"
    return (
        f'<TD {_CELL} BGCOLOR="{a["fillcolor"]}" COLOR="{a["color"]}" BORDER="1">'
        f'<FONT POINT-SIZE="12" COLOR="{a.get("fontcolor", "#1f2630")}">{shape}</FONT></TD>'
    )


#: The legend's picture cell: a fixed size, so that every swatch is drawn alike.
_CELL = 'FIXEDSIZE="TRUE" WIDTH="72" HEIGHT="22"'


def _legend(
    title: Sequence[str],
    node_kinds: Iterable[str],
    edge_kinds: Iterable[str],
    notes: Sequence[str] = (),
) -> _Raw:
    """The graph's label: the title, the legend of the kinds drawn, then notes.

    One table of two columns, the pictures and the words: a cell spanning both
    would share its extra width between them and push the pictures off their line.
    """
    used_nodes = set(node_kinds)
    used_edges = set(edge_kinds)
    rows = [f"<TR><TD></TD>{_text_cell(t, bold=True)}</TR>" for t in title]
    rows += [
        f"<TR>{_swatch(st, False)}{_text_cell(st.meaning)}</TR>"
        for kind, st in _NODE_STYLES.items()
        if kind in used_nodes
    ]
    rows += [
        f"<TR>{_swatch(st, True)}{_text_cell(st.meaning)}</TR>"
        for kind, st in _EDGE_STYLES.items()
        if kind in used_edges
    ]
    rows += [f"<TR><TD></TD>{_text_cell(n)}</TR>" for n in notes]
    table = '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="1">'
    return _Raw("<" + table + "".join(rows) + "</TABLE>>")


def _text_cell(text: str, *, bold: bool = False) -> str:
    body = f"<B>{_html(text)}</B>" if bold else _html(text)
    return f'<TD ALIGN="LEFT">{body}</TD>'


#: What every full-detail arrow's label holds, for the legend's notes.
_LABEL_NOTE = (
    "Each arrow: trigger [guards] / the Auth0 call (grant type) / source → destination "
    "(outcome kinds); [secret in: ...]: the user's code or password is sent."
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
    view: str = "full",
) -> str:
    """The machine (or one of its views, ``flowengine._views``) as Graphviz DOT text.

    States are laid out in columns (``started`` left, final states right).
    Final states are double circles, ``authenticated`` is filled green and
    failures red; arrows releasing tokens are bold green, arrows of call-less
    triggers dashed grey, self-loops light blue; the legend in the title lists
    the kinds drawn. With ``highlight_path`` the visited states get a blue border,
    taken arrows are blue and start with "▶", and ``current`` is filled yellow.
    """
    try:
        chosen = _views.view(view, edges)
    except KeyError:
        raise DiagramError(  # the refused value is not quoted (see _check_states)
            f"unknown view (not shown); use one of {', '.join(_views.VIEW_NAMES)}"
        ) from None
    hl = _highlight(highlight_path, current, steps)
    if chosen.name == "overview":
        return _overview_dot(chosen, edges, hl)
    digest = m.definition_hash(tuple(edges))
    ranks = _ranks(edges)
    shown = [s for s in m.STATES if s in chosen.states]
    edge_lines = []
    edge_kinds = []
    for e in chosen.edges:
        kind = "taken" if hl.edge_taken(e) else _edge_kind(e)
        edge_kinds.append(_edge_kind(e))
        edge_kinds.append(kind)
        edge_lines.append(_dot_edge(e, kind, ranks))
    for a in chosen.arrows:
        kind = "taken" if _arrow_taken(a, hl) else a.kind
        edge_kinds += [a.kind, kind]
        edge_lines.append(_arrow_line(a, kind, a.source, 12))
    node_kinds = [k for s in shown for k in _node_kinds(s, hl)]
    notes = [chosen.note] if chosen.note else []
    title = _title(chosen, digest)
    # A factor view has fewer states than the full one: more room between them keeps
    # its stacked self-loop labels clear of the arrows passing by.
    spacing = {} if chosen.name == "full" else {"nodesep": 0.9}
    out = [
        *_dot_preamble(
            digest, _legend(title, node_kinds, edge_kinds, [*notes, _LABEL_NOTE]), **spacing
        ),
        *(_dot_node(s, hl) for s in shown),
    ]
    for r in sorted({ranks[s] for s in shown}):
        same = [s for s in shown if ranks[s] == r]
        out.append("    { rank=same; " + " ".join(f"{_dot_str(s)};" for s in same) + " }")
    first = shown[0]
    out.append(f"    {_INITIAL_NODE} -> {_dot_str(first)} {_attrs(penwidth=1.5)};")
    out.extend(edge_lines)
    out.append("}")
    return "\n".join(out) + "\n"


def _title(v: _views.View, digest: str) -> tuple[str, str]:
    return (
        f"flowengine, Auth0 passwordless + MFA login. {v.title}",
        f"Machine {m.MACHINE_NAME}, definition sha256 {digest[:16]}",
    )


def _dot_preamble(digest: str, label: _Raw, **graph: str | float) -> list[str]:
    """The header comments, the graph's title and legend, the defaults, the initial dot."""
    return [
        "// Generated from flowengine/_machine.py; do not edit.",
        f"// Regenerate with {REGENERATE_COMMAND}",
        f"// definition sha256 {digest}",
        "digraph flowengine {",
        "    graph "
        + _attrs(
            **{
                "rankdir": "LR",
                "fontname": "DejaVu Sans",
                "fontsize": 18,
                "label": label,
                "labelloc": "t",
                "labeljust": "l",
                "nodesep": 0.3,
                "ranksep": 1.1,
                "pad": 0.4,
                **graph,
            }
        )
        + ";",
        "    node "
        + _attrs(
            fontname="DejaVu Sans",
            fontsize=18,
            shape="box",
            style="rounded,filled",
            margin="0.25,0.12",
            **_NODE_DEFAULTS,
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
    """One state: the styles of its kinds, one over the other (highlight last)."""
    node: dict[str, str | float] = {}
    for kind in _node_kinds(s, hl):
        node.update(_NODE_STYLES[kind].attributes)
    node["label"] = s + ("\n(current)" if s == hl.current else "")
    return f"    {_dot_str(s)} {_attrs(**node)};"


def _dot_edge(e: DrawnEdge, kind: str, ranks: Mapping[str, int]) -> str:
    """One arrow: its ports by column, the style of its kind."""
    edge: dict[str, str | float] = {"label": _dot_label(e, kind == "taken")}
    # Arrows leave a state on its right and enter on its left (back edges the other
    # way round), so the self-loops drawn above a state are never crossed by them.
    if ranks[e.dest] > ranks[e.source]:
        edge.update(tailport="e", headport="w")
    elif ranks[e.dest] < ranks[e.source]:
        edge.update(tailport="w", headport="e")
    edge.update(_EDGE_STYLES[kind].attributes)
    return f"    {_dot_str(e.source)} -> {_dot_str(e.dest)} {_attrs(**edge)};"


# ---------------------------------------------------------------- the overview

#: The overview is laid out for a screen 1,600 px wide (16.67 in at 96 dpi).
OVERVIEW_WIDTH_PX: Final = 1600
_LIVE_CLUSTER = "cluster_live"
#: The overview's label size (pt): about 15 px once the picture is scaled to 1,600 px.
_OVERVIEW_FONT: Final = 15


def _arrow_taken(a: _views.MergedArrow, hl: _Highlight) -> bool:
    return any(
        (r.source, r.trigger, r.dest) in hl.taken or (r.source, r.dest) in hl.taken_pairs
        for r in a.rows
    )


def _arrow_line(
    a: _views.MergedArrow, kind: str, source: str, size: float, *, ltail: bool = False
) -> str:
    """A merged arrow: its lines as the label, the style of its kind."""
    text = "<BR/>".join(_html(x) for x in a.lines)
    edge: dict[str, str | float] = {
        "label": _Raw(f"<{'▶ ' if kind == 'taken' else ''}{text}>"),
        "fontsize": size,
    }
    edge.update(_EDGE_STYLES[kind].attributes)
    if ltail:
        edge["ltail"] = _LIVE_CLUSTER
    return f"    {_dot_str(source)} -> {_dot_str(a.dest)} {_attrs(**edge)};"


def _overview_dot(v: _views.View, edges: Sequence[m.Edge], hl: _Highlight) -> str:
    """The overview: live states in one box, merged arrows, one arrow per failure state."""
    digest = m.definition_hash(tuple(edges))
    ranks = _ranks(edges)
    live = [s for s in m.STATES if s in m.LIVE_STATES]
    # The failure arrows leave the box of live states: drawn from its last column.
    anchor = max(live, key=lambda s: (ranks[s], live.index(s)))
    lines = []
    kinds = []
    for a in v.arrows:
        kind = "taken" if _arrow_taken(a, hl) else a.kind
        kinds += [a.kind, kind]
        source = anchor if a.source == "live" else a.source
        line = _arrow_line(a, kind, source, _OVERVIEW_FONT, ltail=a.source == "live")
        if a.source != "live" and ranks[a.dest] < ranks[a.source]:
            line = line.replace("];", ", constraint=false];")
        lines.append(line)
    node_kinds = [k for s in m.STATES for k in _node_kinds(s, hl)]
    label = _legend(_title(v, digest), node_kinds, kinds, [v.note])
    out = _dot_preamble(
        digest,
        label,
        compound="true",
        newrank="true",
        size=f"{OVERVIEW_WIDTH_PX / 96:.4f},20",
        ranksep=0.5,
        nodesep=0.25,
    )
    out.append(
        f"    subgraph {_LIVE_CLUSTER} "
        + "{ "
        + 'label="live states"; labeljust="l"; style="rounded,dashed"; color="#8a94a6"; '
        + "fontsize=14; "
        + " ".join(f"{_dot_str(s)};" for s in live)
        + " }"
    )
    out += [_dot_node(s, hl) for s in m.STATES]
    for r in sorted(set(ranks.values())):
        same = [s for s in m.STATES if ranks[s] == r]
        out.append("    { rank=same; " + " ".join(f"{_dot_str(s)};" for s in same) + " }")
    out.append(f"    {_INITIAL_NODE} -> {_dot_str(m.STARTED)} {_attrs(penwidth=1.5)};")
    out += lines
    out.append("}")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------- formats


def diagram_bytes(
    fmt: Format,
    edges: Sequence[m.Edge] = m.EDGES,
    *,
    highlight_path: Sequence[str] | None = None,
    current: str | None = None,
    steps: Sequence[tuple[str, str, str]] | None = None,
    view: str = "full",
) -> bytes:
    """The diagram in ``fmt``: UTF-8 text for mermaid and dot, image bytes for svg and png.

    ``view`` is one of ``flowengine._views.VIEW_NAMES``; Mermaid draws the full view
    only. The overview's PNG is 1,600 px wide.
    """
    if fmt == "mermaid":
        if view != "full":
            raise DiagramError("mermaid draws the full view only; use dot, svg or png")
        return to_mermaid(
            edges, highlight_path=highlight_path, current=current, steps=steps
        ).encode()
    dot_text = to_dot(edges, highlight_path=highlight_path, current=current, steps=steps, view=view)
    if fmt == "dot":
        return dot_text.encode()
    if fmt in ("svg", "png"):
        width = OVERVIEW_WIDTH_PX if fmt == "png" and view == "overview" else None
        return render(fmt, dot_text, width_px=width)
    raise DiagramError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def flow_diagram(
    flow_path: Sequence[str],
    current: str,
    fmt: Format = "svg",
    *,
    steps: Sequence[tuple[str, str, str]] | None = None,
    edges: Sequence[m.Edge] = m.EDGES,
    view: str = "full",
) -> bytes:
    """One flow's diagram: ``flow_path`` (``Flow.path()``) highlighted, ``current`` marked.

    ``steps`` (from ``history_steps``) pins the exact arrows taken;
    without it every arrow between consecutive states of the path is lit.
    Only state and trigger names are accepted, never a context.
    """
    return diagram_bytes(
        fmt, edges, highlight_path=flow_path, current=current, steps=steps, view=view
    )


# ------------------------------------------------------------ committed files


def _committed_contents(edges: Sequence[m.Edge] = m.EDGES, *, svg: bool = True) -> dict[str, bytes]:
    """The committed files' fresh contents (the ``.svg`` files only with ``svg``: needs dot)."""
    dot_text = to_dot(edges)
    contents = {"flow.mmd": to_mermaid(edges).encode(), "flow.dot": dot_text.encode()}
    if svg:
        contents["flow.svg"] = render("svg", dot_text)
    contents["doubt.mmd"] = to_doubt_mermaid(edges).encode()
    # The committed review also carries SPIN's independent verdict on the same table
    # (SPIN and gcc are needed to write or check it: scripts/test and .ci/run install them),
    # and opens with the summary a reviewer signs.
    report = review_report(edges)
    spin = spin_check(edges)
    contents["review.md"] = (
        signoff_markdown(report, spin)
        + "\n"
        + report.to_markdown(heading=False)
        + "\n"
        + spin_markdown(spin)
    ).encode()
    views = [v for v in _views.VIEW_NAMES if v != "full"]
    for name, view in zip(COMMITTED_VIEWS, views, strict=True):
        text = to_dot(edges, view=view)
        contents[f"{name}.dot"] = text.encode()
        if svg:
            contents[f"{name}.svg"] = render("svg", text)
    return {name: contents[name] for name in COMMITTED_FILES if name in contents}


def write_committed(directory: Path) -> list[Path]:
    """Write every file of ``COMMITTED_FILES`` (the diagrams, the views, the review)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in _committed_contents().items():
        path = directory / name
        path.write_bytes(data)
        written.append(path)
    return written


def check_committed(directory: Path, *, svg: bool = True) -> list[str]:
    """The committed files that differ from a fresh rendering (empty when none drifted).

    Text files are compared byte for byte. Each ``.svg`` must carry the digest of
    the fresh DOT text of its ``.dot``, and hold exactly the states and labels a
    fresh rendering holds (the layout may differ between Graphviz versions).
    ``svg=False`` skips the ``.svg`` files (no ``dot`` needed).
    """
    return _drifted(directory, _committed_contents(svg=svg))


def _drifted(directory: Path, fresh: Mapping[str, bytes]) -> list[str]:
    """The files of ``directory`` that differ from ``fresh`` (see ``check_committed``)."""
    problems = []
    for name, data in fresh.items():
        path = directory / name
        if not path.exists():
            problems.append(f"{name} is missing")
            continue
        committed = path.read_bytes()
        if not name.endswith(".svg"):
            if committed != data:
                problems.append(f"{name} differs from the machine")
            continue
        dot_name = name.removesuffix(".svg") + ".dot"
        digest = hashlib.sha256(fresh[dot_name]).hexdigest()
        if f"sha256={digest}".encode() not in committed:
            problems.append(f"{name} was not rendered from the current {dot_name}")
        elif svg_content(committed) != svg_content(data):
            problems.append(f"{name} does not show the current states and labels")
    return problems
