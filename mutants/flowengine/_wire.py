"""The wire side of each trigger: build its request, parse Auth0's answer into an outcome.

``WIRE`` holds one ``Wire`` record per trigger that calls Auth0 (the machine's side of
the trigger lives in ``_machine``): its request builder, the parser of a successful
answer, and the map from Auth0's error codes to the outcomes the machine absorbs.

Pure functions of plain data: no httpx, no clock, no randomness. A request is a
``HttpRequest`` description the drivers send; a response comes back as a
``HttpResponse`` description. Parsing never raises ``JSONDecodeError``: a body
that is empty, not JSON, truncated or of the wrong shape gives
``MalformedResponseError``. Expected answers (``mfa_required``, a wrong code,
``authorization_pending``...) become an ``Outcome`` whose ``kind`` selects the
row of the machine; answers the flow cannot absorb raise a ``RemoteError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import attrs

from flowengine._config import Auth0Config
from flowengine._context import Context
from flowengine._errors import (
    Auth0Error,
    MalformedResponseError,
    RateLimitedError,
    RemoteError,
    ServerError,
)
from flowengine._machine import (
    GRANT_MFA_OOB,
    GRANT_MFA_OTP,
    GRANT_MFA_RECOVERY,
    GRANT_PASSWORD_REALM,
    GRANT_PASSWORDLESS_OTP,
    GRANT_REFRESH,
)

JSON_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-type", "application/json"),
    ("accept", "application/json"),
)
ACCEPT_JSON: tuple[tuple[str, str], ...] = (("accept", "application/json"),)


@attrs.frozen
class HttpRequest:
    """A description of one HTTP request; the drivers turn it into a real one."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = attrs.field(default=(), repr=False)
    body: bytes | None = attrs.field(default=None, repr=False)


@attrs.frozen
class HttpResponse:
    """A description of one HTTP response. Header names are lower-case."""

    status_code: int
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    body: bytes = attrs.field(default=b"", repr=False)


@attrs.frozen
class Answer:
    """What an Auth0 answer means for the flow: ``kind`` (an ``Outcome``) picks the row."""

    kind: str
    data: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    status_code: int | None = None
    error: str | None = None


# ---------------------------------------------------------------- requests


_ENCODE = json.JSONEncoder(separators=(",", ":")).encode  # built once: json.dumps
# with non-default separators would build a new encoder on every call.


def _json_body(fields: Mapping[str, Any]) -> bytes:
    return _ENCODE(fields).encode()


def post_json(path: str, fields: Mapping[str, Any], bearer: str | None = None) -> HttpRequest:
    """A JSON POST, optionally with a bearer token."""
    headers = JSON_HEADERS
    if bearer is not None:
        headers = (*JSON_HEADERS, ("authorization", f"Bearer {bearer}"))
    return HttpRequest("POST", path, headers, _json_body(fields))


def get_bearer(path: str, bearer: str) -> HttpRequest:
    """A GET with a bearer token and no body."""
    return HttpRequest("GET", path, (*ACCEPT_JSON, ("authorization", f"Bearer {bearer}")))


def token_request(config: Auth0Config, grant_type: str, fields: Mapping[str, Any]) -> HttpRequest:
    """A ``POST /oauth/token`` for ``grant_type`` with client authentication in the body."""
    return post_json("/oauth/token", {"grant_type": grant_type, **config.client_auth(), **fields})


RequestBuilder = Callable[[Context, Mapping[str, Any], Auth0Config], HttpRequest]


def _forwarded(
    build: RequestBuilder,
) -> RequestBuilder:
    """Add ``auth0-forwarded-for`` (the end user's IP) when given and a secret is used.

    Auth0 honours the header only for confidential clients authenticating with
    the client secret (and "Trust Token Endpoint IP Header" on), so per-IP rate
    limits and brute-force protection apply to the user, not to the app server.
    """

    def with_header(ctx: Context, p: Mapping[str, Any], cfg: Auth0Config) -> HttpRequest:
        req = build(ctx, p, cfg)
        ip = p.get("forwarded_for")
        if ip is None or cfg.client_secret is None:
            return req
        return attrs.evolve(req, headers=(*req.headers, ("auth0-forwarded-for", ip)))

    return with_header


