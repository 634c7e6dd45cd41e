"""``flowengine diagram`` and ``flowengine review``: the one command line of the diagrams.

``python -m flowengine.diagram`` (which CI and the committed files name) is the
same ``diagram`` command under another name, plus ``--review`` for what
``flowengine review`` prints: both parsers get their options from
``_add_diagram_options`` and run ``run_diagram`` or ``run_review``.

``--write DIR`` regenerates the committed ``diagrams/`` files, ``--check DIR``
exits 1 when they drifted from the machine. Without either, the diagram is
written to ``--output`` or stdout (with ``--flow``, a stored flow's path lit).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from flowengine import _machine as m
from flowengine._errors import DiagramError
from flowengine._promela import SpinUnavailableError, spin_check
from flowengine._render import (
    FORMATS,
    Format,
    check_committed,
    diagram_bytes,
    history_steps,
    write_committed,
)
from flowengine._review import review_report, spin_markdown
from flowengine._table import REGENERATE_COMMAND
from flowengine._views import FACTORS, VIEW_NAMES
from flowengine.cli._output import error_object, exit_code_for
from flowengine.cli._parser import Formatter
from flowengine.cli._settings import CONFIG_HELP, add_config_options, repository

__all__ = [
    "MODULE_PROG",
    "add_parsers",
    "diagram_command",
    "main",
    "review_command",
    "run_diagram",
    "run_review",
    "spin_command",
]

#: The name ``python -m flowengine.diagram`` reports itself under.
MODULE_PROG = "python -m flowengine.diagram"

_DIAGRAM_EPILOG = f"""\
Drawn from the same table the code runs. mermaid and dot are text and need
nothing installed; svg and png need Graphviz's `dot` program.

examples:
  flowengine diagram                                  # Mermaid on stdout
  flowengine diagram --format dot --output flow.dot
  flowengine diagram --format svg --output flow.svg
  flowengine diagram --view overview --format png --output overview.png  # 1,600 px wide
  flowengine diagram --view push --format svg         # one factor's transitions
  flowengine diagram --flow fl_0123... --output path.mmd   # one stored flow's path lit
  flowengine diagram --check diagrams/                # exit 1 if the committed files drifted

With --flow, the flow is read from the store (see `flowengine flow --help`):
{CONFIG_HELP}"""

_REVIEW_EPILOG = """\
Proves by exhaustive path search that every path to `authenticated` passes a
first factor and, when MFA is asked, a second; lists unreachable and dead
states, every transition, the illegal (state, trigger) pairs and the secrets.
Exit 1 when a property fails.

With --spin, an independent check instead: a Promela model generated from the
table and the store protocol (two workers, claims, leases, crashes) is
verified exhaustively by SPIN (needs `spin` and `gcc`: apt-get install spin
gcc); prints SPIN's version, states stored, depth and errors, and on an error
the counterexample as a path of the machine (exit 1; exit 2 without SPIN).

examples:
  flowengine review
  flowengine review --output review.md
  flowengine review --spin"""


def _add_diagram_options(p: argparse.ArgumentParser, *, module: bool) -> None:
    """The ``diagram`` options; ``module`` adds ``--review`` and leaves out ``--flow``."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="DIR", type=Path, help="regenerate the committed files")
    group.add_argument("--check", metavar="DIR", type=Path, help="exit 1 if DIR drifted")
    if module:
        group.add_argument(
            "--review", action="store_true", help="print the review (exit 1 on fail)"
        )
    p.add_argument(
        "--format", choices=FORMATS, default="mermaid", dest="fmt", help="diagram format"
    )
    p.add_argument(
        "--view",
        choices=VIEW_NAMES,
        default="full",
        metavar="VIEW",
        help="overview (one screen), a factor ("
        + ", ".join(f.name for f in FACTORS)
        + ") or full (every transition; the default)",
    )
    p.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    if not module:
        group.add_argument("--flow", metavar="FLOW_ID", help="highlight this stored flow's path")
        add_config_options(p, tenant=False)


