"""A throwaway Redis Cluster of three primaries on loopback ports, for the tests and the bench.

Three ``redis-server --cluster-enabled yes`` processes, each with its own
directory (its ``nodes.conf`` and, with ``persistent=True``, an append-only file
fsynced on every write), joined with ``redis-cli --cluster create ...
--cluster-replicas 0``.  :meth:`LocalCluster.restart` stops one primary and starts
it again on the same port and directory: it comes back with the same node id and
slots (from ``nodes.conf``) and, when persistent, with its data.
"""

from __future__ import annotations

import random
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

__all__ = ["ClusterStartError", "LocalCluster"]

PRIMARIES = 3


class ClusterStartError(RuntimeError):
    """The cluster could not be started (the message ends with a server log's tail)."""


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_ports(count: int) -> list[int]:
    """Ports whose cluster bus port (port + 10000) is free too, below 55536 as Redis requires."""
    rng = random.Random()
    ports: list[int] = []
    while len(ports) < count:
        port = rng.randrange(20000, 45000)
        if port not in ports and _bindable(port) and _bindable(port + 10000):
            ports.append(port)
    return ports


class LocalCluster:
    """Three primaries on 127.0.0.1 joined into one cluster; :meth:`stop` ends them."""

    def __init__(self, workdir: Path, *, persistent: bool = False) -> None:
        server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
        if server is None or cli is None:
            raise ClusterStartError(
                "redis-server and redis-cli must be on PATH (Debian: apt-get install redis-server)"
            )
        self.server, self.cli = server, cli
        self.workdir = workdir
        self.persistent = persistent
        self.ports: list[int] = []
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        """The store URL naming every primary."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.ports)

    def _dir(self, port: int) -> Path:
        path = self.workdir / f"node-{port}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _launch(self, port: int) -> None:
        where = self._dir(port)
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if self.persistent
            else ["--appendonly", "no"]
        )
        with (where / "redis.log").open("ab") as log:
            self.procs[port] = subprocess.Popen(
                [self.server, "--port", str(port), "--bind", "127.0.0.1",
                 "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                 "--cluster-node-timeout", "2000", "--save", "", *persistence,
                 "--dir", str(where), "--protected-mode", "yes"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip

    def _cli(self, port: int, *args: str, timeout: float = 10.0) -> str:
        done = subprocess.run(
            [self.cli, "-h", "127.0.0.1", "-p", str(port), *args],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        return done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")

    def _wait_ping(self, port: int, deadline: float) -> None:
        while time.monotonic() < deadline:
            proc = self.procs.get(port)
            if proc is not None and proc.poll() is not None:
                break
            if "PONG" in self._cli(port, "ping", timeout=2.0):
                return
            time.sleep(0.05)
        raise ClusterStartError(f"redis-server on port {port} did not answer{self._tail(port)}")

    def _tail(self, port: int) -> str:
        log = self._dir(port) / "redis.log"
        text = log.read_text(errors="replace")[-1500:] if log.exists() else "(no log)"
        return f"; its log ends with:\n{text}"

    def wait_ok(self, timeout: float = 30.0) -> None:
        """Wait until every primary reports ``cluster_state:ok``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all("cluster_state:ok" in self._cli(p, "cluster", "info") for p in self.ports):
                return
            time.sleep(0.1)
        tail = self._tail(self.ports[0])
        raise ClusterStartError(f"the cluster did not reach cluster_state:ok{tail}")

    def start(self) -> None:
        """Start three primaries, join them, wait for ``cluster_state:ok``."""
        self.ports = _free_ports(PRIMARIES)
        for port in self.ports:
            self._launch(port)
        deadline = time.monotonic() + 15
        for port in self.ports:
            self._wait_ping(port, deadline)
        out = subprocess.run(
            [self.cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports),
             "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True,
            timeout=60,
            check=False,
        )  # fmt: skip
        if out.returncode != 0:
            text = (out.stdout + out.stderr).decode(errors="replace")[-1500:]
            self.stop()
            raise ClusterStartError(f"redis-cli --cluster create failed:\n{text}")
        try:
            self.wait_ok()
        except ClusterStartError:
            self.stop()
            raise

    def flush(self) -> None:
        """Empty every primary (``FLUSHALL``)."""
        for port in self.ports:
            self._cli(port, "flushall")

    def primary_of(self, key: str) -> int:
        """The port of the primary that serves ``key``'s slot."""
        slot = int(self._cli(self.ports[0], "cluster", "keyslot", key).strip())
        for line in self._cli(self.ports[0], "cluster", "nodes").splitlines():
            fields = line.split()
            if len(fields) < 9 or "master" not in fields[2]:
                continue
            port = int(fields[1].split("@")[0].rsplit(":", 1)[1])
            for span in fields[8:]:
                lo, _, hi = span.partition("-")
                if lo.isdigit() and int(lo) <= slot <= int(hi or lo):
                    return port
        raise ClusterStartError(f"no primary serves slot {slot}")

    def kill(self, port: int, how: str = "crash") -> None:
        """Stop one primary: ``crash`` (SIGKILL) or ``shutdown`` (``SHUTDOWN NOSAVE``)."""
        proc = self.procs.pop(port, None)
        if proc is None or proc.poll() is not None:
            return
        if how == "crash":
            proc.send_signal(signal.SIGKILL)
        else:
            self._cli(port, "shutdown", "nosave")
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    def revive(self, port: int) -> None:
        """Start a stopped primary again on its port and directory; wait for the cluster."""
        self._launch(port)
        self._wait_ping(port, time.monotonic() + 15)
        self.wait_ok()

    def restart(self, port: int, how: str = "crash") -> None:
        """Stop one primary and start it again (same node id, slots and, if persistent, data)."""
        self.kill(port, how)
        self.revive(port)

    def stop(self) -> None:
        """Stop every primary (the fixture's end)."""
        for port, proc in list(self.procs.items()):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
            del self.procs[port]
