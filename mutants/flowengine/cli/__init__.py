"""The ``flowengine`` command line.

``flowengine demo``      the whole login against a local emulator, in one command
``flowengine flow ...``  one step of a stored flow per process, one JSON object out
``flowengine login``     an interactive login against a tenant (or the emulator)
``flowengine emulator``  serve the Auth0 emulator on a loopback port
``flowengine diagram``   the machine's diagram (or one stored flow's path on it)
``flowengine review``    the security review of the machine
``flowengine store ...`` sweep expired flows, print the store's statistics

The library itself never configures logging; this command does, for its own
process only (silent unless ``-v``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from flowengine.cli._output import EXIT_INTERRUPTED
from flowengine.cli._parser import CliParser, Formatter

__all__ = ["build_parser", "main"]

_EPILOG = """\
examples:
  flowengine demo                       # offline: emulator + SQLite store, every step shown
  flowengine emulator --port 8080       # a local tenant; prints the codes it "sends"
  flowengine flow start --connection sms --phone-number +15550100
  flowengine flow verify fl_0123... --code 123456
  flowengine login --domain example.eu.auth0.com --client-id ...
  flowengine diagram --format mermaid
  flowengine review --output review.md
  flowengine store stats                # flows by state, claims, schema version

Run `flowengine COMMAND --help` for each command's options and examples."""


def _version() -> str:
    from flowengine import __version__

    return f"flowengine {__version__}"


def build_parser() -> CliParser:
    """The ``flowengine`` argument parser with every subcommand."""
    from flowengine.cli import _demo, _diagram_cmd, _emulator_cmd, _flowcmd, _login, _store_cmd

    parser = CliParser(
        prog="flowengine",
        description="Auth0 passwordless + MFA login as a resumable, auditable state machine.",
        epilog=_EPILOG,
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=False, help="library logs on stderr"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _demo.add_parser(sub)
    _flowcmd.add_flow_parser(sub)
    _login.add_parser(sub)
    _emulator_cmd.add_parser(sub)
    _diagram_cmd.add_parsers(sub)
    _store_cmd.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``flowengine`` command; return its exit code."""
    from flowengine.cli import _demo, _diagram_cmd, _emulator_cmd, _flowcmd, _login, _store_cmd
    from flowengine.cli._settings import cli_logging

    parser = build_parser()
    args, extra = parser.parse_known_args(list(argv) if argv is not None else None)
    if extra:
        # A ``flow`` step reports this as JSON too, from its own parser (its usage).
        reporter: CliParser = getattr(args, "usage_parser", None) or parser
        reporter.error("unrecognized arguments: " + " ".join(extra))
    commands = {
        "demo": _demo.run,
        "flow": _flowcmd.run,
        "login": _login.run,
        "emulator": _emulator_cmd.run,
        "diagram": _diagram_cmd.run_diagram,
        "review": _diagram_cmd.run_review,
        "store": _store_cmd.run,
    }
    with cli_logging(bool(getattr(args, "verbose", False))):
        try:
            return commands[args.command](args)
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            # The reader went away (`flowengine demo | head`): not an error of ours.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0
