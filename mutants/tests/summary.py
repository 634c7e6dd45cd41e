"""The reliability figures: a registry tests add to, printed at the end of the pytest run.

Tests call ``record(name, **figures)``; numbers add up across calls. At the end of
the session ``pytest_terminal_summary`` prints the section "flowengine reliability
figures" (with the snapshot fuzz counters of ``tests/unit/test_snapshot_fuzz.py`` when
it ran), and ``pytest_sessionfinish`` fails the run if a pair of figures that must be
equal is not, or a secret was found, even should every test have passed.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from typing import Any

import pytest

_FIGURES: defaultdict[str, Counter[str]] = defaultdict(Counter)
#: The hypothesis profile the session loaded (set by ``tests/conftest.py``).
PROFILE: dict[str, str] = {"name": "default"}
FUZZ_MODULE = "tests.unit.test_snapshot_fuzz"


def record(name: str, **figures: int | float) -> None:
    """Add ``figures`` to the group ``name`` (numbers accumulate over the session)."""
    group = _FIGURES[name]
    for key, value in figures.items():
        group[key] += value  # type: ignore[assignment]


def figures(name: str) -> Counter[str]:
    """A copy of the figures of group ``name`` so far."""
    return Counter(_FIGURES.get(name, Counter()))


def reset() -> None:
    """Forget every figure (for the plugin's own tests)."""
    _FIGURES.clear()


def fuzz_figures() -> dict[str, Any] | None:
    """The snapshot fuzz counters, if that module ran in this session."""
    module = sys.modules.get(FUZZ_MODULE)
    summary = getattr(module, "fuzz_summary", None)
    if summary is None:
        return None
    result: dict[str, Any] = summary()
    return result if result.get("cases") else None


def _pairs() -> list[tuple[str, int, int]]:
    """(what, left, right) for every pair of figures that must be equal."""
    orders = _FIGURES.get("step_orders", Counter())
    negative = _FIGURES.get("negative_paths", Counter())
    faults = _FIGURES.get("faults", Counter())
    rows = _FIGURES.get("store_rows", Counter())
    inputs = _FIGURES.get("inputs", Counter())
    pairs = [
        (
            "illegal steps attempted / rejected",
            orders["illegal_attempted"] + negative["illegal_attempted"],
            orders["illegal_rejected"] + negative["illegal_rejected"],
        ),
        ("faults injected / flows intact", faults["injected"], faults["intact"]),
        ("store rows tampered / loads refused", rows["cases"], rows["refused"]),
        ("bad inputs / refused before any request", inputs["cases"], inputs["refused"]),
    ]
    fuzz = fuzz_figures()
    if fuzz:
        pairs.append(
            (
                "snapshot fuzz cases / refused + unchanged loads",
                fuzz["cases"],
                fuzz["refused"] + fuzz.get("loaded_unchanged", 0),
            )
        )
    return pairs


def problems() -> list[str]:
    """Every MISMATCH: unequal pairs, and any secret found."""
    found = [f"{what}: {left} != {right}" for what, left, right in _pairs() if left != right]
    replayed = _FIGURES.get("retries", Counter())["codes_replayed"]
    if replayed:
        found.append(f"one-time codes replayed: {replayed} (must be 0)")
    leaks = _FIGURES.get("secrets", Counter())["occurrences"]
    if leaks:
        found.append(f"secret occurrences found: {leaks} (must be 0)")
    return found


def lines() -> list[str]:
    """The text of the figures section."""
    if not _FIGURES and not fuzz_figures():
        return []
    from hypothesis import settings

    profile = settings.default
    out = [
        f"hypothesis profile: {PROFILE['name']} "
        f"(max_examples={profile.max_examples}, stateful_step_count={profile.stateful_step_count}, "
        f"derandomize={profile.derandomize})"
    ]
    o = _FIGURES.get("step_orders")
    n = _FIGURES.get("negative_paths", Counter())
    if o or n:
        o = o or Counter()
        out.append(
            f"step sequences tried: {o['sequences']} (sync {o['sequences_sync']}, "
            f"async {o['sequences_async']}); steps taken: {o['steps']}; "
            f"requests sent: {o['requests']}"
        )
        out.append(
            f"illegal steps attempted: {o['illegal_attempted'] + n['illegal_attempted']}, "
            f"rejected: {o['illegal_rejected'] + n['illegal_rejected']} (must equal) "
            f"[state machine {o['illegal_attempted']}/{o['illegal_rejected']}, "
            f"exhaustive {n['illegal_attempted']}/{n['illegal_rejected']} "
            f"in {n['states']} states; {o['illegal_attempted_past_deadline']} tried on a flow "
            f"past its deadline]"
        )
        reached = ", ".join(
            f"{key[8:]} {value}" for key, value in sorted(o.items()) if key.startswith("reached_")
        )
        out.append(f"  sequences reaching each state: {reached or '-'}")
        out.append(
            f"  also: guard rejections {o['guard_rejected']}, bad inputs refused "
            f"{o['invalid_rejected']}, local expiries {o['local_expiries']}, Auth0 refusals "
            f"{o['remote_errors']}, moves {o['moves']}, rollbacks {o['rollbacks']}, "
            f"resumes {o['resumes']} (+{o['resumes_refused_stale']} refused as expired)"
        )
    else:
        out.append("step sequences tried: not run in this session")
    f = _FIGURES.get("faults")
    if f:
        out.append(
            f"faults injected: {f['injected']}, flows intact: {f['intact']} (must equal) "
            f"[typed errors {f['typed_errors']}, absorbed as outcomes {f['absorbed']}, "
            f"marked uncertain {f['marked_uncertain']}, completed afterwards {f['completed']}]"
        )
    else:
        out.append("faults injected: not run in this session")
    r = _FIGURES.get("retries")
    if r:
        out.append(
            f"retry scenarios: {r['cases']}, requests {r['requests']}, sleeps {r['sleeps']}, "
            f"one-time codes replayed: {r['codes_replayed']} (must be 0)"
        )
    fuzz = fuzz_figures()
    if fuzz:
        out.append(
            f"snapshot fuzz cases: {fuzz['cases']}, loads refused: {fuzz['refused']} "
            f"(unchanged snapshots loaded: {fuzz.get('loaded_unchanged', 0)})"
        )
    else:
        out.append("snapshot fuzz cases: not run in this session")
    rows = _FIGURES.get("store_rows")
    if rows:
        out.append(
            f"store rows tampered: {rows['cases']}, loads refused: {rows['refused']} (must equal)"
        )
    i = _FIGURES.get("inputs")
    if i:
        out.append(
            f"bad public inputs: {i['cases']}, refused before any request: {i['refused']} "
            f"(must equal)"
        )
    s = _FIGURES.get("secrets")
    if s:
        out.append(
            f"secret occurrences found: {s['occurrences']} (must be 0; scanned "
            f"{s['scanned_bytes']} bytes in {s['texts']} texts, {s['secret_values']} secret "
            f"values in the leak tests)"
        )
    else:
        out.append("secret occurrences found: not run in this session")
    known = {
        "step_orders",
        "negative_paths",
        "faults",
        "retries",
        "store_rows",
        "inputs",
        "secrets",
    }
    for name in sorted(set(_FIGURES) - known):
        figures_text = ", ".join(f"{k} {v}" for k, v in sorted(_FIGURES[name].items()))
        out.append(f"{name}: {figures_text}")
    for problem in problems():
        out.append(f"!!! MISMATCH !!! {problem}")
    return out


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail an otherwise green run whose figures disagree (a test must have missed it)."""
    if problems() and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    """Print the figures section."""
    text = lines()
    if not text:
        return
    terminalreporter.section("flowengine reliability figures")
    for line in text:
        red = line.startswith("!!!")
        terminalreporter.write_line(line, red=red, bold=red)
