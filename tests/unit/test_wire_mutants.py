"""Every request the wire builds, and every answer it reads, pinned field by field.

The requests are compared whole (method, path, headers, body), since Auth0 sees all of
them; the answers are compared as whole ``Answer`` records (kind, data, status, error
code), and the errors by their type, message and attributes (the message is what a
caller logs and shows). Written against the mutants ``scripts/mutation flowengine/_wire.py``
found surviving.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowengine import _wire
from flowengine._config import Auth0Config
from flowengine._context import Context
from flowengine._errors import (
    Auth0Error,
    MalformedResponseError,
    RateLimitedError,
    RemoteError,
    ServerError,
)
from flowengine._wire import (
    Answer,
    ErrorBody,
    HttpRequest,
    HttpResponse,
    build_request,
    decode_json,
    decode_object,
    delete_request,
    get_bearer,
    list_request,
    parse_authenticators,
    parse_challenge,
    parse_enrollment,
    parse_error,
    parse_mfa_requirements,
    parse_response,
    parse_tokens,
    post_json,
    refresh_request,
    remote_error,
    revoke_request,
    token_request,
)

SECRET = Auth0Config("tenant.example.auth0.com", "app-id", "app-secret")
PUBLIC = Auth0Config("tenant.example.auth0.com", "public-id")
AUTH = {"client_id": "app-id", "client_secret": "app-secret"}
JSON_CT = {"content-type": "application/json"}
JSON_HEADERS = (("content-type", "application/json"), ("accept", "application/json"))
GRANT = "http://auth0.com/oauth/grant-type/"
MFA_TOKEN = "Fe26.2*mfa"
OOB_CODE = "Fe26.2*oob"
API = "https://api.example.com/"

MFA_CTX = Context(mfa_token=MFA_TOKEN)
OOB_CTX = Context(mfa_token=MFA_TOKEN, oob_code=OOB_CODE)
SMS_CTX = Context(connection="sms", phone_number="+15550100")
EMAIL_CTX = Context(connection="email", email="ada@example.com")


def body(req: HttpRequest) -> Any:
    """The request's JSON body, decoded."""
    assert req.body is not None
    return json.loads(req.body)


