"""diagrams/doubt.mmd draws every request in doubt and the ways on that the table declares."""

from __future__ import annotations

import re

from flowengine import _machine as m
from flowengine import diagram
from flowengine._render import doubt_node, to_doubt_mermaid

TEXT = to_doubt_mermaid()

_LINE = re.compile(
    r"stateDiagram-v2"
    r"|    %% [^\n]*"
    r"|    direction LR"
    r"|    classDef \w+ [\w:#,.\-]+"
    r"|    class [A-Za-z_]\w*(,[A-Za-z_]\w*)* \w+"
    r'|    state "[a-z_ ]+" as [A-Za-z_]\w*'
    r"|    [A-Za-z_]\w* --> [A-Za-z_]\w* : [^:;#%\n]+"
)
_ARROW = re.compile(r"    (\w+) --> (\w+) : (.+)")


def _arrows() -> set[tuple[str, str, str]]:
    return {a.groups() for line in TEXT.splitlines() if (a := _ARROW.fullmatch(line))}  # type: ignore[misc]


def test_every_line_is_a_mermaid_state_diagram_form() -> None:
    """Each line is one of the stateDiagram-v2 forms; labels hold no ``:;#%``."""
    for line in TEXT.splitlines():
        assert _LINE.fullmatch(line), line


def test_every_request_in_doubt_and_its_ways_on_are_drawn() -> None:
    """Each (trigger, state it leaves) has its doubt state and exactly the declared ways on."""
    expected = set()
    for trigger, doubt in m.DOUBT.items():
        for state in {e.source for e in m.EDGES if e.trigger == trigger}:
            node = doubt_node(trigger, state)
            expected.add((state, node, f"{trigger} sent, answer lost"))
            expected |= {(node, dest, way) for way, dest in doubt.recovery[state]}
    assert _arrows() == expected


def test_no_way_on_after_a_doubt_reaches_authenticated() -> None:
    """Nothing drawn out of a doubt state enters ``authenticated``."""
    assert all(dest != m.AUTHENTICATED for _, dest, _ in _arrows())


def test_the_doubt_diagram_is_committed_and_checked() -> None:
    """doubt.mmd is one of the committed files the drift check compares."""
    assert "doubt.mmd" in diagram.COMMITTED_FILES
