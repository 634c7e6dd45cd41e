"""The pure core: one step, the snapshot codec, and the memory an idle flow holds.

A realistic flow is made once by running the seed's first two calls against the emulator
(so the mfa_token, codes and context are what a real flow carries); the canned answers of
the timed steps are the emulator's own answers to the requests the core built.
"""

from __future__ import annotations

import gc
import json
import sys
import tracemalloc
from collections.abc import Mapping
from typing import Any

import attrs
import httpx
import transitions

from bench._common import PHONE, SCOPE, make_config, make_emulator, phone_for
from bench._floor import FloorCodec
from bench._harness import (
    Report,
    Row,
    clock_overhead,
    cpu_now,
    fmt_bytes,
    fmt_delta,
    fmt_time,
    median,
)
from flowengine import MACHINE_HASH, MACHINE_NAME, FlowClient
from flowengine._flow import Flow
from flowengine._repository import dump_flow, load_flow
from flowengine._snapshot import Keyring, decode, encode
from flowengine._wire import HttpResponse
from flowengine.testing import Auth0Emulator, FakeClock

STEP_TARGET = 20e-6
SNAPSHOT_TARGET = 40e-6
SNAPSHOT_SIZE_TARGET = 2048
ROUND_TRIP_TARGET = 1.5
IDLE_TARGET = 2048

_CONFIG = make_config()


@attrs.frozen
class Canned:
    """A flow envelope before a step, the step's parameters and Auth0's canned answer."""

    envelope: Mapping[str, Any]
    trigger: str
    params: Mapping[str, Any]
    response: HttpResponse
    now: float
    expect: str


def _answer(
    emu: Auth0Emulator, flow: Flow, trigger: str, params: Mapping[str, Any], at: float
) -> HttpResponse:
    """Ask the emulator to answer the request the core builds for ``trigger``."""
    step = flow.prepare(trigger, params, _CONFIG, at)
    assert step.request is not None
    req = step.request
    answer = emu.handle(req.method, req.path, dict(req.headers), req.body or b"")
    return HttpResponse(
        answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.body
    )


def scenario() -> tuple[Canned, Canned, Flow, Auth0Emulator]:
    """Canned verify_otp (code_sent -> mfa_required) and confirm_oob (-> authenticated).

    Also returns a realistic flow at ``mfa_required`` and its emulator.
    """
    clock = FakeClock()
    emu = make_emulator(seed=11, clock=clock.time)
    client = FlowClient(_CONFIG, transport=emu.transport(), clock=clock.time)
    at = clock.time()
    flow = client.new_flow()
    client.start_passwordless(flow, connection="sms", phone_number=PHONE)
    verify_params = {"otp": emu.last_code(PHONE), "audience": _CONFIG.mfa_audience, "scope": SCOPE}
    code_sent = flow.to_envelope()
    verify = Canned(
        code_sent,
        "verify_otp",
        verify_params,
        _answer(emu, flow, "verify_otp", verify_params, at),
        at,
        "mfa_required",
    )
    flow.apply(flow.prepare("verify_otp", verify_params, _CONFIG, at), verify.response, _CONFIG, at)
    assert flow.state == "mfa_required", flow.state
    mfa_flow = Flow.from_envelope(json.loads(json.dumps(flow.to_envelope())))
    client.enroll(flow, "sms", phone_number=PHONE)
    confirm_params = {"binding_code": emu.last_code(PHONE, purpose="mfa")}
    pending = flow.to_envelope()
    confirm = Canned(
        pending,
        "confirm_oob",
        confirm_params,
        _answer(emu, flow, "confirm_oob", confirm_params, at),
        at,
        "authenticated",
    )
    client.close()
    return verify, confirm, mfa_flow, emu


def _fresh(envelope: Mapping[str, Any], n: int) -> list[Flow]:
    text = json.dumps(envelope)
    return [Flow.from_envelope(json.loads(text)) for _ in range(n)]


