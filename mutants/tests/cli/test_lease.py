"""``--lease``/``FLOWENGINE_LEASE`` set how long a step holds its claim; ``show`` names a doubt."""

from __future__ import annotations

import pytest

from flowengine.testing import Auth0Emulator, Fault
from tests.cli.conftest import PHONE, Cli


@pytest.mark.parametrize("bad", ["0", "-5", "abc", "100000"])
def test_a_nonsense_lease_is_refused(cli: Cli, bad: str) -> None:
    """A lease that is not a positive number of seconds (at most a day) is a JSON error, exit 2."""
    result = cli.run(
        "flow", "start", "--connection", "sms", "--phone-number", PHONE, "--lease", bad
    )
    assert result.code == 2
    assert result.json["error"]["type"] == "ConfigurationError"
    env = cli.run(
        "flow",
        "start",
        "--connection",
        "sms",
        "--phone-number",
        PHONE,
        env={"FLOWENGINE_LEASE": bad},
    )
    assert env.code == 2 and env.json["error"]["type"] == "ConfigurationError"


def test_a_lease_option_is_taken(cli: Cli, emu: Auth0Emulator) -> None:
    """A valid --lease runs the step as usual (the claim is renewed before the send)."""
    flow = cli.start("--connection", "sms", "--phone-number", PHONE, "--lease", "30")
    done = flow.step("verify", "--code", emu.last_code(PHONE), "--lease", "30")
    assert done["state"] == "mfa_required"


def test_show_says_which_request_is_in_doubt(cli: Cli, emu: Auth0Emulator) -> None:
    """``show`` prints "uncertain": null normally, and the trigger after an unanswered send."""
    flow = cli.start("--connection", "sms", "--phone-number", PHONE)
    assert flow.step("show")["uncertain"] is None
    emu.add_fault(Fault("/passwordless/start", "reset"))
    flow.step("resend", expect=5)
    shown = flow.step("show")
    assert shown["uncertain"]["trigger"] == "resend_code"
    assert isinstance(shown["uncertain"]["at"], float)
