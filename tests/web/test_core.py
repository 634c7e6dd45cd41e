"""The framework-neutral layer: next steps with guards, confirm, start, views, problems."""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
from typing import Any

import pytest

import flowengine
from flowengine import FlowClient, FlowRepository
from flowengine import _errors as errors
from flowengine.stores.memory import MemoryStore
from flowengine.testing import Auth0Emulator, FakeClock
from flowengine.web import (
    PROBLEMS,
    LoginApp,
    confirm,
    next_steps,
    problem_for,
    result_view,
    start,
)
from flowengine.web._problem import TYPE_BASE
from tests.web.conftest import PHONE, Browserish, rows, to_code_sent


def _wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


def _started(client: FlowClient, repo: FlowRepository, phone: str = PHONE) -> str:
    handle, _ = start(client, repo, connection="sms", phone_number=phone)
    return handle


def _mfa(client: FlowClient, repo: FlowRepository, emu: Auth0Emulator, phone: str = PHONE) -> str:
    handle = _started(client, repo, phone)
    with repo.step(handle) as flow:
        client.verify_otp(flow, emu.last_code(phone))
    return flow.handle


# ----------------------------------------------------------------- next_steps


def test_next_steps_close_verify_after_three_wrong_codes(
    flow_client: FlowClient,
    flow_repository: FlowRepository,
    auth0_emulator: Auth0Emulator,
    auth0_clock: FakeClock,
) -> None:
    """After three wrong codes verify_otp is closed by its guard, with the guard's hint."""
    handle = _started(flow_client, flow_repository)
    wrong = _wrong(auth0_emulator.last_code(PHONE))
    for _ in range(3):
        with flow_repository.step(handle) as flow:
            flow_client.verify_otp(flow, wrong)
        handle = flow.handle
    flow = flow_repository.view(handle)
    steps = {s.trigger: s for s in next_steps(flow, auth0_clock.time())}
    verify = steps["verify_otp"]
    assert not verify.open
    assert verify.guard == "code_attempts_left"
    assert verify.reason and "resend_code" in verify.reason
    assert steps["resend_code"].open
    assert "expire" not in steps
    assert verify.fields == ("code",)


def test_next_steps_in_mfa_required_name_their_fields(
    flow_client: FlowClient,
    flow_repository: FlowRepository,
    auth0_emulator: Auth0Emulator,
    auth0_clock: FakeClock,
) -> None:
    """In mfa_required enroll, challenge and the recovery code are open, each with its fields."""
    flow = flow_repository.view(_mfa(flow_client, flow_repository, auth0_emulator))
    steps = {s.trigger: s for s in next_steps(flow, auth0_clock.time())}
    assert steps["enroll"].open and steps["enroll"].fields == ("type", "phone_number", "email")
    assert steps["challenge"].fields == ("authenticator_id",)
    assert steps["confirm_recovery_code"].open
    assert steps["rollback"].open
    assert next_steps(_final_flow(), 0.0) == ()


def _final_flow() -> flowengine.Flow:
    flow = flowengine.Flow.new("fl_x", 0.0)
    flow.cancel(0.0)
    return flow


# ------------------------------------------------------------------- confirm


def test_confirm_dispatches_by_pending_factor(
    flow_client: FlowClient,
    flow_repository: FlowRepository,
    auth0_emulator: Auth0Emulator,
) -> None:
    """An SMS factor goes to confirm_oob, a TOTP one to confirm_otp."""
    handle = _mfa(flow_client, flow_repository, auth0_emulator)
    with flow_repository.step(handle) as flow:
        flow_client.enroll(flow, "sms", phone_number=PHONE)
    with flow_repository.step(flow.handle) as flow:
        result = confirm(flow_client, flow, auth0_emulator.last_code(PHONE, purpose="mfa"))
    assert result.trigger == "confirm_oob" and result.state == "authenticated"

    handle = _mfa(flow_client, flow_repository, auth0_emulator, "+15550199")
    with flow_repository.step(handle) as flow:
        enrolled = flow_client.enroll(flow, "otp")
    assert enrolled.totp_secret
    with flow_repository.step(flow.handle) as flow:
        result = confirm(flow_client, flow, auth0_emulator.totp_code(enrolled.totp_secret))
    assert result.trigger == "confirm_otp" and result.state == "authenticated"


