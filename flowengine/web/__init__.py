"""flowengine.web: a login embedded in a web application, framework-neutral.

Nothing here imports a web framework: the adapters do, when imported
(``flowengine.web.starlette`` for Starlette and FastAPI, ``flowengine.web.flask`` for
Flask; ``pip install 'flowengine[web]'``).

* ``next_steps``: what the flow can do now, from the table *and* the guards;
* ``confirm``: one action for every second factor (dispatched by the pending one);
* ``start``: create, store and start a flow in one call;
* ``problem_for``: any flowengine error as RFC 9457 problem details, never a secret;
* ``result_view`` / ``flow_view``: JSON for the browser, secrets only where the
  user must see them, under ``"secrets"`` with ``"show_once": true``;
* ``LoginApp``: the reference login page and its JSON API over a ``FlowClient`` and a
  ``FlowRepository``, which the adapters mount.

Identifiers: the **flow id** (``fl_…``) is a name for logs and support, it resumes
nothing; the **handle** (``fh1_…``) is the bearer capability that takes the flow's next
step, renewed by every step; the **cookie** is the HMAC-signed, HttpOnly, SameSite
session cookie that carries the handle, the CSRF token and the session id the flow is
bound to, so the handle never reaches a script, a URL or a log.
"""

from __future__ import annotations

from flowengine.web._app import ACTIONS, LoginApp, WebRequest, WebResponse
from flowengine.web._cookie import COOKIE_NAME, CookieCodec, Session
from flowengine.web._dev import DevClock, DevTenant
from flowengine.web._problem import PROBLEMS, Problem, problem_for, problem_for_result
from flowengine.web._steps import STEP_FIELDS, NextStep, confirm, next_steps, pending_factor, start
from flowengine.web._views import flow_view, result_view, shown_secrets

__all__ = [
    "ACTIONS",
    "COOKIE_NAME",
    "PROBLEMS",
    "STEP_FIELDS",
    "CookieCodec",
    "DevClock",
    "DevTenant",
    "LoginApp",
    "NextStep",
    "Problem",
    "Session",
    "WebRequest",
    "WebResponse",
    "confirm",
    "flow_view",
    "next_steps",
    "pending_factor",
    "problem_for",
    "problem_for_result",
    "result_view",
    "shown_secrets",
    "start",
]
