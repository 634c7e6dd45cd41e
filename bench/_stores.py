"""Stored flows: resume + step + save against no store, a small store and a big one; sweeps.

Three contenders run interleaved in one loop, each on its own fresh flow at
``code_sent`` per round:

* no store: ``client.verify_otp(flow, code)`` on a flow held in memory;
* ``with repo.step(handle) as flow: client.verify_otp(flow, code)`` on an SQLite store
  holding 1,000 flows, and on one holding 100,000 (``handle`` is what ``repo.add``
  returned; the timed step checks it and mints the next one on save).

The step goes through the in-process emulator, as in the seed figures. The same three-way
comparison is repeated with the core step and a canned answer instead of the emulator,
which shows the store's own cost undiluted. Filler flows are real sealed snapshots (the
store never parses them) bulk-inserted with one ``executemany`` into the store's table.

``run_floors`` sets the library's stored step (the core step, ``flow.begin`` +
``flow.finish`` on a canned answer) beside a hand-written floor on the same SQLite file
and table, and on the same Redis server and hash layout (``bench/_floor.py``): the rows
compare the *added* cost of each (its median minus the same step with no store).
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench._common import make_config, make_emulator, phone_for
from bench._core import Canned, scenario
from bench._floor import RedisFloor, SQLiteFloor, core_step
from bench._harness import Report, Row, fmt_delta, fmt_time, interleave, median, now
from flowengine import FlowClient
from flowengine._flow import Flow
from flowengine._repository import FlowRepository, dump_flow
from flowengine._snapshot import Keyring
from flowengine._step_methods import new_flow_id
from flowengine.stores import RedisStore, SQLiteStore, StoredFlow
from flowengine.testing import FakeClock

ADDED_TARGET = 250e-6
GROWTH_TARGET = 1.3
SWEEP_TARGET = 2.0
FLOOR_TARGET = 1.4

_CONFIG = make_config()


def bulk_insert(path: str, rows: list[tuple[str, int, str, float | None, float, str]]) -> None:
    """Insert ``rows`` into the store's ``flows`` table in one transaction."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.executemany(
                "INSERT INTO flows (flow_id, seq, state, expires_at, updated_at, data) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
    finally:
        conn.close()


def filler(
    n: int, data: str, state: str, expires_at: float | None, updated_at: float, spread: float = 0.0
) -> list[tuple[str, int, str, float | None, float, str]]:
    """``n`` stored-flow rows with random ids (as ``new_flow_id`` makes them)."""
    return [
        (
            new_flow_id(),
            2,
            state,
            None if expires_at is None else expires_at + i * spread,
            updated_at,
            data,
        )
        for i in range(n)
    ]


