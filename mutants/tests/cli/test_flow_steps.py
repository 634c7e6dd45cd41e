"""``flowengine flow``: whole logins driven one process per step against the emulator."""

from __future__ import annotations

import pyotp

from flowengine.testing import Auth0Emulator
from tests.cli.conftest import (
    CONFIDENTIAL_ID,
    CONFIDENTIAL_SECRET,
    EMAIL,
    HANDLE_PREFIX,
    PHONE,
    Cli,
)

TOKEN_FIELDS = {"access_token", "id_token", "refresh_token", "expires_in", "token_type"}


def test_seed_sequence_one_process_per_step(cli: Cli, emu: Auth0Emulator) -> None:
    """Passwordless SMS, verify, list, enroll SMS and confirm each run in their own process."""
    flow = cli.start("--connection", "sms", "--phone-number", PHONE)
    started = flow.started
    assert (started["state"], started["seq"]) == ("code_sent", 1)
    assert list(started)[:3] == ["flow_id", "state", "handle"]

    verified = flow.step("verify", "--code", emu.last_code(PHONE))
    assert verified["state"] == "mfa_required"

    listed = flow.step("authenticators")
    assert (listed["state"], listed["authenticators"]) == ("mfa_required", [])

    enrolled = flow.step("enroll", "--type", "sms", "--phone-number", PHONE)
    assert enrolled["state"] == "enrollment_pending"
    assert len(enrolled["recovery_codes"]) == 1
    pending = flow.step("show")  # holds an mfa_token and an oob_code: neither is shown
    assert pending["context"]["has_mfa_token"] is True
    assert pending["next"] == ["confirm_oob", "confirm_otp", "poll_push", "cancel"]
    assert (pending["handle"], pending["handle_current"]) == (flow.handle, True)

    done = flow.step("confirm", "--code", emu.last_code(PHONE, purpose="mfa"))
    assert done["state"] == "authenticated"
    assert set(done["tokens"]) >= TOKEN_FIELDS
    assert done["handle"].startswith(HANDLE_PREFIX)
    # Every step printed a new handle; the four spent ones were all different.
    assert len({*flow.spent, flow.handle}) == 5

    shown = flow.step("show")
    assert shown["path"] == [
        "started",
        "code_sent",
        "mfa_required",
        "enrollment_pending",
        "authenticated",
    ]
    # Tokens are delivered by the confirming step, never kept in the store.
    assert shown["context"]["has_tokens"] is False
    assert shown["context"]["tokens_delivered"] is True
    assert "tokens" not in shown and done["tokens"]["access_token"] not in str(shown)


def test_email_login_with_a_confidential_client(cli: Cli, emu: Auth0Emulator) -> None:
    """A confidential client's secret comes from the environment and is never printed."""
    env = {"AUTH0_CLIENT_ID": CONFIDENTIAL_ID, "AUTH0_CLIENT_SECRET": CONFIDENTIAL_SECRET}
    cli.env.update(env)
    flow = cli.start("--connection", "email", "--email", EMAIL)
    assert flow.step("verify", "--code", emu.last_code(EMAIL))["state"] == "mfa_required"
    enrolled = flow.step("enroll", "--type", "email")
    assert enrolled["state"] == "enrollment_pending"
    done = flow.step("confirm", "--code", emu.last_code(EMAIL, purpose="mfa"))
    assert done["state"] == "authenticated"
    assert all(CONFIDENTIAL_SECRET not in r.stdout + r.stderr for r in cli.results)


def test_totp_enrollment_prints_the_secret_and_confirms_with_pyotp(
    cli: Cli, emu: Auth0Emulator
) -> None:
    """Enrolling otp prints secret and barcode_uri; a pyotp code from the secret confirms."""
    flow = cli.start("--connection", "email", "--email", EMAIL)
    flow.step("verify", "--code", emu.last_code(EMAIL))
    enrolled = flow.step("enroll", "--type", "otp")
    assert enrolled["barcode_uri"].startswith("otpauth://totp/")
    assert enrolled["secret"] in enrolled["barcode_uri"]
    done = flow.step("confirm", "--otp", pyotp.TOTP(enrolled["secret"]).now())
    assert done["state"] == "authenticated"


