"""``POST /passwordless/start``: send a one-time code or a magic link by SMS or email.

Theory of operation: the endpoint validates strictly (unknown body properties are
refused, as Auth0 documents), then replaces any pending code of that connection
and address with a fresh one and puts the message in the outbox. The code is only
usable with the passwordless OTP grant when a CODE was sent; a link's code is not.
The answer carries the user's ``_id`` (a stable id is reserved for a user that
does not exist yet, and used when the grant creates it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, Literal
from urllib.parse import quote

from flowengine.testing._emu_base import TenantBase
from flowengine.testing._emu_state import (
    EMAIL_RE,
    PASSWORDLESS_ATTEMPTS,
    PASSWORDLESS_CODE_TTL,
    PHONE_RE,
    HttpError,
    PendingCode,
    Request,
    normalise_address,
)
from flowengine.testing._models import EmulatorResponse

__all__ = ["PasswordlessEndpoint"]

_PASSWORDLESS_KEYS: Final = frozenset(
    {
        "client_id",
        "client_secret",
        "client_assertion",
        "client_assertion_type",
        "connection",
        "email",
        "phone_number",
        "send",
        "authParams",
    }
)
_SEND_VALUES: Final = ("link", "code", "link_android", "link_ios")


Connection = Literal["sms", "email"]


def _bad(code: str) -> Callable[[str], HttpError]:
    """A factory of 400 ``bad.<code>`` errors (this endpoint's own error vocabulary)."""
    return lambda msg: HttpError(400, f"bad.{code}", msg)


class PasswordlessEndpoint(TenantBase):
    """``/passwordless/start``."""

    def _passwordless_start(self, req: Request) -> EmulatorResponse:
        body = self._parse_body(req, allow_form=False, err=_bad("request"))
        self._client(
            req,
            body,
            missing=lambda: HttpError(400, "bad.client_id", "Missing required property: client_id"),
        )
        connection, send = self._start_options(body)
        address, link = self._start_address(body, connection, send)
        self._send_passwordless(connection, address, link, str(body.get("client_id")), req.now)
        return self._json(200, self._start_answer(connection, address))

    @staticmethod
    def _start_options(body: Mapping[str, object]) -> tuple[Connection, object]:
        """Refuse unknown properties, then check ``connection``, ``authParams`` and ``send``."""
        extra = sorted(k for k in body if k not in _PASSWORDLESS_KEYS)
        if extra:
            raise HttpError(
                400, "bad.request", "the following properties are not allowed: " + ", ".join(extra)
            )
        connection = body.get("connection")
        if connection is None or connection == "":
            raise HttpError(400, "bad.connection", "Missing required property: connection")
        if connection not in ("sms", "email"):
            raise HttpError(400, "bad.connection", "Connection does not exist")
        auth_params = body.get("authParams")
        if auth_params is not None and not isinstance(auth_params, dict):
            raise HttpError(400, "bad.authParams", "authParams must be an object")
        send = body.get("send")
        if send is not None and send not in _SEND_VALUES:
            raise HttpError(400, "bad.request", "send must be one of: " + ", ".join(_SEND_VALUES))
        return ("sms" if connection == "sms" else "email"), send

    @staticmethod
    def _start_address(
        body: Mapping[str, object], connection: Connection, send: object
    ) -> tuple[str, bool]:
        """The validated (normalised) address, and whether a link rather than a code is sent."""
        if connection == "sms":
            phone = body.get("phone_number")
            if phone is None or phone == "":
                raise HttpError(400, "bad.phone_number", "Missing required property: phone_number")
            if not isinstance(phone, str) or not PHONE_RE.match(phone):
                raise HttpError(
                    400,
                    "bad.phone_number",
                    "Object didn't pass validation for format phone_number: "
                    "String does not match pattern ^\\+[0-9]{1,15}$",
                )
            return phone, send is not None and send != "code"  # omitted send → a code for SMS
        email = body.get("email")
        if email is None or email == "":
            raise HttpError(400, "bad.email", "Missing required property: email")
        if not isinstance(email, str) or not EMAIL_RE.match(email):
            raise HttpError(400, "bad.email", "Invalid email address.")
        return normalise_address(email), send != "code"  # omitted send → a LINK for email

    def _send_passwordless(
        self, connection: Connection, address: str, link: bool, client_id: str, now: float
    ) -> None:
        """Replace the address's pending code with a new one and send it, or a link."""
        code = self._digits()
        key = (connection, address)
        if link:
            url = (
                f"https://{self.domain}/passwordless/verify_redirect?scope=openid"
                f"&response_type=code&connection={connection}&client_id={quote(client_id)}"
                f"&{'email' if connection == 'email' else 'phone_number'}={quote(address)}"
                f"&verification_code={code}"
            )
            # A link's code is only usable through the browser redirect, never the OTP grant.
            self._codes[key] = PendingCode(connection, None, now + PASSWORDLESS_CODE_TTL, 0)
            self._send(connection, address, None, "passwordless", now, link=url)
        else:
            self._codes[key] = PendingCode(
                connection, code, now + PASSWORDLESS_CODE_TTL, PASSWORDLESS_ATTEMPTS
            )
            self._send(connection, address, code, "passwordless", now)

    def _start_answer(self, connection: Connection, address: str) -> dict[str, object]:
        """The user's ``_id`` (reserved now for a user that does not exist yet) and address."""
        user = self._users.get(address)
        if user is not None:
            hex_id = user.user_id.split("|", 1)[1]
        else:
            hex_id = self._pending_ids.setdefault(address, self._rand("0123456789abcdef", 24))
        if connection == "sms":
            return {"_id": hex_id, "phone_number": address, "phone_verified": user is not None}
        return {"_id": hex_id, "email": address, "email_verified": user is not None}
