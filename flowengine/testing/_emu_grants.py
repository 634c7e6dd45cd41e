"""``POST /oauth/token``: the seven grants the flow uses.

Theory of operation: ``_oauth_token`` parses the body (JSON or form), authenticates
the client, checks the grant is allowed for it and hands over to one grant. The
first factors (passwordless OTP, password and password-realm) end in
``_first_factor_done``; the refresh grant re-mints tokens without rotating; the MFA
grants (oob, otp, recovery code) first resolve the ``mfa_token`` session. The oob
grant of a push polls the emulated device, which is why this class builds on
``flowengine.testing._emu_push.PushDevice``.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from flowengine.testing._emu_jwt import request_host
from flowengine.testing._emu_push import PushDevice
from flowengine.testing._emu_state import (
    BRUTE_FORCE_LIMIT,
    GRANT_MFA_OOB,
    GRANT_MFA_OTP,
    GRANT_PASSWORD,
    GRANT_PASSWORD_REALM,
    GRANT_PASSWORDLESS_OTP,
    GRANT_REFRESH_TOKEN,
    SUPPORTED_GRANTS,
    UNAUTHORIZED_CLIENT_URI,
    Client,
    HttpError,
    MfaSession,
    Request,
    invalid_request,
    normalise_address,
    totp,
)
from flowengine.testing._models import EmulatorResponse

__all__ = ["TokenEndpoint"]


class TokenEndpoint(PushDevice):
    """``/oauth/token`` and its grants."""

    def _oauth_token(self, req: Request) -> EmulatorResponse:
        body = self._parse_body(req, allow_form=True, err=invalid_request)
        grant = self._req_str(body, "grant_type")
        client = self._client(req, body)
        if grant not in SUPPORTED_GRANTS or (
            client.grant_types is not None and grant not in client.grant_types
        ):
            raise HttpError(
                403,
                "unauthorized_client",
                f"Grant type '{grant}' not allowed for the client.",
                extra={"error_uri": UNAUTHORIZED_CLIENT_URI},
            )
        host = request_host(req)
        if host and body.get("audience") == f"https://{host}/mfa/":
            # The MFA API named by the host the request was sent to (a custom domain, or a
            # loopback server) is the MFA API, as ``iss`` follows that host (INFERRED).
            body = {**body, "audience": self.mfa_audience}
        if grant in (GRANT_PASSWORDLESS_OTP, GRANT_PASSWORD, GRANT_PASSWORD_REALM):
            self._check_audience(self._str(body, "audience", required=False))
        if grant == GRANT_PASSWORDLESS_OTP:
            return self._grant_passwordless(req, body, client)
        if grant in (GRANT_PASSWORD, GRANT_PASSWORD_REALM):
            return self._grant_password(req, body, client, realm_required=grant != GRANT_PASSWORD)
        if grant == GRANT_REFRESH_TOKEN:
            return self._grant_refresh(req, body, client)
        session = self._session(body, client, req.now)
        if grant == GRANT_MFA_OOB:
            return self._grant_mfa_oob(req, body, session)
        if grant == GRANT_MFA_OTP:
            return self._grant_mfa_otp(req, body, session)
        return self._grant_mfa_recovery(req, body, session)

    # ------------------------------------------------------------- first factors

    def _grant_passwordless(
        self, req: Request, body: Mapping[str, object], client: Client
    ) -> EmulatorResponse:
        realm = self._req_str(body, "realm")
        if realm not in ("sms", "email"):
            raise invalid_request("Unknown realm: use 'sms' or 'email'.")
        username = normalise_address(self._req_str(body, "username"))
        otp = self._req_str(body, "otp")
        wrong = HttpError(
            403,
            "invalid_grant",
            "Wrong phone number or verification code."
            if realm == "sms"
            else "Wrong email or verification code.",
        )
        pending = self._codes.get((realm, username))
        if pending is None or pending.code is None or pending.expires_at <= req.now:
            raise wrong
        if not hmac.compare_digest(otp.encode(), pending.code.encode()):
            pending.attempts_left -= 1
            if pending.attempts_left <= 0:
                del self._codes[(realm, username)]
            raise wrong
        del self._codes[(realm, username)]
        user = self._ensure_user(username, realm)
        return self._first_factor_done(req, body, client, user)

    def _grant_password(
        self, req: Request, body: Mapping[str, object], client: Client, *, realm_required: bool
    ) -> EmulatorResponse:
        username = self._req_str(body, "username")
        password = self._req_str(body, "password")
        realm = self._str(body, "realm", required=realm_required)
        user = self._users.get(username) or self._users.get(normalise_address(username))
        blocked = HttpError(
            429,
            "too_many_attempts",
            "Your account has been blocked after multiple consecutive login attempts.",
        )
        if user is not None and user.blocked:
            raise blocked
        ok = (
            user is not None
            and user.password is not None
            and (realm is None or realm in user.connections)
            and hmac.compare_digest(password.encode(), user.password.encode())
        )
        if not ok:
            if user is not None:
                user.failures += 1
                if user.failures >= BRUTE_FORCE_LIMIT:
                    user.blocked = True
                    raise blocked
            raise HttpError(403, "invalid_grant", "Wrong email or password.")
        assert user is not None
        user.failures = 0
        return self._first_factor_done(req, body, client, user)

    # ------------------------------------------------------------- refresh

    def _grant_refresh(
        self, req: Request, body: Mapping[str, object], client: Client
    ) -> EmulatorResponse:
        token = self._req_str(body, "refresh_token")
        record = self._refresh.get(token)
        if record is None or record.client_id != client.client_id:
            raise HttpError(403, "invalid_grant", "Unknown or invalid refresh token.")
        user = self._users.get(record.username)
        if user is None:
            raise HttpError(
                403,
                "invalid_grant",
                "The refresh_token was generated for a user who doesn't exist anymore.",
            )
        scope = self._scope(body)
        if scope is not None:
            if not set(scope.split()) <= set((record.scope or "").split()):
                raise HttpError(
                    403,
                    "invalid_scope",
                    "The requested scope exceeds the scope granted by the resource owner.",
                )
        else:
            scope = record.scope
        if self.mfa_on_refresh and user.active():
            return self._mfa_required_answer(client, user, record.audience, scope, req.now)
        payload = self._tokens(
            client.client_id,
            user,
            record.audience,
            scope,
            req.now,
            refresh_token=token,
        )
        return self._json(200, payload)

    # ------------------------------------------------------------- MFA grants

    def _grant_mfa_oob(
        self, req: Request, body: Mapping[str, object], session: MfaSession
    ) -> EmulatorResponse:
        now = req.now
        code = self._req_str(body, "oob_code")
        oob = self._oobs.get(code)
        if oob is None or oob.used:
            raise HttpError(403, "invalid_grant", "Malformed oob_code")
        if oob.mfa_token is not None and oob.mfa_token != session.token:
            raise invalid_request("The oob_code doesn't match the mfa_token")
        if oob.mfa_token is None and oob.username != session.username:
            raise invalid_request("The oob_code doesn't match the mfa_token")
        user = self._users[oob.username]
        if oob.channel == "auth0":
            return self._poll_push(oob, session, user, now)
        if oob.expires_at <= now:
            raise HttpError(403, "expired_token", "oob_code is expired")
        binding = self._str(body, "binding_code", required=False)
        if binding is None:
            raise invalid_request("binding_code is required")
        self._check_failure_budget(user, now)
        assert oob.binding_code is not None
        if not hmac.compare_digest(binding.encode(), oob.binding_code.encode()):
            user.mfa_failures.take(now)
            raise HttpError(403, "invalid_grant", "Invalid binding_code.")
        oob.used = True
        if oob.enrollment:
            self._activate_group(user, oob.authenticator_id)
        return self._mfa_success(session, now)

    def _grant_mfa_otp(
        self, req: Request, body: Mapping[str, object], session: MfaSession
    ) -> EmulatorResponse:
        now = req.now
        otp = self._req_str(body, "otp")
        user = self._users[session.username]
        totps = [a for a in user.authenticators if a.type == "totp" and a.secret]
        if not totps:
            raise HttpError(
                403, "unsupported_challenge_type", "User is not enrolled with an otp authenticator."
            )
        self._check_failure_budget(user, now)
        for a in totps:
            assert a.secret is not None
            generator = totp(a.secret)
            for when in (now, now - 30):
                if hmac.compare_digest(otp.encode(), str(generator.at(int(when))).encode()):
                    if not a.active:
                        a.active = True
                        self._activate_recovery(user)
                    return self._mfa_success(session, now)
        user.mfa_failures.take(now)
        raise HttpError(403, "invalid_grant", "Invalid otp_code.")

    def _grant_mfa_recovery(
        self, req: Request, body: Mapping[str, object], session: MfaSession
    ) -> EmulatorResponse:
        now = req.now
        code = self._req_str(body, "recovery_code")
        user = self._users[session.username]
        has_active = any(a.type == "recovery-code" and a.active for a in user.authenticators)
        if user.recovery_code is None or not has_active:
            raise HttpError(
                403, "unsupported_challenge_type", "User does not have a recovery-code."
            )
        self._check_failure_budget(user, now)
        if not hmac.compare_digest(code.encode(), user.recovery_code.encode()):
            user.mfa_failures.take(now)
            raise HttpError(403, "invalid_grant", "MFA Authorization rejected.")
        new_code = self._give_recovery_code(user, now)
        return self._mfa_success(session, now, recovery_code=new_code)
