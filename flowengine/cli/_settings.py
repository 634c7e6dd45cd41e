"""Where the command line's configuration comes from: options, the environment, key files.

Precedence is option, then environment variable, then default. The default
store is a SQLite file in the user's data directory; with it, and no key
configured, a snapshot key file is created beside the database, readable only
by its owner.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import secrets
import stat
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import structlog

from flowengine._config import Auth0Config
from flowengine._errors import ConfigurationError
from flowengine._log import LOGGER_NAME
from flowengine._repository import FlowRepository
from flowengine._snapshot import Keyring
from flowengine.stores import FlowStore, open_store

APP_NAME = "flowengine"
STORE_FILE = "flows.db"
KEY_FILE = "keys"

ENV_DOMAIN = "AUTH0_DOMAIN"
ENV_CLIENT_ID = "AUTH0_CLIENT_ID"
ENV_CLIENT_SECRET = "AUTH0_CLIENT_SECRET"
ENV_AUDIENCE = "AUTH0_AUDIENCE"
ENV_SCOPE = "AUTH0_SCOPE"
ENV_PRIVATE_KEY = "AUTH0_PRIVATE_KEY"
ENV_PRIVATE_KEY_ID = "AUTH0_PRIVATE_KEY_ID"
ENV_REQUEST_LANGUAGE = "AUTH0_REQUEST_LANGUAGE"
ENV_STORE = "FLOWENGINE_STORE"
ENV_KEYS = "FLOWENGINE_KEYS"
ENV_KEY_FILE = "FLOWENGINE_KEY_FILE"
ENV_LEASE = "FLOWENGINE_LEASE"

CONFIG_HELP = f"""\
configuration (option, else environment variable):
  --domain         {ENV_DOMAIN:<20} tenant host (example.eu.auth0.com) or base URL;
  {"":38}http:// only for loopback hosts (an emulator)
  --client-id      {ENV_CLIENT_ID:<20} the application's client id
  --client-secret  {ENV_CLIENT_SECRET:<20} confidential apps only; prefer the variable
  --audience       {ENV_AUDIENCE:<20} default: the tenant's MFA API
  --scope          {ENV_SCOPE:<20} default: openid profile offline_access
  --private-key    {ENV_PRIVATE_KEY:<20} PEM private key file (Private Key JWT instead of a
  {"":38}secret; the variable may also hold the PEM itself)
  --private-key-id {ENV_PRIVATE_KEY_ID:<20} the credential's kid (optional)
  --request-language {ENV_REQUEST_LANGUAGE:<18} x-request-language: the language of
  {"":38}Auth0's emails and SMS (fr, fr-CA)
  --store          {ENV_STORE:<20} sqlite:///path.db or redis://host:port/db;
  {"":38}default: SQLite in the user data directory
  --key-file       {ENV_KEY_FILE:<20} snapshot key file (created 0600 if missing)
  {"":17}{ENV_KEYS:<20} kid:base64url[,kid:base64url...] (first seals)
  --lease          {ENV_LEASE:<20} seconds a step holds its claim (default 120; renewed
  {"":38}before every request and every push wait)
  With the default store and no key configured, a key file "{KEY_FILE}" is created
  beside the database with owner-only permissions."""


def add_config_options(parser: argparse.ArgumentParser, *, tenant: bool = True) -> None:
    """Add the configuration options; unset ones stay absent so parents' values survive."""
    s = argparse.SUPPRESS
    if tenant:
        parser.add_argument("--domain", default=s, metavar="HOST_OR_URL", help=f"${ENV_DOMAIN}")
        parser.add_argument("--client-id", default=s, metavar="ID", help=f"${ENV_CLIENT_ID}")
        parser.add_argument(
            "--client-secret", default=s, metavar="SECRET", help=f"${ENV_CLIENT_SECRET}"
        )
        parser.add_argument("--audience", default=s, metavar="URI", help=f"${ENV_AUDIENCE}")
        parser.add_argument("--scope", default=s, metavar="SCOPES", help=f"${ENV_SCOPE}")
        parser.add_argument("--private-key", default=s, metavar="PATH", help=f"${ENV_PRIVATE_KEY}")
        parser.add_argument(
            "--private-key-id", default=s, metavar="KID", help=f"${ENV_PRIVATE_KEY_ID}"
        )
        parser.add_argument(
            "--request-language", default=s, metavar="TAG", help=f"${ENV_REQUEST_LANGUAGE}"
        )
    parser.add_argument("--store", default=s, metavar="URL", help=f"${ENV_STORE}")
    parser.add_argument("--key-file", default=s, metavar="PATH", help=f"${ENV_KEY_FILE}")
    parser.add_argument("--lease", default=s, metavar="SECONDS", help=f"${ENV_LEASE}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=s, help="library logs on stderr"
    )


