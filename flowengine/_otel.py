"""OpenTelemetry tracing of flow steps, when ``opentelemetry-api`` is installed.

Theory of operation
-------------------
The drivers (``_sync.py``, ``_async.py``) carry two decorators: ``traced_step``
on the method that runs one step and ``traced_http`` on the one that sends its
request.  With the ``flowengine[otel]`` extra installed, each step is a span
``flowengine.step`` and each request a child span ``HTTP <method>`` of it, through
the global tracer provider the application configured (none configured: the API's
no-op tracer, and nothing is recorded).

What a span carries is chosen, not dumped: the trigger, the outcome, the source and
destination states, the flow's sequence number and ``flow_ref`` (the logs' short
one-way reference, never the flow id nor the handle), the Auth0 endpoint as a route
(``/mfa/authenticators/{id}``, never an id), the HTTP status, the step's duration,
whether the flow is left ``uncertain`` and an error's *type*.  Never a parameter of
the step (codes, phone numbers, addresses), a header, a body, a token, the
``mfa_token``, the handle or an exception's message; tests scan every span of
complete logins for every secret the tenant issued.

No cost when it is not installed: ``import flowengine`` does not import
``opentelemetry``.  The first traced call tries the import once; when it fails (or
``ENV_DISABLE`` is set) every later call goes straight to the wrapped method
after one check of a module global.  Installed but with no tracer provider
configured (the API's proxy or no-op provider), a call costs that check and one
``isinstance`` of the global provider, and builds no span.
"""

from __future__ import annotations

import functools
import inspect
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flowengine._handle import flow_ref

__all__ = ["ENV_DISABLE", "traced_http", "traced_step"]

F = TypeVar("F", bound=Callable[..., Any])

ENV_DISABLE = "FLOWENGINE_OTEL_DISABLED"
"""Set (to anything but ``""`` or ``0``) to turn tracing off although OpenTelemetry is there."""

_UNKNOWN, _OFF, _ON = 0, 1, 2
_state = _UNKNOWN
_tracer: Any = None
_trace: Any = None

#: Path prefixes whose last segment is an id: reported as a route, not as the id.
_ROUTES = ("/mfa/authenticators/",)


def _get_tracer() -> Any:
    """The tracer, or None when OpenTelemetry is missing or disabled (decided once)."""
    global _state, _tracer, _trace
    if _state == _UNKNOWN:
        if os.environ.get(ENV_DISABLE, "") not in ("", "0"):
            _state = _OFF
            return None
        try:
            from opentelemetry import trace
        except ImportError:
            _state = _OFF
            return None
        from flowengine import __version__

        _trace = trace
        _tracer = trace.get_tracer("flowengine", __version__)
        _state = _ON
    if _state != _ON:
        return None
    if isinstance(
        _trace.get_tracer_provider(), _trace.ProxyTracerProvider | _trace.NoOpTracerProvider
    ):
        return None  # no tracer provider configured: a span would record nothing, skip it
    return _tracer


def _reset() -> None:
    """Forget the decision (tests that install or hide OpenTelemetry call this)."""
    global _state, _tracer, _trace
    _state, _tracer, _trace = _UNKNOWN, None, None


def _route(path: str) -> str:
    """The endpoint without query or ids."""
    path = path.split("?", 1)[0]
    for prefix in _ROUTES:
        if path.startswith(prefix) and len(path) > len(prefix):
            return prefix + "{id}"
    return path


def _uncertain(flow: Any) -> bool:
    return getattr(flow, "uncertain", None) is not None


