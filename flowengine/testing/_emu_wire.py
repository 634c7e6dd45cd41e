"""The request pipeline around the endpoint handlers: faults, rate limits, the request log.

Theory of operation: ``flowengine.testing.Auth0Emulator.handle`` runs every
request through three stages kept here. ``_take_fault`` picks the first injected
fault matching the request; a pre-processing fault answers INSTEAD of the tenant
(``_pre_fault``), any other one reshapes the tenant's real answer AFTER it changed
state (``_post_fault``). ``_rate_check`` applies the per-IP token bucket of the
endpoint (the IP from ``auth0-forwarded-for`` only for a trusted confidential
client that authenticated with its secret). ``_record`` appends the request to the
log with every secret field and header redacted.
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Mapping
from typing import Final
from urllib.parse import parse_qsl

from flowengine.testing._emu_base import TenantBase
from flowengine.testing._emu_state import JSON_CT, Bucket, HttpError, Request, dumps
from flowengine.testing._models import EmulatorResponse, Fault, RequestRecord

__all__ = ["RequestPipeline"]

_REDACTED: Final = "[REDACTED]"
_SECRET_KEYS: Final = frozenset(
    {
        "otp",
        "binding_code",
        "mfa_token",
        "oob_code",
        "recovery_code",
        "client_secret",
        "client_assertion",
        "password",
        "refresh_token",
        "access_token",
        "id_token",
        "token",
    }
)
_SECRET_HEADERS: Final = frozenset({"authorization", "proxy-authorization", "cookie"})


def _loose_parse(headers: Mapping[str, str], raw: bytes) -> dict[str, object] | None:
    """Parse a JSON or form body leniently, for fault matching and the request log."""
    ctype = headers.get("content-type", "").lower()
    if not raw:
        return None
    if ctype.startswith("application/x-www-form-urlencoded"):
        try:
            return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except (UnicodeDecodeError, ValueError):
            return None
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _redact(value: object) -> object:
    """``value`` with every secret-named field, at any depth, replaced by ``[REDACTED]``."""
    if isinstance(value, dict):
        return {str(k): (_REDACTED if k in _SECRET_KEYS else _redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def _too_many_requests() -> dict[str, object]:
    """The body of a 429 from a rate limit (the real one or the ``status_429`` fault)."""
    return {
        "error": "too_many_requests",
        "error_description": (
            "Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and "
            "X-RateLimit-Reset headers."
        ),
    }


_DROP_ORDER: Final = (
    "access_token",
    "mfa_token",
    "oob_code",
    "secret",
    "challenge_type",
    "_id",
    "error",
)


def _drop_field(raw: bytes, fault: Fault) -> bytes:
    """Remove one required field from a JSON body (for the ``missing_field`` fault)."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            value[0].pop(fault.drop_field or "id", None)
        return dumps(value)
    if not isinstance(value, dict):
        return raw
    names = (fault.drop_field,) if fault.drop_field else _DROP_ORDER
    for name in names:
        if name in value:
            del value[name]
            break
    return dumps(value)


