"""Errors as RFC 9457 problem details: one fixed entry per exception class, never a secret.

Theory of operation
-------------------
``PROBLEMS`` holds one entry per class of the exception tree (``tests/web`` walks the
tree and fails on a class without its own entry): a ``type`` slug, a title, an HTTP
status and a fixed, user-facing detail. ``problem_for`` picks the entry of the
exception's own class and adds only values the library itself chose and that are known
to be safe: the name of a refused field and the validator's message (which never
quotes the value), a guard's hint, the state and trigger names. Auth0's
``error_description`` is never copied (it is the peer's text), nor is ``str(exc)`` of
any remote or store error. Rate limits and busy flows carry ``Retry-After``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import attrs

from flowengine import _errors as e
from flowengine import _machine as m
from flowengine._flow import StepResult

__all__ = ["PROBLEMS", "TYPE_BASE", "Problem", "ProblemEntry", "problem_for", "problem_for_result"]

#: The prefix of every problem ``type`` URI (a URN: no page needs to exist at it).
TYPE_BASE = "urn:flowengine:problem:"


@attrs.frozen
class ProblemEntry:
    """The fixed part of a problem: its type slug, title, status and detail."""

    slug: str
    title: str
    status: int
    detail: str


@attrs.frozen
class Problem:
    """An RFC 9457 problem: ``type``, ``title``, ``status``, ``detail`` and extensions."""

    type: str
    title: str
    status: int
    detail: str
    #: Extension members (``field``, ``guard``, ``state``, ``attempts``...): safe values only.
    extensions: Mapping[str, Any] = attrs.field(factory=dict)
    #: HTTP headers to send with it (``Retry-After``).
    headers: Mapping[str, str] = attrs.field(factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The ``application/problem+json`` body."""
        return {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.extensions,
        }


#: The one message for a lost race (a second tab, a double click, a replayed page): the
#: store's three ways of saying so are one thing to the user.
_RACE_LOST = (
    "This step was already taken in another tab or window. Showing where your login is now."
)


def _p(slug: str, title: str, status: int, detail: str) -> ProblemEntry:
    return ProblemEntry(slug, title, status, detail)


