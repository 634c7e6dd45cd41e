"""CLI options of issue 14: Private Key JWT, --forwarded-for, --request-language, claims."""

from __future__ import annotations

import os
from pathlib import Path

from flowengine.testing import Auth0Emulator
from tests.cli.conftest import CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, PHONE, Cli, Interactive
from tests.keypairs import key_pair

PKJ_ID = "cli-pkj"


def key_file(tmp: Path, mode: int = 0o600) -> Path:
    """The shared RSA private key written to a file with ``mode``."""
    path = tmp / "client-key.pem"
    path.write_text(key_pair("rsa").private_pem, encoding="ascii")
    os.chmod(path, mode)
    return path


def no_key_printed(cli: Cli) -> None:
    """No line of the private key appears in anything the CLI printed."""
    text = "".join(r.stdout + r.stderr for r in cli.results)
    for secret in key_pair("rsa").secrets():
        assert secret not in text


def test_private_key_file_logs_in_and_prints_the_claims(cli: Cli, emu: Auth0Emulator) -> None:
    """--private-key PATH and --private-key-id authenticate every step; confirm prints claims."""
    emu.add_client(PKJ_ID)
    emu.add_client_key(PKJ_ID, key_pair("rsa").public_pem, key_id="cred-7")
    path = key_file(cli.tmp)
    opts = ("--client-id", PKJ_ID, "--private-key", str(path), "--private-key-id", "cred-7")
    flow = cli.start("--connection", "sms", "--phone-number", PHONE, *opts)
    assert flow.step("verify", "--code", emu.last_code(PHONE), *opts)["state"] == "mfa_required"
    flow.step("enroll", "--type", "sms", "--phone-number", PHONE, *opts)
    done = flow.step("confirm", "--code", emu.last_code(PHONE, purpose="mfa"), *opts)
    assert done["state"] == "authenticated"
    assert done["claims"]["sub"] == emu.users[PHONE].user_id
    assert done["claims"]["phone_number"] == PHONE
    assert done["claims"]["aud"] == PKJ_ID
    posts = [r for r in emu.requests if r.method == "POST"]
    assert len(posts) == 4
    assert all(r.body and r.body.get("client_assertion") == "[REDACTED]" for r in posts)
    no_key_printed(cli)


def test_the_key_may_come_from_the_environment(cli: Cli, emu: Auth0Emulator) -> None:
    """AUTH0_PRIVATE_KEY holds the PEM itself (or a path) and AUTH0_PRIVATE_KEY_ID the kid."""
    emu.add_client(PKJ_ID)
    emu.add_client_key(PKJ_ID, key_pair("rsa").public_pem, key_id="cred-7")
    cli.env.update(
        AUTH0_CLIENT_ID=PKJ_ID,
        AUTH0_PRIVATE_KEY=key_pair("rsa").private_pem,
        AUTH0_PRIVATE_KEY_ID="cred-7",
    )
    started = cli.start("--connection", "sms", "--phone-number", PHONE).started
    assert started["state"] == "code_sent"
    cli.env["AUTH0_PRIVATE_KEY"] = str(key_file(cli.tmp))
    assert cli.start("--connection", "sms", "--phone-number", PHONE).started["seq"] == 1
    no_key_printed(cli)


def test_a_key_file_others_can_read_is_refused(cli: Cli, emu: Auth0Emulator) -> None:
    """A group- or world-readable key file is a configuration error (exit 2); nothing is sent."""
    path = key_file(cli.tmp, 0o644)
    result = cli.run(
        "flow", "start", "--connection", "sms", "--phone-number", PHONE,
        "--client-id", PKJ_ID, "--private-key", str(path),
    )  # fmt: skip
    assert result.code == 2
    assert "chmod 600" in result.json["error"]["message"]
    assert emu.requests == []
    no_key_printed(cli)


def test_a_kid_without_a_key_and_a_bad_key_are_refused(cli: Cli, emu: Auth0Emulator) -> None:
    """--private-key-id alone, or a file that is no PEM key, exit 2 without a request."""
    alone = cli.run(
        "flow", "start", "--connection", "sms", "--phone-number", PHONE, "--private-key-id", "k"
    )
    bad = cli.tmp / "bad.pem"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    os.chmod(bad, 0o600)
    garbage = cli.run(
        "flow", "start", "--connection", "sms", "--phone-number", PHONE,
        "--private-key", str(bad),
    )  # fmt: skip
    assert (alone.code, garbage.code) == (2, 2)
    assert "not a PEM private key" in garbage.json["error"]["message"]
    assert "not a key" not in garbage.stdout + garbage.stderr
    assert emu.requests == []


def test_forwarded_for_and_request_language_reach_auth0(cli: Cli, emu: Auth0Emulator) -> None:
    """flow start/resend/verify --forwarded-for send the user's IP; --request-language its tag."""
    cli.env.update(AUTH0_CLIENT_ID=CONFIDENTIAL_ID, AUTH0_CLIENT_SECRET=CONFIDENTIAL_SECRET)
    ip = ("--forwarded-for", "203.0.113.9")
    flow = cli.start(
        "--connection", "sms", "--phone-number", PHONE, *ip, "--request-language", "fr"
    )
    flow.step("resend", *ip)
    flow.step("verify", "--code", emu.last_code(PHONE), *ip)
    sent = [(r.headers.get("auth0-forwarded-for"), r.headers.get("x-request-language"))
            for r in emu.requests]  # fmt: skip
    assert sent == [("203.0.113.9", "fr"), ("203.0.113.9", None), ("203.0.113.9", None)]
    assert "203.0.113.9" not in str(cli.stored(flow.flow_id).to_envelope())


def test_a_bad_forwarded_for_is_a_usage_error(cli: Cli, emu: Auth0Emulator) -> None:
    """Anything but an IP address is refused before any request (exit 2)."""
    result = cli.run(
        "flow", "start", "--connection", "sms", "--phone-number", PHONE,
        "--forwarded-for", "not-an-ip",
    )  # fmt: skip
    assert result.code == 2
    assert emu.requests == []


def test_login_forwards_the_users_ip(cli: Cli, emu: Auth0Emulator) -> None:
    """flowengine login --forwarded-for sends auth0-forwarded-for on the first-factor calls."""
    cli.env.update(AUTH0_CLIENT_ID=CONFIDENTIAL_ID, AUTH0_CLIENT_SECRET=CONFIDENTIAL_SECRET)
    session = Interactive(cli, "login", "--forwarded-for", "198.51.100.20")
    session.expect("or email: ")
    session.send(PHONE)
    session.expect("(r: resend, b: back): ")
    session.send(emu.last_code(PHONE))
    session.expect("Choose (b: back) [1]: ")
    session.close()
    sent = [r.headers.get("auth0-forwarded-for") for r in emu.requests]
    assert sent[:2] == ["198.51.100.20", "198.51.100.20"]