def test_confirm_takes_a_recovery_code_in_mfa_required(
    flow_client: FlowClient,
    flow_repository: FlowRepository,
    auth0_emulator: Auth0Emulator,
) -> None:
    """With nothing pending, a 24-character code is a recovery code."""
    auth0_emulator.add_passwordless_user(PHONE)
    auth0_emulator.enroll(PHONE, "sms", phone_number=PHONE)
    code = auth0_emulator.recovery_code_of(PHONE)
    assert code
    handle = _mfa(flow_client, flow_repository, auth0_emulator)
    with flow_repository.step(handle) as flow:
        result = confirm(flow_client, flow, code)
    assert result.trigger == "confirm_recovery_code" and result.recovery_code


def test_confirm_refuses_push_and_wrong_states(
    flow_client: FlowClient,
    flow_repository: FlowRepository,
    auth0_emulator: Auth0Emulator,
) -> None:
    """A push has no code to type; confirm is illegal before mfa_required; `code` is named."""
    handle = _mfa(flow_client, flow_repository, auth0_emulator)
    with flow_repository.step(handle) as flow:
        flow_client.enroll(flow, "push")
    with (
        pytest.raises(errors.InvalidInputError, match="push"),
        flow_repository.step(flow.handle) as f,
    ):
        confirm(flow_client, f, "123456")
    handle = _started(flow_client, flow_repository)
    with pytest.raises(errors.IllegalTransitionError), flow_repository.step(handle) as f:
        confirm(flow_client, f, "123456")
    handle = _mfa(flow_client, flow_repository, auth0_emulator)
    with pytest.raises(errors.InvalidInputError) as info, flow_repository.step(handle) as f:
        confirm(flow_client, f, "12ab")
    assert info.value.field == "code"


# --------------------------------------------------------------------- start


def test_start_in_one_call(flow_client: FlowClient, flow_repository: FlowRepository) -> None:
    """start() stores the flow, sends the code and returns the next handle."""
    handle, result = start(flow_client, flow_repository, connection="email", email="a@example.com")
    assert result.state == "code_sent"
    assert flow_repository.view(handle).state == "code_sent"


def test_failed_start_leaves_nothing(
    flow_client: FlowClient,
    flow_repository: FlowRepository,
    auth0_emulator: Auth0Emulator,
    flow_store: MemoryStore,
) -> None:
    """A rate-limited start deletes its flow; bad arguments store none."""
    from flowengine.testing import Fault

    auth0_emulator.add_fault(Fault("/passwordless/start", "status_429"))
    with pytest.raises(errors.RateLimitedError):
        start(flow_client, flow_repository, connection="sms", phone_number=PHONE)
    with pytest.raises(errors.InvalidInputError):
        start(flow_client, flow_repository, connection="sms", phone_number="555")
    assert flow_store.list() == []


# ------------------------------------------------------------------ problems


def _all_errors(cls: type[BaseException] = errors.FlowEngineError) -> list[type[BaseException]]:
    out = [cls]
    for sub in cls.__subclasses__():
        out.extend(_all_errors(sub))
    return out


SECRET = "s3cr3t-value-0123456789"


def _instance(cls: type[BaseException]) -> BaseException:
    """An instance of ``cls`` whose every text argument is a secret."""
    params = inspect.signature(cls.__init__).parameters
    kw: dict[str, Any] = {}
    args: list[Any] = []
    for name, p in list(params.items())[1:]:
        if p.kind is p.VAR_KEYWORD or p.kind is p.VAR_POSITIONAL:
            continue
        value: Any = {
            "expected_seq": 1,
            "actual_seq": 2,
            "seq": 3,
            "results": (),
            "reset_at": None,
            "retry_after": 7.0,
            "status_code": 429,
            "ambiguous": True,
        }.get(name, SECRET)
        if p.kind is p.KEYWORD_ONLY:
            kw[name] = value
        elif p.default is p.empty:
            args.append(value)
    if issubclass(cls, errors.InvalidInputError) and "field" in params:
        kw["message"] = "must be 6 digits"  # a validator's text (never the value) by contract
        args = args[:1]
    if issubclass(cls, errors.RemoteError):
        kw.setdefault("status_code", 400)
        kw["error_description"] = SECRET
        kw["error"] = SECRET
    return cls(*args, **kw)


@pytest.mark.parametrize("cls", _all_errors(), ids=lambda c: c.__name__)
def test_every_error_has_its_own_problem(cls: type[BaseException]) -> None:
    """Every class of the tree has an entry; its problem is complete and holds no secret."""
    assert cls in PROBLEMS, f"{cls.__name__} has no problem entry"
    problem = problem_for(_instance(cls), now=0.0)
    body = problem.as_dict()
    assert body["type"].startswith(TYPE_BASE) and body["title"] and body["detail"]
    assert 400 <= body["status"] <= 599
    assert SECRET not in json.dumps(body) + json.dumps(dict(problem.headers))


