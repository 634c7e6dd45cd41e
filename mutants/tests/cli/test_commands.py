"""``flowengine`` itself: --version, --help everywhere, demo, emulator, diagram and review."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import flowengine
from flowengine.cli import build_parser, main
from flowengine.cli._emulator_cmd import PUBLIC_CLIENT_ID
from tests.cli.conftest import PHONE, Cli, Result, free_environment

SUBCOMMANDS = [
    ("demo",),
    ("flow",),
    ("login",),
    ("emulator",),
    ("diagram",),
    ("review",),
    *[
        ("flow", step)
        for step in (
            "start",
            "resend",
            "verify",
            "authenticators",
            "enroll",
            "challenge",
            "confirm",
            "poll",
            "rollback",
            "show",
            "cancel",
        )
    ],
]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """``--version`` prints ``flowengine <version>``."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"flowengine {flowengine.__version__}"


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=" ".join)
def test_help_of_every_command_has_examples(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    """Every command's ``--help`` exits 0 and shows examples."""
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert f"usage: flowengine {' '.join(command)}" in text
    assert "example" in text


def test_flow_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    """``flow --help`` lists every exit code and the configuration variables."""
    with pytest.raises(SystemExit):
        main(["flow", "--help"])
    text = capsys.readouterr().out
    for needle in ("exit codes:", "  3 ", "  6 ", "AUTH0_DOMAIN", "FLOWENGINE_KEYS"):
        assert needle in text


def test_parser_lists_every_command() -> None:
    """The top-level parser offers exactly the seven commands."""
    parser = build_parser()
    choices = next(a for a in parser._actions if a.dest == "command").choices
    assert choices is not None
    assert set(choices) == {"demo", "flow", "login", "emulator", "diagram", "review", "store"}


def test_demo_runs_green(tmp_path: Path) -> None:
    """``flowengine demo`` exits 0, resumes every step from SQLite and ends authenticated."""
    diagram = tmp_path / "path.mmd"
    proc = subprocess.run(
        [sys.executable, "-m", "flowengine.cli", "demo", "--diagram", str(diagram)],
        capture_output=True,
        text=True,
        env=free_environment(tmp_path),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "final state: authenticated" in out
    assert "resumed flow fl_" in out and "from sqlite:///" in out
    assert "enrollment_pending → mfa_required" in out  # the rollback
    assert "could not be undone" in out
    assert "IllegalTransitionError" in out
    assert "403 mfa_required" in out and "400 authorization_pending" in out
    assert "stateDiagram-v2" in out
    assert "\x1b[" not in out  # not a terminal: no colour
    assert "fh1_" not in out + diagram.read_text()  # resumed by handle, never printed
    assert diagram.read_text().startswith("stateDiagram-v2")
    assert proc.stderr == ""


def test_emulator_command_serves_prints_codes_and_stops_on_sigterm(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    """``flowengine emulator --port 0`` prints its URL, serves a step, prints the code, stops."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowengine.cli", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("flowengine emulator listening on http://127.0.0.1:")
        url = first.split()[-1]
        env = dict(cli_env, AUTH0_DOMAIN=url, AUTH0_CLIENT_ID=PUBLIC_CLIENT_ID)
        start = ("flow", "start", "--connection", "sms", "--phone-number", PHONE)
        step = subprocess.run(
            [sys.executable, "-m", "flowengine.cli", *start],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
        assert step.returncode == 0, step.stdout + step.stderr
        assert json.loads(step.stdout)["state"] == "code_sent"
        deadline = time.monotonic() + 10
        line = ""
        while f"sms to {PHONE} (passwordless): code " not in line:
            assert time.monotonic() < deadline
            line = proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "flowengine emulator stopped" in rest
    assert "Traceback" not in err


def test_emulator_refuses_a_public_host(capsys: pytest.CaptureFixture[str]) -> None:
    """``--host 0.0.0.0`` is refused: the emulator only listens on loopback."""
    assert main(["emulator", "--host", "0.0.0.0"]) == 2
    assert "loopback" in capsys.readouterr().err


def test_diagram_and_review_commands(cli: Cli, in_process: Callable[..., Result]) -> None:
    """``diagram`` prints Mermaid (one flow's path with --flow); ``review`` passes."""
    mermaid = in_process("diagram")
    assert mermaid.code == 0 and mermaid.stdout.startswith("stateDiagram-v2")
    review = in_process("review")
    assert review.code == 0 and "authenticated" in review.stdout

    plain = in_process("diagram", "--format", "dot").stdout
    fid = cli.step("start", "--connection", "sms", "--phone-number", PHONE)["flow_id"]
    result = cli.run("diagram", "--flow", fid, "--format", "dot")  # a process of its own
    assert result.code == 0
    assert "digraph" in result.stdout and result.stdout != plain
    missing = in_process("diagram", "--flow", "fl_missing")
    assert missing.code == 2 and "FlowNotFoundError" in missing.stderr


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """An environment with a private home and an explicit store and key file."""
    env = free_environment(tmp_path)
    env["FLOWENGINE_STORE"] = f"sqlite://{tmp_path / 'flows.db'}"
    env["FLOWENGINE_KEY_FILE"] = str(tmp_path / "keys")
    assert "AUTH0_DOMAIN" not in env and os.environ.get("HOME") != env["HOME"]
    return env
