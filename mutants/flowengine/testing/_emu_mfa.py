"""The MFA API: ``/mfa/authenticators`` (list, delete), ``/mfa/associate``, ``/mfa/challenge``.

Theory of operation: the authenticator endpoints take a bearer, either the
``mfa_token`` of a login in progress or an access token for the MFA audience with
the needed scope (``_bearer`` decides, in the order Auth0 checks). ``/mfa/associate``
creates inactive authenticators and, for an oob channel, an oob_code (and binding
code message) that the mfa-oob grant confirms; the user's first association also
returns the recovery code. ``/mfa/challenge`` takes the ``mfa_token`` in the BODY,
picks the authenticator and sends a new code (or push) for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from urllib.parse import quote, unquote

from flowengine.testing._emu_state import (
    ALNUM,
    EMAIL_RE,
    LIST_TYPE,
    MFA_CODE_TTL,
    PHONE_RE,
    AccessToken,
    Authenticator,
    HttpError,
    MfaSession,
    Oob,
    Request,
    User,
    invalid_request,
)
from flowengine.testing._emu_tokens import TokenIssuer
from flowengine.testing._models import EmulatorResponse

__all__ = ["MfaEndpoints"]

# Without an authenticator_id, /mfa/challenge picks the first active one in this order.
_CHALLENGE_ORDER: Final = ("push", "totp", "sms", "email", "voice")


class MfaEndpoints(TokenIssuer):
    """The MFA API endpoints."""

    # ------------------------------------------------------------- bearer endpoints

    def _bearer(
        self, req: Request, need_scope: str, *, allow_mfa_token: bool
    ) -> tuple[User, MfaSession | None, AccessToken | None]:
        auth = req.headers.get("authorization", "")
        if auth[:7].lower() != "bearer " or not auth[7:].strip():
            raise HttpError(
                401,
                "invalid_token",
                "Missing or malformed Authorization header: expected 'Bearer <token>'.",
                headers={"www-authenticate": 'Bearer error="invalid_token"'},
            )
        token = auth[7:].strip()
        session = self._sessions.get(token)
        if session is not None:
            if session.expires_at <= req.now:
                raise HttpError(403, "expired_token", "mfa_token is expired")
            if not allow_mfa_token:
                raise HttpError(
                    403,
                    "insufficient_scope",
                    f"An mfa_token is not enough: use an access token for {self.mfa_audience} "
                    f"with the {need_scope} scope.",
                )
            return self._users[session.username], session, None
        access = self._access.get(token)
        invalid = {"www-authenticate": 'Bearer error="invalid_token"'}
        if access is None:
            raise HttpError(401, "invalid_token", "Invalid token.", headers=invalid)
        if access.expires_at <= req.now:
            raise HttpError(401, "invalid_token", "The access token is expired.", headers=invalid)
        if access.audience != self.mfa_audience:
            raise HttpError(
                401,
                "invalid_token",
                f"The access token's audience is not {self.mfa_audience}.",
                headers=invalid,
            )
        if need_scope not in access.scopes:
            raise HttpError(
                403, "insufficient_scope", f"Insufficient scope, expected: {need_scope}"
            )
        return self._users[access.username], None, access

    def _mfa_list(self, req: Request) -> EmulatorResponse:
        user, _, _ = self._bearer(req, "read:authenticators", allow_mfa_token=True)
        items: list[dict[str, object]] = []
        for a in user.authenticators:
            item: dict[str, object] = {
                "id": a.id,
                "authenticator_type": a.authenticator_type,
                "active": a.active,
            }
            if a.oob_channel is not None:
                item["oob_channel"] = a.oob_channel
            if a.name is not None:
                item["name"] = a.name
            if self.list_type_field:
                item["type"] = LIST_TYPE[a.type]
            items.append(item)
        return self._json(200, items)

    def _mfa_delete(self, req: Request) -> EmulatorResponse:
        user, _, _ = self._bearer(req, "remove:authenticators", allow_mfa_token=False)
        auth_id = unquote(req.path[len("/mfa/authenticators/") :])
        target = next((a for a in user.authenticators if a.id == auth_id), None)
        if target is None:
            raise HttpError(404, "not_found", "Authenticator not found.")
        if target.type == "recovery-code":
            raise invalid_request(
                "Recovery codes cannot be deleted with the MFA API; regenerate them instead."
            )
        user.authenticators = [a for a in user.authenticators if a.group != target.group]
        return EmulatorResponse(204, {"content-type": "application/json"}, b"")

    # ------------------------------------------------------------- /mfa/associate

    def _mfa_associate(self, req: Request) -> EmulatorResponse:
        body = self._parse_body(req, allow_form=False, err=invalid_request)
        user, session, _ = self._bearer(req, "enroll", allow_mfa_token=True)
        if any(k in body for k in ("client_id", "client_secret", "client_assertion")):
            client = self._client(req, body, basic=False)
            if session is not None and client.client_id != session.client_id:
                raise invalid_request("mfa_token not issued to this client")
        if session is not None and user.active():
            raise HttpError(403, "access_denied", "User is already enrolled")
        types = body.get("authenticator_types")
        if not isinstance(types, list) or len(types) != 1 or types[0] not in ("otp", "oob"):
            raise invalid_request("authenticator_types must be an array with one of: otp, oob")
        if types[0] == "otp":
            return self._json(200, self._associate_otp(user, req.now))
        return self._json(200, self._associate_oob(body, user, session, req.now))

    def _associate_otp(self, user: User, now: float) -> dict[str, object]:
        """A new (inactive) TOTP authenticator: its secret and ``otpauth://`` URI."""
        created = self._create_authenticators(user, "totp", now)
        secret = created[0].secret
        assert secret is not None
        label = quote(f"{self.tenant_name}:{user.username}", safe=":")
        issuer = quote(self.tenant_name, safe="")
        payload: dict[str, object] = {
            "authenticator_type": "otp",
            "secret": secret,
            "barcode_uri": (
                f"otpauth://totp/{label}?secret={secret}&issuer={issuer}"
                "&algorithm=SHA1&digits=6&period=30"
            ),
        }
        return self._with_recovery(user, payload, now)

    def _associate_oob(
        self, body: Mapping[str, object], user: User, session: MfaSession | None, now: float
    ) -> dict[str, object]:
        """A new (inactive) oob authenticator and the oob_code that will confirm it."""
        channels = body.get("oob_channels")
        if (
            not isinstance(channels, list)
            or len(channels) != 1
            or channels[0] not in ("sms", "voice", "email", "auth0")
        ):
            raise invalid_request(
                "oob_channels must be an array with one of: sms, voice, email, auth0"
            )
        channel: str = channels[0]
        if channel in ("sms", "voice"):
            phone = body.get("phone_number")
            if not isinstance(phone, str) or not PHONE_RE.match(phone):
                raise invalid_request("The phone number is invalid.")
            if not user.sms_sends.take(now):
                raise invalid_request(
                    "Too many SMS sent by the user. Wait for some minutes before retrying."
                )
            created = self._create_authenticators(
                user, "sms" if channel == "sms" else "voice", now, phone_number=phone
            )
            return self._enroll_oob(user, session, created[0], now)
        if channel == "email":
            email = body.get("email", user.email)
            if not isinstance(email, str) or not EMAIL_RE.match(email):
                raise invalid_request("The email is invalid.")
            created = self._create_authenticators(user, "email", now, email=email.lower())
            return self._enroll_oob(user, session, created[0], now)
        return self._associate_push(user, session, now)

    def _associate_push(
        self, user: User, session: MfaSession | None, now: float
    ) -> dict[str, object]:
        """A new push device (and its TOTP twin): a Guardian enrollment URI, no binding code."""
        created = self._create_authenticators(user, "push", now)
        oob = self._new_oob(user, session, created[0], now, enrollment=True)
        tx = self._rand(ALNUM, 32)
        guardian = quote(f"https://{self.domain}.guardian.auth0.com", safe="")
        label = quote(f"{self.tenant_name}:{user.username}", safe=":")
        payload: dict[str, object] = {
            "authenticator_type": "oob",
            "barcode_uri": f"otpauth://totp/{label}?enrollment_tx_id={tx}&base_url={guardian}",
            "oob_channel": "auth0",
            "oob_code": oob.code,
        }
        return self._with_recovery(user, payload, now)

    def _with_recovery(
        self, user: User, payload: dict[str, object], now: float
    ) -> dict[str, object]:
        if user.associated_once:
            return payload
        user.associated_once = True
        code = self._give_recovery_code(user, now)
        out = dict(payload)
        items = list(out.items())
        # keep the recorded key order: recovery_codes after binding_method / barcode data
        out = dict(items[:2])
        out["recovery_codes"] = [code]
        out.update(items[2:])
        return out

    def _new_oob(
        self,
        user: User,
        session: MfaSession | None,
        authenticator: Authenticator,
        now: float,
        *,
        enrollment: bool,
    ) -> Oob:
        code = self._iron(now, MFA_CODE_TTL)
        channel = authenticator.oob_channel
        assert channel is not None
        oob = Oob(
            code=code,
            mfa_token=session.token if session is not None else None,
            username=user.username,
            authenticator_id=authenticator.id,
            channel=channel,
            binding_code=None,
            expires_at=now + MFA_CODE_TTL,
            created_at=now,
            enrollment=enrollment,
        )
        if channel == "auth0":
            oob.pending_left = self.push_script.pending
            oob.outcome = self.push_script.outcome
        else:
            oob.binding_code = self._digits()
            to = authenticator.email if channel == "email" else authenticator.phone_number
            assert to is not None
            self._send(channel, to, oob.binding_code, "mfa", now)  # type: ignore[arg-type]
        self._oobs[code] = oob
        return oob

    def _enroll_oob(
        self, user: User, session: MfaSession | None, authenticator: Authenticator, now: float
    ) -> dict[str, object]:
        oob = self._new_oob(user, session, authenticator, now, enrollment=True)
        payload: dict[str, object] = {
            "authenticator_type": "oob",
            "binding_method": "prompt",
            "oob_channel": authenticator.oob_channel,
            "oob_code": oob.code,
        }
        return self._with_recovery(user, payload, now)

    # ------------------------------------------------------------- /mfa/challenge

    def _mfa_challenge(self, req: Request) -> EmulatorResponse:
        body = self._parse_body(req, allow_form=True, err=invalid_request)
        self._req_str(body, "mfa_token")  # the token goes in the BODY, never as Bearer
        client = self._client(req, body)
        session = self._session(body, client, req.now)
        user = self._users[session.username]
        now = req.now
        raw_types = self._str(body, "challenge_type", required=False)
        allowed = {"otp", "oob"}
        if raw_types is not None:
            requested = set(raw_types.split())
            if not requested or not requested <= {"otp", "oob"}:
                raise invalid_request("challenge_type must be a space-separated list of: otp, oob")
            allowed = requested
        target = self._challenge_target(body, user, allowed)
        if target.type == "totp":
            return self._json(200, {"challenge_type": "otp"})
        if target.type in ("sms", "voice") and not user.sms_sends.take(now):
            raise invalid_request(
                "Too many SMS sent by the user. Wait for some minutes before retrying."
            )
        oob = self._new_oob(user, session, target, now, enrollment=False)
        if target.type == "push":
            return self._json(200, {"challenge_type": "oob", "oob_code": oob.code})
        return self._json(
            200, {"challenge_type": "oob", "binding_method": "prompt", "oob_code": oob.code}
        )

    def _challenge_target(
        self, body: Mapping[str, object], user: User, allowed: set[str]
    ) -> Authenticator:
        """The named active authenticator, or the first allowed one in ``_CHALLENGE_ORDER``."""
        active = user.active()
        if not active:
            raise HttpError(
                401,
                "unsupported_challenge_type",
                "User is not enrolled. You can use /mfa/associate endpoint to enroll the first "
                "authenticator.",
            )
        auth_id = self._str(body, "authenticator_id", required=False)
        if auth_id is None:
            candidates = [a for a in active if a.authenticator_type in allowed]
            candidates.sort(key=lambda a: _CHALLENGE_ORDER.index(a.type))
            if not candidates:
                raise HttpError(
                    400,
                    "unsupported_challenge_type",
                    "None of the user's authenticators supports the requested challenge_type.",
                )
            return candidates[0]
        if auth_id.startswith("recovery-code|"):
            raise HttpError(
                400, "unsupported_challenge_type", "Recovery codes cannot be challenged."
            )
        target = next((a for a in active if a.id == auth_id), None)
        if target is None:
            raise invalid_request("Invalid authenticator_id.")
        if target.authenticator_type not in allowed:
            raise HttpError(
                400,
                "unsupported_challenge_type",
                "The authenticator does not support the requested challenge_type.",
            )
        return target
