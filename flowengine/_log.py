"""The library's log events, routed to the standard ``logging`` logger ``flowengine``.

Theory of operation
-------------------
A library prints nothing unless asked. structlog's default configuration prints
every event on stdout, so the library never logs through it and never calls
``structlog.configure()``. Every event goes to the stdlib logger ``flowengine``
(``LOGGER``), which carries a ``logging.NullHandler`` so that Python's
last-resort handler never prints a warning either. Like any logger it is
disabled below ``WARNING`` until the application configures logging, so an
application that configured nothing sees nothing.

Each helper asks ``LOGGER.isEnabledFor(level)`` first: a disabled event costs
one cached level check, and no event dict is built, no processor runs. structlog
itself is imported at the first enabled event, not with the package.

An enabled event is processed by structlog on its way to ``LOGGER``:

* when the application configured structlog (``structlog.is_configured()``),
  with its processors, read at each event so that a later ``configure`` and
  ``structlog.testing.capture_logs()`` apply; its chain usually ends with
  ``structlog.stdlib.ProcessorFormatter.wrap_for_formatter``;
* otherwise with ``ProcessorFormatter.wrap_for_formatter`` alone: the record's
  message is the event dict, which a ``structlog.stdlib.ProcessorFormatter`` on
  the application's handler renders (JSON, key-value, console), and which a
  plain ``logging.Formatter`` prints as a dict.

Events and levels: ``flow_transition`` (INFO), ``auth0_uncertain`` (WARNING),
``auth0_request`` and ``auth0_response`` (DEBUG). Their fields are names,
states, numbers and durations, never a code, token or body: the helpers take
the objects and copy only those fields out of them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flowengine._flow import StepResult
from flowengine._handle import flow_ref
from flowengine._wire import HttpRequest, HttpResponse

if TYPE_CHECKING:
    import structlog

__all__ = [
    "LOGGER",
    "LOGGER_NAME",
    "log_request",
    "log_response",
    "log_transition",
    "log_uncertain",
]

LOGGER_NAME = "flowengine"

LOGGER = logging.getLogger(LOGGER_NAME)
LOGGER.addHandler(logging.NullHandler())

_DEBUG, _INFO, _WARNING = logging.DEBUG, logging.INFO, logging.WARNING


def _bound() -> structlog.stdlib.BoundLogger:
    """A structlog logger over ``LOGGER`` with the processors that apply right now."""
    import structlog  # at the first enabled event: an application that logs nothing never loads it

    if structlog.is_configured():
        processors = structlog.get_config()["processors"]
    else:
        # Hand the event dict, not a rendered string, to the application's handlers,
        # whose formatter decides the format.
        processors = [structlog.stdlib.ProcessorFormatter.wrap_for_formatter]
    return structlog.stdlib.BoundLogger(LOGGER, processors, {})


def log_transition(result: StepResult, duration: float = 0.0) -> None:
    """One ``flow_transition`` event: names and numbers only, never a secret.

    Steps that make no call (cancel, rollback, a local expiry) log with no
    status, no error and a zero duration.
    """
    if not LOGGER.isEnabledFor(_INFO):
        return
    _bound().info(
        "flow_transition",
        flow_ref=flow_ref(result.flow_id),
        trigger=str(result.trigger),  # plain names: renderers would show an enum's repr
        outcome=str(result.outcome),
        from_state=str(result.source),
        to_state=str(result.state),
        seq=result.seq,
        status_code=result.status_code,
        error=result.error,
        duration_ms=round(duration * 1000, 3),
    )


def log_uncertain(flow_id: str, trigger: str, cause: str) -> None:
    """One ``auth0_uncertain`` event: the request may have reached Auth0 unanswered."""
    if not LOGGER.isEnabledFor(_WARNING):
        return
    _bound().warning(
        "auth0_uncertain", flow_ref=flow_ref(flow_id), trigger=str(trigger), cause=cause
    )


def log_request(flow_id: str, trigger: str, req: HttpRequest) -> None:
    """One ``auth0_request`` event: method and path only."""
    if not LOGGER.isEnabledFor(_DEBUG):
        return
    _bound().debug(
        "auth0_request",
        flow_ref=flow_ref(flow_id),
        trigger=str(trigger),
        method=req.method,
        path=req.path,
    )


def log_response(flow_id: str, trigger: str, resp: HttpResponse, duration: float) -> None:
    """One ``auth0_response`` event: the status, never the body."""
    if not LOGGER.isEnabledFor(_DEBUG):
        return
    _bound().debug(
        "auth0_response",
        flow_ref=flow_ref(flow_id),
        trigger=str(trigger),
        status_code=resp.status_code,
        duration_ms=round(duration * 1000, 3),
    )


def log_lost_update(flow_id: str, cause: str) -> None:
    """One ``flow_save_failed`` event: the step happened at Auth0 but was not stored."""
    if not LOGGER.isEnabledFor(_WARNING):
        return
    _bound().warning("flow_save_failed", flow_ref=flow_ref(flow_id), cause=cause)


def log_takeover(flow_id: str, trigger: str) -> None:
    """One ``flow_takeover`` event: an expired claim's journal named a request in doubt."""
    if not LOGGER.isEnabledFor(_WARNING):
        return
    _bound().warning("flow_takeover", flow_ref=flow_ref(flow_id), trigger=str(trigger))
