"""Import cost: ``import flowengine`` against ``import httpx``, each in a fresh interpreter.

Every sample is one child process (``python -c "import flowengine"``, ``python -c "import
httpx"``, ``python -c "pass"``) spawned and reaped here; its cost is the child's own CPU
time (user + system, from ``os.wait4``), so a neighbour that preempts it does not count.
The contenders run interleaved, ABBA..., and the interpreter's start (``python -c pass``,
in the same round) is subtracted from each: the ratio that matters is the one of the
*import costs*, ``median(t_flowengine - t_bare) / median(t_httpx - t_bare)`` over the
rounds. The ratio of the whole processes (start included) is reported as well.

The children share a private bytecode cache (``PYTHONPYCACHEPREFIX``, a temporary
directory warmed by untimed runs), with ``PYTHONDONTWRITEBYTECODE`` removed from their
environment: a source checkout would otherwise be compiled at every import while httpx
loads the ``.pyc`` files of site-packages. ``PYTHONPATH`` is the repository root, so the
checkout's ``flowengine`` is the one imported.

``python -X importtime`` then lists what ``import flowengine`` loads beyond ``import
httpx`` (median self time per module over a few runs, summed per top-level package).
"""

from __future__ import annotations

import functools
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench._harness import Report, Row, fmt_time, interleave, median

ROOT = Path(__file__).resolve().parent.parent
IMPORT_TARGET = 1.3

BARE = "pass"
HTTPX = "import httpx"
FLOWENGINE = "import flowengine"
#: Every public name touched: what an application using the whole surface pays.
SURFACE = "import flowengine\nfor n in flowengine.__all__: getattr(flowengine, n)"

_IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")


def child_env(cache: str) -> dict[str, str]:
    """The children's environment: the checkout first, a shared private bytecode cache."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME", "PYTHONSTARTUP")
    }
    env["PYTHONPYCACHEPREFIX"] = cache
    env["PYTHONPATH"] = str(ROOT)
    return env


def spawn(code: str, env: Mapping[str, str], *options: str) -> tuple[float, float]:
    """Run ``python [options] -c code``; its (CPU seconds, wall seconds)."""
    argv = [sys.executable, *options, "-c", code]
    t0 = time.perf_counter()
    pid = os.posix_spawn(sys.executable, argv, env)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"python -c {code!r} failed (status {status})")
    return usage.ru_utime + usage.ru_stime, wall


def importtime(code: str, env: Mapping[str, str], out: Path) -> dict[str, int]:
    """Self time in microseconds of every module ``code`` imports (``-X importtime``)."""
    argv = [sys.executable, "-X", "importtime", "-c", code]
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        actions = [(os.POSIX_SPAWN_DUP2, fd, 2)]
        pid = os.posix_spawn(sys.executable, argv, env, file_actions=actions)
    finally:
        os.close(fd)
    _, status, _ = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"python -X importtime -c {code!r} failed")
    selfs: dict[str, int] = {}
    for line in out.read_text().splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            selfs[match.group(4)] = int(match.group(1))
    return selfs


def median_selfs(runs: Sequence[Mapping[str, int]]) -> dict[str, float]:
    """Per module, the median self time over the runs that imported it."""
    names = set().union(*runs)
    return {n: float(statistics.median([r[n] for r in runs if n in r])) for n in names}


def beyond(lib: Mapping[str, float], base: Mapping[str, float]) -> list[tuple[str, float, int]]:
    """Modules ``lib`` imports and ``base`` does not: (top package, ms, modules), largest first."""
    groups: dict[str, list[float]] = {}
    for name, us in lib.items():
        if name not in base:
            groups.setdefault(name.split(".")[0], []).append(us)
    rows = [(top, sum(v) / 1000, len(v)) for top, v in groups.items()]
    return sorted(rows, key=lambda r: -r[1])


def own_modules(lib: Mapping[str, float]) -> list[tuple[str, float]]:
    """flowengine's own modules with their median self time in ms, largest first."""
    rows = [(n, us / 1000) for n, us in lib.items() if n.split(".")[0] == "flowengine"]
    return sorted(rows, key=lambda r: -r[1])


def _paired(samples: list[float], bare: list[float]) -> float:
    """The median over rounds of (this contender - the bare interpreter of the same round)."""
    return median([a - b for a, b in zip(samples, bare, strict=True)])