def _opt(args: argparse.Namespace, name: str, env: str) -> str | None:
    value = getattr(args, name, None)
    if value is None:
        value = os.environ.get(env) or None
    return value


def auth0_config(args: argparse.Namespace) -> Auth0Config:
    """The tenant and application from options or the environment."""
    domain = _opt(args, "domain", ENV_DOMAIN)
    client_id = _opt(args, "client_id", ENV_CLIENT_ID)
    if not domain:
        raise ConfigurationError(f"domain: pass --domain or set {ENV_DOMAIN}")
    if not client_id:
        raise ConfigurationError(f"client_id: pass --client-id or set {ENV_CLIENT_ID}")
    scope = _opt(args, "scope", ENV_SCOPE)
    extra: dict[str, Any] = {"scope": scope} if scope else {}
    key = private_key(args)
    if key is not None:
        extra["private_key"] = key
        extra["key_id"] = _opt(args, "private_key_id", ENV_PRIVATE_KEY_ID)
    elif _opt(args, "private_key_id", ENV_PRIVATE_KEY_ID) is not None:
        raise ConfigurationError("--private-key-id needs --private-key (or AUTH0_PRIVATE_KEY)")
    return Auth0Config(
        domain=domain,
        client_id=client_id,
        client_secret=_opt(args, "client_secret", ENV_CLIENT_SECRET),
        audience=_opt(args, "audience", ENV_AUDIENCE),
        request_language=_opt(args, "request_language", ENV_REQUEST_LANGUAGE),
        **extra,
    )


def private_key(args: argparse.Namespace) -> str | None:
    """The Private Key JWT key: ``--private-key PATH``, else ``$AUTH0_PRIVATE_KEY``.

    The variable holds a path or the PEM text itself (a secret store often hands over
    the key, not a file). A key file must be readable by its owner only, like the
    snapshot key file. Messages name the file, never its content.
    """
    value = getattr(args, "private_key", None)
    where = "--private-key"
    if value is None:
        value = os.environ.get(ENV_PRIVATE_KEY) or None
        where = ENV_PRIVATE_KEY
        if value is not None and value.lstrip().startswith("-----BEGIN"):
            return value
    if value is None:
        return None
    path = Path(value)
    try:
        info = path.stat()
        if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigurationError(
                f"{where}: {path} is accessible to other users; run: chmod 600 {path}"
            )
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{where}: cannot read {path}: {type(exc).__name__}") from None


def data_dir() -> Path:
    """The user's data directory for flowengine (not created here)."""
    try:
        import platformdirs  # the [cli] extra: imported when the default store is needed
    except ImportError:
        raise ConfigurationError(
            "the default store needs platformdirs: pip install 'flowengine[cli]' "
            f"(or give --store / {ENV_STORE})"
        ) from None
    return Path(platformdirs.user_data_dir(APP_NAME))


def sqlite_url(path: Path) -> str:
    """``sqlite:///abs/path`` for a file path (percent-encoded)."""
    return "sqlite://" + quote(str(path.absolute()))


def store_url(args: argparse.Namespace) -> tuple[str, bool]:
    """The store URL and whether it is the default one."""
    url = _opt(args, "store", ENV_STORE)
    if url:
        return url, False
    return sqlite_url(data_dir() / STORE_FILE), True