class _Contenders:
    """Builds per-round flows and the timed callables of the three-way comparison."""

    def __init__(self, workdir: Path, rounds: int, small: int, big: int) -> None:
        self.clock = FakeClock()
        self.emu = make_emulator(seed=5, clock=self.clock.time)
        self.client = FlowClient(_CONFIG, transport=self.emu.transport(), clock=self.clock.time)
        self.keyring = Keyring.generate("k1")
        verify, _, mfa_flow, _ = scenario()
        self.canned: Canned = verify
        sample = dump_flow(mfa_flow, self.keyring)
        self.snapshot_bytes = len(sample)
        at = self.clock.time()
        self.repos: list[FlowRepository] = []
        self.sizes = (small, big)
        measured = 2 * rounds + 20  # emulator-step flows, canned-step flows, warm-up
        for name, size in (("small", small), ("big", big)):
            path = str(workdir / f"{name}.db")
            store = SQLiteStore(path)
            bulk_insert(
                path, filler(max(0, size - measured), sample, "mfa_required", at + 600.0, at)
            )
            self.repos.append(FlowRepository(store, self.keyring, clock=self.clock.time))
        self._n = 0

    def close(self) -> None:
        """Close the stores and the client."""
        for repo in self.repos:
            repo.store.close()
        self.client.close()

    def started_flow(self) -> tuple[Flow, str]:
        """A new flow at ``code_sent`` (a real send through the emulator) and its code."""
        self._n += 1
        phone = phone_for(self._n)
        flow = self.client.new_flow()
        self.client.start_passwordless(flow, connection="sms", phone_number=phone)
        return flow, self.emu.last_code(phone)

    def emulator_step(self, repo: FlowRepository | None) -> Callable[[], float]:
        """One timed verify_otp, resumed from ``repo`` (or held in memory when None)."""
        client = self.client

        def run() -> float:
            flow, code = self.started_flow()
            if repo is None:
                t0 = now()
                client.verify_otp(flow, code)
                elapsed = now() - t0
                state = flow.state
            else:
                handle = repo.add(flow)
                t0 = now()
                with repo.step(handle) as resumed:
                    client.verify_otp(resumed, code)
                elapsed = now() - t0
                state = resumed.state
            if state != "mfa_required":
                raise RuntimeError(f"the stored-step flow ended in {state}")
            return elapsed

        return run

    def canned_step(self, repo: FlowRepository | None) -> Callable[[], float]:
        """One timed core verify_otp step on a canned answer, with or without the store."""
        c = self.canned
        env = dict(c.envelope)

        def run() -> float:
            env["flow_id"] = new_flow_id()
            flow = Flow.from_envelope(env)
            if repo is None:
                t0 = now()
                flow.apply(
                    flow.prepare(c.trigger, c.params, _CONFIG, c.now), c.response, _CONFIG, c.now
                )
                elapsed = now() - t0
                state = flow.state
            else:
                handle = repo.add(flow)
                t0 = now()
                with repo.step(handle) as resumed:
                    resumed.apply(
                        resumed.prepare(c.trigger, c.params, _CONFIG, c.now),
                        c.response,
                        _CONFIG,
                        c.now,
                    )
                elapsed = now() - t0
                state = resumed.state
            if state != "mfa_required":
                raise RuntimeError(f"the canned stored step ended in {state}")
            return elapsed

        return run


def _three_way(
    report: Report, what: str, samples: list[list[float]], sizes: tuple[int, int], targeted: bool
) -> None:
    none, small, big = (median(s) for s in samples)
    added = small - none
    growth = big / small
    report.add(
        Row(
            figure=f"resume from SQLite + {what} + save ({sizes[0]:,} stored)",
            measured=fmt_time(small),
            baseline=f"no store {fmt_time(none)}",
            compare=f"added {fmt_delta(added)} (ratio {small / none:.2f})",
            target=f"added <= {fmt_time(ADDED_TARGET)}" if targeted else "-",
            ok=(added <= ADDED_TARGET) if targeted else None,
        )
    )
    report.add(
        Row(
            figure=f"resume + {what} + save, {sizes[1]:,} stored",
            measured=fmt_time(big),
            baseline=f"{sizes[0]:,} stored {fmt_time(small)}",
            compare=f"ratio {growth:.3f}",
            target=f"ratio <= {GROWTH_TARGET}" if targeted else "-",
            ok=(growth <= GROWTH_TARGET) if targeted else None,
            ratio=growth,
        )
    )


def run_resume(report: Report, rounds: int, small: int, big: int) -> None:
    """The store-added and store-growth figures."""
    workdir = Path(tempfile.mkdtemp(prefix="flowengine-bench-"))
    try:
        t0 = now()
        c = _Contenders(workdir, rounds, small, big)
        report.note(
            f"stores: {small:,} and {big:,} flows of {c.snapshot_bytes:,}-byte snapshots "
            f"bulk-inserted in {now() - t0:.1f} s (SQLite, WAL, synchronous=NORMAL)"
        )
        try:
            for kind in (c.emulator_step, c.canned_step):
                runners = [kind(None), kind(c.repos[0]), kind(c.repos[1])]
                for runner in runners:  # warm-up
                    for _ in range(3):
                        runner()
                samples = interleave(runners, rounds)
                if kind == c.emulator_step:
                    _three_way(report, "one step", samples, c.sizes, targeted=True)
                else:
                    _three_way(
                        report,
                        "core step (canned answer, no I/O)",
                        samples,
                        c.sizes,
                        targeted=False,
                    )
        finally:
            c.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# ----------------------------------------------------------------------------- sweeps