def ok(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    """A JSON answer with ``doc`` as its body."""
    return HttpResponse(status, {**JSON_CT, **(headers or {})}, json.dumps(doc).encode())


def fail(status: int, error: str, desc: str | None = None, **extra: Any) -> HttpResponse:
    """An Auth0 error answer in the ``{error, error_description}`` envelope."""
    doc: dict[str, Any] = {"error": error, **extra}
    if desc is not None:
        doc["error_description"] = desc
    return ok(doc, status)


def refused(exc: type[RemoteError], call: Any, *args: Any, **kwargs: Any) -> RemoteError:
    """The exception of type ``exc`` that ``call(*args, **kwargs)`` raises."""
    with pytest.raises(exc) as caught:
        call(*args, **kwargs)
    assert type(caught.value) is exc
    return caught.value


# ------------------------------------------------------------------------- requests


def test_post_json_is_a_compact_json_post_with_an_optional_bearer() -> None:
    """A JSON POST carries content-type and accept, a compact body, and the bearer if given."""
    assert post_json("/p", {"a": 1, "b": ["x"]}) == HttpRequest(
        "POST", "/p", JSON_HEADERS, b'{"a":1,"b":["x"]}'
    )
    assert post_json("/p", {}, bearer="tok") == HttpRequest(
        "POST", "/p", (*JSON_HEADERS, ("authorization", "Bearer tok")), b"{}"
    )


def test_get_bearer_list_and_delete_requests() -> None:
    """The GET and DELETE of the MFA API carry accept and the bearer, and no body."""
    bearer = (("accept", "application/json"), ("authorization", "Bearer at"))
    assert get_bearer("/x", "at") == HttpRequest("GET", "/x", bearer, None)
    assert list_request("at") == HttpRequest("GET", "/mfa/authenticators", bearer, None)
    assert delete_request("at", "sms|dev_1") == HttpRequest(
        "DELETE", "/mfa/authenticators/sms%7Cdev_1", bearer, None
    )


def test_delete_request_cannot_leave_the_authenticator_path() -> None:
    """A '/' (or '..', '?', '#') in an authenticator id is encoded, never a path step."""
    path = delete_request("at", "../../users/x?y#z").path
    assert path == "/mfa/authenticators/..%2F..%2Fusers%2Fx%3Fy%23z"


def test_token_refresh_and_revoke_requests() -> None:
    """The token endpoint takes grant_type, client auth and the fields; revoke takes token."""
    assert token_request(SECRET, "g", {"x": "1"}) == HttpRequest(
        "POST",
        "/oauth/token",
        JSON_HEADERS,
        b'{"grant_type":"g","client_id":"app-id","client_secret":"app-secret","x":"1"}',
    )
    assert body(refresh_request(SECRET, "rt", "openid email")) == {
        "grant_type": "refresh_token",
        **AUTH,
        "refresh_token": "rt",
        "scope": "openid email",
    }
    assert body(refresh_request(SECRET, "rt", None)) == {
        "grant_type": "refresh_token",
        **AUTH,
        "refresh_token": "rt",
    }
    assert body(refresh_request(SECRET, "rt", "")) == {
        "grant_type": "refresh_token",
        **AUTH,
        "refresh_token": "rt",
    }
    revoke = revoke_request(SECRET, "rt")
    assert (revoke.method, revoke.path, revoke.headers) == ("POST", "/oauth/revoke", JSON_HEADERS)
    assert body(revoke) == {**AUTH, "token": "rt"}


def test_refresh_trigger_passes_the_scope_on() -> None:
    """The refresh trigger asks for the caller's scope, or leaves it out."""
    req = build_request("refresh", Context(), {"refresh_token": "rt", "scope": "openid"}, SECRET)
    assert req.path == "/oauth/token"
    assert body(req) == {
        "grant_type": "refresh_token",
        **AUTH,
        "refresh_token": "rt",
        "scope": "openid",
    }
    req = build_request("refresh", Context(), {"refresh_token": "rt"}, SECRET)
    assert "scope" not in body(req)


def test_start_passwordless_by_sms_and_by_email() -> None:
    """The start names the connection, asks for a code, and carries the one recipient."""
    sms = build_request(
        "start_passwordless", Context(), {"connection": "sms", "phone_number": "+1555"}, SECRET
    )
    assert sms == HttpRequest("POST", "/passwordless/start", JSON_HEADERS, sms.body)
    assert body(sms) == {**AUTH, "connection": "sms", "send": "code", "phone_number": "+1555"}
    mail = build_request(
        "start_passwordless", Context(), {"connection": "email", "email": "a@b.co"}, SECRET
    )
    assert body(mail) == {**AUTH, "connection": "email", "send": "code", "email": "a@b.co"}


def test_resend_uses_the_connection_and_recipient_of_the_start() -> None:
    """A resend without parameters repeats the start's connection and recipient."""
    assert body(build_request("resend_code", SMS_CTX, {}, SECRET)) == {
        **AUTH,
        "connection": "sms",
        "send": "code",
        "phone_number": "+15550100",
    }
    assert body(build_request("resend_code", EMAIL_CTX, {}, SECRET)) == {
        **AUTH,
        "connection": "email",
        "send": "code",
        "email": "ada@example.com",
    }


VERIFY = {"otp": "123456", "audience": API, "scope": "openid"}


def test_verify_otp_names_the_recipient_of_its_connection() -> None:
    """The passwordless grant's username is the phone number for sms, the address for email."""
    expected = {
        "grant_type": GRANT + "passwordless/otp",
        **AUTH,
        "realm": "sms",
        "username": "+15550100",
        "otp": "123456",
        "audience": API,
        "scope": "openid",
    }
    assert body(build_request("verify_otp", SMS_CTX, VERIFY, SECRET)) == expected
    assert body(build_request("verify_otp", EMAIL_CTX, VERIFY, SECRET)) == {
        **expected,
        "realm": "email",
        "username": "ada@example.com",
    }


def test_login_password_sends_the_password_realm_grant() -> None:
    """The password-realm grant carries realm, username, password, audience and scope."""
    params = {
        "realm": "db",
        "username": "ada",
        "password": "pw",
        "audience": API,
        "scope": "openid",
    }
    req = build_request("login_password", Context(), params, SECRET)
    assert req.path == "/oauth/token"
    assert body(req) == {"grant_type": GRANT + "password-realm", **AUTH, **params}


@pytest.mark.parametrize(
    ("trigger", "ctx", "params"),
    [
        ("start_passwordless", Context(), {"connection": "sms", "phone_number": "+1555"}),
        ("resend_code", SMS_CTX, {}),
        ("verify_otp", SMS_CTX, VERIFY),
        (
            "login_password",
            Context(),
            {"realm": "db", "username": "u", "password": "p", "audience": API, "scope": "s"},
        ),
    ],
)
def test_forwarded_for_is_sent_only_with_a_secret(
    trigger: str, ctx: Context, params: dict[str, Any]
) -> None:
    """The user's IP goes last as auth0-forwarded-for, only when given and a secret is used."""
    plain = build_request(trigger, ctx, params, SECRET)
    forwarded = build_request(trigger, ctx, {**params, "forwarded_for": "203.0.113.7"}, SECRET)
    assert forwarded == HttpRequest(
        "POST",
        plain.path,
        (*JSON_HEADERS, ("auth0-forwarded-for", "203.0.113.7")),
        plain.body,
    )
    assert plain.headers == JSON_HEADERS
    public = build_request(trigger, ctx, {**params, "forwarded_for": "203.0.113.7"}, PUBLIC)
    assert public.headers == JSON_HEADERS
    assert "client_secret" not in body(public)


def test_forwarded_wraps_any_builder() -> None:
    """The wrapper passes its arguments through and appends the header after the builder's."""
    seen: list[tuple[Context, Any, Auth0Config]] = []

    def build(ctx: Context, p: Any, cfg: Auth0Config) -> HttpRequest:
        seen.append((ctx, p, cfg))
        return HttpRequest("POST", "/p", (("x-a", "1"),), b"{}")

    wrapped = _wire._forwarded(build)
    params = {"forwarded_for": "2001:db8::1"}
    assert wrapped(SMS_CTX, params, SECRET) == HttpRequest(
        "POST", "/p", (("x-a", "1"), ("auth0-forwarded-for", "2001:db8::1")), b"{}"
    )
    assert seen == [(SMS_CTX, params, SECRET)]
    plain = HttpRequest("POST", "/p", (("x-a", "1"),), b"{}")
    assert wrapped(SMS_CTX, {}, SECRET) == plain
    assert wrapped(SMS_CTX, {"forwarded_for": None}, SECRET) == plain
    assert wrapped(SMS_CTX, params, PUBLIC) == plain


def test_list_authenticators_uses_the_mfa_token_as_bearer() -> None:
    """The flow's list is a GET with the mfa_token as bearer."""
    assert build_request("list_authenticators", MFA_CTX, {}, SECRET) == HttpRequest(
        "GET",
        "/mfa/authenticators",
        (("accept", "application/json"), ("authorization", f"Bearer {MFA_TOKEN}")),
        None,
    )


ASSOCIATE_HEADERS = (*JSON_HEADERS, ("authorization", f"Bearer {MFA_TOKEN}"))


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"factor": "otp"}, {"authenticator_types": ["otp"]}),
        (
            {"factor": "sms", "phone_number": "+1555"},
            {"authenticator_types": ["oob"], "oob_channels": ["sms"], "phone_number": "+1555"},
        ),
        (
            {"factor": "voice", "phone_number": "+1555"},
            {"authenticator_types": ["oob"], "oob_channels": ["voice"], "phone_number": "+1555"},
        ),
        (
            {"factor": "email", "email": "a@b.co"},
            {"authenticator_types": ["oob"], "oob_channels": ["email"], "email": "a@b.co"},
        ),
        ({"factor": "email"}, {"authenticator_types": ["oob"], "oob_channels": ["email"]}),
        (
            {"factor": "email", "email": None},
            {"authenticator_types": ["oob"], "oob_channels": ["email"]},
        ),
        ({"factor": "push"}, {"authenticator_types": ["oob"], "oob_channels": ["auth0"]}),
        (
            {"factor": "push", "email": "a@b.co", "phone_number": "+1555"},
            {"authenticator_types": ["oob"], "oob_channels": ["auth0"]},
        ),
    ],
)
def test_enroll_asks_for_the_factor_with_its_recipient(
    params: dict[str, Any], fields: dict[str, Any]
) -> None:
    """/mfa/associate names the factor's type and channel, and only that factor's recipient."""
    req = build_request("enroll", MFA_CTX, params, SECRET)
    assert (req.method, req.path, req.headers) == ("POST", "/mfa/associate", ASSOCIATE_HEADERS)
    assert body(req) == {**AUTH, **fields}


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, {}),
        ({"challenge_type": "otp"}, {"challenge_type": "otp"}),
        ({"authenticator_id": "sms|dev_1"}, {"authenticator_id": "sms|dev_1"}),
        (
            {"challenge_type": "oob", "authenticator_id": "push|dev_2"},
            {"challenge_type": "oob", "authenticator_id": "push|dev_2"},
        ),
        ({"challenge_type": "", "authenticator_id": None}, {}),
    ],
)
def test_challenge_sends_only_the_choices_given(
    params: dict[str, Any], fields: dict[str, Any]
) -> None:
    """/mfa/challenge carries client auth and mfa_token, plus the type and id when given."""
    req = build_request("challenge", MFA_CTX, params, SECRET)
    assert (req.method, req.path, req.headers) == ("POST", "/mfa/challenge", JSON_HEADERS)
    assert body(req) == {**AUTH, "mfa_token": MFA_TOKEN, **fields}