class RequestPipeline(TenantBase):
    """Fault injection, per-IP rate limits and the redacted request log."""

    # ------------------------------------------------------------- faults

    def _take_fault(self, req: Request) -> Fault | None:
        parsed: dict[str, object] | None = None
        for entry in self._faults:
            fault: Fault = entry[0]
            if not req.path.startswith(fault.endpoint):
                continue
            if fault.method is not None and fault.method.upper() != req.method:
                continue
            if fault.grant_type is not None:
                if parsed is None:
                    parsed = _loose_parse(req.headers, req.raw) or {}
                if parsed.get("grant_type") != fault.grant_type:
                    continue
            if entry[1] is not None:
                entry[1] -= 1
                if entry[1] <= 0:
                    self._faults.remove(entry)
            return fault
        return None

    def _pre_fault(self, fault: Fault, now: float) -> EmulatorResponse:
        kind = fault.kind
        if kind == "status_500":
            body = {"error": "server_error", "error_description": "Internal Server Error"}
            return EmulatorResponse(500, {"content-type": JSON_CT}, dumps(body))
        if kind == "status_502_html":
            html = (
                b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
            )
            return EmulatorResponse(502, {"content-type": "text/html"}, html)
        if kind == "status_503":
            retry = fault.seconds if fault.seconds is not None else 3
            body = {
                "error": "temporarily_unavailable",
                "error_description": "The service is temporarily unavailable.",
            }
            headers = {"content-type": JSON_CT, "retry-after": str(math.ceil(retry))}
            return EmulatorResponse(503, headers, dumps(body))
        if kind == "status_429":
            wait = fault.seconds if fault.seconds is not None else 60.0
            headers = {
                "content-type": JSON_CT,
                "x-ratelimit-limit": "50",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(math.ceil(now + wait)),
            }
            return EmulatorResponse(429, headers, dumps(_too_many_requests()))
        seconds = fault.seconds if fault.seconds is not None else 30.0
        # connect_refused / connect_timeout: nothing reached the tenant.
        return EmulatorResponse(0, {}, b"", transport_fault=kind, delay=seconds)

    def _post_fault(self, fault: Fault, resp: EmulatorResponse) -> EmulatorResponse:
        kind = fault.kind
        json_headers = {**resp.headers, "content-type": JSON_CT}
        if kind == "empty_200":
            return EmulatorResponse(200, json_headers, b"")
        if kind == "non_json_200":
            return EmulatorResponse(200, json_headers, b"upstream answered: OK")
        if kind == "truncated_json":
            return EmulatorResponse(200, json_headers, resp.body[: len(resp.body) // 2])
        if kind == "json_array":
            return EmulatorResponse(200, json_headers, b"[]")
        if kind == "missing_field":
            return EmulatorResponse(resp.status, resp.headers, _drop_field(resp.body, fault))
        if kind == "wrong_content_type":
            headers = {**resp.headers, "content-type": "text/plain; charset=utf-8"}
            return EmulatorResponse(resp.status, headers, resp.body)
        if kind == "delay":
            seconds = fault.seconds if fault.seconds is not None else 1.0
            return EmulatorResponse(resp.status, resp.headers, resp.body, delay=seconds)
        # read_timeout / reset: processed, then the wire fails (silence, or a cut body).
        seconds = fault.seconds if fault.seconds is not None else 30.0
        return EmulatorResponse(
            resp.status,
            resp.headers,
            resp.body,
            transport_fault=kind,
            delay=seconds if kind == "read_timeout" else 0.0,
        )

    # ------------------------------------------------------------- logging

    def _record(self, req: Request, resp: EmulatorResponse) -> None:
        headers = {k: (_REDACTED if k in _SECRET_HEADERS else v) for k, v in req.headers.items()}
        parsed = _loose_parse(req.headers, req.raw)
        body = _redact(parsed) if parsed is not None else None
        self._requests.append(
            RequestRecord(
                method=req.method,
                path=req.path,
                headers=headers,
                body=body if isinstance(body, dict) else None,
                status=None if resp.transport_fault else resp.status,
                client_ip=req.client_ip,
                at=req.now,
                fault=resp.transport_fault,
            )
        )

    # ------------------------------------------------------------- rate limits

    def _effective_ip(self, req: Request) -> str:
        forwarded = req.headers.get("auth0-forwarded-for")
        if not forwarded:
            return req.client_ip
        body = _loose_parse(req.headers, req.raw) or {}
        client = self._clients.get(str(body.get("client_id", "")))
        secret = body.get("client_secret")
        if (
            client is not None
            and client.trust_forwarded_for
            and client.secret is not None
            and isinstance(secret, str)
            and hmac.compare_digest(secret, client.secret)
        ):
            return forwarded.split(",")[0].strip()
        return req.client_ip

    def _rate_check(self, req: Request) -> dict[str, str]:
        limit = self._limits.get(req.path)
        if limit is None:
            return {}
        ip = self._effective_ip(req)
        bucket = self._buckets.get((req.path, ip))
        if bucket is None:
            bucket = Bucket(limit[0], limit[1], float(limit[0]), req.now)
            self._buckets[(req.path, ip)] = bucket
        if not bucket.take(req.now):
            raise HttpError(
                429,
                "too_many_requests",
                str(_too_many_requests()["error_description"]),
                headers=bucket.headers(req.now),
            )
        return bucket.headers(req.now)