def keyring(args: argparse.Namespace, *, default_store: bool) -> Keyring:
    """The snapshot keys: ``--key-file``, else ``FLOWENGINE_KEYS``, else a key file.

    A variable that is set is used, even when empty: ``FLOWENGINE_KEYS=""`` (a secret that
    did not render) is an error, not a reason to fall back to a fresh key file that no
    other process shares. Only the default data directory is created on demand; a key file
    named by option or variable must be in a directory that exists.
    """
    explicit = getattr(args, "key_file", None)
    if explicit is not None:
        return ensure_key_file(_key_path(explicit, "--key-file"))
    env = os.environ.get(ENV_KEYS)
    if env is not None:
        if not env.strip():
            raise ConfigurationError(f"{ENV_KEYS} is set but empty; unset it or give kid:key")
        return Keyring.from_env_value(env)
    env_file = os.environ.get(ENV_KEY_FILE)
    if env_file is not None:
        return ensure_key_file(_key_path(env_file, ENV_KEY_FILE))
    if default_store:
        return ensure_key_file(data_dir() / KEY_FILE, create_parent=True)
    raise ConfigurationError(
        f"no snapshot key for this store: set {ENV_KEYS} (kid:base64url,...) "
        f"or pass --key-file PATH (created if missing)"
    )


def _key_path(value: str, where: str) -> Path:
    """A key file path given by the user: non-empty."""
    if not value.strip():
        raise ConfigurationError(f"{where} is set but empty; give the path of a key file")
    return Path(value)


def read_key_file(path: Path) -> Keyring:
    """Read a key file; refuse one that others can read or write."""
    try:
        info = path.stat()
        if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigurationError(
                f"key file {path} is accessible to other users; run: chmod 600 {path}"
            )
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read key file {path}: {type(exc).__name__}") from None
    entries = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    if not entries:
        raise ConfigurationError(f"key file {path} holds no key")
    return Keyring.from_env_value(",".join(entries))


def ensure_key_file(path: Path, *, create_parent: bool = False) -> Keyring:
    """Read ``path``, or atomically create it (mode 0600) with one fresh key.

    The directory is created (mode 0700) only with ``create_parent``: the default data
    directory. A mistyped ``--key-file`` directory is an error, not a new key somewhere
    that nothing else reads. The key id is random (see ``Keyring``).
    """
    if path.exists():
        return read_key_file(path)
    if not create_parent and not path.parent.is_dir():
        raise ConfigurationError(f"key file {path}: the directory {path.parent} does not exist")
    try:
        if create_parent:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        ring = Keyring.generate()
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write("# flowengine snapshot keys: kid:base64url, the first one seals\n")
                fh.write(ring.to_env_value() + "\n")
            try:
                os.link(tmp, path)  # fails if another process created it first
            except FileExistsError:
                return read_key_file(path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    except OSError as exc:
        raise ConfigurationError(f"cannot create key file {path}: {type(exc).__name__}") from None
    return ring


def lease_seconds(args: argparse.Namespace) -> float:
    """``--lease`` or ``$FLOWENGINE_LEASE``: seconds, more than 0 and at most a day."""
    raw = _opt(args, "lease", ENV_LEASE)
    if raw is None:
        return DEFAULT_LEASE
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError("--lease / FLOWENGINE_LEASE must be a number of seconds") from None
    if not 0 < value <= 86400:
        raise ConfigurationError("--lease / FLOWENGINE_LEASE must be > 0 and <= 86400 seconds")
    return value


#: The lease a CLI step holds its claim for when none is configured.
DEFAULT_LEASE = 120.0


@contextlib.contextmanager
def repository(
    args: argparse.Namespace, *, clock: Callable[[], float] = time.time
) -> Iterator[FlowRepository]:
    """A repository over the configured store, closed on exit."""
    url, default = store_url(args)
    keys = keyring(args, default_store=default)
    lease = lease_seconds(args)
    store: FlowStore = open_store(url)
    try:
        yield FlowRepository(store, keys, clock=clock, lease=lease)
    finally:
        store.close()


# ------------------------------------------------------------------ logging


@contextlib.contextmanager
def cli_logging(verbose: bool) -> Iterator[None]:
    """Library logs on stderr with ``verbose``, none otherwise; restored on exit.

    The library logs to the stdlib logger ``flowengine`` and is silent until
    someone enables it; the command line does, for its own process, with a
    handler that renders each event on one console line.
    """
    if not verbose:
        yield
        return
    logger = logging.getLogger(LOGGER_NAME)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.stdlib.add_log_level,
                structlog.processors.TimeStamper(fmt="iso"),
                structlog.dev.ConsoleRenderer(colors=False),
            ],
        )
    )
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # one line per event, whatever the root logger has
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
