"""The login as a Starlette application; FastAPI mounts it.

``app.mount("/login", login_app(login))``.

Each request is handed to ``flowengine.web.LoginApp.handle`` in a worker thread
(the steps call Auth0 and the store synchronously), so the event loop never waits on
Auth0; one ``LoginApp`` serves every task. The body is read up to the limit and no
further.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowengine.web._app import MAX_BODY as _MAX_BODY
from flowengine.web._app import LoginApp, WebRequest, WebResponse

__all__ = ["login_app", "to_web_request"]


async def _body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > _MAX_BODY:
            break  # enough to refuse it: the rest is never read
    return b"".join(chunks)


async def to_web_request(request: Request, cookie_name: str) -> WebRequest:
    """The framework-neutral view of a Starlette request."""
    body = await _body(request) if request.method == "POST" else b""
    base = request.scope.get("root_path", "").rstrip("/")
    path = request.scope.get("path", "/")
    if base and path.startswith(base):
        path = path[len(base) :]
    client = request.client
    return WebRequest(
        method=request.method,
        path=path or "/",
        base=base,
        scheme=request.url.scheme,
        host=request.headers.get("host", request.url.netloc),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
        cookie=request.cookies.get(cookie_name),
        client_ip=client.host if client is not None else None,
    )


def to_starlette_response(resp: WebResponse) -> Response:
    """A Starlette response from the neutral one."""
    out = Response(resp.body, status_code=resp.status)
    del out.headers["content-length"]
    for name, value in resp.headers:
        out.headers.append(name, value)
    out.headers["content-length"] = str(len(resp.body))
    return out


def login_app(login: LoginApp) -> Starlette:
    """A Starlette app serving the login page, its steps (POST ``/<step>``) and ``/state``."""

    async def endpoint(request: Request) -> Response:
        req = await to_web_request(request, login.cookies.name)
        resp = await run_in_threadpool(login.handle, req)
        return to_starlette_response(resp)

    methods = ["GET", "HEAD", "POST"]
    return Starlette(
        routes=[
            Route("/", endpoint, methods=methods),
            Route("/{subpath:path}", endpoint, methods=methods),
        ]
    )