def _sweep_sqlite_once(workdir: Path, flows: int, data: str) -> tuple[float, int]:
    path = workdir / f"sweep-{time.monotonic_ns()}.db"
    store = SQLiteStore(str(path))
    try:
        at = time.time()
        rows = filler(flows, data, "code_sent", at - 3600.0, at - 3600.0, spread=0.001)
        rows += filler(1000, data, "mfa_required", at + 600.0, at)
        bulk_insert(str(path), rows)
        t0 = now()
        deleted = store.sweep_expired(at)
        elapsed = now() - t0
    finally:
        store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    if deleted != flows:
        raise RuntimeError(f"the SQLite sweep deleted {deleted}, expected {flows}")
    return elapsed, deleted


def run_sweep(report: Report, flows: int, repeats: int, redis: bool) -> None:
    """Sweep ``flows`` expired flows from SQLite (and Redis, when available)."""
    _, _, mfa_flow, _ = scenario()
    data = dump_flow(mfa_flow, Keyring.generate("k1"))
    workdir = Path(tempfile.mkdtemp(prefix="flowengine-sweep-"))
    try:
        times = [_sweep_sqlite_once(workdir, flows, data)[0] for _ in range(repeats)]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    m = median(times)
    report.add(
        Row(
            figure=f"expiry sweep of {flows:,} expired flows (SQLite, 1,000 live kept)",
            measured=fmt_time(m),
            baseline="-",
            compare=f"median of {repeats}" if repeats > 1 else "1 run",
            target=f"<= {SWEEP_TARGET:.0f} s",
            ok=m <= SWEEP_TARGET,
        )
    )
    if not redis:
        return
    if shutil.which("redis-server") is None:
        report.note("redis-server not found: Redis sweep skipped")
        return
    with redis_server() as url:
        run_redis_sweep(report, url, flows, data)


@contextmanager
def redis_server() -> Iterator[str]:
    """A private ``redis-server`` on a free loopback port, stopped on exit."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10.0
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _redis_bulk(store: RedisStore, records: list[StoredFlow]) -> None:
    """Pipelined runs of the store's own create script (what ``create`` sends, batched)."""
    from flowengine.stores.redis import _num, _pexpireat

    pipe = store.client.pipeline(transaction=False)
    for i, r in enumerate(records, 1):
        expires = "" if r.expires_at is None else _num(r.expires_at)
        store._create(
            keys=[store.flow_key(r.flow_id)],
            args=[
                store.prefix,
                r.flow_id,
                r.seq,
                r.state,
                expires,
                _num(r.updated_at),
                r.data,
                _pexpireat(r.expires_at),
            ],
            client=pipe,
        )
        if i % 2000 == 0:
            pipe.execute()
    pipe.execute()


