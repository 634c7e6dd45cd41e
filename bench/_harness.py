"""Shared plumbing: logging set-up, interleaved timing, statistics and the result table.

Timing rules
------------
* Contenders are run interleaved, ABBA... (the order flips every round so that neither
  side always runs "second", warm, after the other), and each call returns the duration
  of its own timed region: set-up and tear-down are outside the clock.
* Figures are medians; a ratio is ``median(library) / median(baseline)`` measured in the
  same run, so machine noise hits both sides alike.
* The garbage collector stays enabled (allocation-heavy code pays for its collections),
  but a full collection runs before every figure.
* Figures that run entirely in this thread (the in-process seed, the core step, the codec)
  are timed with the thread's CPU clock (``time.thread_time``): on a shared machine a
  neighbour that preempts us for a few microseconds doubles a wall-clock median of a 25 us
  step, but not its CPU time. The clock's own cost (two reads, ~1 us) is measured once and
  subtracted from microsecond figures. Figures that wait on files, sockets or other
  processes (SQLite, Redis, loopback HTTP) use the wall clock (``time.perf_counter``).
"""

from __future__ import annotations

import gc
import logging
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import TextIO

import attrs
import structlog

_NULL_SINK: TextIO | None = None
_HANDLER: list[logging.Handler | None] = [None]  # ours on "flowengine", swapped on reconfigure


def configure_logging(level: int = logging.INFO) -> None:
    """Configure logging as a real application would: every INFO event as a JSON line.

    The library logs to the stdlib logger ``flowengine``: structlog is configured for
    stdlib (``ProcessorFormatter.wrap_for_formatter`` last), and a handler on that logger
    renders each event with ``ProcessorFormatter`` + ``JSONRenderer`` into ``/dev/null``.
    DEBUG events are filtered out by the logger's level, as in production. ``level``
    raises the bar (the harness uses WARNING once to show what the logging itself costs).
    """
    global _NULL_SINK
    if _NULL_SINK is None:
        _NULL_SINK = open(os.devnull, "w")  # noqa: SIM115 - kept open for the whole run
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(_NULL_SINK)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ]
        )
    )
    logger = logging.getLogger("flowengine")
    if _HANDLER[0] is not None:
        logger.removeHandler(_HANDLER[0])
    _HANDLER[0] = handler
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def unconfigure_logging() -> None:
    """Undo ``configure_logging``: logging and structlog as an application that set up
    nothing leaves them (the ``flowengine`` logger with its NullHandler, level unset, so
    INFO is below the root's WARNING)."""
    logger = logging.getLogger("flowengine")
    if _HANDLER[0] is not None:
        logger.removeHandler(_HANDLER[0])
        _HANDLER[0] = None
    logger.setLevel(logging.NOTSET)
    logger.propagate = True
    structlog.reset_defaults()


def interleave(contenders: Sequence[Callable[[], float]], rounds: int) -> list[list[float]]:
    """Run every contender once per round, ABBA..., and collect the durations they return."""
    samples: list[list[float]] = [[] for _ in contenders]
    order = list(range(len(contenders)))
    gc.collect()
    for r in range(rounds):
        for i in order if r % 2 == 0 else reversed(order):
            samples[i].append(contenders[i]())
    return samples


def median(values: Sequence[float]) -> float:
    """The median of ``values`` (which must not be empty)."""
    return float(statistics.median(values))


def now() -> float:
    """The wall clock: monotonic, high resolution, in seconds."""
    return time.perf_counter()


def cpu_now() -> float:
    """This thread's CPU time in seconds (not advanced while another process runs)."""
    return time.thread_time()


_OVERHEAD: dict[Callable[[], float], float] = {}


def clock_overhead(clock: Callable[[], float]) -> float:
    """The median cost of two back-to-back reads of ``clock`` (measured once)."""
    if clock not in _OVERHEAD:
        samples = []
        for _ in range(20000):
            t0 = clock()
            samples.append(clock() - t0)
        _OVERHEAD[clock] = median(samples)
    return _OVERHEAD[clock]


def fmt_time(seconds: float) -> str:
    """A duration with a unit that keeps three significant figures."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_delta(seconds: float) -> str:
    """A signed duration: ``+12.3 µs`` or ``-4.0 µs``."""
    return ("-" if seconds < 0 else "+") + fmt_time(abs(seconds))


def fmt_bytes(n: float) -> str:
    """A size in bytes or KiB."""
    if n < 10 * 1024:
        return f"{n:,.0f} B"
    return f"{n / 1024:,.1f} KiB"


@attrs.define
class Row:
    """One line of the result table.

    ``ok`` is True (PASS), False (MISS) or None (an informational line with no target).
    """

    figure: str
    measured: str
    baseline: str
    compare: str
    target: str
    ok: bool | None
    note: str = ""
    #: The figure as a number where it is a ratio of two contenders measured side by side
    #: (what ``bench --check-against-readme`` compares with the README's table).
    ratio: float | None = None

    @property
    def verdict(self) -> str:
        """PASS, MISS or info."""
        return {True: "PASS", False: "MISS", None: "info"}[self.ok]


@attrs.define
class Report:
    """Rows collected across the sections, plus free-text notes printed under the table."""

    rows: list[Row] = attrs.field(factory=list)
    notes: list[str] = attrs.field(factory=list)

    def add(self, row: Row) -> None:
        """Append a row and echo it at once, so progress is visible during a long run."""
        self.rows.append(row)
        print(f"  {row.verdict:4} {row.figure}: {row.measured} | {row.compare}", flush=True)

    def note(self, text: str) -> None:
        """Add a note printed under the table."""
        self.notes.append(text)
        print(f"  note: {text}", flush=True)


_HEADERS = ("figure", "measured", "baseline", "ratio / added", "target", "result")


def _cells(row: Row) -> tuple[str, ...]:
    return (row.figure, row.measured, row.baseline, row.compare, row.target, row.verdict)


def render_text(report: Report) -> str:
    """The table as aligned plain text."""
    table = [_HEADERS, *(_cells(r) for r in report.rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(_HEADERS))]
    out = []
    for n, line in enumerate(table):
        out.append(" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if n == 0:
            out.append("-+-".join("-" * w for w in widths))
    return "\n".join(out)


def _md_escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def render_markdown(report: Report, header: Sequence[str]) -> str:
    """The table as Markdown, with ``header`` lines above it and the notes below."""
    lines = [*header, ""]
    lines.append("| " + " | ".join(_HEADERS) + " |")
    lines.append("|" + "|".join("---" for _ in _HEADERS) + "|")
    for row in report.rows:
        lines.append("| " + " | ".join(_md_escape(c) for c in _cells(row)) + " |")
    if report.notes:
        lines.append("")
        lines.extend(f"- {n}" for n in report.notes)
    return "\n".join(lines) + "\n"
