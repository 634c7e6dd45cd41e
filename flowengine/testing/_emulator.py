"""The framework-free core of the Auth0 tenant emulator.

``Auth0Emulator`` answers ``handle(method, path, headers, body)`` exactly like
the parts of an Auth0 tenant the flow uses (``/passwordless/start``,
``/oauth/token``, ``/mfa/associate``, ``/mfa/challenge``, ``/mfa/authenticators``),
with no network. All state lives in one object, behind one ``threading.Lock``; time
comes only from the injected ``clock``.

The class is assembled here from one mixin per concern, so each file reads on its
own (every mixin builds on ``flowengine.testing._emu_base.TenantBase``, which
owns the state and the shared helpers; the records live in ``_emu_state``):

========================================== =================================================
``_emu_control.TenantControl``             set-up and inspection for tests: clients, users,
                                           seeded authenticators, faults, outbox, secrets
``_emu_passwordless.PasswordlessEndpoint`` ``POST /passwordless/start``
``_emu_grants.TokenEndpoint``              ``POST /oauth/token`` and its seven grants
``_emu_tokens.TokenIssuer``                MFA sessions, token minting, the MFA success path
``_emu_push.PushDevice``                   the emulated Guardian app, and push polling
``_emu_mfa.MfaEndpoints``                  ``/mfa/associate``, ``/mfa/challenge``,
                                           ``/mfa/authenticators``
``_emu_wire.RequestPipeline``              faults, per-IP rate limits, the request log
this module                                ``Auth0Emulator.handle``, routing, adapters
========================================== =================================================

Facts come from ``auth0-api.md`` (built to the *recorded* behaviour where docs
disagree). Where the facts are silent the emulator chooses, as listed here:

* 401 ``invalid_client`` for a missing/unknown client, a wrong or missing secret of
  a confidential client, a secret sent by a public client, a secret (or nothing)
  from a client registered with ``add_client_key``, or a ``client_assertion`` that
  fails Auth0's documented checks (``_emu_jwt``; the descriptions are the
  emulator's own). ``/passwordless/start`` without ``client_id`` answers 400
  ``bad.client_id`` (D1).
* Client assertions (``_emu_jwt.check_assertion``): ``aud`` must be one string,
  ``https://<domain or Host>/``; the array and endpoint-URL forms Auth0 still accepts
  are refused, as its changelog (October 2025) announces for the future. A ``jti``
  is remembered until its assertion expires (plus the 10 s skew).
* Tokens are RS256 JWTs signed with the tenant's key (``/.well-known/jwks.json``);
  ``iss`` is ``https://<Host>/`` of the request (a custom domain's name), else
  ``https://<domain>/``. ``/.well-known/openid-configuration`` names the same issuer.
* ``/oauth/revoke`` answers 200 with an empty body (recorded: go-auth0), also for an
  unknown token (RFC 7009; inferred for Auth0); a refresh token of another client →
  400 ``invalid_request`` (inferred). The JWKS keys carry no ``x5c``/``x5t`` (Auth0's
  do): the emulator has no certificate.
* The 4th try of a passwordless code, an expired, spent, superseded or link-only
  code all answer 403 ``invalid_grant`` "Wrong … verification code.".
* Brute force: the 10th consecutive wrong password of a user answers 429
  ``too_many_attempts`` and blocks the user (later tries, right or wrong, get 429).
* An MFA binding code past its 300 s answers 403 ``expired_token`` "oob_code is
  expired"; an unknown or spent oob_code answers 403 ``invalid_grant`` "Malformed
  oob_code". Push oob_codes also live 300 s.
* Failed MFA codes (binding codes, TOTP, recovery codes) draw on a per-user bucket
  of 10 refilled one per 6 minutes; when it is empty every MFA code answers 400
  ``invalid_request`` "Too many failed codes. Wait for some minutes before retrying.".
  A wrong binding code does not kill the oob_code (only the bucket limits guessing).
* A TOTP code may be reused within its window (no replay cache). Any of the user's
  TOTP authenticators (active or not) is accepted by ``mfa-otp``; an inactive one is
  thereby confirmed. A recovery code works only once some factor was confirmed.
* ``/passwordless/start`` with ``send`` omitted sends an email LINK but an SMS CODE;
  an explicit ``send:"link"`` (or ``link_android``/``link_ios``) sends a link on either
  connection. A link carries no code usable with the OTP grant, and supersedes any
  earlier code.
* Recovery codes: the FIRST ``/mfa/associate`` of a user answers ``recovery_codes``
  and creates the (inactive) ``recovery-code`` authenticator; it turns active when
  any enrollment is confirmed.
* SMS and voice sends (associate and challenge) draw on a per-user bucket of 10
  refilled one per hour: 400 ``invalid_request`` "Too many SMS sent by the user…".
* Bearer endpoints: a missing/garbled/unknown bearer → 401 ``invalid_token``; an
  expired MFA access token → 401 ``invalid_token`` "The access token is expired.";
  an access token of another audience → 401 ``invalid_token``; a recognised but
  expired mfa_token → 403 ``expired_token`` "mfa_token is expired" (as on every
  other MFA call); a token without the needed scope, or an mfa_token on DELETE →
  403 ``insufficient_scope``.
* ``/mfa/challenge``: an ``authenticator_id`` that is not an ACTIVE authenticator of
  the user → 400 ``invalid_request`` "Invalid authenticator_id."; one whose type
  the ``challenge_type`` excludes (or a recovery-code id) → 400
  ``unsupported_challenge_type``; no authenticator_id → the first active one in the
  order push, totp, sms, email, voice.
* ``DELETE`` of an unknown id → 404 ``not_found`` "Authenticator not found."; of the
  recovery-code authenticator → 400 ``invalid_request`` (regenerated only by the
  Management API).
* Unknown path → 404 ``not_found``; wrong method → 405 ``method_not_allowed`` with
  ``Allow``.
* ``x-ratelimit-reset`` is the epoch second at which the next request is added back
  (now, rounded up, when the bucket is full).
* The refresh grant does not rotate: the same ``refresh_token`` stays valid and is
  echoed back when the scope still has ``offline_access``; a wider ``scope`` than
  the original grant → 403 ``invalid_scope``.
* A user's verified email does NOT show up by itself as an ``email|`` authenticator;
  seed one with ``Auth0Emulator.enroll`` when a test needs it.
* Passwordless and password users share one namespace keyed by username: a
  passwordless email login for an existing password user logs into that user.
* Unknown body properties are ignored everywhere except ``/passwordless/start``
  (400 ``bad.request``, as documented).

Real-tenant paths (issue 14). Each says whether Auth0 DOCUMENTS it (page), an official
SDK's test data RECORDS it (repository/path), or the emulator INFERS it:

* Users with no factor: with ``mfa_policy="never"`` and the MFA audience, a user with no
  active factor (or only email) is minted an MFA-API access token (600 s, the requested
  scope, or ``enroll read:authenticators remove:authenticators`` when none) instead of
  ``mfa_required`` (DOCUMENTED: "Manage Authentication Factors with Authentication API").
  Policy ``"always"`` stands for a tenant requiring MFA on every login: ``mfa_required``.
* That access token enrolls as the bearer of ``/mfa/associate`` (DOCUMENTED: needs the
  ``enroll`` scope) and is accepted as ``mfa_token`` by the mfa-oob/mfa-otp grants that
  confirm the enrollment; the tokens are for the audience and scope first asked for
  (INFERRED: no page or recording names the token that confirms such an enrollment).
* Tenant settings (``configure_tenant``): passwordless code lifetime (DOCUMENTED default
  180 s, per connection), OTP length (INFERRED default 6), MFA code lifetime (DOCUMENTED
  5 minutes), mfa_token lifetime (INFERRED 600 s: the documented lifetime of
  MFA-audience tokens).
* An audience that names no registered API (``add_api``; the MFA and Management APIs
  are registered) answers 403 ``access_denied`` "Service not found: <aud>" (DOCUMENTED
  text, seen on ``/authorize``; the status on ``/oauth/token`` INFERRED). The MFA API
  may also be named by the host the request was sent to (``https://<Host>/mfa/``: a
  custom domain, or the loopback server), as ``iss`` follows that host (INFERRED).
* ``refresh_token`` only with ``offline_access`` and an API that allows offline access,
  or no audience (DOCUMENTED: Refresh Tokens); the MFA API allows it (DOCUMENTED: "use a
  refresh token to refresh it"), the Management API does not (INFERRED).
* ``scope`` is echoed when the request named none and not when granted as asked
  (RECORDED: go-auth0 ``TestLoginWithEmail`` vs ``TestRefreshToken``,
  ``TestMFAVerifyWithOTP``, ``TestOAuthLoginWithPassword``); the refresh grant always
  echoes it (RECORDED without a scope; INFERRED with one).
* Guardian ``base_url`` is ``https://<domain>.guardian.us.auth0.com`` (RECORDED: go-auth0
  ``TestMFAAddAuthenticator/Should_return_response_for_OOB_(Auth0_channel)``: the region
  label is ``us`` even for an eu tenant; ``guardian_region`` changes it).
* "already enrolled": 403 ``access_denied`` "User is already enrolled" (DOCUMENTED text
  in the enrollment guides; code and status INFERRED).
* SMS and voice are one pair ``sms|dev_X`` / ``voice|dev_X`` (RECORDED: Auth0.swift
  ``Auth0Tests/MFA/Auth0MFAClientTests.swift``; DOCUMENTED in the MFA API page).
* ``mfa_requirements`` (with ``mfa_requirements=True``): ``challenge`` lists the user's
  active kinds as ``phone``/``otp``/``push-notification``/``email`` plus
  ``recovery-code``; a user with none gets ``enroll`` with every kind (DOCUMENTED sample,
  early access; which kinds appear when is INFERRED).
* ``mfa_on_refresh``: a refresh of a user with an active factor answers ``mfa_required``
  (DOCUMENTED as "Customize MFA for refresh token flows", early access; body INFERRED to
  be the first factor's).
* ``expired_token`` says what expired: "oob_code is expired" (the code only; the
  mfa_token lives on) or "mfa_token is expired" (RECORDED strings in Auth0.swift and
  Auth0.Android helpers for the latter; the former INFERRED from the MFA draft).

Faults (see ``flowengine.testing.Fault``): ``status_500``, ``status_502_html``,
``status_503``, ``status_429``, ``connect_refused`` and ``connect_timeout`` answer
instead of the tenant (NOT processed, no state change). ``empty_200``,
``non_json_200`` (JSON content type, non-JSON body), ``truncated_json`` (first half,
status 200), ``json_array`` (``[]``, status 200), ``missing_field`` (real status, a
required field dropped), ``wrong_content_type`` (real status and body, text/plain),
``delay``, ``read_timeout`` and ``reset`` are applied AFTER the tenant processed the
request (state changed: an ambiguous failure for the client).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import attrs

from flowengine.testing._emu_control import TenantControl
from flowengine.testing._emu_grants import TokenEndpoint
from flowengine.testing._emu_mfa import MfaEndpoints
from flowengine.testing._emu_passwordless import PasswordlessEndpoint
from flowengine.testing._emu_state import (
    ACCESS_TOKEN_TTL,
    GRANT_MFA_OOB,
    GRANT_MFA_OTP,
    GRANT_MFA_RECOVERY_CODE,
    GRANT_PASSWORD,
    GRANT_PASSWORD_REALM,
    GRANT_PASSWORDLESS_OTP,
    GRANT_REFRESH_TOKEN,
    MFA_ACCESS_TOKEN_TTL,
    MFA_CODE_TTL,
    MFA_SCOPES,
    MFA_TOKEN_TTL,
    PASSWORDLESS_CODE_TTL,
    HttpError,
    Request,
)
from flowengine.testing._emu_wire import RequestPipeline
from flowengine.testing._models import PRE_PROCESSING_FAULTS, EmulatorResponse

if TYPE_CHECKING:
    import httpx

    from flowengine.testing._server import EmulatorServer

__all__ = [
    "ACCESS_TOKEN_TTL",
    "GRANT_MFA_OOB",
    "GRANT_MFA_OTP",
    "GRANT_MFA_RECOVERY_CODE",
    "GRANT_PASSWORD",
    "GRANT_PASSWORDLESS_OTP",
    "GRANT_PASSWORD_REALM",
    "GRANT_REFRESH_TOKEN",
    "MFA_ACCESS_TOKEN_TTL",
    "MFA_CODE_TTL",
    "MFA_SCOPES",
    "MFA_TOKEN_TTL",
    "PASSWORDLESS_CODE_TTL",
    "Auth0Emulator",
]


class Auth0Emulator(
    TenantControl, PasswordlessEndpoint, TokenEndpoint, MfaEndpoints, RequestPipeline
):
    """An in-memory, deterministic Auth0 tenant for the passwordless + MFA endpoints.

    See the module docstring for the choices made where Auth0's behaviour is not
    documented. Every public method is thread-safe.
    """

    def __repr__(self) -> str:
        """Summarise the tenant without any secret."""
        return (
            f"Auth0Emulator(domain={self.domain!r}, mfa_policy={self.mfa_policy!r}, "
            f"clients={len(self._clients)}, users={len(self._users)})"
        )

    # ------------------------------------------------------------- adapters

    def transport(self, client_ip: str = "127.0.0.1") -> httpx.BaseTransport:
        """An in-process ``httpx`` transport that calls ``handle``."""
        from flowengine.testing._transport import EmulatorTransport

        return EmulatorTransport(self, client_ip=client_ip)

    def async_transport(self, client_ip: str = "127.0.0.1") -> httpx.AsyncBaseTransport:
        """An in-process async ``httpx`` transport that calls ``handle``."""
        from flowengine.testing._transport import AsyncEmulatorTransport

        return AsyncEmulatorTransport(self, client_ip=client_ip)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
        """Serve this tenant over real HTTP on ``host:port`` (started; stop it or use ``with``)."""
        from flowengine.testing._server import EmulatorServer

        server = EmulatorServer(self, host=host, port=port)
        server.start()
        return server

    # ------------------------------------------------------------- entry point

    def handle(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        client_ip: str = "127.0.0.1",
    ) -> EmulatorResponse:
        """Answer one HTTP request like the tenant would (faults included)."""
        hdrs = {k.lower(): v for k, v in headers.items()}
        route = urlsplit(path).path or "/"
        with self._lock:
            req = Request(method.upper(), route, hdrs, bytes(body), client_ip, self._clock())
            fault = self._take_fault(req)
            if fault is not None and fault.kind in PRE_PROCESSING_FAULTS:
                resp = self._pre_fault(fault, req.now)
            else:
                resp = self._dispatch(req)
                if fault is not None:
                    resp = self._post_fault(fault, resp)
            resp = self._with_request_id(resp)
            self._record(req, resp)
            return resp

    def _with_request_id(self, resp: EmulatorResponse) -> EmulatorResponse:
        """Auth0 names each answer with ``X-Auth0-RequestId`` (20 hex digits): so does this.

        The header is not in Auth0's documentation; its name and form are inferred from
        answers published in public threads. Ids are repeatable: the tenant and a count.
        """
        if resp.transport_fault is not None:
            return resp
        self._answered = getattr(self, "_answered", 0) + 1
        rid = hashlib.sha256(f"{self.domain}\0{self._answered}".encode()).hexdigest()[:20]
        return attrs.evolve(resp, headers={**resp.headers, "x-auth0-requestid": rid})

    # ------------------------------------------------------------- routing

    def _dispatch(self, req: Request) -> EmulatorResponse:
        routes: dict[str, dict[str, Callable[[Request], EmulatorResponse]]] = {
            "/passwordless/start": {"POST": self._passwordless_start},
            "/oauth/token": {"POST": self._oauth_token},
            "/mfa/associate": {"POST": self._mfa_associate},
            "/mfa/challenge": {"POST": self._mfa_challenge},
            "/mfa/authenticators": {"GET": self._mfa_list},
            "/oauth/revoke": {"POST": self._oauth_revoke},
            "/.well-known/jwks.json": {"GET": self._well_known_jwks},
            "/.well-known/openid-configuration": {"GET": self._openid_configuration},
        }
        methods = routes.get(req.path)
        if methods is None and req.path.startswith("/mfa/authenticators/"):
            methods = {"DELETE": self._mfa_delete}
        if methods is None:
            return self._error(HttpError(404, "not_found", "Not Found"))
        handler = methods.get(req.method)
        if handler is None:
            err = HttpError(
                405,
                "method_not_allowed",
                f"Method {req.method} is not allowed on {req.path}.",
                headers={"allow": ", ".join(sorted(methods))},
            )
            return self._error(err)
        rl_headers: dict[str, str] = {}
        try:
            rl_headers = self._rate_check(req)
            resp = handler(req)
        except HttpError as exc:
            exc.headers = {**rl_headers, **exc.headers}
            return self._error(exc)
        if rl_headers:
            resp = EmulatorResponse(resp.status, {**resp.headers, **rl_headers}, resp.body)
        return resp