def run_redis_sweep(report: Report, url: str, flows: int, data: str) -> None:
    """Sweep present-but-expired flows, then flows Redis already evicted by TTL."""
    store = RedisStore(url)
    try:
        at = time.time()
        live = [
            StoredFlow(new_flow_id(), 2, "mfa_required", at + 10**6, at, data) for _ in range(1000)
        ]
        records = [
            StoredFlow(new_flow_id(), 1, "code_sent", at + 3600 + i * 0.001, at, data)
            for i in range(flows)
        ]
        t0 = now()
        _redis_bulk(store, records + live)
        load_time = now() - t0
        t0 = now()
        deleted = store.sweep_expired(at + 7200)  # past every deadline, before any TTL
        elapsed = now() - t0
        if deleted != flows:
            raise RuntimeError(f"the Redis sweep deleted {deleted}, expected {flows}")
        report.add(
            Row(
                figure=f"expiry sweep of {flows:,} expired flows (Redis, before their TTL fired)",
                measured=fmt_time(elapsed),
                baseline="-",
                compare=f"{deleted:,} deleted",
                target=f"<= {SWEEP_TARGET:.0f} s",
                ok=elapsed <= SWEEP_TARGET,
            )
        )
        # Flows whose deadline has passed: PEXPIREAT in the past makes Redis drop each hash
        # at once; the sweep then only cleans the index entries left behind.
        store.client.flushdb()
        past = [
            StoredFlow(new_flow_id(), 1, "code_sent", at - 60 - i * 0.001, at - 600, data)
            for i in range(flows)
        ]
        _redis_bulk(store, past + live)
        evicted = sum(1 for r in past[:100] if not store.client.exists(store.flow_key(r.flow_id)))
        t0 = now()
        deleted = store.sweep_expired(at)
        cleanup = now() - t0
        report.add(
            Row(
                figure=f"Redis sweep after TTL eviction of {flows:,} flows (index clean-up)",
                measured=fmt_time(cleanup),
                baseline="-",
                compare=f"{deleted} counted (Redis evicted them: {evicted}/100 sampled gone)",
                target=f"<= {SWEEP_TARGET:.0f} s",
                ok=cleanup <= SWEEP_TARGET,
            )
        )
        report.note(
            f"Redis: {flows + 1000:,} flows loaded with pipelined create scripts in "
            f"{load_time:.1f} s; flows carry a PEXPIREAT TTL, so Redis evicts them by itself "
            "and the sweep only has the indexes to clean"
        )
    finally:
        store.client.flushdb()
        store.close()


# ------------------------------------------------------------------ hand-written floors


class _FloorRace:
    """Library and hand-written floor on the same store, beside the same step with no store.

    Every contender runs the core ``verify_otp`` step (``flow.begin`` + ``flow.finish`` on a
    canned answer, as the drivers run it) on a fresh flow stored outside the clock: the
    library's ``with repo.step(handle) as flow:`` on a flow ``repo.add`` stored, the floor on
    a flow it stored itself (sealed by its own codec), and no store at all on a flow held in
    memory. The *added cost* of a store is its median minus the no-store median.
    """

    def __init__(self, canned: Canned) -> None:
        self.canned = canned

    def none(self) -> Callable[[], float]:
        """The step on a flow held in memory."""
        c = self.canned

        def run() -> float:
            flow = self.fresh()
            t0 = now()
            core_step(flow, c)
            elapsed = now() - t0
            _expect(flow.state, c.expect, "no store")
            return elapsed

        return run

    def fresh(self) -> Flow:
        """A new flow at ``code_sent`` (a copy of the canned envelope under a new id)."""
        env = dict(self.canned.envelope)
        env["flow_id"] = new_flow_id()
        return Flow.from_envelope(env)

    def library(self, repo: FlowRepository) -> Callable[[], float]:
        """``with repo.step(handle) as flow:`` + the step."""
        c = self.canned

        def run() -> float:
            handle = repo.add(self.fresh())
            t0 = now()
            with repo.step(handle) as flow:
                core_step(flow, c)
            elapsed = now() - t0
            _expect(flow.state, c.expect, "library")
            return elapsed

        return run

    def floor(self, floor: SQLiteFloor | RedisFloor) -> Callable[[], float]:
        """The floor's resume + step + save."""
        c = self.canned

        def run() -> float:
            flow_id = floor.add(self.fresh())
            t0 = now()
            state = floor.step(flow_id)
            elapsed = now() - t0
            _expect(state, c.expect, "floor")
            return elapsed

        return run


def _expect(state: str, expected: str, who: str) -> None:
    if state != expected:
        raise RuntimeError(f"the {who} step ended in {state}, not {expected}")


