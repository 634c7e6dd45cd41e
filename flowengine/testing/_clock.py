"""A deterministic, thread-safe fake clock for the emulator and for tests."""

from __future__ import annotations

import threading

__all__ = ["FakeClock"]


class FakeClock:
    """A clock that only moves when told to.

    ``time()`` returns the current fake epoch time; ``sleep(s)`` and ``advance(s)``
    move it forward. Pass ``clock.time`` and ``clock.sleep`` to
    ``flowengine.testing.Auth0Emulator`` (and to the code under test) so that
    codes, tokens, pushes and rate-limit buckets expire without real waiting.
    """

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        """Start the clock at ``start`` (epoch seconds)."""
        self._now = float(start)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        """Show the current fake time."""
        return f"FakeClock(now={self.time()!r})"

    def time(self) -> float:
        """Return the current fake epoch time in seconds."""
        with self._lock:
            return self._now

    def __call__(self) -> float:
        """Alias of ``time``, so the clock itself is a ``Callable[[], float]``."""
        return self.time()

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` (must be >= 0) and return the new time."""
        if seconds < 0:
            raise ValueError("a FakeClock cannot go backwards")
        with self._lock:
            self._now += float(seconds)
            return self._now

    def sleep(self, seconds: float) -> None:
        """Pretend to sleep: advance the clock by ``seconds`` and return at once."""
        self.advance(max(0.0, float(seconds)))
