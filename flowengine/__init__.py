"""flowengine: Auth0 passwordless + MFA login as a resumable, auditable state machine.

The public surface is re-exported here; everything else lives in private
modules and may change without notice.

``import flowengine`` loads what a synchronous client needs (the ``transitions``
machine is built then). ``AsyncFlowClient``, and asyncio with it, is imported at its
first use (PEP 562); so are PyJWT and ``cryptography``'s RSA and X.509 (id_token
checks, Private Key JWT) and structlog (the first enabled log event).
"""

import typing as _typing

from flowengine._audit import AuditEntry, AuditSummary, AuditTrail
from flowengine._config import Auth0Config
from flowengine._context import Context, TenantSettings, Uncertain
from flowengine._errors import DEPRECATED_NAMES as _DEPRECATED_NAMES
from flowengine._errors import (
    Auth0Error,
    ConfigurationError,
    DiagramError,
    FactorNotAllowedError,
    FlowBusyError,
    FlowClosedError,
    FlowEndedError,
    FlowEngineError,
    FlowExpiredError,
    FlowLockedError,
    FlowNotFoundError,
    FlowRejectedError,
    GuardRejectedError,
    IdTokenError,
    IllegalTransitionError,
    InvalidHandleError,
    InvalidInputError,
    LocalError,
    LostUpdateError,
    MalformedResponseError,
    MfaCodeExpiredError,
    MfaRequiredError,
    RateLimitedError,
    RemoteError,
    ServerError,
    SnapshotError,
    SnapshotExpiredError,
    SnapshotInvariantError,
    SnapshotKeyError,
    SnapshotMachineError,
    SnapshotMalformedError,
    SnapshotReplayError,
    SnapshotTamperedError,
    SnapshotVersionError,
    StaleHandleError,
    StaleSnapshotError,
    StoreError,
    TenantMismatchError,
    TransportError,
)
from flowengine._errors import deprecated_name as _deprecated_name
from flowengine._flow import Flow, PreparedStep, StepResult
from flowengine._machine import (
    FINAL_STATES,
    MACHINE_HASH,
    MACHINE_NAME,
    STATES,
    Outcome,
    State,
    Trigger,
)
from flowengine._repository import AsyncFlowRepository, FlowRepository, dump_flow, load_flow
from flowengine._snapshot import Keyring
from flowengine._step_methods import FlowSteps, RetryPolicy
from flowengine._sync import FlowClient
from flowengine._wire import HttpRequest, HttpResponse

if _typing.TYPE_CHECKING:
    from flowengine._async import AsyncFlowClient
    from flowengine.stores import FlowStore, open_store

#: Public names imported at their first use (PEP 562): the name -> its module.
_LAZY = {
    "AsyncFlowClient": "flowengine._async",
    "FlowStore": "flowengine.stores",
    "open_store": "flowengine.stores",
}

#: The library's version.
__version__ = "0.1.0"

__all__ = [
    "AsyncFlowClient",
    "AsyncFlowRepository",
    "AuditEntry",
    "AuditSummary",
    "AuditTrail",
    "Auth0Config",
    "Auth0Error",
    "ConfigurationError",
    "Context",
    "DiagramError",
    "FINAL_STATES",
    "FactorNotAllowedError",
    "Flow",
    "FlowBusyError",
    "FlowClient",
    "FlowClosedError",
    "FlowEndedError",
    "FlowEngineError",
    "FlowExpiredError",
    "FlowLockedError",
    "FlowNotFoundError",
    "FlowRejectedError",
    "FlowRepository",
    "FlowSteps",
    "FlowStore",
    "GuardRejectedError",
    "HttpRequest",
    "HttpResponse",
    "IdTokenError",
    "IllegalTransitionError",
    "InvalidHandleError",
    "InvalidInputError",
    "Keyring",
    "LocalError",
    "LostUpdateError",
    "MACHINE_HASH",
    "MACHINE_NAME",
    "MalformedResponseError",
    "MfaCodeExpiredError",
    "MfaRequiredError",
    "Outcome",
    "PreparedStep",
    "RateLimitedError",
    "RemoteError",
    "RetryPolicy",
    "STATES",
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
    "State",
    "StepResult",
    "StoreError",
    "TenantMismatchError",
    "TenantSettings",
    "TransportError",
    "Trigger",
    "Uncertain",
    "__version__",
    "dump_flow",
    "load_flow",
    "open_store",
]

# Public classes say where users import them from (as httpx's do): tracebacks and
# reprs show ``flowengine.FlowClient``, not a private module.
for _name in __all__:
    _obj = globals().get(_name)
    if isinstance(_obj, type):
        _obj.__module__ = "flowengine"
del _name, _obj


def __getattr__(name: str) -> _typing.Any:
    """The lazily imported public names, and the deprecated 0.1 exception names."""
    module = _LAZY.get(name)
    if module is not None:
        import importlib

        value = getattr(importlib.import_module(module), name)
        if isinstance(value, type):
            value.__module__ = "flowengine"
        globals()[name] = value  # later look-ups find it without calling this again
        return value
    if name in _DEPRECATED_NAMES:
        return _deprecated_name(name)
    raise AttributeError(f"module 'flowengine' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names, the lazily imported ones included."""
    return sorted({*globals(), *_LAZY})