def _race(runners: list[Callable[[], float]], rounds: int) -> list[float]:
    for runner in runners:  # warm-up
        for _ in range(5):
            runner()
    return [median(s) for s in interleave(runners, rounds)]


def _floor_row(
    report: Report, figure: str, none: float, lib: float, floor: float, targeted: bool
) -> None:
    lib_added, floor_added = lib - none, floor - none
    ratio = lib_added / floor_added
    report.add(
        Row(
            figure=figure,
            measured=f"{fmt_time(lib)} (added {fmt_time(lib_added)})",
            baseline=f"floor {fmt_time(floor)} (added {fmt_time(floor_added)}); "
            f"no store {fmt_time(none)}",
            compare=f"added ratio {ratio:.2f}",
            target=f"added ratio <= {FLOOR_TARGET}" if targeted else "-",
            ok=(ratio <= FLOOR_TARGET) if targeted else None,
            ratio=ratio,
        )
    )


def run_floors(report: Report, rounds: int, stored: int, redis: bool) -> None:
    """SQLite (scrub off and the default scrub) and Redis against their hand-written floors."""
    verify, _, mfa_flow, _ = scenario()
    keyring = Keyring.generate("k1")
    sample = dump_flow(mfa_flow, keyring)
    race = _FloorRace(verify)
    at = verify.now
    workdir = Path(tempfile.mkdtemp(prefix="flowengine-floor-"))
    medians: dict[str, list[float]] = {}
    try:
        # One race per scrub setting: the default's checkpoints wait on the disk, and
        # interleaving them with the CPU-bound rounds of "off" would blur both.
        for scrub in ("off", "all"):
            path = str(workdir / f"{scrub}.db")
            store = SQLiteStore(path, scrub=scrub)
            floor = SQLiteFloor(path, keyring, verify, scrub=scrub == "all")
            try:
                bulk_insert(path, filler(stored, sample, "mfa_required", at + 600.0, at))
                repo = FlowRepository(store, keyring, clock=lambda: at)
                medians[scrub] = _race(
                    [race.none(), race.library(repo), race.floor(floor)],
                    rounds if scrub == "off" else max(10, rounds // 3),
                )
            finally:
                floor.close()
                store.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    none, lib_off, floor_off = medians["off"]
    none_all, lib_all, floor_all = medians["all"]
    _floor_row(
        report,
        f"SQLite resume + core step + save vs hand-written floor ({stored:,} stored, scrub='off')",
        none,
        lib_off,
        floor_off,
        targeted=True,
    )
    _floor_row(
        report,
        "the same with the default scrub='all' (both checkpoint the log after the save)",
        none_all,
        lib_all,
        floor_all,
        targeted=False,
    )
    if not redis:
        return
    if shutil.which("redis-server") is None:
        report.note("redis-server not found: the Redis floor row is skipped")
        return
    with redis_server() as url:
        rstore = RedisStore(url)
        try:
            records = [
                StoredFlow(new_flow_id(), 2, "mfa_required", at + 600.0, at, sample)
                for _ in range(stored)
            ]
            _redis_bulk(rstore, records)
            repo = FlowRepository(rstore, keyring, clock=lambda: at)
            rfloor = RedisFloor(rstore.client, rstore.prefix, keyring, verify)
            none, lib, flo = _race([race.none(), race.library(repo), race.floor(rfloor)], rounds)
        finally:
            rstore.client.flushdb()
            rstore.close()
    _floor_row(
        report,
        f"Redis resume + core step + save vs hand-written floor ({stored:,} stored)",
        none,
        lib,
        flo,
        targeted=True,
    )


def run(
    report: Report,
    *,
    rounds: int,
    small: int,
    big: int,
    sweep_flows: int,
    sweep_repeats: int,
    redis: bool,
) -> None:
    """All store figures."""
    run_resume(report, rounds, small, big)
    run_floors(report, rounds, small, redis)
    run_sweep(report, sweep_flows, sweep_repeats, redis)
