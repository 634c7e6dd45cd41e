"""open_store: the URL forms it accepts, the ones it refuses, and what it never reveals."""

from __future__ import annotations

import subprocess
import sys
import traceback
from pathlib import Path

import pytest

import flowengine.stores as stores
from flowengine._errors import ConfigurationError
from flowengine.stores import MemoryStore, RedisStore, SQLiteStore, open_store

SECRET = "S3cr3tPassw0rd"


@pytest.mark.parametrize("url", ["memory:", "memory://", "MEMORY:", "  memory:  "])
def test_memory_urls(url: str) -> None:
    """memory: URLs give a fresh MemoryStore each time."""
    store = open_store(url)
    assert isinstance(store, MemoryStore)
    assert open_store(url) is not store


def test_sqlite_absolute_urls(tmp_path: Path) -> None:
    """sqlite:///abs and sqlite:////abs name the same absolute file; %-escapes are decoded."""
    target = tmp_path / "a dir" / "flows.db"
    quoted = str(target).replace(" ", "%20")
    for url in (f"sqlite://{quoted}", f"sqlite:///{quoted}", f"sqlite:{target}"):
        with open_store(url) as store:
            assert isinstance(store, SQLiteStore)
            assert store.path == str(target)
    assert target.exists()


def test_sqlite_relative_url_resolves_against_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sqlite:relative/path is resolved against the current directory when opened."""
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:data/flows.db") as store:
        assert isinstance(store, SQLiteStore)
        assert store.path == str(tmp_path / "data" / "flows.db")
    assert (tmp_path / "data" / "flows.db").exists()


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite::memory:"])
def test_sqlite_memory_urls(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The :memory: forms give an in-memory SQLite store and create no file."""
    monkeypatch.chdir(tmp_path)
    with open_store(url) as store:
        assert isinstance(store, SQLiteStore)
        assert store.path == ":memory:"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "redis://localhost",
        "redis://localhost/3",
        f"redis://:{SECRET}@cache.internal:6380/2",
        f"redis://user:{SECRET}@cache.internal/2?socket_timeout=1.5&client_name=fe",
        f"rediss://:{SECRET}@cache.internal:6380/0?ssl_cert_reqs=required",
    ],
)
def test_redis_urls_build_a_store_lazily(url: str) -> None:
    """redis:// and rediss:// URLs build a RedisStore without connecting or showing a password."""
    store = open_store(url)
    assert isinstance(store, RedisStore)
    assert SECRET not in repr(store)
    store.close()


BAD_URLS = [
    "",
    "   ",
    "flows.db",
    "memory:extra",
    "memory:///x",
    "sqlite:",
    "sqlite://",
    "sqlite:///",
    "sqlite:///tmp/dir/",
    "sqlite://host/flows.db",
    "sqlite:///tmp/flows.db?mode=ro",
    "sqlite:///tmp/flows.db#frag",
    "sqlite:///tmp/nul%00.db",
    f"postgres://user:{SECRET}@db:99999/flows",
    f"postgresql://user:{SECRET}@db/flows#{SECRET}",
    f"http://user:{SECRET}@host/",
    f"{SECRET}@host:6379",
    f"redis:{SECRET}@host:6379",
    f"redis:/:{SECRET}@host:6379",
    f"redis://:{SECRET}@host:notaport/0",
    f"redis://:{SECRET}@host:99999/0",
    f"redis://:{SECRET}@host:0/0",
    f"redis://:{SECRET}@host:6379/notadb",
    f"redis://:{SECRET}@host:6379/0/1",
    f"redis://:{SECRET}@host:6379/0#{SECRET}",
    f"redis://:{SECRET}@host:6379/0?socket_timeout=abc",
    f"redis://:{SECRET}@host:6379/0?bogus_option=1",
    f"redis://:{SECRET}@host:6379/0?{SECRET}=1",
    f"redis://:{SECRET[:5]}/{SECRET[5:]}@host:6379/0",
    f"redis://:{SECRET}@ho st:6379/0",
    f"redis+sentinel://:{SECRET}@host:26379/0",
    f"unix://:{SECRET}@/tmp/redis.sock",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_urls_raise_configuration_error_without_the_password(url: str) -> None:
    """Every bad URL raises ConfigurationError whose message and traceback omit the password."""
    with pytest.raises(ConfigurationError) as info:
        open_store(url)
    text = "".join(traceback.format_exception(info.value))
    for piece in (SECRET, SECRET[:5], SECRET[5:]):
        assert piece not in text
    assert str(info.value)


def test_non_string_url_is_refused() -> None:
    """A URL that is not a string raises ConfigurationError."""
    with pytest.raises(ConfigurationError):
        open_store(Path("/tmp/flows.db"))  # type: ignore[arg-type]


def test_unknown_scheme_message_lists_the_accepted_forms() -> None:
    """The message for an unknown scheme names it and lists what is accepted."""
    with pytest.raises(ConfigurationError, match=r"'mysql'.*sqlite:///abs/path\.db.*redis://"):
        open_store("mysql://db/flows")


def test_redis_store_rejects_a_bad_url_directly() -> None:
    """RedisStore checks its URL the same way open_store does."""
    with pytest.raises(ConfigurationError) as info:
        RedisStore(f"redis://:{SECRET}@host:6379/abc")
    assert SECRET not in str(info.value)


def test_package_exports() -> None:
    """flowengine.stores exports exactly the documented names, sorted."""
    assert stores.__all__ == sorted(stores.__all__)
    assert stores.__all__ == [
        "FlowStore",
        "MemoryStore",
        "PostgresStore",
        "RedisStore",
        "SQLiteStore",
        "StoreStats",
        "StoredFlow",
        "open_store",
    ]


def test_importing_stores_does_not_import_redis() -> None:
    """Importing flowengine.stores (and opening a non-Redis store) does not import redis."""
    code = (
        "import sys, flowengine.stores as s; s.open_store('sqlite:///:memory:').close(); "
        "sys.exit('redis' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0
