"""Scale: resume + step + save with 1k, 100k and 1M flows stored in PostgreSQL and in a Redis
Cluster, and 8 worker processes sharing one store; each beside a hand-written floor.

The library contender is what an application runs: ``with repo.step(handle) as flow:``
the core ``verify_otp`` step on a canned answer (``flow.begin`` + ``flow.finish``, as the
drivers do, minus the HTTP request), on a fresh flow that ``repo.add`` stored outside the
clock.  Inside the clock: the handle is checked, the row loaded and unsealed, the flow
claimed, the claim renewed with its sealed intent, the step run, the snapshot sealed and
saved with a compare-and-swap.

The floor is the least a hand-written store could do for the same step on the same
database, the same rows and the same server, written directly with psycopg / redis-py:
read the row; claim it with one conditional write judged by the server's clock; unseal,
step, seal with the same codec; write the new snapshot with a compare-and-swap that drops
the claim (PostgreSQL: three autocommit statements; Redis Cluster: ``HMGET`` and two
one-slot scripts, the save also updating the shard's ``updated`` index).  No handle, no
intent journal, no state index, no automatic sweep: the ratio is what those cost.

The stores are filled with real sealed snapshots (one ``mfa_required`` flow's, on every
row) by bulk inserts outside the clock: ``COPY`` for PostgreSQL, pipelined ``HSET`` +
``PEXPIREAT`` per flow and batched index writes per shard for the cluster.  Both servers
are private, on loopback, started and stopped here: PostgreSQL with ``fsync=off``,
``synchronous_commit=off`` (as the tests run it), the cluster as three primaries without
persistence.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench._common import make_config
from bench._core import Canned, scenario
from bench._harness import Report, Row, fmt_delta, fmt_time, interleave, median, now
from flowengine._flow import Flow
from flowengine._repository import FlowRepository, dump_flow, load_flow
from flowengine._snapshot import Keyring
from flowengine._step_methods import new_flow_id

_CONFIG = make_config()
WORKERS = 8

#: The floor's scripts (Redis Cluster): KEYS[1] the flow hash, KEYS[2] its shard's index.
_FLOOR_CLAIM = r"""
local cur = redis.call('HMGET', KEYS[1], 'seq', 'claim_token', 'claim_expires')
if cur[1] ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
if cur[2] and tonumber(cur[3]) > now then return 0 end
redis.call('HSET', KEYS[1], 'claim_token', ARGV[2], 'claim_expires', now + 30)
return 1
"""
_FLOOR_SAVE = r"""
local cur = redis.call('HMGET', KEYS[1], 'seq', 'claim_token')
if cur[1] ~= ARGV[1] or cur[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'seq', ARGV[3], 'state', ARGV[4], 'updated_at', ARGV[5],
           'data', ARGV[6])
