"""The library is silent until the application enables the stdlib logger ``flowengine``.

Processes that must start with logging unconfigured run as subprocesses: this
test session enables the logger at DEBUG for everything else (``tests/conftest.py``).
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowengine import Auth0Config, FlowClient, _log
from flowengine._handle import flow_ref
from flowengine.testing import Auth0Emulator

README = Path(__file__).resolve().parents[2] / "README.md"
PHONE = "+15550100"


def _python_blocks(heading: str) -> list[str]:
    """The ```python blocks of the README section under ``## heading``."""
    text = README.read_text()
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (logging unconfigured) and capture its output."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def logger_level() -> Iterator[logging.Logger]:
    """The library's logger, its level restored after the test."""
    saved = _log.LOGGER.level
    yield _log.LOGGER
    _log.LOGGER.setLevel(saved)


def _seed(client: FlowClient, emu: Auth0Emulator) -> str:
    flow = client.new_flow()
    client.start_passwordless(flow, connection="sms", phone_number=PHONE)
    client.verify_otp(flow, emu.last_code(PHONE))
    client.enroll(flow, "sms", phone_number=PHONE)
    return client.confirm_oob(flow, emu.last_code(PHONE, purpose="mfa")).state


def _rig() -> tuple[FlowClient, Auth0Emulator]:
    emu = Auth0Emulator(domain="tenant.example.auth0.com")
    emu.add_client("app-id", client_secret="app-secret")
    config = Auth0Config("tenant.example.auth0.com", "app-id", client_secret="app-secret")
    return FlowClient(config, transport=emu.transport()), emu


@pytest.mark.parametrize("block", [0, 1], ids=["sync", "async"])
def test_readme_quickstart_prints_nothing_with_logging_unconfigured(block: int) -> None:
    """The README quickstart, in a process that configured no logging, writes no byte."""
    code = _python_blocks("Quickstart")[block]
    proc = _run(code + "\nprint('done', end='')")
    assert proc.returncode == 0, proc.stderr
    assert (proc.stdout, proc.stderr) == ("done", "")


def test_an_unconfigured_warning_event_prints_nothing() -> None:
    """A WARNING event (auth0_uncertain) does not reach Python's last-resort handler."""
    code = (
        "import logging\n"
        "from flowengine import _log\n"
        "_log.log_uncertain('fl_1', 'verify_otp', 'ReadTimeout')\n"
        "print('quiet', flush=True)\n"
        "for h in list(_log.LOGGER.handlers):\n"  # the control: without the NullHandler
        "    _log.LOGGER.removeHandler(h)\n"
        "_log.log_uncertain('fl_2', 'verify_otp', 'ReadTimeout')\n"
    )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "quiet\n"
    assert flow_ref("fl_1") not in proc.stderr
    assert "auth0_uncertain" in proc.stderr and flow_ref("fl_2") in proc.stderr
    assert "fl_2" not in proc.stderr  # the event names the flow by its flow_ref, never its id


def test_readme_logging_recipe_writes_one_json_line_per_transition() -> None:
    """The README's Logging set-up turns the four seed steps into four JSON audit lines."""
    (recipe,) = _python_blocks("Logging")
    issued = "import json\nprint(json.dumps(sorted(emu.issued_secrets())))\n"
    proc = _run(recipe + "\n" + _python_blocks("Quickstart")[0] + issued)
    assert proc.returncode == 0, proc.stderr
    secrets = json.loads(proc.stdout)  # the only stdout: the emulator's issued secrets
    assert len(secrets) > 5
    events = [json.loads(line) for line in proc.stderr.splitlines()]
    assert [e["event"] for e in events] == ["flow_transition"] * 4
    assert [e["to_state"] for e in events] == [
        "code_sent",
        "mfa_required",
        "enrollment_pending",
        "authenticated",
    ]
    assert all(e["level"] == "info" and e["timestamp"] for e in events)
    assert {"flow_ref", "trigger", "outcome", "from_state", "seq", "status_code"} <= set(events[0])
    leaked = [s for s in secrets if s in proc.stderr]
    assert not leaked, "a secret reached the audit log"


def test_an_application_structlog_configuration_is_honoured() -> None:
    """An app that configured structlog for stdlib gets its processors (here contextvars)."""
    code = (
        "import logging, structlog\n"
        "structlog.configure(processors=[structlog.contextvars.merge_contextvars,\n"
        "    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],\n"
        "    logger_factory=structlog.stdlib.LoggerFactory(),\n"
        "    wrapper_class=structlog.stdlib.BoundLogger)\n"
        "h = logging.StreamHandler()\n"
        "h.setFormatter(structlog.stdlib.ProcessorFormatter(\n"
        "    processor=structlog.processors.JSONRenderer()))\n"
        "logging.getLogger('flowengine').addHandler(h)\n"
        "logging.getLogger('flowengine').setLevel(logging.DEBUG)\n"
        "structlog.contextvars.bind_contextvars(request_id='rq-7')\n"
        + _python_blocks("Quickstart")[0]
    )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stderr.splitlines()]
    assert {e["event"] for e in events} == {"auth0_request", "auth0_response", "flow_transition"}
    assert all(e["request_id"] == "rq-7" for e in events)


def test_a_handler_at_info_receives_the_flow_transitions(logger_level: logging.Logger) -> None:
    """With a handler on ``flowengine`` at INFO, each step's flow_transition arrives, no DEBUG."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logger_level.addHandler(handler)
    logger_level.setLevel(logging.INFO)
    try:
        client, emu = _rig()
        with client:
            assert _seed(client, emu) == "authenticated"
    finally:
        logger_level.removeHandler(handler)
    assert [r.levelno for r in records] == [logging.INFO] * 4
    assert all(r.name == "flowengine" and "flow_transition" in r.getMessage() for r in records)


def test_disabled_events_run_no_structlog_code(
    logger_level: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below the logger's level no event is built: structlog is never reached."""
    calls: list[str] = []
    real = _log._bound

    def counting() -> object:
        calls.append("built")
        return real()

    monkeypatch.setattr(_log, "_bound", counting)
    logger_level.setLevel(logging.WARNING)
    client, emu = _rig()
    with client:
        assert _seed(client, emu) == "authenticated"
    assert calls == []
    logger_level.setLevel(logging.INFO)  # the control: the same seed, INFO enabled
    client, emu = _rig()
    with client:
        assert _seed(client, emu) == "authenticated"
    assert calls == ["built"] * 4
