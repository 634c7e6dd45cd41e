"""Read the rendered diagrams back: the arrows, final-state marks and labels they show."""

from __future__ import annotations

import html
import re

import attrs

_MMD_ARROW = re.compile(r"^    (\[\*\]|[A-Za-z_]\w*) --> (\[\*\]|[A-Za-z_]\w*)(?: : (.*))?$")
_DOT_EDGE = re.compile(r'^    (__initial__|"[^"]+") -> "([^"]+)" \[(.*)\];$')
_DOT_NODE = re.compile(r'^    "([^"]+)" \[(.*)\];$')
_DOT_LABEL = re.compile(r"label=<(.*)>")


@attrs.frozen
class Arrow:
    """One drawn arrow: its ends, the trigger its label starts with, the label text."""

    source: str
    dest: str
    trigger: str
    label: str
    attributes: str = ""

    @property
    def triple(self) -> tuple[str, str, str]:
        """(source, trigger, dest), as the machine's transition set is written."""
        return (self.source, self.trigger, self.dest)


def _trigger_of(label: str) -> str:
    return label.removeprefix("▶ ").split()[0]


def mermaid_arrows(text: str) -> list[Arrow]:
    """Every ``a --> b : label`` between two states (``[*]`` markers left out)."""
    arrows = []
    for line in text.splitlines():
        match = _MMD_ARROW.match(line)
        if match and "[*]" not in (match.group(1), match.group(2)):
            label = (match.group(3) or "").replace("<br/>", "\n")
            arrows.append(Arrow(match.group(1), match.group(2), _trigger_of(label), label))
    return arrows


def mermaid_markers(text: str) -> tuple[set[str], set[str]]:
    """The states after ``[*] -->`` (initial) and before ``--> [*]`` (final)."""
    initial, final = set(), set()
    for line in text.splitlines():
        match = _MMD_ARROW.match(line)
        if match and match.group(1) == "[*]":
            initial.add(match.group(2))
        if match and match.group(2) == "[*]":
            final.add(match.group(1))
    return initial, final


def dot_arrows(text: str) -> list[Arrow]:
    """Every edge statement between two states, its HTML label turned back into text."""
    arrows = []
    for line in text.splitlines():
        match = _DOT_EDGE.match(line)
        if not match or match.group(1) == "__initial__":
            continue
        found = _DOT_LABEL.search(match.group(3))
        raw = found.group(1) if found else ""
        label = html.unescape(re.sub(r"</?B>", "", raw.replace("<BR/>", "\n")))
        source = match.group(1).strip('"')
        arrows.append(Arrow(source, match.group(2), _trigger_of(label), label, match.group(3)))
    return arrows


def dot_nodes(text: str) -> dict[str, str]:
    """State id -> its attribute list, from the node statements."""
    return {m.group(1): m.group(2) for line in text.splitlines() if (m := _DOT_NODE.match(line))}
