"""Tests of GET /mfa/authenticators and DELETE /mfa/authenticators/{id}."""

from __future__ import annotations

import pytest

from flowengine.testing import Auth0Emulator, FakeClock

from .conftest import EMAIL, PHONE, Api


def _mfa_access_token(api: Api, emu: Auth0Emulator) -> str:
    """Log in with the MFA audience, enroll SMS and return the MFA access token."""
    token = api.login_sms(audience=emu.mfa_audience)
    _, tokens = api.enroll_sms(mfa_token=token)
    return str(tokens["access_token"])


def test_list_shape(api: Api, emu: Auth0Emulator) -> None:
    """Items carry id/authenticator_type/active, singular oob_channel for oob, masked names."""
    emu.add_passwordless_user(PHONE)
    emu.enroll(PHONE, "sms", phone_number=PHONE)
    emu.enroll(PHONE, "email", email=EMAIL, active=False)
    emu.enroll(PHONE, "push", active=False)
    token = api.login_sms()
    items = {item["id"].split("|")[0]: item for item in api.list(token).json()}
    assert set(items) == {"sms", "voice", "email", "push", "totp", "recovery-code"}
    assert items["sms"] == {
        "id": items["sms"]["id"],
        "authenticator_type": "oob",
        "active": True,
        "oob_channel": "sms",
        "name": "XXXXXXXXX0100",
    }
    assert items["email"]["name"] == "****@exam*******"
    assert items["push"]["oob_channel"] == "auth0"
    assert set(items["totp"]) == {"id", "authenticator_type", "active"}
    assert items["recovery-code"]["authenticator_type"] == "recovery-code"
    assert all("oob_channels" not in item for item in items.values())


def test_list_type_field_option(api: Api, emu: Auth0Emulator) -> None:
    """list_type_field=True adds the newer 'type' field."""
    emu.list_type_field = True
    emu.add_passwordless_user(PHONE)
    emu.enroll(PHONE, "sms", phone_number=PHONE)
    token = api.login_sms()
    types = {item["id"].split("|")[0]: item["type"] for item in api.list(token).json()}
    assert types == {"sms": "phone", "voice": "phone", "recovery-code": "recovery-code"}


def test_list_empty_and_bad_tokens(api: Api, emu: Auth0Emulator, clock: FakeClock) -> None:
    """A new user lists []; a bad bearer answers 401 invalid_token."""
    token = api.login_sms()
    assert api.list(token).json() == []
    resp = api.list("not-a-token")
    assert (resp.status_code, resp.json()["error"]) == (401, "invalid_token")
    resp = api.http.get("/mfa/authenticators")
    assert resp.status_code == 401


def test_list_with_access_token(api: Api, emu: Auth0Emulator, clock: FakeClock) -> None:
    """An MFA access token with read:authenticators lists; expired it answers 401."""
    access = _mfa_access_token(api, emu)
    assert api.list(access).status_code == 200
    clock.advance(600)
    resp = api.list(access)
    assert (resp.status_code, resp.json()["error"]) == (401, "invalid_token")


def test_access_token_of_other_audience(api: Api, emu: Auth0Emulator) -> None:
    """An access token for another audience is not accepted by the MFA API."""
    emu.mfa_policy = "never"
    api.start_sms()
    access = api.verify_otp(audience="https://api.example.com").json()["access_token"]
    assert api.list(access).status_code == 401


def test_delete_pair_and_204(api: Api, emu: Auth0Emulator) -> None:
    """Deleting sms also deletes voice; the answer is 204 with an empty body."""
    access = _mfa_access_token(api, emu)
    sms_id = next(a.id for a in emu.authenticators_of(PHONE) if a.type == "sms")
    resp = api.delete(access, sms_id)
    assert resp.status_code == 204
    assert resp.content == b""
    assert resp.headers["content-type"].startswith("application/json")
    assert {a.type for a in emu.authenticators_of(PHONE)} == {"recovery-code"}
    resp = api.delete(access, sms_id)
    assert resp.status_code == 404


def test_delete_voice_deletes_sms(api: Api, emu: Auth0Emulator) -> None:
    """Deleting voice also deletes its sms twin."""
    access = _mfa_access_token(api, emu)
    voice_id = next(a.id for a in emu.authenticators_of(PHONE) if a.type == "voice")
    assert api.delete(access, voice_id).status_code == 204
    assert not any(a.type == "sms" for a in emu.authenticators_of(PHONE))


@pytest.mark.parametrize("which", ["push", "totp"])
def test_delete_push_and_twin(api: Api, emu: Auth0Emulator, which: str) -> None:
    """Deleting push deletes its totp twin, and the reverse."""
    access = _mfa_access_token(api, emu)
    emu.enroll(PHONE, "push")
    target = next(a.id for a in emu.authenticators_of(PHONE) if a.type == which)
    assert api.delete(access, target).status_code == 204
    assert {a.type for a in emu.authenticators_of(PHONE)} == {"sms", "voice", "recovery-code"}


def test_delete_needs_access_token(api: Api, emu: Auth0Emulator) -> None:
    """An mfa_token cannot delete (403 insufficient_scope); unknown ids answer 404."""
    token, _ = api.enroll_sms()
    sms_id = next(a.id for a in emu.authenticators_of(PHONE) if a.type == "sms")
    resp = api.delete(token, sms_id)
    assert (resp.status_code, resp.json()["error"]) == (403, "insufficient_scope")
    mfa = api.login_sms(audience=emu.mfa_audience)
    oob = api.challenge(mfa).json()["oob_code"]
    access = api.oob(mfa, oob, emu.last_code(PHONE, purpose="mfa")).json()["access_token"]
    resp = api.delete(access, "sms|dev_doesnotexist")
    assert (resp.status_code, resp.json()["error"]) == (404, "not_found")


def test_delete_needs_remove_scope(api: Api, emu: Auth0Emulator) -> None:
    """An MFA access token without remove:authenticators answers 403."""
    token = api.login_sms(audience=emu.mfa_audience, scope="read:authenticators")
    _, tokens = api.enroll_sms(mfa_token=token)
    sms_id = next(a.id for a in emu.authenticators_of(PHONE) if a.type == "sms")
    resp = api.delete(tokens["access_token"], sms_id)
    assert (resp.status_code, resp.json()["error"]) == (403, "insufficient_scope")
