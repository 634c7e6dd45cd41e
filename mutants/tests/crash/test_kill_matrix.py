"""Kill a worker at every point of every Auth0-calling step; another worker resumes it.

For each trigger, on SQLite and on Redis, one flow per kill point is brought to the
state before the step; a worker process runs the step and SIGKILLs itself at the
point; once its one-second lease has run out, a second process holding the same
handle repeats the step. ``rig.judge_kill`` counts what the tenant and the store saw.
"""

from __future__ import annotations

import time

import pytest

from tests.crash.rig import PAST_LEASE, POINTS, TRIGGERS, Rig, addresses, judge_kill, timed


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_a_killed_step_is_never_repeated_silently(rig: Rig, trigger: str) -> None:
    """A step killed at any point is repeated only after the flow says uncertain, or refused."""
    with timed():
        points = POINTS[rig.backend]
        scenarios = [rig.prepare(trigger, addresses()) for _ in points]
        firsts = [s.launch(2, kill=p) for s, p in zip(scenarios, points, strict=True)]
        for worker in firsts:
            worker.wait()
        time.sleep(PAST_LEASE)  # the dead workers' claims expire on the store's clock
        seconds = [s.launch(3) for s in scenarios]
        for worker in seconds:
            worker.wait()
        problems = [
            problem
            for s, p, w1, w2 in zip(scenarios, points, firsts, seconds, strict=True)
            for problem in judge_kill(s, p, w1, w2)
        ]
        stats = rig.store.stats()
        if stats.claims_held or stats.claims_expired:
            problems.append(f"claims left behind: {stats.claims_held + stats.claims_expired}")
    assert problems == []