def _mfa_token(ctx: Context) -> str:
    assert ctx.mfa_token is not None  # the trigger's guard checked it
    return ctx.mfa_token


def _oob_code(ctx: Context) -> str:
    assert ctx.oob_code is not None  # the trigger's guard checked it
    return ctx.oob_code


def _start(ctx: Context, p: Mapping[str, Any], cfg: Auth0Config) -> HttpRequest:
    connection = p.get("connection", ctx.connection)
    fields: dict[str, Any] = {**cfg.client_auth(), "connection": connection, "send": "code"}
    if connection == "sms":
        fields["phone_number"] = p.get("phone_number", ctx.phone_number)
    else:
        fields["email"] = p.get("email", ctx.email)
    return post_json("/passwordless/start", fields)


def _verify(ctx: Context, p: Mapping[str, Any], cfg: Auth0Config) -> HttpRequest:
    connection = ctx.connection
    username = ctx.phone_number if connection == "sms" else ctx.email
    return token_request(
        cfg,
        GRANT_PASSWORDLESS_OTP,
        {
            "realm": connection,
            "username": username,
            "otp": p["otp"],
            "audience": p["audience"],
            "scope": p["scope"],
        },
    )


def _password(ctx: Context, p: Mapping[str, Any], cfg: Auth0Config) -> HttpRequest:
    return token_request(
        cfg,
        GRANT_PASSWORD_REALM,
        {
            "realm": p["realm"],
            "username": p["username"],
            "password": p["password"],
            "audience": p["audience"],
            "scope": p["scope"],
        },
    )


def _list(ctx: Context, p: Mapping[str, Any], cfg: Auth0Config) -> HttpRequest:
    return get_bearer("/mfa/authenticators", _mfa_token(ctx))


def _enroll(ctx: Context, p: Mapping[str, Any], cfg: Auth0Config) -> HttpRequest:
    factor = p["factor"]
    fields: dict[str, Any] = dict(cfg.client_auth())
    if factor == "otp":
        fields["authenticator_types"] = ["otp"]
    else:
        fields["authenticator_types"] = ["oob"]
        fields["oob_channels"] = ["auth0" if factor == "push" else factor]
        if factor in ("sms", "voice"):
            fields["phone_number"] = p["phone_number"]
        elif factor == "email" and p.get("email"):
            fields["email"] = p["email"]
    return post_json("/mfa/associate", fields, bearer=_mfa_token(ctx))


def _challenge(ctx: Context, p: Mapping[str, Any], cfg: Auth0Config) -> HttpRequest:
    # Recorded behaviour: mfa_token and client credentials in the BODY, no bearer.
    fields: dict[str, Any] = {**cfg.client_auth(), "mfa_token": _mfa_token(ctx)}
    if p.get("challenge_type"):
        fields["challenge_type"] = p["challenge_type"]
    if p.get("authenticator_id"):
        fields["authenticator_id"] = p["authenticator_id"]
    return post_json("/mfa/challenge", fields)


def _confirm_oob(ctx: Context, p: Mapping[str, Any], cfg: Auth0Config) -> HttpRequest:
    fields = {"mfa_token": _mfa_token(ctx), "oob_code": _oob_code(ctx)}
    if "binding_code" in p:
        fields["binding_code"] = p["binding_code"]
    return token_request(cfg, GRANT_MFA_OOB, fields)


def _confirm_otp(ctx: Context, p: Mapping[str, Any], cfg: Auth0Config) -> HttpRequest:
    return token_request(cfg, GRANT_MFA_OTP, {"mfa_token": _mfa_token(ctx), "otp": p["otp"]})


def _confirm_recovery(ctx: Context, p: Mapping[str, Any], cfg: Auth0Config) -> HttpRequest:
    return token_request(
        cfg,
        GRANT_MFA_RECOVERY,
        {"mfa_token": _mfa_token(ctx), "recovery_code": p["recovery_code"]},
    )


def refresh_request(config: Auth0Config, refresh_token: str, scope: str | None) -> HttpRequest:
    """The ``refresh_token`` grant (an account operation beside the flow)."""
    fields: dict[str, Any] = {"refresh_token": refresh_token}
    if scope:
        fields["scope"] = scope
    return token_request(config, GRANT_REFRESH, fields)