@contextmanager
def _step_span(tracer: Any, flow: Any, trigger: str) -> Iterator[Callable[[Any], None]]:
    """The step's span; yields a function that records the step's result."""
    attributes = {
        "flowengine.trigger": str(trigger),
        "flowengine.state.source": str(flow.state),
        "flowengine.flow_ref": flow_ref(str(flow.flow_id)),
        "flowengine.seq": int(flow.seq),
    }
    started = time.perf_counter()
    with tracer.start_as_current_span(
        "flowengine.step",
        kind=_trace.SpanKind.INTERNAL,
        attributes=attributes,
        record_exception=False,  # an exception's message is not for a trace backend
        set_status_on_exception=False,
    ) as span:

        def done(result: Any) -> None:
            span.set_attribute("flowengine.outcome", str(result.outcome))
            span.set_attribute("flowengine.state.destination", str(result.state))

        try:
            yield done
        except BaseException as exc:
            ended = getattr(exc, "result", None)
            if ended is not None and hasattr(ended, "outcome"):
                done(ended)
            else:
                span.set_attribute("flowengine.state.destination", str(flow.state))
            span.set_attribute("error.type", type(exc).__name__)
            span.set_status(_trace.Status(_trace.StatusCode.ERROR, type(exc).__name__))
            raise
        finally:
            span.set_attribute("flowengine.uncertain", _uncertain(flow))
            span.set_attribute("flowengine.duration_ms", (time.perf_counter() - started) * 1e3)


@contextmanager
def _http_span(
    tracer: Any, base_url: str, trigger: str, req: Any
) -> Iterator[Callable[[Any], None]]:
    """The request's span (a child of the step's); yields a function taking the response."""
    route = _route(str(req.path))
    step = _trace.get_current_span()
    step.set_attribute("flowengine.auth0.endpoint", route)
    host = urlsplit(base_url).hostname or ""
    attributes = {
        "http.request.method": str(req.method),
        "url.path": route,
        "server.address": host,
        "flowengine.trigger": str(trigger),
    }
    with tracer.start_as_current_span(
        f"HTTP {req.method}",
        kind=_trace.SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:

        def done(resp: Any) -> None:
            status = int(resp.status_code)
            span.set_attribute("http.response.status_code", status)
            step.set_attribute("flowengine.auth0.status", status)
            if status >= 500:
                span.set_status(_trace.Status(_trace.StatusCode.ERROR))

        try:
            yield done
        except BaseException as exc:
            span.set_attribute("error.type", type(exc).__name__)
            ambiguous = getattr(exc, "ambiguous", None)
            if isinstance(ambiguous, bool):
                span.set_attribute("flowengine.ambiguous", ambiguous)
            span.set_status(_trace.Status(_trace.StatusCode.ERROR, type(exc).__name__))
            raise


def traced_step(method: F) -> F:
    """Trace ``method(self, flow, trigger, params)`` (sync or async) as a step span."""
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def run_async(self: Any, flow: Any, trigger: str, params: Any) -> Any:
            tracer = _get_tracer()
            if tracer is None:
                return await method(self, flow, trigger, params)
            with _step_span(tracer, flow, trigger) as done:
                result = await method(self, flow, trigger, params)
                done(result)
                return result

        return run_async  # type: ignore[return-value]

    @functools.wraps(method)
    def run(self: Any, flow: Any, trigger: str, params: Any) -> Any:
        tracer = _get_tracer()
        if tracer is None:
            return method(self, flow, trigger, params)
        with _step_span(tracer, flow, trigger) as done:
            result = method(self, flow, trigger, params)
            done(result)
            return result

    return run  # type: ignore[return-value]


def traced_http(method: F) -> F:
    """Trace ``method(self, flow_id, trigger, req, ...)`` (sync or async) as an HTTP client span."""
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def send_async(
            self: Any, flow_id: str, trigger: str, req: Any, *args: Any, **kwargs: Any
        ) -> Any:
            tracer = _get_tracer()
            if tracer is None:
                return await method(self, flow_id, trigger, req, *args, **kwargs)
            with _http_span(tracer, self.config.base_url, trigger, req) as done:
                resp = await method(self, flow_id, trigger, req, *args, **kwargs)
                done(resp)
                return resp

        return send_async  # type: ignore[return-value]

    @functools.wraps(method)
    def send(self: Any, flow_id: str, trigger: str, req: Any, *args: Any, **kwargs: Any) -> Any:
        tracer = _get_tracer()
        if tracer is None:
            return method(self, flow_id, trigger, req, *args, **kwargs)
        with _http_span(tracer, self.config.base_url, trigger, req) as done:
            resp = method(self, flow_id, trigger, req, *args, **kwargs)
            done(resp)
            return resp

    return send  # type: ignore[return-value]