def test_rate_limit_problem_has_retry_after() -> None:
    """A 429 from Auth0 becomes 429 with Retry-After counted from reset_at."""
    exc = errors.RateLimitedError("x", reset_at=1_000_042, status_code=429)
    problem = problem_for(exc, now=1_000_000.0)
    assert problem.status == 429 and problem.headers["Retry-After"] == "42"
    busy = problem_for(errors.FlowBusyError("fl_1", 3))
    assert busy.headers["Retry-After"] == "1"


def test_guard_problem_carries_the_hint() -> None:
    """A guard's refusal says which guard and why."""
    exc = errors.GuardRejectedError(
        "code_sent", "verify_otp", "code_attempts_left", "call resend_code"
    )
    body = problem_for(exc).as_dict()
    assert body["guard"] == "code_attempts_left" and "resend_code" in body["detail"]


# --------------------------------------------------------------------- views


def test_views_show_secrets_once_and_never_tokens(
    flow_client: FlowClient,
    flow_repository: FlowRepository,
    auth0_emulator: Auth0Emulator,
) -> None:
    """An otp enrollment's view carries the secret and URI, marked; the final one no token."""
    handle = _mfa(flow_client, flow_repository, auth0_emulator)
    with flow_repository.step(handle) as flow:
        enrolled = flow_client.enroll(flow, "otp")
    view = result_view(enrolled)
    assert view["show_once"] is True
    assert set(view["secrets"]) >= {"totp_secret", "barcode_uri", "recovery_code"}
    with flow_repository.step(flow.handle) as flow:
        final = flow_client.confirm_otp(flow, auth0_emulator.totp_code(enrolled.totp_secret or ""))
    text = json.dumps(result_view(final))
    assert final.tokens
    # The tokens themselves (expires_in or token_type are not secrets and may match a digit).
    names = ("access_token", "id_token", "refresh_token")
    secret_tokens = [str(final.tokens[k]) for k in names if final.tokens.get(k)]
    assert secret_tokens and all(t not in text for t in secret_tokens)
    assert "secrets" not in result_view(final)


# --------------------------------------------------------------- the web app


def test_cookie_attributes(login_app: LoginApp) -> None:
    """HttpOnly and SameSite always; Secure except on a loopback host."""
    local = Browserish("starlette", login_app).request("GET", "/login/")
    cookie = local.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Path=/login" in cookie
    remote = Browserish("starlette", login_app, host="login.example.com").request("GET", "/login/")
    assert "Secure" in remote.headers["set-cookie"]


def test_flow_deleted_once_the_app_has_the_tokens(
    web: Browserish, auth0_emulator: Auth0Emulator, store: MemoryStore, logins: list[Any]
) -> None:
    """on_login gets the tokens, then the flow leaves the store and the cookie."""
    code = to_code_sent(web, auth0_emulator)
    assert web.post("verify_otp", {"code": code}).state == "mfa_required"
    r = web.post("enroll", {"type": "sms", "phone_number": PHONE})
    assert r.state == "enrollment_pending" and 'data-secret="recovery_code"' in r.text
    r = web.post("confirm", {"code": auth0_emulator.last_code(PHONE, purpose="mfa")})
    assert r.state == "authenticated"
    assert len(logins) == 1 and logins[0].tokens["access_token"]
    assert rows(store) == []
    assert logins[0].tokens["access_token"] not in r.text
    assert web.page().state == "started"


def test_trusted_proxy_forwarded_for(login_app: LoginApp, auth0_emulator: Auth0Emulator) -> None:
    """X-Forwarded-For is used only from a trusted proxy; otherwise the peer's address."""
    from flowengine.web import WebRequest

    def post_start(peer: str, xff: str) -> str | None:
        page = login_app.handle(WebRequest("GET", "/", "", "http", "127.0.0.1", {}, client_ip=peer))
        cookie = dict(page.headers)["Set-Cookie"].split(";")[0].split("=", 1)[1]
        csrf = page.body.decode().split('name="csrf_token" value="')[1].split('"')[0]
        body = f"csrf_token={csrf}&connection=sms&phone_number=%2B15550100".encode()
        login_app.handle(
            WebRequest(
                "POST",
                "/start_passwordless",
                "",
                "http",
                "127.0.0.1",
                {"content-type": "application/x-www-form-urlencoded", "x-forwarded-for": xff},
                body,
                cookie,
                peer,
            )
        )
        return auth0_emulator.requests[-1].headers.get("auth0-forwarded-for")

    assert post_start("10.9.9.9", "198.51.100.1, 203.0.113.7") == "203.0.113.7"
    assert post_start("192.0.2.5", "203.0.113.7") == "192.0.2.5"


