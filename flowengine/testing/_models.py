"""Public value types of the Auth0 emulator (all frozen attrs classes)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final, Literal

from attrs import field, frozen, validators

__all__ = [
    "FAULT_KINDS",
    "PRE_PROCESSING_FAULTS",
    "AuthenticatorInfo",
    "EmulatorResponse",
    "Fault",
    "FaultKind",
    "OutboxMessage",
    "PushScript",
    "RequestRecord",
    "UserInfo",
]

FaultKind = Literal[
    "status_500",
    "status_502_html",
    "status_503",
    "status_429",
    "empty_200",
    "non_json_200",
    "truncated_json",
    "json_array",
    "missing_field",
    "wrong_content_type",
    "delay",
    "connect_refused",
    "connect_timeout",
    "read_timeout",
    "reset",
]

FAULT_KINDS: Final[frozenset[str]] = frozenset(
    {
        "status_500",
        "status_502_html",
        "status_503",
        "status_429",
        "empty_200",
        "non_json_200",
        "truncated_json",
        "json_array",
        "missing_field",
        "wrong_content_type",
        "delay",
        "connect_refused",
        "connect_timeout",
        "read_timeout",
        "reset",
    }
)

#: Fault kinds that answer INSTEAD of the tenant: the request is not processed and
#: no state changes. Every other kind lets the tenant process the request first
#: (codes are sent, tokens issued, attempts counted) and then spoils the answer.
PRE_PROCESSING_FAULTS: Final[frozenset[str]] = frozenset(
    {
        "status_500",
        "status_502_html",
        "status_503",
        "status_429",
        "connect_refused",
        "connect_timeout",
    }
)


def _check_times(_inst: object, _attr: object, value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError("Fault.times must be None (forever) or >= 1")


@frozen
class Fault:
    """One injected failure, matched by path prefix (and optionally grant type and method).

    ``kind`` is one of ``FAULT_KINDS``. ``times`` is how many matching requests
    it spoils (``None`` = forever). ``seconds`` parameterises ``delay`` (how long),
    ``status_429`` (``x-ratelimit-reset`` = now + seconds, default 60), ``status_503``
    (``Retry-After``, default 3) and ``read_timeout``/``connect_timeout`` (how long the
    server stays silent, default 30). ``drop_field`` names the field that
    ``missing_field`` removes (default: the first of access_token, mfa_token,
    oob_code, secret, challenge_type, _id, error that is present).
    """

    endpoint: str
    kind: FaultKind = field(validator=validators.in_(FAULT_KINDS))
    times: int | None = field(default=1, validator=_check_times)
    grant_type: str | None = None
    method: str | None = None
    seconds: float | None = None
    drop_field: str | None = None

    @property
    def processed(self) -> bool:
        """Whether the tenant processes the request (state changes) before the fault."""
        return self.kind not in PRE_PROCESSING_FAULTS


@frozen
class PushScript:
    """How new push notifications answer: ``pending`` polls of authorization_pending,
    then ``outcome`` ("approve", "reject", or "never" = stay pending until settled)."""

    pending: int = field(default=2, validator=validators.ge(0))
    outcome: Literal["approve", "reject", "never"] = field(
        default="approve", validator=validators.in_(("approve", "reject", "never"))
    )


@frozen
class OutboxMessage:
    """A message the tenant 'sent': a passwordless code or link, or an MFA code.

    ``code`` is None for a magic link (the link is in ``link``)."""

    channel: Literal["sms", "voice", "email"]
    to: str
    code: str | None = field(repr=False)
    purpose: Literal["passwordless", "mfa"]
    sent_at: float
    link: str | None = field(default=None, repr=False)


@frozen
class EmulatorResponse:
    """What ``Auth0Emulator.handle`` answers.

    ``transport_fault`` tells a transport or the server to fail on the wire instead
    of (``connect_refused``/``connect_timeout``) or after (``read_timeout``/``reset``)
    delivering this response; ``delay`` is how long to wait first (for ``delay``) or
    how long the peer stays silent (for the timeouts).
    """

    status: int
    headers: Mapping[str, str] = field(factory=dict)
    body: bytes = field(default=b"", repr=False)
    transport_fault: str | None = None
    delay: float = 0.0

    def json(self) -> Any:
        """Decode the body as JSON (raises ``ValueError`` when it is not JSON)."""
        return json.loads(self.body)


@frozen
class RequestRecord:
    """One request the emulator saw, with every secret redacted.

    ``body`` is the parsed JSON/form body with secret values replaced by
    ``"[REDACTED]"`` (None when the body could not be parsed); ``status`` is None
    when the request failed on the wire (connect_refused/connect_timeout/read_timeout/reset
    set ``fault``)."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Mapping[str, object] | None
    status: int | None
    client_ip: str
    at: float
    fault: str | None = None


@frozen
class AuthenticatorInfo:
    """A snapshot of one enrolled authenticator of a user."""

    id: str
    type: Literal["sms", "voice", "email", "push", "totp", "recovery-code"]
    authenticator_type: Literal["otp", "oob", "recovery-code"]
    oob_channel: str | None
    active: bool
    name: str | None
    secret: str | None = field(default=None, repr=False)
    phone_number: str | None = None
    email: str | None = None


@frozen
class UserInfo:
    """A snapshot of one user of the emulated tenant."""

    username: str
    user_id: str
    connections: frozenset[str]
    email: str | None
    phone_number: str | None
    blocked: bool
    has_recovery_code: bool
