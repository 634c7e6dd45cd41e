"""The synchronous driver: the core's steps sent over an ``httpx.Client``.

Kept textually parallel to ``_async.py``: a change to one is made to both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import httpx

from flowengine import _wire
from flowengine._config import Auth0Config, authenticator_id, non_empty
from flowengine._errors import (
    FlowEndedError,
    FlowExpiredError,
    RemoteError,
    TransportError,
)
from flowengine._flow import Flow, StepResult
from flowengine._step_methods import (
    NO_RETRY,
    FlowSteps,
    RetryPolicy,
    log_request,
    log_response,
    log_transition,
    log_uncertain,
    now_monotonic,
    retry_hint,
)
from flowengine._wire import HttpRequest, HttpResponse

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# Failures that happen before any byte of the request left: safe to retry.
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
    httpx.ProxyError,
)


class FlowClient(FlowSteps[StepResult]):
    """Runs flow steps against Auth0 with a sync ``httpx.Client``.

    Pass ``http`` to share one connection pool across many flows (the client is
    then not closed by us), or ``transport`` (for example the emulator's) to
    build an owned client around it. ``clock`` and ``sleep`` are injectable so
    tests can drive time.
    """

    def __init__(
        self,
        config: Auth0Config,
        *,
        http: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = NO_RETRY,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self._owns_http = http is None
        self._http = http or httpx.Client(transport=transport, timeout=timeout)
        self._retry = retry
        self._clock = clock
        self._sleep = sleep

    def __enter__(self) -> FlowClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client if we created it."""
        if self._owns_http:
            self._http.close()

    # ---------------------------------------------------------------- core

    def run_step(self, flow: Flow, trigger: str, params: Mapping[str, Any]) -> StepResult:
        try:
            step = flow.begin(trigger, params, self.config, self._clock())
        except FlowExpiredError as exc:
            if isinstance(exc.result, StepResult):
                log_transition(exc.result)
            raise
        assert step.request is not None
        started = now_monotonic()
        try:
            response = self._send(flow.flow_id, trigger, step.request)
        except TransportError as exc:
            if flow.fail(step, sent=exc.ambiguous, now=self._clock()):
                log_uncertain(flow.flow_id, trigger, type(exc).__name__)
            raise
        except BaseException:
            # Cancelled or interrupted once the request may be out: record the doubt.
            flow.fail(step, sent=True, now=self._clock())
            raise
        try:
            result = flow.finish(step, response, self.config, self._clock())
        except FlowEndedError as exc:
            if isinstance(exc.result, StepResult):
                log_transition(exc.result, now_monotonic() - started)
            raise
        except RemoteError as exc:
            if flow.seq != step.seq:  # the answer left Auth0's action in doubt
                log_uncertain(flow.flow_id, trigger, type(exc).__name__)
            raise
        log_transition(result, now_monotonic() - started)
        return result

    def _send(self, flow_id: str, trigger: str, req: HttpRequest) -> HttpResponse:
        idempotent = req.method == "GET"
        attempt = 0
        while True:
            attempt += 1
            log_request(flow_id, trigger, req)
            started = now_monotonic()
            try:
                raw = self._http.request(
                    req.method,
                    self.config.base_url + req.path,
                    headers=dict(req.headers),
                    content=req.body,
                    follow_redirects=False,  # a redirect must never carry our secrets away
                )
            except httpx.TransportError as exc:
                sent = not isinstance(exc, _NOT_SENT)
                if attempt < self._retry.attempts and (idempotent or not sent):
                    self._sleep(self._retry.delay(attempt, None))
                    continue
                raise TransportError(
                    f"{trigger}: {type(exc).__name__} talking to Auth0",
                    trigger=trigger,
                    ambiguous=sent and not idempotent,
                ) from None
            resp = HttpResponse(raw.status_code, raw.headers, raw.content)
            log_response(flow_id, trigger, resp, now_monotonic() - started)
            if (
                idempotent
                and attempt < self._retry.attempts
                and (resp.status_code == 429 or resp.status_code >= 500)
            ):
                hint = retry_hint(resp, self._clock())
                if hint is None or hint <= self._retry.max_wait:
                    self._sleep(self._retry.delay(attempt, hint))
                    continue
            return resp

    # ------------------------------------------------------------- push

    def poll_push(self, flow: Flow, *, wait: bool = True) -> StepResult:
        """Poll the push once; with ``wait``, first sleep out the rest of the interval."""
        flow.require_legal("poll_push")  # refuse before waiting, not after
        if wait:
            due = float(flow.context.next_poll_at or 0.0)
            # Each slice of the wait fits inside the lease and is preceded by a renewal.
            delay = due - self._clock()
            if delay > 0:
                for pause in flow.wait_slices(delay, flow.keep_claim()):
                    self._sleep(pause)
                    flow.keep_claim()
        return self.run_step(flow, "poll_push", {})

    def wait_for_push(self, flow: Flow, *, timeout: float = 300.0) -> StepResult:
        """Poll until the push is approved or rejected, or ``timeout`` seconds pass."""
        deadline = self._clock() + timeout
        while True:
            result = self.poll_push(flow, wait=True)
            if result.outcome not in ("pending", "slow_down") or self._clock() >= deadline:
                return result

    def cancel(self, flow: Flow) -> StepResult:
        """Abandon the flow; no call is made."""
        result = flow.cancel(self._clock())
        log_transition(result)
        return result

    def rollback(self, flow: Flow, to: str | None = None) -> StepResult:
        """Undo the last step, or go back to ``to`` (see ``Flow.rollback``)."""
        result = flow.rollback(self._clock(), to=to)
        log_transition(result)
        return result

    # --------------------------------------------- account operations

    def _account_call(self, what: str, req: HttpRequest) -> HttpResponse:
        resp = self._send("-", what, req)
        if resp.status_code >= 300:
            err = _wire.parse_error(resp)
            raise _wire.remote_error(resp, err, what=what)
        return resp

    def list_authenticators_with_token(self, access_token: str) -> list[dict[str, Any]]:
        """List authenticators with an MFA-audience access token (``read:authenticators``)."""
        req = _wire.list_request(non_empty(access_token, "access_token", max_len=8192))
        resp = self._account_call("list_authenticators", req)
        return _wire.parse_authenticators(_wire.decode_json(resp, what="list"), resp)

    def delete_authenticator(self, access_token: str, authenticator: str) -> None:
        """``DELETE /mfa/authenticators/{id}``; needs ``remove:authenticators``."""
        req = _wire.delete_request(
            non_empty(access_token, "access_token", max_len=8192), authenticator_id(authenticator)
        )
        self._account_call("delete_authenticator", req)

    def refresh(self, refresh_token: str, *, scope: str | None = None) -> dict[str, Any]:
        """The refresh_token grant; returns the new token response fields."""
        req = _wire.refresh_request(
            self.config, non_empty(refresh_token, "refresh_token", max_len=8192), scope
        )
        resp = self._account_call("refresh", req)
        return _wire.parse_tokens(_wire.decode_object(resp, what="refresh"), resp, "refresh")
