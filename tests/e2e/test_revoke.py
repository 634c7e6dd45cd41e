"""Revocation: /oauth/revoke with client auth; a revoked refresh token is refused after."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from flowengine import Auth0Error, InvalidInputError
from flowengine._flow import Flow
from flowengine.testing import Auth0Emulator
from tests.e2e.conftest import TENANT, Driver

PHONE = "+15550100"


def authenticated(driver: Driver, emu: Auth0Emulator, phone: str = PHONE) -> Flow:
    """A flow that logged in with a refresh token (offline_access is in the default scope)."""
    flow = driver.new_flow()
    driver.start_passwordless(flow, connection="sms", phone_number=phone)
    driver.verify_otp(flow, emu.last_code(phone))
    driver.enroll(flow, "sms", phone_number=phone)
    driver.confirm_oob(flow, emu.last_code(phone, purpose="mfa"))
    assert flow.state == "authenticated"
    return flow


def test_revoke_then_refresh_is_refused(driver: Driver, emu: Auth0Emulator) -> None:
    """revoke() calls /oauth/revoke; the refresh grant then answers invalid_grant."""
    flow = authenticated(driver, emu)
    assert flow.tokens is not None
    refresh_token = flow.tokens["refresh_token"]
    assert driver.refresh(refresh_token)["access_token"]
    driver.revoke(refresh_token)
    with pytest.raises(Auth0Error) as info:
        driver.refresh(refresh_token)
    assert (info.value.status_code, info.value.error) == (403, "invalid_grant")
    revoke = [r for r in emu.requests if r.path == "/oauth/revoke"]
    assert len(revoke) == 1 and revoke[0].status == 200
    assert revoke[0].body == {
        "client_id": "app-id",
        "client_secret": "[REDACTED]",
        "token": "[REDACTED]",
    }


def test_revoke_flow_signs_out_an_authenticated_flow(driver: Driver, emu: Auth0Emulator) -> None:
    """revoke_flow() revokes the flow's refresh token; a flow without one revokes nothing."""
    flow = authenticated(driver, emu)
    assert flow.tokens is not None
    assert driver.revoke_flow(flow) is True
    with pytest.raises(Auth0Error):
        driver.refresh(flow.tokens["refresh_token"])
    assert driver.revoke_flow(driver.new_flow()) is False
    assert sum(1 for r in emu.requests if r.path == "/oauth/revoke") == 1


@pytest.mark.parametrize("deletes_grant", [False, True])
def test_the_revocation_deletes_grant_setting(
    make_driver: Callable[..., Driver], emu: Auth0Emulator, deletes_grant: bool
) -> None:
    """With the tenant setting on, a user's other refresh tokens go too; other users keep theirs."""
    emu.revocation_deletes_grant = deletes_grant
    driver = make_driver()
    first = authenticated(driver, emu)
    again = driver.new_flow()  # the same user logs in again: a second refresh token
    driver.start_passwordless(again, connection="sms", phone_number=PHONE)
    driver.verify_otp(again, emu.last_code(PHONE))
    driver.challenge(again)
    driver.confirm_oob(again, emu.last_code(PHONE, purpose="mfa"))
    other = authenticated(driver, emu, "+15550199")
    assert first.tokens is not None and again.tokens is not None and other.tokens is not None
    driver.revoke(first.tokens["refresh_token"])
    assert driver.refresh(other.tokens["refresh_token"])["access_token"]
    if deletes_grant:
        with pytest.raises(Auth0Error):
            driver.refresh(again.tokens["refresh_token"])
    else:
        assert driver.refresh(again.tokens["refresh_token"])["access_token"]


def test_revoke_checks_its_argument(driver: Driver, emu: Auth0Emulator) -> None:
    """An empty token is refused before any request."""
    with pytest.raises(InvalidInputError):
        driver.revoke("")
    assert emu.requests == []


def test_the_emulator_revoke_endpoint(emu: Auth0Emulator, driver: Driver) -> None:
    """Unknown token 200 (RFC 7009); no token 400; a foreign token 400; a bad client 401."""
    flow = authenticated(driver, emu)
    assert flow.tokens is not None
    emu.add_client("other-app", client_secret="other-secret")
    with httpx.Client(base_url=emu.base_url, transport=emu.transport()) as http:
        own = {"client_id": "app-id", "client_secret": "app-secret"}
        assert http.post("/oauth/revoke", json={**own, "token": "v1.unknown"}).status_code == 200
        assert http.post("/oauth/revoke", json=own).json()["error"] == "invalid_request"
        foreign = {"client_id": "other-app", "client_secret": "other-secret"}
        resp = http.post("/oauth/revoke", json={**foreign, "token": flow.tokens["refresh_token"]})
        assert (resp.status_code, resp.json()["error"]) == (400, "invalid_request")
        resp = http.post(
            "/oauth/revoke", json={"client_id": "app-id", "client_secret": "x", "token": "t"}
        )
        assert (resp.status_code, resp.json()["error"]) == (401, "invalid_client")
        assert http.get("/oauth/revoke").status_code == 405
    assert driver.refresh(flow.tokens["refresh_token"])["access_token"]  # still valid
    assert TENANT in emu.base_url