def time_core_step(canned: Canned, iterations: int) -> list[float]:
    """Per-step durations of ``prepare`` + ``apply`` on fresh flows (built outside the clock)."""
    flows = _fresh(canned.envelope, iterations)
    trigger, params, resp, at = canned.trigger, canned.params, canned.response, canned.now
    overhead = clock_overhead(cpu_now)
    out = []
    for flow in flows:
        t0 = cpu_now()
        step = flow.prepare(trigger, params, _CONFIG, at)
        flow.apply(step, resp, _CONFIG, at)
        out.append(cpu_now() - t0 - overhead)
    if flows[-1].state != canned.expect:
        raise RuntimeError(f"the canned {trigger} ended in {flows[-1].state}")
    return out


def run(report: Report, iterations: int) -> None:
    """The core step and snapshot figures."""
    verify, confirm, mfa_flow, _ = scenario()
    for canned in (verify, confirm):
        time_core_step(canned, 200)  # warm-up
    # interleave the two steps in chunks so that noise hits both alike
    samples: dict[str, list[float]] = {"verify_otp": [], "confirm_oob": []}
    chunk = 250
    for _ in range(max(1, iterations // chunk)):
        for canned in (verify, confirm):
            samples[canned.trigger].extend(time_core_step(canned, chunk))
    for canned, label in (
        (verify, "verify_otp: code_sent -> mfa_required"),
        (confirm, "confirm_oob: enrollment_pending -> authenticated"),
    ):
        m = median(samples[canned.trigger])
        report.add(
            Row(
                figure=f"core step, no I/O ({label})",
                measured=fmt_time(m),
                baseline="-",
                compare="-",
                target=f"<= {fmt_time(STEP_TARGET)}",
                ok=m <= STEP_TARGET,
                note=f"{len(samples[canned.trigger])} steps",
            )
        )
    run_snapshot(report, mfa_flow, iterations)


def run_snapshot(report: Report, flow: Flow, iterations: int) -> None:
    """Encode + decode of a realistic ``mfa_required`` envelope, and its size."""
    keyring = Keyring.generate("k1")
    env = flow.to_envelope()
    text = encode(env, keyring)
    size = len(text.encode("ascii"))
    hashes = (MACHINE_HASH,)
    overhead = clock_overhead(cpu_now)

    def codec() -> float:
        t0 = cpu_now()
        sealed = encode(env, keyring)
        decode(sealed, keyring, machine=MACHINE_NAME, accepted_hashes=hashes, now=None)
        return cpu_now() - t0 - overhead

    def repository_path() -> float:
        t0 = cpu_now()
        load_flow(dump_flow(flow, keyring), keyring, now=None)
        return cpu_now() - t0 - overhead

    floor = FloorCodec(keyring)

    def floor_codec() -> float:
        t0 = cpu_now()
        floor.open(floor.seal(env))
        return cpu_now() - t0 - overhead

    def floor_path() -> float:
        t0 = cpu_now()
        Flow.from_envelope(floor.open(floor.seal(flow.to_envelope())))
        return cpu_now() - t0 - overhead

    contenders = [codec, repository_path, floor_codec, floor_path]
    for _ in range(200):
        for contender in contenders:
            contender()
    gc.collect()
    samples: list[list[float]] = [[] for _ in contenders]
    order = list(range(len(contenders)))
    for i in range(iterations):
        for k in order if i % 2 else reversed(order):
            samples[k].append(contenders[k]())
    m, mb, mf, mfp = (median(s) for s in samples)
    report.add(
        Row(
            figure="snapshot encode + decode (mfa_required envelope)",
            measured=fmt_time(m),
            baseline="-",
            compare="-",
            target=f"<= {fmt_time(SNAPSHOT_TARGET)}",
            ok=m <= SNAPSHOT_TARGET,
        )
    )
    report.add(
        Row(
            figure="snapshot size at mfa_required",
            measured=f"{size:,} B",
            baseline="-",
            compare="-",
            target=f"<= {SNAPSHOT_SIZE_TARGET:,} B",
            ok=size <= SNAPSHOT_SIZE_TARGET,
        )
    )
    report.add(
        Row(
            figure="dump_flow + load_flow (codec + to/from_envelope)",
            measured=fmt_time(mb),
            baseline="codec alone",
            compare=fmt_delta(mb - m),
            target="-",
            ok=None,
        )
    )
    report.add(
        Row(
            figure="snapshot round trip: flow -> sealed text -> flow (dump_flow + load_flow)",
            measured=fmt_time(mb),
            baseline=f"json + AES-GCM floor {fmt_time(mfp)} (same to/from_envelope)",
            compare=f"ratio {mb / mfp:.2f}",
            target=f"ratio <= {ROUND_TRIP_TARGET}",
            ok=mb / mfp <= ROUND_TRIP_TARGET,
            ratio=mb / mfp,
        )
    )
    report.add(
        Row(
            figure="snapshot codec alone: encode + decode of the envelope",
            measured=fmt_time(m),
            baseline=f"json + AES-GCM floor {fmt_time(mf)}",
            compare=f"ratio {m / mf:.2f}",
            target=f"ratio <= {ROUND_TRIP_TARGET}",
            ok=m / mf <= ROUND_TRIP_TARGET,
            ratio=m / mf,
        )
    )


# ---------------------------------------------------------------------------- memory


def _machines() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, transitions.Machine))


