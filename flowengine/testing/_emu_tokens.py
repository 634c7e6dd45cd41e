"""What a finished factor yields: MFA sessions (``mfa_token``) and issued tokens.

Theory of operation: a first factor that succeeds either issues tokens at once or,
when MFA is needed, opens an ``MfaSession`` and answers 403 ``mfa_required``
with its ``mfa_token``. Every MFA route (the three MFA grants, a push approved by
polling, ``/mfa/challenge``) looks that session up with ``_session`` and, on
success, ends in ``_mfa_success``. Confirming an enrollment activates the whole
authenticator group (an SMS number's voice twin, a push device's TOTP) and the
recovery code. Failed MFA codes draw on the user's failure bucket.
"""

from __future__ import annotations

from collections.abc import Mapping

from flowengine._context import DEFAULT_SETTINGS, TenantSettings
from flowengine.testing._emu_base import TenantBase
from flowengine.testing._emu_state import (
    ACCESS_TOKEN_TTL,
    B64URL,
    GRANT_PASSWORD,
    GRANT_PASSWORD_REALM,
    LIST_TYPE,
    MFA_ACCESS_TOKEN_TTL,
    MFA_SCOPES,
    AccessToken,
    Api,
    Client,
    HttpError,
    MfaSession,
    RefreshToken,
    Request,
    User,
    invalid_request,
)
from flowengine.testing._models import EmulatorResponse

__all__ = ["DEFAULT_PASSWORD_SCOPE", "TokenIssuer"]

#: The scope a password grant without one was granted in go-auth0's recording.
DEFAULT_PASSWORD_SCOPE = "openid profile email address phone"


class TokenIssuer(TenantBase):
    """MFA sessions, token minting and the shared success path of every MFA route."""

    #: The tenant's code lifetimes and OTP length (``Auth0Emulator.configure_tenant``).
    tenant_settings: TenantSettings = DEFAULT_SETTINGS
    #: The region label in Guardian's ``base_url`` (the recording shows ``us``, for an eu tenant).
    guardian_region: str = "us"
    #: "Customize MFA for refresh token flows" (early access): a refresh of a user with an
    #: active factor answers ``mfa_required`` like a first factor.
    mfa_on_refresh: bool = False
    _api_table: dict[str, Api]

    def _apis(self) -> dict[str, Api]:
        """The registered APIs by identifier: the MFA API (offline access allowed, as the
        docs' "use a refresh token to refresh it" needs) and the Management API (not)."""
        try:
            return self._api_table
        except AttributeError:
            self._api_table = {
                self.mfa_audience: Api(self.mfa_audience, True),
                f"https://{self.domain}/api/v2/": Api(f"https://{self.domain}/api/v2/", False),
            }
            return self._api_table

    def _check_audience(self, audience: str | None) -> None:
        """An audience that names no registered API: 403 ``access_denied`` "Service not found"."""
        if audience is not None and audience not in self._apis():
            raise HttpError(403, "access_denied", f"Service not found: {audience}")

    def _offline_allowed(self, audience: str | None) -> bool:
        """Refresh tokens only for an API that allows offline access (or no audience)."""
        if audience is None:
            return True
        api = self._apis().get(audience)
        return api is not None and api.allow_offline_access

    # ------------------------------------------------------------- issuing

    def _first_factor_done(
        self, req: Request, body: Mapping[str, object], client: Client, user: User
    ) -> EmulatorResponse:
        audience = self._str(body, "audience", required=False)
        scope = self._scope(body)
        now = req.now
        mfa_audience = audience == self.mfa_audience
        # Recorded (go-auth0): ``scope`` is echoed when the request named none (password,
        # refresh and MFA grants) and not when it was granted as asked (passwordless OTP
        # with a scope); the docs say "returned when it differs from the request".
        echo = scope is None
        password = body.get("grant_type") in (GRANT_PASSWORD, GRANT_PASSWORD_REALM)
        defaulted = scope is None and password and not mfa_audience
        if defaulted:
            # Recorded (go-auth0 TestOAuthLoginWithPassword): a password grant without a
            # scope is granted the tenant's default scope and echoes it, with no id_token.
            scope = DEFAULT_PASSWORD_SCOPE
        # The MFA audience enforces MFA, but a user with no factor (or only email) gets the
        # MFA-API token minted without a challenge (docs, "Manage Authentication Factors
        # with Authentication API"). Policy "always" stands for a tenant that requires MFA
        # on every login (policy or Action): mfa_required, and enrollment with the mfa_token.
        has_factor = any(a.type != "email" for a in user.active())
        needs_mfa = self.mfa_policy == "always" or (audience == self.mfa_audience and has_factor)
        if not needs_mfa:
            tokens = self._tokens(
                client.client_id,
                user,
                audience,
                scope,
                now,
                echo_scope=echo,
                id_token=not defaulted,
            )
            return self._json(200, tokens)
        return self._mfa_required_answer(client, user, audience, scope, now)

    def _mfa_required_answer(
        self, client: Client, user: User, audience: str | None, scope: str | None, now: float
    ) -> EmulatorResponse:
        """Open an MFA session and answer 403 ``mfa_required`` with its ``mfa_token``."""
        ttl = self.tenant_settings.mfa_token_ttl
        token = self._iron(now, ttl)
        self._sessions[token] = MfaSession(
            token, user.username, client.client_id, audience, scope, now + ttl
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
        echo_scope: bool = True,
        id_token: bool = True,
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
        if "openid" in scopes and id_token:
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
        if "offline_access" in scopes and self._offline_allowed(audience):
            if refresh_token is None:
                refresh_token = self._secret("v1." + self._rand(B64URL, 64))
                self._refresh[refresh_token] = RefreshToken(
                    user.username, client_id, audience, scope
                )
            out["refresh_token"] = refresh_token
        if scope is not None and echo_scope:
            out["scope"] = scope
        out["expires_in"] = ttl
        out["token_type"] = "Bearer"
        return out

    # ------------------------------------------------------------- MFA sessions

    def _session(self, body: Mapping[str, object], client: Client, now: float) -> MfaSession:
        token = self._req_str(body, "mfa_token")
        session = self._sessions.get(token)
        if session is None:
            session = self._access_session(token, now)
        if session is None:
            raise HttpError(403, "invalid_grant", "Malformed mfa_token")
        if session.expires_at <= now:
            raise HttpError(403, "expired_token", "mfa_token is expired")
        if session.client_id != client.client_id:
            raise invalid_request("mfa_token not issued to this client")
        return session

    def _access_session(self, token: str, now: float) -> MfaSession | None:
        """An MFA-API access token with ``enroll`` taken as ``mfa_token`` (INFERRED).

        A user with no factor gets such a token instead of an mfa_token, enrolls with it as
        the bearer, and must confirm the enrollment with an mfa grant that requires an
        ``mfa_token``: the docs say to use the associate answer "in place of the values
        returned from /mfa/challenge and continue with the verification flow" and name no
        other token, so the emulator accepts the access token there. Expired: 403
        ``expired_token`` like an mfa_token.
        """
        access = self._access.get(token)
        if access is None or access.audience != self.mfa_audience or "enroll" not in access.scopes:
            return None
        if access.expires_at <= now:
            raise HttpError(403, "expired_token", "mfa_token is expired")
        return MfaSession(
            token,
            access.username,
            access.client_id,
            access.audience,
            " ".join(sorted(access.scopes)),
            access.expires_at,
        )

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
