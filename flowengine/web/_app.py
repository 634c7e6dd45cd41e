"""The framework-neutral login application: one request in, one response out.

Theory of operation
-------------------
``LoginApp.handle(WebRequest) -> WebResponse`` is the whole web login; the Starlette
and Flask adapters only translate their request and response objects. A request goes
through the same gates in the same order, and each gate that says no changes nothing
in the store:

1. the session cookie is verified (``CookieCodec``): a forged, damaged or old cookie
   counts as none, and the page says the session could not be verified;
2. a POST must come from this page: its ``Origin`` (when the browser sends one) must
   be the page's own, and its ``csrf_token`` must be the session's;
3. the body is small (16 KiB), every field is given once, is a string, and is at most
   1 KiB; the library's validators then check each value before any request is built;
4. the step runs under the repository's claim (``repo.step(handle, binding=session,
   expected_seq=seq)``): the form's ``seq`` is the revision the page was drawn from, so
   a second tab or a double click is refused (``StaleSnapshotError``) before anything
   is sent, and of two racing requests exactly one reaches Auth0.

A step that succeeds answers ``303 See Other`` to the page (post/redirect/get, so a
reload or the back button shows where the login is), except where the response itself
must show a secret once (TOTP secret, recovery codes) or the login ended: those are
drawn directly. When the flow reaches ``authenticated`` the application's ``on_login``
takes the tokens, and the flow is deleted from the store; a flow that ended otherwise
is deleted too. A client that asks for JSON (``Accept: application/json``) gets the
result's view or an RFC 9457 problem instead of HTML.

Sharing: one ``LoginApp`` (and its ``FlowClient`` and ``FlowRepository``) serves every
thread of a WSGI server and every task of an ASGI one (the adapters run ``handle`` in a
worker thread): it holds no per-request state; ``httpx.Client`` and the stores are
thread-safe, and every flow's consistency comes from the store's claim, not from a lock
in this process.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import math
import secrets
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs

from flowengine import _errors as err
from flowengine import _machine as m
from flowengine._config import is_loopback_host
from flowengine._flow import Flow, StepResult
from flowengine._repository import FlowRepository
from flowengine._sync import FlowClient
from flowengine.web._cookie import CookieCodec, Session
from flowengine.web._dev import DEV_ACTIONS, DevTenant
from flowengine.web._page import PageModel, render_page
from flowengine.web._problem import Problem, problem_for, problem_for_result
from flowengine.web._steps import check_start, confirm, next_steps, pending_factor, start
from flowengine.web._views import flow_view, result_view, shown_secrets

__all__ = ["ACTIONS", "LoginApp", "WebRequest", "WebResponse"]

#: The steps a page may post, by path segment (``confirm`` stands for every second factor).
ACTIONS = (
    "start_passwordless",
    "resend_code",
    "verify_otp",
    "list_authenticators",
    "enroll",
    "challenge",
    "confirm",
    "poll_push",
    "rollback",
    "cancel",
)
MAX_BODY = 16 * 1024
MAX_FIELD = 1024
_EXPIRED = "This login expired: its code or session passed Auth0's deadline. Start again."
_FORM_FIELDS = frozenset(
    {"csrf_token", "seq", "connection", "phone_number", "email", "code", "type", "authenticator_id"}
)


@attrs.frozen
class WebRequest:
    """One HTTP request as the adapters hand it over."""

    method: str
    #: The path below the mount point: ``/`` or ``/verify_otp``.
    path: str
    #: The mount point (``""`` at the root, ``/login`` when mounted there).
    base: str
    scheme: str
    host: str
    headers: Mapping[str, str] = attrs.field(repr=False)  # lower-case names
    body: bytes = attrs.field(default=b"", repr=False)
    cookie: str | None = attrs.field(default=None, repr=False)
    client_ip: str | None = None

    def header(self, name: str) -> str | None:
        """A header by lower-case name."""
        return self.headers.get(name)

    @property
    def wants_json(self) -> bool:
        """True when the client asked for JSON rather than a page."""
        accept = self.headers.get("accept", "")
        ctype = self.headers.get("content-type", "")
        return ("json" in accept and "text/html" not in accept) or ctype.startswith(
            "application/json"
        )


@attrs.frozen
class WebResponse:
    """One HTTP response for the adapters to send."""

    status: int
    headers: Sequence[tuple[str, str]] = attrs.field(repr=False)  # Set-Cookie holds the handle
    body: bytes = attrs.field(default=b"", repr=False)


class _Refused(Exception):
    """A request refused before any step: the problem to answer with."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.title)


