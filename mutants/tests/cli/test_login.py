"""``flowengine login``: interactive logins typed through a pipe, against the emulator."""

from __future__ import annotations

import re

import pyotp

from flowengine.testing import Auth0Emulator
from tests.cli.conftest import HANDLE_PREFIX, PHONE, Cli, Interactive


def _flow_id(session: Interactive) -> str:
    found = re.search(r"flow (fl_[0-9a-f]+)", session.seen)
    assert found is not None
    return found.group(1)


def _hint_handle(session: Interactive) -> str:
    found = re.search(r"^  h=(fh1_[A-Za-z0-9_-]+)$", session.seen, flags=re.M)
    assert found is not None, session.seen
    return found.group(1)


def test_login_enrolls_sms_goes_back_and_enrolls_totp(cli: Cli, emu: Auth0Emulator) -> None:
    """Back from a pending SMS enrollment, then TOTP with a terminal QR code, authenticates."""
    session = Interactive(cli, "login")
    session.expect("or email: ")
    session.send(PHONE)
    session.expect("(r: resend, b: back): ")
    session.send(emu.last_code(PHONE))
    session.expect("Choose (b: back) [1]: ")
    session.send("1")  # sms
    session.expect(f"Phone number [{PHONE}]: ")
    session.send("")
    session.expect("Code we sent you (b: back): ")
    session.send("b")
    seen = session.expect("Choose (b: back) [1]: ")
    assert "back: enrollment_pending → mfa_required" in seen
    assert "not undone: an authenticator was associated" in seen
    session.send("4")  # authenticator app
    seen = session.expect("Code from your authenticator app (b: back): ")
    assert "Scan this QR code" in seen and "█" in seen
    secret = re.search(r"type this secret: ([A-Z2-7]+)", seen)
    recovery = re.search(r"Save your recovery code: ([A-Z0-9]+)", seen)
    assert secret is not None and recovery is not None
    cli.shown_on_purpose += [secret.group(1), recovery.group(1)]
    session.send(pyotp.TOTP(secret.group(1)).now())
    session.expect("Authenticated.")
    assert session.finish() == 0
    assert HANDLE_PREFIX not in session.seen  # a finished login shows no handle
    stored = cli.stored(_flow_id(session))
    assert stored.state == "authenticated"
    assert stored.context.get("second_factor") == "confirm_otp"


def test_login_offers_the_enrolled_factors(cli: Cli, emu: Auth0Emulator) -> None:
    """An enrolled user picks the SMS authenticator from the menu and is challenged."""
    emu.add_passwordless_user(PHONE)
    emu.enroll(PHONE, "sms", phone_number=PHONE)
    session = Interactive(cli, "login")
    session.expect("or email: ")
    session.send(PHONE)
    session.expect("(r: resend, b: back): ")
    session.send(emu.last_code(PHONE))
    seen = session.expect("Choose (b: back) [1]: ")
    menu = seen[seen.index("your enrolled authenticators") :]
    assert "recovery code" in menu
    choice = next(line.strip()[0] for line in menu.splitlines() if re.match(r"\s+\d\) sms ", line))
    session.send(choice)
    session.expect("Code we sent you (b: back): ")
    session.send(emu.last_code(PHONE, purpose="mfa"))
    session.expect("Authenticated.")
    assert session.finish() == 0


def test_ctrl_c_keeps_the_flow_resumable_with_flow_commands(cli: Cli, emu: Auth0Emulator) -> None:
    """Ctrl-C at the code prompt exits 130, prints how to resume, and ``flow verify`` does."""
    session = Interactive(cli, "login")
    session.expect("or email: ")
    session.send(PHONE)
    session.expect("(r: resend, b: back): ")
    session.interrupt()
    assert session.finish() == 130
    fid = _flow_id(session)
    handle = _hint_handle(session)
    assert 'flowengine flow verify "$h" --code CODE' in session.seen
    refused = cli.step("verify", fid, "--code", emu.last_code(PHONE), expect=2)
    assert refused["error"]["type"] == "InvalidHandleError"  # the printed flow id resumes nothing
    shown = cli.step("show", handle)
    assert (shown["flow_id"], shown["state"]) == (fid, "code_sent")
    assert cli.step("verify", handle, "--code", emu.last_code(PHONE))["state"] == "mfa_required"
