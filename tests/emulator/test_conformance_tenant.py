"""Conformance of the real-tenant paths: the emulator answers as the SDKs' recordings show.

Each case drives the emulator into one answer and compares it with the project's fixture
in ``tests/fixtures/auth0_tenant/`` (written from the official SDKs' recorded test data and
Auth0's docs; ``source`` in each file says which): the same status and shape, and the
recorded detail that matters (the Guardian ``base_url``, whether ``scope`` is echoed, the
sms/voice pair's shared id, the error texts).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from flowengine.testing import Auth0Emulator

from .conftest import PHONE, Api
from .test_conformance import differences, shape

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "auth0_tenant"

Result = tuple[int, Any]


def _r(resp: httpx.Response) -> Result:
    return resp.status_code, (resp.json() if resp.content else None)


def fixture(name: str) -> tuple[int, Any]:
    doc = json.loads((FIXTURES / f"{name}.json").read_text())
    return int(doc["status"]), doc["body"]


def d_push_guardian(emu: Auth0Emulator, api: Api) -> Result:
    token = api.login_sms()
    return _r(api.associate(token, authenticator_types=["oob"], oob_channels=["auth0"]))


def d_passwordless_scope_as_asked(emu: Auth0Emulator, api: Api) -> Result:
    emu.mfa_policy = "never"
    emu.add_api("https://api.example.com")
    api.start_sms()
    scope = "openid offline_access"
    resp = api.verify_otp(scope=scope, audience="https://api.example.com")
    status, body = _r(resp)
    return status, {k: v for k, v in body.items() if k != "id_token"}


def d_refresh_scope_echo(emu: Auth0Emulator, api: Api) -> Result:
    emu.mfa_policy = "never"
    api.start_sms()
    first = api.verify_otp(scope="openid offline_access").json()
    body = api.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    status, doc = _r(body)
    return status, {k: v for k, v in doc.items() if k != "id_token"}


def d_mfa_otp_scope_echo(emu: Auth0Emulator, api: Api) -> Result:
    emu.add_passwordless_user(PHONE)
    info = emu.enroll(PHONE, "otp")
    assert info.secret is not None
    token = api.login_sms(scope="openid profile")
    status, doc = _r(api.otp(token, emu.totp_code(info.secret)))
    return status, {k: v for k, v in doc.items() if k != "id_token"}


def d_sms_voice_pair(emu: Auth0Emulator, api: Api) -> Result:
    emu.list_type_field = True
    api.enroll_sms()  # associate sms with the mfa_token, confirm it
    return _r(api.list(api.login_sms()))


def d_already_enrolled(emu: Auth0Emulator, api: Api) -> Result:
    emu.add_passwordless_user(PHONE)
    emu.enroll(PHONE, "sms", phone_number=PHONE)
    token = api.login_sms()
    return _r(api.associate(token, authenticator_types=["otp"]))


def d_unknown_audience(emu: Auth0Emulator, api: Api) -> Result:
    api.start_sms()
    return _r(api.verify_otp(audience="https://no-such-api.example.com/"))


def d_mfa_required_requirements(emu: Auth0Emulator, api: Api) -> Result:
    emu.mfa_requirements = True
    emu.add_passwordless_user(PHONE)
    emu.enroll(PHONE, "sms", phone_number=PHONE)
    api.start_sms()
    return _r(api.verify_otp())


def d_mfa_audience_unenrolled(emu: Auth0Emulator, api: Api) -> Result:
    emu.mfa_policy = "never"
    api.start_sms()
    return _r(api.verify_otp(audience=emu.mfa_audience))


def d_no_offline_access_api(emu: Auth0Emulator, api: Api) -> Result:
    emu.mfa_policy = "never"
    emu.add_api("https://api.example.com/", allow_offline_access=False)
    api.start_sms()
    return _r(api.verify_otp(scope="offline_access", audience="https://api.example.com/"))


CASES: dict[str, Callable[[Auth0Emulator, Api], Result]] = {
    "associate_push_guardian_200": d_push_guardian,
    "token_passwordless_scope_as_asked_200": d_passwordless_scope_as_asked,
    "token_refresh_scope_echo_200": d_refresh_scope_echo,
    "token_mfa_otp_scope_echo_200": d_mfa_otp_scope_echo,
    "authenticators_sms_voice_pair_200": d_sms_voice_pair,
    "associate_already_enrolled_403": d_already_enrolled,
    "token_unknown_audience_403": d_unknown_audience,
    "token_mfa_required_requirements_403": d_mfa_required_requirements,
    "token_mfa_audience_unenrolled_200": d_mfa_audience_unenrolled,
    "token_no_offline_access_api_200": d_no_offline_access_api,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_case_matches_its_fixture(case: str, emu: Auth0Emulator, api: Api) -> None:
    """The emulator's answer has the fixture's status and shape (no key more, none less)."""
    status, body = fixture(case)
    got_status, got_body = CASES[case](emu, api)
    assert got_status == status, f"{case}: {got_status} {got_body}"
    diffs = differences(shape(body), shape(got_body), frozenset())
    assert not diffs, f"{case}: " + "; ".join(diffs)


def test_every_fixture_has_a_case() -> None:
    """Each fixture file is driven by one case."""
    assert {p.stem for p in FIXTURES.glob("*.json")} == set(CASES)


def test_guardian_base_url_is_the_recorded_form(emu: Auth0Emulator, api: Api) -> None:
    """base_url is https://<tenant domain>.guardian.<region>.auth0.com, as recorded."""
    _, body = d_push_guardian(emu, api)
    query = parse_qs(urlsplit(body["barcode_uri"]).query)
    _, recorded = fixture("associate_push_guardian_200")
    want = parse_qs(urlsplit(recorded["barcode_uri"]).query)["base_url"][0]
    assert query["base_url"] == [want.replace("tenant.example.auth0.com", emu.domain)]
    assert re.fullmatch(r"https://[^/]+\.guardian\.[a-z]{2}\.auth0\.com", query["base_url"][0])