def test_challenge_of_an_enrolled_user(cli: Cli, emu: Auth0Emulator) -> None:
    """An enrolled user's SMS authenticator is listed, challenged and confirmed."""
    emu.add_passwordless_user(PHONE)
    sms = emu.enroll(PHONE, "sms", phone_number=PHONE)
    flow = cli.start("--connection", "sms", "--phone-number", PHONE)
    flow.step("verify", "--code", emu.last_code(PHONE))
    listed = flow.step("authenticators")["authenticators"]
    assert {"id": sms.id, "authenticator_type": "oob", "active": True}.items() <= next(
        a for a in listed if a["id"] == sms.id
    ).items()
    assert all(
        set(a) == {"id", "authenticator_type", "active", "oob_channel", "name"} for a in listed
    )
    challenged = flow.step("challenge", "--authenticator-id", sms.id)
    assert challenged["state"] == "challenge_pending"
    done = flow.step("confirm", "--code", emu.last_code(PHONE, purpose="mfa"))
    assert done["state"] == "authenticated"


def test_recovery_code_login_prints_the_new_recovery_code(cli: Cli, emu: Auth0Emulator) -> None:
    """A second login confirmed with the recovery code prints its replacement."""
    emu.add_passwordless_user(PHONE)
    emu.enroll(PHONE, "sms", phone_number=PHONE)
    old = emu.recovery_code_of(PHONE)
    assert old is not None
    flow = cli.start("--connection", "sms", "--phone-number", PHONE)
    flow.step("verify", "--code", emu.last_code(PHONE))
    done = flow.step("confirm", "--recovery-code", "-", input=old + "\n")
    assert done["state"] == "authenticated"
    assert done["recovery_code"] == emu.recovery_code_of(PHONE) != old
    cli.shown_on_purpose.append(old)  # the test typed it; it was never printed


def test_password_realm_reads_the_password_from_stdin(cli: Cli, emu: Auth0Emulator) -> None:
    """``--password-stdin`` logs in; a wrong password is counted and exits 4."""
    emu.add_password_user("ada", "correct horse battery")
    realm = ("--password-realm", "Username-Password-Authentication", "--username", "ada")
    ok = cli.step("start", *realm, "--password-stdin", input="correct horse battery\n")
    assert (ok["state"], ok["trigger"]) == ("mfa_required", "login_password")

    bad = cli.step("start", *realm, "--password-stdin", input="wrong\n", expect=4)
    assert bad["state"] == "started"
    assert bad["error"]["type"] == "WrongCredentialsError"
    assert bad["handle"].startswith(HANDLE_PREFIX)  # the counted attempt was saved

    missing = cli.step("start", *realm, expect=2)
    assert missing["error"]["type"] == "InvalidInputError"
    assert missing["flow_id"] is None and "handle" not in missing


def test_rollback_resend_and_not_undone(cli: Cli, emu: Auth0Emulator) -> None:
    """Rollback reports what Auth0 keeps; back to code_sent, a resend sends a new code."""
    flow = cli.start("--connection", "sms", "--phone-number", PHONE)
    flow.step("verify", "--code", emu.last_code(PHONE))
    flow.step("enroll", "--type", "sms", "--phone-number", PHONE)

    back = flow.step("rollback")
    assert (back["from_state"], back["state"]) == ("enrollment_pending", "mfa_required")
    assert [n["trigger"] for n in back["not_undone"]] == ["enroll"]

    back = flow.step("rollback", "--to", "code_sent")
    assert back["state"] == "code_sent"
    before = flow.handle
    refused = flow.step("verify", "--code", emu.last_code(PHONE), expect=2)
    assert "handle" not in refused and flow.handle == before  # nothing saved: it still resumes
    assert refused["error"] | {"message": ""} == {
        "type": "GuardRejectedError",
        "message": "",
        "trigger": "verify_otp",
        "guard": "code_attempts_left",
    }

    resent = flow.step("resend")
    assert resent["state"] == "code_sent"
    fresh = emu.last_code(PHONE, purpose="passwordless")
    assert len([m for m in emu.outbox if m.purpose == "passwordless"]) == 2
    assert flow.step("verify", "--code", fresh)["state"] == "mfa_required"


def test_cancel_ends_the_flow(cli: Cli) -> None:
    """A cancelled flow refuses every further step."""
    flow = cli.start("--connection", "sms", "--phone-number", PHONE)
    assert flow.step("cancel")["state"] == "cancelled"
    refused = flow.step("resend", expect=2)
    assert (refused["state"], refused["error"]["type"]) == ("cancelled", "IllegalTransitionError")
    shown = flow.step("show")
    assert (shown["state"], shown["final"], shown["next"]) == ("cancelled", True, [])
