"""The diagrams show exactly the machine's transitions, marked and labelled from its table."""

from __future__ import annotations

import html
import inspect
import itertools
import json
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from xml.etree import ElementTree

import pytest

from flowengine import _machine as m
from flowengine import diagram
from flowengine._config import Auth0Config
from flowengine._errors import LocalError
from flowengine._flow import Flow
from flowengine._wire import Answer as Outcome
from flowengine.cli import _diagram_cmd

from .parse import dot_arrows, dot_nodes, mermaid_arrows, mermaid_markers

MERMAID = diagram.to_mermaid()
DOT = diagram.to_dot()


def machine_triples() -> set[tuple[str, str, str]]:
    """(source, trigger, dest) of every transition of the running MACHINE, read from it."""
    return {
        (source, name, str(t.dest))
        for name, event in m.MACHINE.events.items()
        for source, transitions in event.transitions.items()
        for t in transitions
    }


def need_dot() -> None:
    """Fail (never skip) when Graphviz is missing: CI installs it."""
    if shutil.which("dot") is None:
        pytest.fail(
            "Graphviz's `dot` is not on PATH; install it (apt-get install graphviz, as "
            ".ci/run does) to render and check flow.svg"
        )


# ------------------------------------------------------------------ edge sets


def test_mermaid_edges_are_the_machine_transitions() -> None:
    """The Mermaid arrows are exactly the MACHINE's (source, trigger, dest) set, once each."""
    arrows = [a.triple for a in mermaid_arrows(MERMAID)]
    assert len(arrows) == len(set(arrows)), "an arrow is drawn twice"
    assert set(arrows) == machine_triples()


def test_dot_edges_are_the_machine_transitions() -> None:
    """The DOT arrows are exactly the MACHINE's (source, trigger, dest) set, once each."""
    arrows = [a.triple for a in dot_arrows(DOT)]
    assert len(arrows) == len(set(arrows)), "an arrow is drawn twice"
    assert set(arrows) == machine_triples()


def test_mermaid_and_dot_draw_the_same_edges() -> None:
    """Both renderings draw the same arrows with the same label text."""
    mmd = {a.triple: a.label for a in mermaid_arrows(MERMAID)}
    dot = {a.triple: a.label for a in dot_arrows(DOT)}
    assert set(mmd) == set(dot)
    for triple, label in dot.items():
        assert mmd[triple].replace("\u2236", ":") == label, triple


def test_a_transition_added_straight_to_the_machine_is_not_in_the_picture() -> None:
    """The edge-set check has teeth: a transition added to a machine shows up as a difference."""
    machine = m.build_machine()
    machine.add_transition("resend_code", m.CODE_SENT, m.AUTHENTICATED)
    added = diagram.machine_transitions(machine)
    drawn = {a.triple for a in dot_arrows(DOT)}
    assert added - drawn == {(m.CODE_SENT, "resend_code", m.AUTHENTICATED)}


def test_self_loops_are_drawn() -> None:
    """Wrong codes, resends and pending pushes appear as arrows back into their state."""
    loops = {a.triple for a in dot_arrows(DOT) if a.source == a.dest}
    assert (m.CODE_SENT, "verify_otp", m.CODE_SENT) in loops
    assert (m.CODE_SENT, "resend_code", m.CODE_SENT) in loops
    assert (m.CHALLENGE_PENDING, "poll_push", m.CHALLENGE_PENDING) in loops
    assert loops == {t for t in machine_triples() if t[0] == t[2]}


# ---------------------------------------------------------------------- marks


def test_every_final_state_is_marked() -> None:
    """Final states end in ``[*]`` (Mermaid) and are double circles (DOT); no other state is."""
    initial, final = mermaid_markers(MERMAID)
    assert initial == {m.STARTED}
    assert final == set(m.FINAL_STATES)
    nodes = dot_nodes(DOT)
    assert set(nodes) == set(m.STATES)
    doubled = {s for s, a in nodes.items() if 'shape="doublecircle"' in a}
    assert doubled == set(m.FINAL_STATES)


def test_authenticated_is_highlighted() -> None:
    """``authenticated`` alone is filled green in DOT and has the ``success`` class in Mermaid."""
    nodes = dot_nodes(DOT)
    fills = {s: re.search(r'fillcolor="([^"]+)"', a) for s, a in nodes.items()}
    green = fills[m.AUTHENTICATED]
    assert green is not None
    others = {f.group(1) for s, f in fills.items() if f and s != m.AUTHENTICATED}
    assert green.group(1) not in others
    assert f"    class {m.AUTHENTICATED} success" in MERMAID.splitlines()
    assert re.search(r"classDef success fill:#\w+", MERMAID)
    failure = next(line for line in MERMAID.splitlines() if line.endswith(" failure"))
    assert set(failure.split()[1].split(",")) == set(m.FAILURE_STATES)


