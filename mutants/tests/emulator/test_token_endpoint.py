"""Tests of /oauth/token input checks, client auth, the password grants and refresh."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from flowengine.testing import Auth0Emulator

from .conftest import Api

USER = "grace@example.com"
PASSWORD = "correct horse"


@pytest.fixture
def pw_user(emu: Auth0Emulator) -> str:
    """A database user with a password."""
    emu.add_password_user(USER, PASSWORD, realm="Username-Password-Authentication")
    return USER


def _password(api: Api, password: str = PASSWORD, **extra: Any) -> httpx.Response:
    return api.token(
        grant_type="http://auth0.com/oauth/grant-type/password-realm",
        realm="Username-Password-Authentication",
        username=USER,
        password=password,
        **extra,
    )


def test_unknown_grant_is_unauthorized_client(api: Api) -> None:
    """An unknown grant answers 403 unauthorized_client naming the grant."""
    resp = api.token(grant_type="urn:example:nope")
    assert resp.status_code == 403
    body = resp.json()
    assert body["error"] == "unauthorized_client"
    assert body["error_description"] == "Grant type 'urn:example:nope' not allowed for the client."
    assert body["error_uri"] == "https://auth0.com/docs/clients/client-grant-types"


@pytest.mark.parametrize(
    ("content", "ctype"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"grant_type=password", "text/plain"),
        (b"a=1&a=2", "application/x-www-form-urlencoded"),
    ],
)
def test_bad_body_is_invalid_request(http: httpx.Client, content: bytes, ctype: str) -> None:
    """A body that is not a JSON object or a form answers 400 invalid_request."""
    resp = http.post("/oauth/token", content=content, headers={"content-type": ctype})
    assert (resp.status_code, resp.json()["error"]) == (400, "invalid_request")


def test_missing_grant_type(api: Api) -> None:
    """No grant_type answers 400 invalid_request."""
    resp = api.token()
    assert resp.json() == {
        "error": "invalid_request",
        "error_description": "Missing required parameter: grant_type",
    }


@pytest.mark.parametrize(
    ("client_id", "secret"),
    [("app-id", "wrong"), ("app-id", None), ("nobody", None), ("public-id", "a-secret")],
)
def test_client_auth_failures(api: Api, client_id: str, secret: str | None) -> None:
    """Wrong/missing secrets, unknown clients and secrets on public clients answer 401."""
    api.client_id, api.secret = client_id, secret
    resp = api.token(grant_type="refresh_token", refresh_token="x")
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_client"


def test_client_auth_basic(pw_user: str, http: httpx.Client, emu: Auth0Emulator) -> None:
    """HTTP Basic client authentication works on /oauth/token."""
    emu.mfa_policy = "never"
    basic = base64.b64encode(b"app-id:app-secret").decode()
    resp = http.post(
        "/oauth/token",
        data={"grant_type": "password", "username": USER, "password": PASSWORD},
        headers={"authorization": f"Basic {basic}"},
    )
    assert resp.status_code == 200
    bad = base64.b64encode(b"app-id:nope").decode()
    resp = http.post(
        "/oauth/token",
        data={"grant_type": "password", "username": USER, "password": PASSWORD},
        headers={"authorization": f"Basic {bad}"},
    )
    assert resp.status_code == 401


def test_client_assertion_refused(api: Api) -> None:
    """Private Key JWT is not emulated: a client_assertion answers 401 invalid_client."""
    api.secret = None
    resp = api.token(grant_type="refresh_token", refresh_token="x", client_assertion="e.y.j")
    assert resp.status_code == 401


def test_password_grant(pw_user: str, api: Api, emu: Auth0Emulator) -> None:
    """The password-realm grant answers mfa_required, or tokens with policy never."""
    assert _password(api).json()["error"] == "mfa_required"
    emu.mfa_policy = "never"
    body = _password(api, scope="openid").json()
    assert set(body) == {"access_token", "id_token", "scope", "expires_in", "token_type"}
    resp = api.token(grant_type="password", username=USER, password=PASSWORD)
    assert resp.status_code == 200


def test_wrong_password(pw_user: str, api: Api) -> None:
    """A wrong password or realm answers 403 invalid_grant Wrong email or password."""
    expected = {"error": "invalid_grant", "error_description": "Wrong email or password."}
    resp = _password(api, password="nope")
    assert (resp.status_code, resp.json()) == (403, expected)
    resp = api.token(
        grant_type="http://auth0.com/oauth/grant-type/password-realm",
        realm="Other-DB",
        username=USER,
        password=PASSWORD,
    )
    assert (resp.status_code, resp.json()) == (403, expected)


def test_brute_force_block(pw_user: str, api: Api, emu: Auth0Emulator) -> None:
    """The 10th consecutive failure blocks the user: 429 too_many_attempts, even when right."""
    for _ in range(9):
        assert _password(api, password="nope").status_code == 403
    resp = _password(api, password="nope")
    assert resp.status_code == 429
    assert resp.json() == {
        "error": "too_many_attempts",
        "error_description": "Your account has been blocked after multiple consecutive login "
        "attempts.",
    }
    assert _password(api).status_code == 429
    assert emu.users[USER].blocked


def test_success_resets_failures(pw_user: str, api: Api) -> None:
    """A successful login resets the consecutive-failure count."""
    for _ in range(9):
        _password(api, password="nope")
    assert _password(api).status_code == 403  # mfa_required: the password was right
    for _ in range(9):
        assert _password(api, password="nope").status_code == 403


def test_refresh_grant(pw_user: str, api: Api, emu: Auth0Emulator) -> None:
    """A refresh token yields new access tokens without rotating, and narrows scope."""
    emu.mfa_policy = "never"
    first = _password(api, scope="openid offline_access").json()
    refresh = first["refresh_token"]
    for _ in range(2):
        body = api.token(grant_type="refresh_token", refresh_token=refresh).json()
        assert body["refresh_token"] == refresh
        assert body["access_token"] != first["access_token"]
        assert body["scope"] == "openid offline_access"
    body = api.token(grant_type="refresh_token", refresh_token=refresh, scope="openid").json()
    assert body["scope"] == "openid" and "refresh_token" not in body
    resp = api.token(grant_type="refresh_token", refresh_token=refresh, scope="openid email")
    assert (resp.status_code, resp.json()["error"]) == (403, "invalid_scope")


def test_refresh_unknown(api: Api) -> None:
    """An unknown refresh token answers 403 invalid_grant."""
    resp = api.token(grant_type="refresh_token", refresh_token="v1.nope")
    assert resp.status_code == 403
    assert resp.json() == {
        "error": "invalid_grant",
        "error_description": "Unknown or invalid refresh token.",
    }


def test_refresh_bound_to_client(pw_user: str, api: Api, emu: Auth0Emulator) -> None:
    """A refresh token is refused for another client."""
    emu.mfa_policy = "never"
    refresh = _password(api, scope="offline_access").json()["refresh_token"]
    api.client_id, api.secret = "public-id", None
    assert api.token(grant_type="refresh_token", refresh_token=refresh).status_code == 403
