"""Where the CLI keeps flows and keys, what its output may contain, and its exit codes."""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from flowengine._errors import (
    Auth0Error,
    ConfigurationError,
    FlowBusyError,
    FlowClosedError,
    FlowNotFoundError,
    FlowRejectedError,
    IllegalTransitionError,
    InvalidHandleError,
    RateLimitedError,
    SnapshotInvariantError,
    SnapshotReplayError,
    SnapshotTamperedError,
    StaleHandleError,
    TenantMismatchError,
    TransportError,
)
from flowengine._flow import StepResult
from flowengine.cli._output import error_object, exit_code_for, result_object
from flowengine.cli._settings import ensure_key_file
from tests.cli.conftest import PHONE, Cli, Result


def test_default_store_creates_an_owner_only_key_file(cli: Cli) -> None:
    """With no store or key configured, flows and a 0600 key file go to the data directory."""
    del cli.env["FLOWENGINE_STORE"], cli.env["FLOWENGINE_KEYS"]
    flow = cli.start("--connection", "sms", "--phone-number", PHONE)
    data_dir = Path(cli.env["XDG_DATA_HOME"]) / "flowengine"
    keys = data_dir / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert (data_dir / "flows.db").exists()
    assert flow.step("show")["state"] == "code_sent"  # a second process reads the key

    keys.chmod(0o644)
    refused = flow.step("show", expect=2)
    assert refused["error"]["type"] == "ConfigurationError"
    assert "chmod 600" in refused["error"]["message"]


def test_a_configured_store_needs_a_configured_key(cli: Cli) -> None:
    """A store given by URL with no key configured is a ConfigurationError naming the fix."""
    del cli.env["FLOWENGINE_KEYS"]
    out = cli.step("start", "--connection", "sms", "--phone-number", PHONE, expect=2)
    assert out["error"]["type"] == "ConfigurationError"
    assert "FLOWENGINE_KEYS" in out["error"]["message"]
    key_file = cli.tmp / "my-keys"
    flow = cli.start("--connection", "sms", "--phone-number", PHONE, "--key-file", str(key_file))
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert flow.step("show", "--key-file", str(key_file))["seq"] == 1


def test_verbose_logs_go_to_stderr_and_stdout_stays_one_object(cli: Cli) -> None:
    """``-v`` writes the library's events to stderr; stdout is still exactly one JSON object."""
    result = cli.run("flow", "start", "--connection", "sms", "--phone-number", PHONE, "-v")
    assert result.code == 0
    assert result.json["state"] == "code_sent"
    assert "flow_transition" in result.stderr and "auth0_request" in result.stderr
    assert "fh1_" not in result.stderr  # the events carry a flow_ref, never the handle
    quiet = cli.run("flow", "show", result.json["handle"])
    assert quiet.stderr == ""


def test_ensure_key_file_creates_once_and_then_reads(tmp_path: Path) -> None:
    """The key file is created with mode 0600 in a 0700 directory, then read back unchanged."""
    path = tmp_path / "new" / "keys"
    first = ensure_key_file(path, create_parent=True)  # as for the default data directory
    again = ensure_key_file(path)
    assert first.to_env_value() == again.to_env_value()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["keys"]  # no temporary file left


@pytest.mark.parametrize("default_store", [False, True], ids=["configured", "default"])
def test_keys_variable_set_but_empty_is_refused(
    cli: Cli, in_process: Callable[..., Result], default_store: bool
) -> None:
    """``FLOWENGINE_KEYS=""`` (a secret that did not render) is refused, no key file made."""
    env: dict[str, str | None] = {"FLOWENGINE_KEYS": " "}
    if default_store:
        env["FLOWENGINE_STORE"] = None
    out = in_process("flow", "start", "--connection", "sms", "--phone-number", PHONE, env=env)
    assert out.code == 2
    assert out.json["error"]["type"] == "ConfigurationError"
    assert "FLOWENGINE_KEYS is set but empty" in out.json["error"]["message"]
    assert not (Path(cli.env["XDG_DATA_HOME"]) / "flowengine" / "keys").exists()