@pytest.mark.parametrize("render", ["mermaid", "dot"])
def test_every_label_carries_the_call_and_the_guards(render: str) -> None:
    """Each arrow names its trigger, the Auth0 call (method, path, grant type) and its guards."""
    arrows = mermaid_arrows(MERMAID) if render == "mermaid" else dot_arrows(DOT)
    for a in arrows:
        label = a.label.replace("\u2236", ":")
        call = m.TRIGGERS[a.trigger].call
        if call is None:
            assert "no Auth0 call" in label, a
        else:
            assert f"{call.method} {call.path}" in label, a
            if call.grant_type:
                assert call.grant_type.rsplit("grant-type/", 1)[-1] in label, a
        for guard in m.EDGE_INDEX[(a.trigger, a.source)].guards:
            assert guard in label, a
        kinds = [k for k, d in m.EDGE_INDEX[(a.trigger, a.source)].outcomes.items() if d == a.dest]
        assert all(k in label for k in kinds), a


def test_secret_edges_are_marked() -> None:
    """Arrows handing out tokens say so and are bold; arrows sending a typed code say so."""
    for a in dot_arrows(DOT):
        edge = m.EDGE_INDEX[(a.trigger, a.source)]
        trig = m.TRIGGERS[a.trigger]
        releases = "tokens" in trig.secrets_out and edge.outcomes.get("tokens") == a.dest
        assert ("[secret out: tokens]" in a.label) == releases, a
        assert ('style="bold"' in a.attributes) == releases, a
        takes = set(trig.secrets_in) & {"otp", "binding_code", "recovery_code", "password"}
        assert ("[secret in:" in a.label) == bool(takes), a
    assert sum("[secret out: tokens]" in a.label for a in dot_arrows(DOT)) == sum(
        1 for e in m.EDGES if e.outcomes.get("tokens") == m.AUTHENTICATED
    )


def test_callless_edges_are_dashed_but_labelled() -> None:
    """``cancel`` and ``expire`` arrows from every live state are drawn, dashed and labelled."""
    callless = [a for a in dot_arrows(DOT) if m.TRIGGERS[a.trigger].call is None]
    assert {a.source for a in callless if a.trigger == "cancel"} == set(m.LIVE_STATES)
    for a in callless:
        assert 'style="dashed"' in a.attributes and a.label.startswith(a.trigger), a


# ------------------------------------------------------------- mermaid syntax

_MMD_LINE = re.compile(
    r"stateDiagram-v2"
    r"|    %% [^\n]*"
    r"|    direction LR"
    r"|    classDef \w+ [\w:#,.\-]+"
    r"|    class [A-Za-z_]\w*(,[A-Za-z_]\w*)* \w+"
    r"|    (\[\*\]|[A-Za-z_]\w*) --> (\[\*\]|[A-Za-z_]\w*)( : [^:;#%\n]+)?"
)


@pytest.mark.parametrize(
    "text",
    [MERMAID, diagram.to_mermaid(highlight_path=["started", "code_sent"], current="code_sent")],
    ids=["plain", "highlighted"],
)
def test_mermaid_is_well_formed(text: str) -> None:
    """Every Mermaid line is one of the stateDiagram-v2 forms; labels hold no ``:;#%``."""
    lines = text.splitlines()
    assert lines[0] == "stateDiagram-v2"
    for line in lines:
        assert _MMD_LINE.fullmatch(line), line


def test_dot_is_accepted_by_graphviz() -> None:
    """``dot`` lays out the DOT text without a warning."""
    need_dot()
    done = subprocess.run(["dot", "-Tplain"], input=DOT.encode(), capture_output=True)
    assert done.returncode == 0 and not done.stderr, done.stderr.decode()


# ----------------------------------------------------------------- legibility


