"""``flowengine store ...``: operate on the flow store itself, one JSON object on stdout.

``store sweep`` deletes every flow past its ``expires_at`` (the stores also sweep
a small batch on their own as flows are written; this is the full sweep),
``store stats`` counts flows by state, finds the oldest live one, counts claims
held and lapsed and reports the schema version, and ``store migrate`` brings the
store's schema (or key layout) to this flowengine's version and prints the version
before and after (idempotent: a second run changes nothing).  None reads a
snapshot, so none needs a key: only the store URL, from the same ``--store`` option and
``FLOWENGINE_STORE`` variable as ``flowengine flow`` (default: the SQLite file in
the user data directory).  The URL is never printed (it may hold a password).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from typing import Any

from flowengine._errors import ConfigurationError, FlowEngineError, StoreError
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
  flowengine store migrate --store postgresql://app@db.internal/app
  flowengine store stats --store redis+cluster://10.0.0.1:7000,10.0.0.2:7000

Output: one JSON object; a failure is {{"error": {{"type", "message"}}}} with a non-zero
exit (3: the store failed, 2: usage or configuration).

  --store          {ENV_STORE:<20} sqlite:///path.db, redis://host:port/db,
  {"":38}redis+cluster://host:port,... or postgresql://...;
  {"":38}default: SQLite in the user data directory"""


def add_parser(subparsers: Any) -> CliParser:
    """Register ``store`` with ``sweep`` and ``stats`` (their usage errors print JSON)."""
    store: CliParser = subparsers.add_parser(
        "store",
        help="sweep expired flows from the store, print its statistics, migrate its schema",
        description=(
            "Operate on the flow store: sweep expired flows, print statistics, migrate the schema."
        ),
        epilog=_EPILOG,
        formatter_class=Formatter,
    )
    store.json_errors = True
    sub = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    for name, summary in (
        ("sweep", "delete every flow past its expiry; print how many"),
        ("stats", "flows by state, the oldest live flow, claims, the schema version"),
        ("migrate", "bring the schema to this version; print the version before and after"),
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
        action = {"sweep": _sweep, "stats": _stats, "migrate": _migrate}[args.store_command]
        payload = action(args)
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


def _kind(store: object) -> str:
    """The store's kind as the JSON names it."""
    from flowengine.stores import MemoryStore, PostgresStore, RedisStore, SQLiteStore
    from flowengine.stores.redis_cluster import RedisClusterStore

    kinds: tuple[tuple[type, str], ...] = (
        (SQLiteStore, "sqlite"),
        (RedisClusterStore, "redis-cluster"),
        (RedisStore, "redis"),
        (PostgresStore, "postgresql"),
        (MemoryStore, "memory"),
    )
    return next((name for cls, name in kinds if isinstance(store, cls)), type(store).__name__)


def _migrate(args: argparse.Namespace) -> dict[str, Any]:
    url, _ = store_url(args)
    started = time.monotonic()
    before = _probe(url)
    with open_store(url) as store:  # SQLite and PostgreSQL migrate as they open
        kind = _kind(store)
        migrate = getattr(store, "migrate", None)
        if callable(migrate):  # Redis (single server and cluster): record the layout version
            before, _ = migrate()
    after = _probe(url) if kind in ("sqlite", "postgresql") else _layout(url)
    return {
        "store": kind,
        "schema_before": before,
        "schema_after": after,
        "migrated": before != after,
        "seconds": round(time.monotonic() - started, 6),
    }


def _layout(url: str) -> int | None:
    """The layout version a Redis store recorded (or None for the memory store)."""
    with open_store(url) as store:
        version = getattr(store, "schema_version", None)
        return version() if callable(version) else None


def _probe(url: str) -> int | None:
    """The schema version of an SQLite or PostgreSQL store *without* migrating it.

    ``None`` for a store that does not exist yet (no file, no tables) and for the
    other kinds (their stores do not migrate on open).  Errors never show the URL.
    """
    kind = url.partition(":")[0].lower()
    if kind == "sqlite":
        import sqlite3
        from pathlib import Path

        from flowengine.stores._base import _sqlite_path

        path = _sqlite_path(url.partition(":")[2])
        if path == ":memory:" or not Path(path).exists():
            return None
        try:
            conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
            try:
                return int(conn.execute("PRAGMA user_version").fetchone()[0])
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the SQLite store's version: {exc}") from None
    if kind in ("postgresql", "postgres"):
        try:
            import psycopg
        except ImportError:
            return None  # open_store says what is missing
        try:
            with psycopg.connect(
                "postgresql" + url[url.index(":") :], autocommit=True, connect_timeout=10
            ) as pg:
                row = pg.execute("SELECT to_regclass('flowengine_schema') IS NOT NULL").fetchone()
                if row is None or not row[0]:
                    return None
                got = pg.execute("SELECT version FROM flowengine_schema").fetchone()
                return None if got is None else int(got[0])
        except psycopg.Error as exc:
            # The driver's message may quote the connection string: only its type is shown.
            raise StoreError(
                f"cannot read the PostgreSQL store's version ({type(exc).__name__}; "
                "the URL is not shown because it may contain a password)"
            ) from None
    return None
