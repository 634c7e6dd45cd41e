"""Shared fixtures and a small API helper for the emulator tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from flowengine.testing import Auth0Emulator, FakeClock
from flowengine.testing._emulator import (
    GRANT_MFA_OOB,
    GRANT_MFA_OTP,
    GRANT_MFA_RECOVERY_CODE,
    GRANT_PASSWORDLESS_OTP,
)
from flowengine.testing.pytest_plugin import (  # noqa: F401 - fixtures re-exported for the tests
    auth0_clock,
    auth0_emulator,
    auth0_server,
)

PHONE = "+15555550100"
EMAIL = "ada@example.com"


class Api:
    """Thin helpers over an httpx client talking to the emulator (confidential client)."""

    def __init__(
        self,
        emu: Auth0Emulator,
        http: httpx.Client,
        client_id: str = "app-id",
        secret: str | None = "app-secret",
    ) -> None:
        self.emu = emu
        self.http = http
        self.client_id = client_id
        self.secret = secret

    def creds(self) -> dict[str, str]:
        out = {"client_id": self.client_id}
        if self.secret is not None:
            out["client_secret"] = self.secret
        return out

    def start(self, **fields: Any) -> httpx.Response:
        return self.http.post("/passwordless/start", json={**self.creds(), **fields})

    def start_sms(self, phone: str = PHONE, **extra: Any) -> httpx.Response:
        return self.start(connection="sms", phone_number=phone, **extra)

    def start_email(self, email: str = EMAIL, **extra: Any) -> httpx.Response:
        return self.start(connection="email", email=email, **extra)

    def token(self, *, as_json: bool = False, **fields: Any) -> httpx.Response:
        body = {**self.creds(), **fields}
        if as_json:
            return self.http.post("/oauth/token", json=body)
        return self.http.post("/oauth/token", data=body)

    def verify_otp(
        self, username: str = PHONE, otp: str | None = None, realm: str = "sms", **extra: Any
    ) -> httpx.Response:
        code = otp if otp is not None else self.emu.last_code(username)
        return self.token(
            grant_type=GRANT_PASSWORDLESS_OTP, realm=realm, username=username, otp=code, **extra
        )

    def login_sms(self, phone: str = PHONE, **extra: Any) -> str:
        """Run passwordless SMS to the mfa_required answer and return the mfa_token."""
        assert self.start_sms(phone).status_code == 200
        resp = self.verify_otp(phone, **extra)
        assert resp.status_code == 403, resp.text
        assert resp.json()["error"] == "mfa_required"
        return str(resp.json()["mfa_token"])

    def associate(self, bearer: str, with_creds: bool = True, **body: Any) -> httpx.Response:
        payload = {**(self.creds() if with_creds else {}), **body}
        return self.http.post(
            "/mfa/associate", json=payload, headers={"authorization": f"Bearer {bearer}"}
        )

    def challenge(self, mfa_token: str, *, as_form: bool = False, **body: Any) -> httpx.Response:
        payload = {**self.creds(), "mfa_token": mfa_token, **body}
        if as_form:
            return self.http.post("/mfa/challenge", data=payload)
        return self.http.post("/mfa/challenge", json=payload)

    def oob(self, mfa_token: str, oob_code: str, binding_code: str | None = None) -> httpx.Response:
        fields: dict[str, Any] = {
            "grant_type": GRANT_MFA_OOB,
            "mfa_token": mfa_token,
            "oob_code": oob_code,
        }
        if binding_code is not None:
            fields["binding_code"] = binding_code
        return self.token(**fields)

    def otp(self, mfa_token: str, otp: str) -> httpx.Response:
        return self.token(grant_type=GRANT_MFA_OTP, mfa_token=mfa_token, otp=otp)

    def recovery(self, mfa_token: str, code: str) -> httpx.Response:
        return self.token(
            grant_type=GRANT_MFA_RECOVERY_CODE, mfa_token=mfa_token, recovery_code=code
        )

    def list(self, bearer: str) -> httpx.Response:
        return self.http.get("/mfa/authenticators", headers={"authorization": f"Bearer {bearer}"})

    def delete(self, bearer: str, authenticator_id: str) -> httpx.Response:
        quoted = authenticator_id.replace("|", "%7C")
        return self.http.delete(
            f"/mfa/authenticators/{quoted}", headers={"authorization": f"Bearer {bearer}"}
        )

    def enroll_sms(
        self, phone: str = PHONE, mfa_token: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Log in, enroll + confirm SMS; return (mfa_token, the confirming token response)."""
        token = mfa_token or self.login_sms(phone)
        resp = self.associate(
            token, authenticator_types=["oob"], oob_channels=["sms"], phone_number=phone
        )
        assert resp.status_code == 200, resp.text
        code = self.emu.last_code(phone, purpose="mfa")
        done = self.oob(token, resp.json()["oob_code"], code)
        assert done.status_code == 200, done.text
        return token, done.json()


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> FakeClock:
    """The fake clock behind ``auth0_emulator`` (the plugin's ``auth0_clock``)."""
    value: FakeClock = request.getfixturevalue("auth0_clock")
    return value


@pytest.fixture
def emu(request: pytest.FixtureRequest) -> Auth0Emulator:
    """The plugin's ``auth0_emulator``: 'app-id' (confidential) and 'public-id' (public)."""
    value: Auth0Emulator = request.getfixturevalue("auth0_emulator")
    return value


@pytest.fixture
def http(emu: Auth0Emulator) -> Iterator[httpx.Client]:
    """An httpx client wired to the emulator in-process."""
    with httpx.Client(base_url=emu.base_url, transport=emu.transport()) as client:
        yield client


@pytest.fixture
def api(emu: Auth0Emulator, http: httpx.Client) -> Api:
    """The API helper for the confidential client."""
    return Api(emu, http)


@pytest.fixture
def public_api(emu: Auth0Emulator, http: httpx.Client) -> Api:
    """The API helper for the public client (client_id only)."""
    return Api(emu, http, client_id="public-id", secret=None)