def test_second_factor_grants() -> None:
    """Each confirm grant sends the mfa_token and its own code under its own grant type."""
    oob = {"grant_type": GRANT + "mfa-oob", **AUTH, "mfa_token": MFA_TOKEN, "oob_code": OOB_CODE}
    assert body(build_request("confirm_oob", OOB_CTX, {"binding_code": "42"}, SECRET)) == {
        **oob,
        "binding_code": "42",
    }
    assert body(build_request("confirm_oob", OOB_CTX, {}, SECRET)) == oob
    assert body(build_request("poll_push", OOB_CTX, {}, SECRET)) == oob
    assert body(build_request("confirm_otp", MFA_CTX, {"otp": "123456"}, SECRET)) == {
        "grant_type": GRANT + "mfa-otp",
        **AUTH,
        "mfa_token": MFA_TOKEN,
        "otp": "123456",
    }
    recovery = build_request("confirm_recovery_code", MFA_CTX, {"recovery_code": "R" * 24}, SECRET)
    assert recovery.path == "/oauth/token"
    assert body(recovery) == {
        "grant_type": GRANT + "mfa-recovery-code",
        **AUTH,
        "mfa_token": MFA_TOKEN,
        "recovery_code": "R" * 24,
    }


# ---------------------------------------------------------------- decoding bodies


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "Auth0 sent an empty body for x (HTTP 201)"),
        (b" \n ", "Auth0 sent an empty body for x (HTTP 201)"),
        (b'{"a": ', "Auth0 sent truncated JSON for x (HTTP 201)"),
        (b"  [1, ", "Auth0 sent truncated JSON for x (HTTP 201)"),
        (b"<html>", "Auth0 sent not JSON for x (HTTP 201)"),
        (b"\xff\xfe{", "Auth0 sent not JSON for x (HTTP 201)"),
    ],
)
def test_decode_json_names_what_is_wrong_with_the_body(raw: bytes, message: str) -> None:
    """An empty, truncated or non-JSON body is a MalformedResponseError naming the case."""
    exc = refused(MalformedResponseError, decode_json, HttpResponse(201, JSON_CT, raw), what="x")
    assert (str(exc), exc.status_code) == (message, 201)
    assert exc.__cause__ is None and (exc.__suppress_context__ or exc.__context__ is None)


def test_decode_json_returns_any_json_value() -> None:
    """A JSON body of any type is returned as decoded."""
    assert decode_json(HttpResponse(200, {}, b" [1, 2] "), what="x") == [1, 2]


@pytest.mark.parametrize(
    ("headers", "raw", "message"),
    [
        ({"content-type": "text/html"}, b"{}", "Auth0 sent content type 'text/html' for x"),
        ({}, b"{}", "Auth0 sent content type '(none)' for x"),
        (JSON_CT, b"[1]", "Auth0 sent a JSON list where an object was expected for x"),
        (JSON_CT, b'"s"', "Auth0 sent a JSON str where an object was expected for x"),
        (JSON_CT, b"", "Auth0 sent an empty body for x (HTTP 200)"),
    ],
)
def test_decode_object_checks_content_type_and_shape(
    headers: dict[str, str], raw: bytes, message: str
) -> None:
    """A success body must be declared JSON and be an object; the error names the mismatch."""
    exc = refused(MalformedResponseError, decode_object, HttpResponse(200, headers, raw), what="x")
    assert (str(exc), exc.status_code) == (message, 200)


def test_decode_object_accepts_any_json_content_type() -> None:
    """``application/problem+json; charset=utf-8`` in any case counts as JSON."""
    resp = HttpResponse(200, {"content-type": "Application/Problem+JSON; charset=UTF-8"}, b"{}")
    assert decode_object(resp, what="x") == {}


# ------------------------------------------------------------------- error bodies


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"error": "e", "error_description": "d"}, ErrorBody("e", "d")),
        ({"code": "c", "description": "d2"}, ErrorBody("c", "d2")),
        ({"errorCode": "ec", "message": "m"}, ErrorBody("ec", "m")),
        ({"error": "e", "code": "c", "errorCode": "ec"}, ErrorBody("e", None)),
        ({"code": "c", "errorCode": "ec"}, ErrorBody("c", None)),
        ({"error_description": "d", "description": "d2", "message": "m"}, ErrorBody(None, "d")),
        ({"description": "d2", "message": "m"}, ErrorBody(None, "d2")),
        ({"error": 5, "error_description": ["x"]}, ErrorBody(None, None)),
        ({}, ErrorBody(None, None)),
        ([{"error": "e"}], ErrorBody(None, None)),
        ("e", ErrorBody(None, None)),
    ],
)
def test_parse_error_reads_either_envelope(doc: Any, expected: ErrorBody) -> None:
    """The OAuth envelope wins over the Management API's and the legacy one; non-strings drop."""
    resp = HttpResponse(400, JSON_CT, json.dumps(doc).encode())
    assert parse_error(resp) == expected
    assert parse_error(HttpResponse(400, {}, b""), doc) == expected


