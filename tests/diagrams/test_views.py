"""The views: the overview fits one screen, the factor views and it cover every row."""

from __future__ import annotations

import json
import re
import struct
import subprocess

import attrs
import pytest

from flowengine import _machine as m
from flowengine import _render, _views, diagram
from flowengine._table import table_rows
from flowengine.cli import _diagram_cmd

from .test_diagrams import _text_boxes, need_dot


def test_overview_and_factor_views_cover_every_row() -> None:
    """Every row of the table is drawn by the overview or a factor view (the union is exact)."""
    covered = set(_views.overview().rows)
    for f in _views.FACTORS:
        covered |= _views.factor_view(f.name).rows
    assert covered == set(table_rows())
    assert _views.full_view().rows == frozenset(table_rows())


def test_a_trigger_no_view_draws_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """A trigger left out of every factor leaves its self-loops uncovered (the check fails)."""
    factors = tuple(
        attrs.evolve(f, triggers=tuple(t for t in f.triggers if t != "poll_push"))
        for f in _views.FACTORS
    )
    monkeypatch.setattr(_views, "FACTORS", factors)
    monkeypatch.setattr(_views, "_FACTOR_INDEX", {f.name: f for f in factors})
    covered = set(_views.overview().rows)
    for f in factors:
        covered |= _views.factor_view(f.name).rows
    missing = set(table_rows()) - covered
    assert {(r.trigger, r.outcome) for r in missing} == {
        ("poll_push", "pending"),
        ("poll_push", "slow_down"),
        ("poll_push", "wrong_code"),
    }


def test_overview_collapses_each_failure_state_into_one_labelled_arrow() -> None:
    """One arrow per failure state, from the live box, saying from where and why."""
    arrows = [a for a in _views.overview().arrows if a.source == "live"]
    assert sorted(a.dest for a in arrows) == sorted(m.FAILURE_STATES)
    expired = next(a for a in arrows if a.dest == m.EXPIRED)
    assert expired.lines == (
        "any live state but started → expired:",
        "a deadline passed",
        "or Auth0 said expired",
    )
    assert all(r.dest == a.dest for a in arrows for r in a.rows)
    loops = [r for a in _views.overview().arrows for r in a.rows if r.source == r.dest]
    assert loops == []  # retries are left to the factor views


def test_overview_draws_every_state_and_the_happy_path_of_each_factor() -> None:
    """Each factor's triggers that move a flow forward appear on the overview."""
    text = diagram.to_dot(view="overview")
    for s in m.STATES:
        assert f'"{s}" [' in text
    for f in _views.FACTORS:
        forward = {
            r.trigger
            for r in table_rows()
            if r.trigger in f.triggers and r.source != r.dest and r.dest not in m.FAILURE_STATES
        }
        for trigger in forward:
            assert trigger in text, (f.name, trigger)


def _layout(view: str) -> dict[str, object]:
    done = subprocess.run(
        ["dot", "-Tjson"], input=diagram.to_dot(view=view).encode(), capture_output=True,
        check=True,
    )  # fmt: skip
    layout: dict[str, object] = json.loads(done.stdout)
    return layout


def test_overview_reads_at_1600_px() -> None:
    """Scaled to 1,600 px wide it fits one screen and its smallest label is 12 px or more."""
    need_dot()
    layout = _layout("overview")
    width, height = (float(v) for v in str(layout["bb"]).split(",")[2:])
    scale = 1600 / width  # px per pt, once the picture is 1,600 px wide
    sizes = [
        op["size"]
        for e in layout.get("edges", [])  # type: ignore[attr-defined]
        for op in e.get("_ldraw_", [])
        if op["op"] == "F"
    ]
    assert min(sizes) * scale >= 12, (min(sizes), scale)
    assert height * scale <= 1000  # one screen, legend included


@pytest.mark.parametrize("view", _views.VIEW_NAMES)
def test_no_label_overlaps_in_any_view(view: str) -> None:
    """In dot's layout of every view no label line overlaps another label's or a state."""
    need_dot()
    boxes = _text_boxes(diagram.to_dot(view=view))
    clashes = [
        (a[5], b[5])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[0] != b[0]
        and a[1] < b[3] - 1
        and b[1] < a[3] - 1
        and a[2] < b[4] - 1
        and b[2] < a[4] - 1
    ]
    assert not clashes, clashes[:5]


def test_overview_png_is_1600_px_wide() -> None:
    """``--view overview --format png`` is exactly 1,600 px wide."""
    need_dot()
    png = diagram.diagram_bytes("png", view="overview")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">I", png[16:20])[0] == 1600


@pytest.mark.parametrize("view", ["overview", "full", "push"])
def test_svg_size_is_in_px(view: str) -> None:
    """The SVG's width and height are CSS pixels, not points (a browser then shows it whole)."""
    need_dot()
    svg = diagram.diagram_bytes("svg", view=view).decode()
    head = re.search(r'<svg width="([0-9]+)px" height="([0-9]+)px"', svg)
    assert head is not None and 'pt"' not in svg[: svg.index("viewBox")]
    if view == "overview":
        assert int(head.group(1)) <= 1600


def _legend_kinds(text: str) -> list[str]:
    label = re.search(r"label=<(<TABLE.*?</TABLE>)>", text)
    assert label is not None
    return re.findall(r"<TD ALIGN=\"LEFT\">([^<]*)</TD>", label.group(1))


@pytest.mark.parametrize("view", _views.VIEW_NAMES)
def test_the_legend_lists_exactly_the_kinds_drawn(view: str) -> None:
    """The legend has one line per kind of arrow and state the view draws, and no other."""
    chosen = _views.view(view)
    edge_kinds = {_render._edge_kind(e) for e in chosen.edges} | {a.kind for a in chosen.arrows}
    node_kinds = {
        "success" if s == m.AUTHENTICATED else "failure" if s in m.FAILURE_STATES else "live"
        for s in chosen.states
    }
    expected = {_render._EDGE_STYLES[k].meaning for k in edge_kinds} | {
        _render._NODE_STYLES[k].meaning for k in node_kinds
    }
    every = {st.meaning for st in (*_render._EDGE_STYLES.values(), *_render._NODE_STYLES.values())}
    listed = set(_legend_kinds(diagram.to_dot(view=view))) & every
    assert listed == expected
    text = diagram.to_dot(view=view)
    for kind in edge_kinds:  # and each kind listed is drawn in its own colour
        assert f'color="{_render._EDGE_STYLES[kind].attributes["color"]}"' in text


def test_the_legend_swatches_use_the_drawn_colours() -> None:
    """Each edge swatch is coloured like the arrows of its kind."""
    text = diagram.to_dot(view="full")
    for kind in ("tokens", "failure", "no_call", "loop"):
        colour = _render._EDGE_STYLES[kind].attributes["color"]
        assert f'<FONT POINT-SIZE="12" COLOR="{colour}">' in text
        assert f'color="{colour}"' in text


def test_view_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    """``--view push`` prints that view; an unknown view is a usage error."""
    assert _diagram_cmd.main(["--view", "push", "--format", "dot"]) == 0
    out = capsys.readouterr().out
    assert "poll_push" in out and "start_passwordless" not in out
    with pytest.raises(SystemExit):
        _diagram_cmd.main(["--view", "nope"])
    assert _diagram_cmd.diagram_command("mermaid", "-", view="overview") == 2
    with pytest.raises(diagram.DiagramError, match="not shown") as refused:
        diagram.to_dot(view="+15550100")
    assert "15550100" not in str(refused.value)
