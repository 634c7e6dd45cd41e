"""Conformance: the emulator's answers have the fixtures' status, field names and JSON types.

The project's own fixtures (``tests/fixtures/auth0/<case>.json``, written from the
facts in auth0-api.md, each ``{"status": ..., "body": ...}``) are always checked.
When the shared recordings folder exists beside the repository, every response
fixture in it is checked too (request bodies are skipped; the status comes from
the file name, or INDEX.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from flowengine.testing import Auth0Emulator, FakeClock, PushScript

from .conftest import EMAIL, PHONE, Api

REPO = Path(__file__).resolve().parents[2]
PROJECT_FIXTURES = REPO / "tests" / "fixtures" / "auth0"
SHARED_FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "auth0-fixtures"
PASSWORD_USER = "grace@example.com"


@attrs.frozen
class Env:
    """A fresh tenant per case."""

    emu: Auth0Emulator
    clock: FakeClock
    api: Api


Result = tuple[int, Any]
Driver = Callable[[Env], Result]


def _r(resp: httpx.Response) -> Result:
    return resp.status_code, (resp.json() if resp.content else None)


def _mfa_code(env: Env, to: str = PHONE) -> str:
    return env.emu.last_code(to, purpose="mfa")


def _enrolled_sms(env: Env) -> None:
    env.emu.add_passwordless_user(PHONE)
    env.emu.enroll(PHONE, "sms", phone_number=PHONE)


def _push_user(env: Env, script: PushScript) -> tuple[str, str]:
    env.emu.add_passwordless_user(PHONE)
    env.emu.enroll(PHONE, "push")
    env.emu.push_script = script
    token = env.api.login_sms(scope="profile")
    return str(env.api.challenge(token).json()["oob_code"]), token


def _password(env: Env, password: str = "correct horse", **extra: Any) -> httpx.Response:
    env.emu.add_password_user(PASSWORD_USER, "correct horse")
    return env.api.token(grant_type="password", username=PASSWORD_USER, password=password, **extra)


def _mfa_access(env: Env) -> str:
    token = env.api.login_sms(audience=env.emu.mfa_audience)
    _, tokens = env.api.enroll_sms(mfa_token=token)
    return str(tokens["access_token"])


def _never(env: Env) -> Env:
    env.emu.mfa_policy = "never"
    return env


# --------------------------------------------------------------------------- drivers


def d_start_sms(env: Env) -> Result:
    return _r(env.api.start_sms())


def d_start_email(env: Env) -> Result:
    return _r(env.api.start_email(send="code"))


def d_start_bad_phone(env: Env) -> Result:
    return _r(env.api.start_sms("555-0100"))


def d_start_bad_connection(env: Env) -> Result:
    return _r(env.api.start(connection="fax", phone_number=PHONE))


def d_start_bad_request(env: Env) -> Result:
    return _r(env.api.start_sms(foo="bar"))


def d_start_429(env: Env) -> Result:
    env.emu.rate_limit("/passwordless/start", 1, 3600)
    env.api.start_sms()
    return _r(env.api.start_sms())


def d_token_passwordless_sms(env: Env) -> Result:
    _never(env).api.start_sms()
    return _r(env.api.verify_otp(scope="openid offline_access"))


def d_token_passwordless_email(env: Env) -> Result:
    _never(env).api.start_email(send="code")
    return _r(
        env.api.verify_otp(
            EMAIL, realm="email", scope="offline_access", audience="https://api.example.com"
        )
    )


def d_token_wrong_sms(env: Env) -> Result:
    env.api.start_sms()
    return _r(env.api.verify_otp(otp="not-it"))


def d_token_wrong_email(env: Env) -> Result:
    env.api.start_email(send="code")
    return _r(env.api.verify_otp(EMAIL, otp="not-it", realm="email"))


def d_token_passwordless_unauthorized(env: Env) -> Result:
    env.emu.add_client("no-otp", client_secret=None, grant_types=["password"])
    env.api.start_sms()
    env.api.client_id, env.api.secret = "no-otp", None
    return _r(env.api.verify_otp())


def d_token_unknown_grant(env: Env) -> Result:
    return _r(env.api.token(grant_type="urn:example:grant"))


def d_token_invalid_client(env: Env) -> Result:
    env.api.secret = "wrong"
    return _r(env.api.token(grant_type="password"))


def d_token_invalid_request(env: Env) -> Result:
    return _r(env.api.token())


def d_token_mfa_required(env: Env) -> Result:
    env.api.start_sms()
    return _r(env.api.verify_otp())


def d_token_mfa_required_requirements(env: Env) -> Result:
    env.emu.mfa_requirements = True
    _enrolled_sms(env)
    env.api.start_sms()
    return _r(env.api.verify_otp())


def d_token_password(env: Env) -> Result:
    _never(env)
    return _r(_password(env, scope="profile email"))


def d_token_password_wrong(env: Env) -> Result:
    return _r(_password(env, password="nope"))


def d_token_password_blocked(env: Env) -> Result:
    for _ in range(9):
        _password(env, password="nope")
    return _r(_password(env, password="nope"))


def d_token_refresh(env: Env) -> Result:
    _never(env)
    refresh = _password(env, scope="profile offline_access").json()["refresh_token"]
    return _r(env.api.token(grant_type="refresh_token", refresh_token=refresh))


def d_token_refresh_invalid(env: Env) -> Result:
    return _r(env.api.token(grant_type="refresh_token", refresh_token="v1.unknown"))


def d_token_mfa_audience(env: Env) -> Result:
    _never(env).api.start_sms()
    return _r(env.api.verify_otp(audience=env.emu.mfa_audience))


def d_mfa_oob_200(env: Env) -> Result:
    _enrolled_sms(env)
    token = env.api.login_sms(scope="profile")
    oob = env.api.challenge(token).json()["oob_code"]
    return _r(env.api.oob(token, oob, _mfa_code(env)))


def d_mfa_oob_push_200(env: Env) -> Result:
    oob, token = _push_user(env, PushScript(pending=0, outcome="approve"))
    return _r(env.api.oob(token, oob))


def d_mfa_oob_pending(env: Env) -> Result:
    oob, token = _push_user(env, PushScript(pending=3))
    return _r(env.api.oob(token, oob))


def d_mfa_oob_slow_down(env: Env) -> Result:
    oob, token = _push_user(env, PushScript(pending=3))
    env.api.oob(token, oob)
    return _r(env.api.oob(token, oob))


def d_mfa_oob_rejected(env: Env) -> Result:
    oob, token = _push_user(env, PushScript(pending=0, outcome="reject"))
    return _r(env.api.oob(token, oob))


def d_mfa_oob_invalid_binding(env: Env) -> Result:
    _enrolled_sms(env)
    token = env.api.login_sms()
    oob = env.api.challenge(token).json()["oob_code"]
    return _r(env.api.oob(token, oob, "not-it"))


def d_mfa_oob_binding_required(env: Env) -> Result:
    _enrolled_sms(env)
    token = env.api.login_sms()
    oob = env.api.challenge(token).json()["oob_code"]
    return _r(env.api.oob(token, oob))


def d_mfa_oob_mismatch(env: Env) -> Result:
    _enrolled_sms(env)
    oob = env.api.challenge(env.api.login_sms()).json()["oob_code"]
    return _r(env.api.oob(env.api.login_sms(), oob, _mfa_code(env)))


def d_mfa_otp_200(env: Env) -> Result:
    env.emu.add_passwordless_user(PHONE)
    secret = env.emu.enroll(PHONE, "otp").secret
    assert secret is not None
    token = env.api.login_sms(scope="profile")
    return _r(env.api.otp(token, env.emu.totp_code(secret)))


def d_mfa_otp_invalid(env: Env) -> Result:
    env.emu.add_passwordless_user(PHONE)
    env.emu.enroll(PHONE, "otp")
    return _r(env.api.otp(env.api.login_sms(), "not-it"))


def d_mfa_recovery_200(env: Env) -> Result:
    _enrolled_sms(env)
    code = env.emu.recovery_code_of(PHONE)
    assert code is not None
    return _r(env.api.recovery(env.api.login_sms(scope="profile"), code))


def d_mfa_recovery_rejected(env: Env) -> Result:
    _enrolled_sms(env)
    return _r(env.api.recovery(env.api.login_sms(), "WRONGWRONGWRONGWRONGWRON"))


def d_mfa_recovery_none(env: Env) -> Result:
    return _r(env.api.recovery(env.api.login_sms(), "WRONGWRONGWRONGWRONGWRON"))


def d_mfa_expired(env: Env) -> Result:
    token = env.api.login_sms()
    env.clock.advance(600)
    return _r(env.api.otp(token, "123456"))


def d_mfa_malformed(env: Env) -> Result:
    return _r(env.api.otp("Fe26.2*not-issued", "123456"))


def d_mfa_other_client(env: Env) -> Result:
    token = env.api.login_sms()
    env.api.client_id, env.api.secret = "public-id", None
    return _r(env.api.otp(token, "123456"))


def _associate(env: Env, *, first: bool, **body: Any) -> Result:
    token = env.api.login_sms()
    if not first:
        env.api.associate(token, authenticator_types=["otp"])
    return _r(env.api.associate(token, **body))


def d_assoc_otp_first(env: Env) -> Result:
    return _associate(env, first=True, authenticator_types=["otp"])


def d_assoc_otp(env: Env) -> Result:
    return _associate(env, first=False, authenticator_types=["otp"])


def d_assoc_sms(env: Env) -> Result:
    return _associate(
        env, first=True, authenticator_types=["oob"], oob_channels=["sms"], phone_number=PHONE
    )


def d_assoc_voice(env: Env) -> Result:
    return _associate(
        env, first=False, authenticator_types=["oob"], oob_channels=["voice"], phone_number=PHONE
    )


def d_assoc_email(env: Env) -> Result:
    return _associate(
        env, first=True, authenticator_types=["oob"], oob_channels=["email"], email=EMAIL
    )


def d_assoc_push(env: Env) -> Result:
    return _associate(env, first=False, authenticator_types=["oob"], oob_channels=["auth0"])


def d_assoc_already(env: Env) -> Result:
    token, _ = env.api.enroll_sms()
    return _r(env.api.associate(token, authenticator_types=["otp"]))


def d_assoc_bad_phone(env: Env) -> Result:
    return _associate(
        env, first=True, authenticator_types=["oob"], oob_channels=["sms"], phone_number="0100"
    )


def d_assoc_invalid_token(env: Env) -> Result:
    return _r(env.api.associate("nope", authenticator_types=["otp"]))


def d_challenge_otp(env: Env) -> Result:
    env.emu.add_passwordless_user(PHONE)
    env.emu.enroll(PHONE, "otp")
    return _r(env.api.challenge(env.api.login_sms(), challenge_type="otp"))


def d_challenge_sms(env: Env) -> Result:
    _enrolled_sms(env)
    return _r(env.api.challenge(env.api.login_sms(), challenge_type="oob"))


def d_challenge_push(env: Env) -> Result:
    env.emu.add_passwordless_user(PHONE)
    env.emu.enroll(PHONE, "push")
    return _r(env.api.challenge(env.api.login_sms(), challenge_type="oob"))


def d_challenge_not_enrolled(env: Env) -> Result:
    return _r(env.api.challenge(env.api.login_sms()))


def d_challenge_bearer_only(env: Env) -> Result:
    token = env.api.login_sms()
    resp = env.api.http.post(
        "/mfa/challenge", json=env.api.creds(), headers={"authorization": f"Bearer {token}"}
    )
    return _r(resp)


def d_challenge_too_many_sms(env: Env) -> Result:
    _enrolled_sms(env)
    token = env.api.login_sms()
    for _ in range(10):
        env.api.challenge(token)
    return _r(env.api.challenge(token))


def d_list(env: Env) -> Result:
    env.emu.add_passwordless_user(PHONE)
    env.emu.enroll(PHONE, "sms", phone_number=PHONE)
    env.emu.enroll(PHONE, "push", active=False)
    env.emu.enroll(PHONE, "email", email=EMAIL, active=False)
    return _r(env.api.list(env.api.login_sms()))


def d_list_with_type(env: Env) -> Result:
    env.emu.list_type_field = True
    env.emu.add_passwordless_user(PHONE)
    env.emu.enroll(PHONE, "sms", phone_number=PHONE)
    env.emu.enroll(PHONE, "email", email=EMAIL)
    return _r(env.api.list(env.api.login_sms()))


def d_list_empty(env: Env) -> Result:
    return _r(env.api.list(env.api.login_sms()))


def d_list_invalid_token(env: Env) -> Result:
    return _r(env.api.list("nope"))


def d_delete(env: Env) -> Result:
    access = _mfa_access(env)
    sms = next(a.id for a in env.emu.authenticators_of(PHONE) if a.type == "sms")
    return _r(env.api.delete(access, sms))


def d_delete_not_found(env: Env) -> Result:
    return _r(env.api.delete(_mfa_access(env), "sms|dev_missing"))


def d_delete_insufficient(env: Env) -> Result:
    token, _ = env.api.enroll_sms()
    sms = next(a.id for a in env.emu.authenticators_of(PHONE) if a.type == "sms")
    return _r(env.api.delete(token, sms))


def d_not_found(env: Env) -> Result:
    return _r(env.api.http.get("/userinfo/nope"))


def d_method_not_allowed(env: Env) -> Result:
    return _r(env.api.http.get("/oauth/token"))


CASES: dict[str, Driver] = {
    "passwordless_start_sms_200": d_start_sms,
    "passwordless_start_email_200": d_start_email,
    "passwordless_start_bad_phone_number_400": d_start_bad_phone,
    "passwordless_start_bad_connection_400": d_start_bad_connection,
    "passwordless_start_bad_request_400": d_start_bad_request,
    "passwordless_start_rate_limited_429": d_start_429,
    "token_passwordless_sms_200": d_token_passwordless_sms,
    "token_passwordless_email_200": d_token_passwordless_email,
    "token_passwordless_wrong_code_sms_403": d_token_wrong_sms,
    "token_passwordless_wrong_code_email_403": d_token_wrong_email,
    "token_passwordless_unauthorized_client_403": d_token_passwordless_unauthorized,
    "token_unknown_grant_403": d_token_unknown_grant,
    "token_invalid_client_401": d_token_invalid_client,
    "token_invalid_request_400": d_token_invalid_request,
    "token_mfa_required_403": d_token_mfa_required,
    "token_mfa_required_requirements_403": d_token_mfa_required_requirements,
    "token_password_200": d_token_password,
    "token_password_wrong_403": d_token_password_wrong,
    "token_password_blocked_429": d_token_password_blocked,
    "token_refresh_200": d_token_refresh,
    "token_refresh_invalid_403": d_token_refresh_invalid,
    "token_mfa_audience_200": d_token_mfa_audience,
    "token_mfa_oob_200": d_mfa_oob_200,
    "token_mfa_oob_push_200": d_mfa_oob_push_200,
    "token_mfa_oob_pending_400": d_mfa_oob_pending,
    "token_mfa_oob_slow_down_400": d_mfa_oob_slow_down,
    "token_mfa_oob_rejected_400": d_mfa_oob_rejected,
    "token_mfa_oob_invalid_binding_403": d_mfa_oob_invalid_binding,
    "token_mfa_oob_binding_required_400": d_mfa_oob_binding_required,
    "token_mfa_oob_mismatch_400": d_mfa_oob_mismatch,
    "token_mfa_otp_200": d_mfa_otp_200,
    "token_mfa_otp_invalid_403": d_mfa_otp_invalid,
    "token_mfa_recovery_200": d_mfa_recovery_200,
    "token_mfa_recovery_rejected_403": d_mfa_recovery_rejected,
    "token_mfa_recovery_none_403": d_mfa_recovery_none,
    "token_mfa_expired_token_403": d_mfa_expired,
    "token_mfa_malformed_token_403": d_mfa_malformed,
    "token_mfa_other_client_400": d_mfa_other_client,
    "associate_otp_first_200": d_assoc_otp_first,
    "associate_otp_200": d_assoc_otp,
    "associate_sms_200": d_assoc_sms,
    "associate_voice_200": d_assoc_voice,
    "associate_email_200": d_assoc_email,
    "associate_push_200": d_assoc_push,
    "associate_already_enrolled_403": d_assoc_already,
    "associate_bad_phone_400": d_assoc_bad_phone,
    "associate_invalid_token_401": d_assoc_invalid_token,
    "challenge_otp_200": d_challenge_otp,
    "challenge_sms_200": d_challenge_sms,
    "challenge_push_200": d_challenge_push,
    "challenge_not_enrolled_401": d_challenge_not_enrolled,
    "challenge_bearer_only_400": d_challenge_bearer_only,
    "challenge_too_many_sms_400": d_challenge_too_many_sms,
    "authenticators_list_200": d_list,
    "authenticators_list_with_type_200": d_list_with_type,
    "authenticators_list_empty_200": d_list_empty,
    "authenticators_invalid_token_401": d_list_invalid_token,
    "authenticators_delete_204": d_delete,
    "authenticators_delete_not_found_404": d_delete_not_found,
    "authenticators_delete_insufficient_scope_403": d_delete_insufficient,
    "not_found_404": d_not_found,
    "method_not_allowed_405": d_method_not_allowed,
}

#: shared recording -> (case, fields/kinds the emulator may add, and why)
SHARED: dict[str, tuple[str, frozenset[str]]] = {
    "mfa_associate_oob_auth0_push_200": ("associate_push_200", frozenset()),
    "mfa_associate_oob_email_200": ("associate_email_200", frozenset()),
    "mfa_associate_oob_sms_200": ("associate_sms_200", frozenset()),
    "mfa_associate_otp_200": ("associate_otp_200", frozenset()),
    # the recording's user had no voice channel enabled; the emulator always pairs sms+voice
    "mfa_authenticators_list_200": ("authenticators_list_200", frozenset({"voice"})),
    "mfa_authenticators_list_with_type_200": ("authenticators_list_with_type_200", frozenset()),
    "mfa_challenge_oob_push_200": ("challenge_push_200", frozenset()),
    "mfa_challenge_oob_sms_binding_200": ("challenge_sms_200", frozenset()),
    "mfa_challenge_otp_200": ("challenge_otp_200", frozenset()),
    "oauth_token_mfa_oob_200": ("token_mfa_oob_push_200", frozenset()),
    "oauth_token_mfa_oob_access_denied_400": ("token_mfa_oob_rejected_400", frozenset()),
    "oauth_token_mfa_oob_authorization_pending_400": ("token_mfa_oob_pending_400", frozenset()),
    "oauth_token_mfa_otp_200": ("token_mfa_otp_200", frozenset()),
    "oauth_token_mfa_recovery_code_200": ("token_mfa_recovery_200", frozenset()),
    "oauth_token_mfa_required_403": ("token_mfa_required_403", frozenset()),
    "oauth_token_mfa_required_with_requirements_403": (
        "token_mfa_required_requirements_403",
        frozenset(),
    ),
    "oauth_token_password_200": ("token_password_200", frozenset()),
    # the recording did not echo the requested scope; the emulator echoes a given scope
    "oauth_token_passwordless_otp_email_200": (
        "token_passwordless_email_200",
        frozenset({"scope"}),
    ),
    "oauth_token_passwordless_unauthorized_client_403": (
        "token_passwordless_unauthorized_client_403",
        frozenset(),
    ),
    "oauth_token_passwordless_wrong_code_403": (
        "token_passwordless_wrong_code_email_403",
        frozenset(),
    ),
    "oauth_token_refresh_token_200": ("token_refresh_200", frozenset()),
    "passwordless_start_email_code_200": ("passwordless_start_email_200", frozenset()),
    "passwordless_start_sms_200": ("passwordless_start_sms_200", frozenset()),
}


# --------------------------------------------------------------------------- shapes


def shape(value: Any) -> Any:
    """The JSON 'type skeleton' of a value: field names and JSON types, not values."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    items = list(value)
    if items and all(isinstance(i, dict) and "|" in str(i.get("id", "")) for i in items):
        # authenticator lists: one shape per kind (the id prefix)
        kinds: dict[str, Any] = {}
        for item in items:
            kinds.setdefault("kind:" + str(item["id"]).split("|")[0], shape(item))
        return {"<authenticators>": kinds}
    return ["list", sorted({json.dumps(shape(i), sort_keys=True) for i in items})]