@pytest.mark.parametrize("raw", [b"", b"oops", b"\xff", b"[1]", b'{"error": '])
def test_parse_error_tolerates_a_body_that_is_no_object(raw: bytes) -> None:
    """Plain text, a bad encoding, an array or nothing is an error body without fields."""
    assert parse_error(HttpResponse(502, {}, raw)) == ErrorBody(None, None)


def test_remote_error_message_and_fields() -> None:
    """The message names the call, the status, the code and at most 200 description chars."""
    long = "d" * 300
    exc = remote_error(fail(400, "bad_request", long), ErrorBody("bad_request", long), what="x")
    assert type(exc) is Auth0Error
    assert str(exc) == f"Auth0 answered x with HTTP 400 bad_request: {'d' * 200}"
    assert (exc.status_code, exc.error, exc.error_description) == (400, "bad_request", long)
    exc = remote_error(HttpResponse(401, {}, b""), ErrorBody(None, "why"), what="y")
    assert str(exc) == "Auth0 answered y with HTTP 401: why"
    exc = remote_error(HttpResponse(403, {}, b""), ErrorBody("code", None), what="y")
    assert str(exc) == "Auth0 answered y with HTTP 403 code"
    exc = remote_error(HttpResponse(404, {}, b""), ErrorBody(None, None), what="y")
    assert str(exc) == "Auth0 answered y with HTTP 404"
    assert (exc.status_code, exc.error, exc.error_description) == (404, None, None)


@pytest.mark.parametrize(
    ("reset", "reset_at"),
    [
        ("1800000060", 1_800_000_060),
        (" 1800000060.9 ", 1_800_000_060),
        ("0", 0),
        ("-5", None),
        ("soon", None),
        (None, None),
    ],
)
def test_a_429_is_rate_limited_with_its_reset(reset: str | None, reset_at: int | None) -> None:
    """x-ratelimit-reset becomes an epoch second; a negative or unreadable one is None."""
    headers = {} if reset is None else {"x-ratelimit-reset": reset}
    resp = HttpResponse(429, headers, b'{"error": "too_many_requests", "error_description": "s"}')
    exc = remote_error(resp, ErrorBody("too_many_requests", "s"), what="x")
    assert isinstance(exc, RateLimitedError)
    assert str(exc) == "Auth0 answered x with HTTP 429 too_many_requests: s"
    assert (exc.reset_at, exc.status_code, exc.error) == (reset_at, 429, "too_many_requests")
    assert exc.error_description == "s"


@pytest.mark.parametrize(
    ("status", "retry", "retry_after"),
    [
        (500, "3", 3.0),
        (503, " 2.5 ", 2.5),
        (502, "0", 0.0),
        (504, "-1", None),
        (599, "later", None),
        (500, None, None),
    ],
)
def test_a_5xx_is_a_server_error_with_its_retry_after(
    status: int, retry: str | None, retry_after: float | None
) -> None:
    """Retry-After becomes seconds (zero included); a negative or unreadable one is None."""
    headers = {} if retry is None else {"retry-after": retry}
    exc = remote_error(HttpResponse(status, headers, b""), ErrorBody(None, None), what="x")
    assert isinstance(exc, ServerError)
    assert str(exc) == f"Auth0 answered x with HTTP {status}"
    assert (exc.retry_after, exc.status_code) == (retry_after, status)


def test_a_499_is_an_auth0_error() -> None:
    """Only 5xx statuses are server errors; a 4xx other than 429 is an Auth0Error."""
    exc = remote_error(HttpResponse(499, {}, b""), ErrorBody(None, None), what="x")
    assert type(exc) is Auth0Error


# ------------------------------------------------------------------ whole answers


TOKENS = {"access_token": "at", "expires_in": 600, "token_type": "Bearer"}
PARSED = {"access_token": "at", "token_type": "Bearer", "expires_in": 600}


def answer(trigger: str, resp: HttpResponse, params: dict[str, Any] | None = None) -> Answer:
    """What ``parse_response`` makes of ``resp`` to ``trigger``."""
    return parse_response(trigger, resp, params or {}, SECRET)


@pytest.mark.parametrize(
    ("trigger", "resp", "expected"),
    [
        ("start_passwordless", HttpResponse(200, {}, b""), Answer("code_sent", {}, 200)),
        ("resend_code", ok({"_id": "1"}, 202), Answer("code_sent", {}, 202)),
        ("verify_otp", ok(TOKENS, 201), Answer("tokens", {"tokens": PARSED}, 201)),
        ("login_password", ok(TOKENS), Answer("tokens", {"tokens": PARSED}, 200)),
        ("confirm_oob", ok(TOKENS, 299), Answer("tokens", {"tokens": PARSED}, 299)),
        ("confirm_otp", ok(TOKENS), Answer("tokens", {"tokens": PARSED}, 200)),
        ("confirm_recovery_code", ok(TOKENS), Answer("tokens", {"tokens": PARSED}, 200)),
        ("poll_push", ok(TOKENS), Answer("tokens", {"tokens": PARSED}, 200)),
        ("refresh", ok(TOKENS), Answer("tokens", {"tokens": PARSED}, 200)),
        (
            "challenge",
            ok({"challenge_type": "otp"}, 201),
            Answer("challenged", {"challenge_type": "otp", "factor": "otp"}, 201),
        ),
        (
            "list_authenticators",
            ok([], 203),
            Answer("authenticators", {"authenticators": []}, 203),
        ),
        (
            "enroll",
            ok({"authenticator_type": "otp", "secret": "S", "barcode_uri": "otpauth://x"}, 201),
            Answer(
                "enrolled",
                {
                    "authenticator_type": "otp",
                    "factor": "otp",
                    "totp_secret": "S",
                    "barcode_uri": "otpauth://x",
                },
                201,
            ),
        ),
    ],
)
def test_a_success_is_read_into_its_answer(
    trigger: str, resp: HttpResponse, expected: Answer
) -> None:
    """Each trigger's 2xx answer becomes its outcome with its data and status."""
    assert answer(trigger, resp, {"factor": "otp"}) == expected


