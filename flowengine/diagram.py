"""State diagrams and the security review, rendered from the table the code runs.

This module is the public face of four private ones; nothing here is drawn by
hand, and every function takes the table as an optional ``edges`` argument
(default: the real one), so tests can hand in a modified copy:

* ``flowengine._table``: the table as rows (one per outcome, what the review
  walks) and as drawn arrows (one per (source, trigger, destination)).
* ``flowengine._render``: ``to_mermaid`` and ``to_dot`` (text, nothing
  installed needed), ``diagram_bytes`` and ``flow_diagram`` (a flow's
  path lit, from state and trigger *names* only, so no context value can reach
  a diagram), ``write_committed`` and ``check_committed`` (``diagrams/``
  and its drift check).
* ``flowengine._graphviz``: ``render``, DOT text to SVG or PNG with
  Graphviz's ``dot``.
* ``flowengine._views``: the views (``VIEW_NAMES``): the overview for one
  screen, one per factor (``FACTORS``) and the full table; ``to_dot(view=...)``
  draws them.
* ``flowengine._review``: ``review_report``, the exhaustive path search
  and the properties a security reviewer cares about; ``ReviewReport.ok``
  is false when any property fails.

Command line (``flowengine.cli._diagram_cmd``, the same code as ``flowengine
diagram`` and ``flowengine review``): ``python -m flowengine.diagram --write
diagrams/`` regenerates the committed files, ``--check diagrams/`` fails on
drift, ``--review`` prints the review and exits 1 when a property fails,
``--format mermaid|dot|svg|png [--output FILE]`` prints or writes a diagram.
"""

from __future__ import annotations

from flowengine._errors import DiagramError
from flowengine._graphviz import render
from flowengine._render import (
    COMMITTED_FILES,
    FORMATS,
    Format,
    check_committed,
    diagram_bytes,
    flow_diagram,
    history_steps,
    to_dot,
    to_mermaid,
    write_committed,
)
from flowengine._review import (
    SECRET_HOMES,
    PathFigures,
    PropertyResult,
    ReviewReport,
    SecretEntry,
    review_report,
)
from flowengine._table import (
    CODE_SECRETS,
    REGENERATE_COMMAND,
    DrawnEdge,
    Row,
    drawn_edges,
    machine_rows,
    machine_transitions,
    table_rows,
)
from flowengine._views import FACTORS, VIEW_NAMES, Factor, View, view

__all__ = [
    "CODE_SECRETS",
    "COMMITTED_FILES",
    "DiagramError",
    "DrawnEdge",
    "FACTORS",
    "FORMATS",
    "Factor",
    "Format",
    "PathFigures",
    "PropertyResult",
    "REGENERATE_COMMAND",
    "ReviewReport",
    "Row",
    "SECRET_HOMES",
    "SecretEntry",
    "VIEW_NAMES",
    "View",
    "check_committed",
    "diagram_bytes",
    "drawn_edges",
    "flow_diagram",
    "history_steps",
    "machine_rows",
    "machine_transitions",
    "render",
    "review_report",
    "table_rows",
    "to_dot",
    "to_mermaid",
    "view",
    "write_committed",
]

if __name__ == "__main__":
    import sys

    from flowengine.cli._diagram_cmd import main

    sys.exit(main())
