"""What the mutation run of the drivers (``_sync.py``, ``_async.py``) showed no test pinned down.

Each test runs through both drivers: the HTTP client they own or share, the account
calls' errors and log events, the JWKS fetch, the push waits and the small steps.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import structlog

from flowengine import (
    AsyncFlowClient,
    Auth0Config,
    Auth0Error,
    FlowClient,
    FlowRepository,
    GuardRejectedError,
    IdTokenError,
    InvalidInputError,
    Keyring,
    MfaRequiredError,
    TenantSettings,
)
from flowengine._errors import MalformedResponseError
from flowengine._flow import Flow
from flowengine._handle import flow_ref
from flowengine._sync import DEFAULT_TIMEOUT
from flowengine.stores import MemoryStore
from flowengine.testing import Fault, PushScript
from tests.property.harness import CLIENT_ID, CLIENT_SECRET, DRIVERS, PHONE, TENANT, Rig

JWKS = "/.well-known/jwks.json"
CONFIG = Auth0Config(TENANT, CLIENT_ID, CLIENT_SECRET)
#: Long push lifetimes, so a wait of the default 300 s ends by the wait's deadline alone.
LONG = TenantSettings(mfa_code_ttl=3600.0, mfa_token_ttl=7200.0)


@pytest.fixture(params=DRIVERS)
def kind(request: pytest.FixtureRequest) -> str:
    """The driver kind."""
    return str(request.param)


@pytest.fixture
def rig(kind: str) -> Iterator[Rig]:
    """A fresh tenant with the SMS user and a driver of each kind."""
    made = Rig(kind)
    made.seed_users("new")
    yield made
    made.close()


class Mocked:
    """A driver over an ``httpx.MockTransport`` that answers every request with ``handler``."""

    def __init__(self, kind: str, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.seen: list[httpx.Request] = []

        def record(request: httpx.Request) -> httpx.Response:
            self.seen.append(request)
            return handler(request)

        transport = httpx.MockTransport(record)
        self.loop = asyncio.new_event_loop() if kind == "async" else None
        self.client: FlowClient | AsyncFlowClient = (
            FlowClient(CONFIG, transport=transport)
            if kind == "sync"
            else AsyncFlowClient(CONFIG, transport=transport)
        )

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Run the client's method ``name`` to completion."""
        value = getattr(self.client, name)(*args, **kwargs)
        if self.loop is None or not inspect.isawaitable(value):
            return value

        async def run() -> Any:
            return await value

        return self.loop.run_until_complete(run())

    def close(self) -> None:
        """Close the client (and the loop)."""
        self.call("close" if self.loop is None else "aclose")
        if self.loop is not None:
            self.loop.close()


def answering(kind: str, status: int, **response: Any) -> Mocked:
    """A mocked driver whose every request gets ``status`` with ``response`` (httpx kwargs)."""
    return Mocked(kind, lambda _request: httpx.Response(status, **response))


# ------------------------------------------------------------- the HTTP client


def test_an_owned_http_client_is_closed_with_the_driver(kind: str) -> None:
    """The client a driver built around a transport is closed by the driver's close."""
    driver = answering(kind, 200, json=[])
    http = driver.client._http
    driver.close()
    assert http.is_closed


def test_a_shared_http_client_is_left_open(kind: str) -> None:
    """A client passed in as ``http`` stays open when the driver closes."""
    transport = httpx.MockTransport(lambda _request: httpx.Response(200, json=[]))
    if kind == "sync":
        shared_sync = httpx.Client(transport=transport)
        FlowClient(CONFIG, http=shared_sync).close()
        assert not shared_sync.is_closed
        shared_sync.close()
        return
    shared = httpx.AsyncClient(transport=transport)

    async def go() -> None:
        await AsyncFlowClient(CONFIG, http=shared).aclose()
        assert not shared.is_closed
        await shared.aclose()

    asyncio.run(go())


@pytest.mark.parametrize(
    ("given", "expected"),
    [(None, DEFAULT_TIMEOUT), (3.5, httpx.Timeout(3.5))],
)
def test_an_owned_http_client_uses_the_timeout(
    kind: str, given: float | None, expected: httpx.Timeout
) -> None:
    """The owned client gets ``timeout`` (10 s, 5 s to connect, unless told otherwise)."""
    transport = httpx.MockTransport(lambda _request: httpx.Response(200))
    extra: dict[str, Any] = {} if given is None else {"timeout": given}
    client = (
        FlowClient(CONFIG, transport=transport, **extra)
        if kind == "sync"
        else AsyncFlowClient(CONFIG, transport=transport, **extra)
    )
    assert client._http.timeout == expected