def test_first_factor_tokens_for_the_mfa_audience_are_an_mfa_credential() -> None:
    """verify_otp and login_password for https://<tenant>/mfa/ yield mfa_access_token."""
    for trigger in ("verify_otp", "login_password"):
        got = answer(trigger, ok(TOKENS), {"audience": "https://tenant.example.auth0.com/mfa/"})
        assert got == Answer("mfa_access_token", {"tokens": PARSED}, 200)
        assert answer(trigger, ok(TOKENS), {"audience": API}).kind == "tokens"


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        ("verify_otp", "Auth0 sent content type 'text/plain' for verify_otp"),
        ("confirm_otp", "Auth0 sent content type 'text/plain' for confirm_otp"),
        ("challenge", "Auth0 sent content type 'text/plain' for challenge"),
        ("enroll", "Auth0 sent content type 'text/plain' for enroll"),
        ("start_passwordless", "Auth0 sent content type 'text/plain' for start_passwordless"),
        (
            "list_authenticators",
            "Auth0 sent a non-JSON content type for the authenticator list",
        ),
    ],
)
def test_a_success_that_is_not_json_names_the_trigger(trigger: str, message: str) -> None:
    """A 2xx body declared as text is refused with a message naming the call."""
    resp = HttpResponse(201, {"content-type": "text/plain"}, b'{"access_token": "at"}')
    exc = refused(MalformedResponseError, answer, trigger, resp, {"factor": "otp"})
    assert (str(exc), exc.status_code) == (message, 201)


@pytest.mark.parametrize(
    ("trigger", "raw", "message"),
    [
        ("list_authenticators", b"", "Auth0 sent an empty body for list_authenticators (HTTP 201)"),
        ("verify_otp", b"{}", "Auth0's answer to verify_otp lacks the field 'access_token'"),
        (
            "refresh",
            b'{"access_token": ""}',
            "Auth0's answer to refresh lacks the field 'access_token'",
        ),
        ("challenge", b"{}", "Auth0's answer to challenge lacks the field 'challenge_type'"),
        ("enroll", b"{}", "Auth0's answer to enroll lacks the field 'authenticator_type'"),
    ],
)
def test_a_success_missing_its_field_names_the_trigger_and_field(
    trigger: str, raw: bytes, message: str
) -> None:
    """A 2xx body without its required field is refused naming the call and the field."""
    exc = refused(MalformedResponseError, answer, trigger, HttpResponse(201, JSON_CT, raw))
    assert (str(exc), exc.status_code) == (message, 201)


# --------------------------------------------------------------------- tokens


def test_parse_tokens_keeps_the_known_string_fields() -> None:
    """id_token, refresh_token, scope and recovery_code are kept when they are strings."""
    doc = {
        "access_token": "at",
        "id_token": "it",
        "refresh_token": "rt",
        "scope": "openid",
        "recovery_code": "RC",
        "token_type": "DPoP",
        "expires_in": 0,
        "extra": "dropped",
    }
    assert parse_tokens(doc, ok(doc), "x") == {
        "access_token": "at",
        "id_token": "it",
        "refresh_token": "rt",
        "scope": "openid",
        "recovery_code": "RC",
        "token_type": "DPoP",
        "expires_in": 0,
    }
    odd = {"access_token": "at", "id_token": 1, "refresh_token": None, "scope": ["a"]}
    assert parse_tokens(odd, ok(odd), "x") == {
        "access_token": "at",
        "token_type": "Bearer",
        "expires_in": None,
    }


def test_parse_tokens_defaults_a_missing_or_odd_token_type_to_bearer() -> None:
    """No token_type, or one that is not a string, reads as "Bearer"."""
    docs: list[dict[str, Any]] = [
        {"access_token": "at"},
        {"access_token": "at", "token_type": 7},
        {"access_token": "at", "token_type": None},
    ]
    for doc in docs:
        assert parse_tokens(doc, ok(doc), "x")["token_type"] == "Bearer"


@pytest.mark.parametrize("expires_in", ["600", 1.5, True, [600]])
def test_parse_tokens_refuses_a_non_integer_expires_in(expires_in: Any) -> None:
    """expires_in must be an int (a bool is not); the message names the call."""
    doc = {"access_token": "at", "expires_in": expires_in}
    exc = refused(MalformedResponseError, parse_tokens, doc, ok(doc, 201), "verify_otp")
    assert str(exc) == "Auth0's answer to verify_otp has a non-integer expires_in"
    assert exc.status_code == 201


def test_parse_tokens_names_the_missing_access_token() -> None:
    """No access_token (or an empty one) is refused naming the call and the field."""
    for doc in ({}, {"access_token": ""}, {"access_token": 5}):
        exc = refused(MalformedResponseError, parse_tokens, doc, ok(doc, 200), "refresh")
        assert str(exc) == "Auth0's answer to refresh lacks the field 'access_token'"
        assert exc.status_code == 200


# ----------------------------------------------------------------- authenticators