def run(report: Report, rounds: int, importtime_runs: int) -> None:
    """The import figures and the importtime listing."""
    with tempfile.TemporaryDirectory(prefix="flowengine-bench-pyc-") as cache:
        env = child_env(cache)
        codes = (BARE, HTTPX, FLOWENGINE, SURFACE)
        for code in codes:  # writes the bytecode cache; first runs also warm the page cache
            for _ in range(2):
                spawn(code, env)
        walls: dict[str, list[float]] = {code: [] for code in codes}

        def contender(code: str) -> float:
            cpu, wall = spawn(code, env)
            walls[code].append(wall)
            return cpu

        cpu = dict(
            zip(
                codes,
                interleave([functools.partial(contender, c) for c in codes], rounds),
                strict=True,
            )
        )
        lib = _paired(cpu[FLOWENGINE], cpu[BARE])
        base = _paired(cpu[HTTPX], cpu[BARE])
        ratio = lib / base
        report.add(
            Row(
                figure="`import flowengine`: import cost (child CPU, `python -c pass` subtracted)",
                measured=fmt_time(lib),
                baseline=f"`import httpx` {fmt_time(base)}",
                compare=f"{ratio:.2f}x",
                target=f"<= {IMPORT_TARGET}x",
                ok=ratio <= IMPORT_TARGET,
                ratio=ratio,
                note=f"{rounds} interleaved rounds",
            )
        )
        whole = median(cpu[FLOWENGINE]) / median(cpu[HTTPX])
        report.add(
            Row(
                figure="`python -c 'import flowengine'`: whole process, start included (CPU)",
                measured=fmt_time(median(cpu[FLOWENGINE])),
                baseline=f"`import httpx` {fmt_time(median(cpu[HTTPX]))}",
                compare=f"{whole:.2f}x",
                target="-",
                ok=None,
            )
        )
        wlib = _paired(walls[FLOWENGINE], walls[BARE])
        wbase = _paired(walls[HTTPX], walls[BARE])
        report.add(
            Row(
                figure="`import flowengine`: import cost, wall clock",
                measured=fmt_time(wlib),
                baseline=f"`import httpx` {fmt_time(wbase)}",
                compare=f"{wlib / wbase:.2f}x",
                target="-",
                ok=None,
            )
        )
        surface = _paired(cpu[SURFACE], cpu[BARE])
        report.add(
            Row(
                figure="`import flowengine` + every public name (lazy ones loaded)",
                measured=fmt_time(surface),
                baseline=f"`import httpx` {fmt_time(base)}",
                compare=f"{surface / base:.2f}x",
                target="-",
                ok=None,
            )
        )
        report.add(
            Row(
                figure="`python -c pass` (the interpreter's start, subtracted above)",
                measured=fmt_time(median(cpu[BARE])),
                baseline="-",
                compare="-",
                target="-",
                ok=None,
            )
        )
        _report_importtime(report, env, Path(cache), importtime_runs)


def _report_importtime(report: Report, env: Mapping[str, str], cache: Path, runs: int) -> None:
    lib_runs: list[dict[str, int]] = []
    base_runs: list[dict[str, int]] = []
    out = cache / "importtime.txt"
    for _ in range(runs):
        lib_runs.append(importtime(FLOWENGINE, env, out))
        base_runs.append(importtime(HTTPX, env, out))
    lib, base = median_selfs(lib_runs), median_selfs(base_runs)
    extra = beyond(lib, base)
    total = sum(ms for _, ms, _ in extra)
    listed = ", ".join(f"{top} {ms:.1f} ms ({n})" for top, ms, n in extra[:12])
    report.note(
        f"python -X importtime: `import flowengine` loads {sum(n for *_, n in extra)} modules "
        f"beyond `import httpx`, {total:.1f} ms of self time (median of {runs} runs, "
        f"importtime's own overhead included), by top package (modules): {listed}"
    )
    own = ", ".join(f"{name} {ms:.1f}" for name, ms in own_modules(lib)[:8])
    report.note(f"importtime, flowengine's own modules (ms self): {own}")
    if "click" in base or "rich" in base:
        report.note(
            "`import httpx` here includes its command line (httpx imports click, rich and "
            "pygments when they are installed), as it does for any application on this "
            "environment"
        )