def _stepped_flows(verify: Canned, start_body: bytes, n: int) -> list[Flow]:
    """``n`` flows driven started -> code_sent -> mfa_required by the core, per-flow strings."""
    start_resp = HttpResponse(200, {"content-type": "application/json"}, start_body)
    at = verify.now
    out = []
    for i in range(n):
        flow = Flow.new(f"fl_{i:032x}", at)
        phone = phone_for(i)
        step = flow.prepare(
            "start_passwordless", {"connection": "sms", "phone_number": phone}, _CONFIG, at
        )
        flow.apply(step, start_resp, _CONFIG, at)
        params = {
            "otp": f"{i % 1000000:06d}",
            "audience": verify.params["audience"],
            "scope": verify.params["scope"],
        }
        step = flow.prepare("verify_otp", params, _CONFIG, at)
        flow.apply(step, verify.response, _CONFIG, at)
        out.append(flow)
    return out


def _per_flow(build: Any, n: int) -> tuple[float, Any]:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build(n)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # the list holding the flows is the harness's, not the flows'
    return (after - before - sys.getsizeof(kept)) / n, kept


def run_memory(report: Report, n: int) -> None:
    """Bytes per idle flow held in memory, and the number of ``transitions`` machines."""
    verify, _, _, emu = scenario()
    start_body = httpx.Response(
        200, json={"_id": "0" * 24, "phone_number": PHONE, "phone_verified": False}
    ).content
    machines_before = _machines()
    per_stepped, flows = _per_flow(lambda k: _stepped_flows(verify, start_body, k), n)
    if any(f.state != "mfa_required" for f in flows):
        raise RuntimeError("a memory flow did not reach mfa_required")
    machines_after = _machines()
    keyring = Keyring.generate("k1")
    texts = [dump_flow(f, keyring) for f in flows]
    del flows

    def load(k: int) -> list[Flow]:
        return [load_flow(texts[i], keyring, now=None) for i in range(k)]

    per_loaded, loaded = _per_flow(load, n)
    del loaded
    ok = per_stepped <= IDLE_TARGET and machines_after == 1
    report.add(
        Row(
            figure="memory per idle flow (mfa_required, built by steps)",
            measured=fmt_bytes(per_stepped),
            baseline="-",
            compare=f"{machines_before} -> {machines_after} Machine objects for {n:,} flows",
            target=f"<= {IDLE_TARGET:,} B, 1 Machine",
            ok=ok,
        )
    )
    report.add(
        Row(
            figure="memory per idle flow (mfa_required, loaded from a snapshot)",
            measured=fmt_bytes(per_loaded),
            baseline="-",
            compare="-",
            target=f"<= {IDLE_TARGET:,} B",
            ok=per_loaded <= IDLE_TARGET,
        )
    )
    del emu