#: One entry per exception class of the tree (the class itself, not a parent).
PROBLEMS: Mapping[type[e.FlowEngineError], ProblemEntry] = {
    e.FlowEngineError: _p("error", "Login error", 500, "The login failed."),
    e.LocalError: _p("local-error", "Login error", 400, "The request could not be applied."),
    e.IllegalTransitionError: _p(
        "step-not-allowed",
        "Step not allowed now",
        409,
        "This step does not apply to the login as it is now.",
    ),
    e.GuardRejectedError: _p(
        "step-closed", "Step not available", 409, "This step is not available right now."
    ),
    e.FactorNotAllowedError: _p(
        "factor-not-allowed",
        "Factor not offered",
        409,
        "This login does not offer that factor. Choose one of those shown.",
    ),
    e.MfaCodeExpiredError: _p(
        "mfa-code-expired",
        "Code expired",
        409,
        "The code expired. Ask for a new one: the login goes on.",
    ),
    e.InvalidInputError: _p("invalid-input", "Invalid input", 422, "A field is not valid."),
    e.InvalidHandleError: _p(
        "invalid-session",
        "Login session not recognised",
        400,
        "Your login session could not be verified. Start again.",
    ),
    e.FlowClosedError: _p(
        "flow-closed", "Internal error", 500, "The server used a finished step twice."
    ),
    e.ConfigurationError: _p(
        "configuration", "Server misconfigured", 500, "The login service is not configured."
    ),
    e.TenantMismatchError: _p(
        "tenant-mismatch",
        "Login belongs elsewhere",
        409,
        "This login was started with another tenant or application. Start again.",
    ),
    e.DiagramError: _p("diagram", "No diagram", 500, "The diagram could not be drawn."),
    e.SnapshotError: _p(
        "snapshot", "Login unreadable", 500, "The stored login could not be trusted."
    ),
    e.SnapshotMalformedError: _p(
        "snapshot-malformed", "Login unreadable", 500, "The stored login is damaged."
    ),
    e.SnapshotTamperedError: _p(
        "snapshot-tampered", "Login unreadable", 500, "The stored login failed authentication."
    ),
    e.SnapshotKeyError: _p(
        "snapshot-key", "Login unreadable", 500, "The stored login was sealed with an unknown key."
    ),
    e.SnapshotVersionError: _p(
        "snapshot-version", "Login unreadable", 500, "The stored login has an unknown version."
    ),
    e.SnapshotMachineError: _p(
        "snapshot-machine",
        "Login unreadable",
        409,
        "The stored login belongs to another version of the login machine. Start again.",
    ),
    e.SnapshotExpiredError: _p(
        "expired", "Login expired", 410, "This login took too long and expired. Start again."
    ),
    e.SnapshotInvariantError: _p(
        "snapshot-invariant", "Login unreadable", 500, "The stored login is inconsistent."
    ),
    e.SnapshotReplayError: _p(
        "snapshot-replay",
        "Login out of date",
        409,
        "The stored login is older than your session. Start again.",
    ),
    e.StoreError: _p(
        "store", "Service unavailable", 503, "The login store is unavailable. Try again."
    ),
    e.FlowNotFoundError: _p(
        "not-found", "Login not found", 404, "This login no longer exists. Start again."
    ),
    e.StaleSnapshotError: _p(
        "stale",
        "Already done",
        409,
        _RACE_LOST,
    ),
    e.StaleHandleError: _p(
        "stale-session",
        "Already done",
        409,
        _RACE_LOST,
    ),
    e.FlowBusyError: _p(
        "busy",
        "Step in progress",
        409,
        "This step is already being taken in another tab or window. Wait a moment and reload.",
    ),
    e.LostUpdateError: _p(
        "lost-update",
        "Login not saved",
        500,
        "Auth0 answered but the login could not be saved. Start again.",
    ),
    e.TransportError: _p(
        "auth0-unreachable",
        "Auth0 unreachable",
        502,
        "The identity provider could not be reached. Try again.",
    ),
    e.RemoteError: _p("auth0-error", "Login refused", 502, "The identity provider refused."),
    e.MalformedResponseError: _p(
        "auth0-malformed",
        "Bad answer from Auth0",
        502,
        "The identity provider sent an answer that could not be read. Try again.",
    ),
    e.IdTokenError: _p(
        "identity-unverified",
        "Identity not verified",
        502,
        "The identity provider's answer could not be verified. Start the login again.",
    ),
    e.RateLimitedError: _p(
        "rate-limited",
        "Too many requests",
        429,
        "Too many attempts in a short time. Wait before trying again.",
    ),
    e.ServerError: _p(
        "auth0-unavailable",
        "Auth0 unavailable",
        503,
        "The identity provider is unavailable. Try again shortly.",
    ),
    e.Auth0Error: _p(
        "auth0-refused", "Login refused", 400, "The identity provider refused this request."
    ),
    e.MfaRequiredError: _p(
        "mfa-required",
        "Second factor required",
        403,
        "The identity provider asks for a second factor before renewing this session.",
    ),
    e.FlowEndedError: _p("ended", "Login ended", 403, "This login has ended. Start again."),
    e.FlowExpiredError: _p(
        "expired", "Login expired", 410, "The code or the login expired. Start again."
    ),
    e.FlowRejectedError: _p(
        "rejected", "Login rejected", 403, "The second factor was rejected. Start again."
    ),
    e.FlowLockedError: _p(
        "locked",
        "Too many attempts",
        403,
        "Too many wrong attempts: this account is blocked for now.",
    ),
}