def differences(
    expected: Any, actual: Any, extra_ok: frozenset[str], where: str = "$"
) -> list[str]:
    """Where ``actual``'s shape departs from ``expected``'s (extra keys allowed if listed)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = [f"{where}: missing {k!r}" for k in expected if k not in actual]
        out += [
            f"{where}: unexpected {k!r}"
            for k in actual
            if k not in expected and k.removeprefix("kind:") not in extra_ok
        ]
        for key in expected:
            if key in actual:
                out += differences(expected[key], actual[key], extra_ok, f"{where}.{key}")
        return out
    return [] if expected == actual else [f"{where}: expected {expected!r}, got {actual!r}"]


# --------------------------------------------------------------------------- collection


def _index_statuses() -> dict[str, int]:
    index = SHARED_FIXTURES / "INDEX.md"
    out: dict[str, int] = {}
    if index.is_file():
        for line in index.read_text().splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) > 2 and cells[0].endswith(".json"):
                match = re.match(r"\d{3}", cells[2])
                if match:
                    out[cells[0].removesuffix(".json")] = int(match.group())
    return out


def _shared_params() -> list[Any]:
    if not SHARED_FIXTURES.is_dir():
        return []
    statuses = _index_statuses()
    params = []
    for path in sorted(SHARED_FIXTURES.glob("*.json")):
        stem = path.stem
        if stem.endswith("_request"):
            continue
        match = re.search(r"_(\d{3})$", stem)
        status = int(match.group(1)) if match else statuses.get(stem)
        params.append(pytest.param(path, status, id=f"shared-{stem}"))
    return params


@pytest.fixture
def env(emu: Auth0Emulator, clock: FakeClock, api: Api) -> Env:
    """A fresh tenant and API helper for one case."""
    return Env(emu, clock, api)


def _check(env: Env, case: str, status: int | None, body: Any, extra_ok: frozenset[str]) -> None:
    got_status, got_body = CASES[case](env)
    assert got_status == status, f"{case}: status {got_status}, expected {status}: {got_body}"
    diffs = differences(shape(body), shape(got_body), extra_ok)
    assert not diffs, f"{case}: " + "; ".join(diffs)


@pytest.mark.parametrize("path", sorted(PROJECT_FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_project_fixture(env: Env, path: Path) -> None:
    """The emulator's answer matches the project fixture's status, field names and types."""
    fixture = json.loads(path.read_text())
    assert path.stem in CASES, f"no driver for fixture {path.name}"
    _check(env, path.stem, fixture["status"], fixture["body"], frozenset())


@pytest.mark.parametrize(("path", "status"), _shared_params())
def test_shared_recording(env: Env, path: Path, status: int | None) -> None:
    """The emulator's answer matches a shared recorded fixture's status, field names and types."""
    assert path.stem in SHARED, f"no case mapped for shared fixture {path.name}"
    case, extra_ok = SHARED[path.stem]
    _check(env, case, status, json.loads(path.read_text()), extra_ok)


def test_every_case_has_a_project_fixture() -> None:
    """Each driver has its fixture file, so no case goes unchecked."""
    stems = {p.stem for p in PROJECT_FIXTURES.glob("*.json")}
    assert stems == set(CASES)


def test_shape_comparison_detects_drift() -> None:
    """The comparison flags a missing field, an extra field and a changed JSON type."""
    expected = shape({"access_token": "a", "expires_in": 1})
    assert differences(expected, shape({"access_token": "a"}), frozenset())
    assert differences(expected, shape({"access_token": "a", "expires_in": 1, "x": 1}), frozenset())
    assert differences(expected, shape({"access_token": "a", "expires_in": "1"}), frozenset())
    assert not differences(expected, shape({"access_token": "b", "expires_in": 2}), frozenset())
