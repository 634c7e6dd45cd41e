"""The figures plugin: figures add up, and unequal pairs or a found secret say MISMATCH."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from tests import summary


@pytest.fixture
def empty_registry() -> Iterator[None]:
    """Run with an empty registry, then put the session's figures back."""
    saved = {name: Counter(group) for name, group in summary._FIGURES.items()}
    summary.reset()
    try:
        yield
    finally:
        summary.reset()
        for name, group in saved.items():
            summary._FIGURES[name].update(group)


@pytest.mark.usefixtures("empty_registry")
def test_figures_accumulate_and_agreeing_pairs_pass() -> None:
    """Numbers recorded twice add up; equal pairs and zero leaks give no problem."""
    summary.record("faults", injected=2, intact=2)
    summary.record("faults", injected=1, intact=1)
    summary.record("secrets", occurrences=0, scanned_bytes=10, texts=1)
    assert summary.figures("faults") == Counter(injected=3, intact=3)
    assert summary.problems() == []
    text = "\n".join(summary.lines())
    assert "faults injected: 3, flows intact: 3 (must equal)" in text
    assert "secret occurrences found: 0" in text and "MISMATCH" not in text


@pytest.mark.usefixtures("empty_registry")
def test_unequal_pairs_and_leaks_are_a_mismatch() -> None:
    """An illegal step not rejected, a fault that broke a flow, a leak: each is reported."""
    summary.record("step_orders", illegal_attempted=5, illegal_rejected=4)
    summary.record("faults", injected=3, intact=2)
    summary.record("secrets", occurrences=1, scanned_bytes=10, texts=1)
    summary.record("retries", codes_replayed=1)
    problems = summary.problems()
    assert len(problems) == 4
    mismatches = [line for line in summary.lines() if line.startswith("!!! MISMATCH !!!")]
    assert len(mismatches) == 4


@pytest.mark.usefixtures("empty_registry")
def test_nothing_recorded_prints_nothing() -> None:
    """A session that ran none of these tests prints no section (unless the fuzz ran)."""
    if summary.fuzz_figures() is None:
        assert summary.lines() == []