def test_parse_authenticators_keeps_the_known_fields() -> None:
    """Each entry keeps id, type, active, the first oob channel, name and type label."""
    items = [
        {
            "id": "sms|dev_1",
            "authenticator_type": "oob",
            "active": True,
            "oob_channel": "sms",
            "name": "+1 ***0100",
            "type": "sms",
            "created_at": "2024",
        },
        {
            "id": "push|dev_2",
            "authenticator_type": "oob",
            "active": False,
            "oob_channels": ["auth0", "x"],
        },
        {"id": "email|dev_3", "authenticator_type": "oob", "active": True, "oob_channels": "email"},
        {"id": "totp|dev_4", "authenticator_type": "otp", "active": True, "oob_channels": []},
        {"id": "r|5", "authenticator_type": "recovery-code", "active": True, "name": 3},
        {
            "id": "x|6",
            "authenticator_type": "oob",
            "active": True,
            "oob_channel": None,
            "oob_channels": "voice",
        },
    ]
    assert parse_authenticators(items, ok(items)) == [
        {
            "id": "sms|dev_1",
            "authenticator_type": "oob",
            "active": True,
            "oob_channel": "sms",
            "name": "+1 ***0100",
            "type": "sms",
        },
        {"id": "push|dev_2", "authenticator_type": "oob", "active": False, "oob_channel": "auth0"},
        {"id": "email|dev_3", "authenticator_type": "oob", "active": True, "oob_channel": "email"},
        {"id": "totp|dev_4", "authenticator_type": "otp", "active": True},
        {"id": "r|5", "authenticator_type": "recovery-code", "active": True},
        {"id": "x|6", "authenticator_type": "oob", "active": True},
    ]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ({"id": "x"}, "Auth0 sent a non-array authenticator list"),
        (["sms|dev_1"], "Auth0 sent a non-object authenticator"),
        (
            [{"authenticator_type": "oob", "active": True}],
            "Auth0 sent an authenticator without id, authenticator_type or active",
        ),
        (
            [{"id": "a", "active": True}],
            "Auth0 sent an authenticator without id, authenticator_type or active",
        ),
        (
            [{"id": "a", "authenticator_type": "oob"}],
            "Auth0 sent an authenticator without id, authenticator_type or active",
        ),
        (
            [{"id": "a", "authenticator_type": "oob", "active": "yes"}],
            "Auth0 sent an authenticator without id, authenticator_type or active",
        ),
    ],
)
def test_parse_authenticators_refuses_a_bad_shape(items: Any, message: str) -> None:
    """A list that is not an array of complete authenticator objects is refused by name."""
    exc = refused(MalformedResponseError, answer, "list_authenticators", ok(items, 201))
    assert (str(exc), exc.status_code) == (message, 201)


# ------------------------------------------------------------------- enrollment

OTP_DOC = {"authenticator_type": "otp", "secret": "S", "barcode_uri": "otpauth://x"}
OOB_DOC = {"authenticator_type": "oob", "oob_code": "O", "binding_method": "prompt"}


def test_parse_enrollment_of_an_oob_factor() -> None:
    """An oob enrollment carries its code, channel, binding method and optional QR and codes."""
    doc = {
        **OOB_DOC,
        "oob_channel": "sms",
        "barcode_uri": "otpauth://q",
        "recovery_codes": ["A", "B"],
    }
    assert parse_enrollment(doc, ok(doc), {"factor": "sms"}) == {
        "authenticator_type": "oob",
        "factor": "sms",
        "oob_code": "O",
        "oob_channel": "sms",
        "binding_method": "prompt",
        "barcode_uri": "otpauth://q",
        "recovery_codes": ["A", "B"],
    }
    legacy = {**OOB_DOC, "oob_channels": "email", "barcode_uri": 5, "recovery_codes": ["A", 1]}
    assert parse_enrollment(legacy, ok(legacy), {"factor": "email"}) == {
        "authenticator_type": "oob",
        "factor": "email",
        "oob_code": "O",
        "oob_channel": "email",
        "binding_method": "prompt",
    }
    push = {"authenticator_type": "oob", "oob_code": "O", "oob_channel": ["auth0"]}
    assert parse_enrollment(push, ok(push), {"factor": "push"}) == {
        "authenticator_type": "oob",
        "factor": "push",
        "oob_code": "O",
        "oob_channel": None,
        "binding_method": None,
    }
    odd = {**OOB_DOC, "binding_method": 1, "oob_channel": 2}
    assert parse_enrollment(odd, ok(odd), {"factor": "push"})["binding_method"] is None
    assert parse_enrollment(odd, ok(odd), {"factor": "push"})["oob_channel"] is None


def test_parse_enrollment_of_an_otp_factor() -> None:
    """An otp enrollment carries its secret and URI, and the recovery codes if all strings."""
    doc = {**OTP_DOC, "recovery_codes": ["A"]}
    assert parse_enrollment(doc, ok(doc), {"factor": "otp"}) == {
        "authenticator_type": "otp",
        "factor": "otp",
        "totp_secret": "S",
        "barcode_uri": "otpauth://x",
        "recovery_codes": ["A"],
    }
    bad_codes = {**OTP_DOC, "recovery_codes": "A"}
    assert "recovery_codes" not in parse_enrollment(bad_codes, ok(bad_codes), {"factor": "otp"})


@pytest.mark.parametrize(
    ("doc", "factor", "message"),
    [
        ({"authenticator_type": "otp", "barcode_uri": "u"}, "otp", "lacks the field 'secret'"),
        ({"authenticator_type": "otp", "secret": "S"}, "otp", "lacks the field 'barcode_uri'"),
        (
            {"authenticator_type": "oob", "binding_method": "prompt"},
            "sms",
            "lacks the field 'oob_code'",
        ),
        ({"authenticator_type": 1}, "sms", "lacks the field 'authenticator_type'"),
    ],
)
def test_parse_enrollment_names_a_missing_field(doc: Any, factor: str, message: str) -> None:
    """An enrollment answer without a field its type needs is refused naming the field."""
    exc = refused(MalformedResponseError, parse_enrollment, doc, ok(doc, 201), {"factor": factor})
    assert (str(exc), exc.status_code) == (f"Auth0's answer to enroll {message}", 201)


def test_parse_enrollment_refuses_an_oob_code_without_a_prompt() -> None:
    """A non-push oob enrollment must ask for a binding code; the error says so."""
    for binding in (None, "none", "PROMPT"):
        doc = {"authenticator_type": "oob", "oob_code": "O", "binding_method": binding}
        exc = refused(
            MalformedResponseError, parse_enrollment, doc, ok(doc, 201), {"factor": "sms"}
        )
        assert str(exc) == "Auth0's enrollment answer lacks binding_method 'prompt'"
        assert exc.status_code == 201