_WRONG_CODE = _p("wrong-code", "Wrong code", 422, "That code is not right. Try again.")
_WRONG_CREDENTIALS = _p(
    "wrong-credentials", "Wrong username or password", 422, "Wrong username or password."
)


def _entry_for(exc: BaseException) -> ProblemEntry:
    for cls in type(exc).__mro__:
        entry = PROBLEMS.get(cls)
        if entry is not None:
            return entry
    return PROBLEMS[e.FlowEngineError]


def _build(
    entry: ProblemEntry, detail: str, ext: dict[str, Any], headers: dict[str, str]
) -> Problem:
    return Problem(TYPE_BASE + entry.slug, entry.title, entry.status, detail, ext, headers)


def problem_for(exc: BaseException, *, now: float | None = None) -> Problem:
    """The problem details of ``exc`` (any exception; an unknown one is a bare 500).

    ``now`` (epoch seconds) turns a rate limit's ``reset_at`` into ``Retry-After``.
    """
    if not isinstance(exc, e.FlowEngineError):
        return Problem(TYPE_BASE + "internal", "Internal error", 500, "Something went wrong.")
    entry = _entry_for(exc)
    detail = entry.detail
    ext: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(exc, e.InvalidHandleError):
        pass  # which check failed helps only a forger
    elif isinstance(exc, e.InvalidInputError):
        # The validators' messages never quote the value ("must be 6 digits"); the field
        # is a name, shown only when it looks like one.
        field = exc.field if _NAME.fullmatch(str(exc.field)) else "input"
        message = str(exc).split(": ", 1)[-1]
        ext["field"] = field
        detail = f"{field}: {message}"
    elif isinstance(exc, e.GuardRejectedError):
        ext.update(_names(exc))
        hint = m.GUARD_HINTS.get(exc.guard)
        if hint is not None:
            ext["guard"] = exc.guard
            detail = f"This step is not available right now: {hint}."
    elif isinstance(exc, e.IllegalTransitionError):
        ext.update(_names(exc))
    elif isinstance(exc, e.FlowBusyError):
        headers["Retry-After"] = "1"
    elif isinstance(exc, e.RateLimitedError):
        wait = 60
        if exc.reset_at is not None and now is not None:
            wait = max(1, math.ceil(exc.reset_at - now))
        headers["Retry-After"] = str(wait)
        ext["retry_after"] = wait
        detail = f"{entry.detail} Try again in {wait} seconds."
    elif isinstance(exc, e.ServerError) and exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    if isinstance(exc, e.FlowEndedError):
        ext.update(_names(exc))
    return _build(entry, detail, ext, headers)


_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _names(exc: BaseException) -> dict[str, str]:
    """The exception's state and trigger, when they are names of the machine (else nothing)."""
    out = {}
    state = getattr(exc, "state", None)
    if isinstance(state, str) and state in m.STATES:
        out["state"] = str(state)
    trigger = getattr(exc, "trigger", None)
    if isinstance(trigger, str) and (trigger in m.TRIGGERS or trigger in ("rollback", "confirm")):
        out["trigger"] = str(trigger)
    return out


def problem_for_result(result: StepResult) -> Problem | None:
    """The problem of a step that was applied but did not succeed (a wrong code), or None."""
    if result.outcome == "wrong_code":
        ext: dict[str, Any] = {"state": result.state}
        detail = _WRONG_CODE.detail
        if result.trigger == "verify_otp" and result.attempts is not None:
            left = max(0, 3 - result.attempts)
            ext["attempts_left"] = left
            detail = (
                f"That code is not right: {left} attempt{'s' if left != 1 else ''} left."
                if left
                else "That code is not right, and this code cannot be tried again: send a new one."
            )
        return _build(_WRONG_CODE, detail, ext, {})
    if result.outcome == "wrong_credentials":
        return _build(_WRONG_CREDENTIALS, _WRONG_CREDENTIALS.detail, {}, {})
    return None
