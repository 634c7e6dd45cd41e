"""Requests are built to the recorded wire facts; answers parse into outcomes or typed errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowengine._config import Auth0Config
from flowengine._errors import (
    Auth0Error,
    MalformedResponseError,
    RateLimitedError,
    ServerError,
)
from flowengine._wire import HttpResponse, delete_request, parse_response

from .flowstates import PARAMS, flow_in

CONFIG = Auth0Config("tenant.example.auth0.com", "app-id", "app-secret")
NOW = 1_800_000_000.0
JSON = {"content-type": "application/json"}


def resp(status: int, body: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status, {**JSON, **(headers or {})}, raw)


def err(status: int, code: str, desc: str = "", **extra: Any) -> HttpResponse:
    return resp(status, {"error": code, "error_description": desc, **extra})


TOKENS = {"access_token": "at", "expires_in": 86400, "token_type": "Bearer", "scope": "openid"}
MFA_REQUIRED = err(403, "mfa_required", "Multifactor authentication required", mfa_token="Fe26.2*x")

CASES: list[tuple[str, HttpResponse, str]] = [
    (
        "start_passwordless",
        resp(200, {"_id": "1", "phone_number": "+15550100", "phone_verified": False}),
        "code_sent",
    ),
    ("start_passwordless", HttpResponse(200, {}, b""), "code_sent"),
    ("verify_otp", MFA_REQUIRED, "mfa_required"),
    ("verify_otp", err(401, "mfa_required", "x", mfa_token="Fe26.2*y"), "mfa_required"),
    ("verify_otp", resp(200, TOKENS), "tokens"),
    (
        "verify_otp",
        err(403, "invalid_grant", "Wrong phone number or verification code."),
        "wrong_code",
    ),
    ("verify_otp", err(429, "too_many_attempts", "blocked"), "locked"),
    ("login_password", err(403, "invalid_grant", "Wrong email or password."), "wrong_credentials"),
    ("login_password", MFA_REQUIRED, "mfa_required"),
    (
        "list_authenticators",
        resp(
            200,
            [
                {
                    "id": "sms|dev_1",
                    "authenticator_type": "oob",
                    "active": True,
                    "oob_channel": "sms",
                }
            ],
        ),
        "authenticators",
    ),
    ("list_authenticators", err(403, "expired_token", "mfa_token is expired"), "expired"),
    (
        "enroll",
        resp(
            200,
            {
                "authenticator_type": "otp",
                "secret": "JBSWY3DPEHPK3PXP",
                "barcode_uri": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP",
            },
        ),
        "enrolled",
    ),
    ("enroll", err(403, "access_denied", "User is already enrolled"), "already_enrolled"),
    ("challenge", resp(200, {"challenge_type": "otp"}), "challenged"),
    (
        "challenge",
        resp(200, {"challenge_type": "oob", "oob_code": "Fe26.2*o", "binding_method": "prompt"}),
        "challenged",
    ),
    ("challenge", err(401, "unsupported_challenge_type", "User is not enrolled."), "must_enroll"),
    ("challenge", err(400, "association_required"), "must_enroll"),
    ("confirm_oob", resp(200, TOKENS), "tokens"),
    ("confirm_oob", err(403, "invalid_grant", "Invalid binding_code."), "wrong_code"),
    ("confirm_oob", MFA_REQUIRED, "mfa_required"),
    ("confirm_otp", err(403, "invalid_grant", "Invalid otp_code."), "wrong_code"),
    ("confirm_otp", err(403, "expired_token", "mfa_token is expired"), "expired"),
    ("confirm_recovery_code", resp(200, {**TOKENS, "recovery_code": "B" * 24}), "tokens"),
    (
        "confirm_recovery_code",
        err(403, "invalid_grant", "MFA Authorization rejected."),
        "wrong_code",
    ),
    (
        "confirm_recovery_code",
        err(403, "unsupported_challenge_type", "User does not have a recovery-code."),
        "must_enroll",
    ),
    ("poll_push", err(400, "authorization_pending", "Authorization pending"), "pending"),
    ("poll_push", err(400, "slow_down"), "slow_down"),
    ("poll_push", err(400, "access_denied", "MFA Authorization rejected."), "rejected"),
    ("poll_push", err(403, "invalid_grant", "MFA Authorization rejected."), "rejected"),
]


@pytest.mark.parametrize(("trigger", "response", "kind"), CASES)
def test_answer_parses_into_outcome(trigger: str, response: HttpResponse, kind: str) -> None:
    """Each recorded answer maps to the outcome that selects its row."""
    outcome = parse_response(trigger, response, PARAMS[trigger], CONFIG)
    assert outcome.kind == kind


def test_mfa_audience_tokens_are_an_mfa_credential() -> None:
    """A 200 for the MFA audience is an MFA credential, not a finished login."""
    params = {**PARAMS["verify_otp"], "audience": CONFIG.mfa_audience}
    outcome = parse_response("verify_otp", resp(200, TOKENS), params, CONFIG)
    assert outcome.kind == "mfa_access_token"


ERRORS: list[tuple[HttpResponse, type[Exception]]] = [
    (HttpResponse(200, JSON, b""), MalformedResponseError),
    (HttpResponse(200, JSON, b"<html>"), MalformedResponseError),
    (HttpResponse(200, JSON, b'{"access_token": "a'), MalformedResponseError),
    (HttpResponse(200, JSON, b"[]"), MalformedResponseError),
    (
        HttpResponse(200, {"content-type": "text/plain"}, json.dumps(TOKENS).encode()),
        MalformedResponseError,
    ),
    (resp(200, {"token_type": "Bearer"}), MalformedResponseError),
    (resp(200, {"access_token": "a", "expires_in": "soon"}), MalformedResponseError),
    (HttpResponse(500, {}, b"oops"), ServerError),
    (HttpResponse(502, {"content-type": "text/html"}, b"<html>Bad gateway</html>"), ServerError),
    (err(429, "too_many_requests", "Too many requests"), RateLimitedError),
    (err(401, "invalid_client", "Client authentication failed"), Auth0Error),
    (err(403, "unauthorized_client", "Grant type not allowed"), Auth0Error),
    (err(403, "mfa_required", "x"), MalformedResponseError),  # no mfa_token
]


@pytest.mark.parametrize(("response", "exc"), ERRORS)
def test_bad_answers_raise_typed_errors(response: HttpResponse, exc: type[Exception]) -> None:
    """Bodies the flow cannot use raise a typed RemoteError, never JSONDecodeError."""
    with pytest.raises(exc):
        parse_response("confirm_otp", response, PARAMS["confirm_otp"], CONFIG)


def test_rate_limit_carries_reset_epoch() -> None:
    """A 429 carries x-ratelimit-reset as epoch seconds."""
    r = err(
        429,
        "too_many_requests",
        "Too many",
    )
    r = HttpResponse(429, {**JSON, "x-ratelimit-reset": "1800000060"}, r.body)
    with pytest.raises(RateLimitedError) as info:
        parse_response("start_passwordless", r, PARAMS["start_passwordless"], CONFIG)
    assert info.value.reset_at == 1_800_000_060
    assert info.value.error == "too_many_requests"


def test_server_error_carries_retry_after() -> None:
    """A 503 with Retry-After carries it in seconds."""
    r = HttpResponse(503, {"retry-after": "3"}, b"")
    with pytest.raises(ServerError) as info:
        parse_response("verify_otp", r, PARAMS["verify_otp"], CONFIG)
    assert info.value.retry_after == 3.0


def body_of(trigger: str, state: str, factor: str = "sms", **params: Any) -> dict[str, Any]:
    flow = flow_in(state, factor)
    step = flow.prepare(trigger, {**PARAMS[trigger], **params}, CONFIG, NOW)
    assert step.request is not None and step.request.body is not None
    return dict(json.loads(step.request.body))


def test_start_always_sends_code_explicitly() -> None:
    """`send: "code"` is explicit: an omitted send means a magic link."""
    body = body_of("start_passwordless", "started")
    assert body == {
        "client_id": "app-id",
        "client_secret": "app-secret",
        "connection": "sms",
        "send": "code",
        "phone_number": "+15550100",
    }


def test_verify_uses_realm_and_username_of_the_start() -> None:
    """The passwordless grant carries realm, username, otp, audience and scope."""
    body = body_of("verify_otp", "code_sent")
    assert body["grant_type"] == "http://auth0.com/oauth/grant-type/passwordless/otp"
    assert (body["realm"], body["username"], body["otp"]) == ("sms", "+15550100", "123456")


def test_challenge_puts_mfa_token_in_the_body_not_a_header() -> None:
    """/mfa/challenge takes mfa_token in the body with client credentials, no bearer."""
    flow = flow_in("mfa_required")
    step = flow.prepare("challenge", {"authenticator_id": "sms|dev_1"}, CONFIG, NOW)
    assert step.request is not None and step.request.body is not None
    body = json.loads(step.request.body)
    assert body["mfa_token"] == "Fe26.2*test-mfa-token" and body["client_id"] == "app-id"
    assert "authorization" not in dict(step.request.headers)


def test_associate_uses_bearer_and_oob_channels_array() -> None:
    """/mfa/associate carries the mfa_token as bearer and oob_channels as an array."""
    flow = flow_in("mfa_required")
    step = flow.prepare("enroll", {"factor": "push"}, CONFIG, NOW)
    assert step.request is not None and step.request.body is not None
    assert dict(step.request.headers)["authorization"] == "Bearer Fe26.2*test-mfa-token"
    body = json.loads(step.request.body)
    assert body["authenticator_types"] == ["oob"] and body["oob_channels"] == ["auth0"]


def test_push_poll_sends_no_binding_code() -> None:
    """Polling a push is the mfa-oob grant without binding_code."""
    body = body_of("poll_push", "challenge_pending", "push")
    assert "binding_code" not in body and body["oob_code"] == "Fe26.2*test-oob"


def test_public_client_sends_no_secret() -> None:
    """A public client sends only its client_id."""
    public = Auth0Config("tenant.example.auth0.com", "public-id")
    flow = flow_in("code_sent")
    step = flow.prepare("verify_otp", PARAMS["verify_otp"], public, NOW)
    assert step.request is not None and step.request.body is not None
    assert "client_secret" not in json.loads(step.request.body)


def test_delete_url_encodes_the_id() -> None:
    """The authenticator id is URL-encoded: '|' becomes %7C."""
    assert delete_request("at", "push|dev_BBT").path == "/mfa/authenticators/push%7Cdev_BBT"