def _text_boxes(dot_text: str) -> list[tuple[tuple[str, int], float, float, float, float, str]]:
    """Bounding boxes of every text line and every state in dot's layout."""
    done = subprocess.run(
        ["dot", "-Tjson"], input=dot_text.encode(), capture_output=True, check=True
    )
    layout = json.loads(done.stdout)
    boxes = []
    for e in layout.get("edges", []):
        size = 12.0
        for op in e.get("_ldraw_", []):
            if op["op"] == "F":
                size = op["size"]
            if op["op"] == "T":
                x, y = op["pt"]
                w = op["width"]
                x0 = {"l": x, "c": x - w / 2, "r": x - w}[op["align"]]
                boxes.append(
                    (("edge", e["_gvid"]), x0, y - size * 0.25, x0 + w, y + size * 0.8, op["text"])
                )
    for n in layout["objects"]:
        if "pos" in n:
            x, y = map(float, n["pos"].split(","))
            w, h = float(n["width"]) * 72, float(n["height"]) * 72
            boxes.append(
                (("node", n["_gvid"]), x - w / 2, y - h / 2, x + w / 2, y + h / 2, n["name"])
            )
    return boxes


@pytest.mark.parametrize(
    "dot_text",
    [
        DOT,
        diagram.to_dot(
            highlight_path=["started", "code_sent", "mfa_required", "challenge_pending"],
            current="challenge_pending",
        ),
    ],
    ids=["machine", "one-flow"],
)
def test_no_label_overlaps_another_or_a_state(dot_text: str) -> None:
    """In dot's layout no line of a label overlaps another label's line or a state."""
    need_dot()
    boxes = _text_boxes(dot_text)
    clashes = [
        (a[5], b[5])
        for a, b in itertools.combinations(boxes, 2)
        if a[0] != b[0]
        and a[1] < b[3] - 1
        and b[1] < a[3] - 1
        and a[2] < b[4] - 1
        and b[2] < a[4] - 1
    ]
    assert not clashes
    assert sum(1 for b in boxes if b[0][0] == "node") == len(m.STATES) + 1  # + initial dot


def test_svg_shows_every_state_and_label() -> None:
    """The rendered SVG holds every state name and every line of every arrow's label."""
    need_dot()
    svg = diagram.render("svg", DOT).decode()
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    for s in m.STATES:
        assert s in texts
    flat = re.sub(r"\s+", "", "".join(texts))
    for a in dot_arrows(DOT):
        for line in a.label.split("\n"):
            assert re.sub(r"\s+", "", line) in flat, (a.triple, line)
    assert "Generated by graphviz" not in svg


def test_svg_is_well_formed_xml() -> None:
    """The SVG (with the digest comment put in its head) parses as XML and is an <svg>."""
    need_dot()
    root = ElementTree.fromstring(diagram.render("svg", DOT))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_png_renders() -> None:
    """PNG output comes from dot and is a PNG."""
    need_dot()
    assert diagram.render("png", DOT).startswith(b"\x89PNG\r\n\x1a\n")


def test_missing_dot_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``dot``, rendering raises DiagramError naming Graphviz; the command exits 2."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(diagram.DiagramError, match="graphviz"):
        diagram.render("svg", DOT)
    assert _diagram_cmd.diagram_command("png", "-") == 2
    assert _diagram_cmd.diagram_command("mermaid", "-") == 0  # text formats need nothing


# ----------------------------------------------------- one flow's diagram


def _flow_with_secrets() -> Flow:
    """A flow that went started -> code_sent -> mfa_required -> challenge_pending."""
    cfg = Auth0Config("tenant.example.auth0.com", "app-id", "app-secret")
    now = 1_800_000_000.0
    flow = Flow.new("fl_diagram", now)
    steps = [
        (
            "start_passwordless",
            {"connection": "sms", "phone_number": "+15550142"},
            Outcome("code_sent", {}, 200),
        ),
        (
            "verify_otp",
            {"otp": "271828", "audience": "https://api.example", "scope": "openid"},
            Outcome("mfa_required", {"mfa_token": "Fe26.2*SECRET-MFA-TOKEN"}, 403),
        ),
        (
            "challenge",
            {},
            Outcome(
                "challenged",
                {
                    "challenge_type": "oob",
                    "factor": "oob",
                    "oob_code": "SECRET-OOB-CODE",
                    "binding_method": "prompt",
                },
                200,
            ),
        ),
    ]
    for trigger, params, outcome in steps:
        step = flow.prepare(trigger, params, cfg, now)
        flow.apply_outcome(step, outcome, now)
    assert flow.state == m.CHALLENGE_PENDING
    return flow