def test_parse_enrollment_refuses_an_unknown_authenticator_type() -> None:
    """Auth0 enrolling something else than otp or oob is refused, naming the type."""
    doc = {"authenticator_type": "webauthn"}
    exc = refused(MalformedResponseError, parse_enrollment, doc, ok(doc, 201), {"factor": "sms"})
    assert str(exc) == "Auth0 enrolled an unexpected authenticator_type 'webauthn'"
    assert exc.status_code == 201


# -------------------------------------------------------------------- challenges


def test_parse_challenge_answers() -> None:
    """An otp challenge carries nothing; an oob one its code, and prompt means a binding code."""
    assert parse_challenge({"challenge_type": "otp", "oob_code": "O"}, ok({})) == {
        "challenge_type": "otp",
        "factor": "otp",
    }
    doc: dict[str, Any] = {"challenge_type": "oob", "oob_code": "O", "binding_method": "prompt"}
    assert parse_challenge(doc, ok(doc)) == {
        "challenge_type": "oob",
        "oob_code": "O",
        "binding_method": "prompt",
        "factor": "oob",
    }
    for binding in (None, 7, "PROMPT"):
        doc = {"challenge_type": "oob", "oob_code": "O", "binding_method": binding}
        assert parse_challenge(doc, ok(doc)) == {
            "challenge_type": "oob",
            "oob_code": "O",
            "binding_method": binding if isinstance(binding, str) else None,
            "factor": "push",
        }


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"challenge_type": "sms"}, "Auth0 answered the challenge with challenge_type 'sms'"),
        ({"challenge_type": "oob"}, "Auth0's answer to challenge lacks the field 'oob_code'"),
        ({}, "Auth0's answer to challenge lacks the field 'challenge_type'"),
    ],
)
def test_parse_challenge_refuses_a_bad_answer(doc: Any, message: str) -> None:
    """An unknown challenge type or an oob challenge without its code is refused by name."""
    exc = refused(MalformedResponseError, parse_challenge, doc, ok(doc, 201))
    assert (str(exc), exc.status_code) == (message, 201)


# ------------------------------------------------------------ mfa requirements


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ([{"type": "otp"}], None),
        ({}, None),
        ({"challenge": [{"type": "otp"}, {"type": "phone"}]}, {"challenge": ["otp", "phone"]}),
        (
            {"enroll": [{"type": "otp"}, "push-notification"]},
            {"enroll": ["otp", "push-notification"]},
        ),
        (
            {"challenge": [{"type": "otp"}], "enroll": [{"type": "phone"}]},
            {"challenge": ["otp"], "enroll": ["phone"]},
        ),
        ({"challenge": "otp", "enroll": [{"type": "otp"}]}, {"enroll": ["otp"]}),
        (
            {"challenge": [{"type": "otp"}, {"type": "otp"}, "otp", {"kind": "x"}, 5, ""]},
            {"challenge": ["otp"]},
        ),
        ({"challenge": [{"type": ""}, {"type": 3}]}, None),
        ({"challenge": [{"type": "t" * 100}]}, {"challenge": ["t" * 64]}),
        ({"challenge_types": ["otp"]}, {"challenge": ["otp"]}),
        (
            {"challenge_types": ["oob", "otp", "webauthn", 4]},
            {"challenge": ["phone", "email", "push-notification", "otp"]},
        ),
        ({"challenge_types": "otp"}, None),
        ({"challenge_types": ["webauthn"]}, None),
        (
            {"challenge": [{"type": "phone"}], "challenge_types": ["otp"]},
            {"challenge": ["phone"]},
        ),
        (
            {"challenge": [], "challenge_types": ["otp"], "enroll": [{"type": "otp"}]},
            {"challenge": ["otp"], "enroll": ["otp"]},
        ),
    ],
)
def test_parse_mfa_requirements(raw: Any, expected: Any) -> None:
    """Both documented shapes are read; odd, empty or repeated entries are dropped."""
    assert parse_mfa_requirements(raw) == expected


def test_mfa_required_answer_carries_the_token_and_requirements() -> None:
    """An mfa_required error is read by its code (any status) with token and requirements."""
    reqs = {"challenge": [{"type": "otp"}]}
    for status in (401, 403):
        resp = fail(status, "mfa_required", "MFA", mfa_token="T", mfa_requirements=reqs)
        assert answer("verify_otp", resp) == Answer(
            "mfa_required",
            {"mfa_token": "T", "mfa_requirements": {"challenge": ["otp"]}},
            status,
            "mfa_required",
        )
    resp = fail(403, "mfa_required", mfa_token="T")
    assert answer("confirm_otp", resp).data == {"mfa_token": "T", "mfa_requirements": None}


def test_mfa_required_without_a_token_is_malformed() -> None:
    """An mfa_required answer without mfa_token is refused naming the call and the field."""
    exc = refused(MalformedResponseError, answer, "login_password", fail(403, "mfa_required"))
    assert str(exc) == "Auth0's answer to login_password lacks the field 'mfa_token'"
    assert exc.status_code == 403


def test_mfa_required_is_not_absorbed_by_the_passwordless_start() -> None:
    """/passwordless/start answered mfa_required raises instead of starting MFA."""
    exc = refused(
        Auth0Error, answer, "start_passwordless", fail(403, "mfa_required", "m", mfa_token="T")
    )
    assert str(exc) == "Auth0 answered start_passwordless with HTTP 403 mfa_required: m"


# ------------------------------------------------------------------ error outcomes


