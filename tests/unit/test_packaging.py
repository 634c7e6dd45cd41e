"""Packaging: optional dependencies are extras imported on use, ``python -m``, the licence."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from flowengine import ConfigurationError, open_store
from flowengine.testing import Auth0Emulator

ROOT = Path(__file__).resolve().parents[2]
OPTIONAL = ("redis", "psycopg", "segno", "pyotp", "platformdirs")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_import_flowengine_imports_no_optional_dependency() -> None:
    """``import flowengine`` loads none of redis, segno, pyotp, platformdirs."""
    proc = _python(
        "-c",
        "import flowengine, sys; print(sorted(m for m in "
        "('redis','segno','pyotp','platformdirs') if m in sys.modules))",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[]\n"


#: What ``import flowengine`` leaves to first use: PyJWT and cryptography (id_token checks,
#: Private Key JWT, the first ``Keyring``), structlog (the first enabled log event), asyncio
#: and the async client (``flowengine.AsyncFlowClient``), the stores (``open_store``).
DEFERRED = (
    "jwt",
    "cryptography",
    "structlog",
    "asyncio",
    "flowengine._async",
    "flowengine.stores",
    "sqlite3",
)


def test_import_flowengine_defers_the_heavy_modules_to_first_use() -> None:
    """``import flowengine`` builds the machine but loads none of DEFERRED until asked."""
    code = (
        "import sys, flowengine\n"
        f"print(sorted(m for m in {DEFERRED!r} if m in sys.modules))\n"
        "print('transitions' in sys.modules, flowengine._machine.MACHINE_HASH != '')\n"
        "from flowengine import AsyncFlowClient, open_store\n"
        "print(AsyncFlowClient.__module__, 'asyncio' in sys.modules, 'sqlite3' in sys.modules)\n"
    )
    proc = _python("-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["[]", "True True", "flowengine True True"]


def test_the_first_use_loads_pyjwt_and_cryptography() -> None:
    """The deferred modules are imported by the first call that needs them, which works."""
    code = (
        "import sys, flowengine\n"
        "from flowengine import _idtoken\n"
        "print('jwt' in sys.modules, 'cryptography' in sys.modules)\n"
        "try:\n"
        "    _idtoken.parse_jwks(b'{\"keys\": []}')\n"
        "except flowengine.IdTokenError as exc:\n"
        "    print(exc.reason, 'jwt' in sys.modules)\n"
        "ring = flowengine.Keyring.generate('k1')\n"
        "print(ring.open_sealed(ring.seal(b'x', b'aad'), b'aad'))\n"
    )
    proc = _python("-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["False False", "jwks_invalid True", "b'x'"]


def test_the_emulator_and_the_cli_parser_import_no_optional_dependency() -> None:
    """``flowengine.testing`` and building the CLI parser import them only when used."""
    code = (
        "import sys, flowengine.testing, flowengine.stores\n"
        "from flowengine.cli import build_parser\n"
        "build_parser()\n"
        f"print(sorted(m for m in {OPTIONAL!r} if m in sys.modules))"
    )
    proc = _python("-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[]\n"


def test_a_redis_store_without_redis_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """``open_store("redis://...")`` without redis installed is a ConfigurationError."""
    monkeypatch.setitem(sys.modules, "redis", None)  # what a missing package looks like
    with pytest.raises(ConfigurationError) as info:
        open_store("redis://:hunter2@127.0.0.1:6379/0")
    assert "flowengine[redis]" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_the_default_cli_store_without_platformdirs_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CLI's default store directory without platformdirs is a ConfigurationError."""
    from flowengine.cli._settings import data_dir

    monkeypatch.setitem(sys.modules, "platformdirs", None)
    with pytest.raises(ConfigurationError, match=r"flowengine\[cli\]"):
        data_dir()


def test_a_qr_code_without_segno_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """``flowengine login`` without segno says so instead of drawing the QR code."""
    from flowengine.cli._login import Session

    out = io.StringIO()
    args = argparse.Namespace(no_color=True)
    session = Session(None, None, args, stdin=io.StringIO(), stdout=out)  # type: ignore[arg-type]
    session.qr("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP")
    drawn = out.getvalue()
    monkeypatch.setitem(sys.modules, "segno", None)
    out.seek(0)
    out.truncate()
    session.qr("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP")
    assert len(drawn.splitlines()) > 10  # the control: with segno, a QR code
    assert "flowengine[cli]" in out.getvalue() and "JBSWY3DP" not in out.getvalue()


def test_emulator_totp_without_pyotp_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator's TOTP factor without pyotp raises an ImportError naming the extra."""
    emu = Auth0Emulator(domain="tenant.example.auth0.com")
    assert len(emu.totp_code("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", at=0)) == 6
    monkeypatch.setitem(sys.modules, "pyotp", None)
    with pytest.raises(ImportError, match=r"flowengine\[cli\]"):
        emu.totp_code("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", at=0)


def test_python_m_flowengine_runs_the_command_line() -> None:
    """``python -m flowengine`` is the ``flowengine`` command."""
    import flowengine

    proc = _python("-m", "flowengine", "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"flowengine {flowengine.__version__}\n"
    usage = _python("-m", "flowengine")
    assert usage.returncode == 2 and "COMMAND" in usage.stderr


def test_optional_dependencies_are_extras_with_bounds() -> None:
    """The core requires none of the optional packages; [test] pulls in the store extras."""
    project = PYPROJECT["project"]
    core = " ".join(project["dependencies"])
    assert not any(name in core for name in OPTIONAL)
    assert "cryptography>=44.0.1" in project["dependencies"]
    assert "transitions>=0.9.2,<0.10" in project["dependencies"]
    extras = project["optional-dependencies"]
    assert [d.split(">")[0] for d in extras["redis"]] == ["redis"]
    assert extras["postgres"] == ["psycopg[binary]>=3.2"]
    assert sorted(d.split(">")[0] for d in extras["cli"]) == ["platformdirs", "pyotp", "segno"]
    assert "flowengine[redis,cli,postgres]" in extras["test"]


def test_the_licence_is_mit_and_declared() -> None:
    """LICENSE is the MIT licence of the flowengine developers, declared for the wheel."""
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2026 flowengine developers\n")
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]


@pytest.mark.slow
def test_the_wheel_carries_the_licence_and_main(tmp_path: Path) -> None:
    """A built wheel holds LICENSE, ``flowengine/__main__.py`` and extras-only optional deps."""
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("flowengine-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (licence,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert zf.read(licence).decode() == (ROOT / "LICENSE").read_text()
        meta = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "flowengine/__main__.py" in names
    assert "License-Expression: MIT" in meta
    assert "Requires-Dist: redis>=5.0; extra == 'redis'" in meta
    assert "Requires-Dist: redis>=5.0\n" not in meta
