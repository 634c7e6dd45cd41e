"""The exception tree of flowengine.

Every exception the library raises on purpose derives from ``FlowEngineError``.
The tree splits, as h11 does, into errors that are the caller's doing (*local*:
the flow is left exactly as it was) and errors that come from the other side of
the wire (*transport* and *remote*)::

    FlowEngineError
    ├── LocalError                      the caller misused the API; nothing changed
    │   ├── IllegalTransitionError      no row of the machine for (state, trigger)
    │   ├── GuardRejectedError          a row exists but its guard said no
    │   ├── InvalidInputError           a bad phone number, email, code, id, URL... (ValueError)
    │   │   └── InvalidHandleError          not a resume handle of a stored flow (a bare flow id)
    │   ├── FlowClosedError             a Flow used after its ``repo.step`` block, or edited by hand
    │   ├── ConfigurationError          bad tenant/client/store/key configuration
    │   │   └── TenantMismatchError         resumed with another tenant or client than it began with
    │   ├── DiagramError                no diagram: Graphviz's `dot` missing or failing, a bad name
    │   ├── SnapshotError               a snapshot that cannot be trusted; nothing loaded
    │   │   ├── SnapshotMalformedError      not JSON, truncated, wrong shape
    │   │   ├── SnapshotTamperedError       authentication failed (a changed byte)
    │   │   ├── SnapshotKeyError            no key with that id, or the wrong key
    │   │   ├── SnapshotVersionError        unknown or future schema version
    │   │   ├── SnapshotMachineError        another machine, or an incompatible definition
    │   │   ├── SnapshotExpiredError        past Auth0's deadline
    │   │   ├── SnapshotInvariantError      a flow no step could have produced (state, seq, tokens)
    │   │   └── SnapshotReplayError         the stored row is older than the caller's handle
    │   └── StoreError                  the flow store refused or failed
    │       ├── FlowNotFoundError           no flow with that id
    │       ├── StaleSnapshotError          someone else advanced the flow first (or a replay)
    │       │   └── StaleHandleError            the handle is older than the stored flow
    │       ├── FlowBusyError               another worker holds the claim on this step
    │       └── LostUpdateError             Auth0 answered but the save failed; .results has it all
    ├── TransportError                  the request failed on the network
    │   └── (.ambiguous is True when the request may have reached Auth0)
    └── RemoteError                     Auth0 answered, and the answer is an error
        ├── MalformedResponseError      empty, non-JSON, truncated or wrongly shaped body
        ├── RateLimitedError            429 too_many_requests; .reset_at (epoch seconds)
        ├── ServerError                 5xx; .retry_after when Auth0 sent Retry-After
        ├── Auth0Error                  any other error the flow cannot continue past
        └── FlowEndedError              the answer ended the flow (state is now terminal)
            ├── FlowExpiredError            expired_token / a code past its deadline
            ├── FlowRejectedError           push rejected, MFA authorization rejected
            └── FlowLockedError             too_many_attempts (brute-force protection)

``IllegalTransition``, ``GuardRejected`` and ``StaleSnapshot`` are the 0.1 names of three of
these classes: they still work for one release and warn (``DeprecationWarning``).

Messages never contain a secret: no code, token, oob_code, client secret or
recovery code is ever formatted into an exception.
"""

from __future__ import annotations

import warnings

__all__ = [
    "Auth0Error",
    "ConfigurationError",
    "DiagramError",
    "FlowBusyError",
    "FlowClosedError",
    "FlowEndedError",
    "FlowEngineError",
    "FlowExpiredError",
    "FlowLockedError",
    "FlowNotFoundError",
    "FlowRejectedError",
    "GuardRejectedError",
    "IllegalTransitionError",
    "InvalidHandleError",
    "InvalidInputError",
    "LocalError",
    "LostUpdateError",
    "MalformedResponseError",
    "RateLimitedError",
    "RemoteError",
    "ServerError",
    "SnapshotError",
    "SnapshotExpiredError",
    "SnapshotInvariantError",
    "SnapshotKeyError",
    "SnapshotMachineError",
    "SnapshotMalformedError",
    "SnapshotReplayError",
    "SnapshotTamperedError",
    "SnapshotVersionError",
    "StaleHandleError",
    "StaleSnapshotError",
    "StoreError",
    "TenantMismatchError",
    "TransportError",
]