def list_request(access_token: str) -> HttpRequest:
    """``GET /mfa/authenticators`` with an MFA-audience access token."""
    return get_bearer("/mfa/authenticators", access_token)


def delete_request(access_token: str, authenticator_id: str) -> HttpRequest:
    """``DELETE /mfa/authenticators/{id}``; the id is URL-encoded (``|`` is ``%7C``)."""
    path = "/mfa/authenticators/" + quote(authenticator_id, safe="")
    return HttpRequest("DELETE", path, (*ACCEPT_JSON, ("authorization", f"Bearer {access_token}")))


# --------------------------------------------------------------- responses


def _content_type_is_json(resp: HttpResponse) -> bool:
    ctype = resp.headers.get("content-type", "")
    return "json" in ctype.lower()


def decode_json(resp: HttpResponse, *, what: str) -> Any:
    """The body as JSON, or ``MalformedResponseError``: never a ``JSONDecodeError``."""
    if not resp.body.strip():
        raise MalformedResponseError(
            f"Auth0 sent an empty body for {what} (HTTP {resp.status_code})",
            status_code=resp.status_code,
        )
    try:
        return json.loads(resp.body)
    except (UnicodeDecodeError, ValueError):
        kind = "truncated JSON" if resp.body.lstrip()[:1] in (b"{", b"[") else "not JSON"
        # `from None`: the decoder's exception would carry the whole body along.
        raise MalformedResponseError(
            f"Auth0 sent {kind} for {what} (HTTP {resp.status_code})",
            status_code=resp.status_code,
        ) from None


def decode_object(resp: HttpResponse, *, what: str) -> dict[str, Any]:
    """A successful JSON object body, checked for content type and shape."""
    if not _content_type_is_json(resp):
        raise MalformedResponseError(
            f"Auth0 sent content type {resp.headers.get('content-type', '(none)')!r} for {what}",
            status_code=resp.status_code,
        )
    doc = decode_json(resp, what=what)
    if not isinstance(doc, dict):
        raise MalformedResponseError(
            f"Auth0 sent a JSON {type(doc).__name__} where an object was expected for {what}",
            status_code=resp.status_code,
        )
    return doc