def test_sms_voice_pair_shares_one_id(emu: Auth0Emulator, api: Api) -> None:
    """Enrolling SMS lists sms|dev_X and voice|dev_X with one id, both of type phone."""
    _, items = d_sms_voice_pair(emu, api)
    phones = {i["id"].split("|")[0]: i for i in items if i.get("type") == "phone"}
    assert set(phones) == {"sms", "voice"}
    assert phones["sms"]["id"].split("|")[1] == phones["voice"]["id"].split("|")[1]


@pytest.mark.parametrize("case", ["associate_already_enrolled_403", "token_unknown_audience_403"])
def test_error_texts_are_the_documented_ones(case: str, emu: Auth0Emulator, api: Api) -> None:
    """The already-enrolled and unknown-audience answers carry the documented texts."""
    _, want = fixture(case)
    assert CASES[case](emu, api)[1] == want


def test_only_the_host_named_mfa_audience_is_an_alias_of_the_mfa_api() -> None:
    """Over loopback the MFA API may be named by the request's host; any other host is refused."""
    import httpx

    from flowengine.testing import Auth0Emulator

    emu = Auth0Emulator(domain="tenant.example.auth0.com")
    emu.add_client("app-id", client_secret="app-secret")
    with emu.serve() as server, httpx.Client(base_url=server.base_url) as http:
        host = httpx.URL(server.base_url).netloc.decode()
        for audience, status in ((f"https://{host}/mfa/", 403), ("https://evil.example/mfa/", 403)):
            r = http.post(
                "/oauth/token",
                json={
                    "grant_type": "http://auth0.com/oauth/grant-type/passwordless/otp",
                    "client_id": "app-id",
                    "client_secret": "app-secret",
                    "username": "+15550100",
                    "otp": "000000",
                    "realm": "sms",
                    "audience": audience,
                },
            )
            assert r.status_code == status
            if audience.startswith("https://evil"):
                assert r.json()["error_description"] == f"Service not found: {audience}"
            else:
                assert r.json()["error"] != "access_denied"  # the code is wrong, the API exists