class FlowEngineError(Exception):
    """Base class of every error flowengine raises on purpose."""


# --------------------------------------------------------------------- local


class LocalError(FlowEngineError):
    """The caller misused the API. The flow is unchanged and no request was sent."""


class IllegalTransitionError(LocalError):
    """No row of the machine allows ``trigger`` from ``state``."""

    def __init__(self, state: str, trigger: str) -> None:
        self.state = state
        self.trigger = trigger
        super().__init__(f"trigger {str(trigger)!r} is not allowed in state {str(state)!r}")


class GuardRejectedError(LocalError):
    """A row allows ``trigger`` from ``state`` but its guard ``guard`` said no."""

    def __init__(self, state: str, trigger: str, guard: str, reason: str = "") -> None:
        self.state = state
        self.trigger = trigger
        self.guard = guard
        self.reason = reason
        msg = f"guard {guard!r} rejected trigger {str(trigger)!r} in state {str(state)!r}"
        super().__init__(f"{msg}: {reason}" if reason else msg)


class InvalidInputError(LocalError, ValueError):
    """An argument failed validation before any request was built."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class ConfigurationError(LocalError, ValueError):
    """Tenant, client, store or key configuration is unusable."""


class TenantMismatchError(ConfigurationError):
    """The flow was made for another Auth0 tenant or client; nothing was sent."""


class InvalidHandleError(InvalidInputError):
    """Not a resume handle of a stored flow: a bare flow id, a forged or foreign handle."""

    def __init__(self, message: str) -> None:
        super().__init__("handle", message)


class FlowClosedError(LocalError):
    """The flow was used after its ``repo.step`` block, or its state was set by hand."""


class DiagramError(LocalError):
    """A diagram could not be produced: ``dot`` missing or failing, or a bad name.

    The diagrams take state and trigger names only; a value that is not one is
    refused here, and never quoted, since it may be a secret handed over by mistake.
    """


class SnapshotError(LocalError):
    """A snapshot could not be trusted or read. Nothing was loaded from it."""


class SnapshotMalformedError(SnapshotError):
    """The snapshot is not JSON, is truncated, or does not have the envelope's shape."""


class SnapshotTamperedError(SnapshotError):
    """The snapshot failed authentication: at least one byte was changed."""


class SnapshotKeyError(SnapshotError):
    """The snapshot names a key id that is not configured.

    A snapshot sealed with a different key under a configured key id fails
    authentication instead: ``SnapshotTamperedError``.
    """


class SnapshotVersionError(SnapshotError):
    """The snapshot's schema version is unknown, or newer than this library."""


class SnapshotMachineError(SnapshotError):
    """The snapshot belongs to another machine, or to an incompatible definition of it."""


class SnapshotExpiredError(SnapshotError):
    """The flow in the snapshot is past one of Auth0's deadlines."""


class SnapshotReplayError(SnapshotError):
    """The stored row is older than the handle presented: an earlier row was written back."""


class SnapshotInvariantError(SnapshotError):
    """The flow breaks an invariant no step can break (unknown state, tokens missing...)."""


class StoreError(LocalError):
    """The flow store refused the operation or failed."""


class FlowNotFoundError(StoreError, KeyError):
    """No stored flow has this id."""

    def __init__(self, flow_id: str) -> None:
        self.flow_id = flow_id
        super().__init__(f"no stored flow with id {flow_id!r}")

    def __str__(self) -> str:  # KeyError would quote the message again
        return str(self.args[0])


class StaleSnapshotError(StoreError):
    """The stored flow moved past the sequence number the caller holds.

    Raised to the loser of two concurrent resumers and to anyone replaying an
    old snapshot; no step was applied for them and no request was sent.
    """

    def __init__(self, flow_id: str, expected_seq: int | None, actual_seq: int | None) -> None:
        self.flow_id = flow_id
        self.expected_seq = expected_seq
        self.actual_seq = actual_seq
        super().__init__(
            f"flow {flow_id!r} is at seq {actual_seq}, not {expected_seq}: "
            "another request advanced it first"
        )


class StaleHandleError(StaleSnapshotError):
    """The handle is older than the stored flow: a double submit, a second tab, a replay.

    Nothing was sent. Whoever holds the newest handle can go on.
    """


