"""``flowengine diagram`` and ``flowengine review``: thin front ends to ``flowengine.diagram``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from flowengine.cli._output import error_object, exit_code_for
from flowengine.cli._parser import Formatter
from flowengine.cli._settings import CONFIG_HELP, add_config_options, repository

FORMATS = ("mermaid", "dot", "svg", "png")

_DIAGRAM_EPILOG = f"""\
Drawn from the same table the code runs. mermaid and dot are text and need
nothing installed; svg and png need Graphviz's `dot` program.

examples:
  flowengine diagram                                  # Mermaid on stdout
  flowengine diagram --format dot --output flow.dot
  flowengine diagram --format svg --output flow.svg
  flowengine diagram --flow fl_0123... --output path.mmd   # one stored flow's path lit

With --flow, the flow is read from the store (see `flowengine flow --help`):
{CONFIG_HELP}"""

_REVIEW_EPILOG = """\
Proves by exhaustive path search that every path to `authenticated` passes a
first factor and, when MFA is asked, a second; lists unreachable and dead
states, every transition, the illegal (state, trigger) pairs and the secrets.
Exit 1 when a property fails.

examples:
  flowengine review
  flowengine review --output review.md"""


def add_parsers(subparsers: Any) -> None:
    """Register ``diagram`` and ``review``."""
    p = subparsers.add_parser(
        "diagram",
        help="draw the state machine (or one stored flow's path on it)",
        description="Draw the login state machine.",
        epilog=_DIAGRAM_EPILOG,
        formatter_class=Formatter,
    )
    p.add_argument("--format", choices=FORMATS, default="mermaid", dest="fmt")
    p.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--flow", metavar="FLOW_ID", help="highlight this stored flow's path")
    add_config_options(p, tenant=False)

    p = subparsers.add_parser(
        "review",
        help="print the security review of the machine",
        description="The security review of the login state machine (Markdown).",
        epilog=_REVIEW_EPILOG,
        formatter_class=Formatter,
    )
    p.add_argument("--output", metavar="FILE", help="write here instead of stdout")


def run_diagram(args: argparse.Namespace) -> int:
    """Write the diagram; with ``--flow``, the stored flow's path highlighted."""
    from flowengine import diagram

    if args.flow is None:
        return diagram.diagram_command(args.fmt, args.output)
    try:
        with repository(args) as repo:
            flow = repo.get(args.flow)
        steps = diagram.history_steps(flow.history)
    except Exception as exc:  # a store or snapshot problem: say what, no traceback
        err = error_object(exc)
        print(f"flowengine diagram: {err['type']}: {err['message']}", file=sys.stderr)
        return exit_code_for(exc)
    return diagram.diagram_command(
        args.fmt, args.output, path=flow.path(), current=flow.state, steps=steps
    )


def run_review(args: argparse.Namespace) -> int:
    """Write the review report."""
    from flowengine import diagram

    return diagram.review_command(args.output)
