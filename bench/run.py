"""The benchmark entry point: ``python -m bench [--quick] [--only SECTION ...]``.

Runs every section, prints a plain-text table of medians and ratios, and writes the same
table as Markdown to ``bench/results/latest.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # ``python bench/run.py``: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import attrs

from bench import _harness, _regress
from bench._harness import Report

SECTIONS = ("seed", "core", "stores", "loopback", "memory", "imports", "scale")
RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"


@attrs.frozen
class Plan:
    """How much work each section does (``--quick`` shrinks everything)."""

    seed_rounds: int
    core_iterations: int
    store_rounds: int
    big_store: int
    small_store: int
    sweep_flows: int
    sweep_repeats: int
    loopback_flows: int
    loopback_rounds: int
    pool_flows: int
    pool_rounds: int
    sdk_rounds: int
    idle_flows: int
    scale_sizes: tuple[int, ...]
    scale_rounds: int
    scale_seconds: float
    scale_flows: int
    import_rounds: int
    importtime_runs: int


FULL = Plan(
    seed_rounds=300,
    core_iterations=5000,
    store_rounds=300,
    big_store=100_000,
    small_store=1_000,
    sweep_flows=100_000,
    sweep_repeats=3,
    loopback_flows=1000,
    loopback_rounds=4,
    pool_flows=200,
    pool_rounds=4,
    sdk_rounds=200,
    idle_flows=10_000,
    scale_sizes=(1_000, 100_000, 1_000_000),
    scale_rounds=200,
    scale_seconds=4.0,
    scale_flows=1500,
    import_rounds=40,
    importtime_runs=7,
)
QUICK = Plan(
    seed_rounds=40,
    core_iterations=1000,
    store_rounds=60,
    big_store=10_000,
    small_store=1_000,
    sweep_flows=10_000,
    sweep_repeats=1,
    loopback_flows=100,
    loopback_rounds=2,
    pool_flows=50,
    pool_rounds=2,
    sdk_rounds=16,
    idle_flows=2_000,
    scale_sizes=(1_000,),
    scale_rounds=20,
    scale_seconds=0.5,
    scale_flows=60,
    import_rounds=8,
    importtime_runs=2,
)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run (< 30 s): fewer rounds, smaller stores"
    )
    parser.add_argument(
        "--only", nargs="+", choices=SECTIONS, metavar="SECTION",
        help=f"run only these sections ({', '.join(SECTIONS)})",
    )  # fmt: skip
    parser.add_argument(
        "--no-redis", action="store_true", help="skip the Redis sweep even if redis-server exists"
    )
    parser.add_argument(
        "--stock-pool",
        action="store_true",
        help="loopback figure through httpx's own connection pool (slow: encode/httpcore#822)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a target is missed"
    )
    parser.add_argument(
        "--against-readme",
        action="store_true",
        help="CI: fail when a ratio is more than 50 %% above the README's on two runs in a row",
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help=f"where to write the Markdown ({RESULTS})"
    )
    return parser.parse_args(argv)


def _sections(args: argparse.Namespace, plan: Plan) -> list[tuple[str, Callable[[Report], None]]]:
    from bench import _core, _imports, _loopback, _scale, _seed, _stores

    table: dict[str, Callable[[Report], None]] = {
        "seed": lambda r: _seed.run(r, plan.seed_rounds),
        "core": lambda r: _core.run(r, plan.core_iterations),
        "stores": lambda r: _stores.run(
            r,
            rounds=plan.store_rounds,
            small=plan.small_store,
            big=plan.big_store,
            sweep_flows=plan.sweep_flows,
            sweep_repeats=plan.sweep_repeats,
            redis=not args.no_redis,
        ),
        "loopback": lambda r: _loopback.run(
            r,
            flows=plan.loopback_flows,
            rounds=plan.loopback_rounds,
            stock_pool=args.stock_pool,
            pool_flows=plan.pool_flows,
            pool_rounds=plan.pool_rounds,
            sdk_rounds=plan.sdk_rounds,
        ),
        "memory": lambda r: _core.run_memory(r, plan.idle_flows),
        "imports": lambda r: _imports.run(r, plan.import_rounds, plan.importtime_runs),
        "scale": lambda r: _scale.run(
            r,
            sizes=plan.scale_sizes,
            rounds=plan.scale_rounds,
            seconds=plan.scale_seconds,
            flows_per_worker=plan.scale_flows,
        ),
    }
    chosen = args.only or list(SECTIONS)
    return [(name, table[name]) for name in SECTIONS if name in chosen]


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections, print the table, write the Markdown.

    The exit status is 0 unless a section fails (an exception), or ``--strict`` is given
    and a target is missed: timing verdicts on a shared machine should not break CI.
    """
    args = _parse(argv)
    plan = QUICK if args.quick else FULL
    _harness.configure_logging()
    report = Report()
    load_before = os.getloadavg()
    started = time.perf_counter()
    sections = _sections(args, plan)
    section_of: dict[str, str] = {}  # figure -> the section that measured it
    for name, section in sections:
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        first = len(report.rows)
        section(report)
        section_of.update((row.figure, name) for row in report.rows[first:])
        print(f"   ({time.perf_counter() - t0:.1f} s)", flush=True)
    regressed: list[_regress.Regression] = []
    if args.against_readme:
        regressed = _against_readme(report, sections, section_of)
    wall = time.perf_counter() - started
    load_after = os.getloadavg()
    report.note(
        "clocks: the in-process figures (seed with the emulator in process, core step, codec) "
        "are this thread's CPU time (time.thread_time, its own ~1 us cost subtracted from "
        "the microsecond figures); stores, sweeps and loopback are wall time"
    )
    report.note(
        "machine load average (1 min) before / after the run: "
        f"{load_before[0]:.2f} / {load_after[0]:.2f} on {os.cpu_count()} CPUs: absolute "
        "figures move with it, ratios far less (their two sides run interleaved)"
    )
    mode = "quick (smoke run, smaller sizes: not the issue's figures)" if args.quick else "full"
    header = [
        "# flowengine benchmark",
        "",
        f"- command: `python -m bench{' --quick' if args.quick else ''}`",
        f"- mode: {mode}",
        f"- wall time: {wall:.1f} s",
        f"- machine: {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "- medians of interleaved (ABBA) rounds; ratio = median(library) / median(baseline)",
    ]
    print()
    print(_harness.render_text(report))
    for note in report.notes:
        print(f"- {note}")
    print(f"\ntotal wall time: {wall:.1f} s")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(_harness.render_markdown(report, header), encoding="utf-8")
    print(f"written: {args.output}")
    missed = [row.figure for row in report.rows if row.ok is False]
    if missed:
        print("MISSED: " + "; ".join(missed))
    if regressed:
        print("REGRESSED on two runs in a row (more than 50 % above the README's ratio):")
        for r in regressed:
            print(f"  {r}")
        return 1
    return 1 if missed and args.strict else 0


def _against_readme(
    report: Report,
    sections: list[tuple[str, Callable[[Report], None]]],
    section_of: dict[str, str],
) -> list[_regress.Regression]:
    """Compare with the README; rerun the regressed sections once; what regressed twice."""
    published = _regress.readme_ratios(_regress.README.read_text(encoding="utf-8"))
    checked = _regress.compared(report.rows, published)
    first = _regress.regressions(report.rows, published)
    print(
        f"\nagainst the README: {len(checked)} ratios compared, {len(first)} more than "
        f"{_regress.TOLERANCE:.0%} above it"
    )
    if not first:
        return []
    for r in first:
        print(f"  {r}: running its section again")
    again = Report()
    wanted = {section_of[r.figure] for r in first}
    for name, section in sections:
        if name in wanted:
            print(f"== {name} (rerun)", flush=True)
            section(again)
    twice = {r.figure for r in _regress.regressions(again.rows, published)}
    report.note(
        f"against the README: {len(checked)} ratios compared; {len(first)} above the "
        f"tolerance on the first run, {len(twice)} again on the rerun"
    )
    return [r for r in first if r.figure in twice]


if __name__ == "__main__":
    raise SystemExit(main())
