"""The login app over both adapters, on the emulator and a fake clock (no browser)."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from flowengine import FlowClient, FlowRepository
from flowengine.stores.memory import MemoryStore
from flowengine.testing import Auth0Emulator, FakeClock
from flowengine.web import LoginApp

PHONE = "+15550100"


class Response:
    """Status, headers and text of an answer, the same for both adapters."""

    def __init__(self, status: int, headers: Any, text: str) -> None:
        self.status = status
        self.headers = headers
        self.text = text

    def attr(self, name: str) -> str | None:
        """The value of the first ``name="..." value="..."`` input in the page."""
        m = re.search(rf'name="{name}" value="([^"]*)"', self.text)
        return m.group(1) if m else None

    @property
    def state(self) -> str | None:
        m = re.search(r'data-flow-state="([a-z_]+)"', self.text)
        return m.group(1) if m else None

    @property
    def alert(self) -> str | None:
        m = re.search(r'role="alert"[^>]*>([^<]*)<', self.text)
        return m.group(1) if m else None


class Browserish:
    """A cookie-keeping client of one adapter, mounted at ``/login`` on 127.0.0.1."""

    def __init__(self, kind: str, login: LoginApp, host: str = "127.0.0.1") -> None:
        self.kind = kind
        self.origin = f"http://{host}"
        if kind == "starlette":
            from starlette.applications import Starlette
            from starlette.routing import Mount

            with warnings.catch_warnings():
                # Starlette 1.x warns that its TestClient will move off httpx; still works.
                warnings.simplefilter("ignore")
                from starlette.testclient import TestClient

            from flowengine.web.starlette import login_app

            app = Starlette(routes=[Mount("/login", app=login_app(login))])
            self._tc: Any = TestClient(app, base_url=self.origin, follow_redirects=False)
        else:
            import flask

            from flowengine.web.flask import login_blueprint

            app = flask.Flask("test")
            app.register_blueprint(login_blueprint(login), url_prefix="/login")
            self._tc = app.test_client()
        self.csrf: str | None = None
        self.seq: str | None = None

    def request(self, method: str, path: str, **kw: Any) -> Response:
        if self.kind == "starlette":
            r = self._tc.request(method, path, **kw)
            return Response(r.status_code, r.headers, r.text)
        headers = kw.pop("headers", {}) or {}
        if "content" in kw:
            kw["data"] = kw.pop("content")
        r = self._tc.open(path, method=method, base_url=self.origin, headers=headers, **kw)
        return Response(r.status_code, r.headers, r.get_data(as_text=True))

    def page(self) -> Response:
        r = self.request("GET", "/login/")
        self.csrf = r.attr("csrf_token")
        self.seq = r.attr("seq")
        return r

    def post(
        self,
        action: str,
        data: dict[str, str] | None = None,
        *,
        csrf: bool = True,
        seq: bool = True,
        headers: dict[str, str] | None = None,
        follow: bool = True,
    ) -> Response:
        form = dict(data or {})
        if csrf and self.csrf is not None:
            form.setdefault("csrf_token", self.csrf)
        if seq and self.seq is not None:
            form.setdefault("seq", self.seq)
        hdrs = {"origin": self.origin, **(headers or {})}
        r = self.request("POST", f"/login/{action}", data=form, headers=hdrs)
        if follow and r.status == 303:
            return self.page()
        if r.status != 303:
            self.csrf = r.attr("csrf_token") or self.csrf
            self.seq = r.attr("seq")
        return r

    def cookie(self) -> str | None:
        if self.kind == "starlette":
            return self._tc.cookies.get("flowengine_login")
        c = self._tc.get_cookie("flowengine_login", domain="127.0.0.1", path="/login")
        return c.value if c is not None else None

    def set_cookie(self, value: str) -> None:
        if self.kind == "starlette":
            self._tc.cookies.set("flowengine_login", value, domain="127.0.0.1", path="/login")
        else:
            self._tc.set_cookie("flowengine_login", value, domain="127.0.0.1", path="/login")


@pytest.fixture
def store() -> Iterator[MemoryStore]:
    s = MemoryStore()
    yield s
    s.close()


@pytest.fixture
def repo(store: MemoryStore, flow_keyring: Any, auth0_clock: FakeClock) -> FlowRepository:
    return FlowRepository(store, flow_keyring, clock=auth0_clock.time)


@pytest.fixture
def logins() -> list[Any]:
    """What ``on_login`` received (the final results)."""
    return []


@pytest.fixture
def login_app(
    flow_client: FlowClient, repo: FlowRepository, auth0_clock: FakeClock, logins: list[Any]
) -> LoginApp:
    return LoginApp(
        flow_client,
        repo,
        cookie_key=os.urandom(32),
        clock=auth0_clock.time,
        on_login=logins.append,
        trusted_proxies=("10.9.9.9",),
    )


@pytest.fixture(params=["starlette", "flask"])
def web(request: pytest.FixtureRequest, login_app: LoginApp) -> Browserish:
    """A browser-like client of the login under one adapter."""
    return Browserish(request.param, login_app)


def rows(store: MemoryStore) -> list[tuple[Any, ...]]:
    """Everything the store holds, to compare before and after a refused request."""
    return sorted((r.flow_id, r.seq, r.state, r.data, r.expires_at) for r in store.list(limit=1000))


def to_code_sent(web: Browserish, emu: Auth0Emulator, phone: str = PHONE) -> str:
    """Start an SMS login; return the code sent."""
    web.page()
    r = web.post("start_passwordless", {"connection": "sms", "phone_number": phone})
    assert r.state == "code_sent", r.text
    return emu.last_code(phone)