def test_json_api(web: Browserish, auth0_emulator: Auth0Emulator) -> None:
    """With Accept: application/json a step answers its view; /state lists the next steps."""
    web.page()
    r = web.request(
        "POST",
        "/login/start_passwordless",
        content=json.dumps({"csrf_token": web.csrf, "connection": "sms", "phone_number": PHONE}),
        headers={
            "content-type": "application/json",
            "accept": "application/json",
            "origin": web.origin,
        },
    )
    assert r.status == 200 and json.loads(r.text)["result"]["state"] == "code_sent"
    state = json.loads(
        web.request("GET", "/login/state", headers={"accept": "application/json"}).text
    )
    triggers = {s["trigger"] for s in state["flow"]["next_steps"]}
    assert {"verify_otp", "resend_code", "cancel"} <= triggers
    r = web.request(
        "POST",
        "/login/verify_otp",
        content=json.dumps(
            {"csrf_token": web.csrf, "code": _wrong(auth0_emulator.last_code(PHONE))}
        ),
        headers={
            "content-type": "application/json",
            "accept": "application/json",
            "origin": web.origin,
        },
    )
    problem = json.loads(r.text)
    assert r.status == 422 and problem["attempts_left"] == 2
    assert problem["type"] == TYPE_BASE + "wrong-code"


# ------------------------------------------------------------------- sharing


def test_one_app_client_and_repository_shared_by_threads(
    flow_client: FlowClient,
    repo: FlowRepository,
    auth0_emulator: Auth0Emulator,
    login_app: LoginApp,
    store: MemoryStore,
) -> None:
    """Eight threads log in at once through one LoginApp, FlowClient and FlowRepository."""
    errors_seen: list[BaseException] = []
    done: list[str] = []

    def one(i: int) -> None:
        try:
            web = Browserish("flask", login_app)
            phone = f"+1555020{i:04d}"
            code = to_code_sent(web, auth0_emulator, phone)
            assert web.post("verify_otp", {"code": code}).state == "mfa_required"
            web.post("enroll", {"type": "sms", "phone_number": phone})
            r = web.post("confirm", {"code": auth0_emulator.last_code(phone, purpose="mfa")})
            assert r.state == "authenticated", r.alert
            done.append(phone)
        except BaseException as exc:  # reported below
            errors_seen.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors_seen == [] and len(done) == 8
    assert rows(store) == []


def test_shared_by_asyncio_tasks(
    login_app: LoginApp, auth0_emulator: Auth0Emulator, store: MemoryStore
) -> None:
    """Six tasks on one event loop log in concurrently through the Starlette adapter."""
    import httpx
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from flowengine.web.starlette import login_app as starlette_app

    app = Starlette(routes=[Mount("/login", app=starlette_app(login_app))])

    async def one(i: int) -> str:
        phone = f"+1555030{i:04d}"
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            page = (await c.get("/login/")).text
            csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
            h = {"origin": "http://127.0.0.1", "accept": "application/json"}
            await c.post(
                "/login/start_passwordless",
                data={"csrf_token": csrf, "connection": "sms", "phone_number": phone},
                headers=h,
            )
            r = await c.post(
                "/login/verify_otp",
                data={"csrf_token": csrf, "code": auth0_emulator.last_code(phone)},
                headers=h,
            )
            return str(r.json()["result"]["state"])

    async def main() -> list[str]:
        return list(await asyncio.gather(*(one(i) for i in range(6))))

    assert asyncio.run(main()) == ["mfa_required"] * 6
    assert len(rows(store)) == 6


def test_the_neutral_layer_imports_no_framework() -> None:
    """``import flowengine.web`` loads neither Starlette, Flask nor segno."""
    import subprocess
    import sys

    code = (
        "import sys, flowengine.web\n"
        "print(sorted(m for m in ('starlette', 'flask', 'fastapi', 'segno', 'werkzeug') "
        "if m in sys.modules))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "[]\n"


def test_tokens_of_a_lost_save_are_still_handed_over(
    web: Browserish,
    auth0_emulator: Auth0Emulator,
    store: MemoryStore,
    logins: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the final save fails, on_login still gets the tokens and the page says signed in."""
    code = to_code_sent(web, auth0_emulator)
    web.post("verify_otp", {"code": code})
    web.post("enroll", {"type": "sms", "phone_number": PHONE})

    def broken_save(*args: Any, **kw: Any) -> None:
        raise errors.StoreError("disk full")

    monkeypatch.setattr(store, "save", broken_save)
    r = web.post("confirm", {"code": auth0_emulator.last_code(PHONE, purpose="mfa")})
    assert r.state == "authenticated"
    assert len(logins) == 1 and logins[0].tokens["access_token"]
