"""What a finished factor yields: MFA sessions (``mfa_token``) and issued tokens.

Theory of operation: a first factor that succeeds either issues tokens at once or,
when MFA is needed, opens an :class:`MfaSession` and answers 403 ``mfa_required``
with its ``mfa_token``. Every MFA route (the three MFA grants, a push approved by
polling, ``/mfa/challenge``) looks that session up with ``_session`` and, on
success, ends in ``_mfa_success``. Confirming an enrollment activates the whole
authenticator group (an SMS number's voice twin, a push device's TOTP) and the
recovery code. Failed MFA codes draw on the user's failure bucket.
"""

from __future__ import annotations

from collections.abc import Mapping

from flowengine.testing._emu_base import TenantBase
from flowengine.testing._emu_state import (
    ACCESS_TOKEN_TTL,
    B64URL,
    LIST_TYPE,
    MFA_ACCESS_TOKEN_TTL,
    MFA_SCOPES,
    MFA_TOKEN_TTL,
    AccessToken,
    Client,
    HttpError,
    MfaSession,
    RefreshToken,
    Request,
    User,
    invalid_request,
)
from flowengine.testing._models import EmulatorResponse

__all__ = ["TokenIssuer"]


class TokenIssuer(TenantBase):
    """MFA sessions, token minting and the shared success path of every MFA route."""

    # ------------------------------------------------------------- issuing

    def _first_factor_done(
        self, req: Request, body: Mapping[str, object], client: Client, user: User
    ) -> EmulatorResponse:
        audience = self._str(body, "audience", required=False)
        scope = self._scope(body)
        now = req.now
        needs_mfa = self.mfa_policy == "always" or (
            audience == self.mfa_audience and any(a.type != "email" for a in user.active())
        )
        if not needs_mfa:
            return self._json(200, self._tokens(client.client_id, user, audience, scope, now))
        token = self._iron(now, MFA_TOKEN_TTL)
        self._sessions[token] = MfaSession(
            token, user.username, client.client_id, audience, scope, now + MFA_TOKEN_TTL
        )
        payload: dict[str, object] = {
            "error": "mfa_required",
            "error_description": "Multifactor authentication required",
            "mfa_token": token,
        }
        if self.mfa_requirements:
            active = sorted({LIST_TYPE[a.type] for a in user.active()})
            if active:
                if user.recovery_code is not None:
                    active.append("recovery-code")
                payload["mfa_requirements"] = {"challenge": [{"type": t} for t in active]}
            else:
                kinds = ("otp", "push-notification", "phone", "email")
                payload["mfa_requirements"] = {"enroll": [{"type": t} for t in kinds]}
        return self._json(403, payload)

    def _tokens(
        self,
        client_id: str,
        user: User,
        audience: str | None,
        scope: str | None,
        now: float,
        *,
        refresh_token: str | None = None,
    ) -> dict[str, object]:
        mfa = audience == self.mfa_audience
        if mfa and scope is None:
            scope = MFA_SCOPES
        scopes = frozenset((scope or "").split())
        ttl = MFA_ACCESS_TOKEN_TTL if mfa else ACCESS_TOKEN_TTL
        iss = f"https://{self.domain}/"
        access = self._jwt(
            {
                "iss": iss,
                "sub": user.user_id,
                "aud": audience or f"https://{self.domain}/userinfo",
                "azp": client_id,
                "iat": int(now),
                "exp": int(now) + ttl,
                "scope": scope or "",
            }
        )
        self._access[access] = AccessToken(user.username, client_id, audience, scopes, now + ttl)
        out: dict[str, object] = {"access_token": access}
        if "openid" in scopes:
            claims: dict[str, object] = {
                "iss": iss,
                "sub": user.user_id,
                "aud": client_id,
                "iat": int(now),
                "exp": int(now) + 36000,
            }
            if user.email:
                claims["email"] = user.email
            if user.phone_number:
                claims["phone_number"] = user.phone_number
            out["id_token"] = self._jwt(claims)
        if "offline_access" in scopes:
            if refresh_token is None:
                refresh_token = self._secret("v1." + self._rand(B64URL, 64))
                self._refresh[refresh_token] = RefreshToken(
                    user.username, client_id, audience, scope
                )
            out["refresh_token"] = refresh_token
        if scope is not None:
            out["scope"] = scope
        out["expires_in"] = ttl
        out["token_type"] = "Bearer"
        return out

    # ------------------------------------------------------------- MFA sessions

    def _session(self, body: Mapping[str, object], client: Client, now: float) -> MfaSession:
        token = self._req_str(body, "mfa_token")
        session = self._sessions.get(token)
        if session is None:
            raise HttpError(403, "invalid_grant", "Malformed mfa_token")
        if session.expires_at <= now:
            raise HttpError(403, "expired_token", "mfa_token is expired")
        if session.client_id != client.client_id:
            raise invalid_request("mfa_token not issued to this client")
        return session

    def _mfa_success(self, session: MfaSession, now: float, **extra: object) -> EmulatorResponse:
        user = self._users[session.username]
        payload = self._tokens(session.client_id, user, session.audience, session.scope, now)
        payload.update(extra)
        return self._json(200, payload)

    def _check_failure_budget(self, user: User, now: float) -> None:
        if not user.mfa_failures.has(now):
            raise invalid_request("Too many failed codes. Wait for some minutes before retrying.")

    def _activate_group(self, user: User, authenticator_id: str) -> None:
        target = next((a for a in user.authenticators if a.id == authenticator_id), None)
        if target is None:
            return
        for a in user.authenticators:
            if a.group == target.group:
                a.active = True
        self._activate_recovery(user)