def _refusal(slug: str, title: str, status: int, detail: str, **ext: Any) -> _Refused:
    from flowengine.web._problem import TYPE_BASE

    return _Refused(Problem(TYPE_BASE + slug, title, status, detail, ext))


class LoginApp:
    """The web login over a ``FlowClient`` and a ``FlowRepository`` (shared, thread-safe)."""

    def __init__(
        self,
        client: FlowClient,
        repo: FlowRepository,
        *,
        cookie_key: bytes,
        samesite: str = "Lax",
        trusted_proxies: Collection[str] = (),
        on_login: Callable[[StepResult], None] | None = None,
        dev: DevTenant | None = None,
        clock: Callable[[], float] = time.time,
        title: str = "Sign in",
    ) -> None:
        """``on_login`` receives the final ``StepResult`` (``.tokens``) before the flow is deleted.

        ``trusted_proxies``: peer addresses whose ``X-Forwarded-For`` names the user's IP
        (sent to Auth0 as ``auth0-forwarded-for``); from anyone else the header is ignored.
        """
        self.client = client
        self.repo = repo
        self.cookies = CookieCodec(cookie_key, samesite=samesite)
        self.trusted_proxies = frozenset(trusted_proxies)
        self.on_login = on_login
        self.dev = dev
        self.clock = clock
        self.title = title

    # ------------------------------------------------------------ entry point

    def handle(self, req: WebRequest) -> WebResponse:
        """Answer one request (never raises for anything the browser can send)."""
        now = self.clock()
        session = self.cookies.decode(req.cookie, now)
        path = req.path.rstrip("/") or "/"
        try:
            if req.method in ("GET", "HEAD"):
                if path == "/":
                    return self._page(req, session)
                if path == "/state":
                    return self._state(req, session)
                return self._not_found(req, session)
            if req.method != "POST":
                return self._problem(
                    req,
                    session,
                    _refusal("method", "Method not allowed", 405, "Use GET or POST.").problem,
                )
            action = path.lstrip("/")
            dev_action = action.removeprefix("_dev/") if action.startswith("_dev/") else None
            if action not in ACTIONS and (
                dev_action is None or self.dev is None or dev_action not in DEV_ACTIONS
            ):
                return self._not_found(req, session)
            form = self._form(req)
            self._check_origin(req)
            self._check_csrf(req, session, form)
            if dev_action is not None:
                assert self.dev is not None
                session.notice = self.dev.act(dev_action)
                return self._redirect(req, session)
            return self._step(req, session, action, form)
        except _Refused as refused:
            return self._problem(req, session, refused.problem)

    # ------------------------------------------------------------- the gates

    def _form(self, req: WebRequest) -> dict[str, str]:
        if len(req.body) > MAX_BODY:
            raise _refusal("too-large", "Request too large", 413, "The form is too large.")
        ctype = (req.header("content-type") or "").split(";")[0].strip()
        fields: dict[str, Any]
        if ctype == "application/json":
            try:
                doc = json.loads(req.body or b"{}")
            except (ValueError, UnicodeDecodeError):
                raise _refusal(
                    "bad-body", "Unreadable request", 400, "The body is not JSON."
                ) from None
            if not isinstance(doc, dict):
                raise _refusal("bad-body", "Unreadable request", 400, "The body must be an object.")
            fields = doc
        else:
            try:
                text = req.body.decode("utf-8")
            except UnicodeDecodeError:
                raise _refusal(
                    "bad-body", "Unreadable request", 400, "The form is not UTF-8."
                ) from None
            try:
                parsed = parse_qs(text, keep_blank_values=True, max_num_fields=32)
            except ValueError:
                raise _refusal(
                    "bad-body", "Unreadable request", 400, "The form has too many fields."
                ) from None
            for name, values in parsed.items():
                if len(values) != 1:
                    raise _refusal(
                        "invalid-input",
                        "Invalid input",
                        422,
                        f"{name}: given more than once",
                        field=name,
                    )
            fields = {k: v[0] for k, v in parsed.items()}
        out: dict[str, str] = {}
        for name, value in fields.items():
            if name not in _FORM_FIELDS:
                continue  # a submit button's name, an extension's field: ignored
            if not isinstance(value, str):
                raise _refusal(
                    "invalid-input", "Invalid input", 422, f"{name}: must be a string", field=name
                )
            if len(value) > MAX_FIELD:
                raise _refusal(
                    "invalid-input", "Invalid input", 422, f"{name}: too long", field=name
                )
            out[name] = value
        return out

    def _origin(self, req: WebRequest) -> str:
        return f"{req.scheme}://{req.host}"

    def _check_origin(self, req: WebRequest) -> None:
        origin = req.header("origin")
        if origin is None:
            referer = req.header("referer")
            if referer:
                parts = urlsplit(referer)
                origin = f"{parts.scheme}://{parts.netloc}"
        if origin is not None and origin != self._origin(req):
            raise _refusal("csrf", "Request refused", 403, "This form was not sent from this site.")

    def _check_csrf(self, req: WebRequest, session: Session, form: Mapping[str, str]) -> None:
        if session.rejected:
            raise _refusal(
                "invalid-session",
                "Login session not recognised",
                403,
                "Your login session could not be verified. Start again.",
            )
        given = form.get("csrf_token") or req.header("x-csrf-token") or ""
        if not given or not secrets.compare_digest(
            given.encode("utf-8", "surrogatepass"), session.csrf.encode()
        ):
            raise _refusal(
                "csrf",
                "Form expired",
                403,
                "This form has expired or did not come from this page. Reload the page and "
                "try again.",
            )

    def _forwarded_for(self, req: WebRequest) -> str | None:
        """The user's IP for ``auth0-forwarded-for``: the peer, or what a trusted proxy says."""
        ip = req.client_ip
        if ip is not None and ip in self.trusted_proxies:
            chain = [
                p.strip() for p in (req.header("x-forwarded-for") or "").split(",") if p.strip()
            ]
            if chain:
                ip = chain[-1]  # the address our proxy saw; earlier ones the client wrote
        try:
            return str(ipaddress.ip_address(ip)) if ip else None
        except ValueError:
            return None  # not an address (a test client's name, a garbled header): none sent

    # ------------------------------------------------------------- the steps

    def _step(
        self, req: WebRequest, session: Session, action: str, form: dict[str, str]
    ) -> WebResponse:
        now = self.clock()
        ip = self._forwarded_for(req)
        if action == "start_passwordless":
            try:
                check_start(form.get("connection"), _opt(form, "phone_number"), _opt(form, "email"))
                old = session.handle
                handle, started = start(
                    self.client,
                    self.repo,
                    connection=form.get("connection", ""),
                    phone_number=_opt(form, "phone_number"),
                    email=_opt(form, "email"),
                    forwarded_for=ip,
                    binding=session.sid,
                )
            except err.FlowEngineError as exc:
                return self._problem(req, session, problem_for(exc, now=now))
            self._forget(old, session.sid)
            session.handle, session.authenticators = handle, None
            return self._after(req, session, started, None)
        if not session.handle:
            problem = problem_for(err.InvalidHandleError("no login in progress"))
            return self._problem(
                req, session, attrs.evolve(problem, detail="No login is in progress. Start one.")
            )
        expected = _seq(form.get("seq"))
        lent: Flow | None = None
        try:
            with self.repo.step(session.handle, binding=session.sid, expected_seq=expected) as flow:
                lent = flow
                result = self._run(flow, action, form, ip, now)
        except err.FlowEngineError as exc:
            if lent is not None:
                # The handle after the block: the same one, or the next when the failed
                # step was saved (the flow ended, or a request is in doubt).
                session.handle = lent.handle
            return self._failed(req, session, exc, lent)
        session.handle = flow.handle
        return self._after(req, session, result, flow)

    def _run(
        self, flow: Flow, action: str, form: Mapping[str, str], ip: str | None, now: float
    ) -> StepResult | None:
        c = self.client
        if action == "resend_code":
            return c.resend_code(flow, forwarded_for=ip)
        if action == "verify_otp":
            return c.verify_otp(flow, form.get("code", ""), forwarded_for=ip)
        if action == "list_authenticators":
            return c.list_authenticators(flow)
        if action == "enroll":
            return c.enroll(
                flow,
                form.get("type", ""),
                phone_number=_opt(form, "phone_number")
                if form.get("type") in ("sms", "voice")
                else None,
                email=_opt(form, "email") if form.get("type") == "email" else None,
            )
        if action == "challenge":
            return c.challenge(flow, authenticator_id=_opt(form, "authenticator_id"))
        if action == "confirm":
            return confirm(c, flow, form.get("code", ""))
        if action == "poll_push":
            try:
                return c.poll_push(flow, wait=False)
            except err.GuardRejectedError as exc:
                if exc.guard == "poll_due":
                    return None  # the page polled early: nothing to do yet
                raise
        if action == "rollback":
            return c.rollback(flow)
        return c.cancel(flow)

    def _after(
        self, req: WebRequest, session: Session, result: StepResult | None, flow: Flow | None
    ) -> WebResponse:
        now = self.clock()
        if req.wants_json:
            body: dict[str, Any] = {"result": result_view(result) if result else None}
            if flow is not None and not flow.is_final:
                body["flow"] = flow_view(flow, now)
        if result is not None and result.authenticators is not None:
            session.authenticators = [
                {k: a.get(k) for k in ("id", "authenticator_type", "oob_channel", "name", "active")}
                for a in result.authenticators
                if isinstance(a, Mapping)
            ][:12]
        if flow is not None and flow.state != m.MFA_REQUIRED:
            session.authenticators = None
        if flow is not None and flow.is_final:
            if result is not None and result.tokens is not None and self.on_login is not None:
                self.on_login(result)
            self._end(session, flow)
        problem = problem_for_result(result) if result is not None else None
        hint = result.data.get("hint") if result is not None else None
        if isinstance(hint, str):
            session.notice = hint[:1].upper() + hint[1:] + "."
        if req.wants_json:
            if problem is not None:
                return self._problem(req, session, problem, flow=flow)
            return self._json(req, session, 200, body)
        if problem is not None:
            session.notice = None
            return self._redirect(req, session, alert=problem.detail)
        secrets_ = shown_secrets(result) if result is not None else {}
        if (flow is not None and flow.is_final) or secrets_:
            state = flow.state if flow is not None else m.STARTED
            return self._render(req, session, state, flow, secrets=secrets_)
        return self._redirect(req, session)

    def _failed(
        self, req: WebRequest, session: Session, exc: err.FlowEngineError, flow: Flow | None
    ) -> WebResponse:
        now = self.clock()
        problem = problem_for(exc, now=now)
        if isinstance(exc, err.LostUpdateError):
            # Auth0 answered and the save failed: tokens exist only in this error. Hand
            # them over now (they cannot be asked for again), then forget the flow.
            final = exc.result
            if isinstance(final, StepResult) and final.tokens is not None and flow is not None:
                if self.on_login is not None:
                    self.on_login(final)
                self._end(session, flow)
                return self._render(
                    req, session, m.AUTHENTICATED, None, secrets=shown_secrets(final)
                )
        if isinstance(exc, err.FlowEndedError) and flow is not None and flow.is_final:
            self._end(session, flow)
            if req.wants_json:
                return self._problem(req, session, problem)
            return self._render(
                req, session, flow.state, flow, alert=problem.detail, status=problem.status
            )
        if isinstance(
            exc,
            (
                err.InvalidHandleError,
                err.FlowNotFoundError,
                err.SnapshotError,
                err.TenantMismatchError,
            ),
        ):
            session.handle, session.authenticators = None, None
        return self._problem(req, session, problem)

    def _end(self, session: Session, flow: Flow) -> None:
        """The login ended: its tokens are taken (or it failed); the flow leaves the store."""
        session.handle, session.authenticators = None, None
        with contextlib.suppress(err.StoreError):  # else the sweep removes it at its deadline
            self.repo.delete(flow.flow_id)

    def _forget(self, handle: str | None, sid: str) -> None:
        """A new start replaces the session's unfinished login: delete the old flow."""
        if not handle:
            return
        try:
            old = self.repo.view(handle, binding=sid)
            self.repo.delete(old.flow_id)
        except err.FlowEngineError:
            pass  # already gone, or not ours: the sweep removes it with its deadline

    # -------------------------------------------------------------- rendering

    def _current(self, session: Session) -> tuple[Flow | None, str, str | None]:
        """The session's live flow (or None), the state to show, and a warning to show.

        A login that has ended (or passed a deadline) is shown once as that state and
        then forgotten: its flow leaves the store and the cookie.
        """
        if session.rejected:
            return None, m.STARTED, "Your login session could not be verified. Start again."
        if not session.handle:
            return None, m.STARTED, None
        try:
            flow = self.repo.view(session.handle, binding=session.sid)
        except err.FlowEngineError:
            session.handle, session.authenticators = None, None
            return None, m.STARTED, "Your login session has ended. Start again."
        if flow.deadline_passed(self.clock()):
            self._end(session, flow)
            return None, m.EXPIRED, _EXPIRED
        if flow.is_final:
            self._end(session, flow)
            return None, str(flow.state), _EXPIRED if flow.state == m.EXPIRED else None
        return flow, str(flow.state), None

    def _page(self, req: WebRequest, session: Session) -> WebResponse:
        flow, state, alert = self._current(session)
        notice, session.notice = session.notice, None
        if notice and notice.startswith("!"):
            alert, notice = notice[1:], None
        return self._render(req, session, state, flow, alert=alert, notice=notice)

    def _state(self, req: WebRequest, session: Session) -> WebResponse:
        flow, _, _ = self._current(session)
        body = {
            "flow": flow_view(flow, self.clock())
            if flow is not None and not flow.is_final
            else None,
            # For this page's own scripts (same origin only: no CORS is offered).
            "csrf_token": session.csrf,
        }
        return self._json(req, session, 200, body)

    def _render(
        self,
        req: WebRequest,
        session: Session,
        state: str,
        flow: Flow | None,
        *,
        alert: str | None = None,
        notice: str | None = None,
        secrets: Mapping[str, Any] | None = None,
        status: int = 200,
    ) -> WebResponse:
        now = self.clock()
        nonce = secrets_token()
        live = flow is not None and not flow.is_final and state == flow.state
        retry_after = None
        if live and flow is not None and flow.context.next_poll_at is not None:
            retry_after = max(1.0, math.ceil(float(flow.context.next_poll_at) - now))
        qr = None
        shown = dict(secrets or {})
        if shown.get("barcode_uri"):
            qr = qr_svg(shown["barcode_uri"])
        pm = PageModel(
            base=req.base,
            state=str(state),
            csrf=session.csrf,
            nonce=nonce,
            seq=flow.seq if live and flow is not None else None,
            steps=next_steps(flow, now) if live and flow is not None else (),
            alert=alert,
            notice=notice,
            factor=pending_factor(flow) if flow is not None else None,
            connection=flow.context.connection if flow is not None else None,
            retry_after=retry_after,
            authenticators=session.authenticators,
            secrets=shown,
            qr_svg=qr,
            dev=self._dev_view(flow) if self.dev is not None else None,
            title=self.title,
        )
        body = render_page(pm).encode()
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            (
                "Content-Security-Policy",
                f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
                "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ]
        return self._respond(req, session, status, headers, body)

    def _dev_view(self, flow: Flow | None) -> dict[str, Any]:
        assert self.dev is not None
        view: dict[str, Any] = {
            "messages": self.dev.messages(),
            "now": self.dev.clock.time(),
            "requests": len(self.dev.emulator.requests),
        }
        if flow is not None:
            view["flow_id"] = flow.flow_id
            view["path"] = [str(s) for s in flow.path()]
            view["diagram"] = _diagram(flow)
        return view

    # --------------------------------------------------------------- responses

    def _respond(
        self,
        req: WebRequest,
        session: Session,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> WebResponse:
        cookie = self.cookies.header(session, path=req.base or "/", secure=self._secure(req))
        common = [
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "same-origin"),
            ("Set-Cookie", cookie),
        ]
        return WebResponse(status, [*headers, *common], body)

    def _secure(self, req: WebRequest) -> bool:
        host = urlsplit(f"//{req.host}").hostname or ""
        return not is_loopback_host(host)

    def _redirect(
        self, req: WebRequest, session: Session, *, alert: str | None = None
    ) -> WebResponse:
        if alert:
            session.notice = "!" + alert
        return self._respond(req, session, 303, [("Location", f"{req.base}/")], b"")

    def _json(
        self,
        req: WebRequest,
        session: Session,
        status: int,
        body: Any,
        ctype: str = "application/json",
    ) -> WebResponse:
        data = json.dumps(body, separators=(",", ":")).encode()
        return self._respond(req, session, status, [("Content-Type", ctype)], data)

    def _problem(
        self, req: WebRequest, session: Session, problem: Problem, *, flow: Flow | None = None
    ) -> WebResponse:
        headers = list(problem.headers.items())
        if req.wants_json:
            data = json.dumps(problem.as_dict(), separators=(",", ":")).encode()
            resp = self._respond(
                req,
                session,
                problem.status,
                [("Content-Type", "application/problem+json"), *headers],
                data,
            )
            return resp
        current, state, _ = self._current(session)
        page = self._render(
            req, session, state, current, alert=problem.detail, status=problem.status
        )
        return WebResponse(page.status, [*page.headers, *headers], page.body)

    def _not_found(self, req: WebRequest, session: Session) -> WebResponse:
        return self._problem(
            req, session, _refusal("not-found", "Not found", 404, "No such page.").problem
        )


def _opt(form: Mapping[str, str], name: str) -> str | None:
    value = form.get(name)
    return value if value else None


def _seq(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise _refusal("invalid-input", "Invalid input", 422, "seq: must be a number", field="seq")
    return int(value)


def secrets_token() -> str:
    """A fresh CSP nonce."""
    return secrets.token_urlsafe(12)


def qr_svg(uri: str) -> str | None:
    """The QR code of ``uri`` as inline SVG (segno), or None without segno."""
    try:
        import segno
    except ImportError:
        return None
    svg: str = segno.make(uri, error="m").svg_inline(scale=4, title="QR code of the TOTP secret")
    return svg


def _diagram(flow: Flow) -> str:
    """The flow's path on the overview diagram: inline SVG, or Mermaid text without Graphviz."""
    import html

    from flowengine._render import flow_diagram, history_steps

    try:
        # The overview (one screen, readable in the panel), with the flow's path lit.
        steps = history_steps(flow.history)
        svg = flow_diagram(
            flow.path(), str(flow.state), "svg", steps=steps, view="overview"
        ).decode()
        return svg[svg.index("<svg") :]
    except (err.DiagramError, ValueError):
        text = flow_diagram(flow.path(), str(flow.state), "mermaid").decode()
        return f"<pre>{html.escape(text)}</pre>"