def _str_field(doc: Mapping[str, Any], name: str, resp: HttpResponse, what: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedResponseError(
            f"Auth0's answer to {what} lacks the field {name!r}", status_code=resp.status_code
        )
    return value


@attrs.frozen
class ErrorBody:
    """The error fields of an Auth0 error response, from either envelope."""

    error: str | None
    description: str | None


def parse_error(resp: HttpResponse, doc: Any = None) -> ErrorBody:
    """Read ``{error, error_description}`` or ``{code, description}``; tolerate plain text."""
    if doc is None:
        doc = _error_doc(resp)
    if not isinstance(doc, dict) or not doc:
        return ErrorBody(None, None)
    error = doc.get("error", doc.get("code", doc.get("errorCode")))
    desc = doc.get("error_description", doc.get("description", doc.get("message")))
    return ErrorBody(
        error if isinstance(error, str) else None,
        desc if isinstance(desc, str) else None,
    )


def _header_number(resp: HttpResponse, name: str) -> float | None:
    raw = resp.headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if value >= 0 else None


def remote_error(resp: HttpResponse, err: ErrorBody, *, what: str) -> RemoteError:
    """The typed exception for an error answer the flow does not absorb."""
    status = resp.status_code
    msg = f"Auth0 answered {what} with HTTP {status}"
    if err.error:
        msg += f" {err.error}"
    if err.description:
        msg += f": {err.description[:200]}"
    kw: dict[str, Any] = {
        "status_code": status,
        "error": err.error,
        "error_description": err.description,
    }
    if status == 429:
        reset = _header_number(resp, "x-ratelimit-reset")
        return RateLimitedError(msg, reset_at=int(reset) if reset is not None else None, **kw)
    if status >= 500:
        return ServerError(msg, retry_after=_header_number(resp, "retry-after"), **kw)
    return Auth0Error(msg, **kw)


def parse_tokens(doc: Mapping[str, Any], resp: HttpResponse, what: str) -> dict[str, Any]:
    """The token response fields, checked: access_token is required."""
    tokens: dict[str, Any] = {"access_token": _str_field(doc, "access_token", resp, what)}
    for name in ("id_token", "refresh_token", "scope", "recovery_code"):
        if isinstance(doc.get(name), str):
            tokens[name] = doc[name]
    token_type = doc.get("token_type", "Bearer")
    tokens["token_type"] = token_type if isinstance(token_type, str) else "Bearer"
    expires_in = doc.get("expires_in")
    if expires_in is not None and (not isinstance(expires_in, int) or isinstance(expires_in, bool)):
        raise MalformedResponseError(
            f"Auth0's answer to {what} has a non-integer expires_in", status_code=resp.status_code
        )
    tokens["expires_in"] = expires_in
    return tokens


REJECTED_DESCRIPTION = "MFA Authorization rejected."


def _mfa_required(doc_err: Mapping[str, Any], resp: HttpResponse, what: str) -> Answer:
    token = _str_field(doc_err, "mfa_token", resp, what)
    req = doc_err.get("mfa_requirements")
    return Answer(
        "mfa_required",
        {"mfa_token": token, "mfa_requirements": req if isinstance(req, dict) else None},
        resp.status_code,
        "mfa_required",
    )


def _error_doc(resp: HttpResponse) -> dict[str, Any]:
    try:
        doc = json.loads(resp.body) if resp.body.strip() else {}
    except (UnicodeDecodeError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


# Per trigger: how an *error* code maps to an outcome kind (None: not absorbed).
ErrorMap = Callable[[ErrorBody, HttpResponse], "str | None"]


def _first_factor_errors(err: ErrorBody, resp: HttpResponse) -> str | None:
    if err.error == "too_many_attempts":
        return "locked"
    if err.error == "expired_token":
        return "expired"
    if err.error in ("invalid_grant", "invalid_user_password") and resp.status_code in (400, 403):
        return "wrong_code"
    return None


def _password_errors(err: ErrorBody, resp: HttpResponse) -> str | None:
    kind = _first_factor_errors(err, resp)
    return "wrong_credentials" if kind == "wrong_code" else kind


def _mfa_call_errors(err: ErrorBody, resp: HttpResponse) -> str | None:
    if err.error == "expired_token":
        return "expired"
    return None


def _enroll_errors(err: ErrorBody, resp: HttpResponse) -> str | None:
    if err.error == "access_denied" and "already enrolled" in (err.description or "").lower():
        return "already_enrolled"
    return _mfa_call_errors(err, resp)


def _challenge_errors(err: ErrorBody, resp: HttpResponse) -> str | None:
    if err.error in ("unsupported_challenge_type", "association_required"):
        return "must_enroll"
    return _mfa_call_errors(err, resp)


def _confirm_errors(err: ErrorBody, resp: HttpResponse) -> str | None:
    # For a typed code (binding code, TOTP) any invalid_grant but "Malformed ..."
    # is a wrong code: Auth0.swift and Auth0.Android read "MFA Authorization
    # rejected." there as a bad code, so one typo must not end the flow.
    if err.error == "access_denied":
        return "rejected"
    if err.error == "invalid_grant" and not (err.description or "").lower().startswith("malformed"):
        return "wrong_code"
    if err.error in ("unsupported_challenge_type", "association_required"):
        return "must_enroll"
    return _mfa_call_errors(err, resp)


def _poll_errors(err: ErrorBody, resp: HttpResponse) -> str | None:
    # A push rejection is access_denied in the recording, invalid_grant
    # "MFA Authorization rejected." in the docs: both end the flow.
    if err.error == "authorization_pending":
        return "pending"
    if err.error == "slow_down":
        return "slow_down"
    if err.error == "invalid_grant" and (err.description or "").startswith(REJECTED_DESCRIPTION):
        return "rejected"
    return _confirm_errors(err, resp)


SuccessParser = Callable[[str, HttpResponse, Mapping[str, Any], Auth0Config], Answer]


def _code_sent(trigger: str, resp: HttpResponse, p: Mapping[str, Any], cfg: Auth0Config) -> Answer:
    # Auth0 answers {_id, phone_number|email, *_verified}; SDK mocks send an
    # empty 2xx, so an empty body is accepted, but a non-empty one must be JSON.
    if resp.body.strip():
        decode_object(resp, what=trigger)
    return Answer("code_sent", {}, resp.status_code)


def _authenticator_list(
    trigger: str, resp: HttpResponse, p: Mapping[str, Any], cfg: Auth0Config
) -> Answer:
    if not _content_type_is_json(resp):
        raise MalformedResponseError(
            "Auth0 sent a non-JSON content type for the authenticator list",
            status_code=resp.status_code,
        )
    items = parse_authenticators(decode_json(resp, what=trigger), resp)
    return Answer("authenticators", {"authenticators": items}, resp.status_code)


def _enrollment(trigger: str, resp: HttpResponse, p: Mapping[str, Any], cfg: Auth0Config) -> Answer:
    doc = decode_object(resp, what=trigger)
    return Answer("enrolled", parse_enrollment(doc, resp, p), resp.status_code)


def _challenge_answer(
    trigger: str, resp: HttpResponse, p: Mapping[str, Any], cfg: Auth0Config
) -> Answer:
    doc = decode_object(resp, what=trigger)
    return Answer("challenged", parse_challenge(doc, resp), resp.status_code)


def _token_answer(
    trigger: str, resp: HttpResponse, p: Mapping[str, Any], cfg: Auth0Config
) -> Answer:
    tokens = parse_tokens(decode_object(resp, what=trigger), resp, trigger)
    return Answer("tokens", {"tokens": tokens}, resp.status_code)


def _first_factor_tokens(
    trigger: str, resp: HttpResponse, p: Mapping[str, Any], cfg: Auth0Config
) -> Answer:
    answer = _token_answer(trigger, resp, p, cfg)
    if cfg.is_mfa_audience(p.get("audience")):
        return attrs.evolve(answer, kind="mfa_access_token")
    return answer


def _no_error_absorbed(err: ErrorBody, resp: HttpResponse) -> str | None:
    return None


@attrs.frozen
class Wire:
    """A trigger's request builder and the parsers of Auth0's answers to it."""

    build: RequestBuilder
    success: SuccessParser
    errors: ErrorMap
    #: Whether an ``mfa_required`` error answer is read as that outcome.
    mfa_required_absorbed: bool = True


#: One record per trigger that calls Auth0 (``cancel`` and ``expire`` make no call).
WIRE: Mapping[str, Wire] = {
    "start_passwordless": Wire(_forwarded(_start), _code_sent, _no_error_absorbed, False),
    "resend_code": Wire(_forwarded(_start), _code_sent, _no_error_absorbed, False),
    "verify_otp": Wire(_forwarded(_verify), _first_factor_tokens, _first_factor_errors),
    "login_password": Wire(_forwarded(_password), _first_factor_tokens, _password_errors),
    "list_authenticators": Wire(_list, _authenticator_list, _mfa_call_errors),
    "enroll": Wire(_enroll, _enrollment, _enroll_errors),
    "challenge": Wire(_challenge, _challenge_answer, _challenge_errors),
    "confirm_oob": Wire(_confirm_oob, _token_answer, _confirm_errors),
    "confirm_otp": Wire(_confirm_otp, _token_answer, _confirm_errors),
    "confirm_recovery_code": Wire(_confirm_recovery, _token_answer, _confirm_errors),
    "poll_push": Wire(_confirm_oob, _token_answer, _poll_errors),
}


def build_request(
    trigger: str, ctx: Context, params: Mapping[str, Any], cfg: Auth0Config
) -> HttpRequest:
    """The request for ``trigger``, built from the context and the caller's parameters."""
    return WIRE[trigger].build(ctx, params, cfg)


def parse_response(
    trigger: str, resp: HttpResponse, params: Mapping[str, Any], cfg: Auth0Config
) -> Answer:
    """Turn Auth0's answer to ``trigger`` into an ``Answer``, or raise ``RemoteError``."""
    wire = WIRE[trigger]
    if 200 <= resp.status_code < 300:
        return wire.success(trigger, resp, params, cfg)
    doc = _error_doc(resp)
    err = parse_error(resp, doc)
    if err.error == "mfa_required" and wire.mfa_required_absorbed:
        # Key on the error code, never on the status (403 recorded, 401 in the OAS).
        return _mfa_required(doc, resp, trigger)
    if resp.status_code == 429 and err.error != "too_many_attempts":
        raise remote_error(resp, err, what=trigger)
    kind = wire.errors(err, resp)
    if kind is None:
        raise remote_error(resp, err, what=trigger)
    return Answer(kind, {"description": err.description}, resp.status_code, err.error)


# -------------------------------------------------------- typed answer parts


def parse_authenticators(items: Any, resp: HttpResponse) -> list[dict[str, Any]]:
    """The authenticator list: an array of objects with id, authenticator_type, active."""
    if not isinstance(items, list):
        raise MalformedResponseError(
            "Auth0 sent a non-array authenticator list", status_code=resp.status_code
        )
    out: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            raise MalformedResponseError(
                "Auth0 sent a non-object authenticator", status_code=resp.status_code
            )
        ident = item.get("id")
        atype = item.get("authenticator_type")
        active = item.get("active")
        if not isinstance(ident, str) or not isinstance(atype, str) or not isinstance(active, bool):
            raise MalformedResponseError(
                "Auth0 sent an authenticator without id, authenticator_type or active",
                status_code=resp.status_code,
            )
        entry: dict[str, Any] = {"id": ident, "authenticator_type": atype, "active": active}
        # Real traffic says oob_channel; the reference page's oob_channels is a doc bug.
        channel = item.get("oob_channel", item.get("oob_channels"))
        if isinstance(channel, list) and channel:
            channel = channel[0]
        if isinstance(channel, str):
            entry["oob_channel"] = channel
        for opt in ("name", "type"):
            if isinstance(item.get(opt), str):
                entry[opt] = item[opt]
        out.append(entry)
    return out


def parse_enrollment(
    doc: Mapping[str, Any], resp: HttpResponse, params: Mapping[str, Any]
) -> dict[str, Any]:
    """The associate answer: otp secret and URI, or oob_code and binding method."""
    what = "enroll"
    atype = _str_field(doc, "authenticator_type", resp, what)
    factor = params["factor"]
    data: dict[str, Any] = {"authenticator_type": atype, "factor": factor}
    if atype == "otp":
        data["totp_secret"] = _str_field(doc, "secret", resp, what)
        data["barcode_uri"] = _str_field(doc, "barcode_uri", resp, what)
    elif atype == "oob":
        data["oob_code"] = _str_field(doc, "oob_code", resp, what)
        channel = doc.get("oob_channel", doc.get("oob_channels"))
        data["oob_channel"] = channel if isinstance(channel, str) else None
        binding = doc.get("binding_method")
        data["binding_method"] = binding if isinstance(binding, str) else None
        if isinstance(doc.get("barcode_uri"), str):
            data["barcode_uri"] = doc["barcode_uri"]
        if factor != "push" and data["binding_method"] != "prompt":
            raise MalformedResponseError(
                "Auth0's enrollment answer lacks binding_method 'prompt'",
                status_code=resp.status_code,
            )
    else:
        raise MalformedResponseError(
            f"Auth0 enrolled an unexpected authenticator_type {atype!r}",
            status_code=resp.status_code,
        )
    codes = doc.get("recovery_codes")
    if isinstance(codes, list) and all(isinstance(c, str) for c in codes):
        data["recovery_codes"] = list(codes)
    return data


def parse_challenge(doc: Mapping[str, Any], resp: HttpResponse) -> dict[str, Any]:
    """The challenge answer: otp (nothing to carry) or oob with its code."""
    what = "challenge"
    ctype = _str_field(doc, "challenge_type", resp, what)
    if ctype == "otp":
        return {"challenge_type": "otp", "factor": "otp"}
    if ctype != "oob":
        raise MalformedResponseError(
            f"Auth0 answered the challenge with challenge_type {ctype!r}",
            status_code=resp.status_code,
        )
    oob_code = _str_field(doc, "oob_code", resp, what)
    binding = doc.get("binding_method")
    binding = binding if isinstance(binding, str) else None
    return {
        "challenge_type": "oob",
        "oob_code": oob_code,
        "binding_method": binding,
        "factor": "oob" if binding == "prompt" else "push",
    }