@pytest.mark.parametrize(
    ("trigger", "resp", "kind"),
    [
        ("verify_otp", fail(429, "too_many_attempts", "blocked"), "locked"),
        ("verify_otp", fail(403, "too_many_attempts", "blocked"), "locked"),
        ("verify_otp", fail(401, "expired_token", "gone"), "expired"),
        ("verify_otp", fail(400, "invalid_grant", "Wrong code"), "wrong_code"),
        ("verify_otp", fail(403, "invalid_grant", "Wrong code"), "wrong_code"),
        ("verify_otp", fail(400, "invalid_user_password", "Wrong"), "wrong_code"),
        ("verify_otp", fail(403, "invalid_user_password", "Wrong"), "wrong_code"),
        ("login_password", fail(400, "invalid_grant", "Wrong"), "wrong_credentials"),
        ("login_password", fail(403, "invalid_user_password", "Wrong"), "wrong_credentials"),
        ("login_password", fail(429, "too_many_attempts", "blocked"), "locked"),
        ("login_password", fail(403, "expired_token", "gone"), "expired"),
        ("list_authenticators", fail(401, "expired_token", "gone"), "expired"),
        ("enroll", fail(403, "access_denied", "User is ALREADY ENROLLED"), "already_enrolled"),
        ("enroll", fail(401, "expired_token", "gone"), "expired"),
        ("challenge", fail(400, "unsupported_challenge_type", "no"), "must_enroll"),
        ("challenge", fail(400, "association_required", "no"), "must_enroll"),
        ("challenge", fail(401, "expired_token", "gone"), "expired"),
        ("confirm_otp", fail(403, "expired_token", "The OOB_CODE is expired"), "code_expired"),
        ("confirm_otp", fail(403, "expired_token", "mfa_token is expired"), "expired"),
        ("confirm_otp", fail(403, "expired_token"), "expired"),
        ("confirm_otp", fail(403, "access_denied", "rejected"), "rejected"),
        ("confirm_otp", fail(403, "invalid_grant", "Invalid otp_code."), "wrong_code"),
        ("confirm_otp", fail(403, "invalid_grant"), "wrong_code"),
        ("confirm_oob", fail(403, "invalid_grant", "MFA Authorization rejected."), "wrong_code"),
        ("confirm_recovery_code", fail(400, "association_required"), "must_enroll"),
        ("confirm_recovery_code", fail(400, "unsupported_challenge_type"), "must_enroll"),
        ("poll_push", fail(400, "authorization_pending", "pending"), "pending"),
        ("poll_push", fail(400, "slow_down", "slow"), "slow_down"),
        ("poll_push", fail(403, "invalid_grant", "MFA Authorization rejected. x"), "rejected"),
        ("poll_push", fail(403, "invalid_grant", "Invalid"), "wrong_code"),
        ("poll_push", fail(403, "access_denied"), "rejected"),
        ("poll_push", fail(403, "expired_token", "oob_code is expired"), "code_expired"),
        ("poll_push", fail(403, "expired_token", "mfa_token is expired"), "expired"),
        ("poll_push", fail(400, "association_required"), "must_enroll"),
    ],
)
def test_an_absorbed_error_is_read_into_its_outcome(
    trigger: str, resp: HttpResponse, kind: str
) -> None:
    """Each absorbed error code becomes its outcome, with status, code and description."""
    doc = json.loads(resp.body)
    assert answer(trigger, resp) == Answer(
        kind, {"description": doc.get("error_description")}, resp.status_code, doc["error"]
    )


@pytest.mark.parametrize(
    ("trigger", "resp", "exc"),
    [
        ("verify_otp", fail(401, "invalid_grant", "Wrong"), Auth0Error),
        ("verify_otp", fail(500, "invalid_grant", "Wrong"), ServerError),
        ("verify_otp", fail(401, "invalid_user_password", "Wrong"), Auth0Error),
        ("login_password", fail(401, "invalid_grant", "Wrong"), Auth0Error),
        ("verify_otp", fail(429, "too_many_requests", "slow"), RateLimitedError),
        ("verify_otp", fail(403, "access_denied", "no"), Auth0Error),
        ("start_passwordless", fail(400, "expired_token", "x"), Auth0Error),
        ("refresh", fail(400, "invalid_grant", "x"), Auth0Error),
        ("list_authenticators", fail(403, "access_denied", "already enrolled"), Auth0Error),
        ("enroll", fail(403, "access_denied", "not allowed"), Auth0Error),
        ("enroll", fail(403, "invalid_grant", "already enrolled"), Auth0Error),
        ("challenge", fail(403, "access_denied", "no"), Auth0Error),
        ("confirm_otp", fail(403, "invalid_grant", "Malformed mfa_token"), Auth0Error),
        ("confirm_otp", fail(403, "invalid_grant", "MALFORMED otp"), Auth0Error),
        ("confirm_otp", fail(403, "invalid_request", "oob_code is expired"), Auth0Error),
        ("confirm_otp", fail(429, "slow_down", "x"), RateLimitedError),
        ("confirm_otp", fail(400, "authorization_pending", "x"), Auth0Error),
        ("poll_push", fail(403, "invalid_grant", "Malformed oob_code"), Auth0Error),
        ("poll_push", fail(429, "too_many_requests", "x"), RateLimitedError),
        ("poll_push", fail(429, "slow_down", "slow"), RateLimitedError),
    ],
)
def test_an_error_the_trigger_does_not_absorb_raises(
    trigger: str, resp: HttpResponse, exc: type[RemoteError]
) -> None:
    """An error code outside the trigger's map (or at another status) raises, named."""
    doc = json.loads(resp.body)
    got = refused(exc, answer, trigger, resp)
    assert str(got) == (
        f"Auth0 answered {trigger} with HTTP {resp.status_code} {doc['error']}: "
        f"{doc['error_description']}"
    )
    assert (got.status_code, got.error) == (resp.status_code, doc["error"])


def test_a_plain_text_error_answer_raises_by_status() -> None:
    """A 4xx or 5xx without a JSON body raises with the status alone."""
    exc = refused(ServerError, answer, "confirm_otp", HttpResponse(502, {}, b"<html>bad</html>"))
    assert (str(exc), exc.error) == ("Auth0 answered confirm_otp with HTTP 502", None)
    exc = refused(Auth0Error, answer, "verify_otp", HttpResponse(400, JSON_CT, b"[]"))
    assert str(exc) == "Auth0 answered verify_otp with HTTP 400"


@pytest.mark.parametrize("status", [199, 300, 302])
def test_only_2xx_is_a_success(status: int) -> None:
    """A 1xx or 3xx answer with a token body is an error, not tokens."""
    exc = refused(Auth0Error, answer, "confirm_otp", ok(TOKENS, status))
    assert str(exc) == f"Auth0 answered confirm_otp with HTTP {status}"
