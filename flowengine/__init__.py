"""flowengine: Auth0 passwordless + MFA login as a resumable, auditable state machine.

The public surface is re-exported here; everything else lives in private
modules and may change without notice.
"""

from __future__ import annotations

from flowengine._api import RetryPolicy
from flowengine._async import AsyncFlowClient
from flowengine._config import Auth0Config
from flowengine._errors import (
    Auth0Error,
    ConfigurationError,
    DiagramError,
    FlowBusyError,
    FlowEndedError,
    FlowEngineError,
    FlowExpiredError,
    FlowLockedError,
    FlowNotFoundError,
    FlowRejectedError,
    GuardRejected,
    IllegalTransition,
    InvalidInputError,
    LocalError,
    MalformedResponseError,
    RateLimitedError,
    RemoteError,
    ServerError,
    SnapshotError,
    SnapshotExpiredError,
    SnapshotKeyError,
    SnapshotMachineError,
    SnapshotMalformedError,
    SnapshotTamperedError,
    SnapshotVersionError,
    StaleSnapshot,
    StoreError,
    TransportError,
)
from flowengine._flow import Flow, StepResult
from flowengine._machine import FINAL_STATES, MACHINE_HASH, MACHINE_NAME, STATES
from flowengine._repository import AsyncFlowRepository, FlowRepository, dump_flow, load_flow
from flowengine._snapshot import Keyring
from flowengine._sync import FlowClient
from flowengine.stores import FlowStore, open_store

__version__ = "0.1.0"

__all__ = [
    "AsyncFlowClient",
    "AsyncFlowRepository",
    "Auth0Config",
    "Auth0Error",
    "ConfigurationError",
    "DiagramError",
    "FINAL_STATES",
    "Flow",
    "FlowBusyError",
    "FlowClient",
    "FlowEndedError",
    "FlowEngineError",
    "FlowExpiredError",
    "FlowLockedError",
    "FlowNotFoundError",
    "FlowRejectedError",
    "FlowRepository",
    "FlowStore",
    "GuardRejected",
    "IllegalTransition",
    "InvalidInputError",
    "Keyring",
    "LocalError",
    "MACHINE_HASH",
    "MACHINE_NAME",
    "MalformedResponseError",
    "RateLimitedError",
    "RemoteError",
    "RetryPolicy",
    "STATES",
    "ServerError",
    "SnapshotError",
    "SnapshotExpiredError",
    "SnapshotKeyError",
    "SnapshotMachineError",
    "SnapshotMalformedError",
    "SnapshotTamperedError",
    "SnapshotVersionError",
    "StaleSnapshot",
    "StepResult",
    "StoreError",
    "TransportError",
    "__version__",
    "dump_flow",
    "load_flow",
    "open_store",
]