def test_key_file_variable_set_but_empty_is_refused(in_process: Callable[..., Result]) -> None:
    """``FLOWENGINE_KEY_FILE=""`` is refused the same way, not read as "no key file"."""
    env = {"FLOWENGINE_KEYS": None, "FLOWENGINE_KEY_FILE": ""}
    out = in_process("flow", "start", "--connection", "sms", "--phone-number", PHONE, env=env)
    assert out.code == 2 and "FLOWENGINE_KEY_FILE is set but empty" in out.json["error"]["message"]


def test_key_file_in_a_missing_directory_is_refused(
    cli: Cli, in_process: Callable[..., Result]
) -> None:
    """A ``--key-file`` whose directory does not exist is an error; nothing is created."""
    missing = cli.tmp / "no-such-dir" / "keys"
    out = in_process(
        "flow", "start", "--connection", "sms", "--phone-number", PHONE, "--key-file", str(missing)
    )
    assert out.code == 2
    assert out.json["error"]["type"] == "ConfigurationError"
    assert "does not exist" in out.json["error"]["message"]
    assert not missing.parent.exists()
    with pytest.raises(ConfigurationError):
        ensure_key_file(missing)
    assert not missing.parent.exists()


def test_a_created_key_file_has_a_random_key_id(tmp_path: Path) -> None:
    """The key id of a new key file is random (``k_`` and 8 hex digits), not today's date."""
    kids = {ensure_key_file(tmp_path / f"keys{i}").primary_kid for i in range(5)}
    assert len(kids) == 5 and all(re.fullmatch(r"k_[0-9a-f]{8}", kid) for kid in kids)


def test_result_object_copies_only_the_allowed_fields() -> None:
    """An mfa_token or oob_code in a step's data never reaches the printed object."""
    result = StepResult(
        "fl_1",
        "confirm_oob",
        "tokens",
        "challenge_pending",
        "authenticated",
        4,
        200,
        data={
            "tokens": {"access_token": "at", "id_token": "it", "mfa_token": "MT", "x": 1},
            "mfa_token": "MT",
            "oob_code": "OOB",
            "authenticators": [
                {
                    "id": "sms|dev_1",
                    "authenticator_type": "oob",
                    "active": True,
                    "phone_number": "+15550100",
                }
            ],
        },
    )
    obj = result_object(result)
    assert obj["tokens"] == {"access_token": "at", "id_token": "it"}
    assert obj["authenticators"] == [
        {
            "id": "sms|dev_1",
            "authenticator_type": "oob",
            "active": True,
            "oob_channel": None,
            "name": None,
        }
    ]
    assert "MT" not in str(obj) and "OOB" not in str(obj) and "+1555" not in str(obj)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (IllegalTransitionError("code_sent", "enroll"), 2),
        (FlowNotFoundError("fl_x"), 2),
        (SnapshotTamperedError("changed"), 3),
        (FlowBusyError("fl_x", 3), 3),
        (InvalidHandleError("not a flow handle"), 2),
        (TenantMismatchError("another tenant"), 2),
        (StaleHandleError("fl_x", 1, 2), 3),
        (SnapshotReplayError("older row"), 3),
        (SnapshotInvariantError("tokens missing"), 3),
        (FlowClosedError("used after its block"), 1),
        (Auth0Error("no", status_code=401, error="invalid_client"), 4),
        (RateLimitedError("slow", reset_at=1_800_000_060, status_code=429), 4),
        (TransportError("down", trigger="verify_otp", ambiguous=True), 5),
        (FlowRejectedError("rejected", status_code=400, error="access_denied"), 6),
        (KeyError("boom"), 1),
        (KeyboardInterrupt(), 130),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_exit_codes(exc: BaseException, code: int) -> None:
    """Each error family maps to its documented exit code."""
    assert exit_code_for(exc) == code


def test_error_objects_carry_context_but_not_unexpected_messages() -> None:
    """Remote errors carry Auth0's code and reset time; unexpected errors hide their text."""
    limited = error_object(
        RateLimitedError("slow", reset_at=1_800_000_060, status_code=429, error="too_many_requests")
    )
    assert limited == {
        "type": "RateLimitedError",
        "message": "slow",
        "error": "too_many_requests",
        "status_code": 429,
        "reset_at": 1_800_000_060,
    }
    hidden = error_object(RuntimeError("secret-ish detail"))
    assert hidden["type"] == "RuntimeError"
    assert "secret-ish" not in hidden["message"]