redis.call('HDEL', KEYS[1], 'claim_token', 'claim_expires')
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[7])
return 1
"""


# ------------------------------------------------------------------ the servers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        raise RuntimeError(f"{name} not found (apt-get install postgresql)")
    return candidates[-1]


@contextmanager
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free loopback port (as the ``postgres`` user when
    root); yields the URL of an empty database."""
    import psycopg

    initdb, pg_ctl = _pg_tool("initdb"), _pg_tool("pg_ctl")
    prefix: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="flowengine-bench-pg-"))
    if os.geteuid() == 0:
        try:
            entry = pwd.getpwnam("postgres")
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                 "postgres"],
                check=True,
            )  # fmt: skip
            entry = pwd.getpwnam("postgres")
        os.chown(root, entry.pw_uid, entry.pw_gid)
        runuser = shutil.which("runuser")
        prefix = [runuser, "-u", "postgres", "--"] if runuser else ["su", "postgres", "-c"]

    def run(argv: list[str]) -> None:
        full = [*prefix, shlex.join(argv)] if prefix[:1] == ["su"] else [*prefix, *argv]
        subprocess.run(full, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    data = root / "data"
    run([initdb, "-D", str(data), "-U", "flowengine", "-A", "trust", "-E", "UTF8",
         "--locale=C", "--no-sync"])  # fmt: skip
    port = _free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 "
        "-c shared_buffers=512MB"
    )
    run([pg_ctl, "start", "-w", "-t", "60", "-D", str(data), "-l", str(root / "log"),
         "-o", options])  # fmt: skip
    url = f"postgresql://flowengine@127.0.0.1:{port}"
    try:
        with psycopg.connect(f"{url}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        yield f"{url}/bench"
    finally:
        run([pg_ctl, "stop", "-m", "immediate", "-D", str(data)])
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def redis_cluster() -> Iterator[str]:
    """A three-primary Redis Cluster on loopback (no persistence); yields its store URL."""
    from tests.stores._cluster import LocalCluster

    workdir = Path(tempfile.mkdtemp(prefix="flowengine-bench-cluster-"))
    cluster = LocalCluster(workdir)
    cluster.start()
    try:
        yield cluster.url
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


# ------------------------------------------------------------------ the backends


class Backend:
    """One database: its store URL, how to bulk-fill it and the floor's step."""

    name = ""

    def __init__(self, url: str, keyring: Keyring, canned: Canned) -> None:
        from flowengine.stores import open_store

        self.url = url
        self.keyring = keyring
        self.canned = canned
        self.store = open_store(url)
        self.repo = FlowRepository(self.store, keyring, clock=lambda: canned.now)
        self.stored = 0

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def fill(self, count: int, data: str, at: float) -> None:
        """Bulk-insert ``count`` sealed snapshots (``mfa_required``, expiring in a day)."""
        raise NotImplementedError

    def floor_step(self, flow_id: str) -> str:
        """The hand-written resume + step + save of ``flow_id``; returns the new state."""
        raise NotImplementedError

    def fresh(self) -> str:
        """A new flow at ``code_sent``, stored by the library (outside any clock); its handle."""
        env = dict(self.canned.envelope)
        env["flow_id"] = new_flow_id()
        return self.repo.add(Flow.from_envelope(env))

    def library_step(self, handle: str) -> str:
        """The application's resume + step + save; returns the new state."""
        c = self.canned
        with self.repo.step(handle) as flow:
            step = flow.begin(c.trigger, c.params, _CONFIG, c.now)
            flow.finish(step, c.response, _CONFIG, c.now)
        return flow.state

    def stepped(self, flow_id: str) -> tuple[int, str, float, float | None, str]:
        """Unseal, step and seal (the floor's in-memory part, the library's codec)."""
        raise NotImplementedError

    def _core(self, data: str) -> Flow:
        c = self.canned
        flow = load_flow(data, self.keyring, now=c.now)
        flow.apply(flow.prepare(c.trigger, c.params, _CONFIG, c.now), c.response, _CONFIG, c.now)
        return flow


class PostgresBackend(Backend):
    """PostgreSQL: the library's ``PostgresStore``; the floor is three psycopg statements."""

    name = "PostgreSQL"
    _NOW = "extract(epoch from statement_timestamp())"

    def __init__(self, url: str, keyring: Keyring, canned: Canned) -> None:
        import psycopg

        super().__init__(url, keyring, canned)
        self.conn = psycopg.connect(url, autocommit=True)

    def close(self) -> None:
        """Close the floor's connection and the store."""
        self.conn.close()
        super().close()

    def fill(self, count: int, data: str, at: float) -> None:
        """One ``COPY`` of ``count`` rows, then ``VACUUM (ANALYZE)`` and a checkpoint."""
        with (
            self.conn.cursor() as cur,
            cur.copy(
                "COPY flowengine_flows (flow_id, seq, state, expires_at, updated_at, data) "
                "FROM STDIN"
            ) as copy,
        ):
            for _ in range(count):
                copy.write_row((new_flow_id(), 2, "mfa_required", at + 86400, at, data))
        # Settle the table before timing: the first VACUUM of freshly copied rows (hint
        # bits, the visibility map) would otherwise land inside some round of either side.
        self.conn.execute("VACUUM (ANALYZE) flowengine_flows")
        self.conn.execute("CHECKPOINT")
        self.stored += count

    def floor_step(self, flow_id: str) -> str:
        """SELECT; a conditional UPDATE claims; unseal, step, seal; a CAS UPDATE saves."""
        conn, token = self.conn, uuid.uuid4().hex
        row = conn.execute(
            "SELECT seq, data FROM flowengine_flows WHERE flow_id = %s", (flow_id,)
        ).fetchone()
        assert row is not None
        seq = int(row[0])
        got = conn.execute(
            f"UPDATE flowengine_flows SET claim_token = %s, claim_expires = {self._NOW} + 30 "
            f"WHERE flow_id = %s AND seq = %s AND (claim_token IS NULL OR claim_expires <= "
            f"{self._NOW})",
            (token, flow_id, seq),
        )
        if got.rowcount != 1:
            raise RuntimeError("the floor's claim failed")
        flow = self._core(row[1])
        data = dump_flow(flow, self.keyring)
        got = conn.execute(
            "UPDATE flowengine_flows SET seq = %s, state = %s, updated_at = %s, expires_at = %s, "
            "data = %s, claim_token = NULL, claim_expires = NULL "
            "WHERE flow_id = %s AND seq = %s AND claim_token = %s",
            (seq + 1, flow.state, self.canned.now, flow.expires_at, data, flow_id, seq, token),
        )
        if got.rowcount != 1:
            raise RuntimeError("the floor's save failed")
        return flow.state


class ClusterBackend(Backend):
    """Redis Cluster: the library's ``RedisClusterStore``; the floor is HMGET + two scripts."""

    name = "Redis Cluster"

    def __init__(self, url: str, keyring: Keyring, canned: Canned) -> None:
        super().__init__(url, keyring, canned)
        client = self.store.client  # type: ignore[attr-defined]
        self.client = client
        self.floor_claim = client.register_script(_FLOOR_CLAIM)
        self.floor_save = client.register_script(_FLOOR_SAVE)

    def fill(self, count: int, data: str, at: float) -> None:
        """Per primary, pipelined ``HSET`` + ``PEXPIREAT`` per flow and batched index writes."""
        from flowengine.stores.redis_cluster import SHARDS, shard_of

        store: Any = self.store
        nodes: dict[str, Any] = {}
        pipes: dict[str, Any] = {}
        for shard in range(SHARDS):
            node = self.client.get_node_from_key(store.index_keys(shard)[0])
            nodes[str(shard)] = node
            if node.name not in pipes:
                pipes[node.name] = node.redis_connection.pipeline(transaction=False)
        expires = at + 86400
        pexpireat = int(expires * 1000) + 1
        pending: dict[int, list[str]] = {s: [] for s in range(SHARDS)}

        def flush_indexes(shard: int) -> None:
            ids = pending[shard]
            if not ids:
                return
            pipe = pipes[nodes[str(shard)].name]
            updated, expiry, states = store.index_keys(shard)
            pipe.zadd(updated, dict.fromkeys(ids, at))
            pipe.zadd(expiry, dict.fromkeys(ids, expires))
            pipe.zadd(store.state_key(shard, "mfa_required"), dict.fromkeys(ids, at))
            pipe.hset(states, mapping=dict.fromkeys(ids, "mfa_required"))
            pending[shard] = []

        for queued in range(1, count + 1):
            fid = new_flow_id()
            shard = shard_of(fid)
            key = store.flow_key(fid)
            pipe = pipes[nodes[str(shard)].name]
            pipe.execute_command(
                "HSET", key, "seq", 2, "state", "mfa_required", "updated_at", repr(at),
                "expires_at", repr(expires), "data", data,
            )  # fmt: skip
            pipe.execute_command("PEXPIREAT", key, pexpireat)
            pending[shard].append(fid)
            if len(pending[shard]) >= 1000:
                flush_indexes(shard)
            if queued % 20000 == 0:
                for p in pipes.values():
                    p.execute()
        for shard in range(SHARDS):
            flush_indexes(shard)
        for p in pipes.values():
            p.execute()
        self.stored += count

    def floor_step(self, flow_id: str) -> str:
        """HMGET; a claim script; unseal, step, seal; a CAS save script (+ the shard index)."""
        from flowengine.stores.redis_cluster import shard_of

        store: Any = self.store
        key = store.flow_key(flow_id)
        token = uuid.uuid4().hex
        seq_raw, data = self.client.hmget(key, ["seq", "data"])
        seq = int(seq_raw)
        if self.floor_claim(keys=[key], args=[seq, token]) != 1:
            raise RuntimeError("the floor's claim failed")
        flow = self._core(data.decode())
        sealed = dump_flow(flow, self.keyring)
        index = store.index_keys(shard_of(flow_id))[0]
        done = self.floor_save(
            keys=[key, index],
            args=[seq, token, seq + 1, flow.state, repr(self.canned.now), sealed, flow_id],
        )
        if done != 1:
            raise RuntimeError("the floor's save failed")
        return flow.state


# ------------------------------------------------------------------ latency


def _latency(report: Report, b: Backend, rounds: int, base: dict[str, float]) -> None:
    """Library and floor interleaved at the backend's current size; one row."""
    expect = b.canned.expect

    def library() -> float:
        handle = b.fresh()
        t0 = now()
        state = b.library_step(handle)
        elapsed = now() - t0
        if state != expect:
            raise RuntimeError(f"the library's step ended in {state}")
        return elapsed

    def floor() -> float:
        handle = b.fresh()
        fid = b.repo.view(handle).flow_id
        t0 = now()
        state = b.floor_step(fid)
        elapsed = now() - t0
        if state != expect:
            raise RuntimeError(f"the floor's step ended in {state}")
        return elapsed

    for runner in (library, floor):  # warm-up
        for _ in range(5):
            runner()
    lib, flo = (median(s) for s in interleave([library, floor], rounds))
    growth = ""
    if "lib" in base:
        growth = f"; library x{lib / base['lib']:.2f}, floor x{flo / base['floor']:.2f} vs 1k"
    else:
        base.update(lib=lib, floor=flo)
    report.add(
        Row(
            figure=f"resume + step + save, {b.name}, {b.stored:,} stored",
            measured=fmt_time(lib),
            baseline=f"hand-written floor {fmt_time(flo)}",
            compare=f"ratio {lib / flo:.2f} (added {fmt_delta(lib - flo)}){growth}",
            target="-",
            ok=None,
        )
    )


# ------------------------------------------------------------------ throughput


def _worker(
    kind: str,
    url: str,
    contender: str,
    seconds: float,
    flows: int,
    barrier: Any,
    queue: Any,
) -> None:
    """One of the worker processes: its own store and connections, its own fresh flows."""
    try:
        keyring = Keyring.generate("k1")
        verify, _, _, _ = scenario()
        backend: Backend = (PostgresBackend if kind == "postgres" else ClusterBackend)(
            url, keyring, verify
        )
        try:
            handles = [backend.fresh() for _ in range(flows)]
            ids = [backend.repo.view(h).flow_id for h in handles] if contender == "floor" else []
            barrier.wait()
            done = 0
            t0 = time.perf_counter()
            deadline = t0 + seconds
            while done < flows and time.perf_counter() < deadline:
                if contender == "library":
                    backend.library_step(handles[done])
                else:
                    backend.floor_step(ids[done])
                done += 1
            queue.put((done, time.perf_counter() - t0, None))
        finally:
            backend.close()
    except BaseException as exc:
        barrier.abort()
        queue.put((0, 0.0, f"{type(exc).__name__}: {exc}"))


def _throughput_once(kind: str, url: str, contender: str, seconds: float, flows: int) -> float:
    """Steps per second of ``WORKERS`` processes stepping their own flows on one store."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(WORKERS, timeout=600)
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(kind, url, contender, seconds, flows, barrier, queue))
        for _ in range(WORKERS)
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=900) for _ in procs]
    for p in procs:
        p.join(60)
    errors = [r[2] for r in results if r[2]]
    if errors:
        raise RuntimeError(f"throughput workers failed: {errors}")
    return sum(done / elapsed for done, elapsed, _ in results if elapsed > 0)


def _throughput(report: Report, kind: str, b: Backend, seconds: float, flows: int) -> None:
    order = ["library", "floor", "floor", "library"] if seconds >= 2 else ["library", "floor"]
    rates: dict[str, list[float]] = {"library": [], "floor": []}
    for contender in order:
        rates[contender].append(_throughput_once(kind, b.url, contender, seconds, flows))
    lib, flo = median(rates["library"]), median(rates["floor"])
    report.add(
        Row(
            figure=f"{WORKERS} worker processes sharing one {b.name} store "
            f"({b.stored:,}+ stored): resume + step + save",
            measured=f"{lib:,.0f} steps/s",
            baseline=f"hand-written floor {flo:,.0f} steps/s",
            compare=f"ratio {lib / flo:.2f}",
            target="-",
            ok=None,
        )
    )


# ------------------------------------------------------------------ the section


def run(
    report: Report,
    *,
    sizes: tuple[int, ...],
    rounds: int,
    seconds: float,
    flows_per_worker: int,
) -> None:
    """Both databases: latency at each size (filled in steps), then the 8-process figure."""
    verify, _, mfa_flow, _ = scenario()
    keyring = Keyring.generate("k1")
    sample = dump_flow(mfa_flow, keyring)
    servers: list[tuple[str, Callable[[], Any], type[Backend]]] = [
        ("postgres", postgres_server, PostgresBackend),
        ("cluster", redis_cluster, ClusterBackend),
    ]
    for kind, server, cls in servers:
        try:
            context = server()
            url = context.__enter__()
        except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
            report.note(f"{cls.name}: server not started ({type(exc).__name__}): rows skipped")
            continue
        try:
            backend = cls(url, keyring, verify)
            try:
                base: dict[str, float] = {}
                fills: list[str] = []
                for size in sizes:
                    # the measured rounds add flows too: fill up to the size, less those
                    missing = max(0, size - backend.stored - (2 * rounds + 10))
                    t0 = now()
                    backend.fill(missing, sample, time.time())
                    took = now() - t0
                    backend.stored += 2 * rounds + 10
                    fills.append(f"{missing:,} in {took:.1f} s")
                    _latency(report, backend, rounds, base)
                _throughput(report, kind, backend, seconds, flows_per_worker)
                how = (
                    "COPY, then VACUUM (ANALYZE) and CHECKPOINT, counted in the time"
                    if kind == "postgres"
                    else "pipelined HSET + PEXPIREAT per flow, batched index writes"
                )
                report.note(
                    f"{cls.name}: bulk fills of {len(sample):,}-byte sealed snapshots ({how}): "
                    + ", ".join(fills)
                )
            finally:
                backend.close()
        finally:
            context.__exit__(None, None, None)
