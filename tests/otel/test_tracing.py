"""Each step is a span with the HTTP call as its child; no secret or handle in any span."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from flowengine import FlowEngineError, _otel
from flowengine._handle import flow_ref
from flowengine.stores import MemoryStore
from flowengine.testing import Fault
from tests.leaks.scanner import Scanner
from tests.leaks.test_secret_scan import SCENARIOS, Login
from tests.property.harness import CLIENT_SECRET, DRIVERS, PASSWORD, PHONE, Rig

ROOT = Path(__file__).resolve().parents[2]


def steps_and_calls(spans: InMemorySpanExporter) -> tuple[list[ReadableSpan], list[ReadableSpan]]:
    """The finished step spans and HTTP spans, in the order they ended."""
    done = list(spans.get_finished_spans())
    return (
        [s for s in done if s.name == "flowengine.step"],
        [s for s in done if s.name.startswith("HTTP ")],
    )


def text_of(span: ReadableSpan) -> str:
    """Everything a span holds that a trace backend would see, as text."""
    return json.dumps(
        {
            "name": span.name,
            "attributes": dict(span.attributes or {}),
            "events": [(e.name, dict(e.attributes or {})) for e in span.events],
            "status": [str(span.status.status_code), span.status.description],
            "links": [dict(link.attributes or {}) for link in span.links],
            "resource": dict(span.resource.attributes),
        },
        default=str,
    )


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_step_is_a_span_with_its_http_call_as_a_child(
    spans: InMemorySpanExporter, driver: str
) -> None:
    """start_passwordless and verify_otp: trigger, outcome, states, endpoint, status, duration."""
    rig = Rig(driver)
    try:
        rig.seed_users("new")
        flow = rig.new_flow("f-trace")
        rig.call("start_passwordless", flow, connection="sms", phone_number=PHONE)
        rig.call("verify_otp", flow, rig.emu.last_code(PHONE))
    finally:
        rig.close()
    steps, calls = steps_and_calls(spans)
    assert [s.attributes["flowengine.trigger"] for s in steps] == [  # type: ignore[index]
        "start_passwordless",
        "verify_otp",
    ]
    first, second = steps
    assert dict(first.attributes or {}) | {"flowengine.duration_ms": 0} == {
        "flowengine.trigger": "start_passwordless",
        "flowengine.state.source": "started",
        "flowengine.state.destination": "code_sent",
        "flowengine.outcome": "code_sent",
        "flowengine.flow_ref": flow_ref("f-trace"),
        "flowengine.seq": 0,
        "flowengine.auth0.endpoint": "/passwordless/start",
        "flowengine.auth0.status": 200,
        "flowengine.uncertain": False,
        "flowengine.duration_ms": 0,
    }
    assert first.attributes["flowengine.duration_ms"] > 0  # type: ignore[index,operator]
    assert first.kind is SpanKind.INTERNAL
    assert second.attributes["flowengine.auth0.endpoint"] == "/oauth/token"  # type: ignore[index]
    assert second.attributes["flowengine.state.source"] == "code_sent"  # type: ignore[index]
    assert len(calls) == 2
    assert second.attributes["flowengine.outcome"] == "mfa_required"  # type: ignore[index]
    assert second.attributes["flowengine.auth0.status"] == 403  # type: ignore[index]
    for step, call in zip(steps, calls, strict=True):
        assert call.parent is not None and call.parent.span_id == step.context.span_id
        assert call.kind is SpanKind.CLIENT
        assert call.attributes["http.request.method"] == "POST"  # type: ignore[index]
        status = step.attributes["flowengine.auth0.status"]  # type: ignore[index]
        assert call.attributes["http.response.status_code"] == status  # type: ignore[index]
        assert call.attributes["url.path"] == step.attributes["flowengine.auth0.endpoint"]  # type: ignore[index]
        assert step.start_time <= call.start_time <= call.end_time <= step.end_time  # type: ignore[operator]


def test_a_wrong_code_and_a_lost_answer_are_traced_as_errors(
    spans: InMemorySpanExporter,
) -> None:
    """A wrong code: its outcome and 403; a lost answer: the error's type, uncertain, ambiguous."""
    rig = Rig("sync")
    try:
        rig.seed_users("new")
        flow = rig.new_flow("f-err")
        rig.call("start_passwordless", flow, connection="sms", phone_number=PHONE)
        code = rig.emu.last_code(PHONE)
        rig.call("verify_otp", flow, "000000" if code != "000000" else "111111")
        rig.emu.add_fault(Fault("/oauth/token", "read_timeout"))
        with pytest.raises(FlowEngineError):
            rig.call("verify_otp", flow, rig.emu.last_code(PHONE))
    finally:
        rig.close()
    steps, calls = steps_and_calls(spans)
    wrong, lost = steps[1], steps[2]
    assert wrong.attributes["flowengine.outcome"] == "wrong_code"  # type: ignore[index]
    assert wrong.attributes["flowengine.auth0.status"] == 403  # type: ignore[index]
    assert wrong.attributes["flowengine.uncertain"] is False  # type: ignore[index]
    assert lost.status.status_code is StatusCode.ERROR
    assert lost.attributes["error.type"] == "TransportError"  # type: ignore[index]
    assert lost.attributes["flowengine.uncertain"] is True  # type: ignore[index]
    assert calls[2].attributes["flowengine.ambiguous"] is True  # type: ignore[index]
    assert "http.response.status_code" not in (calls[2].attributes or {})


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("driver", DRIVERS)
def test_no_span_holds_a_secret_or_a_handle(
    spans: InMemorySpanExporter, driver: str, scenario: str
) -> None:
    """Complete logins for every factor, faults included: every span is scanned for secrets."""
    rig = Rig(driver)
    login = Login(rig, MemoryStore(), Scanner())  # that scanner gets reprs: not scanned here
    if scenario not in ("recovery_code", "challenge_with_faults", "lockout_and_expiry"):
        rig.seed_users("new")
    try:
        SCENARIOS[scenario](login)
    finally:
        rig.close()
    finished = list(spans.get_finished_spans())
    assert any(s.name == "flowengine.step" for s in finished)
    assert any(s.name.startswith("HTTP ") for s in finished)
    scanner = Scanner()
    for span in finished:
        scanner.add(f"span {span.name}", text_of(span))
    flows = [login.flow(fid) for fid in login.ids]
    bindings = {f.context.binding for f in flows if f.context.binding is not None}
    secrets = (
        (rig.emu.issued_secrets() | login.typed | {CLIENT_SECRET, PASSWORD})
        | login.seen_handles
        | bindings
        | {fid for fid in login.ids if len(fid) >= 6}
    )
    assert len(secrets) > 5
    found = scanner.scan(secrets, figures=False)
    assert not found, f"secret values appeared in spans: {found}"
    # the control: the scan does see a secret placed in a span's text
    control = Scanner()
    control.add("control", text_of(finished[0]) + next(iter(login.seen_handles)))
    assert control.scan(secrets, figures=False)


