"""flowengine: Auth0 passwordless + MFA login as a resumable, auditable state machine.

The public surface is re-exported here; everything else lives in private
modules and may change without notice.
"""

from flowengine._async import AsyncFlowClient
from flowengine._config import Auth0Config
from flowengine._context import Context, Uncertain
from flowengine._errors import DEPRECATED_NAMES as _DEPRECATED_NAMES
from flowengine._errors import (
    Auth0Error,
    ConfigurationError,
    DiagramError,
    FlowBusyError,
    FlowClosedError,
    FlowEndedError,
    FlowEngineError,
    FlowExpiredError,
    FlowLockedError,
    FlowNotFoundError,
    FlowRejectedError,
    GuardRejectedError,
    IllegalTransitionError,
    InvalidHandleError,
    InvalidInputError,
    LocalError,
    LostUpdateError,
    MalformedResponseError,
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
from flowengine.stores import FlowStore, open_store

#: The library's version.
__version__ = "0.1.0"

__all__ = [
    "AsyncFlowClient",
    "AsyncFlowRepository",
    "Auth0Config",
    "Auth0Error",
    "ConfigurationError",
    "Context",
    "DiagramError",
    "FINAL_STATES",
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
    "IllegalTransitionError",
    "InvalidHandleError",
    "InvalidInputError",
    "Keyring",
    "LocalError",
    "LostUpdateError",
    "MACHINE_HASH",
    "MACHINE_NAME",
    "MalformedResponseError",
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
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = "flowengine"
del _name, _obj


def __getattr__(name: str) -> type[FlowEngineError]:
    """The deprecated 0.1 exception names, with a ``DeprecationWarning``."""
    if name in _DEPRECATED_NAMES:
        return _deprecated_name(name)
    raise AttributeError(f"module 'flowengine' has no attribute {name!r}")
