"""``flowengine store ...``: operate on the flow store itself, one JSON object on stdout.

``store sweep`` deletes every flow past its ``expires_at`` (the stores also sweep
a small batch on their own as flows are written; this is the full sweep), and
``store stats`` counts flows by state, finds the oldest live one, counts claims
held and lapsed and reports the schema version.  Neither reads a snapshot, so
neither needs a key: only the store URL, from the same ``--store`` option and
``FLOWENGINE_STORE`` variable as ``flowengine flow`` (default: the SQLite file in
the user data directory).  The URL is never printed (it may hold a password).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from typing import Any

from flowengine._errors import ConfigurationError, FlowEngineError
from flowengine.cli import _output as out
from flowengine.cli._parser import CliParser, Formatter
from flowengine.cli._settings import ENV_STORE, store_url
from flowengine.stores import open_store
from flowengine.stores._base import StoreBase

__all__ = ["add_parser", "run"]

_EPILOG = f"""\
examples:
  flowengine store stats                                # the default SQLite store
  flowengine store sweep --store sqlite:///var/lib/app/flows.db
  FLOWENGINE_STORE=redis://localhost:6379/0 flowengine store stats

Output: one JSON object; a failure is {{"error": {{"type", "message"}}}} with a non-zero
exit (3: the store failed, 2: usage or configuration).

  --store          {ENV_STORE:<20} sqlite:///path.db or redis://host:port/db;
  {"":38}default: SQLite in the user data directory"""


def add_parser(subparsers: Any) -> CliParser:
    """Register ``store`` with ``sweep`` and ``stats`` (their usage errors print JSON)."""
    store: CliParser = subparsers.add_parser(
        "store",
        help="sweep expired flows from the store, or print its statistics",
        description="Operate on the flow store: sweep expired flows, print statistics.",
        epilog=_EPILOG,
        formatter_class=Formatter,
    )
    store.json_errors = True
    sub = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    for name, summary in (
        ("sweep", "delete every flow past its expiry; print how many"),
        ("stats", "flows by state, the oldest live flow, claims, the schema version"),
    ):
        p: CliParser = sub.add_parser(
            name, help=summary, description=summary, epilog=_EPILOG, formatter_class=Formatter
        )
        p.json_errors = True
        p.add_argument("--store", default=argparse.SUPPRESS, metavar="URL", help=f"${ENV_STORE}")
        p.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=argparse.SUPPRESS,
            help="library logs (and unexpected errors) on stderr",
        )
    return store


def run(args: argparse.Namespace) -> int:
    """Run one ``store`` action; print one JSON object; return the exit code."""
    try:
        payload = _sweep(args) if args.store_command == "sweep" else _stats(args)
        code = out.EXIT_OK
    except Exception as exc:
        if getattr(args, "verbose", False) and not isinstance(exc, FlowEngineError):
            traceback.print_exc(file=sys.stderr)
        payload, code = {"error": out.error_object(exc)}, out.exit_code_for(exc)
    out.emit_json(payload)
    return code


def _sweep(args: argparse.Namespace) -> dict[str, Any]:
    url, _ = store_url(args)
    with open_store(url) as store:
        now = time.time()
        started = time.monotonic()
        deleted = store.sweep_expired(now)
        took = time.monotonic() - started
    return {"swept": deleted, "now": now, "seconds": round(took, 6)}


def _stats(args: argparse.Namespace) -> dict[str, Any]:
    url, _ = store_url(args)
    with open_store(url) as store:
        if not isinstance(store, StoreBase):  # pragma: no cover - open_store builds ours
            raise ConfigurationError("this store cannot report statistics")
        return store.stats().to_json()