def test_import_flowengine_does_not_import_opentelemetry() -> None:
    """`import flowengine` (and the stores, the CLI's parser) loads no opentelemetry module."""
    code = (
        "import sys, flowengine, flowengine.stores, flowengine.testing\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'opentelemetry')\n"
        "print(bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "[]"


def test_steps_run_untraced_without_opentelemetry() -> None:
    """OpenTelemetry missing: a login works, the import is tried once, and nothing is traced."""
    code = (
        "import sys\n"
        "sys.modules['opentelemetry'] = None  # as if it were not installed\n"
        "from flowengine import _otel\n"
        "from tests.property.harness import PHONE, Rig\n"
        "rig = Rig('sync'); rig.seed_users('new')\n"
        "flow = rig.new_flow('f1')\n"
        "rig.call('start_passwordless', flow, connection='sms', phone_number=PHONE)\n"
        "rig.call('verify_otp', flow, rig.emu.last_code(PHONE))\n"
        "rig.close()\n"
        "print(flow.state, _otel._state == _otel._OFF, _otel._tracer is None)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["mfa_required", "True", "True"]


def test_no_span_is_built_without_a_tracer_provider() -> None:
    """OpenTelemetry installed but no provider configured: the wrapper builds no span."""
    code = (
        "from flowengine import _otel\n"
        "from tests.property.harness import PHONE, Rig\n"
        "built = []\n"
        "real = _otel._step_span\n"
        "_otel._step_span = lambda *a: built.append(1) or real(*a)\n"
        "rig = Rig('sync'); rig.seed_users('new')\n"
        "flow = rig.new_flow('f1')\n"
        "rig.call('start_passwordless', flow, connection='sms', phone_number=PHONE)\n"
        "rig.close()\n"
        "from opentelemetry import trace\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "trace.set_tracer_provider(TracerProvider())\n"
        "rig = Rig('sync'); rig.seed_users('new')\n"
        "rig.call('start_passwordless', rig.new_flow('f2'), connection='sms', phone_number=PHONE)\n"
        "rig.close()\n"
        "print(flow.state, len(built))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["code_sent", "1"]  # only the step after the provider was set


def test_the_untraced_path_costs_one_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tracing off: the wrapper calls straight through, within a microsecond of the bare call."""
    _otel._reset()
    monkeypatch.setenv(_otel.ENV_DISABLE, "1")

    class Driver:
        def step(self, flow: Any, trigger: str, params: Any) -> int:
            return 1

        traced = _otel.traced_step(step)

    driver = Driver()
    assert driver.traced(None, "t", {}) == 1
    assert _otel._state == _otel._OFF

    def best(fn: Any) -> float:
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(20000):
                fn(None, "t", {})
            runs.append((time.perf_counter() - started) / 20000)
        return min(runs)

    extra = best(driver.traced) - best(driver.step)
    _otel._reset()
    assert extra < 1e-6, f"{extra * 1e9:.0f} ns per call"


def test_the_disable_variable_turns_tracing_off(
    spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FLOWENGINE_OTEL_DISABLED=1: no span although the SDK is installed."""
    monkeypatch.setenv(_otel.ENV_DISABLE, "1")
    rig = Rig("sync")
    try:
        rig.seed_users("new")
        rig.call("start_passwordless", rig.new_flow("f-off"), connection="sms", phone_number=PHONE)
    finally:
        rig.close()
    assert list(spans.get_finished_spans()) == []


def test_account_calls_have_a_route_not_an_id() -> None:
    """/mfa/authenticators/<id> is reported as a route."""
    assert _otel._route("/mfa/authenticators/sms|dev_abc123") == "/mfa/authenticators/{id}"
    assert _otel._route("/oauth/token?x=1") == "/oauth/token"