class LostUpdateError(StoreError):
    """Auth0 answered, the flow advanced, but the save failed: nothing of it is stored.

    ``results`` holds every ``StepResult`` the block produced (tokens, a new recovery
    code, a TOTP secret): hand them to the user now, they exist nowhere else. The claim
    was released, so the next caller is not kept waiting for the lease. ``__cause__`` is
    the store's error.
    """

    def __init__(self, flow_id: str, results: tuple[object, ...]) -> None:
        self.flow_id = flow_id
        self.results = results
        super().__init__(
            f"flow {flow_id!r} advanced at Auth0 but could not be saved; "
            f"{len(results)} step result(s) are attached to this error"
        )

    @property
    def result(self) -> object | None:
        """The last step result, or None."""
        return self.results[-1] if self.results else None


class FlowBusyError(StoreError):
    """Another worker has claimed this flow's next step and not finished it."""

    def __init__(self, flow_id: str, seq: int) -> None:
        self.flow_id = flow_id
        self.seq = seq
        super().__init__(f"flow {flow_id!r} step {seq} is claimed by another worker")


# ----------------------------------------------------------------- transport


class TransportError(FlowEngineError):
    """The request did not complete on the network. The flow is unchanged.

    ``ambiguous`` is True when the request may have reached Auth0 (a read
    timeout, a connection reset mid-response): the flow records that, so a
    passwordless start is not silently sent twice.
    """

    def __init__(self, message: str, *, trigger: str, ambiguous: bool) -> None:
        self.trigger = trigger
        self.ambiguous = ambiguous
        super().__init__(message)


# -------------------------------------------------------------------- remote


class RemoteError(FlowEngineError):
    """Auth0 answered with an error the flow does not absorb as an outcome."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error: str | None = None,
        error_description: str | None = None,
        trigger: str | None = None,
        state: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.error = error
        self.error_description = error_description
        self.trigger = trigger
        self.state = state
        super().__init__(message)


class MalformedResponseError(RemoteError):
    """Auth0's body was empty, not JSON, truncated, or missing a required field."""


class RateLimitedError(RemoteError):
    """HTTP 429 ``too_many_requests``. ``reset_at`` is epoch seconds, or None."""

    def __init__(self, message: str, *, reset_at: int | None, **kw: object) -> None:
        self.reset_at = reset_at
        super().__init__(message, **kw)  # type: ignore[arg-type]


class ServerError(RemoteError):
    """HTTP 5xx. ``retry_after`` is seconds when Auth0 sent ``Retry-After``."""

    def __init__(self, message: str, *, retry_after: float | None, **kw: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)  # type: ignore[arg-type]


class Auth0Error(RemoteError):
    """Any other Auth0 error: bad client credentials, a disabled grant, a bad request."""


class FlowEndedError(RemoteError):
    """Auth0's answer ended the flow; ``state`` is the terminal state it is now in.

    ``result`` is the applied step (a ``StepResult``) that moved the flow there.
    """

    result: object | None = None


class FlowExpiredError(FlowEndedError):
    """A code or the mfa_token expired; start a new login."""


class FlowRejectedError(FlowEndedError):
    """The second factor was rejected (a push denied, MFA authorization rejected)."""


class FlowLockedError(FlowEndedError):
    """Brute-force protection blocked the user (``too_many_attempts``)."""


#: The 0.1 names, kept for one release: ``old name -> class``.
DEPRECATED_NAMES: dict[str, type[FlowEngineError]] = {
    "IllegalTransition": IllegalTransitionError,
    "GuardRejected": GuardRejectedError,
    "StaleSnapshot": StaleSnapshotError,
}


def deprecated_name(name: str) -> type[FlowEngineError]:
    """The class behind a deprecated 0.1 name, with a ``DeprecationWarning``."""
    cls = DEPRECATED_NAMES[name]
    warnings.warn(
        f"flowengine.{name} is deprecated and will be removed in 0.3; use {cls.__name__}",
        DeprecationWarning,
        stacklevel=3,
    )
    return cls


def __getattr__(name: str) -> type[FlowEngineError]:
    if name in DEPRECATED_NAMES:
        return deprecated_name(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
