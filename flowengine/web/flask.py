"""The login as a Flask blueprint, mounted with ``app.register_blueprint``.

``app.register_blueprint(login_blueprint(login), url_prefix="/login")``.

Each route hands the request to ``flowengine.web.LoginApp.handle`` and sends back its
answer; every rule (cookie, CSRF, validation, claims) lives there. Flask serves requests
in threads: one ``LoginApp`` is shared by all of them (see ``flowengine.web._app``).
"""

from __future__ import annotations

import flask

from flowengine.web._app import MAX_BODY as _MAX_BODY
from flowengine.web._app import LoginApp, WebRequest, WebResponse

__all__ = ["login_blueprint", "to_web_request"]


def to_web_request(request: flask.Request, base: str, cookie_name: str) -> WebRequest:
    """The framework-neutral view of a Flask request (the body is read up to the limit + 1)."""
    body = request.stream.read(_MAX_BODY + 1) if request.method == "POST" else b""
    root = request.script_root + base
    path = request.path[len(root) :] if request.path.startswith(root) else request.path
    return WebRequest(
        method=request.method,
        path=path or "/",
        base=root,
        scheme=request.scheme,
        host=request.host,
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
        cookie=request.cookies.get(cookie_name),
        client_ip=request.remote_addr,
    )


def to_flask_response(resp: WebResponse) -> flask.Response:
    """A Flask response from the neutral one."""
    out = flask.Response(resp.body, status=resp.status)
    out.headers.clear()
    for name, value in resp.headers:
        out.headers.add(name, value)
    return out


def login_blueprint(login: LoginApp, *, name: str = "flowengine_login") -> flask.Blueprint:
    """A blueprint serving the login page, its steps (POST ``/<step>``) and ``/state``."""
    bp = flask.Blueprint(name, __name__)

    def view(subpath: str = "") -> flask.Response:
        prefix = bp_prefix()
        req = to_web_request(flask.request, prefix, login.cookies.name)
        return to_flask_response(login.handle(req))

    def bp_prefix() -> str:
        # The blueprint's mount point, as registered (url_prefix), without a trailing slash.
        rule = flask.request.url_rule
        if rule is None:
            return ""
        text = rule.rule
        for suffix in ("/<path:subpath>", "/"):
            if text.endswith(suffix):
                return text[: -len(suffix)]
        return text

    bp.add_url_rule("/", "page", view, methods=["GET", "HEAD", "POST"], strict_slashes=False)
    bp.add_url_rule("/<path:subpath>", "step", view, methods=["GET", "HEAD", "POST"])
    return bp