# ------------------------------------------------------------- account calls


@pytest.mark.parametrize(
    ("method", "args", "what"),
    [
        ("list_authenticators_with_token", ("at",), "list_authenticators"),
        ("delete_authenticator", ("at", "sms|dev_1"), "delete_authenticator"),
        ("revoke", ("rt",), "revoke"),
    ],
)
def test_an_account_call_answered_300_raises_the_typed_error(
    kind: str, method: str, args: tuple[str, ...], what: str
) -> None:
    """A 300 is no success: the error names the call, the status, Auth0's code and text."""
    driver = answering(kind, 300, json={"error": "multiple", "error_description": "pick one"})
    with pytest.raises(Auth0Error) as info:
        driver.call(method, *args)
    driver.close()
    assert type(info.value) is Auth0Error
    assert str(info.value) == f"Auth0 answered {what} with HTTP 300 multiple: pick one"
    assert info.value.status_code == 300
    assert info.value.error == "multiple"
    assert info.value.error_description == "pick one"


@pytest.mark.parametrize(
    ("method", "args", "what"),
    [
        ("list_authenticators_with_token", ("at",), "list_authenticators"),
        ("delete_authenticator", ("at", "sms|dev_1"), "delete_authenticator"),
        ("revoke", ("rt",), "revoke"),
    ],
)
def test_an_account_call_logs_under_its_own_name(
    kind: str, method: str, args: tuple[str, ...], what: str
) -> None:
    """Account calls belong to no flow: their events carry the ``-`` flow and the call's name."""
    driver = answering(kind, 200, json=[])
    with structlog.testing.capture_logs() as events:
        driver.call(method, *args)
    driver.close()
    sent = [e for e in events if e["event"] in ("auth0_request", "auth0_response")]
    assert [e["event"] for e in sent] == ["auth0_request", "auth0_response"]
    for event in sent:
        assert event["flow_ref"] == flow_ref("-")
        assert event["trigger"] == what


def test_the_authenticator_list_must_be_json(kind: str) -> None:
    """A 200 that is not JSON is a MalformedResponseError naming the list."""
    driver = answering(kind, 200, content=b"nope", headers={"content-type": "text/plain"})
    with pytest.raises(MalformedResponseError) as info:
        driver.call("list_authenticators_with_token", "at")
    driver.close()
    assert str(info.value) == "Auth0 sent not JSON for list (HTTP 200)"


def test_the_authenticator_list_must_be_an_array(kind: str) -> None:
    """A JSON object where the list belongs is refused with the answer's status."""
    driver = answering(kind, 200, json={"id": "sms|dev_1"})
    with pytest.raises(MalformedResponseError) as info:
        driver.call("list_authenticators_with_token", "at")
    driver.close()
    assert str(info.value) == "Auth0 sent a non-array authenticator list"
    assert info.value.status_code == 200


def test_the_authenticator_list_is_returned(kind: str) -> None:
    """The parsed list comes back, asked with the bearer token."""
    item = {"id": "sms|dev_1", "authenticator_type": "oob", "active": True}
    driver = answering(kind, 200, json=[item])
    listed = driver.call("list_authenticators_with_token", "at")
    driver.close()
    assert [(a["id"], a["authenticator_type"], a["active"]) for a in listed] == [
        ("sms|dev_1", "oob", True)
    ]
    assert driver.seen[0].headers["authorization"] == "Bearer at"


@pytest.mark.parametrize(
    ("method", "before", "field"),
    [
        ("list_authenticators_with_token", (), "access_token"),
        ("delete_authenticator", (), "access_token"),
        ("revoke", (), "refresh_token"),
    ],
)
def test_an_account_token_is_checked_by_name_and_length(
    kind: str, method: str, before: tuple[str, ...], field: str
) -> None:
    """An empty or 8193-character token is refused, naming it, before any request; 8192 passes."""
    driver = answering(kind, 200, json=[])
    extra = ("sms|dev_1",) if method == "delete_authenticator" else ()
    for bad in ("", "a" * 8193):
        with pytest.raises(InvalidInputError) as info:
            driver.call(method, *before, bad, *extra)
        assert info.value.field == field
        assert str(info.value).startswith(f"{field}: ")
    assert driver.seen == []
    driver.call(method, *before, "a" * 8192, *extra)
    driver.close()
    assert len(driver.seen) == 1