#: Secrets the flow above keeps in its context (the otp it sent is never kept).
SECRET_VALUES = ("+15550142", "SECRET-MFA-TOKEN", "SECRET-OOB-CODE")


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_flow_diagram_highlights_the_path_and_current_state(fmt: diagram.Format) -> None:
    """A flow's diagram lights the arrows it took and marks its current state."""
    flow = _flow_with_secrets()
    steps = diagram.history_steps(flow.history)
    text = diagram.flow_diagram(flow.path(), flow.state, fmt, steps=steps).decode()
    arrows = mermaid_arrows(text) if fmt == "mermaid" else dot_arrows(text)
    lit = {a.triple for a in arrows if a.label.startswith("▶")}
    assert lit == {
        (m.STARTED, "start_passwordless", m.CODE_SENT),
        (m.CODE_SENT, "verify_otp", m.MFA_REQUIRED),
        (m.MFA_REQUIRED, "challenge", m.CHALLENGE_PENDING),
    }
    if fmt == "dot":
        assert "(current)" in dot_nodes(text)[m.CHALLENGE_PENDING]
        assert "#ffe58a" in dot_nodes(text)[m.CHALLENGE_PENDING]
    else:
        assert f"    class {m.CHALLENGE_PENDING} current" in text.splitlines()
    assert {a.triple for a in arrows} == machine_triples()


def test_flow_diagram_without_steps_lights_every_arrow_between_visited_states() -> None:
    """Given only ``Flow.path()``, all arrows between consecutive states are lit."""
    text = diagram.flow_diagram([m.STARTED, m.CODE_SENT], m.CODE_SENT, "dot").decode()
    lit = {a.triple for a in dot_arrows(text) if a.label.startswith("▶")}
    assert lit == {
        (m.STARTED, "start_passwordless", m.CODE_SENT),
        (m.STARTED, "resend_code", m.CODE_SENT),
    }


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_no_secret_value_reaches_a_diagram(fmt: diagram.Format) -> None:
    """A flow's diagram is made from state and trigger names only; no context value shows."""
    flow = _flow_with_secrets()
    text = diagram.flow_diagram(
        flow.path(), flow.state, fmt, steps=diagram.history_steps(flow.history)
    ).decode()
    blob = json.dumps(flow.to_envelope())
    for value in SECRET_VALUES:
        assert value in blob  # the flow does hold it ...
        assert value not in text  # ... and the diagram never shows it
    assert "271828" not in text


@pytest.mark.parametrize(
    ("call", "value"),
    [
        (lambda: diagram.flow_diagram(["started", "+15550142"], "code_sent", "dot"), "+15550142"),
        (
            lambda: diagram.flow_diagram(["started"], "Fe26.2*SECRET-MFA-TOKEN", "mermaid"),
            "SECRET-MFA-TOKEN",
        ),
        (lambda: diagram.to_dot(steps=[("started", "otp=271828", "code_sent")]), "271828"),
        (
            lambda: diagram.history_steps(
                [{"from": "started", "trigger": "oob=Fe26.OOB", "to": "code_sent"}]
            ),
            "Fe26.OOB",
        ),
        (
            lambda: diagram.history_steps(
                [{"from": "+15550142", "trigger": "verify_otp", "to": "code_sent"}]
            ),
            "+15550142",
        ),
    ],
    ids=["path", "current", "steps", "history-trigger", "history-state"],
)
def test_diagrams_refuse_anything_but_names(call: Callable[[], object], value: str) -> None:
    """Any value that is not a state or trigger name is refused, and never quoted back."""
    with pytest.raises(diagram.DiagramError) as caught:
        call()
    assert isinstance(caught.value, LocalError)
    assert value not in str(caught.value) and value not in repr(caught.value)


def test_the_diagram_command_does_not_echo_a_refused_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``flowengine diagram`` handed a secret in place of a state exits 2 without printing it."""
    code = _diagram_cmd.diagram_command("dot", "-", path=["started"], current="Fe26.2*MFA-TOKEN")
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert "not in STATES" in err and "MFA-TOKEN" not in err


def test_renderers_take_no_context() -> None:
    """No rendering function has a parameter through which a context could be passed."""
    allowed = {
        "edges",
        "highlight_path",
        "current",
        "steps",
        "flow_path",
        "fmt",
        "dot_text",
        "output",
        "path",
        "history",
    }
    for fn in (
        diagram.to_mermaid,
        diagram.to_dot,
        diagram.render,
        diagram.diagram_bytes,
        diagram.flow_diagram,
        _diagram_cmd.diagram_command,
        diagram.history_steps,
    ):
        assert set(inspect.signature(fn).parameters) <= allowed, fn.__name__


def test_every_trigger_and_state_is_drawn() -> None:
    """Every state has an arrow in or out, and every trigger labels at least one arrow."""
    arrows = dot_arrows(DOT)
    assert Counter(a.trigger for a in arrows).keys() == set(m.TRIGGERS)
    touched = {s for a in arrows for s in (a.source, a.dest)}
    assert touched == set(m.STATES)
