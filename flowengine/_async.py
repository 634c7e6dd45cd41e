"""The asynchronous driver: the core's steps sent over an ``httpx.AsyncClient``.

Kept textually parallel to ``_sync.py``: a change to one is made to both.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from types import TracebackType
from typing import Any

import attrs
import httpx

from flowengine import _idtoken, _wire
from flowengine._client_auth import sign_request
from flowengine._config import Auth0Config, authenticator_id, non_empty
from flowengine._errors import (
    FlowEndedError,
    FlowExpiredError,
    IdTokenError,
    RemoteError,
    TransportError,
)
from flowengine._flow import Flow, StepResult
from flowengine._otel import traced_http, traced_step
from flowengine._step_methods import (
    NO_RETRY,
    FlowSteps,
    RetryPolicy,
    log_request,
    log_response,
    log_transition,
    log_uncertain,
    now_monotonic,
    refresh_outcome,
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


class AsyncFlowClient(FlowSteps[Coroutine[Any, Any, StepResult]]):
    """Runs flow steps against Auth0 with a ``httpx.AsyncClient``.

    Pass ``http`` to share one connection pool across many flows (the client is
    then not closed by us), or ``transport`` (for example the emulator's) to
    build an owned client around it. ``clock`` and ``sleep`` are injectable so
    tests can drive time.
    """

    def __init__(
        self,
        config: Auth0Config,
        *,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = NO_RETRY,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(transport=transport, timeout=timeout)
        self._retry = retry
        self._clock = clock
        self._sleep = sleep
        self._jwks: _idtoken.Jwks | None = None  # the tenant's signing keys, once fetched
        self._jwks_fetch: asyncio.Future[_idtoken.Jwks] | None = None  # the fetch in flight

    async def __aenter__(self) -> AsyncFlowClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if we created it."""
        if self._owns_http:
            await self._http.aclose()

    # ---------------------------------------------------------------- core

    def run_step(
        self, flow: Flow, trigger: str, params: Mapping[str, Any]
    ) -> Coroutine[Any, Any, StepResult]:
        return self._run_async(flow, trigger, params)

    @traced_step
    async def _run_async(self, flow: Flow, trigger: str, params: Mapping[str, Any]) -> StepResult:
        try:
            step = flow.begin(trigger, params, self.config, self._clock(), renew=False)
        except FlowExpiredError as exc:
            if isinstance(exc.result, StepResult):
                log_transition(exc.result)
            raise
        assert step.request is not None
        if flow.lent:  # the claim renewal (with the step's intent) is store I/O: off the loop
            await asyncio.to_thread(flow.keep_claim, step.trigger, params)
        started = now_monotonic()
        try:
            response = await self._send(
                flow.flow_id, trigger, step.request, params.get("request_language")
            )
        except TransportError as exc:
            if flow.fail(step, sent=exc.ambiguous, now=self._clock()):
                log_uncertain(flow.flow_id, trigger, type(exc).__name__)
            raise
        except BaseException:
            # Cancelled or interrupted once the request may be out: record the doubt.
            flow.fail(step, sent=True, now=self._clock())
            raise
        try:
            claims = await self._verified_claims(response)
        except IdTokenError as exc:
            # Auth0 acted (a code or mfa_token is spent) but its answer cannot be
            # trusted: its tokens are dropped and the flow records the doubt.
            exc.trigger, exc.state = trigger, flow.state
            if flow.fail(step, sent=True, now=self._clock()):
                log_uncertain(flow.flow_id, trigger, type(exc).__name__)
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
        if claims is not None:
            result = attrs.evolve(result, data={**result.data, "claims": claims})
        return result

    @traced_http
    async def _send(
        self, flow_id: str, trigger: str, req: HttpRequest, language: str | None = None
    ) -> HttpResponse:
        idempotent = req.method == "GET"
        headers = dict(req.headers)
        language = language or self.config.request_language
        if language:
            headers["x-request-language"] = language
        attempt = 0
        while True:
            attempt += 1
            log_request(flow_id, trigger, req)
            # A jti is single-use: every attempt carries a freshly signed assertion.
            signed = sign_request(req, self.config, self._clock(), str(uuid.uuid4()))
            started = now_monotonic()
            try:
                raw = await self._http.request(
                    req.method,
                    self.config.base_url + req.path,
                    headers=headers,
                    content=signed.body,
                    follow_redirects=False,  # a redirect must never carry our secrets away
                )
            except httpx.TransportError as exc:
                sent = not isinstance(exc, _NOT_SENT)
                if attempt < self._retry.attempts and (idempotent or not sent):
                    await self._sleep(self._retry.delay(attempt, None))
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
                    await self._sleep(self._retry.delay(attempt, hint))
                    continue
            return resp

    # ------------------------------------------------------- verified identity

    async def _verified_claims(self, resp: HttpResponse) -> dict[str, Any] | None:
        """The verified claims of the answer's id_token; None when it carries none.

        The JWKS is fetched on first use, again when older than ``JWKS_TTL``, and
        once more when the token names a ``kid`` the cached set lacks (a rotated
        key): at most one fetch started per token, and concurrent misses share one
        fetch (see ``_jwks_for``).
        """
        token = _idtoken.id_token_in(resp)
        if token is None:
            return None
        kid = _idtoken.token_kid(token)
        now = self._clock()
        jwks = self._jwks
        if jwks is None or not jwks.fresh(now) or kid not in jwks.keys:
            jwks = await self._jwks_for(kid, now)
        return _idtoken.verify_id_token(token, jwks.keys, self.config, now)

    async def _jwks_for(self, kid: str, now: float) -> _idtoken.Jwks:
        """The tenant's keys for a token signed by ``kid``; concurrent misses share one fetch.

        A caller that finds a fetch in flight waits for it instead of sending its own
        (200 logins that miss the cache at once send one GET, not 200). If the shared
        set lacks ``kid`` (it may have been answered before the key rotated), the
        caller starts, or joins, a fetch begun after it looked. A failed fetch fails
        every caller that waited on it, each with its own ``IdTokenError``.
        """
        loop = asyncio.get_running_loop()
        joined = self._jwks_fetch
        if joined is not None and not joined.done() and joined.get_loop() is loop:
            jwks = await _shared(joined)
            if kid in jwks.keys:
                return jwks
        task = self._jwks_fetch
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._jwks_fetch = asyncio.ensure_future(self._fetch_jwks(now))
        return await _shared(task)

    async def _fetch_jwks(self, now: float) -> _idtoken.Jwks:
        """GET the tenant's ``/.well-known/jwks.json`` over this client's connection pool."""
        try:
            raw = await self._http.get(
                self.config.base_url + _idtoken.JWKS_PATH,
                headers=dict(_wire.ACCEPT_JSON),
                follow_redirects=False,
            )
        except httpx.TransportError as exc:
            raise IdTokenError(
                f"cannot fetch the tenant's JWKS: {type(exc).__name__}", reason="jwks_unavailable"
            ) from None
        if raw.status_code != 200:
            raise IdTokenError(
                f"the tenant's JWKS answered HTTP {raw.status_code}", reason="jwks_unavailable"
            )
        self._jwks = _idtoken.Jwks(_idtoken.parse_jwks(raw.content), now)
        return self._jwks

    # ------------------------------------------------------------- push

    async def poll_push(self, flow: Flow, *, wait: bool = True) -> StepResult:
        """Poll the push once; with ``wait``, first sleep out the rest of the interval."""
        flow.require_legal("poll_push")  # refuse before waiting, not after
        if wait:
            due = float(flow.context.next_poll_at or 0.0)
            # Each slice of the wait fits inside the lease and is preceded by a renewal.
            delay = due - self._clock()
            if delay > 0:
                lease = await asyncio.to_thread(flow.keep_claim) if flow.lent else None
                for pause in flow.wait_slices(delay, lease):
                    await self._sleep(pause)
                    if flow.lent:
                        await asyncio.to_thread(flow.keep_claim)
        return await self._run_async(flow, "poll_push", {})

    async def wait_for_push(self, flow: Flow, *, timeout: float = 300.0) -> StepResult:
        """Poll until the push is approved or rejected, or ``timeout`` seconds pass."""
        deadline = self._clock() + timeout
        while True:
            result = await self.poll_push(flow, wait=True)
            if result.outcome not in ("pending", "slow_down") or self._clock() >= deadline:
                return result

    async def cancel(self, flow: Flow) -> StepResult:
        """Abandon the flow; no call is made."""
        result = flow.cancel(self._clock())
        log_transition(result)
        return result

    async def rollback(self, flow: Flow, to: str | None = None) -> StepResult:
        """Undo the last step, or go back to ``to`` (see ``Flow.rollback``)."""
        result = flow.rollback(self._clock(), to=to)
        log_transition(result)
        return result

    # --------------------------------------------- account operations

    async def _account_call(self, what: str, req: HttpRequest) -> HttpResponse:
        resp = await self._send("-", what, req)
        if resp.status_code >= 300:
            err = _wire.parse_error(resp)
            raise _wire.remote_error(resp, err, what=what)
        return resp

    async def list_authenticators_with_token(self, access_token: str) -> list[dict[str, Any]]:
        """List authenticators with an MFA-audience access token (``read:authenticators``)."""
        req = _wire.list_request(non_empty(access_token, "access_token", max_len=8192))
        resp = await self._account_call("list_authenticators", req)
        return _wire.parse_authenticators(_wire.decode_json(resp, what="list"), resp)

    async def delete_authenticator(self, access_token: str, authenticator: str) -> None:
        """``DELETE /mfa/authenticators/{id}``; needs ``remove:authenticators``."""
        req = _wire.delete_request(
            non_empty(access_token, "access_token", max_len=8192), authenticator_id(authenticator)
        )
        await self._account_call("delete_authenticator", req)

    async def refresh(self, refresh_token: str, *, scope: str | None = None) -> dict[str, Any]:
        """The refresh_token grant; returns the new token response fields.

        MFA on refresh: an ``mfa_required`` answer raises ``MfaRequiredError`` whose
        ``flow`` is in ``mfa_required`` with the mfa_token (see ``refresh_flow``).
        """
        flow = self.new_flow()
        return refresh_outcome(flow, await self.refresh_flow(flow, refresh_token, scope=scope))

    async def revoke(self, refresh_token: str) -> None:
        """``POST /oauth/revoke``: revoke a refresh token (and its grant), with client auth.

        Auth0 revokes every refresh token of the same user, application and
        audience. Answers 200 with no body; an error is a ``RemoteError``.
        """
        req = _wire.revoke_request(
            self.config, non_empty(refresh_token, "refresh_token", max_len=8192)
        )
        await self._account_call("revoke", req)

    async def revoke_flow(self, flow: Flow) -> bool:
        """Sign out an authenticated flow: revoke its refresh token, if it got one.

        ``authenticated`` is final, so ``cancel`` does not apply to it; this is
        its counterpart. Returns True when a refresh token was revoked.
        """
        tokens = flow.tokens or {}
        refresh_token = tokens.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            return False
        await self.revoke(refresh_token)
        return True


async def _shared(fetch: asyncio.Future[_idtoken.Jwks]) -> _idtoken.Jwks:
    """The result of a JWKS fetch several callers wait on.

    Shielded: a cancelled caller does not cancel the fetch the others wait for. Each
    caller gets its own copy of a failure (callers set ``trigger`` and ``state`` on it).
    """
    try:
        return await asyncio.shield(fetch)
    except IdTokenError as exc:
        raise IdTokenError(str(exc), reason=exc.reason) from None