def test_revoke_sends_the_token_with_client_auth(kind: str) -> None:
    """``revoke`` posts the refresh token and the client's credentials to /oauth/revoke."""
    driver = answering(kind, 200)
    assert driver.call("revoke", "rt-1") is None
    driver.close()
    (request,) = driver.seen
    assert request.method == "POST" and request.url.path == "/oauth/revoke"
    body = request.content.decode()
    assert "rt-1" in body and CLIENT_ID in body


# ------------------------------------------------------------- revoke_flow


def with_tokens(flow: Flow, tokens: dict[str, Any]) -> None:
    """Give ``flow`` these tokens, as if a login had returned them."""
    flow.context = flow.context.evolve(tokens=tokens)


def test_revoke_flow_without_a_refresh_token_sends_nothing(kind: str) -> None:
    """A flow with no tokens, or tokens without a refresh token, is not revoked."""
    driver = answering(kind, 200)
    flow = driver.client.new_flow()
    assert driver.call("revoke_flow", flow) is False
    with_tokens(flow, {"access_token": "at"})
    assert driver.call("revoke_flow", flow) is False
    with_tokens(flow, {"access_token": "at", "refresh_token": ""})
    assert driver.call("revoke_flow", flow) is False
    with_tokens(flow, {"access_token": "at", "refresh_token": 7})
    assert driver.call("revoke_flow", flow) is False
    driver.close()
    assert driver.seen == []


def test_revoke_flow_revokes_the_refresh_token(kind: str) -> None:
    """A flow holding a refresh token has exactly that token revoked."""
    driver = answering(kind, 200)
    flow = driver.client.new_flow()
    with_tokens(flow, {"access_token": "at", "refresh_token": "rt-flow"})
    assert driver.call("revoke_flow", flow) is True
    driver.close()
    (request,) = driver.seen
    assert request.url.path == "/oauth/revoke" and "rt-flow" in request.content.decode()


# ------------------------------------------------------------- the JWKS


def to_confirm(rig: Rig, flow: Flow | None = None) -> Flow:
    """A flow with an SMS enrollment pending, its code at the tenant."""
    flow = rig.to_mfa(flow)
    rig.call("enroll", flow, "sms", phone_number=PHONE)
    return flow


def confirm(rig: Rig, flow: Flow) -> Any:
    """Confirm the pending SMS enrollment (the answer carries an id_token)."""
    return rig.call("confirm_oob", flow, rig.emu.last_code(PHONE, purpose="mfa"))


def test_the_jwks_is_asked_for_as_json(rig: Rig) -> None:
    """The JWKS request is a GET with ``accept: application/json``."""
    flow = to_confirm(rig)
    assert confirm(rig, flow).claims is not None
    (fetch,) = [r for r in rig.emu.requests if r.path == JWKS]
    assert fetch.method == "GET"
    assert fetch.headers["accept"] == "application/json"


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("connect_refused", "cannot fetch the tenant's JWKS: ConnectError"),
        ("status_503", "the tenant's JWKS answered HTTP 503"),
    ],
)
def test_a_jwks_that_cannot_be_fetched_is_named(rig: Rig, fault: str, message: str) -> None:
    """No keys: IdTokenError ``jwks_unavailable`` saying why."""
    flow = to_confirm(rig)
    rig.emu.add_fault(Fault(JWKS, fault))  # type: ignore[arg-type]
    with pytest.raises(IdTokenError) as info:
        confirm(rig, flow)
    assert str(info.value) == message
    assert info.value.reason == "jwks_unavailable"
    assert flow.tokens is None