def add_parsers(subparsers: Any) -> None:
    """Register ``diagram`` and ``review``."""
    p = subparsers.add_parser(
        "diagram",
        help="draw the state machine (or one stored flow's path on it)",
        description="Draw the login state machine.",
        epilog=_DIAGRAM_EPILOG,
        formatter_class=Formatter,
    )
    _add_diagram_options(p, module=False)

    p = subparsers.add_parser(
        "review",
        help="print the security review of the machine",
        description="The security review of the login state machine (Markdown).",
        epilog=_REVIEW_EPILOG,
        formatter_class=Formatter,
    )
    p.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--spin", action="store_true", help="model-check the table with SPIN instead")


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
    view: str = "full",
) -> int:
    """Write the diagram (or one flow's) to ``output`` or stdout.

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
            view=view,
        )
    except DiagramError as exc:
        print(f"flowengine diagram: {exc}", file=sys.stderr)
        return 2
    _emit(data, output)
    return 0


def review_command(output: Path | str | None = None, edges: Sequence[m.Edge] = m.EDGES) -> int:
    """Write the review to ``output`` or stdout; 1 when a property fails, else 0."""
    report = review_report(edges)
    _emit(report.to_markdown().encode(), output)
    if not report.ok:
        names = ", ".join(p.name for p in report.failed)
        print(f"flowengine review: properties FAILED: {names}", file=sys.stderr)
        return 1
    return 0


def _write_or_check(args: argparse.Namespace) -> int:
    """``--write DIR`` or ``--check DIR``."""
    try:
        if args.write is not None:
            for p in write_committed(args.write):
                print(p)
            return 0
        problems = check_committed(args.check)
    except DiagramError as exc:
        print(f"flowengine diagram: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"{args.check}/{problem}", file=sys.stderr)
    if problems:
        print(f"regenerate with: {REGENERATE_COMMAND}", file=sys.stderr)
    return 1 if problems else 0


def run_diagram(args: argparse.Namespace) -> int:
    """Write or check the committed files, or write the diagram (``--flow``: a flow's path lit)."""
    if args.write is not None or args.check is not None:
        return _write_or_check(args)
    if getattr(args, "flow", None) is None:
        return diagram_command(args.fmt, args.output, view=args.view)
    try:
        with repository(args) as repo:
            flow = repo.get(args.flow)
        steps = history_steps(flow.history)
    except Exception as exc:  # a store or snapshot problem: say what, no traceback
        err = error_object(exc)
        print(f"flowengine diagram: {err['type']}: {err['message']}", file=sys.stderr)
        return exit_code_for(exc)
    return diagram_command(
        args.fmt, args.output, path=flow.path(), current=flow.state, steps=steps, view=args.view
    )


def spin_command(output: Path | str | None = None, edges: Sequence[m.Edge] = m.EDGES) -> int:
    """Model-check ``edges`` with SPIN: 1 on any error (counterexample on stderr), 2 without it."""
    try:
        report = spin_check(edges)
    except SpinUnavailableError as exc:
        print(f"flowengine review --spin: {exc}", file=sys.stderr)
        return 2
    _emit(spin_markdown(report).encode(), output)
    if not report.ok:
        print(f"flowengine review --spin: FAILED\n{report.summary()}", file=sys.stderr)
        return 1
    return 0


def run_review(args: argparse.Namespace) -> int:
    """Write the review report (or, with ``--spin``, SPIN's)."""
    if getattr(args, "spin", False):
        return spin_command(args.output)
    return review_command(args.output)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m flowengine.diagram``: write, check, review or print the diagrams."""
    parser = argparse.ArgumentParser(
        prog=MODULE_PROG,
        description="Diagrams and security review rendered from flowengine's machine table.",
    )
    _add_diagram_options(parser, module=True)
    args = parser.parse_args(argv)
    return run_review(args) if args.review else run_diagram(args)
