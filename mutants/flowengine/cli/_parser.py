"""The argument parser class of the command line.

``flow`` commands promise one JSON object on stdout whatever happens, so their
parsers report usage errors as a JSON ``error`` object (exit 2) instead of
argparse's text; every other command keeps argparse's usual behaviour.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from flowengine.cli._output import EXIT_USAGE, emit_json, redact_handles


class CliParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors can be JSON (``json_errors``)."""

    json_errors: bool = False

    def error(self, message: str) -> NoReturn:
        """Report a usage error (as JSON for ``flow`` commands) and exit 2."""
        # argparse quotes what it did not expect ("unrecognized arguments: ..."),
        # which may be a second handle pasted by mistake: never print one.
        message = redact_handles(message)
        if not self.json_errors:
            super().error(message)
        emit_json(
            {
                "flow_id": None,
                "state": None,
                "error": {
                    "type": "UsageError",
                    "message": message,
                    "usage": " ".join(self.format_usage().split()),
                },
            }
        )
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        self.exit(EXIT_USAGE)


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the epilogs' examples as written, with a little more room for options."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)