class _Redirecting:
    """Answers the JWKS path with a 307 to ``/moved``, which serves the real JWKS."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def _rewrite(self, request: httpx.Request) -> httpx.Request | httpx.Response:
        if request.url.path == JWKS:
            return httpx.Response(307, headers={"location": f"https://{TENANT}/moved"})
        if request.url.path == "/moved":
            return httpx.Request(
                request.method, request.url.copy_with(path=JWKS), headers=request.headers
            )
        return request


class _SyncRedirecting(_Redirecting, httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        out = self._rewrite(request)
        return out if isinstance(out, httpx.Response) else self.inner.handle_request(out)


class _AsyncRedirecting(_Redirecting, httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        out = self._rewrite(request)
        if isinstance(out, httpx.Response):
            return out
        return await self.inner.handle_async_request(out)  # type: ignore[no-any-return]


def test_a_redirected_jwks_is_not_followed_even_by_a_following_client(kind: str) -> None:
    """A shared client that follows redirects still gets no keys from a redirected JWKS."""
    rig = Rig(kind)
    rig.seed_users("new")
    flow = to_confirm(rig)
    shared: httpx.Client | httpx.AsyncClient
    if kind == "sync":
        shared = httpx.Client(
            transport=_SyncRedirecting(rig.emu.transport()), follow_redirects=True
        )
        rig.client = FlowClient(rig.config, http=shared, clock=rig.clock.time)
    else:
        shared = httpx.AsyncClient(
            transport=_AsyncRedirecting(rig.emu.async_transport()), follow_redirects=True
        )
        rig.client = AsyncFlowClient(rig.config, http=shared, clock=rig.clock.time)
    with pytest.raises(IdTokenError) as info:
        confirm(rig, flow)
    assert str(info.value) == "the tenant's JWKS answered HTTP 307"
    assert not [r for r in rig.emu.requests if r.path == JWKS]
    rig.close()
    if isinstance(shared, httpx.Client):
        shared.close()
    else:
        asyncio.run(shared.aclose())


# ------------------------------------------------------------- local steps


def test_cancel_applies_and_logs_the_cancel(rig: Rig) -> None:
    """``cancel`` ends the flow at the client's time and logs the transition."""
    flow = rig.new_flow()
    rig.clock.advance(7)
    with structlog.testing.capture_logs() as events:
        result = rig.call("cancel", flow)
    assert (result.trigger, result.state, result.source) == ("cancel", "cancelled", "started")
    assert flow.state == "cancelled" and flow.updated_at == rig.now
    (event,) = [e for e in events if e["event"] == "flow_transition"]
    assert (event["trigger"], event["to_state"]) == ("cancel", "cancelled")


def test_rollback_goes_back_to_the_state_named(rig: Rig) -> None:
    """``rollback(to=...)`` returns to that state, not just one step back."""
    flow = to_confirm(rig)
    result = rig.call("rollback", flow, to="code_sent")
    assert result.state == "code_sent" and flow.state == "code_sent"


# ------------------------------------------------------------- refresh


def login(rig: Rig) -> Flow:
    """A flow that logged in with SMS enrollment (it holds a refresh token)."""
    flow = to_confirm(rig)
    confirm(rig, flow)
    assert flow.state == "authenticated"
    return flow


def test_refresh_sends_the_scope_asked_for(rig: Rig) -> None:
    """``refresh(scope=...)`` narrows the refresh grant to that scope."""
    flow = login(rig)
    assert flow.tokens is not None
    rig.call("refresh", flow.tokens["refresh_token"], scope="openid")
    grant = [r for r in rig.emu.requests if r.path == "/oauth/token"][-1]
    assert grant.body is not None and grant.body["scope"] == "openid"


def test_mfa_on_refresh_hands_back_the_flow(rig: Rig) -> None:
    """A refresh answered ``mfa_required`` raises MfaRequiredError carrying its flow."""
    flow = login(rig)
    assert flow.tokens is not None
    rig.emu.mfa_on_refresh = True
    with pytest.raises(MfaRequiredError) as info:
        rig.call("refresh", flow.tokens["refresh_token"])
    assert info.value.state == "mfa_required"
    assert isinstance(info.value.flow, Flow) and info.value.flow.state == "mfa_required"


# ------------------------------------------------------------- push waits


def push_rig(kind: str, *, start: float | None = None, interval: float = 5.0) -> Rig:
    """A rig whose tenant answers pushes per ``PushScript`` and keeps codes for an hour."""
    rig = Rig(kind)
    if start is not None:
        rig.clock._now = start
    rig.emu.push_poll_interval = interval
    rig.emu.tenant_settings = LONG
    rig.seed_users("new")
    return rig


def push_flow(rig: Rig) -> Flow:
    """A flow with a push enrollment pending (next poll due 5 s from now)."""
    flow = rig.client.new_flow(settings=LONG)
    rig.to_mfa(flow)
    rig.call("enroll", flow, "push")
    return flow


def test_wait_for_push_gives_up_after_300_seconds(kind: str) -> None:
    """By default the wait polls every 5 s and returns the pending answer at exactly 300 s."""
    rig = push_rig(kind)
    rig.emu.push_script = PushScript(outcome="never")
    flow = push_flow(rig)
    started = rig.now
    result = rig.call("wait_for_push", flow)
    assert result.outcome == "pending"
    assert rig.now - started == 300.0
    assert rig.sleeps == [5.0] * 60
    rig.close()


def test_wait_for_push_keeps_going_after_slow_down(kind: str) -> None:
    """A ``slow_down`` answer is not the end of the wait: the approval comes later."""
    rig = push_rig(kind, interval=8.0)
    rig.emu.push_script = PushScript(pending=1, outcome="approve")
    flow = push_flow(rig)
    with structlog.testing.capture_logs() as events:
        result = rig.call("wait_for_push", flow)
    assert result.state == "authenticated"
    outcomes = [e["outcome"] for e in events if e["event"] == "flow_transition"]
    assert outcomes == ["pending", "slow_down", "tokens"]
    rig.close()


def test_a_poll_shortly_before_it_is_due_waits_the_rest(kind: str) -> None:
    """Half a second before the poll is due, the driver sleeps half a second, then polls."""
    rig = push_rig(kind)
    flow = push_flow(rig)
    rig.clock.advance(4.5)
    rig.call("poll_push", flow)
    assert rig.sleeps == [0.5]
    rig.close()


def test_a_poll_for_a_non_push_factor_waits_for_nothing(kind: str) -> None:
    """Without a push there is no poll time: the refusal comes at once, even at epoch 0."""
    rig = push_rig(kind, start=0.0)
    flow = to_confirm(rig)
    with pytest.raises(GuardRejectedError) as info:
        rig.call("poll_push", flow)
    assert info.value.guard == "push_expected"
    assert rig.sleeps == []
    rig.close()


def test_a_poll_that_is_due_renews_the_claim_once(kind: str) -> None:
    """Polling a lent flow on time renews its claim for the request only, not for a wait."""
    rig = push_rig(kind)
    store = MemoryStore(clock=rig.clock.time)
    claims: list[object] = []
    original = store.claim

    def claim(*args: Any, **kwargs: Any) -> str | None:
        claims.append(kwargs.get("intent"))
        return original(*args, **kwargs)

    store.claim = claim  # type: ignore[method-assign]
    repo = FlowRepository(store, Keyring.generate(), clock=rig.clock.time)
    handle = repo.add(push_flow(rig))
    rig.clock.advance(5.0)
    with repo.step(handle) as lent:
        claims.clear()
        rig.call("poll_push", lent)
    assert rig.sleeps == []
    assert len(claims) == 1 and claims[0] is not None  # the intent journal, nothing else
    rig.close()


def test_a_wait_longer_than_a_third_of_the_lease_is_sliced_and_renewed(kind: str) -> None:
    """Under a 3 s lease the 5 s wait is five 1 s sleeps, the claim renewed before each."""
    rig = push_rig(kind)
    store = MemoryStore(clock=rig.clock.time)
    claims: list[object] = []
    original = store.claim

    def claim(*args: Any, **kwargs: Any) -> str | None:
        claims.append(kwargs.get("intent"))
        return original(*args, **kwargs)

    store.claim = claim  # type: ignore[method-assign]
    repo = FlowRepository(store, Keyring.generate(), clock=rig.clock.time, lease=3.0)
    handle = repo.add(push_flow(rig))
    with repo.step(handle) as lent:
        claims.clear()
        result = rig.call("poll_push", lent)
    assert result.outcome == "pending"
    assert rig.sleeps == [1.0] * 5
    # One renewal gives the lease, one follows each slice, one carries the poll's intent.
    assert len(claims) == 7
    assert [c is None for c in claims] == [True] * 6 + [False]
    rig.close()
